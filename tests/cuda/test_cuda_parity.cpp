// The CUDA engine against the CPU engine (the reference), through the Engine interface,
// on procedural scenes at several sizes, odd ones included:
//   - FP32, display-linear output (RGBF32, transfer Linear): within 1e-3 relative;
//   - FP16 (the default), 8-bit outputs: within 1 code value on 99.9% of the samples;
//   - the temporal state: statistics frame by frame on a step of scene luminance;
//   - device frames, the caller's stream, bad samples, resets, scene cuts.
// Every test skips without a CUDA device and fails when one is present but unusable.
#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dtutmo/convert.h"
#include "dtutmo/engine.h"
#include "dtutmo/scenes.h"
#include "dtutmo/transfer.h"
#include "cut_frame_check.h"
#include "engine_cpu.h"
#include "gpu_gate.h"

using namespace dtutmo;

namespace {

// Skips without a GPU, fails when a GPU is present but the engine cannot run on it, or
// when DTUTMO_REQUIRE_GPU=1 (gpu_gate.h).
#define NEED_DEVICE() DTUTMO_NEED_GPU()

struct Frame {
  PixelFormat f = PixelFormat::RGBF32;
  int w = 0, h = 0;
  std::vector<uint8_t> buf;
  Frame() = default;
  Frame(PixelFormat f_, int w_, int h_) : f(f_), w(w_), h(h_), buf(packed_size(f_, w_, h_), 0) {}
  FrameView view() { return packed_view(f, w, h, buf.data()); }
  const float* floats() const { return reinterpret_cast<const float*>(buf.data()); }
};

// A scene as linear RGBF32 in cd/m^2 (transfer Linear, input_scale 1), times `gain`.
Frame scene_linear(Scene s, int w, int h, double t, float gain = 1.0f, Primaries prim = Primaries::BT709) {
  Frame fr(PixelFormat::RGBF32, w, h);
  float* p = reinterpret_cast<float*>(fr.buf.data());
  render_scene(s, w, h, t, p, std::ptrdiff_t(w) * 3, prim);
  for (std::size_t i = 0; i < std::size_t(w) * h * 3; ++i) p[i] *= gain;
  return fr;
}

// The same scene PQ-encoded into a YUV format (BT.2020, limited range; P010 by default).
Frame scene_yuv(Scene s, int w, int h, double t, PixelFormat f = PixelFormat::P010_10LE) {
  Frame lin = scene_linear(s, w, h, t, 1.0f, Primaries::BT2020);
  std::vector<float> code(std::size_t(w) * h * 3);
  for (std::size_t i = 0; i < code.size(); ++i) code[i] = pq_inv_eotf(lin.floats()[i]);
  Frame fr(f, w, h);
  SignalDesc sig;
  pack_rows(code.data(), std::ptrdiff_t(w) * 3, fr.view(), sig, 0, h, false);
  return fr;
}
Frame scene_p010(Scene s, int w, int h, double t) { return scene_yuv(s, w, h, t); }

StreamConfig linear_in(int w, int h, PixelFormat out_fmt, Transfer out_tf) {
  StreamConfig c;
  c.width = w;
  c.height = h;
  c.in_format = PixelFormat::RGBF32;
  c.in.transfer = Transfer::Linear;
  c.in.primaries = Primaries::BT709;
  c.out_format = out_fmt;
  c.out.transfer = out_tf;
  c.out.primaries = Primaries::BT709;
  c.out.matrix = YuvMatrix::BT709;
  return c;
}

Params params(Profile prof, Precision prec) {
  Params p = params_for_profile(prof);
  p.precision = prec;
  p.input_scale = 1.0f;
  // the CUDA engine renders colour per pixel: the CPU engine too (colour-sampling auto makes
  // it once per 2x2 block of a 4:2:0 output, a deliberate difference; docs/DESIGN.md)
  p.colour_sampling = ColourSampling::Full;
  return p;
}

struct Pair {
  std::unique_ptr<Engine> cpu, gpu;
};
Pair make_pair(const StreamConfig& cfg, const Params& p) {
  Pair r;
  r.cpu = create_cpu_engine(2);
  // the same math on both sides: the CPU's La lookup shortcut (bilinear weights where the
  // corners agree within its bound; not in the CUDA lookup) off, its bound tested on its
  // own (test_engine LookupShortcutStaysWithinACodeOfTheFullLookup)
  dynamic_cast<cpu::CpuEngine&>(*r.cpu).set_lookup_shortcut(false);
  std::string err;
  r.gpu = create_cuda_engine(0, &err);
  EXPECT_NE(r.gpu, nullptr) << err;
  if (!r.gpu) return r;
  EXPECT_TRUE(r.cpu->set_params(p, &err)) << err;
  EXPECT_TRUE(r.gpu->set_params(p, &err)) << err;
  EXPECT_TRUE(r.cpu->configure(cfg, &err)) << err;
  EXPECT_TRUE(r.gpu->configure(cfg, &err)) << err;
  return r;
}

// Both engines on one frame; outputs returned.
void step(Pair& e, Frame& in, Frame& out_cpu, Frame& out_gpu, double t) {
  std::string err;
  ASSERT_TRUE(e.cpu->process(in.view(), out_cpu.view(), t, &err)) << err;
  ASSERT_TRUE(e.gpu->process(in.view(), out_gpu.view(), t, &err)) << err;
}

void expect_float_close(const Frame& a, const Frame& b, float rel, float abs_floor, const std::string& what) {
  const std::size_t n = std::size_t(a.w) * a.h * 3;
  std::size_t bad = 0;
  float worst = 0.0f;
  std::size_t worst_i = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float x = a.floats()[i], y = b.floats()[i];
    ASSERT_TRUE(std::isfinite(y)) << what << ": non-finite CUDA sample " << i;
    const float d = std::fabs(x - y), lim = rel * std::fabs(x) + abs_floor;
    if (d > lim) ++bad;
    if (d / (std::fabs(x) + abs_floor) > worst) {
      worst = d / (std::fabs(x) + abs_floor);
      worst_i = i;
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << n << " samples beyond " << rel
                     << " relative; worst " << worst << " at " << worst_i << " (cpu "
                     << a.floats()[worst_i] << ", cuda " << b.floats()[worst_i] << ")";
}

// 16-bit containers (P010: 10 bits in the high bits): code values more than `codes` apart.
void expect_u16_codes_close(const Frame& a, const Frame& b, int shift, int codes, double share,
                            const std::string& what) {
  ASSERT_EQ(a.buf.size(), b.buf.size());
  std::size_t bad = 0, n = a.buf.size() / 2;
  int worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int x = (a.buf[2 * i] | (a.buf[2 * i + 1] << 8)) >> shift;
    const int y = (b.buf[2 * i] | (b.buf[2 * i + 1] << 8)) >> shift;
    worst = std::max(worst, std::abs(x - y));
    if (std::abs(x - y) > codes) ++bad;
  }
  EXPECT_LE(double(bad), (1.0 - share) * double(n))
      << what << ": " << bad << " of " << n << " codes more than " << codes << " apart (worst " << worst << ")";
}

// 8-bit (or any byte) output: the share of bytes more than `codes` apart.
void expect_codes_close(const Frame& a, const Frame& b, int codes, double share, const std::string& what) {
  ASSERT_EQ(a.buf.size(), b.buf.size());
  std::size_t bad = 0;
  int worst = 0;
  for (std::size_t i = 0; i < a.buf.size(); ++i) {
    const int d = std::abs(int(a.buf[i]) - int(b.buf[i]));
    worst = std::max(worst, d);
    if (d > codes) ++bad;
  }
  EXPECT_LE(double(bad), (1.0 - share) * double(a.buf.size()))
      << what << ": " << bad << " of " << a.buf.size() << " bytes more than " << codes
      << " codes apart (worst " << worst << ")";
}

const int kSizes[][2] = {{7, 3}, {64, 36}, {127, 73}, {320, 181}};
const Scene kScenes[] = {Scene::Daylight, Scene::Interior, Scene::Night, Scene::ColoredLights};

void fp32_linear_case(Profile prof) {
  for (const auto& sz : kSizes)
    for (Scene s : kScenes) {
      const int w = sz[0], h = sz[1];
      const std::string what = std::string(profile_name(prof)) + " " + scene_name(s) + " " +
                               std::to_string(w) + "x" + std::to_string(h);
      SCOPED_TRACE(what);
      Pair e = make_pair(linear_in(w, h, PixelFormat::RGBF32, Transfer::Linear), params(prof, Precision::FP32));
      ASSERT_NE(e.gpu, nullptr);
      Frame in = scene_linear(s, w, h, 0.0);
      Frame oc(PixelFormat::RGBF32, w, h), og(PixelFormat::RGBF32, w, h);
      for (int f = 0; f < 3; ++f) {
        step(e, in, oc, og, f / 30.0);
        expect_float_close(oc, og, 1e-3f, 1e-5f, what + " frame " + std::to_string(f));
      }
    }
}

void eight_bit_case(Profile prof) {
  for (const auto& sz : kSizes)
    for (Scene s : kScenes) {
      const int w = sz[0], h = sz[1];
      const std::string what = std::string(profile_name(prof)) + " " + scene_name(s) + " " +
                               std::to_string(w) + "x" + std::to_string(h);
      SCOPED_TRACE(what);
      Pair e = make_pair(linear_in(w, h, PixelFormat::RGBA, Transfer::SRGB), params(prof, Precision::FP16));
      ASSERT_NE(e.gpu, nullptr);
      Frame in = scene_linear(s, w, h, 0.0);
      Frame oc(PixelFormat::RGBA, w, h), og(PixelFormat::RGBA, w, h);
      for (int f = 0; f < 2; ++f) {
        step(e, in, oc, og, f / 30.0);
        expect_codes_close(oc, og, 1, 0.999, what);
      }
    }
}

}  // namespace

TEST(CudaParity, FastFp32Linear) {
  NEED_DEVICE();
  fp32_linear_case(Profile::Fast);
}

TEST(CudaParity, BalancedFp32Linear) {
  NEED_DEVICE();
  fp32_linear_case(Profile::Balanced);
}

TEST(CudaParity, FastFp16EightBit) {
  NEED_DEVICE();
  eight_bit_case(Profile::Fast);
}

TEST(CudaParity, BalancedFp16EightBit) {
  NEED_DEVICE();
  eight_bit_case(Profile::Balanced);
}

// Letterbox and pillarbox bars (the picture area: the adaptation cells' rows and columns,
// or with optics the glare grid's, model.h picture_area), a black frame and white titles
// on black (the visible shares, model.h frame_targets), fast and balanced, FP32: the CUDA
// engine as the CPU's.
TEST(CudaParity, BarsAndBlackFrames) {
  NEED_DEVICE();
  const int w = 160, h = 90;
  for (Profile prof : {Profile::Fast, Profile::Balanced})
    for (int k = 0; k < 4; ++k) {
      const std::string what = std::string(profile_name(prof)) + " case " + std::to_string(k);
      SCOPED_TRACE(what);
      Frame in = scene_linear(k == 1 ? Scene::ColoredLights : Scene::Daylight, w, h, 0.0);
      float* p = reinterpret_cast<float*>(in.buf.data());
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const bool bar = k == 0 ? (y < 13 || y >= h - 13)          // letterbox
                           : k == 1 ? (x < 21 || x >= w - 21)        // pillarbox
                           : k == 2 ? true                           // black
                                    : !(y >= 40 && y < 48 && x >= 30 && x < 130);  // titles
          for (int c = 0; c < 3; ++c)
            if (bar) p[(size_t(y) * w + x) * 3 + c] = (x + y) % 3 ? 0.0f : 5e-5f;
            else if (k == 3) p[(size_t(y) * w + x) * 3 + c] = 300.0f;
        }
      Pair e = make_pair(linear_in(w, h, PixelFormat::RGBF32, Transfer::Linear), params(prof, Precision::FP32));
      ASSERT_NE(e.gpu, nullptr);
      Frame oc(PixelFormat::RGBF32, w, h), og(PixelFormat::RGBF32, w, h);
      for (int f = 0; f < 3; ++f) {
        step(e, in, oc, og, f / 30.0);
        expect_float_close(oc, og, 1e-3f, 1e-5f, what + " frame " + std::to_string(f));
      }
    }
}

// Every display mode and output transfer once (FP32, encoded floats).
TEST(CudaParity, FastModesAndTransfers) {
  NEED_DEVICE();
  const int w = 96, h = 54;
  const Transfer tfs[] = {Transfer::SRGB, Transfer::BT1886, Transfer::PQ, Transfer::HLG};
  const DisplayMode modes[] = {DisplayMode::Whiteboard, DisplayMode::FullInverse, DisplayMode::Hybrid};
  for (Transfer tf : tfs)
    for (DisplayMode m : modes) {
      SCOPED_TRACE(int(tf) * 10 + int(m));
      Params p = params(Profile::Fast, Precision::FP32);
      p.display_mode = m;
      p.target = tf == Transfer::PQ ? Target::PQ : tf == Transfer::HLG ? Target::HLG : Target::SDR;
      if (p.target != Target::SDR) p.display_peak = 1000.0f;
      StreamConfig c = linear_in(w, h, PixelFormat::RGBF32, tf);
      c.out.primaries = Primaries::BT2020;
      Pair e = make_pair(c, p);
      ASSERT_NE(e.gpu, nullptr);
      Frame in = scene_linear(Scene::ColoredLights, w, h, 0.0);
      Frame oc(PixelFormat::RGBF32, w, h), og(PixelFormat::RGBF32, w, h);
      step(e, in, oc, og, 0.0);
      // encoded values: 1e-3 relative of the linear value is about 5e-4 in code value
      expect_float_close(oc, og, 1e-3f, 5e-4f, "encoded");
    }
}

TEST(CudaParity, YuvInAndOut) {
  NEED_DEVICE();
  const PixelFormat outs[] = {PixelFormat::NV12, PixelFormat::I420, PixelFormat::P010_10LE};
  for (const auto& sz : kSizes)
    for (PixelFormat of : outs)
      for (Profile prof : {Profile::Fast, Profile::Balanced}) {
        const int w = sz[0], h = sz[1];
        SCOPED_TRACE(std::string(format_info(of).name) + " " + profile_name(prof) + " " + std::to_string(w) +
                     "x" + std::to_string(h));
        StreamConfig c;
        c.width = w;
        c.height = h;
        c.in_format = PixelFormat::P010_10LE;
        c.in.transfer = Transfer::PQ;
        c.in.primaries = Primaries::BT2020;
        c.in.matrix = YuvMatrix::BT2020NC;
        c.out_format = of;
        c.out.transfer = of == PixelFormat::P010_10LE ? Transfer::PQ : Transfer::BT1886;
        c.out.primaries = of == PixelFormat::P010_10LE ? Primaries::BT2020 : Primaries::BT709;
        c.out.matrix = of == PixelFormat::P010_10LE ? YuvMatrix::BT2020NC : YuvMatrix::BT709;
        Params p = params_for_profile(prof);
        p.colour_sampling = ColourSampling::Full;  // per pixel, as the CUDA engine
        if (of == PixelFormat::P010_10LE) {
          p.target = Target::PQ;
          p.display_peak = 1000.0f;
        }
        Pair e = make_pair(c, p);
        ASSERT_NE(e.gpu, nullptr);
        Frame in = scene_p010(Scene::Interior, w, h, 0.0);
        Frame oc(of, w, h), og(of, w, h);
        step(e, in, oc, og, 0.0);
        if (of == PixelFormat::P010_10LE)
          expect_u16_codes_close(oc, og, 6, 1, 0.999, "yuv");
        else
          expect_codes_close(oc, og, 1, 0.999, "yuv");
      }
}

// Step of scene luminance x100 after 1 s: the statistics follow the same curve.
TEST(CudaParity, TemporalStepResponse) {
  NEED_DEVICE();
  const int w = 96, h = 54;
  for (AdaptationMode mode : {AdaptationMode::Natural, AdaptationMode::Broadcast}) {
    Params p = params(Profile::Fast, Precision::FP32);
    p.adaptation = mode;
    Pair e = make_pair(linear_in(w, h, PixelFormat::RGBF32, Transfer::Linear), p);
    ASSERT_NE(e.gpu, nullptr);
    Frame lo = scene_linear(Scene::Interior, w, h, 0.0, 1.0f);
    Frame hi = scene_linear(Scene::Interior, w, h, 0.0, 100.0f);
    Frame oc(PixelFormat::RGBF32, w, h), og(PixelFormat::RGBF32, w, h);
    int t63_cpu = -1, t63_gpu = -1;
    float la0 = 0, la_end_c = 0;
    std::vector<float> la_c, la_g;
    for (int f = 0; f < 120; ++f) {
      Frame& in = f < 30 ? lo : hi;
      step(e, in, oc, og, f / 30.0);
      const EngineStats sc = e.cpu->stats(), sg = e.gpu->stats();
      SCOPED_TRACE(f);
      EXPECT_NEAR(sg.adaptation_nits, sc.adaptation_nits, 1e-3f * sc.adaptation_nits);
      EXPECT_NEAR(sg.pupil_mm, sc.pupil_mm, 1e-3f * sc.pupil_mm);
      EXPECT_NEAR(sg.response_low, sc.response_low, 2e-3f);
      EXPECT_NEAR(sg.response_high, sc.response_high, 2e-3f);
      EXPECT_NEAR(sg.display_adapt_nits, sc.display_adapt_nits, 1e-3f * sc.display_adapt_nits);
      EXPECT_EQ(sg.cut_detected, sc.cut_detected);
      EXPECT_EQ(sg.frames, sc.frames);
      la_c.push_back(std::log(sc.adaptation_nits));
      la_g.push_back(std::log(sg.adaptation_nits));
      if (f == 29) la0 = sc.adaptation_nits;
      if (f == 119) la_end_c = sc.adaptation_nits;
    }
    const float target = std::log(la0) + 0.632f * (std::log(la_end_c) - std::log(la0));
    for (int f = 30; f < 120; ++f) {
      if (t63_cpu < 0 && la_c[f] >= target) t63_cpu = f;
      if (t63_gpu < 0 && la_g[f] >= target) t63_gpu = f;
    }
    EXPECT_EQ(t63_cpu, t63_gpu) << "63% point (frames)";
  }
}

// A static scene converges to bit-identical CUDA output frame after frame.
TEST(CudaParity, StaticSceneConverges) {
  NEED_DEVICE();
  const int w = 64, h = 36;
  for (Profile prof : {Profile::Fast, Profile::Balanced}) {
    std::string err;
    auto g = create_cuda_engine(0, &err);
    ASSERT_NE(g, nullptr) << err;
    ASSERT_TRUE(g->set_params(params(prof, Precision::FP16), &err)) << err;
    ASSERT_TRUE(g->configure(linear_in(w, h, PixelFormat::RGBA, Transfer::SRGB), &err)) << err;
    Frame in = scene_linear(Scene::Daylight, w, h, 0.0);
    Frame a(PixelFormat::RGBA, w, h), b(PixelFormat::RGBA, w, h);
    for (int f = 0; f < 300; ++f) ASSERT_TRUE(g->process(in.view(), a.view(), f / 30.0, &err)) << err;
    ASSERT_TRUE(g->process(in.view(), b.view(), 300 / 30.0, &err)) << err;
    EXPECT_EQ(0, std::memcmp(a.buf.data(), b.buf.data(), a.buf.size())) << profile_name(prof);
  }
}

// Device frames (the zero-copy path), process_async and the caller's stream give the
// same bytes as host frames.
TEST(CudaParity, DeviceViewsAndStreams) {
  NEED_DEVICE();
  const int w = 127, h = 73;
  const StreamConfig c = linear_in(w, h, PixelFormat::NV12, Transfer::BT1886);
  std::string err;
  auto a = create_cuda_engine(0, &err);
  auto b = create_cuda_engine(0, &err);
  ASSERT_NE(a, nullptr) << err;
  ASSERT_NE(b, nullptr) << err;
  ASSERT_NE(a->cuda_stream(), nullptr);
  ASSERT_TRUE(a->configure(c, &err)) << err;
  ASSERT_TRUE(b->configure(c, &err)) << err;
  cudaStream_t user = nullptr;
  ASSERT_EQ(cudaStreamCreate(&user), cudaSuccess);
  ASSERT_TRUE(b->set_cuda_stream(user, &err)) << err;
  EXPECT_EQ(b->cuda_stream(), static_cast<void*>(user));
  Frame in = scene_linear(Scene::Interior, w, h, 0.0);
  Frame ref(PixelFormat::NV12, w, h), got(PixelFormat::NV12, w, h);
  uint8_t *din = nullptr, *dout = nullptr;
  const std::size_t in_bytes = std::size_t(w * 12 + 64) * h;
  ASSERT_EQ(cudaMalloc(&din, in_bytes), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dout, got.buf.size() + 4096), cudaSuccess);
  // padded strides on the device side
  FrameView vin = packed_view(PixelFormat::RGBF32, w, h, din);
  vin.stride[0] += 64;
  ASSERT_EQ(cudaMemcpy2D(din, vin.stride[0], in.buf.data(), w * 12, w * 12, h, cudaMemcpyHostToDevice),
            cudaSuccess);
  vin.device_memory = true;
  FrameView vout = packed_view(PixelFormat::NV12, w, h, dout);
  vout.device_memory = true;
  for (int f = 0; f < 3; ++f) {
    ASSERT_TRUE(a->process(in.view(), ref.view(), f / 30.0, &err)) << err;
    ASSERT_TRUE(b->process_async(vin, vout, f / 30.0, &err)) << err;
    ASSERT_EQ(cudaStreamSynchronize(user), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(got.buf.data(), dout, got.buf.size(), cudaMemcpyDeviceToHost), cudaSuccess);
    EXPECT_EQ(0, std::memcmp(ref.buf.data(), got.buf.data(), got.buf.size())) << "frame " << f;
    EXPECT_EQ(b->stats().frames, f + 1);
  }
  ASSERT_TRUE(b->set_cuda_stream(nullptr, &err)) << err;
  b.reset();
  cudaStreamDestroy(user);
  cudaFree(din);
  cudaFree(dout);
  // a device view handed to the CPU engine is refused
  auto cpu = create_cpu_engine(1);
  ASSERT_TRUE(cpu->configure(c, &err));
  EXPECT_FALSE(cpu->process(vin, vout, 0.0, &err));
}

// NaN, Inf, negatives, half max and zeros: finite output, the same bad-sample count.
TEST(CudaParity, BadSamples) {
  NEED_DEVICE();
  const int w = 33, h = 17;
  Pair e = make_pair(linear_in(w, h, PixelFormat::RGBF32, Transfer::Linear), params(Profile::Balanced, Precision::FP16));
  ASSERT_NE(e.gpu, nullptr);
  Frame in = scene_linear(Scene::Night, w, h, 0.0);
  float* p = reinterpret_cast<float*>(in.buf.data());
  p[0] = NAN;
  p[4] = INFINITY;
  p[8] = -5.0f;
  p[30] = 65504.0f;
  p[31] = 1e30f;
  for (int i = 100; i < 160; ++i) p[i] = 0.0f;
  Frame oc(PixelFormat::RGBF32, w, h), og(PixelFormat::RGBF32, w, h);
  step(e, in, oc, og, 0.0);
  for (std::size_t i = 0; i < std::size_t(w) * h * 3; ++i) ASSERT_TRUE(std::isfinite(og.floats()[i])) << i;
  EXPECT_EQ(e.gpu->stats().bad_samples, e.cpu->stats().bad_samples);
  EXPECT_EQ(e.gpu->stats().bad_samples, 3);
  // zeros everywhere and a 1x1 frame
  for (auto& v : in.buf) v = 0;
  step(e, in, oc, og, 1 / 30.0);
  for (std::size_t i = 0; i < std::size_t(w) * h * 3; ++i) ASSERT_TRUE(std::isfinite(og.floats()[i])) << i;
  Pair one = make_pair(linear_in(1, 1, PixelFormat::RGBA, Transfer::SRGB), params(Profile::Balanced, Precision::FP16));
  ASSERT_NE(one.gpu, nullptr);
  Frame i1 = scene_linear(Scene::Daylight, 1, 1, 0.0);
  Frame c1(PixelFormat::RGBA, 1, 1), g1(PixelFormat::RGBA, 1, 1);
  step(one, i1, c1, g1, 0.0);
  expect_codes_close(c1, g1, 1, 1.0, "1x1");
}

// Reset and scene cuts (broadcast mode) act on the device state as on the CPU's.
TEST(CudaParity, ResetAndCuts) {
  NEED_DEVICE();
  const int w = 80, h = 45;
  Params p = params(Profile::Fast, Precision::FP32);
  p.adaptation = AdaptationMode::Broadcast;
  Pair e = make_pair(linear_in(w, h, PixelFormat::RGBF32, Transfer::Linear), p);
  ASSERT_NE(e.gpu, nullptr);
  Frame oc(PixelFormat::RGBF32, w, h), og(PixelFormat::RGBF32, w, h);
  for (int f = 0; f < 30; ++f) {
    const double t = 3.5 + f / 30.0;  // crosses the animated scene's cut at 4 s
    Frame in = scene_linear(Scene::Animated, w, h, t);
    step(e, in, oc, og, t);
    EXPECT_EQ(e.gpu->stats().cut_detected, e.cpu->stats().cut_detected) << f;
  }
  e.cpu->reset();
  e.gpu->reset();
  Frame in = scene_linear(Scene::Daylight, w, h, 0.0);
  step(e, in, oc, og, 5.0);
  EXPECT_EQ(e.gpu->stats().frames, 1);
  expect_float_close(oc, og, 1e-3f, 1e-5f, "after reset");
}

// Balanced (optics on), broadcast: the first night frame after a day shot is a fresh
// engine's first night frame (cut_frame_check.h): the CUDA engine makes the cut frame
// again with the glare state snapped, as the CPU engine does (model.h glare_cut_redo;
// test_cuda_model_host.cpp runs the same check on the CPU engine).
TEST(CudaParity, BalancedCutFrameMatchesAFreshEngine) {
  NEED_DEVICE();
  for (Precision prec : {Precision::FP16, Precision::FP32}) {
    const dtutmo_test::CutFrameDiff r = dtutmo_test::cut_frame_against_fresh([]() -> std::unique_ptr<Engine> {
      std::string err;
      auto g = create_cuda_engine(0, &err);
      EXPECT_NE(g, nullptr) << err;
      return g;
    }, prec);
    dtutmo_test::expect_cut_frame_as_fresh(r, prec == Precision::FP16 ? "cuda fp16" : "cuda fp32");
  }
}

TEST(CudaParity, RejectsMismatchedFrames) {
  NEED_DEVICE();
  std::string err;
  auto g = create_cuda_engine(0, &err);
  ASSERT_NE(g, nullptr) << err;
  Frame in = scene_linear(Scene::Daylight, 16, 8, 0.0);
  Frame out(PixelFormat::RGBA, 16, 8);
  EXPECT_FALSE(g->process(in.view(), out.view(), 0.0, &err));  // before configure
  ASSERT_TRUE(g->configure(linear_in(16, 8, PixelFormat::RGBA, Transfer::SRGB), &err)) << err;
  Frame wrong(PixelFormat::RGBA, 15, 8);
  EXPECT_FALSE(g->process(in.view(), wrong.view(), 0.0, &err));
  EXPECT_FALSE(err.empty());
  StreamConfig bad = linear_in(16, 8, PixelFormat::RGBA, Transfer::Linear);
  EXPECT_FALSE(g->configure(bad, &err));
}

// ---------------------------------------------------------------------------------------
// Frames in pitched device memory as GStreamer's CUDA elements hand them over.
//
// GstCudaAllocator (cudaupload, every GstCudaBufferPool, nvh265dec's output in 1.22): one
// cuMemAllocPitch block, every plane with the luma pitch (also the half-width chroma
// planes), chroma after pitch x height bytes; 4:2:0 three-plane formats put V
// pitch x height / 2 bytes after U (1.22: at odd heights V starts half a pitch into U's
// last row, which the pitch, at least two chroma rows wide, leaves free). A decoder
// surface (NVDEC, mapped without a copy): luma and the interleaved chroma plane with the
// decoder's pitch, chroma after the coded height (16-aligned), not after the displayed
// one. Padding is filled with garbage on input and poisoned on output: reading it or
// writing it shows.
enum class Layout { GstAllocator, DecoderSurface };

struct PitchedFrame {
  PixelFormat f = PixelFormat::P010_10LE;
  int w = 0, h = 0, planes = 0;
  std::size_t pitch = 0, bytes = 0, off[4] = {};
  uint8_t* dev = nullptr;
  std::vector<uint8_t> host;  // the whole block, padding included
  PitchedFrame(PixelFormat f_, int w_, int h_, Layout layout, uint8_t fill) : f(f_), w(w_), h(h_) {
    const FormatInfo& fi = format_info(f);
    planes = fi.planes;
    const std::size_t row0 = std::size_t(min_stride(f, 0, w));
    const int h2 = (h + 1) & ~1;
    std::size_t rows = 0;
    if (layout == Layout::DecoderSurface) {
      // decoder pitch: 256-aligned (a different alignment from cuMemAllocPitch's)
      pitch = (row0 + 255) & ~std::size_t(255);
      const std::size_t coded = std::size_t((h + 15) & ~15);
      off[1] = pitch * coded;
      rows = coded + coded / 2;
      EXPECT_EQ(planes, 2) << "decoder surfaces are semi-planar";
    } else {
      // as gst_cuda_allocator_alloc: width GST_ROUND_UP_4(row bytes), rows per format
      rows = planes == 3 ? std::size_t(h2) * 2 : planes == 2 ? std::size_t(h2) + h2 / 2 : std::size_t(h);
      void* probe = nullptr;
      EXPECT_EQ(cudaMallocPitch(&probe, &pitch, (row0 + 3) & ~std::size_t(3), rows), cudaSuccess);
      cudaFree(probe);
      if (planes > 1) off[1] = pitch * std::size_t(h);
      if (planes > 2) off[2] = off[1] + pitch * std::size_t(h) / 2;
    }
    bytes = pitch * rows;
    host.assign(bytes, fill);
    EXPECT_EQ(cudaMalloc(&dev, bytes), cudaSuccess);
  }
  ~PitchedFrame() { cudaFree(dev); }
  PitchedFrame(const PitchedFrame&) = delete;
  PitchedFrame& operator=(const PitchedFrame&) = delete;

  FrameView view() const {
    FrameView v;
    v.format = f;
    v.width = w;
    v.height = h;
    for (int p = 0; p < planes; ++p) {
      v.data[p] = dev + off[p];
      v.stride[p] = std::ptrdiff_t(pitch);
    }
    v.device_memory = true;
    return v;
  }
  // packed frame -> rows of the block (padding keeps its fill) -> device
  void upload(const Frame& packed) {
    const FrameView src = packed_view(f, w, h, const_cast<uint8_t*>(packed.buf.data()));
    for (int p = 0; p < planes; ++p)
      for (int y = 0; y < plane_height(f, p, h); ++y)
        std::memcpy(&host[off[p] + pitch * y], src.data[p] + src.stride[p] * y, std::size_t(src.stride[p]));
    ASSERT_EQ(cudaMemcpy(dev, host.data(), bytes, cudaMemcpyHostToDevice), cudaSuccess);
  }
  // device -> block -> packed frame; every byte outside the planes' rows still `fill`
  void download(Frame* packed, uint8_t fill, const std::string& what) {
    ASSERT_EQ(cudaMemcpy(host.data(), dev, bytes, cudaMemcpyDeviceToHost), cudaSuccess);
    std::vector<uint8_t> inside(bytes, 0);
    const FrameView dst = packed->view();
    for (int p = 0; p < planes; ++p)
      for (int y = 0; y < plane_height(f, p, h); ++y) {
        const std::size_t at = off[p] + pitch * y, n = std::size_t(dst.stride[p]);
        ASSERT_LE(at + n, bytes);
        std::memcpy(dst.data[p] + dst.stride[p] * y, &host[at], n);
        std::fill(inside.begin() + at, inside.begin() + at + n, 1);
      }
    std::size_t written = 0, first = 0;
    for (std::size_t i = 0; i < bytes; ++i)
      if (!inside[i] && host[i] != fill && written++ == 0) first = i;
    EXPECT_EQ(written, 0u) << what << ": " << written << " bytes written outside the planes' rows (pitch "
                           << pitch << "), the first at byte " << first;
  }
};

// Per row of every plane: the mean code difference. A wrong pitch, plane offset or chroma
// row shows as a whole row off by many codes even when it is a tiny share of a 4K frame
// (one chroma row of 2160 lines is 0.05% of the samples), so no row may average more than
// one code apart; float rounding (fast math, reduction order, FP16 planes) moves single
// samples by a code now and then and row means by hundredths.
void expect_rows_close(const Frame& a, const Frame& b, const std::string& what) {
  const FormatInfo& fi = format_info(a.f);
  const int bytes_per_code = fi.bits > 8 ? 2 : 1;
  const int shift = a.f == PixelFormat::P010_10LE ? 6 : 0;
  const FrameView va = packed_view(a.f, a.w, a.h, const_cast<uint8_t*>(a.buf.data()));
  const FrameView vb = packed_view(b.f, b.w, b.h, const_cast<uint8_t*>(b.buf.data()));
  int bad_rows = 0;
  std::string first;
  for (int p = 0; p < fi.planes; ++p)
    for (int y = 0; y < plane_height(a.f, p, a.h); ++y) {
      const uint8_t* ra = va.data[p] + va.stride[p] * y;
      const uint8_t* rb = vb.data[p] + vb.stride[p] * y;
      const int n = int(va.stride[p]) / bytes_per_code;
      double sum = 0.0;
      for (int i = 0; i < n; ++i) {
        const int x = bytes_per_code == 2 ? (ra[2 * i] | (ra[2 * i + 1] << 8)) >> shift : ra[i];
        const int z = bytes_per_code == 2 ? (rb[2 * i] | (rb[2 * i + 1] << 8)) >> shift : rb[i];
        sum += std::abs(x - z);
      }
      if (sum > double(n) && bad_rows++ == 0)
        first = "plane " + std::to_string(p) + " row " + std::to_string(y) + " mean " + std::to_string(sum / n);
    }
  EXPECT_EQ(bad_rows, 0) << what << ": rows more than one code apart on average, the first: " << first;
}

// P010 (GstAllocator and decoder-surface layouts), I420_10LE, P012 and I420_12LE
// (GstAllocator; the element's CUDA sink caps carry all four) device input,
// NV12 and P010 device output in GstAllocator layout, at 4K and at odd sizes, against the
// CPU engine on the same frames packed in host memory. Tolerances: at most one code on
// 99.9% of the samples (the engines differ by float rounding: fast-math intrinsics, the
// order of the cell-sum reductions, FP16 intermediate planes in balanced; a rounding
// difference moves a sample across a code boundary, not further), and every row within one
// code on average (expect_rows_close).
TEST(CudaParity, PitchedDeviceFramesAsGStreamerLaysThemOut) {
  NEED_DEVICE();
  const int sizes[][2] = {{3840, 2160}, {1283, 721}, {127, 73}, {7, 5}};
  struct In {
    PixelFormat f;
    Layout layout;
    const char* name;
  };
  const In ins[] = {{PixelFormat::P010_10LE, Layout::GstAllocator, "P010 (cudaupload)"},
                    {PixelFormat::P010_10LE, Layout::DecoderSurface, "P010 (decoder surface)"},
                    {PixelFormat::I420_10LE, Layout::GstAllocator, "I420_10LE (cudaupload)"},
                    {PixelFormat::P012_LE, Layout::GstAllocator, "P012 (GstCudaAllocator)"},
                    {PixelFormat::I420_12LE, Layout::GstAllocator, "I420_12LE (GstCudaAllocator)"}};
  for (const auto& sz : sizes)
    for (PixelFormat of : {PixelFormat::NV12, PixelFormat::P010_10LE})
      for (Profile prof : {Profile::Fast, Profile::Balanced}) {
        const int w = sz[0], h = sz[1];
        const bool hdr = of == PixelFormat::P010_10LE;
        Params p = params_for_profile(prof);
        p.colour_sampling = ColourSampling::Full;  // per pixel, as the CUDA engine
        p.model_resolution = ModelResolution::Full;  // the CPU's block model (half, quarter) is its own trade
        if (hdr) {
          p.target = Target::PQ;
          p.display_peak = 1000.0f;
        }
        for (PixelFormat inf : {PixelFormat::P010_10LE, PixelFormat::I420_10LE, PixelFormat::P012_LE,
                                PixelFormat::I420_12LE}) {
          StreamConfig c;
          c.width = w;
          c.height = h;
          c.in_format = inf;
          c.in.transfer = Transfer::PQ;
          c.in.primaries = Primaries::BT2020;
          c.in.matrix = YuvMatrix::BT2020NC;
          c.out_format = of;
          c.out.transfer = hdr ? Transfer::PQ : Transfer::BT1886;
          c.out.primaries = hdr ? Primaries::BT2020 : Primaries::BT709;
          c.out.matrix = hdr ? YuvMatrix::BT2020NC : YuvMatrix::BT709;
          Frame in = scene_yuv(Scene::ColoredLights, w, h, 0.0, inf);
          Frame ref(of, w, h);
          std::string err;
          auto cpu = create_cpu_engine(0);
          ASSERT_TRUE(cpu->set_params(p, &err)) << err;
          ASSERT_TRUE(cpu->configure(c, &err)) << err;
          ASSERT_TRUE(cpu->process(in.view(), ref.view(), 0.0, &err)) << err;
          for (const In& i : ins) {
            if (i.f != inf) continue;
            const std::string what = std::string(i.name) + " -> " + format_info(of).name + " (device), " +
                                     profile_name(prof) + ", " + std::to_string(w) + "x" + std::to_string(h);
            SCOPED_TRACE(what);
            auto gpu = create_cuda_engine(0, &err);
            ASSERT_NE(gpu, nullptr) << err;
            ASSERT_TRUE(gpu->set_params(p, &err)) << err;
            ASSERT_TRUE(gpu->configure(c, &err)) << err;
            PitchedFrame din(inf, w, h, i.layout, 0xff);  // padding: the largest code
            din.upload(in);
            const uint8_t kPoison = 0xa5;
            PitchedFrame dout(of, w, h, Layout::GstAllocator, kPoison);
            ASSERT_EQ(cudaMemset(dout.dev, kPoison, dout.bytes), cudaSuccess);
            ASSERT_TRUE(gpu->process(din.view(), dout.view(), 0.0, &err)) << err;
            Frame got(of, w, h);
            dout.download(&got, kPoison, what);
            if (hdr)
              expect_u16_codes_close(ref, got, 6, 1, 0.999, what);
            else
              expect_codes_close(ref, got, 1, 0.999, what);
            expect_rows_close(ref, got, what);
          }
        }
      }
}
