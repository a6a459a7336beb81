// dtutmo -- a video sequence through the CPU engine, with and without its temporal state:
// the ghost measure (metrics.h, ghost()) and the per-frame numbers of `dtutmo-quality
// --video` and of the temporal tests (tests/quality/test_temporal.cpp).
//
// Each frame is processed by an engine that keeps its state (what the element does) and,
// for the ghost measure, by a second engine whose state is reset before every frame
// (each frame fully adapted to itself: every time constant 0, no history). Output: sRGB
// code values as floats (RGBF32, no dither), so that the ghost measure sees no
// quantisation; the 8-bit picture is those codes rounded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dtutmo/engine.h"
#include "dtutmo/params.h"
#include "metrics.h"

namespace dtutmo {
namespace quality {

struct VideoFrame {
  double mean_luma = 0.0;     // mean code luma of the output with state (0..255, unrounded)
  double ghost = 0.0;         // metrics.h ghost(), bands 0.5 log2 (0 without the measure)
  double ghost_linear = 0.0;  // the same with one least-squares line
  EngineStats stats;          // of the engine with state (cut_detected, adaptation, ...)
};

class VideoRunner {
 public:
  // Input: packed RGBF32 linear BT.709 in cd/m^2 (`p010` false: input-scale is set to 1)
  // or P010 HDR10 (PQ, BT.2020, limited range). `with_ghost` adds the reset engine.
  bool init(int width, int height, Params p, bool p010, bool with_ghost, std::string* err);
  // One frame at time t (s). `in`: RGBF32 (3 floats a pixel) or P010 (Y plane, then CbCr).
  bool step(uint8_t* in, double t, VideoFrame* out, std::string* err);
  // The last output with state, 8-bit codes (float codes rounded).
  void image8(Image8* out) const;
  // The last output fully adapted to itself (with the ghost measure), the same way.
  void instant_image8(Image8* out) const;
  // The last output with state, sRGB float codes (3 a pixel).
  const std::vector<float>& codes() const { return state_out_; }
  Engine& engine() { return *state_; }

 private:
  int w_ = 0, h_ = 0;
  bool p010_ = false;
  std::unique_ptr<Engine> state_, instant_;
  std::vector<float> state_out_, instant_out_, ys_, yi_;
};

// Display-relative linear luminance (BT.709 Y of the sRGB-decoded codes) of float codes.
void codes_to_luminance(const std::vector<float>& codes, std::vector<float>* y);

}  // namespace quality
}  // namespace dtutmo
