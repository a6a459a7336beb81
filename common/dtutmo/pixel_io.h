// dtutmo -- per-pixel I/O: bit packing of every format in frame.h, Y'CbCr <-> R'G'B'
// (BT.709, BT.2020 NCL, BT.601; limited and full range), quantisation and the 8x8 Bayer
// ordered-dither threshold.
//
// Shared by the host row converters (common/src/convert.cpp) and the CUDA kernels, so
// everything here is DTUTMO_HD, branch-light, and free of std:: containers and exceptions.
// Host computes the constants (YuvDecode / YuvEncode) once per stream; the per-pixel
// functions only evaluate them.
//
// Conventions
// - Code values: integers as stored ("code"), and normalised non-linear signals in [0, 1]
//   ("norm", what convert.h exchanges). RGB formats are always full range:
//   norm = code / (2^bits - 1).
// - Y'CbCr range, ITU-R BT.709-6 / BT.2020-2 / BT.601-7 with n = bits:
//   limited: Y' = 16..235 x 2^(n-8), Cb/Cr = 16..240 x 2^(n-8) centred on 128 x 2^(n-8);
//   full:    Y' = 0..2^n-1, Cb/Cr centred on 2^(n-1), scale 2^n-1 (as ITU-T H.273 says).
// - Memory is little-endian (every format here is *LE); loads and stores go through
//   bytes so that any alignment and stride is allowed.
// - 4:2:0 chroma is taken as sited at the centre of its 2x2 luma block (the packer
//   averages the block; the row unpacker interpolates bilinearly about that centre).
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dtutmo/color.h"
#include "dtutmo/frame.h"
#include "dtutmo/hd.h"

namespace dtutmo {
namespace pio {

// --- little-endian loads and stores (any alignment) ---
DTUTMO_HD uint32_t load_u16(const uint8_t* p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }
DTUTMO_HD uint32_t load_u32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
DTUTMO_HD void store_u16(uint8_t* p, uint32_t v) {
  p[0] = (uint8_t)(v & 0xffu);
  p[1] = (uint8_t)((v >> 8) & 0xffu);
}
DTUTMO_HD void store_u32(uint8_t* p, uint32_t v) {
  p[0] = (uint8_t)(v & 0xffu);
  p[1] = (uint8_t)((v >> 8) & 0xffu);
  p[2] = (uint8_t)((v >> 16) & 0xffu);
  p[3] = (uint8_t)(v >> 24);
}

// --- bit alignment inside a 16-bit container ---
// P010/P012/P016: the significant bits are the HIGH bits (the low bits are zero).
DTUTMO_HD uint32_t from_high_bits(uint32_t v16, int bits) { return v16 >> (16 - bits); }
DTUTMO_HD uint32_t to_high_bits(uint32_t code, int bits) { return (code << (16 - bits)) & 0xffffu; }
// I420_10/12: the significant bits are the LOW bits; stray high bits are ignored on read.
DTUTMO_HD uint32_t from_low_bits(uint32_t v16, int bits) { return v16 & ((1u << bits) - 1u); }

DTUTMO_HD uint32_t max_code(int bits) { return (1u << bits) - 1u; }

// --- 10-10-10-2 words ---
// RGB10A2_LE: R bits 0-9, G 10-19, B 20-29, A 30-31.  BGR10A2_LE: B 0-9, G 10-19, R 20-29.
DTUTMO_HD void unpack_rgb10a2(uint32_t w, uint32_t& r, uint32_t& g, uint32_t& b) {
  r = w & 0x3ffu;
  g = (w >> 10) & 0x3ffu;
  b = (w >> 20) & 0x3ffu;
}
DTUTMO_HD void unpack_bgr10a2(uint32_t w, uint32_t& r, uint32_t& g, uint32_t& b) {
  b = w & 0x3ffu;
  g = (w >> 10) & 0x3ffu;
  r = (w >> 20) & 0x3ffu;
}
// Alpha is always written opaque (3).
DTUTMO_HD uint32_t pack_rgb10a2(uint32_t r, uint32_t g, uint32_t b) {
  return (r & 0x3ffu) | ((g & 0x3ffu) << 10) | ((b & 0x3ffu) << 20) | (3u << 30);
}
DTUTMO_HD uint32_t pack_bgr10a2(uint32_t r, uint32_t g, uint32_t b) {
  return (b & 0x3ffu) | ((g & 0x3ffu) << 10) | ((r & 0x3ffu) << 20) | (3u << 30);
}

// --- ordered dither ---
// Bayer 8x8 index M(x, y) in 0..63 (bit_reverse(interleave(x ^ y, y))), the classic matrix
// whose first row is 0 32 8 40 2 34 10 42. Depends on (x mod 8, y mod 8) only, so a static
// picture dithers to the same codes every frame.
DTUTMO_HD int bayer8_index(int x, int y) {
  const int v = (x ^ y) & 7;
  const int w = y & 7;
  return ((v & 1) << 5) | ((w & 1) << 4) | ((v & 2) << 2) | ((w & 2) << 1) | ((v & 4) >> 1) |
         ((w & 4) >> 2);
}
// Rounding offset in (0, 1) for quantise(): (M + 0.5) / 64. Its mean over the 8x8 tile
// is exactly 0.5, so dithering preserves the mean: floor(v + t) averages to v over a tile
// (to 1/64 LSB) for any v. Without dither the offset is 0.5 (round to nearest).
DTUTMO_HD float bayer8_threshold(int x, int y) {
  return ((float)bayer8_index(x, y) + 0.5f) * (1.0f / 64.0f);
}

// Normalised value -> integer code in [0, maxc]: floor(v * maxc + offset), offset 0.5 for
// plain rounding or bayer8_threshold() for dither. NaN and negatives give 0.
DTUTMO_HD uint32_t quantize(float v, uint32_t maxc, float offset) {
  const float m = (float)maxc;
  float c = v * m + offset;
  c = c > 0.0f ? (c < m ? c : m) : 0.0f;  // NaN -> 0
  return (uint32_t)(int32_t)c;            // truncation == floor for c >= 0 (c < 2^31)
}
// Same for an already-scaled code value (Y'CbCr codes in their own units).
DTUTMO_HD uint32_t quantize_code(float code, uint32_t maxc, float offset) {
  const float m = (float)maxc;
  float c = code + offset;
  c = c > 0.0f ? (c < m ? c : m) : 0.0f;
  return (uint32_t)(int32_t)c;
}

// --- Y'CbCr range and matrix ---
// Range of a Y'CbCr signal with `bits` bits: code = off + norm * scale.
struct YuvRange {
  float y_off, y_scale;  // Y' in [0, 1]
  float c_off, c_scale;  // Cb, Cr in [-0.5, 0.5]
};
DTUTMO_HD YuvRange yuv_range(int bits, bool full_range) {
  const float mul = (float)(1u << (bits - 8));  // 2^(n-8)
  YuvRange r;
  if (full_range) {
    const float m = (float)max_code(bits);
    r.y_off = 0.0f;
    r.y_scale = m;
    r.c_off = (float)(1u << (bits - 1));
    r.c_scale = m;
  } else {
    r.y_off = 16.0f * mul;
    r.y_scale = 219.0f * mul;
    r.c_off = 128.0f * mul;
    r.c_scale = 224.0f * mul;
  }
  return r;
}

// Y'CbCr codes -> normalised R'G'B'. R' = Y' + 2(1-kr) Cr, B' = Y' + 2(1-kb) Cb,
// G' = (Y' - kr R' - kb B') / kg (BT.709-6 3.2 and the same form for BT.2020 NCL, BT.601).
struct YuvDecode {
  float y_off, y_mul;  // Y' = (code - y_off) * y_mul
  float c_off, c_mul;  // C  = (code - c_off) * c_mul
  float r_cr;          // R' = Y' + r_cr Cr
  float g_cb, g_cr;    // G' = Y' + g_cb Cb + g_cr Cr
  float b_cb;          // B' = Y' + b_cb Cb
};
DTUTMO_HD YuvDecode make_yuv_decode(YuvMatrix m, bool full_range, int bits) {
  const YuvCoeffs k = yuv_coeffs(m);
  const float kg = 1.0f - k.kr - k.kb;
  const YuvRange rg = yuv_range(bits, full_range);
  YuvDecode d;
  d.y_off = rg.y_off;
  d.y_mul = 1.0f / rg.y_scale;
  d.c_off = rg.c_off;
  d.c_mul = 1.0f / rg.c_scale;
  d.r_cr = 2.0f * (1.0f - k.kr);
  d.b_cb = 2.0f * (1.0f - k.kb);
  d.g_cb = -k.kb * d.b_cb / kg;
  d.g_cr = -k.kr * d.r_cr / kg;
  return d;
}
// Codes (as float) -> R'G'B' normalised. Not clamped: foot- and headroom pass through.
DTUTMO_HD void yuv_to_rgb(const YuvDecode& d, float y, float cb, float cr, float& r, float& g,
                          float& b) {
  const float yn = (y - d.y_off) * d.y_mul;
  const float u = (cb - d.c_off) * d.c_mul;
  const float v = (cr - d.c_off) * d.c_mul;
  r = yn + d.r_cr * v;
  g = yn + d.g_cb * u + d.g_cr * v;
  b = yn + d.b_cb * u;
}

// Normalised R'G'B' -> Y'CbCr codes (float, not yet quantised).
struct YuvEncode {
  float kr, kg, kb;
  float cb_mul, cr_mul;  // Cb = (B' - Y') * cb_mul, Cr = (R' - Y') * cr_mul
  float y_off, y_scale, c_off, c_scale;
  uint32_t maxc;
};
DTUTMO_HD YuvEncode make_yuv_encode(YuvMatrix m, bool full_range, int bits) {
  const YuvCoeffs k = yuv_coeffs(m);
  const YuvRange rg = yuv_range(bits, full_range);
  YuvEncode e;
  e.kr = k.kr;
  e.kb = k.kb;
  e.kg = 1.0f - k.kr - k.kb;
  e.cb_mul = 0.5f / (1.0f - k.kb);
  e.cr_mul = 0.5f / (1.0f - k.kr);
  e.y_off = rg.y_off;
  e.y_scale = rg.y_scale;
  e.c_off = rg.c_off;
  e.c_scale = rg.c_scale;
  e.maxc = max_code(bits);
  return e;
}
DTUTMO_HD float rgb_to_y_code(const YuvEncode& e, float r, float g, float b) {
  return e.y_off + (e.kr * r + e.kg * g + e.kb * b) * e.y_scale;
}
DTUTMO_HD void rgb_to_cbcr_code(const YuvEncode& e, float r, float g, float b, float& cb,
                                float& cr) {
  const float y = e.kr * r + e.kg * g + e.kb * b;
  cb = e.c_off + (b - y) * e.cb_mul * e.c_scale;
  cr = e.c_off + (r - y) * e.cr_mul * e.c_scale;
}

// Clamp a normalised value to [0, 1], NaN -> 0 (what pack_rows does before encoding).
DTUTMO_HD float clamp01(float v) { return v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f; }

// --- whole-pixel access, for kernels (one thread per pixel; the format is uniform across
// the grid so the switch does not diverge). 4:2:0 chroma is read nearest (the chroma
// sample whose 2x2 block holds the pixel); the host row converter interpolates instead.
// `planes`/`strides` as in FrameView. Returns normalised R'G'B' as unpack_rows does.
DTUTMO_HD void read_pixel(PixelFormat f, uint8_t* const* planes, const ptrdiff_t* strides,
                          int x, int y, const YuvDecode& d, float& r, float& g, float& b) {
  const uint8_t* row0 = planes[0] + (ptrdiff_t)y * strides[0];
  switch (f) {
    case PixelFormat::P010_10LE:
    case PixelFormat::P012_LE:
    case PixelFormat::P016_LE: {
      const int bits = f == PixelFormat::P010_10LE ? 10 : (f == PixelFormat::P012_LE ? 12 : 16);
      const uint8_t* c = planes[1] + (ptrdiff_t)(y >> 1) * strides[1] + (x >> 1) * 4;
      yuv_to_rgb(d, (float)from_high_bits(load_u16(row0 + x * 2), bits),
                 (float)from_high_bits(load_u16(c), bits),
                 (float)from_high_bits(load_u16(c + 2), bits), r, g, b);
      return;
    }
    case PixelFormat::I420_10LE:
    case PixelFormat::I420_12LE: {
      const int bits = f == PixelFormat::I420_10LE ? 10 : 12;
      const ptrdiff_t cx = (x >> 1) * 2;
      yuv_to_rgb(d, (float)from_low_bits(load_u16(row0 + x * 2), bits),
                 (float)from_low_bits(load_u16(planes[1] + (ptrdiff_t)(y >> 1) * strides[1] + cx), bits),
                 (float)from_low_bits(load_u16(planes[2] + (ptrdiff_t)(y >> 1) * strides[2] + cx), bits),
                 r, g, b);
      return;
    }
    case PixelFormat::Y444_16LE:
      yuv_to_rgb(d, (float)load_u16(row0 + x * 2),
                 (float)load_u16(planes[1] + (ptrdiff_t)y * strides[1] + x * 2),
                 (float)load_u16(planes[2] + (ptrdiff_t)y * strides[2] + x * 2), r, g, b);
      return;
    case PixelFormat::I420:
      yuv_to_rgb(d, (float)row0[x], (float)planes[1][(ptrdiff_t)(y >> 1) * strides[1] + (x >> 1)],
                 (float)planes[2][(ptrdiff_t)(y >> 1) * strides[2] + (x >> 1)], r, g, b);
      return;
    case PixelFormat::NV12: {
      const uint8_t* c = planes[1] + (ptrdiff_t)(y >> 1) * strides[1] + (x >> 1) * 2;
      yuv_to_rgb(d, (float)row0[x], (float)c[0], (float)c[1], r, g, b);
      return;
    }
    case PixelFormat::RGBA64_LE: {
      const uint8_t* p = row0 + x * 8;
      const float s = 1.0f / 65535.0f;
      r = (float)load_u16(p) * s;
      g = (float)load_u16(p + 2) * s;
      b = (float)load_u16(p + 4) * s;
      return;
    }
    case PixelFormat::RGB10A2_LE:
    case PixelFormat::BGR10A2_LE: {
      uint32_t ri, gi, bi;
      const uint32_t w = load_u32(row0 + x * 4);
      if (f == PixelFormat::RGB10A2_LE)
        unpack_rgb10a2(w, ri, gi, bi);
      else
        unpack_bgr10a2(w, ri, gi, bi);
      const float s = 1.0f / 1023.0f;
      r = (float)ri * s;
      g = (float)gi * s;
      b = (float)bi * s;
      return;
    }
    case PixelFormat::RGBA:
    case PixelFormat::RGBx:
    case PixelFormat::BGRA:
    case PixelFormat::BGRx: {
      const uint8_t* p = row0 + x * 4;
      const bool bgr = f == PixelFormat::BGRA || f == PixelFormat::BGRx;
      const float s = 1.0f / 255.0f;
      r = (float)p[bgr ? 2 : 0] * s;
      g = (float)p[1] * s;
      b = (float)p[bgr ? 0 : 2] * s;
      return;
    }
    case PixelFormat::RGBF32:
    default: {
      float p[3];  // memcpy: strides need not keep floats aligned
      memcpy(p, row0 + x * 12, sizeof(p));
      r = p[0];
      g = p[1];
      b = p[2];
      return;
    }
  }
}

// Write one pixel of a packed RGB format (RGBA64, RGB10A2, BGR10A2, the 8-bit RGB formats,
// RGBF32), normalised R'G'B' in. `dither_offset`: 0.5 for rounding, bayer8_threshold()
// for 8-bit dither. Alpha / padding bytes are opaque. YUV formats: see write_y / the
// 4:2:0 chroma helpers below; this function ignores them.
DTUTMO_HD void write_rgb_pixel(PixelFormat f, uint8_t* row, int x, float r, float g, float b,
                               float dither_offset) {
  switch (f) {
    case PixelFormat::RGBA64_LE: {
      uint8_t* p = row + x * 8;
      store_u16(p, quantize(r, 65535u, 0.5f));
      store_u16(p + 2, quantize(g, 65535u, 0.5f));
      store_u16(p + 4, quantize(b, 65535u, 0.5f));
      store_u16(p + 6, 65535u);
      return;
    }
    case PixelFormat::RGB10A2_LE:
      store_u32(row + x * 4, pack_rgb10a2(quantize(r, 1023u, 0.5f), quantize(g, 1023u, 0.5f),
                                          quantize(b, 1023u, 0.5f)));
      return;
    case PixelFormat::BGR10A2_LE:
      store_u32(row + x * 4, pack_bgr10a2(quantize(r, 1023u, 0.5f), quantize(g, 1023u, 0.5f),
                                          quantize(b, 1023u, 0.5f)));
      return;
    case PixelFormat::RGBA:
    case PixelFormat::RGBx:
    case PixelFormat::BGRA:
    case PixelFormat::BGRx: {
      uint8_t* p = row + x * 4;
      const bool bgr = f == PixelFormat::BGRA || f == PixelFormat::BGRx;
      p[bgr ? 2 : 0] = (uint8_t)quantize(r, 255u, dither_offset);
      p[1] = (uint8_t)quantize(g, 255u, dither_offset);
      p[bgr ? 0 : 2] = (uint8_t)quantize(b, 255u, dither_offset);
      p[3] = 255u;
      return;
    }
    case PixelFormat::RGBF32: {
      const float p[3] = {r, g, b};
      memcpy(row + x * 12, p, sizeof(p));
      return;
    }
    default:
      return;
  }
}

// Bits per component of a format (also in format_info(); duplicated here for kernels).
DTUTMO_HD int format_bits(PixelFormat f) {
  switch (f) {
    case PixelFormat::P010_10LE:
    case PixelFormat::I420_10LE:
    case PixelFormat::RGB10A2_LE:
    case PixelFormat::BGR10A2_LE:
      return 10;
    case PixelFormat::P012_LE:
    case PixelFormat::I420_12LE:
      return 12;
    case PixelFormat::P016_LE:
    case PixelFormat::Y444_16LE:
    case PixelFormat::RGBA64_LE:
      return 16;
    case PixelFormat::RGBF32:
      return 32;
    default:
      return 8;
  }
}

// Store one Y'CbCr component code of a YUV format, in the container the format uses
// (u8; u16 high-bit aligned for P01x; u16 low-bit for I420_1x and Y444_16).
DTUTMO_HD void store_yuv_code(PixelFormat f, uint8_t* p, uint32_t code) {
  switch (f) {
    case PixelFormat::P010_10LE:
      store_u16(p, to_high_bits(code, 10));
      return;
    case PixelFormat::P012_LE:
      store_u16(p, to_high_bits(code, 12));
      return;
    case PixelFormat::P016_LE:
    case PixelFormat::I420_10LE:
    case PixelFormat::I420_12LE:
    case PixelFormat::Y444_16LE:
      store_u16(p, code);
      return;
    default:
      *p = (uint8_t)code;
      return;
  }
}

}  // namespace pio
}  // namespace dtutmo
