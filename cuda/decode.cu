// dtutmo CUDA -- decode: format -> normalised R'G'B' -> EOTF (table) -> linear RGB in
// cd/m^2, fused with the 8x8 cell reduction of log2 luminance (fast profile) or written
// to the linear plane (balanced, where optics come before the statistics).
#include "kernels.h"
#include "pixel.cuh"

#include "buffers.h"
#include "check.h"

namespace dtutmo {
namespace cuda {

namespace {

constexpr int kBX = 32;        // block: 32 x 8 pixels = 4 cells of 8 x 8
constexpr int kBY = kCell;

// Warp-level sum of an int (all 32 lanes participate).
__device__ __forceinline__ int warp_sum(int v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Block (kBX x kBY) reduction of per-pixel log2 Y into the block's 4 cells. Every thread
// of the block must call it (out-of-frame pixels pass v = 0).
__device__ __forceinline__ void reduce_cells(float v, int w, int h, int gw, float* cell_sum,
                                             float* cell_cnt) {
  __shared__ float rows[kBY][kBX / kCell];
  // sum groups of 8 lanes (one cell row)
  for (int o = 4; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o, kCell);
  if ((threadIdx.x & (kCell - 1)) == 0) rows[threadIdx.y][threadIdx.x / kCell] = v;
  __syncthreads();
  if (threadIdx.y == 0 && threadIdx.x < kBX / kCell) {
    const int cx = blockIdx.x * (kBX / kCell) + threadIdx.x;
    const int cy = blockIdx.y;
    if (cx < gw) {
      float s = 0.0f;
      for (int j = 0; j < kBY; ++j) s += rows[j][threadIdx.x];
      const int nx = min(kCell, w - cx * kCell), ny = min(kCell, h - cy * kCell);
      cell_sum[(size_t)cy * gw + cx] = s;
      cell_cnt[(size_t)cy * gw + cx] = (float)(nx * ny);
    }
  }
}

__global__ void k_decode_cells(DecodeArgs a, float* cell_sum, float* cell_cnt, DevState* state) {
  const int x = blockIdx.x * kBX + threadIdx.x;
  const int y = blockIdx.y * kBY + threadIdx.y;
  const int w = a.in.width, h = a.in.height;
  float ly = 0.0f;
  int bad = 0;
  if (x < w && y < h) {
    ly = log2_luminance(decode_pixel(a, x, y, &bad), a.rgb_to_y);
  }
  bad = warp_sum(bad);
  if ((threadIdx.x & 31) == 0 && bad) atomicAdd(&state->bad, (unsigned long long)bad);
  reduce_cells(ly, w, h, a.gw, cell_sum, cell_cnt);
}

template <typename T>
__global__ void k_decode_lin(DecodeArgs a, T* lin, DevState* state, const int* gate) {
  if (gate && !*gate) return;  // the whole block (kernels.h)
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  const int w = a.in.width, h = a.in.height;
  int bad = 0;
  if (x < w && y < h) {
    const Vec3 c = decode_pixel(a, x, y, &bad);
    const size_t i = ((size_t)y * w + x) * 3;
    st(lin, i, c.x * kLinStore);
    st(lin, i + 1, c.y * kLinStore);
    st(lin, i + 2, c.z * kLinStore);
  }
  bad = warp_sum(bad);
  if (state && (threadIdx.x & 31) == 0 && bad) atomicAdd(&state->bad, (unsigned long long)bad);
}

template <typename T>
__global__ void k_stats_from_lin(const T* lin, int w, int h, Vec3 wy, float* logy, float* cell_sum,
                                 float* cell_cnt, int gw, const int* gate) {
  if (gate && !*gate) return;  // the whole block, before reduce_cells' barrier
  const int x = blockIdx.x * kBX + threadIdx.x;
  const int y = blockIdx.y * kBY + threadIdx.y;
  float ly = 0.0f;
  if (x < w && y < h) {
    const size_t i = (size_t)y * w + x;
    ly = log2_luminance({ld(lin, 3 * i) * kLinLoad, ld(lin, 3 * i + 1) * kLinLoad, ld(lin, 3 * i + 2) * kLinLoad},
                        wy);
    logy[i] = ly;  // FP32 whatever the precision (detail = log2 Y - base is a small difference)
  }
  reduce_cells(ly, w, h, gw, cell_sum, cell_cnt);
}

}  // namespace

std::string launch_decode_cells(const DecodeArgs& a, float* cell_sum, float* cell_cnt,
                                DevState* state, cudaStream_t s) {
  const dim3 block(kBX, kBY);
  const dim3 grid(div_up(a.in.width, kBX), div_up(a.in.height, kBY));
  k_decode_cells<<<grid, block, 0, s>>>(a, cell_sum, cell_cnt, state);
  DTUTMO_LAUNCH_CHECK("k_decode_cells");
  return {};
}

std::string launch_decode_lin(const DecodeArgs& a, Plane lin, DevState* state, cudaStream_t s,
                              const int* gate) {
  const dim3 block(32, 8);
  const dim3 grid(div_up(a.in.width, 32), div_up(a.in.height, 8));
  if (lin.half)
    k_decode_lin<__half><<<grid, block, 0, s>>>(a, static_cast<__half*>(lin.ptr), state, gate);
  else
    k_decode_lin<float><<<grid, block, 0, s>>>(a, static_cast<float*>(lin.ptr), state, gate);
  DTUTMO_LAUNCH_CHECK("k_decode_lin");
  return {};
}

std::string launch_stats_from_lin(Plane lin, int w, int h, Vec3 rgb_to_y, Plane logy,
                                  float* cell_sum, float* cell_cnt, int gw, int gh,
                                  cudaStream_t s, const int* gate) {
  (void)gh;
  const dim3 block(kBX, kBY);
  const dim3 grid(div_up(w, kBX), div_up(h, kBY));
  if (lin.half)
    k_stats_from_lin<__half><<<grid, block, 0, s>>>(static_cast<const __half*>(lin.ptr), w, h,
                                                    rgb_to_y, static_cast<float*>(logy.ptr),
                                                    cell_sum, cell_cnt, gw, gate);
  else
    k_stats_from_lin<float><<<grid, block, 0, s>>>(static_cast<const float*>(lin.ptr), w, h,
                                                   rgb_to_y, static_cast<float*>(logy.ptr),
                                                   cell_sum, cell_cnt, gw, gate);
  DTUTMO_LAUNCH_CHECK("k_stats_from_lin");
  return {};
}

}  // namespace cuda
}  // namespace dtutmo
