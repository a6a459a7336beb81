// dtutmo -- gamut mapping by desaturation toward the pixel's own luminance (MODEL.md
// stage 10): rgb' = Y + t (rgb - Y) with the largest t in [0, 1] that puts every channel
// in [0, peak]; a luminance above peak is then clipped (white).
#pragma once

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
DTUTMO_PX Vec3 gamut_map_keep(Vec3 c, Vec3 w, float peak, float keep) {
  // Branch-free (selects only, three divisions): the CPU row loop vectorises. Same values
  // as the branchy form: the smallest of y / (y - c_i) over the negative channels is y
  // over the largest denominator, y - min(c, 0) (division is monotonic and correctly
  // rounded), and likewise the desaturation of gamut_desaturate(p) is limited by the
  // largest channel alone, (peak - y2) / (max(p) - y2).
  const float y = w.x * c.x + w.y * c.y + w.z * c.z;
  const bool ok = y > 0.0f;  // no light (or NaN): black
  const float mn = minf(minf(minf(c.x, c.y), c.z), 0.0f);
  const float tq = y / maxf(y - mn, 1e-30f);  // division outside the select: if-converted
  const float t = mn < 0.0f ? tq : 1.0f;
  const Vec3 p = {maxf(y + t * (c.x - y), 0.0f), maxf(y + t * (c.y - y), 0.0f),
                  maxf(y + t * (c.z - y), 0.0f)};
  const float mx = maxf(p.x, maxf(p.y, p.z));
  // above the peak: d = gamut_desaturate(p) (every p_i >= 0, so only the peak limits t2)
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
  return {ok ? (hi ? qx : p.x) : 0.0f, ok ? (hi ? qy : p.y) : 0.0f, ok ? (hi ? qz : p.z) : 0.0f};
}

}  // namespace dtutmo
