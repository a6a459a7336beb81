// dtutmo -- the model per pixel (MODEL.md stages 1, 5-10, DESIGN.md sections 1, 6-11):
// decode, scene responses, normalisation and knee, DTUCAM, display inverse, detail, colour
// rendering, gamut, encode; and the tables the engines read for three of the curves
// (decode, sRGB/BT.1886 encode, the display inverse's logit), built at configure time by
// the functions here. One choice per curve, the same in both engines: decode, sRGB and
// BT.1886 encode and the display inverse through these tables (the GPU reads the same
// tables from device memory), PQ and HLG encode by formula.
//
// ONE copy. The CPU engine's row loops (common/src/cpu_*.cpp) run one stage at a time over
// planar rows and call the pieces per pixel (GCC vectorises loops over these inline,
// branch-free functions); the CUDA kernels and the CPU engine's scalar reference path call
// the whole-pixel compositions (decode_rgb, scene_responses, display_pixel), which are
// built from the same pieces in the same order.
#pragma once

#include "dtutmo/color.h"
#include "dtutmo/display.h"
#include "dtutmo/dtucam.h"
#include "dtutmo/fastmath.h"
#include "dtutmo/frame.h"
#include "dtutmo/frame_consts.h"
#include "dtutmo/gamut.h"
#include "dtutmo/hd.h"
#include "dtutmo/model.h"
#include "dtutmo/receptors.h"
#include "dtutmo/spatial.h"
#include "dtutmo/transfer.h"

namespace dtutmo {

// ================================================================== tables
// Decode (input EOTF): kDecodeTab + 2 entries over the code [0, 1], entry i the EOTF of the
// input transfer at code min(1, i / kDecodeTab) (PQ in cd/m^2; HLG scene-linear before the
// OOTF; SDR and linear relative, times input-scale by the caller). Host.
inline void fill_decode_table(Transfer tf, float* tab) {
  for (int i = 0; i <= kDecodeTab + 1; ++i) {
    const float c = fminf(1.0f, float(i) / kDecodeTab);
    float v = c;
    switch (tf) {
      case Transfer::PQ: v = pq_eotf(c); break;
      case Transfer::HLG: v = hlg_inv_oetf(c); break;
      case Transfer::SRGB: v = srgb_eotf(c); break;
      case Transfer::BT1886: v = bt1886_eotf(c); break;
      case Transfer::Gamma22: v = power_eotf(c, kGammaBT470M); break;
      case Transfer::Gamma28: v = power_eotf(c, kGammaBT470BG); break;
      case Transfer::Linear: v = c; break;
    }
    tab[i] = v;
  }
}
// A code value through the decode table: clamped to [0, 1] (NaN -> 0), linear
// interpolation, times `mul`.
DTUTMO_PX float decode_lookup(float v, const float* tab, float mul) {
  const float c = (v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f) * (float)kDecodeTab;
  const int k = (int)c;
  const float t = c - (float)k;
  return (tab[k] + t * (tab[k + 1] - tab[k])) * mul;
}

// Encode (sRGB, BT.1886): kEncodeTab + 2 entries of the code against rel, the relative
// display light in [0, 1], indexed by rel's float bits (exponent and top 7 mantissa bits:
// 128 segments per octave, 2^-48 .. 1, as the tone table's kTone*), linear interpolation
// on the low 16 bits; computed in double. No sqrt per value (the table on sqrt(rel), 16386
// entries, needed one), and 24.6 kB where that one had 64 kB (a 48 kB L1 holds it with the
// rows): the CPU's encode 1263 -> 900 samples on the 1080p clip (AVX2 clone). Error of the
// interpolation of rel^(1/2.4) over a segment 1/128 of rel wide: p (1 - p) / 8 / 128^2 =
// 1.9e-6 relative; sRGB's linear foot is exact. Entry 0 (rel = 2^-48) is 0, so that rel = 0
// (and below 2^-48, NaN) gives 0 exactly: the first segment is off by at most its end
// value, 2^-20 = 1e-6 (BT.1886). Measured: 1.4e-6 of the code range at most, both curves
// (tests/model test_math Encode.TableMatchesTheFormula), < 0.001 of an 8-bit and < 0.1 of
// a 16-bit step (the table on sqrt(rel) had up to 2.1e-5 near black on BT.1886).
constexpr int kEncodeOct = 48, kEncodeSeg = 128, kEncodeBase = (127 - kEncodeOct) * kEncodeSeg;
constexpr int kEncodeTab = kEncodeOct * kEncodeSeg;  // + 2 entries: rel = 1 reads entry kEncodeTab + 1
constexpr float kEncodeMin = 3.5527137e-15f;         // 2^-48
// rel of the table's entry i: float bits (i + kEncodeBase) << 16, at most 1. Host.
inline double encode_rel(int i) {
  const int32_t bits = (i + kEncodeBase) << 16;
  float x;
  memcpy(&x, &bits, 4);
  return fmin(1.0, double(x));
}
inline void fill_encode_table(Transfer tf, float* tab) {
  for (int i = 0; i <= kEncodeTab + 1; ++i) {
    const double rel = encode_rel(i);
    tab[i] = i == 0 ? 0.0f : float(tf == Transfer::SRGB ? srgb_inv_eotf(rel) : bt1886_inv_eotf(rel));
  }
}
// Display-linear o (cd/m^2) through the encode table: rel = (o - black) / range clamped to
// [2^-48, 1] (NaN -> 2^-48, which reads 0), linear interpolation on rel's low 16 mantissa
// bits. The result lies in [0, 1] (the entries do, and an interpolation between two).
DTUTMO_PX float encode_lookup(float o, const float* tab, float black, float inv_range) {
  const float x = (o - black) * inv_range;
  const float m = x > kEncodeMin ? (x < 1.0f ? x : 1.0f) : kEncodeMin;
  const int32_t bits = float_bits(m);
  const int k = (bits >> 16) - kEncodeBase;
  const float f = (float)(bits & 0xffff) * (1.0f / 65536.0f);
  return tab[k] + f * (tab[k + 1] - tab[k]);
}

// Display inverse: h(v) = log2(v / (1 - v)) / n through a table (no log2, no divide per
// pixel). h is odd about v = 1/2, so it is tabulated on m = min(v, 1 - v) (1 - v exact for
// v >= 1/2) with the sign of v - 1/2; the table is indexed by m's float bits (exponent and
// top 7 mantissa bits: 128 segments per octave, 2^-64 .. 2^-1, m below clamped), linear
// interpolation on the low 16 mantissa bits. Max abs. error 1.2e-5 (log2 units, before the
// 1/n; about 1e-5 relative in L). A second table holds the whiteboard's whole inverse
// without the per-class 2^K: (v / (1 - v))^(1/n) = 2^h(m) for v <= 1/2 (first half), 2^-h(m)
// above (second half), on the same segments: max rel. error 3.4e-5 (upper half, v near 1;
// 1.6e-5 on the lower half).
constexpr int kLogitOct = 64, kLogitSeg = 128, kLogitBase = (127 - kLogitOct) * kLogitSeg;
constexpr int kLogitTab = kLogitOct * kLogitSeg - kLogitSeg + 2;  // idx 0 .. (63*128), +1
constexpr float kLogitMin = 5.421010862e-20f;                      // 2^-64
// logit: kLogitTab floats; odds_root: 2 kLogitTab floats. Host.
inline void fill_logit_tables(float* logit, float* odds_root) {
  for (int k = 0; k < kLogitTab; ++k) {
    const int32_t bits = (k + kLogitBase) << 16;
    float mf;
    memcpy(&mf, &bits, 4);
    const double m = mf;
    logit[k] = float(log2(m / (1.0 - m)) / double(kConeL.n));
  }
  for (int k = 0; k < kLogitTab; ++k) {
    odds_root[k] = float(exp2(double(logit[k])));
    odds_root[kLogitTab + k] = float(exp2(-double(logit[k])));
  }
}
// The lookup of either table at v: `noff` = kLogitTab for the second half of odds_root
// above 1/2 (0 for logit), `neg`: the odd symmetry (logit).
DTUTMO_PX float logit_lookup(const float* tab, float v, int noff, bool neg) {
  const bool up = v > 0.5f;
  float m = up ? 1.0f - v : v;
  m = m > kLogitMin ? m : kLogitMin;  // NaN -> clamp
  const int32_t bits = float_bits(m);
  const int k = (bits >> 16) - kLogitBase + (up ? noff : 0);
  const float f = (float)(bits & 0xffff) * (1.0f / 65536.0f);
  const float h = tab[k] + f * (tab[k + 1] - tab[k]);
  return up && neg ? -h : h;
}
// The engines' tables of the display stage (host or device pointers).
struct DisplayTables {
  const float* logit;      // kLogitTab: log2(v / (1 - v)) / n
  const float* odds_root;  // 2 kLogitTab: (v / (1 - v))^(1/n)
  const float* encode;     // kEncodeTab + 2 (sRGB / BT.1886 outputs; else unused)
};
DTUTMO_PX float display_logit(const float* logit, float v) { return logit_lookup(logit, v, 0, true); }
DTUTMO_PX float display_odds_root(const float* odds_root, float v) {
  return logit_lookup(odds_root, v, kLogitTab, false);
}

// ================================================================== decode
// What decoding needs besides the frame (host-made per stream and frame).
struct DecodeConsts {
  const float* tab;  // decode table, kDecodeTab + 2 entries
  float mul;         // input-scale for SDR / linear through the table, 1 for PQ / HLG
  float scale;       // input-scale (RGBF32 linear, no table)
  int mode;          // 0 table, 1 RGBF32 linear without the table
  int hlg;           // 1: the HLG OOTF after the table
  float hlg_peak;    // cd/m^2
};
inline DecodeConsts decode_consts(PixelFormat f, Transfer tf, float input_scale, float hlg_peak,
                                  const float* tab) {
  DecodeConsts d;
  d.tab = tab;
  d.mode = (f == PixelFormat::RGBF32 && tf == Transfer::Linear) ? 1 : 0;
  d.mul = (tf == Transfer::PQ || tf == Transfer::HLG) ? 1.0f : input_scale;
  d.scale = input_scale;
  d.hlg = tf == Transfer::HLG;
  d.hlg_peak = hlg_peak;
  return d;
}
// The sample counts as bad (NaN, Inf, negative, beyond 3e38): counted, then zeroed.
DTUTMO_PX bool bad_sample(float v) { return !(v >= 0.0f && v <= 3.0e38f); }
// RGBF32 linear input: value x input-scale, sanitised (MODEL.md "Input decoding").
DTUTMO_PX float decode_linear(float v, float scale) { return sanitize(v * scale, kMaxNits); }
// HLG: the BT.2100 OOTF for the nominal peak on scene-linear RGB, sanitised.
DTUTMO_PX Vec3 hlg_display(Vec3 e, float peak) {
  hlg_ootf(e.x, e.y, e.z, peak);
  return {sanitize(e.x, kMaxNits), sanitize(e.y, kMaxNits), sanitize(e.z, kMaxNits)};
}
// Normalised R'G'B' code values -> linear RGB, cd/m^2 (the whole pixel).
DTUTMO_PX Vec3 decode_rgb(Vec3 c, const DecodeConsts& d) {
  if (d.mode == 1) return {decode_linear(c.x, d.scale), decode_linear(c.y, d.scale), decode_linear(c.z, d.scale)};
  const Vec3 v = {decode_lookup(c.x, d.tab, d.mul), decode_lookup(c.y, d.tab, d.mul),
                  decode_lookup(c.z, d.tab, d.mul)};
  return d.hlg ? hlg_display(v, d.hlg_peak) : v;
}
// The luminance of linear RGB with the weights wy. A template so that the CPU's AVX2
// decode loop applies the same expression to its 8-lane vectors (GCC vector extensions,
// __m256; the same FMA contraction as the scalar loops').
template <class T>
DTUTMO_PX T luminance_of(T r, T g, T b, Vec3 wy) {
  return wy.x * r + wy.y * g + wy.z * b;
}
// log2 of a luminance floored at kMinNits. poly_log2 (no division; its x >= 2^-126 holds
// above the floor; NaN Y takes the floor).
DTUTMO_PX float log2_floored(float Y) { return poly_log2(Y > kMinNits ? Y : kMinNits); }
// log2 of the luminance (floored at kMinNits): the statistics, the La lookup's guide and
// base/detail.
DTUTMO_PX float log2_luminance(Vec3 rgb, Vec3 wy) { return log2_floored(luminance_of(rgb.x, rgb.y, rgb.z, wy)); }

// ================================================================== receptors
// Response of a receptor class to luminance `lum` (cd/m^2, floored at 1e-30) with the
// folded constant k = log2 sigma - log2 p - log2 td of the cell (model.h fold_cell_k):
// 1 / (1 + 2^(n (k - log2 lum))).
DTUTMO_PX float folded_response(float lum, float k, float n) {
  return resp_log2(fast_log2(lum > 1e-30f ? lum : 1e-30f), k, n);
}
// Cone responses (L, M, S) of linear input RGB (cd/m^2) through the input's RGB -> LMS.
DTUTMO_PX Vec3 cone_responses(Vec3 rgb, const Mat3& m, float klm, float ks) {
  const Vec3 lms = mul(m, rgb);
  return {folded_response(lms.x, klm, kConeL.n), folded_response(lms.y, klm, kConeL.n),
          folded_response(lms.z, ks, kConeL.n)};
}
// The cone responses c mixed with the rod response d (weight w; rods enter S through S's
// odds ratio to L/M, rq = 2^rod_s_log2q: receptors.h odds_shift).
DTUTMO_PX Vec3 mesopic_mix(Vec3 c, float d, float w, float rq) {
  return {c.x + w * (d - c.x), c.y + w * (d - c.y), c.z + w * (odds_shift(d, rq) - c.z)};
}
// The rods' signal of linear input RGB (cd/m^2): scotopic luminance with the same pupil.
DTUTMO_PX float rod_signal(Vec3 rgb, Vec3 wr) { return wr.x * rgb.x + wr.y * rgb.y + wr.z * rgb.z; }
// Mesopic responses: the cones' mixed with the rods'.
DTUTMO_PX Vec3 mesopic_responses(Vec3 rgb, const Mat3& m, Vec3 wr, float klm, float ks, float krod,
                                 float w, float rq) {
  return mesopic_mix(cone_responses(rgb, m, klm, ks), folded_response(rod_signal(rgb, wr), krod, kRod.n), w, rq);
}
// The scene responses of one pixel (the whole pixel, with its CellSample).
DTUTMO_PX Vec3 scene_responses(Vec3 rgb, const CellSample& a, const FrameConsts& K) {
  return mesopic_responses(rgb, K.in_rgb_to_lms, K.in_rgb_to_rod, a.klm, a.ks, a.krod, a.w,
                           fast_exp2(K.rod_s_log2q));
}

// ================================================================== CSF (balanced)
// Opponent channels of the responses: A = (L+M)/2, RG = L - M, YB = (L+M)/2 - S, and back
// (responses kept inside [0, 0.9999]).
DTUTMO_PX Vec3 opponent_from_responses(float l, float m, float s) {
  return {0.5f * (l + m), l - m, 0.5f * (l + m) - s};
}
DTUTMO_PX Vec3 responses_from_opponent(float a, float rg, float yb) {
  return {std_min(std_max(a + 0.5f * rg, 0.0f), 0.9999f), std_min(std_max(a - 0.5f * rg, 0.0f), 0.9999f),
          std_min(std_max(a - yb, 0.0f), 0.9999f)};
}
// A Laplacian band rebuilt with its gain on the upsampled coarser level.
DTUTMO_PX float csf_rebuild(float up, float band, float gain) { return up + gain * band; }

// ================================================================== display
// Normalisation of a class response onto the display observer's (below toe_r with the
// slope before the display key's darkening: gain - toe_gain; model.h finish_frame_consts),
// then the soft knee.
DTUTMO_PX float normalise_linear(float r, float gain, float offset, float toe_r, float toe_gain) {
  return gain * r + offset + toe_gain * std_max(toe_r - r, 0.0f);
}
DTUTMO_PX float normalise_response(float r, float gain, float offset, float toe_r, float toe_gain,
                                   float knee, float rmax) {
  return soft_knee(normalise_linear(r, gain, offset, toe_r, toe_gain), knee, rmax);
}
// DTUCAM (balanced): chroma from the scene's appearance (Hunt effect), tone from the
// normalised responses u. fs: the scene S -> L/M reference (dtucam_s_factor of the cell).
DTUTMO_PX float dtucam_s_factor(float ks, float klm) { return fast_exp2(kConeL.n * (ks - klm)); }
// Its pieces (the CPU engine runs them as passes over a row, the carry gain from tables:
// fill_cam_tables): the scene's responses with S on the L/M reference (*rs) and the
// display's achromatic signal A (cam_opponent's 2 u_L + u_M + u_S' / 20, u_S' =
// odds_scale(u_S, sref), >= 0) of the normalised responses u = un / ud (display.h
// soft_knee_nd's ratios; ud = 1: u itself), each over one common denominator, with one
// reciprocal for both: 1 division where the scene's odds scale, the 3 soft knees and the
// display's odds scale had 5 (balanced's DTUCAM loops). Relative error a few float
// roundings (products of 4 ratios' terms; ud in [1, 1 + (r - k) / (rmax - k)])...
DTUTMO_PX void dtucam_inputs(Vec3 r, float fs, Vec3 un, Vec3 ud, float sref, Vec3* rs, float* A) {
  float zn, zd, sn, sd;
  odds_scale_nd(r.z, 1.0f, fs, &zn, &zd);
  odds_scale_nd(un.z, ud.z, sref, &sn, &sd);
  const float dxy = ud.x * ud.y;
  const float ad = dxy * sd;
  const float an = (2.0f * un.x * ud.y + un.y * ud.x) * sd + 0.05f * sn * dxy;
  const float ir = 1.0f / (zd * ad);
  *rs = {r.x, r.y, zn * ad * ir};
  *A = std_max(an * zd * ir, 0.0f);
}
// ...and the rest from the scene's opponent signals o, the display's A and the carry gain
// g (dtucam.h cam_carry_gain): dtucam_forward's t, t_d = t_s g, then dtucam_inverse with
// the display's A (no power) along the scene's hue. With t_s = kk_s e_t s / den (kk_s =
// cam_t_k(cs)) and the direction (a, b) / s, e_t and s cancel (dtucam.h dtucam_inverse_nd:
// p = t_d / (kk_d e_t s) = kk_s g / (kk_d den)): no hue direction, no square root; the
// inverse's denominator and the odds scale's share one reciprocal. 1 division where the
// hue's direction (cam_hue_dir), the inverse and the odds scale had a square root and 3
// (with dtucam_inputs: 9 divisions or roots per pixel, now 2). The same to float
// rounding (test_math: against the unfolded chain; the grey s = 0 is a = b = 0 in both).
DTUTMO_PX Vec3 dtucam_display_rest(const CamOpp& o, float A, float g, const CamCond& cs, const CamCond& cd,
                                   float isref) {
  Vec3 rn;  // the responses rn / qd
  const float qd = dtucam_inverse_nd(A, cam_t_k(cs) * g, cam_t_k(cd) * o.den, o.a, o.b, &rn);
  float sn, sd;  // S back from the L/M reference: odds_scale(max(rn.z / qd, 0), isref) = sn / sd
  odds_scale_nd(rn.z, qd, isref, &sn, &sd);
  const float ir = 1.0f / (qd * sd);
  return {rn.x * sd * ir, rn.y * sd * ir, sn * qd * ir};
}
DTUTMO_PX Vec3 dtucam_display(Vec3 r, Vec3 u, float fs, const CamCond& cs, const CamCond& cd,
                              float sref, float isref) {
  Vec3 rs;
  float A;
  dtucam_inputs(r, fs, u, {1.0f, 1.0f, 1.0f}, sref, &rs, &A);
  const CamOpp o = cam_opponent(rs);
  return dtucam_display_rest(o, A, cam_carry_gain(std_max(o.A, 0.0f), A, cs, cd), cs, cd, isref);
}
// The response clamped to the display's [black, peak] responses (the inverse's domain).
DTUTMO_PX float clamp_response(float u, float lo, float hi) { return std_min(std_max(u, lo), hi); }
// Full-inverse / hybrid: toward the knee (a band of twice its width below the peak
// response) the local inverse fades to the whiteboard's, whose knee keeps white to the
// extreme tail (a brighter-adapted cell would clip; a bright disc's edge went through the
// locally brighter-adapted inverse and clipped, leaving a ring around a darker centre).
// Band of class c: from kn, 1 / width ikn.
DTUTMO_PX void inverse_fade_band(const FrameConsts& K, int c, float* kn, float* ikn) {
  *kn = 2.0f * K.knee_r[c] - K.r_max[c];
  *ikn = 1.0f / std_max(K.r_max[c] - *kn, 1e-6f);
}
// Weight of the whiteboard at response v (smoothstep over the band).
DTUTMO_PX float inverse_fade(float v, float kn, float ikn) {
  const float tk = std_min(std_max((v - kn) * ikn, 0.0f), 1.0f);
  return tk * tk * (3.0f - 2.0f * tk);
}
// The inverse's constant K (log2 sigma - log2 p - log2 td) at a pixel: full inverse, the
// cell's kl faded to the whiteboard's kc; hybrid: display.h hybrid_display_k.
DTUTMO_PX float full_inverse_k(float fade, float kl, float kc) { return kl + fade * (kc - kl); }
// Display luminance (cd/m^2) of response v: 2^(K + log2(v / (1 - v)) / n) from the logit
// value, or (whiteboard) 2^K (v / (1 - v))^(1/n) from the odds root, scale = 2^K.
DTUTMO_PX float inverse_from_logit(float k, float logit) { return fast_exp2(k + logit); }
// Detail (base/detail, balanced) re-applied in log2 luminance: bounded to +-kDetailMax
// stops (the bilateral's range sigma is 0.5 stop, so texture lies well inside; larger
// values are slicing error at strong edges: the sun's rim came out as a dark ring), faded
// out toward the peak response for both signs (at a bright disc's rim the base is the
// disc's level while the pixel is partly sky). d = log2 Y - base, un the L response
// relative to the display's range. Returns the gain on the display luminance.
DTUTMO_PX float detail_gain(float d, float un, float detail) {
  const float dc = std_min(std_max(d, -kDetailMax), kDetailMax);
  const float fade = 1.0f - smoothstepf(0.8f, 1.0f, un);
  return fast_exp2(std_min(detail * dc * fade, 8.0f));
}
// Display LMS -> luminance: the row out_rgb_to_y . lms_to_out_rgb (both D65-normalised: a
// grey has L = M = S = Y).
DTUTMO_HD Vec3 lms_to_y_row(const Mat3& mo, Vec3 wy) {
  return {wy.x * mo.m[0][0] + wy.y * mo.m[1][0] + wy.z * mo.m[2][0],
          wy.x * mo.m[0][1] + wy.y * mo.m[1][1] + wy.z * mo.m[2][1],
          wy.x * mo.m[0][2] + wy.y * mo.m[1][2] + wy.z * mo.m[2][2]};
}
// Per-frame colour-rendering options of the display stage (Params, not in FrameConsts).
struct ColourOpts {
  int hue_preserve;        // hue from the input (display.h, hue_preserve)
  float saturation;        // share of the chroma lost by per-class compression restored
  float highlight_chroma;  // gamut map: chromaticity kept above the peak (gamut_map_keep)
  int lab_hue;             // with hue_preserve: the input's CIELAB hue exactly (lab_hue_restore)
};
// What the colour rendering needs of the frame, as a plain local copy (the CPU row loop
// keeps it in registers: no aliasing with the rows it writes).
struct ColourConsts {
  Mat3 in_rgb_to_lms;   // input linear RGB -> LMS (hue source)
  Mat3 lms_to_out_rgb;  // display LMS -> output linear RGB
  Mat3 out_to_nxyz;     // output linear RGB -> white-normalised XYZ
  Mat3 nxyz_to_out;     // and back
  Vec3 wl;              // display LMS -> Y (lms_to_y_row)
  Vec3 nx, nz;          // input LMS -> n_x / n_y and n_z / n_y given 1 / y_i (display_hue)
  Vec3 wy;              // output linear RGB -> Y
  float peak;           // cd/m^2
  float ipeak;          // 1 / peak
  float saturation, keep;  // ColourOpts saturation, highlight_chroma
};
// A row of lms_to_nxyz times wl . 1: lms_to_nxyz's rows sum to 1 and its Y row is wl
// scaled, so n_y = y_i / (wl . 1) and n_x / n_y = (row . lms_in) (wl . 1) / y_i.
DTUTMO_HD Vec3 nxz_row(Vec3 row, const Mat3& mo, Vec3 wy) {
  const Vec3 wl = lms_to_y_row(mo, wy);
  const float s = wl.x + wl.y + wl.z;
  return {row.x * s, row.y * s, row.z * s};
}
DTUTMO_HD ColourConsts colour_consts(const FrameConsts& K, const ColourOpts& co) {
  // the per-stream matrices (model.h input_consts, output_consts): the GPU builds this
  // per pixel
  return {K.in_rgb_to_lms,
          K.lms_to_out_rgb,
          K.out_to_nxyz,
          K.nxyz_to_out,
          lms_to_y_row(K.lms_to_out_rgb, K.out_rgb_to_y),
          nxz_row(K.lms_to_nx, K.lms_to_out_rgb, K.out_rgb_to_y),
          nxz_row(K.lms_to_nz, K.lms_to_out_rgb, K.out_rgb_to_y),
          K.out_rgb_to_y,
          K.peak,
          1.0f / K.peak,
          co.saturation,
          co.highlight_chroma};
}
// Display LMS (cd/m^2) -> output linear RGB (cd/m^2): [hue from the input (its linear RGB
// in_rgb, cone share cone_w = 1 - rod weight): display.h hue_preserve], the output
// matrix, [the gamut map], [the input's CIELAB hue restored at the result's luminance and
// CIELAB chroma: gamut.h lab_hue_restore, with hue_preserve; only where lab_hue_gate or
// the gamut map says the straight line can have moved it]. In gamut, gamut_map_keep
// returns its input: no test needed to skip it. In pieces, so that the CPU row loop can
// run them as passes over planar rows (one loop over all needs more than the 16 AVX2
// registers and spills in every iteration).
// First half: the display LMS with the input's hue (display LMS, cd/m^2).
// li: the input's LMS, mul(cc.in_rgb_to_lms, in_rgb) (the CPU's photopic rows have it from
// the tone stage's matrix: display_hue_lms).
DTUTMO_PX Vec3 display_hue_lms(Vec3 lms, Vec3 li, float cone_w, const ColourConsts& cc) {
  return hue_preserve(li, lms, cc.wl, cc.saturation, cone_w);
}
DTUTMO_PX Vec3 display_hue(Vec3 lms, Vec3 in_rgb, float cone_w, const ColourConsts& cc) {
  return display_hue_lms(lms, mul(cc.in_rgb_to_lms, in_rgb), cone_w, cc);
}
// The same, and what the CIELAB hue gate needs of it: hue_preserve's k' (*kk), the
// input's a_x = n_x / n_y - 1 and a_z = n_z / n_y - 1 (*ax, *az; 0 for no light: a grey),
// from the input LMS the hue already has (the CPU's gate pass then reads four rows, not
// the interleaved input again), and the result's luminance relative to the white (*yr:
// hue_preserve keeps the display's y_o).
DTUTMO_PX Vec3 display_hue_lms(Vec3 lms, Vec3 li, float cone_w, const ColourConsts& cc, float* kk, float* ax,
                               float* az, float* yr) {
  *yr = (cc.wl.x * lms.x + cc.wl.y * lms.y + cc.wl.z * lms.z) * cc.ipeak;
  float iy;
  const Vec3 v = hue_preserve(li, lms, cc.wl, cc.saturation, cone_w, kk, &iy);
  const float one = iy > 0.0f ? 1.0f : 0.0f;
  *ax = (cc.nx.x * li.x + cc.nx.y * li.y + cc.nx.z * li.z) * iy - one;
  *az = (cc.nz.x * li.x + cc.nz.y * li.y + cc.nz.z * li.z) * iy - one;
  return v;
}
DTUTMO_PX Vec3 display_hue(Vec3 lms, Vec3 in_rgb, float cone_w, const ColourConsts& cc, float* kk, float* ax,
                           float* az, float* yr) {
  return display_hue_lms(lms, mul(cc.in_rgb_to_lms, in_rgb), cone_w, cc, kk, ax, az, yr);
}
// Both, and whether the desaturation can move the CIELAB hue by more than may be skipped
// (gamut.h lab_hue_gate: 1 = the third piece must run, 0 = skip it) into *gate (the GPU's
// and the reference path's per-pixel form).
DTUTMO_PX Vec3 display_hue_gated(Vec3 lms, Vec3 in_rgb, float cone_w, const ColourConsts& cc, float* gate,
                                 float* ax, float* az) {
  float kk, yr;
  const Vec3 v = display_hue(lms, in_rgb, cone_w, cc, &kk, ax, az, &yr);
  *gate = lab_hue_gate(kk, *ax, *az, yr);
  return v;
}
// Second half: display LMS -> output linear RGB, [the gamut map] (display_gmap: the map
// alone, on output linear RGB).
DTUTMO_PX Vec3 display_gmap(Vec3 c, const ColourConsts& cc, bool gmap) {
  return gmap ? gamut_map_keep(c, cc.wy, cc.peak, cc.keep) : c;
}
DTUTMO_PX Vec3 display_out_rgb(Vec3 lms, const ColourConsts& cc, bool gmap) {
  return display_gmap(mul(cc.lms_to_out_rgb, lms), cc, gmap);
}
// Third: the input's CIELAB hue on the output rgb (output linear RGB, cd/m^2), [fit to
// [0, peak] with the gamut map]; ax, az: display_hue's; gate 0: rgb as it is.
DTUTMO_PX Vec3 display_lab_hue(Vec3 rgb, float ax, float az, const ColourConsts& cc, bool gmap, float gate = 1.0f) {
  return lab_hue_restore(rgb, 1.0f + ax, 1.0f + az, cc.out_to_nxyz, cc.nxyz_to_out, cc.peak, gmap, gate);
}
// The same in gamut.h's two halves (the CPU row loop's passes): the ratio (s, or -1: rgb
// as it is; *qx, *qz), then the point on the input's hue line.
DTUTMO_PX float display_lab_ratio(Vec3 rgb, float ax, float az, const ColourConsts& cc, float gate, float* qx,
                                  float* qz) {
  return lab_hue_ratio(rgb, 1.0f + ax, 1.0f + az, cc.out_to_nxyz, gate, qx, qz);
}
DTUTMO_PX Vec3 display_lab_apply(Vec3 rgb, float s, float qx, float qz, const ColourConsts& cc, bool gmap) {
  return lab_hue_apply(rgb, s, qx, qz, cc.out_to_nxyz, cc.nxyz_to_out, cc.peak, gmap);
}
DTUTMO_PX Vec3 display_colour(Vec3 lms, Vec3 in_rgb, float cone_w, const ColourConsts& cc, bool hue,
                              bool gmap, bool lab) {
  if (!hue) return display_out_rgb(lms, cc, gmap);
  if (!lab) return display_out_rgb(display_hue(lms, in_rgb, cone_w, cc), cc, gmap);
  // the CIELAB hue only where the straight line can have moved it (gamut.h lab_hue_gate,
  // or the gamut map acts): the CPU row loop makes the same per-pixel choice
  float gate, ax, az;
  const Vec3 h = display_hue_gated(lms, in_rgb, cone_w, cc, &gate, &ax, &az);
  const Vec3 r = mul(cc.lms_to_out_rgb, h);  // once: the gamut test and the map read it
  if (gmap && out_of_gamut(r, cc.peak)) gate = 1.0f;
  const Vec3 c = display_gmap(r, cc, gmap);
  return gate > 0.0f ? display_lab_hue(c, ax, az, cc, gmap) : c;
}

// ================================================================== photopic tone table
// Where no rod weight reaches a pixel and the display is the whiteboard without DTUCAM or
// detail (fast), its class's display luminance depends on one variable: X = LMS_c 2^-K_c
// (K_c the pixel's folded constant, kChLM for L and M, kChS for S). The response
// 1 / (1 + X^-n), normalisation and knee, the clamp to the display's responses and the
// whiteboard inverse 2^kc (v / (1 - v))^(1/n) are then one curve per class and frame: the
// CPU engine tabulates it (built by calling the functions below, the same chain as the row
// loop's) and replaces 3 log2, 3 exp2, 3 divisions, the knee and 3 odds-root gathers per
// pixel by 2 exp2 and 3 gathers. Segments on X's float bits (exponent and the top 7
// mantissa bits: 128 per octave, 2^-32 .. 2^32, where the response is 1e-7 from 0 or 1),
// linear interpolation on the low 16 bits. Error against the chain: within 1 code of the
// formula (tests/model test_engine, tests/cuda test_cuda_model_host); the CUDA kernels
// keep the formula.
constexpr int kToneOct = 64, kToneSeg = 128, kToneBase = (127 - 32) * kToneSeg;
constexpr int kToneTab = kToneOct * kToneSeg + 2;  // per class
constexpr float kToneMin = 2.3283064e-10f;         // 2^-32
constexpr float kToneMax = 4.2949673e9f;           // 2^32
// The table's variable of one class: LMS_c (cd/m^2, floored at kToneArgFloor) times 2^-K_c
// (the CPU's AVX2 X loop, cpu_receptors_display.cpp tone_arg_avx2, the same).
constexpr float kToneArgFloor = 1e-30f;
DTUTMO_PX float tone_arg(float lms, float k) {
  return (lms > kToneArgFloor ? lms : kToneArgFloor) * fast_exp2(-k);
}
// X of the three cone classes of an input LMS: L and M on the L/M constant klm, S on ks.
DTUTMO_PX Vec3 cone_tone_args(Vec3 lms, float klm, float ks) {
  return {tone_arg(lms.x, klm), tone_arg(lms.y, klm), tone_arg(lms.z, ks)};
}
// The chain the table holds for class c at X, in two parts: the normalised response u
// (tone_u), then the whiteboard inverse of u clamped to the display's responses,
// 2^kwb display_odds_root(clamp_response(u, r_min, r_max)) (kwb: whiteboard_consts of the
// frame). The CPU engine builds the table by blocks of entries, tone_u in a loop that
// vectorises, the inverse by its odds-root row (cpu_receptors_display.cpp tone_table_part,
// logit_n_row with scale 2^kwb): one scalar loop through both with the table read per
// entry was ~0.75 CPU-ms a 1080p frame.
DTUTMO_PX float tone_u(float x, const FrameConsts& K, int c) {
  const float r = folded_response(x, 0.0f, kConeL.n);
  return normalise_response(r, K.norm_gain[c], K.norm_offset[c], K.toe_r[c], K.toe_gain[c], K.knee_r[c],
                            K.r_max[c]);
}
// X of the table's entry i: float bits (i + kToneBase) << 16.
DTUTMO_PX float tone_x(int i) {
  const int32_t bits = (i + kToneBase) << 16;
  float x;
  memcpy(&x, &bits, 4);
  return x;
}
// The receptor response alone, 1 / (1 + X^-n) (folded_response at K = 0), on the same
// segments, read with tone_lookup: the CPU engine's receptor stage (every row the tone
// table above does not take: rows with rods, where the rod weight mixes the responses
// before the normalisation, and every profile but fast). One table per exponent (cones
// kConeL.n, rods kRod.n), the same for every frame. Per pixel 3 exp2 (2^-K for L/M, S and
// the rods) and 4 gathers replace 4 log2, 4 exp2 and 4 divisions. Error: linear
// interpolation over 1/128 octave of X: < 1.5e-6 relative on the response (X^n at small
// X: n (1 - n) / 8 / 128^2). The CUDA kernels and the CPU reference path keep the
// formula (scene_responses): within 1 code (test_engine, test_cuda_model_host).
// kToneTab entries. Host.
inline void fill_response_table(float n, float* tab) {
  for (int i = 0; i < kToneTab; ++i) tab[i] = folded_response(tone_x(i), 0.0f, n);
}
// The table at X: clamped to [2^-32, 2^32] (NaN -> 2^-32), linear interpolation.
DTUTMO_PX float tone_lookup(const float* tab, float x) {
  const float m = x > kToneMin ? (x < kToneMax ? x : kToneMax) : kToneMin;
  const int32_t bits = float_bits(m);
  const int k = (bits >> 16) - kToneBase;
  const float f = (float)(bits & 0xffff) * (1.0f / 65536.0f);
  return tab[k] + f * (tab[k + 1] - tab[k]);
}

// ================================================================== DTUCAM carry tables
// DTUCAM's carry gain (dtucam.h cam_carry_gain) is 2^(ls(A_s) - ld(A_d)): a power of the
// scene's achromatic signal times one of the display's: 2 log2 (each with a division) and
// one exp2 per pixel in the formula. The CPU engine tabulates 2^ls
// (the per-condition constant folded in) and 2^-ld once a frame on the tone table's
// segments (tone_x, read with tone_lookup: 128 per octave, 2^-32 .. 2^32; A is in
// [0, ~3.05]) and multiplies the two lookups. Error: linear interpolation of x^p over a
// segment 1/128 of x wide, |p (p - 1)| / 8 / 128^2 relative: < 1e-5 for the exponents
// c z / 1.8 (0.56 .. 0.74; 2^-ld has -p, the worse side), plus the product's rounding
// against the exponents' sum (~1e-7): 1e-5 of the chroma, far below a code (test_math
// Dtucam.CarryTablesMatchTheFormula: 1.1e-5 at most). The CUDA kernels and the reference
// path keep the formula. 2 kToneTab entries (scene, then display). Host.
inline void fill_cam_tables(const CamCond& cs, const CamCond& cd, float* tab) {
  for (int i = 0; i < kToneTab; ++i) {
    const float x = tone_x(i);
    tab[i] = fast_exp2(cam_carry_ls(x, cs, cd));
    tab[kToneTab + i] = fast_exp2(-cam_carry_ld(x, cd));
  }
}

// ================================================================== encode
// Output linear RGB (cd/m^2) -> code values: PQ absolute (FastPow), HLG through the
// inverse OOTF at the display peak, linear relative to the peak, sRGB / BT.1886 relative
// to the black..peak range through the encode table.
DTUTMO_PX float encode_pq(float o, float peak) {
  return pq_inv_eotf(std_min(std_max(o, 0.0f), peak), FastPow());
}
DTUTMO_PX float encode_linear(float o, float peak) { return std_min(std_max(o, 0.0f), peak) / peak; }
DTUTMO_PX Vec3 encode_hlg(Vec3 o, float peak) {
  float r = std_min(std_max(o.x, 0.0f), peak), g = std_min(std_max(o.y, 0.0f), peak),
        b = std_min(std_max(o.z, 0.0f), peak);
  hlg_inv_ootf(r, g, b, peak);
  return {hlg_oetf(r), hlg_oetf(g), hlg_oetf(b)};
}
DTUTMO_PX float encode_inv_range(float peak, float black) { return 1.0f / std_max(peak - black, 1e-6f); }
DTUTMO_PX Vec3 encode_pixel(Vec3 o, int transfer, float peak, float black, const float* enc_tab) {
  switch ((Transfer)transfer) {
    case Transfer::PQ: return {encode_pq(o.x, peak), encode_pq(o.y, peak), encode_pq(o.z, peak)};
    case Transfer::Linear:
      return {encode_linear(o.x, peak), encode_linear(o.y, peak), encode_linear(o.z, peak)};
    case Transfer::HLG: return encode_hlg(o, peak);
    default: {  // sRGB, BT.1886 (pure 2.4; the black is added in linear light)
      const float ir = encode_inv_range(peak, black);
      return {encode_lookup(o.x, enc_tab, black, ir), encode_lookup(o.y, enc_tab, black, ir),
              encode_lookup(o.z, enc_tab, black, ir)};
    }
  }
}

// ================================================================== the whole pixel
// Per-pixel inputs of the display stage beyond the responses.
struct DisplayIn {
  float hw;        // hybrid weight [0, 1] (hybrid mode)
  float detail_d;  // log2 Y - base (base/detail on), else 0
  bool detail_on;
};
// Responses r of one pixel -> encoded output code values (before packing): normalisation
// and knee, [DTUCAM], display inverse (whiteboard / full inverse / hybrid), [detail],
// colour, gamut, encode. `in_rgb` is the pixel's linear input (cd/m^2; hue source).
DTUTMO_HD Vec3 display_pixel(const FrameConsts& K, const DisplayTables& T, Vec3 r,
                             const CellSample& a, const DisplayIn& din, const ColourOpts& co,
                             Vec3 in_rgb) {
  const float rc[3] = {r.x, r.y, r.z};
  float u[3];
  for (int c = 0; c < 3; ++c)
    u[c] = normalise_response(rc[c], K.norm_gain[c], K.norm_offset[c], K.toe_r[c], K.toe_gain[c],
                                  K.knee_r[c], K.r_max[c]);
  if (K.dtucam) {
    const Vec3 o = dtucam_display(r, {u[0], u[1], u[2]}, dtucam_s_factor(a.ks, a.klm), K.cam_scene,
                                  K.cam_display, K.s_ref_display, 1.0f / K.s_ref_display);
    u[0] = o.x;
    u[1] = o.y;
    u[2] = o.z;
  }
  float kwb[3];
  whiteboard_consts(K, kwb);
  float lum[3];
  for (int c = 0; c < 3; ++c) {
    const float v = clamp_response(u[c], K.r_min[c], K.r_max[c]);
    if (K.display_mode == (int)DisplayMode::Whiteboard) {
      lum[c] = fast_exp2(kwb[c]) * display_odds_root(T.odds_root, v);
    } else {
      float kn, ikn;
      inverse_fade_band(K, c, &kn, &ikn);
      const float fade = inverse_fade(v, kn, ikn);
      const float kk = K.display_mode == (int)DisplayMode::FullInverse
                           ? full_inverse_k(fade, a.dk[c], kwb[c])
                           : hybrid_display_k(din.hw, a.dk[c], kwb[c], fade);
      lum[c] = inverse_from_logit(kk, display_logit(T.logit, v));
    }
  }
  if (din.detail_on && K.detail != 0.0f) {
    const float ir = 1.0f / std_max(K.r_max[0] - K.r_min[0], 1e-6f);
    const float g = detail_gain(din.detail_d, (u[0] - K.r_min[0]) * ir, K.detail);
    lum[0] *= g;
    lum[1] *= g;
    lum[2] *= g;
  }
  const Vec3 rgb = display_colour({lum[0], lum[1], lum[2]}, in_rgb, 1.0f - a.w, colour_consts(K, co),
                                  co.hue_preserve != 0, K.gamut_map != 0, co.lab_hue != 0);
  return encode_pixel(rgb, K.out_transfer, K.peak, K.black, T.encode);
}

}  // namespace dtutmo
