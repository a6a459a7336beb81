// dtutmo CUDA -- the kernels' per-pixel pieces and device-side state, as DTUTMO_HD
// functions so that every CUDA kernel uses ONE copy of each, and so that tests can run
// them on the host and in a <<<1,1>>> kernel. The per-frame model (temporal state, grey
// responses and inversions, percentiles, targets, normalisation, per-cell constants, edge
// map) is common/dtutmo/model.h, which the CPU engine calls too; everything else they call
// (receptors.h, display.h, dtucam.h, gamut.h, transfer.h, fastmath.h, optics.h, csf.h) is
// the shared common/ math itself.
//
// TODO(model): the per-pixel pieces below that still name a CPU function (sample_cells*,
// pixel_responses, display_pixel, encode_pixel, decode_component, hybrid_weight,
// bilateral_slice) mirror loops of engine_cpu.cpp that are being vectorised; until those
// call a common/ header too, the parity tests (tests/cuda) keep the two in step.
#pragma once

#include "dtutmo/color.h"
#include "dtutmo/display.h"
#include "dtutmo/dtucam.h"
#include "dtutmo/fastmath.h"
#include "dtutmo/frame_consts.h"
#include "dtutmo/gamut.h"
#include "dtutmo/hd.h"
#include "dtutmo/model.h"
#include "dtutmo/params.h"
#include "dtutmo/receptors.h"
#include "dtutmo/transfer.h"

namespace dtutmo {
namespace cuda {

// The engine constants (kCell, kDecodeTab, kHistBins, kMinNits, kMaxNits, kSub,
// kCsfLevels, kLookupRangeSigma) and the per-frame model pieces are common/dtutmo/model.h's.

// Temporal state and per-frame scalars, in device memory (one instance per engine).
// The persistent part mirrors CpuEngine's s_logmean_, s_pupil_, s_rlo_, s_rhi_, the
// median-of-3 histories h_logmean_, h_rlo_, h_rhi_ and prev_med_logmean_ (the per-cell
// histories live in their own buffers); the rest is rewritten every frame.
struct DevState {
  float s_logmean, s_pupil, s_rlo, s_rhi, prev_med_logmean;
  float h_logmean[2], h_rlo[2], h_rhi[2];
  float s_rmed, h_rmed[2];  // median response (display key, model.h key_targets)
  float target_logmean;  // this frame's pixel-weighted mean of log2 Y
  float kc, kr, kp;      // smoothing factors this frame (1 = snap)
  int snap;              // this frame snaps (host reset / discontinuity, or a cut)
  int cut;               // broadcast mode: a cut was detected this frame
  int csf_active;        // some CSF band gain < 0.995
  unsigned long long bad;  // bad input samples of this frame
  float csf_gain[kCsfLevels][3];
};

// Parameters of the per-frame setup kernels (host computes, passed by value).
struct SetupParams {
  int width, height, gw, gh;
  float fov_deg, age;
  float local_a;        // P.local ? P.local_adaptation : 0
  float peak, black, display_adapt, pct_low, pct_high, knee, cut_threshold;
  float key, key_strength;  // display key (model.h key_targets)
  int viewing, broadcast, mesopic, display_mode, csf;
  float kc_raw, kr_raw, kp_raw;  // 1 - exp(-dt / tau) (1 when tau <= 0)
  int host_snap;                 // reset / first frame / discontinuity
  int ew, eh;                    // edge-map (subsample) grid
};

// --- the temporal state updates (shared by the kernels and the host check) ---
// k_global_stats: cut detection on the median-filtered log-mean, smoothing factors, the
// smoothed log-mean and pupil; fills K.la_global, pupil_mm, td_per_nit.
DTUTMO_HD void update_global_state(DevState& st, float target, const SetupParams& sp, FrameConsts& K);
// k_cells_update: a cell's median-filtered target, its cone and rod La (log2) smoothed.
DTUTMO_HD void update_cell_state(const DevState& st, float tgt, float& h1, float& h2, float& ls,
                                 float& lr);
// k_frame_setup: the median-filtered, smoothed response percentiles (and the median).
DTUTMO_HD void update_percentiles(DevState& st, float p_lo, float p_hi, float p_med);

// Decode of one normalised component (pass1's decode_band): table lookup with linear
// interpolation, times `mul` (input_scale for SDR/linear, 1 for PQ/HLG). RGBF32 with a
// linear transfer bypasses the table (handled by the caller).
DTUTMO_HD float decode_component(float v, const float* tab, float mul) {
  const float c = (v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f) * (float)kDecodeTab;
  const int k = (int)c;
  const float t = c - (float)k;
  return (tab[k] + t * (tab[k + 1] - tab[k])) * mul;
}
// The sample counts as bad (NaN, Inf, negative) as decode_band counts it.
DTUTMO_HD bool bad_sample(float v) { return !(v >= 0.0f && v <= 3.0e38f); }

// Per-cell receptor constants folded for the per-pixel stage (the CPU engine's gridk_
// channels): K = log2 sigma - log2 p - log2 td, so that r = 1 / (1 + 2^(n (K - log2 L)))
// with L in cd/m^2; w the mesopic rod weight; d0..d2 the display observer's full-inverse
// constants (full-inverse / hybrid modes).
struct KCell {
  float klm, ks, krod, w, d0, d1, d2, pad;
};

// 2x2 box average at (x, y) of the half-size grid of a w x h plane (odd edges: the samples
// that exist). Shared by the pooling and CSF pyramids (k_down2, k_down2_g).
DTUTMO_HD float down2_at(const float* in, int w, int h, int x, int y) {
  float acc = 0.0f;
  int n = 0;
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 2; ++i) {
      const int sx = 2 * x + i, sy = 2 * y + j;
      if (sx < w && sy < h) {
        acc += in[(size_t)sy * w + sx];
        ++n;
      }
    }
  return acc / (float)n;
}

// Bilinear sample of the sw x sh plane `in` at pixel (x, y) of a dw x dh plane (pixel
// centres aligned, edges clamped): the pyramid upsample of the pooling and CSF kernels.
DTUTMO_HD float upsample_at(const float* in, int sw, int sh, int dw, int dh, int x, int y) {
  const float fx = (float)sw / dw, fy = (float)sh / dh;
  float gy = (y + 0.5f) * fy - 0.5f;
  gy = minf(maxf(gy, 0.0f), (float)(sh - 1));
  const int y0 = (int)gy < sh - 1 ? (int)gy : sh - 1;
  const int y1 = y0 + 1 < sh - 1 ? y0 + 1 : sh - 1;
  const float ty = gy - y0;
  float gx = (x + 0.5f) * fx - 0.5f;
  gx = minf(maxf(gx, 0.0f), (float)(sw - 1));
  const int x0 = (int)gx < sw - 1 ? (int)gx : sw - 1;
  const int x1 = x0 + 1 < sw - 1 ? x0 + 1 : sw - 1;
  const float tx = gx - x0;
  const float a = in[(size_t)y0 * sw + x0] * (1 - tx) + in[(size_t)y0 * sw + x1] * tx;
  const float b = in[(size_t)y1 * sw + x0] * (1 - tx) + in[(size_t)y1 * sw + x1] * tx;
  return a * (1 - ty) + b * ty;
}

// Bilinear lookup coordinate of pixel p on a grid of n samples `step` pixels apart (sample
// i at pixel (i + 0.5) step): lower index, upper index (edge replicated), weight of the upper.
DTUTMO_HD void grid_coord(int p, float step, int n, int* i0, int* i1, float* t) {
  float g = (p + 0.5f) / step - 0.5f;
  g = minf(maxf(g, 0.0f), (float)(n - 1));
  const int a = (int)g < n - 1 ? (int)g : n - 1;
  *i0 = a;
  *i1 = a + 1 < n - 1 ? a + 1 : n - 1;
  *t = g - a;
}

// Bilinearly interpolated KCell at pixel (x, y) (interp_row + interp_h): vertical lerp
// a + ty (b - a), then horizontal, the last column replicated.
struct CellSample {
  float klm, ks, krod, w;
  float dk[3];
};
// The CellSample of the 7 interpolated KCell channels (klm, ks, krod, w, d0..d2).
DTUTMO_HD CellSample cell_sample(const float v[7]) {
  CellSample s;
  s.klm = v[0];
  s.ks = v[1];
  s.krod = v[2];
  s.w = v[3];
  s.dk[0] = v[4];
  s.dk[1] = v[5];
  s.dk[2] = v[6];
  return s;
}

DTUTMO_HD CellSample sample_cells(const KCell* cells, int gw, int gh, int x, int y, bool with_dk) {
  int y0, y1, x0, x1;
  float ty, tx;
  grid_coord(y, (float)kCell, gh, &y0, &y1, &ty);
  grid_coord(x, (float)kCell, gw, &x0, &x1, &tx);
  const KCell& a0 = cells[y0 * gw + x0];
  const KCell& b0 = cells[y1 * gw + x0];
  const KCell& a1 = cells[y0 * gw + x1];
  const KCell& b1 = cells[y1 * gw + x1];
  const int nch = with_dk ? 7 : 4;
  const float* pa0 = &a0.klm;
  const float* pb0 = &b0.klm;
  const float* pa1 = &a1.klm;
  const float* pb1 = &b1.klm;
  float v[7] = {0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < nch; ++k) {
    const float c0 = pa0[k] + ty * (pb0[k] - pa0[k]);
    const float c1 = pa1[k] + ty * (pb1[k] - pa1[k]);
    v[k] = c0 + tx * (c1 - c0);
  }
  return cell_sample(v);
}

// Joint-bilateral lookup (interp_row_jbu, Kopf et al. 2007), used when local adaptation
// is on: the four bilinear corner weights, each times exp(-d^2 / 2 sigma^2) + 1e-3 with d
// the pixel's log2 luminance `ly` minus the corner cell's mean log2 luminance (`guide`,
// the cell means), normalised.
DTUTMO_HD CellSample sample_cells_jbu(const KCell* cells, const float* guide, int gw, int gh, int x,
                                      int y, float ly, bool with_dk) {
  int y0, y1, i0, i1;
  float ty, t;
  grid_coord(y, (float)kCell, gh, &y0, &y1, &ty);
  grid_coord(x, (float)kCell, gw, &i0, &i1, &t);
  const float c = kLookupRangeCoef;  // model.h: the range weight is 2^(c d^2)
  const float d0 = ly - guide[y0 * gw + i0], d1 = ly - guide[y0 * gw + i1];
  const float d2 = ly - guide[y1 * gw + i0], d3 = ly - guide[y1 * gw + i1];
  const float a0 = (1 - t) * (1 - ty) * (fast_exp2(c * d0 * d0) + 1e-3f);
  const float a1 = t * (1 - ty) * (fast_exp2(c * d1 * d1) + 1e-3f);
  const float a2 = (1 - t) * ty * (fast_exp2(c * d2 * d2) + 1e-3f);
  const float a3 = t * ty * (fast_exp2(c * d3 * d3) + 1e-3f);
  const float inv = 1.0f / (a0 + a1 + a2 + a3);
  const float w0 = a0 * inv, w1 = a1 * inv, w2 = a2 * inv, w3 = a3 * inv;
  const float* p0 = &cells[y0 * gw + i0].klm;
  const float* p1 = &cells[y0 * gw + i1].klm;
  const float* p2 = &cells[y1 * gw + i0].klm;
  const float* p3 = &cells[y1 * gw + i1].klm;
  const int nch = with_dk ? 7 : 4;
  float v[7] = {0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < nch; ++k) v[k] = w0 * p0[k] + w1 * p1[k] + w2 * p2[k] + w3 * p3[k];
  return cell_sample(v);
}

// Mesopic scene responses of one pixel (responses_core): linear input RGB (cd/m^2,
// already scaled to its base when base/detail is on) -> r_L, r_M, r_S.
DTUTMO_HD Vec3 pixel_responses(Vec3 rgb, const CellSample& a, const FrameConsts& K) {
  const Mat3& m = K.in_rgb_to_lms;
  const Vec3 wr = K.in_rgb_to_rod;
  const float R = rgb.x, G = rgb.y, B = rgb.z;
  const float L = m.m[0][0] * R + m.m[0][1] * G + m.m[0][2] * B;
  const float M = m.m[1][0] * R + m.m[1][1] * G + m.m[1][2] * B;
  const float S = m.m[2][0] * R + m.m[2][1] * G + m.m[2][2] * B;
  const float Yr = wr.x * R + wr.y * G + wr.z * B;
  const float nc = kConeL.n, nr = kRod.n;
  const float rl = 1.0f / (1.0f + fast_exp2(nc * (a.klm - fast_log2(L > 1e-30f ? L : 1e-30f))));
  const float rm = 1.0f / (1.0f + fast_exp2(nc * (a.klm - fast_log2(M > 1e-30f ? M : 1e-30f))));
  const float rs = 1.0f / (1.0f + fast_exp2(nc * (a.ks - fast_log2(S > 1e-30f ? S : 1e-30f))));
  const float rr = 1.0f / (1.0f + fast_exp2(nr * (a.krod - fast_log2(Yr > 1e-30f ? Yr : 1e-30f))));
  const float w = a.w;
  // rods enter S through S's odds ratio to L/M (receptors.h, odds_shift)
  const float rrs = odds_shift(rr, fast_exp2(K.rod_s_log2q));
  return {rl + w * (rr - rl), rm + w * (rr - rm), rs + w * (rrs - rs)};
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

// BilateralGrid::slice (cpu_spatial.cpp): grid of gx*gy*gz (value, weight) pairs,
// trilinear at the pixel centre and its clamped log2 luminance.
DTUTMO_HD float bilateral_slice(const float* grid, int gx, int gy, int gz, float ss, float sr,
                                float lo, float hi, float x, float y, float logy) {
  const float v = minf(maxf(logy, lo), hi);
  const float fx = (x + 0.5f) / ss + 1.0f, fy = (y + 0.5f) / ss + 1.0f, fz = (v - lo) / sr + 1.0f;
  const int x0 = (int)fx < gx - 2 ? (int)fx : gx - 2;
  const int y0 = (int)fy < gy - 2 ? (int)fy : gy - 2;
  const int z0 = (int)fz < gz - 2 ? (int)fz : gz - 2;
  const float tx = fx - x0, ty = fy - y0, tz = fz - z0;
  float num = 0.0f, den = 0.0f;
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i) {
        const float wgt = (i ? tx : 1 - tx) * (j ? ty : 1 - ty) * (k ? tz : 1 - tz);
        const float* c = grid + (((size_t)(z0 + k) * gy + y0 + j) * gx + x0 + i) * 2;
        num += wgt * c[0];
        den += wgt * c[1];
      }
  return den > 1e-6f ? num / den : v;
}

// Bilinear lookup of the hybrid weight map at pixel (x, y) (row_display's hw).
DTUTMO_HD float hybrid_weight(const float* e, int ew, int eh, int x, int y) {
  int y0, y1, x0, x1;
  float ty, tx;
  grid_coord(y, (float)kSub, eh, &y0, &y1, &ty);
  grid_coord(x, (float)kSub, ew, &x0, &x1, &tx);
  const float a = e[(size_t)y0 * ew + x0] * (1 - tx) + e[(size_t)y0 * ew + x1] * tx;
  const float b = e[(size_t)y1 * ew + x0] * (1 - tx) + e[(size_t)y1 * ew + x1] * tx;
  return a * (1 - ty) + b * ty;
}

// Per-frame colour-rendering options of the display stage (Params, not in FrameConsts).
struct ColourOpts {
  int hue_preserve;        // hue from the input (display.h, hue_preserve)
  float saturation;        // share of the chroma lost by per-class compression restored
  float highlight_chroma;  // gamut map: chromaticity kept above the peak (gamut_map_keep)
};

// Per-pixel inputs of the display stage beyond the responses.
struct DisplayIn {
  float hw;        // hybrid weight [0, 1] (hybrid mode)
  float detail_d;  // log2 Y - base (base/detail on), else 0
  bool detail_on;
};

// Display-linear output RGB (cd/m^2) -> non-linear code values (row_display's encode).
DTUTMO_HD Vec3 encode_pixel(const FrameConsts& K, Vec3 rgb, float inv_range) {
  const float peak = K.peak, black = K.black;
  float o[3] = {rgb.x, rgb.y, rgb.z};
  const int ot = K.out_transfer;
  if (ot == (int)Transfer::HLG) {
    for (int c = 0; c < 3; ++c) o[c] = minf(maxf(o[c], 0.0f), peak);
    hlg_inv_ootf(o[0], o[1], o[2], peak);
    for (int c = 0; c < 3; ++c) o[c] = hlg_oetf(o[c]);
    return {o[0], o[1], o[2]};
  }
  for (int c = 0; c < 3; ++c) {
    if (ot == (int)Transfer::PQ) {
      const float v = minf(maxf(o[c], 0.0f), peak);
      const float yy = fast_pow(maxf(v * 1e-4f, 1e-30f), pq::m1);
      o[c] = fast_pow((pq::c1 + pq::c2 * yy) / (1.0f + pq::c3 * yy), pq::m2);
    } else if (ot == (int)Transfer::SRGB) {
      const float rel = minf(maxf((o[c] - black) * inv_range, 1e-30f), 1.0f);
      o[c] = rel <= 0.0031308f ? rel * 12.92f : 1.055f * fast_exp2(fast_log2(rel) * (1.0f / 2.4f)) - 0.055f;
    } else if (ot == (int)Transfer::Linear) {
      o[c] = minf(maxf(o[c], 0.0f), peak) / peak;
    } else {  // BT.1886 (pure 2.4; black added in linear light above)
      const float rel = minf(maxf((o[c] - black) * inv_range, 1e-30f), 1.0f);
      o[c] = fast_exp2(fast_log2(rel) * (1.0f / 2.4f));
    }
  }
  return {o[0], o[1], o[2]};
}

// Display mapping and encoding of one pixel (row_display): responses r -> encoded
// non-linear output code values (before packing). `kwb` the whiteboard constants,
// `inv_range` 1 / max(peak - black, 1e-6).
// `in_rgb` is the pixel's linear input (cd/m^2; the hue source of hue_preserve).
DTUTMO_HD Vec3 display_pixel(const FrameConsts& K, Vec3 rin, const CellSample& a,
                             const DisplayIn& din, const float kwb[3], float inv_range,
                             const ColourOpts& co, Vec3 in_rgb) {
  const float r3[3] = {rin.x, rin.y, rin.z};
  float u[3];
  for (int c = 0; c < 3; ++c) u[c] = soft_knee(K.norm_gain[c] * r3[c] + K.norm_offset[c], K.knee_r[c], K.r_max[c]);
  if (K.dtucam) {
    const float fs = fast_exp2(kConeL.n * (a.ks - a.klm));  // scene S -> L/M reference
    const Vec3 rs = {r3[0], r3[1], odds_scale(r3[2], fs)};
    const CamJMh sj = dtucam_forward(rs, K.cam_scene);
    const Vec3 ud = {u[0], u[1], odds_scale(u[2], K.s_ref_display)};
    const float A = 2.0f * ud.x + ud.y + 0.05f * ud.z;
    const float jd = 100.0f * powf(maxf(A, 0.0f) / K.cam_display.aw, K.cam_display.c * K.cam_display.z);
    const Vec3 o3 = dtucam_inverse({jd, sj.m, sj.h}, K.cam_display);
    u[0] = o3.x;
    u[1] = o3.y;
    u[2] = odds_scale(maxf(o3.z, 0.0f), 1.0f / K.s_ref_display);
  }
  const float inv_n = 1.0f / kConeL.n;
  float lum[3];
  for (int c = 0; c < 3; ++c) {
    const float lo = K.r_min[c], hi = K.r_max[c];
    const float v = minf(maxf(u[c], lo), hi);
    float kk = kwb[c];
    if (K.display_mode != (int)DisplayMode::Whiteboard) {
      // the local (full) inverse fades to the whiteboard over the response band of twice
      // the knee's width ending at the peak
      const float kn = 2.0f * K.knee_r[c] - hi, ikn = 1.0f / maxf(hi - kn, 1e-6f);
      const float tk = minf(maxf((v - kn) * ikn, 0.0f), 1.0f);
      const float sm = tk * tk * (3.0f - 2.0f * tk);
      if (K.display_mode == (int)DisplayMode::FullInverse) {
        kk = a.dk[c] + sm * (kwb[c] - a.dk[c]);
      } else {
        kk = hybrid_display_k(din.hw, a.dk[c], kwb[c], sm);
      }
    }
    lum[c] = fast_exp2(kk + fast_log2(v / (1.0f - v)) * inv_n);
  }
  if (din.detail_on && K.detail != 0.0f) {
    // detail re-applied in log2 luminance, bounded to +-kDetailMax stops, faded out
    // toward the peak response (both signs)
    const float d = minf(maxf(din.detail_d, -kDetailMax), kDetailMax);
    const float un = (u[0] - K.r_min[0]) * (1.0f / maxf(K.r_max[0] - K.r_min[0], 1e-6f));
    const float fade = 1.0f - smoothstepf(0.8f, 1.0f, un);
    const float g = fast_exp2(minf(K.detail * d * fade, 8.0f));
    lum[0] *= g;
    lum[1] *= g;
    lum[2] *= g;
  }
  const Mat3& mo = K.lms_to_out_rgb;
  if (co.hue_preserve) {
    // hue from the input, tone and amount of chroma from the per-class result; the display
    // LMS -> Y row is out_rgb_to_y . lms_to_out_rgb
    const Mat3& mi = K.in_rgb_to_lms;
    const Vec3 wo = K.out_rgb_to_y;
    const Vec3 wl = {wo.x * mo.m[0][0] + wo.y * mo.m[1][0] + wo.z * mo.m[2][0],
                     wo.x * mo.m[0][1] + wo.y * mo.m[1][1] + wo.z * mo.m[2][1],
                     wo.x * mo.m[0][2] + wo.y * mo.m[1][2] + wo.z * mo.m[2][2]};
    const float R = in_rgb.x, G = in_rgb.y, B = in_rgb.z;
    const Vec3 in = {mi.m[0][0] * R + mi.m[0][1] * G + mi.m[0][2] * B,
                     mi.m[1][0] * R + mi.m[1][1] * G + mi.m[1][2] * B,
                     mi.m[2][0] * R + mi.m[2][1] * G + mi.m[2][2] * B};
    const Vec3 v = hue_preserve(in, {lum[0], lum[1], lum[2]}, wl, co.saturation, 1.0f - a.w);
    lum[0] = v.x;
    lum[1] = v.y;
    lum[2] = v.z;
  }
  Vec3 rgb = {mo.m[0][0] * lum[0] + mo.m[0][1] * lum[1] + mo.m[0][2] * lum[2],
              mo.m[1][0] * lum[0] + mo.m[1][1] * lum[1] + mo.m[1][2] * lum[2],
              mo.m[2][0] * lum[0] + mo.m[2][1] * lum[1] + mo.m[2][2] * lum[2]};
  if (K.gamut_map) {
    const float mx = maxf(rgb.x, maxf(rgb.y, rgb.z)), mn = minf(rgb.x, minf(rgb.y, rgb.z));
    if (mn < 0.0f || mx > K.peak) rgb = gamut_map_keep(rgb, K.out_rgb_to_y, K.peak, co.highlight_chroma);
  }
  return encode_pixel(K, rgb, inv_range);
}


DTUTMO_HD void update_global_state(DevState& st, float target, const SetupParams& sp, FrameConsts& K) {
  bool snap = sp.host_snap != 0, cut = false;
  const float f_logmean = filter_logmean(st.h_logmean, st.prev_med_logmean, target, sp.broadcast != 0,
                                         sp.cut_threshold, &snap, &cut);
  st.target_logmean = target;
  st.snap = snap;
  st.cut = cut;
  st.kc = snap ? 1.0f : sp.kc_raw;
  st.kr = snap ? 1.0f : sp.kr_raw;
  st.kp = snap ? 1.0f : sp.kp_raw;
  K.la_global = update_logmean_pupil(st.s_logmean, st.s_pupil, f_logmean, snap, st.kc, st.kp,
                                     sp.fov_deg, sp.width, sp.height, sp.age);
  K.pupil_mm = st.s_pupil;
  K.td_per_nit = pupil_area_eff(st.s_pupil);
}

DTUTMO_HD void update_cell_state(const DevState& st, float tgt, float& h1, float& h2, float& ls,
                                 float& lr) {
  update_cell_la(st.snap != 0, st.kc, st.kr, tgt, h1, h2, ls, lr);
}

DTUTMO_HD void update_percentiles(DevState& st, float p_lo, float p_hi, float p_med) {
  update_pct(st.h_rlo, st.h_rhi, st.s_rlo, st.s_rhi, p_lo, p_hi, st.snap != 0, st.kc);
  update_pct1(st.h_rmed, st.s_rmed, p_med, st.snap != 0, st.kc);
}

}  // namespace cuda
}  // namespace dtutmo
