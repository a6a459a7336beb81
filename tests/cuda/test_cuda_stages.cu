// Stage by stage: the CUDA engine's spatial stages against the CPU engine's helpers they
// mirror (common/src/cpu_spatial.h, cpu_glare.h): Gaussian blur of a grid, 2x2 box
// downsample, bilinear upsample, multi-scale pooling on a pyramid (plain and edge-aware),
// the bilateral grid, and
// the reduced-grid glare convolution. Skips without a CUDA device (gpu_gate.h).
#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include "cpu_glare.h"
#include "cpu_spatial.h"
#include "gpu_gate.h"
#include "kernels.h"
#include "pixel.cuh"

using namespace dtutmo;
using namespace dtutmo::cuda;

namespace {

#define NEED_DEVICE() DTUTMO_NEED_GPU()  // gpu_gate.h

std::vector<float> random_grid(int w, int h, unsigned seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(std::size_t(w) * h);
  for (float& x : v) x = u(rng);
  return v;
}

// A device copy of a host vector, freed at scope exit.
struct Dev {
  float* p = nullptr;
  std::size_t n = 0;
  explicit Dev(std::size_t count) : n(count) { EXPECT_EQ(cudaMalloc(&p, std::max<std::size_t>(n, 1) * sizeof(float)), cudaSuccess); }
  explicit Dev(const std::vector<float>& v) : Dev(v.size()) {
    EXPECT_EQ(cudaMemcpy(p, v.data(), n * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~Dev() { cudaFree(p); }
  std::vector<float> get() const {
    std::vector<float> v(n);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(v.data(), p, n * sizeof(float), cudaMemcpyDeviceToHost), cudaSuccess);
    return v;
  }
};

void expect_close(const std::vector<float>& a, const std::vector<float>& b, float rel, float abs_tol,
                  const char* what) {
  ASSERT_EQ(a.size(), b.size());
  std::size_t bad = 0, worst_i = 0;
  float worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const float d = std::fabs(a[i] - b[i]);
    if (!(d <= rel * std::fabs(a[i]) + abs_tol)) ++bad;
    if (!(d <= worst)) {
      worst = d;
      worst_i = i;
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << a.size() << " beyond tolerance; worst |d| " << worst
                     << " at " << worst_i << " (cpu " << a[worst_i] << ", cuda " << b[worst_i] << ")";
}

const int kGrids[][2] = {{1, 1}, {3, 2}, {37, 23}, {60, 34}, {480, 270}};

}  // namespace

TEST(CudaStages, BlurGrid) {
  NEED_DEVICE();
  for (const auto& g : kGrids)
    for (float sigma : {0.04f, 0.7f, 1.0f, 2.5f, 6.0f}) {
      const int w = g[0], h = g[1];
      SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + " sigma " + std::to_string(sigma));
      std::vector<float> ref = random_grid(w, h, 3u + w, -10.0f, 10.0f), tmp(ref.size());
      Dev d(ref), dt(ref.size());
      blur_grid(ref.data(), w, h, sigma, tmp.data());
      ASSERT_EQ(launch_blur_grid(d.p, w, h, sigma, dt.p, 0), "");
      expect_close(ref, d.get(), 1e-5f, 1e-5f, "blur_grid");
    }
}

TEST(CudaStages, Down2AndUpsample) {
  NEED_DEVICE();
  for (const auto& g : kGrids) {
    const int w = g[0], h = g[1];
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    const std::vector<float> in = random_grid(w, h, 5u + h, 0.0f, 1.0f);
    const int W = (w + 1) / 2, H = (h + 1) / 2;
    std::vector<float> ref(std::size_t(W) * H);
    int ow, oh;
    down2(in.data(), w, h, ref.data(), &ow, &oh);
    Dev din(in), dout(ref.size());
    ASSERT_EQ(launch_down2(din.p, w, h, dout.p, 0), "");
    expect_close(ref, dout.get(), 1e-6f, 1e-7f, "down2");
    // upsample back to (w, h) and to an unrelated size
    for (const auto& dst : {std::pair<int, int>{w, h}, std::pair<int, int>{2 * w + 1, h + 3}}) {
      std::vector<float> up(std::size_t(dst.first) * dst.second);
      upsample_bilinear(ref.data(), W, H, up.data(), dst.first, dst.second);
      Dev dup(up.size());
      ASSERT_EQ(launch_upsample_accum(dout.p, W, H, dup.p, dst.first, dst.second, 1.0f, true, 0), "");
      // The source position (x + 0.5) * sw / dw - 0.5 rounds differently where nvcc fuses
      // the multiply and add: its weight moves by up to two ulps of the position (up to
      // max(W, H)), the value by that times the step between neighbours (at most 1 here).
      const float pos_ulps = 2.0f * float(std::max(W, H)) * FLT_EPSILON;
      expect_close(up, dup.get(), 1e-6f, 1e-6f + pos_ulps, "upsample_bilinear");
    }
  }
}

TEST(CudaStages, EdgeAwarePooling) {
  NEED_DEVICE();
  for (const auto& g : kGrids)
    for (float ppd : {8.0f, 32.0f, 64.0f, 128.0f}) {
      const int w = g[0], h = g[1];
      SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + " ppd " + std::to_string(ppd));
      // log luminance with a hard edge (a dark object against a bright sky)
      std::vector<float> in = random_grid(w, h, 13u + w, -1.0f, 1.0f);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) in[std::size_t(y) * w + x] += (x < w / 3 ? -4.0f : 9.0f);
      const float sig[4] = {0.5f * ppd / kCell, 1.0f * ppd / kCell, 2.0f * ppd / kCell, 4.0f * ppd / kCell};
      const float wts[4] = {1, 2, 4, 8};
      EdgePooler cpu;
      cpu.init(w, h, 2.0f, 1);
      cpu.begin(in.data(), sig, wts, 4);
      for (int j = 0; j < cpu.bins(); ++j) cpu.process_bin(j, 0);
      std::vector<float> ref(in.size());
      cpu.slice(0, h, ref.data());
      EdgePoolDev dev;
      ASSERT_EQ(dev.init(w, h, 2.0f), "");
      Dev din(in), dout(in.size());
      ASSERT_EQ(dev.pool(din.p, sig, wts, 4, dout.p, 0), "");
      expect_close(ref, dout.get(), 1e-5f, 1e-4f, "edge-aware pool");
    }
}

namespace {
__global__ void k_slice(const float* grid, BilateralDesc d, const float* logy, int w, int h, float* out) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;
  if (x >= w || y >= h) return;
  out[(size_t)y * w + x] = bgrid_slice(grid, d, (float)x, (float)y, logy[(size_t)y * w + x]);
}
}  // namespace

TEST(CudaStages, BilateralGrid) {
  NEED_DEVICE();
  const int sizes[][2] = {{1, 1}, {7, 3}, {97, 61}, {320, 181}};
  for (const auto& sz : sizes)
    for (float ss : {1.0f, 4.5f, 16.0f}) {
      const int w = sz[0], h = sz[1];
      SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + " ss " + std::to_string(ss));
      // smooth log-luminance with a few hard edges
      std::vector<float> ly(std::size_t(w) * h);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          ly[std::size_t(y) * w + x] = 3.0f * std::sin(0.05f * x) + 0.1f * y + (x > w / 2 ? 6.0f : 0.0f) +
                                       (((x * 7 + y * 3) % 11) - 5) * 0.05f;
      const float lo = std::log2(kMinNits), hi = std::log2(kMaxNits);
      BilateralGrid cpu;
      cpu.init(w, h, ss, 0.5f, lo, hi, 1);
      for (int y = 0; y < h; ++y) cpu.splat_row(0, y, ly.data() + std::size_t(y) * w, w);
      cpu.finish();
      std::vector<float> ref(ly.size());
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) ref[std::size_t(y) * w + x] = cpu.slice(float(x), float(y), ly[std::size_t(y) * w + x]);
      BilateralDev dev;
      ASSERT_EQ(dev.init(w, h, ss, 0.5f, lo, hi), "");
      Dev dly(ly), dout(ly.size());
      ASSERT_EQ(dev.build(dly.p, 0), "");
      k_slice<<<dim3((w + 63) / 64, h), 64>>>(dev.grid(), dev.desc(), dly.p, w, h, dout.p);
      ASSERT_EQ(cudaGetLastError(), cudaSuccess);
      expect_close(ref, dout.get(), 0.0f, 2e-4f, "bilateral base (log2 units)");
    }
}

// The glare veil against the CPU's, for two sets of optics parameters on one GlareDev:
// the second set refills the kernel spectrum with the plans of the first (no re-plan).
TEST(CudaStages, GlareVeil) {
  NEED_DEVICE();
  const int w = 200, h = 120;
  const int max_cells = 64;
  // a dark frame with two lamps
  std::vector<float> lin(std::size_t(w) * h * 3, 0.05f);
  for (int y = 30; y < 34; ++y)
    for (int x = 40; x < 44; ++x)
      for (int c = 0; c < 3; ++c) lin[(std::size_t(y) * w + x) * 3 + c] = 2e4f * (c + 1);
  for (int c = 0; c < 3; ++c) lin[(std::size_t(100) * w + 170) * 3 + c] = 5e4f;
  GlareDev dev;
  ASSERT_EQ(dev.init(w, h, max_cells), "");
  EXPECT_TRUE(dev.grid_matches(w, h, max_cells));
  EXPECT_FALSE(dev.grid_matches(w, h, max_cells / 2));
  const Vec3 wy = {0.2126f, 0.7152f, 0.0722f};
  const struct {
    float ppd, age, pig;
  } sets[] = {{w / 60.0f, 24.0f, 0.5f}, {w / 30.0f, 70.0f, 1.0f}};
  for (const auto& ps : sets) {
    SCOPED_TRACE(ps.age);
    const float ppd = ps.ppd;
    // CPU: pass1's glare block (cell means, glare cap, CpuGlare, log2, bilinear in log2, add)
    CpuGlare g;
    ASSERT_TRUE(g.init(w, h, ppd, max_cells, ps.age, ps.pig));
    const int f = g.cell(), gw = g.gw(), gh = g.gh();
    std::vector<float> ref = lin;
    std::vector<float> src[3], dst[3];
    for (int c = 0; c < 3; ++c) {
      src[c].assign(std::size_t(gw) * gh, 0.0f);
      for (int cy = 0; cy < gh; ++cy)
        for (int cx = 0; cx < gw; ++cx) {
          const int x0 = cx * f, x1 = std::min(w, x0 + f), y0 = cy * f, y1 = std::min(h, y0 + f);
          double a = 0;
          for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) a += lin[(std::size_t(y) * w + x) * 3 + c];
          src[c][std::size_t(cy) * gw + cx] = float(a / (double(y1 - y0) * (x1 - x0)));
        }
    }
    // glare on a display (optics.h): only the light above the cells' kGlareCapPct percentile
    // feeds the veil (every run here snaps: the cap is this frame's)
    std::vector<unsigned int> hist(kHistBins, 0u);
    const std::size_t ng = std::size_t(gw) * gh;
    for (std::size_t i = 0; i < ng; ++i)
      hist[glare_cap_bin(wy.x * src[0][i] + wy.y * src[1][i] + wy.z * src[2][i], kHistBins)]++;
    float cap_h[2] = {0, 0}, cap_s = 0;
    const float cap = update_glare_cap(cap_h, cap_s, glare_cap_log2(hist_percentile(hist.data(), ng, kGlareCapPct)),
                                       true, 1.0f);
    for (std::size_t i = 0; i < ng; ++i) {
      const float e = glare_excess_share(wy.x * src[0][i] + wy.y * src[1][i] + wy.z * src[2][i], cap);
      for (int c = 0; c < 3; ++c) src[c][i] *= e;
    }
    for (int c = 0; c < 3; ++c) {
      dst[c].assign(ng, 0.0f);
      g.run(src[c].data(), dst[c].data());
      for (float& v : dst[c]) v = std::log2(std::max(v, 1e-9f));
    }
    for (int y = 0; y < h; ++y) {
      float gyf = std::min(std::max((y + 0.5f) / f - 0.5f, 0.0f), float(gh - 1));
      const int y0 = std::min(int(gyf), gh - 1), y1 = std::min(y0 + 1, gh - 1);
      const float ty = gyf - y0;
      for (int x = 0; x < w; ++x) {
        float gxf = std::min(std::max((x + 0.5f) / f - 0.5f, 0.0f), float(gw - 1));
        const int x0 = std::min(int(gxf), gw - 1), x1 = std::min(x0 + 1, gw - 1);
        const float tx = gxf - x0;
        for (int c = 0; c < 3; ++c) {
          const float* d = dst[c].data();
          const float a = d[y0 * gw + x0] * (1 - tx) + d[y0 * gw + x1] * tx;
          const float b = d[y1 * gw + x0] * (1 - tx) + d[y1 * gw + x1] * tx;
          float& v = ref[(std::size_t(y) * w + x) * 3 + c];
          v = std::min(v + std::exp2(a * (1 - ty) + b * ty), kMaxNits);
        }
      }
    }
    // CUDA: the FP32 linear plane (stored x kLinStore)
    std::vector<float> stored(lin.size());
    for (std::size_t i = 0; i < lin.size(); ++i) stored[i] = lin[i] * kLinStore;
    Dev d(stored);
    ASSERT_FALSE(dev.kernel_matches(ppd, ps.age, ps.pig));
    ASSERT_EQ(dev.set_kernel(ppd, ps.age, ps.pig, 0), "");
    EXPECT_TRUE(dev.kernel_matches(ppd, ps.age, ps.pig));
    ASSERT_EQ(dev.run(Plane{d.p, false}, wy, true, 1.0f, 0), "");
    std::vector<float> got = d.get();
    for (float& v : got) v *= kLinLoad;
    expect_close(ref, got, 2e-4f, 1e-6f, "glare");
  }
  EXPECT_EQ(dev.plans_made(), 3) << "a new kernel re-planned cuFFT";
}
