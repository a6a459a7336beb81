// dtutmo -- the one macro that lets common/ headers compile as plain C++ and as CUDA.
#pragma once

#if defined(__CUDACC__)
#define DTUTMO_HD __host__ __device__ __forceinline__
#define DTUTMO_HD_CONST __host__ __device__ constexpr
#else
#define DTUTMO_HD inline
#define DTUTMO_HD_CONST constexpr
#endif

// The per-pixel functions that the CPU engine's row loops call: always inlined on the
// host, because an out-of-line call in a row loop stops its vectorisation ("control flow
// in loop") and GCC's inliner drops calls once a big caller such as row_display grows
// past its limits. On the device the same as DTUTMO_HD.
#if defined(__CUDACC__)
#define DTUTMO_PX DTUTMO_HD
#else
#define DTUTMO_PX inline __attribute__((always_inline))
#endif

#include <math.h>

namespace dtutmo {

DTUTMO_PX float clampf(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }
DTUTMO_PX float maxf(float a, float b) { return a > b ? a : b; }
DTUTMO_PX float minf(float a, float b) { return a < b ? a : b; }
DTUTMO_PX float lerpf(float a, float b, float t) { return a + (b - a) * t; }
// std::min / std::max semantics (the first argument on ties and unordered compares), for
// code whose results must not change where it replaced std::min / std::max.
DTUTMO_PX float std_min(float a, float b) { return (b < a) ? b : a; }
DTUTMO_PX float std_max(float a, float b) { return (a < b) ? b : a; }
// NaN, +-Inf and negatives become 0; the rest is clamped to `hi`.
DTUTMO_PX float sanitize(float x, float hi) { return (x > 0.0f) ? (x < hi ? x : hi) : 0.0f; }

struct Vec3 {
  float x, y, z;
};
struct Mat3 {
  float m[3][3];
};

DTUTMO_PX Vec3 mul(const Mat3& a, Vec3 v) {
  return {a.m[0][0] * v.x + a.m[0][1] * v.y + a.m[0][2] * v.z,
          a.m[1][0] * v.x + a.m[1][1] * v.y + a.m[1][2] * v.z,
          a.m[2][0] * v.x + a.m[2][1] * v.y + a.m[2][2] * v.z};
}

DTUTMO_PX Mat3 mul(const Mat3& a, const Mat3& b) {
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      r.m[i][j] = a.m[i][0] * b.m[0][j] + a.m[i][1] * b.m[1][j] + a.m[i][2] * b.m[2][j];
  return r;
}

// Inverse of a 3x3 matrix (adjugate / determinant); the caller guarantees it is regular.
DTUTMO_HD Mat3 inverse(const Mat3& a) {
  const float(*m)[3] = a.m;
  const float c00 = m[1][1] * m[2][2] - m[1][2] * m[2][1];
  const float c01 = m[1][2] * m[2][0] - m[1][0] * m[2][2];
  const float c02 = m[1][0] * m[2][1] - m[1][1] * m[2][0];
  const float det = m[0][0] * c00 + m[0][1] * c01 + m[0][2] * c02;
  const float id = 1.0f / det;
  Mat3 r;
  r.m[0][0] = c00 * id;
  r.m[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) * id;
  r.m[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) * id;
  r.m[1][0] = c01 * id;
  r.m[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) * id;
  r.m[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) * id;
  r.m[2][0] = c02 * id;
  r.m[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) * id;
  r.m[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) * id;
  return r;
}

}  // namespace dtutmo
