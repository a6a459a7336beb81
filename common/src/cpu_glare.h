// dtutmo -- CIE 180 disability glare by FFT at reduced resolution (DESIGN.md section 2):
// the frame is box-averaged to cells of `f` x `f` pixels (larger side <= max_cells),
// zero-padded to at least twice the size (linear, not circular, convolution), convolved
// with the PSF integrated over each cell's solid angle (theta >= 0.1 deg), and the veiling
// luminance is upsampled bilinearly by the caller. Plans and the kernel spectrum are made
// in init(); run() allocates nothing.
#pragma once

#include <vector>

#include "cpu_alloc.h"

extern "C" {
struct AVTXContext;
}

namespace dtutmo {

class CpuGlare {
 public:
  CpuGlare() = default;
  ~CpuGlare();
  CpuGlare(const CpuGlare&) = delete;
  CpuGlare& operator=(const CpuGlare&) = delete;

  // width x height pixels, ppd pixels per degree. Returns false when av_tx fails.
  // direct_kernel: also keep the kernel's table for direct() (one channel's object is
  // enough: the kernel is the same for the three). kernel_of: an object made with the
  // same parameters whose kernel spectrum this one reads (not made again; it must outlive
  // this one's runs and not be made again before this one is).
  bool init(int width, int height, float ppd, int max_cells, float age, float pig, bool direct_kernel = false,
            const CpuGlare* kernel_of = nullptr);
  bool matches(int width, int height, float ppd, int max_cells, float age, float pig) const;

  int cell() const { return f_; }
  int gw() const { return gw_; }
  int gh() const { return gh_; }
  // Input: gw x gh cell averages (cd/m^2) in `src`; output: veiling luminance per cell
  // (cd/m^2) in `dst` (gw x gh). Not thread-safe (one call at a time).
  void run(const float* src, float* dst);
  // run() in three phases, each split into kParts parts that may run at the same time
  // (each part has its own av_tx contexts and scratch), the phases one after the other:
  // rows(src, p) for every p, then columns(p), then inverse(dst, p). On 2 threads the 3
  // channels' run() as 3 tasks kept one thread idle a third of the stage (par 1.6).
  static constexpr int kParts = 4;
  void rows(const float* src, int part);
  void columns(int part);
  void inverse(float* dst, int part);
  // the rows [y0, y1) of the grid that rows(., part) and inverse(., part) do
  void part_rows(int part, int* y0, int* y1) const;
  // The veil of a sparse source by the direct sum (init with direct_kernel): rows [y0,
  // y1) of nch channels' dst (gw x gh each) from the n source cells idx[] (row-major
  // order) of the channels' src; the same linear convolution as run() without the FFT's
  // rounding noise. Thread-safe (reads the kernel only).
  void direct(const float* const* src, float* const* dst, int nch, const int* idx, int n, int y0, int y1) const;

 private:
  void free_plans();
  void fwd2d(float* real, float* cbuf);  // real Ph x Pw -> spectrum (transposed) in cbuf
  int w_ = 0, h_ = 0, f_ = 1, gw_ = 0, gh_ = 0, pw_ = 0, ph_ = 0, cw_ = 0;
  float ppd_ = 0, age_ = 0, pig_ = 0;
  int max_cells_ = 0;
  // per part (the kernel's spectrum in init uses part 0's)
  AVTXContext *rf_[kParts] = {}, *ri_[kParts] = {}, *cf_[kParts] = {}, *ci_[kParts] = {};
  void *rf_fn_ = nullptr, *ri_fn_ = nullptr, *cf_fn_ = nullptr, *ci_fn_ = nullptr;
  // the buffers below in one allocation on huge pages (as 4 KiB pages the three channels'
  // ~7.4 MB at 1080p were ~1.9 K page faults, ~50 ms of the first frame in this VM); the
  // kernel's temporaries (real_'s ph rows, rows_' ph rows) and kspec_ only where made
  std::vector<float, HugePageAllocator<float, (std::size_t(1) << 19)>> arena_;
  float* real_ = nullptr;        // ph x pw (init's kernel; run's rows: kParts x pw)
  float* rows_ = nullptr;        // ph x cw complex (interleaved; run: its gh rows)
  float* cols_ = nullptr;        // cw x ph complex (transposed)
  float* tmpc_ = nullptr;        // kParts x (ph + 1) complex
  const float* kspec_ = nullptr; // cw x ph complex, kernel spectrum scaled by 1/(pw ph)
  std::vector<float> kern_;      // (2 gh - 1) x (2 gw - 1): the kernel at (dx, dy) wrapped (direct)
};

}  // namespace dtutmo
