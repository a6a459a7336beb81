// dtutmo CUDA -- whole-pixel input and output in kernels, built on pixel_io.h and matching
// the host row converters of common/src/convert.cpp bit for bit in their arithmetic:
// 4:2:0 chroma is interpolated bilinearly about the block centre (3/4, 1/4 weights, edges
// replicated; vertical first, then horizontal, as unpack_rows does) and written as the
// mean of the 2x2 block (as pack_rows does). Everything else is pio::read_pixel /
// pio::write_rgb_pixel themselves.
#pragma once

#include <cuda_runtime.h>

#include "dtutmo/frame.h"
#include "dtutmo/hd.h"
#include "dtutmo/pixel_io.h"

namespace dtutmo {
namespace cuda {

// A frame as kernels see it: plane pointers (device memory) and byte strides, by value.
struct DevFrame {
  PixelFormat format;
  int width, height;
  uint8_t* data[4];
  ptrdiff_t stride[4];
};

DTUTMO_HD bool is_yuv420(PixelFormat f) {
  return f == PixelFormat::P010_10LE || f == PixelFormat::P012_LE || f == PixelFormat::P016_LE ||
         f == PixelFormat::I420_10LE || f == PixelFormat::I420_12LE || f == PixelFormat::I420 ||
         f == PixelFormat::NV12;
}
DTUTMO_HD bool is_yuv(PixelFormat f) {
  return is_yuv420(f) || f == PixelFormat::Y444_16LE;
}

// One chroma code pair (Cb, Cr) of a 4:2:0 format at chroma sample (i, j).
DTUTMO_HD void load_chroma420(const DevFrame& f, int i, int j, float& u,
                                               float& v) {
  using namespace pio;
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

DTUTMO_HD float load_luma420(const DevFrame& f, int x, int y) {
  using namespace pio;
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

// Normalised R'G'B' of pixel (x, y), as unpack_rows() gives it.
DTUTMO_HD void read_rgb(const DevFrame& f, const pio::YuvDecode& d, int x, int y,
                                         float& r, float& g, float& b) {
  if (!is_yuv420(f.format)) {
    pio::read_pixel(f.format, f.data, f.stride, x, y, d, r, g, b);
    return;
  }
  const int cw = (f.width + 1) / 2, ch = (f.height + 1) / 2;
  const int j = y >> 1;
  int jn = (y & 1) ? j + 1 : j - 1;
  jn = jn < 0 ? 0 : (jn > ch - 1 ? ch - 1 : jn);
  const int i = x >> 1;
  int in = (x & 1) ? i + 1 : i - 1;
  in = in < 0 ? 0 : (in > cw - 1 ? cw - 1 : in);
  float ua, va, ub, vb, uc, vc, ud, vd;
  load_chroma420(f, i, j, ua, va);
  load_chroma420(f, i, jn, ub, vb);
  load_chroma420(f, in, j, uc, vc);
  load_chroma420(f, in, jn, ud, vd);
  const float u0 = 0.75f * ua + 0.25f * ub, v0 = 0.75f * va + 0.25f * vb;  // vertical
  const float u1 = 0.75f * uc + 0.25f * ud, v1 = 0.75f * vc + 0.25f * vd;
  const float u = 0.75f * u0 + 0.25f * u1, v = 0.75f * v0 + 0.25f * v1;  // horizontal
  pio::yuv_to_rgb(d, load_luma420(f, x, y), u, v, r, g, b);
}

// Store one Y'CbCr code of a YUV format at element index `idx` of a row (the container
// width is taken from the format; interleaved UV rows pass idx = 2 i or 2 i + 1).
DTUTMO_HD void store_code_at(PixelFormat f, uint8_t* row, int idx,
                                              uint32_t code) {
  const int bytes = pio::format_bits(f) > 8 ? 2 : 1;
  pio::store_yuv_code(f, row + (ptrdiff_t)idx * bytes, code);
}

// Write the up-to-2x2 block of pixels whose top-left is (x0, y0) (even coordinates):
// `rgb[k]` holds normalised R'G'B' of pixel (x0 + (k & 1), y0 + (k >> 1)); pixels outside
// the frame are ignored (they may hold anything). `dither` only for outputs of <= 8 bits.
// Matches pack_rows(): values clamped to [0, 1] (except RGBF32, stored as is), 4:2:0
// chroma from the mean of the clamped block (the missing column/row of an odd edge
// replicated), thresholds from the luma position for Y' and RGB, from the chroma
// position for Cb/Cr.
DTUTMO_HD void write_block(const DevFrame& f, const pio::YuvEncode& e, int x0,
                                            int y0, const float (*rgb)[3], bool dither) {
  using namespace pio;
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
  float c[3];
  for (int ch = 0; ch < 3; ++ch)
    c[ch] = 0.25f * (clamp01(rgb[k00][ch]) + clamp01(rgb[k01][ch]) + clamp01(rgb[k10][ch]) +
                     clamp01(rgb[k11][ch]));
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

}  // namespace cuda
}  // namespace dtutmo
