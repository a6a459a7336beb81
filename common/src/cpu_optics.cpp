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
    for (int c = 0; c < 3; ++c) {
      glare_[c].init(W_, H_, ppd, cells, P_.observer_age, P_.pigmentation);
      gsrc_[c].assign(size_t(glare_[c].gw()) * glare_[c].gh(), 0.0f);
      gdst_[c].assign(size_t(glare_[c].gw()) * glare_[c].gh(), 0.0f);
    }
  }
  // the veil's columns on the glare grid (by rows, apply_optics), its row scratch
  gcols_.grid(W_, glare_[0].gw(), float(glare_[0].cell()));
  for (Scratch& s : scr_)
    if (s.vrow.size() < size_t(glare_[0].gw()) + 1) s.vrow.resize(size_t(glare_[0].gw()) + 1);
  otf_sigma_px_ = otf_sigma_deg(otf_fc(P_.observer_age)) * ppd;
  // the OTF's full-frame temporary only where the OTF runs (never at video ppd)
  if (otf_sigma_px_ >= 0.3f && otf_tmp_.size() != lin_.size()) otf_tmp_.assign(lin_.size(), 0.0f);
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

// On the decoded linear plane lin_, in place.
void CpuEngine::apply_optics() {
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
  // glare on a display (optics.h): only the light above the frame's high percentile (what
  // the display cannot reproduce) feeds the painted veil. The cells' luminance histogram
  // per thread with the cell averages (integer counts: the sum over threads is the same
  // whichever thread took which row), the excess share by rows after the percentile: both
  // were serial, ~0.4 ms per frame at 1080p (256 x 144 cells)
  for (auto& h : hist_) std::fill(h.begin(), h.end(), 0u);
  // Each cell's sums in double, rows then columns; kGc cells side by side (full cells):
  // one cell at a time, its 3 chains of dependent adds (f^2 = 64 each at 1080p) were
  // latency-bound; 4 cells' 12 chains interleave. Each cell's sums in the same order.
  pool_.run(ggh, [&](int gy, int th) {
    const int y0 = gy * f, y1 = std::min(H_, y0 + f);
    auto put = [&](int gx, const double* a, double n) {
      const size_t i = size_t(gy) * ggw + gx;
      for (int c = 0; c < 3; ++c) gsrc_[c][i] = float(a[c] / n);
      hist_[th][glare_cap_bin(wy.x * gsrc_[0][i] + wy.y * gsrc_[1][i] + wy.z * gsrc_[2][i], kHistBins)]++;
    };
    constexpr int kGc = 4;
    int gx = 0;
    for (; gx + kGc <= ggw && (gx + kGc) * f <= W; gx += kGc) {
      double a[kGc][3] = {};
      for (int y = y0; y < y1; ++y) {
        const float* s = lin_.data() + (size_t(y) * W + size_t(gx) * f) * 3;
        for (int x = 0; x < f; ++x)
          for (int k = 0; k < kGc; ++k) {
            const float* p = s + 3 * (size_t(k) * f + x);
            a[k][0] += p[0];
            a[k][1] += p[1];
            a[k][2] += p[2];
          }
      }
      for (int k = 0; k < kGc; ++k) put(gx + k, a[k], double(y1 - y0) * f);
    }
    for (; gx < ggw; ++gx) {
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
      put(gx, a, double(y1 - y0) * (x1 - x0));
    }
  });
  {
    std::vector<uint32_t>& h = hist_[0];
    for (size_t t = 1; t < hist_.size(); ++t)
      for (int i = 0; i < kHistBins; ++i) h[i] += hist_[t][i];
    const size_t ng = size_t(ggw) * ggh;
    const float tgt = glare_cap_log2(hist_percentile(h.data(), ng, kGlareCapPct));
    const float cap = update_glare_cap(h_gcap_, s_gcap_, tgt, gcap_snap_, gcap_k_);
    pool_.run(ggh, [&](int gy, int) {
      for (size_t i = size_t(gy) * ggw, ie = i + ggw; i < ie; ++i) {
        const float e = glare_excess_share(wy.x * gsrc_[0][i] + wy.y * gsrc_[1][i] + wy.z * gsrc_[2][i], cap);
        for (int c = 0; c < 3; ++c) gsrc_[c][i] *= e;
      }
    });
  }
  tl_.mark("p1.glare.cells");
  // the veil is interpolated in log2 (optics.h veil_log2, add_veil). The 3 channels'
  // FFTs in CpuGlare's phases, each in kParts parts (12 tasks a phase: the 3 channels as
  // 3 tasks kept one of 2 threads idle, par 1.6).
  constexpr int kGp = CpuGlare::kParts;
  pool_.run(3 * kGp, [&](int t, int) { glare_[t / kGp].rows(gsrc_[t / kGp].data(), t % kGp); });
  pool_.run(3 * kGp, [&](int t, int) { glare_[t / kGp].columns(t % kGp); });
  pool_.run(3 * kGp, [&](int t, int) {
    const int c = t / kGp;
    glare_[c].inverse(gdst_[c].data(), t % kGp);
    int y0, y1;
    glare_[c].part_rows(t % kGp, &y0, &y1);
    for (size_t i = size_t(y0) * ggw; i < size_t(y1) * ggw; ++i) gdst_[c][i] = veil_log2(gdst_[c][i]);
  });
  tl_.mark("p1.glare.fft");
  // by rows (cpu_spatial.h bilinear_row: the same bits as sample_grid per pixel): the two
  // grid rows lerped once per row, then a vectorised lerp, exp2 and add per pixel; then
  // pass 1's statistics of the row (log2 luminance, then row_stats: cell sums, bilateral
  // splat) while the row is in L1 (one pass over lin_ for both: as two passes, the
  // statistics re-read the 25 MB frame at 1080p)
  pool_.run(gh_, [&](int task, int th) {
    Scratch& s = scr_[th];
    const int r0 = task * kCell, r1 = std::min(H_, r0 + kCell);
    float* cc;
    float* cs = band_sums(task, &cc);
    float* v = s.rsp.data();  // planar log2 veil, 3 x W (free in pass 1)
    for (int y = r0; y < r1; ++y) {
      int y0, y1;
      float ty;
      grid_interp(grid_pos(y, float(f)), ggh, &y0, &y1, &ty);
      for (int c = 0; c < 3; ++c)
        bilinear_row(gdst_[c].data(), size_t(ggw), y0, y1, ty, gcols_, s.vrow.data(), v + size_t(c) * W);
      add_veil_row(lin_.data() + size_t(y) * W * 3, v, W);
      log_luminance(lin_.data() + size_t(y) * W * 3, logy_.data() + size_t(y) * W, W, wy);
      row_stats(y, th, cs, cc);
    }
  });
}


}  // namespace cpu
}  // namespace dtutmo
