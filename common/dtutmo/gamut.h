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
DTUTMO_HD Vec3 gamut_map_keep(Vec3 c, Vec3 w, float peak, float keep) {
  const float y = w.x * c.x + w.y * c.y + w.z * c.z;
  if (!(y > 0.0f)) return {0.0f, 0.0f, 0.0f};
  float t = 1.0f;
  if (c.x < 0.0f) t = minf(t, y / (y - c.x));
  if (c.y < 0.0f) t = minf(t, y / (y - c.y));
  if (c.z < 0.0f) t = minf(t, y / (y - c.z));
  const Vec3 p = {maxf(y + t * (c.x - y), 0.0f), maxf(y + t * (c.y - y), 0.0f),
                  maxf(y + t * (c.z - y), 0.0f)};
  const float mx = maxf(p.x, maxf(p.y, p.z));
  if (mx <= peak) return p;
  const Vec3 d = gamut_desaturate(p, w, peak);
  const float g = peak / mx;
  return {clampf(d.x + keep * (p.x * g - d.x), 0.0f, peak),
          clampf(d.y + keep * (p.y * g - d.y), 0.0f, peak),
          clampf(d.z + keep * (p.z * g - d.z), 0.0f, peak)};
}

}  // namespace dtutmo
