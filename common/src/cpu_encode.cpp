// dtutmo -- CPU engine, encode (DESIGN.md section 11): display-linear output RGB (cd/m^2)
// to non-linear code values, PQ and HLG by formula, sRGB / BT.1886 through a table on
// sqrt(rel) built at configure time.
#include <algorithm>
#include <cmath>

#include "cpu_simd.h"
#include "dtutmo/fastmath.h"
#include "dtutmo/transfer.h"
#include "engine_cpu.h"

namespace dtutmo {
namespace cpu {

void CpuEngine::build_encode_table() {
  // output encode of relative display light rel in [0, 1], indexed on sqrt(rel) (the
  // curves are steep near black); linear interpolation, measured max error 9e-7 of the
  // full code range (sRGB) and 2.1e-5 (BT.1886, in the first interval only: rel^(1/2.4)
  // has an infinite slope at 0; the error there is 0.067 h^(1/1.2) for an interval h),
  // i.e. < 0.01 of an 8-bit and < 0.03 of a 10-bit code step
  enc_tab_.assign(kEncodeTab + 2, 0.0f);
  for (int i = 0; i <= kEncodeTab + 1; ++i) {
    const double t = std::min(1.0, double(i) / kEncodeTab), rel = t * t;
    double v = std::pow(rel, 1.0 / 2.4);
    if (C_.out.transfer == Transfer::SRGB) v = rel <= 0.0031308 ? rel * 12.92 : 1.055 * v - 0.055;
    enc_tab_[i] = float(v);
  }
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static int encode_table_avx2(
    float* __restrict o, int n, const float* __restrict tab, float black, float inv_range) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  const __m256 scale = _mm256_set1_ps(float(kEncodeTab));
  const __m256 vb = _mm256_set1_ps(black), vi = _mm256_set1_ps(inv_range);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(o + i), vb), vi);
    const __m256 rel = _mm256_min_ps(_mm256_max_ps(x, zero), one);
    const __m256 c = _mm256_mul_ps(_mm256_sqrt_ps(rel), scale);
    const __m256i k = _mm256_cvttps_epi32(c);
    const __m256 t = _mm256_sub_ps(c, _mm256_cvtepi32_ps(k));
    __m256 a, b;
    gather_pair(tab, k, a, b);
    _mm256_storeu_ps(o + i, _mm256_fmadd_ps(t, _mm256_sub_ps(b, a), a));
  }
  return i;
}
#endif

// Output encode through enc_tab_ (sRGB / BT.1886): rel = (o - black) / range in [0, 1]
// (NaN -> 0), index sqrt(rel) * kEncodeTab, linear interpolation.
static void encode_table(float* __restrict o, int n, const float* __restrict tab, float black,
                         float inv_range) {
  int i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2()) i0 = encode_table_avx2(o, n, tab, black, inv_range);
#endif
  for (int i = i0; i < n; ++i) {
    const float x = (o[i] - black) * inv_range;
    const float rel = x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f;
    const float c = std::sqrt(rel) * kEncodeTab;
    const int k = int(c);
    const float t = c - float(k);
    o[i] = tab[k] + t * (tab[k + 1] - tab[k]);
  }
}


// Display-linear output RGB (cd/m^2) of one row, 3 x W interleaved, to code values in place.
DTUTMO_HOT void CpuEngine::encode_row(float* __restrict o, int n3) const {
  const float peak = K_.peak, black = K_.black;
  const float inv_range = 1.0f / std::max(peak - black, 1e-6f);
  const Transfer ot = C_.out.transfer;
  const int W = n3 / 3;
  switch (ot) {
    case Transfer::PQ:
      for (int i = 0; i < n3; ++i) {
        const float v = std::min(std::max(o[i], 0.0f), peak);
        const float yy = fast_pow(std::max(v * 1e-4f, 1e-30f), pq::m1);
        o[i] = fast_pow((pq::c1 + pq::c2 * yy) / (1.0f + pq::c3 * yy), pq::m2);
      }
      break;
    case Transfer::SRGB:
      encode_table(o, n3, enc_tab_.data(), black, inv_range);
      break;
    case Transfer::Linear:
      for (int i = 0; i < n3; ++i) o[i] = std::min(std::max(o[i], 0.0f), peak) / peak;
      break;
    case Transfer::HLG:
      for (int x = 0; x < W; ++x) {
        float* p = o + 3 * x;
        for (int c = 0; c < 3; ++c) p[c] = std::min(std::max(p[c], 0.0f), peak);
        hlg_inv_ootf(p[0], p[1], p[2], peak);
        for (int c = 0; c < 3; ++c) p[c] = hlg_oetf(p[c]);
      }
      break;
    default:  // BT.1886
      encode_table(o, n3, enc_tab_.data(), black, inv_range);
  }
}

}  // namespace cpu
}  // namespace dtutmo
