// dtutmo -- the CPU engine's model at half resolution (cpu_half.h).
#include "cpu_half.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu_simd.h"
#include "dtutmo/color.h"
#include "dtutmo/fastmath.h"
#include "dtutmo/pixel_io.h"
#include "dtutmo/pixel_model.h"
#include "engine_cpu.h"

namespace dtutmo {
namespace cpu {

// The per-block constants of a block row (write_rows' rows, one value a block: block_consts).
struct BlockRow {
  const float *qu, *qd, *au, *xu, *ad, *xd, *gb, *lo, *hi, *a, *cbk, *crk;
};

namespace {

bool subsampled_hdr_in(PixelFormat f) {
  switch (f) {
    case PixelFormat::P010_10LE:
    case PixelFormat::P012_LE:
    case PixelFormat::P016_LE:
    case PixelFormat::I420_10LE:
    case PixelFormat::I420_12LE: return true;
    default: return false;
  }
}

using Codes = HalfCodes;

// The input's 16-bit word i of a row (any byte alignment: GstVideoMeta offsets and strides
// may be odd).
inline uint32_t word(const uint8_t* __restrict row, std::ptrdiff_t i) {
  uint16_t v;
  std::memcpy(&v, row + 2 * i, 2);
  return v;
}


// One output row of luma codes (8-bit), pixels [x0, n), each with its block's constants
// (br, pixel x's at x / 2): s = 2^(q (G(code) - gb)), q the block's qu where G > gb, else
// qd, bounded by its side's (au, xu or ad, xd) and kept in [lo, hi]; the code
// quantize_code(s a, y_off + the dither's threshold th[x & 7]); s kept in srow.
// SH: log2 of the block's side (1: 2x2 blocks, 2: 4x4).
template <int SH = 1>
void luma_row(const uint8_t* __restrict in, int x0, int n, Codes cd, const float* __restrict gtab,
              const BlockRow& br, const float* __restrict th, float y_off, uint32_t maxc, float* __restrict srow,
              uint8_t* __restrict o) {
  for (int x = x0; x < n; ++x) {
    const int b = x >> SH;
    const float G = gtab[cd(word(in, x)) >> 4];
    const float d = G - br.gb[b];
    const bool up = d > 0.0f;
    const float q = up ? br.qu[b] : br.qd[b];
    const float e = G - (up ? br.xu[b] : br.xd[b]);
    const float tb = (up ? br.au[b] : br.ad[b]) + q * (up ? (e > 0.0f ? e : 0.0f) : (e < 0.0f ? e : 0.0f));
    float t = q * d;
    t = up ? (t < tb ? t : tb) : (t > tb ? t : tb);
    float s = fast_exp2(t);
    s = s > br.lo[b] ? s : br.lo[b];
    s = s < br.hi[b] ? s : br.hi[b];
    srow[x] = s;
    o[x] = uint8_t(pio::quantize_code(s * br.a[b], maxc, y_off + th[x & 7]));
  }
}

#if defined(__x86_64__)
// A block row's luma constants for 8 pixels: their blocks' qu, qd, au, xu, ad, xd, gb, lo,
// hi, a (BlockRow), spread to the pixels by spread8.
struct Px8 {
  __m256 q_u, q_d, a_u, x_u, a_d, x_d, g_b, l_o, h_i, a_b;
};
// 4 floats into a vector's low half (the high half undefined: permutes pick from the low)
__attribute__((target("avx2"), always_inline)) static inline __m256 lo4(const float* p) {
  return _mm256_castps128_ps256(_mm_loadu_ps(p));
}

// The ten constants of the blocks from b: 8 blocks a vector (KFull), or 4 in the low half.
template <bool KFull>
__attribute__((target("avx2"), always_inline)) static inline void blocks10(const BlockRow& br, int b, __m256 (&v)[10]) {
  const float* p[10] = {br.qu, br.qd, br.au, br.xu, br.ad, br.xd, br.gb, br.lo, br.hi, br.a};
  for (int i = 0; i < 10; ++i)
    v[i] = KFull ? _mm256_loadu_ps(p[i] + b) : lo4(p[i] + b);
}
// blocks10's vectors spread to 8 pixels by the permute d (each pixel its block's lane).
__attribute__((target("avx2"), always_inline)) static inline Px8 spread8(const __m256 (&v)[10], __m256i d) {
  return {_mm256_permutevar8x32_ps(v[0], d), _mm256_permutevar8x32_ps(v[1], d), _mm256_permutevar8x32_ps(v[2], d),
          _mm256_permutevar8x32_ps(v[3], d), _mm256_permutevar8x32_ps(v[4], d), _mm256_permutevar8x32_ps(v[5], d),
          _mm256_permutevar8x32_ps(v[6], d), _mm256_permutevar8x32_ps(v[7], d), _mm256_permutevar8x32_ps(v[8], d),
          _mm256_permutevar8x32_ps(v[9], d)};
}
// luma_row's s and code of 8 pixels (codes k: 16-bit words, widened), their blocks'
// constants spread to them (c).
__attribute__((target("avx2,fma"), always_inline)) static inline void pixels8(
    __m256i k, const float* __restrict gtab, __m256i mask, __m128i sh, const Px8& c, __m256 off, __m256 top,
    __m256& s, __m256i& code) {
  const __m256 q_u = c.q_u, q_d = c.q_d, a_u = c.a_u, x_u = c.x_u, a_d = c.a_d, x_d = c.x_d, g_b = c.g_b,
               l_o = c.l_o, h_i = c.h_i, a_b = c.a_b;
  const __m256 zero = _mm256_setzero_ps();
  k = _mm256_srli_epi32(_mm256_sll_epi32(_mm256_and_si256(k, mask), sh), 4);
  __m256 g, unused;
  gather_pair(gtab, k, g, unused);
  const __m256 dg = _mm256_sub_ps(g, g_b);
  const __m256 up = _mm256_cmp_ps(dg, zero, _CMP_GT_OQ);
  // the block's constants of the pixel's side (up: qu, xu, au; else qd, xd, ad)
  const __m256 q = _mm256_blendv_ps(q_d, q_u, up);
  const __m256 e = _mm256_sub_ps(g, _mm256_blendv_ps(x_d, x_u, up));
  const __m256 ec = _mm256_blendv_ps(_mm256_min_ps(e, zero), _mm256_max_ps(e, zero), up);
  const __m256 tb = _mm256_fmadd_ps(q, ec, _mm256_blendv_ps(a_d, a_u, up));
  const __m256 t = _mm256_mul_ps(q, dg);
  s = fast_exp2_avx2(_mm256_blendv_ps(_mm256_max_ps(t, tb), _mm256_min_ps(t, tb), up));
  s = _mm256_min_ps(_mm256_max_ps(s, l_o), h_i);
  __m256 v = _mm256_fmadd_ps(s, a_b, off);
  v = _mm256_min_ps(_mm256_max_ps(v, zero), top);
  code = _mm256_cvttps_epi32(v);
}
// 16 codes (two vectors of 8 int32 in [0, 255]) as 16 bytes in order.
__attribute__((target("avx2"), always_inline)) static inline __m128i bytes16(__m256i c0, __m256i c1) {
  const __m256i w = _mm256_permute4x64_epi64(_mm256_packus_epi32(c0, c1), 0xD8);
  return _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
}

// The chroma codes of 8 samples (one chroma row) from their pixels' s: rows a and b of the
// 16 columns (a0, a1, b0, b1), weighted by the siting (w), times their blocks' chroma kb,
// kr (a vector of the samples' own, in order), quantized with off (c_off + the dither's
// thresholds) and stored at u, v (interleaved when il: v = u + 1, step 2).
__attribute__((target("avx2,fma"), always_inline)) static inline void chroma8(
    __m256 a0, __m256 a1, __m256 b0, __m256 b1, const float w[4], __m256 kb, __m256 kr, __m256 off, __m256 top,
    uint8_t* __restrict u, uint8_t* __restrict v, bool il) {
  const __m256 zero = _mm256_setzero_ps();
  // even and odd columns of each row, samples in the order 0 1 4 5 2 3 6 7, then in order
  const __m256 ea = _mm256_shuffle_ps(a0, a1, 0x88), oa = _mm256_shuffle_ps(a0, a1, 0xDD);
  const __m256 eb = _mm256_shuffle_ps(b0, b1, 0x88), ob = _mm256_shuffle_ps(b0, b1, 0xDD);
  __m256 sm = _mm256_fmadd_ps(_mm256_set1_ps(w[3]), ob,
                              _mm256_fmadd_ps(_mm256_set1_ps(w[2]), eb,
                                              _mm256_fmadd_ps(_mm256_set1_ps(w[1]), oa,
                                                              _mm256_mul_ps(_mm256_set1_ps(w[0]), ea))));
  sm = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(sm), 0xD8));
  __m256 cu = _mm256_fmadd_ps(sm, kb, off), cv = _mm256_fmadd_ps(sm, kr, off);
  cu = _mm256_min_ps(_mm256_max_ps(cu, zero), top);
  cv = _mm256_min_ps(_mm256_max_ps(cv, zero), top);
  const __m128i uv = bytes16(_mm256_cvttps_epi32(cu), _mm256_cvttps_epi32(cv));  // u0..7 v0..7
  if (il) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(u), _mm_unpacklo_epi8(uv, _mm_srli_si128(uv, 8)));
  } else {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(u), uv);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(v), _mm_srli_si128(uv, 8));
  }
}

// A row pair's luma codes (rows a, b: luma_row's) and its blocks' chroma codes
// (chroma_row's) by AVX2, 16 columns (8 blocks) a step: the blocks' constants loaded and
// spread to the pixels once for both rows, the chroma from the pixels' s in registers.
// in_b, o_b: nullptr for a last row alone (its chroma from row a twice). u, v: chroma
// bytes (interleaved: v = u + 1, step 2). Returns the columns done (a multiple of 16).
__attribute__((target("avx2,fma"))) int pair_avx2(const uint8_t* __restrict in_a, const uint8_t* __restrict in_b,
                                                  int n, Codes cd, const float* __restrict gtab, const BlockRow& br,
                                                  const float* th_a, const float* th_b, const float* th_c,
                                                  float y_off, float c_off, const float w[4], float maxc,
                                                  uint8_t* __restrict o_a, uint8_t* __restrict o_b,
                                                  uint8_t* __restrict u, uint8_t* __restrict v, bool il) {
  const __m256i dup[2] = {_mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3), _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7)};
  const __m256 off_a = _mm256_add_ps(_mm256_set1_ps(y_off), _mm256_loadu_ps(th_a));
  const __m256 off_b = _mm256_add_ps(_mm256_set1_ps(y_off), _mm256_loadu_ps(th_b));
  const __m256 off_c = _mm256_add_ps(_mm256_set1_ps(c_off), _mm256_loadu_ps(th_c));
  const __m256 top = _mm256_set1_ps(maxc);
  const __m128i sh = _mm_cvtsi32_si128(cd.shl);
  const __m256i mask = _mm256_set1_epi32(int(cd.mask));
  const uint8_t* ib = in_b ? in_b : in_a;
  int x = 0;
  for (; x + 16 <= n; x += 16) {
    const int b = x >> 1;
    __m256 B[10];
    blocks10<true>(br, b, B);
    __m256 sa[2], sb[2];
    __m256i ca[2], cb[2];
    for (int h = 0; h < 2; ++h) {
      const Px8 c = spread8(B, dup[h]);
      pixels8(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in_a + 2 * (x + 8 * h)))), gtab,
              mask, sh, c, off_a, top, sa[h], ca[h]);
      pixels8(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ib + 2 * (x + 8 * h)))), gtab,
              mask, sh, c, off_b, top, sb[h], cb[h]);
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o_a + x), bytes16(ca[0], ca[1]));
    if (o_b) _mm_storeu_si128(reinterpret_cast<__m128i*>(o_b + x), bytes16(cb[0], cb[1]));
    // the blocks' chroma: the blocks are the samples
    chroma8(sa[0], sa[1], sb[0], sb[1], w, _mm256_loadu_ps(br.cbk + b), _mm256_loadu_ps(br.crk + b), off_c, top,
            il ? u + 2 * b : u + b, v + b, il);
  }
  return x;
}

// The four luma rows of a 4x4 block row (in[k], o[k]; nr of them, 1-4, at the frame's
// foot) and their s into srow[k] (luma_row<2>'s), by AVX2, 16 columns (4 blocks) a step:
// the blocks' constants loaded and spread to the pixels once for the nr rows. th: the
// dither's thresholds of the rows, 8 each. Returns the columns done (a multiple of 16).
__attribute__((target("avx2,fma"))) int quad_luma_avx2(const uint8_t* const* in, int nr, int n, Codes cd,
                                                       const float* __restrict gtab, const BlockRow& br,
                                                       const float* th, float y_off, float maxc,
                                                       uint8_t* const* o, float* const* srow) {
  const __m256i dup[2] = {_mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1), _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3)};
  __m256 off[4];
  for (int k = 0; k < 4; ++k) off[k] = _mm256_add_ps(_mm256_set1_ps(y_off), _mm256_loadu_ps(th + 8 * k));
  const __m256 top = _mm256_set1_ps(maxc);
  const __m128i sh = _mm_cvtsi32_si128(cd.shl);
  const __m256i mask = _mm256_set1_epi32(int(cd.mask));
  int x = 0;
  for (; x + 16 <= n; x += 16) {
    const int b = x >> 2;
    __m256 B[10];
    blocks10<false>(br, b, B);
    __m256i c[4][2];
    for (int h = 0; h < 2; ++h) {
      const Px8 pc = spread8(B, dup[h]);
      for (int k = 0; k < nr; ++k) {
        __m256 sv;
        pixels8(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in[k] + 2 * (x + 8 * h)))),
                gtab, mask, sh, pc, off[k], top, sv, c[k][h]);
        _mm256_storeu_ps(srow[k] + x + 8 * h, sv);
      }
    }
    for (int k = 0; k < nr; ++k) _mm_storeu_si128(reinterpret_cast<__m128i*>(o[k] + x), bytes16(c[k][0], c[k][1]));
  }
  return x;
}

// chroma_row4 by AVX2, 8 samples (4 blocks) a step; returns the samples done.
__attribute__((target("avx2,fma"))) int chroma4_avx2(const float* __restrict s0, const float* __restrict s1, int n,
                                                     const float w[4], const BlockRow& br, float c_off,
                                                     const float* th, float maxc, uint8_t* __restrict u,
                                                     uint8_t* __restrict v, bool il) {
  const __m256i dup = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);  // a block's two samples
  const __m256 off = _mm256_add_ps(_mm256_set1_ps(c_off), _mm256_loadu_ps(th));
  const __m256 top = _mm256_set1_ps(maxc);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const int b = i >> 1;
    chroma8(_mm256_loadu_ps(s0 + 2 * i), _mm256_loadu_ps(s0 + 2 * i + 8), _mm256_loadu_ps(s1 + 2 * i),
            _mm256_loadu_ps(s1 + 2 * i + 8), w, _mm256_permutevar8x32_ps(lo4(br.cbk + b), dup),
            _mm256_permutevar8x32_ps(lo4(br.crk + b), dup), off, top, il ? u + 2 * i : u + i, v + i, il);
  }
  return i;
}

// The 4x4 means of four luma rows r[0..3] (Codes: the sum of the 16 q codes << (l - 2), or
// >> (2 - l)), n full blocks, by AVX2, 4 blocks a step (pair sums by vpmaddwd, the rows
// added in 32 bits, the pairs by vphaddd); returns the blocks done.
__attribute__((target("avx2"))) int down_luma4_avx2(const uint8_t* const* r, int n, Codes cd, uint16_t* __restrict o) {
  const __m256i m = _mm256_set1_epi16(short(cd.mask)), one = _mm256_set1_epi16(1);
  const __m128i rr = _mm_cvtsi32_si128(cd.r), up = _mm_cvtsi32_si128(cd.l >= 2 ? cd.l - 2 : 0),
                dn = _mm_cvtsi32_si128(cd.l >= 2 ? 0 : 2 - cd.l);
  const __m256i pick = _mm256_setr_epi32(0, 1, 4, 5, 0, 1, 4, 5);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256i sum = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      const __m256i q = _mm256_srl_epi16(
          _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r[k] + 8 * i)), m), rr);
      sum = _mm256_add_epi32(sum, _mm256_madd_epi16(q, one));
    }
    // blocks 0 1 in the low lane's first two, 2 3 in the high lane's
    sum = _mm256_srl_epi32(_mm256_sll_epi32(_mm256_hadd_epi32(sum, sum), up), dn);
    const __m128i b4 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(sum, pick));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(o + i), _mm_packus_epi32(b4, b4));
  }
  return i;
}
#endif

// The 2x2 means of two luma rows a, b (Codes), n full blocks, from block i0.
DTUTMO_HOT void down_luma(const uint8_t* __restrict a, const uint8_t* __restrict b, int i0, int n, Codes cd,
                          uint16_t* __restrict o) {
  for (int i = i0; i < n; ++i)
    o[i] = uint16_t((cd.q(word(a, 2 * i)) + cd.q(word(a, 2 * i + 1)) + cd.q(word(b, 2 * i)) + cd.q(word(b, 2 * i + 1)))
                    << cd.l);
}
#if defined(__x86_64__)
// down_luma by AVX2, 8 blocks a step (16-bit sums, pairs by vpmaddwd); returns the blocks done.
__attribute__((target("avx2"))) int down_luma_avx2(const uint8_t* __restrict a, const uint8_t* __restrict b,
                                                   int n, Codes cd, uint16_t* __restrict o) {
  const __m256i m = _mm256_set1_epi16(short(cd.mask)), one = _mm256_set1_epi16(1);
  const __m128i rr = _mm_cvtsi32_si128(cd.r), ll = _mm_cvtsi32_si128(cd.l);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i va = _mm256_srl_epi16(
        _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 4 * i)), m), rr);
    const __m256i vb = _mm256_srl_epi16(
        _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 4 * i)), m), rr);
    const __m256i sum = _mm256_sll_epi32(_mm256_madd_epi16(_mm256_add_epi16(va, vb), one), ll);
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(sum, sum), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + i), _mm256_castsi256_si128(p));
  }
  return i;
}
#endif

// One block row's chroma plane (16-bit codes) from the chroma rows p0 (its own) and p1 (the
// next, for vertically cosited chroma): the sample moved to the block's centre by the
// siting's weights (3/4, 1/4 each way it is cosited). Samples STEP words apart.
template <int STEP>
inline __attribute__((always_inline)) void down_chroma_t(const uint8_t* __restrict p0,
                                                         const uint8_t* __restrict p1, int n, bool hc, bool vc,
                                                         Codes cd, uint16_t* __restrict o) {
  const int last = n - 1;
  if (!hc && !vc) {
    for (int i = 0; i < n; ++i) o[i] = uint16_t(cd(word(p0, i * STEP)));
  } else if (!vc) {
    for (int i = 0; i < last; ++i)
      o[i] = uint16_t((3 * cd(word(p0, i * STEP)) + cd(word(p0, (i + 1) * STEP)) + 2) >> 2);
    o[last] = uint16_t(cd(word(p0, last * STEP)));
  } else if (!hc) {
    for (int i = 0; i < n; ++i) o[i] = uint16_t((3 * cd(word(p0, i * STEP)) + cd(word(p1, i * STEP)) + 2) >> 2);
  } else {
    for (int i = 0; i < last; ++i)
      o[i] = uint16_t((9 * cd(word(p0, i * STEP)) + 3 * cd(word(p0, (i + 1) * STEP)) + 3 * cd(word(p1, i * STEP)) +
                       cd(word(p1, (i + 1) * STEP)) + 8) >> 4);
    o[last] = uint16_t((3 * cd(word(p0, last * STEP)) + cd(word(p1, last * STEP)) + 2) >> 2);
  }
}
DTUTMO_HOT void down_chroma_planar(const uint8_t* p0, const uint8_t* p1, int n, bool hc, bool vc, Codes cd,
                                   uint16_t* o) {
  down_chroma_t<1>(p0, p1, n, hc, vc, cd, o);
}
DTUTMO_HOT void down_chroma_il(const uint8_t* p0, const uint8_t* p1, int n, bool hc, bool vc, Codes cd,
                               uint16_t* o) {
  down_chroma_t<2>(p0, p1, n, hc, vc, cd, o);
}

// One 4x4 block row's chroma plane (16-bit codes) from the chroma rows p0, p1 (the block's
// two; samples STEP words apart), n blocks: each block's 2x2 samples weighted toward its
// centre, (h0, h1) across and (v0, v1) down in quarters (HalfModel::down_rows4). The
// last block where the row has an odd count of samples: its last sample twice.
template <int STEP>
inline __attribute__((always_inline)) void down_chroma4_t(const uint8_t* __restrict p0, const uint8_t* __restrict p1,
                                                          int n, int cw, uint32_t h0, uint32_t v0, Codes cd,
                                                          uint16_t* __restrict o) {
  const uint32_t h1 = 4 - h0, v1 = 4 - v0;
  const int full = std::min(n, cw / 2);
  for (int i = 0; i < full; ++i) {
    const uint32_t a = h0 * cd(word(p0, 2 * i * STEP)) + h1 * cd(word(p0, (2 * i + 1) * STEP));
    const uint32_t b = h0 * cd(word(p1, 2 * i * STEP)) + h1 * cd(word(p1, (2 * i + 1) * STEP));
    o[i] = uint16_t((v0 * a + v1 * b + 8) >> 4);
  }
  for (int i = full; i < n; ++i) {
    const int i0 = std::min(2 * i, cw - 1), i1 = std::min(2 * i + 1, cw - 1);
    const uint32_t a = h0 * cd(word(p0, i0 * STEP)) + h1 * cd(word(p0, i1 * STEP));
    const uint32_t b = h0 * cd(word(p1, i0 * STEP)) + h1 * cd(word(p1, i1 * STEP));
    o[i] = uint16_t((v0 * a + v1 * b + 8) >> 4);
  }
}
DTUTMO_HOT void down_chroma4_planar(const uint8_t* p0, const uint8_t* p1, int n, int cw, uint32_t h0, uint32_t v0,
                                    Codes cd, uint16_t* o) {
  down_chroma4_t<1>(p0, p1, n, cw, h0, v0, cd, o);
}
DTUTMO_HOT void down_chroma4_il(const uint8_t* p0, const uint8_t* p1, int n, int cw, uint32_t h0, uint32_t v0,
                                Codes cd, uint16_t* o) {
  down_chroma4_t<2>(p0, p1, n, cw, h0, v0, cd, o);
}

// A block row's x (G at the mean code), y (2.4 log2 of the output's Y') and Y' (luma
// weights kr, kg, kb of the output) from the inner engine's R'G'B'.
DTUTMO_HOT void block_row(const float* __restrict rgb, const uint16_t* __restrict code, int n,
                          const float* __restrict gtab, float kr, float kg, float kb, float* __restrict xo,
                          float* __restrict yo, float* __restrict ybo) {
  for (int i = 0; i < n; ++i) {
    const float r = clampf(rgb[3 * i], 0.0f, 1.0f), g = clampf(rgb[3 * i + 1], 0.0f, 1.0f),
                b = clampf(rgb[3 * i + 2], 0.0f, 1.0f);
    const float yv = kr * r + kg * g + kb * b;
    ybo[i] = yv;
    yo[i] = 2.4f * poly_log2(yv > 1e-6f ? yv : 1e-6f);
    xo[i] = gtab[code[i] >> 4];
  }
}

// The blocks' constants of a block row from its x and y and its neighbours' (rows p0
// above, p1 its own, p2 below; each padded with its edge block on both sides: index i + 1
// is block i): the slopes of y against x through the block's own point, least squares
// over the neighbours brighter in x (bu) and darker (bd), each drawn toward b0 by eps
// (a pixel brighter than its block's mean follows its brighter neighbours, a darker one its
// darker: an edge through the block gives each side its side's output); the bounds of
// each side (au, xu: log2 of the brightest output among the brighter neighbours over the
// block's, / 2.4 as q, and the largest x among them; ad, xd the darkest's): a pixel above
// its block goes no further above the brightest neighbour's output than its slope times
// how far it is above the largest neighbour's x (no overshoot where the neighbours span it,
// texture beyond them kept), and the same below; then qu = bu / 2.4, qd = bd / 2.4, lo, hi
// (s's bounds: the frame's least Y', the gamut),
// a = Y' y_scale, the chroma's (B' - Y') cb_mul, (R' - Y') cr_mul.
DTUTMO_HOT void block_consts(const float* __restrict x0, const float* __restrict x1, const float* __restrict x2,
                             const float* __restrict v0, const float* __restrict v1, const float* __restrict v2,
                             const float* __restrict yb, const float* __restrict rgb, int n, float eps, float b0,
                             float bmax, float ymin, float y_scale, float cb_mul, float cr_mul,
                             float* __restrict qu, float* __restrict qd, float* __restrict au,
                             float* __restrict xu, float* __restrict ad, float* __restrict xd,
                             float* __restrict lo, float* __restrict hi, float* __restrict a,
                             float* __restrict cbk, float* __restrict crk) {
  for (int i = 0; i < n; ++i) {
    const float xc = x1[i + 1], yc = v1[i + 1];
    float uxx = eps, uxy = eps * b0, dxx = eps, dxy = eps * b0;
    float xmax = xc, yhi = yc, xmin = xc, ylo = yc;
    auto add = [&](float xn, float yn) __attribute__((always_inline)) {
      const float dx = xn - xc, dy = yn - yc;
      const float xx = dx * dx, xy = dx * dy;
      const bool up = dx > 0.0f;
      uxx += up ? xx : 0.0f;
      uxy += up ? xy : 0.0f;
      dxx += up ? 0.0f : xx;
      dxy += up ? 0.0f : xy;
      xmax = xn > xmax ? xn : xmax;
      xmin = xn < xmin ? xn : xmin;
      const float yu = up ? yn : yc, yd = up ? yc : yn;
      yhi = yu > yhi ? yu : yhi;
      ylo = yd < ylo ? yd : ylo;
    };
    add(x0[i], v0[i]);
    add(x0[i + 1], v0[i + 1]);
    add(x0[i + 2], v0[i + 2]);
    add(x1[i], v1[i]);
    add(x1[i + 2], v1[i + 2]);
    add(x2[i], v2[i]);
    add(x2[i + 1], v2[i + 1]);
    add(x2[i + 2], v2[i + 2]);
    const float bu = clampf(uxy / uxx, 0.0f, bmax), bd = clampf(dxy / dxx, 0.0f, bmax);
    const float yv = yb[i];
    const float r = clampf(rgb[3 * i], 0.0f, 1.0f), g = clampf(rgb[3 * i + 1], 0.0f, 1.0f),
                bl = clampf(rgb[3 * i + 2], 0.0f, 1.0f);
    const float mg = r > g ? r : g, mc = mg > bl ? mg : bl;
    qu[i] = bu * (1.0f / 2.4f);
    qd[i] = bd * (1.0f / 2.4f);
    au[i] = (yhi - yc) * (1.0f / 2.4f);
    xu[i] = xmax;
    ad[i] = (ylo - yc) * (1.0f / 2.4f);
    xd[i] = xmin;
    lo[i] = yv > ymin ? ymin / yv : 1.0f;
    hi[i] = mc > 1e-6f ? 1.0f / mc : 1.0f;  // >= 1: mc <= 1
    a[i] = yv * y_scale;
    cbk[i] = (bl - yv) * cb_mul;
    crk[i] = (r - yv) * cr_mul;
  }
}

// A chroma row's codes, samples [i0, n): the siting-weighted mean (w) of its pixels' s
// (s0, s1: rows 2i, 2i + 1, one column more than the samples) times its block's chroma
// (br.cbk, br.crk; block i >> (SH - 1): 2x2 blocks are the samples', a 4x4 block holds
// 2x2 of them), quantize_code'd with c_off + the dither's th[i & 7]; u, v every `step`
// bytes.
template <int SH>
__attribute__((always_inline)) inline void chroma_row_t(const float* __restrict s0, const float* __restrict s1, int i0,
                                                        int n, const float w[4], const BlockRow& br, float c_off,
                                                        const float* __restrict th, uint32_t maxc,
                                                        uint8_t* __restrict u, uint8_t* __restrict v, int step) {
  for (int i = i0; i < n; ++i) {
    const float sb = w[0] * s0[2 * i] + w[1] * s0[2 * i + 1] + w[2] * s1[2 * i] + w[3] * s1[2 * i + 1];
    u[i * step] = uint8_t(pio::quantize_code(sb * br.cbk[i >> (SH - 1)], maxc, c_off + th[i & 7]));
    v[i * step] = uint8_t(pio::quantize_code(sb * br.crk[i >> (SH - 1)], maxc, c_off + th[i & 7]));
  }
}
#define DTUTMO_CHROMA_ARGS                                                                                          \
  const float *__restrict s0, const float *__restrict s1, int i0, int n, const float w[4], const BlockRow &br,      \
      float c_off, const float *__restrict th, uint32_t maxc, uint8_t *__restrict u, uint8_t *__restrict v, int step
DTUTMO_HOT void chroma_row(DTUTMO_CHROMA_ARGS) { chroma_row_t<1>(s0, s1, i0, n, w, br, c_off, th, maxc, u, v, step); }
DTUTMO_HOT void chroma_row4(DTUTMO_CHROMA_ARGS) { chroma_row_t<2>(s0, s1, i0, n, w, br, c_off, th, maxc, u, v, step); }
#undef DTUTMO_CHROMA_ARGS

}  // namespace

bool half_model_fits(const StreamConfig& c) {
  return subsampled_hdr_in(c.in_format) &&
         (c.out_format == PixelFormat::I420 || c.out_format == PixelFormat::NV12) &&
         c.out.transfer == Transfer::BT1886 && c.width >= 2 && c.height >= 2;
}

bool half_model_auto(const StreamConfig& c) {
  return half_model_fits(c) && (c.width >= kHalfAutoWidth || c.height >= kHalfAutoHeight);
}

int half_model_inner_cell(const StreamConfig& c) {
  return c.width >= kHalfCoarseWidth || c.height >= kHalfCoarseHeight ? kCell : 4;
}

int half_model_factor(const Params& p) {
  if (p.model_resolution == ModelResolution::Quarter) return 4;
  if (p.model_resolution == ModelResolution::Auto && !p.optics && !p.base_detail && !p.csf) return 4;
  return 2;
}

HalfModel::HalfModel(CpuPool* pool, int threads, int factor)
    : pool_(pool), inner_(new CpuEngine(threads)), f_(factor == 4 ? 4 : 2) {}
HalfModel::~HalfModel() = default;

// b as n zeros, written by the pool's threads in 2 MiB parts (the first touch of a
// frame-sized buffer is its page faults: CpuEngine::zero_fill).
template <class V>
void HalfModel::zero(V& b, size_t n) {
  b.clear();
  b.resize(n);  // no writes (HugePageAllocator::construct)
  constexpr size_t kPart = (size_t(2) << 20) / sizeof(typename V::value_type);
  auto* p = b.data();
  pool_->run(int((n + kPart - 1) / kPart), [&](int t, int) {
    const size_t i0 = size_t(t) * kPart;
    std::memset(static_cast<void*>(p + i0), 0, std::min(kPart, n - i0) * sizeof(*p));
  });
}

static Params inner_params(Params p) {
  p.model_resolution = ModelResolution::Full;
  return p;
}

bool HalfModel::configure(const StreamConfig& cfg, const Params& p, std::string* err) {
  if (!half_model_fits(cfg)) {
    if (err) *err = "cpu engine: the half-resolution model needs 4:2:0 YUV in and 8-bit 4:2:0 BT.1886 out";
    return false;
  }
  C_ = cfg;
  P_ = p;
  W_ = cfg.width;
  H_ = cfg.height;
  w_ = (W_ + f_ - 1) / f_;
  h_ = (H_ + f_ - 1) / f_;
  cd_ = Codes{};
  if (cfg.in_format == PixelFormat::I420_10LE) cd_ = Codes{0x3FF, 6, 0, 4};
  if (cfg.in_format == PixelFormat::I420_12LE) cd_ = Codes{0xFFF, 4, 0, 2};
  in_il_ = cfg.in_format == PixelFormat::P010_10LE || cfg.in_format == PixelFormat::P012_LE ||
           cfg.in_format == PixelFormat::P016_LE;
  StreamConfig ic = cfg;
  ic.width = w_;
  ic.height = h_;
  ic.in_format = PixelFormat::Y444_16LE;
  ic.out_format = PixelFormat::RGBF32;
  ic.in.chroma_h_cosited = ic.in.chroma_v_cosited = false;
  // the same cells in the picture whatever the block: half the side on 4x4 blocks
  static_cast<CpuEngine&>(*inner_).set_cell(half_model_inner_cell(cfg) * 2 / f_);
  if (!inner_->set_params(inner_params(p), err) || !inner_->configure(ic, err)) return false;
  const size_t nb = size_t(w_) * h_;
  zero(hin_, nb * 3);
  zero(rgb_, nb * 3);
  zero(x_, nb);
  zero(y_, nb);
  zero(yb_, nb);
  gtab_.assign(kGTab + 1, 0.0f);  // + 1: gather_pair reads a pair
  least_.assign(size_t(pool_->threads()) * 8, 0.0f);
  // write_rows: 2 s rows, 24 thresholds; write_rows4: 4 and 40; then 17 block rows
  scr_.assign(pool_->threads(), std::vector<float>(size_t(4) * (W_ + 8) + 40 + size_t(17) * (w_ + 8), 0.0f));
  build_g();
  set_codes();
  return true;
}

// The output's code constants (convert.h yuv420_codes: matrix, range, siting weights, the
// dither's use), made when the stream or the dither switch changes, not per frame.
void HalfModel::set_codes() {
  FrameView o;
  o.format = C_.out_format;
  yuv420_codes(o, C_.out, P_.dither, &k_);
}

bool HalfModel::set_params(const Params& p, std::string* err) {
  if (!inner_->set_params(inner_params(p), err)) return false;
  const bool g = p.input_scale != P_.input_scale || p.hlg_peak != P_.hlg_peak;
  P_ = p;
  if (g) build_g();
  set_codes();
  return true;
}

void HalfModel::reset() { inner_->reset(); }
EngineStats HalfModel::stats() const { return inner_->stats(); }

// G: the log2 luminance of a grey at each 12-bit luma code (its centre), through the
// shared converters (unpack_rows: the input's matrix and range) and decode (pixel_model.h
// decode_rgb: the transfer, input-scale, HLG's OOTF), floored as the engine's statistics.
void HalfModel::build_g() {
  std::vector<uint16_t> row(size_t(kGTab) * 3);
  for (int i = 0; i < kGTab; ++i) {
    row[i] = uint16_t((i << 4) + 8);
    row[kGTab + i] = row[2 * kGTab + i] = 32768;
  }
  FrameView v;
  v.format = PixelFormat::Y444_16LE;
  v.width = kGTab;
  v.height = 1;
  for (int p = 0; p < 3; ++p) {
    v.data[p] = reinterpret_cast<uint8_t*>(row.data() + size_t(p) * kGTab);
    v.stride[p] = 2 * kGTab;
  }
  std::vector<float> rgb(size_t(kGTab) * 3);
  unpack_rows(v, C_.in, 0, 1, rgb.data(), std::ptrdiff_t(kGTab) * 3);
  std::vector<float> tab(kDecodeTab + 2);
  fill_decode_table(C_.in.transfer, tab.data());
  const DecodeConsts d = decode_consts(PixelFormat::Y444_16LE, C_.in.transfer, P_.input_scale, P_.hlg_peak,
                                       tab.data());
  const Mat3 m = rgb_to_xyz(C_.in.primaries);
  const Vec3 wy = {m.m[1][0], m.m[1][1], m.m[1][2]};
  for (int i = 0; i < kGTab; ++i) {
    const Vec3 l = decode_rgb({rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]}, d);
    gtab_[i] = log2_floored(luminance_of(l.x, l.y, l.z, wy));
  }
  gtab_[kGTab] = gtab_[kGTab - 1];
}

// Block rows [y0, y1): the 2x2 mean luma code, the chroma at the block's centre.
void HalfModel::down_rows(const FrameView& in, int y0, int y1) {
  const size_t nb = size_t(w_) * h_;
  const bool hc = C_.in.chroma_h_cosited, vc = C_.in.chroma_v_cosited;
#if defined(__x86_64__)
  const bool avx2 = vector_ && have_avx2();
#endif
  const int full = W_ / 2;
  for (int by = y0; by < y1; ++by) {
    const uint8_t* a = in.data[0] + in.stride[0] * std::ptrdiff_t(2 * by);
    const uint8_t* b = in.data[0] + in.stride[0] * std::ptrdiff_t(std::min(2 * by + 1, H_ - 1));
    uint16_t* oy = hin_.data() + size_t(by) * w_;
    int i = 0;
#if defined(__x86_64__)
    if (avx2) i = down_luma_avx2(a, b, full, cd_, oy);
#endif
    down_luma(a, b, i, full, cd_, oy);
    if (full < w_) oy[full] = uint16_t((2 * cd_.q(word(a, W_ - 1)) + 2 * cd_.q(word(b, W_ - 1))) << cd_.l);
    const int r1 = std::min(by + 1, h_ - 1);
    for (int c = 0; c < 2; ++c) {
      uint16_t* oc = hin_.data() + nb * (1 + c) + size_t(by) * w_;
      if (in_il_) {
        const uint8_t* p0 = in.data[1] + in.stride[1] * std::ptrdiff_t(by) + 2 * c;
        const uint8_t* p1 = in.data[1] + in.stride[1] * std::ptrdiff_t(r1) + 2 * c;
        down_chroma_il(p0, p1, w_, hc, vc, cd_, oc);
      } else {
        const uint8_t* p0 = in.data[1 + c] + in.stride[1 + c] * std::ptrdiff_t(by);
        const uint8_t* p1 = in.data[1 + c] + in.stride[1 + c] * std::ptrdiff_t(r1);
        down_chroma_planar(p0, p1, w_, hc, vc, cd_, oc);
      }
    }
  }
}

// Block rows [y0, y1): x, y, the output's Y'; *least: the least Y'.
void HalfModel::block_rows(int y0, int y1, float* least) {
  float ymin = 2.0f;
  for (int by = y0; by < y1; ++by) {
    const size_t r = size_t(by) * w_;
    block_row(&rgb_[3 * r], &hin_[r], w_, gtab_.data(), k_.kr, k_.kg, k_.kb, &x_[r], &y_[r], &yb_[r]);
    for (int bx = 0; bx < w_; ++bx) ymin = std::min(ymin, yb_[r + bx]);
  }
  *least = ymin;
}

// Block row by's constants (block_consts) in the scratch rows from t: x and y of block
// rows by - 1 .. by + 1, padded with their edge blocks, then the 11 constants' rows; all
// w_ + 8 floats apart.
BlockRow HalfModel::row_consts(int by, float* t) const {
  const int w8 = w_ + 8;
  float* px[3] = {t, t + w8, t + 2 * w8};
  float* py[3] = {t + 3 * w8, t + 4 * w8, t + 5 * w8};
  float* k[11];
  for (int i = 0; i < 11; ++i) k[i] = t + (6 + i) * w8;
  const size_t r1 = size_t(by) * w_;
  const size_t rr[3] = {size_t(std::max(by - 1, 0)) * w_, r1, size_t(std::min(by + 1, h_ - 1)) * w_};
  for (int j = 0; j < 3; ++j) {
    std::memcpy(px[j] + 1, &x_[rr[j]], sizeof(float) * w_);
    std::memcpy(py[j] + 1, &y_[rr[j]], sizeof(float) * w_);
    px[j][0] = px[j][1], py[j][0] = py[j][1];
    px[j][w_ + 1] = px[j][w_], py[j][w_ + 1] = py[j][w_];
  }
  block_consts(px[0], px[1], px[2], py[0], py[1], py[2], &yb_[r1], &rgb_[3 * r1], w_, kSlopeEps, kSlopePrior, kSlopeMax,
               ymin_, k_.y_scale, k_.cb_mul, k_.cr_mul, k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8], k[9],
               k[10]);
  return {k[0], k[1], k[2], k[3], k[4], k[5], &x_[r1], k[6], k[7], k[8], k[9], k[10]};
}

// Block rows [y0, y1) of the output: the slopes, the pixels' luma, the chroma.
void HalfModel::write_rows(const FrameView& out, const FrameView& in, int y0, int y1, int th) {
  float* s = scr_[th].data();
  const int W8 = W_ + 8;
  float *S0 = s, *S1 = S0 + W8, *TH = S1 + W8;  // TH: the dither's thresholds of rows a, b and the chroma row
#if defined(__x86_64__)
  const bool avx2 = vector_ && have_avx2();
#endif
  for (int by = y0; by < y1; ++by) {
    const BlockRow br = row_consts(by, TH + 24);
    const int ra = 2 * by, rb = ra + 1 < H_ ? ra + 1 : -1;
    for (int j = 0; j < 8; ++j) {
      TH[j] = k_.dither ? pio::bayer8_threshold(j, ra) : 0.5f;
      TH[8 + j] = k_.dither ? pio::bayer8_threshold(j, ra + 1) : 0.5f;
      TH[16 + j] = k_.dither ? pio::bayer8_threshold(j, by) : 0.5f;
    }
    const uint8_t* ia = in.data[0] + in.stride[0] * std::ptrdiff_t(ra);
    const uint8_t* ib = rb < 0 ? nullptr : in.data[0] + in.stride[0] * std::ptrdiff_t(rb);
    uint8_t* oa = out.data[0] + out.stride[0] * std::ptrdiff_t(ra);
    uint8_t* ob = rb < 0 ? nullptr : out.data[0] + out.stride[0] * std::ptrdiff_t(rb);
    uint8_t* ou = out.data[1] + out.stride[1] * std::ptrdiff_t(by);
    uint8_t* ov = k_.il ? ou + 1 : out.data[2] + out.stride[2] * std::ptrdiff_t(by);
    const int step = k_.il ? 2 : 1;
    const uint32_t maxc = uint32_t(k_.maxc);
    int x = 0;
#if defined(__x86_64__)
    if (avx2)
      x = pair_avx2(ia, ib, W_, cd_, gtab_.data(), br, TH, TH + 8, TH + 16, k_.y_off, k_.c_off, k_.w, k_.maxc, oa, ob,
                    ou, ov, k_.il);
#endif
    if (x < W_) {  // the rest per pixel (the scalar path: all of it)
      luma_row(ia, x, W_, cd_, gtab_.data(), br, TH, k_.y_off, maxc, S0, oa);
      S0[W_] = S0[W_ - 1];  // an odd width's last block: its one column twice
      if (ob) {
        luma_row(ib, x, W_, cd_, gtab_.data(), br, TH + 8, k_.y_off, maxc, S1, ob);
        S1[W_] = S1[W_ - 1];
      } else {
        std::memcpy(S1 + x, S0 + x, sizeof(float) * (W_ + 1 - x));
      }
      chroma_row(S0, S1, x / 2, w_, k_.w, br, k_.c_off, TH + 16, maxc, ou, ov, step);
    }
  }
}

// Block rows [y0, y1) of 4x4 blocks: the 16-code mean luma, the chroma of the block's 2x2
// samples at its centre (each way: the two samples' mean where the siting is centred,
// 1/4 and 3/4 where it is cosited, the block's centre 3/4 of the way from the first
// sample to the second).
void HalfModel::down_rows4(const FrameView& in, int y0, int y1) {
  const size_t nb = size_t(w_) * h_;
  const bool hc = C_.in.chroma_h_cosited, vc = C_.in.chroma_v_cosited;
  const int cw = (W_ + 1) / 2, ch = (H_ + 1) / 2;
  const uint32_t h0 = hc ? 1 : 2, v0 = vc ? 1 : 2;  // quarters
  const int full = W_ / 4;
#if defined(__x86_64__)
  const bool avx2 = vector_ && have_avx2();
#endif
  auto mean = [&](uint32_t sum) { return uint16_t(cd_.l >= 2 ? sum << (cd_.l - 2) : sum >> (2 - cd_.l)); };
  for (int by = y0; by < y1; ++by) {
    const uint8_t* r[4];
    for (int k = 0; k < 4; ++k) r[k] = in.data[0] + in.stride[0] * std::ptrdiff_t(std::min(4 * by + k, H_ - 1));
    uint16_t* oy = hin_.data() + size_t(by) * w_;
    int bx = 0;
#if defined(__x86_64__)
    if (avx2) bx = down_luma4_avx2(r, full, cd_, oy);
#endif
    for (; bx < w_; ++bx) {  // a width not a multiple of 4: the last block repeats its last column
      uint32_t sum = 0;
      for (int k = 0; k < 4; ++k)
        for (int c = 0; c < 4; ++c) sum += cd_.q(word(r[k], std::min(4 * bx + c, W_ - 1)));
      oy[bx] = mean(sum);
    }
    const int j0 = std::min(2 * by, ch - 1), j1 = std::min(2 * by + 1, ch - 1);
    for (int c = 0; c < 2; ++c) {
      uint16_t* oc = hin_.data() + nb * (1 + c) + size_t(by) * w_;
      if (in_il_)
        down_chroma4_il(in.data[1] + in.stride[1] * std::ptrdiff_t(j0) + 2 * c,
                        in.data[1] + in.stride[1] * std::ptrdiff_t(j1) + 2 * c, w_, cw, h0, v0, cd_, oc);
      else
        down_chroma4_planar(in.data[1 + c] + in.stride[1 + c] * std::ptrdiff_t(j0),
                            in.data[1 + c] + in.stride[1 + c] * std::ptrdiff_t(j1), w_, cw, h0, v0, cd_, oc);
    }
  }
}

// Block rows [y0, y1) of 4x4 blocks: the slopes, the four rows' luma, the two chroma rows.
void HalfModel::write_rows4(const FrameView& out, const FrameView& in, int y0, int y1, int th) {
  float* sc = scr_[th].data();
  const int W8 = W_ + 8;
  float* S[4] = {sc, sc + W8, sc + 2 * W8, sc + 3 * W8};  // the rows' s, one column more
  float* TH = S[3] + W8;  // the dither's thresholds: 4 luma rows, then the chroma row
  const int cw = (W_ + 1) / 2, ch = (H_ + 1) / 2;
  const uint32_t maxc = uint32_t(k_.maxc);
  const int step = k_.il ? 2 : 1;
#if defined(__x86_64__)
  const bool avx2 = vector_ && have_avx2();
#endif
  for (int by = y0; by < y1; ++by) {
    const BlockRow br = row_consts(by, TH + 40);
    const int nr = std::min(4, H_ - 4 * by);  // the frame's rows in this block row
    const uint8_t* ir[4];
    uint8_t* orow[4];
    for (int k = 0; k < nr; ++k) {
      const int r = 4 * by + k;
      ir[k] = in.data[0] + in.stride[0] * std::ptrdiff_t(r);
      orow[k] = out.data[0] + out.stride[0] * std::ptrdiff_t(r);
      for (int j = 0; j < 8; ++j) TH[8 * k + j] = k_.dither ? pio::bayer8_threshold(j, r) : 0.5f;
    }
    int x = 0;
#if defined(__x86_64__)
    if (avx2) x = quad_luma_avx2(ir, nr, W_, cd_, gtab_.data(), br, TH, k_.y_off, k_.maxc, orow, S);
#endif
    for (int k = 0; k < nr; ++k) {
      if (x < W_) luma_row<2>(ir[k], x, W_, cd_, gtab_.data(), br, TH + 8 * k, k_.y_off, maxc, S[k], orow[k]);
      S[k][W_] = S[k][W_ - 1];  // an odd width's last chroma sample: its one column twice
    }
    for (int k = nr; k < 4; ++k) std::memcpy(S[k], S[nr - 1], sizeof(float) * (W_ + 1));  // past the foot
    for (int m = 0; m < 2 && 2 * by + m < ch; ++m) {
      const int cy = 2 * by + m;
      for (int j = 0; j < 8; ++j) TH[32 + j] = k_.dither ? pio::bayer8_threshold(j, cy) : 0.5f;
      uint8_t* ou = out.data[1] + out.stride[1] * std::ptrdiff_t(cy);
      uint8_t* ov = k_.il ? ou + 1 : out.data[2] + out.stride[2] * std::ptrdiff_t(cy);
      int i = 0;
#if defined(__x86_64__)
      if (avx2)
        i = chroma4_avx2(S[2 * m], S[2 * m + 1], cw, k_.w, br, k_.c_off, TH + 32, k_.maxc, ou, ov, k_.il);
#endif
      if (i < cw) chroma_row4(S[2 * m], S[2 * m + 1], i, cw, k_.w, br, k_.c_off, TH + 32, maxc, ou, ov, step);
    }
  }
}

bool HalfModel::process(const FrameView& in, const FrameView& out, double time_s, std::string* err,
                        StageTimes* tl) {
  const int nt = pool_->threads();
  const int ntask = std::min(h_, nt * 8);
  auto band = [&](int t, int* y0, int* y1) {
    *y0 = int(int64_t(h_) * t / ntask);
    *y1 = int(int64_t(h_) * (t + 1) / ntask);
  };
  pool_->run(ntask, [&](int t, int) {
    int y0, y1;
    band(t, &y0, &y1);
    if (f_ == 4)
      down_rows4(in, y0, y1);
    else
      down_rows(in, y0, y1);
  });
  const size_t nb = size_t(w_) * h_;
  FrameView hi, ho;
  hi.format = PixelFormat::Y444_16LE;
  hi.width = ho.width = w_;
  hi.height = ho.height = h_;
  for (int p = 0; p < 3; ++p) {
    hi.data[p] = reinterpret_cast<uint8_t*>(hin_.data() + nb * p);
    hi.stride[p] = std::ptrdiff_t(w_) * 2;
  }
  ho.format = PixelFormat::RGBF32;
  ho.data[0] = reinterpret_cast<uint8_t*>(rgb_.data());
  ho.stride[0] = std::ptrdiff_t(w_) * 12;
  tl->mark("half.down");
  if (!inner_->process(hi, ho, time_s, err)) return false;
  tl->mark("half.inner");
  pool_->run(ntask, [&](int t, int) {
    int y0, y1;
    band(t, &y0, &y1);
    block_rows(y0, y1, &least_[size_t(t)]);
  });
  ymin_ = *std::min_element(least_.begin(), least_.begin() + ntask);
  tl->mark("half.blocks");
  pool_->run(ntask, [&](int t, int th) {
    int y0, y1;
    band(t, &y0, &y1);
    if (f_ == 4)
      write_rows4(out, in, y0, y1, th);
    else
      write_rows(out, in, y0, y1, th);
  });
  tl->mark("half.write");
  return true;
}

}  // namespace cpu
}  // namespace dtutmo
