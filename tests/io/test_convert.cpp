// Formats, row converters and per-pixel I/O (frame.h, convert.h, pixel_io.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dtutmo/convert.h"
#include "dtutmo/frame.h"
#include "dtutmo/pixel_io.h"

using namespace dtutmo;

namespace {

constexpr uint8_t kGuard = 0xA5;
constexpr int kGuardBytes = 32;

// A frame whose planes are separate heap blocks of exactly the size that the geometry
// needs (the last row has no padding), followed by guard bytes that must stay intact,
// with padding bytes between rows that must stay intact too. ASan/valgrind catch any
// overread past the block; the guard catches overwrites.
struct TestFrame {
  FrameView v;
  std::vector<std::unique_ptr<uint8_t[]>> blocks;
  std::vector<std::size_t> sizes;
  int pad;

  TestFrame(PixelFormat f, int w, int h, int pad_bytes) : pad(pad_bytes) {
    v.format = f;
    v.width = w;
    v.height = h;
    const FormatInfo& fi = format_info(f);
    for (int p = 0; p < fi.planes; ++p) {
      const std::ptrdiff_t ms = min_stride(f, p, w);
      const std::ptrdiff_t st = ms + pad;
      const int ph = plane_height(f, p, h);
      const std::size_t size = static_cast<std::size_t>(st * (ph - 1) + ms);
      blocks.emplace_back(new uint8_t[size + kGuardBytes]);
      std::memset(blocks.back().get(), kGuard, size + kGuardBytes);
      sizes.push_back(size);
      v.data[p] = blocks.back().get();
      v.stride[p] = st;
    }
  }
  // Guard bytes after each plane and the row padding are untouched.
  bool guards_intact() const {
    const FormatInfo& fi = format_info(v.format);
    for (int p = 0; p < fi.planes; ++p) {
      const uint8_t* b = blocks[p].get();
      for (int i = 0; i < kGuardBytes; ++i)
        if (b[sizes[p] + i] != kGuard) return false;
      const std::ptrdiff_t ms = min_stride(v.format, p, v.width);
      for (int r = 0; r + 1 < plane_height(v.format, p, v.height); ++r)
        for (int i = 0; i < pad; ++i)
          if (b[r * v.stride[p] + ms + i] != kGuard) return false;
    }
    return true;
  }
};

const PixelFormat kAll[] = {
    PixelFormat::P010_10LE, PixelFormat::P012_LE,   PixelFormat::P016_LE,    PixelFormat::I420_10LE,
    PixelFormat::I420_12LE, PixelFormat::Y444_16LE, PixelFormat::RGBA64_LE,  PixelFormat::RGB10A2_LE,
    PixelFormat::BGR10A2_LE, PixelFormat::I420,     PixelFormat::NV12,       PixelFormat::RGBA,
    PixelFormat::BGRA,      PixelFormat::RGBx,      PixelFormat::BGRx,       PixelFormat::RGBF32};

struct Size {
  int w, h;
};
const Size kSizes[] = {{1, 1}, {2, 2}, {7, 3}, {3, 7}, {33, 17}, {64, 8}};

std::vector<float> random_rgb(int w, int h, bool grey, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> v(static_cast<std::size_t>(w) * h * 3);
  for (std::size_t i = 0; i < v.size(); i += 3) {
    v[i] = u(rng);
    v[i + 1] = grey ? v[i] : u(rng);
    v[i + 2] = grey ? v[i] : u(rng);
  }
  return v;
}

// Largest error allowed for a pack -> unpack round trip of `f` (quantisation, plus the
// Y'CbCr matrix spreading the luma/chroma rounding into R'G'B').
float tolerance(PixelFormat f) {
  const FormatInfo& fi = format_info(f);
  if (f == PixelFormat::RGBF32) return 0.0f;
  const float lsb = 1.0f / static_cast<float>((1u << fi.bits) - 1u);
  return fi.yuv ? 4.0f * lsb : 0.51f * lsb;
}

}  // namespace

TEST(Formats, TableAndNames) {
  for (PixelFormat f : kAll) {
    const FormatInfo& fi = format_info(f);
    ASSERT_NE(fi.name, nullptr);
    EXPECT_EQ(format_from_name(fi.name), f) << fi.name;
    EXPECT_GE(fi.planes, 1);
  }
  EXPECT_EQ(format_from_name("P010_10LE"), PixelFormat::P010_10LE);
  EXPECT_EQ(format_from_name("NV12"), PixelFormat::NV12);
  EXPECT_EQ(format_from_name("nv12"), PixelFormat::NV12);
  EXPECT_EQ(format_from_name("YUY2"), PixelFormat::COUNT);
  EXPECT_EQ(format_from_name(nullptr), PixelFormat::COUNT);
  EXPECT_EQ(format_info(PixelFormat::P010_10LE).bits, 10);
  EXPECT_TRUE(format_info(PixelFormat::P010_10LE).subsampled);
  EXPECT_FALSE(format_info(PixelFormat::Y444_16LE).subsampled);
  EXPECT_FALSE(format_info(PixelFormat::RGB10A2_LE).yuv);
}

TEST(Formats, Geometry) {
  EXPECT_EQ(min_stride(PixelFormat::P010_10LE, 0, 1920), 3840);
  EXPECT_EQ(min_stride(PixelFormat::P010_10LE, 1, 1920), 3840);
  EXPECT_EQ(plane_height(PixelFormat::P010_10LE, 1, 1080), 540);
  EXPECT_EQ(packed_size(PixelFormat::P010_10LE, 1920, 1080), 3840u * 1080 + 3840u * 540);
  // Odd sizes round the chroma up.
  EXPECT_EQ(min_stride(PixelFormat::I420, 1, 7), 4);
  EXPECT_EQ(plane_height(PixelFormat::I420, 2, 3), 2);
  EXPECT_EQ(packed_size(PixelFormat::I420, 7, 3), 7u * 3 + 2u * 4 * 2);
  EXPECT_EQ(min_stride(PixelFormat::NV12, 1, 7), 8);
  EXPECT_EQ(min_stride(PixelFormat::RGBF32, 0, 5), 60);
  EXPECT_EQ(min_stride(PixelFormat::RGBA, 1, 5), 0);  // no such plane
  EXPECT_EQ(plane_height(PixelFormat::Y444_16LE, 2, 5), 5);
  std::vector<uint8_t> buf(packed_size(PixelFormat::I420_10LE, 9, 5));
  FrameView v = packed_view(PixelFormat::I420_10LE, 9, 5, buf.data());
  EXPECT_EQ(v.data[0], buf.data());
  EXPECT_EQ(v.data[1], buf.data() + 18 * 5);
  EXPECT_EQ(v.data[2], buf.data() + 18 * 5 + 10 * 3);
  EXPECT_EQ(v.stride[1], 10);
  EXPECT_EQ(v.data[3], nullptr);
}

// Every format, odd sizes, padded strides, exact-size planes: pack then unpack gives the
// values back to the format's precision, and nothing outside the picture is touched.
TEST(Convert, RoundTripAllFormats) {
  for (PixelFormat f : kAll) {
    const FormatInfo& fi = format_info(f);
    for (const Size& s : kSizes) {
      for (int pad : {0, 13}) {
        for (bool full : {false, true}) {
          SCOPED_TRACE(::testing::Message() << fi.name << " " << s.w << "x" << s.h << " pad " << pad
                                            << (full ? " full" : " limited"));
          SignalDesc sig;
          sig.full_range = full;
          sig.matrix = YuvMatrix::BT2020NC;
          // 4:2:0 loses chroma resolution: use grey (neutral chroma) content there.
          const std::vector<float> src = random_rgb(s.w, s.h, fi.subsampled, 7 + s.w * 31 + s.h);
          TestFrame tf(f, s.w, s.h, pad);
          pack_rows(src.data(), 3 * s.w, tf.v, sig, 0, s.h, false);
          EXPECT_TRUE(tf.guards_intact());
          // Unpack into a buffer with a guard row after it.
          const std::size_t n = src.size();
          std::vector<float> back(n + 8, -123.0f);
          unpack_rows(tf.v, sig, 0, s.h, back.data(), 3 * s.w);
          for (std::size_t i = n; i < back.size(); ++i) ASSERT_EQ(back[i], -123.0f);
          float worst = 0.0f;
          for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(back[i] - src[i]));
          EXPECT_LE(worst, tolerance(f));
        }
      }
    }
  }
}

// A flat colour survives 4:2:0 (every format, both ranges) and chroma interpolation.
TEST(Convert, FlatColourThroughChroma) {
  const float colour[3] = {0.8f, 0.3f, 0.15f};
  for (PixelFormat f : kAll) {
    const FormatInfo& fi = format_info(f);
    for (const Size& s : kSizes) {
      SCOPED_TRACE(::testing::Message() << fi.name << " " << s.w << "x" << s.h);
      std::vector<float> src(static_cast<std::size_t>(s.w) * s.h * 3);
      for (std::size_t i = 0; i < src.size(); ++i) src[i] = colour[i % 3];
      TestFrame tf(f, s.w, s.h, 5);
      SignalDesc sig;
      sig.matrix = YuvMatrix::BT709;
      pack_rows(src.data(), 3 * s.w, tf.v, sig, 0, s.h, false);
      std::vector<float> back(src.size());
      unpack_rows(tf.v, sig, 0, s.h, back.data(), 3 * s.w);
      for (std::size_t i = 0; i < src.size(); ++i) ASSERT_NEAR(back[i], src[i], tolerance(f)) << i;
      EXPECT_TRUE(tf.guards_intact());
    }
  }
}

// Bands of rows give the same result as the whole frame, both ways.
TEST(Convert, RowBandsMatchWholeFrame) {
  const int w = 23, h = 11;
  for (PixelFormat f : kAll) {
    SCOPED_TRACE(format_info(f).name);
    const std::vector<float> src = random_rgb(w, h, false, 99);
    SignalDesc sig;
    TestFrame a(f, w, h, 3), b(f, w, h, 3);
    pack_rows(src.data(), 3 * w, a.v, sig, 0, h, true);
    // Bands start on even rows (4:2:0 rule); the last ends at the (odd) height.
    pack_rows(src.data(), 3 * w, b.v, sig, 0, 4, true);
    pack_rows(src.data() + 4 * 3 * w, 3 * w, b.v, sig, 4, 10, true);
    pack_rows(src.data() + 10 * 3 * w, 3 * w, b.v, sig, 10, h, true);
    for (int p = 0; p < format_info(f).planes; ++p)
      EXPECT_EQ(0, std::memcmp(a.blocks[p].get(), b.blocks[p].get(), a.sizes[p])) << "plane " << p;
    std::vector<float> whole(src.size()), bands(src.size());
    unpack_rows(a.v, sig, 0, h, whole.data(), 3 * w);
    unpack_rows(a.v, sig, 0, 3, bands.data(), 3 * w);  // odd boundaries are fine for reading
    unpack_rows(a.v, sig, 3, 8, bands.data() + 3 * 3 * w, 3 * w);
    unpack_rows(a.v, sig, 8, h, bands.data() + 8 * 3 * w, 3 * w);
    EXPECT_EQ(0, std::memcmp(whole.data(), bands.data(), whole.size() * sizeof(float)));
  }
}

// The planar entry points (the CPU engine's) give what the interleaved ones give: every
// format and odd sizes, bands on even rows, values outside [0, 1] and NaN (clamped the
// same way), dither on; the planar rows with padding between rows and planes.
TEST(Convert, PlanarRowsMatchInterleaved) {
  const int sizes[][2] = {{1, 1}, {7, 3}, {23, 11}, {40, 9}};
  for (const auto& sz : sizes) {
    const int w = sz[0], h = sz[1];
    std::vector<float> src = random_rgb(w, h, false, 7);
    for (std::size_t i = 0; i < src.size(); i += 5) src[i] = 1.6f * src[i] - 0.3f;  // out of range
    src[src.size() / 2] = NAN;
    const std::ptrdiff_t ps = w + 3, rs = 3 * ps + 5;  // plane and row strides of the planar copy
    std::vector<float> planar(std::size_t(rs) * h, -7.0f);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) planar[y * rs + c * ps + x] = src[(std::size_t(y) * w + x) * 3 + c];
    for (PixelFormat f : kAll) {
      SCOPED_TRACE(std::string(format_info(f).name) + " " + std::to_string(w) + "x" + std::to_string(h));
      SignalDesc sig;
      TestFrame a(f, w, h, 3), b(f, w, h, 3);
      pack_rows(src.data(), 3 * w, a.v, sig, 0, h, true);
      const int cut = std::min(h, 4);
      pack_rows_planar(planar.data(), rs, ps, b.v, sig, 0, cut, true);
      pack_rows_planar(planar.data() + cut * rs, rs, ps, b.v, sig, cut, h, true);
      for (int p = 0; p < format_info(f).planes; ++p)
        EXPECT_EQ(0, std::memcmp(a.blocks[p].get(), b.blocks[p].get(), a.sizes[p])) << "plane " << p;
      EXPECT_TRUE(b.guards_intact());
      std::vector<float> rows(src.size()), r(w), g(w), bl(w);
      unpack_rows(a.v, sig, 0, h, rows.data(), 3 * w);
      for (int y = 0; y < h; ++y) {
        unpack_row_planar(a.v, sig, y, r.data(), g.data(), bl.data());
        for (int x = 0; x < w; ++x) {
          const float* e = &rows[(std::size_t(y) * w + x) * 3];
          ASSERT_EQ(0, std::memcmp(e, &r[x], 4)) << x << "," << y;
          ASSERT_EQ(0, std::memcmp(e + 1, &g[x], 4)) << x << "," << y;
          ASSERT_EQ(0, std::memcmp(e + 2, &bl[x], 4)) << x << "," << y;
        }
      }
    }
  }
}

// Standard anchors: limited-range black and white codes, full range, bit placement.
TEST(Convert, RangeAnchorsAndBitPlacement) {
  SignalDesc lim;  // BT.2020 NCL, limited
  SignalDesc full = lim;
  full.full_range = true;
  const int w = 2, h = 2;
  struct Case {
    PixelFormat f;
    uint32_t black, white, neutral_c;
    uint32_t shift;  // container shift (P01x high-bit alignment)
  };
  const Case cases[] = {{PixelFormat::P010_10LE, 64, 940, 512, 6},   {PixelFormat::P012_LE, 256, 3760, 2048, 4},
                        {PixelFormat::P016_LE, 4096, 60160, 32768, 0}, {PixelFormat::I420_10LE, 64, 940, 512, 0},
                        {PixelFormat::I420_12LE, 256, 3760, 2048, 0}, {PixelFormat::Y444_16LE, 4096, 60160, 32768, 0},
                        {PixelFormat::I420, 16, 235, 128, 0},        {PixelFormat::NV12, 16, 235, 128, 0}};
  for (const Case& c : cases) {
    SCOPED_TRACE(format_info(c.f).name);
    const bool u16 = format_info(c.f).bits > 8;
    for (uint32_t code : {c.black, c.white}) {
      std::vector<uint8_t> buf(packed_size(c.f, w, h));
      FrameView v = packed_view(c.f, w, h, buf.data());
      // Fill: Y = code, chroma neutral.
      for (int p = 0; p < format_info(c.f).planes; ++p) {
        const uint32_t val = (p == 0 ? code : c.neutral_c) << c.shift;
        for (int y = 0; y < plane_height(c.f, p, h); ++y)
          for (std::ptrdiff_t x = 0; x < min_stride(c.f, p, w) / (u16 ? 2 : 1); ++x) {
            uint8_t* q = v.data[p] + y * v.stride[p] + x * (u16 ? 2 : 1);
            if (u16)
              pio::store_u16(q, val);
            else
              *q = static_cast<uint8_t>(val);
          }
      }
      float rgb[12];
      unpack_rows(v, lim, 0, h, rgb, 6);
      const float expect = code == c.black ? 0.0f : 1.0f;
      for (float x : rgb) EXPECT_NEAR(x, expect, 1e-5f);
      // Packing 0 / 1 writes exactly these codes back.
      std::vector<uint8_t> buf2(buf.size(), 0);
      FrameView v2 = packed_view(c.f, w, h, buf2.data());
      pack_rows(rgb, 6, v2, lim, 0, h, false);
      EXPECT_EQ(buf, buf2);
    }
    // Full range: 0 -> 0 and 2^n - 1 -> 1.
    const int bits = format_info(c.f).bits;
    const pio::YuvDecode d = pio::make_yuv_decode(YuvMatrix::BT2020NC, true, bits);
    float r, g, b;
    pio::yuv_to_rgb(d, static_cast<float>((1u << bits) - 1), static_cast<float>(1u << (bits - 1)),
                    static_cast<float>(1u << (bits - 1)), r, g, b);
    EXPECT_NEAR(r, 1.0f, 1e-5f);
    EXPECT_NEAR(g, 1.0f, 1e-5f);
    EXPECT_NEAR(b, 1.0f, 1e-5f);
    (void)full;
  }
  // 10-10-10-2 words, alpha opaque.
  const float red[3] = {1.0f, 0.0f, 0.0f};
  uint8_t word[4];
  FrameView v = packed_view(PixelFormat::RGB10A2_LE, 1, 1, word);
  pack_rows(red, 3, v, lim, 0, 1, false);
  EXPECT_EQ(pio::load_u32(word), 0xC00003FFu);
  v = packed_view(PixelFormat::BGR10A2_LE, 1, 1, word);
  pack_rows(red, 3, v, lim, 0, 1, false);
  EXPECT_EQ(pio::load_u32(word), 0xFFF00000u);
  uint8_t px8[8];
  v = packed_view(PixelFormat::BGRA, 1, 1, px8);
  pack_rows(red, 3, v, lim, 0, 1, true);
  EXPECT_EQ(px8[0], 0);
  EXPECT_EQ(px8[2], 255);
  EXPECT_EQ(px8[3], 255);
  v = packed_view(PixelFormat::RGBA64_LE, 1, 1, px8);
  pack_rows(red, 3, v, lim, 0, 1, false);
  EXPECT_EQ(pio::load_u16(px8), 65535u);
  EXPECT_EQ(pio::load_u16(px8 + 2), 0u);
  EXPECT_EQ(pio::load_u16(px8 + 6), 65535u);
  // I420_10 reads only the low 10 bits (stray high bits ignored).
  EXPECT_EQ(pio::from_low_bits(0xFC00u | 940u, 10), 940u);
  EXPECT_EQ(pio::to_high_bits(940u, 10), 940u << 6);
}

// Known Y'CbCr codes of 100% red (ITU-R BT.709 8-bit: 63, 102, 240) and the matrices'
// float round trip.
TEST(Convert, YuvMatrices) {
  const pio::YuvEncode e709 = pio::make_yuv_encode(YuvMatrix::BT709, false, 8);
  float cb, cr;
  pio::rgb_to_cbcr_code(e709, 1, 0, 0, cb, cr);
  EXPECT_EQ(pio::quantize_code(pio::rgb_to_y_code(e709, 1, 0, 0), 255, 0.5f), 63u);
  EXPECT_EQ(pio::quantize_code(cb, 255, 0.5f), 102u);
  EXPECT_EQ(pio::quantize_code(cr, 255, 0.5f), 240u);
  // BT.2020 10-bit red: Y' = 64 + 0.2627 * 876 = 294.1, Cr = 512 + 448 = 960.
  const pio::YuvEncode e2020 = pio::make_yuv_encode(YuvMatrix::BT2020NC, false, 10);
  pio::rgb_to_cbcr_code(e2020, 1, 0, 0, cb, cr);
  EXPECT_EQ(pio::quantize_code(pio::rgb_to_y_code(e2020, 1, 0, 0), 1023, 0.5f), 294u);
  EXPECT_NEAR(cr, 960.0f, 1e-3f);
  for (YuvMatrix m : {YuvMatrix::BT709, YuvMatrix::BT2020NC, YuvMatrix::BT601}) {
    for (bool full : {false, true}) {
      for (int bits : {8, 10, 12, 16}) {
        const pio::YuvEncode e = pio::make_yuv_encode(m, full, bits);
        const pio::YuvDecode d = pio::make_yuv_decode(m, full, bits);
        const std::vector<float> v = random_rgb(50, 1, false, 5);
        for (std::size_t i = 0; i < v.size(); i += 3) {
          float y = pio::rgb_to_y_code(e, v[i], v[i + 1], v[i + 2]);
          pio::rgb_to_cbcr_code(e, v[i], v[i + 1], v[i + 2], cb, cr);
          float r, g, b;
          pio::yuv_to_rgb(d, y, cb, cr, r, g, b);
          EXPECT_NEAR(r, v[i], 2e-5f);
          EXPECT_NEAR(g, v[i + 1], 2e-5f);
          EXPECT_NEAR(b, v[i + 2], 2e-5f);
        }
      }
    }
  }
}

TEST(Dither, BayerMatrix) {
  std::vector<int> seen(64, 0);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) seen[pio::bayer8_index(x, y)]++;
  for (int c : seen) EXPECT_EQ(c, 1);
  EXPECT_EQ(pio::bayer8_index(0, 0), 0);
  EXPECT_EQ(pio::bayer8_index(1, 0), 32);
  EXPECT_EQ(pio::bayer8_index(1, 1), 16);
  EXPECT_EQ(pio::bayer8_index(9, 17), pio::bayer8_index(1, 1));
}

// A flat field between two codes dithers to the right mean, the same pattern every time,
// tiled with period 8; without dither it rounds.
TEST(Dither, MeanPreservingAndStable) {
  const int w = 64, h = 32;
  for (PixelFormat f : {PixelFormat::RGBA, PixelFormat::BGRx, PixelFormat::NV12, PixelFormat::I420}) {
    for (float frac : {0.5f, 0.25f, 0.1f, 0.9f}) {
      SCOPED_TRACE(::testing::Message() << format_info(f).name << " frac " << frac);
      const bool yuv = format_info(f).yuv;
      // For Y'CbCr, a grey whose Y' code is 100 + frac (full range 8-bit, so code = v*255).
      const float v = (100.0f + frac) / 255.0f;
      std::vector<float> src(static_cast<std::size_t>(w) * h * 3, v);
      SignalDesc sig;
      sig.full_range = true;
      std::vector<uint8_t> a(packed_size(f, w, h)), b(a.size()), c(a.size());
      pack_rows(src.data(), 3 * w, packed_view(f, w, h, a.data()), sig, 0, h, true);
      pack_rows(src.data(), 3 * w, packed_view(f, w, h, b.data()), sig, 0, h, true);
      EXPECT_EQ(a, b);
      double sum = 0.0;
      FrameView va = packed_view(f, w, h, a.data());
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const uint8_t code = yuv ? va.data[0][y * va.stride[0] + x] : va.data[0][y * va.stride[0] + 4 * x + 1];
          sum += code;
          const int x8 = (x + 8) % w;
          const uint8_t code8 = yuv ? va.data[0][y * va.stride[0] + x8] : va.data[0][y * va.stride[0] + 4 * x8 + 1];
          EXPECT_EQ(code, code8);
        }
      EXPECT_NEAR(sum / (w * h), 100.0 + frac, 1.0 / 64.0 + 1e-3);
      pack_rows(src.data(), 3 * w, packed_view(f, w, h, c.data()), sig, 0, h, false);
      FrameView vc = packed_view(f, w, h, c.data());
      const uint8_t expect = frac < 0.5f ? 100 : 101;
      EXPECT_EQ(yuv ? vc.data[0][0] : vc.data[0][1], expect);
    }
  }
  // 10-bit outputs are never dithered.
  std::vector<float> src(8 * 8 * 3, 300.4f / 1023.0f);
  std::vector<uint8_t> o(packed_size(PixelFormat::RGB10A2_LE, 8, 8));
  SignalDesc sig;
  pack_rows(src.data(), 24, packed_view(PixelFormat::RGB10A2_LE, 8, 8, o.data()), sig, 0, 8, true);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(pio::load_u32(o.data() + 4 * i) & 0x3ffu, 300u);
}

// NaN, Inf and out-of-range values pack to the nearest legal code, never garbage.
TEST(Convert, PackSanitises) {
  const float bad[12] = {NAN, -1.0f, INFINITY, 2.0f, -INFINITY, 0.5f, 1e30f, -0.0f, 1.0f, 0.f, 0.f, 0.f};
  uint8_t out[16];
  SignalDesc sig;
  pack_rows(bad, 12, packed_view(PixelFormat::RGBA, 4, 1, out), sig, 0, 1, false);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 0);
  EXPECT_EQ(out[2], 255);
  EXPECT_EQ(out[4], 255);
  EXPECT_EQ(out[5], 0);
  EXPECT_EQ(out[6], 128);
  EXPECT_EQ(out[8], 255);
  EXPECT_EQ(out[9], 0);
}

// The kernels' whole-pixel reader agrees with the host row unpacker (nearest chroma
// equals interpolated chroma on flat-chroma content; 4:4:4 and RGB exactly).
TEST(PixelIo, ReadPixelMatchesRowUnpack) {
  const int w = 9, h = 5;
  for (PixelFormat f : kAll) {
    SCOPED_TRACE(format_info(f).name);
    const FormatInfo& fi = format_info(f);
    const std::vector<float> src = random_rgb(w, h, fi.subsampled, 3);
    SignalDesc sig;
    TestFrame tf(f, w, h, 7);
    pack_rows(src.data(), 3 * w, tf.v, sig, 0, h, false);
    std::vector<float> rows(src.size());
    unpack_rows(tf.v, sig, 0, h, rows.data(), 3 * w);
    const pio::YuvDecode d = pio::make_yuv_decode(sig.matrix, sig.full_range, fi.bits);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        float r, g, b;
        pio::read_pixel(f, tf.v.data, tf.v.stride, x, y, d, r, g, b);
        const float* e = &rows[(y * w + x) * 3];
        EXPECT_NEAR(r, e[0], 1e-5f);
        EXPECT_NEAR(g, e[1], 1e-5f);
        EXPECT_NEAR(b, e[2], 1e-5f);
      }
  }
}

// --- 4:2:0 chroma siting (SignalDesc::chroma_h_cosited / chroma_v_cosited) ---
namespace {

// An NV12 frame (full range, BT.709) of flat luma whose chroma is `a` on samples below
// `edge` and `b` from it on, the edge running across x (vertical == false: chroma columns)
// or across y (chroma rows).
std::vector<uint8_t> chroma_edge_nv12(int w, int h, int edge, bool vertical, uint8_t a, uint8_t b) {
  std::vector<uint8_t> buf(packed_size(PixelFormat::NV12, w, h), 128);
  const FrameView v = packed_view(PixelFormat::NV12, w, h, buf.data());
  for (int j = 0; j < (h + 1) / 2; ++j)
    for (int i = 0; i < (w + 1) / 2; ++i) {
      const uint8_t c = (vertical ? j : i) < edge ? a : b;
      v.data[1][j * v.stride[1] + 2 * i] = c;      // Cb
      v.data[1][j * v.stride[1] + 2 * i + 1] = c;  // Cr
    }
  return buf;
}

Vec3 rgb_of(float y, float c) {
  const pio::YuvDecode d = pio::make_yuv_decode(YuvMatrix::BT709, true, 8);
  Vec3 o;
  pio::yuv_to_rgb(d, y, c, c, o.x, o.y, o.z);
  return o;
}

}  // namespace

// A chroma edge between chroma columns 3 and 4: centre siting ("jpeg") puts chroma 4
// between luma 8 and 9, so luma 8 sees 3/4 of it; horizontal cositing ("mpeg2", H.264 /
// HEVC) puts it on luma 8, which sees it alone, and luma 7 halfway between 3 and 4.
// Rows likewise with vertical cositing. The row converter and the whole-pixel reader the
// kernels use (pio::read_rgb) agree for every siting.
TEST(ChromaSiting, UnpackPlacesChromaWhereTheSitingSays) {
  const int w = 16, h = 12;
  const float A = 60.0f, B = 200.0f;
  for (int vertical = 0; vertical < 2; ++vertical)
    for (int cosited = 0; cosited < 2; ++cosited) {
      SCOPED_TRACE(std::string(vertical ? "rows" : "columns") + (cosited ? " cosited" : " centre"));
      std::vector<uint8_t> buf = chroma_edge_nv12(w, h, 4, vertical != 0, uint8_t(A), uint8_t(B));
      const FrameView v = packed_view(PixelFormat::NV12, w, h, buf.data());
      SignalDesc sig;
      sig.matrix = YuvMatrix::BT709;
      sig.full_range = true;
      sig.chroma_h_cosited = !vertical && cosited;
      sig.chroma_v_cosited = vertical && cosited;
      std::vector<float> rgb(size_t(w) * h * 3);
      unpack_rows(v, sig, 0, h, rgb.data(), std::ptrdiff_t(w) * 3);
      // expected chroma at luma positions 6, 7, 8, 9 across the edge
      const float want[2][4] = {{A, 0.75f * A + 0.25f * B, 0.25f * A + 0.75f * B, B},  // centre
                                {A, 0.5f * A + 0.5f * B, B, B}};                         // cosited
      const pio::YuvDecode d = pio::yuv_decode(sig, 8);
      const pio::FramePlanes fp = pio::frame_planes(v);
      for (int k = 0; k < 4; ++k) {
        const int p = 6 + k;
        const int x = vertical ? 5 : p, y = vertical ? p : 5;
        const Vec3 e = rgb_of(128.0f, want[cosited][k]);
        const float* o = &rgb[(size_t(y) * w + x) * 3];
        EXPECT_NEAR(o[0], e.x, 1e-5f) << "position " << p;
        EXPECT_NEAR(o[2], e.z, 1e-5f) << "position " << p;
        float r, g, b;
        pio::read_rgb(fp, d, x, y, r, g, b);
        EXPECT_NEAR(r, o[0], 1e-6f) << "read_rgb, position " << p;
        EXPECT_NEAR(g, o[1], 1e-6f) << "read_rgb, position " << p;
        EXPECT_NEAR(b, o[2], 1e-6f) << "read_rgb, position " << p;
      }
    }
  // the same bytes decoded with the two sitings differ at the edge: the quarter-sample
  // shift an h-cosited (H.264 / HEVC) stream got when centre siting was assumed
  std::vector<uint8_t> buf = chroma_edge_nv12(w, h, 4, false, uint8_t(A), uint8_t(B));
  SignalDesc centre, mpeg2;
  centre.matrix = mpeg2.matrix = YuvMatrix::BT709;
  centre.full_range = mpeg2.full_range = true;
  mpeg2.chroma_h_cosited = true;
  std::vector<float> c0(size_t(w) * h * 3), c1(c0.size());
  unpack_rows(packed_view(PixelFormat::NV12, w, h, buf.data()), centre, 0, h, c0.data(), std::ptrdiff_t(w) * 3);
  unpack_rows(packed_view(PixelFormat::NV12, w, h, buf.data()), mpeg2, 0, h, c1.data(), std::ptrdiff_t(w) * 3);
  EXPECT_GT(std::fabs(c0[8 * 3] - c1[8 * 3]), 0.05f);
}

// The row unpack (unpack_yuv_row: the horizontally cosited siting copies the even columns'
// chroma) against the per-pixel read_rgb on random chroma: every 4:2:0 format and siting,
// odd widths (the vector loops' tails and the last chroma sample).
TEST(ChromaSiting, RowUnpackMatchesReadRgbOnRandomChroma) {
  for (const int w : {9, 37})
    for (int site = 0; site < 3; ++site)
      for (PixelFormat f : kAll) {
        const FormatInfo& fi = format_info(f);
        if (!fi.subsampled) continue;
        SCOPED_TRACE(std::string(fi.name) + " width " + std::to_string(w) + " siting " + std::to_string(site));
        const int h = 7;
        const std::vector<float> src = random_rgb(w, h, false, 5 + site);
        SignalDesc sig;
        sig.chroma_h_cosited = site > 0;
        sig.chroma_v_cosited = site > 1;
        TestFrame tf(f, w, h, 3);
        pack_rows(src.data(), 3 * w, tf.v, sig, 0, h, false);
        std::vector<float> rows(src.size());
        unpack_rows(tf.v, sig, 0, h, rows.data(), 3 * w);
        const pio::YuvDecode d = pio::yuv_decode(sig, fi.bits);
        const pio::FramePlanes fp = pio::frame_planes(tf.v);
        int bad = 0;
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x) {
            float r, g, b;
            pio::read_rgb(fp, d, x, y, r, g, b);
            const float* o = &rows[(size_t(y) * w + x) * 3];
            bad += std::fabs(r - o[0]) > 1e-6f || std::fabs(g - o[1]) > 1e-6f || std::fabs(b - o[2]) > 1e-6f;
          }
        EXPECT_EQ(bad, 0);
      }
}

// Packing: a cosited axis takes the chroma of luma 2i (the odd column / row does not enter
// it), centre siting the mean of the block; the whole-block writer the kernels use
// (pio::write_block) stores the same codes.
TEST(ChromaSiting, PackTakesChromaWhereTheSitingSays) {
  const int w = 8, h = 4;
  // even columns a saturated red, odd columns blue; rows alike (so only the horizontal
  // siting matters) and then even rows red, odd rows blue (only the vertical)
  for (int vertical = 0; vertical < 2; ++vertical)
    for (int cosited = 0; cosited < 2; ++cosited) {
      SCOPED_TRACE(std::string(vertical ? "rows" : "columns") + (cosited ? " cosited" : " centre"));
      std::vector<float> rgb(size_t(w) * h * 3);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const bool odd = ((vertical ? y : x) & 1) != 0;
          float* p = &rgb[(size_t(y) * w + x) * 3];
          p[0] = odd ? 0.1f : 0.9f;
          p[1] = 0.2f;
          p[2] = odd ? 0.9f : 0.1f;
        }
      SignalDesc sig;
      sig.matrix = YuvMatrix::BT709;
      sig.full_range = true;
      sig.chroma_h_cosited = !vertical && cosited;
      sig.chroma_v_cosited = vertical && cosited;
      std::vector<uint8_t> buf(packed_size(PixelFormat::NV12, w, h)), blk(buf.size());
      pack_rows(rgb.data(), std::ptrdiff_t(w) * 3, packed_view(PixelFormat::NV12, w, h, buf.data()), sig, 0, h, false);
      const pio::YuvEncode e = pio::yuv_encode(sig, 8);
      float cb, cr;
      if (cosited)
        pio::rgb_to_cbcr_code(e, 0.9f, 0.2f, 0.1f, cb, cr);  // the even (red) pixel alone
      else
        pio::rgb_to_cbcr_code(e, 0.5f, 0.2f, 0.5f, cb, cr);  // the mean of red and blue
      const FrameView v = packed_view(PixelFormat::NV12, w, h, buf.data());
      for (int i = 0; i < w / 2; ++i) {
        EXPECT_EQ(int(v.data[1][2 * i]), int(pio::quantize_code(cb, 255, 0.5f))) << "Cb " << i;
        EXPECT_EQ(int(v.data[1][2 * i + 1]), int(pio::quantize_code(cr, 255, 0.5f))) << "Cr " << i;
      }
      const pio::FramePlanes fp = pio::frame_planes(packed_view(PixelFormat::NV12, w, h, blk.data()));
      for (int y0 = 0; y0 < h; y0 += 2)
        for (int x0 = 0; x0 < w; x0 += 2) {
          float b4[4][3];
          for (int k = 0; k < 4; ++k)
            for (int c = 0; c < 3; ++c) b4[k][c] = rgb[(size_t(y0 + (k >> 1)) * w + x0 + (k & 1)) * 3 + c];
          pio::write_block(fp, e, x0, y0, b4, false);
        }
      EXPECT_EQ(blk, buf) << "write_block and pack_rows store different codes";
    }
}

// A chroma ramp survives a pack / unpack round trip in place with the matching siting
// (linear chroma is reproduced by either), and a stream read with the wrong siting is off
// by a quarter chroma sample, half a luma pixel: an h-cosited (H.264 / HEVC) stream read
// as centre-sited, what the converters did before they honoured the siting.
TEST(ChromaSiting, RoundTripKeepsChromaInPlace) {
  const int w = 32, h = 8;
  const float slope = 0.6f / float(w - 1);  // red per luma pixel
  std::vector<float> rgb(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float* p = &rgb[(size_t(y) * w + x) * 3];
      p[0] = 0.2f + slope * float(x);
      p[1] = 0.4f;
      p[2] = 0.8f - slope * float(x);
    }
  // mean signed error of red over the interior columns of a round trip through P010
  auto trip = [&](bool pack_cos, bool unpack_cos) {
    SignalDesc s;
    s.matrix = YuvMatrix::BT709;
    s.full_range = true;
    s.chroma_h_cosited = pack_cos;
    std::vector<uint8_t> buf(packed_size(PixelFormat::P010_10LE, w, h));
    const FrameView v = packed_view(PixelFormat::P010_10LE, w, h, buf.data());
    pack_rows(rgb.data(), std::ptrdiff_t(w) * 3, v, s, 0, h, false);
    s.chroma_h_cosited = unpack_cos;
    std::vector<float> o(rgb.size());
    unpack_rows(v, s, 0, h, o.data(), std::ptrdiff_t(w) * 3);
    double e = 0.0;
    int n = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 3; x < w - 3; ++x, ++n) e += o[(size_t(y) * w + x) * 3] - rgb[(size_t(y) * w + x) * 3];
    return e / n;
  };
  EXPECT_LT(std::fabs(trip(false, false)), 0.05 * slope) << "centre siting";
  EXPECT_LT(std::fabs(trip(true, true)), 0.05 * slope) << "h-cosited siting";
  // cosited written, centre read: the chroma lands half a pixel to the right, red (rising
  // with x) comes out half a pixel's worth too low
  EXPECT_NEAR(trip(true, false), -0.5 * slope, 0.1 * slope) << "cosited written, centre read";
  EXPECT_NEAR(trip(false, true), 0.5 * slope, 0.1 * slope) << "centre written, cosited read";
}

// The 4:2:0 packer (pack_rows, pack_rows_planar; convert.cpp pack_yuv420_pair: luma in
// blocks of 8 dither offsets, chroma in blocks of 64 and 8 full 2x2 blocks, then single
// ones) stores the codes of the whole-block writer (pio::write_block) at every width that
// takes each of those loops, from values outside [0, 1] and NaN (clamped), with and
// without dither, in each container, range and siting.
TEST(Pack420, MatchesWriteBlockAtEveryWidth) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-0.1f, 1.1f);
  long long codes = 0, off_a = 0, off_b = 0;
  const PixelFormat fmts[] = {PixelFormat::I420, PixelFormat::NV12, PixelFormat::P010_10LE, PixelFormat::I420_10LE};
  for (PixelFormat f : fmts)
    for (int w : {1, 2, 15, 16, 18, 128, 131, 146, 290, 1920})
      for (int sit = 0; sit < 4; ++sit)
        for (int dither = 0; dither < 2; ++dither) {
          const int h = 5;
          SCOPED_TRACE("format " + std::to_string(int(f)) + " width " + std::to_string(w) + " siting " +
                       std::to_string(sit) + " dither " + std::to_string(dither));
          SignalDesc sig;
          sig.matrix = YuvMatrix::BT709;
          sig.full_range = sit == 3;
          sig.chroma_h_cosited = (sit & 1) != 0;
          sig.chroma_v_cosited = (sit & 2) != 0;
          std::vector<float> rgb(size_t(w) * h * 3);
          for (float& v : rgb) v = u(rng);
          rgb[0] = std::nanf("");
          const int bits = format_info(f).bits;
          const bool dth = dither && bits <= 8;
          // reference: write_block per 2x2 block
          TestFrame ref(f, w, h, 3);
          const pio::FramePlanes fp = pio::frame_planes(ref.v);
          const pio::YuvEncode e = pio::yuv_encode(sig, bits);
          for (int y0 = 0; y0 < h; y0 += 2)
            for (int x0 = 0; x0 < w; x0 += 2) {
              float b4[4][3] = {};
              for (int k = 0; k < 4; ++k) {
                const int x = x0 + (k & 1), y = y0 + (k >> 1);
                if (x < w && y < h)
                  for (int c = 0; c < 3; ++c) b4[k][c] = rgb[(size_t(y) * w + x) * 3 + c];
              }
              pio::write_block(fp, e, x0, y0, b4, dth);
            }
          // pack_rows in two bands (of even rows, as the engines' bands are)
          TestFrame a(f, w, h, 3);
          pack_rows(rgb.data(), std::ptrdiff_t(w) * 3, a.v, sig, 0, 2, dither != 0);
          pack_rows(rgb.data() + size_t(2) * w * 3, std::ptrdiff_t(w) * 3, a.v, sig, 2, h, dither != 0);
          // pack_rows_planar from planar rows
          std::vector<float> pl(size_t(w) * h * 3);
          for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
              for (int c = 0; c < 3; ++c) pl[(size_t(y) * 3 + c) * w + x] = rgb[(size_t(y) * w + x) * 3 + c];
          TestFrame b(f, w, h, 3);
          pack_rows_planar(pl.data(), std::ptrdiff_t(w) * 3, w, b.v, sig, 0, h, dither != 0);
          // codes equal but for FMA contraction (the packer's ISA clone against the scalar
          // write_block): 1 code apart on a rounding tie, rarely; a wrong offset or sample
          // moves most codes
          const bool u16 = bits > 8, hi = f == PixelFormat::P010_10LE;
          auto code = [&](const FrameView& v, int p, int r, int k) {
            const uint8_t* q = v.data[p] + r * v.stride[p];
            return u16 ? int(hi ? pio::from_high_bits(pio::load_u16(q + 2 * k), bits) : pio::load_u16(q + 2 * k))
                       : int(q[k]);
          };
          for (const TestFrame* t : {&a, &b})
            for (int p = 0; p < format_info(f).planes; ++p) {
              const int n = int(min_stride(f, p, w) / (u16 ? 2 : 1));
              for (int r = 0; r < plane_height(f, p, h); ++r)
                for (int k = 0; k < n; ++k) {
                  const int d = std::abs(code(ref.v, p, r, k) - code(t->v, p, r, k));
                  ASSERT_LE(d, 1) << (t == &a ? "pack_rows" : "pack_rows_planar") << " plane " << p << " row " << r << " at " << k;
                  (t == &a ? off_a : off_b) += d;
                  codes += t == &a ? 1 : 0;
                }
            }
          EXPECT_TRUE(a.guards_intact());
          EXPECT_TRUE(b.guards_intact());
        }
  EXPECT_LT(double(off_a), 1e-3 * double(codes)) << off_a << " of " << codes << " codes 1 apart (pack_rows)";
  EXPECT_LT(double(off_b), 1e-3 * double(codes)) << off_b << " of " << codes << " codes 1 apart (pack_rows_planar)";
  std::printf("4:2:0 pack against write_block: %lld and %lld of %lld codes 1 apart\n", off_a, off_b, codes);
}
