// The CUDA engine against the CPU engine (the reference), through the Engine interface,
// on procedural scenes at several sizes, odd ones included:
//   - FP32, display-linear output (RGBF32, transfer Linear): within 1e-3 relative;
//   - FP16 (the default), 8-bit outputs: within 1 code value on 99.9% of the samples;
//   - the temporal state: statistics frame by frame on a step of scene luminance;
//   - device frames, the caller's stream, bad samples, resets, scene cuts.
// Every test skips without a CUDA device.
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

using namespace dtutmo;

namespace {

#define NEED_DEVICE()                                              \
  do {                                                             \
    std::string why_;                                              \
    if (!cuda_engine_available(&why_)) GTEST_SKIP() << why_;       \
  } while (0)

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

// The same scene PQ-encoded into P010 (BT.2020, limited range).
Frame scene_p010(Scene s, int w, int h, double t) {
  Frame lin = scene_linear(s, w, h, t, 1.0f, Primaries::BT2020);
  std::vector<float> code(std::size_t(w) * h * 3);
  for (std::size_t i = 0; i < code.size(); ++i) code[i] = pq_inv_eotf(lin.floats()[i]);
  Frame fr(PixelFormat::P010_10LE, w, h);
  SignalDesc sig;
  pack_rows(code.data(), std::ptrdiff_t(w) * 3, fr.view(), sig, 0, h, false);
  return fr;
}

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
  return p;
}

struct Pair {
  std::unique_ptr<Engine> cpu, gpu;
};
Pair make_pair(const StreamConfig& cfg, const Params& p) {
  Pair r;
  r.cpu = create_cpu_engine(2);
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
