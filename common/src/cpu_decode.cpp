// dtutmo -- CPU engine, pass 1 (decode): unpack, EOTF through a table on the integer code,
// sanitise, luminance, log2 Y into the 8x8 cell sums and the bilateral-grid splat. The
// optics (balanced) run between the decode and the statistics (cpu_optics.cpp).
#include <algorithm>
#include <cmath>

#include "cpu_simd.h"
#include "dtutmo/convert.h"
#include "dtutmo/pixel_model.h"
#include "engine_cpu.h"

namespace dtutmo {
namespace cpu {

void CpuEngine::build_decode_table() {
  dec_tab_.assign(kDecodeTab + 2, 0.0f);
  fill_decode_table(C_.in.transfer, dec_tab_.data());
}

// Samples that are NaN, negative or beyond 3e38 (vectorised count, 32-bit lanes).
DTUTMO_HOT static long long count_bad(const float* __restrict v, size_t n) {
  int bad = 0;
  for (size_t i = 0; i < n; ++i) bad += bad_sample(v[i]) ? 1 : 0;
  return bad;
}

// Decode through the table (pixel_model.h decode_lookup).
#if defined(__x86_64__) || defined(__i386__)
// GCC does not vectorise the table loop below (no gather chosen), so the AVX2 path is
// written with intrinsics: decode_lookup's arithmetic (one FMA), 8 values per step, two
// gathers.
__attribute__((target("avx2,fma"))) static size_t decode_table_avx2(
    float* __restrict v, size_t n, const float* __restrict tab, float mul) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  const __m256 scale = _mm256_set1_ps(float(kDecodeTab)), vm = _mm256_set1_ps(mul);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    // max(x, 0) with NaN -> 0 (maxps returns the second operand on NaN), then min(., 1)
    const __m256 cl = _mm256_min_ps(_mm256_max_ps(x, zero), one);
    const __m256 c = _mm256_mul_ps(cl, scale);
    const __m256i k = _mm256_cvttps_epi32(c);
    const __m256 t = _mm256_sub_ps(c, _mm256_cvtepi32_ps(k));
    __m256 a, b;
    gather_pair(tab, k, a, b);
    _mm256_storeu_ps(v + i, _mm256_mul_ps(_mm256_fmadd_ps(t, _mm256_sub_ps(b, a), a), vm));
  }
  return i;
}
#endif

DTUTMO_HOT void CpuEngine::decode_table(float* __restrict v, size_t n, const float* __restrict tab,
                                        float mul) {
  size_t i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2()) i0 = decode_table_avx2(v, n, tab, mul);
#endif
  for (size_t i = i0; i < n; ++i) v[i] = decode_lookup(v[i], tab, mul);
}

DTUTMO_HOT void CpuEngine::log_luminance(const float* __restrict rgb, float* __restrict ly, int w,
                                         Vec3 wy) {
  for (int x = 0; x < w; ++x) ly[x] = log2_luminance({rgb[3 * x], rgb[3 * x + 1], rgb[3 * x + 2]}, wy);
}

void CpuEngine::pass1(const FrameView& in) {
  const bool optics = P_.optics && optics_ready_;
  const bool bd = P_.base_detail && bgrid_ready_;
  const int W = W_;
  const Vec3 wy = K_.in_rgb_to_y;
  const DecodeConsts dc = decode_consts(C_.in_format, C_.in.transfer, K_.input_scale, P_.hlg_peak,
                                        dec_tab_.data());
  for (Scratch& s : scr_) s.bad = 0;

  // 1a: unpack + decode (+ luminance statistics when no optics)
  auto decode_band = [&](int task, int th) {
    Scratch& s = scr_[th];
    const int y0 = task * kCell, y1 = std::min(H_, y0 + kCell);
    float* rgb = lin_.data() + size_t(y0) * W * 3;
    if (reference_) {
      s.bad += decode_rows_reference(in, y0, y1, dc);
      return;
    }
    unpack_rows(in, C_.in, y0, y1, rgb, std::ptrdiff_t(W) * 3, s.conv.data());
    const size_t n = size_t(y1 - y0) * W * 3;
    s.bad += count_bad(rgb, n);
    if (dc.mode == 1) {
      for (size_t i = 0; i < n; ++i) rgb[i] = decode_linear(rgb[i], dc.scale);
    } else {
      decode_table(rgb, n, dc.tab, dc.mul);
      if (dc.hlg)
        for (size_t i = 0; i < n; i += 3) {
          const Vec3 o = hlg_display({rgb[i], rgb[i + 1], rgb[i + 2]}, dc.hlg_peak);
          rgb[i] = o.x;
          rgb[i + 1] = o.y;
          rgb[i + 2] = o.z;
        }
    }
  };
  // 1b: luminance, log2, cell sums, bilateral splat
  auto stats_band = [&](int task, int th) {
    const int y0 = task * kCell, y1 = std::min(H_, y0 + kCell);
    float* cs = cell_sum_.data() + size_t(task) * gw_;
    float* cc = cell_cnt_.data() + size_t(task) * gw_;
    for (int i = 0; i < gw_; ++i) cs[i] = cc[i] = 0.0f;
    for (int y = y0; y < y1; ++y) {
      const float* rgb = lin_.data() + size_t(y) * W * 3;
      float* ly = logy_.data() + size_t(y) * W;
      log_luminance(rgb, ly, W, wy);
      for (int cx = 0; cx < gw_; ++cx) {
        const int x0 = cx * kCell, x1 = std::min(W, x0 + kCell);
        float a = 0;
        for (int x = x0; x < x1; ++x) a += ly[x];
        cs[cx] += a;
        cc[cx] += float(x1 - x0);
      }
      if (bd) bgrid_.splat_row(th, y, ly, W);
    }
  };
  if (!optics) {
    // no full-frame stage in between: decode and statistics of a band back to back,
    // while the band's linear RGB is still in cache (one pass over the frame)
    if (bd) bgrid_.clear();
    pool_.run(gh_, [&](int task, int th) {
      decode_band(task, th);
      stats_band(task, th);
    });
  } else {
    pool_.run(gh_, decode_band);
  }
  long long bad = 0;
  for (Scratch& s : scr_) bad += s.bad;
  st_.bad_samples = bad;

  if (optics) {
    apply_optics();
    if (bd) bgrid_.clear();
    pool_.run(gh_, stats_band);
  }
  if (bd) bgrid_.finish();
}

}  // namespace cpu
}  // namespace dtutmo
