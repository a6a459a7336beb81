// dtutmo CUDA -- device helpers shared by several stage files: decoding one pixel, the
// La lookup, and "the linear input of pixel (x, y)" whichever way the profile
// provides it (re-decoded from the input frame in the fast profile, read from the
// optics-processed plane in the balanced one, scaled to its base with base/detail on).
#pragma once

#include "kernels.h"

namespace dtutmo {
namespace cuda {

// Decode pixel (x, y) to linear RGB (cd/m^2) (pixel_model.h decode_rgb); adds its
// bad-sample count to *bad.
__device__ __forceinline__ Vec3 decode_pixel(const DecodeArgs& a, int x, int y, int* bad) {
  float r, g, b;
  read_rgb(a.in, a.yuv, x, y, r, g, b);
  *bad += (int)bad_sample(r) + (int)bad_sample(g) + (int)bad_sample(b);
  return decode_rgb({r, g, b}, a.dc);
}

// The adaptation constants at pixel (x, y) (spatial.h): joint-bilateral when local
// adaptation is on (s.guide set), bilinear otherwise.
__device__ __forceinline__ CellSample sample_at(const LinSource& s, const KCell* cells, int gw,
                                                int gh, int x, int y, float ly, bool with_dk) {
  const CellGrid g = kcell_grid(cells, gw, gh);
  const int nch = with_dk ? kAdaptChannels : kChD0;
  return s.guide ? cell_sample_jbu(g, s.guide, x, y, ly, nch) : cell_sample(g, x, y, nch);
}

template <typename T>
__device__ __forceinline__ Vec3 load3(const T* p, size_t i) {
  return {ld(p, 3 * i), ld(p, 3 * i + 1), ld(p, 3 * i + 2)};
}

struct LinPixel {
  Vec3 rgb;      // linear RGB, cd/m^2, scaled to the base when base/detail is on
  Vec3 in;       // linear RGB, cd/m^2, as decoded (after optics): the hue source
  float detail;  // log2 Y - base (0 without base/detail)
  float ly;      // log2 luminance (floored at kMinNits), the base's with base/detail on:
                 // guides the La lookup
};

__device__ __forceinline__ LinPixel load_lin(const LinSource& s, int x, int y, int w) {
  LinPixel p;
  p.detail = 0.0f;
  if (!s.from_plane) {
    int bad = 0;
    p.rgb = decode_pixel(s.dec, x, y, &bad);
    p.in = p.rgb;
    p.ly = log2_luminance(p.rgb, s.dec.rgb_to_y);
    return p;
  }
  const size_t i = (size_t)y * w + x;
  Vec3 c = s.lin.half ? load3(static_cast<const __half*>(s.lin.ptr), i)
                      : load3(static_cast<const float*>(s.lin.ptr), i);
  c.x *= kLinLoad;
  c.y *= kLinLoad;
  c.z *= kLinLoad;
  p.in = c;
  p.ly = static_cast<const float*>(s.logy.ptr)[i];
  if (s.bgrid) {
    const float ly = static_cast<const float*>(s.logy.ptr)[i];
    const float b = bgrid_slice(s.bgrid, s.bdesc, (float)x, (float)y, ly);
    const float lb = b - ly;
    const float gsc = fast_exp2(lb);
    c.x *= gsc;
    c.y *= gsc;
    c.z *= gsc;
    p.detail = ly - b;
    p.ly = b;  // the receptors see the base: it guides the lookup (spatial.h jbu_weights)
  }
  p.rgb = c;
  return p;
}

}  // namespace cuda
}  // namespace dtutmo
