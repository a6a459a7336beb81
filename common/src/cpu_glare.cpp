// dtutmo -- CIE 180 disability glare by FFT at reduced resolution (see cpu_glare.h).
#include "cpu_glare.h"

#include <algorithm>
#include <cmath>
#include <cstring>

extern "C" {
#include <libavutil/tx.h>
}

#include "cpu_simd.h"
#include "dtutmo/glare_kernel.h"

namespace dtutmo {

CpuGlare::~CpuGlare() { free_plans(); }

void CpuGlare::free_plans() {
  for (int p = 0; p < kParts; ++p) {
    av_tx_uninit(&rf_[p]);
    av_tx_uninit(&ri_[p]);
    av_tx_uninit(&cf_[p]);
    av_tx_uninit(&ci_[p]);
  }
}

bool CpuGlare::matches(int width, int height, float ppd, int max_cells, float age,
                       float pig) const {
  return width == w_ && height == h_ && ppd == ppd_ && max_cells == max_cells_ && age == age_ &&
         pig == pig_ && rf_[0];
}

// The padded grid's rows: the smallest length >= 2 gh (a linear convolution needs
// 2 gh - 1) of the form 2^k, 3 2^k, 5 2^k or 15 2^k (k >= 4), lengths that av_tx does
// with its codelets (odd factors other than these go to its O(n^2) fallback: 270 points
// took 1.4 ms, 1000x 288's); glare_grid's power of two is up to 2x longer. The column
// transforms are most of the glare's FFT: at 1080p (gh = 135) 320 rows instead of 512,
// av_tx's 320-point FFT 1.3 us against 2.3-2.9 us for 512 (Zen 5). The same linear
// convolution (tests/model/test_glare against the direct sum), rounding aside; the CUDA
// engine keeps glare_grid's power of two (cuFFT).
static int fft_rows(int gh) {
  const int n = std::max(4, 2 * gh);
  int best = glare_next_pow2(n);
  for (int m : {3, 5, 15})
    for (int p = 16; m * p < best; p *= 2)
      if (m * p >= n) best = m * p;
  return best;
}

bool CpuGlare::init(int width, int height, float ppd, int max_cells, float age, float pig, bool direct_kernel,
                    const CpuGlare* kernel_of) {
  free_plans();
  w_ = width;
  h_ = height;
  ppd_ = ppd;
  max_cells_ = max_cells;
  age_ = age;
  pig_ = pig;
  GlareGrid g = glare_grid(width, height, max_cells);  // shared with cuda/optics.cu
  g.ph = fft_rows(g.gh);  // (the kernel's table wraps at this ph)
  f_ = g.f;
  gw_ = g.gw;
  gh_ = g.gh;
  pw_ = g.pw;
  ph_ = g.ph;
  cw_ = g.cw;
  float scale = 1.0f;
  av_tx_fn fn;
  // a context per part and transform (av_tx does not promise that one context may run
  // on two threads at once); the same parameters give the same codelet, fn
  for (int p = 0; p < kParts; ++p) {
    if (av_tx_init(&rf_[p], &fn, AV_TX_FLOAT_RDFT, 0, pw_, &scale, AV_TX_UNALIGNED) < 0) return false;
    rf_fn_ = (void*)fn;
    if (av_tx_init(&ri_[p], &fn, AV_TX_FLOAT_RDFT, 1, pw_, &scale, AV_TX_UNALIGNED) < 0) return false;
    ri_fn_ = (void*)fn;
    if (av_tx_init(&cf_[p], &fn, AV_TX_FLOAT_FFT, 0, ph_, &scale, AV_TX_UNALIGNED) < 0) return false;
    cf_fn_ = (void*)fn;
    if (av_tx_init(&ci_[p], &fn, AV_TX_FLOAT_FFT, 1, ph_, &scale, AV_TX_UNALIGNED) < 0) return false;
    ci_fn_ = (void*)fn;
  }
  const bool own = !kernel_of;  // this object makes the kernel (else kernel_of's spectrum)
  const size_t nreal = size_t(pw_ + 2) * (own ? ph_ : kParts), nrows = size_t(own ? ph_ : gh_) * cw_ * 2;
  const size_t ncols = size_t(cw_) * ph_ * 2, ntmp = size_t(kParts) * (size_t(ph_) * 2 + 2);
  const size_t nspec = own ? size_t(cw_) * ph_ * 2 : 0;
  arena_.assign(nreal + nrows + ncols + ntmp + nspec, 0.0f);
  real_ = arena_.data();
  rows_ = real_ + nreal;
  cols_ = rows_ + nrows;
  tmpc_ = cols_ + ncols;
  kern_.clear();
  if (!own) {
    kspec_ = kernel_of->kspec_;
    return true;
  }
  float* kspec = tmpc_ + ntmp;
  kspec_ = kspec;

  // Kernel: weight of a source cell at offset (dx, dy) cells, wrapped into the padded grid.
  glare_kernel_table(g, ppd, age, pig, 1.0f, real_);
  if (direct_kernel) {  // the same weights, wrapped into (2 gh - 1) x (2 gw - 1): no overlap
    const int kw = 2 * gw_ - 1, kh = 2 * gh_ - 1;
    kern_.assign(size_t(kw) * kh, 0.0f);
    for (int dy = -(gh_ - 1); dy <= gh_ - 1; ++dy)
      for (int dx = -(gw_ - 1); dx <= gw_ - 1; ++dx)
        kern_[size_t((dy + kh) % kh) * kw + (dx + kw) % kw] = real_[size_t((dy + ph_) % ph_) * pw_ + (dx + pw_) % pw_];
  }
  fwd2d(real_, kspec);
  const float norm = 1.0f / (float(pw_) * float(ph_));
  for (size_t i = 0; i < nspec; ++i) kspec[i] *= norm;
  return true;
}

void CpuGlare::fwd2d(float* real, float* out) {
  auto rf = (av_tx_fn)rf_fn_;
  auto cf = (av_tx_fn)cf_fn_;
  for (int y = 0; y < ph_; ++y)
    rf(rf_[0], rows_ + size_t(y) * cw_ * 2, real + size_t(y) * pw_, sizeof(float));
  // transpose to column-major complex, then FFT along y
  for (int y = 0; y < ph_; ++y)
    for (int x = 0; x < cw_; ++x) {
      cols_[(size_t(x) * ph_ + y) * 2] = rows_[(size_t(y) * cw_ + x) * 2];
      cols_[(size_t(x) * ph_ + y) * 2 + 1] = rows_[(size_t(y) * cw_ + x) * 2 + 1];
    }
  for (int x = 0; x < cw_; ++x)
    cf(cf_[0], out + size_t(x) * ph_ * 2, cols_ + size_t(x) * ph_ * 2, sizeof(AVComplexFloat));
}

void CpuGlare::run(const float* src, float* dst) {
  for (int p = 0; p < kParts; ++p) rows(src, p);
  for (int p = 0; p < kParts; ++p) columns(p);
  for (int p = 0; p < kParts; ++p) inverse(dst, p);
}

// Only the gh rows that carry data are transformed, and only the gh rows read back are
// transposed back (rows gh .. ph of the padded grid are zero on the way in and not read on
// the way out; the real transform of a zero row is zero, written as zeros by columns());
// the transposes in blocks of kBlk rows (a 64-byte line per column): row by row, each
// complex value went to its own line 4 KiB (ph = 512 at 1080p) from the last. Same
// transforms of the same values as one full 2-D FFT.
namespace {
constexpr int kBlk = 8;
}

void CpuGlare::part_rows(int part, int* y0, int* y1) const {
  *y0 = int(long(gh_) * part / kParts);
  *y1 = int(long(gh_) * (part + 1) / kParts);
}

void CpuGlare::rows(const float* src, int part) {
  auto rf = (av_tx_fn)rf_fn_;
  float* line = real_ + size_t(part) * pw_;  // (real_ holds >= 4 rows of pw)
  int y0, y1;
  part_rows(part, &y0, &y1);
  for (int b0 = y0; b0 < y1; b0 += kBlk) {
    const int b1 = std::min(y1, b0 + kBlk);
    for (int y = b0; y < b1; ++y) {
      const float* sr = src + size_t(y) * gw_;
      if (std::all_of(sr, sr + gw_, [](float v) { return v == 0.0f; })) {
        // a row without a source (glare on a display: most rows, the cells above the
        // frame's 99.9th percentile feed the veil): its spectrum is zero
        std::fill(rows_ + size_t(y) * cw_ * 2, rows_ + size_t(y + 1) * cw_ * 2, 0.0f);
        continue;
      }
      std::memcpy(line, sr, sizeof(float) * gw_);
      std::fill(line + gw_, line + pw_, 0.0f);  // (each row: the transform's input is const
                                                // by its API, not by its documentation)
      rf(rf_[part], rows_ + size_t(y) * cw_ * 2, line, sizeof(float));
    }
    for (int x = 0; x < cw_; ++x)
      for (int y = b0; y < b1; ++y) {
        cols_[(size_t(x) * ph_ + y) * 2] = rows_[(size_t(y) * cw_ + x) * 2];
        cols_[(size_t(x) * ph_ + y) * 2 + 1] = rows_[(size_t(y) * cw_ + x) * 2 + 1];
      }
  }
}

// Per output row, each source's kernel row times its value added in (the sources in idx
// order: the same sums whatever thread takes which rows); the kernel row's columns x - sx
// wrap at kw, so a source's row is two contiguous runs (vectorised).
DTUTMO_HOT void CpuGlare::direct(const float* const* src, float* const* dst, int nch, const int* idx, int n, int y0,
                                 int y1) const {
  const int kw = 2 * gw_ - 1, kh = 2 * gh_ - 1;
  for (int y = y0; y < y1; ++y) {
    for (int c = 0; c < nch; ++c) std::fill(dst[c] + size_t(y) * gw_, dst[c] + size_t(y + 1) * gw_, 0.0f);
    for (int k = 0; k < n; ++k) {
      const int sy = idx[k] / gw_, sx = idx[k] - sy * gw_;
      const float* __restrict kr = kern_.data() + size_t((y - sy + kh) % kh) * kw;
      for (int c = 0; c < nch; ++c) {
        const float v = src[c][idx[k]];
        float* __restrict d = dst[c] + size_t(y) * gw_;
        for (int x = 0; x < sx; ++x) d[x] += v * kr[x - sx + kw];
        for (int x = sx; x < gw_; ++x) d[x] += v * kr[x - sx];
      }
    }
  }
}

void CpuGlare::columns(int part) {
  auto cf = (av_tx_fn)cf_fn_;
  auto ci = (av_tx_fn)ci_fn_;
  float* t = tmpc_ + size_t(part) * (size_t(ph_) * 2 + 2);
  const int x0 = int(long(cw_) * part / kParts), x1 = int(long(cw_) * (part + 1) / kParts);
  for (int x = x0; x < x1; ++x) {
    float* c = cols_ + size_t(x) * ph_ * 2;
    std::fill(c + size_t(gh_) * 2, c + size_t(ph_) * 2, 0.0f);  // the zero rows' spectra
    cf(cf_[part], t, c, sizeof(AVComplexFloat));
    const float* k = kspec_ + size_t(x) * ph_ * 2;
    for (int y = 0; y < ph_; ++y) {
      const float ar = t[2 * y], ai = t[2 * y + 1];
      const float br = k[2 * y], bi = k[2 * y + 1];
      t[2 * y] = ar * br - ai * bi;
      t[2 * y + 1] = ar * bi + ai * br;
    }
    ci(ci_[part], c, t, sizeof(AVComplexFloat));
  }
}

void CpuGlare::inverse(float* dst, int part) {
  auto ri = (av_tx_fn)ri_fn_;
  float* line = real_ + size_t(part) * pw_;
  int y0, y1;
  part_rows(part, &y0, &y1);
  for (int b0 = y0; b0 < y1; b0 += kBlk) {
    const int b1 = std::min(y1, b0 + kBlk);
    for (int x = 0; x < cw_; ++x)
      for (int y = b0; y < b1; ++y) {
        rows_[(size_t(y) * cw_ + x) * 2] = cols_[(size_t(x) * ph_ + y) * 2];
        rows_[(size_t(y) * cw_ + x) * 2 + 1] = cols_[(size_t(x) * ph_ + y) * 2 + 1];
      }
    for (int y = b0; y < b1; ++y) {
      ri(ri_[part], line, rows_ + size_t(y) * cw_ * 2, sizeof(AVComplexFloat));
      for (int x = 0; x < gw_; ++x) dst[size_t(y) * gw_ + x] = std::max(0.0f, line[x]);
    }
  }
}

}  // namespace dtutmo
