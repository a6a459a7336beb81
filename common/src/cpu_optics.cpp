// dtutmo -- CPU engine, optics (balanced; DESIGN.md section 2): the OTF as the separable
// Gaussian that is its exact spatial pair (skipped below 0.3 px), and CIE 180 glare by
// FFT on a reduced grid (cpu_glare.cpp), upsampled in log2 and added to the linear image.
#include <algorithm>
#include <cmath>

#include "dtutmo/fastmath.h"
#include "dtutmo/optics.h"
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
  otf_sigma_px_ = otf_sigma_deg(otf_fc(P_.observer_age)) * ppd;
  // the OTF's full-frame temporary only where the OTF runs (never at video ppd)
  if (otf_sigma_px_ >= 0.3f && otf_tmp_.size() != lin_.size()) otf_tmp_.assign(lin_.size(), 0.0f);
  optics_ready_ = true;
}

// On the decoded linear plane lin_, in place.
void CpuEngine::apply_optics() {
  const int W = W_;
  const Vec3 wy = K_.in_rgb_to_y;
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
  // glare on a display (optics.h): only the light above the frame's high percentile
  // (what the display cannot reproduce) feeds the painted veil
  {
    std::vector<uint32_t>& h = hist_[0];
    std::fill(h.begin(), h.end(), 0u);
    const size_t ng = size_t(ggw) * ggh;
    for (size_t i = 0; i < ng; ++i)
      h[glare_cap_bin(wy.x * gsrc_[0][i] + wy.y * gsrc_[1][i] + wy.z * gsrc_[2][i], kHistBins)]++;
    const float tgt = glare_cap_log2(hist_percentile(h.data(), ng, kGlareCapPct));
    const float cap = update_glare_cap(h_gcap_, s_gcap_, tgt, gcap_snap_, gcap_k_);
    for (size_t i = 0; i < ng; ++i) {
      const float e = glare_excess_share(wy.x * gsrc_[0][i] + wy.y * gsrc_[1][i] + wy.z * gsrc_[2][i], cap);
      for (int c = 0; c < 3; ++c) gsrc_[c][i] *= e;
    }
  }
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

}  // namespace cpu
}  // namespace dtutmo
