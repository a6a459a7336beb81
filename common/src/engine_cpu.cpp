// dtutmo -- the CPU engine: MODEL.md's stages on the host, multi-threaded over row bands.
//
// Per frame (DESIGN.md "Performance plan"):
//   pass 1 (rows in parallel): unpack, EOTF (table), sanitise, luminance, log2 Y into
//     8x8 cell sums [balanced: optics first (glare by FFT on a reduced grid), then the
//     bilateral-grid splat];
//   low resolution: pooling of log La on a pyramid, temporal smoothing, per-cell receptor
//     constants (AdaptCell), response histogram on a subsample, percentiles, per-frame
//     constants (FrameConsts);
//   pass 2 (rows in parallel): responses, mesopic, [CSF], normalisation, [DTUCAM],
//     display inverse, [detail], gamut, encode, pack.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "cpu_glare.h"
#include "cpu_pool.h"
#include "cpu_spatial.h"
#include "dtutmo/color.h"
#include "dtutmo/convert.h"
#include "dtutmo/csf.h"
#include "dtutmo/display.h"
#include "dtutmo/dtucam.h"
#include "dtutmo/engine.h"
#include "dtutmo/fastmath.h"
#include "dtutmo/frame_consts.h"
#include "dtutmo/gamut.h"
#include "dtutmo/model.h"
#include "dtutmo/optics.h"
#include "dtutmo/receptors.h"
#include "dtutmo/transfer.h"

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

namespace dtutmo {

namespace {

// kCell, kLookupRangeSigma, kDecodeTab, kHistBins, kMinNits, kMaxNits, kSub, kCsfLevels and
// the per-frame model (smooth_to, smooth_k, med3_push, grey responses, ...) are
// dtutmo/model.h's, shared with the CUDA engine.
constexpr float kPoolRangeStep = 2.0f;  // La pooling: bilateral-grid bin, log2 (sigma ~1.15)
constexpr int kEncodeTab = 16384;   // output encode table intervals over sqrt(rel) in [0, 1]


struct Scratch {
  std::vector<float> ad;    // interpolated AdaptCell channels, kAd x width
  std::vector<float> resp;  // responses for one band, 3 x width x rows
  std::vector<float> out;   // encoded output for one band, 3 x width x rows
  std::vector<float> row;   // misc row buffer
  std::vector<float> rsp;   // planar responses of one row (3 x width)
  std::vector<float> vrow;  // vertically interpolated grid rows, kAd x (gw + 1)
  std::vector<float> jw;    // joint-bilateral upsampling: 4 corner weights x width
  long long bad = 0;
};
// Per-pixel adaptation channels (bilinear from the grid): receptor constants folded into
// one log2 each, K = log2 sigma - log2 p - log2 td, so r = 1 / (1 + 2^(n (K - log2 L))).
enum { kChLM = 0, kChS, kChRod, kChW, kChD0, kChD1, kChD2, kAd };
#define DTUTMO_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

class CpuEngine final : public Engine {
 public:
  explicit CpuEngine(int threads) : pool_(threads) { P_ = params_for_profile(Profile::Fast); }
  const char* name() const override { return "cpu"; }
  bool configure(const StreamConfig& cfg, std::string* err) override;
  bool set_params(const Params& p, std::string* err) override;
  bool process(const FrameView& in, const FrameView& out, double time_s,
               std::string* err) override;
  void reset() override {
    std::lock_guard<std::mutex> l(state_mu_);
    fresh_ = true;
  }
  EngineStats stats() const override {
    std::lock_guard<std::mutex> l(state_mu_);
    return st_;
  }

 private:
  bool check_view(const FrameView& v, PixelFormat f, const char* what, std::string* err) const;
  void build_decode_table();
  void setup_optics();
  void pass1(const FrameView& in);
  void low_res(double dt, bool snap);
  void frame_consts(float k_cone);
  void pass2(const FrameView& out);
  void row_responses(int y, float* r, Scratch& s);
  void row_display(int y, const float* r, float* o, Scratch& s);
  void interp_row(int y, Scratch& s);
  static void decode_table(float* v, size_t n, const float* tab, float mul);
  static void log_luminance(const float* rgb, float* ly, int w, Vec3 wy);
  void interp_h(int nch, const float* vr, float* ad) const;
  void responses_core(int n, int step, const float* rgb, const float* gsc, const float* ad,
                      float* r, int ad_stride) const;
  void csf_filter();

  CpuPool pool_;
  mutable std::mutex mu_, state_mu_;
  Params pending_;
  bool have_pending_ = false;
  Params P_;
  StreamConfig C_;
  bool configured_ = false;
  FrameConsts K_{};
  int W_ = 0, H_ = 0, gw_ = 0, gh_ = 0;

  std::vector<float> dec_tab_;
  std::vector<float> enc_tab_;  // output encode on sqrt(rel) (sRGB, BT.1886), kEncodeTab + 2
  std::vector<float> lin_;    // W x H x 3 linear input RGB, cd/m^2
  std::vector<float> logy_;   // W x H log2 luminance
  std::vector<float> cell_sum_, cell_cnt_;
  std::vector<float> la_tgt_, la_loc_, la_s_, la_rod_s_;  // grids, log2 cd/m^2
  std::vector<AdaptCell> cells_;
  std::vector<float> gridk_;  // kAd planar channel grids, gw x gh each
  bool rod_any_ = true;       // some cell has a rod weight != 0 (else the rod term is skipped)
  std::vector<int> ix_;
  std::vector<float> tx_;
  std::vector<float> dispk_;  // grid x 3: full-inverse constants per class
  Pooler pooler_;
  EdgePooler epool_;          // edge-aware (cross-bilateral) pooling of the La grid
  std::vector<float> jguide_; // per cell log2 mean luminance: guide of the La lookup
  bool jbu_ = false;          // La lookup is joint-bilateral (local adaptation on)
  std::vector<Scratch> scr_;
  std::vector<std::vector<uint32_t>> hist_;
  // edge map for the hybrid display mode, at 1/kSub resolution
  int ew_ = 0, eh_ = 0;
  std::vector<float> edge_, edge_tmp_;
  // optics
  bool optics_ready_ = false;
  CpuGlare glare_[3];
  std::vector<float> gsrc_[3], gdst_[3];
  float otf_sigma_px_ = 0;
  std::vector<float> otf_tmp_;
  // base / detail
  BilateralGrid bgrid_;
  bool bgrid_ready_ = false;
  std::vector<float> base_;   // W x H base log2 luminance
  // CSF
  std::vector<float> resp_;   // W x H x 3 (responses, balanced when CSF runs)
  std::vector<float> pyr_[kCsfLevels + 1][3];
  std::vector<float> pyr_tmp_;
  int pw_[kCsfLevels + 1], ph_[kCsfLevels + 1];
  float csf_gain_[kCsfLevels][3];
  bool csf_active_ = false;

  // temporal state
  bool fresh_ = true;
  double last_t_ = 0.0;
  float s_logmean_ = 0, s_pupil_ = 4, s_rlo_ = 0, s_rhi_ = 1;
  // outlier rejection: the last two frames' targets ([0] = previous, [1] = the one before);
  // every smoother is fed the median of those and the current target
  float h_logmean_[2] = {0, 0}, h_rlo_[2] = {0, 1}, h_rhi_[2] = {1, 1};
  std::vector<float> la_h1_, la_h2_;  // per cell, previous / before-previous la_tgt_
  float prev_med_logmean_ = 0;        // last frame's filtered global target (cut detection)
  bool snapped_ = false;              // this frame snapped (reset, discontinuity, cut)
  EngineStats st_{};
};

bool CpuEngine::set_params(const Params& p, std::string* err) {
  if (!validate(p, err)) return false;
  std::lock_guard<std::mutex> l(mu_);
  pending_ = p;
  have_pending_ = true;
  return true;
}

bool CpuEngine::configure(const StreamConfig& cfg, std::string* err) {
  if (cfg.width < 1 || cfg.height < 1 || cfg.width > 16384 || cfg.height > 16384) {
    if (err) *err = "cpu engine: frame size " + std::to_string(cfg.width) + "x" +
                    std::to_string(cfg.height) + " is outside 1x1 .. 16384x16384";
    return false;
  }
  if (int(cfg.in_format) < 0 || cfg.in_format >= PixelFormat::COUNT ||
      int(cfg.out_format) < 0 || cfg.out_format >= PixelFormat::COUNT) {
    if (err) *err = "cpu engine: unknown pixel format";
    return false;
  }
  if (cfg.out.transfer == Transfer::Linear && cfg.out_format != PixelFormat::RGBF32) {
    if (err) *err = "cpu engine: linear output transfer needs RGBF32";
    return false;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    if (have_pending_) {
      P_ = pending_;
      have_pending_ = false;
    }
  }
  C_ = cfg;
  W_ = cfg.width;
  H_ = cfg.height;
  gw_ = (W_ + kCell - 1) / kCell;
  gh_ = (H_ + kCell - 1) / kCell;
  const size_t np = size_t(W_) * H_;
  lin_.assign(np * 3, 0.0f);
  logy_.assign(np, 0.0f);
  base_.assign(np, 0.0f);
  const size_t nc = size_t(gw_) * gh_;
  cell_sum_.assign(nc, 0.0f);
  cell_cnt_.assign(nc, 0.0f);
  la_tgt_.assign(nc, 0.0f);
  la_loc_.assign(nc, 0.0f);
  la_s_.assign(nc, 0.0f);
  la_rod_s_.assign(nc, 0.0f);
  la_h1_.assign(nc, 0.0f);
  la_h2_.assign(nc, 0.0f);
  cells_.assign(nc, AdaptCell{});
  dispk_.assign(nc * 3, 0.0f);
  gridk_.assign(nc * kAd, 0.0f);
  ix_.assign(W_, 0);
  tx_.assign(W_, 0.0f);
  for (int x = 0; x < W_; ++x) {
    float gx = (x + 0.5f) / kCell - 0.5f;
    gx = std::min(std::max(gx, 0.0f), float(gw_ - 1));
    ix_[x] = std::min(int(gx), gw_ - 1);
    tx_[x] = gx - ix_[x];
  }
  pooler_.init(gw_, gh_);
  epool_.init(gw_, gh_, kPoolRangeStep, pool_.threads());
  jguide_.assign(nc, 0.0f);
  jbu_ = false;
  const int nt = pool_.threads();
  scr_.assign(nt, Scratch{});
  for (Scratch& s : scr_) {
    s.ad.assign(size_t(kAd + 1) * W_ + 8, 0.0f);
    s.resp.assign(size_t(6) * W_, 0.0f);
    s.rsp.assign(size_t(3) * W_, 0.0f);
    s.vrow.assign(size_t(kAd) * (gw_ + 1), 0.0f);
    s.jw.assign(size_t(4) * W_, 0.0f);
    s.out.assign(size_t(3) * W_ * kCell, 0.0f);
    s.row.assign(size_t(3) * W_, 0.0f);
  }
  hist_.assign(nt, std::vector<uint32_t>(kHistBins, 0));
  ew_ = (W_ + kSub - 1) / kSub;
  eh_ = (H_ + kSub - 1) / kSub;
  edge_.assign(size_t(ew_) * eh_, 0.0f);
  edge_tmp_.assign(size_t(ew_) * eh_ * 2, 0.0f);
  // balanced buffers are made lazily at the first frame that needs them (at configure
  // time when the profile is already balanced), never in the middle of a stream again.
  optics_ready_ = false;
  bgrid_ready_ = false;
  resp_.clear();
  build_decode_table();
  configured_ = true;
  fresh_ = true;
  return true;
}

void CpuEngine::build_decode_table() {
  dec_tab_.assign(kDecodeTab + 2, 0.0f);
  for (int i = 0; i <= kDecodeTab + 1; ++i) {
    const float c = std::min(1.0f, float(i) / kDecodeTab);
    float v = c;
    switch (C_.in.transfer) {
      case Transfer::PQ: v = pq_eotf(c); break;
      case Transfer::HLG: v = hlg_inv_oetf(c); break;
      case Transfer::SRGB: v = srgb_eotf(c); break;
      case Transfer::BT1886: v = bt1886_eotf(c); break;
      case Transfer::Linear: v = c; break;
    }
    dec_tab_[i] = v;
  }
  // output encode of relative display light rel in [0, 1], indexed on sqrt(rel) (the
  // curves are steep near black); linear interpolation, measured max error 9e-7 of the
  // full code range (sRGB) and 2.1e-5 (BT.1886, in the first interval only: rel^(1/2.4)
  // has an infinite slope at 0; the error there is 0.067 h^(1/1.2) for an interval h),
  // i.e. < 0.01 of an 8-bit and < 0.03 of a 10-bit code step
  enc_tab_.assign(kEncodeTab + 2, 0.0f);
  for (int i = 0; i <= kEncodeTab + 1; ++i) {
    const double t = std::min(1.0, double(i) / kEncodeTab), rel = t * t;
    double v = std::pow(rel, 1.0 / 2.4);
    if (C_.out.transfer == Transfer::SRGB) v = rel <= 0.0031308 ? rel * 12.92 : 1.055 * v - 0.055;
    enc_tab_[i] = float(v);
  }
}

bool CpuEngine::check_view(const FrameView& v, PixelFormat f, const char* what,
                           std::string* err) const {
  if (v.device_memory) {
    if (err) *err = std::string("cpu engine: ") + what + " frame is in device memory";
    return false;
  }
  if (v.format != f || v.width != W_ || v.height != H_) {
    if (err) *err = std::string("cpu engine: ") + what + " frame does not match the configured format/size";
    return false;
  }
  const FormatInfo& fi = format_info(f);
  for (int p = 0; p < fi.planes; ++p) {
    if (!v.data[p] || v.stride[p] < min_stride(f, p, W_)) {
      if (err) *err = std::string("cpu engine: ") + what + " frame has a missing plane or short stride";
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- optics
void CpuEngine::setup_optics() {
  const float ppd = float(W_) / P_.fov_deg;
  const int cells = int(P_.glare_max_cells);
  if (!glare_[0].matches(W_, H_, ppd, cells, P_.observer_age, P_.pigmentation)) {
    for (int c = 0; c < 3; ++c) {
      glare_[c].init(W_, H_, ppd, cells, P_.observer_age, P_.pigmentation);
      gsrc_[c].assign(size_t(glare_[c].gw()) * glare_[c].gh(), 0.0f);
      gdst_[c].assign(size_t(glare_[c].gw()) * glare_[c].gh(), 0.0f);
    }
  }
  otf_sigma_px_ = otf_sigma_deg(otf_fc(P_.observer_age)) * ppd;
  if (otf_tmp_.size() != lin_.size()) otf_tmp_.assign(lin_.size(), 0.0f);
  optics_ready_ = true;
}

// ---------------------------------------------------------------- pass 1
// Samples that are NaN, negative or beyond 3e38 (vectorised count, 32-bit lanes).
DTUTMO_HOT static long long count_bad(const float* __restrict v, size_t n) {
  int bad = 0;
  for (size_t i = 0; i < n; ++i) bad += (v[i] >= 0.0f && v[i] <= 3.0e38f) ? 0 : 1;
  return bad;
}

#if defined(__x86_64__) || defined(__i386__)
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
#endif

// Decode through the table: code in [0, 1] (NaN and negatives -> 0), linear interpolation.
#if defined(__x86_64__) || defined(__i386__)
// GCC does not vectorise the table loop below (no gather chosen), so the AVX2 path is
// written with intrinsics: same arithmetic, 8 values per step, two gathers.
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

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static int encode_table_avx2(
    float* __restrict o, int n, const float* __restrict tab, float black, float inv_range) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  const __m256 scale = _mm256_set1_ps(float(kEncodeTab));
  const __m256 vb = _mm256_set1_ps(black), vi = _mm256_set1_ps(inv_range);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(o + i), vb), vi);
    const __m256 rel = _mm256_min_ps(_mm256_max_ps(x, zero), one);
    const __m256 c = _mm256_mul_ps(_mm256_sqrt_ps(rel), scale);
    const __m256i k = _mm256_cvttps_epi32(c);
    const __m256 t = _mm256_sub_ps(c, _mm256_cvtepi32_ps(k));
    __m256 a, b;
    gather_pair(tab, k, a, b);
    _mm256_storeu_ps(o + i, _mm256_fmadd_ps(t, _mm256_sub_ps(b, a), a));
  }
  return i;
}
#endif

// Output encode through enc_tab_ (sRGB / BT.1886): rel = (o - black) / range in [0, 1]
// (NaN -> 0), index sqrt(rel) * kEncodeTab, linear interpolation.
static void encode_table(float* __restrict o, int n, const float* __restrict tab, float black,
                         float inv_range) {
  int i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) i0 = encode_table_avx2(o, n, tab, black, inv_range);
#endif
  for (int i = i0; i < n; ++i) {
    const float x = (o[i] - black) * inv_range;
    const float rel = x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f;
    const float c = std::sqrt(rel) * kEncodeTab;
    const int k = int(c);
    const float t = c - float(k);
    o[i] = tab[k] + t * (tab[k + 1] - tab[k]);
  }
}

DTUTMO_HOT void CpuEngine::decode_table(float* __restrict v, size_t n, const float* __restrict tab,
                                        float mul) {
  size_t i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) i0 = decode_table_avx2(v, n, tab, mul);
#endif
  for (size_t i = i0; i < n; ++i) {
    const float x = v[i];
    const float c = (x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f) * kDecodeTab;
    const int k = int(c);
    const float t = c - float(k);
    v[i] = (tab[k] + t * (tab[k + 1] - tab[k])) * mul;
  }
}

DTUTMO_HOT void CpuEngine::log_luminance(const float* __restrict rgb, float* __restrict ly, int w,
                                         Vec3 wy) {
  for (int x = 0; x < w; ++x) {
    const float Y = wy.x * rgb[3 * x] + wy.y * rgb[3 * x + 1] + wy.z * rgb[3 * x + 2];
    ly[x] = fast_log2(Y > kMinNits ? Y : kMinNits);
  }
}

void CpuEngine::pass1(const FrameView& in) {
  const bool optics = P_.optics && optics_ready_;
  const bool bd = P_.base_detail && bgrid_ready_;
  const int W = W_;
  const Vec3 wy = K_.in_rgb_to_y;
  const float scale = K_.input_scale;
  const Transfer tf = C_.in.transfer;
  const bool rgbf = C_.in_format == PixelFormat::RGBF32;
  const float* tab = dec_tab_.data();
  const float hlgp = P_.hlg_peak;
  for (Scratch& s : scr_) s.bad = 0;

  // 1a: unpack + decode (+ luminance statistics when no optics)
  auto decode_band = [&](int task, int th) {
    Scratch& s = scr_[th];
    const int y0 = task * kCell, y1 = std::min(H_, y0 + kCell);
    float* rgb = lin_.data() + size_t(y0) * W * 3;
    unpack_rows(in, C_.in, y0, y1, rgb, std::ptrdiff_t(W) * 3);
    const size_t n = size_t(y1 - y0) * W * 3;
    s.bad += count_bad(rgb, n);
    if (rgbf && tf == Transfer::Linear) {
      for (size_t i = 0; i < n; ++i) rgb[i] = sanitize(rgb[i] * scale, kMaxNits);
    } else {
      const float mul = (tf == Transfer::PQ || tf == Transfer::HLG) ? 1.0f : scale;
      decode_table(rgb, n, tab, mul);
      if (tf == Transfer::HLG)
        for (size_t i = 0; i < n; i += 3) {
          hlg_ootf(rgb[i], rgb[i + 1], rgb[i + 2], hlgp);
          rgb[i] = sanitize(rgb[i], kMaxNits);
          rgb[i + 1] = sanitize(rgb[i + 1], kMaxNits);
          rgb[i + 2] = sanitize(rgb[i + 2], kMaxNits);
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
    // OTF: separable Gaussian of its exact spatial pair, when it is wider than a pixel's
    // fraction (at video ppd it is far below a pixel and is skipped).
    if (otf_sigma_px_ >= 0.3f) {
      const int r = std::max(1, int(std::ceil(3 * otf_sigma_px_)));
      float k[64];
      const int rr = std::min(r, 31);
      float ks = 0;
      for (int i = -rr; i <= rr; ++i) ks += k[i + rr] = std::exp(-0.5f * i * i / (otf_sigma_px_ * otf_sigma_px_));
      for (int i = 0; i <= 2 * rr; ++i) k[i] /= ks;
      pool_.run(H_, [&](int y, int) {
        const float* s = lin_.data() + size_t(y) * W * 3;
        float* d = otf_tmp_.data() + size_t(y) * W * 3;
        for (int x = 0; x < W; ++x)
          for (int c = 0; c < 3; ++c) {
            float a = 0, ws = 0;
            for (int i = -rr; i <= rr; ++i) {
              const int xx = x + i;
              if (xx < 0 || xx >= W) continue;
              a += k[i + rr] * s[3 * xx + c];
              ws += k[i + rr];
            }
            d[3 * x + c] = a / ws;
          }
      });
      pool_.run(H_, [&](int y, int) {
        float* d = lin_.data() + size_t(y) * W * 3;
        for (int x = 0; x < W * 3; ++x) {
          float a = 0, ws = 0;
          for (int i = -rr; i <= rr; ++i) {
            const int yy = y + i;
            if (yy < 0 || yy >= H_) continue;
            a += k[i + rr] * otf_tmp_[size_t(yy) * W * 3 + x];
            ws += k[i + rr];
          }
          d[x] = a / ws;
        }
      });
    }
    // glare: cell averages, FFT convolution per channel, bilinear add
    const int f = glare_[0].cell(), ggw = glare_[0].gw(), ggh = glare_[0].gh();
    pool_.run(ggh, [&](int gy, int) {
      const int y0 = gy * f, y1 = std::min(H_, y0 + f);
      for (int gx = 0; gx < ggw; ++gx) {
        const int x0 = gx * f, x1 = std::min(W, x0 + f);
        double a[3] = {0, 0, 0};
        for (int y = y0; y < y1; ++y) {
          const float* s = lin_.data() + (size_t(y) * W + x0) * 3;
          for (int x = 0; x < x1 - x0; ++x) {
            a[0] += s[3 * x];
            a[1] += s[3 * x + 1];
            a[2] += s[3 * x + 2];
          }
        }
        const double n = double(y1 - y0) * (x1 - x0);
        for (int c = 0; c < 3; ++c) gsrc_[c][size_t(gy) * ggw + gx] = float(a[c] / n);
      }
    });
    // the veil decays as a power of the angle: interpolate it in log2 (geometric), which
    // halves the reduced-grid error against a full-resolution computation (test_glare)
    pool_.run(3, [&](int c, int) {
      glare_[c].run(gsrc_[c].data(), gdst_[c].data());
      for (float& v : gdst_[c]) v = std::log2(std::max(v, 1e-9f));
    });
    pool_.run(H_, [&](int y, int) {
      float gyf = (y + 0.5f) / f - 0.5f;
      gyf = std::min(std::max(gyf, 0.0f), float(ggh - 1));
      const int y0 = std::min(int(gyf), ggh - 1), y1 = std::min(y0 + 1, ggh - 1);
      const float ty = gyf - y0;
      float* d = lin_.data() + size_t(y) * W * 3;
      for (int x = 0; x < W; ++x) {
        float gxf = (x + 0.5f) / f - 0.5f;
        gxf = std::min(std::max(gxf, 0.0f), float(ggw - 1));
        const int x0 = std::min(int(gxf), ggw - 1), x1 = std::min(x0 + 1, ggw - 1);
        const float tx = gxf - x0;
        for (int c = 0; c < 3; ++c) {
          const float* g = gdst_[c].data();
          const float a = g[size_t(y0) * ggw + x0] * (1 - tx) + g[size_t(y0) * ggw + x1] * tx;
          const float b = g[size_t(y1) * ggw + x0] * (1 - tx) + g[size_t(y1) * ggw + x1] * tx;
          d[3 * x + c] = std::min(d[3 * x + c] + fast_exp2(a * (1 - ty) + b * ty), kMaxNits);
        }
      }
    });
  }
  if (optics) {
    if (bd) bgrid_.clear();
    pool_.run(gh_, stats_band);
  }
  if (bd) bgrid_.finish();
}

// ---------------------------------------------------------------- low resolution work
void CpuEngine::low_res(double dt, bool snap) {
  const int nc = gw_ * gh_;
  // cell means and the global log-mean (pixel weighted)
  double gs = 0, gn = 0;
  for (int i = 0; i < nc; ++i) {
    gs += cell_sum_[i];
    gn += cell_cnt_[i];
    la_loc_[i] = cell_sum_[i] / std::max(cell_cnt_[i], 1.0f);
  }
  const float target_logmean = float(gs / std::max(gn, 1.0));
  // outlier rejection: the smoothers follow the median of the last three frames' targets
  // (med3_push), so a one-frame flash or black frame never enters the state.
  // Broadcast mode: a cut is a jump of that filtered log-mean, i.e. a jump that persists
  // for two frames (a one-frame flash is not a cut); it re-adapts at once to the current
  // frame and refills the histories.
  bool cut = false;
  const float f_logmean = filter_logmean(h_logmean_, prev_med_logmean_, target_logmean,
                                         P_.adaptation == AdaptationMode::Broadcast, P_.cut_threshold,
                                         &snap, &cut);
  st_.cut_detected = cut;
  snapped_ = snap;
  const float kc = snap ? 1.0f : smooth_k(dt, P_.cone_tau);
  const float kr = snap ? 1.0f : smooth_k(dt, P_.rod_tau);
  const float kp = snap ? 1.0f : smooth_k(dt, P_.pupil_tau);

  // local pooling: Gaussians of 0.5, 1, 2, 4 degrees (diameters 1, 2, 4, 8), 1:2:4:8
  const float ppd = float(W_) / P_.fov_deg;
  const float a = P_.local ? P_.local_adaptation : 0.0f;
  if (a > 0.0f) {
    const float sig[4] = {0.5f * ppd / kCell, 1.0f * ppd / kCell, 2.0f * ppd / kCell,
                          4.0f * ppd / kCell};
    const float wts[4] = {1, 2, 4, 8};
    // edge-aware: each Gaussian is cross-bilateral in log luminance (DESIGN.md section 4),
    // so a dark tree does not pool the sky around it nor a lamp the room around it
    epool_.begin(la_loc_.data(), sig, wts, 4);
    pool_.run(epool_.bins(), [&](int j, int th) { epool_.process_bin(j, th); });
    pool_.run(gh_, [&](int y, int) { epool_.slice(y, y + 1, la_tgt_.data()); });
    for (int i = 0; i < nc; ++i) la_tgt_[i] = a * la_tgt_[i] + (1 - a) * target_logmean;
    std::copy(la_loc_.begin(), la_loc_.end(), jguide_.begin());
    jbu_ = true;
  } else {
    for (int i = 0; i < nc; ++i) la_tgt_[i] = target_logmean;
    jbu_ = false;
  }
  // the pupil follows the filtered, smoothed log-mean, so it is outlier-free too (it does
  // not depend on the cells: computed first so that the cell loop below runs in parallel)
  const float la_g = update_logmean_pupil(s_logmean_, s_pupil_, f_logmean, snap, kc, kp, P_.fov_deg,
                                          W_, H_, P_.observer_age);
  K_.la_global = la_g;
  K_.pupil_mm = s_pupil_;
  K_.td_per_nit = pupil_area_eff(s_pupil_);
  const float td = K_.td_per_nit;
  // cones and rods: the per-cell median target, then the per-cell receptor constants
  // (libm transcendentals per cell: rows of cells in parallel, results unchanged)
  const bool meso = P_.mesopic;
  const float ltd = std::log2(td);
  pool_.run(gh_, [&](int cy, int) {
    for (int i = cy * gw_, ie = i + gw_; i < ie; ++i) {
      update_cell_la(snap, kc, kr, la_tgt_[i], la_h1_[i], la_h2_[i], la_s_[i], la_rod_s_[i]);
      const AdaptCell& c = cells_[i] = adapt_cell(la_s_[i], la_rod_s_[i], td, meso);
      float k[4];
      fold_cell_k(c, ltd, k);
      gridk_[size_t(kChLM) * nc + i] = k[0];
      gridk_[size_t(kChS) * nc + i] = k[1];
      gridk_[size_t(kChRod) * nc + i] = k[2];
      gridk_[size_t(kChW) * nc + i] = k[3];
    }
  });
  // rods' global adaptation: the smoothed mean of the rod copy
  double rs = 0;
  for (int i = 0; i < nc; ++i) rs += la_rod_s_[i];
  const float la_g_rod = std::exp2(float(rs / nc));
  K_.la_global_rod = la_g_rod;
  // photopic everywhere (rod weight exactly 0): r = a + 0 (d - a) = a, so the rod response
  // and its two channels need not be computed at all
  rod_any_ = false;
  for (int i = 0; i < nc; ++i) rod_any_ = rod_any_ || gridk_[size_t(kChW) * nc + i] != 0.0f;
  frame_consts(kc);
}

void CpuEngine::frame_consts(float kc) {
  FrameConsts& K = K_;
  param_consts(K, P_, W_, H_, gw_, gh_);
  // display observer (and the rods' S odds factor)
  display_observer(K, P_.display_peak, P_.display_adapt, int(P_.viewing), P_.fov_deg, W_, H_,
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

  // --- normalisation: equivalent luminances of the percentiles (scene model at the
  // global adaptation), display targets by response matching (DESIGN.md section 10),
  // per-class gains, knee and the DTUCAM conditions ---
  float l_lo = inverse_scene_grey(K, s_rlo_), l_hi = inverse_scene_grey(K, s_rhi_);
  widen_range(&l_lo, &l_hi);
  float t_lo, t_hi;
  display_targets(inverse_disp_grey(K, scene_resp_grey(K, 3, l_lo)),
                  inverse_disp_grey(K, scene_resp_grey(K, 3, l_hi)), l_lo, l_hi, P_.display_black,
                  P_.display_peak, &t_lo, &t_hi);
  finish_frame_consts(K, l_lo, l_hi, t_lo, t_hi, P_.knee, int(P_.viewing));

  // --- full-inverse / hybrid: display observer's local adaptation per cell ---
  const int nc = gw_ * gh_;
  if (P_.display_mode != DisplayMode::Whiteboard) {
    const float a = P_.local ? P_.local_adaptation : 0.0f;
    pool_.run(gh_, [&](int cy, int) {  // rows of cells in parallel (libm per cell)
      for (int i = cy * gw_, ie = i + gw_; i < ie; ++i) {
        // the cell's own adaptation luminance as displayed (whiteboard), L class
        display_cell_consts(cells_[i], K, a, P_.display_black, P_.display_peak, &dispk_[3 * i]);
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

// ---------------------------------------------------------------- pass 2
// Joint-bilateral lookup of the adaptation channels (Kopf et al. 2007) for one row: the
// four bilinear corner weights, each times a range weight exp(-d^2 / 2 sigma^2) with d the
// pixel's log2 luminance minus the corner cell's mean log2 luminance (plus 1e-3 so that a
// pixel unlike all four corners falls back to bilinear), normalised. A pixel of the dark
// tree takes the La of the tree's cells, not of the sky cell next to it.
// 2^x for the range weights (x <= 0): clamped at -24 (below the 1e-3 floor added to every
// weight), degree-5 Taylor series on the rounded remainder (rel. error < 2.5e-6, against
// fast_exp2's degree 7 over [-126, 126]).
static inline __attribute__((always_inline)) float jbu_exp2(float x) {
  x = x > -24.0f ? x : -24.0f;
  const float xr = x + 0.5f;
  int32_t ii = (int32_t)xr;
  ii -= (xr < (float)ii) ? 1 : 0;
  const float f = x - (float)ii;
  float p = 1.333355814642844e-03f;
  p = p * f + 9.618129107628477e-03f;
  p = p * f + 5.550410866482158e-02f;
  p = p * f + 2.402265069591007e-01f;
  p = p * f + 6.931471805599453e-01f;
  p = p * f + 1.0f;
  const int32_t bits = (ii + 127) << 23;
  float sc;
  memcpy(&sc, &bits, 4);
  return p * sc;
}

DTUTMO_HOT static void interp_row_jbu(int W, int gw, int nc, int nch, bool rod_any,
                                      const int* __restrict ix, const float* __restrict tx,
                                      float ty, int y0, int y1, const float* __restrict ly,
                                      const float* __restrict guide,
                                      const float* __restrict grid, float* __restrict wq,
                                      float* __restrict ad) {
  const float* __restrict ga = guide + size_t(y0) * gw;
  const float* __restrict gb = guide + size_t(y1) * gw;
  const float c = -0.72134752f / (kLookupRangeSigma * kLookupRangeSigma);  // log2(e) / 2
  float* __restrict w0 = wq;
  float* __restrict w1 = wq + W;
  float* __restrict w2 = wq + 2 * size_t(W);
  float* __restrict w3 = wq + 3 * size_t(W);
  // ix is non-decreasing and constant over runs of ~kCell columns: per run, the four
  // corner values are scalars (broadcast) instead of per-pixel gathers
  for (int xs = 0; xs < W;) {
    const int i0 = ix[xs], i1 = i0 + 1 < gw ? i0 + 1 : i0;
    int xe = xs + 1;
    while (xe < W && ix[xe] == i0) ++xe;
    const float g0 = ga[i0], g1 = ga[i1], g2 = gb[i0], g3 = gb[i1];
    if (!rod_any && nch == kChD0) {
      // photopic whiteboard: only L/M and S are read; both straight from the weights
      // (no round trip of the four weight rows through scratch)
      const float* __restrict a0p = grid + size_t(kChLM) * nc + size_t(y0) * gw;
      const float* __restrict b0p = grid + size_t(kChLM) * nc + size_t(y1) * gw;
      const float* __restrict a1p = grid + size_t(kChS) * nc + size_t(y0) * gw;
      const float* __restrict b1p = grid + size_t(kChS) * nc + size_t(y1) * gw;
      const float p0 = a0p[i0], p1 = a0p[i1], p2 = b0p[i0], p3 = b0p[i1];
      const float q0 = a1p[i0], q1 = a1p[i1], q2 = b1p[i0], q3 = b1p[i1];
      float* __restrict o0 = ad + size_t(kChLM) * W;
      float* __restrict o1 = ad + size_t(kChS) * W;
      for (int x = xs; x < xe; ++x) {
        const float t = tx[x], v = ly[x];
        const float d0 = v - g0, d1 = v - g1, d2 = v - g2, d3 = v - g3;
        const float a0 = (1 - t) * (1 - ty) * (jbu_exp2(c * d0 * d0) + 1e-3f);
        const float a1 = t * (1 - ty) * (jbu_exp2(c * d1 * d1) + 1e-3f);
        const float a2 = (1 - t) * ty * (jbu_exp2(c * d2 * d2) + 1e-3f);
        const float a3 = t * ty * (jbu_exp2(c * d3 * d3) + 1e-3f);
        const float inv = 1.0f / (a0 + a1 + a2 + a3);
        const float e0 = a0 * inv, e1 = a1 * inv, e2 = a2 * inv, e3 = a3 * inv;
        o0[x] = e0 * p0 + e1 * p1 + e2 * p2 + e3 * p3;
        o1[x] = e0 * q0 + e1 * q1 + e2 * q2 + e3 * q3;
      }
      xs = xe;
      continue;
    }
    for (int x = xs; x < xe; ++x) {
      const float t = tx[x], v = ly[x];
      const float d0 = v - g0, d1 = v - g1, d2 = v - g2, d3 = v - g3;
      const float a0 = (1 - t) * (1 - ty) * (jbu_exp2(c * d0 * d0) + 1e-3f);
      const float a1 = t * (1 - ty) * (jbu_exp2(c * d1 * d1) + 1e-3f);
      const float a2 = (1 - t) * ty * (jbu_exp2(c * d2 * d2) + 1e-3f);
      const float a3 = t * ty * (jbu_exp2(c * d3 * d3) + 1e-3f);
      const float inv = 1.0f / (a0 + a1 + a2 + a3);
      w0[x] = a0 * inv;
      w1[x] = a1 * inv;
      w2[x] = a2 * inv;
      w3[x] = a3 * inv;
    }
    for (int k = 0; k < nch; ++k) {
      if (!rod_any && (k == kChRod || k == kChW)) continue;  // not read (responses_core)
      const float* __restrict a = grid + size_t(k) * nc + size_t(y0) * gw;
      const float* __restrict b = grid + size_t(k) * nc + size_t(y1) * gw;
      const float c0 = a[i0], c1 = a[i1], c2 = b[i0], c3 = b[i1];
      float* __restrict o = ad + size_t(k) * W;
      for (int x = xs; x < xe; ++x) o[x] = w0[x] * c0 + w1[x] * c1 + w2[x] * c2 + w3[x] * c3;
    }
    xs = xe;
  }
}

// Bilinear interpolation of the adaptation channels for row y: vertical lerp of two grid
// rows, then horizontal lerp through the per-column tables ix_/tx_ (made at configure).
// With local adaptation on, the joint-bilateral lookup above instead (edge-aware).
void CpuEngine::interp_row(int y, Scratch& s) {
  float gy = (y + 0.5f) / kCell - 0.5f;
  gy = std::min(std::max(gy, 0.0f), float(gh_ - 1));
  const int y0 = std::min(int(gy), gh_ - 1), y1 = std::min(y0 + 1, gh_ - 1);
  const float ty = gy - y0;
  const int nch = P_.display_mode != DisplayMode::Whiteboard ? kAd : kChD0;
  if (jbu_) {
    interp_row_jbu(W_, gw_, gw_ * gh_, nch, rod_any_, ix_.data(), tx_.data(), ty, y0, y1,
                   logy_.data() + size_t(y) * W_, jguide_.data(), gridk_.data(), s.jw.data(),
                   s.ad.data());
    return;
  }
  float* vr = s.vrow.data();
  for (int k = 0; k < nch; ++k) {
    if (!rod_any_ && (k == kChRod || k == kChW)) continue;  // not read (responses_core)
    const float* a = gridk_.data() + (size_t(k) * gh_ + y0) * gw_;
    const float* b = gridk_.data() + (size_t(k) * gh_ + y1) * gw_;
    float* d = vr + size_t(k) * (gw_ + 1);
    for (int i = 0; i < gw_; ++i) d[i] = a[i] + ty * (b[i] - a[i]);
    d[gw_] = d[gw_ - 1];
  }
  interp_h(nch, vr, s.ad.data());
}

DTUTMO_HOT void CpuEngine::interp_h(int nch, const float* __restrict vr, float* __restrict ad) const {
  const int W = W_;
  const int* __restrict ix = ix_.data();
  const float* __restrict tx = tx_.data();
  for (int k = 0; k < nch; ++k) {
    if (!rod_any_ && (k == kChRod || k == kChW)) continue;
    const float* __restrict d = vr + size_t(k) * (gw_ + 1);
    float* __restrict o = ad + size_t(k) * W;
    for (int x = 0; x < W; ++x) {
      const float a = d[ix[x]], b = d[ix[x] + 1];
      o[x] = a + tx[x] * (b - a);
    }
  }
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
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) i0 = logit_n_avx2(u, lo, hi, tab, o, n, noff, !lin, scale);
#endif
  for (int i = i0; i < n; ++i)
    o[i] = scale * logit_n_scalar(tab, std::min(std::max(u[i], lo), hi), noff, !lin);
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
  if (cam) {
    // colour appearance: chroma from the scene's appearance (Hunt effect), tone from u
    // local copies and one restrict pointer per plane: the loop then has no possible
    // aliasing and vectorises (with libmvec's powf/cosf/sinf/atan2f in the AVX2 clone)
    const CamCond cam_s = K.cam_scene, cam_d = K.cam_display;
    const float sref = K.s_ref_display, isref = 1.0f / K.s_ref_display;
    const float* __restrict r0 = r;
    const float* __restrict r1 = r + W;
    const float* __restrict r2 = r + 2 * size_t(W);
    float* __restrict u0 = u;
    float* __restrict u1 = u + W;
    float* __restrict u2 = u + 2 * size_t(W);
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
        const float wv = hw[x] * (1.0f - tk * tk * (3.0f - 2.0f * tk));
        const float kk = kc + wv * (kl[x] - kc);
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
  const float peak = K.peak, black = K.black;
  const float inv_range = 1.0f / std::max(peak - black, 1e-6f);
  const Transfer ot = C_.out.transfer;
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
  const int n3 = 3 * W;
  switch (ot) {
    case Transfer::PQ:
      for (int i = 0; i < n3; ++i) {
        const float v = std::min(std::max(o[i], 0.0f), peak);
        const float yy = fast_pow(std::max(v * 1e-4f, 1e-30f), pq::m1);
        o[i] = fast_pow((pq::c1 + pq::c2 * yy) / (1.0f + pq::c3 * yy), pq::m2);
      }
      break;
    case Transfer::SRGB:
      encode_table(o, n3, enc_tab_.data(), black, inv_range);
      break;
    case Transfer::Linear:
      for (int i = 0; i < n3; ++i) o[i] = std::min(std::max(o[i], 0.0f), peak) / peak;
      break;
    case Transfer::HLG:
      for (int x = 0; x < W; ++x) {
        float* p = o + 3 * x;
        for (int c = 0; c < 3; ++c) p[c] = std::min(std::max(p[c], 0.0f), peak);
        hlg_inv_ootf(p[0], p[1], p[2], peak);
        for (int c = 0; c < 3; ++c) p[c] = hlg_oetf(p[c]);
      }
      break;
    default:  // BT.1886
      encode_table(o, n3, enc_tab_.data(), black, inv_range);
  }
}

void CpuEngine::csf_filter() {
  // Laplacian pyramid of the opponent channels A = (L+M)/2, RG = L - M, YB = (L+M)/2 - S;
  // band k times its gain, the low-pass residual untouched (DC gain exactly 1).
  const int W = W_, H = H_;
  const size_t np = size_t(W) * H;
  float* g0[3] = {pyr_[0][0].data(), pyr_[0][1].data(), pyr_[0][2].data()};
  pool_.run(H, [&](int y, int) {
    for (int x = 0; x < W; ++x) {
      const size_t i = size_t(y) * W + x;
      const float* rr = resp_.data() + size_t(y) * W * 3;
      const float l = rr[x], m = rr[W + x], s = rr[2 * W + x];
      g0[0][i] = 0.5f * (l + m);
      g0[1][i] = l - m;
      g0[2][i] = 0.5f * (l + m) - s;
    }
  });
  (void)np;
  int lv = 0;
  while (lv < kCsfLevels && pw_[lv] > 8 && ph_[lv] > 8) {
    pool_.run(3, [&](int c, int) {
      int ow, oh;
      down2(pyr_[lv][c].data(), pw_[lv], ph_[lv], pyr_[lv + 1][c].data(), &ow, &oh);
    });
    ++lv;
  }
  // Simple and exact formulation: compute bands top-down first.
  // band_k = G_k - up(G_{k+1}) stored in place of G_k, for k = 0..lv-1
  for (int k = 0; k < lv; ++k) {
    pool_.run(3, [&](int c, int) {
      float* up = pyr_tmp_.data() + size_t(c) * np;
      upsample_bilinear(pyr_[k + 1][c].data(), pw_[k + 1], ph_[k + 1], up, pw_[k], ph_[k]);
      float* g = pyr_[k][c].data();
      const size_t n = size_t(pw_[k]) * ph_[k];
      for (size_t i = 0; i < n; ++i) g[i] -= up[i];
    });
  }
  // R = G_lv; R_k = up(R_{k+1}) + gain_k band_k
  for (int k = lv - 1; k >= 0; --k) {
    pool_.run(3, [&](int c, int) {
      float* up = pyr_tmp_.data() + size_t(c) * np;
      upsample_bilinear(pyr_[k + 1][c].data(), pw_[k + 1], ph_[k + 1], up, pw_[k], ph_[k]);
      float* g = pyr_[k][c].data();
      const float gain = csf_gain_[std::min(k, kCsfLevels - 1)][c];
      const size_t n = size_t(pw_[k]) * ph_[k];
      for (size_t i = 0; i < n; ++i) g[i] = up[i] + gain * g[i];
    });
  }
  pool_.run(H, [&](int y, int) {
    for (int x = 0; x < W; ++x) {
      const size_t i = size_t(y) * W + x;
      const float a = g0[0][i], rg = g0[1][i], yb = g0[2][i];
      float* rr = resp_.data() + size_t(y) * W * 3;
      rr[x] = std::min(std::max(a + 0.5f * rg, 0.0f), 0.9999f);
      rr[W + x] = std::min(std::max(a - 0.5f * rg, 0.0f), 0.9999f);
      rr[2 * W + x] = std::min(std::max(a - yb, 0.0f), 0.9999f);
    }
  });
}

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

bool CpuEngine::process(const FrameView& in, const FrameView& out, double time_s,
                        std::string* err) {
  if (!configured_) {
    if (err) *err = "cpu engine: process() before configure()";
    return false;
  }
  if (!check_view(in, C_.in_format, "input", err) || !check_view(out, C_.out_format, "output", err))
    return false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (have_pending_) {
      P_ = pending_;
      have_pending_ = false;
    }
  }
  bool snap;
  double dt;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    snap = fresh_;
    fresh_ = false;
  }
  dt = time_s - last_t_;
  if (!(dt > 0.0 && dt <= 10.0)) snap = true;
  last_t_ = time_s;
  if (snap) st_.frames = 0;

  // balanced buffers (first frame that needs them; stays allocated)
  if (P_.optics && (!optics_ready_ ||
                    !glare_[0].matches(W_, H_, float(W_) / P_.fov_deg, int(P_.glare_max_cells),
                                       P_.observer_age, P_.pigmentation)))
    setup_optics();
  if (P_.base_detail) {
    const float ss = P_.base_scale * float(std::max(W_, H_));
    if (!bgrid_ready_ || bgrid_.ss != std::max(ss, 1.0f)) {
      bgrid_.init(W_, H_, ss, 0.5f, std::log2(kMinNits), std::log2(kMaxNits), pool_.threads());
      bgrid_ready_ = true;
    }
  }
  if (P_.csf && resp_.empty()) {
    const size_t np = size_t(W_) * H_;
    resp_.assign(np * 3, 0.0f);
    pw_[0] = W_;
    ph_[0] = H_;
    for (int k = 0; k <= kCsfLevels; ++k) {
      if (k > 0) {
        pw_[k] = (pw_[k - 1] + 1) / 2;
        ph_[k] = (ph_[k - 1] + 1) / 2;
      }
      for (int c = 0; c < 3; ++c) pyr_[k][c].assign(size_t(pw_[k]) * ph_[k], 0.0f);
    }
    pyr_tmp_.assign(np * 3, 0.0f);
  }

  // per-stream constants
  input_consts(K_, C_.in.primaries);
  K_.in_transfer = int(C_.in.transfer);
  K_.input_scale = P_.input_scale;
  K_.hlg_peak = P_.hlg_peak;
  K_.max_nits = kMaxNits;
  K_.mesopic = P_.mesopic;

  pass1(in);
  low_res(dt, snap);
  pass2(out);

  std::lock_guard<std::mutex> l(state_mu_);
  st_.adaptation_nits = K_.la_global;
  st_.rod_adaptation_nits = K_.la_global_rod;
  st_.pupil_mm = K_.pupil_mm;
  st_.rod_weight = P_.mesopic ? mesopic_weight(K_.la_global) : 0.0f;
  st_.response_low = s_rlo_;
  st_.response_high = s_rhi_;
  st_.display_adapt_nits = K_.disp_la;
  st_.frames++;
  return true;
}

}  // namespace

std::unique_ptr<Engine> create_cpu_engine(int threads) {
  return std::unique_ptr<Engine>(new CpuEngine(threads));
}

}  // namespace dtutmo
