// dtutmo -- the CPU engine's table lookups with AVX2 (decode, encode, tone, display
// inverse: gather_pair): GCC does not vectorise a table loop (no gather chosen), so these
// few are written with intrinsics, in functions with target("avx2,fma") picked at run time.
#pragma once

// The hot row loops: one clone per ISA level, picked at load time (GCC's ifunc resolver).
// -Davx512=false (meson) drops the x86-64-v4 (AVX-512) clone, so that an AVX-512 machine
// runs the AVX2 + FMA clone that every x86-64-v3 CPU runs: the only way to measure the
// AVX2 path where the CPU has AVX-512 (the resolver cannot be steered at run time).
#if defined(__x86_64__) && defined(DTUTMO_NO_AVX512)
#define DTUTMO_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#elif defined(__x86_64__)
#define DTUTMO_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DTUTMO_HOT
#endif

// Loops that must give the default clone's bits with 8 lanes: a clone for AVX2 without FMA
// (target "avx2", not DTUTMO_HOT's x86-64-v3: nothing contracted, the same IEEE operations
// per lane as the default build's SSE2 code). The blurs, the 2x2 box, EdgePooler's bins
// (cpu_spatial.cpp), frame_consts' histogram samples (cpu_receptors_display.cpp).
#if defined(__x86_64__)
#define DTUTMO_AVX2_EXACT __attribute__((target_clones("avx2", "default")))
#else
#define DTUTMO_AVX2_EXACT
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "dtutmo/fastmath.h"

namespace dtutmo {
namespace cpu {

// a = tab[k], b = tab[k + 1] for 8 indices: the pairs are adjacent, so one scalar 64-bit
// load per index (a_i b_i), then de-interleaved. Bit-identical values. The indices reach
// the address registers two at a time (vmovq / vpextrq, then the high half by a shift):
// GCC compiled a store of k and eight int reads back as eight vpextrd. In a loop of only
// the tone table's lookup (Zen 5, 1920 random X over 8 octaves): 0.31 ns/px, against 0.38
// with the vpextrd, 0.43 through memory and 0.62 with two 4-lane 64-bit gathers
// (vpgatherdq, one pair a lane; 0.67 with two 8-lane 32-bit gathers, which cost per
// element on AMD). The decode, tone, encode and display-inverse lookups gather with it.
__attribute__((target("avx2,fma"))) static inline void gather_pair(const float* __restrict tab,
                                                                   __m256i k, __m256& a, __m256& b) {
  const __m128i k0 = _mm256_castsi256_si128(k), k1 = _mm256_extracti128_si256(k, 1);
  auto pair2 = [&](long long q) __attribute__((always_inline)) {  // a_i b_i a_j b_j, q = i | j << 32
    const __m128d lo = _mm_castsi128_pd(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(tab + int(q))));
    return _mm_loadh_pd(lo, reinterpret_cast<const double*>(tab + (q >> 32)));
  };
  // lo: a0 b0 a1 b1 | a4 b4 a5 b5, hi: a2 b2 a3 b3 | a6 b6 a7 b7
  const __m256 lo = _mm256_castpd_ps(_mm256_insertf128_pd(
      _mm256_castpd128_pd256(pair2(_mm_cvtsi128_si64(k0))), pair2(_mm_cvtsi128_si64(k1)), 1));
  const __m256 hi = _mm256_castpd_ps(_mm256_insertf128_pd(
      _mm256_castpd128_pd256(pair2(_mm_extract_epi64(k0, 1))), pair2(_mm_extract_epi64(k1, 1)), 1));
  a = _mm256_shuffle_ps(lo, hi, 0x88);
  b = _mm256_shuffle_ps(lo, hi, 0xDD);
}

// fastmath.h fast_exp2 of 8 values (the tone rows, cpu_half.cpp's pixels), the same
// operations in the same order (the clamps as its selects in minps / maxps operand order,
// NaN kept; the round by 1.5 2^23; the degree-7 polynomial as GCC contracts it, p * f + c
// into one FMA): the same bits per lane as the x86-64-v3 clone's vectorised fast_exp2.
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 fast_exp2_avx2(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(kExp2Clamp), x);   // 126 < x ? 126 : x
  x = _mm256_max_ps(_mm256_set1_ps(-kExp2Clamp), x);  // -126 > x ? -126 : x
  const __m256 kr = _mm256_set1_ps(kExp2Round);
  const __m256 xm = _mm256_add_ps(x, kr);
  const __m256 f = _mm256_sub_ps(x, _mm256_sub_ps(xm, kr));
  __m256 p = _mm256_set1_ps(kExp2P7);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kExp2P6));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kExp2P5));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kExp2P4));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kExp2P3));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kExp2P2));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kExp2P1));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kExp2P0));
  // (bits(xm) - bits(1.5 2^23) + 127) << 23
  const __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_castps_si256(xm), _mm256_set1_epi32(127 - 0x4b400000)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}
// Whether this CPU runs the AVX2 paths (checked once).
static inline bool have_avx2() {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return avx2;
}

}  // namespace cpu
}  // namespace dtutmo
#endif
