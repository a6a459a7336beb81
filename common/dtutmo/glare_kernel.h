// dtutmo -- host-side construction of the CIE 180 disability-glare convolution (DESIGN.md
// section 2), ONE copy for the CPU engine (common/src/cpu_glare.cpp) and the CUDA engine
// (cuda/optics.cu): the reduced grid (the frame box-averaged to cells of f x f pixels, the
// larger side <= max_cells, zero-padded to at least twice the size, powers of two, so the
// FFT convolution is linear, not circular) and the kernel table (glare_cell_weight() of
// optics.h per cell offset, wrapped into the padded grid). Host-only (plain C++).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>

#include "dtutmo/optics.h"

namespace dtutmo {

struct GlareGrid {
  int f = 1;            // cell size, pixels
  int gw = 0, gh = 0;   // cells
  int pw = 0, ph = 0;   // padded FFT size
  int cw = 0;           // pw / 2 + 1: complex columns of the real transform
};

inline int glare_next_pow2(int n) {
  int p = 1;
  while (p < n) p <<= 1;
  return p;
}

inline GlareGrid glare_grid(int width, int height, int max_cells) {
  GlareGrid g;
  const int big = std::max(width, height);
  g.f = std::max(1, (big + max_cells - 1) / max_cells);
  g.gw = (width + g.f - 1) / g.f;
  g.gh = (height + g.f - 1) / g.f;
  g.pw = std::max(4, glare_next_pow2(2 * g.gw));
  g.ph = std::max(4, glare_next_pow2(2 * g.gh));
  g.cw = g.pw / 2 + 1;
  return g;
}

// The kernel: weight of a source cell at offset (dx, dy) cells (the PSF integrated over
// the cell's solid angle, supersampled near the centre), times `scale`, wrapped into the
// ph x pw padded grid `k` (row-major, stride pw). Entries it does not write are left as
// they are (the caller zeroes `k`).
inline void glare_kernel_table(const GlareGrid& g, float ppd, float age, float pig, float scale,
                               float* k) {
  const float cdeg = g.f / ppd;
  for (int dy = -(g.gh - 1); dy <= g.gh - 1; ++dy)
    for (int dx = -(g.gw - 1); dx <= g.gw - 1; ++dx) {
      const int r = std::max(std::abs(dx), std::abs(dy));
      const int ss = r <= 2 ? 24 : r <= 8 ? 6 : r <= 32 ? 2 : 1;
      const float wgt = glare_cell_weight(dx * cdeg, dy * cdeg, cdeg, cdeg, age, pig, ss);
      const int x = (dx + g.pw) % g.pw, y = (dy + g.ph) % g.ph;
      k[std::size_t(y) * g.pw + x] = wgt * scale;
    }
}

}  // namespace dtutmo
