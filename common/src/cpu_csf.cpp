// dtutmo -- CPU engine, the neural CSF (balanced; DESIGN.md section 8): a Laplacian
// pyramid of the opponent channels of the responses, band k times the frame's CSF gain,
// the low-pass residual untouched.
#include <algorithm>

#include "cpu_simd.h"
#include "dtutmo/pixel_model.h"
#include "engine_cpu.h"

namespace dtutmo {
namespace cpu {

// A row of responses (planar L, M, S rows of r, W apart) into the opponent channels, in
// place: by pass 2's responses pass right after the row is written (in L1), where
// csf_filter's own pass read and wrote the 25 MB of level 0 again at 1080p.
// pf: the next row's lines, prefetched by 64-column chunks.
DTUTMO_HOT void CpuEngine::csf_opponent_row(float* __restrict r, int w, const RowPrefetch& pf) {
  float* __restrict a = r;
  float* __restrict rg = r + w;
  float* __restrict yb = r + 2 * size_t(w);
  constexpr int kChunk = 64;
  for (int c0 = 0; c0 < w; c0 += kChunk) {
    const int c1 = std::min(w, c0 + kChunk);
    pf(c0, c1);
    for (int x = c0; x < c1; ++x) {
      const Vec3 o = opponent_from_responses(a[x], rg[x], yb[x]);
      a[x] = o.x;
      rg[x] = o.y;
      yb[x] = o.z;
    }
  }
}

void CpuEngine::csf_filter(bool level0) {
  // Laplacian pyramid of the opponent channels A = (L+M)/2, RG = L - M, YB = (L+M)/2 - S;
  // band k times its gain, the low-pass residual untouched (DC gain exactly 1).
  // Level 0 is resp_ itself, in opponent channels (its planar rows: channel c of row y at
  // y 3W + c W; pass 2's responses pass made them, csf_opponent_row), turned back at the
  // end (level0) or row by row by pass 2's band loop (csf_row): no full-frame level 0.
  const int W = W_, H = H_;
  const size_t rs0 = size_t(3) * W;  // level 0's row stride
  auto row = [&](int k, int c, int y) {
    return k == 0 ? resp_.data() + size_t(y) * rs0 + size_t(c) * W : pyr_[k][c].data() + size_t(y) * pw_[k];
  };
  int lv = 0;
  if (pw_[0] > 8 && ph_[0] > 8 && kCsfLevels > 0) {  // level 1 from level 0's rows
    pool_.run(ph_[1], [&](int y, int) {
      for (int c = 0; c < 3; ++c) {
        float* o = pyr_[1][c].data() + size_t(y) * pw_[1];
        // whole blocks by down2_rows (the same bits; per output with the bounds tests and a
        // division, ~120 samples of the clip's balanced run on its CSF frames), the odd
        // last column and row by down2_at_stride
        int x = 0;
        if (2 * y + 1 < H) {
          x = W / 2;
          down2_rows(row(0, c, 2 * y), row(0, c, 2 * y + 1), 0, x, o);
        }
        for (; x < pw_[1]; ++x) o[x] = down2_at_stride(resp_.data() + size_t(c) * W, rs0, W, H, x, y);
      }
    });
    lv = 1;
  }
  while (lv < kCsfLevels && pw_[lv] > 8 && ph_[lv] > 8) {
    pool_.run(3, [&](int c, int) {
      int ow, oh;
      down2(pyr_[lv][c].data(), pw_[lv], ph_[lv], pyr_[lv + 1][c].data(), &ow, &oh);
    });
    ++lv;
  }
  csf_lv_ = lv;
  // The rebuild R_lv = G_lv, R_k = up(R_{k+1}) + g_k band_k (band_k = G_k - up(G_{k+1}))
  // from the Gaussian levels, without the bands: up is linear, so R_k = g_k G_k +
  // up(D_{k+1}) with D_k = R_k - g_{k-1} G_k = (g_k - g_{k-1}) G_k + up(D_{k+1}), D_lv =
  // (1 - g_{lv-1}) G_lv, each D_k in place of G_k (csf_rebuild(up, G_k, g_k - g_{k-1})),
  // then R_0 = csf_rebuild(up(D_1), G_0, g_0). The band passes (an upsample and a read
  // and write of every level, 25 MB at level 0 at 1080p) are gone: p2.csf.filter 2.2 -> 1.5
  // CPU-ms a 1080p frame. The same sums as the bands' up to float rounding (the
  // CUDA engine keeps the bands; the element's output on the 1080p clip within 1 code).
  // By rows (cpu_spatial.h upsample_row: the upsampled row in the thread's scratch, no
  // full-frame temporary), rows in parallel.
  auto gain = [&](int k, int c) { return csf_gain_[std::min(k, kCsfLevels - 1)][c]; };
  if (lv > 0)
    pool_.run(3, [&](int c, int) {
      float* g = pyr_[lv][c].data();
      const float d = 1.0f - gain(lv - 1, c);
      for (size_t i = 0, n = size_t(pw_[lv]) * ph_[lv]; i < n; ++i) g[i] *= d;
    });
  for (int k = lv - 1; k >= 1; --k) {
    pool_.run(ph_[k], [&](int y, int th) {
      for (int c = 0; c < 3; ++c) {
        const float* up = csf_up_row(k, c, y, scr_[th]);
        float* g = row(k, c, y);
        const float d = gain(k, c) - gain(k - 1, c);
        for (int x = 0; x < pw_[k]; ++x) g[x] = csf_rebuild(up[x], g[x], d);
      }
    });
  }
  // level 0 rebuilt and turned back into responses row by row (in place in resp_)
  if (level0) pool_.run(H, [&](int y, int th) { csf_row(y, scr_[th], resp_.data() + size_t(y) * rs0); });
}

// level k's row y of channel c upsampled from level k + 1 (D_{k+1}) into s.row (W), the
// vertical lerp's row after it (<= W / 2 + 2)
const float* CpuEngine::csf_up_row(int k, int c, int y, Scratch& s) {
  float* up = s.row.data();
  upsample_row(pyr_[k + 1][c].data(), pw_[k + 1], ph_[k + 1], up, ph_[k], y, csf_cols_[k], s.row.data() + W_);
  return up;
}

// R_0's row y (csf_filter's last step) into out, planar (out == level 0's row allowed: in
// place). In pass 2's band loop (csf_row of the row it displays, into the thread's row)
// where it was a pass of its own over resp_: the 25 MB of level 0 at 1080p read and
// written once more between the rebuild and the band loop's read.
void CpuEngine::csf_row(int y, Scratch& s, float* out) {
  const int W = W_;
  const float* g0 = resp_.data() + size_t(y) * 3 * W;
  for (int c = 0; c < 3; ++c) {
    const float* g = g0 + size_t(c) * W;
    float* o = out + size_t(c) * W;
    if (csf_lv_ > 0) {
      const float* up = csf_up_row(0, c, y, s);
      const float gc = csf_gain_[0][c];
      for (int x = 0; x < W; ++x) o[x] = csf_rebuild(up[x], g[x], gc);
    } else if (o != g) {
      std::copy(g, g + W, o);
    }
  }
  float* a = out;
  float* rg = out + W;
  float* yb = out + 2 * size_t(W);
  for (int x = 0; x < W; ++x) {
    const Vec3 r = responses_from_opponent(a[x], rg[x], yb[x]);
    a[x] = r.x;
    rg[x] = r.y;
    yb[x] = r.z;
  }
}

}  // namespace cpu
}  // namespace dtutmo
