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

}  // namespace dtutmo
