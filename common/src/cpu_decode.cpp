// dtutmo -- CPU engine, pass 1 (decode): unpack, EOTF through a table on the integer code,
// sanitise, luminance, log2 Y into the 8x8 cell sums and the bilateral-grid splat. The
// optics (balanced) run between the decode and the statistics (cpu_optics.cpp).
//
// -Wpsabi off (before the includes: the warning's location is in pixel_model.h):
// luminance_of<__m256>, one formula for the scalar and the AVX2 loops, is instantiated
// outside a target("avx2") scope, so GCC warns that passing AVX vectors by value changes
// the ABI; it is only inlined into decode_planar_avx2, no call crosses an ABI boundary.
#pragma GCC diagnostic ignored "-Wpsabi"
#include <algorithm>
#include <cmath>
#include <type_traits>

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

// The unpacked row's planar R'G'B' through the table into the interleaved linear row o,
// in one pass (no interleaved code values written and read again); returns the count of
// bad samples (bad_sample, on the code values, as count_bad counts them).
#if defined(__x86_64__) || defined(__i386__)
// GCC does not vectorise a table loop (no gather chosen), so the AVX2 path is written
// with intrinsics: 8 pixels a step, decode_lookup's arithmetic (one FMA, two table reads)
// per channel, then the three vectors interleaved (interleave3, below).
// decode_index: 8 code values to their table index k and fraction t; `ok` counts the
// good ones per lane (bad_sample: !(x >= 0 && x <= 3e38), NaN included: ordered
// compares): a vector add where a movemask and popcount per vector took five scalar
// instructions. `Finite`: codes from an integer format (every one but RGBF32: no NaN,
// none beyond 3e38), so good is x >= 0 alone (one compare and the and fewer per channel).
template <bool Finite>
__attribute__((target("avx2,fma"))) static inline __m256i decode_index(const float* p, __m256i& ok, __m256& t) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f), big = _mm256_set1_ps(3.0e38f);
  const __m256 x = _mm256_loadu_ps(p);
  const __m256 ge = _mm256_cmp_ps(x, zero, _CMP_GE_OQ);
  const __m256 good = Finite ? ge : _mm256_and_ps(ge, _mm256_cmp_ps(x, big, _CMP_LE_OQ));
  ok = _mm256_sub_epi32(ok, _mm256_castps_si256(good));  // good lanes are -1
  const __m256 cl = _mm256_min_ps(_mm256_max_ps(x, zero), one);  // NaN -> 0 (maxps)
  const __m256 c = _mm256_mul_ps(cl, _mm256_set1_ps(float(kDecodeTab)));
  const __m256i k = _mm256_cvttps_epi32(c);
  t = _mm256_sub_ps(c, _mm256_cvtepi32_ps(k));
  return k;
}
// The table pairs a = tab[k], b = tab[k + 1] of 8 indices held 16 bits each in two 64-bit
// words (indices 0-3 in w0, 4-7 in w1): cpu_simd.h gather_pair's scalar 64-bit loads, the
// indices taken apart in general registers. The three channels' 24 indices packed to 16
// bits (vpackusdw) reach those in 6 vector-to-integer moves where gather_pair took 12
// (4 per channel); the shifts and zero-extensions run on the integer ALUs, which the loop
// leaves idle. Same values; Zen 5, one thread: 1.25 -> 1.14 ns/px on rows of smooth codes
// in L1/L2, pass 1's unpack + decode of a 1080p frame of the clip 3.8 -> 3.6-3.7 ms (the
// lin_ stores take ~0.3 ms of it). In a loop of only lookups (the encode's) no gain.
static_assert(kDecodeTab + 1 < 65536, "decode table index in 16 bits");
__attribute__((target("avx2,fma"))) static inline void pairs16(const float* __restrict tab, uint64_t w0, uint64_t w1,
                                                              __m256& a, __m256& b) {
  auto pair2 = [tab](uint64_t i, uint64_t j) __attribute__((always_inline, target("avx2,fma"))) {
    const __m128d lo = _mm_castsi128_pd(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(tab + i)));
    return _mm_loadh_pd(lo, reinterpret_cast<const double*>(tab + j));
  };
  // lo: a0 b0 a1 b1 | a4 b4 a5 b5, hi: a2 b2 a3 b3 | a6 b6 a7 b7 (as gather_pair)
  const __m256 lo = _mm256_castpd_ps(_mm256_insertf128_pd(
      _mm256_castpd128_pd256(pair2(w0 & 0xffff, (w0 >> 16) & 0xffff)), pair2(w1 & 0xffff, (w1 >> 16) & 0xffff), 1));
  const __m256 hi = _mm256_castpd_ps(_mm256_insertf128_pd(
      _mm256_castpd128_pd256(pair2((w0 >> 32) & 0xffff, w0 >> 48)), pair2((w1 >> 32) & 0xffff, w1 >> 48), 1));
  a = _mm256_shuffle_ps(lo, hi, 0x88);
  b = _mm256_shuffle_ps(lo, hi, 0xDD);
}
// The interpolated value (one FMA); `Scale`: times `vm` (SDR and linear input; PQ and HLG
// have mul = 1, and x 1 is exact, so the multiply is left out).
template <bool Scale>
__attribute__((target("avx2,fma"))) static inline __m256 decode_value(__m256 t, __m256 a, __m256 b, __m256 vm) {
  const __m256 v = _mm256_fmadd_ps(t, _mm256_sub_ps(b, a), a);
  return Scale ? _mm256_mul_ps(v, vm) : v;
}
// Planar r, g, b (8 pixels each) to r0 g0 b0 r1 ... b7 at q (24 floats). Within each
// 128-bit half (4 pixels, 12 floats = three quarter vectors x0 x1 x2): one in-lane
// permute per channel (r0 r3 r2 r1, g1 g0 g3 g2, b2 b1 b0 b3), then x0 = r g b r, x1 =
// g b r g, x2 = b r g b by two blends each; the halves put in order by two 128-bit
// permutes and a blend. 3 + 3 shuffles where three vpermps per channel took 9 (and three
// index vectors, which pushed the loop's values onto the stack).
__attribute__((target("avx2,fma"))) static inline void interleave3(__m256 r, __m256 g, __m256 b, float* q) {
  const __m256 rr = _mm256_permute_ps(r, 0x6C), gg = _mm256_permute_ps(g, 0xB1), bb = _mm256_permute_ps(b, 0xC6);
  const __m256 x0 = _mm256_blend_ps(_mm256_blend_ps(rr, gg, 0x22), bb, 0x44);
  const __m256 x1 = _mm256_blend_ps(_mm256_blend_ps(rr, gg, 0x99), bb, 0x22);
  const __m256 x2 = _mm256_blend_ps(_mm256_blend_ps(rr, gg, 0x44), bb, 0x99);
  _mm256_storeu_ps(q, _mm256_permute2f128_ps(x0, x1, 0x20));
  _mm256_storeu_ps(q + 8, _mm256_blend_ps(x2, x0, 0xF0));
  _mm256_storeu_ps(q + 16, _mm256_permute2f128_ps(x1, x2, 0x31));
}
// Lum: the luminance (luminance_of on the vectors) into ly, whose log2 the caller takes
// (log2_row): one store per 8 pixels where the planar write-back for log_luminance_planar
// took three, and three loads fewer in the log2 loop.
template <bool Scale, bool Lum, bool Finite>
__attribute__((target("avx2,fma"))) static int decode_planar_avx2(const float* r, const float* g, const float* b,
                                                                 int w, float* __restrict o,
                                                                 const float* __restrict tab, float mul,
                                                                 float* __restrict ly, Vec3 wy, long long* bad) {
  const __m256 vm = _mm256_set1_ps(mul);
  __m256i ok = _mm256_setzero_si256();
  int x = 0;
  for (; x + 8 <= w; x += 8) {
    __m256 tr, tg, tb, ar, br, ag, bg, ab, bb;
    const __m256i kr = decode_index<Finite>(r + x, ok, tr), kg = decode_index<Finite>(g + x, ok, tg),
                  kb = decode_index<Finite>(b + x, ok, tb);
    // kr 0-3, kg 0-3 | kr 4-7, kg 4-7 and kb 0-3 twice | kb 4-7 twice, 16 bits each
    const __m256i p0 = _mm256_packus_epi32(kr, kg), p1 = _mm256_packus_epi32(kb, kb);
    const __m128i p0l = _mm256_castsi256_si128(p0), p0h = _mm256_extracti128_si256(p0, 1);
    const __m128i p1l = _mm256_castsi256_si128(p1), p1h = _mm256_extracti128_si256(p1, 1);
    pairs16(tab, _mm_cvtsi128_si64(p0l), _mm_cvtsi128_si64(p0h), ar, br);
    pairs16(tab, _mm_extract_epi64(p0l, 1), _mm_extract_epi64(p0h, 1), ag, bg);
    pairs16(tab, _mm_cvtsi128_si64(p1l), _mm_cvtsi128_si64(p1h), ab, bb);
    const __m256 vr = decode_value<Scale>(tr, ar, br, vm), vg = decode_value<Scale>(tg, ag, bg, vm),
                 vb = decode_value<Scale>(tb, ab, bb, vm);
    if (Lum) _mm256_storeu_ps(ly + x, luminance_of(vr, vg, vb, wy));
    interleave3(vr, vg, vb, o + 3 * x);
  }
  alignas(32) int32_t n[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(n), ok);
  long long good = 0;
  for (int i = 0; i < 8; ++i) good += n[i];
  *bad += 3LL * x - good;
  return x;
}
#endif

long long CpuEngine::decode_planar(const float* r, const float* g, const float* b, int w, float* __restrict o,
                                   const float* __restrict tab, float mul, float* __restrict ly, Vec3 wy,
                                   bool finite) {
  long long bad = 0;
  int x0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2()) {
    using Fn = int (*)(const float*, const float*, const float*, int, float*, const float*, float, float*, Vec3,
                       long long*);
    static const Fn fn[8] = {decode_planar_avx2<false, false, false>, decode_planar_avx2<false, false, true>,
                             decode_planar_avx2<false, true, false>,  decode_planar_avx2<false, true, true>,
                             decode_planar_avx2<true, false, false>,  decode_planar_avx2<true, false, true>,
                             decode_planar_avx2<true, true, false>,   decode_planar_avx2<true, true, true>};
    x0 = fn[(mul != 1.0f) * 4 + (ly != nullptr) * 2 + finite](r, g, b, w, o, tab, mul, ly, wy, &bad);
  }
#endif
  for (int x = x0; x < w; ++x) {
    bad += (bad_sample(r[x]) ? 1 : 0) + (bad_sample(g[x]) ? 1 : 0) + (bad_sample(b[x]) ? 1 : 0);
    const float lr = decode_lookup(r[x], tab, mul), lg = decode_lookup(g[x], tab, mul),
                lb = decode_lookup(b[x], tab, mul);
    o[3 * x] = lr;
    o[3 * x + 1] = lg;
    o[3 * x + 2] = lb;
    if (ly) ly[x] = luminance_of(lr, lg, lb, wy);
  }
  return bad;
}

DTUTMO_HOT void CpuEngine::log_luminance(const float* __restrict rgb, float* __restrict ly, int w,
                                         Vec3 wy) {
  for (int x = 0; x < w; ++x) ly[x] = log2_luminance({rgb[3 * x], rgb[3 * x + 1], rgb[3 * x + 2]}, wy);
}
// A row of luminances (decode_planar's ly) to their log2, in place (log2_floored: the
// second half of log2_luminance).
DTUTMO_HOT void CpuEngine::log2_row(float* __restrict ly, int w) {
  for (int x = 0; x < w; ++x) ly[x] = log2_floored(ly[x]);
}

#if defined(__x86_64__) || defined(__i386__)
// cell_row_sums' full cells, 8 a step (kCell = 8: a cell is one vector): the 8 x 8 block
// transposed (unpack, shuffle, 128-bit permute: 24 shuffles), so that lane k sums cell k's
// samples left to right from 0 as the scalar loop does (adds only, no FMA: the same bits).
// GCC's own transpose of the scalar loop took 96 shuffles (vpermd, vshufps, vblendps) per
// 16 cells. Returns the first cell not done.
__attribute__((target("avx2"))) static int cell_sums8_avx2(const float* __restrict ly, int full,
                                                           float* __restrict cs, float* __restrict cc) {
  static_assert(kCell == 8, "a cell is one 8-float vector");
  int cx = 0;
  for (; cx + 8 <= full; cx += 8) {
    const float* l = ly + size_t(cx) * kCell;
    __m256 r[8], t[8], u[8];
    for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_ps(l + 8 * k);
    for (int k = 0; k < 8; k += 2) {
      t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
      t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) {
      u[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
      u[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xee);
      u[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
      u[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xee);
    }
    // column i (sample i of the 8 cells): u[i % 4]'s low (i < 4) or high 128 bits of rows 0-3, then 4-7
    __m256 a = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) a = _mm256_add_ps(a, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
    for (int i = 0; i < 4; ++i) a = _mm256_add_ps(a, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
    _mm256_storeu_ps(cs + cx, _mm256_add_ps(_mm256_loadu_ps(cs + cx), a));
    _mm256_storeu_ps(cc + cx, _mm256_add_ps(_mm256_loadu_ps(cc + cx), _mm256_set1_ps(float(kCell))));
  }
  return cx;
}
#endif

// One row's log2 luminance into its band's cell sums cs and counts cc (gw cells of kCell
// columns, the last one short); each cell summed left to right, then added to the band's.
// The full cells with a constant trip count: GCC vectorises them across 8 cells (a
// transpose, each lane still summing its cell left to right: the same sums); with the
// count x1 - x0 the loop kept a remainder ladder per cell and took 1.8 % of fast at 1080p.
// With AVX2 by cell_sums8_avx2's cheaper transpose.
DTUTMO_HOT void CpuEngine::cell_row_sums(const float* __restrict ly, int w, int gw, float* __restrict cs,
                                         float* __restrict cc, int cell) {
  const int full = w / cell;
  // the full cells with the cell's side as a constant (N): GCC vectorises across cells
  auto sums = [&](auto n, int c0) {
    constexpr int N = decltype(n)::value;
    for (int cx = c0; cx < full; ++cx) {
      const float* l = ly + cx * N;
      float a = 0;
      for (int k = 0; k < N; ++k) a += l[k];
      cs[cx] += a;
      cc[cx] += float(N);
    }
  };
  if (cell == kCell) {
    int c0 = 0;
#if defined(__x86_64__) || defined(__i386__)
    if (have_avx2()) c0 = cell_sums8_avx2(ly, full, cs, cc);
#endif
    sums(std::integral_constant<int, kCell>(), c0);
  } else if (cell == 4) {  // cells of 4 and 2: the block model's inner engine (CpuEngine::set_cell)
    sums(std::integral_constant<int, 4>(), 0);
  } else {
    sums(std::integral_constant<int, 2>(), 0);
  }
  for (int cx = full; cx < gw; ++cx) {
    const int x0 = cx * cell, x1 = std::min(w, x0 + cell);
    float a = 0;
    for (int x = x0; x < x1; ++x) a += ly[x];
    cs[cx] += a;
    cc[cx] += float(x1 - x0);
  }
}

float* CpuEngine::band_sums(int task, float** cc) {
  float* cs = cell_sum_.data() + size_t(task) * gw_;
  *cc = cell_cnt_.data() + size_t(task) * gw_;
  for (int i = 0; i < gw_; ++i) cs[i] = (*cc)[i] = 0.0f;
  return cs;
}

void CpuEngine::row_stats(int y, int th, float* cs, float* cc) {
  const float* ly = logy_.data() + size_t(y) * W_;
  cell_row_sums(ly, W_, gw_, cs, cc, cell_);
  if (P_.base_detail && bgrid_ready_) bgrid_.splat_row(th, y, ly, W_);
  // the response histogram's row j (frame_consts: row min(H - 1, j kSub + kSub / 2)): its
  // samples' log2 Y and RGB (columns i step + step / 2) while the row is in cache; read
  // back from logy_ and lin_ there, their rows came from memory line by line (every line:
  // ~8 MB a 1080p frame for 2 MB of samples)
  const int j = y / kSub;
  if (y == std::min(H_ - 1, j * kSub + kSub / 2)) {
    const int step = hist_step(W_), nsub = hist_nsub(W_);
    float* __restrict h = hsub_.data() + size_t(j) * nsub * 4;
    const float* __restrict rgb = lin_.data() + size_t(y) * W_ * 3;
    for (int i = 0; i < nsub; ++i) {
      const int x = i * step + step / 2;
      h[i] = ly[x];
      h[nsub + 3 * i] = rgb[3 * x];
      h[nsub + 3 * i + 1] = rgb[3 * x + 1];
      h[nsub + 3 * i + 2] = rgb[3 * x + 2];
    }
  }
}

void CpuEngine::pass1(const FrameView& in) {
  const bool optics = P_.optics && optics_ready_;
  const bool bd = P_.base_detail && bgrid_ready_;
  const int W = W_;
  const Vec3 wy = K_.in_rgb_to_y;
  const DecodeConsts dc = decode_consts(C_.in_format, C_.in.transfer, K_.input_scale, P_.hlg_peak,
                                        dec_tab_.data());
  for (Scratch& s : scr_) s.bad = 0;
  const bool finite = C_.in_format != PixelFormat::RGBF32;  // integer codes (decode_planar)
  bool cells = false;  // the glare cells made in the decode's bands (apply_optics)

  // 1a: unpack + decode (+ luminance statistics when no optics)
  auto decode_rows = [&](int y0, int y1, int th) {
    Scratch& s = scr_[th];
    float* rgb = lin_.data() + size_t(y0) * W * 3;
    if (reference_) {
      s.bad += decode_rows_reference(in, y0, y1, dc);
      return;
    }
    const size_t n = size_t(y1 - y0) * W * 3;
    if (dc.mode == 1) {
      unpack_rows(in, C_.in, y0, y1, rgb, std::ptrdiff_t(W) * 3, s.conv.data());
      s.bad += count_bad(rgb, n);
      for (size_t i = 0; i < n; ++i) rgb[i] = decode_linear(rgb[i], dc.scale);
    } else {
      // per row: planar code values (s.row), then the table straight into lin_
      float* pr = s.row.data();
      for (int y = y0; y < y1; ++y) {
        unpack_row_planar(in, C_.in, y, pr, pr + W, pr + 2 * size_t(W), s.conv.data());
        s.bad += decode_planar(pr, pr + W, pr + 2 * size_t(W), W, rgb + size_t(y - y0) * W * 3, dc.tab,
                               dc.mul, nullptr, {}, finite);
      }
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
  const int cell = cell_;
  auto decode_band = [&](int task, int th) { decode_rows(task * cell, std::min(H_, (task + 1) * cell), th); };
  auto stats_band = [&](int task, int th) {
    const int y0 = task * cell, y1 = std::min(H_, y0 + cell);
    float* cc;
    float* cs = band_sums(task, &cc);
    for (int y = y0; y < y1; ++y) {
      log_luminance(lin_.data() + size_t(y) * W * 3, logy_.data() + size_t(y) * W, W, wy);
      row_stats(y, th, cs, cc);
    }
  };
  // 1a + 1b in one pass over each row (no optics in between; the table decode without the
  // HLG OOTF): the decode loop writes the row's luminance from its registers, then its
  // log2 in place while in L1 (no re-read of lin_'s interleaved row).
  auto fused_band = [&](int task, int th) {
    Scratch& s = scr_[th];
    const int y0 = task * cell, y1 = std::min(H_, y0 + cell);
    float* cc;
    float* cs = band_sums(task, &cc);
    float *pr = s.row.data(), *pg = pr + W, *pb = pr + 2 * size_t(W);
    for (int y = y0; y < y1; ++y) {
      unpack_row_planar(in, C_.in, y, pr, pg, pb, s.conv.data());
      float* ly = logy_.data() + size_t(y) * W;
      s.bad += decode_planar(pr, pg, pb, W, lin_.data() + size_t(y) * W * 3, dc.tab, dc.mul, ly, wy, finite);
      log2_row(ly, W);
      row_stats(y, th, cs, cc);
    }
  };
  if (!optics) {
    // no full-frame stage in between: decode and statistics of a band back to back,
    // while the band's linear RGB is still in cache (one pass over the frame)
    // (the bilateral grid's sums were zeroed by the last finish, or by its init)
    if (!reference_ && dc.mode == 0 && !dc.hlg)
      pool_.run(gh_, fused_band);
    else
      pool_.run(gh_, [&](int task, int th) {
        decode_band(task, th);
        stats_band(task, th);
      });
  } else if (otf_sigma_px_ < kOtfMinSigmaPx) {
    // by the glare grid's rows (f rows each): the glare cells' sums of a band right after
    // its decode, from L2 (apply_optics read the whole frame again: p1.decode +
    // p1.glare.cells 6.9-8.0 -> 5.5-5.6 CPU-ms a 1080p frame, with the vectorised sums)
    for (auto& h : hist_) std::fill(h.begin(), h.end(), 0u);
    const int f = glare_[0].cell();
    pool_.run(glare_[0].gh(), [&](int gy, int th) {
      decode_rows(gy * f, std::min(H_, (gy + 1) * f), th);
      glare_cells_row(gy, th);
    });
    cells = true;
  } else {
    pool_.run(gh_, decode_band);
  }
  tl_.mark("p1.decode");
  long long bad = 0;
  for (Scratch& s : scr_) bad += s.bad;
  st_.bad_samples = bad;

  if (optics) {
    apply_optics(cells);  // with stats_band's statistics of each row after its veil
    tl_.mark("p1.add.stats");
  }
  if (bd) bgrid_.finish(&pool_);
  tl_.mark("p1.bgrid");
}

}  // namespace cpu
}  // namespace dtutmo
