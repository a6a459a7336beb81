// dtutmo tests -- the first frame after a cut against a fresh engine's first frame of the
// same picture, for any engine (plain C++ and GoogleTest; the CUDA engine in
// test_cuda_parity.cpp, the CPU engine in test_cuda_model_host.cpp, where it runs
// without a GPU and shows what the check catches).
//
// Balanced (optics on), broadcast: daylight for 10 frames at 30 fps, then a hard cut to the
// night street. A detected cut snaps the adaptation, so the cut's first frame must look as
// a fresh engine's first night frame does; but the glare cap is smoothed and the optics
// that use it run before the cut detector, so without the frame made again with the glare
// state snapped (model.h glare_cut_redo) the night kept the day's cap.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dtutmo/engine.h"
#include "dtutmo/scenes.h"

namespace dtutmo_test {

struct CutFrameDiff {
  bool cut_detected = false;     // the engine's report on the cut's first frame
  std::size_t bytes = 0;         // output bytes compared
  std::size_t off = 0;           // bytes more than 1 code from the fresh engine's
  int worst = 0;                 // largest difference, codes
};

// `make` gives a new engine (null: the test has failed already). Output RGBA, sRGB.
inline CutFrameDiff cut_frame_against_fresh(const std::function<std::unique_ptr<dtutmo::Engine>()>& make,
                                            dtutmo::Precision prec = dtutmo::Precision::FP16, int w = 160,
                                            int h = 90) {
  using namespace dtutmo;
  Params p = params_for_profile(Profile::Balanced);
  p.adaptation = AdaptationMode::Broadcast;
  p.input_scale = 1.0f;
  p.precision = prec;
  StreamConfig c;
  c.width = w;
  c.height = h;
  c.in_format = PixelFormat::RGBF32;
  c.in.transfer = Transfer::Linear;
  c.out_format = PixelFormat::RGBA;
  c.out.transfer = Transfer::SRGB;
  CutFrameDiff r;
  std::string err;
  auto start = [&](std::unique_ptr<Engine>& e) {
    e = make();
    if (!e) return false;
    EXPECT_TRUE(e->set_params(p, &err)) << err;
    EXPECT_TRUE(e->configure(c, &err)) << err;
    return err.empty();
  };
  std::unique_ptr<Engine> played, fresh;
  if (!start(played) || !start(fresh)) {
    ADD_FAILURE() << "engine: " << err;
    return r;
  }
  std::vector<float> day(std::size_t(w) * h * 3), night(day.size());
  render_scene(Scene::Daylight, w, h, 0.0, day.data(), std::ptrdiff_t(w) * 3);
  render_scene(Scene::Night, w, h, 0.0, night.data(), std::ptrdiff_t(w) * 3);
  std::vector<uint8_t> a(packed_size(c.out_format, w, h)), b(a.size());
  const FrameView va = packed_view(c.out_format, w, h, a.data()), vb = packed_view(c.out_format, w, h, b.data());
  const FrameView vday = packed_view(c.in_format, w, h, reinterpret_cast<uint8_t*>(day.data()));
  const FrameView vnight = packed_view(c.in_format, w, h, reinterpret_cast<uint8_t*>(night.data()));
  const int n = 10;
  for (int f = 0; f < n; ++f)
    if (!played->process(vday, va, f / 30.0, &err)) {
      ADD_FAILURE() << err;
      return r;
    }
  if (!played->process(vnight, va, n / 30.0, &err) || !fresh->process(vnight, vb, 0.0, &err)) {
    ADD_FAILURE() << err;
    return r;
  }
  r.cut_detected = played->stats().cut_detected;
  r.bytes = a.size();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const int d = std::abs(int(a[i]) - int(b[i]));
    r.worst = std::max(r.worst, d);
    if (d > 1) ++r.off;
  }
  return r;
}

// The cut is detected and its first frame is the fresh engine's: within 1 code on all but
// 0.1 % of the bytes (without the redo, the CPU engine: see test_cuda_model_host.cpp);
// `exact`: byte for byte.
inline void expect_cut_frame_as_fresh(const CutFrameDiff& r, const std::string& what, bool exact = false) {
  EXPECT_TRUE(r.cut_detected) << what << ": the day -> night cut is not detected";
  EXPECT_GT(r.bytes, 0u) << what;
  if (exact) {
    EXPECT_EQ(r.worst, 0) << what << ": the cut's first frame differs from a fresh engine's";
  }
  EXPECT_LE(double(r.off), 0.001 * double(r.bytes))
      << what << ": the cut's first frame differs from a fresh engine's on " << r.off << " of " << r.bytes
      << " bytes by more than 1 code (worst " << r.worst << ")";
}

}  // namespace dtutmo_test
