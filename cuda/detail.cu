// dtutmo CUDA -- base/detail (balanced): the bilateral grid of the CPU engine
// (cpu_spatial.cpp, Chen, Paris & Durand 2007) on the device.
//
// Splat: one block per spatial grid cell gathers the pixels that fall into it (the same
// index formula as BilateralGrid::splat_row) and accumulates per range bin in shared
// memory with integer fixed-point atomics, so the result does not depend on the order of
// the atomics: a static scene gives a bit-identical grid every frame. Then [1 2 1] / 4
// blurs along x, y, x, y, z (BilateralGrid::finish); slicing is spatial.h bgrid_slice().
#include <algorithm>
#include <cmath>

#include "kernels.h"

#include "check.h"

namespace dtutmo {
namespace cuda {

namespace {

constexpr int kMaxZ = 256;           // range bins held in shared memory

__global__ void k_bgrid_splat(const float* logy, int w, int h, float ss, float sr, float lo,
                              float hi, int gx, int gy, int gz, float* grid) {
  __shared__ unsigned long long acc[kMaxZ];
  __shared__ unsigned int cnt[kMaxZ];
  for (int i = threadIdx.x; i < gz; i += blockDim.x) {
    acc[i] = 0ull;
    cnt[i] = 0u;
  }
  __syncthreads();
  const int ix = blockIdx.x, iy = blockIdx.y;
  const float inv_ss = 1.0f / ss, inv_sr = 1.0f / sr;
  // candidate pixel ranges (one extra pixel each side), filtered by the exact formula
  const int xa = max(0, (int)floorf((ix - 1.5f) * ss - 0.5f) - 1);
  const int xb = min(w - 1, (int)ceilf((ix - 0.5f) * ss - 0.5f) + 1);
  const int ya = max(0, (int)floorf((iy - 1.5f) * ss - 0.5f) - 1);
  const int yb = min(h - 1, (int)ceilf((iy - 0.5f) * ss - 0.5f) + 1);
  const int nx = xb - xa + 1, ny = yb - ya + 1;
  if (nx > 0 && ny > 0) {
    for (int t = threadIdx.x; t < nx * ny; t += blockDim.x) {
      const int x = xa + t % nx, y = ya + t / nx;
      if (bgrid_cell_xy(y, inv_ss) != iy || bgrid_cell_xy(x, inv_ss) != ix) continue;  // spatial.h
      const float v = std_min(std_max(logy[(size_t)y * w + x], lo), hi);
      const int iz = bgrid_cell_z(v, lo, inv_sr);
      if (iz < 0 || iz >= gz) continue;
      atomicAdd(&acc[iz], bgrid_fix(v, lo));  // spatial.h: fixed point, order-free
      atomicAdd(&cnt[iz], 1u);
    }
  }
  __syncthreads();
  for (int z = threadIdx.x; z < gz; z += blockDim.x) {
    bgrid_unfix(acc[z], cnt[z], lo, grid + (((size_t)z * gy + iy) * gx + ix) * 2);
  }
}

// One [1 2 1] / 4 pass along the axis whose element stride is `stride` and length `len`.
__global__ void k_bgrid_blur(const float* src, float* dst, size_t cells, size_t stride, int len) {
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= cells) return;
  bgrid_blur_at(src, dst, i, (i / stride) % (size_t)len, stride, len);  // spatial.h
}

}  // namespace

std::string BilateralDev::init(int width, int height, float ss_, float sr_, float lo_, float hi_) {
  w = width;
  h = height;
  static_cast<BilateralDesc&>(*this) = bgrid_desc(width, height, ss_, sr_, lo_, hi_);  // spatial.h, as the CPU's
  if (gz > kMaxZ) return "bilateral grid: " + std::to_string(gz) + " range bins exceed " + std::to_string(kMaxZ);
  // reserve: a smaller grid (base-scale up) reuses the blocks, a larger one grows them
  // geometrically, so an animated base-scale does not reallocate every frame.
  const size_t n = size_t(gx) * gy * gz * 2;
  DTUTMO_TRY(grid_.reserve(n));
  DTUTMO_TRY(tmp_.reserve(n));
  return {};
}

std::size_t BilateralDev::bytes() const { return grid_.bytes() + tmp_.bytes(); }

std::string BilateralDev::build(const float* logy, cudaStream_t s) {
  // splat into tmp_, then blur x, y, x, y, z ending in grid_
  k_bgrid_splat<<<dim3(gx, gy), 256, 0, s>>>(logy, w, h, ss, sr, lo, hi, gx, gy, gz, tmp_.get());
  DTUTMO_LAUNCH_CHECK("k_bgrid_splat");
  const size_t cells = size_t(gx) * gy * gz;
  const int blocks = div_up((int)cells, 256);
  float* a = tmp_.get();
  float* b = grid_.get();
  const size_t strides[5] = {1, size_t(gx), 1, size_t(gx), size_t(gx) * gy};
  const int lens[5] = {gx, gy, gx, gy, gz};
  for (int p = 0; p < 5; ++p) {
    k_bgrid_blur<<<blocks, 256, 0, s>>>(a, b, cells, strides[p], lens[p]);
    DTUTMO_LAUNCH_CHECK("k_bgrid_blur");
    std::swap(a, b);
  }
  // 5 passes: tmp->grid, grid->tmp, tmp->grid, grid->tmp, tmp->grid: the result is in grid_
  return {};
}

}  // namespace cuda
}  // namespace dtutmo
