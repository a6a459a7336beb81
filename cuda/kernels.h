// dtutmo CUDA -- the device-side state, the per-frame setup inputs, and the launchers of
// every stage family (decode.cu, adapt.cu, receptors_display.cu, optics.cu, detail.cu,
// csf.cu). Launchers enqueue on the given stream, never allocate, never synchronise, and
// return an empty string or the error message (check.h).
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cufft.h>

#include <cstddef>
#include <string>

#include "dtutmo/frame_consts.h"
#include "buffers.h"
#include "io.cuh"
#include "model.cuh"

namespace dtutmo {
namespace cuda {

// What stats() reports, copied to pinned host memory at the end of every frame.
struct DevStats {
  float adaptation_nits, pupil_mm, rod_weight, response_low, response_high, display_adapt_nits;
  int cut;
  float rod_adaptation_nits;
  float cut_shape;
  unsigned long long bad;
};

// Intermediate plane storage: FP16 (half) or FP32, selected by Params::precision.
// Linear light is stored times kLinStore so that 1e6 cd/m^2 fits in half (max 65504).
constexpr float kLinStore = 1.0f / 64.0f;
constexpr float kLinLoad = 64.0f;
__device__ __forceinline__ float ld(const float* p, size_t i) { return p[i]; }
__device__ __forceinline__ float ld(const __half* p, size_t i) { return __half2float(p[i]); }
__device__ __forceinline__ void st(float* p, size_t i, float v) { p[i] = v; }
__device__ __forceinline__ void st(__half* p, size_t i, float v) { p[i] = __float2half_rn(v); }

// A plane pointer that is either half or float (the engine picks per precision).
struct Plane {
  void* ptr = nullptr;
  bool half = false;
};

// ----------------------------------------------------------------- decode.cu
struct DecodeArgs {
  DevFrame in;
  pio::YuvDecode yuv;
  DecodeConsts dc;    // pixel_model.h: the decode table (device) and its use
  Vec3 rgb_to_y;
  int gw, gh;
};
// Fast profile: decode every pixel, reduce log2 Y into 8x8 cell sums and counts, count
// bad samples (state->bad must be zeroed before). Nothing is written at full resolution.
std::string launch_decode_cells(const DecodeArgs& a, float* cell_sum, float* cell_cnt,
                                DevState* state, cudaStream_t s);
// `gate` (the balanced stages that a cut frame runs again, model.h glare_cut_redo): when
// not null, the kernels return at once unless *gate (device memory, DevState::redo).
// Balanced: decode every pixel into the linear-light plane `lin` (3 channels, interleaved);
// bad samples counted into state->bad unless `state` is null.
std::string launch_decode_lin(const DecodeArgs& a, Plane lin, DevState* state, cudaStream_t s,
                              const int* gate = nullptr);
// Balanced: log2 Y plane (always FP32, logy.half is ignored) and cell sums from the
// (optics-processed) linear plane.
std::string launch_stats_from_lin(Plane lin, int w, int h, Vec3 rgb_to_y, Plane logy,
                                  float* cell_sum, float* cell_cnt, int gw, int gh,
                                  cudaStream_t s, const int* gate = nullptr);

// ----------------------------------------------------------------- adapt.cu
// One block: cell means (la_loc), the global log-mean, the cut signature (model.h), cut
// detection, smoothing factors, smoothed levels and pupil; writes K->la_global, pupil_mm,
// td_per_nit. `redo`: the cut frame made again (model.cuh update_global_state), a no-op
// on the device unless state->redo.
// `tmpl` carries the stream/parameter fields of FrameConsts (host-filled); it is copied
// into *K first, then the state-dependent fields are filled in on the device.
// `glare`: with optics, the glare grid's lit cells per row and column (GlareDev::lit) and
// its geometry, from which the picture area is found (model.h picture_area); lit ==
// nullptr: from the adaptation cells.
struct GlarePicture {
  const int* lit;
  int f, gw, gh;
};
std::string launch_global_stats(const float* cell_sum, const float* cell_cnt, float* la_loc,
                                DevState* state, const FrameConsts& tmpl, FrameConsts* K,
                                SetupParams sp, GlarePicture glare, cudaStream_t s, bool redo = false);
// Pooling primitives (cpu_spatial.cpp on the device).
std::string launch_down2(const float* in, int w, int h, float* out, cudaStream_t s);
std::string launch_blur_grid(float* img, int w, int h, float sigma, float* tmp, cudaStream_t s);
// out (+)= weight * bilinear_upsample(in); `first` overwrites (tests: the device upsample).
std::string launch_upsample_accum(const float* in, int sw, int sh, float* out, int dw, int dh,
                                  float weight, bool first, cudaStream_t s);
// Edge-aware multi-scale pooling (cpu_spatial.cpp's EdgePooler on the device): a bilateral
// grid along log luminance (bins dz apart, anchored at multiples of dz, at most kMaxBins;
// the bin count is found on the device, kernels skip the unused bins), each bin's value
// and weight planes pooled by the Gaussians on a pyramid, sliced per cell and normalised,
// the scales mixed with their weights. `out` receives the normalised mix (divided by the
// weights' sum already).
struct EpState {
  float lo, dzc;
  int nb, pad;
};
class EdgePoolDev {
 public:
  static constexpr int kMaxBins = kEpMaxBins;
  std::string init(int w, int h, float dz);
  std::string pool(const float* in, const float* sigma_cells, const float* weights, int n,
                   float* out, cudaStream_t s);
  std::size_t bytes() const;

 private:
  int w_ = 0, h_ = 0;
  float dz_ = 2.0f;
  int lw_[6] = {}, lh_[6] = {};
  DeviceBuffer<float> splat_, tmp_, lev_[6], res_[4];
  DeviceBuffer<EpState> st_;
};

// Per cell: targets (pooled, normalised, mixed with the global log-mean), this frame's
// layout on the smoothed cone and rod levels (model.h cell_la), AdaptCell. `pooled` may be
// null when local adaptation is off.
std::string launch_cells_update(const float* pooled, float* la_s, float* la_rod_s,
                                AdaptCell* cells, KCell* kcells, const DevState* state,
                                const FrameConsts* K, SetupParams sp, cudaStream_t s);
// One block: the rods' global adaptation and the display observer.
std::string launch_rod_display(const float* la_rod_s, FrameConsts* K, SetupParams sp,
                               cudaStream_t s);

// ----------------------------------------------------------------- receptors_display.cu
// Where pass 2 and the subsample kernels get the linear input from.
struct LinSource {
  int from_plane;     // 1: the balanced linear plane (after optics), 0: re-decode `dec`
  DecodeArgs dec;
  Plane lin;
  Plane logy, base;   // base/detail (balanced); null when off
  // bilateral grid slice (base/detail, detail.cu; spatial.h bgrid_slice)
  const float* bgrid;
  BilateralDesc bdesc;
  // local adaptation on: the cell means (log2) guiding the joint-bilateral La lookup
  const float* guide;
};
// Subsample grid (every kSub-th pixel): responses -> achromatic response -> edge map
// and a 1024-bin histogram (hist must be zeroed before).
std::string launch_hist_sample(const LinSource& src, const KCell* cells, int gw, int gh,
                               const FrameConsts* K, float* edge, int ew, int eh,
                               unsigned int* hist, cudaStream_t s);
// One block: percentiles, their smoothing, normalisation, DTUCAM conditions, CSF gains,
// stats.
std::string launch_frame_setup(const unsigned int* hist, DevState* state, FrameConsts* K,
                               SetupParams sp, DevStats* stats, cudaStream_t s);
// Per cell: the display observer's local constants (full-inverse / hybrid) into
// kcells[i].d0..d2.
std::string launch_dispk(const AdaptCell* cells, int n, const FrameConsts* K, SetupParams sp,
                         KCell* kcells, cudaStream_t s);
// Hybrid: Sobel of the edge map into `mag` (then blurred and passed to the smoothstep).
std::string launch_edge_sobel(const float* edge, int ew, int eh, const FrameConsts* K,
                              float* mag, cudaStream_t s);
std::string launch_edge_smoothstep(const float* mag, int n, const FrameConsts* K, float* edge,
                                   cudaStream_t s);
// Balanced with CSF: responses plane (3 channels) for the CSF filter.
std::string launch_responses_plane(const LinSource& src, const KCell* cells, int gw,
                                   int gh, const FrameConsts* K, Plane resp, int w, int h,
                                   cudaStream_t s);
// The fused final pass: [responses | resp plane], display mapping, encode, pack.
struct Pass2Args {
  LinSource src;
  const KCell* cells;
  int gw, gh;
  const float* edge;  // hybrid weights at the subsample grid
  int ew, eh;
  Plane resp;         // when use_resp: responses after the CSF
  int use_resp;
  DevFrame out;
  pio::YuvEncode yuv;
  int dither;         // 8-bit outputs only
  ColourOpts colour;
  DisplayTables tabs; // pixel_model.h: the display inverse's and encode tables (device)
};
std::string launch_pass2(const Pass2Args& a, const FrameConsts* K, const DevState* state,
                         cudaStream_t s);


// ----------------------------------------------------------------- optics.cu
// OTF: separable Gaussian of its exact spatial pair on the linear plane (only when its
// sigma is >= kOtfMinSigmaPx, as the CPU engine does). `tmp` is a plane like `lin`.
std::string launch_otf_blur(Plane lin, Plane tmp, int w, int h, float sigma_px, cudaStream_t s,
                            const int* gate = nullptr);

// CIE 180 glare by cuFFT at reduced resolution, zero-padded (linear convolution), the
// veiling luminance bilinearly upsampled and added to the linear plane (cpu_glare.cpp).
// Two parts with different lifetimes: the grid (cell size, padded FFT size: frame size and
// glare-cells) owns the plans and buffers, made in init() and never per frame; the
// kernel spectrum (pixels per degree from fov, observer age, pigmentation) is refilled by
// set_kernel() into the same buffers with the same plans, so animating those properties
// costs a host table and one small transform per change, no plan and no allocation.
class GlareDev {
 public:
  GlareDev() = default;
  GlareDev(const GlareDev&) = delete;
  GlareDev& operator=(const GlareDev&) = delete;
  ~GlareDev();
  // Plans and buffers for the grid of a width x height frame with at most max_cells cells
  // along its larger side; the kernel must be set before run().
  std::string init(int width, int height, int max_cells);
  // Whether init(width, height, max_cells) would make the grid this one already has.
  bool grid_matches(int width, int height, int max_cells) const;
  // The kernel spectrum for ppd (pixels per degree), age (years), pig [0, 1], enqueued on
  // `s`; its host table waits for the previous upload from the same staging buffer.
  std::string set_kernel(float ppd, float age, float pig, cudaStream_t s);
  bool kernel_matches(float ppd, float age, float pig) const;
  // rgb_to_y: the input's Y row; snap / k: this frame's state reset and cone-tau factor
  // (the glare cap's smoothing, model.h update_glare_cap); gate: as launch_decode_lin's
  // (its memsets of scratch and its transforms run whatever the gate says)
  std::string run(Plane lin, Vec3 rgb_to_y, bool snap, float k, cudaStream_t s,
                  const int* gate = nullptr);
  std::size_t bytes() const;
  // cuFFT plans made since construction (the tests check that kernel changes make none).
  int plans_made() const { return plans_made_; }
  int cell() const { return f_; }
  int gw() const { return gw_; }
  int gh() const { return gh_; }
  // The last run's lit cells per row (gh ints) then per column (gw ints) (model.h
  // picture_area: the bars).
  const int* lit() const { return lit_.get(); }

 private:
  void destroy();
  int w_ = 0, h_ = 0, f_ = 1, gw_ = 0, gh_ = 0, pw_ = 0, ph_ = 0, cw_ = 0;
  float ppd_ = 0, age_ = 0, pig_ = 0;
  bool plans_ = false, kernel_ = false;
  int plans_made_ = 0;
  cufftHandle fwd_ = 0, inv_ = 0, kplan_ = 0;  // 3 channels R2C / C2R; kernel R2C
  DeviceBuffer<float> real_;           // 3 x ph x pw
  DeviceBuffer<cufftComplex> spec_;    // 3 x ph x cw
  DeviceBuffer<cufftComplex> kspec_;   // ph x cw, kernel spectrum / (pw ph)
  PinnedBuffer ktab_;                  // ph x pw host kernel table (upload staging)
  cudaEvent_t ktab_done_ = nullptr;    // the last upload from ktab_ has been read
  DeviceBuffer<unsigned int> hist_;    // kHistBins: log2 cell luminance (the glare cap)
  DeviceBuffer<float> cap_;            // h[0], h[1], s (log2), cap (cd/m^2)
  DeviceBuffer<int> lit_;              // lit cells per row and column (lit())
};

// ----------------------------------------------------------------- detail.cu
// Bilateral grid on log2 luminance (cpu_spatial.cpp's BilateralGrid): a deterministic
// gather-splat (one block per spatial cell, integer fixed-point sums, so the grid is
// bit-identical frame after frame), [1 2 1] blurs, sliced per pixel by load_lin().
class BilateralDev : public BilateralDesc {  // the grid's geometry (spatial.h)
 public:
  std::string init(int width, int height, float ss, float sr, float lo, float hi);
  std::string build(const float* logy, cudaStream_t s);
  std::size_t bytes() const;
  const float* grid() const { return grid_.get(); }
  const BilateralDesc& desc() const { return *this; }
  int w = 0, h = 0;

 private:
  DeviceBuffer<float> grid_, tmp_;
};

// ----------------------------------------------------------------- csf.cu
// Laplacian pyramid of the opponent channels of the responses with per-band CSF gains
// from the device state (cpu engine's csf_filter); a no-op on the device when no gain is
// below 0.995 (state->csf_active == 0).
class CsfDev {
 public:
  std::string init(int width, int height);
  std::string run(Plane resp, const DevState* state, cudaStream_t s);
  std::size_t bytes() const;

 private:
  int w_ = 0, h_ = 0, lv_ = 0;
  int pw_[kCsfLevels + 1] = {}, ph_[kCsfLevels + 1] = {};
  DeviceBuffer<float> lev_[kCsfLevels + 1][3];
};

}  // namespace cuda
}  // namespace dtutmo
