// dtutmo -- DTUCAM: a CIECAM16-structured colour appearance model driven by the
// photoreceptor responses (MODEL.md stage 8, DESIGN.md section 9).
//
// Inputs are the cone responses r_L, r_M, r_S in [0, 1) (already adapted, compressed
// signals, so CIECAM16's CAT and post-adaptation compression are not applied again), with
// the S response referenced to the L/M class (see s_to_lm_ref) so that a D65 grey is
// achromatic. Then, as CIECAM16 (N_bb and the 0.305 offset dropped: they cancel in J):
//   A = 2 rL + rM + rS / 20,  a = rL - 12 rM / 11 + rS / 11,  b = (rL + rM - 2 rS) / 9
//   J = 100 (A / A_w)^(c z),  h = atan2(b, a),  e_t = (cos(h + 2) + 3.8) / 4
//   t = (50000/13 N_c N_cb e_t sqrt(a^2 + b^2)) / (rL + rM + 21 rS / 20)
//   C = t^0.9 sqrt(J / 100) (1.64 - 0.29^n)^0.73,   M = C F_L^0.25   (Hunt effect)
// The inverse solves the same equations exactly, so forward then inverse under equal
// conditions returns the input (to float rounding).
#pragma once

#include "dtutmo/fastmath.h"
#include "dtutmo/frame_consts.h"
#include "dtutmo/hd.h"

namespace dtutmo {

// CIECAM16 F_L from the adapting luminance La (cd/m^2).
DTUTMO_HD float cam_fl(float la) {
  const float k = 1.0f / (5.0f * la + 1.0f);
  const float k4 = k * k * k * k;
  return 0.2f * k4 * (5.0f * la) + 0.1f * (1.0f - k4) * (1.0f - k4) * cbrtf(5.0f * la);
}

// Host helper: a condition for adapting luminance la (cd/m^2), surround c / N_c,
// background n = 0.2, and the achromatic signal aw of the adopted white (responses of
// the white under this condition, computed by the caller with the same receptor model).
DTUTMO_HD CamCond cam_condition(float la, float c, float nc, float aw) {
  CamCond k{};
  k.fl = cam_fl(maxf(la, 1e-6f));
  k.fl_4 = powf(k.fl, 0.25f);
  k.c = c;
  k.nc = nc;
  k.n = 0.2f;
  k.z = 1.48f + sqrtf(k.n);
  k.ncb = 0.725f * powf(1.0f / k.n, 0.2f);
  k.aw = maxf(aw, 1e-6f);
  k.cn = powf(1.64f - powf(0.29f, k.n), 0.73f);
  return k;
}

// Hunt effect bound: the scene condition's F_L is taken at min(La_scene, kHuntMaxRatio x
// La_display). Unbounded, daylight (La ~ 5000) on a 20 cd/m^2-adapted display multiplied
// colourfulness by (F_L ratio)^0.25 ~ 1.7 (colourfulness 66 vs 43 without DTUCAM); the
// bound caps the boost at ~1.06 (a brighter scene still looks more colourful, the dim
// display does not wash it out), while darker scenes keep their full loss of colour.
DTUTMO_HD_CONST float kHuntMaxRatio = 2.0f;
DTUTMO_HD float cam_hunt_la(float la_scene, float la_display) {
  return minf(la_scene, kHuntMaxRatio * la_display);
}

// Surround parameters (c, N_c) of CIECAM16 for dark, dim, average.
DTUTMO_HD void cam_surround(int viewing, float* c, float* nc) {
  *c = viewing == 0 ? 0.525f : viewing == 1 ? 0.59f : 0.69f;
  *nc = viewing == 0 ? 0.8f : viewing == 1 ? 0.9f : 1.0f;
}

// Map the S response to the L/M class's response for the same trolands: odds scaled by
// q = (sigma_S / sigma_LM)^n... stored as its inverse factor `f` = (sigma_LM/sigma_S)^-n.
// odds(r') = odds(r) * f. Use f = (sigma_S / sigma_LM)^n to go to the L/M reference and
// 1/f to come back.
// odds_scale_nd: of a response given as a ratio r = rn / rd (rd > 0), the result as the
// ratio *n / *d (for a caller that folds the division into one of its own).
DTUTMO_PX void odds_scale_nd(float rn, float rd, float f, float* n, float* d) {
  rn = clampf(rn, 0.0f, (1.0f - 1e-7f) * rd);
  // o / (1 + o) with o = f r / (1 - r)
  *n = f * rn;
  *d = rd - rn + f * rn;
}
DTUTMO_PX float odds_scale(float r, float f) {
  float n, d;
  odds_scale_nd(r, 1.0f, f, &n, &d);
  return n / d;
}

struct CamJMh {
  float j, m, h;  // lightness [0, ~100], colourfulness, hue angle (radians)
};

// x^y for x >= 0 through the shared fast exp2/log2 (fastmath.h fast_pow), 0 at x <= 0 as
// powf's x = 0 (the branch is a select). Bound: fast_log2 and fast_exp2 are ~1e-7
// relative; the product y log2 x carries float rounding of |y log2 x| 2^-24, so the
// relative error is < 1e-6 (|y log2 x| < 8) to < 1e-5 (|y log2 x| < 100): at 10^-5 of J,
// M or A, far below a code of a 16-bit output (1.5e-5 of the range at the top, and DTUCAM
// works on compressed responses in [0, 1)). libm's powf was 12.5 % of balanced's CPU time.
DTUTMO_PX float cam_pow(float x, float y) {
  // fast_pow is finite for any x (fast_log2 clamps); a product with the mask, not a
  // select: GCC sinks the power into the select's branch and no longer vectorises
  return fast_pow(x, y) * (x > 0.0f ? 1.0f : 0.0f);
}

// The opponent signals of the responses: achromatic A, a, b, and t's denominator. The
// divisions by 11 and 9 as products with the reciprocals (a float division by a constant
// stays a division: 3 of the 9 in the CPU's DTUCAM loop; 1 ulp apart).
struct CamOpp {
  float A, a, b, den;
};
DTUTMO_PX CamOpp cam_opponent(Vec3 r) {
  return {2.0f * r.x + r.y + r.z * 0.05f, r.x + (r.z - 12.0f * r.y) * (1.0f / 11.0f),
          (r.x + r.y - 2.0f * r.z) * (1.0f / 9.0f), maxf(r.x + r.y + 1.05f * r.z, 1e-9f)};
}
// Lightness J from the achromatic signal A.
DTUTMO_PX float cam_j(float A, const CamCond& k) { return 100.0f * cam_pow(maxf(A, 0.0f) / k.aw, k.c * k.z); }
// The hue's direction (cos h, sin h) of (a, b) without trigonometry; s = |(a, b)|. A grey
// (s = 0) gets h = 0, as atan2f(0, 0) (its colourfulness is 0, so h does not matter).
DTUTMO_PX void cam_hue_dir(float a, float b, float* s, float* ch, float* sh) {
  *s = sqrtf(a * a + b * b);
  const float is = 1.0f / maxf(*s, 1e-30f);
  *ch = *s > 0.0f ? a * is : 1.0f;
  *sh = b * is;
}
// The eccentricity factor e_t = (cos(h + 2) + 3.8) / 4 from cos h, sin h (angle sum).
DTUTMO_PX float cam_et(float ch, float sh) {
  return 0.25f * (ch * -0.41614684f - sh * 0.90929743f + 3.8f);  // cos 2, sin 2
}
// CIECAM16's t from |(a, b)| = s, the denominator and the hue's direction (its numerator
// alone: cam_t_num)...
DTUTMO_PX float cam_t_k(const CamCond& k) { return 50000.0f / 13.0f * k.nc * k.ncb; }
DTUTMO_PX float cam_t_num(float s, float ch, float sh, const CamCond& k) { return cam_t_k(k) * cam_et(ch, sh) * s; }
DTUTMO_PX float cam_t(float s, float den, float ch, float sh, const CamCond& k) {
  return cam_t_num(s, ch, sh, k) / den;
}
// ...colourfulness M from t and J...
DTUTMO_PX float cam_m(float t, float j, const CamCond& k) {
  return cam_pow(t, 0.9f) * sqrtf(j / 100.0f) * k.cn * k.fl_4;
}
// ...and t back from M and J (0 at J = 0).
DTUTMO_PX float cam_t_of_m(float m, float j, const CamCond& k) {
  const float c = maxf(m, 0.0f) / k.fl_4;
  const float sj = sqrtf(maxf(j, 0.0f) / 100.0f) * k.cn;
  const float tp = cam_pow(c / maxf(sj, 1e-30f), 1.0f / 0.9f);  // selects, no branches
  return sj > 0.0f ? tp : 0.0f;
}
// The scene's t carried to the display condition (the Hunt effect: the scene's M at the
// display's J), cam_t_of_m(cam_m(ts, J(as), cs), J(ad), cd) folded in log2 with
// J = 100 (A / A_w)^(c z):
//   log2 t_d = log2 t_s + (c_s z_s / 2 log2(A_s / A_w,s) - c_d z_d / 2 log2(A_d / A_w,d)
//              + log2(c_n,s F_L,s^0.25 / (c_n,d F_L,d^0.25))) / 0.9
// t_s enters linearly: t_d = t_s g with the gain g = 2^(ls(A_s) - ld(A_d)), ls the scene's
// term (with the per-condition constant), ld the display's. 2 log2 and one exp2 for the
// 4 powers (the per-condition terms are loop invariants); g is 0 where A_s or A_d is 0.
// The CPU engine reads 2^ls and 2^-ld from per-frame tables built with these functions
// (pixel_model.h fill_cam_tables). Checked against the unfolded chain (test_math).
DTUTMO_PX float cam_carry_ls(float as, const CamCond& cs, const CamCond& cd) {
  const float kc = fast_log2((cs.cn * cs.fl_4) / (cd.cn * cd.fl_4)) - 0.5f * cs.c * cs.z * fast_log2(cs.aw) +
                   0.5f * cd.c * cd.z * fast_log2(cd.aw);
  return (0.5f * cs.c * cs.z * fast_log2(as) + kc) * (1.0f / 0.9f);
}
DTUTMO_PX float cam_carry_ld(float ad, const CamCond& cd) {
  return 0.5f * cd.c * cd.z * fast_log2(ad) * (1.0f / 0.9f);
}
DTUTMO_PX float cam_carry_gain(float as, float ad, const CamCond& cs, const CamCond& cd) {
  // products with masks, not a select nor && (either left GCC's loop scalar)
  return fast_exp2(cam_carry_ls(as, cs, cd) - cam_carry_ld(ad, cd)) * (as > 0.0f ? 1.0f : 0.0f) *
         (ad > 0.0f ? 1.0f : 0.0f);
}
DTUTMO_PX float cam_t_carry(float ts, float as, float ad, const CamCond& cs, const CamCond& cd) {
  return ts * cam_carry_gain(as, ad, cs, cd);
}

DTUTMO_PX CamJMh dtucam_forward(Vec3 r, const CamCond& k) {
  const CamOpp o = cam_opponent(r);
  const float j = cam_j(o.A, k);
  float s, ch, sh;
  cam_hue_dir(o.a, o.b, &s, &ch, &sh);
  return {j, cam_m(cam_t(s, o.den, ch, sh, k), j, k), atan2f(o.b, o.a)};
}

// The inverse's core: the responses of the achromatic signal A and the chroma (a, b) =
// f (a_d, b_d) along a direction (a_d, b_d) of any length L, with the ratio p = pn / pq
// (pq > 0) of t to kk L (kk = 50000/13 N_c N_cb e_t). (A, a, b) -> (rL, rM, rS): inverse of
// [[2,1,1/20],[1,-12/11,1/11],[1/9,1/9,-2/9]]:
//   rL = (460 A + 451 a + 288 b)/1403, rM = (460 A - 891 a - 261 b)/1403,
//   rS = (460 A - 220 a - 6300 b)/1403,
// den = rL + rM + 1.05 rS = D0 A + d1 a + d2 b; t den = kk s (s = f L) solved for f:
//   f = p D0 A / (1 - p (d1 a_d + d2 b_d)) = pn D0 A / q,  q = pq - pn (d1 a_d + d2 b_d),
// 0 where q <= 1e-9 pq (no finite chroma has the display's t). No square root:
// dtucam_display_rest passes the scene's (a, b) itself, whose length s and e_t cancel
// (t_s = kk_s e_t s / den, and e_t is the display's too). As numerators *rn over the
// common denominator returned, 1403 q (no division: a caller folds it into its own).
DTUTMO_PX float dtucam_inverse_nd(float A, float pn, float pq, float ad, float bd, Vec3* rn) {
  const float d0 = (460.0f + 460.0f + 1.05f * 460.0f) / 1403.0f;
  const float d1 = (451.0f - 891.0f - 1.05f * 220.0f) / 1403.0f;
  const float d2 = (288.0f - 261.0f - 1.05f * 6300.0f) / 1403.0f;
  const float q = pq - pn * (d1 * ad + d2 * bd);
  const float fn = q > 1e-9f * pq ? pn * d0 * A : 0.0f;  // f = fn / q
  const float qa = maxf(q, 1e-9f * pq);
  const float a = fn * ad, b = fn * bd;  // q (a, b)
  *rn = {460.0f * A * qa + 451.0f * a + 288.0f * b, 460.0f * A * qa - 891.0f * a - 261.0f * b,
         460.0f * A * qa - 220.0f * a - 6300.0f * b};
  return 1403.0f * qa;
}
DTUTMO_PX Vec3 dtucam_inverse_dir(float A, float pn, float pq, float ad, float bd) {
  Vec3 rn;
  const float iq = 1.0f / dtucam_inverse_nd(A, pn, pq, ad, bd, &rn);
  return {rn.x * iq, rn.y * iq, rn.z * iq};
}
// The inverse from the achromatic signal A of J (A = A_w (J / 100)^(1 / c z)), t = tn / tq
// (tq > 0) and the hue's direction (cos h, sin h) (dtucam_inverse).
DTUTMO_PX Vec3 dtucam_inverse_t(float A, float tn, float tq, float ch, float sh, const CamCond& k) {
  return dtucam_inverse_dir(A, tn, cam_t_k(k) * cam_et(ch, sh) * tq, ch, sh);
}

DTUTMO_PX Vec3 dtucam_inverse(CamJMh v, const CamCond& k) {
  const float j = maxf(v.j, 0.0f);
  const float A = k.aw * cam_pow(j / 100.0f, 1.0f / (k.c * k.z));
  return dtucam_inverse_t(A, cam_t_of_m(v.m, j, k), 1.0f, cosf(v.h), sinf(v.h), k);
}

}  // namespace dtutmo
