// dtutmo -- pupil, retinal illuminance, photoreceptors (Hood & Finkelstein with bleaching),
// mesopic weight. MODEL.md stages 5 and 6. Units: luminance cd/m^2, illuminance trolands
// (td = cd/m^2 x mm^2), pupil diameter mm, field area deg^2, age years.
#pragma once

#include "dtutmo/fastmath.h"
#include "dtutmo/hd.h"

namespace dtutmo {

// Constants of one receptor class (MODEL.md stage 5).
struct ReceptorClass {
  float k1;   // sigma scale, td
  float o1;   // sigma knee, td
  float m;    // sigma growth exponent
  float n;    // response exponent
  float b;    // bleaching constant B = ln(4.5) cones, ln(4.4) rods
};
DTUTMO_HD_CONST ReceptorClass kConeL = {35.0f, 100.0f, 0.74f, 0.74f, 1.5040774f};
DTUTMO_HD_CONST ReceptorClass kConeM = {35.0f, 100.0f, 0.74f, 0.74f, 1.5040774f};
DTUTMO_HD_CONST ReceptorClass kConeS = {25.0f, 100.0f, 0.74f, 0.74f, 1.5040774f};
DTUTMO_HD_CONST ReceptorClass kRod = {5.0f, 1.0f, 0.73f, 0.73f, 1.4816045f};
DTUTMO_HD_CONST float kSigmaNoise = 1.0f;  // sigma_n, td

// Watson & Yellott (2012) unified pupil formula: luminance L (cd/m^2), field area a
// (deg^2), age y (years), eyes e (1 or 2). Diameter in mm, clamped to [2, 8].
DTUTMO_HD float pupil_watson_yellott(float lum, float area_deg2, float age, int eyes) {
  const float me = eyes >= 2 ? 1.0f : 0.1f;
  const float f = maxf(lum, 0.0f) * area_deg2 * me;
  const float q = powf(f / 846.0f, 0.41f);
  const float dsd = 7.75f - 5.75f * q / (q + 2.0f);
  const float d = dsd + (age - 28.58f) * (0.02132f - 0.009562f * dsd);
  return clampf(d, 2.0f, 8.0f);
}

// Effective pupil area with the Stiles-Crawford effect, mm^2 = trolands per cd/m^2:
// (pi d^2 / 4) (1 - (d/9.7)^2 + (d/12.4)^4).
DTUTMO_HD float pupil_area_eff(float d_mm) {
  const float a = d_mm / 9.7f, b = d_mm / 12.4f;
  return 0.78539816f * d_mm * d_mm * (1.0f - a * a + b * b * b * b);
}

// Bleaching p = clamp(B / (B + ln(Ia + 0.01)), 0.1, 1). Where ln(Ia + 0.01) <= 0 (Ia below
// about 1 td) there is nothing to bleach and p = 1: the literal formula's denominator
// would cross zero at Ia = exp(-B) and jump from 1 to the 0.1 floor (a defect).
// (M: the transcendentals, fastmath.h LibmFns or FastFns; also below.)
template <class M = LibmFns>
DTUTMO_PX float bleach(float ia_td, float b) {
  const float l = M::ln(maxf(ia_td, 0.0f) + 0.01f);
  return l <= 0.0f ? 1.0f : clampf(b / (b + l), 0.1f, 1.0f);
}

// Semi-saturation sigma = k1 ((O1 + Ia) / O1)^m + sigma_n / p, trolands.
template <class M = LibmFns>
DTUTMO_PX float receptor_sigma(float ia_td, float p, const ReceptorClass& c) {
  return c.k1 * M::pow((c.o1 + maxf(ia_td, 0.0f)) / c.o1, c.m) + kSigmaNoise / p;
}

// Forward response r = (pI)^n / ((pI)^n + sigma^n), in [0, 1). A response, never
// exponentiated. Written as 1 / (1 + (sigma / pI)^n) so it is finite for I = 0.
DTUTMO_HD float receptor_response(float i_td, float sigma, float p, float n) {
  const float pi = p * maxf(i_td, 0.0f);
  if (pi <= 0.0f) return 0.0f;
  return 1.0f / (1.0f + powf(sigma / pi, n));
}

// Closed-form inverse: I = sigma (r / (1 - r))^(1/n) / p, trolands. r is clamped to
// [0, 1 - 1e-7] so the result is finite.
DTUTMO_HD float receptor_inverse(float r, float sigma, float p, float n) {
  r = clampf(r, 0.0f, 1.0f - 1e-7f);
  if (r <= 0.0f) return 0.0f;
  return sigma * powf(r / (1.0f - r), 1.0f / n) / p;
}

// A response r of one class expressed in another class whose odds for the same signal are
// q times larger: odds(r') = q odds(r), i.e. r' = r q / (1 - r + r q). Used to add the rod
// signal to the S class: equal rod responses in L, M and S are not a grey's pattern (S's
// sigma is smaller), and came out yellow/olive at night.
DTUTMO_PX float odds_shift(float r, float q) { return r * q / (1.0f - r + r * q); }

// Mesopic rod weight from the adaptation luminance (cd/m^2): 1 at 0.01, 0 at 10, linear
// in log10 La in between (MODEL.md stage 6).
template <class M = LibmFns>
DTUTMO_PX float mesopic_weight(float la) {
  return clampf((1.0f - M::log10(maxf(la, 1e-30f))) / 3.0f, 0.0f, 1.0f);
}

}  // namespace dtutmo
