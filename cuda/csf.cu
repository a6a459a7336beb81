// dtutmo CUDA -- the neural CSF (balanced): a Laplacian pyramid of the opponent channels
// A = (L+M)/2, RG = L-M, YB = (L+M)/2 - S of the responses; band k times the gain the
// device computed this frame (csf_ratio_gain of csf.h, in k_frame_setup); the low-pass
// residual untouched (DC gain exactly 1). CpuEngine::csf_filter's pyramid (the CPU
// rebuilds from the Gaussian levels without forming the bands: the same sums by
// linearity, up to float rounding); the per-sample pieces are pixel_model.h's and
// spatial.h's.
// The pyramid is FP32 whatever the precision (band differences are small numbers).
// Every kernel returns at once when state->csf_active == 0 (the CPU then skips the filter
// too), so the host never needs to know.
#include "kernels.h"
#include "pixel.cuh"

#include "check.h"

namespace dtutmo {
namespace cuda {

namespace {

template <typename T>
__global__ void k_opponent(const T* resp, size_t n, float* a, float* rg, float* yb,
                           const DevState* ds) {
  if (!ds->csf_active) return;
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const Vec3 o = opponent_from_responses(ld(resp, 3 * i), ld(resp, 3 * i + 1), ld(resp, 3 * i + 2));
  a[i] = o.x;
  rg[i] = o.y;
  yb[i] = o.z;
}

template <typename T>
__global__ void k_opponent_inv(const float* a, const float* rg, const float* yb, size_t n, T* resp,
                               const DevState* ds) {
  if (!ds->csf_active) return;
  const size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const Vec3 r = responses_from_opponent(a[i], rg[i], yb[i]);
  st(resp, 3 * i, r.x);
  st(resp, 3 * i + 1, r.y);
  st(resp, 3 * i + 2, r.z);
}

__global__ void k_down2_g(const float* in, int w, int h, float* out, const DevState* ds) {
  if (!ds->csf_active) return;
  const int W = (w + 1) / 2, H = (h + 1) / 2;
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= W || y >= H) return;
  out[(size_t)y * W + x] = down2_at(in, w, h, x, y);  // spatial.h
}

// mode 0: g -= up(coarse) (band); mode 1: g = up(coarse) + gain * g (reconstruction).
__global__ void k_band(const float* coarse, int sw, int sh, float* g, int dw, int dh, int mode,
                       const DevState* ds, int level, int ch) {
  if (!ds->csf_active) return;
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dw || y >= dh) return;
  const float up = upsample_at(coarse, sw, sh, dw, dh, x, y);  // spatial.h
  const size_t i = (size_t)y * dw + x;
  if (mode == 0)
    g[i] -= up;
  else
    g[i] = csf_rebuild(up, g[i], ds->csf_gain[min(level, kCsfLevels - 1)][ch]);
}

dim3 grid2(int w, int h, dim3 b) { return dim3(div_up(w, b.x), div_up(h, b.y)); }

}  // namespace

std::string CsfDev::init(int width, int height) {
  w_ = width;
  h_ = height;
  pw_[0] = w_;
  ph_[0] = h_;
  for (int k = 1; k <= kCsfLevels; ++k) {
    pw_[k] = (pw_[k - 1] + 1) / 2;
    ph_[k] = (ph_[k - 1] + 1) / 2;
  }
  lv_ = 0;
  while (lv_ < kCsfLevels && pw_[lv_] > 8 && ph_[lv_] > 8) ++lv_;
  for (int k = 0; k <= lv_; ++k)
    for (int c = 0; c < 3; ++c) DTUTMO_TRY(lev_[k][c].allocate(size_t(pw_[k]) * ph_[k]));
  return {};
}

std::size_t CsfDev::bytes() const {
  std::size_t b = 0;
  for (int k = 0; k <= kCsfLevels; ++k)
    for (int c = 0; c < 3; ++c) b += lev_[k][c].bytes();
  return b;
}

std::string CsfDev::run(Plane resp, const DevState* state, cudaStream_t s) {
  const size_t n = size_t(w_) * h_;
  const int blocks = div_up((int)n, 256);
  if (resp.half)
    k_opponent<__half><<<blocks, 256, 0, s>>>(static_cast<const __half*>(resp.ptr), n, lev_[0][0].get(),
                                              lev_[0][1].get(), lev_[0][2].get(), state);
  else
    k_opponent<float><<<blocks, 256, 0, s>>>(static_cast<const float*>(resp.ptr), n, lev_[0][0].get(),
                                             lev_[0][1].get(), lev_[0][2].get(), state);
  DTUTMO_LAUNCH_CHECK("k_opponent");
  const dim3 b(32, 8);
  for (int k = 0; k < lv_; ++k)
    for (int c = 0; c < 3; ++c) {
      k_down2_g<<<grid2(pw_[k + 1], ph_[k + 1], b), b, 0, s>>>(lev_[k][c].get(), pw_[k], ph_[k],
                                                               lev_[k + 1][c].get(), state);
      DTUTMO_LAUNCH_CHECK("k_down2_g");
    }
  for (int k = 0; k < lv_; ++k)
    for (int c = 0; c < 3; ++c) {
      k_band<<<grid2(pw_[k], ph_[k], b), b, 0, s>>>(lev_[k + 1][c].get(), pw_[k + 1], ph_[k + 1],
                                                    lev_[k][c].get(), pw_[k], ph_[k], 0, state, k, c);
      DTUTMO_LAUNCH_CHECK("k_band (analysis)");
    }
  for (int k = lv_ - 1; k >= 0; --k)
    for (int c = 0; c < 3; ++c) {
      k_band<<<grid2(pw_[k], ph_[k], b), b, 0, s>>>(lev_[k + 1][c].get(), pw_[k + 1], ph_[k + 1],
                                                    lev_[k][c].get(), pw_[k], ph_[k], 1, state, k, c);
      DTUTMO_LAUNCH_CHECK("k_band (synthesis)");
    }
  if (resp.half)
    k_opponent_inv<__half><<<blocks, 256, 0, s>>>(lev_[0][0].get(), lev_[0][1].get(), lev_[0][2].get(), n,
                                                  static_cast<__half*>(resp.ptr), state);
  else
    k_opponent_inv<float><<<blocks, 256, 0, s>>>(lev_[0][0].get(), lev_[0][1].get(), lev_[0][2].get(), n,
                                                 static_cast<float*>(resp.ptr), state);
  DTUTMO_LAUNCH_CHECK("k_opponent_inv");
  return {};
}

}  // namespace cuda
}  // namespace dtutmo
