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
// encode_lookup's table read, 8 values of rel (already (o - black) / range) per step (GCC
// does not vectorise the gathers of the scalar loop). The result is in [0, 1]
// (pixel_model.h encode_lookup): no clamp01 needed.
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 encode_rel8(__m256 x, const float* __restrict tab) {
  const __m256 mmin = _mm256_set1_ps(kEncodeMin), one = _mm256_set1_ps(1.0f);
  const __m256 fs = _mm256_set1_ps(1.0f / 65536.0f);
  const __m256i base = _mm256_set1_epi32(kEncodeBase), lowm = _mm256_set1_epi32(0xffff);
  // min(max(x, 2^-48), 1) (NaN -> 2^-48: maxps returns its second operand)
  const __m256i bits = _mm256_castps_si256(_mm256_min_ps(_mm256_max_ps(x, mmin), one));
  const __m256i k = _mm256_sub_epi32(_mm256_srli_epi32(bits, 16), base);
  const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(bits, lowm)), fs);
  __m256 a, b;
  gather_pair(tab, k, a, b);
  return _mm256_fmadd_ps(f, _mm256_sub_ps(b, a), a);
}
__attribute__((target("avx2,fma"))) static int encode_table_avx2(float* __restrict o, int n,
                                                                 const float* __restrict tab, float black,
                                                                 float inv_range) {
  const __m256 vb = _mm256_set1_ps(black), vi = _mm256_set1_ps(inv_range);
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(o + i, encode_rel8(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(o + i), vb), vi), tab));
  return i;
}
// p[0] p[0] p[1] p[1] .. p[3] p[3]
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 dup4(const float* p, __m256i dup) {
  return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(p)), dup);
}
// encode_scaled_pair's full chunks (16 pixels, 8 blocks) of both rows, 8 pixels a step:
// the block values each into both its columns by one vpermps, once for the two rows (a
// row a call spread them twice: 4 of the 8 vpermps per 8 pixels of the pair), and the
// two rows' lookups independent chains in one body.
__attribute__((target("avx2,fma"))) static int encode_scaled_avx2(int nf, int W, const float* __restrict ya,
                                                                  const float* __restrict yb,
                                                                  const float* __restrict sb,
                                                                  const float* __restrict g0,
                                                                  const float* __restrict g1,
                                                                  const float* __restrict g2, float black,
                                                                  const float* __restrict tab, float* __restrict oa,
                                                                  float* __restrict ob, float* __restrict list) {
  const __m256 vb = _mm256_set1_ps(black), one = _mm256_set1_ps(1.0f);
  const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
  const size_t W2 = 2 * size_t(W);
  int nl = 0;
  for (int j = 0; j < nf; ++j) {
    int any_a = 0, any_b = 0;
    for (int k = 0; k < 2; ++k) {
      const int i = 8 * j + 4 * k, x = 2 * i;
      const __m256 s = dup4(sb + i, dup), h0 = dup4(g0 + i, dup), h1 = dup4(g1 + i, dup), h2 = dup4(g2 + i, dup);
      const __m256 va = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(ya + x), vb), s);
      const __m256 vc = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(yb + x), vb), s);
      any_a |= _mm256_movemask_ps(_mm256_cmp_ps(va, one, _CMP_NLE_UQ));  // > 1 or NaN
      any_b |= _mm256_movemask_ps(_mm256_cmp_ps(vc, one, _CMP_NLE_UQ));
      const __m256 ea = encode_rel8(va, tab), ec = encode_rel8(vc, tab);
      _mm256_storeu_ps(oa + x, _mm256_mul_ps(ea, h0));
      _mm256_storeu_ps(oa + W + x, _mm256_mul_ps(ea, h1));
      _mm256_storeu_ps(oa + W2 + x, _mm256_mul_ps(ea, h2));
      _mm256_storeu_ps(ob + x, _mm256_mul_ps(ec, h0));
      _mm256_storeu_ps(ob + W + x, _mm256_mul_ps(ec, h1));
      _mm256_storeu_ps(ob + W2 + x, _mm256_mul_ps(ec, h2));
    }
    const int rows = (any_a ? 1 : 0) | (any_b ? 2 : 0);
    list[nl] = float(16 * j + rows);
    nl += rows ? 1 : 0;
  }
  return nl;
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

// Columns x0 .. x1 of the planar rows R, G, B (W apart), display-linear, encoded in place
// through the table (sRGB / BT.1886 only).
void CpuEngine::encode_span(float* o, int W, int x0, int x1) const {
  const float ir = encode_inv_range(K_.peak, K_.black);
  for (int c = 0; c < 3; ++c) encode_table(o + size_t(c) * W + x0, x1 - x0, enc_tab_.data(), K_.black, ir);
}
// n values of rel (relative display light, (o - black) / range) to codes in place.
void CpuEngine::encode_rel(float* v, int n) const { encode_table(v, n, enc_tab_.data(), 0.0f, 1.0f); }

// A 4:2:0 row pair by the block factorisation (BT.1886 only; colour_pair): pixel x of
// block i = x / 2 in row ya (yb) encodes as F((ya[x] - black) sb[i]) g_c[i] (g: planar, n =
// (W + 1) / 2 apart) into the planar rows oa (ob; W apart), in [0, 1]. Returns the 16-pixel
// chunks (the last, partial one too) holding a pixel whose table argument is above 1 or
// NaN (the block's own path: encode_pair): into list, as floats, each chunk's first column
// plus 1 where row a has one, plus 2 where row b has (one list for both rows: it fits in
// the W / 16 + 1 floats of a row's).
int CpuEngine::encode_scaled_pair(const float* __restrict ya, const float* __restrict yb, int W,
                                  const float* __restrict sb, const float* __restrict g, float* __restrict oa,
                                  float* __restrict ob, float* __restrict list) const {
  const int n = (W + 1) / 2, h = W / 2, nf = h / 8;
  const size_t n2 = 2 * size_t(n), W2 = 2 * size_t(W);
  const float* tab = enc_tab_.data();
  const float black = K_.black;
  int nl = 0, j0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2()) {
    nl = encode_scaled_avx2(nf, W, ya, yb, sb, g, g + n, g + n2, black, tab, oa, ob, list);
    j0 = nf;
  }
#endif
  auto px = [&](const float* __restrict yl, float* __restrict o, int x) __attribute__((always_inline)) {
    const int i = x / 2;
    const float v = (yl[x] - black) * sb[i];
    const float e = encode_lookup(v, tab, 0.0f, 1.0f);
    o[x] = e * g[i];
    o[W + x] = e * g[n + i];
    o[W2 + x] = e * g[n2 + i];
    return !(v <= 1.0f);
  };
  auto chunk = [&](int x0, int x1) __attribute__((always_inline)) {
    bool any_a = false, any_b = false;
    for (int x = x0; x < x1; ++x) any_a |= px(ya, oa, x);
    for (int x = x0; x < x1; ++x) any_b |= px(yb, ob, x);
    const int rows = (any_a ? 1 : 0) | (any_b ? 2 : 0);
    list[nl] = float(x0 + rows);
    nl += rows ? 1 : 0;
  };
  for (int j = j0; j < nf; ++j) chunk(16 * j, 16 * j + 16);
  chunk(16 * nf, W);
  return nl;
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
