// dtutmo -- the CPU engine's low-resolution helpers (common/src/cpu_spatial.h) against the
// shared per-sample formulas (dtutmo/spatial.h) and against themselves on a thread pool:
// the row-wise blur gives blur_at's bits; the bilateral grid's finish gives the same bits
// on one thread or on a pool, the edge-aware pooling's bins on one thread's levels or two.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <string>
#include <vector>

#include "cpu_pool.h"
#include "cpu_spatial.h"
#include "dtutmo/model.h"
#include "dtutmo/spatial.h"

using namespace dtutmo;

namespace {

std::vector<float> noise(size_t n, unsigned seed, float lo, float hi) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

// blur_grid (interior pixels by rows, one pixel per vector lane) against spatial.h blur_at
// per pixel, horizontal then vertical: bit for bit, grids narrower than the kernel included.
TEST(BlurGrid, SameBitsAsBlurAtPerPixel) {
  const int sizes[][2] = {{1, 1}, {2, 3}, {5, 4}, {11, 7}, {13, 40}, {37, 23}, {120, 68}, {240, 135}};
  for (const auto& sz : sizes)
    for (float sigma : {0.3f, 0.87f, 1.0f, 1.5f, 3.2f}) {
      const int w = sz[0], h = sz[1];
      SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + " sigma " + std::to_string(sigma));
      const std::vector<float> in = noise(size_t(w) * h, unsigned(w * 31 + h), -3.0f, 5.0f);
      float k[2 * kBlurMaxRadius + 1];
      const int rr = gauss_radius(sigma, kBlurMaxRadius);
      for (int i = -rr; i <= rr; ++i) k[i + rr] = gauss_tap(i, sigma);
      std::vector<float> t(in.size()), ref(in.size());
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          t[size_t(y) * w + x] = blur_at([&](int j) { return in[size_t(y) * w + j]; }, x, w, k, rr);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          ref[size_t(y) * w + x] = blur_at([&](int j) { return t[size_t(j) * w + x]; }, y, h, k, rr);
      std::vector<float> out = in, tmp(in.size());
      blur_grid(out.data(), w, h, sigma, tmp.data());
      EXPECT_TRUE(same_bits(out, ref));
      // by bands of rows (the engine's hybrid edge map): the same
      std::vector<float> bands = in;
      const BlurTaps taps(sigma);
      for (int y = 0; y < h; y += 3) blur_rows_h(bands.data(), tmp.data(), w, y, std::min(h, y + 3), taps);
      for (int y = 0; y < h; y += 5) blur_rows_v(tmp.data(), bands.data(), w, h, y, std::min(h, y + 5), taps);
      EXPECT_TRUE(same_bits(bands, ref));
    }
}

// The bilateral grid summed and blurred on a pool of 2 and 3 threads: the same grid as on
// one thread, and finish() leaves the threads' sums zeroed for the next frame's splat.
TEST(BilateralGrid, FinishOnAPoolSameBits) {
  const int w = 331, h = 187;
  const std::vector<float> ly = noise(size_t(w) * h, 7u, -8.0f, 12.0f);
  const float lo = std::log2(kMinNits), hi = std::log2(kMaxNits);
  auto build = [&](int threads, CpuPool* pool, int frames) {
    BilateralGrid g;
    g.init(w, h, 9.0f, 0.5f, lo, hi, threads);
    for (int f = 0; f < frames; ++f) {
      for (int y = 0; y < h; ++y) g.splat_row(y % threads, y, ly.data() + size_t(y) * w, w);
      g.finish(pool);
    }
    return g.grid;
  };
  const std::vector<float> one = build(1, nullptr, 1);
  for (int threads : {2, 3}) {
    CpuPool pool(threads);
    EXPECT_TRUE(same_bits(build(threads, &pool, 1), one)) << threads;
    EXPECT_TRUE(same_bits(build(threads, &pool, 3), one)) << threads << " threads, third frame";
  }
}

// down2_rows (down2_box's and the CSF's level 1's whole blocks, vectorised) against
// spatial.h's down2_at_stride per output: the same bits at every width's whole blocks and
// from an offset, with an all -0 block (down2_at_stride's sum from 0 gives +0), subnormals
// and either sign.
TEST(Down2, RowsSameBitsAsDown2AtStride) {
  for (int w : {2, 3, 8, 17, 64, 1921}) {
    std::vector<float> in = noise(size_t(w) * 2, unsigned(w), -1e4f, 1e4f);
    in[0] = in[1] = in[size_t(w)] = in[size_t(w) + 1] = -0.0f;
    if (w >= 6) {
      in[2] = 1e-40f;
      in[3] = -3e-39f;
      in[size_t(w) + 2] = 7e-41f;
    }
    const int n = w / 2, x0 = n / 3;
    std::vector<float> out(static_cast<size_t>(n), -1.0f), ref(static_cast<size_t>(n), -1.0f);
    down2_rows(in.data(), in.data() + w, x0, n, out.data());
    for (int x = x0; x < n; ++x) ref[size_t(x)] = down2_at_stride(in.data(), size_t(w), w, 2, x, 0);
    EXPECT_TRUE(same_bits(out, ref)) << w;
  }
}

// BilateralGrid::finish sums and blurs only the planes that the splats' z range reaches
// (two more each side) and zeroes those its last call wrote outside them: after frames of
// other ranges (bright, dark, one spanning [lo, hi] and beyond, dark again) the grid is the
// definition's bit for bit: the per-pixel fixed-point sums (bgrid_cell_*, bgrid_fix),
// bgrid_unfix, and bgrid_blur_at over every cell, x y x y z. With and without a pool.
TEST(BilateralGrid, FinishOnTheSplatsPlanesIsTheWholeGridsBlur) {
  const int w = 331, h = 187;
  const float lo = std::log2(kMinNits), hi = std::log2(kMaxNits);
  const std::vector<float> frames[] = {noise(size_t(w) * h, 3u, 8.0f, 14.0f), noise(size_t(w) * h, 4u, -6.0f, -1.0f),
                                       noise(size_t(w) * h, 5u, lo - 1.0f, hi + 1.0f),
                                       noise(size_t(w) * h, 6u, -6.0f, -1.0f)};
  for (int threads : {1, 2}) {
    CpuPool pool(threads);
    BilateralGrid g;
    g.init(w, h, 9.0f, 0.5f, lo, hi, threads);
    for (size_t f = 0; f < 4; ++f) {
      const std::vector<float>& ly = frames[f];
      for (int y = 0; y < h; ++y) g.splat_row(y % threads, y, ly.data() + size_t(y) * w, w);
      g.finish(threads > 1 ? &pool : nullptr);
      // the definition
      const size_t np = size_t(g.gx) * g.gy * g.gz;
      std::vector<unsigned long long> acc(2 * np, 0ull);
      const float inv_ss = 1.0f / g.ss, inv_sr = 1.0f / g.sr;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const float v = std::min(std::max(ly[size_t(y) * w + x], lo), hi);
          const size_t c =
              (size_t(bgrid_cell_z(v, lo, inv_sr)) * g.gy + bgrid_cell_xy(y, inv_ss)) * g.gx + bgrid_cell_xy(x, inv_ss);
          acc[2 * c] += bgrid_fix(v, lo);
          acc[2 * c + 1] += 1;
        }
      std::vector<float> a(2 * np), b(2 * np);
      for (size_t i = 0; i < np; ++i) bgrid_unfix(acc[2 * i], acc[2 * i + 1], lo, &a[2 * i]);
      auto blur = [&](size_t stride, int len) {
        for (size_t i = 0; i < np; ++i) bgrid_blur_at(a.data(), b.data(), i, (i / stride) % size_t(len), stride, len);
        a.swap(b);
      };
      for (int it = 0; it < 2; ++it) {
        blur(1, g.gx);
        blur(size_t(g.gx), g.gy);
      }
      blur(size_t(g.gx) * g.gy, g.gz);
      EXPECT_TRUE(same_bits(g.grid, a)) << threads << " threads, frame " << f;
    }
  }
}

// BilateralGrid::splat_row (the AVX2 path: cell indices and fixed-point values by 8
// lanes) against spatial.h's per-pixel cell and value (bgrid_cell_xy, bgrid_cell_z,
// bgrid_fix): the same integer sums, bit for bit; values below lo and above hi, widths of
// every remainder mod 8 and wider than a chunk.
TEST(BilateralGrid, SplatRowSameSumsAsPerPixel) {
  const float lo = std::log2(kMinNits), hi = std::log2(kMaxNits);
  for (const auto& sz : {std::pair<int, int>{331, 7}, {1920, 3}, {13, 9}, {5, 2}}) {
    const int w = sz.first, h = sz.second;
    const std::vector<float> ly = noise(size_t(w) * h, 5u, lo - 3.0f, hi + 3.0f);
    BilateralGrid g;
    g.init(w, h, 9.0f, 0.5f, lo, hi, 1);
    for (int y = 0; y < h; ++y) g.splat_row(0, y, ly.data() + size_t(y) * w, w);
    std::vector<unsigned long long> ref(g.part[0].size(), 0ull);
    const float inv_ss = 1.0f / g.ss, inv_sr = 1.0f / g.sr;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const float v = std::min(std::max(ly[size_t(y) * w + x], lo), hi);
        const size_t c =
            ((size_t(bgrid_cell_z(v, lo, inv_sr)) * g.gy + bgrid_cell_xy(y, inv_ss)) * g.gx + bgrid_cell_xy(x, inv_ss)) * 2;
        ref[c] += bgrid_fix(v, lo);
        ref[c + 1] += 1;
      }
    EXPECT_TRUE(std::equal(g.part[0].begin(), g.part[0].end(), ref.begin(), ref.end())) << w << "x" << h;
  }
}

// BilateralGrid::slice_row (the AVX2 path: two 128-bit loads per pixel, transposed; the
// row's z range by 8-lane min / max) against spatial.h bgrid_slice per pixel, the formula
// the CUDA kernel runs: values below lo and above hi (clamped), rows of every width mod 8,
// the strided (histogram) form too. Not bit for bit: the engine's clone contracts the
// lerps to FMA, this file's code does not (~1 ulp).
TEST(BilateralGrid, SliceRowMatchesSlicePerPixel) {
  const float lo = std::log2(kMinNits), hi = std::log2(kMaxNits);
  for (const auto& sz : {std::pair<int, int>{331, 187}, {96, 40}, {13, 9}, {1, 1}}) {
    const int w = sz.first, h = sz.second;
    std::vector<float> ly = noise(size_t(w) * h, 21u, lo - 3.0f, hi + 3.0f);
    for (int y = 0; y < h; ++y)  // smooth regions (runs of the same cells) and an edge
      for (int x = 0; x < w / 2; ++x) ly[size_t(y) * w + x] = 0.01f * x - 0.02f * y + (x > w / 4 ? 9.0f : 0.0f);
    BilateralGrid g;
    g.init(w, h, 9.0f, 0.5f, lo, hi, 1);
    for (int y = 0; y < h; ++y) g.splat_row(0, y, ly.data() + size_t(y) * w, w);
    g.finish(nullptr);
    std::vector<float> slab(g.slab_size()), out(w);
    int bad = 0;
    for (int y = 0; y < h; ++y) {
      const float* row = ly.data() + size_t(y) * w;
      g.slice_row(y, row, w, 1, out.data(), slab.data());
      for (int x = 0; x < w; ++x) {
        const float want = g.slice(float(x), float(y), row[x]);
        if (!(std::fabs(out[x] - want) <= 1e-4f * (1.0f + std::fabs(want))) && bad++ < 5)
          ADD_FAILURE() << w << "x" << h << " at " << x << "," << y << ": " << out[x] << " vs " << want;
      }
      const int step = 4, n = w / step;  // the histogram's samples: x = i * step + step / 2
      g.slice_row(y, row, n, step, out.data(), slab.data());
      for (int i = 0; i < n; ++i) {
        const int x = i * step + step / 2;
        const float want = g.slice(float(x), float(y), row[x]);
        if (!(std::fabs(out[i] - want) <= 1e-4f * (1.0f + std::fabs(want))) && bad++ < 5)
          ADD_FAILURE() << "strided " << w << "x" << h << " at " << x << "," << y;
      }
    }
    EXPECT_EQ(bad, 0) << w << "x" << h;
  }
}

// The edge-aware pooling with its bins on two threads' levels: the same pooled grid as on
// one, and a frame after another (different) one the same as a first frame.
TEST(EdgePooler, BinsOnThreadsSameBits) {
  const int w = 240, h = 135;
  std::vector<float> in = noise(size_t(w) * h, 11u, -4.0f, 14.0f);
  for (int y = 0; y < h; ++y)  // a hard edge and a smooth ramp
    for (int x = 0; x < w; ++x) in[size_t(y) * w + x] += (x > w / 3 ? 6.0f : 0.0f) + 0.02f * y;
  const float sig[4] = {2, 4, 8, 16}, wts[4] = {1, 2, 4, 8};
  const std::vector<float> other = noise(in.size(), 12u, -2.0f, 9.0f);
  auto pooled = [&](int threads, int frames) {
    EdgePooler p;
    p.init(w, h, kPoolRangeStep, threads);
    std::vector<float> out(in.size());
    for (int f = frames - 1; f >= 0; --f) {  // the last frame is `in`
      p.begin(f ? other.data() : in.data(), sig, wts, 4);
      for (int j = 0; j < p.bins(); ++j) p.process_bin(j, j % threads);
      p.slice(0, h, out.data());
    }
    return out;
  };
  const std::vector<float> ref = pooled(1, 1);
  EXPECT_TRUE(same_bits(pooled(2, 1), ref));
  EXPECT_TRUE(same_bits(pooled(2, 2), ref)) << "second frame";
}

// EdgePooler::slice (the scales' column and row positions made once per frame) against
// spatial.h ep_slice_at per cell, the per-cell formula the CUDA kernel runs: bit for bit.
// Noise (neighbours' bins far apart: the AVX2 path's gathers) and ramps with an edge
// (slope s log2 units a cell: 8 cells' bins one to four apart, its windows; the gathers
// at the edge).
TEST(EdgePooler, SliceSameBitsAsSliceAt) {
  struct Case {
    int w, h;
    float slope;  // 0: noise
  };
  for (const Case& cs : {Case{240, 135, 0}, {97, 3, 0}, {5, 61, 0}, {240, 135, 0.05f}, {61, 37, 0.05f},
                         {240, 135, 0.4f}, {83, 20, 0.25f}}) {
    const int w = cs.w, h = cs.h;
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + " slope " + std::to_string(cs.slope));
    std::vector<float> in = noise(size_t(w) * h, unsigned(w + h), -4.0f, 14.0f);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        float& v = in[size_t(y) * w + x];
        if (cs.slope > 0) v = 0.02f * v + cs.slope * x + 0.03f * y;
        v += (x > w / 3 ? 6.0f : 0.0f);
      }
    const float sig[4] = {2, 4, 8, 16}, wts[4] = {1, 2, 4, 8};
    EdgePooler p;
    p.init(w, h, kPoolRangeStep, 1);
    p.begin(in.data(), sig, wts, 4);
    for (int j = 0; j < p.bins(); ++j) p.process_bin(j, 0);
    std::vector<float> out(in.size()), ref(in.size());
    p.slice(0, h, out.data());
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const float v = in[size_t(y) * w + x];
        int j;
        float f;
        ep_bin(v, p.lo, 1.0f / p.dzc, p.bins(), &j, &f);
        float acc = 0;
        for (int k = 0; k < p.nscale; ++k) {
          const int l = p.slev[k];
          acc += p.swt[k] * ep_slice_at(p.res_[k].data(), p.lw[l], p.lh[l], w, h, x, y, j, f, v);
        }
        ref[size_t(y) * w + x] = acc / p.wsum;
      }
    EXPECT_TRUE(same_bits(out, ref));
  }
}

// EdgePooler::process_bin (each bin's pyramid and blurs on the box of cells its weight
// reaches; its level 0, the bin's splat, made there on the rows its bins reach) against
// the whole grid: the splat by its definition, down2 and blur_grid of its planes at every
// scale's level, bit for bit, for every bin, on later frames too (a thread's levels hold
// the last frame's and bin's cells outside the box), bins on two threads' levels, scales
// from level 1 and from level 0. Inputs: noise (boxes of the whole grid), a blob at the
// right edge and a ramp (small boxes, at edges, odd sizes).
TEST(EdgePooler, BinsSameBitsAsWholeGrid) {
  for (const auto& sz : {std::pair<int, int>{240, 135}, {61, 37}, {9, 70}, {1, 1}, {3, 2}}) {
    const int w = sz.first, h = sz.second;
    std::vector<float> noisy = noise(size_t(w) * h, unsigned(2 * w + h), -4.0f, 14.0f);
    std::vector<float> blob(size_t(w) * h), ramp(size_t(w) * h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const float dx = float(x - w + 3), dy = float(y - h / 3);
        blob[size_t(y) * w + x] = 1.0f + (dx * dx + dy * dy < 0.05f * w * w ? 9.0f : 0.0f) + 0.001f * noisy[size_t(y) * w + x];
        ramp[size_t(y) * w + x] = 0.11f * x + 0.07f * y;
      }
    // (sigmas of 2 cells and more pool from level 1 up; 1 and 0.7 from level 0)
    const float sig[2][4] = {{2, 4, 8, 16}, {0.7f, 1, 3, 6}}, wts[4] = {1, 2, 4, 8};
    EdgePooler p;
    p.init(w, h, kPoolRangeStep, 2);
    int n = 0;
    for (const std::vector<float>* in : {&noisy, &blob, &ramp, &noisy, &blob}) {
      SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + " input " + std::to_string(n));
      p.begin(in->data(), sig[n++ / 2 % 2], wts, 4);  // (two frames at each)
      for (int j = 0; j < p.bins(); ++j) p.process_bin(j, j % 2);
      // the splat by its definition: each cell adds (1 - f) v, 1 - f to its lower bin j's
      // value and weight planes, f v, f to bin j + 1's, all from +0
      const size_t nc = size_t(w) * h;
      std::vector<float> splat(size_t(p.bins()) * 2 * nc, 0.0f);
      for (size_t i = 0; i < nc; ++i) {
        int j;
        float f;
        ep_bin((*in)[i], p.lo, 1.0f / p.dzc, p.bins(), &j, &f);
        float* a = splat.data() + size_t(j) * 2 * nc;
        float* b = a + 2 * nc;
        a[i] += (1 - f) * (*in)[i];
        a[nc + i] += 1 - f;
        b[i] += f * (*in)[i];
        b[nc + i] += f;
      }
      for (int j = 0; j < p.bins(); ++j) {
        // the whole grid: levels by down2 of the two planes, then the scale's blur
        std::vector<std::vector<float>> lev(6);
        lev[0].assign(splat.begin() + size_t(j) * 2 * nc, splat.begin() + size_t(j + 1) * 2 * nc);
        for (int l = 1; l < 6; ++l) {
          const size_t pn = size_t(p.lw[l - 1]) * p.lh[l - 1], qn = size_t(p.lw[l]) * p.lh[l];
          lev[l].assign(2 * qn, 0.0f);
          int ow, oh;
          for (int c = 0; c < 2; ++c)
            down2(lev[l - 1].data() + c * pn, p.lw[l - 1], p.lh[l - 1], lev[l].data() + c * qn, &ow, &oh);
        }
        for (int k = 0; k < p.nscale; ++k) {
          const int l = p.slev[k];
          const size_t ln = size_t(p.lw[l]) * p.lh[l];
          std::vector<float> ref = lev[l], tmp(ln);
          for (int c = 0; c < 2; ++c) blur_grid(ref.data() + c * ln, p.lw[l], p.lh[l], p.sblur[k], tmp.data());
          const std::vector<float> got(p.res_[k].begin() + size_t(j) * 2 * ln,
                                       p.res_[k].begin() + size_t(j + 1) * 2 * ln);
          EXPECT_TRUE(same_bits(got, ref)) << "bin " << j << " scale " << k;
        }
      }
    }
  }
}

// down2 (whole 2x2 blocks without bounds checks) against spatial.h down2_at: bit for bit,
// odd sizes included.
TEST(Down2, SameBitsAsDown2At) {
  for (const auto& sz : {std::pair<int, int>{240, 135}, {1, 1}, {7, 2}, {2, 9}, {33, 17}}) {
    const int w = sz.first, h = sz.second;
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    std::vector<float> in = noise(size_t(w) * h, unsigned(3 * w + h), -6.0f, 6.0f);
    if (w > 1 && h > 1)  // a block of -0: +0 (down2_at's sum starts from +0)
      in[0] = in[1] = in[size_t(w)] = in[size_t(w) + 1] = -0.0f;
    const int W = (w + 1) / 2, H = (h + 1) / 2;
    std::vector<float> out(size_t(W) * H), ref(out.size());
    int ow, oh;
    down2(in.data(), w, h, out.data(), &ow, &oh);
    EXPECT_EQ(ow, W);
    EXPECT_EQ(oh, H);
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) ref[size_t(y) * W + x] = down2_at(in.data(), w, h, x, y);
    EXPECT_TRUE(same_bits(out, ref));
  }
}
