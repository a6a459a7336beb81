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
// - 4:2:0 chroma siting (SignalDesc::chroma_h_cosited / chroma_v_cosited): along an axis
//   where chroma sits between luma 2i and 2i + 1 (centre), upsampling interpolates
//   linearly about that position (weights 3/4, 1/4) and downsampling averages the pair;
//   where it is cosited with luma 2i, upsampling takes it there and halfway to the next
//   one (1/2, 1/2) and downsampling takes luma 2i (point sampling: the phase is exact; a
//   [1 2 1] lowpass would need the neighbouring 2x2 block, which the GPU's one-thread-
//   per-block packing does not see). chroma_phase / chroma_down_weights below, used by
//   the host row converters and the kernels' whole-pixel I/O alike.
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
  bool h_cosited = false, v_cosited = false;  // 4:2:0 chroma siting (SignalDesc)
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
  bool h_cosited = false, v_cosited = false;  // 4:2:0 chroma siting (SignalDesc)
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

// The decode / encode constants of a signal (matrix, range, siting) at `bits` bits.
DTUTMO_HD YuvDecode yuv_decode(const SignalDesc& s, int bits) {
  YuvDecode d = make_yuv_decode(s.matrix, s.full_range, bits);
  d.h_cosited = s.chroma_h_cosited;
  d.v_cosited = s.chroma_v_cosited;
  return d;
}
DTUTMO_HD YuvEncode yuv_encode(const SignalDesc& s, int bits) {
  YuvEncode e = make_yuv_encode(s.matrix, s.full_range, bits);
  e.h_cosited = s.chroma_h_cosited;
  e.v_cosited = s.chroma_v_cosited;
  return e;
}

// --- 4:2:0 chroma siting (one axis) ---
// Upsampling: luma position p reads chroma sample i = p >> 1 mixed with its neighbour
// i + fd (edges replicated) at weight w. Centre siting (chroma at luma 2i + 1/2): even p
// leans to i - 1, odd p to i + 1, by 1/4. Cosited (chroma at luma 2i): even p is sample i
// itself, odd p halfway to i + 1.
DTUTMO_PX void chroma_phase(int p, bool cosited, int* fd, float* w) {
  const bool odd = (p & 1) != 0;
  *fd = odd ? 1 : (cosited ? 0 : -1);
  *w = cosited ? (odd ? 0.5f : 0.0f) : 0.25f;
}
DTUTMO_PX float chroma_mix(float a, float b, float w) { return (1.0f - w) * a + w * b; }
// Downsampling: the weights of luma 2i and 2i + 1 in chroma sample i.
DTUTMO_PX void chroma_down_weights(bool cosited, float w[2]) {
  w[0] = cosited ? 1.0f : 0.5f;
  w[1] = cosited ? 0.0f : 0.5f;
}

// Clamp a normalised value to [0, 1], NaN -> 0 (what pack_rows does before encoding).
DTUTMO_HD float clamp01(float v) { return v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f; }

// --- whole-pixel access of the packed RGB and 4:4:4 formats (one pixel per call; the
// format is uniform across a kernel's grid so the switch does not diverge). For 4:2:0
// read_pixel reads the nearest chroma sample; read_rgb below interpolates as the host
// row converter does.
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

// --- whole frames, a pixel or a 2x2 block at a time (the kernels, and the CPU engine's
// scalar reference path; the host row converters in convert.cpp run the same arithmetic
// by rows) ---
// A frame's planes (host or device pointers) and byte strides, by value.
struct FramePlanes {
  PixelFormat format;
  int width, height;
  uint8_t* data[4];
  ptrdiff_t stride[4];
};
DTUTMO_HD FramePlanes frame_planes(const FrameView& v) {
  FramePlanes f;
  f.format = v.format;
  f.width = v.width;
  f.height = v.height;
  for (int p = 0; p < 4; ++p) {
    f.data[p] = v.data[p];
    f.stride[p] = v.stride[p];
  }
  return f;
}

DTUTMO_HD bool is_yuv420(PixelFormat f) {
  return f == PixelFormat::P010_10LE || f == PixelFormat::P012_LE || f == PixelFormat::P016_LE ||
         f == PixelFormat::I420_10LE || f == PixelFormat::I420_12LE || f == PixelFormat::I420 ||
         f == PixelFormat::NV12;
}
DTUTMO_HD bool is_yuv(PixelFormat f) { return is_yuv420(f) || f == PixelFormat::Y444_16LE; }

// One chroma code pair (Cb, Cr) of a 4:2:0 format at chroma sample (i, j).
DTUTMO_HD void load_chroma420(const FramePlanes& f, int i, int j, float& u, float& v) {
  switch (f.format) {
    case PixelFormat::P010_10LE:
    case PixelFormat::P012_LE:
    case PixelFormat::P016_LE: {
      const int bits = format_bits(f.format);
      const uint8_t* c = f.data[1] + (ptrdiff_t)j * f.stride[1] + (ptrdiff_t)i * 4;
      u = (float)from_high_bits(load_u16(c), bits);
      v = (float)from_high_bits(load_u16(c + 2), bits);
      return;
    }
    case PixelFormat::I420_10LE:
    case PixelFormat::I420_12LE: {
      const int bits = format_bits(f.format);
      u = (float)from_low_bits(load_u16(f.data[1] + (ptrdiff_t)j * f.stride[1] + (ptrdiff_t)i * 2), bits);
      v = (float)from_low_bits(load_u16(f.data[2] + (ptrdiff_t)j * f.stride[2] + (ptrdiff_t)i * 2), bits);
      return;
    }
    case PixelFormat::NV12: {
      const uint8_t* c = f.data[1] + (ptrdiff_t)j * f.stride[1] + (ptrdiff_t)i * 2;
      u = (float)c[0];
      v = (float)c[1];
      return;
    }
    case PixelFormat::I420:
    default:
      u = (float)f.data[1][(ptrdiff_t)j * f.stride[1] + i];
      v = (float)f.data[2][(ptrdiff_t)j * f.stride[2] + i];
      return;
  }
}

DTUTMO_HD float load_luma420(const FramePlanes& f, int x, int y) {
  const uint8_t* row = f.data[0] + (ptrdiff_t)y * f.stride[0];
  switch (f.format) {
    case PixelFormat::P010_10LE:
    case PixelFormat::P012_LE:
    case PixelFormat::P016_LE:
      return (float)from_high_bits(load_u16(row + x * 2), format_bits(f.format));
    case PixelFormat::I420_10LE:
    case PixelFormat::I420_12LE:
      return (float)from_low_bits(load_u16(row + x * 2), format_bits(f.format));
    default:
      return (float)row[x];
  }
}

// Normalised R'G'B' of pixel (x, y), as unpack_rows() gives it: 4:2:0 chroma upsampled
// per the siting (chroma_phase), vertically first, then horizontally.
DTUTMO_HD void read_rgb(const FramePlanes& f, const YuvDecode& d, int x, int y, float& r, float& g,
                        float& b) {
  if (!is_yuv420(f.format)) {
    read_pixel(f.format, f.data, f.stride, x, y, d, r, g, b);
    return;
  }
  const int cw = (f.width + 1) / 2, ch = (f.height + 1) / 2;
  int fdx, fdy;
  float wx, wy;
  chroma_phase(y, d.v_cosited, &fdy, &wy);
  chroma_phase(x, d.h_cosited, &fdx, &wx);
  const int j = y >> 1, i = x >> 1;
  int jn = j + fdy, in = i + fdx;
  jn = jn < 0 ? 0 : (jn > ch - 1 ? ch - 1 : jn);
  in = in < 0 ? 0 : (in > cw - 1 ? cw - 1 : in);
  float ua, va, ub, vb, uc, vc, ud, vd;
  load_chroma420(f, i, j, ua, va);
  load_chroma420(f, i, jn, ub, vb);
  load_chroma420(f, in, j, uc, vc);
  load_chroma420(f, in, jn, ud, vd);
  const float u0 = chroma_mix(ua, ub, wy), v0 = chroma_mix(va, vb, wy);  // vertical
  const float u1 = chroma_mix(uc, ud, wy), v1 = chroma_mix(vc, vd, wy);
  yuv_to_rgb(d, load_luma420(f, x, y), chroma_mix(u0, u1, wx), chroma_mix(v0, v1, wx), r, g, b);
}

// Store one Y'CbCr code of a YUV format at element index `idx` of a row (the container
// width is taken from the format; interleaved UV rows pass idx = 2 i or 2 i + 1).
DTUTMO_HD void store_code_at(PixelFormat f, uint8_t* row, int idx, uint32_t code) {
  const int bytes = format_bits(f) > 8 ? 2 : 1;
  store_yuv_code(f, row + (ptrdiff_t)idx * bytes, code);
}

// The 4:2:0 chroma R'G'B' of a 2x2 block from its clamped pixels c00 (x0, y0), c01 (x1, y0),
// c10 (x0, y1), c11 (x1, y1) (the missing column / row of an odd edge replicated by the
// caller): weighted per the siting (chroma_down_weights), summed in this order.
DTUTMO_PX float chroma_down(float c00, float c01, float c10, float c11, const float wh[2],
                            const float wv[2]) {
  float acc = 0.0f;
  acc += wv[0] * wh[0] * c00;
  acc += wv[0] * wh[1] * c01;
  acc += wv[1] * wh[0] * c10;
  acc += wv[1] * wh[1] * c11;
  return acc;
}

// Write the up-to-2x2 block of pixels whose top-left is (x0, y0) (even coordinates):
// `rgb[k]` holds normalised R'G'B' of pixel (x0 + (k & 1), y0 + (k >> 1)); pixels outside
// the frame are ignored (they may hold anything). `dither` only for outputs of <= 8 bits.
// As pack_rows(): values clamped to [0, 1] (except RGBF32, stored as is), 4:2:0 chroma
// from the clamped block per the siting (the missing column/row of an odd edge
// replicated), thresholds from the luma position for Y' and RGB, from the chroma position
// for Cb/Cr.
DTUTMO_HD void write_block(const FramePlanes& f, const YuvEncode& e, int x0, int y0,
                           const float (*rgb)[3], bool dither) {
  const PixelFormat fmt = f.format;
  const bool yuv = is_yuv(fmt);
  for (int k = 0; k < 4; ++k) {
    const int x = x0 + (k & 1), y = y0 + (k >> 1);
    if (x >= f.width || y >= f.height) continue;
    uint8_t* row = f.data[0] + (ptrdiff_t)y * f.stride[0];
    const float t = dither ? bayer8_threshold(x, y) : 0.5f;
    if (!yuv) {
      if (fmt == PixelFormat::RGBF32)
        write_rgb_pixel(fmt, row, x, rgb[k][0], rgb[k][1], rgb[k][2], t);
      else
        write_rgb_pixel(fmt, row, x, clamp01(rgb[k][0]), clamp01(rgb[k][1]), clamp01(rgb[k][2]), t);
      continue;
    }
    const float r = clamp01(rgb[k][0]), g = clamp01(rgb[k][1]), b = clamp01(rgb[k][2]);
    store_code_at(fmt, row, x, quantize_code(rgb_to_y_code(e, r, g, b), e.maxc, t));
    if (fmt == PixelFormat::Y444_16LE) {
      float cbv, crv;
      rgb_to_cbcr_code(e, r, g, b, cbv, crv);
      store_code_at(fmt, f.data[1] + (ptrdiff_t)y * f.stride[1], x, quantize_code(cbv, e.maxc, t));
      store_code_at(fmt, f.data[2] + (ptrdiff_t)y * f.stride[2], x, quantize_code(crv, e.maxc, t));
    }
  }
  if (!is_yuv420(fmt)) return;
  // Chroma of the block: columns x0, min(x0+1, w-1); rows y0, y0+1 if inside else y0.
  const int kx = (x0 + 1 < f.width) ? 1 : 0;
  const int ky = (y0 + 1 < f.height) ? 2 : 0;
  const int k00 = 0, k01 = kx, k10 = ky, k11 = ky + kx;
  float wh[2], wv[2];
  chroma_down_weights(e.h_cosited, wh);
  chroma_down_weights(e.v_cosited, wv);
  float c[3];
  for (int chn = 0; chn < 3; ++chn)
    c[chn] = chroma_down(clamp01(rgb[k00][chn]), clamp01(rgb[k01][chn]), clamp01(rgb[k10][chn]),
                         clamp01(rgb[k11][chn]), wh, wv);
  float cbv, crv;
  rgb_to_cbcr_code(e, c[0], c[1], c[2], cbv, crv);
  const int i = x0 >> 1, j = y0 >> 1;
  const float t = dither ? bayer8_threshold(i, j) : 0.5f;
  const uint32_t qb = quantize_code(cbv, e.maxc, t), qr = quantize_code(crv, e.maxc, t);
  const bool il = fmt == PixelFormat::NV12 || fmt == PixelFormat::P010_10LE ||
                  fmt == PixelFormat::P012_LE || fmt == PixelFormat::P016_LE;
  uint8_t* pu = f.data[1] + (ptrdiff_t)j * f.stride[1];
  if (il) {
    store_code_at(fmt, pu, 2 * i, qb);
    store_code_at(fmt, pu, 2 * i + 1, qr);
  } else {
    store_code_at(fmt, pu, i, qb);
    store_code_at(fmt, f.data[2] + (ptrdiff_t)j * f.stride[2], i, qr);
  }
}

}  // namespace pio
}  // namespace dtutmo
