// dtutmo -- the one macro that lets common/ headers compile as plain C++ and as CUDA.
#pragma once

#if defined(__CUDACC__)
#define DTUTMO_HD __host__ __device__ __forceinline__
#define DTUTMO_HD_CONST __host__ __device__ constexpr
#else
#define DTUTMO_HD inline
#define DTUTMO_HD_CONST constexpr
#endif

#include <math.h>

namespace dtutmo {

DTUTMO_HD float clampf(float x, float lo, float hi) { return x < lo ? lo : (x > hi ? hi : x); }
DTUTMO_HD float maxf(float a, float b) { return a > b ? a : b; }
DTUTMO_HD float minf(float a, float b) { return a < b ? a : b; }
DTUTMO_HD float lerpf(float a, float b, float t) { return a + (b - a) * t; }
// NaN, +-Inf and negatives become 0; the rest is clamped to `hi`.
DTUTMO_HD float sanitize(float x, float hi) { return (x > 0.0f) ? (x < hi ? x : hi) : 0.0f; }

struct Vec3 {
  float x, y, z;
};
struct Mat3 {
  float m[3][3];
};

DTUTMO_HD Vec3 mul(const Mat3& a, Vec3 v) {
  return {a.m[0][0] * v.x + a.m[0][1] * v.y + a.m[0][2] * v.z,
          a.m[1][0] * v.x + a.m[1][1] * v.y + a.m[1][2] * v.z,
          a.m[2][0] * v.x + a.m[2][1] * v.y + a.m[2][2] * v.z};
}

DTUTMO_HD Mat3 mul(const Mat3& a, const Mat3& b) {
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
