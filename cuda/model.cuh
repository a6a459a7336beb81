// dtutmo CUDA -- the device-side state of the temporal model and the per-frame setup
// inputs, and the few device-only glue pieces. The model itself is common/'s: the per-frame
// model (temporal state, grey responses and inversions, percentiles, targets,
// normalisation, per-cell constants, edge map) is common/dtutmo/model.h, the per-pixel
// model (decode, responses, display mapping, encode, the tables) common/dtutmo/pixel_model.h,
// the spatial sampling (grids, pyramids, blur taps, La lookup, bilateral grid, edge-aware
// pooling) common/dtutmo/spatial.h. The CPU engine calls the same functions.
#pragma once

#include "dtutmo/frame_consts.h"
#include "dtutmo/hd.h"
#include "dtutmo/model.h"
#include "dtutmo/params.h"
#include "dtutmo/pixel_model.h"
#include "dtutmo/spatial.h"

namespace dtutmo {
namespace cuda {


// Temporal state and per-frame scalars, in device memory (one instance per engine).
// The persistent part is model.h's TemporalState (the CPU engine's ts_); the rest is
// rewritten every frame.
struct DevState {
  TemporalState ts;
  float s_rmed, h_rmed[2];  // median response (display key, model.h key_targets)
  float target_logmean;  // this frame's pixel-weighted mean of log2 Y
  float kc, kr, kp, kq;  // smoothing factors this frame (1 = snap): cone, rod, pupil, range
  int snap;              // this frame snaps (host reset / discontinuity, or a cut)
  int cut;               // broadcast mode: a cut was detected this frame
  int redo;              // pass 1 is made again with the glare snapped (model.h glare_cut_redo):
                         // the gate of the redo's kernels (the engine enqueues them, they
                         // return at once when 0: no host round trip)
  int csf_active;        // some CSF band gain < 0.995
  unsigned long long bad;  // bad input samples of this frame
  float csf_gain[kCsfLevels][3];
};

// Parameters of the per-frame setup kernels (host computes, passed by value).
struct SetupParams {
  int width, height, gw, gh;
  float fov_deg, age;
  float local_a;        // P.local ? P.local_adaptation : 0
  float peak, black, display_adapt, pct_low, pct_high, knee, cut_threshold, cut_shape_threshold;
  float key, key_strength;  // display key (model.h key_targets)
  int viewing, broadcast, mesopic, display_mode, csf, optics;
  float kc_raw, kr_raw, kp_raw, kq_raw;  // 1 - exp(-dt / tau) (1 when tau <= 0)
  int host_snap;                 // reset / first frame / discontinuity
  int ew, eh;                    // edge-map (subsample) grid
};

// --- the temporal state updates (model.h's, shared by the kernels and the host check) ---
// k_global_stats: model.h temporal_update (cut detection against the previous frame's
// log-mean and signature, the median-of-3 filter, the smoothed cone / rod levels and
// pupil) and whether the frame is made again (st.redo, model.h glare_cut_redo); with
// `redo` (the frame made again) model.h temporal_redo. Fills K.la_global, pupil_mm,
// td_per_nit.
DTUTMO_HD void update_global_state(DevState& st, float target, const float sig[kCutQ], const SetupParams& sp,
                                   FrameConsts& K, bool redo = false);
// k_frame_setup: the median-filtered, smoothed response percentiles (and the median).
DTUTMO_HD void update_percentiles(DevState& st, float p_lo, float p_hi, float p_med);

// Per-cell constants of the per-pixel stage, the channels of spatial.h AdaptChannel in
// order (the CPU engine keeps them as planar grids): K = log2 sigma - log2 p - log2 td, so
// that r = 1 / (1 + 2^(n (K - log2 L))) with L in cd/m^2; w the mesopic rod weight;
// d0..d2 the display observer's full-inverse constants (full-inverse / hybrid modes).
struct KCell {
  float klm, ks, krod, w, d0, d1, d2, pad;
};
static_assert(sizeof(KCell) == 8 * sizeof(float), "KCell: 8 floats, the channels in order");
// The KCell array as spatial.h's CellGrid (channel k of cell i at i * 8 + k).
DTUTMO_HD CellGrid kcell_grid(const KCell* cells, int gw, int gh) {
  return {&cells[0].klm, 1, 8, gw, gh};
}

// The KCell of an AdaptCell at the global pupil (low_res()'s gridk_ fill; d0..d2 left).
DTUTMO_HD void fold_cell(const AdaptCell& c, float log2_td, KCell* k) {
  float f[4];
  fold_cell_k(c, log2_td, f);  // model.h
  k->klm = f[0];
  k->ks = f[1];
  k->krod = f[2];
  k->w = f[3];
}



DTUTMO_HD void update_global_state(DevState& st, float target, const float sig[kCutQ], const SetupParams& sp,
                                   FrameConsts& K, bool redo) {
  const TemporalStep r =
      redo ? temporal_redo(st.ts, target, sig, sp.fov_deg, sp.width, sp.height, sp.age)
           : temporal_update(st.ts, target, sig, sp.host_snap != 0, sp.broadcast != 0, sp.cut_threshold,
                             sp.cut_shape_threshold, sp.kc_raw, sp.kr_raw, sp.kp_raw, sp.kq_raw, sp.fov_deg,
                             sp.width, sp.height, sp.age);
  if (!redo) st.redo = glare_cut_redo(sp.optics != 0, r.cut != 0, sp.host_snap != 0);
  st.target_logmean = target;
  st.snap = r.snap;
  st.cut = r.cut;
  st.kc = r.kc;
  st.kr = r.kr;
  st.kp = r.kp;
  st.kq = r.kq;
  K.la_global = r.la_global;
  K.pupil_mm = st.ts.s_pupil;
  K.td_per_nit = pupil_area_eff(st.ts.s_pupil);
}

DTUTMO_HD void update_percentiles(DevState& st, float p_lo, float p_hi, float p_med) {
  update_pct(st.ts, p_lo, p_hi, st.snap != 0, st.kq);
  update_pct1(st.h_rmed, st.s_rmed, p_med, st.snap != 0, st.kq);
}

}  // namespace cuda
}  // namespace dtutmo
