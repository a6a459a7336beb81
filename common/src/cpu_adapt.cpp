// dtutmo -- CPU engine, local adaptation at low resolution (DESIGN.md section 4): cell
// means, the global log-mean and its outlier filter, the edge-aware pooling of the La grid
// (cpu_spatial.cpp EdgePooler), temporal smoothing, the per-cell receptor constants; and
// the per-pixel lookup of those constants for one row (bilinear, or joint-bilateral with
// local adaptation on).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "dtutmo/fastmath.h"
#include "engine_cpu.h"

namespace dtutmo {
namespace cpu {

void CpuEngine::low_res(double dt, bool snap) {
  const int nc = gw_ * gh_;
  // cell means and the global log-mean (pixel weighted)
  double gs = 0, gn = 0;
  for (int i = 0; i < nc; ++i) {
    gs += cell_sum_[i];
    gn += cell_cnt_[i];
    la_loc_[i] = cell_sum_[i] / std::max(cell_cnt_[i], 1.0f);
  }
  const float target_logmean = float(gs / std::max(gn, 1.0));
  // outlier rejection: the smoothers follow the median of the last three frames' targets
  // (med3_push), so a one-frame flash or black frame never enters the state.
  // Broadcast mode: a cut is a jump of that filtered log-mean, i.e. a jump that persists
  // for two frames (a one-frame flash is not a cut); it re-adapts at once to the current
  // frame and refills the histories.
  bool cut = false;
  const float f_logmean = filter_logmean(h_logmean_, prev_med_logmean_, target_logmean,
                                         P_.adaptation == AdaptationMode::Broadcast, P_.cut_threshold,
                                         &snap, &cut);
  st_.cut_detected = cut;
  snapped_ = snap;
  const float kc = snap ? 1.0f : smooth_k(dt, P_.cone_tau);
  const float kr = snap ? 1.0f : smooth_k(dt, P_.rod_tau);
  const float kp = snap ? 1.0f : smooth_k(dt, P_.pupil_tau);

  // local pooling: Gaussians of 0.5, 1, 2, 4 degrees (diameters 1, 2, 4, 8), 1:2:4:8
  const float ppd = float(W_) / P_.fov_deg;
  const float a = P_.local ? P_.local_adaptation : 0.0f;
  if (a > 0.0f) {
    const float sig[4] = {0.5f * ppd / kCell, 1.0f * ppd / kCell, 2.0f * ppd / kCell,
                          4.0f * ppd / kCell};
    const float wts[4] = {1, 2, 4, 8};
    // edge-aware: each Gaussian is cross-bilateral in log luminance (DESIGN.md section 4),
    // so a dark tree does not pool the sky around it nor a lamp the room around it
    epool_.begin(la_loc_.data(), sig, wts, 4);
    pool_.run(epool_.bins(), [&](int j, int th) { epool_.process_bin(j, th); });
    pool_.run(gh_, [&](int y, int) { epool_.slice(y, y + 1, la_tgt_.data()); });
    for (int i = 0; i < nc; ++i) la_tgt_[i] = local_target(la_tgt_[i], target_logmean, a);
    std::copy(la_loc_.begin(), la_loc_.end(), jguide_.begin());
    jbu_ = true;
  } else {
    for (int i = 0; i < nc; ++i) la_tgt_[i] = target_logmean;
    jbu_ = false;
  }
  // the pupil follows the filtered, smoothed log-mean, so it is outlier-free too (it does
  // not depend on the cells: computed first so that the cell loop below runs in parallel)
  const float la_g = update_logmean_pupil(s_logmean_, s_pupil_, f_logmean, snap, kc, kp, P_.fov_deg,
                                          W_, H_, P_.observer_age);
  K_.la_global = la_g;
  K_.pupil_mm = s_pupil_;
  K_.td_per_nit = pupil_area_eff(s_pupil_);
  const float td = K_.td_per_nit;
  // cones and rods: the per-cell median target, then the per-cell receptor constants
  // (libm transcendentals per cell: rows of cells in parallel, results unchanged)
  const bool meso = P_.mesopic;
  const float ltd = std::log2(td);
  pool_.run(gh_, [&](int cy, int) {
    for (int i = cy * gw_, ie = i + gw_; i < ie; ++i) {
      update_cell_la(snap, kc, kr, la_tgt_[i], la_h1_[i], la_h2_[i], la_s_[i], la_rod_s_[i]);
      const AdaptCell& c = cells_[i] = adapt_cell(la_s_[i], la_rod_s_[i], td, meso);
      float k[4];
      fold_cell_k(c, ltd, k);
      gridk_[size_t(kChLM) * nc + i] = k[0];
      gridk_[size_t(kChS) * nc + i] = k[1];
      gridk_[size_t(kChRod) * nc + i] = k[2];
      gridk_[size_t(kChW) * nc + i] = k[3];
    }
  });
  // rods' global adaptation: the smoothed mean of the rod copy
  double rs = 0;
  for (int i = 0; i < nc; ++i) rs += la_rod_s_[i];
  const float la_g_rod = std::exp2(float(rs / nc));
  K_.la_global_rod = la_g_rod;
  // photopic everywhere (rod weight exactly 0): r = a + 0 (d - a) = a, so the rod response
  // and its two channels need not be computed at all
  rod_any_ = false;
  for (int i = 0; i < nc; ++i) rod_any_ = rod_any_ || gridk_[size_t(kChW) * nc + i] != 0.0f;
  frame_consts(kc);
}

// Joint-bilateral lookup of the adaptation channels (Kopf et al. 2007) for one row: the
// four bilinear corner weights, each times a range weight exp(-d^2 / 2 sigma^2) with d the
// pixel's log2 luminance minus the corner cell's mean log2 luminance (plus 1e-3 so that a
// pixel unlike all four corners falls back to bilinear), normalised. A pixel of the dark
// tree takes the La of the tree's cells, not of the sky cell next to it.
// 2^x for the range weights (x <= 0): clamped at -24 (below the 1e-3 floor added to every
// weight), degree-5 Taylor series on the rounded remainder (rel. error < 2.5e-6, against
// fast_exp2's degree 7 over [-126, 126]).
static inline __attribute__((always_inline)) float jbu_exp2(float x) {
  x = x > -24.0f ? x : -24.0f;
  const float xr = x + 0.5f;
  int32_t ii = (int32_t)xr;
  ii -= (xr < (float)ii) ? 1 : 0;
  const float f = x - (float)ii;
  float p = 1.333355814642844e-03f;
  p = p * f + 9.618129107628477e-03f;
  p = p * f + 5.550410866482158e-02f;
  p = p * f + 2.402265069591007e-01f;
  p = p * f + 6.931471805599453e-01f;
  p = p * f + 1.0f;
  const int32_t bits = (ii + 127) << 23;
  float sc;
  memcpy(&sc, &bits, 4);
  return p * sc;
}

DTUTMO_HOT static void interp_row_jbu(int W, int gw, int nc, int nch, bool rod_any,
                                      const int* __restrict ix, const float* __restrict tx,
                                      float ty, int y0, int y1, const float* __restrict ly,
                                      const float* __restrict guide,
                                      const float* __restrict grid, float* __restrict wq,
                                      float* __restrict ad) {
  const float* __restrict ga = guide + size_t(y0) * gw;
  const float* __restrict gb = guide + size_t(y1) * gw;
  const float c = kLookupRangeCoef;  // model.h: the range weight is 2^(c d^2)
  float* __restrict w0 = wq;
  float* __restrict w1 = wq + W;
  float* __restrict w2 = wq + 2 * size_t(W);
  float* __restrict w3 = wq + 3 * size_t(W);
  // ix is non-decreasing and constant over runs of ~kCell columns: per run, the four
  // corner values are scalars (broadcast) instead of per-pixel gathers
  for (int xs = 0; xs < W;) {
    const int i0 = ix[xs], i1 = i0 + 1 < gw ? i0 + 1 : i0;
    int xe = xs + 1;
    while (xe < W && ix[xe] == i0) ++xe;
    const float g0 = ga[i0], g1 = ga[i1], g2 = gb[i0], g3 = gb[i1];
    if (!rod_any && nch == kChD0) {
      // photopic whiteboard: only L/M and S are read; both straight from the weights
      // (no round trip of the four weight rows through scratch)
      const float* __restrict a0p = grid + size_t(kChLM) * nc + size_t(y0) * gw;
      const float* __restrict b0p = grid + size_t(kChLM) * nc + size_t(y1) * gw;
      const float* __restrict a1p = grid + size_t(kChS) * nc + size_t(y0) * gw;
      const float* __restrict b1p = grid + size_t(kChS) * nc + size_t(y1) * gw;
      const float p0 = a0p[i0], p1 = a0p[i1], p2 = b0p[i0], p3 = b0p[i1];
      const float q0 = a1p[i0], q1 = a1p[i1], q2 = b1p[i0], q3 = b1p[i1];
      float* __restrict o0 = ad + size_t(kChLM) * W;
      float* __restrict o1 = ad + size_t(kChS) * W;
      for (int x = xs; x < xe; ++x) {
        const float t = tx[x], v = ly[x];
        const float d0 = v - g0, d1 = v - g1, d2 = v - g2, d3 = v - g3;
        const float a0 = (1 - t) * (1 - ty) * (jbu_exp2(c * d0 * d0) + 1e-3f);
        const float a1 = t * (1 - ty) * (jbu_exp2(c * d1 * d1) + 1e-3f);
        const float a2 = (1 - t) * ty * (jbu_exp2(c * d2 * d2) + 1e-3f);
        const float a3 = t * ty * (jbu_exp2(c * d3 * d3) + 1e-3f);
        const float inv = 1.0f / (a0 + a1 + a2 + a3);
        const float e0 = a0 * inv, e1 = a1 * inv, e2 = a2 * inv, e3 = a3 * inv;
        o0[x] = e0 * p0 + e1 * p1 + e2 * p2 + e3 * p3;
        o1[x] = e0 * q0 + e1 * q1 + e2 * q2 + e3 * q3;
      }
      xs = xe;
      continue;
    }
    for (int x = xs; x < xe; ++x) {
      const float t = tx[x], v = ly[x];
      const float d0 = v - g0, d1 = v - g1, d2 = v - g2, d3 = v - g3;
      const float a0 = (1 - t) * (1 - ty) * (jbu_exp2(c * d0 * d0) + 1e-3f);
      const float a1 = t * (1 - ty) * (jbu_exp2(c * d1 * d1) + 1e-3f);
      const float a2 = (1 - t) * ty * (jbu_exp2(c * d2 * d2) + 1e-3f);
      const float a3 = t * ty * (jbu_exp2(c * d3 * d3) + 1e-3f);
      const float inv = 1.0f / (a0 + a1 + a2 + a3);
      w0[x] = a0 * inv;
      w1[x] = a1 * inv;
      w2[x] = a2 * inv;
      w3[x] = a3 * inv;
    }
    for (int k = 0; k < nch; ++k) {
      if (!rod_any && (k == kChRod || k == kChW)) continue;  // not read (responses_core)
      const float* __restrict a = grid + size_t(k) * nc + size_t(y0) * gw;
      const float* __restrict b = grid + size_t(k) * nc + size_t(y1) * gw;
      const float c0 = a[i0], c1 = a[i1], c2 = b[i0], c3 = b[i1];
      float* __restrict o = ad + size_t(k) * W;
      for (int x = xs; x < xe; ++x) o[x] = w0[x] * c0 + w1[x] * c1 + w2[x] * c2 + w3[x] * c3;
    }
    xs = xe;
  }
}

// Bilinear interpolation of the adaptation channels for row y: vertical lerp of two grid
// rows, then horizontal lerp through the per-column tables ix_/tx_ (made at configure).
// With local adaptation on, the joint-bilateral lookup above instead (edge-aware).
void CpuEngine::interp_row(int y, Scratch& s) {
  float gy = (y + 0.5f) / kCell - 0.5f;
  gy = std::min(std::max(gy, 0.0f), float(gh_ - 1));
  const int y0 = std::min(int(gy), gh_ - 1), y1 = std::min(y0 + 1, gh_ - 1);
  const float ty = gy - y0;
  const int nch = P_.display_mode != DisplayMode::Whiteboard ? kAd : kChD0;
  if (jbu_) {
    interp_row_jbu(W_, gw_, gw_ * gh_, nch, rod_any_, ix_.data(), tx_.data(), ty, y0, y1,
                   logy_.data() + size_t(y) * W_, jguide_.data(), gridk_.data(), s.jw.data(),
                   s.ad.data());
    return;
  }
  float* vr = s.vrow.data();
  for (int k = 0; k < nch; ++k) {
    if (!rod_any_ && (k == kChRod || k == kChW)) continue;  // not read (responses_core)
    const float* a = gridk_.data() + (size_t(k) * gh_ + y0) * gw_;
    const float* b = gridk_.data() + (size_t(k) * gh_ + y1) * gw_;
    float* d = vr + size_t(k) * (gw_ + 1);
    for (int i = 0; i < gw_; ++i) d[i] = a[i] + ty * (b[i] - a[i]);
    d[gw_] = d[gw_ - 1];
  }
  interp_h(nch, vr, s.ad.data());
}

DTUTMO_HOT void CpuEngine::interp_h(int nch, const float* __restrict vr, float* __restrict ad) const {
  const int W = W_;
  const int* __restrict ix = ix_.data();
  const float* __restrict tx = tx_.data();
  for (int k = 0; k < nch; ++k) {
    if (!rod_any_ && (k == kChRod || k == kChW)) continue;
    const float* __restrict d = vr + size_t(k) * (gw_ + 1);
    float* __restrict o = ad + size_t(k) * W;
    for (int x = 0; x < W; ++x) {
      const float a = d[ix[x]], b = d[ix[x] + 1];
      o[x] = a + tx[x] * (b - a);
    }
  }
}

}  // namespace cpu
}  // namespace dtutmo
