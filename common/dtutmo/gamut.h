// dtutmo -- gamut mapping by desaturation toward the pixel's own luminance (MODEL.md
// stage 10): rgb' = Y + t (rgb - Y) with the largest t in [0, 1] that puts every channel
// in [0, peak]; a luminance above peak is then clipped (white).
#pragma once

#include "dtutmo/fastmath.h"
#include "dtutmo/hd.h"

namespace dtutmo {

DTUTMO_HD Vec3 gamut_desaturate(Vec3 c, Vec3 w, float peak) {
  float y = w.x * c.x + w.y * c.y + w.z * c.z;
  if (!(y > 0.0f)) return {0.0f, 0.0f, 0.0f};
  if (y >= peak) return {peak, peak, peak};
  float t = 1.0f;
  const float v[3] = {c.x, c.y, c.z};
  for (int i = 0; i < 3; ++i) {
    const float d = v[i] - y;
    if (v[i] < 0.0f) t = minf(t, y / (y - v[i]));
    else if (v[i] > peak) t = minf(t, (peak - y) / d);
  }
  return {clampf(y + t * (c.x - y), 0.0f, peak), clampf(y + t * (c.y - y), 0.0f, peak),
          clampf(y + t * (c.z - y), 0.0f, peak)};
}

// Gamut mapping that trades some luminance for chroma above the peak (DESIGN.md
// section 10). Negative channels are first removed by desaturating toward the pixel's
// own luminance (as gamut_desaturate). A colour still above the peak is mapped to
//   d + keep (s - d),  d = gamut_desaturate(c) (constant luminance, toward white),
//                      s = c peak / max(c)       (chromaticity kept, luminance lowered),
// both in gamut, so their mix is too (the RGB cube is convex). Both lie in the plane of
// the grey axis and c: the mix keeps the pixel's dominant wavelength (no hue rotation).
// keep = 0 is gamut_desaturate exactly; keep = 1 keeps the full chromaticity of bright
// saturated lights at the cost of their luminance. Monotonic in the pixel's intensity.
// In two pieces (gamut_map_keep composes them; the CPU row loop runs each as a loop of its
// own, like lab_hue_restore's halves: shorter chains, more iterations in the out-of-order
// window). First, the negative channels removed: p (black for no light or NaN).
DTUTMO_PX Vec3 gamut_lift(Vec3 c, Vec3 w) {
  // Branch-free (selects only): the CPU row loop vectorises. Same values as the branchy
  // form: the smallest of y / (y - c_i) over the negative channels is y over the largest
  // denominator, y - min(c, 0) (division is monotonic and correctly rounded).
  const float y = w.x * c.x + w.y * c.y + w.z * c.z;
  const bool ok = y > 0.0f;  // no light (or NaN): black
  const float mn = minf(minf(minf(c.x, c.y), c.z), 0.0f);
  const float tq = y / maxf(y - mn, 1e-30f);  // division outside the select: if-converted
  const float t = mn < 0.0f ? tq : 1.0f;
  const Vec3 p = {maxf(y + t * (c.x - y), 0.0f), maxf(y + t * (c.y - y), 0.0f),
                  maxf(y + t * (c.z - y), 0.0f)};
  return {ok ? p.x : 0.0f, ok ? p.y : 0.0f, ok ? p.z : 0.0f};
}
// Second, p (every channel >= 0) above the peak mapped to d + keep (s - d); in gamut, p as
// it is (black stays black: mx = 0).
DTUTMO_PX Vec3 gamut_keep_peak(Vec3 p, Vec3 w, float peak, float keep) {
  const float mx = maxf(p.x, maxf(p.y, p.z));
  // above the peak: d = gamut_desaturate(p) (every p_i >= 0, so only the peak limits t2,
  // by the largest channel alone: (peak - y2) / (max(p) - y2))
  const float y2 = w.x * p.x + w.y * p.y + w.z * p.z;
  const float t2 = minf((peak - y2) / maxf(mx - y2, 1e-30f), 1.0f);
  const float dx = clampf(y2 + t2 * (p.x - y2), 0.0f, peak);
  const float dy = clampf(y2 + t2 * (p.y - y2), 0.0f, peak);
  const float dz = clampf(y2 + t2 * (p.z - y2), 0.0f, peak);
  const bool wpk = y2 >= peak;  // luminance above the peak: white
  const bool dpos = y2 > 0.0f;
  const float ex = dpos ? (wpk ? peak : dx) : 0.0f, ey = dpos ? (wpk ? peak : dy) : 0.0f,
              ez = dpos ? (wpk ? peak : dz) : 0.0f;
  const float g = peak / maxf(mx, 1e-30f);
  const bool hi = mx > peak;  // else p is in gamut and returned as it is
  const float qx = clampf(ex + keep * (p.x * g - ex), 0.0f, peak);
  const float qy = clampf(ey + keep * (p.y * g - ey), 0.0f, peak);
  const float qz = clampf(ez + keep * (p.z * g - ez), 0.0f, peak);
  return {hi ? qx : p.x, hi ? qy : p.y, hi ? qz : p.z};
}
DTUTMO_PX Vec3 gamut_map_keep(Vec3 c, Vec3 w, float peak, float keep) {
  return gamut_keep_peak(gamut_lift(c, w), w, peak, keep);
}

// ---------------------------------------------------------------- constant CIELAB hue
// hue_preserve (display.h) and gamut_map_keep move a colour along straight lines toward
// white in linear light: constant dominant wavelength, but not constant perceived hue
// (CIELAB hue moved by up to 12 degrees for red, 9 for blue far above the peak, DESIGN.md
// section 11). This puts the result back on the input's constant-CIELAB-hue line, keeping
// its luminance and its CIELAB chroma. With white-normalised XYZ n = (X/Xn, Y/Yn, Z/Zn)
// (color.h lms_to_nxyz) and the cube-root chroma ratios
//   q = (cbrt(n_x / n_y) - 1, cbrt(n_z / n_y) - 1),
// CIELAB above its toe has f_x = f_y (1 + q_x), f_z = f_y (1 + q_z), hence
//   a = 500 f_y q_x,  b = -200 f_y q_z:
// the hue depends on q's direction only, the chroma at a given lightness on
// |(500 q_x, 200 q_z)|. The output is
//   y_r ((1 + s q_in,x)^3, 1, (1 + s q_in,z)^3),  s = |q_r|_ab / |q_in|_ab
// (y_r, q_r: the straight-line result's luminance and ratios): the input's hue exactly,
// the result's lightness and chroma. At the same lightness and chroma but a slightly
// different hue the point can leave the gamut by a little: above the peak its luminance
// is lowered until it fits (hue kept), a small negative channel is clipped. Four cube
// roots (fast_cbrt), three divisions, a square root and no search: the straight-line map
// stays the one that decides how much chroma fits.
// r: the straight-line result (output linear RGB, cd/m^2); ux, uz: the input's n_x / n_y and
// n_z / n_y (display_hue's 1 + a: computed once per pixel for the gate and reused here,
// not again from the input RGB; 1, 1 for a grey or no light: nothing to restore); to_n /
// from_n: output RGB <-> white-normalised XYZ; gmap: fit [0, peak]; run: 0 returns r as it
// is (lab_hue_gate said skip; a factor of the select below, so that the CPU loop that
// applies the gate per pixel vectorises).
// In two halves (lab_hue_restore composes them; the CPU row loop runs each as a loop of its
// own): in one loop the chain from the input through three divisions, a square root and
// two cube roots in series is ~160 cycles long, and the out-of-order window held too few
// iterations to hide it (the AVX2 clone, Zen 5: ~108 cycles per 8 pixels for ~180
// instructions, half the FP pipes' rate); split, each half's chain is shorter and the
// two loops ran 36 -> 26 ns per 8 pixels (a microbenchmark of the 1920-pixel row).
// First half, the ratio: s = |q_r| / |q_in| >= 0, or -1 where nothing is restored (a
// grey input, no light, run 0: the second half returns r as it is); *qx, *qz: q_in.
DTUTMO_PX float lab_hue_ratio(Vec3 r, float ux, float uz, const Mat3& to_n, float run, float* qx, float* qz) {
  const Vec3 nr = mul(to_n, r);
  // the chroma ratio as a division and a square root, not fast_rsqrt's Newton steps: on
  // the AVX2 clone (Zen 5) the restore loop 222 -> 178 instructions per 8 pixels with the
  // min/max tail below, row_colour's samples (fast, lab-hue on, 1080p clip) 1415 -> 1123:
  // the divider is not what limits this loop, its instruction count is
  const float iy = 1.0f / maxf(nr.y, 1e-15f);
  const float rx = fast_cbrt(maxf(nr.x * iy, 1e-6f)) - 1.0f, rz = fast_cbrt(maxf(nr.z * iy, 1e-6f)) - 1.0f;
  const float ix = fast_cbrt(maxf(ux, 1e-6f)) - 1.0f, iz = fast_cbrt(maxf(uz, 1e-6f)) - 1.0f;
  const float cr2 = 250000.0f * rx * rx + 40000.0f * rz * rz;
  const float ci2 = 250000.0f * ix * ix + 40000.0f * iz * iz;
  // a grey input (no hue to keep), no light in or out: the straight-line result as it is
  // (float selects multiplied, no bool &: see hue_preserve; the CPU loop vectorises)
  const float on = (ci2 > 1e-8f ? 1.0f : 0.0f) * (nr.y > 1e-15f ? 1.0f : 0.0f) * run;
  const float s = sqrtf(cr2 / maxf(ci2, 1e-30f));  // |q_r| / |q_in|
  *qx = ix;
  *qz = iz;
  return on > 0.0f ? s : -1.0f;
}
// Second half: the point on the input's hue line (s, qx, qz: the first half's), [fit to
// [0, peak]]; s < 0: r as it is. Its luminance nr.y again from r (three FMA, not a row
// more to carry between the halves; the same expression, so the same value).
DTUTMO_PX Vec3 lab_hue_apply(Vec3 r, float s, float qx, float qz, const Mat3& to_n, const Mat3& from_n, float peak,
                             bool gmap) {
  const float a = maxf(1.0f + s * qx, 0.0f), b = maxf(1.0f + s * qz, 0.0f);
  const float y = mul(to_n, r).y;
  const Vec3 p = mul(from_n, Vec3{y * a * a * a, y, y * b * b * b});
  const float mx = maxf(maxf(p.x, p.y), p.z);
  const float g = gmap ? minf(peak / maxf(mx, 1e-30f), 1.0f) : 1.0f;
  // min of max (not clampf's nested ?:, which GCC 12 built as compares, masks and
  // blends: 24 instructions of 222); a NaN gives 0 (no NaN reaches here: s is -1 then)
  const float ox = gmap ? minf(maxf(g * p.x, 0.0f), peak) : p.x;
  const float oy = gmap ? minf(maxf(g * p.y, 0.0f), peak) : p.y;
  const float oz = gmap ? minf(maxf(g * p.z, 0.0f), peak) : p.z;
  return {s < 0.0f ? r.x : ox, s < 0.0f ? r.y : oy, s < 0.0f ? r.z : oz};
}
DTUTMO_PX Vec3 lab_hue_restore(Vec3 r, float ux, float uz, const Mat3& to_n, const Mat3& from_n, float peak,
                               bool gmap, float run = 1.0f) {
  float qx, qz;
  const float s = lab_hue_ratio(r, ux, uz, to_n, run, &qx, &qz);
  return lab_hue_apply(r, s, qx, qz, to_n, from_n, peak, gmap);
}

// ---------------------------------------------------------------- where the restore is needed
// The straight-line map moves CIELAB hue only where hue_preserve desaturated (k' != 1) or
// the gamut map acted: scaling the luminance at constant linear chromaticity keeps the
// ratios n / n_y, hence q, exactly. lab_hue_gate says, per pixel and cheaply, whether the
// drift the desaturation gives can exceed what may be skipped (below); where it cannot (and
// the gamut map did not act) lab_hue_restore is skipped. Bound: with u = (n_x, n_z) / n_y and
// a = u_in - 1, the line toward white is u(t) = 1 + t a, t = k'; q_i(t) = cbrt(u_i) - 1 =
// t a_i h(t a_i), h(s) = (cbrt(1 + s) - 1) / s > 0, so q points along
// (500 a_x, 200 a_z e^l), l(t) = phi(t a_z) - phi(t a_x), phi = ln h, and the hue angle
// moves by at most |dl| / 2 (d theta / dl = XZ e^l / (X^2 + Z^2 e^2l) <= 1/2). |phi'(s)|
// (1 + s)^(2/3) <= psi = 0.3849 for every s > -1 (sup at s = -0.951, numerically) and
// (1 + s)^(-2/3) <= 1 / min(1 + s, 1), so between t = k' and 1
//   |d theta| <= (psi / 2) |1 - k'| (|a_x| / m_x + |a_z| / m_z),  m_i = min(u_i(k'), u_i(1), 1)
// (radians; the segment must stay in u > 0, else the restore runs). psi / 2 = 0.1925 is
// rounded up to 0.2. The bound drops the cancellation between the x and z terms, so it
// over-estimates. The restore keeps the result's CIELAB chroma C, so the skipped hue
// difference is Delta H = 2 C sin(d theta / 2) <= C |d theta|, with
//   C <= f_y k' (500 |a_x| / m_x + 200 |a_z| / m_z) / 3   (|cbrt(1 + s) - 1| <= |s| / (3
//   min(1 + s, 1)); f_y = cbrt(Y / Yn) <= max(Y / Yn, (Y / Yn)^(1/4))).
// Tighter for k' <= 1 (the common case: hue_preserve desaturated): with (A, B) = f_y (500 q_x,
// -200 q_z) the exact d theta / dl is A B / (A^2 + B^2), not 1/2, and |q_i(t)| grows with t,
// so C(k') <= C(t) on the segment and
//   Delta H <= C(k') int |A B| / C(t)^2 |dl| <= max_t min(|A|, |B|) int |dl|
//           <= 2 f_y min(500 |a_x| / m_x, 200 |a_z| / m_z) / 3 * (the angle bound above):
// twice the smaller term instead of the sum, the x and z terms' product kept (a red's or a
// blue's small cross term). On the 1080p clip (fast, 3 frames) it skips 28-33 % of the
// chunks the sum marked (marked: 23 -> 17, 54 -> 36, 19 -> 14 %; an exact test: 13, 16, 6 %).
// For k' > 1 the sum (C(k') can exceed C(t)).
// Skipped: a drift under kLabHueSkipDeg of hue angle, or (a pale colour, whose hue angle
// moves more for the same colour difference) under kLabHueSkipDh of Delta H*ab, a tenth of
// a just noticeable difference. tests/model/test_hue.cpp measures the skipped drift against
// the exact restore.
DTUTMO_HD_CONST float kLabHueSkipDeg = 0.2f;
DTUTMO_HD_CONST float kLabHueSkipDh = 0.1f;
// kk: hue_preserve's k' (0: a grey or no light, whose result is grey: nothing to restore);
// ax, az: the input's n_x / n_y - 1, n_z / n_y - 1; yr: the result's luminance / the white's.
// 1 where the restore must run, else 0 (a float: selects multiplied, the CPU loop
// vectorises; a NaN gives 0, as the gamut map has already made such a pixel black).
DTUTMO_PX float lab_hue_gate(float kk, float ax, float az, float yr) {
  // m_i = clamp(min(1 + k' a_i, 1 + a_i), 0, 1) = max(1 + max(k', 1) min(a_i, 0), 0): a_i >= 0
  // gives u_i >= 1 at both ends, and for a_i < 0 the end nearer 0 is t = max(k', 1) (the
  // same rounded value: 1 + a_i is fma(1, a_i, 1), and k' a_i < a_i rounds to <=): one
  // clamp less per term. A NaN a_i gives m_i = 1 and a NaN |a_i| below (a gate of 0 from
  // d's compare); a NaN k' the compare k' > 0.
  const float k1 = maxf(kk, 1.0f);
  const float mx = maxf(1.0f + k1 * minf(ax, 0.0f), 0.0f);
  const float mz = maxf(1.0f + k1 * minf(az, 0.0f), 0.0f);
  const float bx = maxf(ax, -ax), bz = maxf(az, -az);
  // d theta m_x m_z and C m_x m_z: the comparisons below without a division; m_i = 0 (the
  // segment reaches u_i <= 0) always runs the restore
  const float px = bx * mz, pz = bz * mx;
  const float d = 0.2f * maxf(1.0f - kk, kk - 1.0f) * (px + pz);
  // f_y = cbrt(y_r) <= max(y_r, y_r^(1/4)) (y_r^(1/4) >= y_r^(1/3) for y_r <= 1, y_r >= its
  // cube root above): two square roots and a max, not four steps at cubes (eight compares
  // and blends), and tighter except just under the steps' cubes (1/64: 0.35, step 0.25).
  // A negative y_r (no light: the result is black) gives a NaN, hence a gate of 0.
  const float fy = maxf(yr, sqrtf(sqrtf(yr)));
  const float cx = 500.0f * px, cz = 200.0f * pz;
  const float c = fy * (1.0f / 3.0f) * (kk <= 1.0f ? 2.0f * minf(cx, cz) : kk * (cx + cz));
  const float mm = mx * mz;
  constexpr float kRad = kLabHueSkipDeg * 3.14159265f / 180.0f;
  return (kk > 0.0f ? 1.0f : 0.0f) * (d >= kRad * mm ? 1.0f : 0.0f) * (c * d >= kLabHueSkipDh * mm * mm ? 1.0f : 0.0f);
}
// Some channel of c outside [0, peak] (or NaN): the gamut map acts on it (gamut_map_keep
// returns an in-gamut colour as it is). 0 or more.
DTUTMO_PX int out_of_gamut(Vec3 c, float peak) {
  // per channel, so that a NaN anywhere counts (a min/max chain can drop it)
  return (c.x >= 0.0f ? 0 : 1) + (c.x <= peak ? 0 : 1) + (c.y >= 0.0f ? 0 : 1) + (c.y <= peak ? 0 : 1) +
         (c.z >= 0.0f ? 0 : 1) + (c.z <= peak ? 0 : 1);
}

}  // namespace dtutmo
