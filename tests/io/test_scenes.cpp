// Procedural scenes (scenes.h): deterministic, documented luminance levels, any size.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "dtutmo/color.h"
#include "dtutmo/scenes.h"

using namespace dtutmo;

namespace {

struct Img {
  int w, h;
  std::vector<float> rgb;
  float Y(int x, int y) const {
    const float* p = &rgb[(static_cast<std::size_t>(y) * w + x) * 3];
    return 0.2126390f * p[0] + 0.7151687f * p[1] + 0.0721923f * p[2];
  }
  std::vector<float> lums() const {
    std::vector<float> v;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) v.push_back(Y(x, y));
    return v;
  }
};

Img render(Scene s, int w, int h, double t = 0.0, Primaries p = Primaries::BT709) {
  Img im{w, h, std::vector<float>(static_cast<std::size_t>(w) * h * 3, -1.0f)};
  render_scene(s, w, h, t, im.rgb.data(), 3 * w, p);
  return im;
}

float pct(std::vector<float> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * (v.size() - 1))];
}

const int kW = 480, kH = 270;

}  // namespace

TEST(Scenes, Names) {
  for (int i = 0; i < static_cast<int>(Scene::COUNT); ++i) {
    Scene s;
    ASSERT_TRUE(scene_from_name(scene_name(static_cast<Scene>(i)), &s));
    EXPECT_EQ(static_cast<int>(s), i);
  }
  Scene s;
  EXPECT_TRUE(scene_from_name("colored_lights", &s));
  EXPECT_EQ(s, Scene::ColoredLights);
  EXPECT_TRUE(scene_from_name("Daylight", &s));
  EXPECT_FALSE(scene_from_name("daylightx", &s));
  EXPECT_FALSE(scene_from_name("", &s));
  EXPECT_STREQ(scene_name(Scene::Night), "night");
}

// Same arguments, same bits; every value finite and non-negative; strides honoured.
TEST(Scenes, DeterministicFiniteAndStrided) {
  for (int i = 0; i < static_cast<int>(Scene::COUNT); ++i) {
    const Scene s = static_cast<Scene>(i);
    SCOPED_TRACE(scene_name(s));
    const Img a = render(s, 97, 61, 0.5);
    const Img b = render(s, 97, 61, 0.5);
    EXPECT_EQ(0, std::memcmp(a.rgb.data(), b.rgb.data(), a.rgb.size() * sizeof(float)));
    for (float v : a.rgb) {
      ASSERT_TRUE(std::isfinite(v));
      ASSERT_GE(v, 0.0f);
    }
    // Padded rows: the padding is not touched and the pixels equal the tight render.
    const int pad = 5;
    std::vector<float> padded(static_cast<std::size_t>(97 * 3 + pad) * 61, -7.0f);
    render_scene(s, 97, 61, 0.5, padded.data(), 97 * 3 + pad);
    for (int y = 0; y < 61; ++y) {
      EXPECT_EQ(0, std::memcmp(&padded[y * (97 * 3 + pad)], &a.rgb[y * 97 * 3], 97 * 3 * sizeof(float)));
      for (int k = 0; k < pad && y < 60; ++k) ASSERT_EQ(padded[y * (97 * 3 + pad) + 97 * 3 + k], -7.0f);
    }
  }
}

TEST(Scenes, TinyAndOddSizes) {
  const int sizes[][2] = {{1, 1}, {1, 7}, {7, 1}, {3, 5}, {17, 9}};
  for (int i = 0; i < static_cast<int>(Scene::COUNT); ++i)
    for (const auto& sz : sizes) {
      const Img im = render(static_cast<Scene>(i), sz[0], sz[1], 3.0);
      for (float v : im.rgb) {
        ASSERT_TRUE(std::isfinite(v));
        ASSERT_GE(v, 0.0f);
      }
    }
}

TEST(Scenes, DaylightLevels) {
  const Img im = render(Scene::Daylight, kW, kH);
  const std::vector<float> L = im.lums();
  EXPECT_GE(*std::max_element(L.begin(), L.end()), 1e5f);  // sun disc
  // Sun core where documented (u 0.72, v 0.14).
  EXPECT_GE(im.Y(static_cast<int>(0.72f * kW), static_cast<int>(0.14f * kH)), 1e5f);
  // Deep shadow (the doorway) present: some pixels between 3 and 30.
  const float lo = *std::min_element(L.begin(), L.end());
  EXPECT_GE(lo, 3.0f);
  EXPECT_LE(lo, 15.0f);
  EXPECT_GT(std::count_if(L.begin(), L.end(), [](float y) { return y < 30.0f; }), kW * kH / 200);
  // Sky near the top ~3.5e3-6e3, sunlit ground ~2e3 (median of the bottom band).
  EXPECT_GT(im.Y(kW / 2, 2), 2000.0f);
  EXPECT_LT(im.Y(kW / 2, 2), 9000.0f);
  const float med = pct(L, 0.5);
  EXPECT_GT(med, 1000.0f);
  EXPECT_LT(med, 5000.0f);
  // Dynamic range of at least 4 decades.
  EXPECT_GT(std::log10(pct(L, 1.0) / pct(L, 0.0)), 4.0);
}

TEST(Scenes, InteriorLevels) {
  const Img im = render(Scene::Interior, kW, kH);
  const std::vector<float> L = im.lums();
  const float med = pct(L, 0.5);
  EXPECT_GE(med, 20.0f);
  EXPECT_LE(med, 100.0f);
  // The window's sky (upper pane) ~5e3.
  const float sky = im.Y(static_cast<int>(0.6f * kW), static_cast<int>(0.2f * kH));
  EXPECT_GT(sky, 3000.0f);
  EXPECT_LT(sky, 9000.0f);
  EXPECT_GT(pct(L, 0.99), 3000.0f);
}

TEST(Scenes, NightLevels) {
  const Img im = render(Scene::Night, kW, kH);
  const std::vector<float> L = im.lums();
  EXPECT_LE(pct(L, 0.5), 0.1f);   // ambient
  EXPECT_LE(pct(L, 0.25), 0.05f);
  EXPECT_GT(pct(L, 0.0), 0.0f);   // never pure black
  EXPECT_GE(*std::max_element(L.begin(), L.end()), 1e4f);  // lamp cores
  EXPECT_GE(im.Y(static_cast<int>(0.5f * kW), static_cast<int>(0.3f * kH)), 1e4f);
}

TEST(Scenes, ColoredLightsAreSaturatedAndSpanDecades) {
  const Img im = render(Scene::ColoredLights, kW, kH);
  const std::vector<float> L = im.lums();
  EXPECT_LE(pct(L, 0.3), 3.0f);  // a dark wall
  // Lamp cores, row 3 (1e4) and row 0 (10): red and blue are saturated.
  const auto at = [&](float u, float v) { return &im.rgb[(static_cast<int>(v * kH) * kW + static_cast<int>(u * kW)) * 3]; };
  const float* red = at(0.14f, 0.81f);
  EXPECT_GT(red[0], 20.0f * red[1]);
  EXPECT_GT(red[0], 20.0f * red[2]);
  const float* blue = at(0.5f, 0.81f);
  EXPECT_GT(blue[2], 10.0f * blue[0]);
  EXPECT_GT(blue[2], 10.0f * blue[1]);
  EXPECT_NEAR(im.Y(static_cast<int>(0.32f * kW), static_cast<int>(0.81f * kH)), 1e4f, 2e3f);
  EXPECT_NEAR(im.Y(static_cast<int>(0.32f * kW), static_cast<int>(0.15f * kH)), 10.0f, 3.0f);
  EXPECT_GE(*std::max_element(L.begin(), L.end()), 9e3f);
}

TEST(Scenes, FineDetailHasStrokesAtSeveralContrasts) {
  const Img im = render(Scene::FineDetail, kW, kH);
  // The high-contrast text block: paper ~200 and ink well below.
  std::vector<float> blk;
  for (int y = 0; y < kH / 3; ++y)
    for (int x = 0; x < kW / 3; ++x) blk.push_back(im.Y(x, y));
  EXPECT_NEAR(pct(blk, 0.9), 200.0f, 15.0f);
  EXPECT_LT(pct(blk, 0.02), 30.0f);
  // Gratings: every patch row swings around 100 with its contrast.
  for (int r = 0; r < 4; ++r) {
    const float contrast[4] = {0.9f, 0.3f, 0.1f, 0.03f};
    const int y = static_cast<int>((0.34f + 0.33f * (r + 0.5f) / 4.0f) * kH);
    float lo = 1e9f, hi = 0.0f;
    for (int x = 5; x < kW / 5 - 5; ++x) {
      lo = std::min(lo, im.Y(x, y));
      hi = std::max(hi, im.Y(x, y));
    }
    EXPECT_NEAR((hi - lo) / (hi + lo), contrast[r], 0.02f) << "row " << r;
  }
  // Dark and bright text grounds.
  EXPECT_NEAR(im.Y(2, kH - 2), 0.5f, 0.1f);
  EXPECT_NEAR(im.Y(kW - 3, kH - 2), 5000.0f, 500.0f);
}

// Smooth: no steps between neighbouring rows or columns beyond what the gradient gives.
TEST(Scenes, SkyGradientSmooth) {
  const Img im = render(Scene::SkyGradient, kW, kH);
  EXPECT_NEAR(im.Y(kW / 4, 0), 800.0f, 80.0f);
  EXPECT_NEAR(im.Y(kW / 4, kH - 1), 3000.0f, 300.0f);
  for (int x = 0; x < kW; x += 37) {
    for (int y = 1; y + 1 < kH; ++y) {
      const float a = std::log(im.Y(x, y - 1)), b = std::log(im.Y(x, y)), c = std::log(im.Y(x, y + 1));
      ASSERT_GT(b, a);                           // brighter toward the horizon
      ASSERT_LT(std::fabs(a - 2 * b + c), 1e-3f);  // no kinks or steps
    }
  }
  for (int y = 0; y < kH; y += 29)
    for (int x = 1; x + 1 < kW; ++x) {
      const float a = im.Y(x - 1, y), b = im.Y(x, y), c = im.Y(x + 1, y);
      ASSERT_LT(std::fabs(a - 2 * b + c) / b, 1e-3f);
    }
}

// Animated: x100 log-linear ramp over 0-2 s (the interior), daylight 2-4 s, a hard cut
// to night at 4 s, periodic with 6 s.
TEST(Scenes, AnimatedTimeline) {
  const int w = 64, h = 36;
  const Img i0 = render(Scene::Animated, w, h, 0.0);
  const Img i1 = render(Scene::Animated, w, h, 1.0);
  const Img i2 = render(Scene::Animated, w, h, 1.999);
  const Img interior = render(Scene::Interior, w, h);
  for (std::size_t k = 0; k < i1.rgb.size(); ++k) {
    ASSERT_NEAR(i1.rgb[k], interior.rgb[k], 1e-4f * interior.rgb[k]);
    ASSERT_NEAR(i0.rgb[k] * 100.0f, i2.rgb[k], 0.01f * i2.rgb[k] + 1e-6f);
  }
  const Img i05 = render(Scene::Animated, w, h, 0.5);
  EXPECT_NEAR(i05.rgb[100] / i0.rgb[100], std::sqrt(10.0f), 1e-3f);  // log-linear
  const Img day = render(Scene::Daylight, w, h);
  const Img d = render(Scene::Animated, w, h, 3.99);
  EXPECT_EQ(0, std::memcmp(d.rgb.data(), day.rgb.data(), d.rgb.size() * sizeof(float)));
  const Img n = render(Scene::Animated, w, h, kAnimatedCut);
  const Img night = render(Scene::Night, w, h);
  EXPECT_EQ(0, std::memcmp(n.rgb.data(), night.rgb.data(), n.rgb.size() * sizeof(float)));
  const Img p = render(Scene::Animated, w, h, 3.0 + kAnimatedPeriod);
  EXPECT_EQ(0, std::memcmp(p.rgb.data(), day.rgb.data(), p.rgb.size() * sizeof(float)));
}

// BT.2020 rendering is the same colour: converting back gives the BT.709 render.
TEST(Scenes, Bt2020IsTheSameColour) {
  const Img a = render(Scene::ColoredLights, 40, 30);
  const Img b = render(Scene::ColoredLights, 40, 30, 0.0, Primaries::BT2020);
  const Mat3 m = mul(xyz_to_rgb(Primaries::BT709), rgb_to_xyz(Primaries::BT2020));
  for (std::size_t k = 0; k < a.rgb.size(); k += 3) {
    const Vec3 v = mul(m, Vec3{b.rgb[k], b.rgb[k + 1], b.rgb[k + 2]});
    const float tol = 1e-3f * (a.rgb[k] + a.rgb[k + 1] + a.rgb[k + 2]) + 1e-6f;
    ASSERT_NEAR(v.x, a.rgb[k], tol);
    ASSERT_NEAR(v.y, a.rgb[k + 1], tol);
    ASSERT_NEAR(v.z, a.rgb[k + 2], tol);
  }
}

namespace {
bool same(const Img& a, const Img& b) {
  return a.rgb.size() == b.rgb.size() && std::memcmp(a.rgb.data(), b.rgb.data(), a.rgb.size() * sizeof(float)) == 0;
}
double log2_mean(const Img& a) {
  double s = 0.0;
  for (float v : a.lums()) s += std::log2(std::max(v, 1e-4f));
  return s / (a.w * a.h);
}
}  // namespace

// The cuts sequence: the documented shots at the documented times, the similar-level
// shot graded to the interior's log-mean, a flash of one frame (1/60 s, x10).
TEST(Scenes, CutsTimeline) {
  const int w = 64, h = 36;
  const Img interior = render(Scene::Interior, w, h), day = render(Scene::Daylight, w, h);
  const Img night = render(Scene::Night, w, h);
  EXPECT_TRUE(same(render(Scene::Cuts, w, h, 0.0), interior));
  EXPECT_TRUE(same(render(Scene::Cuts, w, h, kCutsTimes[0] - 0.01), interior));
  const Img sim = render(Scene::Cuts, w, h, kCutsTimes[0]);
  EXPECT_NEAR(log2_mean(sim), log2_mean(interior), 0.01);  // similar level...
  EXPECT_NEAR(sim.rgb[300] / day.rgb[300], sim.rgb[3000] / day.rgb[3000], 1e-4);  // ...of the daylight
  EXPECT_TRUE(same(render(Scene::Cuts, w, h, kCutsTimes[1]), night));
  EXPECT_TRUE(same(render(Scene::Cuts, w, h, kCutsTimes[2]), interior));
  EXPECT_TRUE(same(render(Scene::Cuts, w, h, kCutsTimes[3]), day));
  const Img fl = render(Scene::Cuts, w, h, kCutsFlash);
  for (std::size_t k = 0; k < fl.rgb.size(); k += 97) ASSERT_NEAR(fl.rgb[k], 10.0f * day.rgb[k], 1e-5f * fl.rgb[k]);
  EXPECT_TRUE(same(render(Scene::Cuts, w, h, kCutsFlash + 1.0 / 60.0), day));
  EXPECT_TRUE(same(render(Scene::Cuts, w, h, kCutsFlash - 1.0 / 30.0), day));
  EXPECT_TRUE(same(render(Scene::Cuts, w, h, kCutsPeriod), interior));  // periodic
  const std::vector<double> cuts = scene_cuts(Scene::Cuts);
  ASSERT_EQ(cuts.size(), 5u);  // the wrap at 0 and the four cuts; the flash is none
  for (int i = 0; i < 4; ++i) EXPECT_EQ(cuts[i + 1], kCutsTimes[i]);
  EXPECT_FALSE(scene_pans(Scene::Cuts, 1.0));
}

// Fades: a fade to black ending in a black frame, a fade in, a linear-light dissolve.
TEST(Scenes, FadesTimeline) {
  const int w = 48, h = 27;
  const Img night = render(Scene::Night, w, h), interior = render(Scene::Interior, w, h);
  const Img day = render(Scene::Daylight, w, h);
  EXPECT_TRUE(same(render(Scene::Fades, w, h, 0.5), night));
  const Img out = render(Scene::Fades, w, h, 1.5), in = render(Scene::Fades, w, h, 2.5);
  EXPECT_NEAR(out.rgb[500] / night.rgb[500], std::pow(0.5, 2.4), 1e-4);
  EXPECT_NEAR(in.rgb[500] / interior.rgb[500], std::pow(0.5, 2.4), 1e-4);
  for (float v : render(Scene::Fades, w, h, 2.0).rgb) ASSERT_EQ(v, 0.0f);  // black
  const Img mid = render(Scene::Fades, w, h, 4.5);
  EXPECT_NEAR(mid.rgb[700], 0.5f * (interior.rgb[700] + day.rgb[700]), 1e-3f * mid.rgb[700]);
  EXPECT_TRUE(same(render(Scene::Fades, w, h, 5.5), day));
  EXPECT_EQ(scene_cuts(Scene::Fades).size(), 1u);  // only the wrap daylight -> night
}

// Pans scroll left over two stills side by side, at the documented speed.
TEST(Scenes, PansScrollAPanorama) {
  const int w = 80, h = 45;
  const Img interior = render(Scene::Interior, w, h), day = render(Scene::Daylight, w, h);
  const Img night = render(Scene::Night, w, h);
  EXPECT_TRUE(same(render(Scene::PanSlow, w, h, 0.0), interior));
  const double t = 2.0;  // kPanSlowSpeed * w * t = 20 px
  const int off = int(std::lround(kPanSlowSpeed * w * t));
  const Img p = render(Scene::PanSlow, w, h, t);
  const float g = float(std::exp2(log2_mean(interior) - log2_mean(day)));  // graded daylight
  for (int y = 0; y < h; y += 7)
    for (int x = 0; x < w; ++x) {
      const float want = x + off < w ? interior.Y(x + off, y) : g * day.Y(x + off - w, y);
      ASSERT_NEAR(p.Y(x, y), want, 1e-3f * want) << x;
    }
  const Img q = render(Scene::PanFast, w, h, 3.5);  // 140 px = 60 px into the second copy
  for (int x = 0; x < w; ++x) ASSERT_EQ(q.Y(x, 20), night.Y((x + 60) % w, 20)) << x;
  EXPECT_TRUE(scene_pans(Scene::PanFast, 1.0));
  EXPECT_TRUE(scene_cuts(Scene::PanFast).empty());  // repeats seamlessly
  EXPECT_EQ(scene_cuts(Scene::PanSlow).size(), 1u);  // daylight -> interior when it repeats
}

// The edit reel plays the four sequences in turn, with hard cuts between them.
TEST(Scenes, EditIsTheSequencesInTurn) {
  const int w = 40, h = 24;
  EXPECT_TRUE(same(render(Scene::Edit, w, h, 1.0), render(Scene::Cuts, w, h, 1.0)));
  EXPECT_TRUE(same(render(Scene::Edit, w, h, kCutsPeriod + 4.5), render(Scene::Fades, w, h, 4.5)));
  EXPECT_TRUE(same(render(Scene::Edit, w, h, kCutsPeriod + kFadesPeriod + 3.0), render(Scene::PanSlow, w, h, 3.0)));
  EXPECT_TRUE(same(render(Scene::Edit, w, h, kEditPeriod - 1.0), render(Scene::PanFast, w, h, kPanFastPeriod - 1.0)));
  EXPECT_EQ(scene_period(Scene::Edit), kEditPeriod);
  // cuts: 5 in `cuts` (its start included), `fades`' start, both pans' starts
  const std::vector<double> c = scene_cuts(Scene::Edit);
  EXPECT_EQ(c.size(), 8u);
  EXPECT_TRUE(std::find(c.begin(), c.end(), kCutsPeriod + kFadesPeriod + kPanSlowPeriod) != c.end());
  EXPECT_TRUE(scene_pans(Scene::Edit, kCutsPeriod + kFadesPeriod + 1.0));
  EXPECT_FALSE(scene_pans(Scene::Edit, 1.0));
}
