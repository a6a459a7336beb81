// dtutmo -- CPU engine, encode (DESIGN.md section 11): display-linear output RGB (cd/m^2)
// to non-linear code values (pixel_model.h): PQ and HLG by formula, sRGB / BT.1886
// through the encode table; the tables of the display stage are made here.
#include <algorithm>
#include <cmath>

#include "cpu_simd.h"
#include "dtutmo/convert.h"
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

// The 4:2:0 block path's codes straight into the output (encode_codes_pair, the CPU
// engine's BT.1886 4:2:0 output with colour-sampling auto): a factorised pixel's R'G'B' is
// e (g0, g1, g2), e = F((y_p - black) sb_i) its one lookup and g its block's factors, so
// its Y' code is y_off + e GY_i, GY_i = (kr g0 + kg g1 + kb g2) y_scale, and a block's
// chroma sum of e (chroma_down's weights) times its (g2 - Y'n) cb_mul and (g0 - Y'n) cr_mul
// gives Cb, Cr (pack_yuv420_pair's rgb_to_y_code and rgb_to_cbcr_code on those R'G'B',
// the same up to float rounding). Where encode_scaled_avx2 stored e g_c (6 rows of floats
// a pair) for the packer to read back, weigh per pixel and sum per block, the codes come
// from the loop that looks e up. The packer's quantisation (quantize_code_m: the dither's
// offset per lane, NaN and below 0 to 0, above maxc to maxc, truncated) and stores
// (store_code: bytes, or 16-bit words, High: the code in their high bits; IL: Cb, Cr
// interleaved). The offsets y_off, c_off are added to the dither's (one vector a row).

// the quantised codes of 8 values (code + offset: max, min, truncate; High: shifted into
// a 16-bit word's high bits, to_high_bits). Bytes (!Wide) without the max and min: the
// truncated value's unsigned saturation to 8 bits in store_codes' packs is the same clamp
// to [0, 255] (NaN truncates to INT_MIN: 0, as quantize_code's NaN).
template <bool Wide, bool High>
__attribute__((target("avx2,fma"), always_inline)) static inline __m256i quant8(__m256 c, __m256 zero, __m256 mx,
                                                                              __m128i hs) {
  if (!Wide) return _mm256_cvttps_epi32(c);
  const __m256i q = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(c, zero), mx));
  return High ? _mm256_sll_epi32(q, hs) : q;
}
// A chunk's codes into the planes: 16 Y' of row a (qa0, qa1: columns x .. x + 7, x + 8 ..
// x + 15) and of row b, 8 Cb and Cr (blocks i .. i + 7, i = x / 2)
template <bool Wide, bool IL>
__attribute__((target("avx2,fma"), always_inline)) static inline void store_codes(
    __m256i qa0, __m256i qa1, __m256i qb0, __m256i qb1, __m256i cb, __m256i cr, uint8_t* __restrict pya,
    uint8_t* __restrict pyb, uint8_t* __restrict pu, uint8_t* __restrict pv, int x, int i) {
  if (!Wide) {
    // bytes: packus 32 -> 16 -> 8 bits, the dwords back in order by one vpermd
    const __m256i d4 = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i l =
        _mm256_permutevar8x32_epi32(_mm256_packus_epi16(_mm256_packus_epi32(qa0, qa1), _mm256_packus_epi32(qb0, qb1)), d4);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(pya + x), _mm256_castsi256_si128(l));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(pyb + x), _mm256_extracti128_si256(l, 1));
    if (IL) {  // Cb Cr Cb Cr ...: 16 bytes
      const __m256i w = _mm256_packus_epi32(_mm256_unpacklo_epi32(cb, cr), _mm256_unpackhi_epi32(cb, cr));
      const __m256i b8 = _mm256_permute4x64_epi64(_mm256_packus_epi16(w, w), 0x08);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(pu + 2 * i), _mm256_castsi256_si128(b8));
    } else {  // 8 bytes each
      const __m256i w = _mm256_packus_epi32(cb, cr);
      const __m128i b8 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_packus_epi16(w, w), d4));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(pu + i), b8);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(pv + i), _mm_unpackhi_epi64(b8, b8));
    }
  } else {
    // 16-bit words: 16 a row, in order after one vpermq
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pya + 2 * x),
                        _mm256_permute4x64_epi64(_mm256_packus_epi32(qa0, qa1), 0xD8));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(pyb + 2 * x),
                        _mm256_permute4x64_epi64(_mm256_packus_epi32(qb0, qb1), 0xD8));
    if (IL) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(pu + 4 * i),
                          _mm256_packus_epi32(_mm256_unpacklo_epi32(cb, cr), _mm256_unpackhi_epi32(cb, cr)));
    } else {
      const __m256i w = _mm256_permute4x64_epi64(_mm256_packus_epi32(cb, cr), 0xD8);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(pu + 2 * i), _mm256_castsi256_si128(w));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(pv + 2 * i), _mm256_extracti128_si256(w, 1));
    }
  }
}
// The block sums of 16 values of rows a, b (a0, a1 / b0, b1: columns 0-7, 8-15) in
// chroma_down's order, w00 a_e + w01 a_o + w10 b_e + w11 b_o, even and odd columns by
// vshufps (blocks 0 1 4 5 2 3 6 7, then one vpermpd). Centre (all four weights equal, the
// weight folded into the caller's factors): (a_e + a_o) + (b_e + b_o).
template <bool Centre>
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 block_sum8(__m256 a0, __m256 a1, __m256 b0,
                                                                                 __m256 b1, const float* w) {
  __m256 e;
  if (Centre) {
    e = _mm256_add_ps(_mm256_add_ps(_mm256_shuffle_ps(a0, a1, 0x88), _mm256_shuffle_ps(a0, a1, 0xDD)),
                      _mm256_add_ps(_mm256_shuffle_ps(b0, b1, 0x88), _mm256_shuffle_ps(b0, b1, 0xDD)));
  } else {
    e = _mm256_mul_ps(_mm256_set1_ps(w[0]), _mm256_shuffle_ps(a0, a1, 0x88));
    e = _mm256_fmadd_ps(_mm256_set1_ps(w[1]), _mm256_shuffle_ps(a0, a1, 0xDD), e);
    e = _mm256_fmadd_ps(_mm256_set1_ps(w[2]), _mm256_shuffle_ps(b0, b1, 0x88), e);
    e = _mm256_fmadd_ps(_mm256_set1_ps(w[3]), _mm256_shuffle_ps(b0, b1, 0xDD), e);
  }
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
}
// The full chunks (16 pixels, 8 blocks) of the pair: gy, gu, gv the blocks' code factors
// (gains_codes_avx2), off: y_off + the dither's offsets of rows a, b, then c_off + the
// chroma row's (8 lanes each). Returns the chunks to redo, listed as encode_scaled_avx2
// lists them.
template <bool Wide, bool High, bool IL, bool Centre>
__attribute__((target("avx2,fma"))) static int encode_codes_avx2(
    int nf, const float* __restrict ya, const float* __restrict yb, const float* __restrict sb,
    const float* __restrict gy, const float* __restrict gu, const float* __restrict gv, float black,
    const float* __restrict tab, const Yuv420Codes& kc, const float* __restrict off, uint8_t* __restrict pya,
    uint8_t* __restrict pyb, uint8_t* __restrict pu, uint8_t* __restrict pv, float* __restrict list) {
  const __m256 vb = _mm256_set1_ps(black), one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  const __m256 mx = _mm256_set1_ps(kc.maxc);
  const __m256 oa = _mm256_loadu_ps(off), ob = _mm256_loadu_ps(off + 8), oc = _mm256_loadu_ps(off + 16);
  const __m256i dup0 = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3), dup1 = _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7);
  const __m128i hs = _mm_cvtsi32_si128(High ? 16 - kc.bits : 0);
  int nl = 0;
  for (int j = 0; j < nf; ++j) {
    const int i = 8 * j, x = 16 * j;
    const __m256 s8 = _mm256_loadu_ps(sb + i), g8 = _mm256_loadu_ps(gy + i);
    __m256 ea[2], ec[2];
    __m256i qa[2], qb[2];
    int any_a = 0, any_b = 0;
    for (int k = 0; k < 2; ++k) {
      const __m256i dup = k ? dup1 : dup0;
      const __m256 s = _mm256_permutevar8x32_ps(s8, dup), g = _mm256_permutevar8x32_ps(g8, dup);
      const __m256 va = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(ya + x + 8 * k), vb), s);
      const __m256 vc = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(yb + x + 8 * k), vb), s);
      any_a |= _mm256_movemask_ps(_mm256_cmp_ps(va, one, _CMP_NLE_UQ));  // > 1 or NaN
      any_b |= _mm256_movemask_ps(_mm256_cmp_ps(vc, one, _CMP_NLE_UQ));
      ea[k] = encode_rel8(va, tab);
      ec[k] = encode_rel8(vc, tab);
      qa[k] = quant8<Wide, High>(_mm256_fmadd_ps(ea[k], g, oa), zero, mx, hs);
      qb[k] = quant8<Wide, High>(_mm256_fmadd_ps(ec[k], g, ob), zero, mx, hs);
    }
    const __m256 e = block_sum8<Centre>(ea[0], ea[1], ec[0], ec[1], kc.w);
    const __m256i cb = quant8<Wide, High>(_mm256_fmadd_ps(e, _mm256_loadu_ps(gu + i), oc), zero, mx, hs);
    const __m256i cr = quant8<Wide, High>(_mm256_fmadd_ps(e, _mm256_loadu_ps(gv + i), oc), zero, mx, hs);
    store_codes<Wide, IL>(qa[0], qa[1], qb[0], qb[1], cb, cr, pya, pyb, pu, pv, x, i);
    const int rows = (any_a ? 1 : 0) | (any_b ? 2 : 0);
    list[nl] = float(x + rows);  // encode_scaled_avx2's list
    nl += rows ? 1 : 0;
  }
  return nl;
}
// One chunk's codes from its R'G'B' (ra, rb: rows a, b at the chunk's first column,
// planes W apart), as pack_yuv420_pair makes them: Y' = y_off + (kr R' + kg G' + kb B')
// y_scale, the block's R'G'B' by chroma_down's weights, its Cb, Cr by rgb_to_cbcr_code;
// th: the dither's offsets of rows a, b and the chroma row.
template <bool Wide, bool High, bool IL>
__attribute__((target("avx2,fma"))) static void codes_rgb_avx2(const float* __restrict ra, const float* __restrict rb,
                                                               int W, const Yuv420Codes& kc, const float* __restrict th,
                                                               uint8_t* __restrict pya, uint8_t* __restrict pyb,
                                                               uint8_t* __restrict pu, uint8_t* __restrict pv) {
  const __m256 zero = _mm256_setzero_ps(), mx = _mm256_set1_ps(kc.maxc);
  const __m256 kr = _mm256_set1_ps(kc.kr), kg = _mm256_set1_ps(kc.kg), kb = _mm256_set1_ps(kc.kb);
  const __m256 ysc = _mm256_set1_ps(kc.y_scale), yoff = _mm256_set1_ps(kc.y_off), coff = _mm256_set1_ps(kc.c_off);
  const __m128i hs = _mm_cvtsi32_si128(High ? 16 - kc.bits : 0);
  __m256i q[4];
  for (int r = 0; r < 4; ++r) {  // rows a, a, b, b: 8 columns each
    const float* p = (r < 2 ? ra : rb) + 8 * (r & 1);
    const __m256 l = _mm256_fmadd_ps(
        kb, _mm256_loadu_ps(p + 2 * W), _mm256_fmadd_ps(kg, _mm256_loadu_ps(p + W), _mm256_mul_ps(kr, _mm256_loadu_ps(p))));
    q[r] = quant8<Wide, High>(_mm256_add_ps(_mm256_fmadd_ps(l, ysc, yoff), _mm256_loadu_ps(th + (r < 2 ? 0 : 8))), zero, mx,
                        hs);
  }
  __m256 c[3];
  for (int ch = 0; ch < 3; ++ch) {
    const float* a = ra + size_t(ch) * W;
    const float* b = rb + size_t(ch) * W;
    c[ch] = block_sum8<false>(_mm256_loadu_ps(a), _mm256_loadu_ps(a + 8), _mm256_loadu_ps(b), _mm256_loadu_ps(b + 8),
                              kc.w);
  }
  const __m256 yn = _mm256_fmadd_ps(kb, c[2], _mm256_fmadd_ps(kg, c[1], _mm256_mul_ps(kr, c[0])));
  const __m256 tc = _mm256_loadu_ps(th + 16);
  const __m256i cb = quant8<Wide, High>(
      _mm256_add_ps(_mm256_fmadd_ps(_mm256_sub_ps(c[2], yn), _mm256_set1_ps(kc.cb_mul), coff), tc), zero, mx, hs);
  const __m256i cr = quant8<Wide, High>(
      _mm256_add_ps(_mm256_fmadd_ps(_mm256_sub_ps(c[0], yn), _mm256_set1_ps(kc.cr_mul), coff), tc), zero, mx, hs);
  store_codes<Wide, IL>(q[0], q[1], q[2], q[3], cb, cr, pya, pyb, pu, pv, 0, 0);
}
// encode_codes_pair's per-block factors in one pass (were three: encode_rel on block_factors'
// two channels' t_c, block_gains, block_code_factors), 8 blocks a step: t (3 x n, planar,
// block_factors') -> the three channels' F(t_c) in place (block_gains' selects; the
// redone chunks read them), and the code factors gy, gu, gv (block_code_factors': gy =
// (kr g0 + kg g1 + kb g2) y_scale, gu = (g2 - Y'n) cbm, gv = (g0 - Y'n) crm, the sum as
// GCC contracted it there: kb g2 + (kr g0 + kg g1), one product rounded). The same
// operations on the same values: the same bits. The last n % 8 blocks through a copy
// padded to 8 (encode_rel's scalar tail had encode_lookup without fma: within an ulp).
__attribute__((target("avx2,fma"), always_inline)) static inline void gains_codes8(
    float* __restrict t0, float* __restrict t1, float* __restrict t2, const float* __restrict tab, __m256 kr,
    __m256 kg, __m256 kb, __m256 ysc, __m256 cbm, __m256 crm, float* __restrict gy, float* __restrict gu,
    float* __restrict gv) {
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps(), two = _mm256_set1_ps(2.0f);
  const __m256 fa = encode_rel8(_mm256_loadu_ps(t0), tab), fb = encode_rel8(_mm256_loadu_ps(t1), tab);
  const __m256 k = _mm256_loadu_ps(t2);
  const __m256 k0 = _mm256_cmp_ps(k, zero, _CMP_EQ_OQ), k1 = _mm256_cmp_ps(k, one, _CMP_EQ_OQ),
               k2 = _mm256_cmp_ps(k, two, _CMP_EQ_OQ);
  const __m256 g0 = _mm256_blendv_ps(fa, one, k0);
  const __m256 g1 = _mm256_blendv_ps(_mm256_blendv_ps(fb, fa, k0), one, k1);
  const __m256 g2 = _mm256_blendv_ps(fb, one, k2);
  _mm256_storeu_ps(t0, g0);
  _mm256_storeu_ps(t1, g1);
  _mm256_storeu_ps(t2, g2);
  const __m256 y = _mm256_fmadd_ps(kb, g2, _mm256_fmadd_ps(kr, g0, _mm256_mul_ps(kg, g1)));
  _mm256_storeu_ps(gy, _mm256_mul_ps(y, ysc));
  _mm256_storeu_ps(gu, _mm256_mul_ps(_mm256_sub_ps(g2, y), cbm));
  _mm256_storeu_ps(gv, _mm256_mul_ps(_mm256_sub_ps(g0, y), crm));
}
__attribute__((target("avx2,fma"))) static void gains_codes_avx2(float* __restrict t, int n,
                                                                const float* __restrict tab, const Yuv420Codes& kc,
                                                                float w, float* __restrict gy, float* __restrict gu,
                                                                float* __restrict gv) {
  float* __restrict t0 = t;
  float* __restrict t1 = t + n;
  float* __restrict t2 = t + 2 * size_t(n);
  const __m256 kr = _mm256_set1_ps(kc.kr), kg = _mm256_set1_ps(kc.kg), kb = _mm256_set1_ps(kc.kb);
  const __m256 ysc = _mm256_set1_ps(kc.y_scale);
  const __m256 cbm = _mm256_set1_ps(kc.cb_mul * w), crm = _mm256_set1_ps(kc.cr_mul * w);
  int i = 0;
  for (; i + 8 <= n; i += 8) gains_codes8(t0 + i, t1 + i, t2 + i, tab, kr, kg, kb, ysc, cbm, crm, gy + i, gu + i, gv + i);
  if (i < n) {
    float a[6][8] = {};
    const int m = n - i;
    for (int l = 0; l < m; ++l) a[0][l] = t0[i + l], a[1][l] = t1[i + l], a[2][l] = t2[i + l];
    gains_codes8(a[0], a[1], a[2], tab, kr, kg, kb, ysc, cbm, crm, a[3], a[4], a[5]);
    for (int l = 0; l < m; ++l) {
      t0[i + l] = a[0][l], t1[i + l] = a[1][l], t2[i + l] = a[2][l];
      gy[i + l] = a[3][l], gu[i + l] = a[4][l], gv[i + l] = a[5][l];
    }
  }
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

// The factorised R'G'B' of columns [x0, x1) of both rows, one pixel at a time (what
// encode_scaled_avx2 does 16 at a time): each pixel's light above black times its block's
// scale through the encode table, times the block's three gains, into oa, ob (planar, W
// apart). Returns the rows that hold a pixel past the table (bit 0: row a, bit 1: row b).
__attribute__((always_inline)) static inline int encode_scaled_cols(
    const float* __restrict ya, const float* __restrict yb, int W, const float* __restrict sb,
    const float* __restrict g, int x0, int x1, float black, const float* __restrict tab, float* __restrict oa,
    float* __restrict ob) {
  const int n = (W + 1) / 2;
  const size_t n2 = 2 * size_t(n), W2 = 2 * size_t(W);
  auto px = [&](const float* __restrict yl, float* __restrict o, int x) __attribute__((always_inline)) {
    const int i = x / 2;
    const float v = (yl[x] - black) * sb[i];
    const float e = encode_lookup(v, tab, 0.0f, 1.0f);
    o[x] = e * g[i];
    o[W + x] = e * g[n + i];
    o[W2 + x] = e * g[n2 + i];
    return !(v <= 1.0f);
  };
  bool any_a = false, any_b = false;
  for (int x = x0; x < x1; ++x) any_a |= px(ya, oa, x);
  for (int x = x0; x < x1; ++x) any_b |= px(yb, ob, x);
  return (any_a ? 1 : 0) | (any_b ? 2 : 0);
}

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
  const size_t n2 = 2 * size_t(n);
  const float* tab = enc_tab_.data();
  const float black = K_.black;
  int nl = 0, j0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2()) {
    nl = encode_scaled_avx2(nf, W, ya, yb, sb, g, g + n, g + n2, black, tab, oa, ob, list);
    j0 = nf;
  }
#endif
  auto chunk = [&](int x0, int x1) __attribute__((always_inline)) {
    const int rows = encode_scaled_cols(ya, yb, W, sb, g, x0, x1, black, tab, oa, ob);
    list[nl] = float(x0 + rows);
    nl += rows ? 1 : 0;
  };
  for (int j = j0; j < nf; ++j) chunk(16 * j, 16 * j + 16);
  chunk(16 * nf, W);
  return nl;
}

// f(wide, high, il) with a 4:2:0 output's code layout as std::bool_constant types, for the
// template loops below: 16-bit words (else bytes), the code in their high bits (P010),
// Cb and Cr interleaved in plane 1 (NV12, P010).
template <class Fn>
static auto with_code_layout(const Yuv420Codes& kc, Fn&& f) {
  using T = std::true_type;
  using F = std::false_type;
  if (kc.bytes == 1) return kc.il ? f(F(), F(), T()) : f(F(), F(), F());
  if (kc.high) return kc.il ? f(T(), T(), T()) : f(T(), T(), F());
  return kc.il ? f(T(), F(), T()) : f(T(), F(), F());
}

// The row pair y (even), y + 1's planes and dither offsets (encode_codes_pair, encode_codes_rgb).
PairCodes CpuEngine::pair_codes(const FrameView& out, const Yuv420Codes& kc, int y) {
  PairCodes p;
  p.y = y;
  p.pya = out.data[0] + std::ptrdiff_t(y) * out.stride[0];
  p.pyb = p.pya + out.stride[0];
  p.pu = out.data[1] + std::ptrdiff_t(y >> 1) * out.stride[1];
  p.pv = kc.il ? p.pu : out.data[2] + std::ptrdiff_t(y >> 1) * out.stride[2];
  for (int k = 0; k < 8; ++k) {
    p.th[k] = kc.dither ? pio::bayer8_threshold(k, y) : 0.5f;
    p.th[8 + k] = kc.dither ? pio::bayer8_threshold(k, y + 1) : 0.5f;
    p.th[16 + k] = kc.dither ? pio::bayer8_threshold(k, y >> 1) : 0.5f;
  }
  return p;
}

// The full 16-pixel chunks of a 4:2:0 row pair by the block factorisation (as
// encode_scaled_pair; g: the blocks' three factors) straight into the output's codes
// (encode_codes_avx2). g: block_factors' t, made the three factors F(t_c) in place
// (gains_codes_avx2: encode_rel and block_gains). Returns the chunks to redo in list
// (encode_scaled_pair's); their codes here are wrong: the caller makes their R'G'B' and
// encode_codes_rgb packs them. gc: 3 n floats of scratch. AVX2 only (the caller checks
// have_avx2()).
int CpuEngine::encode_codes_pair(const float* __restrict ya, const float* __restrict yb, int W,
                                 const float* __restrict sb, float* __restrict g, float* __restrict gc,
                                 const Yuv420Codes& kc, const PairCodes& pc, float* __restrict list) const {
#if defined(__x86_64__) || defined(__i386__)
  const int n = (W + 1) / 2, nf = (W / 2) / 8;
  const bool centre = kc.w[0] == kc.w[1] && kc.w[0] == kc.w[2] && kc.w[0] == kc.w[3];
  float* __restrict gy = gc;
  float* __restrict gu = gc + n;
  float* __restrict gv = gc + 2 * size_t(n);
  gains_codes_avx2(g, n, enc_tab_.data(), kc, centre ? kc.w[0] : 1.0f, gy, gu, gv);
  float off[24];
  for (int k = 0; k < 8; ++k) {
    off[k] = kc.y_off + pc.th[k];
    off[8 + k] = kc.y_off + pc.th[8 + k];
    off[16 + k] = kc.c_off + pc.th[16 + k];
  }
  const float* tab = enc_tab_.data();
  return with_code_layout(kc, [&](auto wide, auto high, auto il) {
    constexpr bool Wd = decltype(wide)::value, Hi = decltype(high)::value, IL = decltype(il)::value;
    return centre ? encode_codes_avx2<Wd, Hi, IL, true>(nf, ya, yb, sb, gy, gu, gv, K_.black, tab, kc, off, pc.pya,
                                                        pc.pyb, pc.pu, pc.pv, list)
                  : encode_codes_avx2<Wd, Hi, IL, false>(nf, ya, yb, sb, gy, gu, gv, K_.black, tab, kc, off, pc.pya,
                                                         pc.pyb, pc.pu, pc.pv, list);
  });
#else
  (void)ya, (void)yb, (void)W, (void)sb, (void)g, (void)gc, (void)kc, (void)pc, (void)list;
  return 0;
#endif
}
// The codes of the full chunk from column x0 (a multiple of 16) of the pair from their
// R'G'B' rows oa, ob (planar, W apart), as the packer makes them (codes_rgb_avx2).
void CpuEngine::encode_codes_rgb(const float* __restrict oa, const float* __restrict ob, int W, int x0,
                                 const Yuv420Codes& kc, const PairCodes& pc) {
#if defined(__x86_64__) || defined(__i386__)
  const int b = kc.bytes, i = x0 / 2;
  uint8_t* ya = pc.pya + x0 * b;
  uint8_t* yb = pc.pyb + x0 * b;
  uint8_t* u = pc.pu + i * b * (kc.il ? 2 : 1);
  uint8_t* v = pc.pv + i * b;
  with_code_layout(kc, [&](auto wide, auto high, auto il) {
    constexpr bool Wd = decltype(wide)::value, Hi = decltype(high)::value, IL = decltype(il)::value;
    codes_rgb_avx2<Wd, Hi, IL>(oa + x0, ob + x0, W, kc, pc.th, ya, yb, u, v);
  });
#else
  (void)oa, (void)ob, (void)W, (void)x0, (void)kc, (void)pc;
#endif
}

// The factorised R'G'B' (encode_scaled_pair's values) of chunk j (16 pixels, from column
// 16 j; the last may be partial) of both rows into oa, ob (planar, W apart). Returns the
// rows that hold a pixel to redo (bit 0: row a, bit 1: row b).
int CpuEngine::encode_scaled_chunk(const float* __restrict ya, const float* __restrict yb, int W,
                                   const float* __restrict sb, const float* __restrict g, int j,
                                   float* __restrict oa, float* __restrict ob) const {
  const int n = (W + 1) / 2, x0 = 16 * j, x1 = std::min(W, x0 + 16);
  const size_t n2 = 2 * size_t(n);
  const float* tab = enc_tab_.data();
  const float black = K_.black;
#if defined(__x86_64__) || defined(__i386__)
  if (x1 - x0 == 16 && have_avx2()) {
    float l[1];
    const int i = 8 * j;
    if (!encode_scaled_avx2(1, W, ya + x0, yb + x0, sb + i, g + i, g + n + i, g + n2 + i, black, tab, oa + x0,
                            ob + x0, l))
      return 0;
    return int(l[0]) & 3;
  }
#endif
  return encode_scaled_cols(ya, yb, W, sb, g, x0, x1, black, tab, oa, ob);
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
