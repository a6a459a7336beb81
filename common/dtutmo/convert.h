// dtutmo -- host row converters between the video formats of frame.h and packed float
// R'G'B' code values. The per-pixel pieces (YUV matrices, range, bit unpacking, dither)
// are __host__ __device__ inline functions in pixel_io.h, shared with the CUDA kernels.
#pragma once

#include <cstddef>

#include "dtutmo/frame.h"

namespace dtutmo {

// Floats of row scratch that unpack_rows and pack_rows use on frames `width` pixels wide.
// A caller that must not allocate while streaming (the CPU engine: one buffer per pool
// thread, made at configure) passes its own; without one (nullptr) they use a buffer of
// the calling thread, grown on its first use there.
std::size_t convert_scratch_floats(int width);

// Decode rows [y0, y1) of `in` into packed float R'G'B' (3 floats a pixel, rows
// `stride_floats` apart, row 0 of `rgb` is row y0): non-linear code values, full range,
// nominally [0, 1] (YUV: matrix and range of `sig` removed, chroma upsampled). The
// transfer function is NOT applied. RGBF32 input is copied as it is. `scratch`: nullptr
// or convert_scratch_floats(in.width) floats.
void unpack_rows(const FrameView& in, const SignalDesc& sig, int y0, int y1, float* rgb,
                 std::ptrdiff_t stride_floats, float* scratch = nullptr);

// One row y of `in` into planar float R'G'B' rows r, g, b (in.width floats each), the
// values unpack_rows gives. `scratch`: nullptr or convert_scratch_floats(in.width) floats.
// For a caller that goes on per row (the CPU engine's decode writes the linear light
// interleaved itself: one pass less).
void unpack_row_planar(const FrameView& in, const SignalDesc& sig, int y, float* r, float* g,
                       float* b, float* scratch = nullptr);

// Encode rows [y0, y1) of packed float R'G'B' code values (row 0 of `rgb` is row y0,
// values clamped to [0, 1]) into `out`, applying matrix and range of `sig` for YUV
// outputs. For 4:2:0 outputs y0 must be even and y1 even or the frame height (chroma is
// the average of the 2x2 block). `dither`: ordered (Bayer 8x8) dither for outputs of 8
// bits or fewer, a fixed pattern so that a static scene gives identical frames. Alpha,
// where the format has it, is opaque. RGBF32 output stores the values as they are.
// `scratch`: nullptr or convert_scratch_floats(out.width) floats.
void pack_rows(const float* rgb, std::ptrdiff_t stride_floats, const FrameView& out,
               const SignalDesc& sig, int y0, int y1, bool dither, float* scratch = nullptr);

// pack_rows from planar rows: row y's R' at rgb + (y - y0) row_floats, G' plane_floats
// further, B' 2 plane_floats further. The same codes as pack_rows. `in_range`: the caller
// promises values in [0, 1] (no NaN), so that YUV 4:2:0 outputs are packed from its rows
// as they are, without the clamping copy (the CPU engine's output: its encode gives [0, 1]).
void pack_rows_planar(const float* rgb, std::ptrdiff_t row_floats, std::ptrdiff_t plane_floats,
                      const FrameView& out, const SignalDesc& sig, int y0, int y1, bool dither,
                      float* scratch = nullptr, bool in_range = false);

// The code constants of a YUV 4:2:0 output (pack_rows_planar's: yuv_encode, the chroma
// siting's weights, the dither), for a caller that makes a row pair's codes itself: the
// CPU engine's 4:2:0 block path (colour-sampling auto), whose pixels are their block's
// R'G'B' factors times one encoded value each, so Y' is one product a pixel and Cb, Cr
// one per block. Codes as pack_rows_planar's: code = y_off + (kr R' + kg G' + kb B')
// y_scale, Cb = c_off + (B' - Y'n) cb_mul, Cr = c_off + (R' - Y'n) cr_mul (cb_mul, cr_mul
// include c_scale), plus the dither offset (bayer8_threshold, 0.5 without), clamped to
// [0, maxc], truncated; the chroma from the 2x2 block's R'G'B' weighted by w (w00, w01,
// w10, w11: row y's columns 2i, 2i + 1, then row y + 1's).
struct Yuv420Codes {
  int bits = 0;         // bits per code
  int bytes = 0;        // bytes per code: 1, or 2 (16-bit words)
  bool high = false;    // 16-bit words with the code in their high bits (P010, P012)
  bool il = false;      // Cb, Cr interleaved in plane 1 (NV12, P010)
  bool dither = false;  // ordered dither (8 bits or fewer and asked for)
  float kr = 0, kg = 0, kb = 0, y_off = 0, y_scale = 0, c_off = 0, cb_mul = 0, cr_mul = 0, maxc = 0;
  float w[4] = {0, 0, 0, 0};
};
// False (c untouched) unless `out` is a YUV 4:2:0 format.
bool yuv420_codes(const FrameView& out, const SignalDesc& sig, bool dither, Yuv420Codes* c);

// pack_rows_planar (in range: values in [0, 1], no NaN) of the row pair y (even), y + 1 of
// a YUV 4:2:0 output, only the columns [x0, x1): x0 a multiple of 16, x1 a multiple of 16
// or the width (their codes are pack_rows_planar's for the whole rows). Row y's R' at rgb,
// G' plane_floats further, B' 2 plane_floats further; row y + 1's row_floats after.
void pack_pair_span(const float* rgb, std::ptrdiff_t row_floats, std::ptrdiff_t plane_floats,
                    const FrameView& out, const SignalDesc& sig, int y, int x0, int x1, bool dither);

}  // namespace dtutmo
