// dtutmo -- procedural HDR scenes with known absolute luminances (cd/m^2).
//
// Deterministic (no global RNG, same output for the same arguments on every machine),
// for tests, demos and benchmarks. Scenes are defined in linear BT.709 RGB and can be
// rendered in BT.2020 primaries (the same colours, converted).
#pragma once

#include <cstddef>
#include <vector>

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
  // Edited sequences for the temporal behaviour (cuts, fades, flash, pans; see below).
  Cuts,           // hard cuts between shots of similar and of very different levels, a flash
  Fades,          // fade to black, fade in from black, a cross-dissolve
  PanSlow,        // slow pan from the interior (window mullions against the sky) to daylight
  PanFast,        // fast pan over the night street (lamps, lit windows)
  Edit,           // all of the above in one reel (the HDR10 test clip)
  COUNT
};

// Animated: t in seconds; 0-2 s an interior whose light ramps x100 (log-linear),
// 2-4 s daylight, a hard cut at t = 4 s to the night street, 4-6 s night. Periodic
// with period 6 s.
constexpr double kAnimatedPeriod = 6.0;
constexpr double kAnimatedCut = 4.0;

// The edited sequences are timelines of the static scenes (periodic; t in seconds). A
// pan scrolls to the left over a panorama of two stills side by side (A | B | A | B ...,
// each frame-sized: new content enters at the right edge), offset rounded to whole
// pixels. A fade scales the
// light by s^2.4 (s the fade's progress; what a linear fade of gamma-2.4 code values
// does). A flash is x10 for 1/60 s: exactly one frame at any frame rate from 24 to 60
// fps when a frame lands in it (the flash starts on a whole second).
//   cuts (8 s):  0 interior | 1.5 daylight graded to the interior's log-mean (similar
//                level, different picture) | 3 night (far darker) | 4.5 interior (far
//                brighter) | 6 daylight (brighter) | 7.0 a one-frame flash x10 | daylight.
//   fades (6 s): 0 night | 1-2 fade to black | 2-3 fade in the interior from black | 3
//                interior | 4-5 cross-dissolve (linear light) to daylight | 5 daylight.
//   pan-slow (8 s): 1/8 of the frame width per second from the interior to the daylight
//                   graded to the interior's log-mean (new content of a similar level
//                   enters: window mullions against the sky, the sunlit house), then a cut
//                   back to the start.
//   pan-fast (4 s): 1/2 of the frame width per second over the night street, repeated
//                   side by side (lamps, lit windows; seamless when it repeats).
//   edit (26 s): cuts (0-8), fades (8-14), pan-slow (14-22), pan-fast (22-26).
constexpr double kCutsPeriod = 8.0, kFadesPeriod = 6.0, kPanSlowPeriod = 8.0, kPanFastPeriod = 4.0;
constexpr double kEditPeriod = kCutsPeriod + kFadesPeriod + kPanSlowPeriod + kPanFastPeriod;
// Cut instants of the cuts sequence (s), the flash frame's start, the pans' speeds
// (frame widths per second).
constexpr double kCutsTimes[4] = {1.5, 3.0, 4.5, 6.0};
constexpr double kCutsFlash = 7.0;
constexpr double kPanSlowSpeed = 1.0 / 8.0, kPanFastSpeed = 0.5;

const char* scene_name(Scene s);           // "daylight", "interior", ... (lower case)
bool scene_from_name(const char* name, Scene* out);

// A sequence's period, s (0 for the static scenes).
double scene_period(Scene s);
// The hard cuts of a sequence within one period, s from its start (another picture: not
// the flash, a fade or a dissolve); 0 when the wrap from its end is one (cuts, fades,
// pan-slow; pan-fast repeats seamlessly). Empty for the static scenes.
std::vector<double> scene_cuts(Scene s);
// Whether a sequence is panning at time t.
bool scene_pans(Scene s, double t);

// Render a scene: packed linear RGB float, 3 floats per pixel, rows `stride_floats` apart,
// in absolute cd/m^2 (Y of the RGB is the luminance). `t` is the time in seconds (only
// the animated scene moves). Any size >= 1x1.
void render_scene(Scene s, int width, int height, double t, float* rgb,
                  std::ptrdiff_t stride_floats, Primaries prim = Primaries::BT709);

}  // namespace dtutmo
