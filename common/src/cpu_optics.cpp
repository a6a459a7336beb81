// dtutmo -- CPU engine, optics (balanced; DESIGN.md section 2): the OTF as the separable
// Gaussian that is its exact spatial pair (skipped below 0.3 px), and CIE 180 glare by
// FFT on a reduced grid (cpu_glare.cpp), upsampled in log2 and added to the linear image.
#include <algorithm>
#include <cmath>

#include "dtutmo/optics.h"
#include "cpu_simd.h"
#include "cpu_spatial.h"
#include "dtutmo/spatial.h"
#include "engine_cpu.h"

namespace dtutmo {
namespace cpu {

void CpuEngine::setup_optics() {
  const float ppd = float(W_) / P_.fov_deg;
  const int cells = int(P_.glare_max_cells);
  if (!glare_[0].matches(W_, H_, ppd, cells, P_.observer_age, P_.pigmentation)) {
    // channels 1 and 2 on the pool (each its own contexts and buffers; the kernel, the same
    // for the three, is channel 0's: the three were ~35 ms at 1080p, most of it the
    // buffers' first touch, serial on the first frame), after channel 0: it makes the
    // kernel, and its av_tx_init calls make libavutil's shared tables first
    auto init = [&](int c, int) {
      glare_[c].init(W_, H_, ppd, cells, P_.observer_age, P_.pigmentation, c == 0, c ? &glare_[0] : nullptr);
      gsrc_[c].assign(size_t(glare_[c].gw()) * glare_[c].gh(), 0.0f);
      gdst_[c].assign(size_t(glare_[c].gw()) * glare_[c].gh(), 0.0f);
    };
    init(0, 0);
    pool_.run(2, [&](int t, int th) { init(t + 1, th); });
  }
  // the veil's columns on the glare grid (by rows, apply_optics), its row scratch
  gcols_.grid(W_, glare_[0].gw(), float(glare_[0].cell()));
  for (Scratch& s : scr_)
    if (s.vrow.size() < size_t(glare_[0].gw()) + 1) s.vrow.resize(size_t(glare_[0].gw()) + 1);
  glare_sums_.assign(scr_.size(), std::vector<double>(size_t(3) * glare_[0].gw()));
  gidx_.clear();
  gidx_.reserve(size_t(glare_[0].gw()) * glare_[0].gh());  // (no allocation per frame; pages as used)
  otf_sigma_px_ = otf_sigma_deg(otf_fc(P_.observer_age)) * ppd;
  // the OTF's full-frame temporary only where the OTF runs (never at video ppd)
  if (otf_sigma_px_ >= kOtfMinSigmaPx && otf_tmp_.size() != lin_.size()) otf_tmp_.assign(lin_.size(), 0.0f);
  optics_ready_ = true;
}

// d (interleaved RGB, W pixels) plus 2^ of the planar log2 veil rows v (3 x W), capped
// (optics.h add_veil).
DTUTMO_HOT static void add_veil_row(float* __restrict d, const float* __restrict v, int W) {
  const float* __restrict v0 = v;
  const float* __restrict v1 = v + W;
  const float* __restrict v2 = v + 2 * size_t(W);
  for (int x = 0; x < W; ++x) {
    d[3 * x] = add_veil(d[3 * x], v0[x], kMaxNits);
    d[3 * x + 1] = add_veil(d[3 * x + 1], v1[x], kMaxNits);
    d[3 * x + 2] = add_veil(d[3 * x + 2], v2[x], kMaxNits);
  }
}

// add_veil_row for a veil that is the same at every pixel (log2 lv: a frame without a
// source cell, whose veil grid is veil_log2(0) everywhere): over n interleaved floats,
// no interpolation. The same bits as add_veil_row's: bilinear_row gives lv itself where
// both corners are lv (fma(0, t, lv)), and the add's lin + p 2^k (fast_exp2's last
// product, which GCC may contract into the add) is lin + the exact 2^lv either way.
DTUTMO_HOT static void add_veil_const(float* __restrict d, float lv, size_t n) {
  for (size_t i = 0; i < n; ++i) d[i] = add_veil(d[i], lv, kMaxNits);
}

// The sums of a block of `rows` rows of `cols` interleaved RGB pixels (row stride `stride`
// floats) in double, per channel into out[3]: 12 double lanes along the row (lane l sums
// channel l % 3; 12 % 3 == 0, so the tail's lanes keep their channels), 3 ymm of
// cvtps2pd and adds in the AVX2 clone. The scalar sums one cell at a time (3 chains of
// dependent addsd, 4 cells side by side) were ~3.2 of p1.glare.cells' 4.1 CPU-ms at
// 1080p. A different order of the double sums than those: the cell averages' float
// rounding differs only where a/n lies within ~1e-13 of a float's rounding boundary.
DTUTMO_HOT static void block_sums(const float* __restrict s, size_t stride, int rows, int cols,
                                  double* __restrict out) {
  double a[12] = {};
  const int n = 3 * cols, full = n / 12 * 12;
  for (int y = 0; y < rows; ++y, s += stride) {
    for (int k = 0; k < full; k += 12)
      for (int l = 0; l < 12; ++l) a[l] += s[k + l];
    for (int k = full; k < n; ++k) a[k - full] += s[k];
  }
  for (int c = 0; c < 3; ++c) out[c] = (a[c] + a[c + 3]) + (a[c + 6] + a[c + 9]);
}

#if defined(__x86_64__) || defined(__i386__)
// block_sums of n cells side by side, each `cols` pixels wide (cols % 4 == 0), into out
// (3 n): per cell 3 ymm accumulators of 4 doubles (GCC's clone of block_sums kept 2-lane
// xmm and spilled them), lane l of accumulator j summing channel (4 j + l) % 3.
__attribute__((target("avx2,fma"))) static void cell_sums_avx2(const float* __restrict s, size_t stride, int rows,
                                                              int cols, int n, double* __restrict out) {
  for (int c = 0; c < n; ++c) {
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0;
    const float* p = s + size_t(c) * cols * 3;
    for (int y = 0; y < rows; ++y, p += stride)
      for (int k = 0; k < 3 * cols; k += 12) {
        a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm_loadu_ps(p + k)));
        a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm_loadu_ps(p + k + 4)));
        a2 = _mm256_add_pd(a2, _mm256_cvtps_pd(_mm_loadu_ps(p + k + 8)));
      }
    alignas(32) double t[12];
    _mm256_store_pd(t, a0);
    _mm256_store_pd(t + 4, a1);
    _mm256_store_pd(t + 8, a2);
    for (int ch = 0; ch < 3; ++ch) out[3 * c + ch] = (t[ch] + t[ch + 3]) + (t[ch + 6] + t[ch + 9]);
  }
}
#endif

// glare: the cell averages of glare row gy (its f rows of lin_) and their luminance
// histogram. On a display (optics.h) only the light above the frame's high percentile
// (what the display cannot reproduce) feeds the painted veil: the cells' luminance
// histogram per thread (integer counts: the sum over threads is the same whichever thread
// took which row). Called by pass 1's decode bands (cpu_decode.cpp: the band's rows are
// still in L2, no second read of the 25 MB frame at 1080p) or by apply_optics after the
// OTF.
void CpuEngine::glare_cells_row(int gy, int th) {
  const int W = W_, f = glare_[0].cell(), ggw = glare_[0].gw();
  const Vec3 wy = K_.in_rgb_to_y;
  const int y0 = gy * f, y1 = std::min(H_, y0 + f);
  const float* row = lin_.data() + size_t(y0) * W * 3;
  double* a = glare_sums_[th].data();  // 3 ggw
  int gx = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (have_avx2() && f % 4 == 0) {
    gx = W / f;  // the full cells
    cell_sums_avx2(row, size_t(W) * 3, y1 - y0, f, gx, a);
  }
#endif
  for (; gx < ggw; ++gx) {
    const int x0 = gx * f, x1 = std::min(W, x0 + f);
    block_sums(row + size_t(x0) * 3, size_t(W) * 3, y1 - y0, x1 - x0, a + 3 * gx);
  }
  // the averages by the count's reciprocal (one division a row of full cells, were 3 a
  // cell: their latency was ~1/4 of what the vectorised sums left); a * (1 / n) and a / n
  // in double round to the same float but within 2^-52 of a float's rounding boundary
  const double rfull = 1.0 / (double(y1 - y0) * f);
  for (gx = 0; gx < ggw; ++gx) {
    const int x0 = gx * f, x1 = std::min(W, x0 + f);
    const double r = x1 - x0 == f ? rfull : 1.0 / (double(y1 - y0) * (x1 - x0));
    const size_t i = size_t(gy) * ggw + gx;
    for (int c = 0; c < 3; ++c) gsrc_[c][i] = float(a[3 * gx + c] * r);
    hist_[th][glare_cap_bin(luminance_of(gsrc_[0][i], gsrc_[1][i], gsrc_[2][i], wy), kHistBins)]++;
  }
}

// On the decoded linear plane lin_, in place.
void CpuEngine::apply_optics(bool cells_done) {
  const int W = W_;
  const Vec3 wy = K_.in_rgb_to_y;
  // OTF: separable Gaussian of its exact spatial pair, when it is wider than a pixel's
  // fraction (optics.h kOtfMinSigmaPx); borders renormalised (spatial.h blur_at).
  if (otf_sigma_px_ >= kOtfMinSigmaPx) {
    float k[2 * kOtfMaxRadius + 1];
    const int rr = gauss_taps(otf_sigma_px_, kOtfMaxRadius, k);
    pool_.run(H_, [&](int y, int) {
      const float* s = lin_.data() + size_t(y) * W * 3;
      float* d = otf_tmp_.data() + size_t(y) * W * 3;
      for (int x = 0; x < W; ++x)
        for (int c = 0; c < 3; ++c) d[3 * x + c] = blur_at([&](int j) { return s[3 * j + c]; }, x, W, k, rr);
    });
    pool_.run(H_, [&](int y, int) {
      float* d = lin_.data() + size_t(y) * W * 3;
      const float* s = otf_tmp_.data();
      for (int x = 0; x < W * 3; ++x)
        d[x] = blur_at([&](int j) { return s[size_t(j) * W * 3 + x]; }, y, H_, k, rr);
    });
  }
  tl_.mark("p1.otf");
  // glare: cell averages, FFT convolution per channel, bilinear add
  const int f = glare_[0].cell(), ggw = glare_[0].gw(), ggh = glare_[0].gh();
  // the cells and their histogram (glare_cells_row; in pass 1's decode bands where no OTF
  // runs), then the excess share by rows after the percentile (both were serial, ~0.4 ms
  // per frame at 1080p)
  if (!cells_done) {
    for (auto& h : hist_) std::fill(h.begin(), h.end(), 0u);
    pool_.run(ggh, [&](int gy, int th) { glare_cells_row(gy, th); });
  }
  {
    std::vector<uint32_t>& h = hist_[0];
    for (size_t t = 1; t < hist_.size(); ++t)
      for (int i = 0; i < kHistBins; ++i) h[i] += hist_[t][i];
    const size_t ng = size_t(ggw) * ggh;
    // the glare cells' bar extent (model.h picture_area: the bars, found before
    // the veil lights the bars)
    glare_extent_ = bar_extent(ggw, ggh, bar_cols_, [&](int i) {
      return lum_lit(luminance_of(gsrc_[0][i], gsrc_[1][i], gsrc_[2][i], wy));
    });
    const float tgt = glare_cap_log2(hist_percentile(h.data(), ng, kGlareCapPct));
    const float cap = update_glare_cap(h_gcap_, s_gcap_, tgt, gcap_snap_, gcap_k_);
    pool_.run(ggh, [&](int gy, int) {
      for (size_t i = size_t(gy) * ggw, ie = i + ggw; i < ie; ++i) {
        const float e = glare_excess_share(luminance_of(gsrc_[0][i], gsrc_[1][i], gsrc_[2][i], wy), cap);
        for (int c = 0; c < 3; ++c) gsrc_[c][i] *= e;
      }
    });
  }
  // the source cells: only those above the cap feed the veil (the 99.9th percentile's
  // excess: a few dozen of the 32400 cells at 1080p on most frames)
  gidx_.clear();
  for (int i = 0, n = ggw * ggh; i < n; ++i)
    if (gsrc_[0][i] != 0.0f || gsrc_[1][i] != 0.0f || gsrc_[2][i] != 0.0f) gidx_.push_back(i);
  tl_.mark("p1.glare.cells");
  // the veil is interpolated in log2 (optics.h veil_log2, add_veil): channel c's rows
  // [y0, y1) of the grid, once the veil's sums are there
  constexpr int kGp = CpuGlare::kParts;
  auto to_log2 = [&](int c, int y0, int y1) {
    for (size_t i = size_t(y0) * ggw; i < size_t(y1) * ggw; ++i) gdst_[c][i] = veil_log2(gdst_[c][i]);
  };
  if (gidx_.size() * kGlareDirectCells <= size_t(ggw) * ggh) {
    // a sparse source by the direct sum (CpuGlare::direct: 3 ggw ggh products a source
    // cell, ~1 us at 1080p, where the 3 FFTs take ~4 CPU-ms whatever the source; an
    // empty source gives no veil, as the FFT's zeros do): by rows, 12 tasks
    const float* src[3] = {gsrc_[0].data(), gsrc_[1].data(), gsrc_[2].data()};
    float* dst[3] = {gdst_[0].data(), gdst_[1].data(), gdst_[2].data()};
    pool_.run(3 * kGp, [&](int t, int) {
      const int y0 = int(long(ggh) * t / (3 * kGp)), y1 = int(long(ggh) * (t + 1) / (3 * kGp));
      glare_[0].direct(src, dst, 3, gidx_.data(), int(gidx_.size()), y0, y1);
      for (int c = 0; c < 3; ++c) to_log2(c, y0, y1);
    });
  } else {
    // the 3 channels' FFTs in CpuGlare's phases, each in kParts parts (12 tasks a phase:
    // the 3 channels as 3 tasks kept one of 2 threads idle, par 1.6)
    pool_.run(3 * kGp, [&](int t, int) { glare_[t / kGp].rows(gsrc_[t / kGp].data(), t % kGp); });
    pool_.run(3 * kGp, [&](int t, int) { glare_[t / kGp].columns(t % kGp); });
    pool_.run(3 * kGp, [&](int t, int) {
      const int c = t / kGp;
      glare_[c].inverse(gdst_[c].data(), t % kGp);
      int y0, y1;
      glare_[c].part_rows(t % kGp, &y0, &y1);
      to_log2(c, y0, y1);
    });
  }
  tl_.mark("p1.glare.fft");
  // by rows (cpu_spatial.h bilinear_row: the same bits as sample_grid per pixel): the two
  // grid rows lerped once per row, then a vectorised lerp, exp2 and add per pixel; then
  // pass 1's statistics of the row (log2 luminance, then row_stats: cell sums, bilateral
  // splat) while the row is in L1 (one pass over lin_ for both: as two passes, the
  // statistics re-read the 25 MB frame at 1080p)
  pool_.run(gh_, [&](int task, int th) {
    Scratch& s = scr_[th];
    const int r0 = task * cell_, r1 = std::min(H_, r0 + cell_);
    float* cc;
    float* cs = band_sums(task, &cc);
    float* v = s.rsp.data();  // planar log2 veil, 3 x W (free in pass 1)
    for (int y = r0; y < r1; ++y) {
      if (gidx_.empty()) {  // no source cell (12 of the 1080p clip's 60 frames)
        add_veil_const(lin_.data() + size_t(y) * W * 3, veil_log2(0.0f), size_t(W) * 3);
      } else {
        int y0, y1;
        float ty;
        grid_interp(grid_pos(y, float(f)), ggh, &y0, &y1, &ty);
        for (int c = 0; c < 3; ++c)
          bilinear_row(gdst_[c].data(), size_t(ggw), y0, y1, ty, gcols_, s.vrow.data(), v + size_t(c) * W);
        add_veil_row(lin_.data() + size_t(y) * W * 3, v, W);
      }
      log_luminance(lin_.data() + size_t(y) * W * 3, logy_.data() + size_t(y) * W, W, wy);
      row_stats(y, th, cs, cc);
    }
  });
}


}  // namespace cpu
}  // namespace dtutmo
