// dtutmo CUDA -- local adaptation at low resolution: cell statistics, the global
// log-mean and its temporal smoothing, the edge-aware multi-scale log-domain pooling on a
// pyramid (cpu_spatial.cpp's EdgePooler, blur_grid, down2 on the device), the
// per-cell receptor constants (AdaptCell), the rods' global adaptation and the display
// observer. All on the device: the state never leaves it during a frame.
#include "kernels.h"

#include "buffers.h"
#include "check.h"

namespace dtutmo {
namespace cuda {

namespace {

constexpr int kRed = 1024;  // threads of the single-block reductions

// Deterministic block sum of a double (fixed tree order): every thread calls it.
__device__ double block_sum(double v, double* sh) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int o = blockDim.x / 2; o > 0; o >>= 1) {
    if ((int)threadIdx.x < o) sh[threadIdx.x] += sh[threadIdx.x + o];
    __syncthreads();
  }
  const double r = sh[0];
  __syncthreads();
  return r;
}

__global__ void k_global_stats(const float* cell_sum, const float* cell_cnt, float* la_loc,
                               DevState* st, FrameConsts tmpl, FrameConsts* K, SetupParams sp) {
  __shared__ double sh[kRed];
  const int nc = sp.gw * sp.gh;
  double gs = 0.0, gn = 0.0;
  for (int i = threadIdx.x; i < nc; i += blockDim.x) {
    const float s = cell_sum[i], n = cell_cnt[i];
    gs += s;
    gn += n;
    la_loc[i] = s / maxf(n, 1.0f);
  }
  gs = block_sum(gs, sh);
  gn = block_sum(gn, sh);
  if (threadIdx.x != 0) return;
  *K = tmpl;
  update_global_state(*st, (float)(gs / (gn > 1.0 ? gn : 1.0)), sp, *K);
}

// Planes along blockIdx.z (`in`/`out` advance by their plane sizes); with `eps`, planes
// of bins >= eps->nb are skipped (edge-aware pooling).
__global__ void k_down2(const float* in, int w, int h, float* out, const EpState* eps) {
  if (eps && (int)blockIdx.z >= 2 * eps->nb) return;
  const int W = (w + 1) / 2, H = (h + 1) / 2;
  in += (size_t)blockIdx.z * w * h;
  out += (size_t)blockIdx.z * W * H;
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= W || y >= H) return;
  out[(size_t)y * W + x] = down2_at(in, w, h, x, y);  // model.cuh
}

// Gaussian taps exp(-i^2 / (2 sigma^2)), i in [-rr, rr], into shared memory.
__device__ void make_taps(float* k, int rr, float sigma) {
  for (int i = threadIdx.y * blockDim.x + threadIdx.x; i <= 2 * rr; i += blockDim.x * blockDim.y) {
    const float d = (float)(i - rr);
    k[i] = expf(-0.5f * d * d / (sigma * sigma));
  }
  __syncthreads();
}

__global__ void k_blur_h(const float* img, int w, int h, float sigma, int rr, float* tmp,
                         const EpState* eps) {
  if (eps && (int)blockIdx.z >= 2 * eps->nb) return;  // whole block: before any barrier
  img += (size_t)blockIdx.z * w * h;
  tmp += (size_t)blockIdx.z * w * h;
  __shared__ float k[511];
  make_taps(k, rr, sigma);
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  const float* s = img + (size_t)y * w;
  const int a = max(0, x - rr), b = min(w - 1, x + rr);
  float acc = 0.0f, ws = 0.0f;
  for (int i = a; i <= b; ++i) {
    const float kw = k[i - x + rr];
    acc += kw * s[i];
    ws += kw;
  }
  tmp[(size_t)y * w + x] = acc / ws;
}

__global__ void k_blur_v(const float* tmp, int w, int h, float sigma, int rr, float* img,
                         const EpState* eps) {
  if (eps && (int)blockIdx.z >= 2 * eps->nb) return;
  tmp += (size_t)blockIdx.z * w * h;
  img += (size_t)blockIdx.z * w * h;
  __shared__ float k[511];
  make_taps(k, rr, sigma);
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  const int a = max(0, y - rr), b = min(h - 1, y + rr);
  float ws = 0.0f;
  for (int i = a; i <= b; ++i) ws += k[i - y + rr];
  const float inv = 1.0f / ws;
  float d = 0.0f;
  for (int i = a; i <= b; ++i) d += k[i - y + rr] * inv * tmp[(size_t)i * w + x];
  img[(size_t)y * w + x] = d;
}

__global__ void k_upsample_accum(const float* in, int sw, int sh, float* out, int dw, int dh,
                                 float weight, int first) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dw || y >= dh) return;
  const float v = weight * upsample_at(in, sw, sh, dw, dh, x, y);  // model.cuh
  const size_t o = (size_t)y * dw + x;
  out[o] = first ? v : out[o] + v;
}

__global__ void k_cells_update(const float* pooled, float wsum, float* la_s, float* la_rod_s,
                               float* la_h1, float* la_h2, AdaptCell* cells, KCell* kcells,
                               const DevState* st,
                               const FrameConsts* K, SetupParams sp) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= sp.gw * sp.gh) return;
  const float target = st->target_logmean;
  const float a = sp.local_a;
  const float tgt = (a > 0.0f && pooled) ? local_target(pooled[i] / wsum, target, a) : target;
  float h1 = la_h1[i], h2 = la_h2[i], ls = la_s[i], lr = la_rod_s[i];
  update_cell_state(*st, tgt, h1, h2, ls, lr);  // median-of-3 history, then smoothing
  la_h1[i] = h1;
  la_h2[i] = h2;
  la_s[i] = ls;
  la_rod_s[i] = lr;
  const float td = K->td_per_nit;
  const AdaptCell c = adapt_cell(ls, lr, td, sp.mesopic);
  cells[i] = c;
  KCell k = kcells[i];  // d0..d2 belong to k_dispk
  fold_cell(c, log2f(td), &k);
  kcells[i] = k;
}

__global__ void k_rod_display(const float* la_rod_s, FrameConsts* K, SetupParams sp) {
  __shared__ double sh[kRed];
  const int nc = sp.gw * sp.gh;
  double rs = 0.0;
  for (int i = threadIdx.x; i < nc; i += blockDim.x) rs += la_rod_s[i];
  rs = block_sum(rs, sh);
  if (threadIdx.x != 0) return;
  K->la_global_rod = exp2f((float)(rs / nc));
  // the display observer and the rods' S odds factor (model.h, as the CPU's frame_consts)
  display_observer(*K, sp.peak, sp.display_adapt, sp.viewing, sp.fov_deg, sp.width, sp.height, sp.age);
}

// EdgePooler::begin on the device: min / max of the grid (order-free, deterministic), the
// bin spacing, anchor and count.
__global__ void k_ep_range(const float* in, int nc, float dz, EpState* eps) {
  __shared__ float smn[kRed], smx[kRed];
  float mn = in[0], mx = in[0];
  for (int i = threadIdx.x; i < nc; i += blockDim.x) {
    mn = fminf(mn, in[i]);
    mx = fmaxf(mx, in[i]);
  }
  smn[threadIdx.x] = mn;
  smx[threadIdx.x] = mx;
  __syncthreads();
  for (int o = blockDim.x / 2; o > 0; o >>= 1) {
    if ((int)threadIdx.x < o) {
      smn[threadIdx.x] = fminf(smn[threadIdx.x], smn[threadIdx.x + o]);
      smx[threadIdx.x] = fmaxf(smx[threadIdx.x], smx[threadIdx.x + o]);
    }
    __syncthreads();
  }
  if (threadIdx.x != 0) return;
  mn = smn[0];
  mx = smx[0];
  float dzc = dz;
  while ((mx - mn) / dzc + 3.0f > (float)EdgePoolDev::kMaxBins) dzc *= 2.0f;
  const float lo = (floorf(mn / dzc) - 1.0f) * dzc;
  eps->lo = lo;
  eps->dzc = dzc;
  eps->nb = min(EdgePoolDev::kMaxBins, (int)floorf((mx - lo) / dzc) + 2);
}

// Linear splat of every cell into bins j and j + 1 (value, weight planes); every other
// plane entry of the cell written 0 (no separate clear).
__global__ void k_ep_splat(const float* in, int nc, const EpState* eps, float* splat) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= nc) return;
  const int nb = eps->nb;
  const float v = in[i];
  const float t = (v - eps->lo) * (1.0f / eps->dzc);
  const int j = min(max((int)t, 0), nb - 2);
  const float f = t - j;
  for (int b = 0; b < nb; ++b) {
    const float wz = b == j ? 1 - f : (b == j + 1 ? f : 0.0f);
    splat[(size_t)(2 * b) * nc + i] = wz * v;
    splat[(size_t)(2 * b + 1) * nc + i] = wz;
  }
}

struct EpSlice {
  const float* res[4];
  int lw[4], lh[4];
  float wt[4];
  int n;
  float wsum;
};

// EdgePooler::slice: per cell and scale, the bin pair at the cell's own value, bilinear
// at the scale's level, normalised; the scales mixed with their weights.
__global__ void k_ep_slice(const float* guide, int w, int h, const EpState* eps, EpSlice q,
                           float* out) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  const int i = y * w + x;
  const float v = guide[i];
  const float t = (v - eps->lo) * (1.0f / eps->dzc);
  const int j = min(max((int)t, 0), eps->nb - 2);
  const float f = t - j;
  float acc = 0.0f;
  for (int k = 0; k < q.n; ++k) {
    const int sw = q.lw[k], sh = q.lh[k];
    const size_t ln = (size_t)sw * sh;
    float gx = (x + 0.5f) * (float)sw / w - 0.5f, gy = (y + 0.5f) * (float)sh / h - 0.5f;
    gx = minf(maxf(gx, 0.0f), (float)(sw - 1));
    gy = minf(maxf(gy, 0.0f), (float)(sh - 1));
    const int x0 = min((int)gx, sw - 1), xa = min(x0 + 1, sw - 1);
    const int yb = min((int)gy, sh - 1), ya = min(yb + 1, sh - 1);
    const float tx = gx - x0, ty = gy - yb;
    const float w00 = (1 - tx) * (1 - ty), w10 = tx * (1 - ty), w01 = (1 - tx) * ty, w11 = tx * ty;
    const size_t c00 = (size_t)yb * sw + x0, c10 = (size_t)yb * sw + xa, c01 = (size_t)ya * sw + x0,
                 c11 = (size_t)ya * sw + xa;
    float num = 0.0f, den = 0.0f;
    for (int dj = 0; dj < 2; ++dj) {
      const float wz = dj ? f : 1 - f;
      const float* pv = q.res[k] + (size_t)(j + dj) * 2 * ln;
      const float* pw = pv + ln;
      num += wz * (w00 * pv[c00] + w10 * pv[c10] + w01 * pv[c01] + w11 * pv[c11]);
      den += wz * (w00 * pw[c00] + w10 * pw[c10] + w01 * pw[c01] + w11 * pw[c11]);
    }
    acc += q.wt[k] * (den > 1e-8f ? num / den : v);
  }
  out[i] = acc / q.wsum;
}

dim3 grid2(int w, int h, dim3 b) { return dim3(div_up(w, b.x), div_up(h, b.y)); }

}  // namespace

std::string launch_global_stats(const float* cell_sum, const float* cell_cnt, float* la_loc,
                                DevState* state, const FrameConsts& tmpl, FrameConsts* K,
                                SetupParams sp, cudaStream_t s) {
  k_global_stats<<<1, kRed, 0, s>>>(cell_sum, cell_cnt, la_loc, state, tmpl, K, sp);
  DTUTMO_LAUNCH_CHECK("k_global_stats");
  return {};
}

std::string launch_down2(const float* in, int w, int h, float* out, cudaStream_t s) {
  const dim3 b(32, 8);
  k_down2<<<grid2((w + 1) / 2, (h + 1) / 2, b), b, 0, s>>>(in, w, h, out, nullptr);
  DTUTMO_LAUNCH_CHECK("k_down2");
  return {};
}

std::string launch_blur_grid(float* img, int w, int h, float sigma, float* tmp, cudaStream_t s) {
  if (sigma <= 0.05f || w <= 0 || h <= 0) return {};
  const int r = max(1, (int)ceilf(3.0f * sigma));
  const int rr = min(r, 255);
  const dim3 b(32, 8);
  k_blur_h<<<grid2(w, h, b), b, 0, s>>>(img, w, h, sigma, rr, tmp, nullptr);
  DTUTMO_LAUNCH_CHECK("k_blur_h");
  k_blur_v<<<grid2(w, h, b), b, 0, s>>>(tmp, w, h, sigma, rr, img, nullptr);
  DTUTMO_LAUNCH_CHECK("k_blur_v");
  return {};
}

std::string launch_upsample_accum(const float* in, int sw, int sh, float* out, int dw, int dh,
                                  float weight, bool first, cudaStream_t s) {
  const dim3 b(32, 8);
  k_upsample_accum<<<grid2(dw, dh, b), b, 0, s>>>(in, sw, sh, out, dw, dh, weight, first ? 1 : 0);
  DTUTMO_LAUNCH_CHECK("k_upsample_accum");
  return {};
}

std::string EdgePoolDev::init(int w, int h, float dz) {
  w_ = w;
  h_ = h;
  dz_ = dz;
  lw_[0] = w;
  lh_[0] = h;
  const std::size_t nc = std::size_t(w) * h;
  DTUTMO_TRY(splat_.allocate(std::size_t(kMaxBins) * 2 * nc));
  DTUTMO_TRY(tmp_.allocate(std::size_t(kMaxBins) * 2 * nc));
  for (int l = 1; l < 6; ++l) {
    lw_[l] = (lw_[l - 1] + 1) / 2;
    lh_[l] = (lh_[l - 1] + 1) / 2;
    DTUTMO_TRY(lev_[l].allocate(std::size_t(kMaxBins) * 2 * lw_[l] * lh_[l]));
  }
  DTUTMO_TRY(st_.allocate(1));
  return {};
}

std::size_t EdgePoolDev::bytes() const {
  std::size_t b = splat_.bytes() + tmp_.bytes() + st_.bytes();
  for (const auto& l : lev_) b += l.bytes();
  for (const auto& r : res_) b += r.bytes();
  return b;
}

std::string EdgePoolDev::pool(const float* in, const float* sigma_cells, const float* weights, int n,
                              float* out, cudaStream_t s) {
  const int nc = w_ * h_;
  const int nscale = n < 4 ? n : 4;
  int slev[4];
  float sblur[4];
  EpSlice q{};
  q.n = nscale;
  q.wsum = 0.0f;
  int maxl = 0;
  for (int k = 0; k < nscale; ++k) {  // the level where the sigma is 0.75 .. 1.5 cells
    int l = 0;
    float sc = sigma_cells[k];
    while (sc > 1.5f && l < 5 && lw_[l] > 2 && lh_[l] > 2) {
      sc *= 0.5f;
      ++l;
    }
    slev[k] = l;
    sblur[k] = sqrtf(fmaxf(sc * sc - (l > 0 ? 0.25f : 0.0f), 0.01f));
    q.wt[k] = weights[k];
    q.wsum += weights[k];
    q.lw[k] = lw_[l];
    q.lh[k] = lh_[l];
    maxl = l > maxl ? l : maxl;
    DTUTMO_TRY(res_[k].allocate(std::size_t(kMaxBins) * 2 * lw_[l] * lh_[l]));  // kept when the size is
    q.res[k] = res_[k].get();
  }
  EpState* eps = st_.get();
  k_ep_range<<<1, kRed, 0, s>>>(in, nc, dz_, eps);
  DTUTMO_LAUNCH_CHECK("k_ep_range");
  k_ep_splat<<<div_up(nc, 256), 256, 0, s>>>(in, nc, eps, splat_.get());
  DTUTMO_LAUNCH_CHECK("k_ep_splat");
  const dim3 b(32, 8);
  const float* lev[6] = {splat_.get(), lev_[1].get(), lev_[2].get(), lev_[3].get(), lev_[4].get(), lev_[5].get()};
  for (int l = 1; l <= maxl; ++l) {
    dim3 g = grid2(lw_[l], lh_[l], b);
    g.z = 2 * kMaxBins;
    k_down2<<<g, b, 0, s>>>(lev[l - 1], lw_[l - 1], lh_[l - 1], lev_[l].get(), eps);
    DTUTMO_LAUNCH_CHECK("k_down2 (edge pooling)");
  }
  for (int k = 0; k < nscale; ++k) {
    const int l = slev[k];
    const std::size_t ln = std::size_t(lw_[l]) * lh_[l];
    if (sblur[k] <= 0.05f) {  // blur_grid leaves the grid as it is
      DTUTMO_CUDA_TRY(cudaMemcpyAsync(res_[k].get(), lev[l], std::size_t(kMaxBins) * 2 * ln * sizeof(float),
                                      cudaMemcpyDeviceToDevice, s));
      continue;
    }
    const int r = max(1, (int)ceilf(3.0f * sblur[k]));
    const int rr = min(r, 255);
    dim3 g = grid2(lw_[l], lh_[l], b);
    g.z = 2 * kMaxBins;
    k_blur_h<<<g, b, 0, s>>>(lev[l], lw_[l], lh_[l], sblur[k], rr, tmp_.get(), eps);
    DTUTMO_LAUNCH_CHECK("k_blur_h (edge pooling)");
    k_blur_v<<<g, b, 0, s>>>(tmp_.get(), lw_[l], lh_[l], sblur[k], rr, res_[k].get(), eps);
    DTUTMO_LAUNCH_CHECK("k_blur_v (edge pooling)");
  }
  k_ep_slice<<<grid2(w_, h_, b), b, 0, s>>>(in, w_, h_, eps, q, out);
  DTUTMO_LAUNCH_CHECK("k_ep_slice");
  return {};
}

std::string launch_cells_update(const float* pooled, float wsum, float* la_s, float* la_rod_s,
                                float* la_h1, float* la_h2, AdaptCell* cells, KCell* kcells,
                                const DevState* state, const FrameConsts* K, SetupParams sp,
                                cudaStream_t s) {
  const int n = sp.gw * sp.gh;
  k_cells_update<<<div_up(n, 256), 256, 0, s>>>(pooled, wsum, la_s, la_rod_s, la_h1, la_h2, cells,
                                                kcells, state, K, sp);
  DTUTMO_LAUNCH_CHECK("k_cells_update");
  return {};
}

std::string launch_rod_display(const float* la_rod_s, FrameConsts* K, SetupParams sp,
                               cudaStream_t s) {
  k_rod_display<<<1, kRed, 0, s>>>(la_rod_s, K, sp);
  DTUTMO_LAUNCH_CHECK("k_rod_display");
  return {};
}

}  // namespace cuda
}  // namespace dtutmo
