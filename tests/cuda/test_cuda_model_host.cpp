// Runs without a GPU: the CUDA kernels' per-pixel code against the CPU engine's row loops.
//
// Every per-pixel and per-cell formula exists once, in common/dtutmo/ (pixel_model.h,
// spatial.h, pixel_io.h, model.h). The CUDA kernels call the whole-pixel compositions
// (read_rgb, decode_rgb, cell_sample[_jbu], scene_responses, display_pixel, write_block);
// the CPU engine's vectorised row loops call the same pieces one stage at a time. The CPU
// engine's reference path (cpu::create_cpu_reference_engine) runs every pixel through
// exactly the kernels' functions, in the kernels' order, with the engine's own
// low-resolution work; comparing it with the row loops on real frames catches a change
// to one side that the other does not follow, here on CI, before any GPU sees it.
// The temporal state updates the kernels run (model.cuh update_global_state,
// update_cell_state, update_percentiles) are compared with the CPU engine's statistics.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "dtutmo/color.h"
#include "dtutmo/convert.h"
#include "dtutmo/engine.h"
#include "dtutmo/frame.h"
#include "dtutmo/scenes.h"
#include "dtutmo/transfer.h"
#include "cut_frame_check.h"
#include "engine_cpu.h"
#include "model.cuh"

using namespace dtutmo;
using namespace dtutmo::cuda;

namespace {

struct Io {
  PixelFormat f;
  Transfer t;
  Primaries p;
  bool h_cosited, v_cosited;
};

// Both engines on the same input sequence (3 frames, 1/30 s apart: the temporal state
// moves); the outputs of every frame, as the stored codes of each component (RGBF32: the
// float values).
struct Outputs {
  std::vector<std::vector<float>> frames;
};

std::vector<float> stored_codes(const std::vector<uint8_t>& buf, PixelFormat f) {
  std::vector<float> v;
  const FormatInfo& fi = format_info(f);
  if (f == PixelFormat::RGBF32) {
    v.resize(buf.size() / 4);
    std::memcpy(v.data(), buf.data(), buf.size());
  } else if (f == PixelFormat::RGB10A2_LE) {
    for (std::size_t i = 0; i + 3 < buf.size(); i += 4) {
      uint32_t w;
      std::memcpy(&w, buf.data() + i, 4);
      v.push_back(float(w & 1023u));
      v.push_back(float((w >> 10) & 1023u));
      v.push_back(float((w >> 20) & 1023u));
    }
  } else if (fi.bits > 8) {  // P010 (high bits)
    for (std::size_t i = 0; i + 1 < buf.size(); i += 2) {
      uint16_t c;
      std::memcpy(&c, buf.data() + i, 2);
      v.push_back(float(c >> (16 - fi.bits)));
    }
  } else {
    for (uint8_t b : buf) v.push_back(float(b));
  }
  return v;
}

SignalDesc signal_of(const Io& io) {
  SignalDesc s;
  s.transfer = io.t;
  s.primaries = io.p;
  s.matrix = io.p == Primaries::BT2020 ? YuvMatrix::BT2020NC : YuvMatrix::BT709;
  s.chroma_h_cosited = io.h_cosited;
  s.chroma_v_cosited = io.v_cosited;
  return s;
}

Outputs run(Engine& e, Scene sc, int w, int h, const Io& in, const Io& out, const Params& p) {
  StreamConfig c;
  c.width = w;
  c.height = h;
  c.in_format = in.f;
  c.in = signal_of(in);
  c.out_format = out.f;
  c.out = signal_of(out);
  std::string err;
  Outputs o;
  if (!e.set_params(p, &err) || !e.configure(c, &err)) {
    ADD_FAILURE() << err;
    return o;
  }
  std::vector<float> lin(std::size_t(w) * h * 3);
  std::vector<uint8_t> ib(packed_size(in.f, w, h)), ob(packed_size(out.f, w, h));
  const FrameView vi = packed_view(in.f, w, h, ib.data()), vo = packed_view(out.f, w, h, ob.data());
  for (int fr = 0; fr < 3; ++fr) {
    const double t = sc == Scene::Animated ? 3.95 + fr / 30.0 : fr / 30.0;  // across the cut
    render_scene(sc, w, h, t, lin.data(), std::ptrdiff_t(w) * 3, in.p);
    for (float& v : lin)
      v = in.t == Transfer::PQ ? pq_inv_eotf(v) : in.t == Transfer::HLG ? hlg_oetf(v / 1000.0f) : v / 100.0f;
    if (in.f == PixelFormat::RGBF32)
      std::memcpy(ib.data(), lin.data(), ib.size());
    else
      pack_rows(lin.data(), std::ptrdiff_t(w) * 3, vi, c.in, 0, h, false);
    if (!e.process(vi, vo, t, &err)) {
      ADD_FAILURE() << err;
      return o;
    }
    o.frames.push_back(stored_codes(ob, out.f));
  }
  return o;
}

}  // namespace

// The reference path (the kernels' functions) against the row loops: every scene, every
// profile and display mode, the output formats of both targets and the input formats of
// the element, all three chroma sitings, odd and even sizes, three frames each. Integer
// outputs within 1 code everywhere and on under 1 % of the codes (FMA contraction and
// libmvec's vector powf differ from the scalar path in the last bits), float output
// within 2e-4.
TEST(CudaModelHost, KernelPixelPathMatchesTheCpuRowLoops) {
  const int sizes[][2] = {{64, 36}, {37, 23}};
  const Io ins[] = {{PixelFormat::P010_10LE, Transfer::PQ, Primaries::BT2020, true, false},
                    {PixelFormat::RGBF32, Transfer::Linear, Primaries::BT709, false, false},
                    {PixelFormat::I420_10LE, Transfer::HLG, Primaries::BT2020, true, true},
                    {PixelFormat::NV12, Transfer::BT1886, Primaries::BT709, false, false}};
  const Io outs[] = {{PixelFormat::RGBA, Transfer::SRGB, Primaries::BT709, false, false},
                     {PixelFormat::NV12, Transfer::BT1886, Primaries::BT709, true, false},
                     {PixelFormat::P010_10LE, Transfer::PQ, Primaries::BT2020, true, true},
                     {PixelFormat::RGB10A2_LE, Transfer::HLG, Primaries::BT2020, false, false},
                     {PixelFormat::RGBF32, Transfer::Linear, Primaries::BT709, false, false}};
  const Profile profiles[] = {Profile::Fast, Profile::Balanced, Profile::Quality};
  const DisplayMode modes[] = {DisplayMode::Whiteboard, DisplayMode::FullInverse, DisplayMode::Hybrid};
  auto vec = create_cpu_engine(1);
  // the row loops against the kernels' per-pixel math: the La lookup's shortcut off (it
  // moves values by up to its bound, tested on its own in test_engine
  // LookupShortcutStaysWithinACodeOfTheFullLookup; on, RGBF32 came out 1.4e-3 apart)
  dynamic_cast<cpu::CpuEngine&>(*vec).set_lookup_shortcut(false);
  auto ref = cpu::create_cpu_reference_engine(1);
  long long codes = 0, off = 0;
  int n = 0;
  for (const auto& sz : sizes)
    for (int sc = 0; sc < int(Scene::COUNT); ++sc)
      for (Profile pr : profiles)
        for (DisplayMode dm : modes) {
          // every format pair and the switches the scenes leave on, rotating with the case
          const Io& in = ins[(n + sc) % 4];
          const Io& out = outs[n % 5];
          ++n;
          Params p = params_for_profile(pr);
          p.display_mode = dm;
          // per pixel, as the reference path (colour-sampling auto: per 2x2 block of a
          // 4:2:0 output on the row loops, a deliberate difference; docs/DESIGN.md)
          p.colour_sampling = ColourSampling::Full;
          if (out.t == Transfer::PQ || out.t == Transfer::HLG) {
            p.display_peak = 1000.0f;
            p.target = out.t == Transfer::PQ ? Target::PQ : Target::HLG;
          }
          p.hue_preserve = (n % 3) != 0;
          p.local = (n % 4) != 1;
          p.mesopic = (n % 5) != 2;
          const int w = sz[0], h = sz[1];
          SCOPED_TRACE(std::string(scene_name(Scene(sc))) + " " + std::to_string(w) + "x" + std::to_string(h) +
                       " " + profile_name(pr) + " mode " + std::to_string(int(dm)) + " in " +
                       format_info(in.f).name + " out " + format_info(out.f).name);
          const Outputs a = run(*vec, Scene(sc), w, h, in, out, p);
          const Outputs b = run(*ref, Scene(sc), w, h, in, out, p);
          ASSERT_EQ(a.frames.size(), 3u);
          ASSERT_EQ(b.frames.size(), 3u);
          for (int fr = 0; fr < 3; ++fr) {
            const std::vector<float>&va = a.frames[fr], &vb = b.frames[fr];
            ASSERT_EQ(va.size(), vb.size());
            float worst = 0.0f;
            for (std::size_t i = 0; i < va.size(); ++i) {
              const float d = std::fabs(va[i] - vb[i]);
              worst = std::max(worst, d);
              if (out.f != PixelFormat::RGBF32) {
                ++codes;
                off += d != 0.0f;
              }
            }
            if (out.f == PixelFormat::RGBF32)
              EXPECT_LE(worst, 2e-4f) << "frame " << fr;
            else
              EXPECT_LE(worst, 1.0f) << "frame " << fr;
          }
        }
  EXPECT_LT(double(off), 0.01 * double(codes)) << off << " of " << codes << " codes differ by 1";
}

// --- the temporal state: the kernels' update functions (update_global_state, cell_la,
// update_percentiles) over a sequence of uniform frames with a one-frame
// flash, a one-frame black frame, a sustained step and a reset, against the CPU engine's
// statistics frame by frame ---
namespace {

// The global update's inputs, as CudaEngine::setup_params fills them.
SetupParams global_sp(const Params& P, int w, int h, bool snap, double dt) {
  SetupParams sp{};
  sp.width = w;
  sp.height = h;
  sp.fov_deg = P.fov_deg;
  sp.age = P.observer_age;
  sp.broadcast = P.adaptation == AdaptationMode::Broadcast;
  sp.optics = P.optics;
  sp.cut_threshold = P.cut_threshold;
  sp.cut_shape_threshold = P.cut_shape_threshold;
  sp.host_snap = snap;
  sp.kc_raw = snap ? 1.0f : smooth_k(dt, P.cone_tau);
  sp.kr_raw = snap ? 1.0f : smooth_k(dt, P.rod_tau);
  sp.kp_raw = snap ? 1.0f : smooth_k(dt, P.pupil_tau);
  sp.kq_raw = snap ? 1.0f : smooth_k(dt, P.range_tau);
  return sp;
}

struct TemporalEmu {
  DevState st{};
  float ls = 0, lr = 0;  // the (single, uniform) cell
  bool fresh = true;
  double last_t = 0.0;
  TemporalEmu() { st.ts = temporal_initial(); }
  // One uniform frame of linear colour `rgb`; returns the statistics the engine reports.
  EngineStats frame(Vec3 rgb, double t, const Params& P, int w, int h) {
    bool snap = fresh;
    fresh = false;
    const double dt = t - last_t;
    if (!(dt > 0.0 && dt <= 10.0)) snap = true;
    last_t = t;
    const SetupParams sp = global_sp(P, w, h, snap, dt);
    FrameConsts K{};
    input_consts(K, Primaries::BT709);
    K.mesopic = P.mesopic;
    const float target = log2_luminance(rgb, K.in_rgb_to_y);
    // uniform frame: every cell (w / kCell x h / kCell of them) holds the log-mean
    unsigned int ch[kCutBins] = {};
    ch[cut_bin(target)] = unsigned((w / kCell) * (h / kCell));
    float sig[kCutQ];
    cut_signature(ch, sig);
    update_global_state(st, target, sig, sp, K);
    // global adaptation off or on: every cell's target is the log-mean
    cell_la(st.ts, target, target, ls, lr);
    const AdaptCell c = adapt_cell(ls, lr, K.td_per_nit, P.mesopic);
    KCell kc{};
    fold_cell(c, log2f(K.td_per_nit), &kc);
    K.la_global_rod = exp2f(lr);
    K.rod_s_log2q = rod_s_log2q(K);
    const float ra = achromatic_response(scene_responses(rgb, cell_sample(kcell_grid(&kc, 1, 1), 0, 0, kChD0), K));
    const int bin = hist_bin(ra);
    update_percentiles(st, float((bin + P.pct_low / 100.0) / kHistBins), float((bin + P.pct_high / 100.0) / kHistBins),
                       float((bin + 0.5) / kHistBins));
    EngineStats s{};
    s.adaptation_nits = K.la_global;
    s.pupil_mm = K.pupil_mm;
    s.response_low = st.ts.s_rlo;
    s.response_high = st.ts.s_rhi;
    s.cut_detected = st.cut != 0;
    return s;
  }
};

}  // namespace

TEST(CudaModelHost, TemporalStateMatchesTheCpuEngine) {
  const int w = 32, h = 18;
  for (AdaptationMode mode : {AdaptationMode::Natural, AdaptationMode::Broadcast}) {
    SCOPED_TRACE(int(mode));
    Params p = params_for_profile(Profile::Fast);
    p.input_scale = 1.0f;
    p.adaptation = mode;
    StreamConfig c;
    c.width = w;
    c.height = h;
    c.in_format = PixelFormat::RGBF32;
    c.in.transfer = Transfer::Linear;
    c.out_format = PixelFormat::RGBF32;
    c.out.transfer = Transfer::Linear;
    auto cpu = create_cpu_engine(1);
    std::string err;
    ASSERT_TRUE(cpu->set_params(p, &err)) << err;
    ASSERT_TRUE(cpu->configure(c, &err)) << err;
    TemporalEmu emu;
    std::vector<float> in(std::size_t(w) * h * 3), out(in.size());
    FrameView vi = packed_view(PixelFormat::RGBF32, w, h, reinterpret_cast<uint8_t*>(in.data()));
    FrameView vo = packed_view(PixelFormat::RGBF32, w, h, reinterpret_cast<uint8_t*>(out.data()));
    for (int f = 0; f < 150; ++f) {
      // 20 nits; a one-frame flash x100 at 20; a black frame at 30; x100 from 40 on (a cut
      // in broadcast mode); a reset at 100; 2 s pause (discontinuity) at 120
      float g = 20.0f;
      if (f == 20) g = 2000.0f;
      if (f == 30) g = 0.0f;
      if (f >= 40) g = 2000.0f;
      if (f >= 100) g = 0.5f;
      const double t = f / 30.0 + (f >= 120 ? 12.0 : 0.0);
      if (f == 100) {
        cpu->reset();
        emu.fresh = true;
      }
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = g;
      ASSERT_TRUE(cpu->process(vi, vo, t, &err)) << err;
      const EngineStats a = cpu->stats();
      const EngineStats b = emu.frame({g, g, g}, t, p, w, h);
      SCOPED_TRACE(f);
      EXPECT_NEAR(b.adaptation_nits, a.adaptation_nits, 1e-4f * a.adaptation_nits);
      EXPECT_NEAR(b.pupil_mm, a.pupil_mm, 1e-4f * a.pupil_mm);
      EXPECT_NEAR(b.response_low, a.response_low, 2e-5f);
      EXPECT_NEAR(b.response_high, a.response_high, 2e-5f);
      EXPECT_EQ(b.cut_detected, a.cut_detected);
    }
  }
}

// --- a cut with optics on (model.h glare_cut_redo, temporal_redo): the kernels' global
// update of the frame made again (update_global_state with redo) against a fresh state's
// first frame of the same picture, and the CPU engine's cut frame against a fresh CPU
// engine's (cut_frame_check.h; test_cuda_parity.cpp holds the CUDA engine to the same) ---
namespace {

// A frame's global inputs: the log-mean and the cut signature of cells spread over
// [lo, lo + span] log2 cd/m^2 (nc cells, a ramp: a shape the detector can compare).
struct GlobalIn {
  float target;
  float sig[kCutQ];
};
GlobalIn global_in(float lo, float span, int nc) {
  GlobalIn g{};
  unsigned int ch[kCutBins] = {};
  double sum = 0.0;
  for (int i = 0; i < nc; ++i) {
    const float v = lo + span * float(i * i) / float(nc * nc);  // skewed: most cells dark
    ch[cut_bin(v)]++;
    sum += v;
  }
  g.target = float(sum / nc);
  cut_signature(ch, g.sig);
  return g;
}

}  // namespace

TEST(CudaModelHost, CutFrameMadeAgainIsAFreshStart) {
  Params P = params_for_profile(Profile::Balanced);
  P.adaptation = AdaptationMode::Broadcast;
  const int w = 160, h = 96, nc = (w / kCell) * (h / kCell);
  const GlobalIn day = global_in(6.0f, 8.0f, nc), night = global_in(-8.0f, 12.0f, nc);
  // the frame made again sees the night with the snapped glare: a slightly different picture
  const GlobalIn night2 = global_in(-7.9f, 12.2f, nc);
  for (bool optics : {true, false}) {
    SCOPED_TRACE(optics ? "optics on" : "optics off");
    P.optics = optics;
    DevState st{};
    st.ts = temporal_initial();
    FrameConsts K{};
    float gcap_h[2] = {0, 0}, gcap_s = 0;  // the glare cap (model.h update_glare_cap)
    const float day_cap = 10.0f, night_cap = 2.0f;  // log2 cd/m^2, the frames' cap targets
    for (int f = 0; f < 10; ++f) {
      update_global_state(st, day.target, day.sig, global_sp(P, w, h, f == 0, 1 / 30.0), K);
      update_glare_cap(gcap_h, gcap_s, day_cap, f == 0, smooth_k(1 / 30.0, P.cone_tau));
      EXPECT_EQ(st.cut, 0) << f;
      EXPECT_EQ(st.redo, 0) << f;
    }
    // the night's first pass: the cut is detected after the glare used the smoothed cap
    const SetupParams sp = global_sp(P, w, h, false, 1 / 30.0);
    update_global_state(st, night.target, night.sig, sp, K);
    const float cap1 = update_glare_cap(gcap_h, gcap_s, night_cap, false, smooth_k(1 / 30.0, P.cone_tau));
    ASSERT_EQ(st.cut, 1);
    EXPECT_EQ(st.redo, optics ? 1 : 0);
    EXPECT_EQ(glare_cut_redo(optics, st.cut != 0, sp.host_snap != 0), st.redo != 0);
    EXPECT_GT(std::log2(cap1), day_cap - 0.5f) << "the first pass's cap is the day's (median of 3)";
    const float shape = st.ts.shape_change;
    EXPECT_GT(shape, 0.0f);
    if (!optics) continue;
    // made again: the glare snapped, the global update as the redo
    const float cap2 = update_glare_cap(gcap_h, gcap_s, night_cap, true, 1.0f);
    EXPECT_FLOAT_EQ(std::log2(cap2), night_cap);
    update_global_state(st, night2.target, night2.sig, sp, K, true);
    // a fresh state's first frame of the same picture
    DevState fr{};
    fr.ts = temporal_initial();
    FrameConsts Kf{};
    update_global_state(fr, night2.target, night2.sig, global_sp(P, w, h, true, 0.0), Kf);
    EXPECT_EQ(st.snap, 1);
    EXPECT_EQ(st.cut, 1) << "the detector's report is kept";
    EXPECT_EQ(st.ts.shape_change, shape) << "the detector's report is kept";
    EXPECT_EQ(fr.ts.shape_change, -1.0f);
    for (float k : {st.kc, st.kr, st.kp, st.kq}) EXPECT_EQ(k, 1.0f);
    EXPECT_EQ(st.ts.s_logmean, fr.ts.s_logmean);
    EXPECT_EQ(st.ts.s_rodmean, fr.ts.s_rodmean);
    EXPECT_EQ(st.ts.s_pupil, fr.ts.s_pupil);
    EXPECT_EQ(st.ts.prev_logmean, fr.ts.prev_logmean);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(st.ts.h_logmean[i], fr.ts.h_logmean[i]) << i;
    for (int q = 0; q < kCutQ; ++q) EXPECT_EQ(st.ts.prev_sig[q], fr.ts.prev_sig[q]) << q;
    EXPECT_EQ(st.target_logmean, fr.target_logmean);
    EXPECT_EQ(K.la_global, Kf.la_global);
    EXPECT_EQ(K.pupil_mm, Kf.pupil_mm);
    EXPECT_EQ(K.td_per_nit, Kf.td_per_nit);
  }
  // a snapped frame (reset, discontinuity) detects no cut and makes nothing again
  EXPECT_FALSE(glare_cut_redo(true, true, true));
  EXPECT_FALSE(glare_cut_redo(true, false, false));
}

// The check of test_cuda_parity.cpp's BalancedCutFrameMatchesAFreshEngine on the CPU
// engine, byte for byte: the reference it holds the CUDA engine to (without
// CpuEngine::process's redo 41730 of 57600 bytes were more than 1 code off, worst 90).
TEST(CudaModelHost, CpuCutFrameMatchesAFreshEngine) {
  const dtutmo_test::CutFrameDiff r =
      dtutmo_test::cut_frame_against_fresh([] { return create_cpu_engine(2); });
  dtutmo_test::expect_cut_frame_as_fresh(r, "cpu", true);
  // One row of cells, one thread: every lookup row reads the same grid row pair, so the
  // first pass's cached lookup state (then Scratch::jx's expanded corners, now the
  // segments Scratch::jf) served the frame made again unless the redo renews their key (worst 2 codes; with several threads it depended on which
  // thread took which row: 535 bytes 1 code off in 1 of ~10 runs, 320x180 cuts sequence).
  const dtutmo_test::CutFrameDiff r1 =
      dtutmo_test::cut_frame_against_fresh([] { return create_cpu_engine(1); }, Precision::FP16, 160, 8);
  dtutmo_test::expect_cut_frame_as_fresh(r1, "cpu, 160x8, one thread", true);
}
