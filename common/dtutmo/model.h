// dtutmo -- the model's per-frame pieces: temporal state (level smoothing, median-of-3
// outlier filter, cut detection), the grey responses of the scene and display observers and their inversions,
// the response percentiles, the normalisation targets and the per-cell receptor /
// display constants. ONE copy, used by the CPU engine (common/src/engine_cpu.cpp) and by
// the CUDA kernels and their host code (cuda/model.cuh includes this header).
//
// Plain C++ + <math.h> float functions behind DTUTMO_HD (no std:: inside them).
// std_min / std_max return what std::min / std::max return (NaN and signed-zero cases
// included), so that the CPU engine's results do not change by calling these.
#pragma once

#include "dtutmo/color.h"
#include "dtutmo/csf.h"
#include "dtutmo/display.h"
#include "dtutmo/dtucam.h"
#include "dtutmo/engine.h"
#include "dtutmo/fastmath.h"
#include "dtutmo/frame.h"
#include "dtutmo/frame_consts.h"
#include "dtutmo/hd.h"
#include "dtutmo/optics.h"
#include "dtutmo/params.h"
#include "dtutmo/receptors.h"
#include "dtutmo/spatial.h"
#include "dtutmo/transfer.h"

namespace dtutmo {

// The engines' grid and table constants (CPU and CUDA alike).
// (kCell, kSub, kLookupRangeSigma: spatial.h)
constexpr int kDecodeTab = 16384;          // decode table intervals over [0, 1]
constexpr int kHistBins = 1024;            // response histogram bins over [0, 1)
constexpr float kMinNits = 1e-4f;          // floor of luminance in the log domain, cd/m^2
constexpr float kMaxNits = 1e6f;           // sanitising ceiling, cd/m^2
constexpr int kCsfLevels = 6;              // CSF pyramid levels
// La pooling: bilateral-grid bin along log2 luminance (range kernel sigma ~0.58 bins, zero
// beyond 2 bins). 1 stop: at 2 (zero beyond 4 stops) a dark object 3.3 stops below its
// surround (10:1) took some of the surround's level into its rim cells, whose local
// adaptation then drew a 0.15-0.2 stop shadow inside its edge (halo charts, a >= 0.6).
constexpr float kPoolRangeStep = 1.0f;

// --------------------------------------------------------------- temporal state
// What adapts over time is the LEVEL (MODEL.md, "Temporal adaptation state"): the global
// log-mean (cone-tau; a copy with rod-tau for the rods), the pupil (pupil-tau) and the
// response percentiles (range-tau; DESIGN.md "Temporal state" says why not cone-tau). The LAYOUT of local adaptation belongs to the frame
// being shown: a cell's adaptation is the current frame's local deviation from its own
// log-mean put on the smoothed level (cell_la), so no structure of an earlier frame can
// remain (no afterimage after a cut, no trail behind a moving edge).

// Time-constant smoothing x += k (target - x), k = 1 - exp(-dt/tau); snaps to the target
// when within 1e-6 (relative or absolute) so that a static scene converges bit-identically.
DTUTMO_HD float smooth_to(float x, float target, float k) {
  const float d = target - x;
  if (fabsf(d) <= 1e-6f * std_max(1.0f, fabsf(target))) return target;
  return x + k * d;
}
// The smoothing factor 1 - exp(-dt / tau) (1 when tau <= 0: snap).
DTUTMO_HD float smooth_k(double dt, float tau) {
  if (tau <= 0.0f) return 1.0f;
  return (float)(1.0 - exp(-dt / (double)tau));
}

// Temporal outlier filter in front of every global smoother: the median of the current
// target and the last two frames' (h0 previous, h1 the one before), which then shift. A
// one-frame flash or black frame never reaches the state; a gradual change arrives one
// frame late. refill (reset, discontinuity, cut): the history becomes the current target.
DTUTMO_HD float med3(float a, float b, float c) { return std_max(std_min(a, b), std_min(std_max(a, b), c)); }
DTUTMO_HD float med3_push(float& h0, float& h1, float t, bool refill) {
  if (refill) {
    h0 = h1 = t;
    return t;
  }
  const float m = med3(h1, h0, t);
  h1 = h0;
  h0 = t;
  return m;
}

// --- cut detection (broadcast mode) ---
// A frame's signature is kCutQ quantiles of its cells' log2 mean luminance (the adaptation
// grid, kCell x kCell pixels a cell, every cell counted once), from a histogram of
// kCutBins bins kCutBinW log2 wide from kCutLo (kMinNits is -13.3 log2). A cut is a jump of
// the log-mean by more than `cut-threshold` (log10) or a change of the distribution's
// SHAPE by more than `cut-shape-threshold` (log2) between two consecutive frames (not
// filtered: the cut's first frame is caught). Shape change: the quantiles' shifts minus
// their median, mean absolute value: 0 for a pure gain (a fade, an exposure change, a
// flash that clips nothing), large for another picture, small for a pan (content enters
// at one edge only). Quantiles within half a stop of black in either frame are not
// compared (black holds no shape).
constexpr int kCutBins = 256;
constexpr float kCutLo = -14.0f;
constexpr float kCutBinW = 0.125f;
constexpr int kCutQ = 32;
constexpr float kCutBlack = -12.8f;  // log2 cd/m^2: log2(kMinNits) + 0.5

DTUTMO_HD int cut_bin(float log2y) {
  const float b = (log2y - kCutLo) * (1.0f / kCutBinW);
  return b < 0.0f ? 0 : (b >= (float)(kCutBins - 1) ? kCutBins - 1 : (int)b);
}
// The kCutQ quantiles (at (k + 0.5) / kCutQ, linear within a bin) of histogram h.
DTUTMO_HD void cut_signature(const unsigned int* h, float q[kCutQ]) {
  double tot = 0.0;
  for (int i = 0; i < kCutBins; ++i) tot += h[i];
  int b = 0;
  double acc = 0.0;
  for (int k = 0; k < kCutQ; ++k) {
    const double want = (k + 0.5) / kCutQ * tot;
    while (b < kCutBins - 1 && acc + h[b] < want) acc += h[b++];
    const double t = h[b] > 0 ? (want - acc) / h[b] : 0.5;
    q[k] = kCutLo + (float)((b + t) * kCutBinW);
  }
}
// The shape change between signatures q (this frame) and p (the previous one), log2
// units; -1 when fewer than half of the quantiles are comparable (a black frame).
DTUTMO_HD float cut_shape_change(const float q[kCutQ], const float p[kCutQ]) {
  float d[kCutQ];
  int n = 0;
  for (int k = 0; k < kCutQ; ++k)
    if (q[k] > kCutBlack && p[k] > kCutBlack) d[n++] = q[k] - p[k];
  if (2 * n < kCutQ) return -1.0f;
  for (int i = 1; i < n; ++i) {  // insertion sort (n <= 32)
    const float v = d[i];
    int j = i - 1;
    while (j >= 0 && d[j] > v) {
      d[j + 1] = d[j];
      --j;
    }
    d[j + 1] = v;
  }
  const float med = (n & 1) ? d[n / 2] : 0.5f * (d[n / 2 - 1] + d[n / 2]);
  float s = 0.0f;
  for (int i = 0; i < n; ++i) s += fabsf(d[i] - med);
  return s / (float)n;
}

// ------------------------------------------------------------ picture area
// Letterbox and pillarbox bars are not the scene: the frame's statistics (the global
// log-mean that sets the adaptation level, and the response histogram: the percentiles
// and the display key's median) are taken over the picture between the bars. A cell is
// lit when its mean log2 luminance is more than half a stop above the floor (kCutBlack:
// what a signal's black decodes to, PQ codes 64-65 at 10 bits, is not lit); a row (column)
// of cells is bar-like when at most 90 % of its cells are lit: a bar's rows, also where
// burned-in subtitles sit in the bar (a subtitle line rarely spans 90 % of the width, so it
// neither ends the bar nor, outside the picture, enters the statistics). The bars are the
// runs of bar-like rows (columns) from opposite edges, of equal size: the lesser of the
// two runs, so black on one side only (a night sky of no light) is picture and a light
// appearing in it does not move the statistics by all the black it would let in. Bars
// that would leave less than half the frame each way (a letterbox of 2.76:1 in 16:9 keeps
// 64 % of the height, a 4:3 pillarbox 75 % of the width) are none: a title line or a logo
// on black keeps the whole frame's statistics. With the bars counted, a 2.39:1 film in a
// 16:9 frame (a quarter of it black) was adapted far below its picture and came out
// washed out (the daylight scene letterboxed: mean code 171 -> 208, its spread down by a
// third).
DTUTMO_HD bool cell_lit(float cell_log2_mean) { return cell_log2_mean > kCutBlack; }
// The same for a cell's mean luminance (cd/m^2; the glare grid's cells).
DTUTMO_HD bool lum_lit(float y) { return y > exp2f(kCutBlack); }  // (a constant: folded)
DTUTMO_HD bool bar_like(int lit, int n) { return 10 * lit <= 9 * n; }
// The rows and columns that are not bar-like, as their extent: the first and the last + 1
// (start from empty_box; add each such row and column).
DTUTMO_HD CellBox empty_box(int gw, int gh) { return {gw, 0, gh, 0}; }
DTUTMO_HD void extent_add_row(CellBox& b, int y) {
  b.y0 = y < b.y0 ? y : b.y0;
  b.y1 = y + 1 > b.y1 ? y + 1 : b.y1;
}
DTUTMO_HD void extent_add_col(CellBox& b, int x) {
  b.x0 = x < b.x0 ? x : b.x0;
  b.x1 = x + 1 > b.x1 ? x + 1 : b.x1;
}
// The picture area in adaptation cells (gw x gh, `cell` pixels, on a w x h frame) from
// the extent e on a grid of cells of f pixels (the adaptation grid's own, or with optics
// the glare grid's: found before the veil, which lights the bars). The bars' size in
// pixels is the lesser of the two edges' runs (a partial last cell row or column counts
// its pixels only); the picture is what lies between, less a cell more on each bar's
// side (the cells on a bar's edge are partly bar: a bar's edge rarely falls on a cell's,
// and its black in the histogram put the low percentile at black still); its adaptation
// cells are those wholly inside.
DTUTMO_HD CellBox picture_area(CellBox e, int f, int gw, int gh, int w, int h, int cell = kCell) {
  const bool rows = e.y1 > e.y0, cols = e.x1 > e.x0;
  const int top = rows ? e.y0 * f : 0, bottom = rows && e.y1 * f < h ? h - e.y1 * f : 0;
  const int left = cols ? e.x0 * f : 0, right = cols && e.x1 * f < w ? w - e.x1 * f : 0;
  const int bv = top < bottom ? top : bottom, bh = left < right ? left : right;
  const CellBox whole = {0, gw, 0, gh};
  if (4 * bv > h || 4 * bh > w) return whole;
  const int mv = bv ? bv + f : 0, mh = bh ? bh + f : 0;
  const int y1 = h - mv, x1 = w - mh;
  const CellBox c = {(mh + cell - 1) / cell, x1 >= w ? gw : x1 / cell, (mv + cell - 1) / cell,
                     y1 >= h ? gh : y1 / cell};
  return c.empty() ? whole : c;
}
// The picture area in pixels into K (cells of K.cell pixels; the last cell may be partial).
DTUTMO_HD void set_picture(FrameConsts& K, CellBox c) {
  K.pic_x0 = c.x0 * K.cell;
  K.pic_y0 = c.y0 * K.cell;
  K.pic_x1 = c.x1 * K.cell < K.width ? c.x1 * K.cell : K.width;
  K.pic_y1 = c.y1 * K.cell < K.height ? c.y1 * K.cell : K.height;
}
DTUTMO_HD bool in_picture(const FrameConsts& K, int x, int y) {
  return x >= K.pic_x0 && x < K.pic_x1 && y >= K.pic_y0 && y < K.pic_y1;
}
// The response histogram's samples of one row that lie in the picture: [*i0, *i1) of the
// row's nsub (sample i at column i step + step / 2, hist_nsub), none when y is outside.
DTUTMO_HD void picture_samples(const FrameConsts& K, int y, int step, int nsub, int* i0, int* i1) {
  if (y < K.pic_y0 || y >= K.pic_y1) {
    *i0 = *i1 = 0;
    return;
  }
  const int h = step >> 1;
  const int a = K.pic_x0 > h ? (K.pic_x0 - h + step - 1) / step : 0;  // first with x >= pic_x0
  const int b = K.pic_x1 > h ? (K.pic_x1 - h + step - 1) / step : 0;  // first with x >= pic_x1
  *i0 = a < nsub ? a : nsub;
  *i1 = b < nsub ? b : nsub;
}

// The global temporal state (the CPU engine's member, inside the CUDA engine's DevState).
struct TemporalState {
  float s_logmean, s_rodmean;  // smoothed global log2 adaptation: cones (cone-tau), rods (rod-tau)
  float s_pupil;               // smoothed pupil diameter, mm
  float s_rlo, s_rhi;          // smoothed response percentiles
  float h_logmean[2], h_rlo[2], h_rhi[2];  // median-of-3 histories
  float prev_logmean;          // the previous frame's log-mean (unfiltered), log2
  float prev_sig[kCutQ];       // the previous frame's signature
  float shape_change;          // this frame's shape change (-1: not comparable)
};
// Before the first frame (which snaps anyway).
DTUTMO_HD TemporalState temporal_initial() {
  TemporalState s{};
  s.s_pupil = 4.0f;
  s.s_rhi = 1.0f;
  s.h_rlo[1] = 1.0f;
  s.h_rhi[0] = s.h_rhi[1] = 1.0f;
  return s;
}

// What one frame's global update decided.
struct TemporalStep {
  int snap;              // the state snapped to this frame (reset, discontinuity, cut)
  int cut;               // broadcast mode: this frame was taken as a cut
  float kc, kr, kp, kq;  // the smoothing factors used (1 on a snap): cone, rod, pupil, range
  float la_global;   // exp2(s_logmean), cd/m^2
};
// One frame's global update: cut detection (broadcast), the median-of-3 filter, the
// smoothed cone and rod levels and the pupil (which follows the filtered, smoothed
// log-mean, so it is outlier-free too). `target` the frame's pixel-weighted mean of
// log2 Y, `sig` its signature; kc_raw, kr_raw, kp_raw, kq_raw = smooth_k(dt, tau) of
// cone-tau, rod-tau, pupil-tau, range-tau; `snap` reset / discontinuity.
DTUTMO_HD TemporalStep temporal_update(TemporalState& s, float target, const float sig[kCutQ], bool snap,
                                       bool broadcast, float cut_threshold, float shape_threshold,
                                       float kc_raw, float kr_raw, float kp_raw, float kq_raw, float fov_deg,
                                       int width, int height, float age) {
  TemporalStep r{};
  s.shape_change = snap ? -1.0f : cut_shape_change(sig, s.prev_sig);
  if (!snap && broadcast &&
      (fabsf(target - s.prev_logmean) * 0.30103f > cut_threshold || s.shape_change > shape_threshold)) {
    snap = true;
    r.cut = 1;
  }
  s.prev_logmean = target;
  for (int k = 0; k < kCutQ; ++k) s.prev_sig[k] = sig[k];
  r.snap = snap;
  r.kc = snap ? 1.0f : kc_raw;
  r.kr = snap ? 1.0f : kr_raw;
  r.kp = snap ? 1.0f : kp_raw;
  r.kq = snap ? 1.0f : kq_raw;
  const float f = med3_push(s.h_logmean[0], s.h_logmean[1], target, snap);
  s.s_logmean = snap ? f : smooth_to(s.s_logmean, f, r.kc);
  s.s_rodmean = snap ? f : smooth_to(s.s_rodmean, f, r.kr);
  r.la_global = exp2f(s.s_logmean);
  const float fov_v = fov_deg * (float)height / (float)width;
  const float pupil_t = pupil_watson_yellott(r.la_global, fov_deg * fov_v, age, 1);
  s.s_pupil = snap ? pupil_t : smooth_to(s.s_pupil, pupil_t, r.kp);
  return r;
}

// One cell's cone and rod adaptation (log2 cd/m^2): the current frame's layout -- the
// cell's pooled target `tgt` less the frame's log-mean `target` -- on the smoothed levels.
// Converged on a static scene this is the target itself.
DTUTMO_HD void cell_la(const TemporalState& s, float tgt, float target, float& ls, float& lr) {
  const float d = tgt - target;
  ls = s.s_logmean + d;
  lr = s.s_rodmean + d;
}

// The response percentiles (the response range the display mapping normalises): median
// of the last three frames', smoothed with kq (range-tau). The high end rises
// kRangeRise times faster (time constant range-tau / kRangeRise) than it falls: a frame
// whose responses climb above the range (a fade in from black, where the level lags the
// light by several stops, a lamp switched on) was clipped for as long as the range took to
// follow -- the fades sequence's fade-in went to mean code 219 against 120 settled, with
// its interior blown to white for half a second; now 136. Falling stays slow: a bright
// window leaving a pan would pump the picture (DESIGN.md "Response range: range-tau").
constexpr float kRangeRise = 10.0f;
DTUTMO_HD void update_pct(TemporalState& s, float p_lo, float p_hi, bool snap, float kq) {
  const float lo_t = med3_push(s.h_rlo[0], s.h_rlo[1], p_lo, snap);
  const float hi_t = med3_push(s.h_rhi[0], s.h_rhi[1], p_hi, snap);
  s.s_rlo = kq >= 1.0f ? lo_t : smooth_to(s.s_rlo, lo_t, kq);
  // (1 - kq)^kRangeRise: smooth_k(dt, range-tau / kRangeRise)
  const float k_hi = hi_t > s.s_rhi ? 1.0f - powf(1.0f - kq, kRangeRise) : kq;
  s.s_rhi = kq >= 1.0f ? hi_t : smooth_to(s.s_rhi, hi_t, k_hi);
}

// Response of a receptor from log2 of p*I and log2 sigma: 1 / (1 + (sigma / pI)^n).
DTUTMO_PX float resp_log2(float log2_pi, float log2_sigma, float n) {
  return 1.0f / (1.0f + fast_exp2(n * (log2_sigma - log2_pi)));
}

// A cell's mean log2 luminance from its sum and pixel count (empty cells: the sum).
DTUTMO_HD float cell_mean(float sum, float count) { return sum / std_max(count, 1.0f); }

// The adaptation target of a cell (log2 cd/m^2) from its edge-aware pooled local level and
// the frame's log-mean g: g + a f(local - g) with a = local-adaptation. f passes large
// deviations (a window in a room, a lamp, deep shade: what the display cannot show at one
// adaptation) and leaves small ones to the global adaptation, f(d) = d^3 / (d^2 + d0^2),
// d0 = kLocalSoftStops: plain a (local - g) flattened every smooth gradient and moderate
// contrast by a share a (a 2-stop sky gradient came out at ~1.3 stops, TMQI S 0.27 against
// 0.59 with global adaptation). Monotonic in local, so the edge-aware map gains no halo.
DTUTMO_HD_CONST float kLocalSoftStops = 1.5f;
DTUTMO_HD float local_target(float local, float g, float a) {
  const float d = local - g;
  return g + a * d * d * d / (d * d + kLocalSoftStops * kLocalSoftStops);
}

// The glare cap (optics.h, "glare on a display"): this frame's target (log2 cd/m^2, the
// kGlareCapPct percentile of the glare cells) through the median-of-3 filter and the
// cone-tau smoothing, state h[2] and s (log2); returns the cap in cd/m^2.
DTUTMO_HD float update_glare_cap(float h[2], float& s, float target, bool snap, float k) {
  const float t = med3_push(h[0], h[1], target, snap);
  s = snap ? t : smooth_to(s, t, k);
  return exp2f(s);
}

// A cut with optics on (balanced). The glare cap is smoothed (update_glare_cap) and the
// optics that use it run before the cut detector, which sees the frame after optics: the
// first night frame after a day shot kept the day's cap (ghost 0.26 in `dtutmo-quality
// --video cuts`). Such a frame is made again with the glare state snapped, as the cut
// snaps the adaptation: one more pass 1 per cut, in both engines. Whether this frame must
// be: optics on, a cut detected, the glare cap not snapped already (a reset or a
// discontinuity snaps it, and no cut is detected then).
DTUTMO_HD bool glare_cut_redo(bool optics, bool cut, bool glare_snapped) {
  return optics && cut && !glare_snapped;
}
// The global update of the frame made again: snapped, as the cut snapped the first pass
// (the level, pupil, histories and the detector's memory are this pass's: temporal_update
// with snap), with the first pass's report kept: a cut, and its shape change (snapped, the
// update would say -1).
DTUTMO_HD TemporalStep temporal_redo(TemporalState& s, float target, const float sig[kCutQ], float fov_deg,
                                     int width, int height, float age) {
  const float shape = s.shape_change;
  TemporalStep r = temporal_update(s, target, sig, true, false, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f, 1.0f, fov_deg,
                                   width, height, age);
  r.cut = 1;
  s.shape_change = shape;
  return r;
}

// One more response percentile (the median, for the display key) the same way as
// update_pct: median-of-3, smoothed with kq (range-tau).
DTUTMO_HD void update_pct1(float h[2], float& s, float p, bool snap, float kq) {
  const float t = med3_push(h[0], h[1], p, snap);
  s = kq >= 1.0f ? t : smooth_to(s, t, kq);
}

// --------------------------------------------------------------- per-cell constants
// The receptor constants of a cell at cone / rod adaptation ls / lr (log2 cd/m^2).
// Per cell (32400 at 1080p), so with fastmath.h's functions (FastFns, both engines): no
// library call, the CPU's cell loop (cpu_adapt.cpp cell_consts) vectorises across cells
// and takes ~0.4 CPU-ms a 1080p frame where 12 libm calls a cell took ~1.9 (lr.cells).
// M = LibmFns: what the engines computed before (test_math FastFns.CellConstantsMatchLibm
// bounds the difference).
template <class M = FastFns>
DTUTMO_PX AdaptCell adapt_cell(float ls, float lr, float td, int mesopic) {
  const float la = M::exp2(ls);
  const float ia = la * td;
  const float pc = bleach<M>(ia, kConeL.b);
  const float iar = M::exp2(lr) * kScotopicPerNitD65 * td;
  const float pr = bleach<M>(iar, kRod.b);
  AdaptCell c;
  c.log2_sigma_lm = M::log2(receptor_sigma<M>(ia, pc, kConeL));
  c.log2_sigma_s = M::log2(receptor_sigma<M>(ia, pc, kConeS));
  c.p_cone = pc;
  c.log2_sigma_rod = M::log2(receptor_sigma<M>(iar, pr, kRod));
  c.p_rod = pr;
  c.rod_w = mesopic ? mesopic_weight<M>(la) : 0.0f;
  c.log2_la = ls;
  c.pad = 0.0f;
  return c;
}

// The folded per-pixel constants of an AdaptCell at the global pupil (log2_td = log2 td):
// K = log2 sigma - log2 p - log2 td for L/M, S and rods, so that r = 1 / (1 + 2^(n (K -
// log2 L))) with L in cd/m^2; k[3] the mesopic rod weight. (FastFns: per cell, as adapt_cell.)
template <class M = FastFns>
DTUTMO_PX void fold_cell_k(const AdaptCell& c, float log2_td, float k[4]) {
  const float lpc = M::log2(c.p_cone);
  k[0] = c.log2_sigma_lm - lpc - log2_td;
  k[1] = c.log2_sigma_s - lpc - log2_td;
  k[2] = c.log2_sigma_rod - M::log2(c.p_rod) - log2_td;
  k[3] = c.rod_w;
}

// Achromatic response used for the histogram and the edge map.
DTUTMO_PX float achromatic_response(Vec3 r) { return (2.0f * r.x + r.y + 0.05f * r.z) / 3.05f; }
// Its bin in the kHistBins histogram over [0, 1) (outside clamped to the end bins).
DTUTMO_PX int hist_bin(float ra) {
  const int b = (int)(ra * kHistBins);
  return b < 0 ? 0 : (b > kHistBins - 1 ? kHistBins - 1 : b);
}
// The response histogram's subsample: every kSub-th row from kSub / 2, and along a row of
// width w every `step`-th pixel from step / 2 (all pixels of frames at most kSub wide), nsub
// of them; edge-map column i uses sample min(i, nsub - 1).
DTUTMO_HD int hist_step(int w) { return w > kSub ? kSub : 1; }
DTUTMO_HD int hist_nsub(int w) {
  const int step = hist_step(w);
  return step == 1 ? w : (w - step / 2 + step - 1) / step;
}

// --------------------------------------------------------------- grey responses
// Class c (0..2 L, M, S; 3 = achromatic) response of the scene observer at the global
// adaptation to a D65 grey of `lum` cd/m^2.
DTUTMO_HD float scene_resp_grey(const FrameConsts& K, int c, float lum) {
  const float la = K.la_global, lar = K.la_global_rod, td = K.td_per_nit;
  const float ia = la * td;
  const float pc = bleach(ia, kConeL.b);
  const float slm = receptor_sigma(ia, pc, kConeL), ss = receptor_sigma(ia, pc, kConeS);
  const float iar = lar * kScotopicPerNitD65 * td;
  const float pr = bleach(iar, kRod.b);
  const float sr = receptor_sigma(iar, pr, kRod);
  const float w = K.mesopic ? mesopic_weight(la) : 0.0f;
  const float i = lum * td;
  const float rl = receptor_response(i, slm, pc, kConeL.n);
  const float rs = receptor_response(i, ss, pc, kConeS.n);
  const float rr = receptor_response(i * kScotopicPerNitD65, sr, pr, kRod.n);
  const float ml = (1 - w) * rl + w * rr, ms = (1 - w) * rs + w * odds_shift(rr, exp2f(K.rod_s_log2q));
  if (c < 2) return ml;
  if (c == 2) return ms;
  return (3.0f * ml + ms * 0.05f) / 3.05f;
}

// The display observer's class c response to a D65 grey of `lum` cd/m^2.
DTUTMO_HD float disp_resp_grey(const FrameConsts& K, int c, float lum) {
  const float i = lum * K.disp_td_per_nit;
  const float sl = exp2f(K.disp_log2_sigma[0]), ss = exp2f(K.disp_log2_sigma[2]);
  const float rl = receptor_response(i, sl, K.disp_p, kConeL.n);
  const float rs = receptor_response(i, ss, K.disp_p, kConeS.n);
  if (c < 2) return rl;
  if (c == 2) return rs;
  return (3.0f * rl + rs * 0.05f) / 3.05f;
}

// The luminance whose achromatic scene (display) response is r: bisection in log2 cd/m^2
// over [-20, 30], 50 steps.
DTUTMO_HD float inverse_scene_grey(const FrameConsts& K, float r) {
  float lo = -20.0f, hi = 30.0f;
  for (int it = 0; it < 50; ++it) {
    const float m = 0.5f * (lo + hi);
    if (scene_resp_grey(K, 3, exp2f(m)) < r) lo = m; else hi = m;
  }
  return exp2f(0.5f * (lo + hi));
}
DTUTMO_HD float inverse_disp_grey(const FrameConsts& K, float r) {
  float lo = -20.0f, hi = 30.0f;
  for (int it = 0; it < 50; ++it) {
    const float m = 0.5f * (lo + hi);
    if (disp_resp_grey(K, 3, exp2f(m)) < r) lo = m; else hi = m;
  }
  return exp2f(0.5f * (lo + hi));
}

// Percentile q (%) of a kHistBins histogram over [0, 1) of total `tot`, linear within the bin.
DTUTMO_HD float hist_percentile(const unsigned int* h, unsigned long long tot, float q) {
  const int nbins = kHistBins;
  const double want = q / 100.0 * (double)tot;
  double acc = 0.0;
  for (int i = 0; i < nbins; ++i) {
    if (acc + h[i] >= want && h[i] > 0) {
      const double t = (want - acc) / h[i];
      return (float)((i + t) / nbins);
    }
    acc += h[i];
  }
  return 1.0f;
}

// log2 of the odds factor that turns the rod response into the S class's (receptors.h,
// odds_shift): n log2(sigma_LM / sigma_S) of the scene observer at the global adaptation.
DTUTMO_HD float rod_s_log2q(const FrameConsts& K) {
  const float ia = K.la_global * K.td_per_nit, pc = bleach(ia, kConeL.b);
  return kConeL.n * log2f(receptor_sigma(ia, pc, kConeL) / receptor_sigma(ia, pc, kConeS));
}

// --------------------------------------------------------------- normalisation
// Never expand a narrow range: at least 2 stops between the equivalent luminances.
DTUTMO_HD void widen_range(float* l_lo, float* l_hi) {
  if (*l_hi < 4.0f * *l_lo) {
    const float g = sqrtf(*l_lo * *l_hi);
    *l_lo = g * 0.5f;
    *l_hi = g * 2.0f;
  }
}
// How visible a display luminance t matched to the scene (response matching) is on a
// display whose black is `black`: 0 at or below black / 2 (the eye's response to that part
// of the scene is less than what the display's own black gives the display observer),
// 1 at 2 x black and above, linear in log2 between (continuous: a fade keeps its steps).
DTUTMO_HD float visible_share(float t, float black) {
  return clampf(0.5f * log2f(std_max(t, 1e-12f) / std_max(black, 1e-3f)) + 0.5f, 0.0f, 1.0f);
}
// How much light a percentile's equivalent luminance l (cd/m^2, before widen_range) is:
// 0 up to a stop above the floor (kMinNits; kCutBlack, half a stop above it, is what a
// signal's black decodes to, PQ codes 64-65 at 10 bits: a black frame's percentiles come
// out at ~0.8 stop, through the histogram's bins and the global inverse), 1 two stops
// further (8e-4 cd/m^2, PQ code ~72), linear in log2 between. A frame of no light
// responds a little (the floor), and a display observer adapted to a bright HDR display
// matches that to above its black (a PQ black frame came out at 0.55 cd/m^2 on the
// 1000 cd/m^2 target, 1 cd/m^2 before the visible shares).
DTUTMO_HD float lit_share(float l) {
  return clampf(0.5f * (log2f(std_max(l, 1e-12f)) - (kCutBlack + 0.5f)), 0.0f, 1.0f);
}
// Display targets from the response-matched display luminances t_lo_m, t_hi_m: the low
// end never gives a smaller contrast ratio than the scene's percentile range where the
// display can show it (when the high end is held down by the peak, the low end follows
// instead of lifting the blacks into a grey veil). A frame the eye sees gets at least
// 4 x black of range at the top; one it does not (v_hi, its top's visible share: matched
// below the display's black, or no light: a black frame, the last frames of a fade) has
// its top at most at the display's black and shows as black: lifted to 4 x black, a frame
// of no light came out dark grey (and at its matched top, 0.15 cd/m^2 on a 1000 cd/m^2
// display whose observer is adapted far above its black, a faint grey).
DTUTMO_HD void display_targets(float t_lo_m, float t_hi_m, float l_lo, float l_hi, float black,
                               float peak, float v_hi, float* t_lo, float* t_hi) {
  float th = std_min(peak, t_hi_m);
  const float bl = std_max(black, 1e-3f);
  if (th > bl) th *= powf(bl / th, 1.0f - v_hi);  // unseen: down to black at v_hi = 0
  float tl = std_min(t_lo_m, sqrtf(t_lo_m * th * (l_lo / l_hi)));
  tl = std_max(black, tl);
  tl = std_min(tl, th * 0.25f);
  const float th_min = 4.0f * bl;
  if (th < th_min) th *= powf(th_min / th, v_hi);
  th = std_min(th, peak);
  *t_lo = tl;
  *t_hi = th;
}
// The display luminance (cd/m^2) of a grey whose achromatic scene response is r under the
// normalisation (l_lo, l_hi) -> (t_lo, t_hi): linear in response between the ends' grey
// responses, as finish_frame_consts maps each class. Needs K's observers.
DTUTMO_HD float mapped_grey(const FrameConsts& K, float r, float s0, float s1, float t_lo, float t_hi) {
  const float d0 = disp_resp_grey(K, 3, t_lo), d1 = disp_resp_grey(K, 3, t_hi);
  const float u = d0 + (r - s0) * (d1 - d0) / std_max(s1 - s0, 1e-6f);
  return inverse_disp_grey(K, std_min(std_max(u, 1e-6f), 1.0f - 1e-6f));
}

// Display key (DESIGN.md section 10, "key"): response matching alone put the median of
// daylight scenes at code 150-200 and of night scenes at 30-40 (real photographs: 68-94
// where good renderings sit near 110-125). The frame's median achromatic response r_med is
// brought a share `strength` (in log) of the way toward the display luminance
// key x peak x (1 - 0.6 w), w the mesopic rod weight of the scene's global adaptation:
// night (rods) is shown darker, at 0.4 of the day key, but readable. The factor e is
// bounded to [1/8, 8]. To brighten, the top moves by e (held at the peak) and the low end
// by sqrt(e): dim frames gain contrast, their blacks stay dark. Each end brightens only by
// its visible share v_lo, v_hi (frame_targets): the eye's own darkness is not made
// visible. The black round a lit object (credits on black, stars) stays display black,
// and a frame of no light is not lifted into grey (brightened by 8 at both ends, black
// came out at code 32-44). To darken, only the low end moves (by e, and further down to
// e^2 where that reaches the median): a bright frame's shadows deepen and its whites stay
// white.
// key <= 0 or strength <= 0: unchanged.
DTUTMO_HD void key_targets(const FrameConsts& K, float r_med, float l_lo, float l_hi, float v_lo,
                           float v_hi, float black, float peak, float key, float strength,
                           int mesopic, float* t_lo, float* t_hi) {
  if (!(key > 0.0f) || !(strength > 0.0f)) return;
  const float s0 = scene_resp_grey(K, 3, l_lo), s1 = scene_resp_grey(K, 3, l_hi);
  const float w = mesopic ? mesopic_weight(K.la_global) : 0.0f;
  const float key_nits = key * peak * (1.0f - 0.6f * w);
  const float lm = mapped_grey(K, r_med, s0, s1, *t_lo, *t_hi);
  const float e = std_min(std_max(powf(key_nits / std_max(lm, 1e-6f), strength), 0.125f), 8.0f);
  const float bl = std_max(black, 1e-3f);
  if (e <= 1.0f) {
    // the low end alone (the top stays): by e, and further (bisection in log, down to
    // t_lo e^2) where the median lies in the lower 85 % of the response range; a median at
    // the top is not moved by any low end, and a search would crush the dark rest to black
    const float lo_e = std_min(std_max(*t_lo * e, bl), *t_hi * 0.25f);
    float tl = lo_e;
    if ((r_med - s0) < 0.85f * (s1 - s0) && mapped_grey(K, r_med, s0, s1, tl, *t_hi) > lm * e * 1.03f) {
      float a = log2f(std_max(*t_lo * e * e, bl)), b = log2f(lo_e);
      for (int it = 0; it < 14 && b > a; ++it) {
        const float m = 0.5f * (a + b);
        if (mapped_grey(K, r_med, s0, s1, exp2f(m), *t_hi) < lm * e) a = m; else b = m;
      }
      tl = exp2f(0.5f * (a + b));
    }
    *t_lo = tl;
    return;
  }
  const float th = std_min(peak, *t_hi * powf(e, v_hi));
  // the low end rises half as far (in log) as the top: a dim frame gains contrast and its
  // blacks stay dark (both by e, or the low end searched up to the median, lifted night
  // skies into a grey veil)
  const float tl = std_min(std_max(*t_lo * powf(e, 0.5f * v_lo), bl), th * 0.25f);
  *t_lo = tl;
  *t_hi = th;
}

// The display targets (t_lo, t_hi) of the percentile range (l_lo, l_hi; before
// widen_range l_lo_raw, l_hi_raw) and the low end before the key (t_lo0,
// finish_frame_consts): response matching (the matched display luminances t_lo_m,
// t_hi_m), display_targets, then the display key. Each end's visible share: the lesser
// of visible_share (against the display's black) and lit_share (against no light).
DTUTMO_HD void frame_targets(const FrameConsts& K, float r_med, float l_lo, float l_hi, float l_lo_raw,
                             float l_hi_raw, float t_lo_m, float t_hi_m, float black, float peak, float key,
                             float strength, int mesopic, float* t_lo, float* t_hi, float* t_lo0) {
  const float v_lo = std_min(visible_share(t_lo_m, black), lit_share(l_lo_raw));
  const float v_hi = std_min(visible_share(t_hi_m, black), lit_share(l_hi_raw));
  display_targets(t_lo_m, t_hi_m, l_lo, l_hi, black, peak, v_hi, t_lo, t_hi);
  *t_lo0 = *t_lo;
  key_targets(K, r_med, l_lo, l_hi, v_lo, v_hi, black, peak, key, strength, mesopic, t_lo, t_hi);
}

// Per-class normalisation, knee, DTUCAM conditions (Hunt effect bounded) and the display
// S reference, from the ends (l_lo, l_hi) -> (t_lo, t_hi). t_lo0: the low end before the
// display key (key_targets). Where the key darkened (t_lo < t_lo0), the map below the low
// percentile keeps the slope it had before (toe_r, toe_gain; normalise_response): the key
// steepens the affine response map to lower the median, and extended below the range it
// was fitted on, that steeper line reached display black within a stop or two: the
// darkest 2 % of a sunlit frame (daylight's doorway, 5-15 cd/m^2) went from code ~65 to
// 0.4-4, its detail gone. With the old slope there it stays dark, ordered and detailed;
// between the percentiles nothing changes. Needs K's observers, K.black and K.peak.
DTUTMO_HD void finish_frame_consts(FrameConsts& K, float l_lo, float l_hi, float t_lo, float t_hi,
                                   float t_lo0, float knee, int viewing) {
  for (int c = 0; c < 3; ++c) {
    K.r_min[c] = disp_resp_grey(K, c, K.black > 0 ? K.black : 1e-4f);
    K.r_max[c] = disp_resp_grey(K, c, K.peak);
    K.knee_r[c] = K.r_min[c] + knee * (K.r_max[c] - K.r_min[c]);
    const float s0 = scene_resp_grey(K, c, l_lo), s1 = scene_resp_grey(K, c, l_hi);
    const float d0 = disp_resp_grey(K, c, t_lo), d1 = disp_resp_grey(K, c, t_hi);
    const float g = (d1 - d0) / std_max(s1 - s0, 1e-6f);
    K.norm_gain[c] = g;
    K.norm_offset[c] = d0 - g * s0;
    const float g0 = (d1 - disp_resp_grey(K, c, t_lo0)) / std_max(s1 - s0, 1e-6f);
    K.toe_r[c] = s0;
    K.toe_gain[c] = t_lo < t_lo0 ? std_max(g - g0, 0.0f) : 0.0f;
    // no light is display black: where the map below s0 would give a response of 0 (a
    // pixel of no light: letterbox bars, the black round a lit object) more than the
    // display's black, it runs from (s0, d0) down to (0, r_min) instead
    if (s0 > 1e-6f && K.norm_offset[c] + K.toe_gain[c] * s0 > K.r_min[c])
      K.toe_gain[c] = (K.r_min[c] - K.norm_offset[c]) / s0;
  }
  float cs, ncs;
  cam_surround(2, &cs, &ncs);  // the scene is seen in an average surround
  K.cam_scene = cam_condition(K.la_global, cs, ncs, 3.05f * scene_resp_grey(K, 0, 5.0f * K.la_global));
  {  // Hunt effect bounded (dtucam.h, cam_hunt_la)
    const CamCond h = cam_condition(cam_hunt_la(K.la_global, K.disp_la), cs, ncs, K.cam_scene.aw);
    K.cam_scene.fl = h.fl;
    K.cam_scene.fl_4 = h.fl_4;
  }
  cam_surround(viewing, &cs, &ncs);
  K.cam_display = cam_condition(K.disp_la, cs, ncs, 3.05f * disp_resp_grey(K, 0, K.peak));
  K.s_ref_display = exp2f(kConeL.n * (K.disp_log2_sigma[2] - K.disp_log2_sigma[0]));
}

// Whiteboard constants of the display observer: log2 sigma - log2 p - log2 td per class.
DTUTMO_HD void whiteboard_consts(const FrameConsts& K, float kwb[3]) {
  const float lp = log2f(K.disp_p);
  for (int c = 0; c < 3; ++c) kwb[c] = K.disp_log2_sigma[c] - lp - K.disp_log2_td;
}

// The display observer's local constants of one cell (full-inverse / hybrid): its
// adaptation follows the cell's own adaptation luminance as displayed (whiteboard, L
// class). `a` = local-adaptation (0 when local is off). Per cell, so FastFns as
// adapt_cell (the frame's constants kwb and log2 disp_la with libm: the CPU's cell loop,
// cpu_receptors_display.cpp display_cells, hoists them); balanced's fc.dispcells
// vectorised, 3.7 -> ~0.3 CPU-ms a 1080p frame.
template <class M = FastFns>
DTUTMO_PX void display_cell_consts(const AdaptCell& c, const FrameConsts& K, float a, float black,
                                   float peak, float d[3]) {
  float kwb[3];
  whiteboard_consts(K, kwb);
  const float la = M::exp2(c.log2_la);
  const float ip = c.p_cone * la * K.td_per_nit;
  float r = 1.0f / (1.0f + M::pow(M::exp2(c.log2_sigma_lm) / ip, kConeL.n));
  const float rr = 1.0f / (1.0f + M::pow(M::exp2(c.log2_sigma_rod) /
                                             (c.p_rod * la * kScotopicPerNitD65 * K.td_per_nit),
                                         kRod.n));
  r = (1 - c.rod_w) * r + c.rod_w * rr;
  const float u = std_min(std_max(K.norm_gain[0] * r + K.norm_offset[0], K.r_min[0]), K.r_max[0]);
  const float dl = M::exp2(kwb[0] + M::log2(u / (1 - u)) / kConeL.n);
  const float lad = M::exp2(a * M::log2(std_max(dl, 1e-3f)) + (1 - a) * log2f(K.disp_la));
  const float lad_c = std_min(std_max(lad, std_max(black, 0.01f)), peak);
  const float iad2 = lad_c * K.disp_td_per_nit;
  const float pd = bleach<M>(iad2, kConeL.b);
  const float lpd = M::log2(pd);
  d[0] = M::log2(receptor_sigma<M>(iad2, pd, kConeL)) - lpd - K.disp_log2_td;
  d[1] = d[0];
  d[2] = M::log2(receptor_sigma<M>(iad2, pd, kConeS)) - lpd - K.disp_log2_td;
}

// Hybrid edge map: Sobel magnitude of the subsampled achromatic response at (x, y) of the
// ew x eh map, edges replicated, times 0.125 and the normalisation gain (edge_gain). In
// parts: the magnitude of a 3x3 neighbourhood v (rows y - 1 .. y + 1, columns x - 1 ..
// x + 1; sobel_mag) and the clamped fetch (edge_sobel): the CPU's rows fetch the interior
// unclamped, a loop that vectorises (cpu_receptors_display.cpp sobel_row; ~1 CPU-ms a
// 1080p frame per cell with the clamps).
DTUTMO_PX float edge_gain(const FrameConsts& K) {
  return (K.norm_gain[0] * 2 + K.norm_gain[1] + 0.05f * K.norm_gain[2]) / 3.05f;
}
DTUTMO_PX float sobel_mag(const float v[3][3], float g) {
  const float gx = (v[0][2] + 2 * v[1][2] + v[2][2]) - (v[0][0] + 2 * v[1][0] + v[2][0]);
  const float gy = (v[2][0] + 2 * v[2][1] + v[2][2]) - (v[0][0] + 2 * v[0][1] + v[0][2]);
  return sqrtf(gx * gx + gy * gy) * 0.125f * g;
}
DTUTMO_HD float edge_sobel(const float* e, int ew, int eh, int x, int y, const FrameConsts& K) {
  float v[3][3];
  for (int j = -1; j <= 1; ++j)
    for (int i = -1; i <= 1; ++i) {
      int xx = x + i, yy = y + j;
      xx = xx < 0 ? 0 : (xx > ew - 1 ? ew - 1 : xx);
      yy = yy < 0 ? 0 : (yy > eh - 1 ? eh - 1 : yy);
      v[j + 1][i + 1] = e[(size_t)yy * ew + xx];
    }
  return sobel_mag(v, edge_gain(K));
}

// --------------------------------------------------------------- frame constants
// The display observer (adapted to display_adaptation() of the global adaptation, its
// pupil for the frame's field) and the rods' S odds factor: fills K.disp_la, disp_td_per_nit,
// disp_log2_td, disp_p, disp_log2_sigma and rod_s_log2q. Needs K.la_global, td_per_nit.
DTUTMO_HD void display_observer(FrameConsts& K, float peak, float display_adapt, int viewing,
                                float fov_deg, int width, int height, float age) {
  K.disp_la = display_adaptation(K.la_global, peak, display_adapt, viewing);
  const float fov_v = fov_deg * (float)height / (float)width;
  const float dp = pupil_watson_yellott(K.disp_la, fov_deg * fov_v, age, 1);
  K.disp_td_per_nit = pupil_area_eff(dp);
  K.disp_log2_td = log2f(K.disp_td_per_nit);
  const float iad = K.disp_la * K.disp_td_per_nit;
  K.disp_p = bleach(iad, kConeL.b);
  K.disp_log2_sigma[0] = K.disp_log2_sigma[1] = log2f(receptor_sigma(iad, K.disp_p, kConeL));
  K.disp_log2_sigma[2] = log2f(receptor_sigma(iad, K.disp_p, kConeS));
  // rods enter the S class through S's odds ratio to L/M (receptors.h, odds_shift)
  K.rod_s_log2q = rod_s_log2q(K);
}

// The CSF band gains (balanced), band k at K.ppd / 2^(k+2) cycles/degree, luminance (ch 0)
// and the two opponent channels. Returns whether any gain is below 0.995 (filter active).
DTUTMO_HD bool csf_band_gains(const FrameConsts& K, float field_deg, float gain[kCsfLevels][3]) {
  bool active = false;
  for (int k = 0; k < kCsfLevels; ++k) {
    const float f = K.ppd / exp2f((float)(k + 2));
    for (int ch = 0; ch < 3; ++ch) {
      gain[k][ch] = csf_ratio_gain(f, K.la_global, K.disp_la, field_deg, ch > 0);
      if (gain[k][ch] < 0.995f) active = true;
    }
  }
  return active;
}

// Per-stream input constants: the input primaries to XYZ, LMS, the scotopic row of
// color.h's scotopic_from_xyz (unclamped) and Y.
DTUTMO_HD void input_consts(FrameConsts& K, Primaries in) {
  const Mat3 r2x = rgb_to_xyz(in);
  K.in_rgb_to_xyz = r2x;
  K.in_rgb_to_lms = mul(xyz_to_lms(), r2x);
  K.in_rgb_to_rod = {-0.702f * r2x.m[0][0] + 1.039f * r2x.m[1][0] + 0.433f * r2x.m[2][0],
                     -0.702f * r2x.m[0][1] + 1.039f * r2x.m[1][1] + 0.433f * r2x.m[2][1],
                     -0.702f * r2x.m[0][2] + 1.039f * r2x.m[1][2] + 0.433f * r2x.m[2][2]};
  K.in_rgb_to_y = {r2x.m[1][0], r2x.m[1][1], r2x.m[1][2]};
  const Mat3 ln = lms_to_nxyz();  // CIELAB hue restoration's input ratios (pixel_model.h display_hue)
  K.lms_to_nx = {ln.m[0][0], ln.m[0][1], ln.m[0][2]};
  K.lms_to_nz = {ln.m[2][0], ln.m[2][1], ln.m[2][2]};
}

// Per-stream output constants: display LMS to the output primaries and their Y row.
DTUTMO_HD void output_consts(FrameConsts& K, Primaries out) {
  K.lms_to_out_rgb = mul(xyz_to_rgb(out), inverse(xyz_to_lms()));
  const Mat3 o2x = rgb_to_xyz(out);
  K.out_rgb_to_y = {o2x.m[1][0], o2x.m[1][1], o2x.m[1][2]};
  K.nxyz_to_out = mul(K.lms_to_out_rgb, inverse(lms_to_nxyz()));
  K.out_to_nxyz = inverse(K.nxyz_to_out);
}

// The frame geometry and the Params switches FrameConsts carries (host only).
inline void param_consts(FrameConsts& K, const Params& P, int width, int height, int grid_w,
                         int grid_h) {
  K.width = width;
  K.height = height;
  K.grid_w = grid_w;
  K.grid_h = grid_h;
  K.cell = kCell;
  K.ppd = float(width) / P.fov_deg;
  K.pic_x0 = K.pic_y0 = 0;  // the whole frame until a frame's statistics say otherwise
  K.pic_x1 = width;
  K.pic_y1 = height;
  K.local = P.local;
  K.mesopic = P.mesopic;
  K.base_detail = P.base_detail;
  K.dtucam = P.dtucam;
  K.display_mode = int(P.display_mode);
  K.gamut_map = P.gamut_map;
  K.dither = P.dither;
  K.detail = P.detail;
  K.hybrid_lo = 0.02f;
  K.hybrid_hi = 0.08f;
  K.peak = display_peak_nits(P);
  K.black = P.display_black;
}

// Everything FrameConsts carries that depends on the stream and the parameters only (both
// engines, every frame before the statistics; host only): geometry and switches, the
// input and output matrices, transfers and scales.
inline void stream_consts(FrameConsts& K, const Params& P, const StreamConfig& C, int grid_w,
                          int grid_h) {
  param_consts(K, P, C.width, C.height, grid_w, grid_h);
  input_consts(K, C.in.primaries);
  K.in_transfer = int(C.in.transfer);
  K.input_scale = P.input_scale;
  K.hlg_peak = P.hlg_peak;
  K.max_nits = kMaxNits;
  K.out_transfer = int(C.out.transfer);
  K.target = int(P.target);
  output_consts(K, C.out.primaries);
}

}  // namespace dtutmo
