// dtutmo -- procedural HDR scenes with known absolute luminances (cd/m^2).
//
// Deterministic (no global RNG, same output for the same arguments on every machine),
// for tests, demos and benchmarks. Scenes are defined in linear BT.709 RGB and can be
// rendered in BT.2020 primaries (the same colours, converted).
#pragma once

#include <cstddef>

#include "dtutmo/frame.h"

namespace dtutmo {

enum class Scene : int {
  Daylight = 0,   // sun disc >= 1e5 cd/m^2, sky ~5e3, sunlit ground ~2e3, deep shadow ~10
  Interior,       // room ~20-100 cd/m^2 with a bright window ~5e3 and a view outside
  Night,          // street: ambient <= 0.1 cd/m^2, lamps ~1e4 at their cores
  ColoredLights,  // saturated red/green/blue/amber lights 10..1e4 cd/m^2 on a dark wall
  FineDetail,     // text-like strokes and gratings at several contrasts and sizes
  SkyGradient,    // smooth sky gradient (banding check), horizon ~3e3, zenith ~800
  Animated,       // light level ramps over time, then cuts day -> night (see below)
  COUNT
};

// Animated: t in seconds; 0-2 s an interior whose light ramps x100 (log-linear),
// 2-4 s daylight, a hard cut at t = 4 s to the night street, 4-6 s night. Periodic
// with period 6 s.
constexpr double kAnimatedPeriod = 6.0;
constexpr double kAnimatedCut = 4.0;

const char* scene_name(Scene s);           // "daylight", "interior", ... (lower case)
bool scene_from_name(const char* name, Scene* out);

// Render a scene: packed linear RGB float, 3 floats per pixel, rows `stride_floats` apart,
// in absolute cd/m^2 (Y of the RGB is the luminance). `t` is the time in seconds (only
// the animated scene moves). Any size >= 1x1.
void render_scene(Scene s, int width, int height, double t, float* rgb,
                  std::ptrdiff_t stride_floats, Primaries prim = Primaries::BT709);

}  // namespace dtutmo
