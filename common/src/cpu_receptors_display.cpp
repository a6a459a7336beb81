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
#include <type_traits>

#include "cpu_simd.h"
#include "dtutmo/color.h"
#include "dtutmo/convert.h"
#include "dtutmo/display.h"
#include "dtutmo/dtucam.h"
#include "dtutmo/fastmath.h"
#include "dtutmo/gamut.h"
#include "dtutmo/receptors.h"
#include "engine_cpu.h"


namespace dtutmo {
namespace cpu {

void CpuEngine::frame_consts(float kc) {
  FrameConsts& K = K_;
  param_consts(K, P_, W_, H_, gw_, gh_);
  // display observer (and the rods' S odds factor)
  display_observer(K, display_peak_nits(P_), P_.display_adapt, int(P_.viewing), P_.fov_deg, W_, H_,
                   P_.observer_age);

  // --- percentiles of the achromatic response on a subsample (histogram) ---
  for (auto& h : hist_) std::fill(h.begin(), h.end(), 0u);
  const int ny = (H_ + kSub - 1) / kSub;
  const int step = W_ > kSub ? kSub : 1;
  const int nsub = step == 1 ? W_ : (W_ - step / 2 + step - 1) / step;
  const bool bdh = P_.base_detail && bgrid_ready_;
  pool_.run(ny, [&](int j, int th) {
    Scratch& s = scr_[th];
    const int y = std::min(H_ - 1, j * kSub + kSub / 2);
    interp_row(y, s);
    float* gsc = s.ad.data() + size_t(kAd) * W_;
    const float* ly = logy_.data() + size_t(y) * W_;
    for (int i = 0; i < nsub; ++i) {
      const int x = i * step + step / 2;
      gsc[x] = bdh ? fast_exp2(bgrid_.slice(float(x), float(y), ly[x]) - ly[x]) : 1.0f;
    }
    responses_core(nsub, step, lin_.data() + size_t(y) * W_ * 3, gsc, s.ad.data(), s.rsp.data(), W_);
    uint32_t* h = hist_[th].data();
    float* e = edge_.data() + size_t(j) * ew_;
    const float* r = s.rsp.data();
    for (int i = 0; i < ew_; ++i) {
      const int q = std::min(i, nsub - 1);
      const float ra = achromatic_response({r[q], r[nsub + q], r[2 * nsub + q]});
      e[i] = ra;
      if (i < nsub) h[std::min(kHistBins - 1, std::max(0, int(ra * kHistBins)))]++;
    }
  });
  std::vector<uint32_t>& h0 = hist_[0];
  for (size_t t = 1; t < hist_.size(); ++t)
    for (int i = 0; i < kHistBins; ++i) h0[i] += hist_[t][i];
  uint64_t tot = 0;
  for (int i = 0; i < kHistBins; ++i) tot += h0[i];
  // outlier rejection as in low_res: the median of the last three frames' percentiles
  update_pct(h_rlo_, h_rhi_, s_rlo_, s_rhi_, hist_percentile(h0.data(), tot, P_.pct_low),
             hist_percentile(h0.data(), tot, P_.pct_high), snapped_, kc);
  update_pct1(h_rmed_, s_rmed_, hist_percentile(h0.data(), tot, 50.0f), snapped_, kc);

  // --- normalisation: equivalent luminances of the percentiles (scene model at the
  // global adaptation), display targets by response matching (DESIGN.md section 10),
  // per-class gains, knee and the DTUCAM conditions ---
  float l_lo = inverse_scene_grey(K, s_rlo_), l_hi = inverse_scene_grey(K, s_rhi_);
  widen_range(&l_lo, &l_hi);
  float t_lo, t_hi;
  display_targets(inverse_disp_grey(K, scene_resp_grey(K, 3, l_lo)),
                  inverse_disp_grey(K, scene_resp_grey(K, 3, l_hi)), l_lo, l_hi, P_.display_black,
                  display_peak_nits(P_), &t_lo, &t_hi);
  key_targets(K, s_rmed_, l_lo, l_hi, P_.display_black, display_peak_nits(P_), P_.key, P_.key_strength,
              P_.mesopic, &t_lo, &t_hi);
  finish_frame_consts(K, l_lo, l_hi, t_lo, t_hi, P_.knee, int(P_.viewing));

  // --- full-inverse / hybrid: display observer's local adaptation per cell ---
  const int nc = gw_ * gh_;
  if (P_.display_mode != DisplayMode::Whiteboard) {
    const float a = P_.local ? P_.local_adaptation : 0.0f;
    pool_.run(gh_, [&](int cy, int) {  // rows of cells in parallel (libm per cell)
      for (int i = cy * gw_, ie = i + gw_; i < ie; ++i) {
        // the cell's own adaptation luminance as displayed (whiteboard), L class
        display_cell_consts(cells_[i], K, a, P_.display_black, display_peak_nits(P_), &dispk_[3 * i]);
        for (int k = 0; k < 3; ++k) gridk_[size_t(kChD0 + k) * nc + i] = dispk_[3 * i + k];
      }
    });
    // hybrid edge weight: Sobel of the normalised response luminance (1/kSub grid),
    // Gaussian smoothed, smoothstep
    if (P_.display_mode == DisplayMode::Hybrid) {
      float* m = edge_tmp_.data();
      for (int y = 0; y < eh_; ++y)
        for (int x = 0; x < ew_; ++x) m[size_t(y) * ew_ + x] = edge_sobel(edge_.data(), ew_, eh_, x, y, K);
      blur_grid(m, ew_, eh_, 1.0f, edge_tmp_.data() + size_t(ew_) * eh_);
      for (int i = 0; i < ew_ * eh_; ++i) edge_[i] = smoothstepf(K.hybrid_lo, K.hybrid_hi, m[i]);
    }
  }
  // --- encode ---
  K.out_transfer = int(C_.out.transfer);
  K.target = int(P_.target);
  output_consts(K, C_.out.primaries);

  // --- CSF band gains (balanced) ---
  csf_active_ = P_.csf && csf_band_gains(K, P_.fov_deg, csf_gain_);
}

// Scene responses (mesopic, per class L, M, S) of row y into r: planar, r[c * W + x].
// Loops are kept simple (no calls, no branches) so that GCC vectorises them.
DTUTMO_HOT void CpuEngine::row_responses(int y, float* __restrict r, Scratch& s) {
  interp_row(y, s);
  const int W = W_;
  const float* __restrict rgb = lin_.data() + size_t(y) * W * 3;
  const float* __restrict ad = s.ad.data();
  const bool bd = P_.base_detail && bgrid_ready_;
  const float* __restrict ly = logy_.data() + size_t(y) * W;
  float* __restrict bs = base_.data() + size_t(y) * W;
  float* __restrict gsc = s.ad.data() + size_t(kAd) * W;  // spare row: base gain
  if (bd) {
    for (int x = 0; x < W; ++x) bs[x] = bgrid_.slice(float(x), float(y), ly[x]);
    for (int x = 0; x < W; ++x) gsc[x] = fast_exp2(bs[x] - ly[x]);
  } else {
    for (int x = 0; x < W; ++x) gsc[x] = 1.0f;
  }
  responses_core(W, 1, rgb, gsc, ad, r, W);
}

// The per-pixel receptor stage: n pixels taken every `step` from rgb (interleaved) and
// the adaptation channels ad (planar, `ad_stride` apart); planar responses out.
DTUTMO_HOT void CpuEngine::responses_core(int n, int step, const float* __restrict rgb,
                                          const float* __restrict gsc, const float* __restrict ad,
                                          float* __restrict r, int ad_stride) const {
  const Mat3 m = K_.in_rgb_to_lms;
  const Vec3 wr = K_.in_rgb_to_rod;
  const float* __restrict klm = ad + kChLM * ad_stride;
  const float* __restrict ks = ad + kChS * ad_stride;
  const float* __restrict kr = ad + kChRod * ad_stride;
  const float* __restrict rw = ad + kChW * ad_stride;
  float* __restrict rl = r;
  float* __restrict rm = r + n;
  float* __restrict rs = r + 2 * n;
  const float nc = kConeL.n, nr = kRod.n;
  const float rq = fast_exp2(K_.rod_s_log2q);  // rod -> S class odds factor
  // step == 1 (every pixel, pass 2) gets its own loop: unit-stride loads instead of the
  // element-by-element gathers a run-time stride forces
  auto px = [&](int i, int x) __attribute__((always_inline)) {
    const float g = gsc[x];
    const float R = rgb[3 * x] * g, G = rgb[3 * x + 1] * g, B = rgb[3 * x + 2] * g;
    const float L = m.m[0][0] * R + m.m[0][1] * G + m.m[0][2] * B;
    const float M = m.m[1][0] * R + m.m[1][1] * G + m.m[1][2] * B;
    const float S = m.m[2][0] * R + m.m[2][1] * G + m.m[2][2] * B;
    const float Yr = wr.x * R + wr.y * G + wr.z * B;
    const float a = 1.0f / (1.0f + fast_exp2(nc * (klm[x] - fast_log2(L > 1e-30f ? L : 1e-30f))));
    const float b = 1.0f / (1.0f + fast_exp2(nc * (klm[x] - fast_log2(M > 1e-30f ? M : 1e-30f))));
    const float c = 1.0f / (1.0f + fast_exp2(nc * (ks[x] - fast_log2(S > 1e-30f ? S : 1e-30f))));
    const float d = 1.0f / (1.0f + fast_exp2(nr * (kr[x] - fast_log2(Yr > 1e-30f ? Yr : 1e-30f))));
    const float w = rw[x];
    rl[i] = a + w * (d - a);
    rm[i] = b + w * (d - b);
    rs[i] = c + w * (odds_shift(d, rq) - c);
  };
  // no rods anywhere this frame: the same responses without the rod term
  auto px_photopic = [&](int i, int x) __attribute__((always_inline)) {
    const float g = gsc[x];
    const float R = rgb[3 * x] * g, G = rgb[3 * x + 1] * g, B = rgb[3 * x + 2] * g;
    const float L = m.m[0][0] * R + m.m[0][1] * G + m.m[0][2] * B;
    const float M = m.m[1][0] * R + m.m[1][1] * G + m.m[1][2] * B;
    const float S = m.m[2][0] * R + m.m[2][1] * G + m.m[2][2] * B;
    rl[i] = 1.0f / (1.0f + fast_exp2(nc * (klm[x] - fast_log2(L > 1e-30f ? L : 1e-30f))));
    rm[i] = 1.0f / (1.0f + fast_exp2(nc * (klm[x] - fast_log2(M > 1e-30f ? M : 1e-30f))));
    rs[i] = 1.0f / (1.0f + fast_exp2(nc * (ks[x] - fast_log2(S > 1e-30f ? S : 1e-30f))));
  };
  if (!rod_any_ && step == 1) {
    for (int i = 0; i < n; ++i) px_photopic(i, i);
  } else if (!rod_any_) {
    for (int i = 0; i < n; ++i) px_photopic(i, i * step + (step >> 1));
  } else if (step == 1) {
    for (int i = 0; i < n; ++i) px(i, i);
  } else {
    for (int i = 0; i < n; ++i) px(i, i * step + (step >> 1));
  }
}

// Display mapping and encoding of one row of planar responses r into o (3 x W codes,
// interleaved for pack_rows). Expects interp_row(y) to have been run on s.
// Display inverse's log2(v / (1 - v)) / n through a table (no log2, no divide per pixel):
// odd about v = 1/2, so h(m) = log2(m / (1 - m)) / n on m = min(v, 1 - v) (1 - v exact for
// v >= 1/2) and the sign of v - 1/2; the table is indexed by m's float bits (exponent and
// top 7 mantissa bits: 128 segments per octave, 2^-64 .. 2^-1, m below clamped), linear
// interpolation on the low 16 mantissa bits. Max abs. error 1.2e-5 (log2 units, before
// the 1/n; about 1e-5 relative in L), against fast_log2's ~1e-7 plus divide rounding.
constexpr int kLogitOct = 64, kLogitSeg = 128, kLogitBase = (127 - kLogitOct) * kLogitSeg;
constexpr int kLogitTab = kLogitOct * kLogitSeg - kLogitSeg + 2;  // idx 0 .. (63*128), +1
static const float* logit_tab() {
  static const std::vector<float> t = [] {
    std::vector<float> v(kLogitTab);
    for (int k = 0; k < kLogitTab; ++k) {
      const int32_t bits = (k + kLogitBase) << 16;
      float mf;
      memcpy(&mf, &bits, 4);
      const double m = mf;
      v[k] = float(std::log2(m / (1.0 - m)) / double(kConeL.n));
    }
    return v;
  }();
  return t.data();
}
// Whiteboard's whole inverse without the per-class 2^K: (v / (1 - v))^(1/n) = 2^h(m) for
// v <= 1/2, 2^-h(m) above (second half), linearly interpolated on the same segments: max
// rel. error 3.4e-5 (upper half, v near 1; 1.6e-5 on the lower half, measured).
static const float* logit_exp_tab() {
  static const std::vector<float> t = [] {
    const float* h = logit_tab();
    std::vector<float> v(2 * size_t(kLogitTab));
    for (int k = 0; k < kLogitTab; ++k) {
      v[k] = float(std::exp2(double(h[k])));
      v[kLogitTab + k] = float(std::exp2(-double(h[k])));
    }
    return v;
  }();
  return t.data();
}
static inline float logit_n_scalar(const float* __restrict tab, float v, int noff = 0,
                                   bool neg = true) {
  const bool up = v > 0.5f;
  float m = up ? 1.0f - v : v;
  m = m > 5.421010862e-20f ? m : 5.421010862e-20f;  // 2^-64 (NaN -> clamp)
  int32_t bits;
  memcpy(&bits, &m, 4);
  const int k = (bits >> 16) - kLogitBase + (up ? noff : 0);
  const float f = float(bits & 0xffff) * (1.0f / 65536.0f);
  const float h = tab[k] + f * (tab[k + 1] - tab[k]);
  return up && neg ? -h : h;
}
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static int logit_n_avx2(const float* __restrict u, float lo,
                                                            float hi, const float* __restrict tab,
                                                            float* __restrict o, int n,
                                                            int noff, bool neg, float scale) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi), half = _mm256_set1_ps(0.5f);
  const __m256 one = _mm256_set1_ps(1.0f), mmin = _mm256_set1_ps(5.421010862e-20f);
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
    _mm256_storeu_ps(o + i, _mm256_mul_ps(_mm256_xor_ps(h, _mm256_and_ps(up, sgn)), sc));
  }
  return i;
}
#endif
// o[x] = log2(v / (1 - v)) / n with v = min(max(u[x], lo), hi); with lin, instead
// o[x] = scale * (v / (1 - v))^(1/n) (logit_exp_tab)
static void logit_n_row(const float* __restrict u, float lo, float hi, float* __restrict o, int n,
                        bool lin = false, float scale = 1.0f) {
  const float* tab = lin ? logit_exp_tab() : logit_tab();
  const int noff = lin ? kLogitTab : 0;
  int i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2()) i0 = logit_n_avx2(u, lo, hi, tab, o, n, noff, !lin, scale);
#endif
  for (int i = i0; i < n; ++i)
    o[i] = scale * logit_n_scalar(tab, std::min(std::max(u[i], lo), hi), noff, !lin);
}

// Colour appearance of one row: chroma from the scene's appearance (Hunt effect), tone
// from u (in place). Restrict parameters and local condition copies: the loop has no
// possible aliasing and vectorises (with libmvec's powf/cosf/sinf/atan2f in the AVX2
// clone); always inlined into row_display's clones.
static inline __attribute__((always_inline)) void dtucam_row(
    int W, const FrameConsts& K, const float* __restrict sl, const float* __restrict ss,
    const float* __restrict r0, const float* __restrict r1, const float* __restrict r2,
    float* __restrict u0, float* __restrict u1, float* __restrict u2) {
  const CamCond cam_s = K.cam_scene, cam_d = K.cam_display;
  const float sref = K.s_ref_display, isref = 1.0f / K.s_ref_display;
  for (int x = 0; x < W; ++x) {
    const float fs = fast_exp2(kConeL.n * (ss[x] - sl[x]));  // scene S -> L/M reference
    const Vec3 rs = {r0[x], r1[x], odds_scale(r2[x], fs)};
    const CamJMh sj = dtucam_forward(rs, cam_s);
    const Vec3 ud = {u0[x], u1[x], odds_scale(u2[x], sref)};
    const float A = 2.0f * ud.x + ud.y + 0.05f * ud.z;
    const float jd = 100.0f * powf(std::max(A, 0.0f) / cam_d.aw, cam_d.c * cam_d.z);
    const Vec3 o3 = dtucam_inverse({jd, sj.m, sj.h}, cam_d);
    u0[x] = o3.x;
    u1[x] = o3.y;
    u2[x] = odds_scale(std::max(o3.z, 0.0f), isref);
  }
}

DTUTMO_HOT void CpuEngine::row_display(int y, const float* __restrict r, float* __restrict o, Scratch& s) {
  const int W = W_;
  const FrameConsts& K = K_;
  const float* __restrict ad = s.ad.data();
  const float* __restrict sl = ad + kChLM * W;
  const float* __restrict ss = ad + kChS * W;
  const bool cam = P_.dtucam;
  const bool bd = P_.base_detail && bgrid_ready_;
  const int mode = int(P_.display_mode);
  const float* __restrict ly = logy_.data() + size_t(y) * W;
  const float* __restrict bs = base_.data() + size_t(y) * W;
  const float lp = std::log2(K.disp_p);
  const float kwb[3] = {K.disp_log2_sigma[0] - lp - K.disp_log2_td,
                        K.disp_log2_sigma[1] - lp - K.disp_log2_td,
                        K.disp_log2_sigma[2] - lp - K.disp_log2_td};
  float* __restrict u = s.resp.data();          // planar u[c * W + x] (3W)
  float* __restrict lum = s.resp.data() + 3 * size_t(W);  // planar luminance (3W)
  float* __restrict hw = s.row.data();          // hybrid weight (W)
  if (mode == int(DisplayMode::Hybrid)) {
    float gy = (y + 0.5f) / kSub - 0.5f;
    gy = std::min(std::max(gy, 0.0f), float(eh_ - 1));
    const int y0 = std::min(int(gy), eh_ - 1), y1 = std::min(y0 + 1, eh_ - 1);
    const float ty = gy - y0;
    for (int x = 0; x < W; ++x) {
      float gx = (x + 0.5f) / kSub - 0.5f;
      gx = std::min(std::max(gx, 0.0f), float(ew_ - 1));
      const int x0 = std::min(int(gx), ew_ - 1), x1 = std::min(x0 + 1, ew_ - 1);
      const float tx = gx - x0;
      const float a = edge_[size_t(y0) * ew_ + x0] * (1 - tx) + edge_[size_t(y0) * ew_ + x1] * tx;
      const float b = edge_[size_t(y1) * ew_ + x0] * (1 - tx) + edge_[size_t(y1) * ew_ + x1] * tx;
      hw[x] = a * (1 - ty) + b * ty;
    }
  }
  // normalisation + soft knee (exp via fast_exp2), per class
  for (int c = 0; c < 3; ++c) {
    const float g = K.norm_gain[c], off = K.norm_offset[c], k = K.knee_r[c], rmax = K.r_max[c];
    const float wk = std::max(rmax - k, 1e-6f), iwk = 1.0f / wk;
    const float* __restrict rc = r + size_t(c) * W;
    float* __restrict uc = u + size_t(c) * W;
    for (int x = 0; x < W; ++x) {
      const float v = g * rc[x] + off;
      const float t = (v - k) * iwk;
      const float kn = k + wk * t / (1.0f + t);  // slope 1 at k, asymptote rmax
      uc[x] = v > k ? kn : v;
    }
  }
  if (cam) dtucam_row(W, K, sl, ss, r, r + W, r + 2 * size_t(W), u, u + W, u + 2 * size_t(W));
  // display inverse per class: L = 2^(K + log2(v / (1 - v)) / n)
  for (int c = 0; c < 3; ++c) {
    const float lo = K.r_min[c], hi = K.r_max[c], kc = kwb[c];
    const float* __restrict uc = u + size_t(c) * W;
    float* __restrict lc = lum + size_t(c) * W;
    const float* __restrict kl = ad + size_t(kChD0 + c) * W;
    // lc = log2(v / (1 - v)) / n, then in place (whiteboard: the whole inverse)
    if (mode != int(DisplayMode::Whiteboard)) logit_n_row(uc, lo, hi, lc, W);
    if (mode == int(DisplayMode::Whiteboard)) {
      logit_n_row(uc, lo, hi, lc, W, true, fast_exp2(kc));  // whole inverse from the table
    } else if (mode == int(DisplayMode::FullInverse)) {
      // toward the knee (band of twice its width below the peak response) the inverse fades
      // to the global (whiteboard) adaptation, whose
      // knee keeps white to the extreme tail (a brighter-adapted cell would clip)
      const float kn = 2.0f * K.knee_r[c] - hi, ikn = 1.0f / std::max(hi - kn, 1e-6f);
      for (int x = 0; x < W; ++x) {
        const float v = std::min(std::max(uc[x], lo), hi);
        const float tk = std::min(std::max((v - kn) * ikn, 0.0f), 1.0f);
        const float kk = kl[x] + tk * tk * (3.0f - 2.0f * tk) * (kc - kl[x]);
        lc[x] = fast_exp2(kk + lc[x]);
      }
    } else {
      // full inverse only below the knee: fading out over the response band of twice the
      // knee's width ending at the peak, the whiteboard's knee alone decides at the top
      // (a bright disc's edge went through the locally brighter-adapted inverse and
      // clipped, leaving a ring around a darker centre)
      const float kn = 2.0f * K.knee_r[c] - hi, ikn = 1.0f / std::max(hi - kn, 1e-6f);
      for (int x = 0; x < W; ++x) {
        const float v = std::min(std::max(uc[x], lo), hi);
        const float tk = std::min(std::max((v - kn) * ikn, 0.0f), 1.0f);
        const float kk = hybrid_display_k(hw[x], kl[x], kc, tk * tk * (3.0f - 2.0f * tk));
        lc[x] = fast_exp2(kk + lc[x]);
      }
    }
  }
  if (bd && K.detail != 0.0f) {
    // detail re-applied in log2 luminance; faded out toward the peak response so that
    // texture does not push highlights into clipping
    const float r0 = K.r_min[0], ir = 1.0f / std::max(K.r_max[0] - K.r_min[0], 1e-6f);
    for (int x = 0; x < W; ++x) {
      // detail bounded to +-kDetailMax stops: the bilateral's range sigma is 0.5 stop, so
      // texture lies well inside; larger values are slicing error at strong edges (the
      // sun's rim came out as a dark ring)
      const float d = std::min(std::max(ly[x] - bs[x], -kDetailMax), kDetailMax);
      const float un = (u[x] - r0) * ir;
      // both signs fade near the peak: at a bright disc's rim the base is the disc's
      // level while the pixel is partly sky (negative detail: a dark ring on white)
      const float fade = 1.0f - smoothstepf(0.8f, 1.0f, un);
      const float g = fast_exp2(std::min(K.detail * d * fade, 8.0f));
      lum[x] *= g;
      lum[W + x] *= g;
      lum[2 * W + x] *= g;
    }
  }
  // hue restoration (optional), display LMS -> output RGB and the gamut map (optional) in
  // one branch-free pass per pixel; each combination is its own loop (no loop-invariant
  // branch inside), every one vectorises in the AVX2 clone.
  const Mat3 mo = K.lms_to_out_rgb;
  const Vec3 wy = K.out_rgb_to_y;
  const float peak = K.peak;
  {
    // hue from the input, tone and amount of chroma from the per-class result
    // (display.h, hue_preserve; DESIGN.md section 10). The display LMS -> Y row is
    // out_rgb_to_y . lms_to_out_rgb (both D65-normalised: a grey has L = M = S = Y).
    const Mat3 mi = K.in_rgb_to_lms;
    const Vec3 wl = {wy.x * mo.m[0][0] + wy.y * mo.m[1][0] + wy.z * mo.m[2][0],
                     wy.x * mo.m[0][1] + wy.y * mo.m[1][1] + wy.z * mo.m[2][1],
                     wy.x * mo.m[0][2] + wy.y * mo.m[1][2] + wy.z * mo.m[2][2]};
    const float sat = P_.saturation;
    const float keep = P_.highlight_chroma;  // gamut.h, gamut_map_keep
    const float* __restrict rgb = lin_.data() + size_t(y) * W * 3;
    const float* __restrict rwt = ad + size_t(kChW) * W;  // rod weight (valid if rod_any_)
    const float* __restrict l0 = lum;
    const float* __restrict l1 = lum + W;
    const float* __restrict l2 = lum + 2 * size_t(W);
    using T = std::true_type;
    using F = std::false_type;
    auto run = [&](auto hue, auto rods, auto gmap) __attribute__((always_inline)) {
      for (int x = 0; x < W; ++x) {
        Vec3 v = {l0[x], l1[x], l2[x]};
        if (decltype(hue)::value) {
          const float R = rgb[3 * x], G = rgb[3 * x + 1], B = rgb[3 * x + 2];
          const Vec3 in = {mi.m[0][0] * R + mi.m[0][1] * G + mi.m[0][2] * B,
                           mi.m[1][0] * R + mi.m[1][1] * G + mi.m[1][2] * B,
                           mi.m[2][0] * R + mi.m[2][1] * G + mi.m[2][2] * B};
          const float cw = decltype(rods)::value ? 1.0f - rwt[x] : 1.0f;
          v = hue_preserve(in, v, wl, sat, cw);
        }
        Vec3 c = {mo.m[0][0] * v.x + mo.m[0][1] * v.y + mo.m[0][2] * v.z,
                  mo.m[1][0] * v.x + mo.m[1][1] * v.y + mo.m[1][2] * v.z,
                  mo.m[2][0] * v.x + mo.m[2][1] * v.y + mo.m[2][2] * v.z};
        // in gamut, gamut_map_keep returns its input: no test needed to skip it
        if (decltype(gmap)::value) c = gamut_map_keep(c, wy, peak, keep);
        o[3 * x] = c.x;
        o[3 * x + 1] = c.y;
        o[3 * x + 2] = c.z;
      }
    };
    const bool hp = P_.hue_preserve, gm = P_.gamut_map, rods = rod_any_;
    if (hp && rods) {
      if (gm) run(T(), T(), T()); else run(T(), T(), F());
    } else if (hp) {
      if (gm) run(T(), F(), T()); else run(T(), F(), F());
    } else {
      if (gm) run(F(), F(), T()); else run(F(), F(), F());
    }
  }
  encode_row(o, 3 * W);
}

// ---------------------------------------------------------------- pass 2
void CpuEngine::pass2(const FrameView& out) {
  const int W = W_;
  const bool dither = P_.dither;
  const int nb = (H_ + kCell - 1) / kCell;
  if (csf_active_) {
    pool_.run(H_, [&](int y, int th) { row_responses(y, resp_.data() + size_t(y) * W * 3, scr_[th]); });
    csf_filter();
    pool_.run(nb, [&](int b, int th) {
      Scratch& s = scr_[th];
      const int y0 = b * kCell, y1 = std::min(H_, y0 + kCell);
      for (int y = y0; y < y1; ++y) {
        interp_row(y, s);
        row_display(y, resp_.data() + size_t(y) * W * 3, s.out.data() + size_t(y - y0) * W * 3, s);
      }
      pack_rows(s.out.data(), std::ptrdiff_t(W) * 3, out, C_.out, y0, y1, dither);
    });
    return;
  }
  pool_.run(nb, [&](int b, int th) {
    Scratch& s = scr_[th];
    const int y0 = b * kCell, y1 = std::min(H_, y0 + kCell);
    for (int y = y0; y < y1; ++y) {
      row_responses(y, s.rsp.data(), s);
      row_display(y, s.rsp.data(), s.out.data() + size_t(y - y0) * W * 3, s);
    }
    pack_rows(s.out.data(), std::ptrdiff_t(W) * 3, out, C_.out, y0, y1, dither);
  });
}

}  // namespace cpu
}  // namespace dtutmo
