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
// encode_lookup's arithmetic, 8 values per step (GCC does not vectorise the gathers of the
// scalar loop). The result is in [0, 1] (pixel_model.h encode_lookup): no clamp01 needed.
__attribute__((target("avx2,fma"))) static int encode_table_avx2(float* __restrict o, int n,
                                                                 const float* __restrict tab, float black,
                                                                 float inv_range) {
  const __m256 mmin = _mm256_set1_ps(kEncodeMin), one = _mm256_set1_ps(1.0f);
  const __m256 fs = _mm256_set1_ps(1.0f / 65536.0f);
  const __m256i base = _mm256_set1_epi32(kEncodeBase), lowm = _mm256_set1_epi32(0xffff);
  const __m256 vb = _mm256_set1_ps(black), vi = _mm256_set1_ps(inv_range);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(o + i), vb), vi);
    // min(max(x, 2^-48), 1) (NaN -> 2^-48: maxps returns its second operand)
    const __m256i bits = _mm256_castps_si256(_mm256_min_ps(_mm256_max_ps(x, mmin), one));
    const __m256i k = _mm256_sub_epi32(_mm256_srli_epi32(bits, 16), base);
    const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(bits, lowm)), fs);
    __m256 a, b;
    gather_pair(tab, k, a, b);
    _mm256_storeu_ps(o + i, _mm256_fmadd_ps(f, _mm256_sub_ps(b, a), a));
  }
  return i;
}
#endif

// Output encode through enc_tab_ (sRGB / BT.1886): pixel_model.h encode_lookup, whose
// result lies in [0, 1] already (the packers' clamp01 is a no-op on it); the AVX2 path
// above gathers with its arithmetic (one FMA).
static void encode_table(float* __restrict o, int n, const float* __restrict tab, float black,
                         float inv_range) {
  int i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2()) i0 = encode_table_avx2(o, n, tab, black, inv_range);
#endif
  for (int i = i0; i < n; ++i) o[i] = encode_lookup(o[i], tab, black, inv_range);
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
    default:  // sRGB, BT.1886: in [0, 1] from the table (no clamp)
      encode_table(o, n3, enc_tab_.data(), black, encode_inv_range(peak, black));
      return;
  }
  if (clamp)
    for (int i = 0; i < n3; ++i) o[i] = pio::clamp01(o[i]);
}

}  // namespace cpu
}  // namespace dtutmo
