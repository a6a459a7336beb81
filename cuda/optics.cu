// dtutmo CUDA -- optics (balanced): the OTF as its separable spatial Gaussian, and CIE 180
// disability glare by cuFFT on a reduced, zero-padded grid (grid and kernel table from
// common/dtutmo/glare_kernel.h, as the CPU engine: glare_cell_weight() per cell offset,
// wrapped into the padded grid, its spectrum scaled by 1 / (pw ph)). Plans are made when
// the grid changes (frame size, glare-cells), the kernel spectrum when the optics
// parameters change, neither per frame; a frame runs R2C (3 channels batched), a complex
// multiply, C2R, and the bilinear add, all on the engine's stream.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"
#include "pixel.cuh"

#include "check.h"
#include "dtutmo/glare_kernel.h"
#include "dtutmo/optics.h"

namespace dtutmo {
namespace cuda {

namespace {

// The OTF's normalised taps (spatial.h gauss_taps), made by the host.
struct OtfTaps {
  float k[2 * kOtfMaxRadius + 1];
  int rr;
};

// Separable normalised Gaussian along x (dir 0) or y (dir 1) of a 3-channel plane,
// weights renormalised at the borders (spatial.h blur_at, the CPU engine's OTF blur).
template <typename T>
__global__ void k_otf_pass(const T* src, T* dst, int w, int h, OtfTaps t, int dir, const int* gate) {
  if (gate && !*gate) return;  // kernels.h (launch_decode_lin)
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  for (int c = 0; c < 3; ++c) {
    const float v = dir == 0 ? blur_at([&](int j) { return ld(src, ((size_t)y * w + j) * 3 + c); }, x, w, t.k, t.rr)
                             : blur_at([&](int j) { return ld(src, ((size_t)j * w + x) * 3 + c); }, y, h, t.k, t.rr);
    st(dst, ((size_t)y * w + x) * 3 + c, v);
  }
}

// Cell averages of the linear plane (cd/m^2) into the zero-padded FFT input, 3 channels.
template <typename T>
__global__ void k_glare_cells(const T* lin, int w, int h, int f, int gw, int gh, int pw, int ph,
                              float* real, const int* gate) {
  if (gate && !*gate) return;
  const int gx = blockIdx.x * blockDim.x + threadIdx.x;
  const int gy = blockIdx.y * blockDim.y + threadIdx.y;
  if (gx >= gw || gy >= gh) return;
  const int x0 = gx * f, x1 = min(w, x0 + f), y0 = gy * f, y1 = min(h, y0 + f);
  float a[3] = {0.0f, 0.0f, 0.0f};
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const size_t i = ((size_t)y * w + x) * 3;
      a[0] += ld(lin, i);
      a[1] += ld(lin, i + 1);
      a[2] += ld(lin, i + 2);
    }
  const float n = (float)((y1 - y0) * (x1 - x0));
  const size_t plane = (size_t)pw * ph;
  for (int c = 0; c < 3; ++c) real[c * plane + (size_t)gy * pw + gx] = a[c] * kLinLoad / n;
}

// Glare on a display (optics.h): the histogram of log2 cell luminance, the cap (one
// thread: percentile, median-of-3, smoothing; model.h update_glare_cap), and the share of
// each cell's light above the cap that feeds the veil. Mirrors CpuEngine::pass1.
// Also the lit cells of each row and column (model.h picture_area: the bars, found here
// before the veil lights them): lit[gy] and lit[gh + gx].
__global__ void k_glare_hist(const float* real, int gw, int gh, int pw, int ph, Vec3 wy,
                             unsigned int* hist, int* lit, const int* gate) {
  if (gate && !*gate) return;
  const int gx = blockIdx.x * blockDim.x + threadIdx.x;
  const int gy = blockIdx.y * blockDim.y + threadIdx.y;
  if (gx >= gw || gy >= gh) return;
  const size_t plane = (size_t)pw * ph, i = (size_t)gy * pw + gx;
  const float y = wy.x * real[i] + wy.y * real[plane + i] + wy.z * real[2 * plane + i];
  atomicAdd(&hist[glare_cap_bin(y, kHistBins)], 1u);
  if (lum_lit(y)) {
    atomicAdd(&lit[gy], 1);
    atomicAdd(&lit[gh + gx], 1);
  }
}

__global__ void k_glare_cap(const unsigned int* hist, unsigned long long n, float* cap, int snap,
                            float k, const int* gate) {
  if (threadIdx.x != 0 || blockIdx.x != 0 || (gate && !*gate)) return;
  const float tgt = glare_cap_log2(hist_percentile(hist, n, kGlareCapPct));
  cap[3] = update_glare_cap(cap, cap[2], tgt, snap != 0, k);
}

__global__ void k_glare_excess(float* real, int gw, int gh, int pw, int ph, Vec3 wy, const float* cap,
                               const int* gate) {
  if (gate && !*gate) return;
  const int gx = blockIdx.x * blockDim.x + threadIdx.x;
  const int gy = blockIdx.y * blockDim.y + threadIdx.y;
  if (gx >= gw || gy >= gh) return;
  const size_t plane = (size_t)pw * ph, i = (size_t)gy * pw + gx;
  const float y = wy.x * real[i] + wy.y * real[plane + i] + wy.z * real[2 * plane + i];
  const float e = glare_excess_share(y, cap[3]);
  for (int c = 0; c < 3; ++c) real[c * plane + i] *= e;
}

__global__ void k_spec_mul(cufftComplex* spec, const cufftComplex* k, int n, const int* gate) {
  if (gate && !*gate) return;
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= 3 * n) return;
  const cufftComplex a = spec[i], b = k[i % n];
  spec[i] = make_cuFloatComplex(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// The veil is interpolated in log2 (optics.h veil_log2; cuFFT may leave small negatives).
__global__ void k_glare_log(float* real, int gw, int gh, int pw, int ph, const int* gate) {
  if (gate && !*gate) return;
  const int gx = blockIdx.x * blockDim.x + threadIdx.x;
  const int gy = blockIdx.y * blockDim.y + threadIdx.y;
  if (gx >= gw || gy >= gh) return;
  const size_t plane = (size_t)pw * ph;
  for (int c = 0; c < 3; ++c) {
    float* v = real + c * plane + (size_t)gy * pw + gx;
    *v = veil_log2(maxf(*v, 0.0f));
  }
}

// Bilinear upsample of log2 of the veiling luminance, 2^ and add, capped at kMaxNits
// (optics.h add_veil, spatial.h sample_grid).
template <typename T>
__global__ void k_glare_add(T* lin, int w, int h, int f, int gw, int gh, int pw, int ph,
                            const float* real, const int* gate) {
  if (gate && !*gate) return;
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= w || y >= h) return;
  const size_t plane = (size_t)pw * ph;
  for (int c = 0; c < 3; ++c) {
    const size_t i = ((size_t)y * w + x) * 3 + c;
    const float v = add_veil(ld(lin, i) * kLinLoad, sample_grid(real + c * plane, pw, gw, gh, (float)f, x, y), kMaxNits);
    st(lin, i, v * kLinStore);
  }
}

dim3 grid2(int w, int h, dim3 b) { return dim3(div_up(w, b.x), div_up(h, b.y)); }

}  // namespace

std::string launch_otf_blur(Plane lin, Plane tmp, int w, int h, float sigma_px, cudaStream_t s,
                            const int* gate) {
  if (sigma_px < kOtfMinSigmaPx) return {};
  OtfTaps t;
  t.rr = gauss_taps(sigma_px, kOtfMaxRadius, t.k);
  const dim3 b(32, 8);
  if (lin.half) {
    k_otf_pass<__half><<<grid2(w, h, b), b, 0, s>>>(static_cast<const __half*>(lin.ptr),
                                                    static_cast<__half*>(tmp.ptr), w, h, t, 0, gate);
    DTUTMO_LAUNCH_CHECK("k_otf_pass x");
    k_otf_pass<__half><<<grid2(w, h, b), b, 0, s>>>(static_cast<const __half*>(tmp.ptr),
                                                    static_cast<__half*>(lin.ptr), w, h, t, 1, gate);
  } else {
    k_otf_pass<float><<<grid2(w, h, b), b, 0, s>>>(static_cast<const float*>(lin.ptr),
                                                   static_cast<float*>(tmp.ptr), w, h, t, 0, gate);
    DTUTMO_LAUNCH_CHECK("k_otf_pass x");
    k_otf_pass<float><<<grid2(w, h, b), b, 0, s>>>(static_cast<const float*>(tmp.ptr),
                                                   static_cast<float*>(lin.ptr), w, h, t, 1, gate);
  }
  DTUTMO_LAUNCH_CHECK("k_otf_pass y");
  return {};
}

GlareDev::~GlareDev() {
  destroy();
  if (ktab_done_) cudaEventDestroy(ktab_done_);
}

void GlareDev::destroy() {
  if (plans_) {
    cufftDestroy(fwd_);
    cufftDestroy(inv_);
    cufftDestroy(kplan_);
    plans_ = false;
  }
  kernel_ = false;
}

bool GlareDev::grid_matches(int width, int height, int max_cells) const {
  if (!plans_ || width != w_ || height != h_) return false;
  const GlareGrid g = glare_grid(width, height, max_cells);
  return g.f == f_ && g.gw == gw_ && g.gh == gh_ && g.pw == pw_ && g.ph == ph_;
}

bool GlareDev::kernel_matches(float ppd, float age, float pig) const {
  return kernel_ && ppd == ppd_ && age == age_ && pig == pig_;
}

std::size_t GlareDev::bytes() const {
  return real_.bytes() + spec_.bytes() + kspec_.bytes() + hist_.bytes() + cap_.bytes() + lit_.bytes();
}

std::string GlareDev::init(int width, int height, int max_cells) {
  destroy();
  w_ = width;
  h_ = height;
  const GlareGrid g = glare_grid(width, height, max_cells);  // common/dtutmo/glare_kernel.h
  f_ = g.f;
  gw_ = g.gw;
  gh_ = g.gh;
  pw_ = g.pw;
  ph_ = g.ph;
  cw_ = g.cw;
  const size_t plane = (size_t)pw_ * ph_, cplane = (size_t)cw_ * ph_;
  DTUTMO_TRY(real_.allocate(3 * plane));
  DTUTMO_TRY(spec_.allocate(3 * cplane));
  DTUTMO_TRY(kspec_.allocate(cplane));
  DTUTMO_TRY(ktab_.allocate(plane * sizeof(float)));
  if (!ktab_done_) DTUTMO_CUDA_TRY(cudaEventCreateWithFlags(&ktab_done_, cudaEventDisableTiming));
  DTUTMO_TRY(hist_.allocate(kHistBins));
  DTUTMO_TRY(cap_.allocate(4));
  DTUTMO_TRY(lit_.allocate((size_t)gh_ + gw_));
  DTUTMO_CUDA_TRY(cudaMemset(cap_.get(), 0, 4 * sizeof(float)));  // the first frame snaps

  int n[2] = {ph_, pw_};
  DTUTMO_CUFFT_TRY(cufftPlanMany(&fwd_, 2, n, nullptr, 1, 0, nullptr, 1, 0, CUFFT_R2C, 3));
  cufftResult r = cufftPlanMany(&inv_, 2, n, nullptr, 1, 0, nullptr, 1, 0, CUFFT_C2R, 3);
  if (r != CUFFT_SUCCESS) {
    cufftDestroy(fwd_);
    return cufft_error_string(r, "cufftPlanMany(C2R)", __FILE__, __LINE__);
  }
  r = cufftPlan2d(&kplan_, ph_, pw_, CUFFT_R2C);
  if (r != CUFFT_SUCCESS) {
    cufftDestroy(fwd_);
    cufftDestroy(inv_);
    return cufft_error_string(r, "cufftPlan2d(kernel)", __FILE__, __LINE__);
  }
  plans_ = true;
  plans_made_ += 3;
  return {};
}

std::string GlareDev::set_kernel(float ppd, float age, float pig, cudaStream_t s) {
  if (!plans_) return "glare: set_kernel() before init()";
  // The previous kernel's upload must have left the staging buffer before it is refilled
  // (it has, unless the parameters change on consecutive frames still in flight).
  DTUTMO_CUDA_TRY(cudaEventSynchronize(ktab_done_));
  // Weight of a source cell at offset (dx, dy) cells, wrapped into the padded grid,
  // pre-scaled by 1 / (pw ph) (the inverse transform is unnormalised).
  const size_t plane = (size_t)pw_ * ph_;
  float* k = reinterpret_cast<float*>(ktab_.get());
  std::fill(k, k + plane, 0.0f);
  GlareGrid g;
  g.f = f_;
  g.gw = gw_;
  g.gh = gh_;
  g.pw = pw_;
  g.ph = ph_;
  g.cw = cw_;
  glare_kernel_table(g, ppd, age, pig, 1.0f / (float(pw_) * float(ph_)), k);
  // real_ is scratch until the next run(), which zeroes it first.
  DTUTMO_CUDA_TRY(cudaMemcpyAsync(real_.get(), k, plane * sizeof(float), cudaMemcpyHostToDevice, s));
  DTUTMO_CUDA_TRY(cudaEventRecord(ktab_done_, s));
  DTUTMO_CUFFT_TRY(cufftSetStream(kplan_, s));
  DTUTMO_CUFFT_TRY(cufftExecR2C(kplan_, real_.get(), kspec_.get()));
  ppd_ = ppd;
  age_ = age;
  pig_ = pig;
  kernel_ = true;
  return {};
}

std::string GlareDev::run(Plane lin, Vec3 rgb_to_y, bool snap, float k, cudaStream_t s, const int* gate) {
  if (!kernel_) return "glare: run() before set_kernel()";
  const size_t plane = (size_t)pw_ * ph_;
  const int cplane = cw_ * ph_;
  DTUTMO_CUDA_TRY(cudaMemsetAsync(real_.get(), 0, 3 * plane * sizeof(float), s));
  const dim3 b(16, 16);
  if (lin.half)
    k_glare_cells<__half><<<grid2(gw_, gh_, b), b, 0, s>>>(static_cast<const __half*>(lin.ptr), w_, h_,
                                                           f_, gw_, gh_, pw_, ph_, real_.get(), gate);
  else
    k_glare_cells<float><<<grid2(gw_, gh_, b), b, 0, s>>>(static_cast<const float*>(lin.ptr), w_, h_,
                                                          f_, gw_, gh_, pw_, ph_, real_.get(), gate);
  DTUTMO_LAUNCH_CHECK("k_glare_cells");
  DTUTMO_CUDA_TRY(cudaMemsetAsync(hist_.get(), 0, kHistBins * sizeof(unsigned int), s));
  DTUTMO_CUDA_TRY(cudaMemsetAsync(lit_.get(), 0, (size_t)(gh_ + gw_) * sizeof(int), s));
  k_glare_hist<<<grid2(gw_, gh_, b), b, 0, s>>>(real_.get(), gw_, gh_, pw_, ph_, rgb_to_y, hist_.get(),
                                                lit_.get(), gate);
  DTUTMO_LAUNCH_CHECK("k_glare_hist");
  k_glare_cap<<<1, 1, 0, s>>>(hist_.get(), (unsigned long long)gw_ * gh_, cap_.get(), snap ? 1 : 0, k, gate);
  DTUTMO_LAUNCH_CHECK("k_glare_cap");
  k_glare_excess<<<grid2(gw_, gh_, b), b, 0, s>>>(real_.get(), gw_, gh_, pw_, ph_, rgb_to_y, cap_.get(), gate);
  DTUTMO_LAUNCH_CHECK("k_glare_excess");
  DTUTMO_CUFFT_TRY(cufftSetStream(fwd_, s));
  DTUTMO_CUFFT_TRY(cufftSetStream(inv_, s));
  DTUTMO_CUFFT_TRY(cufftExecR2C(fwd_, real_.get(), spec_.get()));
  k_spec_mul<<<div_up(3 * cplane, 256), 256, 0, s>>>(spec_.get(), kspec_.get(), cplane, gate);
  DTUTMO_LAUNCH_CHECK("k_spec_mul");
  DTUTMO_CUFFT_TRY(cufftExecC2R(inv_, spec_.get(), real_.get()));
  k_glare_log<<<grid2(gw_, gh_, b), b, 0, s>>>(real_.get(), gw_, gh_, pw_, ph_, gate);
  DTUTMO_LAUNCH_CHECK("k_glare_log");
  const dim3 b2(32, 8);
  if (lin.half)
    k_glare_add<__half><<<grid2(w_, h_, b2), b2, 0, s>>>(static_cast<__half*>(lin.ptr), w_, h_, f_, gw_,
                                                         gh_, pw_, ph_, real_.get(), gate);
  else
    k_glare_add<float><<<grid2(w_, h_, b2), b2, 0, s>>>(static_cast<float*>(lin.ptr), w_, h_, f_, gw_,
                                                        gh_, pw_, ph_, real_.get(), gate);
  DTUTMO_LAUNCH_CHECK("k_glare_add");
  return {};
}

}  // namespace cuda
}  // namespace dtutmo
