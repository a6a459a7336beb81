// Tests of the quality metrics (tools/quality/metrics.h): TMQI, CIEDE2000, colourfulness,
// banding, flicker and the image I/O they rely on.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "metrics.h"

using namespace dtutmo::quality;

namespace {

// Deterministic integer hash -> [0, 1).
double hash01(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return (x & 0xffffff) / 16777216.0;
}

// Smooth value noise (bilinear interpolation of a hashed lattice of cell size `cell`).
double value_noise(double x, double y, double cell, uint32_t seed) {
  const double gx = x / cell, gy = y / cell;
  const int ix = static_cast<int>(std::floor(gx)), iy = static_cast<int>(std::floor(gy));
  const double fx = gx - ix, fy = gy - iy;
  auto h = [&](int a, int b) {
    return hash01(static_cast<uint32_t>(a) * 73856093U ^ static_cast<uint32_t>(b) * 19349663U ^ seed);
  };
  const double sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
  const double top = h(ix, iy) + (h(ix + 1, iy) - h(ix, iy)) * sx;
  const double bot = h(ix, iy + 1) + (h(ix + 1, iy + 1) - h(ix, iy + 1)) * sx;
  return top + (bot - top) * sy;
}

// A low-dynamic-range "photograph": multi-scale texture and a few edges, luminance
// about 2 ... 100 cd/m^2 (a 50:1 range), slightly coloured.
ImageF low_dr_scene(int w, int h) {
  ImageF img{w, h, std::vector<float>(static_cast<size_t>(w) * h * 3)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double t = 0.3 * value_noise(x, y, 64, 1) + 0.25 * value_noise(x, y, 16, 2) +
                 0.25 * value_noise(x, y, 4, 3) + 0.2 * value_noise(x, y, 2, 4);
      if (x > w / 2 && y > h / 3) t = 0.25 + 0.6 * t;  // a darker object with an edge
      const double Y = 2.0 * std::pow(50.0, t);
      float* p = img.px(x, y);
      p[0] = static_cast<float>(Y * 1.05);
      p[1] = static_cast<float>(Y * 0.99);
      p[2] = static_cast<float>(Y * 0.95);
    }
  return img;
}

Image8 map8(const Image8& in, int (*f)(int, size_t)) {
  Image8 o = in;
  for (size_t i = 0; i < o.rgb.size(); ++i) o.rgb[i] = static_cast<uint8_t>(f(in.rgb[i], i));
  return o;
}

Image8 mirror(const Image8& in) {
  Image8 o = in;
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x)
      for (int c = 0; c < 3; ++c) o.px(x, y)[c] = in.px(in.width - 1 - x, y)[c];
  return o;
}
ImageF mirror(const ImageF& in) {
  ImageF o = in;
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < in.width; ++x)
      for (int c = 0; c < 3; ++c) o.px(x, y)[c] = in.px(in.width - 1 - x, y)[c];
  return o;
}

struct Fixture {
  ImageF hdr = low_dr_scene(256, 192);
  Image8 good = render_linear(hdr, 1.0 / 100.0);  // linear scaling, white = 100 cd/m^2
};

}  // namespace

// ---------------------------------------------------------------------------- TMQI
TEST(Tmqi, GoodLinearRenderingOfLowDrImageScoresHigh) {
  Fixture f;
  const TmqiResult r = tmqi(f.hdr, f.good);
  EXPECT_EQ(r.scales, 5);
  EXPECT_GT(r.S, 0.9) << "N " << r.N;
  EXPECT_GT(r.Q, 0.9) << "S " << r.S << " N " << r.N;
  EXPECT_LE(r.Q, 1.0);
}

TEST(Tmqi, DestroyedRenderingsScoreMuchLower) {
  Fixture f;
  const double q_good = tmqi(f.hdr, f.good).Q;
  const Image8 constant = map8(f.good, [](int, size_t) { return 118; });
  const Image8 inverted = map8(f.good, [](int v, size_t) { return 255 - v; });
  const Image8 noise =
      map8(f.good, [](int, size_t i) { return static_cast<int>(hash01(static_cast<uint32_t>(i / 3)) * 255.0); });
  for (const Image8* bad : {&constant, &inverted, &noise}) {
    const TmqiResult r = tmqi(f.hdr, *bad);
    EXPECT_LT(r.Q, 0.75) << "S " << r.S << " N " << r.N;
    EXPECT_LT(r.Q, q_good - 0.2);
    EXPECT_LT(r.S, 0.5);
  }
  // A constant image has no contrast: naturalness 0 (Beta density at 0).
  EXPECT_EQ(tmqi(f.hdr, constant).N, 0.0);
  // An inverted image has negative structure at every scale: S clamps to 0 (header,
  // deviation 2), never NaN.
  const TmqiResult inv = tmqi(f.hdr, inverted);
  EXPECT_LT(inv.s_local[0], 0.0);
  EXPECT_EQ(inv.S, 0.0);
  EXPECT_TRUE(std::isfinite(inv.Q));
}

TEST(Tmqi, MoreNoiseLowersStructuralFidelity) {
  Fixture f;
  double prev = 2.0;
  for (int amp : {0, 8, 32, 96}) {
    Image8 n = f.good;
    for (size_t i = 0; i < n.rgb.size(); ++i) {
      const int v = n.rgb[i] + static_cast<int>(std::lround((hash01(static_cast<uint32_t>(i / 3 + 7)) - 0.5) * 2 * amp));
      n.rgb[i] = static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    const double s = tmqi(f.hdr, n).S;
    EXPECT_LT(s, prev) << "noise amplitude " << amp;
    prev = s;
  }
}

// TMQI compares the LDR with the HDR's relative structure: the HDR's absolute calibration
// (a photograph's exposure, nits vs. relative units) must not matter.
TEST(Tmqi, InvariantToHdrCalibration) {
  Fixture f;
  ImageF scaled = f.hdr;
  for (float& v : scaled.rgb) v *= 1000.0f;
  const TmqiResult a = tmqi(f.hdr, f.good), b = tmqi(scaled, f.good);
  EXPECT_NEAR(a.Q, b.Q, 1e-6);
  EXPECT_NEAR(a.S, b.S, 1e-6);
  EXPECT_EQ(a.N, b.N);
}

// The window is symmetric and the 2x2 decimation aligns for sizes divisible by 2^5:
// mirroring both images leaves the score unchanged.
TEST(Tmqi, InvariantToMirroringBoth) {
  Fixture f;
  const Image8 crushed = map8(f.good, [](int v, size_t) { return v < 90 ? 0 : v; });
  for (const Image8* l : {static_cast<const Image8*>(&f.good), &crushed}) {
    const TmqiResult a = tmqi(f.hdr, *l), b = tmqi(mirror(f.hdr), mirror(*l));
    EXPECT_NEAR(a.S, b.S, 1e-9);
    EXPECT_NEAR(a.N, b.N, 1e-2);  // block grid is anchored top-left: N changes a little
  }
}

// Crushing the shadows (a typical tone-mapping failure) loses structure and costs Q.
TEST(Tmqi, CrushedShadowsAndClippedHighlightsCost) {
  Fixture f;
  const Image8 crushed = map8(f.good, [](int v, size_t) { return v < 110 ? 0 : v; });
  const Image8 clipped = map8(f.good, [](int v, size_t) { return v > 130 ? 255 : v; });
  const TmqiResult g = tmqi(f.hdr, f.good);
  EXPECT_LT(tmqi(f.hdr, crushed).S, g.S - 0.02);
  EXPECT_LT(tmqi(f.hdr, clipped).S, g.S - 0.02);
}

TEST(Tmqi, NaturalnessPrefersMidToneImages) {
  Fixture f;
  const double n_good = tmqi_naturalness(code_luma(f.good));
  const Image8 dark = map8(f.good, [](int v, size_t) { return v / 4; });
  const Image8 bright = map8(f.good, [](int v, size_t) { return 255 - (255 - v) / 4; });
  EXPECT_GT(n_good, 0.3);
  EXPECT_LE(n_good, 1.0);
  EXPECT_LT(tmqi_naturalness(code_luma(dark)), 0.5 * n_good);
  EXPECT_LT(tmqi_naturalness(code_luma(bright)), 0.5 * n_good);
}

TEST(Tmqi, SizeHandling) {
  Fixture f;
  // Too small for any scale: NaN, no crash.
  ImageF tiny{8, 8, std::vector<float>(8 * 8 * 3, 1.0f)};
  Image8 tiny8{8, 8, std::vector<uint8_t>(8 * 8 * 3, 100)};
  EXPECT_TRUE(std::isnan(tmqi(tiny, tiny8).S));
  // Mismatched sizes: NaN.
  EXPECT_TRUE(std::isnan(tmqi(tiny, f.good).S));
  // 64x48 fits 3 scales (64, 32, 16 wide; 48, 24, 12 high).
  ImageF small = low_dr_scene(64, 48);
  const TmqiResult r = tmqi(small, render_linear(small, 0.01));
  EXPECT_EQ(r.scales, 3);
  EXPECT_TRUE(std::isfinite(r.Q));
  EXPECT_GT(r.S, 0.8);
}

// ---------------------------------------------------------------------------- CIEDE2000
// Rows of Table 1 of G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 Color-Difference
// Formula: Implementation Notes, Supplementary Test Data, and Mathematical Observations",
// Color Res. Appl. 30(1), 2005 (the pair number, Lab 1, Lab 2, delta E 2000).
TEST(DeltaE2000, SharmaWuDalalTestPairs) {
  struct Row {
    int n;
    Lab a, b;
    double de;
  };
  const Row rows[] = {
      {1, {50.0000, 2.6772, -79.7751}, {50.0000, 0.0000, -82.7485}, 2.0425},
      {2, {50.0000, 3.1571, -77.2803}, {50.0000, 0.0000, -82.7485}, 2.8615},
      {4, {50.0000, -1.3802, -84.2814}, {50.0000, 0.0000, -82.7485}, 1.0000},
      {7, {50.0000, 0.0000, 0.0000}, {50.0000, -1.0000, 2.0000}, 2.3669},
      {9, {50.0000, 2.4900, -0.0010}, {50.0000, -2.4900, 0.0009}, 7.1792},
      {11, {50.0000, 2.4900, -0.0010}, {50.0000, -2.4900, 0.0011}, 7.2195},
      {13, {50.0000, -0.0010, 2.4900}, {50.0000, 0.0009, -2.4900}, 4.8045},
      {15, {50.0000, -0.0010, 2.4900}, {50.0000, 0.0011, -2.4900}, 4.7461},
      {16, {50.0000, 2.5000, 0.0000}, {50.0000, 0.0000, -2.5000}, 4.3065},
      {17, {50.0000, 2.5000, 0.0000}, {73.0000, 25.0000, -18.0000}, 27.1492},
      {19, {50.0000, 2.5000, 0.0000}, {56.0000, -27.0000, -3.0000}, 31.9030},
      {22, {50.0000, 2.5000, 0.0000}, {50.0000, 3.2972, 0.0000}, 1.0000},
      {25, {60.2574, -34.0099, 36.2677}, {60.4626, -34.1751, 39.4387}, 1.2644},
      {29, {22.7233, 20.0904, -46.6940}, {23.0331, 14.9730, -42.5619}, 2.0373},
      {31, {90.8027, -2.0831, 1.4410}, {91.1528, -1.6435, 0.0447}, 1.4441},
      {33, {6.7747, -0.2908, -2.4247}, {5.8714, -0.0985, -2.2286}, 0.6377},
      {34, {2.0776, 0.0795, -1.1350}, {0.9033, -0.0636, -0.5514}, 0.9082},
  };
  for (const Row& r : rows) {
    EXPECT_NEAR(delta_e2000(r.a, r.b), r.de, 1e-4) << "pair " << r.n;
    EXPECT_NEAR(delta_e2000(r.b, r.a), r.de, 1e-4) << "pair " << r.n << " swapped";
  }
}

TEST(DeltaE2000, SrgbConversionAndImages) {
  const uint8_t white[3] = {255, 255, 255}, black[3] = {0, 0, 0}, grey[3] = {119, 119, 119};
  const Lab w = srgb8_to_lab(white), k = srgb8_to_lab(black), g = srgb8_to_lab(grey);
  EXPECT_NEAR(w.L, 100.0, 0.01);
  EXPECT_NEAR(w.a, 0.0, 0.01);
  EXPECT_NEAR(w.b, 0.0, 0.01);
  EXPECT_NEAR(k.L, 0.0, 1e-9);
  EXPECT_NEAR(g.L, 50.0, 0.5);  // sRGB 119 is about L* 50
  const uint8_t red[3] = {255, 0, 0};
  const Lab r = srgb8_to_lab(red);  // sRGB red: L* 53.24, a* 80.09, b* 67.20
  EXPECT_NEAR(r.L, 53.24, 0.05);
  EXPECT_NEAR(r.a, 80.09, 0.1);
  EXPECT_NEAR(r.b, 67.20, 0.1);

  Fixture f;
  const DeltaEStats same = delta_e2000_image(f.good, f.good);
  EXPECT_EQ(same.mean, 0.0);
  EXPECT_EQ(same.max, 0.0);
  const Image8 shifted = map8(f.good, [](int v, size_t i) { return i % 3 == 2 ? (v > 245 ? 255 : v + 10) : v; });
  const DeltaEStats d = delta_e2000_image(f.good, shifted);
  EXPECT_GT(d.mean, 1.0);
  EXPECT_GE(d.p95, d.mean * 0.5);
  EXPECT_GE(d.max, d.p95);
}

// ---------------------------------------------------------------------------- colourfulness
TEST(Colourfulness, GreyIsZeroAndSaturationRaisesIt) {
  Image8 grey{32, 32, std::vector<uint8_t>(32 * 32 * 3, 128)};
  EXPECT_NEAR(colourfulness(grey), 0.0, 1e-12);
  auto patches = [](int sat) {
    Image8 img{32, 32, std::vector<uint8_t>(32 * 32 * 3)};
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        uint8_t* p = img.px(x, y);
        const int q = (x / 8 + y / 8) % 3;
        for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>(128 + (c == q ? sat : -sat / 2));
      }
    return img;
  };
  const double c1 = colourfulness(patches(20)), c2 = colourfulness(patches(60));
  EXPECT_GT(c1, 5.0);
  EXPECT_GT(c2, 2.5 * c1);
  // A uniform colour: no spread, only the mean term 0.3 * |mean|.
  Image8 red{4, 4, {}};
  for (int i = 0; i < 16; ++i) red.rgb.insert(red.rgb.end(), {200, 100, 100});
  EXPECT_NEAR(colourfulness(red), 0.3 * std::hypot(100.0, 50.0), 1e-9);
}

// ---------------------------------------------------------------------------- banding
TEST(Banding, DistinguishesSmoothQuantisedDitheredAndPosterised) {
  const int w = 512, h = 16;
  // A slow ramp: 40 code values over 512 pixels (one code every ~13 px).
  auto ramp = [&](int levels_step, bool dither) {
    Image8 img{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double v = 100.0 + 40.0 * x / (w - 1);
        if (dither) v += hash01(static_cast<uint32_t>(y * w + x)) - 0.5;
        int c = static_cast<int>(std::lround(v));
        c = (c / levels_step) * levels_step;
        for (int k = 0; k < 3; ++k) img.px(x, y)[k] = static_cast<uint8_t>(c);
      }
    return img;
  };
  const BandingStats plain = banding(ramp(1, false), 0, 0, w, h);
  const BandingStats dith = banding(ramp(1, true), 0, 0, w, h);
  const BandingStats poster = banding(ramp(4, false), 0, 0, w, h);
  EXPECT_EQ(plain.max_step, 1);
  EXPECT_EQ(plain.contours_per_row, 0.0);
  EXPECT_NEAR(plain.mean_run, 512.0 / 41.0, 1.0);  // 41 runs of ~12.5 px
  EXPECT_LT(dith.mean_run, 0.5 * plain.mean_run);  // dither breaks up the bands
  EXPECT_LT(dith.contours_per_row, 0.5);  // rare 2-code steps where noise and ramp add up
  EXPECT_EQ(poster.max_step, 4);
  EXPECT_NEAR(poster.contours_per_row, 10.0, 1.0);  // 40 codes / 4 = ~10 false contours
  EXPECT_GT(poster.mean_run, 3.0 * plain.mean_run);
  double sum = 0.0;
  for (double v : plain.step_hist) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_EQ(plain.axis, 0);
  // The same posterised ramp turned vertical (a sky) is measured along columns.
  const Image8 p = ramp(4, false);
  Image8 v{h, w, std::vector<uint8_t>(p.rgb.size())};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) v.px(y, x)[c] = p.px(x, y)[c];
  const BandingStats pv = banding(v, 0, 0, h, w);
  EXPECT_EQ(pv.axis, 1);
  EXPECT_EQ(pv.max_step, poster.max_step);
  EXPECT_DOUBLE_EQ(pv.contours_per_row, poster.contours_per_row);
}

// ---------------------------------------------------------------------------- temporal
TEST(Temporal, StaticSequenceIsStablePumpingFlickers) {
  Fixture f;
  std::vector<Image8> still(5, f.good);
  std::vector<double> m;
  for (const Image8& i : still) m.push_back(mean_code_luma(i));
  EXPECT_EQ(flicker(m), 0.0);
  EXPECT_EQ(temporal_instability(still), 0);

  // Pumping: every other frame 10 codes brighter.
  std::vector<Image8> pump;
  std::vector<double> pm;
  for (int t = 0; t < 6; ++t) {
    Image8 i = map8(f.good, [](int v, size_t) { return v > 240 ? 250 : v + 10; });
    pump.push_back(t % 2 ? i : f.good);
    pm.push_back(mean_code_luma(pump.back()));
  }
  EXPECT_GT(flicker(pm), 5.0);
  EXPECT_LE(flicker(pm), 10.0 + 1e-9);
  EXPECT_GE(temporal_instability(pump), 10);
  // Converging sequence: changes in the first frames only; measured from frame 3 it is 0.
  std::vector<Image8> conv = {pump[1], pump[0], f.good, f.good, f.good};
  EXPECT_GT(temporal_instability(conv, 0), 0);
  EXPECT_EQ(temporal_instability(conv, 3), 0);
  EXPECT_EQ(flicker({42.0}), 0.0);
}

// ---------------------------------------------------------------------------- I/O
TEST(ImageIo, PfmAndPngRoundTrip) {
  Fixture f;
  const std::string dir = ::testing::TempDir();
  std::string err;
  const std::string pfm = dir + "/dtutmo_quality_rt.pfm", png = dir + "/dtutmo_quality_rt.png";
  ASSERT_TRUE(write_pfm(pfm, f.hdr, &err)) << err;
  ImageF back;
  ASSERT_TRUE(read_pfm(pfm, &back, &err)) << err;
  EXPECT_EQ(back.width, f.hdr.width);
  EXPECT_EQ(back.height, f.hdr.height);
  EXPECT_EQ(back.rgb, f.hdr.rgb);  // including row order (PFM is bottom-up)
  ASSERT_TRUE(write_png(png, f.good, &err)) << err;
  Image8 b8;
  ASSERT_TRUE(read_image8(png, &b8, &err)) << err;
  EXPECT_EQ(b8.rgb, f.good.rgb);
  EXPECT_FALSE(read_pfm(png, &back, &err));
  EXPECT_FALSE(read_png(dir + "/does_not_exist.png", &b8, &err));
  std::remove(pfm.c_str());
  std::remove(png.c_str());
}

TEST(Renderings, NaiveAndResize) {
  Fixture f;
  const Image8 n = render_naive(f.hdr);
  // Log-average to 0.18 of white: the mean code is in the mid tones.
  EXPECT_GT(mean_code_luma(n), 90.0);
  EXPECT_LT(mean_code_luma(n), 170.0);
  const Image8 small = resize_srgb8(f.good, 64);
  EXPECT_EQ(small.width, 64);
  EXPECT_EQ(small.height, 48);
  Image8 flat{100, 50, std::vector<uint8_t>(100 * 50 * 3, 77)};
  const Image8 fs = resize_srgb8(flat, 33);
  for (uint8_t v : fs.rgb) EXPECT_EQ(v, 77);
}

TEST(Exposure, MeanContrastClipAndCrush) {
  Image8 img{22, 11, std::vector<uint8_t>(22 * 11 * 3, 0)};
  for (int y = 0; y < 11; ++y)
    for (int x = 11; x < 22; ++x)
      for (int c = 0; c < 3; ++c) img.px(x, y)[c] = 255;
  const ExposureStats e = exposure(img);
  EXPECT_NEAR(e.mean_luma, 127.5, 1e-9);
  EXPECT_NEAR(e.clipped, 0.5, 1e-12);
  EXPECT_NEAR(e.crushed, 0.5, 1e-12);
  EXPECT_NEAR(e.contrast, 0.0, 1e-12);  // each 11x11 block is flat
}

TEST(Calibration, LogMeanLuminance) {
  ImageF img{2, 1, {1.0f, 1.0f, 1.0f, 100.0f, 100.0f, 100.0f}};
  EXPECT_NEAR(log_mean_luminance(img), 10.0, 1e-9);  // geometric mean of 1 and 100
}

TEST(Halo, ChartMeasureSeesGlowsAndShadowsAndNothingElse) {
  const int w = 384, h = 216;
  const ImageF chart = halo_chart(w, h, 10.0f, 1000.0f);
  EXPECT_FLOAT_EQ(chart.px(192, 108)[0], 10.0f);  // disc at the centre, radius h / 6
  EXPECT_FLOAT_EQ(chart.px(192, 108 + 37)[1], 1000.0f);
  EXPECT_FLOAT_EQ(chart.px(192, 108 + 35)[2], 10.0f);
  // a global rendering (one scale for the whole chart): no halo, the full contrast
  const HaloStats g = halo(render_linear(chart, 1.0 / 1000.0));
  EXPECT_LT(g.outside, 0.01);
  EXPECT_LT(g.inside, 0.01);
  EXPECT_NEAR(g.contrast, std::log2(100.0), 0.05);
  // a glow: the background within 12 px of the edge brighter by 0.5 stop; a shadow: the
  // disc's rim darker by 0.5 stop
  ImageF glow = chart;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double d = std::hypot(x + 0.5 - 192.0, y + 0.5 - 108.0);
      float* p = glow.px(x, y);
      for (int c = 0; c < 3; ++c) {
        if (d >= 36.0 && d < 49.0) p[c] = static_cast<float>(p[c] * std::sqrt(2.0));
        if (d >= 25.0 && d < 36.0) p[c] = static_cast<float>(p[c] / std::sqrt(2.0));
      }
    }
  const HaloStats s = halo(render_linear(glow, 1.0 / 2000.0));  // background at half white
  EXPECT_NEAR(s.outside, 0.5, 0.03);
  EXPECT_NEAR(s.inside, 0.5, 0.05);
}
