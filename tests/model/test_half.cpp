// dtutmo -- the CPU engine's block model (model-resolution=half on 2x2 blocks, quarter on
// 4x4, cpu_half.h): HDR10-style 4:2:0 input (PQ, BT.2020, limited range) to 8-bit 4:2:0
// BT.1886 output, the block model against the per-pixel one and against its own promises
// (a flat block is its block's output, pixels keep their order, no overshoot at edges,
// detail kept, formats and sitings agree, switching while running, temporal adaptation,
// hostile words), each on both block sides.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cpu_half.h"
#include "engine_cpu.h"
#include "dtutmo/convert.h"
#include "dtutmo/engine.h"
#include "dtutmo/pixel_model.h"
#include "dtutmo/scenes.h"
#include "dtutmo/transfer.h"
#include "test_images.h"

using namespace dtutmo;

namespace {

using test::Img;
using test::flat_blocks;
using test::scene;

SignalDesc hdr_sig(bool hc = false, bool vc = false, Transfer tf = Transfer::PQ) {
  SignalDesc s;
  s.transfer = tf;
  s.primaries = Primaries::BT2020;
  s.matrix = YuvMatrix::BT2020NC;
  s.chroma_h_cosited = hc;
  s.chroma_v_cosited = vc;
  return s;
}

// A linear picture (display cd/m^2, taken as BT.2020 RGB) as PQ (or HLG, for a 1000 cd/m^2
// display) codes in a 4:2:0 format (the shared encoders and packer).
std::vector<uint8_t> hdr_frame(const Img& lin, int w, int h, PixelFormat f = PixelFormat::I420_10LE,
                               bool hc = false, bool vc = false, Transfer tf = Transfer::PQ) {
  Img code(lin.size());
  for (size_t i = 0; i < lin.size(); i += 3) {
    const Vec3 o = {lin[i], lin[i + 1], lin[i + 2]};
    const Vec3 c = tf == Transfer::HLG ? encode_hlg(o, 1000.0f)
                                       : Vec3{pq_inv_eotf(std::max(o.x, 0.0f)), pq_inv_eotf(std::max(o.y, 0.0f)),
                                              pq_inv_eotf(std::max(o.z, 0.0f))};
    code[i] = c.x, code[i + 1] = c.y, code[i + 2] = c.z;
  }
  std::vector<uint8_t> buf(packed_size(f, w, h));
  pack_rows(code.data(), std::ptrdiff_t(w) * 3, packed_view(f, w, h, buf.data()), hdr_sig(hc, vc, tf), 0, h, false);
  return buf;
}


// The block modes and their blocks' side.
const ModelResolution kBlockModes[] = {ModelResolution::Half, ModelResolution::Quarter};
int side(ModelResolution m) { return m == ModelResolution::Quarter ? 4 : 2; }
std::string mode_name(ModelResolution m) { return m == ModelResolution::Quarter ? "quarter" : "half"; }

Params prof(Profile p, ModelResolution m, bool dither = true) {
  Params q = params_for_profile(p);
  q.model_resolution = m;
  q.dither = dither;
  return q;
}

struct YuvRun {
  std::unique_ptr<Engine> e;
  int w, h;
  PixelFormat in_fmt, out_fmt;
  YuvRun(int w_, int h_, const Params& p, PixelFormat inf = PixelFormat::I420_10LE,
         PixelFormat outf = PixelFormat::I420, bool hc = false, bool vc = false, Transfer tf = Transfer::PQ,
         int cell = 8)
      : e(create_cpu_engine(2)), w(w_), h(h_), in_fmt(inf), out_fmt(outf) {
    std::string err;
    dynamic_cast<cpu::CpuEngine&>(*e).set_cell(cell);
    EXPECT_TRUE(e->set_params(p, &err)) << err;
    StreamConfig c;
    c.width = w;
    c.height = h;
    c.in_format = inf;
    c.out_format = outf;
    c.in = hdr_sig(hc, vc, tf);
    c.out = test::sdr_signal();
    EXPECT_TRUE(e->configure(c, &err)) << err;
  }
  std::vector<uint8_t> run(std::vector<uint8_t>& in, double t) {
    std::string err;
    std::vector<uint8_t> out(packed_size(out_fmt, w, h));
    EXPECT_TRUE(e->process(packed_view(in_fmt, w, h, in.data()), packed_view(out_fmt, w, h, out.data()), t, &err))
        << err;
    return out;
  }
  // `frames` frames of the same picture 1/30 s apart; the last output
  std::vector<uint8_t> settle(std::vector<uint8_t>& in, int frames = 3) {
    std::vector<uint8_t> o;
    for (int f = 0; f < frames; ++f) o = run(in, f / 30.0);
    return o;
  }
};

// Mean and 99th percentile of |a - b| over the luma plane (the first w x h bytes).
void luma_apart(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, int w, int h, double* mean, int* p99) {
  std::vector<int> d(size_t(w) * h);
  double s = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    d[i] = std::abs(int(a[i]) - int(b[i]));
    s += d[i];
  }
  *mean = s / double(d.size());
  std::sort(d.begin(), d.end());
  *p99 = d[size_t(0.99 * double(d.size() - 1))];
}


}  // namespace

// Which streams the half-size model takes, when auto chooses it, its inner engine's cells.
TEST(HalfModel, StreamsItFitsAndAutosChoice) {
  StreamConfig c;
  c.width = 1920;
  c.height = 1080;
  c.in_format = PixelFormat::P010_10LE;
  c.out_format = PixelFormat::NV12;
  c.in = hdr_sig();
  c.out = test::sdr_signal();
  EXPECT_TRUE(cpu::half_model_fits(c));
  EXPECT_TRUE(cpu::half_model_auto(c));
  EXPECT_EQ(cpu::half_model_inner_cell(c), 4);  // 8 of the input's: the per-pixel engine's
  c.width = 1920;
  c.height = 800;  // scope 2.40:1: wide enough
  EXPECT_TRUE(cpu::half_model_auto(c));
  c.width = 1280;
  c.height = 720;
  EXPECT_TRUE(cpu::half_model_fits(c));
  EXPECT_FALSE(cpu::half_model_auto(c));
  c.width = 3840;
  c.height = 2160;
  EXPECT_TRUE(cpu::half_model_auto(c));
  EXPECT_EQ(cpu::half_model_inner_cell(c), 8);
  StreamConfig d = c;
  d.out_format = PixelFormat::RGBA;  // not a 4:2:0 output
  EXPECT_FALSE(cpu::half_model_fits(d));
  d = c;
  d.out.transfer = Transfer::SRGB;  // not a pure power: the factorisation would not hold
  EXPECT_FALSE(cpu::half_model_fits(d));
  d = c;
  d.in_format = PixelFormat::Y444_16LE;  // no 2x2 chroma blocks
  EXPECT_FALSE(cpu::half_model_fits(d));
  d = c;
  d.out_format = PixelFormat::P010_10LE;  // a 10-bit output
  EXPECT_FALSE(cpu::half_model_fits(d));
  // the block's side: quarter where balanced's spatial stages are off (fast), else half
  EXPECT_EQ(cpu::half_model_factor(prof(Profile::Fast, ModelResolution::Auto)), 4);
  EXPECT_EQ(cpu::half_model_factor(prof(Profile::Balanced, ModelResolution::Auto)), 2);
  Params q = prof(Profile::Fast, ModelResolution::Auto);
  for (bool Params::*stage : {&Params::optics, &Params::base_detail, &Params::csf}) {
    Params r = q;
    r.*stage = true;
    EXPECT_EQ(cpu::half_model_factor(r), 2);
  }
  EXPECT_EQ(cpu::half_model_factor(prof(Profile::Fast, ModelResolution::Half)), 2);
  EXPECT_EQ(cpu::half_model_factor(prof(Profile::Balanced, ModelResolution::Quarter)), 4);
}

// Flat blocks (each scene with its 2x2 or 4x4 blocks made flat, even and odd sizes,
// dither off): every pixel of a block gets the same luma code (s = 2^0 = 1: the block's
// output itself).
TEST(HalfModel, FlatBlocksGiveOneCodeABlock) {
  const int sizes[][2] = {{160, 90}, {97, 35}};
  for (ModelResolution mr : kBlockModes)
    for (const auto& sz : sizes)
      for (Scene sc : {Scene::Daylight, Scene::Night, Scene::ColoredLights, Scene::FineDetail}) {
        const int w = sz[0], h = sz[1], f = side(mr), m = ~(f - 1);
        SCOPED_TRACE(mode_name(mr) + " " + scene_name(sc) + " " + std::to_string(w) + "x" + std::to_string(h));
        auto in = hdr_frame(flat_blocks(scene(sc, w, h), w, h, f), w, h);
        YuvRun r(w, h, prof(Profile::Fast, mr, false));
        const auto o = r.settle(in);
        int bad = 0;
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x) bad += o[size_t(y) * w + x] != o[size_t(y & m) * w + (x & m)];
        EXPECT_EQ(bad, 0);
      }
}

// The block model follows the per-pixel one on every scene, fast and balanced, PQ and HLG
// input (the G table through HLG's OOTF), with the inner engine's cells the per-pixel
// engine's 8 pixels in the picture (4 on 2x2 blocks, 2 on 4x4). Half at 1280x720: mean
// |dY'| under 2.5 codes (measured 0.03-1.8) and the mean levels within 1.5 (0-1.0).
// Quarter at 1920x1080, where auto takes it for fast: mean under 2 codes in fast (0.12-1.22)
// and 3.5 in balanced, which auto keeps on half (0.31-2.87: fine detail), levels within
// 1.5 in fast (0.05-0.94) and 2 in balanced (0.08-1.65). At 1280x720 quarter is further off (night 2.2-2.7,
// levels up to 2.2): auto runs every pixel there.
TEST(HalfModel, FollowsThePerPixelModel) {
  for (ModelResolution mr : kBlockModes)
    for (Transfer tf : {Transfer::PQ, Transfer::HLG})
      for (Profile pr : {Profile::Fast, Profile::Balanced})
        for (Scene sc : {Scene::Daylight, Scene::Interior, Scene::Night, Scene::ColoredLights, Scene::FineDetail,
                         Scene::SkyGradient}) {
          if (tf == Transfer::HLG && pr == Profile::Balanced) continue;
          const bool q = mr == ModelResolution::Quarter;
          const int w = q ? 1920 : 1280, h = q ? 1080 : 720;
          SCOPED_TRACE(mode_name(mr) + " " + scene_name(sc) + " " + profile_name(pr) +
                       (tf == Transfer::HLG ? " HLG" : " PQ"));
          auto in = hdr_frame(scene(sc, w, h), w, h, PixelFormat::I420_10LE, false, false, tf);
          const PixelFormat i10 = PixelFormat::I420_10LE, o8 = PixelFormat::I420;
          YuvRun f(w, h, prof(pr, ModelResolution::Full), i10, o8, false, false, tf),
              hm(w, h, prof(pr, mr), i10, o8, false, false, tf);
          const auto a = f.settle(in), b = hm.settle(in);
          double mean;
          int p99;
          luma_apart(a, b, w, h, &mean, &p99);
          double ma = 0, mb = 0;
          for (int i = 0; i < w * h; ++i) ma += a[i], mb += b[i];
          ma /= w * h;
          mb /= w * h;
          EXPECT_LT(mean, !q ? 2.5 : pr == Profile::Fast ? 2.0 : 3.5);
          EXPECT_LT(std::fabs(ma - mb), q && pr == Profile::Balanced ? 2.0 : 1.5)
              << "mean levels " << ma << " and " << mb;
          EXPECT_GT(mean, 0.0) << mode_name(mr) << " did not run";
        }
}

// Within a block the pixels keep their order (q >= 0: s grows with the luma code): a
// frame of random blocks (2x2 or 4x4) whose pixels differ (dither off).
TEST(HalfModel, PixelsKeepTheirOrderWithinABlock) {
  const int w = 128, h = 64;
  for (ModelResolution mr : kBlockModes) {
    SCOPED_TRACE(mode_name(mr));
    const int f = side(mr), n = f * f;
    Img v(size_t(w) * h * 3);
    unsigned s = 12345;
    auto rnd = [&]() { return (s = s * 1664525u + 1013904223u) >> 8; };
    for (int y = 0; y < h; y += f)
      for (int x = 0; x < w; x += f) {
        const float base = std::exp2(float(rnd() % 1400) / 100.0f - 3.0f);  // 1/8 .. 2000 cd/m^2
        for (int k = 0; k < n; ++k) {
          const float l = base * std::exp2(float(int(rnd() % 200) - 100) / 100.0f);
          for (int c = 0; c < 3; ++c) v[(size_t(y + k / f) * w + x + k % f) * 3 + c] = l;
        }
      }
    auto in = hdr_frame(v, w, h);
    YuvRun r(w, h, prof(Profile::Fast, mr, false));
    const auto o = r.settle(in);
    const uint16_t* iy = reinterpret_cast<const uint16_t*>(in.data());
    int bad = 0, pairs = 0;
    for (int y = 0; y < h; y += f)
      for (int x = 0; x < w; x += f)
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < n; ++j) {
            const size_t a = size_t(y + i / f) * w + x + i % f, b = size_t(y + j / f) * w + x + j % f;
            if (iy[a] > iy[b]) ++pairs;
            if (iy[a] > iy[b] && o[a] < o[b]) ++bad;
          }
    EXPECT_GT(pairs, w * h);
    EXPECT_EQ(bad, 0);
  }
}

// An edge through blocks (a dark and a bright part, the boundary on odd columns and rows,
// so that blocks straddle it): no output pixel beyond the range of what the model gives
// for the blocks themselves (the per-pixel engine on the frame of block means with cells
// of 4, the frame and cells the half model runs on): each side's pixels follow their
// side's neighbours, no overshoot.
TEST(HalfModel, NoOvershootAtEdges) {
  const int w = 160, h = 96;
  for (ModelResolution mr : kBlockModes)
  for (float bright : {300.0f, 4000.0f}) {
    SCOPED_TRACE(mode_name(mr));
    const int f = side(mr), n = f * f;
    Img v(size_t(w) * h * 3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const bool lit = x >= 81 || (y >= 49 && x >= 41);
        for (int c = 0; c < 3; ++c) v[(size_t(y) * w + x) * 3 + c] = lit ? bright : 2.0f;
      }
    // the block means (of the PQ codes, as the block model takes them)
    const int hw = w / f, hh = h / f;
    Img m(size_t(hw) * hh * 3);
    for (int y = 0; y < hh; ++y)
      for (int x = 0; x < hw; ++x)
        for (int c = 0; c < 3; ++c) {
          float s = 0;
          for (int k = 0; k < n; ++k) s += pq_inv_eotf(v[(size_t(f * y + k / f) * w + f * x + k % f) * 3 + c]);
          m[(size_t(y) * hw + x) * 3 + c] = pq_eotf(s / float(n));
        }
    auto in = hdr_frame(v, w, h), min = hdr_frame(m, hw, hh);
    const PixelFormat i10 = PixelFormat::I420_10LE, o8 = PixelFormat::I420;
    YuvRun ref(hw, hh, prof(Profile::Fast, ModelResolution::Full, false), i10, o8, false, false, Transfer::PQ, 8 / f),
        hm(w, h, prof(Profile::Fast, mr, false));
    const auto a = ref.settle(min), b = hm.settle(in);
    const int amax = *std::max_element(a.begin(), a.begin() + hw * hh);
    const int amin = *std::min_element(a.begin(), a.begin() + hw * hh);
    const int bmax = *std::max_element(b.begin(), b.begin() + w * h);
    const int bmin = *std::min_element(b.begin(), b.begin() + w * h);
    EXPECT_LE(bmax, amax + 1) << "bright " << bright;
    EXPECT_GE(bmin, amin - 1) << "bright " << bright;
    EXPECT_GT(bmax - bmin, 100) << "bright " << bright;
  }
}

// No pixel goes below the frame's darkest block: single black pixels in bright blocks
// (their blocks' slopes would take them toward zero light, under the display's black)
// come out no darker than the frame's darkest area (2 cd/m^2 here) does.
TEST(HalfModel, NeverBelowTheFramesBlack) {
  const int w = 128, h = 64;
  Img v(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float l = x < 32 ? 2.0f : (x % 6 == 3 && y % 6 == 3 ? 0.0f : 400.0f);
      for (int c = 0; c < 3; ++c) v[(size_t(y) * w + x) * 3 + c] = l;
    }
  auto in = hdr_frame(v, w, h);
  for (ModelResolution mr : kBlockModes) {
  SCOPED_TRACE(mode_name(mr));
  YuvRun r(w, h, prof(Profile::Fast, mr, false));
  const auto o = r.settle(in);
  int area = 255;
  for (int y = 8; y < h - 8; ++y)
    for (int x = 0; x < 24; ++x) area = std::min(area, int(o[size_t(y) * w + x]));
  int lowest = 255, bright = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 40; x < w; ++x) {
      lowest = std::min(lowest, int(o[size_t(y) * w + x]));
      bright = std::max(bright, int(o[size_t(y) * w + x]));
    }
  EXPECT_GT(area, 20) << "the dark area is above the display's black";
  EXPECT_GE(lowest, area - 1);
  EXPECT_GT(bright, area + 100);
  }
}

// Fine detail inside blocks is kept: a 1-pixel grating (+-0.4 stop) at 80 cd/m^2 in a
// picture that spans a range (a ramp from 1 to 3000 cd/m^2 around it) comes out with about
// the per-pixel model's contrast between neighbouring columns. (In a frame that is flat
// but for the grating the per-pixel model stretches the tiny range it sees and the
// grating's contrast with it, past the half model's largest slope: docs/DESIGN.md.)
TEST(HalfModel, KeepsDetailInsideBlocks) {
  const int w = 192, h = 96;
  Img v(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool grating = x >= 64 && x < 128 && y >= 24 && y < 72;
      const float l = grating ? 80.0f * std::exp2(x % 2 ? 0.4f : -0.4f)
                              : std::exp2(11.55f * float(x) / float(w - 1));  // 1 .. 3000
      for (int c = 0; c < 3; ++c) v[(size_t(y) * w + x) * 3 + c] = l;
    }
  auto in = hdr_frame(v, w, h);
  for (ModelResolution mr : kBlockModes) {
  SCOPED_TRACE(mode_name(mr));
  YuvRun f(w, h, prof(Profile::Fast, ModelResolution::Full, false)), hm(w, h, prof(Profile::Fast, mr, false));
  const auto a = f.settle(in), b = hm.settle(in);
  auto contrast = [&](const std::vector<uint8_t>& o) {
    double s = 0;
    int n = 0;
    for (int y = 32; y < 64; ++y)
      for (int x = 72; x < 120; ++x, ++n) s += std::abs(int(o[size_t(y) * w + x + 1]) - int(o[size_t(y) * w + x]));
    return s / n;
  };
  const double ca = contrast(a), cb = contrast(b);
  ASSERT_GT(ca, 5.0) << "the per-pixel model shows the grating";
  EXPECT_GT(cb, 0.7 * ca);
  EXPECT_LT(cb, 1.3 * ca);
  }
}

// The same picture as I420_10LE or P010 in, I420 or NV12 out: the same codes (the half
// model reads both containers alike and writes both chroma layouts alike); with cosited
// chroma too.
TEST(HalfModel, ContainersGiveTheSameCodes) {
  const int w = 96, h = 54;
  const Img v = scene(Scene::ColoredLights, w, h);
  for (ModelResolution mr : kBlockModes)
  for (bool cos : {false, true}) {
    SCOPED_TRACE(mode_name(mr));
    auto i10 = hdr_frame(v, w, h, PixelFormat::I420_10LE, cos, cos);
    auto p10 = hdr_frame(v, w, h, PixelFormat::P010_10LE, cos, cos);
    const Params p = prof(Profile::Fast, mr);
    YuvRun a(w, h, p, PixelFormat::I420_10LE, PixelFormat::I420, cos, cos),
        b(w, h, p, PixelFormat::P010_10LE, PixelFormat::NV12, cos, cos);
    const auto oa = a.settle(i10), ob = b.settle(p10);
    const size_t n = size_t(w) * h, cw = (w + 1) / 2, ch = (h + 1) / 2;
    EXPECT_TRUE(std::equal(oa.begin(), oa.begin() + n, ob.begin())) << "luma, cosited " << cos;
    int bad = 0;
    for (size_t i = 0; i < cw * ch; ++i) bad += oa[n + i] != ob[n + 2 * i] || oa[n + cw * ch + i] != ob[n + 2 * i + 1];
    EXPECT_EQ(bad, 0) << "chroma, cosited " << cos;
  }
}

// Every 4:2:0 input the block model takes (10, 12 and 16 bits, planar and semi-planar)
// gives about the same picture as I420_10LE: the same scene packed in each (the finer
// codes of 12 and 16 bits move a code here and there: mean 0.12-0.14, P010 identical), on
// 2x2 and 4x4 blocks.
TEST(HalfModel, EveryInputDepthGivesThePicture) {
  const int w = 160, h = 90;
  const Img v = scene(Scene::Interior, w, h);
  for (ModelResolution mr : kBlockModes) {
    auto ref_in = hdr_frame(v, w, h, PixelFormat::I420_10LE);
    YuvRun ref(w, h, prof(Profile::Fast, mr), PixelFormat::I420_10LE);
    const auto a = ref.settle(ref_in);
    for (PixelFormat f : {PixelFormat::P010_10LE, PixelFormat::P012_LE, PixelFormat::P016_LE, PixelFormat::I420_12LE}) {
      SCOPED_TRACE(mode_name(mr) + " " + format_info(f).name);
      auto in = hdr_frame(v, w, h, f);
      YuvRun r(w, h, prof(Profile::Fast, mr), f);
      const auto b = r.settle(in);
      double mean;
      int p99;
      luma_apart(a, b, w, h, &mean, &p99);
      EXPECT_LT(mean, 0.5);
      EXPECT_LE(p99, 2);
    }
  }
}

// The AVX2 loops (pair_avx2: both rows' luma and the chroma, 16 columns a step; the 2x2
// means; on 4x4 blocks quad_luma_avx2, chroma4_avx2 and the 4x4 means) give the portable
// loops' codes (within a code: FMA contraction), on widths with and without a tail of the
// 16-column steps, heights with a short last block row, I420 and NV12, each siting.
TEST(HalfModel, VectorLoopsMatchThePortableOnes) {
  const int sizes[][2] = {{160, 90}, {97, 35}, {64, 33}};
  for (ModelResolution mr : kBlockModes)
  for (const auto& sz : sizes)
    for (PixelFormat of : {PixelFormat::I420, PixelFormat::NV12})
      for (bool cos : {false, true}) {
        const int w = sz[0], h = sz[1];
        SCOPED_TRACE(mode_name(mr) + " " + std::to_string(w) + "x" + std::to_string(h) + " " +
                     format_info(of).name + " cosited " + std::to_string(cos));
        auto in = hdr_frame(scene(Scene::Night, w, h), w, h, PixelFormat::I420_10LE, cos, cos);
        const Params p = prof(Profile::Fast, mr);
        YuvRun a(w, h, p, PixelFormat::I420_10LE, of, cos, cos), b(w, h, p, PixelFormat::I420_10LE, of, cos, cos);
        dynamic_cast<cpu::CpuEngine&>(*b.e).set_half_vector(false);
        const auto oa = a.settle(in), ob = b.settle(in);
        ASSERT_EQ(oa.size(), ob.size());
        int worst = 0;
        size_t apart = 0;
        for (size_t i = 0; i < oa.size(); ++i) {
          const int d = std::abs(int(oa[i]) - int(ob[i]));
          worst = std::max(worst, d);
          apart += d > 0;
        }
        EXPECT_LE(worst, 1);
        EXPECT_LT(double(apart), 0.01 * double(oa.size()));
      }
}

// Streams the half model does not fit run per pixel whatever the setting: RGBA out gives
// the same bytes with half as with full.
TEST(HalfModel, OtherStreamsRunPerPixel) {
  const int w = 64, h = 36;
  auto in = hdr_frame(scene(Scene::Interior, w, h), w, h);
  YuvRun a(w, h, prof(Profile::Fast, ModelResolution::Full), PixelFormat::I420_10LE, PixelFormat::RGBA),
      b(w, h, prof(Profile::Fast, ModelResolution::Half), PixelFormat::I420_10LE, PixelFormat::RGBA),
      c(w, h, prof(Profile::Fast, ModelResolution::Quarter), PixelFormat::I420_10LE, PixelFormat::RGBA);
  const auto oa = a.settle(in);
  EXPECT_EQ(oa, b.settle(in));
  EXPECT_EQ(oa, c.settle(in));
}

// Switching the setting between frames: the frame after a switch is what a new engine in
// that mode makes of it (the state starts afresh), and back gives the first mode's again.
TEST(HalfModel, SwitchesBetweenFrames) {
  const int w = 96, h = 54;
  auto in = hdr_frame(scene(Scene::Daylight, w, h), w, h);
  YuvRun r(w, h, prof(Profile::Fast, ModelResolution::Full));
  YuvRun fresh_half(w, h, prof(Profile::Fast, ModelResolution::Half));
  YuvRun fresh_full(w, h, prof(Profile::Fast, ModelResolution::Full));
  const auto f0 = r.run(in, 0.0);
  EXPECT_EQ(f0, fresh_full.run(in, 0.0));
  std::string err;
  ASSERT_TRUE(r.e->set_params(prof(Profile::Fast, ModelResolution::Half), &err)) << err;
  const auto h1 = r.run(in, 1 / 30.0);
  EXPECT_EQ(h1, fresh_half.run(in, 1 / 30.0));
  EXPECT_NE(h1, f0);
  ASSERT_TRUE(r.e->set_params(prof(Profile::Fast, ModelResolution::Full), &err)) << err;
  EXPECT_EQ(r.run(in, 2 / 30.0), f0);
  // half to quarter (the block's side changes: afresh), and to balanced under auto at HD
  // (quarter to half)
  YuvRun fresh_quarter(w, h, prof(Profile::Fast, ModelResolution::Quarter));
  ASSERT_TRUE(r.e->set_params(prof(Profile::Fast, ModelResolution::Half), &err)) << err;
  r.run(in, 3 / 30.0);
  ASSERT_TRUE(r.e->set_params(prof(Profile::Fast, ModelResolution::Quarter), &err)) << err;
  const auto q4 = r.run(in, 4 / 30.0);
  EXPECT_EQ(q4, fresh_quarter.run(in, 4 / 30.0));
  EXPECT_NE(q4, h1);
}

// Auto at HD: fast on 4x4 blocks, balanced on 2x2, a switch of profile while running
// starts the other side afresh.
TEST(HalfModel, AutoTakesTheBlockOfTheProfile) {
  const int w = 1920, h = 1080;
  auto in = hdr_frame(scene(Scene::Interior, w, h), w, h);
  YuvRun a(w, h, prof(Profile::Fast, ModelResolution::Auto)), q(w, h, prof(Profile::Fast, ModelResolution::Quarter));
  EXPECT_EQ(a.run(in, 0.0), q.run(in, 0.0));
  std::string err;
  ASSERT_TRUE(a.e->set_params(prof(Profile::Balanced, ModelResolution::Auto), &err)) << err;
  YuvRun hb(w, h, prof(Profile::Balanced, ModelResolution::Half));
  EXPECT_EQ(a.run(in, 1 / 30.0), hb.run(in, 1 / 30.0));
}

// The temporal state lives on at half resolution: after a step from a dim to a bright
// picture (natural adaptation, no cut), the adaptation luminance moves toward the new
// level over frames as the per-pixel model's does, and reset() starts it afresh.
TEST(HalfModel, AdaptsOverTime) {
  const int w = 96, h = 54;
  Img dim(size_t(w) * h * 3, 5.0f), bright(size_t(w) * h * 3, 500.0f);
  auto a = hdr_frame(dim, w, h), b = hdr_frame(bright, w, h);
  std::vector<float> la[3];
  float after[3] = {0, 0, 0};
  const ModelResolution modes[3] = {ModelResolution::Full, ModelResolution::Half, ModelResolution::Quarter};
  for (int m = 0; m < 3; ++m) {
    Params p = prof(Profile::Fast, modes[m]);
    p.adaptation = AdaptationMode::Natural;
    YuvRun r(w, h, p);
    for (int f = 0; f < 10; ++f) r.run(a, f / 30.0);
    for (int f = 10; f < 16; ++f) {
      r.run(b, f / 30.0);
      la[m].push_back(r.e->stats().adaptation_nits);
    }
    EXPECT_EQ(r.e->stats().frames, 16);
    r.e->reset();
    r.run(b, 1.0);
    after[m] = r.e->stats().adaptation_nits;
    EXPECT_GT(after[m], 1.5f * la[m].back()) << "after reset: adapted to bright at once";
  }
  for (int m = 1; m < 3; ++m) EXPECT_NEAR(after[m] / after[0], 1.0, 0.1) << "mode " << m;
  for (int m = 0; m < 3; ++m) {
    EXPECT_LT(la[m].front(), 0.9f * la[m].back()) << "mode " << m << ": not gradual";
    for (size_t i = 1; i < la[m].size(); ++i) EXPECT_GE(la[m][i], la[m][i - 1]);
  }
  for (int m = 1; m < 3; ++m)
    for (size_t i = 0; i < la[0].size(); ++i)
      EXPECT_NEAR(la[m][i] / la[0][i], 1.0, 0.1) << "mode " << m << ", frame " << i;
}

// Words with bits above the format's (I420_10LE's top 6) are read without them: no crash,
// the same output as the clean frame. And a 2x2 frame, the smallest the model takes.
TEST(HalfModel, HostileWordsAndTinyFrames) {
  const int w = 64, h = 32;
  auto in = hdr_frame(scene(Scene::Night, w, h), w, h);
  auto dirty = in;
  uint16_t* p = reinterpret_cast<uint16_t*>(dirty.data());
  for (size_t i = 0; i < dirty.size() / 2; ++i) p[i] |= uint16_t((i * 2654435761u) >> 16) & 0xFC00;
  for (ModelResolution mr : kBlockModes) {
    SCOPED_TRACE(mode_name(mr));
    YuvRun a(w, h, prof(Profile::Fast, mr)), b(w, h, prof(Profile::Fast, mr));
    EXPECT_EQ(a.settle(in), b.settle(dirty));
    for (int s : {2, 3, 5}) {
      auto t = hdr_frame(Img(size_t(s) * s * 3, 100.0f), s, s);
      YuvRun r(s, s, prof(Profile::Fast, mr));
      const auto o = r.settle(t);
      for (int i = 0; i < s * s; ++i) EXPECT_GT(o[i], 16);
    }
  }
}
