// dtutmo -- procedural HDR scenes (scenes.h).
//
// Every scene is a pure function of normalised coordinates: u = (x + 0.5) / W across,
// v = (y + 0.5) / H down (0 = top), with round shapes measured in frame heights (so
// they stay round at any aspect) and edges softened over about one pixel. Texture comes
// from an integer-hash value noise, so the picture is the same on every machine and at
// every size (only sampled more or less finely). Colours are linear BT.709 scaled so that
// their luminance Y is the stated cd/m^2.
//
// Luminance levels (cd/m^2), which the tests check:
//   daylight      sun disc 2e5; sky 3.5e3 (zenith) .. 7e3 (horizon), clouds ~9e3;
//                 sunlit ground and facade ~1.5e3-3e3; tree/facade shade ~100-400;
//                 open doorway (deep shadow) 5-15.
//   interior      walls and floor 20-100 (lamp-lit wall up to ~150); window view: sky
//                 5e3, outside ground/trees 1e3-3e3; sun patch on the floor ~600; lamp
//                 shade ~800.
//   night         sky 0.003-0.01 with stars (~2) and a moon (2.5e3); facades 0.02-0.05,
//                 lit windows ~30; road 0.01-0.08, lamp pools up to ~3; lamp cores 1.2e4;
//                 median of the frame <= 0.1.
//   colored-lights  wall ~1; red, green, blue, amber and magenta lights in rows of 10,
//                 100, 1e3 and 1e4 at their cores, with coloured spill on the wall.
//   fine-detail   paper 200 with text at ink contrasts 95/50/10 %; sine gratings at
//                 mean 100, 5 frequencies x 4 contrasts; text on a dark (0.5) and a bright
//                 (5e3) ground.
//   sky-gradient  smooth, zenith (top row) ~800 to horizon (bottom row) ~3e3, no texture.
//   animated      0-2 s the interior x 10^(t - 1) (a x100 ramp, log-linear), 2-4 s the
//                 daylight scene, 4-6 s the night street; period 6 s.
//   cuts, fades, pan-slow, pan-fast, edit: timelines of the stills above (scenes.h), the
//                 daylight in `cuts` and `pan-slow` graded down to the interior's
//                 log-mean; the pans scroll over two stills side by side.
//
// Static scenes are cached (the last few renders, by scene, size and primaries), so a
// live source pays for a scene once and then copies it; the animated scene scales the
// cached stills.
#include "dtutmo/scenes.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dtutmo/color.h"

namespace dtutmo {

namespace {

// ---------------------------------------------------------------- small maths
struct C3 {
  float r, g, b;
};
inline C3 operator+(C3 a, C3 b) { return {a.r + b.r, a.g + b.g, a.b + b.b}; }
inline C3 operator*(C3 a, float k) { return {a.r * k, a.g * k, a.b * k}; }
inline C3 mix(C3 a, C3 b, float t) { return a * (1.0f - t) + b * t; }
inline float lum(C3 c) { return 0.2126390f * c.r + 0.7151687f * c.g + 0.0721923f * c.b; }
// A colour of chromaticity (r, g, b) with luminance L.
inline C3 col(float r, float g, float b, float L) {
  const C3 c{r, g, b};
  return c * (L / lum(c));
}

inline float sstep(float e0, float e1, float x) {
  const float t = std::min(std::max((x - e0) / (e1 - e0), 0.0f), 1.0f);
  return t * t * (3.0f - 2.0f * t);
}
inline float clamp01(float x) { return std::min(std::max(x, 0.0f), 1.0f); }
// Coverage of "d < 0" for a signed distance d, softened over one pixel `px`.
inline float inside(float d, float px) { return clamp01(0.5f - d / px); }

// Integer hash (lowbias32), deterministic everywhere.
inline uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}
inline uint32_t hash3(int32_t a, int32_t b, uint32_t seed) {
  return hash32(static_cast<uint32_t>(a) * 0x9E3779B1u ^ hash32(static_cast<uint32_t>(b) + seed * 0x85EBCA77u));
}
inline float rnd(int32_t a, int32_t b, uint32_t seed) {
  return static_cast<float>(hash3(a, b, seed) >> 8) * (1.0f / 16777216.0f);
}
// Value noise in [0, 1], smooth (C1) interpolation of hashed lattice values.
inline float vnoise(float x, float y, uint32_t seed) {
  const float fx = std::floor(x), fy = std::floor(y);
  const int32_t ix = static_cast<int32_t>(fx), iy = static_cast<int32_t>(fy);
  float tx = x - fx, ty = y - fy;
  tx = tx * tx * (3.0f - 2.0f * tx);
  ty = ty * ty * (3.0f - 2.0f * ty);
  const float a = rnd(ix, iy, seed), b = rnd(ix + 1, iy, seed);
  const float c = rnd(ix, iy + 1, seed), d = rnd(ix + 1, iy + 1, seed);
  return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}
// Fractal sum of `oct` octaves, in [0, 1].
inline float fbm(float x, float y, int oct, uint32_t seed) {
  float s = 0.0f, amp = 0.5f, norm = 0.0f;
  for (int i = 0; i < oct; ++i) {
    s += amp * vnoise(x, y, seed + 17u * i);
    norm += amp;
    x = x * 2.03f + 1.7f;
    y = y * 2.03f - 3.1f;
    amp *= 0.5f;
  }
  return s / norm;
}

// Where a pixel is, in the units the scenes use.
struct P {
  float u, v;  // [0, 1] across and down
  float a;     // aspect W / H
  float px;    // one pixel, in frame heights
  float X() const { return u * a; }  // horizontal position in frame heights
};
inline float dist(const P& p, float cu, float cv) {
  const float dx = (p.u - cu) * p.a, dy = p.v - cv;
  return std::sqrt(dx * dx + dy * dy);
}
// Signed distance to an axis-aligned box given in (u, v) corners (measured in heights).
inline float box(const P& p, float u0, float v0, float u1, float v1) {
  const float dx = std::max((u0 - p.u) * p.a, (p.u - u1) * p.a);
  const float dy = std::max(v0 - p.v, p.v - v1);
  const float ox = std::max(dx, 0.0f), oy = std::max(dy, 0.0f);
  return std::sqrt(ox * ox + oy * oy) + std::min(std::max(dx, dy), 0.0f);
}

// ---------------------------------------------------------------- daylight
C3 daylight(const P& p) {
  const float su = 0.72f, sv = 0.14f;  // sun position
  const float X = p.X();
  // Distant hills: the horizon line wanders with 1-D noise.
  const float ridge = 0.56f - 0.07f * fbm(X * 3.0f, 0.5f, 4, 11u) - 0.02f * sstep(0.5f, 1.0f, p.u);
  const float horizon = 0.6f;
  C3 c;
  if (p.v < ridge) {
    // Sky: brighter and paler toward the horizon; aureole around the sun.
    const float t = std::pow(clamp01(p.v / horizon), 1.5f);
    C3 sky = mix(col(0.55f, 0.75f, 1.35f, 3500.0f), col(0.9f, 0.96f, 1.08f, 7000.0f), t);
    const float ds = dist(p, su, sv);
    sky = sky + col(1.0f, 0.92f, 0.8f, 1.0f) * (3.0e4f * std::exp(-ds / 0.02f) + 3.0e3f * std::exp(-ds / 0.15f));
    // Cumulus clouds: thresholded fbm, shaded darker at their base, thinning near the sun.
    const float n = fbm(X * 2.5f, p.v * 5.0f, 5, 23u);
    const float cover = sstep(0.52f, 0.7f, n) * sstep(0.02f, 0.2f, p.v) * sstep(0.04f, 0.12f, ds);
    const float shade = 0.6f + 0.4f * fbm(X * 6.0f, p.v * 12.0f - 2.0f, 3, 29u);
    const C3 cloud = col(1.0f, 1.0f, 1.02f, 9000.0f * shade);
    c = mix(sky, cloud, cover);
    // Sun disc: 2e5 cd/m^2, radius 0.02 heights.
    const float disc = inside(ds - 0.02f, p.px);
    c = mix(c, col(1.0f, 0.97f, 0.9f, 2.0e5f), disc);
    // Hazy hills between the ridge and the horizon line are below; here only sky.
  } else if (p.v < horizon) {
    // Hills, blue with aerial haze, sunlit slopes brighter.
    const float n = fbm(X * 12.0f, p.v * 30.0f, 4, 31u);
    c = col(0.7f, 0.8f, 0.95f, 1500.0f + 900.0f * n);
  } else {
    // Fields in perspective: texture frequency rises toward the horizon.
    const float depth = 1.0f / (p.v - horizon + 0.02f);
    const float gx = (X - 0.5f * p.a) * depth, gy = depth;
    const float n = fbm(gx * 2.0f, gy * 4.0f, 5, 41u);
    const float rows = 0.5f + 0.5f * std::sin(gx * 25.0f);  // crop rows
    const float alb = 0.6f + 0.5f * n + 0.15f * rows * sstep(0.65f, 0.8f, p.v);
    c = mix(col(0.55f, 0.75f, 0.25f, 1.0f), col(0.85f, 0.75f, 0.45f, 1.0f), sstep(0.4f, 0.7f, n)) * (2000.0f * alb);
    // A dirt path toward the house.
    const float path = std::fabs(p.u - (0.29f + 0.3f * (p.v - horizon))) * p.a - (0.006f + 0.12f * (p.v - horizon));
    c = mix(c, col(0.9f, 0.8f, 0.65f, 2600.0f * (0.8f + 0.3f * n)), inside(path, p.px));
    // Tree shadow on the grass: sky-lit only (~8 % of the sunlit level), leafy edges.
    const float es = std::hypot((p.u - 0.62f) * p.a / 0.16f, (p.v - 0.86f) / 0.045f) - 1.0f +
                     0.35f * (fbm(X * 30.0f, p.v * 30.0f, 3, 47u) - 0.5f);
    c = c * (1.0f - 0.92f * inside(es, p.px * 8.0f));
  }
  // Tree: trunk and a leafy crown (sunlit side toward the sun, shade side dark).
  {
    const float trunk = box(p, 0.605f, 0.52f, 0.625f, 0.86f);
    const float bark = 0.6f + 0.6f * fbm(X * 80.0f, p.v * 8.0f, 3, 53u);
    c = mix(c, col(0.6f, 0.45f, 0.3f, 120.0f * bark), inside(trunk, p.px));
    const float leaf = fbm(X * 18.0f, p.v * 18.0f, 5, 59u);
    const float crown = dist(p, 0.615f, 0.42f) / 0.15f - 1.0f + 0.6f * (leaf - 0.5f);
    const float lit = sstep(-0.1f, 0.1f, (p.u - 0.615f) * p.a + (0.42f - p.v) * 0.6f) * (0.4f + 0.8f * leaf);
    const C3 foliage = col(0.35f, 0.6f, 0.2f, 60.0f + 400.0f * lit);
    c = mix(c, foliage, inside(crown * 0.15f, p.px));
  }
  // House on the left: brick facade in sun, roof, windows reflecting the sky, an open
  // doorway in deep shadow, shade under the eaves.
  {
    const float u0 = 0.04f, u1 = 0.36f, v0 = 0.34f, v1 = 0.86f;
    const float wall = box(p, u0, v0, u1, v1);
    if (wall < p.px) {
      // Bricks: 0.012 high, 0.03 long, staggered; mortar lines lighter.
      const float bh = 0.012f, bw = 0.03f;
      const float row = std::floor(p.v / bh);
      const float bx = X / bw + 0.5f * std::fmod(row, 2.0f);
      const float fx = bx - std::floor(bx), fy = p.v / bh - row;
      // 1 inside a brick, 0 in the mortar joints.
      const float mort = std::min(sstep(0.0f, 0.08f, fx) * sstep(1.0f, 0.92f, fx),
                                  sstep(0.0f, 0.12f, fy) * sstep(1.0f, 0.88f, fy));
      const float var = 0.75f + 0.5f * rnd(static_cast<int32_t>(std::floor(bx)), static_cast<int32_t>(row), 61u);
      C3 f = mix(col(0.9f, 0.88f, 0.82f, 3200.0f), col(0.75f, 0.42f, 0.3f, 2200.0f * var), mort);
      // Shade under the eaves.
      f = f * (1.0f - 0.95f * sstep(0.39f, 0.37f, p.v));
      // Windows (sky reflection, frames).
      for (int i = 0; i < 2; ++i) {
        const float wu0 = 0.07f + 0.15f * i, wu1 = wu0 + 0.07f;
        const float wd = box(p, wu0, 0.44f, wu1, 0.56f);
        const float refl = 1200.0f + 900.0f * (0.56f - p.v) / 0.12f;
        C3 glass = col(0.7f, 0.85f, 1.1f, refl);
        const float mull = std::min(std::fabs((p.u - 0.5f * (wu0 + wu1)) * p.a), std::fabs(p.v - 0.5f)) - 0.003f;
        glass = mix(glass, col(1, 1, 1, 2600.0f), inside(mull, p.px));
        f = mix(f, col(1, 1, 1, 2800.0f), inside(wd - 0.006f, p.px));  // white frame
        f = mix(f, glass, inside(wd, p.px));
      }
      // Doorway: deep shadow (5-15 cd/m^2) with faint interior detail (a coat, a step).
      const float dd = box(p, 0.25f, 0.6f, 0.32f, 0.86f);
      const float dn = fbm(X * 40.0f, p.v * 40.0f, 3, 67u);
      float deep = 7.0f + 6.0f * dn;
      deep *= 1.0f + 0.8f * inside(dist(p, 0.275f, 0.68f) - 0.02f, p.px);  // coat
      deep *= 1.0f + 0.5f * inside(box(p, 0.25f, 0.83f, 0.32f, 0.86f), p.px);  // step
      f = mix(f, col(0.95f, 0.9f, 0.85f, 3000.0f), inside(dd - 0.008f, p.px));
      f = mix(f, col(0.8f, 0.8f, 0.85f, deep), inside(dd, p.px));
      c = mix(c, f, inside(wall, p.px));
    }
    // Roof: a triangle above the wall, tiles in sun.
    const float cu = 0.5f * (u0 + u1);
    const float halfw = 0.005f + 0.18f * clamp01((p.v - 0.2f) / (v0 - 0.2f));
    const float rd = std::max(std::max(0.2f - p.v, p.v - v0 - 0.002f), (std::fabs(p.u - cu) - halfw) * p.a);
    const float tiles = 0.7f + 0.3f * (0.5f + 0.5f * std::sin(p.v * 600.0f)) + 0.2f * vnoise(X * 60.0f, p.v * 60.0f, 71u);
    c = mix(c, col(0.7f, 0.35f, 0.25f, 900.0f * tiles), inside(rd, p.px));
  }
  return c;
}

// ---------------------------------------------------------------- interior
C3 interior(const P& p) {
  const float X = p.X();
  const float floor_v = 0.72f;
  C3 c;
  // Window on the back wall and what is outside it.
  const float wu0 = 0.55f, wu1 = 0.86f, wv0 = 0.14f, wv1 = 0.54f;
  if (p.v < floor_v) {
    // Plaster wall, lit by the window (falls off with distance) and by a table lamp.
    const float plaster = 0.92f + 0.16f * fbm(X * 40.0f, p.v * 40.0f, 3, 101u);
    const float dw = dist(p, 0.7f, 0.35f);
    const float dl = dist(p, 0.14f, 0.5f);
    const float L = 30.0f + 60.0f * std::exp(-dw / 0.35f) + 90.0f * std::exp(-dl / 0.08f);
    c = col(1.0f, 0.96f, 0.88f, L * plaster);
    // Skirting board.
    c = mix(c, col(1, 1, 1, 45.0f), inside(std::fabs(p.v - 0.705f) - 0.015f, p.px));
  } else {
    // Wooden floor in perspective: planks converge, grain along them.
    const float depth = 1.0f / (p.v - floor_v + 0.05f);
    const float gx = (X - 0.5f * p.a) * depth;
    const float plank = gx * 3.0f;
    const float pid = std::floor(plank);
    const float seam = sstep(0.0f, 0.04f, plank - pid) * sstep(1.0f, 0.96f, plank - pid);
    const float grain = 0.8f + 0.3f * fbm(plank * 2.0f, depth * 12.0f + 7.0f * rnd(static_cast<int32_t>(pid), 0, 103u), 4, 107u);
    const float tone = 0.8f + 0.4f * rnd(static_cast<int32_t>(pid), 1, 109u);
    c = col(0.75f, 0.5f, 0.3f, 35.0f * grain * tone * (0.5f + 0.5f * seam));
    // Sun patch from the window, sheared onto the floor.
    const float s = (p.v - floor_v) / (1.0f - floor_v);
    const float pu0 = 0.5f - 0.12f * s, pu1 = 0.78f - 0.12f * s;
    const float patch = std::max(pu0 - p.u, p.u - pu1) * p.a;
    const float bars = std::fabs(p.u - 0.5f * (pu0 + pu1)) * p.a - 0.006f;
    const float lit = inside(patch, p.px * 3.0f) * (1.0f - inside(bars, p.px * 2.0f)) * sstep(0.74f, 0.78f, p.v) *
                      sstep(0.99f, 0.9f, p.v);
    c = c * (1.0f + 17.0f * lit);
  }
  // The window: outside view (sky 5e3, trees, a sunny lawn), white frame, mullions.
  {
    const float wd = box(p, wu0, wv0, wu1, wv1);
    if (wd < 0.02f) {
      const float hv = 0.4f;
      C3 out;
      if (p.v < hv) {
        out = mix(col(0.6f, 0.78f, 1.25f, 4500.0f), col(0.9f, 0.95f, 1.05f, 6000.0f), clamp01(p.v / hv));
        const float n = fbm(X * 6.0f, p.v * 12.0f, 4, 113u);
        out = mix(out, col(1, 1, 1, 8000.0f), sstep(0.6f, 0.75f, n) * 0.8f);
      } else {
        const float n = fbm(X * 30.0f, p.v * 60.0f, 4, 127u);
        out = col(0.5f, 0.75f, 0.25f, 1500.0f + 1200.0f * n);
      }
      // Trees outside.
      const float tn = fbm(X * 14.0f, p.v * 14.0f, 4, 131u);
      const float tree = dist(p, 0.66f, 0.37f) / 0.07f - 1.0f + 0.8f * (tn - 0.5f);
      out = mix(out, col(0.35f, 0.6f, 0.2f, 400.0f + 1400.0f * tn), inside(tree * 0.07f, p.px));
      const float mull = std::min(std::fabs((p.u - 0.5f * (wu0 + wu1)) * p.a), std::fabs(p.v - 0.5f * (wv0 + wv1))) - 0.006f;
      out = mix(out, col(1, 1, 1, 60.0f), inside(mull, p.px));  // backlit mullions: dim
      c = mix(c, col(1, 1, 1, 90.0f), inside(wd - 0.012f, p.px));  // frame
      c = mix(c, out, inside(wd, p.px));
    }
  }
  // Bookshelf on the left: dark wood, books of hashed widths, heights and colours.
  {
    const float su0 = 0.03f, su1 = 0.3f, sv0 = 0.12f, sv1 = 0.7f;
    const float sd = box(p, su0, sv0, su1, sv1);
    if (sd < p.px) {
      C3 s = col(0.6f, 0.4f, 0.25f, 12.0f);
      const float shelf_h = (sv1 - sv0) / 4.0f;
      const float rowf = (p.v - sv0) / shelf_h;
      const int row = static_cast<int>(std::floor(rowf));
      const float inrow = rowf - row;
      if (inrow > 0.12f && p.u > su0 + 0.01f && p.u < su1 - 0.01f) {
        const float bu = (p.u - su0) * p.a / 0.018f;  // book slots of 0.018 heights
        const int slot = static_cast<int>(std::floor(bu));
        const float h = 0.55f + 0.4f * rnd(slot, row, 137u);
        if (rnd(slot, row, 139u) > 0.1f && inrow > 1.0f - h) {
          const float hue = rnd(slot, row, 149u);
          const C3 bc = hue < 0.25f ? C3{0.7f, 0.1f, 0.08f}
                        : hue < 0.5f ? C3{0.1f, 0.3f, 0.6f}
                        : hue < 0.75f ? C3{0.15f, 0.45f, 0.2f}
                                      : C3{0.8f, 0.7f, 0.4f};
          const float edge = sstep(0.0f, 0.1f, bu - slot) * sstep(1.0f, 0.9f, bu - slot);
          const float title = (std::fabs(inrow - (1.0f - 0.5f * h)) < 0.04f) ? 1.6f : 1.0f;
          s = col(bc.r, bc.g, bc.b, (14.0f + 20.0f * rnd(slot, row, 151u)) * (0.6f + 0.4f * edge) * title);
        } else {
          s = col(0.6f, 0.4f, 0.25f, 5.0f);  // back of the shelf, shaded
        }
      }
      c = mix(c, s, inside(sd, p.px));
    }
  }
  // Table lamp: warm shade (~800) on a small table.
  {
    const float table = box(p, 0.33f, 0.6f, 0.5f, 0.62f);
    c = mix(c, col(0.6f, 0.4f, 0.25f, 25.0f), inside(table, p.px));
    const float leg = box(p, 0.4f, 0.62f, 0.43f, 0.78f);
    c = mix(c, col(0.6f, 0.4f, 0.25f, 15.0f), inside(leg, p.px));
    const float stem = box(p, 0.414f, 0.52f, 0.418f, 0.6f);
    c = mix(c, col(0.8f, 0.7f, 0.5f, 60.0f), inside(stem, p.px));
    // Trapezoid shade.
    const float t = clamp01((p.v - 0.44f) / 0.08f);
    const float half = (0.025f + 0.02f * t);
    const float sh = std::max(std::fabs(p.u - 0.416f) * p.a - half, std::max(0.44f - p.v, p.v - 0.52f));
    const float glow = 800.0f * (0.8f + 0.4f * t) * (0.9f + 0.1f * vnoise(X * 200.0f, p.v * 200.0f, 157u));
    c = mix(c, col(1.0f, 0.85f, 0.6f, glow), inside(sh, p.px));
  }
  // A painting between shelf and window.
  {
    const float fd = box(p, 0.35f, 0.2f, 0.48f, 0.36f);
    const float n = fbm(X * 10.0f, p.v * 10.0f, 4, 163u);
    const C3 art = mix(col(0.2f, 0.35f, 0.7f, 25.0f), col(0.85f, 0.55f, 0.15f, 70.0f), sstep(0.4f, 0.6f, n + 0.3f * (0.28f - p.v)));
    c = mix(c, col(0.5f, 0.35f, 0.2f, 10.0f), inside(fd - 0.008f, p.px));
    c = mix(c, art, inside(fd, p.px));
  }
  return c;
}

// ---------------------------------------------------------------- night street
C3 night(const P& p) {
  const float X = p.X();
  const float street_v = 0.64f;
  C3 c;
  if (p.v < street_v) {
    // Sky: deep blue, a little lighter at the horizon (city glow), stars, a moon.
    c = mix(col(0.35f, 0.45f, 1.0f, 0.003f), col(0.9f, 0.7f, 0.5f, 0.012f), clamp01(p.v / street_v));
    const float cell = 0.02f;  // star lattice, in heights
    const int cx = static_cast<int>(std::floor(X / cell)), cy = static_cast<int>(std::floor(p.v / cell));
    if (rnd(cx, cy, 201u) < 0.12f) {
      const float sx = (cx + 0.2f + 0.6f * rnd(cx, cy, 203u)) * cell, sy = (cy + 0.2f + 0.6f * rnd(cx, cy, 205u)) * cell;
      const float d = std::hypot(X - sx, p.v - sy);
      c = c + col(1.0f, 0.95f, 0.9f, 0.5f + 3.0f * rnd(cx, cy, 207u)) * inside(d - std::max(0.0012f, 0.5f * p.px), p.px);
    }
    const float dm = dist(p, 0.14f, 0.1f);
    c = c + col(1.0f, 0.97f, 0.9f, 0.3f) * std::exp(-dm / 0.05f);
    c = mix(c, col(1.0f, 0.98f, 0.92f, 2500.0f * (0.85f + 0.15f * fbm(X * 150.0f, p.v * 150.0f, 3, 209u))),
            inside(dm - 0.022f, p.px));
    // Buildings: blocks of hashed heights with a grid of windows, some lit.
    const float bwid = 0.12f;  // in heights
    const int b = static_cast<int>(std::floor(X / bwid));
    const float top = 0.18f + 0.22f * rnd(b, 0, 211u);
    if (p.v > top) {
      const float facade = 0.02f + 0.03f * rnd(b, 1, 213u);
      C3 f = col(0.8f, 0.8f, 0.9f, facade * (0.8f + 0.4f * fbm(X * 60.0f, p.v * 60.0f, 2, 215u)));
      const float wx = (X - b * bwid) / bwid;  // 0..1 across the block
      const float gx = wx * 6.0f, gy = (p.v - top) / 0.035f;
      const int ix = static_cast<int>(std::floor(gx)), iy = static_cast<int>(std::floor(gy));
      const float fx = gx - ix, fy = gy - iy;
      if (ix >= 1 && ix <= 4 && fx > 0.2f && fx < 0.8f && fy > 0.25f && fy < 0.8f && p.v < street_v - 0.03f) {
        const float r = rnd(ix + 8 * b, iy, 217u);
        if (r < 0.3f) {
          const bool cold = rnd(ix + 8 * b, iy, 219u) < 0.3f;
          f = cold ? col(0.7f, 0.85f, 1.1f, 15.0f + 30.0f * r) : col(1.0f, 0.75f, 0.45f, 15.0f + 60.0f * r);
        } else {
          f = col(0.8f, 0.8f, 0.9f, 0.01f);
        }
      }
      c = f;
    }
  } else {
    // Road and pavement, asphalt texture, lane marks, pools of lamp light.
    const float depth = 1.0f / (p.v - street_v + 0.03f);
    const float gx = (X - 0.5f * p.a) * depth;
    const float n = fbm(gx * 8.0f, depth * 20.0f, 4, 221u);
    float L = 0.02f + 0.03f * n;
    const bool pavement = p.v < street_v + 0.05f;
    if (pavement) L = 0.04f + 0.02f * n;
    const float mark = std::fabs(gx) - 0.03f;
    const float dash = std::sin(depth * 6.0f) > 0.0f ? 1.0f : 0.0f;
    if (!pavement && mark < 0.0f && dash > 0.0f) L = 0.08f;
    for (int i = 0; i < 3; ++i) {
      const float lu = 0.2f + 0.3f * i;
      const float dx = (p.u - lu) * p.a / 0.12f, dy = (p.v - 0.74f) / 0.06f;
      L += 3.0f * (0.5f + 0.5f * n) * std::exp(-(dx * dx + dy * dy));
    }
    c = col(0.9f, 0.85f, 0.8f, L);
  }
  // Street lamps: poles, heads with 1.2e4 cores, a small halo of scattered light.
  for (int i = 0; i < 3; ++i) {
    const float lu = 0.2f + 0.3f * i;
    const float pole = box(p, lu - 0.003f, 0.3f, lu + 0.003f, 0.72f);
    c = mix(c, col(0.5f, 0.5f, 0.55f, 0.03f), inside(pole, p.px));
    const float d = dist(p, lu, 0.3f);
    c = c + col(1.0f, 0.8f, 0.55f, 1.0f) * (80.0f * std::exp(-d / 0.012f) + 0.6f * std::exp(-d / 0.06f));
    c = mix(c, col(1.0f, 0.82f, 0.6f, 1.2e4f), inside(d - 0.01f, p.px));
  }
  // A parked car: dark body, red tail lights.
  {
    const float body = box(p, 0.62f, 0.7f, 0.78f, 0.78f);
    c = mix(c, col(0.7f, 0.7f, 0.8f, 0.02f), inside(body - 0.01f, p.px));
    for (int i = 0; i < 2; ++i) {
      const float tl = box(p, 0.625f + 0.135f * i, 0.725f, 0.64f + 0.135f * i, 0.735f);
      c = mix(c, col(1.0f, 0.05f, 0.03f, 300.0f), inside(tl, p.px));
    }
  }
  return c;
}

// ---------------------------------------------------------------- coloured lights
C3 colored_lights(const P& p) {
  const float X = p.X();
  // Concrete wall ~1 cd/m^2 with pores.
  const float n = fbm(X * 30.0f, p.v * 30.0f, 5, 301u);
  C3 c = col(0.9f, 0.88f, 0.85f, 0.6f + 0.8f * n);
  static const C3 kHue[5] = {{1.0f, 0.015f, 0.01f},   // red
                             {0.02f, 1.0f, 0.05f},    // green
                             {0.02f, 0.06f, 1.0f},    // blue
                             {1.0f, 0.45f, 0.01f},    // amber
                             {1.0f, 0.02f, 0.9f}};    // magenta
  static const float kLevel[4] = {10.0f, 100.0f, 1000.0f, 10000.0f};
  // Spill light from every lamp first, then the lamps on top.
  for (int row = 0; row < 4; ++row)
    for (int k = 0; k < 5; ++k) {
      const float cu = 0.14f + 0.18f * k, cv = 0.15f + 0.22f * row;
      const float d = dist(p, cu, cv);
      const C3 h = col(kHue[k].r, kHue[k].g, kHue[k].b, kLevel[row]);
      c = c + h * (0.004f * std::exp(-d / 0.05f) * (0.7f + 0.6f * n));
    }
  for (int row = 0; row < 4; ++row)
    for (int k = 0; k < 5; ++k) {
      const float cu = 0.14f + 0.18f * k, cv = 0.15f + 0.22f * row;
      const float d = dist(p, cu, cv);
      const float core = 1.0f - 0.3f * sstep(0.0f, 0.035f, d);  // a little brighter at the centre
      const C3 h = col(kHue[k].r, kHue[k].g, kHue[k].b, kLevel[row] * core);
      c = mix(c, h, inside(d - 0.035f, p.px));
      // A thin dark bezel around each lamp.
      c = c * (1.0f - 0.9f * inside(std::fabs(d - 0.04f) - 0.003f, p.px));
    }
  return c;
}

// ---------------------------------------------------------------- fine detail
// Text-like glyphs: a 3x5 bitmap per character from the hash, strokes joined so that
// they read as letters; spaces between words. `size` is the line height in heights.
float text_ink(const P& p, float x0, float y0, float x1, float y1, float size, uint32_t seed) {
  if (p.u < x0 || p.u > x1 || p.v < y0 || p.v > y1) return 0.0f;
  const float lx = (p.u - x0) * p.a / (0.6f * size), ly = (p.v - y0) / size;
  const int cx = static_cast<int>(std::floor(lx)), line = static_cast<int>(std::floor(ly));
  if (rnd(cx, line, seed) < 0.17f) return 0.0f;  // word space
  const float gx = (lx - cx) / 0.75f, gy = (ly - line) / 0.75f;  // glyph box = 3/4 of the cell
  if (gx >= 1.0f || gy >= 1.0f) return 0.0f;
  const int bx = static_cast<int>(gx * 3.0f), by = static_cast<int>(gy * 5.0f);
  const uint32_t h = hash3(cx, line, seed + 1u);
  // Bits: a left or right stem is likely, the rest of the cells random.
  const bool stem = (bx == 0 && (h & 1u)) || (bx == 2 && (h & 2u));
  const bool bar = (by == 0 || by == 2 || by == 4) && ((h >> (3 + by)) & 1u);
  const bool dot = ((h >> (10 + bx + 3 * by)) & 1u) && (h & 4u);
  return (stem || bar || dot) ? 1.0f : 0.0f;
}

C3 fine_detail(const P& p) {
  const float X = p.X();
  if (p.v < 0.34f) {
    // Paper 200 cd/m^2: three blocks of text, ink at 95, 50 and 10 % contrast, each with
    // lines at three sizes.
    const C3 paper = col(1.0f, 0.98f, 0.94f, 200.0f * (0.97f + 0.06f * vnoise(X * 300.0f, p.v * 300.0f, 401u)));
    const float contrast[3] = {0.95f, 0.5f, 0.1f};
    const int blk = std::min(static_cast<int>(p.u * 3.0f), 2);
    const float bx0 = blk / 3.0f + 0.015f, bx1 = (blk + 1) / 3.0f - 0.015f;
    float ink = 0.0f;
    ink = std::max(ink, text_ink(p, bx0, 0.02f, bx1, 0.1f, 0.02f, 410u + blk));
    ink = std::max(ink, text_ink(p, bx0, 0.11f, bx1, 0.2f, 0.012f, 420u + blk));
    ink = std::max(ink, text_ink(p, bx0, 0.21f, bx1, 0.32f, 0.007f, 430u + blk));
    return paper * (1.0f - contrast[blk] * ink);
  }
  if (p.v < 0.67f) {
    // Sine gratings, mean 100: columns of 5 frequencies (8 .. 128 cycles per frame
    // height), rows of 4 Michelson contrasts (0.9, 0.3, 0.1, 0.03).
    const float contrast[4] = {0.9f, 0.3f, 0.1f, 0.03f};
    const int col_i = std::min(static_cast<int>(p.u * 5.0f), 4);
    const int row_i = std::min(static_cast<int>((p.v - 0.34f) / 0.33f * 4.0f), 3);
    const float freq = 8.0f * static_cast<float>(1 << col_i);
    const float s = std::sin(6.2831853f * freq * X);
    // A thin grey gap between patches.
    const float fu = p.u * 5.0f - col_i, fv = (p.v - 0.34f) / 0.33f * 4.0f - row_i;
    const bool gap = fu < 0.02f || fu > 0.98f || fv < 0.03f || fv > 0.97f;
    return col(1, 1, 1, gap ? 60.0f : 100.0f * (1.0f + contrast[row_i] * s));
  }
  // Bottom: text in deep shadow (0.5, contrasts 50 / 10 %) and in glare (5e3, 50 / 10 %).
  const bool bright = p.u >= 0.5f;
  const float base = bright ? 5000.0f : 0.5f;
  const C3 ground = col(1.0f, 0.97f, 0.92f, base * (0.97f + 0.06f * vnoise(X * 200.0f, p.v * 200.0f, 441u)));
  const float u0 = bright ? 0.52f : 0.02f, u1 = bright ? 0.98f : 0.48f;
  float ink = 0.5f * text_ink(p, u0, 0.69f, u1, 0.83f, 0.018f, 450u + bright);
  ink = std::max(ink, 0.1f * text_ink(p, u0, 0.85f, u1, 0.98f, 0.012f, 460u + bright));
  return ground * (1.0f - ink);
}

// ---------------------------------------------------------------- sky gradient
C3 sky_gradient(const P& p) {
  // Smooth in every direction: luminance log-linear from 800 (v = 0) to 3000 (v = 1),
  // a gentle lift toward a sun below the frame on the right, hue from deep blue to pale
  // warm. Only smooth functions: any banding in the output is the pipeline's.
  const float t = p.v;
  const float L = 800.0f * std::pow(3000.0f / 800.0f, t);
  const float du = p.u - 0.8f;
  const float lift = 1.0f + 0.12f * std::exp(-du * du / 0.08f) * t * t;
  const C3 zen{0.45f, 0.65f, 1.4f}, hor{1.0f, 0.95f, 0.85f};
  const C3 h = mix(zen, hor, t * t);
  return col(h.r, h.g, h.b, L * lift);
}

using SceneFn = C3 (*)(const P&);
SceneFn scene_fn(Scene s) {
  switch (s) {
    case Scene::Daylight: return daylight;
    case Scene::Interior: return interior;
    case Scene::Night: return night;
    case Scene::ColoredLights: return colored_lights;
    case Scene::FineDetail: return fine_detail;
    case Scene::SkyGradient: return sky_gradient;
    default: return nullptr;
  }
}

// Render a static scene into a tight buffer, rows split over threads.
void render_static(Scene s, int w, int h, Primaries prim, float* out) {
  const SceneFn fn = scene_fn(s);
  const Mat3 m = mul(xyz_to_rgb(Primaries::BT2020), rgb_to_xyz(Primaries::BT709));
  const bool conv = prim == Primaries::BT2020;
  auto rows = [&](int y0, int y1) {
    P p;
    p.a = static_cast<float>(w) / static_cast<float>(h);
    p.px = 1.0f / static_cast<float>(h);
    for (int y = y0; y < y1; ++y) {
      p.v = (static_cast<float>(y) + 0.5f) / static_cast<float>(h);
      float* o = out + static_cast<std::size_t>(y) * w * 3;
      for (int x = 0; x < w; ++x) {
        p.u = (static_cast<float>(x) + 0.5f) / static_cast<float>(w);
        C3 c = fn(p);
        if (conv) {
          const Vec3 r = mul(m, Vec3{c.r, c.g, c.b});
          c = {r.x, r.y, r.z};
        }
        o[3 * x] = std::max(c.r, 0.0f);
        o[3 * x + 1] = std::max(c.g, 0.0f);
        o[3 * x + 2] = std::max(c.b, 0.0f);
      }
    }
  };
  const long long pixels = static_cast<long long>(w) * h;
  int nt = pixels < 65536 ? 1 : static_cast<int>(std::min(8u, std::max(1u, std::thread::hardware_concurrency())));
  if (nt == 1) {
    rows(0, h);
    return;
  }
  std::vector<std::thread> th;
  for (int i = 0; i < nt; ++i) th.emplace_back(rows, h * i / nt, h * (i + 1) / nt);
  for (auto& t : th) t.join();
}

// A small cache of rendered stills (most recent first).
struct Still {
  Scene s;
  int w, h;
  Primaries prim;
  std::vector<float> rgb;
  double log2_mean = 0.0;  // mean of log2 Y over the pixels (Y floored at 1e-4 cd/m^2)
};
std::mutex g_cache_mu;
std::list<std::shared_ptr<const Still>> g_cache;
constexpr std::size_t kCacheEntries = 4;

std::shared_ptr<const Still> get_still(Scene s, int w, int h, Primaries prim) {
  {
    std::lock_guard<std::mutex> lk(g_cache_mu);
    for (auto it = g_cache.begin(); it != g_cache.end(); ++it)
      if ((*it)->s == s && (*it)->w == w && (*it)->h == h && (*it)->prim == prim) {
        auto hit = *it;
        g_cache.erase(it);
        g_cache.push_front(hit);
        return hit;
      }
  }
  auto st = std::make_shared<Still>();
  st->s = s;
  st->w = w;
  st->h = h;
  st->prim = prim;
  st->rgb.resize(static_cast<std::size_t>(w) * h * 3);
  render_static(s, w, h, prim, st->rgb.data());
  {
    // Y from the primaries' luminance row (the same for BT.709 input converted to BT.2020)
    const Mat3 m = rgb_to_xyz(prim);
    double acc = 0.0;
    for (std::size_t i = 0; i < st->rgb.size(); i += 3) {
      const float Y = m.m[1][0] * st->rgb[i] + m.m[1][1] * st->rgb[i + 1] + m.m[1][2] * st->rgb[i + 2];
      acc += std::log2(std::max(Y, 1e-4f));
    }
    st->log2_mean = acc / (static_cast<double>(w) * h);
  }
  std::lock_guard<std::mutex> lk(g_cache_mu);
  g_cache.push_front(st);
  while (g_cache.size() > kCacheEntries) g_cache.pop_back();
  return st;
}

const char* const kNames[] = {"daylight",    "interior",     "night",    "colored-lights",
                              "fine-detail", "sky-gradient", "animated", "cuts",
                              "fades",       "pan-slow",     "pan-fast", "edit"};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<std::size_t>(Scene::COUNT),
              "a name for every scene");

// ---------------------------------------------------------------- edited sequences
// One shot of a timeline: from t0 until the next shot's t0 (scenes.h).
enum Fx { kNone = 0, kFadeIn, kFadeOut, kDissolve };
struct Shot {
  double t0;        // start, s
  Scene still;      // what is shown
  float gain;       // light multiplier
  Fx fx;            // fade / dissolve over the shot
  Scene other;      // kDissolve: the still dissolved to; a pan: the panorama's second
                    // still; `match`: the still whose log-mean the shot is graded to
  bool match;       // graded to `other`'s log-mean (a pan: `other` graded to `still`'s)
  float pan;        // frame widths per second, scrolling left over the panorama `still`
                    // | `other` (side by side, repeated)
  bool cut;         // a hard cut into this shot at t0 (from the timeline's previous shot;
                    // shot 0: from the last, when the timeline repeats)
};
constexpr double kFlashLen = 1.0 / 60.0;
const Shot kCutsShots[] = {
    {0.0, Scene::Interior, 1.0f, kNone, Scene::Interior, false, 0.0f, true},
    {kCutsTimes[0], Scene::Daylight, 1.0f, kNone, Scene::Interior, true, 0.0f, true},
    {kCutsTimes[1], Scene::Night, 1.0f, kNone, Scene::Night, false, 0.0f, true},
    {kCutsTimes[2], Scene::Interior, 1.0f, kNone, Scene::Interior, false, 0.0f, true},
    {kCutsTimes[3], Scene::Daylight, 1.0f, kNone, Scene::Daylight, false, 0.0f, true},
    {kCutsFlash, Scene::Daylight, 10.0f, kNone, Scene::Daylight, false, 0.0f, false},
    {kCutsFlash + kFlashLen, Scene::Daylight, 1.0f, kNone, Scene::Daylight, false, 0.0f, false},
};
const Shot kFadesShots[] = {
    {0.0, Scene::Night, 1.0f, kNone, Scene::Night, false, 0.0f, true},
    {1.0, Scene::Night, 1.0f, kFadeOut, Scene::Night, false, 0.0f, false},
    {2.0, Scene::Interior, 1.0f, kFadeIn, Scene::Interior, false, 0.0f, false},
    {3.0, Scene::Interior, 1.0f, kNone, Scene::Interior, false, 0.0f, false},
    {4.0, Scene::Interior, 1.0f, kDissolve, Scene::Daylight, false, 0.0f, false},
    {5.0, Scene::Daylight, 1.0f, kNone, Scene::Daylight, false, 0.0f, false},
};
const Shot kPanSlowShots[] = {{0.0, Scene::Interior, 1.0f, kNone, Scene::Daylight, true, float(kPanSlowSpeed), true}};
const Shot kPanFastShots[] = {{0.0, Scene::Night, 1.0f, kNone, Scene::Night, false, float(kPanFastSpeed), false}};

// The phase of a periodic timeline (negative times and NaN -> 0).
double phase(double t, double period) {
  double ph = std::fmod(t, period);
  if (!(ph >= 0.0)) ph = ph + period;
  if (!(ph >= 0.0 && ph < period)) ph = 0.0;
  return ph;
}

struct Timeline {
  const Shot* shots;
  int n;
  double period;
};
#define DTUTMO_SHOTS(a, period) Timeline{a, static_cast<int>(sizeof(a) / sizeof(a[0])), period}
// The timeline of a sequence scene; n = 0 for the others (edit is composed of these).
Timeline timeline(Scene s) {
  switch (s) {
    case Scene::Cuts: return DTUTMO_SHOTS(kCutsShots, kCutsPeriod);
    case Scene::Fades: return DTUTMO_SHOTS(kFadesShots, kFadesPeriod);
    case Scene::PanSlow: return DTUTMO_SHOTS(kPanSlowShots, kPanSlowPeriod);
    case Scene::PanFast: return DTUTMO_SHOTS(kPanFastShots, kPanFastPeriod);
    default: return Timeline{nullptr, 0, 0.0};
  }
}
#undef DTUTMO_SHOTS
const Scene kEditParts[4] = {Scene::Cuts, Scene::Fades, Scene::PanSlow, Scene::PanFast};
// The sequence of the edit reel playing at time t, and the time within it (*local).
Scene edit_part(double t, double* local) {
  double ph = phase(t, kEditPeriod);
  int k = 0;
  while (k < 3 && ph >= timeline(kEditParts[k]).period) ph -= timeline(kEditParts[k++]).period;
  *local = ph;
  return kEditParts[k];
}

// Rows of the panorama a | b (b = a: the still repeated) x gain (b also x gain_b), from
// column `off` of the panorama (0 <= off < 2 w), wrapping around, into dst (accumulated
// when `add`).
void emit(const Still& a, const Still& b, float gain, int off, bool add, float* rgb, std::ptrdiff_t stride,
          float gain_b = 1.0f) {
  const int w = a.w;
  for (int y = 0; y < a.h; ++y) {
    float* dst = rgb + y * stride;
    int x = 0, p = off;
    while (x < w) {  // runs within one still
      const Still& st = p < w ? a : b;
      const int col = p < w ? p : p - w;
      const int len = std::min(w - x, w - col);
      const float* src = st.rgb.data() + (static_cast<std::size_t>(y) * w + col) * 3;
      const float g = p < w ? gain : gain * gain_b;
      float* d = dst + static_cast<std::size_t>(x) * 3;
      for (int i = 0; i < 3 * len; ++i) d[i] = add ? d[i] + src[i] * g : src[i] * g;
      x += len;
      p = (p + len) % (2 * w);
    }
  }
}

// Render a timeline of `n` shots at `ph` seconds into it (0 <= ph < end).
void render_shots(const Shot* shots, int n, double end, int w, int h, double ph, Primaries prim,
                  float* rgb, std::ptrdiff_t stride) {
  int k = 0;
  while (k + 1 < n && ph >= shots[k + 1].t0) ++k;
  const Shot& sh = shots[k];
  const double t1 = k + 1 < n ? shots[k + 1].t0 : end;
  const double s = std::min(std::max((ph - sh.t0) / (t1 - sh.t0), 0.0), 1.0);  // progress
  const auto st = get_still(sh.still, w, h, prim);
  float gain = sh.gain;
  const auto other = get_still(sh.other, w, h, prim);
  const float match = static_cast<float>(std::exp2(other->log2_mean - st->log2_mean));
  if (sh.match && sh.pan == 0.0f) gain *= match;
  if (sh.fx == kFadeIn) gain *= static_cast<float>(std::pow(s, 2.4));
  if (sh.fx == kFadeOut) gain *= static_cast<float>(std::pow(1.0 - s, 2.4));
  if (sh.pan != 0.0f) {
    const long long px = std::llround(sh.pan * w * (ph - sh.t0));
    const int off = static_cast<int>(((px % (2 * w)) + 2 * w) % (2 * w));
    emit(*st, *other, gain, off, false, rgb, stride, sh.match ? 1.0f / match : 1.0f);
    return;
  }
  if (sh.fx == kDissolve) {
    emit(*st, *st, gain * static_cast<float>(1.0 - s), 0, false, rgb, stride);
    emit(*other, *other, gain * static_cast<float>(s), 0, true, rgb, stride);
    return;
  }
  emit(*st, *st, gain, 0, false, rgb, stride);
}


}  // namespace

const char* scene_name(Scene s) {
  const int i = static_cast<int>(s);
  return (i >= 0 && i < static_cast<int>(Scene::COUNT)) ? kNames[i] : "unknown";
}

bool scene_from_name(const char* name, Scene* out) {
  if (!name) return false;
  for (int i = 0; i < static_cast<int>(Scene::COUNT); ++i) {
    // Accept dashes or underscores, any case.
    const char* a = kNames[i];
    const char* b = name;
    while (*a && *b) {
      const char ca = *a == '_' ? '-' : *a;
      char cb = *b == '_' ? '-' : *b;
      if (cb >= 'A' && cb <= 'Z') cb = static_cast<char>(cb - 'A' + 'a');
      if (ca != cb) break;
      ++a;
      ++b;
    }
    if (!*a && !*b) {
      if (out) *out = static_cast<Scene>(i);
      return true;
    }
  }
  return false;
}

void render_scene(Scene s, int width, int height, double t, float* rgb, std::ptrdiff_t stride_floats,
                  Primaries prim) {
  if (width < 1 || height < 1 || !rgb) return;
  if (static_cast<int>(s) < 0 || static_cast<int>(s) >= static_cast<int>(Scene::COUNT)) s = Scene::Daylight;
  Scene still = s;
  float gain = 1.0f;
  if (s == Scene::Edit) s = edit_part(t, &t);  // the reel: each sequence in turn
  const Timeline tl = timeline(s);
  if (tl.n > 0) return render_shots(tl.shots, tl.n, tl.period, width, height, phase(t, tl.period), prim, rgb, stride_floats);
  if (s == Scene::Animated) {
    const double ph = phase(t, kAnimatedPeriod);
    if (ph < 2.0) {
      still = Scene::Interior;
      gain = static_cast<float>(std::pow(10.0, ph - 1.0));  // 0.1 .. 10, log-linear
    } else if (ph < kAnimatedCut) {
      still = Scene::Daylight;
    } else {
      still = Scene::Night;
    }
  }
  const auto st = get_still(still, width, height, prim);
  const std::size_t row = static_cast<std::size_t>(width) * 3;
  for (int y = 0; y < height; ++y) {
    const float* src = st->rgb.data() + y * row;
    float* dst = rgb + y * stride_floats;
    if (gain == 1.0f)
      std::memcpy(dst, src, row * sizeof(float));
    else
      for (std::size_t i = 0; i < row; ++i) dst[i] = src[i] * gain;
  }
}

double scene_period(Scene s) {
  if (s == Scene::Animated) return kAnimatedPeriod;
  if (s == Scene::Edit) return kEditPeriod;
  return timeline(s).period;
}

std::vector<double> scene_cuts(Scene s) {
  std::vector<double> out;
  if (s == Scene::Animated) out.push_back(kAnimatedCut);
  double base = 0.0;
  for (int k = 0; k < 4; ++k) {
    const Scene part = s == Scene::Edit ? kEditParts[k] : s;
    const Timeline tl = timeline(part);
    for (int i = 0; i < tl.n; ++i)  // in the reel every sequence starts with a cut
      if (tl.shots[i].cut || (s == Scene::Edit && i == 0)) out.push_back(base + tl.shots[i].t0);
    if (s != Scene::Edit) break;
    base += tl.period;
  }
  return out;
}

bool scene_pans(Scene s, double t) {
  if (s == Scene::Edit) s = edit_part(t, &t);
  const Timeline tl = timeline(s);
  if (tl.n == 0) return false;
  const double ph = phase(t, tl.period);
  int k = 0;
  while (k + 1 < tl.n && ph >= tl.shots[k + 1].t0) ++k;
  return tl.shots[k].pan != 0.0f;
}

}  // namespace dtutmo
