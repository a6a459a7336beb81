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
constexpr int kBlurMaxR = 255;  // blur radius limit (cpu_spatial.h kBlurMaxRadius)

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

__global__ void __launch_bounds__(kRed)
    k_global_stats(const float* cell_sum, const float* cell_cnt, float* la_loc, DevState* st, FrameConsts tmpl,
                   FrameConsts* K, SetupParams sp, GlarePicture glare, int redo) {
  if (redo && !st->redo) return;  // the whole block, before any barrier (thread 0 writes
                                  // st->redo only in the first pass)
  __shared__ double sh[kRed];
  __shared__ unsigned int ch[kCutBins];  // the cut signature's histogram (integer counts:
                                         // the same whatever the order of the atomics)
  for (int i = threadIdx.x; i < kCutBins; i += blockDim.x) ch[i] = 0u;
  __syncthreads();
  __shared__ int ext[4];  // the rows and columns not bar-like (model.h picture_area)
  constexpr int kMaxCells = (kMaxFrameSide + kCell - 1) / kCell;
  __shared__ int cnt[2 * kMaxCells];  // lit cells per row (gh), then per column (gw)
  if (threadIdx.x == 0) {
    const CellBox e = glare.lit ? empty_box(glare.gw, glare.gh) : empty_box(sp.gw, sp.gh);
    ext[0] = e.x0;
    ext[1] = e.x1;
    ext[2] = e.y0;
    ext[3] = e.y1;
  }
  if (!glare.lit)
    for (int i = threadIdx.x; i < sp.gh + sp.gw; i += blockDim.x) cnt[i] = 0;
  __syncthreads();
  const int nc = sp.gw * sp.gh;
  for (int i = threadIdx.x; i < nc; i += blockDim.x) {
    const float v = cell_mean(cell_sum[i], cell_cnt[i]);  // model.h
    la_loc[i] = v;
    atomicAdd(&ch[cut_bin(v)], 1u);
    if (!glare.lit && cell_lit(v)) {
      atomicAdd(&cnt[i / sp.gw], 1);
      atomicAdd(&cnt[sp.gh + i % sp.gw], 1);
    }
  }
  __syncthreads();
  // with optics the glare cells' counts (k_glare_hist), else the adaptation cells'
  const int* lit = glare.lit ? glare.lit : cnt;
  const int rw = glare.lit ? glare.gw : sp.gw, rh = glare.lit ? glare.gh : sp.gh;
  for (int y = threadIdx.x; y < rh; y += blockDim.x)
    if (!bar_like(lit[y], rw)) {
      atomicMin(&ext[2], y);
      atomicMax(&ext[3], y + 1);
    }
  for (int x = threadIdx.x; x < rw; x += blockDim.x)
    if (!bar_like(lit[rh + x], rh)) {
      atomicMin(&ext[0], x);
      atomicMax(&ext[1], x + 1);
    }
  __syncthreads();
  const CellBox pic = picture_area({ext[0], ext[1], ext[2], ext[3]}, glare.lit ? glare.f : kCell, sp.gw, sp.gh,
                                   tmpl.width, tmpl.height);
  // the global log-mean over the picture (pixel weighted)
  const int pw = pic.x1 - pic.x0, np = pw * (pic.y1 - pic.y0);
  double gs = 0.0, gn = 0.0;
  for (int k = threadIdx.x; k < np; k += blockDim.x) {
    const int i = (pic.y0 + k / pw) * sp.gw + pic.x0 + k % pw;
    gs += cell_sum[i];
    gn += cell_cnt[i];
  }
  gs = block_sum(gs, sh);  // (its barriers also order the histogram's atomics)
  gn = block_sum(gn, sh);
  if (threadIdx.x != 0) return;
  *K = tmpl;
  set_picture(*K, pic);
  float sig[kCutQ];
  cut_signature(ch, sig);
  update_global_state(*st, (float)(gs / (gn > 1.0 ? gn : 1.0)), sig, sp, *K, redo != 0);
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
  out[(size_t)y * W + x] = down2_at(in, w, h, x, y);  // spatial.h
}

// Gaussian taps (spatial.h gauss_tap), i in [-rr, rr], into shared memory.
__device__ void make_taps(float* k, int rr, float sigma) {
  for (int i = threadIdx.y * blockDim.x + threadIdx.x; i <= 2 * rr; i += blockDim.x * blockDim.y)
    k[i] = gauss_tap(i - rr, sigma);
  __syncthreads();
}

// One pass of the separable normalised blur (spatial.h blur_at, blur_grid's): along x
// (dir 0) or y (dir 1), src -> dst.
__global__ void k_blur(const float* src, int w, int h, float sigma, int rr, float* dst, int dir,
                       const EpState* eps) {
  if (eps && (int)blockIdx.z >= 2 * eps->nb) return;  // whole block: before any barrier
  src += (size_t)blockIdx.z * w * h;
  dst += (size_t)blockIdx.z * w * h;
  __shared__ float k[2 * kBlurMaxR + 1];
  make_taps(k, rr, sigma);
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  dst[(size_t)y * w + x] = dir == 0 ? blur_at([&](int j) { return src[(size_t)y * w + j]; }, x, w, k, rr)
                                    : blur_at([&](int j) { return src[(size_t)j * w + x]; }, y, h, k, rr);
}

__global__ void k_upsample_accum(const float* in, int sw, int sh, float* out, int dw, int dh,
                                 float weight, int first) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= dw || y >= dh) return;
  const float v = weight * upsample_at(in, sw, sh, dw, dh, x, y);  // spatial.h
  const size_t o = (size_t)y * dw + x;
  out[o] = first ? v : out[o] + v;
}

__global__ void k_cells_update(const float* pooled, float* la_s, float* la_rod_s,
                               AdaptCell* cells, KCell* kcells, const DevState* st,
                               const FrameConsts* K, SetupParams sp) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= sp.gw * sp.gh) return;
  const float target = st->target_logmean;
  const float a = sp.local_a;
  const float tgt = (a > 0.0f && pooled) ? local_target(pooled[i], target, a) : target;
  float ls, lr;
  cell_la(st->ts, tgt, target, ls, lr);  // this frame's layout on the smoothed levels
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
  ep_bins(smn[0], smx[0], dz, &eps->lo, &eps->dzc, &eps->nb);  // spatial.h
}

// Linear splat of every cell into bins j and j + 1 (value, weight planes); every other
// plane entry of the cell written 0 (no separate clear).
__global__ void k_ep_splat(const float* in, int nc, const EpState* eps, float* splat) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= nc) return;
  const int nb = eps->nb;
  const float v = in[i];
  int j;
  float f;
  ep_bin(v, eps->lo, 1.0f / eps->dzc, nb, &j, &f);
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
  int j;
  float f;
  ep_bin(v, eps->lo, 1.0f / eps->dzc, eps->nb, &j, &f);
  float acc = 0.0f;
  for (int k = 0; k < q.n; ++k) acc += q.wt[k] * ep_slice_at(q.res[k], q.lw[k], q.lh[k], w, h, x, y, j, f, v);
  out[i] = acc / q.wsum;
}

dim3 grid2(int w, int h, dim3 b) { return dim3(div_up(w, b.x), div_up(h, b.y)); }

}  // namespace

std::string launch_global_stats(const float* cell_sum, const float* cell_cnt, float* la_loc,
                                DevState* state, const FrameConsts& tmpl, FrameConsts* K,
                                SetupParams sp, GlarePicture glare, cudaStream_t s, bool redo) {
  k_global_stats<<<1, kRed, 0, s>>>(cell_sum, cell_cnt, la_loc, state, tmpl, K, sp, glare, redo ? 1 : 0);
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
  const int rr = gauss_radius(sigma, kBlurMaxR);
  const dim3 b(32, 8);
  k_blur<<<grid2(w, h, b), b, 0, s>>>(img, w, h, sigma, rr, tmp, 0, nullptr);
  DTUTMO_LAUNCH_CHECK("k_blur x");
  k_blur<<<grid2(w, h, b), b, 0, s>>>(tmp, w, h, sigma, rr, img, 1, nullptr);
  DTUTMO_LAUNCH_CHECK("k_blur y");
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
    ep_level(sigma_cells[k], lw_, lh_, &slev[k], &sblur[k]);  // spatial.h
    const int l = slev[k];
    q.wt[k] = weights[k];
    q.wsum += weights[k];
    q.lw[k] = lw_[l];
    q.lh[k] = lh_[l];
    maxl = l > maxl ? l : maxl;
    // reserve: a scale's level follows fov, which a controller may animate: a coarser level
    // reuses the block, a finer one grows it geometrically (allocate() freed and allocated
    // again at every change of level, a device-wide synchronisation in the frame)
    DTUTMO_TRY(res_[k].reserve(std::size_t(kMaxBins) * 2 * lw_[l] * lh_[l]));
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
    const int rr = gauss_radius(sblur[k], kBlurMaxR);
    dim3 g = grid2(lw_[l], lh_[l], b);
    g.z = 2 * kMaxBins;
    k_blur<<<g, b, 0, s>>>(lev[l], lw_[l], lh_[l], sblur[k], rr, tmp_.get(), 0, eps);
    DTUTMO_LAUNCH_CHECK("k_blur x (edge pooling)");
    k_blur<<<g, b, 0, s>>>(tmp_.get(), lw_[l], lh_[l], sblur[k], rr, res_[k].get(), 1, eps);
    DTUTMO_LAUNCH_CHECK("k_blur y (edge pooling)");
  }
  k_ep_slice<<<grid2(w_, h_, b), b, 0, s>>>(in, w_, h_, eps, q, out);
  DTUTMO_LAUNCH_CHECK("k_ep_slice");
  return {};
}

std::string launch_cells_update(const float* pooled, float* la_s, float* la_rod_s,
                                AdaptCell* cells, KCell* kcells, const DevState* state,
                                const FrameConsts* K, SetupParams sp, cudaStream_t s) {
  const int n = sp.gw * sp.gh;
  k_cells_update<<<div_up(n, 256), 256, 0, s>>>(pooled, la_s, la_rod_s, cells, kcells, state, K, sp);
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
