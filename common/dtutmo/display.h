// dtutmo -- the display observer and the display mapping (MODEL.md stage 9, DESIGN.md
// section 10): display adaptation, soft knee, detail fade, hue preservation.
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

// Soft knee on a response: identity below k, above it a rational approach to rmax,
// k + w t / (1 + t) with t = (r - k) / w, w = rmax - k: slope 1 at k, rmax reached only
// at infinity, so nothing but the extreme tail gets near rmax (no clipping of everything
// above the high percentile). No transcendental, and 1 / w is loop-invariant (hoisted):
// the CPU loop vectorises.
DTUTMO_PX float soft_knee(float r, float k, float rmax) {
  const float w = std_max(rmax - k, 1e-6f);
  const float t = (r - k) * (1.0f / w);
  return r > k ? k + w * t / (1.0f + t) : r;
}
// The same as a ratio *n / *d (d = 1 below the knee, 1 + t above it, n = k d + w t), for
// a caller that folds the division into one of its own (pixel_model.h dtucam_display_a).
DTUTMO_PX void soft_knee_nd(float r, float k, float rmax, float* n, float* d) {
  const float w = std_max(rmax - k, 1e-6f);
  const float t = (r - k) * (1.0f / w);
  *d = r > k ? 1.0f + t : 1.0f;
  *n = r > k ? k * (1.0f + t) + w * t : r;
}

// Largest detail (log2 luminance, stops) re-applied after display mapping, either sign.
DTUTMO_HD_CONST float kDetailMax = 1.0f;

DTUTMO_PX float smoothstepf(float e0, float e1, float x) {
  const float t = clampf((x - e0) / (e1 - e0), 0.0f, 1.0f);
  return t * t * (3.0f - 2.0f * t);
}

// Production-hybrid display constant of a pixel (K = log2 sigma - log2 p - log2 td of the
// display observer, so that L = 2^(K + log2(v / (1 - v)) / n)): the full inverse's local
// kl where the response gradient is high (edge weight hw), the whiteboard's global kc
// elsewhere, both faded to kc toward the peak response (knee_fade in [0, 1]).
// Halo-free: a band around edges mapped with kl and the rest of the same region with kc
// differs from it by w (kl - kc) stops, a rim along every strong edge (0.15-0.33 stop on
// the halo charts with w = hw). So the band takes the local inverse only as far as it
// cannot draw a rim: w = hw (1 - smoothstep(0, kHybridRimStops, |kl - kc|)), the rim is
// at most max over d of d (1 - smoothstep(d / s)) ~ 0.26 s = 0.065 stop. Using the full
// inverse over whole regions instead (also rim-free) lowered TMQI S: a per-cell display
// adaptation evens out fine detail (fine-detail S 0.90 -> 0.82).
DTUTMO_HD_CONST float kHybridRimStops = 0.25f;
DTUTMO_PX float hybrid_display_k(float hw, float kl, float kc, float knee_fade) {
  const float t = minf(fabsf(kl - kc) * (1.0f / kHybridRimStops), 1.0f);
  const float w = hw * (1.0f - t * t * (3.0f - 2.0f * t)) * (1.0f - knee_fade);
  return kc + w * (kl - kc);
}

}  // namespace dtutmo

namespace dtutmo {

// Hue-preserving colour rendering (DESIGN.md section 10, "Colour: hue preservation").
// The per-class path (each cone class compressed, normalised and inverted on its own)
// gives the right tone but rotates hue and drives bright saturated lights to white: the
// largest class is compressed most. This keeps the per-class result's luminance and the
// AMOUNT of chroma it kept, but takes the chroma DIRECTION (hue) from the input:
//   y_i = w . lms_in,  y_o = w . lms_pc  (w: LMS -> Y row, D65-normalised so a D65 grey
//   has L = M = S = Y and chroma vector 0),
//   c_i = lms_in / y_i - 1,  c_o = lms_pc / y_o - 1   (chroma as LMS ratios to luminance),
//   k   = clamp(<c_o, c_i> / <c_i, c_i>, 0, kChromaGainMax)   (chroma the model kept, along
//         the input's own hue direction; DTUCAM's Hunt boost gives k > 1),
//   k'  = k + sat max(cone_w - k, 0)   (restore a fraction `sat` of what the per-class
//         compression lost, never beyond the cones' share cone_w = 1 - rod weight: rods
//         carry no colour, night scenes stay desaturated),
//   out = y_o (1 + k' c_i).
// Every output lies on the straight line (in linear LMS, hence in xy chromaticity) from
// the display white through the input's chromaticity: constant dominant wavelength, no
// rotation toward the largest class. What falls outside the display gamut is then
// desaturated toward its own luminance by gamut_desaturate (gamut.h), on the same line.
// A grey input (c_i = 0) gives y_o (1, 1, 1): exactly neutral. No transcendental.
DTUTMO_HD_CONST float kChromaGainMax = 1.25f;

// Also gives k' (*kk, 0 for a grey or no input light) and 1 / y_i (*iy, 0 for no input
// light): the CIELAB hue gate (gamut.h lab_hue_gate) reads both.
DTUTMO_PX Vec3 hue_preserve(Vec3 in, Vec3 pc, Vec3 w, float sat, float cone_w, float* kk_out, float* iy_out) {
  const float yi = w.x * in.x + w.y * in.y + w.z * in.z;
  const float yo = w.x * pc.x + w.y * pc.y + w.z * pc.z;
  // divisions outside the selects (a division inside one is not if-converted: no SIMD)
  const float iyi = (yi > 1e-30f ? 1.0f : 0.0f) / maxf(yi, 1e-30f);
  const float iyo = (yo > 1e-30f ? 1.0f : 0.0f) / maxf(yo, 1e-30f);
  const float cx = in.x * iyi - 1.0f, cy = in.y * iyi - 1.0f, cz = in.z * iyi - 1.0f;
  const float ox = pc.x * iyo - 1.0f, oy = pc.y * iyo - 1.0f, oz = pc.z * iyo - 1.0f;
  const float cc = cx * cx + cy * cy + cz * cz;
  const float co = cx * ox + cy * oy + cz * oz;
  // below 1e-10 (a grey to float rounding) or no input light (iyi = 0, c_i = -1):
  // exactly neutral. Float selects multiplied, no short-circuit and no bool & (GCC cannot
  // vectorise a select on the AND of two float compares here): the CPU loop vectorises.
  const float on = (cc > 1e-10f ? 1.0f : 0.0f) * (iyi > 0.0f ? 1.0f : 0.0f);
  // min of max, not clampf's nested ?:, which GCC 12 built as compares,
  // masks and blends: the AVX2 hue loop 94 -> 89 instructions per 8 pixels (GCC still
  // shares the clamp's compare with k'). The same value for every number (a NaN gives 0,
  // not NaN: then c_i or c_o is NaN too, and so the output)
  const float k = minf(maxf(co / maxf(cc, 1e-10f), 0.0f), kChromaGainMax);
  const float kk = on * (k + sat * maxf(cone_w - k, 0.0f));
  const float yy = maxf(yo, 0.0f);
  *kk_out = kk;
  *iy_out = iyi;
  return {yy * (1.0f + kk * cx), yy * (1.0f + kk * cy), yy * (1.0f + kk * cz)};
}
DTUTMO_PX Vec3 hue_preserve(Vec3 in, Vec3 pc, Vec3 w, float sat, float cone_w) {
  float kk, iy;
  return hue_preserve(in, pc, w, sat, cone_w, &kk, &iy);
}

}  // namespace dtutmo
