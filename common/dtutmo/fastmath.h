// dtutmo -- fast exp2/log2 for the CPU hot loops: ~1e-6 relative (tested against libm),
// branch-free, written so that GCC auto-vectorises loops that call them. Valid for finite
// inputs: fast_log2 for x > 0 (normal floats; x <= 0 gives a large negative value, never
// NaN), fast_exp2 for any x (clamped to [-126, 126]).
#pragma once

#include <stdint.h>
#include <string.h>

#include "dtutmo/hd.h"

// Always inlined on the host (hd.h, DTUTMO_PX).
#define DTUTMO_FAST_HD DTUTMO_PX

namespace dtutmo {

// fast_exp2's constants, for it and the CPU engine's AVX2 copy of it (cpu_receptors_display.cpp
// fast_exp2_avx2, the same operations 8 lanes at a time): the clamp, the rounding magic
// number 1.5 2^23, and the Taylor series of 2^f = e^(f ln2) to degree 7, highest first.
// (Plain constexpr scalars: nvcc uses their values in device code; as __host__ __device__
// variables, -kExp2Clamp in a host path warned that a device variable was read.)
constexpr float kExp2Clamp = 126.0f;
constexpr float kExp2Round = 12582912.0f;  // 1.5 2^23
constexpr float kExp2P7 = 1.525273380405984e-05f;
constexpr float kExp2P6 = 1.540353039338161e-04f;
constexpr float kExp2P5 = 1.333355814642844e-03f;
constexpr float kExp2P4 = 9.618129107628477e-03f;
constexpr float kExp2P3 = 5.550410866482158e-02f;
constexpr float kExp2P2 = 2.402265069591007e-01f;
constexpr float kExp2P1 = 6.931471805599453e-01f;
constexpr float kExp2P0 = 1.0f;

DTUTMO_FAST_HD float fast_exp2(float x) {
  // clamped to [-126, 126], NaN kept (as the nested select before): each select in the
  // operand order of x86's minps / maxps (NaN -> the second operand, x). With the nested
  // select GCC built compares and blends and carried the constant ends through the
  // rounding below as blends too (the tone stage's X loop, AVX2 clone, two exp2 per pixel:
  // 125 -> 103 instructions per 8 pixels with this and no-thread-jumps there). Bit-identical.
  x = kExp2Clamp < x ? kExp2Clamp : x;
  x = -kExp2Clamp > x ? -kExp2Clamp : x;
  // round to nearest (ties to even) by the magic number 1.5 2^23: x + M holds the integer
  // nearest x in its low mantissa bits (|x| <= 126, far inside 2^22), M subtracted back
  // gives it as a float exactly, and the bits minus M's are the integer (no conversion).
  // The truncate-and-fix it replaces (x + 0.5, truncate, compare, correct, convert back:
  // GCC 12 made it a vroundps, a vpblendvb and blends) cost 6 more AVX2 instructions per
  // exp2: the tone stage's X loop (two exp2 per pixel) 104 -> 92 per 8 pixels; on the
  // 1080p clip (fast, 3 alternated rounds) tone_x_row 153 -> 138 samples, responses_core
  // 132 -> 121. Same value but at ties (x = n + 1/2 exactly: n + 1 became n for even n;
  // 2^f is as accurate at f = 1/2 as at -1/2: the result differs by the polynomial's
  // rounding, ~1 ulp); the element's output on the clip came out byte-identical.
  // Needs IEEE additions (no -ffast-math reassociation; nvcc's --use_fast_math keeps them).
  const float xm = x + kExp2Round;
  const float fi = xm - kExp2Round;
  const float f = x - fi;  // [-0.5, 0.5]
  int32_t mb;
  memcpy(&mb, &xm, 4);
  const int32_t ii = mb - 0x4b400000;  // the bits of 1.5 2^23
  // Taylor series of 2^f = e^(f ln2) to degree 7 (rel. error < 1e-8 + rounding)
  float p = kExp2P7;
  p = p * f + kExp2P6;
  p = p * f + kExp2P5;
  p = p * f + kExp2P4;
  p = p * f + kExp2P3;
  p = p * f + kExp2P2;
  p = p * f + kExp2P1;
  p = p * f + kExp2P0;
  const int32_t e = ii + 127;
  const int32_t bits = e << 23;
  float s;
  memcpy(&s, &bits, 4);
  return p * s;
}

DTUTMO_FAST_HD float fast_log2(float x) {
  x = x > 1.17549435e-38f ? x : 1.17549435e-38f;
  int32_t bits;
  memcpy(&bits, &x, 4);
  // mantissa m in [sqrt(1/2), sqrt(2)) so that log2 near 1 has no cancellation
  const int32_t big = ((bits & 0x007fffff) > 0x3504f3) ? 1 : 0;
  const int32_t e = ((bits >> 23) & 0xff) - 127 + big;
  const int32_t mb = (bits & 0x007fffff) | ((127 - big) << 23);
  float m;
  memcpy(&m, &mb, 4);
  // log2(m) = 2 atanh(t)/ln2 with t = (m-1)/(m+1), |t| < 0.172: odd series to t^11
  const float t = (m - 1.0f) / (m + 1.0f);
  const float t2 = t * t;
  float p = 0.18181818f;       // 1/11 * 2
  p = p * t2 + 0.22222222f;    // 2/9
  p = p * t2 + 0.28571429f;    // 2/7
  p = p * t2 + 0.4f;           // 2/5
  p = p * t2 + 0.66666667f;    // 2/3
  p = p * t2 + 2.0f;
  return (float)e + p * t * 1.4426950408889634f;
}

// log2 x without a division, for x >= 2^-126 (normal floats: the caller floors x; the
// luminance's log2, pixel_model.h log2_luminance, floors at kMinNits). The reduction of
// musl's log2f: the bits minus those of sqrt(1/2) split x into 2^e m with m in
// [sqrt(1/2), sqrt(2)) (four integer instructions; fast_log2's compare-and-select split
// took seven), then log2 m = u P(u), u = m - 1, P of degree 7 (Chebyshev fit of
// log2(1 + u) / u on [sqrt(1/2) - 1, sqrt(2) - 1], mpmath: 1.3e-7 of the fit, times |u| <=
// 0.414). Measured against double log2 over every 61st float from 2^-126 to 2^128
// (tests/model test_math FastMath.PolyLog2MatchesLibm): 1.3e-7 beyond half an ulp of the
// result (fast_log2 1.0e-7), 6.0e-7 absolute on 1e-4 .. 1e4 (fast_log2 5.7e-7). Where
// fast_log2 takes a division, a compare-and-select split and a floor, this is the split,
// eight FMAs and a conversion: the CPU's log2 luminance loop (cpu_decode.cpp log2_row)
// has 21 AVX2 instructions per 8 pixels, log_luminance_planar had 41 (DESIGN.md, dec8).
DTUTMO_FAST_HD float poly_log2(float x) {
  int32_t bits;
  memcpy(&bits, &x, 4);
  const int32_t k = bits - 0x3f3504f3;                    // the bits of sqrt(1/2)
  const int32_t e = k >> 23;                              // arithmetic shift: floor
  const int32_t mb = (k & 0x007fffff) + 0x3f3504f3;       // m in [sqrt(1/2), sqrt(2))
  float m;
  memcpy(&m, &mb, 4);
  const float u = m - 1.0f;
  float p = -0.1427597344f;
  p = p * u + 0.2326525788f;
  p = p * u - 0.2492718221f;
  p = p * u + 0.2872888824f;
  p = p * u - 0.3602251825f;
  p = p * u + 0.4809167080f;
  p = p * u - 0.7213529314f;
  p = p * u + 1.4426949950f;
  return (float)e + u * p;
}

DTUTMO_FAST_HD float fast_pow(float x, float y) { return fast_exp2(y * fast_log2(x)); }

// 2^x for interpolation weights (x <= 0): clamped at -24 (weights below 2^-24 are noise
// against the 1e-3 floor the joint-bilateral lookup adds), a degree-3 polynomial on the
// remainder f of x rounded to nearest, minimax in relative error over f in [-0.5, 0.5]
// (Remez): rel. error < 7.5e-5 (the degree-4 Taylor series before: 4.2e-5, one FMA more
// per corner), far below what a range weight needs (the mix of the corner constants moves
// by that fraction of their spread, ~1e-4 log2 units; fast_exp2: degree 7 over
// [-126, 126]). Rounded by adding and subtracting 1.5 * 2^23 (round to nearest, exact for
// |x| < 2^22): three vector instructions where a float-to-int truncation with a floor
// correction takes six (the lookup runs it four times a pixel).
// The clamp on the bits: for x <= 0 (sign bit set, and +0) the uint32 order of the bit
// patterns is the order of |x|, so an unsigned min with the bits of -24.0f is the clamp
// (x > 0 passes unchanged, as before). One vpminud: the float select x > -24 ? x : -24
// became, in GCC 12's vectorised lookup, a compare and a blend of 2^-24 after the
// polynomial. With the degree-3 polynomial, the range stage of cpu_adapt.cpp
// interp_row_jbu went from 113 to 108 AVX2 instructions per 8 pixels.
DTUTMO_FAST_HD float weight_exp2(float x) {
  {
    uint32_t u;
    memcpy(&u, &x, 4);
    u = u < 0xc1c00000u ? u : 0xc1c00000u;  // the bits of -24.0f
    memcpy(&x, &u, 4);
  }
  const float r = x + kExp2Round;  // 1.5 2^23 + round(x)
  const float f = x - (r - kExp2Round);  // [-0.5, 0.5]
  float p = 0.0551716685f;
  p = p * f + 0.242611125f;
  p = p * f + 0.693260968f;
  p = p * f + 0.999928057f;
  // p 2^round(x) by adding round(x) to p's exponent: round(x) sits in the low mantissa bits
  // of x + 1.5 2^23 (two's complement on 0x4b400000, whose low 9 bits are 0), so the
  // sum's bits shifted left by 23 are round(x) << 23. The same bits as the product with
  // 2^round(x) (p in [2^-0.5, 2^0.5], round(x) >= -24: no underflow), two integer
  // instructions where the float-to-int conversion, exponent bias, shift and product took four.
  int32_t rb, pb;
  memcpy(&rb, &r, 4);
  memcpy(&pb, &p, 4);
  pb += (int32_t)((uint32_t)rb << 23);
  memcpy(&p, &pb, 4);
  return p;
}

// Cube root of x > 0 (normal floats), 2.3e-5 relative: the inverse cube root from the
// exponent trick (0x54a23230 - bits / 3, within 3.5 %; the third taken in float, which
// vectorises, where an int32 division by 3 does not cheaply), two division-free Newton
// steps r <- r (4 - x r^3) / 3 (the error e becomes 2 e^2: ~3.5 % -> ~2e-5),
// then cbrt(x) = x r^2. For hue directions (gamut.h): a 2e-5 error in a cube-root ratio
// is 0.01 CIELAB units of a or b.
DTUTMO_FAST_HD float fast_cbrt(float x) {
  int32_t i;
  memcpy(&i, &x, 4);
  i = 0x54a23230 - (int32_t)((float)i * (1.0f / 3.0f));
  float r;
  memcpy(&r, &i, 4);
  r = r * (1.33333333f - 0.33333333f * x * r * r * r);
  r = r * (1.33333333f - 0.33333333f * x * r * r * r);
  return x * r * r;
}

// 1 / sqrt(x) for x > 0 (normal floats), ~5e-6 relative: the exponent trick
// (0x5f375a86 - bits / 2, within 3.4 %) and two Newton steps r <- r (1.5 - 0.5 x r^2).
// No division or square root: in the AVX-512 colour loop those are the slow instructions.
DTUTMO_FAST_HD float fast_rsqrt(float x) {
  int32_t i;
  memcpy(&i, &x, 4);
  i = 0x5f375a86 - (i >> 1);
  float r;
  memcpy(&r, &i, 4);
  r = r * (1.5f - 0.5f * x * r * r);
  r = r * (1.5f - 0.5f * x * r * r);
  return r;
}

// The transcendentals of the receptor formulas (receptors.h bleach, receptor_sigma,
// mesopic_weight; model.h adapt_cell, display_cell_consts) two ways, a template argument
// of those formulas (one copy of each): LibmFns, libm (the per-frame scalars: default),
// and FastFns, the functions above (the per-cell constants, both engines: no library
// call, so the CPU's cell loops vectorise across 8 cells; in lr.cells, 12 libm calls a
// cell were ~2.5 CPU-ms per 1080p frame). FastFns' domain: log2 / ln / log10 of normal
// floats x >= 2^-126 and pow of such a base (what the receptor formulas pass: ln of
// Ia + 0.01, pow of a base >= 1, log2 of sigma >= k1 or of p in [0.1, 1], log10 of La
// floored at 1e-30); exp2 clamped to [-126, 126]. Error: poly_log2 1.3e-7 absolute beyond
// half an ulp, fast_exp2 1e-7 relative, so pow(x, y) ~ 1e-7 |y log2 x| relative more than
// libm's (test_math FastFns.CellConstantsMatchLibm bounds the per-cell constants).
struct LibmFns {
  static DTUTMO_HD float exp2(float x) { return exp2f(x); }
  static DTUTMO_HD float log2(float x) { return log2f(x); }
  static DTUTMO_HD float ln(float x) { return logf(x); }
  static DTUTMO_HD float log10(float x) { return log10f(x); }
  static DTUTMO_HD float pow(float x, float y) { return powf(x, y); }
};
struct FastFns {
  static DTUTMO_FAST_HD float exp2(float x) { return fast_exp2(x); }
  static DTUTMO_FAST_HD float log2(float x) { return poly_log2(x); }
  static DTUTMO_FAST_HD float ln(float x) { return poly_log2(x) * 0.69314718f; }
  static DTUTMO_FAST_HD float log10(float x) { return poly_log2(x) * 0.30103000f; }
  static DTUTMO_FAST_HD float pow(float x, float y) { return fast_exp2(y * poly_log2(x)); }
};

// The bits of a float and back (the table lookups index by them).
DTUTMO_FAST_HD int32_t float_bits(float v) {
  int32_t b;
  memcpy(&b, &v, 4);
  return b;
}

}  // namespace dtutmo
