// dtutmo -- CPU engine, the neural CSF (balanced; DESIGN.md section 8): a Laplacian
// pyramid of the opponent channels of the responses, band k times the frame's CSF gain,
// the low-pass residual untouched.
#include <algorithm>

#include "engine_cpu.h"

namespace dtutmo {
namespace cpu {

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

}  // namespace cpu
}  // namespace dtutmo
