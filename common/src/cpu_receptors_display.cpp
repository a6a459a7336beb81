// dtutmo -- CPU engine, receptors and display (DESIGN.md sections 6-10): the per-frame
// constants (response histogram on a subsample, percentiles, normalisation, the display
// observer's per-cell constants, the hybrid edge map, CSF gains), the per-pixel scene
// responses, the display mapping of a row, and pass 2 which runs them band by band.
#include <math.h>

// glibc's libmvec has AVX2 variants of these (<= 4 ulp, i.e. float-rounding level): with
// the simd declaration GCC vectorises the per-pixel DTUCAM loop in the AVX2 clone instead
// of calling the scalar functions pixel by pixel.
#if defined(__x86_64__) && defined(__GLIBC__) && defined(DTUTMO_HAVE_LIBMVEC)
extern "C" {
__attribute__((simd("notinbranch"))) float powf(float, float) noexcept;
__attribute__((const, simd("notinbranch"))) float cosf(float) noexcept;
__attribute__((const, simd("notinbranch"))) float sinf(float) noexcept;
__attribute__((simd("notinbranch"))) float atan2f(float, float) noexcept;
}
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "cpu_simd.h"
#include "dtutmo/convert.h"
#include "dtutmo/pixel_model.h"
#include "engine_cpu.h"


namespace dtutmo {
namespace cpu {

// row_tone's chunk (pixels) and how many chunks ahead it prefetches the input
constexpr int kToneChunk = 64, kTonePrefetch = 2;
// pass 2's rod rows: the chunk (columns) of the split between the tone table and the
// responses (each chunk with a rod weight goes through the responses)
constexpr int kRodChunk = 64;

// n cells' display constants (model.h display_cell_consts) into d (3 a cell) and the
// grid's channel rows kD0 .. kD0 + 2. With a local copy of the frame's constants the
// per-frame libm calls in display_cell_consts (log2 of disp_p and disp_la) are loop
// invariants and the rest is fastmath.h's: GCC vectorises the loop across 8 cells.
DTUTMO_HOT static void display_cells(int n, const AdaptCell* __restrict cells, const FrameConsts& consts, float a,
                                     float black, float peak, float* __restrict d, float* __restrict g0,
                                     float* __restrict g1, float* __restrict g2) {
  const FrameConsts K = consts;
  for (int i = 0; i < n; ++i) {
    float k[3];
    display_cell_consts(cells[i], K, a, black, peak, k);
    d[3 * i] = g0[i] = k[0];
    d[3 * i + 1] = g1[i] = k[1];
    d[3 * i + 2] = g2[i] = k[2];
  }
}

// Entries [i0, i1) of class c's tone table (pixel_model.h tone_u, then the odds-root row);
// below logit_n_row.
static void tone_table_part(const FrameConsts& K, int c, const float* odds_root, float* tab, int i0, int i1);
// Row y of the hybrid edge map's Sobel magnitude (model.h edge_sobel): the interior of an
// interior row with unclamped neighbours (sobel_mag: vectorises), the rest through
// edge_sobel's clamped fetch.
DTUTMO_HOT static void sobel_row(const float* __restrict e, int ew, int eh, int y, const FrameConsts& K,
                                 float* __restrict out) {
  if (y == 0 || y == eh - 1 || ew < 3) {
    for (int x = 0; x < ew; ++x) out[x] = edge_sobel(e, ew, eh, x, y, K);
    return;
  }
  const float g = edge_gain(K);
  const float* __restrict a = e + size_t(y - 1) * ew;
  const float* __restrict b = a + ew;
  const float* __restrict c = b + ew;
  out[0] = edge_sobel(e, ew, eh, 0, y, K);
  for (int x = 1; x < ew - 1; ++x) {
    const float v[3][3] = {{a[x - 1], a[x], a[x + 1]}, {b[x - 1], b[x], b[x + 1]}, {c[x - 1], c[x], c[x + 1]}};
    out[x] = sobel_mag(v, g);
  }
  out[ew - 1] = edge_sobel(e, ew, eh, ew - 1, y, K);
}
// Whether classes a and b hold the same bits in every constant their tone tables read
// (tone_u, the clamp and 2^kwb: the tables are then the same).
static bool same_tone_class(const FrameConsts& K, int a, int b) {
  const float* f[] = {K.norm_gain, K.norm_offset, K.toe_r, K.toe_gain, K.knee_r, K.r_min, K.r_max,
                      K.disp_log2_sigma};
  for (const float* v : f)
    if (float_bits(v[a]) != float_bits(v[b])) return false;
  return true;
}

// frame_consts' per-sample loops with an AVX2 clone without FMA (cpu_simd.h
// DTUTMO_AVX2_EXACT): the same bits as the SSE2 code they were compiled to in
// frame_consts' lambda (which no clone reaches), 8 lanes a step.
// The base/detail gain 2^(base - level) of n samples (fastmath.h fast_exp2; SSE2, its
// degree-7 polynomial's chain ~20 % of balanced's fc.hist lambda's samples, hist12).
DTUTMO_AVX2_EXACT static void hist_base_gains(const float* __restrict base, const float* __restrict lv, int n,
                                                float* __restrict g) {
  for (int i = 0; i < n; ++i) g[i] = fast_exp2(base[i] - lv[i]);
}
// The response histogram's samples of a row: their achromatic responses (model.h
// achromatic_response) into the edge map's row e (its columns past the last sample repeat
// it), then their bins (hist_bin) counted in h, kHistCopies histograms of kHistBins,
// sample i in copy i % kHistCopies. One histogram: a run of samples in one bin (smooth
// regions) was a chain of read-modify-writes of one counter, each waiting for the last
// one's store (~40 % of frame_consts' lambda's own samples, hist12). The responses and
// bins vectorised, the increments scalar (one loop with them all stayed scalar). No FMA:
// 2 r.x + r.y + 0.05 r.z as an FMA would round once.
DTUTMO_AVX2_EXACT static void hist_row_bins(const float* __restrict r, int nsub, int ew, float* __restrict e,
                                              uint32_t* __restrict h, int b0, int b1) {
  // (a frame at most kSub wide has ew_ = 1 < nsub: its first sample alone is binned)
  const int ne = std::min(nsub, ew);
  for (int i = 0; i < ne; ++i) e[i] = achromatic_response({r[i], r[nsub + i], r[2 * nsub + i]});
  for (int i = ne; i < ew; ++i) e[i] = e[nsub - 1];
  // only the samples [b0, b1) in the picture are binned (model.h picture_samples)
  e += b0;
  const int nb = std::max(std::min(b1, ne) - b0, 0);
  static_assert(kHistCopies == 4, "the increments below go round 4 copies");
  uint32_t* __restrict h1 = h + kHistBins;
  uint32_t* __restrict h2 = h + 2 * kHistBins;
  uint32_t* __restrict h3 = h + 3 * kHistBins;
  for (int i0 = 0; i0 < nb; i0 += 256) {
    int b[256];
    const int m = std::min(256, nb - i0);
    for (int i = 0; i < m; ++i) b[i] = hist_bin(e[i0 + i]);
    int i = 0;
    for (; i + 4 <= m; i += 4) {
      h[b[i]]++;
      h1[b[i + 1]]++;
      h2[b[i + 2]]++;
      h3[b[i + 3]]++;
    }
    for (; i < m; ++i) h[b[i]]++;
  }
}

void CpuEngine::frame_consts(float kq) {
  FrameConsts& K = K_;
  // low_res has just written the grids the La lookup reads (a cut's second low_res too):
  // the lookup's segments (Scratch::jf, keyed by frame_no_) are stale
  ++frame_no_;
  // display observer (and the rods' S odds factor)
  display_observer(K, display_peak_nits(P_), P_.display_adapt, int(P_.viewing), P_.fov_deg, W_, H_,
                   P_.observer_age);

  // --- percentiles of the achromatic response on a subsample (histogram) ---
  for (auto& h : hist_) std::fill(h.begin(), h.end(), 0u);
  const int ny = (H_ + kSub - 1) / kSub;
  const int step = hist_step(W_), nsub = hist_nsub(W_);  // model.h
  const bool bdh = P_.base_detail && bgrid_ready_;
  pool_.run(ny, [&](int j, int th) {
    if (reference_) {
      hist_row_reference(j, hist_[th].data());
      return;
    }
    Scratch& s = scr_[th];
    const int y = std::min(H_ - 1, j * kSub + kSub / 2);
    // the row's samples as pass 1 kept them (row_stats, hsub_): log2 Y (hl) and RGB (hrgb),
    // compact, which responses_core reads with step 1 (unit-stride loops); its strided
    // loop (step kSub) on a row scattered back to its columns took ~2x the samples
    const float* __restrict hl = hsub_.data() + size_t(j) * nsub * 4;
    const float* __restrict hrgb = hl + nsub;
    // the lookup's guide at the sampled pixels (only those are read), compact: the base
    // (bdh, sliced at the samples' columns from their log2 Y, hbx0_ / hbtx_) or the
    // pixel's level (hl itself); the lookup at those columns only (interp_cols: the whole
    // row cost ~4x the work)
    float* gd = s.row.data();
    if (bdh) bgrid_.slice_row(y, hl, nsub, 1, gd, s.bslab.data(), hbx0_.data(), hbtx_.data());
    const float* lv = bdh ? gd : hl;
    // the channels responses_core reads (L/M, S; the rods' two on rows with rods:
    // channel_read) and the base gain, compact in s.out (free until pass 2) from column W_
    // (the joint-bilateral lookup writes them so; the bilinear one's row copied)
    float* adc = s.out.data() + W_;
    float* gsc = adc + size_t(kChD0) * nsub;
    if (jbu_) {
      interp_cols(y, s, lv, adc, hrgb, 3 * nsub);
    } else {
      interp_row(y, s, nullptr);  // bilinear: no guide
      const int nk = s.rods ? kChD0 : kChRod;
      for (int k = 0; k < nk; ++k) {
        const float* __restrict a = s.ad.data() + size_t(k) * W_ + step / 2;
        float* __restrict o = adc + size_t(k) * nsub;
        for (int i = 0; i < nsub; ++i) o[i] = a[i * step];
      }
    }
    if (bdh)
      hist_base_gains(gd, hl, nsub, gsc);
    else
      std::fill(gsc, gsc + nsub, 1.0f);
    responses_core(nsub, 1, hrgb, gsc, adc, s.rsp.data(), nsub, nsub, s.rods, s.resp.data());
    // the samples' achromatic responses into the edge map's row, then their bins (one
    // loop with the increments stayed scalar, reloading ew_ and nsub after each: ~70 % of
    // this lambda's own samples)
    int b0, b1;
    picture_samples(K, y, step, nsub, &b0, &b1);
    hist_row_bins(s.rsp.data(), nsub, ew_, edge_.data() + size_t(j) * ew_, hist_[th].data(), b0, b1);
  });
  tl_.mark("fc.hist");
  // every thread's copies into hist_[0]'s first (the reference path counts in the first
  // copy only: the others are 0)
  std::vector<uint32_t>& h0 = hist_[0];
  for (size_t t = 0; t < hist_.size(); ++t)
    for (int c = t == 0 ? 1 : 0; c < kHistCopies; ++c)
      for (int i = 0; i < kHistBins; ++i) h0[i] += hist_[t][size_t(c) * kHistBins + i];
  uint64_t tot = 0;
  for (int i = 0; i < kHistBins; ++i) tot += h0[i];
  // outlier rejection as in low_res: the median of the last three frames' percentiles,
  // smoothed with range-tau (kq); the median response (display key) likewise
  update_pct(ts_, hist_percentile(h0.data(), tot, P_.pct_low), hist_percentile(h0.data(), tot, P_.pct_high),
             snapped_, kq);
  update_pct1(h_rmed_, s_rmed_, hist_percentile(h0.data(), tot, 50.0f), snapped_, kq);

  // --- normalisation: equivalent luminances of the percentiles (scene model at the
  // global adaptation), display targets by response matching (DESIGN.md section 10),
  // per-class gains, knee and the DTUCAM conditions ---
  const float l_lo_raw = inverse_scene_grey(K, ts_.s_rlo), l_hi_raw = inverse_scene_grey(K, ts_.s_rhi);
  float l_lo = l_lo_raw, l_hi = l_hi_raw;
  widen_range(&l_lo, &l_hi);
  float t_lo, t_hi, t_lo0;  // t_lo0: before the key, the slope below the low percentile
  frame_targets(K, s_rmed_, l_lo, l_hi, l_lo_raw, l_hi_raw, inverse_disp_grey(K, scene_resp_grey(K, 3, l_lo)),
                inverse_disp_grey(K, scene_resp_grey(K, 3, l_hi)), P_.display_black, display_peak_nits(P_),
                P_.key, P_.key_strength, P_.mesopic, &t_lo, &t_hi, &t_lo0);
  finish_frame_consts(K, l_lo, l_hi, t_lo, t_hi, t_lo0, P_.knee, int(P_.viewing));

  tl_.mark("fc.norm");
  // --- full-inverse / hybrid: display observer's local adaptation per cell ---
  const int nc = gw_ * gh_;
  if (P_.display_mode != DisplayMode::Whiteboard) {
    const float a = P_.local ? P_.local_adaptation : 0.0f;
    const float black = P_.display_black, peak = display_peak_nits(P_);
    pool_.run(gh_, [&](int cy, int) {  // rows of cells in parallel
      // the cell's own adaptation luminance as displayed (whiteboard), L class
      const size_t i0 = size_t(cy) * gw_;
      float* g = gridk_.data() + i0;
      display_cells(gw_, cells_.data() + i0, K, a, black, peak, dispk_.data() + 3 * i0, g + size_t(kChD0) * nc,
                    g + size_t(kChD0 + 1) * nc, g + size_t(kChD0 + 2) * nc);
    });
    // the display channels changed: no lookup state keyed before may be reused. Since
    // jbu8 nothing between the bump at the top and this one keys any (fc.hist reads by
    // interp_cols_jbu, uncached), so this bump is a safeguard for a later stage that
    // would; when the histogram's rows still expanded lookup rows with the previous
    // frame's display channels, pass 2 reused them (balanced runs of one frame differed, up
    // to 9 codes at 13x7; Engine.LookupRowsFollowTheDisplayChannels)
    ++frame_no_;
    tl_.mark("fc.dispcells");
    // hybrid edge weight: Sobel of the normalised response luminance (1/kSub grid),
    // Gaussian smoothed, smoothstep
    // (rows in bands of 8 on the pool: ~1.8 ms per frame at 1080p on one thread before)
    if (P_.display_mode == DisplayMode::Hybrid) {
      float* m = edge_tmp_.data();
      float* bt = m + size_t(ew_) * eh_;
      const int nb = (eh_ + 7) / 8;
      const BlurTaps taps(1.0f);
      pool_.run(nb, [&](int b, int) {
        for (int y = b * 8, y1 = std::min(eh_, y + 8); y < y1; ++y)
          sobel_row(edge_.data(), ew_, eh_, y, K, m + size_t(y) * ew_);
      });
      pool_.run(nb, [&](int b, int) { blur_rows_h(m, bt, ew_, b * 8, std::min(eh_, b * 8 + 8), taps); });
      pool_.run(nb, [&](int b, int) {
        const int y0 = b * 8, y1 = std::min(eh_, y0 + 8);
        blur_rows_v(bt, m, ew_, eh_, y0, y1, taps);
        for (size_t i = size_t(y0) * ew_; i < size_t(y1) * ew_; ++i)
          edge_[i] = smoothstepf(K.hybrid_lo, K.hybrid_hi, m[i]);
      });
    }
  }
  tl_.mark("fc.edge");
  // --- CSF band gains (balanced) ---
  csf_active_ = P_.csf && csf_band_gains(K, P_.fov_deg, csf_gain_);
  // --- the photopic tone table (pixel_model.h): whiteboard without DTUCAM, detail or CSF
  // (the display luminance of a class is then a function of X = LMS 2^-K alone) ---
  tone_on_ = !reference_ && P_.display_mode == DisplayMode::Whiteboard && !P_.dtucam &&
             !(P_.base_detail && bgrid_ready_) && !csf_active_;
  tone_rows_n_.store(0);
  rod_rows_n_.store(0);
  rod_cols_n_.store(0);
  blk_rows_n_.store(0);
  pack_rows_n_.store(0);
  // (each class's table in 4 parts: 3 tasks kept one of 2 threads idle half the time)
  constexpr int kParts = 4, kPart = (kToneTab + kParts - 1) / kParts;
  // M's table is L's where the class constants it reads are the same bits (model.h
  // computes classes 0 and 1 by the same formulas, kConeM = kConeL: every frame): two
  // tables made, row_tone looks M up in L's (checked, so a class-specific M later still
  // gets its own; one 32 KB table less in L1/L2, no copy)
  const bool m_is_l = tone_on_ && same_tone_class(K, 0, 1);
  tone_m_is_l_ = m_is_l;
  const int ntab = m_is_l ? 2 : 3;
  if (tone_on_) {
    pool_.run(ntab * kParts, [&](int t, int) {
      const int c = (m_is_l && t >= kParts ? 2 * kParts + t - kParts : t) / kParts, i0 = (t % kParts) * kPart;
      tone_table_part(K, c, odds_tab_.data(), tone_tab_.data() + size_t(c) * kToneTab, i0,
                      std::min(kToneTab, i0 + kPart));
    });
  }
  if (P_.dtucam && !reference_) fill_cam_tables(K.cam_scene, K.cam_display, cam_tab_.data());
  tl_.mark("fc.tables");
}

// Scene responses (mesopic, per class L, M, S) of row y into r: planar, r[c * W + x].
// Loops are kept simple (no calls, no branches) so that GCC vectorises them.
DTUTMO_HOT void CpuEngine::row_responses(int y, float* __restrict r, Scratch& s, bool interp, int x0, int x1,
                                         float* __restrict li) {
  if (reference_) {
    responses_row_reference(y, r);
    return;
  }
  const int W = W_;
  if (x1 < 0) x1 = W;
  const bool bd = P_.base_detail && bgrid_ready_;
  const float* __restrict ly = logy_.data() + size_t(y) * W;
  // the base row (pass 2 without the CSF sliced it already, before its lookup)
  const float* __restrict bs = bd && interp ? base_row(y, s) : base_at(y, s);
  if (interp) interp_row(y, s, bd ? bs : ly);
  const float* __restrict rgb = lin_.data() + size_t(y) * W * 3;
  const float* __restrict ad = s.ad.data();
  float* __restrict gsc = s.ad.data() + size_t(kAd) * W;  // spare row: base gain
  if (bd) {
    for (int x = x0; x < x1; ++x) gsc[x] = fast_exp2(bs[x] - ly[x]);
  } else {
    for (int x = x0; x < x1; ++x) gsc[x] = 1.0f;
  }
  // the columns [x0, x1) (s.resp's first half: scratch, free until row_lum)
  responses_core(x1 - x0, 1, rgb + 3 * size_t(x0), gsc + x0, ad + x0, r + x0, W, W, s.rods, s.resp.data(),
                 li ? li + x0 : nullptr);
}

// The base/detail split's base (log2) of row y (bilateral grid slice) into base_ where the
// CSF runs, else into the thread's row s.brow (base_at; the row is read only while its row
// is made: written to the 8 MB base_ a 1080p frame and read back from cache, it cost the
// stores' traffic to memory); returns the row. It is also the La lookup's guide (spatial.h jbu_weights): the receptors see the
// base, so the lookup's monotonic bound must be in the base's level (with the pixel's own
// level, the sun's soft edge took a base below its level and a constant above it: a dark
// ring in balanced).
const float* CpuEngine::base_row(int y, Scratch& s) {
  const int W = W_;
  float* __restrict bs = csf_active_ ? base_.data() + size_t(y) * W : s.brow.data();
  bgrid_.slice_row(y, logy_.data() + size_t(y) * W, W, 1, bs, s.bslab.data());
  return bs;
}

// The tone and response tables at X (pixel_model.h tone_lookup's arithmetic, 8 values per
// step: GCC does not vectorise the gathers of the scalar loop). tone_lookup3_avx2: three
// rows (a pixel's three classes, each its own table) in one loop: one loop and one call
// for the three, the constants set up once (row_tone's chunks are 64 pixels: 8 steps a
// call); returns the values done. in == out allowed (each step loads before it stores).
#if defined(__x86_64__) || defined(__i386__)
struct ToneLookup8 {
  __m256 mmin, mmax, fs;
  __m256i base, lowm;
  __attribute__((target("avx2,fma"))) ToneLookup8()
      : mmin(_mm256_set1_ps(kToneMin)), mmax(_mm256_set1_ps(kToneMax)), fs(_mm256_set1_ps(1.0f / 65536.0f)),
        base(_mm256_set1_epi32(kToneBase)), lowm(_mm256_set1_epi32(0xffff)) {}
  __attribute__((target("avx2,fma"), always_inline)) inline __m256 operator()(const float* __restrict tab,
                                                                              __m256 x) const {
    // min(max(x, 2^-32), 2^32) (NaN -> 2^-32: maxps returns its second operand)
    const __m256 m = _mm256_min_ps(_mm256_max_ps(x, mmin), mmax);
    const __m256i bits = _mm256_castps_si256(m);
    const __m256i k = _mm256_sub_epi32(_mm256_srli_epi32(bits, 16), base);
    const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(bits, lowm)), fs);
    __m256 a, b;
    gather_pair(tab, k, a, b);
    return _mm256_fmadd_ps(f, _mm256_sub_ps(b, a), a);
  }
};
__attribute__((target("avx2,fma"))) static int tone_lookup_avx2(const float* in, float* out, int n,
                                                                const float* __restrict tab) {
  const ToneLookup8 look;
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, look(tab, _mm256_loadu_ps(in + i)));
  return i;
}
__attribute__((target("avx2,fma"))) static int tone_lookup3_avx2(const float* const* in, float* const* out,
                                                                 int n, const float* const* tab) {
  const ToneLookup8 look;
  const float *i0 = in[0], *i1 = in[1], *i2 = in[2];
  float *o0 = out[0], *o1 = out[1], *o2 = out[2];
  const float *t0 = tab[0], *t1 = tab[1], *t2 = tab[2];
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x0 = _mm256_loadu_ps(i0 + i), x1 = _mm256_loadu_ps(i1 + i), x2 = _mm256_loadu_ps(i2 + i);
    _mm256_storeu_ps(o0 + i, look(t0, x0));
    _mm256_storeu_ps(o1 + i, look(t1, x1));
    _mm256_storeu_ps(o2 + i, look(t2, x2));
  }
  return i;
}

// rgb (interleaved, 8 pixels from p) as three vectors: each from three 128-bit halves
// (vshufps, 5 shuffles; GCC's de-interleave of tone_x_row took 6 vpermd, 3 vpermilps and
// 6 blends).
__attribute__((target("avx2,fma"), always_inline)) static inline void load_rgb8(const float* p, __m256& r,
                                                                               __m256& g, __m256& b) {
  // px 0 and 4 | 1 and 5 | 2 and 6 on: r0 g0 b0 r1 | g1 b1 r2 g2 | b2 r3 g3 b3 (and 4-7 above)
  const __m256 m03 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p)), _mm_loadu_ps(p + 12), 1);
  const __m256 m14 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p + 4)), _mm_loadu_ps(p + 16), 1);
  const __m256 m25 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p + 8)), _mm_loadu_ps(p + 20), 1);
  const __m256 xy = _mm256_shuffle_ps(m14, m25, _MM_SHUFFLE(2, 1, 3, 2));  // r2 g2 r3 g3
  const __m256 yz = _mm256_shuffle_ps(m03, m14, _MM_SHUFFLE(1, 0, 2, 1));  // g0 b0 g1 b1
  r = _mm256_shuffle_ps(m03, xy, _MM_SHUFFLE(2, 0, 3, 0));
  g = _mm256_shuffle_ps(yz, xy, _MM_SHUFFLE(3, 1, 2, 0));
  b = _mm256_shuffle_ps(yz, m25, _MM_SHUFFLE(3, 0, 3, 1));
}
// One row of mul(m, v) or a dot product (a, b, c) . (r, g, b), as GCC contracts
// (a r + b g) + c b: fma(c, b, fma(a, r, b g)), the same bits as the vectorised loops'.
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 dot3_avx2(__m256 a, __m256 b, __m256 c,
                                                                                 __m256 x, __m256 y, __m256 z) {
  return _mm256_fmadd_ps(c, z, _mm256_fmadd_ps(a, x, _mm256_mul_ps(b, y)));
}
// tone_arg(lms, k) of 8 values: (lms > floor ? lms : floor) 2^-k (maxps' operand order)
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 tone_arg_avx2(__m256 lms, __m256 e) {
  return _mm256_mul_ps(_mm256_max_ps(lms, _mm256_set1_ps(kToneArgFloor)), e);
}
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 exp2_neg_avx2(const float* k) {
  return fast_exp2_avx2(_mm256_xor_ps(_mm256_loadu_ps(k), _mm256_set1_ps(-0.0f)));
}
// The X loop of row_tone's chunks and responses_core's pass-2 rows (step 1) with intrinsics:
// tone_x_row / responses_core's px in the same operations, the same bits (cone_tone_args of
// mul(m, rgb g); the rods' tone_arg(rod_signal(rgb g, wr), kr) into xr where kRods; the
// matrix's LMS into l0, l1, l2 where kLms; g = gsc[x] where kGain, else 1: not multiplied).
// Returns the pixels done (a multiple of 8). Tried: the three lookups in the same loop (X
// kept in registers, no stack rows): slower (~1100 samples against ~850 for this loop and
// the lookups: each iteration one chain of ~85 cycles' latency, matrix, exp2, index,
// loads, interpolation, ~200 instructions: too few iterations in flight).
// Whether tone_x_avx2 runs: an AVX2 CPU, unless the x86-64-v4 (AVX-512) clones are built
// and picked (GCC's 16-lane loops there: tone_x_row<true, 64> 328-364 perf samples against
// this loop's 461-513 on the Zen 5 VM, the clip, fast; the same bytes either way).
static inline bool x_loop_avx2() {
#if defined(DTUTMO_NO_AVX512)
  return have_avx2();
#else
  static const bool v4 = __builtin_cpu_supports("x86-64-v4");
  return have_avx2() && !v4;
#endif
}
template <bool kLms, bool kRods, bool kGain>
__attribute__((target("avx2,fma"))) static int tone_x_avx2(int n, const Mat3& m_, Vec3 wr_,
                                                          const float* __restrict rgb,
                                                          const float* __restrict gsc,
                                                          const float* __restrict klm,
                                                          const float* __restrict ks,
                                                          const float* __restrict kr, float* __restrict xl,
                                                          float* __restrict xm, float* __restrict xs,
                                                          float* __restrict xr, float* __restrict l0,
                                                          float* __restrict l1, float* __restrict l2) {
  __m256 mm[9];
  for (int i = 0; i < 9; ++i) mm[i] = _mm256_set1_ps(m_.m[i / 3][i % 3]);
  const __m256 w0 = _mm256_set1_ps(wr_.x), w1 = _mm256_set1_ps(wr_.y), w2 = _mm256_set1_ps(wr_.z);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 r, g, b;
    load_rgb8(rgb + 3 * size_t(i), r, g, b);
    if constexpr (kGain) {
      const __m256 s = _mm256_loadu_ps(gsc + i);
      r = _mm256_mul_ps(r, s);
      g = _mm256_mul_ps(g, s);
      b = _mm256_mul_ps(b, s);
    }
    const __m256 cl = dot3_avx2(mm[0], mm[1], mm[2], r, g, b);
    const __m256 cm = dot3_avx2(mm[3], mm[4], mm[5], r, g, b);
    const __m256 cs = dot3_avx2(mm[6], mm[7], mm[8], r, g, b);
    if constexpr (kLms) {
      _mm256_storeu_ps(l0 + i, cl);
      _mm256_storeu_ps(l1 + i, cm);
      _mm256_storeu_ps(l2 + i, cs);
    }
    const __m256 elm = exp2_neg_avx2(klm + i);
    _mm256_storeu_ps(xl + i, tone_arg_avx2(cl, elm));
    _mm256_storeu_ps(xm + i, tone_arg_avx2(cm, elm));
    _mm256_storeu_ps(xs + i, tone_arg_avx2(cs, exp2_neg_avx2(ks + i)));
    if constexpr (kRods)
      _mm256_storeu_ps(xr + i, tone_arg_avx2(dot3_avx2(w0, w1, w2, r, g, b), exp2_neg_avx2(kr + i)));
  }
  return i;
}
#endif

// out[i] = tone_lookup(tab, in[i]) over a row (the tone and response tables; in == out
// allowed).
static void tone_lookup_row(const float* in, float* out, int n, const float* __restrict tab) {
  int i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2()) i0 = tone_lookup_avx2(in, out, n, tab);
#endif
  for (int i = i0; i < n; ++i) out[i] = tone_lookup(tab, in[i]);
}
// in place
static void tone_lookup_row(float* v, int n, const float* __restrict tab) { tone_lookup_row(v, v, n, tab); }
// three rows, out[c][i] = tone_lookup(tab[c], in[c][i])
static void tone_lookup_rows3(const float* const* in, float* const* out, int n, const float* const* tab) {
  int i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2()) i0 = tone_lookup3_avx2(in, out, n, tab);
#endif
  for (int c = 0; c < 3; ++c)
    for (int i = i0; i < n; ++i) out[c][i] = tone_lookup(tab[c], in[c][i]);
}

// The per-pixel receptor stage: n pixels taken every `step` from rgb (interleaved) and
// the adaptation channels ad (planar, `ad_stride` apart); planar responses out (classes
// `rstride` apart). Through
// the response tables (pixel_model.h fill_response_table): X = LMS 2^-K per class (and
// the rods' X into xr, n floats of scratch, where a rod weight reaches the row), looked
// up, then mesopic_mix; the formula (pixel_model.h mesopic_responses) had 4 log2, 4 exp2
// and 4 divisions per pixel. li (optional, step 1 only; planar, `rstride` apart): the
// matrix's LMS also into li, for row_colour's hue (hue_row's kLms: without, a row with rods
// de-interleaved its input and ran the matrix again; the input LMS, as the gain gsc is 1
// wherever the tone table runs: no base/detail).
DTUTMO_HOT void CpuEngine::responses_core(int n, int step, const float* __restrict rgb,
                                          const float* __restrict gsc, const float* __restrict ad,
                                          float* __restrict r, int rstride, int ad_stride, bool rods,
                                          float* __restrict xr, float* __restrict li) const {
  const Mat3 m = K_.in_rgb_to_lms;
  const Vec3 wr = K_.in_rgb_to_rod;
  const float* __restrict klm = ad + kChLM * ad_stride;
  const float* __restrict ks = ad + kChS * ad_stride;
  const float* __restrict kr = ad + kChRod * ad_stride;
  const float* kr_ = kr;
  const float* __restrict rw = ad + kChW * ad_stride;
  float* __restrict rl = r;
  float* __restrict rm = r + rstride;
  float* __restrict rs = r + 2 * size_t(rstride);
  // X per class (and for the rods); step == 1 (every pixel, pass 2) gets its own loops:
  // unit-stride loads instead of the element-by-element gathers a run-time stride forces
  float* __restrict li0 = li;
  float* __restrict li1 = li ? li + rstride : nullptr;
  float* __restrict li2 = li ? li + 2 * size_t(rstride) : nullptr;
  auto px = [&](int i, int x, auto with_rods, auto with_li) __attribute__((always_inline)) {
    const float g = gsc[x];
    const Vec3 in = {rgb[3 * x] * g, rgb[3 * x + 1] * g, rgb[3 * x + 2] * g};
    const Vec3 c = mul(m, in);
    if (decltype(with_li)::value) {
      li0[i] = c.x;
      li1[i] = c.y;
      li2[i] = c.z;
    }
    const Vec3 t = cone_tone_args(c, klm[x], ks[x]);
    rl[i] = t.x;
    rm[i] = t.y;
    rs[i] = t.z;
    if (decltype(with_rods)::value) xr[i] = tone_arg(rod_signal(in, wr), kr[x]);
  };
  // step 1 with AVX2: tone_x_avx2 (the same bits), the generic loop for the last n % 8
  int i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (step == 1 && x_loop_avx2()) {
    auto x8 = [&](auto with_lms, auto with_rods) {
      i0 = tone_x_avx2<decltype(with_lms)::value, decltype(with_rods)::value, true>(n, m, wr, rgb, gsc, klm, ks, kr_, rl, rm, rs,
                                                                        xr, li0, li1, li2);
    };
    if (rods) {
      if (li) x8(std::true_type(), std::true_type());
      else x8(std::false_type(), std::true_type());
    } else {
      if (li) x8(std::true_type(), std::false_type());
      else x8(std::false_type(), std::false_type());
    }
  }
#endif
  if (!rods && step == 1) {
    if (li)
      for (int i = i0; i < n; ++i) px(i, i, std::false_type(), std::true_type());
    else
      for (int i = i0; i < n; ++i) px(i, i, std::false_type(), std::false_type());
  } else if (!rods) {
    for (int i = 0; i < n; ++i) px(i, i * step + (step >> 1), std::false_type(), std::false_type());
  } else if (step == 1) {
    if (li)
      for (int i = i0; i < n; ++i) px(i, i, std::true_type(), std::true_type());
    else
      for (int i = i0; i < n; ++i) px(i, i, std::true_type(), std::false_type());
  } else {
    for (int i = 0; i < n; ++i) px(i, i * step + (step >> 1), std::true_type(), std::false_type());
  }
  {
    float* const rc[3] = {rl, rm, rs};
    const float* const rci[3] = {rl, rm, rs};
    const float* const tc[3] = {resp_tab_.data(), resp_tab_.data(), resp_tab_.data()};
    tone_lookup_rows3(rci, rc, n, tc);
  }
  if (!rods) return;
  tone_lookup_row(xr, n, resp_tab_.data() + kToneTab);
  const float rq = fast_exp2(K_.rod_s_log2q);  // rod -> S class odds factor
  auto mix = [&](int i, int x) __attribute__((always_inline)) {
    const Vec3 o = mesopic_mix({rl[i], rm[i], rs[i]}, xr[i], rw[x], rq);
    rl[i] = o.x;
    rm[i] = o.y;
    rs[i] = o.z;
  };
  if (step == 1) {
    for (int i = 0; i < n; ++i) mix(i, i);
  } else {
    for (int i = 0; i < n; ++i) mix(i, i * step + (step >> 1));
  }
}

// X per class of n pixels (cone_responses' matrix, then tone_arg) into xl, xm, xs; kLms:
// the input LMS (the matrix's result) also into l0, l1, l2 (planar rows: hue_row's input,
// display_hue_lms). Its own function with restrict parameters (a lambda storing through
// captures stayed scalar elsewhere in this file); no-thread-jumps: with jump threading
// GCC 12 carried tone_arg's exp2 clamp ends through the rounding as blends (118 -> 103
// AVX2 instructions per 8 pixels without; fastmath.h fast_exp2). N > 0: n = N (a trip
// count GCC knows: row_tone's full chunks, no loop set-up and remainder per chunk).
template <bool kLms, int N = 0>
DTUTMO_HOT __attribute__((optimize("no-thread-jumps"))) static void tone_x_row(
    int n, const Mat3& m_, const float* __restrict rgb, const float* __restrict klm,
    const float* __restrict ks, float* __restrict xl, float* __restrict xm, float* __restrict xs,
    float* __restrict l0, float* __restrict l1, float* __restrict l2) {
  const Mat3 m = m_;
  if (N > 0) n = N;
  for (int x = 0; x < n; ++x) {
    const Vec3 c = mul(m, Vec3{rgb[3 * x], rgb[3 * x + 1], rgb[3 * x + 2]});
    if constexpr (kLms) {
      l0[x] = c.x;
      l1[x] = c.y;
      l2[x] = c.z;
    }
    const Vec3 t = cone_tone_args(c, klm[x], ks[x]);
    xl[x] = t.x;
    xm[x] = t.y;
    xs[x] = t.z;
  }
}

// Display luminance per class (planar, 3 x W) of photopic row y through the tone table,
// in place of row_responses and row_display's normalisation and inverse (tone_on_ and
// !s.rods; on a row with rods, the columns where the rod weight is 0: [x0, x1)). Expects
// interp_row(y) on s. li (optional, 3 x W): the input LMS for row_colour's hue (on a
// whole photopic row: hue_row then reads three planar rows, not the interleaved input
// through the matrix again).
// By chunks of kToneChunk pixels: X into three rows on the stack (L1), then the three
// lookups from them into lum, with the input prefetched kTonePrefetch chunks ahead (on
// into the next row at the row's end). The input (lin_, pass 1's 24 MB a 1080p frame)
// comes from memory: perf put ~47 % of the whole-row X loop's samples on its loads (the
// stream restarts on each row, after the row's colour and encode). 1080p clip, fast, AVX2
// clone, 3 alternated rounds: the tone's samples (X loop + lookups) ~1530 -> ~1300 (the
// chunks alone ~1515: the prefetch is the gain; 4 chunks ahead or the next row's chunk
// into L2 measured the same or worse).
DTUTMO_HOT void CpuEngine::row_tone(int y, float* __restrict lum, const Scratch& s, int x0, int x1,
                                    float* __restrict li) const {
  const int W = W_;
  const float* __restrict rgb = lin_.data() + size_t(y) * W * 3;
  const char* pin = reinterpret_cast<const char*>(rgb);
  const size_t pend = size_t(H_ - y) * W * 12;  // bytes to the end of lin_
  const float* __restrict klm = s.ad.data() + kChLM * W;
  const float* __restrict ks = s.ad.data() + kChS * W;
  const Mat3& m = K_.in_rgb_to_lms;
  constexpr int C = kToneChunk;
  alignas(32) float xb[3][C];
  const float* const tab[3] = {tone_tab_.data(), tone_tab_.data() + (tone_m_is_l_ ? 0 : kToneTab),
                               tone_tab_.data() + 2 * size_t(kToneTab)};
  float* l0 = li;
  float* l1 = li ? li + W : nullptr;
  float* l2 = li ? li + 2 * size_t(W) : nullptr;
  for (int xc = x0; xc < x1; xc += C) {
    const int n = std::min(C, x1 - xc);
    // prefetch: the input kTonePrefetch chunks ahead, on into the next row (lin_ is contiguous)
    for (size_t b = 12 * size_t(xc + kTonePrefetch * C); b < std::min(pend, 12 * size_t(xc + kTonePrefetch * C + n)); b += 64)
      __builtin_prefetch(pin + b, 0, 3);
    const float* r = rgb + 3 * size_t(xc);
#if defined(__x86_64__) || defined(__i386__)
    if (n == C && x_loop_avx2()) {
      if (li)
        tone_x_avx2<true, false, false>(C, m, Vec3{}, r, nullptr, klm + xc, ks + xc, nullptr, xb[0], xb[1], xb[2],
                                        nullptr, l0 + xc, l1 + xc, l2 + xc);
      else
        tone_x_avx2<false, false, false>(C, m, Vec3{}, r, nullptr, klm + xc, ks + xc, nullptr, xb[0], xb[1], xb[2],
                                         nullptr, nullptr, nullptr, nullptr);
    } else
#endif
    if (li) {
      if (n == C) tone_x_row<true, C>(n, m, r, klm + xc, ks + xc, xb[0], xb[1], xb[2], l0 + xc, l1 + xc, l2 + xc);
      else tone_x_row<true>(n, m, r, klm + xc, ks + xc, xb[0], xb[1], xb[2], l0 + xc, l1 + xc, l2 + xc);
    } else {
      if (n == C) tone_x_row<false, C>(n, m, r, klm + xc, ks + xc, xb[0], xb[1], xb[2], nullptr, nullptr, nullptr);
      else tone_x_row<false>(n, m, r, klm + xc, ks + xc, xb[0], xb[1], xb[2], nullptr, nullptr, nullptr);
    }
    const float* const in[3] = {xb[0], xb[1], xb[2]};
    float* const out[3] = {lum + xc, lum + W + xc, lum + 2 * size_t(W) + xc};
    tone_lookup_rows3(in, out, n, tab);
  }
}

// The display inverse's tables (pixel_model.h fill_logit_tables; the AVX2 path below
// gathers from them with logit_lookup's arithmetic).
#if defined(__x86_64__) || defined(__i386__)
template <bool kGain>
__attribute__((target("avx2,fma"))) static int logit_n_avx2(const float* __restrict u, float lo,
                                                            float hi, const float* __restrict tab,
                                                            float* __restrict o, int n,
                                                            int noff, bool neg, float scale,
                                                            const float* __restrict gain) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi), half = _mm256_set1_ps(0.5f);
  const __m256 one = _mm256_set1_ps(1.0f), mmin = _mm256_set1_ps(kLogitMin);
  const __m256 fs = _mm256_set1_ps(1.0f / 65536.0f), sgn = _mm256_set1_ps(neg ? -0.0f : 0.0f);
  const __m256 sc = _mm256_set1_ps(scale);
  const __m256i vno = _mm256_set1_epi32(noff);
  const __m256i base = _mm256_set1_epi32(kLogitBase), lowm = _mm256_set1_epi32(0xffff);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    // min(max(u, lo), hi) (NaN -> lo)
    const __m256 x = _mm256_loadu_ps(u + i);
    const __m256 v = _mm256_min_ps(_mm256_max_ps(x, vlo), vhi);
    const __m256 up = _mm256_cmp_ps(v, half, _CMP_GT_OQ);
    const __m256 m = _mm256_max_ps(_mm256_blendv_ps(v, _mm256_sub_ps(one, v), up), mmin);
    const __m256i bits = _mm256_castps_si256(m);
    const __m256i k = _mm256_add_epi32(_mm256_sub_epi32(_mm256_srli_epi32(bits, 16), base),
                                       _mm256_and_si256(_mm256_castps_si256(up), vno));
    const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(bits, lowm)), fs);
    __m256 a, b;
    gather_pair(tab, k, a, b);
    const __m256 h = _mm256_fmadd_ps(f, _mm256_sub_ps(b, a), a);
    const __m256 r = _mm256_mul_ps(_mm256_xor_ps(h, _mm256_and_ps(up, sgn)), sc);
    _mm256_storeu_ps(o + i, kGain ? _mm256_mul_ps(r, _mm256_loadu_ps(gain + i)) : r);
  }
  return i;
}
#endif
// o[x] = log2(v / (1 - v)) / n with v = clamp_response(u[x], lo, hi) (display_logit);
// with lin, instead o[x] = scale * (v / (1 - v))^(1/n) (display_odds_root), times gain[x]
// where gain is given (the detail gain: detail_gain_row)
static void logit_n_row(const DisplayTables& T, const float* __restrict u, float lo, float hi,
                        float* __restrict o, int n, bool lin = false, float scale = 1.0f,
                        const float* __restrict gain = nullptr) {
  const float* tab = lin ? T.odds_root : T.logit;
  const int noff = lin ? kLogitTab : 0;
  int i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2())
    i0 = gain ? logit_n_avx2<true>(u, lo, hi, tab, o, n, noff, !lin, scale, gain)
              : logit_n_avx2<false>(u, lo, hi, tab, o, n, noff, !lin, scale, nullptr);
#endif
  for (int i = i0; i < n; ++i) {
    const float v = scale * logit_lookup(tab, clamp_response(u[i], lo, hi), noff, !lin);
    o[i] = gain ? v * gain[i] : v;
  }
}

// The normalisation's constants of the three classes (normalise_response's arguments).
struct NormConsts {
  float g[3], off[3], tr[3], tg[3], k[3], rmax[3];
  explicit NormConsts(const FrameConsts& K) {
    for (int c = 0; c < 3; ++c) {
      g[c] = K.norm_gain[c];
      off[c] = K.norm_offset[c];
      tr[c] = K.toe_r[c];
      tg[c] = K.toe_gain[c];
      k[c] = K.knee_r[c];
      rmax[c] = K.r_max[c];
    }
  }
  // normalise_response of class c's r as the ratio *n / *d (display.h soft_knee_nd)
  DTUTMO_PX void nd(int c, float r, float* n, float* d) const {
    soft_knee_nd(normalise_linear(r, g[c], off[c], tr[c], tg[c]), k[c], rmax[c], n, d);
  }
};

// The tone table's response part u of entries [i0, i0 + n) (pixel_model.h tone_u): in the
// ISA clones, with a local copy of K (the stores cannot alias its loads), vectorised.
DTUTMO_HOT static void tone_u_row(const FrameConsts& consts, int c, int i0, int n, float* __restrict u) {
  const FrameConsts K = consts;
  for (int i = 0; i < n; ++i) u[i] = tone_u(tone_x(i0 + i), K, c);
}
static void tone_table_part(const FrameConsts& K, int c, const float* odds_root, float* tab, int i0, int i1) {
  float kwb[3];
  whiteboard_consts(K, kwb);
  const DisplayTables T{nullptr, odds_root, nullptr};
  const float scale = fast_exp2(kwb[c]);
  constexpr int kBlock = 512;  // u of a block in L1, then its inverse
  float u[kBlock];
  for (int b = i0; b < i1; b += kBlock) {
    const int n = std::min(kBlock, i1 - b);
    tone_u_row(K, c, b, n, u);
    logit_n_row(T, u, K.r_min[c], K.r_max[c], tab + b, n, true, scale);
  }
}

// Colour appearance of one row: chroma from the scene's appearance (Hunt effect), tone
// from the normalised responses of r (NormConsts), into u; pixel_model.h dtucam_display's
// pieces in passes over the row, the carry gain from the per-frame tables
// (fill_cam_tables): 2 gathers for 2 log2 and an exp2. t0, t1, t2: 3 rows of scratch.
// Restrict parameters and local condition copies: the loops have no possible aliasing
// and vectorise (no libm call left: dtucam.h cam_hue_dir); always inlined into
// row_display's clones. The normalisation is in the first loop: DTUCAM reads the
// normalised responses only there, for the display's A (u0, u1 are never stored, u2 holds
// A). As 3 loops of their own (row_lum) they stored and re-read 3 rows: 12 % of row_lum's
// samples, loop 1 22 %; fused, 33 % (balanced, 1080p clip): the loop is bound by its 5
// divisions per 8 pixels (3 soft knees, 2 odds scales), not by the rows' traffic. Now 1
// (pixel_model.h dtucam_inputs: the knees as ratios, NormConsts::nd, one reciprocal),
// and the second loop's square root and 3 divisions 1 (dtucam_display_rest): row_lum's
// samples -16 to -20 % (element, clip, balanced: ~2950 -> ~2350-2500 of 27-31 K).
static inline __attribute__((always_inline)) void dtucam_row(
    int W, const FrameConsts& K, const NormConsts& nc_, const float* __restrict tab, const float* __restrict sl,
    const float* __restrict ss, const float* __restrict r0, const float* __restrict r1,
    const float* __restrict r2, float* __restrict u0, float* __restrict u1, float* __restrict u2,
    float* __restrict t0, float* __restrict t1, float* __restrict t2) {
  const CamCond cam_s = K.cam_scene, cam_d = K.cam_display;
  const float sref = K.s_ref_display, isref = 1.0f / K.s_ref_display;
  const NormConsts nc = nc_;
  // the scene's A (t0) and S on the L/M reference (t2); the display's A (t1, and u2: the
  // rest needs nothing else of u)
  for (int x = 0; x < W; ++x) {
    Vec3 un, ud, rr;
    nc.nd(0, r0[x], &un.x, &ud.x);
    nc.nd(1, r1[x], &un.y, &ud.y);
    nc.nd(2, r2[x], &un.z, &ud.z);
    float A;
    dtucam_inputs({r0[x], r1[x], r2[x]}, dtucam_s_factor(ss[x], sl[x]), un, ud, sref, &rr, &A);
    t0[x] = cam_opponent(rr).A;
    t2[x] = rr.z;
    t1[x] = A;
    u2[x] = A;
  }
  tone_lookup_row(t0, W, tab);              // 2^ls(A_s)
  tone_lookup_row(t1, W, tab + kToneTab);   // 2^-ld(A_d)
  for (int x = 0; x < W; ++x) {
    const CamOpp o = cam_opponent({r0[x], r1[x], t2[x]});
    const float A = u2[x];
    // cam_carry_gain's masks (the tables clamp at 2^-32)
    const float g = t0[x] * t1[x] * (o.A > 0.0f ? 1.0f : 0.0f) * (A > 0.0f ? 1.0f : 0.0f);
    const Vec3 v = dtucam_display_rest(o, A, g, cam_s, cam_d, isref);
    u0[x] = v.x;
    u1[x] = v.y;
    u2[x] = v.z;
  }
}

// The detail gain of a row (pixel_model.h detail_gain) into g, which the display inverse
// multiplies into each class's luminance as it stores it (row_lum): as a pass of its own
// over the 3 luminance rows after the inverse (load, multiply, store each) it was 2.2 %
// of balanced's samples (1080p clip). Its own function with restrict parameters; inline
// in row_lum the loop stayed scalar (GCC: "no vectype" on the response load).
// pf: the next row's lines (RowPrefetch), by 64-column chunks.
DTUTMO_HOT static void detail_gain_row(int x0, int x1, const float* __restrict ly, const float* __restrict bs,
                                       const float* __restrict u, float r0, float ir, float dg,
                                       float* __restrict g, const RowPrefetch& pf) {
  constexpr int kChunk = 64;
  for (int a = x0; a < x1; a += kChunk) {
    const int b = std::min(x1, a + kChunk);
    pf(a, b);
    for (int x = a; x < b; ++x) g[x] = detail_gain(ly[x] - bs[x], (u[x] - r0) * ir, dg);
  }
}

// The runs of kChunk-column chunks of [x0, x1) where the hybrid weight hw is 0 on every
// column or not (row_lum): the runs' ends into runs (alternating, the first flat or not:
// *first); returns their count. A full chunk's test in GCC vector extensions (two
// compares, an or, one test): GCC 12 unrolled the integer count over a full chunk (the
// constant trip count 16) into 16 scalar ucomiss / setp, in row_lum as here (then 229
// samples against row_lum's ~1900 on dtutmo-bench balanced, 40 frames).
template <int kChunk>
DTUTMO_HOT static int hw_runs(const float* __restrict hw, int x0, int x1, int* __restrict runs, bool* first) {
  typedef float v8f __attribute__((vector_size(32)));
  typedef int v8i __attribute__((vector_size(32)));
  static_assert(kChunk % 8 == 0, "whole vectors");
  auto flat = [&](int x) __attribute__((always_inline)) {
    if (x + kChunk <= x1) {  // full chunks: vector compares, one test (GCC vector extensions)
      v8i nz = {};
      for (int i = 0; i < kChunk; i += 8) {
        v8f v;
        memcpy(&v, hw + x + i, sizeof v);
        nz |= v != 0.0f;
      }
      long long q[4];
      memcpy(q, &nz, sizeof q);
      return (q[0] | q[1] | q[2] | q[3]) == 0;
    }
    int nz = 0;
    for (int i = x; i < x1; ++i) nz += hw[i] != 0.0f ? 1 : 0;
    return nz == 0;
  };
  int m = 0;
  bool f = *first = flat(x0);
  for (int a = x0 + kChunk; a < x1; a += kChunk) {
    const bool fa = flat(a);
    if (fa != f) {
      runs[m++] = a;
      f = fa;
    }
  }
  runs[m++] = x1;
  return m;
}

// Display mapping and encoding of one row of planar responses r, one stage at a time over
// planar rows (pixel_model.h; the GPU's display_pixel runs the same pieces per pixel):
// row_lum (tone: display luminance per class into s.resp's second half), then row_colour
// (colour rendering and encode into planar rows R', G', B' for pack_rows_planar; or, for a
// 4:2:0 output's row pair, colour_pair); row_tone replaces row_lum on photopic whiteboard
// rows and on the columns of a row with rods where the rod weight is 0. Expects
// interp_row(y) on s.

DTUTMO_HOT void CpuEngine::row_lum(int y, const float* __restrict r, Scratch& s, int x0, int x1) {
  const int W = W_;
  if (x1 < 0) x1 = W;
  const int n = x1 - x0;
  const FrameConsts& K = K_;
  const DisplayTables tabs = tables();
  const float* __restrict ad = s.ad.data();
  const float* __restrict sl = ad + kChLM * W;
  const float* __restrict ss = ad + kChS * W;
  const bool cam = P_.dtucam;
  const bool bd = P_.base_detail && bgrid_ready_;
  const int mode = int(P_.display_mode);
  const float* __restrict ly = logy_.data() + size_t(y) * W;
  float kwb[3];
  whiteboard_consts(K, kwb);
  float* __restrict u = s.resp.data();          // planar u[c * W + x] (3W)
  float* __restrict lum = s.resp.data() + 3 * size_t(W);  // planar luminance (3W)
  float* __restrict hw = s.row.data();          // hybrid weight (W)
  if (mode == int(DisplayMode::Hybrid)) {  // sample_grid by rows (cpu_spatial.h bilinear_row)
    int y0, y1;
    float ty;
    grid_interp(grid_pos(y, float(kSub)), eh_, &y0, &y1, &ty);
    bilinear_row(edge_.data(), size_t(ew_), y0, y1, ty, ecols_, s.vrow.data(), hw);
  }
  // normalisation + soft knee, per class (with DTUCAM inside its first loop)
  if (cam) {  // lum (free until the inverse below) as scratch
    dtucam_row(n, K, NormConsts(K), cam_tab_.data(), sl + x0, ss + x0, r + x0, r + W + x0, r + 2 * size_t(W) + x0, u + x0,
               u + W + x0, u + 2 * size_t(W) + x0, lum + x0, lum + W + x0, lum + 2 * size_t(W) + x0);
  } else {
    for (int c = 0; c < 3; ++c) {
      const float g = K.norm_gain[c], off = K.norm_offset[c], k = K.knee_r[c], rmax = K.r_max[c];
      const float tr = K.toe_r[c], tg = K.toe_gain[c];
      const float* __restrict rc = r + size_t(c) * W;
      float* __restrict uc = u + size_t(c) * W;
      for (int x = x0; x < x1; ++x) uc[x] = normalise_response(rc[x], g, off, tr, tg, k, rmax);
    }
  }
  // the detail gain (base/detail) into the second row of s.row (free until row_colour):
  // each class's inverse below multiplies it in as it stores the luminance
  float* __restrict gd = nullptr;
  if (bd && K.detail != 0.0f) {
    gd = s.row.data() + W;
    const float r0 = K.r_min[0], ir = 1.0f / std::max(K.r_max[0] - K.r_min[0], 1e-6f);
    // (the next row of pass 2's band: RowPrefetch; responses_core's lin_ loads and
    // slice_row's first logy_ loads were ~25 % and ~35 % of their samples)
    detail_gain_row(x0, x1, ly, base_at(y, s), u, r0, ir, K.detail, gd, s.pf);  // this row's base
  }
  // hybrid: where the edge weight hw is 0, hybrid_display_k is kc (w = 0) and the inverse
  // the whiteboard's, 2^kc (v / (1 - v))^(1/n) from the odds-root table (no exp2 per
  // pixel); runs of kHwChunk-column chunks of either kind, found once per row (hw is the
  // same for the 3 classes; found per class, the scan was 8 % of row_lum's samples). On the
  // 1080p clip hw is 0 on 85 % of the pixels, on 79 % of the 16-column chunks. runs:
  // the runs' ends from x0, the first run flat or not (rf), alternating.
  constexpr int kHwChunk = 16;
  // (on the stack, at most one run per chunk of the widest frame: a thread_local vector
  // allocates at its first use on each pool thread, which can come mid-stream: test_alloc)
  int runs[DTUTMO_MAX_FRAME_SIDE / kHwChunk + 2];
  bool rf = true;
  if (mode == int(DisplayMode::Hybrid)) hw_runs<kHwChunk>(hw, x0, x1, runs, &rf);
  // display inverse per class: L = 2^(K + log2(v / (1 - v)) / n) (times the detail gain)
  for (int c = 0; c < 3; ++c) {
    const float lo = K.r_min[c], hi = K.r_max[c], kc = kwb[c];
    const float* __restrict uc = u + size_t(c) * W;
    float* __restrict lc = lum + size_t(c) * W;
    const float* __restrict kl = ad + size_t(kChD0 + c) * W;
    if (mode == int(DisplayMode::Whiteboard)) {  // whole inverse from the table
      logit_n_row(tabs, uc + x0, lo, hi, lc + x0, n, true, fast_exp2(kc), gd ? gd + x0 : nullptr);
      continue;
    }
    float kn, ikn;
    inverse_fade_band(K, c, &kn, &ikn);
    if (mode == int(DisplayMode::FullInverse)) {
      logit_n_row(tabs, uc + x0, lo, hi, lc + x0, n);  // lc = log2(v / (1 - v)) / n, then in place
      for (int x = x0; x < x1; ++x) {
        const float fade = inverse_fade(clamp_response(uc[x], lo, hi), kn, ikn);
        lc[x] = inverse_from_logit(full_inverse_k(fade, kl[x], kc), lc[x]);
      }
      if (gd)
        for (int x = x0; x < x1; ++x) lc[x] *= gd[x];
      continue;
    }
    const float skc = fast_exp2(kc);
    bool f = rf;
    for (int a = x0, j = 0; a < x1; f = !f) {
      const int b = runs[j++];
      if (f) {
        logit_n_row(tabs, uc + a, lo, hi, lc + a, b - a, true, skc, gd ? gd + a : nullptr);
      } else {
        logit_n_row(tabs, uc + a, lo, hi, lc + a, b - a);
        auto inv = [&](auto gain) __attribute__((always_inline)) {
          for (int x = a; x < b; ++x) {
            const float fade = inverse_fade(clamp_response(uc[x], lo, hi), kn, ikn);
            const float l = inverse_from_logit(hybrid_display_k(hw[x], kl[x], kc, fade), lc[x]);
            lc[x] = decltype(gain)::value ? l * gd[x] : l;
          }
        };
        if (gd) inv(std::true_type());
        else inv(std::false_type());
      }
      a = b;
    }
  }
}

// display_out_rgb over x0 .. x1 of planar rows into the planar output rows r, g, b (their
// own restrict parameters: the same loop with stores through o + W, o + 2 W inside
// row_colour stayed scalar, "no vectype"); COUNT: returns the samples outside [0, peak]
// or NaN (gamut.h out_of_gamut); MARK (with COUNT): also sets mk[x] = 1 where the pixel
// is out of gamut (the CIELAB hue gate: where the gamut map acts the hue must be restored)
// and counts the marked pixels (the gate's and these) into *nmk: the CIELAB pass's test
// in the same vector loop (as a loop of its own over the chunk GCC 12 left it scalar, 16
// compares and adds: ~15 % of row_colour's samples, fast, 1080p clip).
template <bool GMAP, bool COUNT, bool MARK = false>
static inline __attribute__((always_inline)) int out_rgb_row(
    const float* __restrict l0, const float* __restrict l1, const float* __restrict l2,
    const ColourConsts& cc, int x0, int x1, float* __restrict r, float* __restrict g, float* __restrict b,
    float* __restrict mk = nullptr, int* nmk = nullptr) {
  int out = 0, marked = 0;
  for (int x = x0; x < x1; ++x) {
    const Vec3 c = display_out_rgb({l0[x], l1[x], l2[x]}, cc, GMAP);
    r[x] = c.x;
    g[x] = c.y;
    b[x] = c.z;
    if (COUNT) {
      const int og = out_of_gamut(c, cc.peak);
      out += og;
      if (MARK) {
        const float m = og ? 1.0f : mk[x];
        mk[x] = m;
        marked += m > 0.0f ? 1 : 0;
      }
    }
  }
  if (MARK) *nmk = marked;
  return out;
}

// The first colour pass over a row (pixel_model.h display_hue; rods: the cone share from
// the rod weight rwt; gated: then the CIELAB hue gate per pixel into gt, from k', a_x, a_z
// and y_r kept in gt, gt + W, gt + 2W, gt + 3W, in a second loop: in one, the AVX2 clone
// spilled registers, a quarter of the loop's samples; a_x, a_z stay there for the third
// pass). The input ratios a_x, a_z come from the input LMS of the first loop: computed in
// the second from the interleaved input (de-interleave and matrix again) they were a third
// of its instructions. Its own function with restrict parameters: as a lambda in
// row_colour, with the gate's store, GCC 12 left the loop scalar ("no vectype" on loads
// through the capture). no-thread-jumps: GCC 12's jump threading duplicated the paths
// through the select chains of lab_hue_gate and hue_preserve (each min, max or ?: is a
// branch until if-conversion), which the vectoriser then rebuilt as nested masks and
// blends: the gate loop 88 AVX2 instructions per 8 pixels, now 67; the hue loop 145 and
// 121 (gated, not), now 128 and 105, with fewer spills.
// kLms (the tone table's rows): the input LMS from li (row_tone's, and on a row with rods
// responses_core's on the chunks a rod weight reaches; planar 3 x W), not from the interleaved input
// rgb through the matrix (its de-interleave and 9 FMA per 8 pixels): on the 1080p clip
// (fast, AVX2 clone, perf samples, two alternated rounds) hue_row<false, true> 937 -> 838,
// row_tone's X loop 887 -> 934 (three more stores); with rods (col9) the hue loop 121 ->
// 90 AVX2 instructions per 8 pixels (hue_row<true, true> 137 -> 98 samples, 3 rounds).
template <bool kRods, bool kGated, bool kLms = false>
DTUTMO_HOT __attribute__((optimize("no-thread-jumps"))) static void hue_row(int W, const ColourConsts& cc_, const float* __restrict rgb,
                               const float* __restrict rwt, float* __restrict l0, float* __restrict l1,
                               float* __restrict l2, float* __restrict gt, const float* __restrict li = nullptr) {
  const ColourConsts cc = cc_;
  float* __restrict ax = gt + W;
  float* __restrict az = gt + 2 * size_t(W);
  float* __restrict yr = gt + 3 * size_t(W);
  const float* __restrict i0 = li;
  const float* __restrict i1 = li + W;
  const float* __restrict i2 = li + 2 * size_t(W);
  for (int x = 0; x < W; ++x) {
    const float cw = kRods ? 1.0f - rwt[x] : 1.0f;
    Vec3 v;
    if constexpr (kLms) {
      const Vec3 in = {i0[x], i1[x], i2[x]};
      if constexpr (kGated) v = display_hue_lms({l0[x], l1[x], l2[x]}, in, cw, cc, &gt[x], &ax[x], &az[x], &yr[x]);
      else v = display_hue_lms({l0[x], l1[x], l2[x]}, in, cw, cc);
    } else {
      const Vec3 in = {rgb[3 * x], rgb[3 * x + 1], rgb[3 * x + 2]};
      if constexpr (kGated) v = display_hue({l0[x], l1[x], l2[x]}, in, cw, cc, &gt[x], &ax[x], &az[x], &yr[x]);
      else v = display_hue({l0[x], l1[x], l2[x]}, in, cw, cc);
    }
    l0[x] = v.x;
    l1[x] = v.y;
    l2[x] = v.z;
  }
  if constexpr (kGated)
    for (int x = 0; x < W; ++x) gt[x] = lab_hue_gate(gt[x], ax[x], az[x], yr[x]);
}

// The gamut map (gamut.h gamut_map_keep) over x0 .. x1 of the planar output rows r, g, b in
// place (the chunk test left the unmapped output there), in its two pieces, each a loop
// of its own (gamut.h gamut_lift: shorter chains than the one loop's).
static inline __attribute__((always_inline)) void gmap_rows(const ColourConsts& cc_, int x0, int x1,
                                                            float* __restrict r, float* __restrict g,
                                                            float* __restrict b) {
  const ColourConsts cc = cc_;
  for (int x = x0; x < x1; ++x) {
    const Vec3 p = gamut_lift({r[x], g[x], b[x]}, cc.wy);
    r[x] = p.x;
    g[x] = p.y;
    b[x] = p.z;
  }
  for (int x = x0; x < x1; ++x) {
    const Vec3 q = gamut_keep_peak({r[x], g[x], b[x]}, cc.wy, cc.peak, cc.keep);
    r[x] = q.x;
    g[x] = q.y;
    b[x] = q.z;
  }
}

// The third colour pass (pixel_model.h display_lab_hue) over x0 .. x1 of the planar output
// rows r, g, b in place, in its two halves, each a loop of its own (gamut.h
// lab_hue_ratio: in one loop the out-of-order window could not hide the chain).
// lab_ratio_row: gt, the gate, and ax, az, the input's a_x, a_z (hue_row), are replaced in
// place by s and q_in (their last reader); lab_apply_row reads those. Their own functions
// with restrict parameters: as a lambda in row_colour, reading a_x, a_z, GCC 12 left the
// loop scalar ("no vectype").
static inline __attribute__((always_inline)) void lab_ratio_row(const ColourConsts& cc_, float* __restrict gt,
                                                                float* __restrict ax, float* __restrict az, int x0,
                                                                int x1, const float* __restrict r,
                                                                const float* __restrict g, const float* __restrict b) {
  const ColourConsts cc = cc_;
  for (int x = x0; x < x1; ++x) {
    float qx, qz;
    gt[x] = display_lab_ratio({r[x], g[x], b[x]}, ax[x], az[x], cc, gt[x], &qx, &qz);
    ax[x] = qx;
    az[x] = qz;
  }
}
template <bool GMAP>
static inline __attribute__((always_inline)) void lab_apply_row(const ColourConsts& cc_, const float* __restrict sr,
                                                                const float* __restrict qx, const float* __restrict qz,
                                                                int x0, int x1, float* __restrict r,
                                                                float* __restrict g, float* __restrict b) {
  const ColourConsts cc = cc_;
  for (int x = x0; x < x1; ++x) {
    const Vec3 c = display_lab_apply({r[x], g[x], b[x]}, sr[x], qx[x], qz[x], cc, GMAP);
    r[x] = c.x;
    g[x] = c.y;
    b[x] = c.z;
  }
}
// Both halves over one span x0 .. x1 (gt: the gate, then a_x, a_z a row apart each, W;
// o, its planar rows W apart): the row's partial chunk and the pass without the gamut map.
template <bool GMAP>
static inline __attribute__((always_inline)) void lab_row(const ColourConsts& cc, float* gt, int W, int x0,
                                                          int x1, float* o) {
  const size_t W2 = 2 * size_t(W);
  lab_ratio_row(cc, gt, gt + W, gt + W2, x0, x1, o, o + W, o + W2);
  lab_apply_row<GMAP>(cc, gt, gt + W, gt + W2, x0, x1, o, o + W, o + W2);
}

void CpuEngine::row_colour(int y, float* o, Scratch& s, const float* li) {
  const int W = W_;
  colour_rows(W, s.resp.data() + 3 * size_t(W), li, lin_.data() + size_t(y) * W * 3,
              s.ad.data() + size_t(kChW) * W, s.rods, s.row.data(), o);
  encode_row(o, W, out_420_);
}

// row_colour's stages on planar rows W wide: a frame row, or pass 2's row of 2x2-block
// means (colour_pair). lum: display LMS (3 x W, overwritten), li: the input LMS (3 x W;
// null: from the interleaved input rgb through the matrix), rwt: the rod weight (read
// where rods), gt: 4 x W scratch, o: output linear RGB (3 x W, planar).
DTUTMO_HOT __attribute__((optimize("no-thread-jumps"))) void CpuEngine::colour_rows(
    int W, float* __restrict lum, const float* __restrict li, const float* __restrict rgb,
    const float* __restrict rwt, bool rods, float* __restrict gt, float* __restrict o) const {
  const size_t W2 = 2 * size_t(W);  // planar output rows o[x], o[W + x], o[W2 + x] (stores
                                     // through restrict locals o0.. left the loops scalar)
  // hue restoration (optional), then display LMS -> output RGB and the gamut map
  // (optional), then the CIELAB hue (with hue restoration): passes over the rows
  // (display_hue, display_out_rgb, display_lab_hue; together display_colour), each
  // combination its own loop (no loop-invariant branch inside). In
  // one loop the AVX2 clone ran out of its 16 registers and spilled in every iteration;
  // split, both loops vectorise without spills.
  {
    const ColourConsts cc = frame_colour_consts();
    float* __restrict l0 = lum;
    float* __restrict l1 = lum + W;
    float* __restrict l2 = lum + 2 * size_t(W);
    // with the CIELAB hue: per pixel 1 where the third pass must run (gamut.h
    // lab_hue_gate, then the gamut map's pixels), in the row the tone stage left free
    const bool lab = P_.hue_preserve && P_.lab_hue;
    constexpr int kChunk = 16;  // the gamut map's and the CIELAB pass's chunks (below)
    auto out_rgb = [&](auto gmap, int x0, int x1) __attribute__((always_inline)) {
      return out_rgb_row<decltype(gmap)::value, false>(l0, l1, l2, cc, x0, x1, o, o + W, o + W2);
    };
    if (lab) {
      if (rods && li) hue_row<true, true, true>(W, cc, rgb, rwt, l0, l1, l2, gt, li);
      else if (rods) hue_row<true, true>(W, cc, rgb, rwt, l0, l1, l2, gt);
      else if (li) hue_row<false, true, true>(W, cc, rgb, rwt, l0, l1, l2, gt, li);
      else hue_row<false, true>(W, cc, rgb, rwt, l0, l1, l2, gt);
    } else if (P_.hue_preserve) {
      if (rods && li) hue_row<true, false, true>(W, cc, rgb, rwt, l0, l1, l2, gt, li);
      else if (rods) hue_row<true, false>(W, cc, rgb, rwt, l0, l1, l2, gt);
      else if (li) hue_row<false, false, true>(W, cc, rgb, rwt, l0, l1, l2, gt, li);
      else hue_row<false, false>(W, cc, rgb, rwt, l0, l1, l2, gt);
    }
    if (!P_.gamut_map) {
      out_rgb(std::false_type(), 0, W);
    } else {
      // The gamut map (all selects: ~half the colour stage's time) only on the chunks of
      // the row with a channel outside [0, peak] (or NaN); in gamut it returns its input.
      // 16 pixels (two AVX2 vectors): on the 1080p clip (BT.2020 content, BT.709 out) most
      // 64-pixel chunks held some pixel out of gamut; at 16 the colour stage took half.
      // Full chunks with the end x0 + kChunk (a trip count GCC knows: two vectors, no loop
      // set-up and remainder per chunk, which with min(W, x0 + kChunk) took ~1/3 of the
      // test's samples), then the last, partial one.
      // With the CIELAB hue, its third pass (display_lab_hue, where a pixel is marked: the
      // gate's or the gamut map's) after the gamut map; on the 1080p clip (fast) the gamut
      // map acts on 7 % of the chunks, the CIELAB pass on 19 % (balanced 8 and 48 %). Both
      // once the test has listed the row's chunks (col10), each chunk a loop of 16 pixels
      // (a trip count GCC knows): run right after each chunk's test, the restore's two
      // vectors and their branch left its long chain exposed, and each chunk reloaded ~30
      // constants. Runs of adjacent chunks as one loop each (a variable trip count) were
      // slower in fast (row_colour per yardstick sample 0.27-0.28 -> 0.30-0.31, 3 rounds).
      auto test = [&](int x0, int x1, int* nmk) __attribute__((always_inline)) {
        return lab ? out_rgb_row<false, true, true>(l0, l1, l2, cc, x0, x1, o, o + W, o + W2, gt, nmk)
                   : out_rgb_row<false, true>(l0, l1, l2, cc, x0, x1, o, o + W, o + W2);
      };
      const int nf = W / kChunk;  // full chunks
      float* __restrict gl = gt + 3 * size_t(W);  // their lists (yr's row, free after hue_row),
                                                   // branch-free
      float* __restrict ll = gl + nf;
      int ng = 0, nl = 0;
      for (int i = 0; i < nf; ++i) {
        const int x0 = i * kChunk;
        int nmk = 0;
        const int n = test(x0, x0 + kChunk, &nmk);
        gl[ng] = float(x0);
        ng += n ? 1 : 0;
        ll[nl] = float(x0);
        nl += nmk ? 1 : 0;
      }
      for (int i = 0; i < ng; ++i) {
        const int x0 = int(gl[i]);
        gmap_rows(cc, x0, x0 + kChunk, o, o + W, o + W2);
      }
      for (int i = 0; i < nl; ++i) {
        const int x0 = int(ll[i]);
        lab_ratio_row(cc, gt, gt + W, gt + 2 * size_t(W), x0, x0 + kChunk, o, o + W, o + W2);
      }
      for (int i = 0; i < nl; ++i) {
        const int x0 = int(ll[i]);
        lab_apply_row<true>(cc, gt, gt + W, gt + 2 * size_t(W), x0, x0 + kChunk, o, o + W, o + W2);
      }
      if (const int x0 = nf * kChunk; x0 < W) {
        int nmk = 0;
        if (test(x0, W, &nmk)) gmap_rows(cc, x0, W, o, o + W, o + W2);
        if (nmk) lab_row<true>(cc, gt, W, x0, W, o);
      }
    }
    // third pass without the gamut map (hue_preserve and lab_hue): the input's CIELAB hue
    // on the straight-line result (display_lab_hue; display_colour composes the three for
    // the GPU and the reference path), only on the 16-pixel chunks holding a pixel the
    // gate marked, and there per pixel (the GPU's choice). On every pixel it cost ~33
    // CPU-ms per 1080p frame on the AVX2 clone, a third of fast.
    if (lab && !P_.gamut_map) {
      for (int x0 = 0; x0 < W; x0 += kChunk) {
        const int x1 = std::min(W, x0 + kChunk);
        int any = 0;  // an integer count (vectorises; a float max reduction stayed scalar)
        for (int x = x0; x < x1; ++x) any += gt[x] > 0.0f ? 1 : 0;
        if (any) lab_row<false>(cc, gt, W, x0, x1, o);
      }
    }
  }
}

// ---------------------------------------------------------------- colour at chroma resolution
// A 4:2:0 output stores one chroma pair per 2x2 block (pixel_io.h chroma_down: the block's
// mean for centre siting), so with colour-sampling auto pass 2's photopic tone rows make
// the colour (hue_preserve, the output matrix, the gamut map, the CIELAB hue: colour_rows,
// the per-pixel path's own functions) once per block from the block's mean display LMS and
// mean input LMS, and each pixel takes the block's output RGB scaled to its own display
// luminance (the same linear map, lms_to_y_row, for pixel and block: hue_preserve and the
// output matrix keep it, so a pixel's output luminance is its own tone). A flat block gives
// the per-pixel result. docs/DESIGN.md "Colour at chroma resolution (issue 10, c420)".

// The pixels' weights in their block's colour (colour_pair): w ~ 1 / sqrt(y + y0), y the
// display luminance (wl . lms), y0 a floor (the display's black level's order: 1e-3 of
// the peak) so that black pixels, whose chroma is noise, do not take the block; normalised
// per block (sum 1), in place. The block's chroma from means weighted by the luminance
// (w = 1) went to its brightest pixel: at the edge of a bright light on a dark saturated
// ring, the ring's pixels took the light's near-white chroma at their own low luminance
// (grey dots); a 4:2:0 output subsampled from R'G'B' (the per-pixel path) weights its
// pixels about as y^(1/2.2 .. 1/2.4) does in linear light, which w ~ y^(-1/2) follows.
// 1 / sqrt by the bits (0x5f3759df - bits / 2: within 3.5 %, a weight needs no more; a
// flat block's weights are equal whatever their error); sqrt and a division per pixel
// took ~2/3 of this function's samples. The pixels' luminance also into ya, yb (scale_row's).
DTUTMO_HOT static void block_weights(const float* __restrict a, const float* __restrict b, int W, Vec3 wl,
                                     float y0, float* __restrict wa, float* __restrict wb, float* __restrict ya,
                                     float* __restrict yb, int x0 = 0) {
  const size_t W2 = 2 * size_t(W);
  auto rs = [](float v) __attribute__((always_inline)) {
    const int32_t k = 0x5f3759df - (float_bits(v) >> 1);
    float r;
    std::memcpy(&r, &k, 4);
    return r;
  };
  for (int x = x0; x < W; ++x) {
    const float u = wl.x * a[x] + wl.y * a[W + x] + wl.z * a[W2 + x];
    const float v = wl.x * b[x] + wl.y * b[W + x] + wl.z * b[W2 + x];
    ya[x] = u;
    yb[x] = v;
    wa[x] = rs(u + y0);
    wb[x] = rs(v + y0);
  }
  const int h = W / 2;
  for (int i = x0 / 2; i < h; ++i) {
    const float q = 1.0f / ((wa[2 * i] + wa[2 * i + 1]) + (wb[2 * i] + wb[2 * i + 1]));
    wa[2 * i] *= q;
    wa[2 * i + 1] *= q;
    wb[2 * i] *= q;
    wb[2 * i + 1] *= q;
  }
  if (W & 1) {
    const float q = 1.0f / (wa[W - 1] + wb[W - 1]);
    wa[W - 1] *= q;
    wb[W - 1] *= q;
  }
}
// m[c][i]: the weighted mean (block_weights' normalised weights) of the 2x2 block i of
// rows a, b (planar, 3 channels W apart; m: n apart), the three channels in one loop (the
// weights loaded once: one channel a loop took ~1.4x the samples); an odd last column's
// block is its two pixels (write_block and pack_yuv420_pair replicate that column).
DTUTMO_HOT static void block_mean_row(const float* __restrict a, const float* __restrict b,
                                      const float* __restrict wa, const float* __restrict wb, float* __restrict m,
                                      int W, int n, int i0 = 0) {
  const int h = W / 2;
  const float* __restrict a0 = a;
  const float* __restrict a1 = a + W;
  const float* __restrict a2 = a + 2 * size_t(W);
  const float* __restrict b0 = b;
  const float* __restrict b1 = b + W;
  const float* __restrict b2 = b + 2 * size_t(W);
  float* __restrict m0 = m;
  float* __restrict m1 = m + n;
  float* __restrict m2 = m + 2 * size_t(n);
  for (int i = i0; i < h; ++i) {
    const float p = wa[2 * i], q = wa[2 * i + 1], r = wb[2 * i], t = wb[2 * i + 1];
    m0[i] = (p * a0[2 * i] + q * a0[2 * i + 1]) + (r * b0[2 * i] + t * b0[2 * i + 1]);
    m1[i] = (p * a1[2 * i] + q * a1[2 * i + 1]) + (r * b1[2 * i] + t * b1[2 * i + 1]);
    m2[i] = (p * a2[2 * i] + q * a2[2 * i + 1]) + (r * b2[2 * i] + t * b2[2 * i + 1]);
  }
  if (W & 1) {
    m0[h] = wa[W - 1] * a0[W - 1] + wb[W - 1] * b0[W - 1];
    m1[h] = wa[W - 1] * a1[W - 1] + wb[W - 1] * b1[W - 1];
    m2[h] = wa[W - 1] * a2[W - 1] + wb[W - 1] * b2[W - 1];
  }
}
// The same on interleaved RGB rows (m: interleaved, (W + 1) / 2 pixels).
DTUTMO_HOT static void block_mean_rgb(const float* __restrict a, const float* __restrict b,
                                      const float* __restrict wa, const float* __restrict wb, float* __restrict m,
                                      int W, int i0 = 0) {
  const int h = W / 2;
  for (int i = i0; i < h; ++i)
    for (int c = 0; c < 3; ++c)
      m[3 * i + c] = (wa[2 * i] * a[6 * i + c] + wa[2 * i + 1] * a[6 * i + 3 + c]) +
                     (wb[2 * i] * b[6 * i + c] + wb[2 * i + 1] * b[6 * i + 3 + c]);
  if (W & 1)
    for (int c = 0; c < 3; ++c) m[3 * h + c] = wa[W - 1] * a[3 * (W - 1) + c] + wb[W - 1] * b[3 * (W - 1) + c];
}
// The plain mean (the rod weight; a row given for both with f = 1/2: the other row 0).
DTUTMO_HOT static void block_mean_plain(const float* __restrict a, const float* __restrict b, float* __restrict m,
                                        int W, float f) {
  const int h = W / 2;
  const float q = 0.25f * f;
  for (int i = 0; i < h; ++i) m[i] = q * ((a[2 * i] + a[2 * i + 1]) + (b[2 * i] + b[2 * i + 1]));
  if (W & 1) m[h] = 2.0f * q * (a[W - 1] + b[W - 1]);
}
// yk[i]: block i's display luminance (l: planar display LMS, n apart)
DTUTMO_HOT static void block_y(const float* __restrict l0, const float* __restrict l1, const float* __restrict l2,
                               Vec3 wl, int n, float* __restrict yk, int i0 = 0) {
  for (int i = i0; i < n; ++i) yk[i] = wl.x * l0[i] + wl.y * l1[i] + wl.z * l2[i];
}
#if defined(__x86_64__) || defined(__i386__)
// block_weights, block_mean_row on the display LMS (a, b) and on the input LMS (ia, ib),
// and block_y, fused: one pass over the pair's rows, 8 blocks (16 pixels) a step, the
// same operations in the same order (the same bits; fma where GCC contracts the scalar
// loops). The weights stay in registers (the scalar path stores them, and de-interleaves
// them again in each of its two mean passes: GCC's de-interleave at stride 2 took two
// vpermd and a blend per vector). Here vshufps 0x88 / 0xDD split a pair of vectors into
// their even and odd columns in the lanes' order (blocks 0 1 4 5 2 3 6 7), the same for
// weights and values; each result vector back to block order by one vpermpd. Blocks
// [0, 8 nf); the rest by the scalar functions. Out: ya, yb (W each), m (display, 3 x n),
// mi (input, 3 x n), yk (n).
#define DTUTMO_AVX2_INL __attribute__((target("avx2,fma"), always_inline)) static inline
// wl . lms as block_weights' and block_y's loops: wl.z c + (wl.x a + wl.y b)
DTUTMO_AVX2_INL __m256 bm_lum(__m256 vx, __m256 vy, __m256 vz, __m256 c0, __m256 c1, __m256 c2) {
  return _mm256_fmadd_ps(vz, c2, _mm256_fmadd_ps(vx, c0, _mm256_mul_ps(vy, c1)));
}
// the even and the odd columns of lo, hi (blocks 0 1 4 5 2 3 6 7)
DTUTMO_AVX2_INL __m256 bm_ev(__m256 lo, __m256 hi) { return _mm256_shuffle_ps(lo, hi, 0x88); }
DTUTMO_AVX2_INL __m256 bm_od(__m256 lo, __m256 hi) { return _mm256_shuffle_ps(lo, hi, 0xDD); }
// blocks 0 1 4 5 2 3 6 7 -> 0 .. 7
DTUTMO_AVX2_INL __m256 bm_fix(__m256 v) {
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xD8));
}
// block_mean_row's (p a_e + q a_o) + (r b_e + t b_o) as GCC contracts it, 8 blocks
DTUTMO_AVX2_INL __m256 bm_mean(const float* pa, const float* pb, __m256 p, __m256 q, __m256 r, __m256 t) {
  const __m256 a0 = _mm256_loadu_ps(pa), a1 = _mm256_loadu_ps(pa + 8);
  const __m256 b0 = _mm256_loadu_ps(pb), b1 = _mm256_loadu_ps(pb + 8);
  return _mm256_add_ps(_mm256_fmadd_ps(p, bm_ev(a0, a1), _mm256_mul_ps(q, bm_od(a0, a1))),
                       _mm256_fmadd_ps(r, bm_ev(b0, b1), _mm256_mul_ps(t, bm_od(b0, b1))));
}
// block_weights' 1 / sqrt(u + y0) by the bits, unnormalised
DTUTMO_AVX2_INL __m256 bm_rs(__m256 u, __m256 v0) {
  const __m256i k = _mm256_srai_epi32(_mm256_castps_si256(_mm256_add_ps(u, v0)), 1);
  return _mm256_castsi256_ps(_mm256_sub_epi32(_mm256_set1_epi32(0x5f3759df), k));
}
// block_mean_rgb's means of 2 blocks (128-bit lanes: the block's r g b and a lane of
// garbage; pr, pa: its even pixel in rows a, b; P Q R T its weights in each lane)
DTUTMO_AVX2_INL __m256 bm_two(const float* v) {  // v[0..3] | v[6..9]
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(v)), _mm_loadu_ps(v + 6), 1);
}
// the odd pixel's r g b from v[2..5] (b_e r_o g_o b_o: no read past the pair's 6 floats)
DTUTMO_AVX2_INL __m256 bm_odd(const float* v) { return _mm256_permute_ps(bm_two(v + 2), 0xF9); }
DTUTMO_AVX2_INL __m256 bm_rgb2(const float* pa, const float* pb, __m256 p, __m256 q, __m256 r, __m256 t) {
  return _mm256_add_ps(_mm256_fmadd_ps(p, bm_two(pa), _mm256_mul_ps(q, bm_odd(pa))),
                       _mm256_fmadd_ps(r, bm_two(pb), _mm256_mul_ps(t, bm_odd(pb))));
}
template <bool RGB>
__attribute__((target("avx2,fma"))) static void block_means_avx2(
    int nf, const float* __restrict a, const float* __restrict b, const float* __restrict ia,
    const float* __restrict ib, int W, int n, Vec3 wl, float y0, float* __restrict ya, float* __restrict yb,
    float* __restrict m, float* __restrict mi, float* __restrict yk) {
  const size_t W2 = 2 * size_t(W), n2 = 2 * size_t(n);
  const __m256 vx = _mm256_set1_ps(wl.x), vy = _mm256_set1_ps(wl.y), vz = _mm256_set1_ps(wl.z);
  const __m256 v0 = _mm256_set1_ps(y0), one = _mm256_set1_ps(1.0f);
  for (int j = 0; j < nf; ++j) {
    const int x = 16 * j, i = 8 * j;
    const __m256 ua = bm_lum(vx, vy, vz, _mm256_loadu_ps(a + x), _mm256_loadu_ps(a + W + x), _mm256_loadu_ps(a + W2 + x));
    const __m256 ua1 = bm_lum(vx, vy, vz, _mm256_loadu_ps(a + x + 8), _mm256_loadu_ps(a + W + x + 8),
                              _mm256_loadu_ps(a + W2 + x + 8));
    const __m256 ub = bm_lum(vx, vy, vz, _mm256_loadu_ps(b + x), _mm256_loadu_ps(b + W + x), _mm256_loadu_ps(b + W2 + x));
    const __m256 ub1 = bm_lum(vx, vy, vz, _mm256_loadu_ps(b + x + 8), _mm256_loadu_ps(b + W + x + 8),
                              _mm256_loadu_ps(b + W2 + x + 8));
    _mm256_storeu_ps(ya + x, ua);
    _mm256_storeu_ps(ya + x + 8, ua1);
    _mm256_storeu_ps(yb + x, ub);
    _mm256_storeu_ps(yb + x + 8, ub1);
    const __m256 wa = bm_rs(ua, v0), wa1 = bm_rs(ua1, v0), wb = bm_rs(ub, v0), wb1 = bm_rs(ub1, v0);
    __m256 p = bm_ev(wa, wa1), q = bm_od(wa, wa1), r = bm_ev(wb, wb1), t = bm_od(wb, wb1);
    const __m256 s = _mm256_div_ps(one, _mm256_add_ps(_mm256_add_ps(p, q), _mm256_add_ps(r, t)));
    p = _mm256_mul_ps(p, s);
    q = _mm256_mul_ps(q, s);
    r = _mm256_mul_ps(r, s);
    t = _mm256_mul_ps(t, s);
    const __m256 m0 = bm_mean(a + x, b + x, p, q, r, t);
    const __m256 m1 = bm_mean(a + W + x, b + W + x, p, q, r, t);
    const __m256 m2 = bm_mean(a + W2 + x, b + W2 + x, p, q, r, t);
    _mm256_storeu_ps(m + i, bm_fix(m0));
    _mm256_storeu_ps(m + n + i, bm_fix(m1));
    _mm256_storeu_ps(m + n2 + i, bm_fix(m2));
    _mm256_storeu_ps(yk + i, bm_fix(bm_lum(vx, vy, vz, m0, m1, m2)));
    if (!RGB) {
      _mm256_storeu_ps(mi + i, bm_fix(bm_mean(ia + x, ib + x, p, q, r, t)));
      _mm256_storeu_ps(mi + n + i, bm_fix(bm_mean(ia + W + x, ib + W + x, p, q, r, t)));
      _mm256_storeu_ps(mi + n2 + i, bm_fix(bm_mean(ia + W2 + x, ib + W2 + x, p, q, r, t)));
    } else {
      // interleaved rows ia, ib, m: blocks 2u, 2u + 1 a register, each weight spread to
      // its block's lane by one vpermps (p .. t in the order 0 1 4 5 2 3 6 7); 4 floats a
      // block stored, the fourth overwritten by the next block's (the caller leaves the
      // last block of the row to the scalar path)
      alignas(32) static const int kPos[4][8] = {
          {0, 0, 0, 0, 1, 1, 1, 1}, {4, 4, 4, 4, 5, 5, 5, 5}, {2, 2, 2, 2, 3, 3, 3, 3}, {6, 6, 6, 6, 7, 7, 7, 7}};
      for (int u = 0; u < 4; ++u) {
        const __m256i k = _mm256_load_si256(reinterpret_cast<const __m256i*>(kPos[u]));
        const size_t f = 3 * size_t(x + 4 * u);
        const __m256 v = bm_rgb2(ia + f, ib + f, _mm256_permutevar8x32_ps(p, k), _mm256_permutevar8x32_ps(q, k),
                                 _mm256_permutevar8x32_ps(r, k), _mm256_permutevar8x32_ps(t, k));
        float* o = mi + 3 * size_t(i + 2 * u);
        _mm_storeu_ps(o, _mm256_castps256_ps128(v));
        _mm_storeu_ps(o + 3, _mm256_extractf128_ps(v, 1));
      }
    }
  }
}
#undef DTUTMO_AVX2_INL
#endif
// Blocks [i0, i1) of one row's output (planar r, g, b, W apart from o) from the block
// colours c (planar, n apart) and iy, scaled by the pixels' display luminance yl;
// returns the pixels above the peak (brighter than their block: the
// block's colour is in gamut, so only the peak can be crossed), found as y mq > peak with
// mq = max(c) iy per block (one compare a pixel: out_of_gamut's six took ~1/4 of the
// loop). Two pixels per block in the loop body (x >> 1 as an index left the loop scalar).
static inline __attribute__((always_inline)) int scale_blocks(
    int i0, int i1, const float* __restrict yl, const float* __restrict c0, const float* __restrict c1,
    const float* __restrict c2, const float* __restrict iy, const float* __restrict mq, float peak,
    float* __restrict r, float* __restrict g, float* __restrict b) {
  int out = 0;
  for (int i = i0; i < i1; ++i) {
    for (int k = 0; k < 2; ++k) {
      const int x = 2 * i + k;
      const float y = yl[x];
      const float q = y * iy[i];
      r[x] = c0[i] * q;
      g[x] = c1[i] * q;
      b[x] = c2[i] * q;
      out += y * mq[i] > peak ? 1 : 0;
    }
  }
  return out;
}
// iy[i] = 1 / yk[i], 0 for none, and mq[i] = max(c0, c1, c2)[i] iy[i] (scale_blocks' test)
DTUTMO_HOT static void block_max_iy(const float* __restrict c0, const float* __restrict c1,
                                    const float* __restrict c2, const float* __restrict yk, int n,
                                    float* __restrict iy, float* __restrict mq) {
  for (int i = 0; i < n; ++i) {
    const float y = yk[i];
    iy[i] = y > 0.0f ? 1.0f / y : 0.0f;
    mq[i] = std::max(c0[i], std::max(c1[i], c2[i])) * iy[i];
  }
}
// Chunk j (kChunk blocks, 2 kChunk pixels, from block kChunk j; j = (W / 2) / kChunk: the
// last, partial one, with an odd last column's block of one column) of one row of the pair: its pixels (luminance yl)
// from the block colours (c: planar, n = (W + 1) / 2 apart), then the gamut map per pixel
// if one is above the peak (brighter than its block, whose colour was mapped), as
// row_colour maps. Returns the chunk's end column.
template <int kChunk>
static inline __attribute__((always_inline)) int scale_chunk(int W, const ColourConsts& cc,
                                                             const float* __restrict yl, const float* __restrict c,
                                                             const float* __restrict iy, const float* __restrict mq,
                                                             float* __restrict o, bool gmap, int j) {
  const int n = (W + 1) / 2, h = W / 2, nf = h / kChunk;
  const size_t W2 = 2 * size_t(W);
  const float* c0 = c;
  const float* c1 = c + n;
  const float* c2 = c + 2 * size_t(n);
  if (j < nf) {
    const int i0 = j * kChunk;
    const int m = scale_blocks(i0, i0 + kChunk, yl, c0, c1, c2, iy, mq, cc.peak, o, o + W, o + W2);
    if (m && gmap) gmap_rows(cc, 2 * i0, 2 * i0 + 2 * kChunk, o, o + W, o + W2);
    return 2 * (i0 + kChunk);
  }
  int m = scale_blocks(nf * kChunk, h, yl, c0, c1, c2, iy, mq, cc.peak, o, o + W, o + W2);
  if (W & 1) {  // the odd last column: a block of one column
    const float q = yl[W - 1] * iy[h];
    const Vec3 v = {c0[h] * q, c1[h] * q, c2[h] * q};
    o[W - 1] = v.x;
    o[W + W - 1] = v.y;
    o[W2 + W - 1] = v.z;
    m += out_of_gamut(v, cc.peak);
  }
  if (m && gmap) gmap_rows(cc, 2 * nf * kChunk, W, o, o + W, o + W2);
  return W;
}
// One row of the pair by chunks (scale_chunk). (The count per row, then the chunks' test
// again on rows with any: most rows of bright content have one, and scale_row's samples
// rose 261 -> 393 on the 1080p clip, fast.)
DTUTMO_HOT __attribute__((optimize("no-thread-jumps"))) static void scale_row(
    int W, const ColourConsts& cc_, const float* __restrict yl, const float* __restrict c,
    const float* __restrict iy, const float* __restrict mq, float* __restrict o, bool gmap) {
  const ColourConsts cc = cc_;
  constexpr int kChunk = 8;  // blocks (16 pixels, row_colour's chunk)
  const int nf = W / 2 / kChunk;
  for (int j = 0; j <= nf; ++j) scale_chunk<kChunk>(W, cc, yl, c, iy, mq, o, gmap, j);
}

// The block factorisation's per-block terms (BT.1886 output, F(v) = v^(1/2.4), so F(a b) =
// F(a) F(b); colour_pair). Each pixel p of block i is the block's light above the display
// black scaled to the pixel's, o_c(p) = black + q (bo_c - black), q = (y_p - black) / (y_i
// - black) (the same luminance y_p as the ratio y_p / y_i of scale_blocks), so its code is
// F(q r_c) = F(q m) F(r_c / m), r_c = (bo_c - black) / range, m = max_c r_c: ONE table
// lookup a pixel, F((y_p - black) sb_i) with sb_i = m / (y_i - black), times the block's
// F(t_c), t_c = r_c / m (1 for the largest channel, <= 0 below black: F = 0). Out: t (3 x
// n, planar: the other two channels' t_c, then the largest one's index; encode_pair looks
// up the two, block_gains makes the three), sb. sb_i = NaN (the chunk then takes the block's
// own path: colour_pair) where q has no meaning (y_i <= black), the block is above the
// peak (m > 1: without the gamut map) or the neutral-black scaling would move a channel
// from scale_blocks' o_c = (y_p / y_i) bo_c by more than kNeutralBlack |1 - y_p / y_i| of
// the range: the two differ by (1 - y_p / y_i) (black / range) (bo_c - y_i) / (y_i -
// black), which is large for saturated colours near black. (Without that bound the
// texture of test_engine ColourSampling.ShownPictureIsNoFurtherFromThePerPixelColour,
// saturated, 1 .. 3000 cd/m^2, showed a mean error 3 % above today's, fast 5.61 against
// 5.43: the model's per-pixel colours are not its block's light above black scaled;
// docs/DESIGN.md "The 4:2:0 block path's encode by factorisation (issue 10, enc12)".)
constexpr float kNeutralBlack = 1e-3f;
DTUTMO_HOT static void block_factors(const float* __restrict bo, const float* __restrict yk, int n, float black,
                                     float ir, float* __restrict t, float* __restrict sb) {
  const float* __restrict b0 = bo;
  const float* __restrict b1 = bo + n;
  const float* __restrict b2 = bo + 2 * size_t(n);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float bk = black * ir;  // black / range
  for (int i = 0; i < n; ++i) {
    const float c0 = b0[i] - black, c1 = b1[i] - black, c2 = b2[i] - black;
    const float mx = std::max(c0, std::max(c1, c2));
    const float m = mx * ir;
    const float q = m > 0.0f ? 1.0f / mx : 0.0f;
    // the two channels other than the largest (whose t is 1: no lookup), and which it is
    const bool k0 = c0 >= c1 && c0 >= c2, k2 = !k0 && c2 > c1;
    t[i] = (k0 ? c1 : c0) * q;
    t[n + i] = (k2 ? c1 : c2) * q;
    t[2 * size_t(n) + i] = k0 ? 0.0f : k2 ? 2.0f : 1.0f;
    const float y = yk[i], d = y - black;
    const float dev = std::max(std::fabs(b0[i] - y), std::max(std::fabs(b1[i] - y), std::fabs(b2[i] - y)));
    sb[i] = d > 0.0f && m <= 1.0f && bk * dev <= kNeutralBlack * d ? m / d : nan;
  }
}
// t (block_factors' two channels' codes, F(t), and the largest channel's index) -> the
// three channels' F(t_c), planar, in place
DTUTMO_HOT static void block_gains(float* __restrict t, int n) {
  float* __restrict t0 = t;
  float* __restrict t1 = t + n;
  float* __restrict t2 = t + 2 * size_t(n);
  for (int i = 0; i < n; ++i) {
    const float fa = t0[i], fb = t1[i], k = t2[i];
    t0[i] = k == 0.0f ? 1.0f : fa;
    t1[i] = k == 1.0f ? 1.0f : k == 0.0f ? fa : fb;
    t2[i] = k == 2.0f ? 1.0f : fb;
  }
}

// colour_pair's block means of a row pair (display LMS la, lb; input LMS ia, ib or, where
// null, the interleaved input RGB ra, rb): bl (3 x n), bi (3 x n, or interleaved RGB), yk
// (n), the pixels' luminance ya, yb, and (where the scalar path ran) their normalised
// weights wa, wb. simd: block_means_avx2 where the CPU has AVX2 (the tests compare it with
// simd false, the scalar functions alone).
void CpuEngine::block_means(int W, const float* la, const float* lb, const float* ia, const float* ib,
                            const float* ra, const float* rb, Vec3 wl, float y0, float* bl, float* bi, float* yk,
                            float* ya, float* yb, float* wa, float* wb, bool simd) {
  const int n = (W + 1) / 2;
  const bool lms = ia && ib;
  int i0 = 0;  // blocks done by block_means_avx2
#if defined(__x86_64__) || defined(__i386__)
  if (simd && have_avx2()) {
    if (lms) {
      i0 = 8 * (W / 16);
      block_means_avx2<false>(W / 16, la, lb, ia, ib, W, n, wl, y0, ya, yb, bl, bi, yk);
    } else {  // the last block by the scalar path (the interleaved stores' fourth float)
      const int nf = std::min(W / 16, (n - 1) / 8);
      i0 = 8 * nf;
      block_means_avx2<true>(nf, la, lb, ra, rb, W, n, wl, y0, ya, yb, bl, bi, yk);
    }
  }
#else
  (void)simd;
#endif
  block_weights(la, lb, W, wl, y0, wa, wb, ya, yb, 2 * i0);
  block_mean_row(la, lb, wa, wb, bl, W, n, i0);
  if (lms) block_mean_row(ia, ib, wa, wb, bi, W, n, i0);
  else block_mean_rgb(ra, rb, wa, wb, bi, W, i0);  // interleaved (colour_rows' rgb)
  block_y(bl, bl + n, bl + 2 * size_t(n), wl, n, yk, i0);
}

// Rows y (even) and y + 1 of a 4:2:0 output (display LMS la, lb; input LMS ia, ib, or
// null: lin_'s rows through the matrix; rod weights rwa, rwb, or null for none; all planar,
// W apart) into the output rows oa, ob (planar R', G', B', encoded): the block means
// (s.blk), their colour (colour_rows, (W + 1) / 2 wide), each pixel at its own luminance,
// encoded (encode_pair); with kc (a BT.1886 4:2:0 output, AVX2: colour_band decides) the
// pair's codes straight into *out (encode_pack_pair): returns whether it packed them.
DTUTMO_HOT bool CpuEngine::colour_pair(int y, const float* __restrict la, const float* __restrict ia,
                                       const float* __restrict rwa, const float* __restrict lb,
                                       const float* __restrict ib, const float* __restrict rwb,
                                       float* __restrict oa, float* __restrict ob, Scratch& s,
                                       const FrameView* out, const Yuv420Codes* kc) const {
  const int W = W_, n = (W + 1) / 2;
  float* __restrict bl = s.blk.data();        // block display LMS (3 x n)
  float* __restrict bi = bl + 3 * size_t(n);  // block input LMS (3 x n) or RGB (interleaved)
  float* __restrict bo = bi + 3 * size_t(n);  // block output linear RGB (3 x n)
  float* __restrict gt = bo + 3 * size_t(n);  // colour_rows' scratch (4 x n)
  float* __restrict yk = gt + 4 * size_t(n);  // block luminance (n)
  float* __restrict rw = yk + n;              // block rod weight (n)
  float* __restrict wa = rw + n;              // the pixels' weights, rows y, y + 1 (W each)
  float* __restrict wb = wa + W;
  float* __restrict ya = wb + W;              // the pixels' display luminance (W each)
  float* __restrict yb = ya + W;
  const ColourConsts cc = frame_colour_consts();
  const bool lms = ia && ib;
  const float* r0 = lin_.data() + size_t(y) * W * 3;  // the input RGB rows (without ia, ib)
  block_means(W, la, lb, ia, ib, r0, r0 + size_t(W) * 3, cc.wl, 1e-3f * K_.peak, bl, bi, yk, ya, yb, wa, wb,
              true);
  const bool rods = rwa || rwb;
  if (rods) block_mean_plain(rwa ? rwa : rwb, rwb ? rwb : rwa, rw, W, rwa && rwb ? 1.0f : 0.5f);
  colour_rows(n, bl, lms ? bi : nullptr, lms ? nullptr : bi, rw, rods, gt, bo);
  if (kc) {  // bl, gt: free now
    encode_pack_pair(y, W, cc, bo, yk, ya, yb, oa, ob, bl, gt, bi, *out, *kc);  // bi: free too
    return true;
  }
  encode_pair(W, cc, bo, yk, ya, yb, oa, ob, bl, gt);
  return false;
}

// The rows of chunk j (16 pixels) marked in rows (bit 0: ya's, bit 1: yb's) by the
// block's own path: each pixel its block's colour times y_p / y_i (scale_chunk, iy and mq
// block_max_iy's for the chunk's blocks), then the three lookups (encode_span), into oa,
// ob (encode_pair's and encode_pack_pair's chunks the factorisation leaves). Inline: into
// each caller's target clone.
inline __attribute__((always_inline)) void CpuEngine::redo_chunk_rows(
    int W, const ColourConsts& cc, const float* __restrict bo, const float* __restrict iy,
    const float* __restrict mq, const float* __restrict ya, const float* __restrict yb, float* __restrict oa,
    float* __restrict ob, int j, int rows) const {
  for (int k = 0; k < 2; ++k) {
    if (!(rows & (1 << k))) continue;
    float* o = k ? ob : oa;
    const int x1 = scale_chunk<8>(W, cc, k ? yb : ya, bo, iy, mq, o, P_.gamut_map, j);
    encode_span(o, W, 16 * j, x1);
  }
}

// The pixels of a 4:2:0 row pair from their blocks' colours: bo, the blocks' output linear
// RGB (planar, n = (W + 1) / 2 apart), yk their display luminance, ya, yb the pixels' (W
// each), into oa, ob (planar R', G', B', encoded, W apart); cc: colour_pair's. BT.1886 by the factorisation
// (block_factors; one lookup a pixel), the chunks it leaves and other transfers: each
// pixel its block's colour times y_p / y_i (scale_row), then encode_row. t: 3 n floats
// of scratch, s: 4 n.
DTUTMO_HOT void CpuEngine::encode_pair(int W, const ColourConsts& cc, const float* __restrict bo,
                                       const float* __restrict yk,
                                       const float* __restrict ya, const float* __restrict yb, float* __restrict oa,
                                       float* __restrict ob, float* __restrict t, float* __restrict s) const {
  const int n = (W + 1) / 2;
  float* __restrict iy = s;       // 1 / block luminance (n)
  float* __restrict mq = s + n;   // max(block RGB) / block luminance (scale_blocks' test, n)
  float* __restrict sb = mq + n;  // (n)
  float* __restrict list = sb + n;  // the chunks left (W / 16 + 1 <= n)
  block_max_iy(bo, bo + n, bo + 2 * size_t(n), yk, n, iy, mq);
  if (C_.out.transfer == Transfer::BT1886) {
    // the block factorisation: t = r_c / m per block (block_factors), then their codes;
    // the chunks with a pixel above the peak or of a block left out by the block's own
    // path (scale_chunk, as below) and the three lookups
    block_factors(bo, yk, n, K_.black, encode_inv_range(K_.peak, K_.black), t, sb);
    encode_rel(t, 2 * n);
    block_gains(t, n);
    const int nl = encode_scaled_pair(ya, yb, W, sb, t, oa, ob, list);
    for (int i = 0; i < nl; ++i) {
      const int e = int(list[i]);  // the chunk's column, its rows in the low bits
      redo_chunk_rows(W, cc, bo, iy, mq, ya, yb, oa, ob, e >> 4, e & 3);
    }
    return;
  }
  scale_row(W, cc, ya, bo, iy, mq, oa, P_.gamut_map);
  scale_row(W, cc, yb, bo, iy, mq, ob, P_.gamut_map);
  encode_row(oa, W, out_420_);
  encode_row(ob, W, out_420_);
}

// encode_pair's factorisation (BT.1886) with the codes made in the loop that looks the
// pixels up (encode_codes_pair: Y' per pixel from its lookup and its block's factors, Cb,
// Cr per block), written into out: no R'G'B' rows for the packer to read back. The chunks
// the factorisation leaves (encode_pair's list): their R'G'B' into oa, ob as encode_pair
// makes them (encode_scaled_chunk; scale_chunk and the three lookups on a row redone),
// then their codes as the packer's (encode_codes_rgb); the last, partial chunk of a width
// not a multiple of 16 the same, packed by pack_pair_span. gc: 3 n floats of scratch.
DTUTMO_HOT void CpuEngine::encode_pack_pair(int y, int W, const ColourConsts& cc, const float* __restrict bo,
                                            const float* __restrict yk, const float* __restrict ya,
                                            const float* __restrict yb, float* __restrict oa,
                                            float* __restrict ob, float* __restrict t, float* __restrict s,
                                            float* __restrict gc, const FrameView& out,
                                            const Yuv420Codes& kc) const {
  const int n = (W + 1) / 2, nf = (W / 2) / 8;
  float* __restrict iy = s;
  float* __restrict mq = s + n;
  float* __restrict sb = mq + n;
  float* __restrict list = sb + n;
  block_factors(bo, yk, n, K_.black, encode_inv_range(K_.peak, K_.black), t, sb);
  const PairCodes pc = pair_codes(out, kc, y);  // t: the three factors after this (block_gains)
  const int nl = encode_codes_pair(ya, yb, W, sb, t, gc, kc, pc, list);
  // chunk j; known: its rows to redo where known (encode_codes_pair's list), else 0
  auto redo = [&](int j, int known) __attribute__((always_inline)) {
    // both rows redone: no factorised R'G'B' needed (encode_scaled_chunk's would all be
    // overwritten)
    const int rows = known == 3 ? 3 : encode_scaled_chunk(ya, yb, W, sb, t, j, oa, ob);
    if (rows) {  // scale_chunk's iy, mq of the chunk's blocks only (encode_pair: the row's)
      const int i0 = 8 * j, m = std::min(n, i0 + 8) - i0;
      block_max_iy(bo + i0, bo + n + i0, bo + 2 * size_t(n) + i0, yk + i0, m, iy + i0, mq + i0);
    }
    redo_chunk_rows(W, cc, bo, iy, mq, ya, yb, oa, ob, j, rows);
  };
  for (int i = 0; i < nl; ++i) {
    const int e = int(list[i]), x0 = e & ~15;
    redo(x0 / 16, e & 3);
    encode_codes_rgb(oa, ob, W, x0, kc, pc);
  }
  if (16 * nf < W) {
    redo(nf, 0);
    pack_pair_span(oa, std::ptrdiff_t(3) * W, W, out, C_.out, y, 16 * nf, W, P_.dither);
  }
}

// A band's rows y0 .. y1 of pass 2 after their lookup and tone: lum_row(y) makes row y's
// display luminance per class (s.resp's second half) and returns its input LMS (planar 3 x
// W) or null (the colour then takes lin_'s row through the matrix); then the colour and
// encode into s.out per row (row_colour) or, for a 4:2:0 output with colour-sampling auto,
// per row pair y (even), y + 1 per 2x2 block (colour_pair; the output's chroma rows): row
// y's rows (luminance, input LMS, rod weight) swapped out of the way (the pointers stay
// valid: std::swap exchanges the buffers), row y + 1 made as row y was; then the band
// packed into out (pack_rows_planar).
template <class LumRow>
void CpuEngine::colour_band(const FrameView& out, int y0, int y1, Scratch& s, LumRow&& lum_row) {
  const int W = W_;
  const bool blk = out_420_ && P_.colour_sampling == ColourSampling::Auto;
  // the block path's codes straight into out (encode_pack_pair): BT.1886, AVX2
  Yuv420Codes kc;
  const bool codes = blk && C_.out.transfer == Transfer::BT1886 && pack_codes_ && have_avx2() &&
                     yuv420_codes(out, C_.out, P_.dither, &kc);
  int bk = 0, pk = 0, yp = y0;  // rows [yp, y) not packed yet
  auto pack = [&](int ya, int yb) {
    if (ya < yb)
      pack_rows_planar(s.out.data() + size_t(ya - y0) * W * 3, std::ptrdiff_t(W) * 3, W, out, C_.out, ya, yb,
                       P_.dither, s.conv.data(), out_420_);
  };
  for (int y = y0; y < y1; ++y) {
    float* o = s.out.data() + size_t(y - y0) * W * 3;
    const float* li = lum_row(y);
    if (blk && !(y & 1) && y + 1 < y1) {
      const float* la = s.resp.data() + 3 * size_t(W);
      const float* rwa = s.rods ? s.ad.data() + size_t(kChW) * W : nullptr;
      std::swap(s.ad, s.ad2);
      std::swap(s.resp, s.resp2);
      std::swap(s.lms, s.lms2);
      const float* lib = lum_row(y + 1);
      if (colour_pair(y, la, li, rwa, s.resp.data() + 3 * size_t(W), lib,
                      s.rods ? s.ad.data() + size_t(kChW) * W : nullptr, o, o + 3 * size_t(W), s, &out,
                      codes ? &kc : nullptr)) {
        pack(yp, y);  // the rows before, then past the pair
        yp = y + 2;
        pk += 2;
      }
      bk += 2;
      ++y;
      continue;
    }
    row_colour(y, o, s, li);
  }
  if (bk) blk_rows_n_.fetch_add(bk, std::memory_order_relaxed);
  if (pk) pack_rows_n_.fetch_add(pk, std::memory_order_relaxed);
  pack(yp, y1);
}

// ---------------------------------------------------------------- pass 2
// f[j] = whether chunk j (kRodChunk columns) of the rod weight row rw (n columns) has a
// weight != 0 (NaN included): an or of the bits without the sign, vectorised, full chunks
// with their trip count known. Instructions (callgrind, the clip's first 6 frames, fast:
// rod rows nearly everywhere): an or of compares in pass 2's lambda (scalar) 30.5 M, a
// count of the compares per chunk 10.9 M, the bits' or with the chunk's length a variable
// 12.2 M, this 5.2 M.
DTUTMO_HOT static void rod_chunks(const float* __restrict rw, int n, unsigned char* __restrict f) {
  auto any = [&](const float* __restrict v, int e) __attribute__((always_inline)) {
    uint32_t u = 0;
    for (int i = 0; i < e; ++i) {
      uint32_t b;
      std::memcpy(&b, v + i, 4);
      u |= b << 1;
    }
    return u != 0;
  };
  const int nf = n / kRodChunk;
  for (int j = 0; j < nf; ++j) f[j] = any(rw + size_t(j) * kRodChunk, kRodChunk);
  if (nf * kRodChunk < n) f[nf] = any(rw + size_t(nf) * kRodChunk, n - nf * kRodChunk);
}

RowPrefetch CpuEngine::next_row(int y, int y1, bool band) const {
  RowPrefetch p;
  if (y + 1 >= y1) return p;
  const size_t n = size_t(y + 1) * W_;
  p.add(lin_.data() + 3 * n, 3);
  p.add(logy_.data() + n, 1);
  if (band && csf_active_) {
    p.add(resp_.data() + 3 * n, 3);
    if (P_.base_detail && bgrid_ready_) p.add(base_.data() + n, 1);
  }
  return p;
}

void CpuEngine::pass2(const FrameView& out) {
  const int W = W_;
  const int cell = cell_, nb = (H_ + cell - 1) / cell;
  if (csf_active_) {
    // by bands (rows of a band on one thread: the next row's lines prefetched across the
    // opponent loop, next_row)
    pool_.run(nb, [&](int b, int th) {
      const int y0 = b * cell, y1 = std::min(H_, y0 + cell);
      for (int y = y0; y < y1; ++y) {
        float* r = resp_.data() + size_t(y) * W * 3;
        row_responses(y, r, scr_[th]);
        csf_opponent_row(r, W, next_row(y, y1, false));  // csf_filter's level 0 (cpu_csf.cpp)
      }
    });
    tl_.mark("p2.csf.resp");
    csf_filter(reference_);
    tl_.mark("p2.csf.filter");
  }
  if (reference_) {
    pool_.run(nb, [&](int b, int) { pass2_band_reference(out, b * cell, std::min(H_, b * cell + cell)); });
    return;
  }
  if (csf_active_) {
    pool_.run(nb, [&](int b, int th) {
      Scratch& s = scr_[th];
      const int y0 = b * cell, y1 = std::min(H_, y0 + cell);
      const bool bd = P_.base_detail && bgrid_ready_;
      // row_lum (the base rows were sliced by the responses pass above); no input LMS
      colour_band(out, y0, y1, s, [&](int y) -> const float* {
        s.pf = next_row(y, y1, true);
        interp_row(y, s, (bd ? base_.data() : logy_.data()) + size_t(y) * W);
        csf_row(y, s, s.rsp.data());  // the filtered responses (s.row: scratch till row_lum)
        row_lum(y, s.rsp.data(), s);
        return nullptr;
      });
    });
    return;
  }
  pool_.run(nb, [&](int b, int th) {
    Scratch& s = scr_[th];
    const int y0 = b * cell, y1 = std::min(H_, y0 + cell);
    int tr = 0, rr = 0, rc = 0;
    const bool bd = P_.base_detail && bgrid_ready_;
    // Row y's display luminance per class into s.resp's second half (planar 3 x W);
    // returns its input LMS (planar 3 x W, for the colour's hue) or null (the colour then
    // takes lin_'s row through the matrix).
    auto lum_row = [&](int y) -> const float* {
      s.pf = next_row(y, y1, false);
      interp_row(y, s, bd ? base_row(y, s) : logy_.data() + size_t(y) * W);
      float* lum = s.resp.data() + 3 * size_t(W);
      if (tone_on_ && !s.rods) {  // photopic whiteboard row: the tone table
        // the input LMS into s.resp's first half (free on this path: no responses, no
        // row_lum), for row_colour's hue
        row_tone(y, lum, s, 0, W, s.resp.data());
        ++tr;
        return s.resp.data();
      }
      rr += s.rods;
      if (tone_on_) {
        // a row with rods: the tone table on the kRodChunk-column chunks that no rod
        // weight reaches (the lookup gives exactly 0 there), the responses and row_lum on
        // runs of the others. On the 1080p clip (fast) ~37 % of the rows have rods; one span
        // a row (first to last column with a weight) left 41 % of their columns to the tone,
        // and 21 % of the span's columns had no weight, 14 % in whole 64-column chunks.
        const float* __restrict rw = s.ad.data() + size_t(kChW) * W;
        // the input LMS of every column into s.lms (the tone's and the responses'
        // matrix), for row_colour's hue
        float* li = s.lms.data();
        unsigned char rch[DTUTMO_MAX_FRAME_SIDE / kRodChunk + 1];
        rod_chunks(rw, W, rch);
        int a = 0;
        bool rod = false;  // the current run: rods or tone
        for (int xc = 0;; xc += kRodChunk) {
          const bool end = xc >= W;
          const bool r = !end && rch[xc / kRodChunk];
          if (!end && (xc == 0 || r == rod)) {
            rod = r;
            continue;
          }
          const int b = std::min(xc, W);  // the run [a, b) ends
          if (rod) {
            row_responses(y, s.rsp.data(), s, false, a, b, li);
            row_lum(y, s.rsp.data(), s, a, b);
          } else {
            row_tone(y, lum, s, a, b, li);
            rc += b - a;
          }
          if (end) break;
          a = b;
          rod = r;
        }
        return li;
      }
      row_responses(y, s.rsp.data(), s, false);
      row_lum(y, s.rsp.data(), s);
      return nullptr;
    };
    colour_band(out, y0, y1, s, lum_row);
    if (tr) tone_rows_n_.fetch_add(tr, std::memory_order_relaxed);
    if (rr) rod_rows_n_.fetch_add(rr, std::memory_order_relaxed);
    if (rc) rod_cols_n_.fetch_add(rc, std::memory_order_relaxed);
  });
}

}  // namespace cpu
}  // namespace dtutmo
