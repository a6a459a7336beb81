// The CUDA engine when the controllable optics properties animate (fov, observer-age,
// pigmentation, glare-cells, base-scale; a GstController may change them every frame):
// no cuFFT plan unless the glare grid changes, no buffer allocation per frame (cudaFree
// synchronises the whole device), and the output follows the new values: after a reset it
// equals a fresh engine's configured with the final ones. Skips without a GPU (gpu_gate.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "dtutmo/engine.h"
#include "dtutmo/frame.h"
#include "dtutmo/scenes.h"
#include "engine_cuda.h"
#include "gpu_gate.h"

using namespace dtutmo;

namespace {

constexpr int kW = 640, kH = 360;

StreamConfig linear_to_srgb() {
  StreamConfig c;
  c.width = kW;
  c.height = kH;
  c.in_format = PixelFormat::RGBF32;
  c.in.transfer = Transfer::Linear;
  c.in.primaries = Primaries::BT709;
  c.out_format = PixelFormat::RGBA;
  c.out.transfer = Transfer::SRGB;
  c.out.primaries = Primaries::BT709;
  return c;
}

Params start_params() {
  Params p = params_for_profile(Profile::Balanced);  // optics, base/detail, CSF on
  p.input_scale = 1.0f;
  return p;
}

std::unique_ptr<Engine> engine(const Params& p) {
  std::string err;
  std::unique_ptr<Engine> e = create_cuda_engine(0, &err);
  EXPECT_NE(e, nullptr) << err;
  if (!e) return e;
  EXPECT_TRUE(e->set_params(p, &err)) << err;
  EXPECT_TRUE(e->configure(linear_to_srgb(), &err)) << err;
  return e;
}

// Night street: lamps, so the glare veil and the OTF show in the picture.
std::vector<float> night() {
  std::vector<float> v(std::size_t(kW) * kH * 3);
  render_scene(Scene::Night, kW, kH, 0.0, v.data(), std::ptrdiff_t(kW) * 3, Primaries::BT709);
  return v;
}

std::vector<uint8_t> run(Engine* e, const std::vector<float>& in, double t) {
  std::vector<uint8_t> out(std::size_t(kW) * kH * 4);
  std::string err;
  const FrameView vin = packed_view(PixelFormat::RGBF32, kW, kH,
                                    reinterpret_cast<uint8_t*>(const_cast<float*>(in.data())));
  EXPECT_TRUE(e->process(vin, packed_view(PixelFormat::RGBA, kW, kH, out.data()), t, &err)) << err;
  return out;
}

// Bytes more than one code apart.
std::size_t codes_apart(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += std::abs(int(a[i]) - int(b[i])) > 1;
  return n;
}

}  // namespace

TEST(CudaPlans, AnimatedOpticsMakeNoPlansAndNoPerFrameAllocations) {
  DTUTMO_NEED_GPU();
  const std::vector<float> in = night();
  Params p = start_params();
  std::unique_ptr<Engine> e = engine(p);
  ASSERT_NE(e, nullptr);
  auto* ce = static_cast<cuda::CudaEngine*>(e.get());
  run(e.get(), in, 0.0);
  const int plans0 = ce->cufft_plans_made();
  const long long allocs0 = cuda::g_buffer_allocations.load();
  EXPECT_EQ(plans0, 3) << "glare: batched R2C, batched C2R, kernel R2C";

  // 60 frames, every controllable optics property changing every frame; glare-cells
  // alternates between two values that give the same grid at 640 pixels (3-pixel cells).
  std::string err;
  double t = 0.0;
  for (int f = 1; f <= 60; ++f) {
    const double ph = 2.0 * 3.14159265358979 * f / 60.0;  // ends at 0: fov 60, age 40
    p.fov_deg = float(60.0 + 20.0 * std::sin(ph));
    p.observer_age = float(40.0 + 30.0 * std::sin(ph));
    p.pigmentation = float(0.5 + 0.5 * std::sin(ph));
    p.base_scale = float(0.02 + 0.01 * std::sin(ph));
    p.glare_max_cells = f % 2 ? 255.0f : 256.0f;
    ASSERT_TRUE(e->set_params(p, &err)) << err;
    run(e.get(), in, t += 1.0 / 30.0);
  }
  EXPECT_EQ(ce->cufft_plans_made(), plans0) << "cuFFT re-planned for a kernel change";
  // base-scale 0.02 -> 0.01 makes the bilateral grid up to 4x larger: its two blocks grow
  // by half again at a time (DeviceBuffer::reserve), at most 4 times each; nothing else
  // allocates (the pooling's per-scale results follow fov's pyramid level, 60 +- 20
  // degrees here, in blocks reserved the same way: fov 60 starts at the finest levels the
  // animation reaches). 60 changed frames would be 60+ allocations if anything followed
  // the frame.
  EXPECT_LE(cuda::g_buffer_allocations.load() - allocs0, 8);
  const long long allocs1 = cuda::g_buffer_allocations.load();
  for (int f = 0; f < 10; ++f) run(e.get(), in, t += 1.0 / 30.0);
  EXPECT_EQ(cuda::g_buffer_allocations.load(), allocs1) << "steady frames allocated";

  // A new grid (fewer glare cells) is the one change that re-plans: once.
  p.glare_max_cells = 64.0f;
  ASSERT_TRUE(e->set_params(p, &err)) << err;
  for (int f = 0; f < 5; ++f) {
    p.fov_deg = 40.0f + f;
    ASSERT_TRUE(e->set_params(p, &err)) << err;
    run(e.get(), in, t += 1.0 / 30.0);
  }
  EXPECT_EQ(ce->cufft_plans_made(), plans0 + 3);

  // The animated engine, reset, against a fresh engine with the final parameters: the
  // same picture (one code at most, float atomics may sum in another order), and a clearly
  // different one from the starting parameters (the changes reached the kernels).
  e->reset();
  const std::vector<uint8_t> animated = run(e.get(), in, t += 1.0 / 30.0);
  std::unique_ptr<Engine> fresh = engine(p);
  ASSERT_NE(fresh, nullptr);
  const std::vector<uint8_t> want = run(fresh.get(), in, 0.0);
  EXPECT_LE(codes_apart(want, animated), want.size() / 1000) << "bytes more than one code from a fresh engine";
  std::unique_ptr<Engine> first = engine(start_params());
  ASSERT_NE(first, nullptr);
  const std::vector<uint8_t> before = run(first.get(), in, 0.0);
  EXPECT_GT(codes_apart(before, want), want.size() / 100)
      << "fov 44, age 40, glare-cells 64 look like the defaults (60, 24, 256): the test shows nothing";
}
