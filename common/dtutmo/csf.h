// dtutmo -- contrast sensitivity and the neural CSF ratio gain. MODEL.md stage 7.
// f in cycles/degree, L in cd/m^2.
//
// Achromatic: Barten's (1999) simplified CSF
//   S(u, L) = a u exp(-b u) sqrt(1 + 0.06 exp(b u)),
//   a = 540 (1 + 0.7/L)^-0.2 / (1 + 12 / (w (1 + u/3)^2)),  b = 0.3 (1 + 100/L)^0.15,
// with field size w (degrees).
// Chromatic (RG, YB): the same luminance dependence of peak sensitivity and of the
// high-frequency decay, but low-pass in shape (no low-frequency fall-off) and with a
// decay twice as fast (chromatic acuity is about half the achromatic one):
//   S_c(u, L) = a_c(L) exp(-2 b(L) u),  a_c = 540 (1 + 0.7/L)^-0.2.
// Only ratios of the same CSF at two luminances are used, so absolute scale cancels.
#pragma once

#include "dtutmo/hd.h"

namespace dtutmo {

DTUTMO_HD float csf_barten(float u, float lum, float field_deg) {
  u = maxf(u, 1e-3f);
  lum = maxf(lum, 1e-4f);
  const float a = 540.0f * powf(1.0f + 0.7f / lum, -0.2f) /
                  (1.0f + 12.0f / (field_deg * (1.0f + u / 3.0f) * (1.0f + u / 3.0f)));
  const float b = 0.3f * powf(1.0f + 100.0f / lum, 0.15f);
  return a * u * expf(-b * u) * sqrtf(1.0f + 0.06f * expf(b * u));
}

DTUTMO_HD float csf_chromatic(float u, float lum) {
  lum = maxf(lum, 1e-4f);
  const float a = 540.0f * powf(1.0f + 0.7f / lum, -0.2f);
  const float b = 0.3f * powf(1.0f + 100.0f / lum, 0.15f);
  return a * expf(-2.0f * b * maxf(u, 0.0f));
}

// Ratio gain H = min(1, R(f) / min(1, R(f_ref))), R(f) = CSF(f, La_scene) / CSF(f, La_display),
// f_ref = kCsfRefCpd: 1 where the scene observer sees at least as well as the display
// observer (daylight), < 1 where the scene observer could not resolve the detail (night).
// chromatic: 0 achromatic, 1 chromatic.
//
// Normalised at f_ref: MODEL.md's literal min(1, R(f)) is below 1 at EVERY frequency at
// night (Barten's peak-sensitivity factor (1 + 0.7/L)^-0.2 drops uniformly), so every
// band -- building outlines, lamp posts -- was scaled by 0.1-0.4 and the night scene
// became a blur. A uniform sensitivity loss is a threshold change, invisible on
// supra-threshold content (contrast constancy, Georgeson & Sullivan 1975); what the night
// observer loses is acuity, the relative fall-off at high frequencies, and that is what
// this filter removes. Achromatic gains are also floored at kCsfMinGain per octave band,
// so strong fine structure is attenuated, never erased.
DTUTMO_HD_CONST float kCsfRefCpd = 1.0f;
DTUTMO_HD_CONST float kCsfMinGain = 0.3f;
DTUTMO_HD float csf_ratio_gain(float f, float la_scene, float la_display, float field_deg,
                               int chromatic) {
  float s, d, s0, d0;
  if (chromatic) {
    s = csf_chromatic(f, la_scene);
    d = csf_chromatic(f, la_display);
    s0 = csf_chromatic(kCsfRefCpd, la_scene);
    d0 = csf_chromatic(kCsfRefCpd, la_display);
  } else {
    s = csf_barten(f, la_scene, field_deg);
    d = csf_barten(f, la_display, field_deg);
    s0 = csf_barten(kCsfRefCpd, la_scene, field_deg);
    d0 = csf_barten(kCsfRefCpd, la_display, field_deg);
  }
  if (!(d > 0.0f) || !(d0 > 0.0f)) return 1.0f;
  const float r0 = minf(1.0f, s0 / d0);
  const float g = r0 > 0.0f ? minf(1.0f, (s / d) / r0) : 1.0f;
  return chromatic ? g : maxf(g, kCsfMinGain);
}

}  // namespace dtutmo
