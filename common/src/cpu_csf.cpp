// dtutmo -- CPU engine, the neural CSF (balanced; DESIGN.md section 8): a Laplacian
// pyramid of the opponent channels of the responses, band k times the frame's CSF gain,
// the low-pass residual untouched.
#include <algorithm>

#include "dtutmo/pixel_model.h"
#include "engine_cpu.h"

namespace dtutmo {
namespace cpu {

void CpuEngine::csf_filter() {
  // Laplacian pyramid of the opponent channels A = (L+M)/2, RG = L - M, YB = (L+M)/2 - S;
  // band k times its gain, the low-pass residual untouched (DC gain exactly 1).
  const int W = W_, H = H_;
  float* g0[3] = {pyr_[0][0].data(), pyr_[0][1].data(), pyr_[0][2].data()};
  pool_.run(H, [&](int y, int) {
    for (int x = 0; x < W; ++x) {
      const size_t i = size_t(y) * W + x;
      const float* rr = resp_.data() + size_t(y) * W * 3;
      const Vec3 o = opponent_from_responses(rr[x], rr[W + x], rr[2 * W + x]);
      g0[0][i] = o.x;
      g0[1][i] = o.y;
      g0[2][i] = o.z;
    }
  });
  int lv = 0;
  while (lv < kCsfLevels && pw_[lv] > 8 && ph_[lv] > 8) {
    pool_.run(3, [&](int c, int) {
      int ow, oh;
      down2(pyr_[lv][c].data(), pw_[lv], ph_[lv], pyr_[lv + 1][c].data(), &ow, &oh);
    });
    ++lv;
  }
  // band_k = G_k - up(G_{k+1}) in place of G_k, k = 0 .. lv - 1 (G_{k+1} is still the
  // Gaussian level when band k is made). By rows (cpu_spatial.h upsample_row: the
  // upsampled row in the thread's scratch, no full-frame temporary), rows in parallel.
  // s.row: the upsampled row (W), then the vertical lerp's row (<= W / 2 + 2).
  auto up_row = [&](int k, int c, int y, Scratch& s) {
    float* up = s.row.data();
    upsample_row(pyr_[k + 1][c].data(), pw_[k + 1], ph_[k + 1], up, ph_[k], y, csf_cols_[k], s.row.data() + W);
    return up;
  };
  for (int k = 0; k < lv; ++k) {
    pool_.run(ph_[k], [&](int y, int th) {
      for (int c = 0; c < 3; ++c) {
        const float* up = up_row(k, c, y, scr_[th]);
        float* g = pyr_[k][c].data() + size_t(y) * pw_[k];
        for (int x = 0; x < pw_[k]; ++x) g[x] -= up[x];
      }
    });
  }
  // R = G_lv; R_k = up(R_{k+1}) + gain_k band_k, k = lv - 1 .. 1
  for (int k = lv - 1; k >= 1; --k) {
    pool_.run(ph_[k], [&](int y, int th) {
      for (int c = 0; c < 3; ++c) {
        const float* up = up_row(k, c, y, scr_[th]);
        float* g = pyr_[k][c].data() + size_t(y) * pw_[k];
        const float gain = csf_gain_[std::min(k, kCsfLevels - 1)][c];
        for (int x = 0; x < pw_[k]; ++x) g[x] = csf_rebuild(up[x], g[x], gain);
      }
    });
  }
  // level 0 rebuilt and turned back into responses row by row (no pass over G_0 between)
  pool_.run(H, [&](int y, int th) {
    float* rr = resp_.data() + size_t(y) * W * 3;
    for (int c = 0; c < 3; ++c) {
      float* g = g0[c] + size_t(y) * W;
      if (lv > 0) {
        const float* up = up_row(0, c, y, scr_[th]);
        const float gain = csf_gain_[0][c];
        for (int x = 0; x < W; ++x) g[x] = csf_rebuild(up[x], g[x], gain);
      }
    }
    const float* a = g0[0] + size_t(y) * W;
    const float* rg = g0[1] + size_t(y) * W;
    const float* yb = g0[2] + size_t(y) * W;
    for (int x = 0; x < W; ++x) {
      const Vec3 r = responses_from_opponent(a[x], rg[x], yb[x]);
      rr[x] = r.x;
      rr[W + x] = r.y;
      rr[2 * W + x] = r.z;
    }
  });
}

}  // namespace cpu
}  // namespace dtutmo
