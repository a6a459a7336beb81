// dtutmo -- the CPU engine's table lookups with AVX2 gathers (decode, encode, display
// inverse): GCC does not vectorise a table loop (no gather chosen), so these few are
// written with intrinsics, in functions with target("avx2,fma") picked at run time.
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

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

namespace dtutmo {
namespace cpu {

// a = tab[k], b = tab[k + 1] for 8 indices: the pairs are adjacent, so two 4-lane 64-bit
// gathers (one pair per lane) instead of two 8-lane 32-bit gathers (half the elements;
// gathers cost per element on AMD), then de-interleaved. Bit-identical values.
__attribute__((target("avx2,fma"))) static inline void gather_pair(const float* __restrict tab,
                                                                   __m256i k, __m256& a, __m256& b) {
  const long long* t = reinterpret_cast<const long long*>(tab);
  const __m256 lo = _mm256_castsi256_ps(_mm256_i32gather_epi64(t, _mm256_castsi256_si128(k), 4));
  const __m256 hi = _mm256_castsi256_ps(_mm256_i32gather_epi64(t, _mm256_extracti128_si256(k, 1), 4));
  // per 128-bit lane: a0 a1 a4 a5 | a2 a3 a6 a7 -> 64-bit chunks 0 2 1 3
  a = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8));
  b = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8));
}

// Whether this CPU runs the AVX2 paths (checked once).
static inline bool have_avx2() {
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return avx2;
}

}  // namespace cpu
}  // namespace dtutmo
#endif
