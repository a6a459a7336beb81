// dtutmo CUDA -- photoreceptors, mesopic mixing, the response histogram and percentiles,
// the per-frame display normalisation (all on the device, from the device state), the
// full-inverse / hybrid constants, and the fused final pass: responses + mesopic +
// [DTUCAM] + display mapping + [detail] + gamut + encode + dither + pack.
#include "kernels.h"
#include "pixel.cuh"

#include "buffers.h"
#include "check.h"
#include "dtutmo/csf.h"

namespace dtutmo {
namespace cuda {

namespace {

constexpr int kHistThreads = 256;
constexpr int kHistPerThread = 4;

__global__ void k_hist_sample(LinSource src, const KCell* cells, int gw, int gh,
                              const FrameConsts* __restrict__ Kp, float* edge, int ew, int eh,
                              unsigned int* hist) {
  __shared__ unsigned int sh[kHistBins];
  for (int i = threadIdx.x; i < kHistBins; i += blockDim.x) sh[i] = 0u;
  __syncthreads();
  const FrameConsts& K = *Kp;
  const int W = K.width, H = K.height;
  const int n = ew * eh;
  // sample positions of frame_consts(): every `step`-th pixel from step / 2, the edge map
  // repeating the last sample of a row where the row has fewer than ew of them
  const int step = hist_step(W), nsub = hist_nsub(W);  // model.h
  const int base = blockIdx.x * blockDim.x * kHistPerThread;
  for (int q = 0; q < kHistPerThread; ++q) {
    const int idx = base + q * blockDim.x + threadIdx.x;
    if (idx >= n) break;
    const int i = idx % ew, j = idx / ew;
    const int y = min(H - 1, j * kSub + kSub / 2);
    const int x = min(i, nsub - 1) * step + (step >> 1);
    const LinPixel p = load_lin(src, x, y, W);
    const CellSample a = sample_at(src, cells, gw, gh, x, y, p.ly, false);
    const float ra = achromatic_response(scene_responses(p.rgb, a, K));
    edge[idx] = ra;
    if (i < nsub && in_picture(K, x, y)) atomicAdd(&sh[hist_bin(ra)], 1u);
  }
  __syncthreads();
  for (int i = threadIdx.x; i < kHistBins; i += blockDim.x)
    if (sh[i]) atomicAdd(&hist[i], sh[i]);
}

// The luminance (cd/m^2) whose achromatic grey response is r, scene (disp = 0) or display
// observer: the CPU engine's 50-step bisection over log2 L in [-20, 30] done by one warp,
// 33 intervals per round (the response is monotonic, so the lanes below r are a prefix);
// 6 rounds narrow the bracket below float resolution, the same crossing as the bisection.
__device__ float warp_inverse_grey(const FrameConsts& K, float r, int disp) {
  float lo = -20.0f, hi = 30.0f;
  const int lane = threadIdx.x & 31;
  for (int round = 0; round < 6; ++round) {
    const float step = (hi - lo) * (1.0f / 33.0f);
    const float m = lo + step * (float)(lane + 1);
    const float f = disp ? disp_resp_grey(K, 3, exp2f(m)) : scene_resp_grey(K, 3, exp2f(m));
    const int nb = __popc(__ballot_sync(0xffffffffu, f < r));
    const float nlo = lo + step * (float)nb;
    const float nhi = nb < 32 ? lo + step * (float)(nb + 1) : hi;
    lo = nlo;
    hi = nhi;
  }
  return exp2f(0.5f * (lo + hi));
}

// One block of 64 threads (two warps run the two searches of each pair in parallel),
// thread 0 the rest. Mirrors CpuEngine::frame_consts after the histogram.
__global__ void k_frame_setup(const unsigned int* hist, DevState* st, FrameConsts* Kg,
                              SetupParams sp, DevStats* stats) {
  __shared__ FrameConsts K;
  __shared__ unsigned int h[kHistBins];
  __shared__ float lv[2], tv[2], lraw[2];
  for (int i = threadIdx.x; i < kHistBins; i += blockDim.x) h[i] = hist[i];
  if (threadIdx.x == 0) K = *Kg;
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned long long tot = 0;
    for (int i = 0; i < kHistBins; ++i) tot += h[i];
    update_percentiles(*st, hist_percentile(h, tot, sp.pct_low), hist_percentile(h, tot, sp.pct_high),
                       hist_percentile(h, tot, 50.0f));
  }
  __syncthreads();
  {
    const int wi = threadIdx.x >> 5;  // warp 0: low end, warp 1: high end
    const float v = warp_inverse_grey(K, wi ? st->ts.s_rhi : st->ts.s_rlo, 0);
    if ((threadIdx.x & 31) == 0) lv[wi] = v;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    lraw[0] = lv[0];  // before widening (frame_targets' lit_share)
    lraw[1] = lv[1];
    widen_range(&lv[0], &lv[1]);
  }
  __syncthreads();
  {
    const int wi = threadIdx.x >> 5;
    const float v = warp_inverse_grey(K, scene_resp_grey(K, 3, lv[wi]), 1);
    if ((threadIdx.x & 31) == 0) tv[wi] = v;
  }
  __syncthreads();
  if (threadIdx.x != 0) return;
  float t_lo, t_hi, t_lo0;  // t_lo0: before the key, the slope below the low percentile
  frame_targets(K, st->s_rmed, lv[0], lv[1], lraw[0], lraw[1], tv[0], tv[1], sp.black, sp.peak, sp.key,
                sp.key_strength, sp.mesopic, &t_lo, &t_hi, &t_lo0);
  finish_frame_consts(K, lv[0], lv[1], t_lo, t_hi, t_lo0, sp.knee, sp.viewing);
  st->csf_active = sp.csf ? (int)csf_band_gains(K, sp.fov_deg, st->csf_gain) : 0;
  *Kg = K;
  stats->adaptation_nits = K.la_global;
  stats->rod_adaptation_nits = K.la_global_rod;
  stats->pupil_mm = K.pupil_mm;
  stats->rod_weight = sp.mesopic ? mesopic_weight(K.la_global) : 0.0f;
  stats->response_low = st->ts.s_rlo;
  stats->response_high = st->ts.s_rhi;
  stats->display_adapt_nits = K.disp_la;
  stats->cut = st->cut;
  stats->cut_shape = st->ts.shape_change;
  stats->bad = st->bad;
}

__global__ void k_dispk(const AdaptCell* cells, int n, const FrameConsts* Kp, SetupParams sp,
                        KCell* kcells) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float d[3];
  display_cell_consts(cells[i], *Kp, sp.local_a, sp.black, sp.peak, d);
  kcells[i].d0 = d[0];
  kcells[i].d1 = d[1];
  kcells[i].d2 = d[2];
}

__global__ void k_edge_sobel(const float* e, int ew, int eh, const FrameConsts* Kp, float* m) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= ew || y >= eh) return;
  m[(size_t)y * ew + x] = edge_sobel(e, ew, eh, x, y, *Kp);
}

__global__ void k_edge_smoothstep(const float* m, int n, const FrameConsts* Kp, float* e) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  e[i] = smoothstepf(Kp->hybrid_lo, Kp->hybrid_hi, m[i]);
}

template <typename T>
__global__ void k_responses_plane(LinSource src, const KCell* cells, int gw, int gh,
                                  const FrameConsts* __restrict__ Kp, T* resp, int w, int h) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  const FrameConsts& K = *Kp;
  const LinPixel p = load_lin(src, x, y, w);
  const CellSample a = sample_at(src, cells, gw, gh, x, y, p.ly, false);
  const Vec3 r = scene_responses(p.rgb, a, K);
  const size_t i = ((size_t)y * w + x) * 3;
  st(resp, i, r.x);
  st(resp, i + 1, r.y);
  st(resp, i + 2, r.z);
}

// One thread per 2x2 pixel block (4:2:0 outputs need the block for their chroma).
__global__ void k_pass2(Pass2Args a, const FrameConsts* __restrict__ Kp,
                        const DevState* __restrict__ state) {
  const int bx = blockIdx.x * blockDim.x + threadIdx.x;
  const int by = blockIdx.y * blockDim.y + threadIdx.y;
  const FrameConsts& K = *Kp;
  const int W = K.width, H = K.height;
  const int x0 = 2 * bx, y0 = 2 * by;
  if (x0 >= W || y0 >= H) return;
  const bool use_resp = a.use_resp && state->csf_active;
  const bool with_dk = K.display_mode != (int)DisplayMode::Whiteboard;
  const bool hybrid = K.display_mode == (int)DisplayMode::Hybrid;
  float out[4][3];
  for (int k = 0; k < 4; ++k) {
    const int x = x0 + (k & 1), y = y0 + (k >> 1);
    if (x >= W || y >= H) {
      out[k][0] = out[k][1] = out[k][2] = 0.0f;
      continue;
    }
    // the linear input: the responses' source, the hue source, the detail, the La guide
    const LinPixel p = load_lin(a.src, x, y, W);
    const CellSample cs = sample_at(a.src, a.cells, a.gw, a.gh, x, y, p.ly, with_dk);
    Vec3 r;
    if (use_resp) {
      const size_t i = (size_t)y * W + x;
      r = a.resp.half ? load3(static_cast<const __half*>(a.resp.ptr), i)
                      : load3(static_cast<const float*>(a.resp.ptr), i);
    } else {
      r = scene_responses(p.rgb, cs, K);
    }
    DisplayIn din;
    din.hw = hybrid ? sample_grid(a.edge, a.ew, a.ew, a.eh, (float)kSub, x, y) : 0.0f;
    din.detail_d = p.detail;
    din.detail_on = a.src.bgrid != nullptr;
    const Vec3 o = display_pixel(K, a.tabs, r, cs, din, a.colour, p.in);  // pixel_model.h
    out[k][0] = o.x;
    out[k][1] = o.y;
    out[k][2] = o.z;
  }
  write_block(a.out, a.yuv, x0, y0, out, a.dither != 0);
}

dim3 grid2(int w, int h, dim3 b) { return dim3(div_up(w, b.x), div_up(h, b.y)); }

}  // namespace

std::string launch_hist_sample(const LinSource& src, const KCell* cells, int gw, int gh,
                               const FrameConsts* K, float* edge, int ew, int eh,
                               unsigned int* hist, cudaStream_t s) {
  const int n = ew * eh;
  const int blocks = div_up(n, kHistThreads * kHistPerThread);
  k_hist_sample<<<blocks, kHistThreads, 0, s>>>(src, cells, gw, gh, K, edge, ew, eh, hist);
  DTUTMO_LAUNCH_CHECK("k_hist_sample");
  return {};
}

std::string launch_frame_setup(const unsigned int* hist, DevState* state, FrameConsts* K,
                               SetupParams sp, DevStats* stats, cudaStream_t s) {
  k_frame_setup<<<1, 64, 0, s>>>(hist, state, K, sp, stats);
  DTUTMO_LAUNCH_CHECK("k_frame_setup");
  return {};
}

std::string launch_dispk(const AdaptCell* cells, int n, const FrameConsts* K, SetupParams sp,
                         KCell* kcells, cudaStream_t s) {
  k_dispk<<<div_up(n, 256), 256, 0, s>>>(cells, n, K, sp, kcells);
  DTUTMO_LAUNCH_CHECK("k_dispk");
  return {};
}

std::string launch_edge_sobel(const float* edge, int ew, int eh, const FrameConsts* K, float* mag,
                              cudaStream_t s) {
  const dim3 b(32, 8);
  k_edge_sobel<<<grid2(ew, eh, b), b, 0, s>>>(edge, ew, eh, K, mag);
  DTUTMO_LAUNCH_CHECK("k_edge_sobel");
  return {};
}

std::string launch_edge_smoothstep(const float* mag, int n, const FrameConsts* K, float* edge,
                                   cudaStream_t s) {
  k_edge_smoothstep<<<div_up(n, 256), 256, 0, s>>>(mag, n, K, edge);
  DTUTMO_LAUNCH_CHECK("k_edge_smoothstep");
  return {};
}

std::string launch_responses_plane(const LinSource& src, const KCell* cells, int gw, int gh,
                                   const FrameConsts* K, Plane resp, int w, int h,
                                   cudaStream_t s) {
  const dim3 b(32, 8);
  if (resp.half)
    k_responses_plane<__half><<<grid2(w, h, b), b, 0, s>>>(src, cells, gw, gh, K,
                                                          static_cast<__half*>(resp.ptr), w, h);
  else
    k_responses_plane<float><<<grid2(w, h, b), b, 0, s>>>(src, cells, gw, gh, K,
                                                         static_cast<float*>(resp.ptr), w, h);
  DTUTMO_LAUNCH_CHECK("k_responses_plane");
  return {};
}

std::string launch_pass2(const Pass2Args& a, const FrameConsts* K, const DevState* state,
                         cudaStream_t s) {
  const dim3 b(16, 8);
  const int w = a.out.width, h = a.out.height;
  k_pass2<<<grid2((w + 1) / 2, (h + 1) / 2, b), b, 0, s>>>(a, K, state);
  DTUTMO_LAUNCH_CHECK("k_pass2");
  return {};
}

}  // namespace cuda
}  // namespace dtutmo
