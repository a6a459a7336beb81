// dtutmo -- the model's spatial sampling, one sample at a time: grid coordinates and
// bilinear interpolation, the pyramids' 2x2 box and bilinear upsample, normalised
// Gaussian taps, the joint-bilateral lookup of the adaptation grid, the bilateral grid of
// base/detail and the bins and slice of the edge-aware La pooling.
//
// ONE copy: the CPU engine's loops (common/src/cpu_*.cpp, cpu_spatial.cpp) and the CUDA
// kernels (cuda/*.cu) both call these per sample; the loops around them differ (rows and
// threads on the CPU, one thread per sample on the GPU), the arithmetic does not.
// Functions that read a plane take a pointer and a row stride in elements; the ones that
// read planes of another type (the GPU's FP16 planes) take a loader `ld(i)` -> float.
#pragma once

#include <stddef.h>

#include "dtutmo/fastmath.h"
#include "dtutmo/hd.h"

namespace dtutmo {

// ------------------------------------------------------------------ grids
constexpr int kCell = 8;  // adaptation grid cell, pixels
constexpr int kSub = 4;   // histogram / edge-map subsampling step, pixels
// A box of cells [x0, x1) x [y0, y1): a frame's picture area (model.h picture_area), the
// CPU's EdgePooler's where a bin's planes can be nonzero.
struct CellBox {
  int x0, x1, y0, y1;
  DTUTMO_HD bool empty() const { return x0 >= x1 || y0 >= y1; }
};

// Position of pixel p on a grid whose sample i sits at pixel (i + 0.5) step, in samples.
DTUTMO_PX float grid_pos(int p, float step) { return ((float)p + 0.5f) / step - 0.5f; }
// Position of pixel p of a plane resampled by `scale` = source size / destination size.
DTUTMO_PX float scaled_pos(int p, float scale) { return ((float)p + 0.5f) * scale - 0.5f; }

// Lower and upper sample and the upper one's weight at position g on n samples: clamped
// to [0, n - 1], the last sample replicated.
DTUTMO_PX void grid_interp(float g, int n, int* i0, int* i1, float* t) {
  g = minf(maxf(g, 0.0f), (float)(n - 1));
  const int a = (int)g < n - 1 ? (int)g : n - 1;
  *i0 = a;
  *i1 = a + 1 < n - 1 ? a + 1 : n - 1;
  *t = g - (float)a;
}

// The vertical lerp of column x between rows y0 and y1 (row stride `stride`): the first
// half of bilinear(); the CPU's row loops (cpu_spatial.h bilinear_row) compute it once per
// grid column and row pair, then only the horizontal lerp per pixel.
DTUTMO_PX float grid_vlerp(const float* p, size_t stride, int y0, int y1, float ty, int x) {
  return lerpf(p[(size_t)y0 * stride + x], p[(size_t)y1 * stride + x], ty);
}
// Bilinear interpolation of p (row stride `stride`) between columns x0, x1 and rows y0, y1:
// vertical lerps, then the horizontal one (the same operations in the same order as the
// CPU's per-row form, so both give the same bits).
DTUTMO_PX float bilinear(const float* p, size_t stride, int x0, int x1, int y0, int y1, float tx,
                         float ty) {
  return lerpf(grid_vlerp(p, stride, y0, y1, ty, x0), grid_vlerp(p, stride, y0, y1, ty, x1), tx);
}

// A w x h grid of samples `step` pixels apart (row stride `stride`), bilinear at pixel
// (x, y): the hybrid display mode's edge weights (step kSub), the glare veil (step = the
// glare cell).
DTUTMO_PX float sample_grid(const float* p, size_t stride, int w, int h, float step, int x, int y) {
  int x0, x1, y0, y1;
  float tx, ty;
  grid_interp(grid_pos(y, step), h, &y0, &y1, &ty);
  grid_interp(grid_pos(x, step), w, &x0, &x1, &tx);
  return bilinear(p, stride, x0, x1, y0, y1, tx, ty);
}

// ------------------------------------------------------------------ pyramids
// 2x2 box average at (x, y) of the half-size grid of a w x h plane (odd edges: the samples
// that exist).
// down2_at of a plane with row stride `stride` (the CPU's CSF level 0 lives in the planar
// rows of its responses)...
DTUTMO_PX float down2_at_stride(const float* in, size_t stride, int w, int h, int x, int y) {
  float acc = 0.0f;
  int n = 0;
  for (int j = 0; j < 2; ++j)
    for (int i = 0; i < 2; ++i) {
      const int sx = 2 * x + i, sy = 2 * y + j;
      if (sx < w && sy < h) {
        acc += in[(size_t)sy * stride + sx];
        ++n;
      }
    }
  return acc / (float)n;
}
// ...and of a packed one
DTUTMO_PX float down2_at(const float* in, int w, int h, int x, int y) {
  return down2_at_stride(in, (size_t)w, w, h, x, y);
}

// Bilinear sample of the sw x sh plane `in` at pixel (x, y) of a dw x dh plane (pixel
// centres aligned, edges clamped).
DTUTMO_PX float upsample_at(const float* in, int sw, int sh, int dw, int dh, int x, int y) {
  int x0, x1, y0, y1;
  float tx, ty;
  grid_interp(scaled_pos(y, (float)sh / dh), sh, &y0, &y1, &ty);
  grid_interp(scaled_pos(x, (float)sw / dw), sw, &x0, &x1, &tx);
  return bilinear(in, sw, x0, x1, y0, y1, tx, ty);
}

// ------------------------------------------------------------------ Gaussian blur
// Radius of a Gaussian of `sigma` samples: 3 sigma, at least 1, at most `max_r`.
DTUTMO_PX int gauss_radius(float sigma, int max_r) {
  const int r = (int)ceilf(3.0f * sigma);
  return r < 1 ? 1 : (r > max_r ? max_r : r);
}
// Tap i (from the centre) of a Gaussian of `sigma` samples, not normalised.
DTUTMO_PX float gauss_tap(int i, float sigma) {
  return expf(-0.5f * (float)i * (float)i / (sigma * sigma));
}
// Taps k[0 .. 2 rr] of a Gaussian of `sigma` samples (radius at most max_r), normalised to
// sum 1; returns rr. `k` holds 2 max_r + 1 floats.
DTUTMO_PX int gauss_taps(float sigma, int max_r, float* k) {
  const int rr = gauss_radius(sigma, max_r);
  float ks = 0.0f;
  for (int i = -rr; i <= rr; ++i) ks += k[i + rr] = gauss_tap(i, sigma);
  for (int i = 0; i <= 2 * rr; ++i) k[i] /= ks;
  return rr;
}
// Normalised blur at position `pos` of a line of n samples, ld(j) the sample j: taps
// k[0 .. 2 rr] (centre rr), the weights renormalised where the line ends (no darkening or
// brightening toward the borders).
template <class Load>
DTUTMO_PX float blur_at(Load ld, int pos, int n, const float* k, int rr) {
  const int a = pos - rr > 0 ? pos - rr : 0, b = pos + rr < n - 1 ? pos + rr : n - 1;
  float acc = 0.0f, ws = 0.0f;
  for (int i = a; i <= b; ++i) {
    const float kw = k[i - pos + rr];
    acc += kw * ld(i);
    ws += kw;
  }
  return acc / ws;
}

// ------------------------------------------------------------------ La lookup
// The adaptation grid's lookup at a pixel (DESIGN.md section 4): bilinear, or, with local
// adaptation on, joint-bilateral (Kopf et al. 2007): the four bilinear corner weights,
// each times a range weight exp(-d^2 / 2 sigma^2) + 1e-3 with d the pixel's log2
// luminance minus the corner cell's mean log2 luminance (the guide), normalised. A pixel
// of a dark tree takes the La of the tree's cells, not of the sky cell next to it; one
// unlike all four corners falls back to bilinear (the 1e-3).
constexpr float kLookupRangeSigma = 1.0f;  // range sigma, log2 units
// The lookup's monotonic bound (jbu_weights): a corner's membership of the groups below and
// above the pixel's level ramps over +-kLookupTie log2 units (continuous in the level: no
// jump where a corner's guide crosses it; also covers a uniform region's base differing
// from its cells' mean by rounding), and a group bounds the mix fully once it holds
// kLookupPresence of the weight, in proportion below that (no jump when a corner enters it).
constexpr float kLookupTie = 1.0f / 64.0f;
constexpr float kLookupPresence = 0.05f;
// The range weight written 2^(kLookupRangeCoef d^2): -log2(e) / (2 sigma^2).
constexpr float kLookupRangeCoef = -0.72134752f / (kLookupRangeSigma * kLookupRangeSigma);

// u clamped to [0, 1] on its bits: for floats >= +0 the int32 order of the bit patterns is
// the float order, and every negative float (sign bit set) is a negative int32. So the
// clamp is an integer max with 0 and min with the bits of 1.0f: exactly clampf(u, 0, 1)
// for every u but -0 (+0 here) and NaN (0 or 1 here, clampf keeps NaN). Why: a float
// clamp or min / max (a select on a float compare, NaN honoured) made GCC 12 push the
// products using the result into both arms of its selects (~10 instructions per corner in
// the vectorised row loop, ~40 of its ~265); integer min / max are single instructions and
// opaque to that. The select-free form (|u| - |u - 1| + 1) / 2 is not exact: u - 1 rounds
// once its binade is above u's, s comes out ~1e-7 below 0 or above 1, an empty group gets
// a weight of that sign, and its mean constant kd / wd is noise (tried: single pixels
// 115 codes off in balanced colored-lights, most of night off in an earlier try).
// jbu_bound's max(u, 0) and, for u >= +0, min(u, 1) are its two halves alone (exact but
// for NaN): GCC 12 made a compare and a blend (or an and) of each float form in the
// vectorised lookup, one integer instruction each here (jbu_bound: four of them).
DTUTMO_PX float jbu_pos(float u) {
  int32_t i;
  memcpy(&i, &u, 4);
  i = i > 0 ? i : 0;
  memcpy(&u, &i, 4);
  return u;
}
DTUTMO_PX float jbu_min1(float u) {
  int32_t i;
  memcpy(&i, &u, 4);
  i = i < 0x3f800000 ? i : 0x3f800000;  // 1.0f
  memcpy(&u, &i, 4);
  return u;
}
DTUTMO_PX float jbu_ramp(float u) { return jbu_min1(jbu_pos(u)); }

// Corner weights (00, 10, 01, 11 = (x0, y0), (x1, y0), (x0, y1), (x1, y1)) of a pixel of
// log2 luminance ly at bilinear weights tx, ty, the corners' guides g[4] and their L/M
// adaptation constants k[4] (kChLM: r = 1 / (1 + 2^(n (k - ly))), log2 cd/m^2 like ly).
//
// Monotonic in the pixel's own level (issue 12): the range weights alone let a pixel whose
// level lies between two corners' guides switch from the darker corner's constant to the
// brighter one's over a fraction of a stop (the weights' ratio is a logistic of width
// sigma^2 / (g_b - g_d)), so its constant could rise faster than its level and it showed
// DARKER than the darker corner's own level does there: a dark rim on the soft edge of a
// small bright source (daylight's sun: code 200 in a sky of 243+), a shadow inside a dark
// disc's edge where the cells straddling the edge have guides between disc and surround
// (halo charts, 10:1: 0.13-0.16 stop). So the corners are split at the pixel's level: those
// at or below it (D) and those above (U), each with its weighted mean guide gD, gU and
// constant kD, kU. The mix k must keep ly - k between the two groups' own ly - k at their
// guides (no inversion of the order of levels: the pixel is shown no darker than D's guide
// level is, no brighter than U's):  kU - (gU - ly) <= k <= kD + (ly - gD).  Where the
// range-weighted mix leaves that interval, the weight is moved between the two groups
// (within each, the ratios stay) until k lies on the bound; every channel is mixed with
// the same weights, so they stay consistent. Continuous in ly (kLookupTie,
// kLookupPresence): a hard split jumped where a guide crossed the pixel's level, so the
// vectorised loop and the scalar path (FMA rounding) gave 30-60 codes apart on such
// pixels, and noise would flicker there. Texture is untouched: where every corner lies
// on one side, or their constants differ less than their guides (the La map compresses,
// local_target), the mix is inside the interval already. No transcendental beyond the
// range weights; float selects only (the CPU row loop vectorises).
//
// In three parts, which the scalar and CUDA paths call in a row (jbu_weights) and the CPU
// runs as three loops over a block of columns (cpu_adapt.cpp interp_row_jbu): jbu_range,
// the range-weighted bilinear weights a and D's parts b of them; jbu_bound, from a and b,
// the groups' sums, the bound and the move as two scales su, dd; jbu_combine, corner j's
// weight a[j] su + b[j] dd. One loop of the whole was a chain of ~40 dependent operations
// (two divisions in series) that ran at its latency (DESIGN.md, plan item 3, third step).
DTUTMO_PX void jbu_range(float ly, float g0, float g1, float g2, float g3, float tx, float ty,
                         float a[4], float b[4]) {
  const float c = kLookupRangeCoef;
  const float d0 = ly - g0, d1 = ly - g1, d2 = ly - g2, d3 = ly - g3;
  // the bilinear weights over (1 - ty) (ty < 1: grid_interp): the lookup normalises its
  // weights (jbu_bound: every mean and share a ratio of sums), so a factor common to the
  // four changes only their rounding; per pixel two multiplies fewer (the CPU row loop
  // hoists ry, ty being the row's)
  const float ux = 1 - tx, ry = ty / (1 - ty);
  a[0] = ux * (weight_exp2(c * d0 * d0) + 1e-3f);
  a[1] = tx * (weight_exp2(c * d1 * d1) + 1e-3f);
  a[2] = ux * ry * (weight_exp2(c * d2 * d2) + 1e-3f);
  a[3] = tx * ry * (weight_exp2(c * d3 * d3) + 1e-3f);
  // s = membership of D (1 at or below the pixel's level, 0 above, a ramp of +-kLookupTie
  // between), 1 - s of U
  const float it = 0.5f / kLookupTie;
  b[0] = jbu_ramp(0.5f + d0 * it) * a[0];
  b[1] = jbu_ramp(0.5f + d1 * it) * a[1];
  b[2] = jbu_ramp(0.5f + d2 * it) * a[2];
  b[3] = jbu_ramp(0.5f + d3 * it) * a[3];
}
DTUTMO_PX void jbu_bound(float ly, float g0, float g1, float g2, float g3, float k0, float k1,
                         float k2, float k3, const float a[4], const float b[4], float* su_,
                         float* dd_) {
  const float a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  const float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
  // the two groups' weight, weighted guide and constant sums
  const float wd = b0 + b1 + b2 + b3;
  const float wa = a0 + a1 + a2 + a3, wu = wa - wd;
  const float gd = b0 * g0 + b1 * g1 + b2 * g2 + b3 * g3;
  const float ga = a0 * g0 + a1 * g1 + a2 * g2 + a3 * g3, gu = ga - gd;
  const float kd = b0 * k0 + b1 * k1 + b2 * k2 + b3 * k3;
  const float ka = a0 * k0 + a1 * k1 + a2 * k2 + a3 * k3, ku = ka - kd;
  // 1 / wd, 1 / wu and 1 / wa from one division (an empty group: its sums are 0, so are
  // its terms; wa >= 1e-3, so the product is >= 1e-29, a normal float)
  const float wdc = maxf(wd, 1e-20f * wa), wuc = maxf(wu, 1e-20f * wa);
  const float pdu = wdc * wuc, r = 1.0f / (pdu * wa);
  const float iwd = wuc * wa * r, iwu = wdc * wa * r, iwa = pdu * r;
  const float kdm = kd * iwd, kum = ku * iwu;  // the groups' mean constants
  const float hi = kdm + (ly - gd * iwd), lo = kum - (gu * iwu - ly);
  // each bound in proportion to its group's presence (0 for an empty group)
  const float ip = iwa * (1.0f / kLookupPresence);
  const float md = jbu_min1(wd * ip), mu = jbu_min1(wu * ip);  // wd, wu >= +0
  const float k = ka * iwa;
  const float t1 = k + mu * jbu_pos(lo - k);
  const float t = t1 - md * jbu_pos(t1 - hi);  // hi wins if the bounds cross (no dark rim)
  // D's share of the weight that puts the mix at t: t = f kdm + (1 - f) kum (at t = k it
  // is the range weights' own share wd / wa; then the weights are kept exactly, a / wa:
  // the other channels may differ between groups whose L/M constants agree)
  const float dk = kum - kdm;
  const float moved = (t != k ? 1.0f : 0.0f) * (fabsf(dk) > 1e-6f ? 1.0f : 0.0f);
  const float idk = 1.0f / (moved > 0.0f ? dk : 1.0f);  // division outside the select
  const float f = jbu_ramp((kum - t) * idk);
  const float sd = moved > 0.0f ? f * iwd : iwa, su = moved > 0.0f ? (1.0f - f) * iwu : iwa;
  *su_ = su;
  *dd_ = sd - su;
}
// corner weight from its range-weighted bilinear weight a, D's part b of it (jbu_range) and
// jbu_bound's scales
DTUTMO_PX float jbu_combine(float a, float b, float su, float dd) { return a * su + b * dd; }
DTUTMO_PX void jbu_weights(float ly, float g0, float g1, float g2, float g3, float k0, float k1,
                           float k2, float k3, float tx, float ty, float w[4]) {
  float a[4], b[4], su, dd;
  jbu_range(ly, g0, g1, g2, g3, tx, ty, a, b);
  jbu_bound(ly, g0, g1, g2, g3, k0, k1, k2, k3, a, b, &su, &dd);
  for (int j = 0; j < 4; ++j) w[j] = jbu_combine(a[j], b[j], su, dd);
}

DTUTMO_PX float jbu_mix(const float w[4], float c0, float c1, float c2, float c3) {
  return w[0] * c0 + w[1] * c1 + w[2] * c2 + w[3] * c3;
}

// The per-pixel adaptation channels (the folded receptor constants of model.h
// fold_cell_k and the display observer's local constants): channel k of cell i at
// grid[k * kstride + i * istride] (the CPU keeps planar grids, kstride = cells, istride = 1;
// the GPU an array of 8-float cells, kstride = 1, istride = 8).
enum AdaptChannel { kChLM = 0, kChS, kChRod, kChW, kChD0, kChD1, kChD2, kAdaptChannels };
struct CellSample {
  float klm, ks, krod;  // log2 sigma - log2 p - log2 td: L/M, S, rods
  float w;              // mesopic rod weight
  float dk[3];          // display observer's local constants per class (full-inverse/hybrid)
};
struct CellGrid {
  const float* grid;
  size_t kstride, istride;
  int gw, gh;
  DTUTMO_PX float at(int k, int i) const { return grid[(size_t)k * kstride + (size_t)i * istride]; }
};
DTUTMO_PX CellSample cell_sample_of(const float v[kAdaptChannels]) {
  return {v[kChLM], v[kChS], v[kChRod], v[kChW], {v[kChD0], v[kChD1], v[kChD2]}};
}
// Bilinear lookup at pixel (x, y) of the first nch channels: vertical then horizontal
// lerp (lerpf), as the CPU engine's row interpolation.
DTUTMO_PX CellSample cell_sample(const CellGrid& g, int x, int y, int nch) {
  int y0, y1, x0, x1;
  float ty, tx;
  grid_interp(grid_pos(y, (float)kCell), g.gh, &y0, &y1, &ty);
  grid_interp(grid_pos(x, (float)kCell), g.gw, &x0, &x1, &tx);
  float v[kAdaptChannels] = {0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < nch; ++k) {
    const float c0 = lerpf(g.at(k, y0 * g.gw + x0), g.at(k, y1 * g.gw + x0), ty);
    const float c1 = lerpf(g.at(k, y0 * g.gw + x1), g.at(k, y1 * g.gw + x1), ty);
    v[k] = lerpf(c0, c1, tx);
  }
  return cell_sample_of(v);
}
// Joint-bilateral lookup at pixel (x, y) of log2 luminance ly; guide: the cells' mean log2
// luminance (gw x gh).
DTUTMO_PX CellSample cell_sample_jbu(const CellGrid& g, const float* guide, int x, int y, float ly,
                                     int nch) {
  int y0, y1, x0, x1;
  float ty, tx;
  grid_interp(grid_pos(y, (float)kCell), g.gh, &y0, &y1, &ty);
  grid_interp(grid_pos(x, (float)kCell), g.gw, &x0, &x1, &tx);
  const int i0 = y0 * g.gw + x0, i1 = y0 * g.gw + x1, i2 = y1 * g.gw + x0, i3 = y1 * g.gw + x1;
  float w[4];
  jbu_weights(ly, guide[i0], guide[i1], guide[i2], guide[i3], g.at(kChLM, i0), g.at(kChLM, i1),
              g.at(kChLM, i2), g.at(kChLM, i3), tx, ty, w);
  float v[kAdaptChannels] = {0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < nch; ++k) v[k] = jbu_mix(w, g.at(k, i0), g.at(k, i1), g.at(k, i2), g.at(k, i3));
  return cell_sample_of(v);
}

// ------------------------------------------------------------------ bilateral grid
// The base/detail split's bilateral grid on log2 luminance (Chen, Paris & Durand 2007):
// gx x gy x gz cells of (sum of values, count), spatial cell ss pixels, range cell sr log2
// units over [lo, hi], one cell of margin on every side.
struct BilateralDesc {
  int gx = 0, gy = 0, gz = 0;
  float ss = 1, sr = 1, lo = 0, hi = 0;
};
// The grid for a width x height frame, spatial cell ss pixels (at least 1), range cell sr.
DTUTMO_HD BilateralDesc bgrid_desc(int width, int height, float ss, float sr, float lo, float hi) {
  BilateralDesc d;  // geometry of the grid below
  d.ss = ss > 1.0f ? ss : 1.0f;
  d.sr = sr;
  d.lo = lo;
  d.hi = hi;
  d.gx = (int)ceilf(width / d.ss) + 3;
  d.gy = (int)ceilf(height / d.ss) + 3;
  d.gz = (int)ceilf((hi - lo) / sr) + 3;
  return d;
}
// Cell of pixel coordinate p along x or y, of value v along z (the splat's nearest cell).
DTUTMO_PX int bgrid_cell_xy(int p, float inv_ss) { return (int)(((float)p + 0.5f) * inv_ss + 0.5f) + 1; }
DTUTMO_PX int bgrid_cell_z(float v, float lo, float inv_sr) { return (int)((v - lo) * inv_sr + 0.5f) + 1; }
// Splat sums in fixed point: integer addition is associative, so the grid does not depend
// on which thread or GPU block added which pixel in which order (a static scene gives
// bit-identical output whatever the scheduling). (v - lo) in units of 2^-20 log2 units;
// 2^64 / 2^20 leaves room for 2^44 / (hi - lo) pixels in one cell.
constexpr double kBgridFix = 1048576.0;
DTUTMO_HD unsigned long long bgrid_fix(float v, float lo) {
  return (unsigned long long)llrint((double)(v - lo) * kBgridFix);
}
// A cell's (sum of values, count) from its fixed-point sum and its count.
DTUTMO_HD void bgrid_unfix(unsigned long long acc, unsigned long long n, float lo, float* cell) {
  cell[0] = (float)((double)acc / kBgridFix + (double)lo * (double)n);
  cell[1] = (float)n;
}
// One [1 2 1] / 4 tap of the grid's blur (pairs interleaved) along an axis of length len
// and element stride `stride` (in pairs), at pair i whose coordinate there is c.
DTUTMO_PX void bgrid_blur_at(const float* src, float* dst, size_t i, size_t c, size_t stride, int len) {
  const float* s = src + 2 * i;
  const float* a = c > 0 ? s - 2 * stride : s;
  const float* b = c + 1 < (size_t)len ? s + 2 * stride : s;
  dst[2 * i] = 0.25f * a[0] + 0.5f * s[0] + 0.25f * b[0];
  dst[2 * i + 1] = 0.25f * a[1] + 0.5f * s[1] + 0.25f * b[1];
}
// Lower cell and the upper one's weight of pixel coordinate p along x or y (n cells), of
// the (clamped) value v along z.
DTUTMO_PX void bgrid_pos(float p, float ss, int n, int* i0, float* t) {
  const float f = (p + 0.5f) / ss + 1.0f;
  *i0 = (int)f < n - 2 ? (int)f : n - 2;
  *t = f - (float)*i0;
}
DTUTMO_PX void bgrid_zpos(float v, const BilateralDesc& d, int* z0, float* t) {
  const float f = (v - d.lo) / d.sr + 1.0f;
  *z0 = (int)f < d.gz - 2 ? (int)f : d.gz - 2;
  *t = f - (float)*z0;
}
// The value at p lerped with the one a grid row (`row` floats) further, at weight ty...
DTUTMO_PX float bgrid_ylerp_at(const float* p, size_t row, float ty) { return lerpf(p[0], p[row], ty); }
// ...i.e. component c (0: sum, 1: count) of cell (x, z) lerped between rows y0 and y0 + 1.
DTUTMO_PX float bgrid_ylerp(const float* grid, const BilateralDesc& d, int y0, float ty, int x, int z, int c) {
  return bgrid_ylerp_at(grid + (((size_t)z * d.gy + y0) * d.gx + x) * 2 + c, (size_t)d.gx * 2, ty);
}
// The base from the y-lerped cells ld(x, z, c): bilinear in x, then z, normalised by the
// count (the pixel's own value v where the grid is empty).
template <class Load>
DTUTMO_PX float bgrid_slice_xz(Load ld, int x0, float tx, int z0, float tz, float v) {
  const float num = lerpf(lerpf(ld(x0, z0, 0), ld(x0 + 1, z0, 0), tx), lerpf(ld(x0, z0 + 1, 0), ld(x0 + 1, z0 + 1, 0), tx), tz);
  const float den = lerpf(lerpf(ld(x0, z0, 1), ld(x0 + 1, z0, 1), tx), lerpf(ld(x0, z0 + 1, 1), ld(x0 + 1, z0 + 1, 1), tx), tz);
  return den > 1e-6f ? num / den : v;
}
// The base (log2) at pixel (x, y) of log2 luminance logy: trilinear (y, then x, then z;
// the CPU lerps y once per row for the row's x-z slab, cpu_spatial.cpp slice_row).
DTUTMO_PX float bgrid_slice(const float* grid, const BilateralDesc& d, float x, float y, float logy) {
  const float v = std_min(std_max(logy, d.lo), d.hi);
  int x0, y0, z0;
  float tx, ty, tz;
  bgrid_pos(x, d.ss, d.gx, &x0, &tx);
  bgrid_pos(y, d.ss, d.gy, &y0, &ty);
  bgrid_zpos(v, d, &z0, &tz);
  return bgrid_slice_xz([&](int i, int k, int c) { return bgrid_ylerp(grid, d, y0, ty, i, k, c); }, x0, tx, z0, tz, v);
}

// ------------------------------------------------------------------ edge-aware pooling
// The La grid's edge-aware pooling (DESIGN.md section 4): a bilateral grid along log2
// luminance, bins dzc apart anchored at multiples of dzc (a static region never changes
// bin), at most kEpMaxBins, each bin's (value, weight) planes blurred on a pyramid per
// scale, sliced per cell at its own value.
constexpr int kEpMaxBins = 32;
// Bins for values in [mn, mx] at spacing dz (doubled until they fit): lowest bin `lo`,
// spacing `dzc`, count `nb` (one empty bin below the lowest value, so that the linear
// splat never reads outside).
DTUTMO_PX void ep_bins(float mn, float mx, float dz, float* lo, float* dzc, int* nb) {
  float d = dz;
  while ((mx - mn) / d + 3.0f > (float)kEpMaxBins) d *= 2.0f;
  *dzc = d;
  *lo = (floorf(mn / d) - 1.0f) * d;
  const int n = (int)floorf((mx - *lo) / d) + 2;
  *nb = n < kEpMaxBins ? n : kEpMaxBins;
}
// The bin pair (j, j + 1) of value v and the upper one's weight f (linear splat / slice).
DTUTMO_PX void ep_bin(float v, float lo, float inv_dz, int nb, int* j, float* f) {
  const float t = (v - lo) * inv_dz;
  const int a = (int)t;
  *j = a < 0 ? 0 : (a > nb - 2 ? nb - 2 : a);
  *f = t - (float)*j;
}
// The pyramid level of a scale of `sigma` cells: halved while above 1.5 cells (a bilateral
// grid is sliced with interpolation, it needs no finer sampling than about its sigma) and
// the level has more than 2 x 2 cells; the blur left to do there (the box downsampling
// already blurred by ~0.5 cell per level, removed in quadrature).
DTUTMO_PX void ep_level(float sigma, const int* lw, const int* lh, int* level, float* blur) {
  int l = 0;
  float sc = sigma;
  while (sc > 1.5f && l < 5 && lw[l] > 2 && lh[l] > 2) {
    sc *= 0.5f;
    ++l;
  }
  *level = l;
  *blur = sqrtf(std_max(sc * sc - (l > 0 ? 0.25f : 0.0f), 0.01f));
}
// One scale's pooled value at cell (x, y) of the w x h grid: its bins j, j + 1 (weight f)
// at the scale's level (sw x sh, bin b's value plane at res + 2 b sw sh, its weight plane
// after it), bilinear there, value / weight (the cell's own v where no weight arrived).
// In two parts, the position along x or y (ep_slice_pos: the CPU makes it once per column
// and row, not per cell) and the sample (ep_slice_mix).
DTUTMO_PX void ep_slice_pos(int x, int w, int sw, int* x0, int* x1, float* t) {
  float g = (x + 0.5f) * (float)sw / w - 0.5f;
  g = std_min(std_max(g, 0.0f), (float)(sw - 1));
  *x0 = (int)g < sw - 1 ? (int)g : sw - 1;
  *x1 = *x0 + 1 < sw - 1 ? *x0 + 1 : sw - 1;
  *t = g - *x0;
}
// ep_slice_mix's sums: num (value planes) and den (weight planes) of the bins j, j + 1
// (weight f) and the 4 corners, q[dj][plane][corner] (corners 00, 10, 01, 11). T: float,
// or the CPU's 8-lane vectors (EdgePooler::slice's AVX2 path: the same operations in the
// same order, not contracted: the same bits).
template <class T>
DTUTMO_PX void ep_slice_sums(const T (&q)[2][2][4], T tx, T ty, T f, T* num, T* den) {
  const T w00 = (1.0f - tx) * (1.0f - ty), w10 = tx * (1.0f - ty), w01 = (1.0f - tx) * ty, w11 = tx * ty;
  T n = {}, d = {};
  for (int dj = 0; dj < 2; ++dj) {
    const T wz = dj ? f : 1.0f - f;
    n += wz * (w00 * q[dj][0][0] + w10 * q[dj][0][1] + w01 * q[dj][0][2] + w11 * q[dj][0][3]);
    d += wz * (w00 * q[dj][1][0] + w10 * q[dj][1][1] + w01 * q[dj][1][2] + w11 * q[dj][1][3]);
  }
  *num = n;
  *den = d;
}
DTUTMO_PX float ep_slice_mix(const float* res, int sw, int sh, int x0, int xa, float tx, int yb, int ya,
                             float ty, int j, float f, float v) {
  const size_t ln = (size_t)sw * sh;
  const size_t c[4] = {(size_t)yb * sw + x0, (size_t)yb * sw + xa, (size_t)ya * sw + x0, (size_t)ya * sw + xa};
  float q[2][2][4];
  for (int dj = 0; dj < 2; ++dj)
    for (int p = 0; p < 2; ++p)
      for (int i = 0; i < 4; ++i) q[dj][p][i] = res[(size_t)(j + dj) * 2 * ln + p * ln + c[i]];
  float num, den;
  ep_slice_sums(q, tx, ty, f, &num, &den);
  return den > 1e-8f ? num / den : v;
}
DTUTMO_PX float ep_slice_at(const float* res, int sw, int sh, int w, int h, int x, int y, int j,
                            float f, float v) {
  int x0, xa, yb, ya;
  float tx, ty;
  ep_slice_pos(x, w, sw, &x0, &xa, &tx);
  ep_slice_pos(y, h, sh, &yb, &ya, &ty);
  return ep_slice_mix(res, sw, sh, x0, xa, tx, yb, ya, ty, j, f, v);
}

}  // namespace dtutmo
