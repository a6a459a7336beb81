// dtutmo -- CPU engine, local adaptation at low resolution (DESIGN.md section 4): cell
// means, the global log-mean, the temporal state of the level and cut detection (model.h),
// the edge-aware pooling of the La grid (cpu_spatial.cpp EdgePooler), the per-cell
// adaptation (this frame's layout on the smoothed level) and receptor constants; and
// the per-pixel lookup of those constants for one row (bilinear, or joint-bilateral with
// local adaptation on).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "dtutmo/spatial.h"
#include "engine_cpu.h"

namespace dtutmo {
namespace cpu {

// n cells' adaptation (model.h cell_la: this frame's layout on the smoothed levels),
// receptor constants (adapt_cell) and folded constants (fold_cell_k) into the grid's
// channel rows kLM, kS, kRod, kW. adapt_cell's fastmath.h functions make the loop
// branch- and call-free: GCC vectorises it across 8 cells (with libm's 12 calls a cell
// it took 1.9-2.0 CPU-ms of fast's 39 per 1080p frame, lr.cells). kCells: the cells'
// AdaptCell too (display_cells reads them, where the display observer adapts locally: not
// whiteboard); their 8 fields a cell were stored one float at a time (vextractps, ~13 %
// of the loop's samples in fast, which never reads them).
template <bool kCells>
DTUTMO_HOT static void cell_consts(const TemporalState& state, int n, const float* __restrict tgt, float target,
                                   float td, float ltd, int meso, float* __restrict ls, float* __restrict lr,
                                   AdaptCell* __restrict cells, float* __restrict klm, float* __restrict ks,
                                   float* __restrict krod, float* __restrict kw) {
  const TemporalState ts = state;  // a local copy: the stores below cannot alias its levels
  for (int i = 0; i < n; ++i) {
    float a, b;
    cell_la(ts, tgt[i], target, a, b);
    const AdaptCell c = adapt_cell(a, b, td, meso);
    float k[4];
    fold_cell_k(c, ltd, k);
    ls[i] = a;
    lr[i] = b;
    if (kCells) {
      AdaptCell& o = cells[i];  // by field: a struct copy is one statement GCC does not vectorise
      o.log2_sigma_lm = c.log2_sigma_lm;
      o.log2_sigma_s = c.log2_sigma_s;
      o.p_cone = c.p_cone;
      o.log2_sigma_rod = c.log2_sigma_rod;
      o.p_rod = c.p_rod;
      o.rod_w = c.rod_w;
      o.log2_la = c.log2_la;
      o.pad = c.pad;
    }
    klm[i] = k[0];
    ks[i] = k[1];
    krod[i] = k[2];
    kw[i] = k[3];
  }
}

void CpuEngine::low_res(double dt, bool snap, bool redo) {
  const int nc = gw_ * gh_;
  // cell means, the picture area (model.h picture_area: bars are not the scene; with
  // optics from the glare cells, apply_optics: the veil lights the bars) and the global
  // log-mean over it (pixel weighted)
  for (int i = 0; i < nc; ++i) la_loc_[i] = cell_mean(cell_sum_[i], cell_cnt_[i]);
  const bool optics = P_.optics && optics_ready_;
  const CellBox pic =
      optics ? picture_area(glare_extent_, glare_[0].cell(), gw_, gh_, W_, H_, cell_)
             : picture_area(bar_extent(gw_, gh_, bar_cols_, [&](int i) { return cell_lit(la_loc_[i]); }), cell_, gw_,
                            gh_, W_, H_);
  set_picture(K_, pic);
  double gs = 0, gn = 0;
  for (int cy = pic.y0; cy < pic.y1; ++cy)
    for (int i = cy * gw_ + pic.x0, ie = cy * gw_ + pic.x1; i < ie; ++i) {
      gs += cell_sum_[i];
      gn += cell_cnt_[i];
    }
  // the cut detector's signature of this frame: quantiles of the cells' log2 luminance;
  // the histogram as 4 partial ones (cell i into i % 4), summed after (the same counts):
  // one histogram's increments were a chain through memory wherever neighbouring cells
  // share a bin
  uint32_t* __restrict ch = cut_hist_.data();
  std::fill(cut_hist_.begin(), cut_hist_.end(), 0u);
  for (int i = 0; i < nc; ++i) ch[(i & 3) * kCutBins + cut_bin(la_loc_[i])]++;
  for (int b = 0; b < kCutBins; ++b) ch[b] += ch[kCutBins + b] + ch[2 * kCutBins + b] + ch[3 * kCutBins + b];
  const float target_logmean = float(gs / std::max(gn, 1.0));
  float sig[kCutQ];
  cut_signature(cut_hist_.data(), sig);
  // the global level (model.h temporal_update): cut detection against the previous frame
  // (broadcast: re-adapts on the cut's first frame), the median-of-3 outlier filter (a
  // one-frame flash or black frame never enters the state), the cone and rod levels and
  // the pupil (which follows the filtered, smoothed level, so it is outlier-free too);
  // a cut frame made again (process, model.h glare_cut_redo): snapped, its report kept
  const TemporalStep step =
      redo ? temporal_redo(ts_, target_logmean, sig, P_.fov_deg, W_, H_, P_.observer_age)
           : temporal_update(ts_, target_logmean, sig, snap, P_.adaptation == AdaptationMode::Broadcast,
                             P_.cut_threshold, P_.cut_shape_threshold, smooth_k(dt, P_.cone_tau),
                             smooth_k(dt, P_.rod_tau), smooth_k(dt, P_.pupil_tau), smooth_k(dt, P_.range_tau),
                             P_.fov_deg, W_, H_, P_.observer_age);
  st_.cut_detected = step.cut != 0;
  st_.cut_shape = ts_.shape_change;
  snapped_ = step.snap != 0;
  tl_.mark("lr.temporal");

  // local pooling: Gaussians of 0.5, 1, 2, 4 degrees (diameters 1, 2, 4, 8), 1:2:4:8
  const float ppd = float(W_) / P_.fov_deg;
  const float a = P_.local ? P_.local_adaptation : 0.0f;
  if (a > 0.0f) {
    const float sig[4] = {0.5f * ppd / cell_, 1.0f * ppd / cell_, 2.0f * ppd / cell_,
                          4.0f * ppd / cell_};
    const float wts[4] = {1, 2, 4, 8};
    // edge-aware: each Gaussian is cross-bilateral in log luminance (DESIGN.md section 4),
    // so a dark tree does not pool the sky around it nor a lamp the room around it
    epool_.begin(la_loc_.data(), sig, wts, 4);
    tl_.mark("lr.ep.begin");
    pool_.run(epool_.bins(), [&](int j, int th) { epool_.process_bin(j, th); });
    tl_.mark("lr.ep.bins");
    // (a row's targets and lookup guide with its slice: rows in parallel)
    pool_.run(gh_, [&](int y, int) {
      epool_.slice(y, y + 1, la_tgt_.data());
      for (int i = y * gw_, ie = i + gw_; i < ie; ++i) {
        la_tgt_[i] = local_target(la_tgt_[i], target_logmean, a);
        jguide_[i] = la_loc_[i];
      }
    });
    tl_.mark("lr.ep.slice");
    jbu_ = true;
  } else {
    for (int i = 0; i < nc; ++i) la_tgt_[i] = target_logmean;
    jbu_ = false;
  }
  K_.la_global = step.la_global;
  K_.pupil_mm = ts_.s_pupil;
  K_.td_per_nit = pupil_area_eff(ts_.s_pupil);
  const float td = K_.td_per_nit;
  // cones and rods: this frame's layout on the smoothed levels (model.h cell_la: no
  // per-cell history, so nothing of an earlier frame's layout remains), then the per-cell
  // receptor constants (libm transcendentals per cell: rows of cells in parallel)
  const bool meso = P_.mesopic;
  const float ltd = std::log2(td);
  const bool cells = P_.display_mode != DisplayMode::Whiteboard;  // (frame_consts' display_cells)
  pool_.run(gh_, [&](int cy, int) {
    const size_t i0 = size_t(cy) * gw_;
    float* k = gridk_.data() + i0;
    (cells ? cell_consts<true> : cell_consts<false>)(ts_, gw_, la_tgt_.data() + i0, target_logmean, td, ltd, meso,
                                                     la_s_.data() + i0, la_rod_s_.data() + i0, cells_.data() + i0,
                                                     k + size_t(kChLM) * nc, k + size_t(kChS) * nc,
                                                     k + size_t(kChRod) * nc, k + size_t(kChW) * nc);
    // photopic (rod weight exactly 0): r = a + 0 (d - a) = a, so the rod response and its
    // two channels need not be computed at all; decided per grid row: a pixel row whose
    // two grid rows have none is photopic (interp_row)
    char any = 0;
    for (int i = cy * gw_, ie = i + gw_; i < ie; ++i) any |= gridk_[size_t(kChW) * nc + i] != 0.0f;
    rod_row_[cy] = any;
  });
  // rods' global adaptation: the mean of the cells' rod adaptation
  double rs = 0;
  for (int i = 0; i < nc; ++i) rs += la_rod_s_[i];
  const float la_g_rod = std::exp2(float(rs / nc));
  K_.la_global_rod = la_g_rod;
  tl_.mark("lr.cells");
  frame_consts(step.kq);
}

// Whether adaptation channel k is read for a row: the rods' two only where a rod weight
// reaches it (else they are 0 and responses_core does not read them).
static inline bool channel_read(int k, bool rods) { return rods || (k != kChRod && k != kChW); }

// Joint-bilateral lookup of the adaptation channels for one row (spatial.h jbu_weights,
// DESIGN.md section 4), by units of at most kCell columns of one cell (CpuEngine::lunits_:
// the runs of equal ix, the first and last split where longer than kCell): within a
// unit every column has the same four corner cells, so each corner value (guide and
// channels) is one scalar from the grid rows y0, y1 broadcast over the unit's lanes, and
// the loops over a unit's columns (kCell, one AVX2 vector; jbu_lanes) take them as
// invariants. The grid rows read are a few KB (L1); corners expanded per column (one row
// of W floats per corner row and channel, made once per grid row pair) took ~123 KB per
// thread that pass 2 streamed from L2 and ~a tenth of the lookup to make, and the
// loads stalled (the stages' first load ~12 % of the lookup's samples). Channels read:
// L/M and S, the rods' two where a rod weight reaches the row, the display observer's
// three unless whiteboard (nch).
// kJbuBlock (engine_cpu.h): columns per segment of interp_row_jbu's stages.
// The lookup's shortcut where it cannot change much: a column whose corner quad (cells
// ix, ix + 1 clamped, both grid rows) holds every channel read within kJbuFlat takes the
// bilinear lookup (interp_h's lerps), not the joint-bilateral weights. Both are convex
// (spatial.h jbu_bound; test_halo Lookup.WeightsAreConvex), so both values of a channel
// lie in the pixel's corners' [min, max]: they differ by at most kJbuFlat (+ float
// rounding), in log2 units for the receptor and display constants (0.7 % in sigma), in
// weight for the rod weight. Measured (jbu8, blocks of 32 columns all flat: 1080p clip; 7
// scenes at 960x540, fast and balanced): within 1 code of the full lookup everywhere,
// 217k of 187M bytes (fast) and 291k (balanced) 1 code apart; 0.03 took 2 codes
// (balanced daylight); no bound at all (every column bilinear) 92-194 codes at the
// scenes' edges (test_engine LookupShortcutStaysWithinACodeOfTheFullLookup). Per column
// (jbu9, jbu_segments): 64 % of the clip's pass-2 pixels (blocks of 32: 53 %), within 1
// code of the blocks' output (118k bytes fast, 103k balanced). Not in the CUDA lookup
// (per pixel) nor in the reference path.
constexpr float kJbuFlat = 0.01f;
// The guide row is prefetched kJbuAhead columns ahead of each segment: in fast it is a row
// of logy_ (8 MB at 1080p, from memory), first read here, and only by the non-flat
// segments (flat ones read no guide), so the hardware prefetcher lost the stream and the
// range stage's first load of ly held ~15-16 % of interp_row_jbu's samples (perf annotate,
// the clip, fast). 256 columns (1 KB; 128, 512 and 1024 measured the same within noise);
// first two prefetches per segment (segments of one unit asked for the same lines
// again), now one per line: interp_row_jbu's share of fast's samples 9.3-9.9 % ->
// 8.9-9.7 % (4 alternated rounds, within noise).
constexpr int kJbuAhead = 256;
// (jbu_segments takes it as flat_tol: -1 turns the shortcut off, CpuEngine::set_lookup_shortcut.)
// The weights of n <= kJbuBlock columns in stages (spatial.h jbu_range, then jbu_bound),
// each stage a loop of its own through L1-resident block rows: ab[j] the range-weighted
// bilinear weights a of corner j, ab[4 + j] D's parts b of them, su and dd jbu_bound's
// scales (corner j's weight: jbu_combine). In one loop (~220 AVX2 instructions per 8
// pixels, two divisions and ~25 spills on one chain of ~40 dependent operations) the
// out-of-order window held about two iterations and the loop ran at the chain's latency;
// split, the stages' iterations overlap. interp_cols_jbu's (the histogram's columns
// gathered); interp_row_jbu runs the same stages over its units, corners broadcast (the
// same operations per column: the same values bit for bit).
__attribute__((always_inline)) static inline void jbu_stages(
    int n, const float* __restrict ly, const float* __restrict g0, const float* __restrict g1,
    const float* __restrict g2, const float* __restrict g3, const float* __restrict k0,
    const float* __restrict k1, const float* __restrict k2, const float* __restrict k3,
    const float* __restrict tx, float ty, float (*__restrict ab)[kJbuBlock], float* __restrict su,
    float* __restrict dd) {
  for (int i = 0; i < n; ++i) {
    float a[4], b[4];
    jbu_range(ly[i], g0[i], g1[i], g2[i], g3[i], tx[i], ty, a, b);
    for (int j = 0; j < 4; ++j) {
      ab[j][i] = a[j];
      ab[4 + j][i] = b[j];
    }
  }
  for (int i = 0; i < n; ++i) {
    const float a[4] = {ab[0][i], ab[1][i], ab[2][i], ab[3][i]};
    const float b[4] = {ab[4][i], ab[5][i], ab[6][i], ab[7][i]};
    jbu_bound(ly[i], g0[i], g1[i], g2[i], g3[i], k0[i], k1[i], k2[i], k3[i], a, b, &su[i], &dd[i]);
  }
}
// f(u) for the lanes u of a unit of len columns: a loop of CELL iterations (one AVX2
// vector for cells of kCell = 8, half of one for the half model's inner cells of 4; no
// remainder) for the full units, a short loop for the row's ends.
template <int CELL, class F>
__attribute__((always_inline)) static inline void jbu_lanes(int len, F&& f) {
  if (len == CELL) {
    for (int u = 0; u < CELL; ++u) f(u);
  } else {
    for (int u = 0; u < len; ++u) f(u);
  }
}
// f(std::integral_constant<int, nk>) for the channel counts a row reads (L/M and S; with
// the rods' two; the display observer's three with or without them), f of 0 for any other
// (the count then at run time): the per-unit loops below unroll their channels.
template <class F>
__attribute__((always_inline)) static inline void jbu_nk(int nk, F&& f) {
  switch (nk) {
    case 2: f(std::integral_constant<int, 2>()); break;
    case 4: f(std::integral_constant<int, 4>()); break;
    case 5: f(std::integral_constant<int, 5>()); break;
    case 7: f(std::integral_constant<int, 7>()); break;
    default: f(std::integral_constant<int, 0>()); break;
  }
}
// A flat segment's units q in [u0, u0 + nu): per column the horizontal lerp of the cells'
// vertical lerps (vr, row c of gw per channel) into each channel's output row oc[c].
// Units outer, channels inner (NK of them, unrolled; 0: nkr at run time): a full unit is
// one lane loop (one AVX2 vector) holding every channel, its corner values and output rows
// locals, tx loaded once (jbu12; before, a loop over the units per channel). Tried: a lane
// loop per channel inside the unit (jbu_lanes): GCC 12 unrolled the lanes and
// SLP-vectorised them (8 scalar tx loads through spilled pointers, a multiply and an add
// for the FMA: the lookup +15 %); with `unroll 1` on it, it kept the channel loop with
// stack spills and the length test per channel (-4 %, this form -13 %). `unroll 1` keeps
// the lane loop for the loop vectoriser, `ivdep` tells it the NK output rows do not
// overlap (no run-time alias checks).
template <int NK, int CELL>
__attribute__((always_inline)) static inline void jbu_flat_units(
    int nkr, int u0, int nu, const int (*__restrict units)[4], const float* __restrict tx,
    const float* __restrict vr, int gw, float* const* __restrict oc) {
  const int n = NK > 0 ? NK : nkr;
  for (int q = u0; q < u0 + nu; ++q) {
    const int x = units[q][0], len = units[q][1], m = units[q][2], m1 = units[q][3];
    const float* __restrict t = tx + x;
    if (NK > 0 && len == CELL) {
      float d0[NK > 0 ? NK : 1], d1[NK > 0 ? NK : 1];
      float* o[NK > 0 ? NK : 1];
      for (int c = 0; c < NK; ++c) {
        d0[c] = vr[size_t(c) * gw + m];
        d1[c] = vr[size_t(c) * gw + m1];
        o[c] = oc[c] + x;
      }
#pragma GCC ivdep
#pragma GCC unroll 1
      for (int u = 0; u < CELL; ++u)
        for (int c = 0; c < NK; ++c) o[c][u] = lerpf(d0[c], d1[c], t[u]);
      continue;
    }
    for (int c = 0; c < n; ++c) {
      const float d0 = vr[size_t(c) * gw + m], d1 = vr[size_t(c) * gw + m1];
      float* __restrict o = oc[c] + x;
      for (int u = 0; u < len; ++u) o[u] = lerpf(d0, d1, t[u]);
    }
  }
}
// A joint-bilateral segment's weights (jbu_combine of ab, su, dd: i counts the segment's
// columns) and every channel's mix into oc[c], units outer, channels inner as above: a
// unit's four corner weights stay in registers for its NK mixes, where the combine
// stage stored them (w[4][kJbuBlock]) and each channel's loop loaded them again.
template <int NK, int CELL>
__attribute__((always_inline)) static inline void jbu_mix_units(
    int nkr, int u0, int nu, const int (*__restrict units)[4], const float (*__restrict ab)[kJbuBlock],
    const float* __restrict su, const float* __restrict dd, const float* const* __restrict cr,
    ptrdiff_t dy, float* const* __restrict oc) {
  const int n = NK > 0 ? NK : nkr;
  for (int q = u0, i = 0; q < u0 + nu; i += units[q][1], ++q) {
    const int x = units[q][0], len = units[q][1], m = units[q][2], m1 = units[q][3];
    if (NK > 0 && len == CELL) {
      float e[NK > 0 ? NK : 1][4];
      float* o[NK > 0 ? NK : 1];
      for (int c = 0; c < NK; ++c) {
        e[c][0] = cr[c][m];
        e[c][1] = cr[c][m1];
        e[c][2] = cr[c][dy + m];
        e[c][3] = cr[c][dy + m1];
        o[c] = oc[c] + x;
      }
#pragma GCC ivdep
#pragma GCC unroll 1
      for (int u = 0; u < CELL; ++u) {
        float w[4];
        for (int j = 0; j < 4; ++j) w[j] = jbu_combine(ab[j][i + u], ab[4 + j][i + u], su[i + u], dd[i + u]);
        for (int c = 0; c < NK; ++c) o[c][u] = jbu_mix(w, e[c][0], e[c][1], e[c][2], e[c][3]);
      }
      continue;
    }
    for (int u = 0; u < len; ++u) {
      float w[4];
      for (int j = 0; j < 4; ++j) w[j] = jbu_combine(ab[j][i + u], ab[4 + j][i + u], su[i + u], dd[i + u]);
      for (int c = 0; c < n; ++c)
        oc[c][x + u] = jbu_mix(w, cr[c][m], cr[c][m1], cr[c][dy + m], cr[c][dy + m1]);
    }
  }
}
// One row between grid rows y0 and y1 (weight ty of y1) by the segments of jbu_segments:
// flat ones take the bilinear weights (jbu_flat_units), the others the joint-bilateral
// ones in stages (jbu_stages' loops, here over the segment's units, ab, su and dd in L1),
// then per unit the corner weights and every channel read mixed (jbu_mix_units). units:
// x0, len, cell m and m + 1 clamped per unit (CpuEngine::lunits_). Returns the columns
// that took the bilinear weights. CELL: the cells' side (a full unit's columns), a
// constant in each of the two instances below.
template <int CELL>
__attribute__((always_inline)) static inline int interp_row_jbu_t(
    int W, int gw, int nc, int nch, bool rods, const int (*__restrict units)[4], const float* __restrict tx,
    float ty, int y0, int y1, const float* __restrict ly, const float* __restrict guide,
    const float* __restrict grid, const int* __restrict seg, int nseg, float* __restrict vr,
    float* __restrict ad) {
  const float* __restrict r0 = guide + size_t(y0) * gw;  // guide, grid row y0
  const float* __restrict r1 = guide + size_t(y1) * gw;
  const float* __restrict l0 = grid + size_t(kChLM) * nc + size_t(y0) * gw;  // L/M constants
  const float* __restrict l1 = grid + size_t(kChLM) * nc + size_t(y1) * gw;
  int nk = 0;
  const float* cr[kAdaptChannels];  // the c-th channel read: its grid row y0 (y1: + dy)
  float* oc[kAdaptChannels];        // and its output row
  const ptrdiff_t dy = ptrdiff_t(y1 - y0) * gw;
  for (int k = 0; k < nch; ++k)
    if (channel_read(k, rods)) {
      cr[nk] = grid + size_t(k) * nc + size_t(y0) * gw;
      oc[nk] = ad + size_t(k) * W;
      ++nk;
    }
  bool any_flat = false;
  for (int sg = 0; sg < nseg; ++sg) any_flat |= (seg[sg] & 1) != 0;
  if (any_flat)  // the flat segments' vertical lerps, every cell of the row pair (vectorised)
    for (int c = 0; c < nk; ++c) {
      float* __restrict d = vr + size_t(c) * gw;
      const float* __restrict c0 = cr[c];
      const float* __restrict c1 = cr[c] + dy;
      for (int i = 0; i < gw; ++i) d[i] = lerpf(c0[i], c1[i], ty);
    }
  constexpr int B = kJbuBlock;
  static_assert(kJbuBlock % kCell == 0, "a segment's units fill its block");
  float ab[8][B], su[B], dd[B];
  int nflat = 0;
  const uintptr_t lya = reinterpret_cast<uintptr_t>(ly);
  int pf = kJbuAhead;
  for (int sg = 0; sg < nseg; ++sg) {
    const int u0 = seg[sg] >> 8, nu = (seg[sg] >> 1) & 127;
    const int X0 = units[u0][0];
    // the guide up to kJbuAhead columns past this segment, one prefetch per 16 columns
    // (64 bytes) not yet asked for (past the row's end: the next row of logy_, which
    // follows it in memory; elsewhere a harmless hint, never a fault)
    for (; pf < X0 + kJbuAhead + B; pf += 16)
      __builtin_prefetch(reinterpret_cast<const void*>(lya + 4 * uintptr_t(pf)));
    if (seg[sg] & 1) {
      // bilinear (convex weights: within kJbuFlat of the lookup's value), as interp_h: the
      // vertical lerps of the cells (vr), then per column one horizontal lerp (no
      // weights: the corner-weight mix cost ~4x as much)
      jbu_nk(nk, [&](auto nkc) { jbu_flat_units<decltype(nkc)::value, CELL>(nk, u0, nu, units, tx, vr, gw, oc); });
      nflat += units[u0 + nu - 1][0] + units[u0 + nu - 1][1] - X0;  // units are contiguous
      continue;
    } else {
      // the stages as jbu_stages, corners broadcast per unit
      for (int q = u0, i = 0; q < u0 + nu; i += units[q][1], ++q) {
        const int x = units[q][0], m = units[q][2], m1 = units[q][3];
        const float g0 = r0[m], g1 = r0[m1], g2 = r1[m], g3 = r1[m1];
        jbu_lanes<CELL>(units[q][1], [&](int u) {
          float a[4], b[4];
          jbu_range(ly[x + u], g0, g1, g2, g3, tx[x + u], ty, a, b);
          for (int j = 0; j < 4; ++j) {
            ab[j][i + u] = a[j];
            ab[4 + j][i + u] = b[j];
          }
        });
      }
      for (int q = u0, i = 0; q < u0 + nu; i += units[q][1], ++q) {
        const int x = units[q][0], m = units[q][2], m1 = units[q][3];
        const float g0 = r0[m], g1 = r0[m1], g2 = r1[m], g3 = r1[m1];
        const float k0 = l0[m], k1 = l0[m1], k2 = l1[m], k3 = l1[m1];
        jbu_lanes<CELL>(units[q][1], [&](int u) {
          const float a[4] = {ab[0][i + u], ab[1][i + u], ab[2][i + u], ab[3][i + u]};
          const float b[4] = {ab[4][i + u], ab[5][i + u], ab[6][i + u], ab[7][i + u]};
          jbu_bound(ly[x + u], g0, g1, g2, g3, k0, k1, k2, k3, a, b, &su[i + u], &dd[i + u]);
        });
      }
      jbu_nk(nk, [&](auto nkc) {
        jbu_mix_units<decltype(nkc)::value, CELL>(nk, u0, nu, units, ab, su, dd, cr, dy, oc);
      });
    }
  }
  return nflat;
}
// The instances, each cloned per ISA (DTUTMO_HOT): the per-pixel engine's cells of
// kCell = 8 and the block model's inner cells of 4 and 2 (cpu_half.h), whose full units
// took the short loops of the row's ends when the lookup knew only 8.
#define DTUTMO_JBU_ARGS                                                                                           \
  int W, int gw, int nc, int nch, bool rods, const int(*__restrict units)[4], const float* __restrict tx, float ty, \
      int y0, int y1, const float* __restrict ly, const float* __restrict guide, const float* __restrict grid,     \
      const int* __restrict seg, int nseg, float* __restrict vr, float* __restrict ad
DTUTMO_HOT static int interp_row_jbu(DTUTMO_JBU_ARGS) {
  return interp_row_jbu_t<kCell>(W, gw, nc, nch, rods, units, tx, ty, y0, y1, ly, guide, grid, seg, nseg, vr, ad);
}
DTUTMO_HOT static int interp_row_jbu4(DTUTMO_JBU_ARGS) {
  return interp_row_jbu_t<4>(W, gw, nc, nch, rods, units, tx, ty, y0, y1, ly, guide, grid, seg, nseg, vr, ad);
}
DTUTMO_HOT static int interp_row_jbu2(DTUTMO_JBU_ARGS) {
  return interp_row_jbu_t<2>(W, gw, nc, nch, rods, units, tx, ty, y0, y1, ly, guide, grid, seg, nseg, vr, ad);
}
#undef DTUTMO_JBU_ARGS

// The segments of a row between grid rows y0 and y1 for interp_row_jbu: runs of units
// (CpuEngine::lunits_), flat (bilinear weights) where every column's corner quad (cells
// m, m + 1 clamped, both grid rows) holds every channel read within flat_tol (flat_tol <
// 0: none), each coded u0 << 8 | units << 1 | flat; joint-bilateral runs of at most
// kJbuBlock / kCell units (the stages' block arrays), flat ones of at most 127 (the
// code's field: the flat lerps keep no block; capped like the others, the clip's 1080p
// rows were 68 segments, 43 of them flat, 3.6 units on average). Per
// unit, not per block of 32 columns all flat or not (a block of 32 from column 0 spans 5
// quads, 4 of them shared with its neighbours): the clip's flat pixels 53 -> 64 %.
// Depends on the grid-row pair only, so made once per pair (CpuEngine::interp_row keys
// it), not per pixel row (4 rows). Returns the segments' count.
DTUTMO_HOT static int jbu_segments(int gw, int nc, int nch, bool rods, float flat_tol,
                                   const int (*__restrict units)[4], int nunits, int y0, int y1,
                                   const float* __restrict grid, unsigned char* __restrict fl,
                                   int* __restrict seg) {
  const int last = gw - 1;
  std::fill(fl, fl + gw, (unsigned char)(flat_tol >= 0.0f ? 1 : 0));
  for (int k = 0; k < nch && flat_tol >= 0.0f; ++k) {
    if (!channel_read(k, rods)) continue;
    const float* __restrict r0 = grid + size_t(k) * nc + size_t(y0) * gw;
    const float* __restrict r1 = grid + size_t(k) * nc + size_t(y1) * gw;
    for (int c = 0; c < last; ++c) {
      const float lo = std::min(std::min(r0[c], r1[c]), std::min(r0[c + 1], r1[c + 1]));
      const float hi = std::max(std::max(r0[c], r1[c]), std::max(r0[c + 1], r1[c + 1]));
      fl[c] &= hi - lo <= flat_tol ? 1 : 0;
    }
    fl[last] &= std::max(r0[last], r1[last]) - std::min(r0[last], r1[last]) <= flat_tol ? 1 : 0;
  }
  int ns = 0, u0 = 0, n = 0, f = 0, cap = 0;
  for (int q = 0; q < nunits; ++q) {
    const int uf = fl[units[q][2]];
    if (n > 0 && (uf != f || n == cap)) {
      seg[ns++] = u0 << 8 | n << 1 | f;
      n = 0;
    }
    if (n == 0) u0 = q, f = uf, cap = uf ? 127 : kJbuBlock / kCell;
    ++n;
  }
  if (n > 0) seg[ns++] = u0 << 8 | n << 1 | f;
  return ns;
}

// The corners of the histogram samples of a block, 8 at a time while they fit a window:
// sample i's cell a[i] and its right neighbour min(a[i] + 1, gw - 1) from the np planes'
// grid rows src[2 p] (y0) and src[2 p + 1] (y1) into cor[p][0 .. 4)[i] (corners 00, 10, 01,
// 11), B samples a plane's corner row; returns the samples done (whole groups of 8, from
// 0). Per group one 8-float load per grid row at s = min(a[0], gw - 8), permuted twice
// (vpermps). The samples' cells rise with x and 8 samples (step kSub = 4: 29 columns)
// span at most 5 cells of kCell = 8, so both cells lie in the window; the load never
// leaves the row (s + 8 <= gw). Stops at a group that does not fit (gw < 8, or a step or
// cell grid that spreads further): the caller gathers the rest one by one. The same values
// (copies). The stores' addresses from cor alone (a table of row pointers was reloaded
// after each store).
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static int cols_corners_avx2(const int* __restrict a, int m, int gw, int np,
                                                             const float* const* __restrict src,
                                                             float* __restrict cor, int B) {
  if (gw < 8) return 0;
  int i = 0;
  for (; i + 8 <= m; i += 8) {
    const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
    const int s = std::min(a[i], gw - 8);
    const __m256i ia = _mm256_sub_epi32(va, _mm256_set1_epi32(s));
    const __m256i ib =
        _mm256_min_epi32(_mm256_add_epi32(ia, _mm256_set1_epi32(1)), _mm256_set1_epi32(gw - 1 - s));
    // every lane's cell and neighbour in [0, 7]: ia >= 0 and ib <= 7 (ib >= ia)
    const __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), ia),
                                        _mm256_cmpgt_epi32(ib, _mm256_set1_epi32(7)));
    if (!_mm256_testz_si256(bad, bad)) break;
    float* __restrict o = cor + i;
    for (int p = 0; p < np; ++p, o += 4 * B) {
      const __m256 w0 = _mm256_loadu_ps(src[2 * p] + s), w1 = _mm256_loadu_ps(src[2 * p + 1] + s);
      _mm256_storeu_ps(o, _mm256_permutevar8x32_ps(w0, ia));
      _mm256_storeu_ps(o + B, _mm256_permutevar8x32_ps(w0, ib));
      _mm256_storeu_ps(o + 2 * B, _mm256_permutevar8x32_ps(w1, ia));
      _mm256_storeu_ps(o + 3 * B, _mm256_permutevar8x32_ps(w1, ib));
    }
  }
  return i;
}
#endif

// The joint-bilateral lookup at the n columns of a row that the response histogram samples
// (frame_consts; CpuEngine::hcols_: their cells ix and weights tx, compact), channels L/M,
// S and, with rods, the rods' two (those responses_core reads): per block of kJbuBlock
// samples the corners gathered from the grids, then the same stages and mix (per column:
// interp_row_jbu's per unit; the same values bit for bit as its non-flat segments). lv:
// the samples' levels, compact; out: compact, ad[k * n + i], as responses_core reads them
// (were scattered to ad[k * W + x_i] and copied back by frame_consts). The whole row, of
// which the histogram reads a quarter, cost ~4x the work. The corners per 8 samples from
// one window per grid row (cols_corners_avx2): one by one (4 + 4 nk scalar loads and
// stores a sample, their addresses from ix, ix and tx read with stride kSub from lcols_)
// they were about half of this function's samples (hist12, DESIGN.md). pf, npf: npf floats
// (the row's RGB samples, which responses_core reads next) prefetched in step with the
// blocks: hsub_, written in pass 1, came from memory line by line (responses_core's
// samples in fc.hist 566 -> 353; the whole row at the task's start stalled on the
// prefetches, lr9).
DTUTMO_HOT static void interp_cols_jbu(int n, int gw, int nc, bool rods, const int* __restrict ix,
                                       const float* __restrict tx, float ty,
                                       int y0, int y1, const float* __restrict lv,
                                       const float* __restrict guide, const float* __restrict grid,
                                       float* __restrict ad, const float* __restrict pf, int npf) {
  constexpr int B = kJbuBlock;
  static_assert(kJbuBlock % 8 == 0, "blocks of whole 8-sample groups");
  const int nk = rods ? kChD0 : kChRod;  // channels 0 .. nk - 1
  const int last = gw - 1;
  // the corners: plane 0 the guide's, plane 1 + k channel k's
  alignas(32) float cor[1 + kChD0][4][B], ab[8][B], su[B], dd[B], w[4][B];
  // the grid rows read: plane p's rows y0, y1 (corners 0, 1 and 2, 3)
  const float* src[2 + 2 * kChD0];
  const int np = 1 + nk;
  for (int p = 0; p < np; ++p) {
    const float* g = p == 0 ? guide : grid + size_t(p - 1) * nc;
    src[2 * p] = g + size_t(y0) * gw;
    src[2 * p + 1] = g + size_t(y1) * gw;
  }
  // the prefetch's lines, in step with the blocks
  const uintptr_t pfa = reinterpret_cast<uintptr_t>(pf);
  uintptr_t pfl = pfa & ~uintptr_t(63);
  for (int i0 = 0; i0 < n; i0 += B) {
    const int m = std::min(B, n - i0);
    for (const uintptr_t e = pfa + 4 * uintptr_t((long long)npf * (i0 + m) / n); pfl < e; pfl += 64)
      __builtin_prefetch(reinterpret_cast<const void*>(pfl), 0, 2);
    const int* __restrict cell = ix + i0;
    const float* __restrict txb = tx + i0;
    int i = 0;
#if defined(__x86_64__) || defined(__i386__)
    if (have_avx2()) i = cols_corners_avx2(cell, m, gw, np, src, &cor[0][0][0], B);
#endif
    for (; i < m; ++i) {
      const int a = cell[i], b = std::min(a + 1, last);
      for (int p = 0; p < np; ++p) {
        cor[p][0][i] = src[2 * p][a];
        cor[p][1][i] = src[2 * p][b];
        cor[p][2][i] = src[2 * p + 1][a];
        cor[p][3][i] = src[2 * p + 1][b];
      }
    }
    const float(*cg)[B] = cor[0];
    const float(*kl)[B] = cor[1 + kChLM];
    jbu_stages(m, lv + i0, cg[0], cg[1], cg[2], cg[3], kl[0], kl[1], kl[2], kl[3], txb, ty, ab, su, dd);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < 4; ++j) w[j][i] = jbu_combine(ab[j][i], ab[4 + j][i], su[i], dd[i]);
    for (int k = 0; k < nk; ++k) {
      const float(*c)[B] = cor[1 + k];
      float* __restrict o = ad + size_t(k) * n + i0;
      for (int i = 0; i < m; ++i) {
        const float e[4] = {w[0][i], w[1][i], w[2][i], w[3][i]};
        o[i] = jbu_mix(e, c[0][i], c[1][i], c[2][i], c[3][i]);
      }
    }
  }
}

void CpuEngine::interp_cols(int y, Scratch& s, const float* lv, float* ad, const float* pf, int npf) {
  int y0, y1;
  float ty;
  grid_interp(grid_pos(y, float(cell_)), gh_, &y0, &y1, &ty);
  s.rods = rod_row_[y0] || rod_row_[y1];
  interp_cols_jbu(int(hcols_.ix.size()), gw_, gw_ * gh_, s.rods, hcols_.ix.data(), hcols_.tx.data(), ty, y0,
                  y1, lv, jguide_.data(), gridk_.data(), ad, pf, npf);
}

// Bilinear interpolation of the adaptation channels for row y (spatial.h cell_sample, by
// rows): vertical lerp of two grid rows, then horizontal lerp through the per-column
// table lcols_ (made at configure). With local adaptation on, the joint-bilateral lookup
// above instead (edge-aware).
void CpuEngine::interp_row(int y, Scratch& s, const float* ly) {
  int y0, y1;
  float ty;
  grid_interp(grid_pos(y, float(cell_)), gh_, &y0, &y1, &ty);
  const int nch = P_.display_mode != DisplayMode::Whiteboard ? kAd : kChD0;
  // rod channels only where a rod weight reaches the row (else they are 0 and not read)
  s.rods = rod_row_[y0] || rod_row_[y1];
  if (jbu_) {
    // the segments of this grid-row pair (jbu_segments), kept while the pair holds: keys of
    // this frame's grids (frame_no_), the grid row and whether the rods' channels are read
    const long long k0 = (frame_no_ * (gh_ + 1) + y0) * 2 + (s.rods ? 1 : 0);
    const long long k1 = (frame_no_ * (gh_ + 1) + y1) * 2 + (s.rods ? 1 : 0);
    const float tol = jbu_shortcut_ ? kJbuFlat : -1.0f;
    const int(*units)[4] = reinterpret_cast<const int(*)[4]>(lunits_.data());
    const int nunits = int(lunits_.size() / 4);
    if (s.jf_key[0] != k0 || s.jf_key[1] != k1 || s.jf_nch != nch || s.jf_tol != tol) {
      s.jf_n = jbu_segments(gw_, gw_ * gh_, nch, s.rods, tol, units, nunits, y0, y1, gridk_.data(),
                            s.jfc.data(), s.jf.data());
      s.jf_key[0] = k0;
      s.jf_key[1] = k1;
      s.jf_nch = nch;
      s.jf_tol = tol;
    }
    const int nflat = (cell_ == 4 ? interp_row_jbu4 : cell_ == 2 ? interp_row_jbu2 : interp_row_jbu)(
        W_, gw_, gw_ * gh_, nch, s.rods, units, lcols_.tx.data(), ty, y0, y1, ly, jguide_.data(), gridk_.data(),
        s.jf.data(), s.jf_n, s.vrow.data(), s.ad.data());
    if (nflat) jbu_flat_n_.fetch_add(nflat, std::memory_order_relaxed);
    return;
  }
  float* vr = s.vrow.data();
  for (int k = 0; k < nch; ++k) {
    if (!channel_read(k, s.rods)) continue;
    const float* a = gridk_.data() + (size_t(k) * gh_ + y0) * gw_;
    const float* b = gridk_.data() + (size_t(k) * gh_ + y1) * gw_;
    float* d = vr + size_t(k) * (gw_ + 1);
    for (int i = 0; i < gw_; ++i) d[i] = lerpf(a[i], b[i], ty);
    d[gw_] = d[gw_ - 1];
  }
  interp_h(nch, vr, s.ad.data(), s.rods);
}

DTUTMO_HOT void CpuEngine::interp_h(int nch, const float* __restrict vr, float* __restrict ad,
                                    bool rods) const {
  const int W = W_;
  const int* __restrict ix = lcols_.ix.data();
  const float* __restrict tx = lcols_.tx.data();
  for (int k = 0; k < nch; ++k) {
    if (!channel_read(k, rods)) continue;
    const float* __restrict d = vr + size_t(k) * (gw_ + 1);
    float* __restrict o = ad + size_t(k) * W;
    for (int x = 0; x < W; ++x) o[x] = lerpf(d[ix[x]], d[ix[x] + 1], tx[x]);
  }
}

}  // namespace cpu
}  // namespace dtutmo
