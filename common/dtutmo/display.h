// dtutmo -- the display observer and the display mapping (MODEL.md stage 9, DESIGN.md
// section 10): display adaptation, whiteboard inverse, soft knee, hybrid weight.
#pragma once

#include "dtutmo/hd.h"
#include "dtutmo/receptors.h"

namespace dtutmo {

// Display adaptation floor as a fraction of the peak for viewing condition
// dark / dim / average (0, 1, 2).
DTUTMO_HD float display_adapt_floor(int viewing) {
  return viewing == 0 ? 0.05f : viewing == 1 ? 0.1f : 0.2f;
}

// La_d = clamp(La_scene, floor x peak, adapt x peak): the display observer adapts to the
// scene's level where the display can show it (SDR content on an SDR display maps to
// itself), never below what the room and screen impose.
DTUTMO_HD float display_adaptation(float la_scene, float peak, float adapt, int viewing) {
  const float lo = display_adapt_floor(viewing) * peak;
  const float hi = maxf(adapt * peak, lo);
  return clampf(la_scene, lo, hi);
}

// Whiteboard inverse (closed form) from a response r to luminance (cd/m^2):
// I = sigma (r / (1 - r))^(1/n) / p, divided by the display pupil area.
DTUTMO_HD float whiteboard_inverse(float r, float sigma, float p, float n, float td_per_nit) {
  return receptor_inverse(r, sigma, p, n) / td_per_nit;
}

// Soft knee on a response: identity below k, above it a rational approach to rmax,
// k + w t / (1 + t) with t = (r - k) / w, w = rmax - k: slope 1 at k, rmax reached only
// at infinity, so nothing but the extreme tail gets near rmax (no clipping of everything
// above the high percentile). No transcendental: the CPU loop vectorises.
DTUTMO_HD float soft_knee(float r, float k, float rmax) {
  const float w = maxf(rmax - k, 1e-6f);
  const float t = (r - k) / w;
  return r > k ? k + w * t / (1.0f + t) : r;
}

// Largest detail (log2 luminance, stops) re-applied after display mapping, either sign.
DTUTMO_HD_CONST float kDetailMax = 1.0f;

DTUTMO_HD float smoothstepf(float e0, float e1, float x) {
  const float t = clampf((x - e0) / (e1 - e0), 0.0f, 1.0f);
  return t * t * (3.0f - 2.0f * t);
}

}  // namespace dtutmo
