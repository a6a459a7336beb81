// dtutmo -- video that holds up over time (issue 9): the edited sequences of scenes.h
// (cuts, fades, a flash, pans) through the CPU engine with its temporal state, measured
// against the same frames each fully adapted to itself (tools/quality/video.h, the ghost
// measure of metrics.h). 256x144 at 30 fps, the fast profile (the element's default).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "dtutmo/params.h"
#include "dtutmo/scenes.h"
#include "video.h"

using namespace dtutmo;
using namespace dtutmo::quality;

namespace {

constexpr int kW = 256, kH = 144;
constexpr double kFps = 30.0;
constexpr double kGhostMax = 0.05;  // log2; below it an imprint is not visible (MODEL.md)

struct Seq {
  std::vector<VideoFrame> f;
  std::vector<double> t;
};

Seq run_uncached(Scene s, double seconds, AdaptationMode mode, bool with_ghost,
                 Profile profile = Profile::Fast) {
  Params p = params_for_profile(profile);
  p.adaptation = mode;
  VideoRunner vr;
  std::string err;
  Seq r;
  EXPECT_TRUE(vr.init(kW, kH, p, false, with_ghost, &err)) << err;
  std::vector<float> in(size_t(kW) * kH * 3);
  const int n = int(std::lround(seconds * kFps));
  for (int k = 0; k < n; ++k) {
    const double t = k / kFps;
    render_scene(s, kW, kH, t, in.data(), kW * 3);
    VideoFrame f;
    EXPECT_TRUE(vr.step(reinterpret_cast<uint8_t*>(in.data()), t, &f, &err)) << err;
    r.f.push_back(f);
    r.t.push_back(t);
  }
  return r;
}

// One period of a sequence, run once for all the tests (a run with the ghost measure
// also serves those without).
const Seq& run(Scene s, AdaptationMode mode, bool with_ghost = true) {
  static std::map<std::pair<int, int>, std::pair<bool, Seq>> cache;
  auto& e = cache[{int(s), int(mode)}];
  if (e.second.f.empty() || (with_ghost && !e.first)) e = {with_ghost, run_uncached(s, scene_period(s), mode, with_ghost)};
  return e.second;
}

const char* mode_name(AdaptationMode m) { return m == AdaptationMode::Broadcast ? "broadcast" : "natural"; }

// Frame indices of the first frames of a timeline's hard cuts (frame 0 excluded).
std::vector<int> cut_frames(Scene s, int n) {
  std::vector<int> out;
  for (double c : scene_cuts(s)) {
    const int k = int(std::ceil(c * kFps - 1e-9));
    if (k > 0 && k < n) out.push_back(k);
  }
  return out;
}
bool contains(const std::vector<int>& v, int k) { return std::find(v.begin(), v.end(), k) != v.end(); }

const int kFlashFrame = int(std::lround(kCutsFlash * kFps));

}  // namespace

// Every frame of the cuts sequence `r` but the flash below kGhostMax; prints the worst.
static void expect_no_afterimage_after_cuts(const Seq& r, const char* label) {
  double worst = 0.0;
  int worst_at = -1;
  for (size_t k = 0; k < r.f.size(); ++k) {
    if (int(k) == kFlashFrame) continue;
    if (r.f[k].ghost > worst) {
      worst = r.f[k].ghost;
      worst_at = int(k);
    }
    EXPECT_LT(r.f[k].ghost, kGhostMax) << label << " frame " << k;
  }
  std::printf("cuts, %s: worst ghost %.4f (frame %d)\n", label, worst, worst_at);
}

// No afterimage, broadcast mode: after every cut -- similar levels, far darker, far
// brighter -- no frame carries structure of the previous shot: each is rendered as if
// fully adapted to itself. The flash frame is left out: it is not taken as a cut (x10 is
// not above cut-threshold and its shape is unchanged), so it is shown with the previous
// adaptation (a flash, as it should look), and nothing of it remains afterwards.
TEST(TemporalVideo, NoAfterimageAfterCutsBroadcast) {
  expect_no_afterimage_after_cuts(run(Scene::Cuts, AdaptationMode::Broadcast), "broadcast");
}

// The same in the balanced profile, whose glare cap (optics) is smoothed over time before
// the cut detector runs: without the frame made again with the glare state snapped on a
// cut (CpuEngine::process), the first night frame kept the day's cap (ghost 0.26).
TEST(TemporalVideo, NoAfterimageAfterCutsBroadcastBalanced) {
  const Seq r = run_uncached(Scene::Cuts, scene_period(Scene::Cuts), AdaptationMode::Broadcast, true,
                             Profile::Balanced);
  const std::vector<int> cuts = cut_frames(Scene::Cuts, int(r.f.size()));
  ASSERT_EQ(cuts.size(), 4u);
  for (int k : cuts) EXPECT_TRUE(r.f[k].stats.cut_detected) << "cut at frame " << k;
  expect_no_afterimage_after_cuts(r, "broadcast, balanced");
}

// No afterimage, natural mode: the eye re-adapts over cone-tau, rod-tau and range-tau, so
// the frames after a cut differ from fully adapted ones (the level lags, by design); but
// they must not depend on the previous shot's LAYOUT. Control: the same cut with the
// previous shot mirrored left-right (the same statistics: log-mean, histograms and
// response range; only the layout differs). Every frame of the 2 s after the cut matches
// the control. (With a per-cell adaptation state the mirrored shot's bright and dark
// regions were imprinted: 0.3-0.6 here.)
TEST(TemporalVideo, NoAfterimageAfterCutsNatural) {
  Params p = params_for_profile(Profile::Fast);
  p.adaptation = AdaptationMode::Natural;
  std::vector<float> prev(size_t(kW) * kH * 3), next(prev.size()), mirrored(prev.size()), in(prev.size());
  for (int c = 0; c < 4; ++c) {
    // the shots around cut c as the cuts sequence renders them
    render_scene(Scene::Cuts, kW, kH, kCutsTimes[c] - 0.5, prev.data(), kW * 3);
    render_scene(Scene::Cuts, kW, kH, kCutsTimes[c], next.data(), kW * 3);
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x)
        for (int ch = 0; ch < 3; ++ch)
          mirrored[(size_t(y) * kW + x) * 3 + ch] = prev[(size_t(y) * kW + (kW - 1 - x)) * 3 + ch];
    VideoRunner real, control;
    std::string err;
    ASSERT_TRUE(real.init(kW, kH, p, false, false, &err)) << err;
    ASSERT_TRUE(control.init(kW, kH, p, false, false, &err)) << err;
    std::vector<float> ya, yb;
    double worst = 0.0;
    for (int k = 0; k < 90; ++k) {  // 1 s of the previous shot, then 2 s of the new one
      const bool after = k >= 30;
      VideoFrame fa, fb;
      in = after ? next : prev;
      ASSERT_TRUE(real.step(reinterpret_cast<uint8_t*>(in.data()), k / kFps, &fa, &err)) << err;
      in = after ? next : mirrored;
      ASSERT_TRUE(control.step(reinterpret_cast<uint8_t*>(in.data()), k / kFps, &fb, &err)) << err;
      if (!after) continue;
      codes_to_luminance(real.codes(), &ya);
      codes_to_luminance(control.codes(), &yb);
      const double gh = ghost(ya, yb);
      worst = std::max(worst, gh);
      EXPECT_LT(gh, kGhostMax) << "cut " << c << " frame " << k - 30 << " after";
    }
    std::printf("natural, cut %d: worst ghost against the mirrored-previous-shot control %.4f\n", c, worst);
  }
}

// No trail: moving edges (mullions against the sky, lamps at night) leave nothing behind,
// in either mode.
TEST(TemporalVideo, NoTrailInPans) {
  // natural mode renders pans as broadcast mode does when no cut is detected in them
  // (BroadcastCatchesEveryCutOnItsFirstFrame checks that none is)
  for (AdaptationMode m : {AdaptationMode::Broadcast})
    for (Scene s : {Scene::PanSlow, Scene::PanFast}) {
      const Seq& r = run(s, m);
      double worst = 0.0;
      for (size_t k = 0; k < r.f.size(); ++k) {
        worst = std::max(worst, r.f[k].ghost);
        EXPECT_LT(r.f[k].ghost, kGhostMax) << scene_name(s) << " " << mode_name(m) << " frame " << k;
      }
      std::printf("%s, %s: worst ghost %.4f\n", scene_name(s), mode_name(m), worst);
    }
}

// Broadcast mode catches every hard cut on its first frame, the similar-level one too
// (interior -> daylight graded to the interior's log-mean), and takes nothing else for a
// cut in the cuts sequence and the pans (the x10 flash is no cut: its shape does not
// change and x10 is not above cut-threshold). Fades: the fade to black and the fade in
// are no cut, except the first frame after the pure black one (black has no shape to
// compare; the level jumps by ~7 stops); a linear-light dissolve into a 30x brighter
// shot may be one on its first frame (DESIGN.md, "Cut detection").
TEST(TemporalVideo, BroadcastCatchesEveryCutOnItsFirstFrame) {
  const Seq& r = run(Scene::Cuts, AdaptationMode::Broadcast, false);
  const std::vector<int> cuts = cut_frames(Scene::Cuts, int(r.f.size()));
  ASSERT_EQ(cuts.size(), 4u);
  for (int k : cuts) EXPECT_TRUE(r.f[k].stats.cut_detected) << "cut at frame " << k;
  for (size_t k = 0; k < r.f.size(); ++k) {
    if (!contains(cuts, int(k))) {
      EXPECT_FALSE(r.f[k].stats.cut_detected) << "frame " << k;
    }
  }
  for (Scene s : {Scene::PanSlow, Scene::PanFast}) {
    const Seq& pan = run(s, AdaptationMode::Broadcast, false);
    for (size_t k = 1; k < pan.f.size(); ++k) EXPECT_FALSE(pan.f[k].stats.cut_detected) << scene_name(s) << " " << k;
  }
  const Seq& fades = run(Scene::Fades, AdaptationMode::Broadcast, false);
  for (size_t k = 1; k < fades.f.size(); ++k) {
    const double t = fades.t[k];
    const bool after_black = t > 2.0 && t < 2.0 + 1.5 / kFps, dissolve_start = t > 4.0 && t < 4.0 + 1.5 / kFps;
    if (after_black || dissolve_start) continue;
    EXPECT_FALSE(fades.f[k].stats.cut_detected) << "fades frame " << k << " t " << t;
  }
}

// No pumping: outside cuts (and their re-adaptation in natural mode), fades and the flash,
// the mean output luma never steps by more than 3 codes between frames -- on holds and
// during pans, where content enters and leaves the frame.
TEST(TemporalVideo, NoPumping) {
  for (AdaptationMode m : {AdaptationMode::Natural, AdaptationMode::Broadcast}) {
    for (Scene s : {Scene::Cuts, Scene::PanSlow, Scene::PanFast}) {
      const Seq& r = run(s, m, false);
      const std::vector<int> cuts = cut_frames(s, int(r.f.size()));
      // natural mode: the eye re-adapts after a cut (cone-tau 0.1 s, range-tau 0.5 s);
      // the first second after it is the re-adaptation, not pumping
      const int settle = m == AdaptationMode::Natural ? int(1.0 * kFps) : 1;
      double worst = 0.0;
      for (size_t k = 1; k < r.f.size(); ++k) {
        bool skip = s == Scene::Cuts && (int(k) == kFlashFrame || int(k) == kFlashFrame + 1);
        for (int c : cuts) skip = skip || (int(k) >= c && int(k) < c + settle);
        if (skip) continue;
        const double step = std::fabs(r.f[k].mean_luma - r.f[k - 1].mean_luma);
        worst = std::max(worst, step);
        EXPECT_LE(step, 3.0) << scene_name(s) << " " << mode_name(m) << " frame " << k;
      }
      std::printf("%s, %s: largest step outside cuts %.2f codes\n", scene_name(s), mode_name(m), worst);
    }
  }
}

// Broadcast mode: a cut's first frame looks as the new shot does fully adapted (no flash
// frame with the old adaptation): its mean is within 1 code of the reset engine's.
TEST(TemporalVideo, BroadcastCutFirstFrameIsFullyAdapted) {
  Params p = params_for_profile(Profile::Fast);
  p.adaptation = AdaptationMode::Broadcast;
  VideoRunner vr, fresh;
  std::string err;
  ASSERT_TRUE(vr.init(kW, kH, p, false, false, &err)) << err;
  std::vector<float> in(size_t(kW) * kH * 3);
  const int n = int(std::lround(kCutsPeriod * kFps));
  const std::vector<int> cuts = cut_frames(Scene::Cuts, n);
  for (int k = 0; k < n; ++k) {
    render_scene(Scene::Cuts, kW, kH, k / kFps, in.data(), kW * 3);
    VideoFrame f, g;
    ASSERT_TRUE(vr.step(reinterpret_cast<uint8_t*>(in.data()), k / kFps, &f, &err)) << err;
    if (!contains(cuts, k)) continue;
    ASSERT_TRUE(fresh.init(kW, kH, p, false, false, &err)) << err;
    ASSERT_TRUE(fresh.step(reinterpret_cast<uint8_t*>(in.data()), k / kFps, &g, &err)) << err;
    EXPECT_NEAR(f.mean_luma, g.mean_luma, 1.0) << "cut at frame " << k;
  }
}
