// dtutmo -- spatial helpers of the CPU engine (see cpu_spatial.h).
#include "cpu_spatial.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dtutmo {

void blur_grid(float* img, int w, int h, float sigma, float* tmp) {
  if (sigma <= 0.05f || w <= 0 || h <= 0) return;
  const int r = std::max(1, int(std::ceil(3.0f * sigma)));
  float k[512];
  const int rr = std::min(r, 255);
  for (int i = -rr; i <= rr; ++i) k[i + rr] = std::exp(-0.5f * i * i / (sigma * sigma));
  // horizontal: img -> tmp
  for (int y = 0; y < h; ++y) {
    const float* s = img + size_t(y) * w;
    float* d = tmp + size_t(y) * w;
    for (int x = 0; x < w; ++x) {
      const int a = std::max(0, x - rr), b = std::min(w - 1, x + rr);
      float acc = 0, ws = 0;
      for (int i = a; i <= b; ++i) {
        const float kw = k[i - x + rr];
        acc += kw * s[i];
        ws += kw;
      }
      d[x] = acc / ws;
    }
  }
  // vertical: tmp -> img, row-wise accumulation (cache friendly)
  for (int y = 0; y < h; ++y) {
    const int a = std::max(0, y - rr), b = std::min(h - 1, y + rr);
    float* d = img + size_t(y) * w;
    float ws = 0;
    for (int i = a; i <= b; ++i) ws += k[i - y + rr];
    const float inv = 1.0f / ws;
    for (int x = 0; x < w; ++x) d[x] = 0;
    for (int i = a; i <= b; ++i) {
      const float kw = k[i - y + rr] * inv;
      const float* s = tmp + size_t(i) * w;
      for (int x = 0; x < w; ++x) d[x] += kw * s[x];
    }
  }
}

void down2(const float* in, int w, int h, float* out, int* ow, int* oh) {
  const int W = (w + 1) / 2, H = (h + 1) / 2;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      float acc = 0;
      int n = 0;
      for (int j = 0; j < 2; ++j)
        for (int i = 0; i < 2; ++i) {
          const int sx = 2 * x + i, sy = 2 * y + j;
          if (sx < w && sy < h) acc += in[size_t(sy) * w + sx], ++n;
        }
      out[size_t(y) * W + x] = acc / n;
    }
  *ow = W;
  *oh = H;
}

void upsample_bilinear(const float* in, int sw, int sh, float* out, int dw, int dh) {
  const float fx = float(sw) / dw, fy = float(sh) / dh;
  for (int y = 0; y < dh; ++y) {
    float gy = (y + 0.5f) * fy - 0.5f;
    gy = std::min(std::max(gy, 0.0f), float(sh - 1));
    const int y0 = std::min(int(gy), sh - 1), y1 = std::min(y0 + 1, sh - 1);
    const float ty = gy - y0;
    for (int x = 0; x < dw; ++x) {
      float gx = (x + 0.5f) * fx - 0.5f;
      gx = std::min(std::max(gx, 0.0f), float(sw - 1));
      const int x0 = std::min(int(gx), sw - 1), x1 = std::min(x0 + 1, sw - 1);
      const float tx = gx - x0;
      const float a = in[size_t(y0) * sw + x0] * (1 - tx) + in[size_t(y0) * sw + x1] * tx;
      const float b = in[size_t(y1) * sw + x0] * (1 - tx) + in[size_t(y1) * sw + x1] * tx;
      out[size_t(y) * dw + x] = a * (1 - ty) + b * ty;
    }
  }
}

void EdgePooler::init(int w_, int h_, float dz_, int threads) {
  w = w_;
  h = h_;
  dz = dz_;
  lw[0] = w;
  lh[0] = h;
  for (int l = 1; l < 6; ++l) {
    lw[l] = (lw[l - 1] + 1) / 2;
    lh[l] = (lh[l - 1] + 1) / 2;
  }
  // Capacity for every bin (kMaxBins) reserved now, 16 bins (30 stops at dz = 2) sized
  // (touched); a wider frame sizes more within the capacity: no allocation mid-stream, and
  // only the bins in use are resident. The per-scale results live at their pyramid level
  // (known at the first begin()): 16 bins at level 0 for each of the 4 scales were 8 bytes
  // per pixel.
  splat_.clear();
  splat_.reserve(size_t(kMaxBins) * 2 * w * h);
  splat_.assign(size_t(16) * 2 * w * h, 0.0f);
  used_.assign(kMaxBins, 0);
  for (auto& r : res_) r.clear();
  ts_.assign(std::max(threads, 1), Thread{});
  for (Thread& t : ts_) {
    for (int l = 0; l < 6; ++l) t.lev[l].assign(size_t(2) * lw[l] * lh[l], 0.0f);
    t.tmp.assign(size_t(w) * h, 0.0f);
  }
}

void EdgePooler::begin(const float* in, const float* sigma_cells, const float* weights, int n) {
  guide = in;
  nscale = std::min(n, 4);
  const int nc = w * h;
  float mn = in[0], mx = in[0];
  for (int i = 1; i < nc; ++i) mn = std::min(mn, in[i]), mx = std::max(mx, in[i]);
  // bins at multiples of dz (absolute positions: temporally stable); one empty bin below
  // the lowest value so that the linear splat never reads outside
  dzc = dz;
  while ((mx - mn) / dzc + 3.0f > float(kMaxBins)) dzc *= 2.0f;
  lo = (std::floor(mn / dzc) - 1.0f) * dzc;
  nb = std::min(kMaxBins, int(std::floor((mx - lo) / dzc)) + 2);
  if (splat_.size() < size_t(nb) * 2 * nc) splat_.resize(size_t(nb) * 2 * nc);
  std::fill(splat_.begin(), splat_.begin() + size_t(nb) * 2 * nc, 0.0f);
  const float inv = 1.0f / dzc;
  for (int i = 0; i < nc; ++i) {
    const float t = (in[i] - lo) * inv;
    const int j = std::min(std::max(int(t), 0), nb - 2);
    const float f = t - j;
    float* a = splat_.data() + size_t(j) * 2 * nc;
    float* b = a + size_t(2) * nc;
    a[i] += (1 - f) * in[i];
    a[nc + i] += 1 - f;
    b[i] += f * in[i];
    b[nc + i] += f;
  }
  for (int j = 0; j < nb; ++j) {
    const float* wp = splat_.data() + (size_t(j) * 2 + 1) * nc;
    char u = 0;
    for (int i = 0; i < nc && !u; ++i) u = wp[i] > 0.0f;
    used_[j] = u;
  }
  wsum = 0;
  for (int k = 0; k < nscale; ++k) {
    // the pyramid level where the sigma is between ~0.75 and 1.5 cells: a bilateral grid
    // is sliced with interpolation, it needs no finer sampling than about its sigma
    int l = 0;
    float sc = sigma_cells[k];
    while (sc > 1.5f && l < 5 && lw[l] > 2 && lh[l] > 2) {
      sc *= 0.5f;
      ++l;
    }
    slev[k] = l;
    sblur[k] = std::sqrt(std::max(sc * sc - (l > 0 ? 0.25f : 0.0f), 0.01f));
    swt[k] = weights[k];
    // capacity for every bin (kMaxBins) at the scale's level, so that a frame with a wider
    // range later in the stream does not allocate (test_alloc); only the bins in use are
    // sized, i.e. touched and resident
    const size_t ln = size_t(lw[l]) * lh[l];
    if (res_[k].capacity() < size_t(kMaxBins) * 2 * ln) res_[k].reserve(size_t(kMaxBins) * 2 * ln);
    if (res_[k].size() < size_t(nb) * 2 * ln) res_[k].resize(size_t(nb) * 2 * ln);
    wsum += weights[k];
  }
}

void EdgePooler::process_bin(int j, int thread) {
  Thread& T = ts_[thread];
  const int nc = w * h;
  int built = 0;
  std::memcpy(T.lev[0].data(), splat_.data() + size_t(j) * 2 * nc, sizeof(float) * 2 * nc);
  for (int k = 0; k < nscale; ++k) {
    const int l = slev[k];
    const size_t ln = size_t(lw[l]) * lh[l];
    float* dst = res_[k].data() + size_t(j) * 2 * ln;
    if (!used_[j]) {
      std::fill(dst, dst + 2 * ln, 0.0f);
      continue;
    }
    for (int b = built + 1; b <= l; ++b) {  // each level built once per bin
      int ow, oh;
      const size_t pn = size_t(lw[b - 1]) * lh[b - 1], qn = size_t(lw[b]) * lh[b];
      down2(T.lev[b - 1].data(), lw[b - 1], lh[b - 1], T.lev[b].data(), &ow, &oh);
      down2(T.lev[b - 1].data() + pn, lw[b - 1], lh[b - 1], T.lev[b].data() + qn, &ow, &oh);
    }
    built = std::max(built, l);
    std::memcpy(dst, T.lev[l].data(), sizeof(float) * 2 * ln);
    blur_grid(dst, lw[l], lh[l], sblur[k], T.tmp.data());
    blur_grid(dst + ln, lw[l], lh[l], sblur[k], T.tmp.data());
  }
}

void EdgePooler::slice(int y0, int y1, float* out) const {
  const float inv = 1.0f / dzc;
  for (int y = y0; y < y1; ++y)
    for (int x = 0; x < w; ++x) {
      const int i = y * w + x;
      const float v = guide[i];
      const float t = (v - lo) * inv;
      const int j = std::min(std::max(int(t), 0), nb - 2);
      const float f = t - j;
      float acc = 0;
      for (int k = 0; k < nscale; ++k) {
        const int l = slev[k], sw = lw[l], sh = lh[l];
        const size_t ln = size_t(sw) * sh;
        float gx = (x + 0.5f) * float(sw) / w - 0.5f, gy = (y + 0.5f) * float(sh) / h - 0.5f;
        gx = std::min(std::max(gx, 0.0f), float(sw - 1));
        gy = std::min(std::max(gy, 0.0f), float(sh - 1));
        const int x0 = std::min(int(gx), sw - 1), xa = std::min(x0 + 1, sw - 1);
        const int yb = std::min(int(gy), sh - 1), ya = std::min(yb + 1, sh - 1);
        const float tx = gx - x0, ty = gy - yb;
        const float w00 = (1 - tx) * (1 - ty), w10 = tx * (1 - ty), w01 = (1 - tx) * ty,
                    w11 = tx * ty;
        const size_t c00 = size_t(yb) * sw + x0, c10 = size_t(yb) * sw + xa,
                     c01 = size_t(ya) * sw + x0, c11 = size_t(ya) * sw + xa;
        float num = 0, den = 0;
        for (int dj = 0; dj < 2; ++dj) {
          const float wz = dj ? f : 1 - f;
          const float* pv = res_[k].data() + size_t(j + dj) * 2 * ln;
          const float* pw = pv + ln;
          num += wz * (w00 * pv[c00] + w10 * pv[c10] + w01 * pv[c01] + w11 * pv[c11]);
          den += wz * (w00 * pw[c00] + w10 * pw[c10] + w01 * pw[c01] + w11 * pw[c11]);
        }
        acc += swt[k] * (den > 1e-8f ? num / den : v);
      }
      out[i] = acc / wsum;
    }
}

void BilateralGrid::init(int width, int height, float ss_, float sr_, float lo_, float hi_,
                         int threads) {
  ss = std::max(ss_, 1.0f);
  sr = sr_;
  lo = lo_;
  hi = hi_;
  gx = int(std::ceil(width / ss)) + 3;
  gy = int(std::ceil(height / ss)) + 3;
  gz = int(std::ceil((hi - lo) / sr)) + 3;
  part.assign(threads, std::vector<float>(size_t(gx) * gy * gz * 2, 0.0f));
  grid.assign(size_t(gx) * gy * gz * 2, 0.0f);
  tmp.assign(size_t(gx) * gy * gz * 2, 0.0f);
}

void BilateralGrid::clear() {
  for (auto& p : part) std::fill(p.begin(), p.end(), 0.0f);
}

void BilateralGrid::splat_row(int thread, int y, const float* logy, int w) {
  float* g = part[thread].data();
  const int iy = int((y + 0.5f) / ss + 0.5f) + 1;
  const float inv_ss = 1.0f / ss, inv_sr = 1.0f / sr;
  for (int x = 0; x < w; ++x) {
    const float v = std::min(std::max(logy[x], lo), hi);
    const int ix = int((x + 0.5f) * inv_ss + 0.5f) + 1;
    const int iz = int((v - lo) * inv_sr + 0.5f) + 1;
    float* c = g + ((size_t(iz) * gy + iy) * gx + ix) * 2;
    c[0] += v;
    c[1] += 1.0f;
  }
}

void BilateralGrid::finish() {
  const size_t n = grid.size();
  std::fill(grid.begin(), grid.end(), 0.0f);
  for (auto& p : part)
    for (size_t i = 0; i < n; ++i) grid[i] += p[i];
  // [1 2 1] / 4 blur along x, y, z (twice in space: sigma ~ 1 cell), interleaved pairs
  auto pass = [&](size_t stride, int len, int count_outer) {
    (void)count_outer;
    std::copy(grid.begin(), grid.end(), tmp.begin());
    for (size_t i = 0; i < n / 2; ++i) {
      // coordinate along this axis
      const size_t c = (i / stride) % size_t(len);
      const float* s = tmp.data() + 2 * i;
      float* d = grid.data() + 2 * i;
      const float* a = c > 0 ? s - 2 * stride : s;
      const float* b = c + 1 < size_t(len) ? s + 2 * stride : s;
      d[0] = 0.25f * a[0] + 0.5f * s[0] + 0.25f * b[0];
      d[1] = 0.25f * a[1] + 0.5f * s[1] + 0.25f * b[1];
    }
  };
  for (int it = 0; it < 2; ++it) {
    pass(1, gx, 0);
    pass(size_t(gx), gy, 0);
  }
  pass(size_t(gx) * gy, gz, 0);
}

float BilateralGrid::slice(float x, float y, float logy) const {
  const float v = std::min(std::max(logy, lo), hi);
  const float fx = (x + 0.5f) / ss + 1.0f, fy = (y + 0.5f) / ss + 1.0f, fz = (v - lo) / sr + 1.0f;
  const int x0 = std::min(int(fx), gx - 2), y0 = std::min(int(fy), gy - 2),
            z0 = std::min(int(fz), gz - 2);
  const float tx = fx - x0, ty = fy - y0, tz = fz - z0;
  float num = 0, den = 0;
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i) {
        const float wgt = (i ? tx : 1 - tx) * (j ? ty : 1 - ty) * (k ? tz : 1 - tz);
        const float* c = grid.data() + ((size_t(z0 + k) * gy + y0 + j) * gx + x0 + i) * 2;
        num += wgt * c[0];
        den += wgt * c[1];
      }
  return den > 1e-6f ? num / den : v;
}

}  // namespace dtutmo
