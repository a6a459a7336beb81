// dtutmo -- CIE 180 disability glare by FFT at reduced resolution (see cpu_glare.h).
#include "cpu_glare.h"

#include <algorithm>
#include <cmath>
#include <cstring>

extern "C" {
#include <libavutil/tx.h>
}

#include "dtutmo/glare_kernel.h"

namespace dtutmo {

CpuGlare::~CpuGlare() { free_plans(); }

void CpuGlare::free_plans() {
  av_tx_uninit(&rf_);
  av_tx_uninit(&ri_);
  av_tx_uninit(&cf_);
  av_tx_uninit(&ci_);
}

bool CpuGlare::matches(int width, int height, float ppd, int max_cells, float age,
                       float pig) const {
  return width == w_ && height == h_ && ppd == ppd_ && max_cells == max_cells_ && age == age_ &&
         pig == pig_ && rf_;
}

bool CpuGlare::init(int width, int height, float ppd, int max_cells, float age, float pig) {
  free_plans();
  w_ = width;
  h_ = height;
  ppd_ = ppd;
  max_cells_ = max_cells;
  age_ = age;
  pig_ = pig;
  const GlareGrid g = glare_grid(width, height, max_cells);  // shared with cuda/optics.cu
  f_ = g.f;
  gw_ = g.gw;
  gh_ = g.gh;
  pw_ = g.pw;
  ph_ = g.ph;
  cw_ = g.cw;
  float scale = 1.0f;
  av_tx_fn fn;
  if (av_tx_init(&rf_, &fn, AV_TX_FLOAT_RDFT, 0, pw_, &scale, AV_TX_UNALIGNED) < 0) return false;
  rf_fn_ = (void*)fn;
  if (av_tx_init(&ri_, &fn, AV_TX_FLOAT_RDFT, 1, pw_, &scale, AV_TX_UNALIGNED) < 0) return false;
  ri_fn_ = (void*)fn;
  if (av_tx_init(&cf_, &fn, AV_TX_FLOAT_FFT, 0, ph_, &scale, AV_TX_UNALIGNED) < 0) return false;
  cf_fn_ = (void*)fn;
  if (av_tx_init(&ci_, &fn, AV_TX_FLOAT_FFT, 1, ph_, &scale, AV_TX_UNALIGNED) < 0) return false;
  ci_fn_ = (void*)fn;
  real_.assign(size_t(pw_ + 2) * ph_, 0.0f);
  rows_.assign(size_t(ph_) * cw_ * 2, 0.0f);
  cols_.assign(size_t(cw_) * ph_ * 2, 0.0f);
  tmpc_.assign(size_t(ph_) * 2 + 2, 0.0f);
  kspec_.assign(size_t(cw_) * ph_ * 2, 0.0f);

  // Kernel: weight of a source cell at offset (dx, dy) cells, wrapped into the padded grid.
  std::fill(real_.begin(), real_.end(), 0.0f);
  glare_kernel_table(g, ppd, age, pig, 1.0f, real_.data());
  fwd2d(real_.data(), kspec_.data());
  const float norm = 1.0f / (float(pw_) * float(ph_));
  for (float& v : kspec_) v *= norm;
  return true;
}

void CpuGlare::fwd2d(float* real, float* out) {
  auto rf = (av_tx_fn)rf_fn_;
  auto cf = (av_tx_fn)cf_fn_;
  for (int y = 0; y < ph_; ++y)
    rf(rf_, rows_.data() + size_t(y) * cw_ * 2, real + size_t(y) * pw_, sizeof(float));
  // transpose to column-major complex, then FFT along y
  for (int y = 0; y < ph_; ++y)
    for (int x = 0; x < cw_; ++x) {
      cols_[(size_t(x) * ph_ + y) * 2] = rows_[(size_t(y) * cw_ + x) * 2];
      cols_[(size_t(x) * ph_ + y) * 2 + 1] = rows_[(size_t(y) * cw_ + x) * 2 + 1];
    }
  for (int x = 0; x < cw_; ++x)
    cf(cf_, out + size_t(x) * ph_ * 2, cols_.data() + size_t(x) * ph_ * 2, sizeof(AVComplexFloat));
}

void CpuGlare::run(const float* src, float* dst) {
  std::fill(real_.begin(), real_.end(), 0.0f);
  for (int y = 0; y < gh_; ++y)
    std::memcpy(real_.data() + size_t(y) * pw_, src + size_t(y) * gw_, sizeof(float) * gw_);
  auto rf = (av_tx_fn)rf_fn_;
  auto ri = (av_tx_fn)ri_fn_;
  auto cf = (av_tx_fn)cf_fn_;
  auto ci = (av_tx_fn)ci_fn_;
  // rows (only the non-zero ones carry data)
  std::fill(rows_.begin(), rows_.end(), 0.0f);
  for (int y = 0; y < gh_; ++y)
    rf(rf_, rows_.data() + size_t(y) * cw_ * 2, real_.data() + size_t(y) * pw_, sizeof(float));
  for (int y = 0; y < ph_; ++y)
    for (int x = 0; x < cw_; ++x) {
      cols_[(size_t(x) * ph_ + y) * 2] = rows_[(size_t(y) * cw_ + x) * 2];
      cols_[(size_t(x) * ph_ + y) * 2 + 1] = rows_[(size_t(y) * cw_ + x) * 2 + 1];
    }
  for (int x = 0; x < cw_; ++x) {
    float* c = cols_.data() + size_t(x) * ph_ * 2;
    cf(cf_, tmpc_.data(), c, sizeof(AVComplexFloat));
    const float* k = kspec_.data() + size_t(x) * ph_ * 2;
    for (int y = 0; y < ph_; ++y) {
      const float ar = tmpc_[2 * y], ai = tmpc_[2 * y + 1];
      const float br = k[2 * y], bi = k[2 * y + 1];
      tmpc_[2 * y] = ar * br - ai * bi;
      tmpc_[2 * y + 1] = ar * bi + ai * br;
    }
    ci(ci_, c, tmpc_.data(), sizeof(AVComplexFloat));
  }
  for (int y = 0; y < gh_; ++y)
    for (int x = 0; x < cw_; ++x) {
      rows_[(size_t(y) * cw_ + x) * 2] = cols_[(size_t(x) * ph_ + y) * 2];
      rows_[(size_t(y) * cw_ + x) * 2 + 1] = cols_[(size_t(x) * ph_ + y) * 2 + 1];
    }
  for (int y = 0; y < gh_; ++y) {
    ri(ri_, real_.data() + size_t(y) * pw_, rows_.data() + size_t(y) * cw_ * 2, sizeof(AVComplexFloat));
    for (int x = 0; x < gw_; ++x) dst[size_t(y) * gw_ + x] = std::max(0.0f, real_[size_t(y) * pw_ + x]);
  }
}

}  // namespace dtutmo
