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

void Pooler::init(int w_, int h_) {
  w = w_;
  h = h_;
  lw[0] = w;
  lh[0] = h;
  for (int l = 0; l < 6; ++l) {
    if (l > 0) {
      lw[l] = (lw[l - 1] + 1) / 2;
      lh[l] = (lh[l - 1] + 1) / 2;
    }
    lev[l].assign(size_t(lw[l]) * lh[l], 0.0f);
  }
  tmp.assign(size_t(w) * h, 0.0f);
  work.assign(size_t(w) * h, 0.0f);
  up.assign(size_t(w) * h, 0.0f);
}

void Pooler::pool(const float* in, const float* sigma_cells, const float* weights, int n,
                  float* out) {
  std::memcpy(lev[0].data(), in, sizeof(float) * w * h);
  int built = 0;
  for (int i = 0; i < w * h; ++i) out[i] = 0;
  float wsum = 0;
  std::vector<float>& scratch = tmp;
  for (int k = 0; k < n; ++k) {
    // pick the pyramid level where the sigma is between ~1.5 and 3 cells
    int l = 0;
    float s = sigma_cells[k];
    while (s > 3.0f && l < 5 && lw[l] > 4 && lh[l] > 4) {
      s *= 0.5f;
      ++l;
    }
    while (built < l) {
      int ow, oh;
      down2(lev[built].data(), lw[built], lh[built], lev[built + 1].data(), &ow, &oh);
      ++built;
    }
    // the box downsampling already blurred by ~0.5 cell per level: remove it in quadrature
    const float sb = std::sqrt(std::max(s * s - (l > 0 ? 0.25f : 0.0f), 0.01f));
    std::copy(lev[l].begin(), lev[l].end(), work.begin());
    blur_grid(work.data(), lw[l], lh[l], sb, scratch.data());
    if (l == 0) {
      for (int i = 0; i < w * h; ++i) out[i] += weights[k] * work[i];
    } else {
      upsample_bilinear(work.data(), lw[l], lh[l], up.data(), w, h);
      for (int i = 0; i < w * h; ++i) out[i] += weights[k] * up[i];
    }
    wsum += weights[k];
  }
  for (int i = 0; i < w * h; ++i) out[i] /= wsum;
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
