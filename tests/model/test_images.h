// dtutmo -- pictures the model tests share (packed linear RGB, cd/m^2).
#pragma once

#include <cstddef>
#include <vector>

#include "dtutmo/frame.h"
#include "dtutmo/scenes.h"

namespace dtutmo {
namespace test {

using Img = std::vector<float>;  // packed RGB float

// A procedural scene at time 0, times `scale`.
inline Img scene(Scene s, int w, int h, float scale = 1.0f) {
  Img v(size_t(w) * h * 3);
  render_scene(s, w, h, 0.0, v.data(), std::ptrdiff_t(w) * 3);
  for (float& x : v) x *= scale;
  return v;
}

// Every 2x2 block of `v` (w x h, an odd last column or row a block of its own) takes its
// top-left pixel.
inline Img flat_blocks(Img v, int w, int h, int side = 2) {
  const int m = ~(side - 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) v[(size_t(y) * w + x) * 3 + c] = v[(size_t(y & m) * w + (x & m)) * 3 + c];
  return v;
}

// An SDR output's signal: BT.709 primaries and matrix, BT.1886, limited range.
inline SignalDesc sdr_signal() {
  SignalDesc o;
  o.transfer = Transfer::BT1886;
  o.primaries = Primaries::BT709;
  o.matrix = YuvMatrix::BT709;
  return o;
}

}  // namespace test
}  // namespace dtutmo
