// dtutmo -- CPU engine, encode (DESIGN.md section 11): display-linear output RGB (cd/m^2)
// to non-linear code values (pixel_model.h): PQ and HLG by formula, sRGB / BT.1886
// through the encode table; the tables of the display stage are made here.
#include <algorithm>
#include <cmath>

#include "cpu_simd.h"
#include "dtutmo/pixel_io.h"
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
    float* __restrict o, int n, const float* __restrict tab, float black, float inv_range, bool clamp) {
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
    const __m256 v = _mm256_fmadd_ps(t, _mm256_sub_ps(b, a), a);
    _mm256_storeu_ps(o + i, clamp ? _mm256_min_ps(_mm256_max_ps(v, zero), one) : v);  // = clamp01 (no NaN here)
  }
  return i;
}
#endif

// Output encode through enc_tab_ (sRGB / BT.1886): pixel_model.h encode_lookup; the
// AVX2 path above gathers with its arithmetic (one FMA). `clamp`: clamp01 on the result.
static void encode_table(float* __restrict o, int n, const float* __restrict tab, float black,
                         float inv_range, bool clamp) {
  int i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2()) i0 = encode_table_avx2(o, n, tab, black, inv_range, clamp);
#endif
  for (int i = i0; i < n; ++i) {
    const float v = encode_lookup(o[i], tab, black, inv_range);
    o[i] = clamp ? pio::clamp01(v) : v;
  }
}

// Display-linear output RGB (cd/m^2) of one row, planar rows R, G, B of W each, to code
// values in place; `clamp`: clamped to [0, 1] (pixel_io.h clamp01, what the packers do), so
// that pack_rows_planar packs 4:2:0 from these rows as they are.
DTUTMO_HOT void CpuEngine::encode_row(float* __restrict o, int W, bool clamp) const {
  const float peak = K_.peak, black = K_.black;
  const int n3 = 3 * W;
  switch (C_.out.transfer) {
    case Transfer::PQ:
      for (int i = 0; i < n3; ++i) o[i] = encode_pq(o[i], peak);
      break;
    case Transfer::Linear:
      for (int i = 0; i < n3; ++i) o[i] = encode_linear(o[i], peak);
      break;
    case Transfer::HLG:
      for (int x = 0; x < W; ++x) {
        const Vec3 e = encode_hlg({o[x], o[W + x], o[2 * W + x]}, peak);
        o[x] = e.x;
        o[W + x] = e.y;
        o[2 * W + x] = e.z;
      }
      break;
    default:  // sRGB, BT.1886: the clamp in the table's loop
      encode_table(o, n3, enc_tab_.data(), black, encode_inv_range(peak, black), clamp);
      return;
  }
  if (clamp)
    for (int i = 0; i < n3; ++i) o[i] = pio::clamp01(o[i]);
}

}  // namespace cpu
}  // namespace dtutmo
