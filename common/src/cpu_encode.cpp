// dtutmo -- CPU engine, encode (DESIGN.md section 11): display-linear output RGB (cd/m^2)
// to non-linear code values (pixel_model.h): PQ and HLG by formula, sRGB / BT.1886
// through the encode table; the tables of the display stage are made here.
#include <algorithm>
#include <cmath>

#include "cpu_simd.h"
#include "dtutmo/pixel_model.h"
#include "engine_cpu.h"

namespace dtutmo {
namespace cpu {

// The tables of the display stage (pixel_model.h): encode (sRGB / BT.1886 outputs) and
// the display inverse's, made at configure time.
void CpuEngine::build_encode_table() {
  enc_tab_.assign(kEncodeTab + 2, 0.0f);
  fill_encode_table(C_.out.transfer, enc_tab_.data());
  logit_tab_.assign(kLogitTab, 0.0f);
  odds_tab_.assign(2 * size_t(kLogitTab), 0.0f);
  fill_logit_tables(logit_tab_.data(), odds_tab_.data());
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

// Output encode through enc_tab_ (sRGB / BT.1886): pixel_model.h encode_lookup; the
// AVX2 path above gathers with its arithmetic (one FMA).
static void encode_table(float* __restrict o, int n, const float* __restrict tab, float black,
                         float inv_range) {
  int i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2()) i0 = encode_table_avx2(o, n, tab, black, inv_range);
#endif
  for (int i = i0; i < n; ++i) o[i] = encode_lookup(o[i], tab, black, inv_range);
}

// Display-linear output RGB (cd/m^2) of one row, 3 x W interleaved, to code values in place.
DTUTMO_HOT void CpuEngine::encode_row(float* __restrict o, int n3) const {
  const float peak = K_.peak, black = K_.black;
  const int W = n3 / 3;
  switch (C_.out.transfer) {
    case Transfer::PQ:
      for (int i = 0; i < n3; ++i) o[i] = encode_pq(o[i], peak);
      break;
    case Transfer::Linear:
      for (int i = 0; i < n3; ++i) o[i] = encode_linear(o[i], peak);
      break;
    case Transfer::HLG:
      for (int x = 0; x < W; ++x) {
        const Vec3 e = encode_hlg({o[3 * x], o[3 * x + 1], o[3 * x + 2]}, peak);
        o[3 * x] = e.x;
        o[3 * x + 1] = e.y;
        o[3 * x + 2] = e.z;
      }
      break;
    default:  // sRGB, BT.1886
      encode_table(o, n3, enc_tab_.data(), black, encode_inv_range(peak, black));
  }
}

}  // namespace cpu
}  // namespace dtutmo
