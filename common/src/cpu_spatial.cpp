// dtutmo -- spatial helpers of the CPU engine (see cpu_spatial.h).
#include "cpu_spatial.h"

#include "cpu_simd.h"
#include "dtutmo/spatial.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace dtutmo {

// The blurs and the 2x2 box: DTUTMO_AVX2_EXACT (cpu_simd.h; 8 lanes where the default
// build vectorises 4, the same bits). EdgePooler's bins (lr.ep.bins) and the CSF pyramid.

BlurTaps::BlurTaps(float sigma) {
  on = sigma > 0.05f;
  rr = gauss_radius(sigma, kBlurMaxRadius);
  for (int i = -rr; i <= rr; ++i) k[i + rr] = gauss_tap(i, sigma);
}

// 8 floats in GCC vector extensions (two SSE registers in the default clone, one AVX
// register in the AVX2 one; the same IEEE operations per lane).
typedef float v8f __attribute__((vector_size(32)));
#define DTUTMO_LOAD8(v, p) (std::memcpy(&(v), (p), sizeof(v8f)), (v))

// spatial.h blur_at by rows, the same bits: per pixel the taps in the same order from
// acc = 0 with the same weight sum (for the interior pixels, and for every pixel of a
// border row of the vertical pass, one sum of the same taps), one pixel per vector lane
// over the taps' loop instead of one call of blur_at per pixel (not a DTUTMO_HOT clone:
// FMA contraction would change the bits; DTUTMO_AVX2_EXACT's clone has no FMA). ~4x fewer
// samples than blur_at per pixel.
DTUTMO_AVX2_EXACT void blur_rows_h(const float* img, float* tmp, int w, int y0, int y1, const BlurTaps& t, int x0,
                                   int x1) {
  const float* k = t.k;
  const int rr = t.rr;
  if (x1 < 0) x1 = w;
  float wsum = 0.0f;
  for (int i = 0; i <= 2 * rr; ++i) wsum += k[i];
  // interior [xa, xb) of [x0, x1)
  const int xa = std::max(x0, std::min(rr, w)), xb = std::max(xa, std::min(x1, w - rr));
  for (int y = y0; y < y1; ++y) {
    const float* s = img + size_t(y) * w;
    float* __restrict d = tmp + size_t(y) * w;
    for (int x = x0; x < std::min(xa, x1); ++x) d[x] = blur_at([&](int j) { return s[j]; }, x, w, k, rr);
    for (int x = std::max(xb, x0); x < x1; ++x) d[x] = blur_at([&](int j) { return s[j]; }, x, w, k, rr);
    if (xb <= xa) continue;
    // 8 pixels a step with their sums in registers over the taps (a pass over the row per
    // tap loaded and stored every sum once a tap: the stores were ~30 % of the samples)
    int x = xa;
    for (; x + 8 <= xb; x += 8) {
      v8f a = {}, t;
      for (int i = 0; i <= 2 * rr; ++i) a += k[i] * DTUTMO_LOAD8(t, s + x - rr + i);
      a /= wsum;
      std::memcpy(d + x, &a, sizeof a);
    }
    for (; x < xb; ++x) {
      float a = 0.0f;
      for (int i = 0; i <= 2 * rr; ++i) a += k[i] * s[x - rr + i];
      d[x] = a / wsum;
    }
  }
}

DTUTMO_AVX2_EXACT void blur_rows_v(const float* tmp, float* img, int w, int h, int y0, int y1, const BlurTaps& t,
                                   int x0, int x1, int s0, int s1) {
  const float* k = t.k;
  const int rr = t.rr;
  if (x1 < 0) x1 = w;
  if (s1 < 0) s1 = h;
  for (int y = y0; y < y1; ++y) {
    const int a = std::max(y - rr, 0), b = std::min(y + rr, h - 1);
    float ws = 0.0f;
    for (int i = a; i <= b; ++i) ws += k[i - y + rr];
    float* __restrict d = img + size_t(y) * w;
    const int ia = std::max(a, s0), ib = std::min(b, s1 - 1);
    int x = x0;
    for (; x + 8 <= x1; x += 8) {  // (as blur_rows_h: the sums in registers over the taps)
      v8f c = {}, t;
      for (int i = ia; i <= ib; ++i) c += k[i - y + rr] * DTUTMO_LOAD8(t, tmp + size_t(i) * w + x);
      c /= ws;
      std::memcpy(d + x, &c, sizeof c);
    }
    for (; x < x1; ++x) {
      float c = 0.0f;
      for (int i = ia; i <= ib; ++i) c += k[i - y + rr] * tmp[size_t(i) * w + x];
      d[x] = c / ws;
    }
  }
}

void blur_grid(float* img, int w, int h, float sigma, float* tmp) {
  if (w <= 0 || h <= 0) return;
  const BlurTaps t(sigma);
  if (!t.on) return;
  // horizontal: img -> tmp; vertical: tmp -> img (spatial.h blur_at, borders renormalised)
  blur_rows_h(img, tmp, w, 0, h, t);
  blur_rows_v(tmp, img, w, h, 0, h, t);
}

DTUTMO_AVX2_EXACT void down2_rows(const float* __restrict a, const float* __restrict b, int x0, int x1,
                                  float* __restrict o) {
  for (int x = x0; x < x1; ++x) o[x] = (0.0f + a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1]) / 4.0f;
}

DTUTMO_AVX2_EXACT void down2_box(const float* in, int w, int h, float* out, const CellBox& bx) {
  const int W = (w + 1) / 2;
  // the 2x2 blocks that exist whole: down2_at's sum in its order (from 0, row by row) and
  // its division by n = 4, without the per-sample bounds checks (the same bits; the odd
  // last row and column through down2_at)
  const int fw = std::min(w / 2, bx.x1), fh = std::min(h / 2, bx.y1);
  for (int y = bx.y0; y < fh; ++y) {
    const float* a = in + size_t(2 * y) * w;
    float* o = out + size_t(y) * W;
    down2_rows(a, a + w, bx.x0, fw, o);
    for (int x = std::max(fw, bx.x0); x < bx.x1; ++x) o[x] = down2_at(in, w, h, x, y);
  }
  for (int y = std::max(fh, bx.y0); y < bx.y1; ++y)
    for (int x = bx.x0; x < bx.x1; ++x) out[size_t(y) * W + x] = down2_at(in, w, h, x, y);
}

void down2(const float* in, int w, int h, float* out, int* ow, int* oh) {
  *ow = (w + 1) / 2;
  *oh = (h + 1) / 2;
  down2_box(in, w, h, out, CellBox{0, *ow, 0, *oh});
}

void ColTable::grid(int dw, int sw_, float step) {
  sw = sw_;
  ix.resize(dw);
  tx.resize(dw);
  for (int x = 0; x < dw; ++x) {
    int x1;
    grid_interp(grid_pos(x, step), sw, &ix[x], &x1, &tx[x]);
  }
}

void ColTable::scaled(int dw, int sw_) {
  sw = sw_;
  ix.resize(dw);
  tx.resize(dw);
  for (int x = 0; x < dw; ++x) {
    int x1;
    grid_interp(scaled_pos(x, float(sw) / dw), sw, &ix[x], &x1, &tx[x]);
  }
}

// The horizontal lerps of bilinear_row, 8 columns a step without gathers: an upsampling
// table's 8 consecutive columns read at most 8 consecutive source columns (ix rises by at
// most 1 a column when dw >= sw), so the two corners are vr[ix[x]] and vr[ix[x] + 1] taken
// from two 8-float windows at vr[ix[x0]] by vpermps; lerpf's FMA (a + (b - a) t, as GCC
// contracts it in the AVX2 clone's loop: the same bits). Columns whose windows would
// read past vr[sw] (the last ~8 source columns) or span more than 8 go to the scalar
// loop. Returns the first column not done. GCC's loop gathered both corners (two 8-lane
// vgatherdps per 8 columns, which cost per element on AMD): bilinear_row was 4.4 % of
// balanced's samples (1080p clip, the glare veil's 3 channels and the hybrid weight).
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static int lerp_cols_avx2(const float* __restrict vr, int sw,
                                                              const int* __restrict ix,
                                                              const float* __restrict tx, int dw,
                                                              float* __restrict out) {
  int x = 0;
  for (; x + 8 <= dw; x += 8) {
    const int i0 = ix[x];
    if (i0 + 8 > sw || ix[x + 7] - i0 > 7) break;
    const __m256i k = _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(ix + x)),
                                       _mm256_set1_epi32(i0));
    const __m256 a = _mm256_permutevar8x32_ps(_mm256_loadu_ps(vr + i0), k);
    const __m256 b = _mm256_permutevar8x32_ps(_mm256_loadu_ps(vr + i0 + 1), k);
    _mm256_storeu_ps(out + x, _mm256_fmadd_ps(_mm256_sub_ps(b, a), _mm256_loadu_ps(tx + x), a));
  }
  return x;
}
#endif

DTUTMO_HOT void bilinear_row(const float* p, size_t stride, int y0, int y1, float ty,
                             const ColTable& t, float* __restrict vr, float* __restrict out) {
  const int sw = t.sw, dw = int(t.ix.size());
  for (int i = 0; i < sw; ++i) vr[i] = grid_vlerp(p, stride, y0, y1, ty, i);
  vr[sw] = vr[sw - 1];  // grid_interp's clamped upper column (its weight is 0 there)
  const int* __restrict ix = t.ix.data();
  const float* __restrict tx = t.tx.data();
  int x0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (cpu::have_avx2()) x0 = lerp_cols_avx2(vr, sw, ix, tx, dw, out);
#endif
  for (int x = x0; x < dw; ++x) out[x] = lerpf(vr[ix[x]], vr[ix[x] + 1], tx[x]);
}

void upsample_bilinear(const float* in, int sw, int sh, float* out, int dw, int dh) {
  for (int y = 0; y < dh; ++y)
    for (int x = 0; x < dw; ++x) out[size_t(y) * dw + x] = upsample_at(in, sw, sh, dw, dh, x, y);
}

void upsample_row(const float* in, int sw, int sh, float* out, int dh, int y, const ColTable& t,
                  float* vr) {
  int y0, y1;
  float ty;
  grid_interp(scaled_pos(y, float(sh) / dh), sh, &y0, &y1, &ty);
  bilinear_row(in, size_t(sw), y0, y1, ty, t, vr, out);
}

// The least and greatest of n values (n >= 1) by 8 chains (one chain's min / max latency
// bound the loop), each from v[0] (NaN skipped as std::min / std::max do after it): the
// same values as one pass in order, but for the sign of a zero (ep_bins gives the same
// bins for either).
DTUTMO_AVX2_EXACT static void min_max(const float* __restrict v, int n, float* mn, float* mx) {
  float a[8], b[8];
  for (int k = 0; k < 8; ++k) a[k] = b[k] = v[0];
  int i = 1;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) a[k] = std::min(a[k], v[i + k]), b[k] = std::max(b[k], v[i + k]);
  for (; i < n; ++i) a[0] = std::min(a[0], v[i]), b[0] = std::max(b[0], v[i]);
  for (int k = 1; k < 8; ++k) a[0] = std::min(a[0], a[k]), b[0] = std::max(b[0], b[k]);
  *mn = a[0];
  *mx = b[0];
}

// Every cell's bins j, j + 1 and weight f (spatial.h ep_bin), n cells (vectorised), by
// chunks of 256 with the next chunk's lines of cj and cf prefetched: their stores missed
// (the frame's pass 2 evicts them), ~half the loop's samples; lr.ep.begin 0.159-0.185 ->
// 0.146-0.166 ms (3 rounds).
DTUTMO_AVX2_EXACT static void ep_cell_bins(const float* __restrict in, int n, float lo, float inv, int nb,
                                           int* __restrict cj, float* __restrict cf) {
  constexpr int kC = 256;
  for (int i0 = 0; i0 < n; i0 += kC) {
    for (int i = i0 + kC; i < std::min(n, i0 + 2 * kC); i += 16) {
      __builtin_prefetch(cj + i, 1);
      __builtin_prefetch(cf + i, 1);
    }
    for (int i = i0, e = std::min(n, i0 + kC); i < e; ++i) ep_bin(in[i], lo, inv, nb, &cj[i], &cf[i]);
  }
}

// Each bin's box (box[b], nb of them, from empty): the cells whose lower bin j (cj, w x h)
// or upper one j + 1 it is, from each row's first and last cell of each j (stores only:
// the first by a pass from the right; first, last: nb ints of scratch).
DTUTMO_AVX2_EXACT static void ep_bin_boxes(const int* __restrict cj, int w, int h, int nb, CellBox* box,
                                           int* __restrict first, int* __restrict last) {
  for (int y = 0; y < h; ++y) {
    const int* __restrict r = cj + size_t(y) * w;
    int ja = nb, jb = -1;  // (vectorised)
    for (int x = 0; x < w; ++x) ja = std::min(ja, r[x]), jb = std::max(jb, r[x]);
    for (int j = ja; j <= jb; ++j) last[j] = -1;
    for (int x = 0; x < w; ++x) last[r[x]] = x;
    for (int x = w - 1; x >= 0; --x) first[r[x]] = x;
    for (int j = ja; j <= jb; ++j) {
      if (last[j] < 0) continue;
      for (int b = j; b <= j + 1; ++b) {
        CellBox& q = box[b];
        q = {std::min(q.x0, first[j]), std::max(q.x1, last[j] + 1), std::min(q.y0, y), y + 1};
      }
    }
  }
}

// Bin b's splat, its value and weight planes (val, wt; w floats a row) on columns
// [x0, x1) of rows [y0, y1): per cell 0 + (1 - f) v and 0 + (1 - f) where b is its lower
// bin j, 0 + f v and 0 + f where b is j + 1, +0 elsewhere: what the splat's
// read-modify-writes from +0 gave (a cell adds once to each of its two bins), the same
// bits. Vectorised (no FMA in the AVX2 clone: 0 + x is not contracted; as an FMA,
// 0 + (1 - f) v would be the same bits).
DTUTMO_AVX2_EXACT static void ep_splat_box(const float* __restrict in, const int* __restrict cj,
                                           const float* __restrict cf, int w, const CellBox& bx, int b,
                                           float* __restrict val, float* __restrict wt) {
  for (int y = bx.y0; y < bx.y1; ++y)
    for (size_t i = size_t(y) * w + bx.x0, e = size_t(y) * w + bx.x1; i < e; ++i) {
      const int j = cj[i];
      const float f = cf[i];
      const bool m = (j == b) | (j + 1 == b);  // (no || : GCC made masked stores of it)
      const float g = j == b ? 1 - f : f;
      const float v = 0.0f + g * in[i], u = 0.0f + g;
      val[i] = m ? v : 0.0f;
      wt[i] = m ? u : 0.0f;
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
  // No splat planes: each bin's level 0 is made by its process_bin task in its thread's
  // lev[0] (ep_splat_box) on its box (bbox_); the per-scale results live at their pyramid
  // level (known at the first begin()): 16 bins at level 0 for each of the 4 scales were 8
  // bytes per pixel.
  cj_.assign(size_t(w) * h, 0);
  cf_.assign(size_t(w) * h, 0.0f);
  first_.assign(kMaxBins, 0);
  last_.assign(kMaxBins, 0);
  for (auto& r : res_) r.clear();
  for (int k = 0; k < 4; ++k) {
    for (Axis* a : {&sx_[k], &sy_[k]}) {
      const size_t n = a == &sx_[k] ? size_t(w) : size_t(h);
      a->i0.assign(n, 0);
      a->i1.assign(n, 0);
      a->t.assign(n, 0.0f);
    }
  }
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
  float mn, mx;
  min_max(in, nc, &mn, &mx);
  // bins at multiples of dz (absolute positions: temporally stable), spatial.h ep_bins
  ep_bins(mn, mx, dz, &lo, &dzc, &nb);
  // Every cell's bins (ep_bin, once: process_bin and slice read them) and each bin's box:
  // the cells whose j or j + 1 it is (a superset of where its weight is nonzero: f may be
  // 0; ep_bin_boxes). Was the splat itself here, by bands on the pool: per cell four
  // read-modify-writes into its two bins' planes (~14-20 planes of 130 KB at 1080p: from
  // L3 every frame) and the zeroing of the four it wrote the frame before (lr.ep.begin
  // ~0.33 CPU-ms a 1080p frame); each process_bin then scanned its whole weight plane.
  ep_cell_bins(in, nc, lo, 1.0f / dzc, nb, cj_.data(), cf_.data());
  for (int b = 0; b < nb; ++b) bbox_[b] = {w, 0, h, 0};
  ep_bin_boxes(cj_.data(), w, h, nb, bbox_, first_.data(), last_.data());
  wsum = 0;
  for (int k = 0; k < nscale; ++k) {
    ep_level(sigma_cells[k], lw, lh, &slev[k], &sblur[k]);  // spatial.h
    const int l = slev[k];
    swt[k] = weights[k];
    // capacity for every bin (kMaxBins) at the scale's level, so that a frame with a wider
    // range later in the stream does not allocate (test_alloc); only the bins in use are
    // sized, i.e. touched and resident
    const size_t ln = size_t(lw[l]) * lh[l];
    if (res_[k].capacity() < size_t(kMaxBins) * 2 * ln) res_[k].reserve(size_t(kMaxBins) * 2 * ln);
    if (res_[k].size() < size_t(nb) * 2 * ln) res_[k].resize(size_t(nb) * 2 * ln);
    wsum += weights[k];
    for (int x = 0; x < w; ++x) ep_slice_pos(x, w, lw[l], &sx_[k].i0[x], &sx_[k].i1[x], &sx_[k].t[x]);
    for (int y = 0; y < h; ++y) ep_slice_pos(y, h, lh[l], &sy_[k].i0[y], &sy_[k].i1[y], &sy_[k].t[y]);
  }
}

// blur_grid of one lw x lh plane whose cells outside box b are +0: only the cells that
// can differ from +0 (b widened by the taps' radius, horizontally in the first pass, then
// vertically), reading only the rows the first pass wrote; every other cell of the blur
// is a sum of +0 terms, +0, as the plane holds there already. The same bits.
void EdgePooler::blur_box(float* img, int lw_, int lh_, const BlurTaps& t, const CellBox& b, float* tmp) const {
  if (!t.on) return;
  const int x0 = std::max(b.x0 - t.rr, 0), x1 = std::min(b.x1 + t.rr, lw_);
  blur_rows_h(img, tmp, lw_, b.y0, b.y1, t, x0, x1);
  blur_rows_v(tmp, img, lw_, lh_, std::max(b.y0 - t.rr, 0), std::min(b.y1 + t.rr, lh_), t, x0, x1, b.y0, b.y1);
}

// A bin's pyramid and blurs on the box of cells where its planes can be nonzero (its
// splat's weight plane nonzero; the value plane, (1 - f) v or f v, is +0 where its weight
// is), halved per level: a bin holds the cells of its slice of the frame's range, on the
// clip ~40 % of the grid's cells for the bins in use (lr.ep.bins took 0.9 CPU-ms a 1080p
// frame over the whole grid). Outside the box every cell of every level and result is +0,
// as over the whole grid: the same bits.
void EdgePooler::process_bin(int j, int thread) {
  Thread& T = ts_[thread];
  const int nc = w * h;
  int built = 0;
  // level 0, the bin's splat (ep_splat_box), in the thread's lev[0] on its box (begin)
  // and the ring of cells around it (down2_box's blocks read them: +0)
  const CellBox& sb = bbox_[j];
  float* sp = T.lev[0].data();
  if (!sb.empty())
    ep_splat_box(guide, cj_.data(), cf_.data(), w,
                 {std::max(sb.x0 - 1, 0), std::min(sb.x1 + 1, w), std::max(sb.y0 - 1, 0), std::min(sb.y1 + 1, h)}, j,
                 sp, sp + nc);
  // its box (a superset of where its weight is nonzero: f may be 0; the cells of the box
  // with none are +0 in every level and result, as outside it: the same bits; a scan of the
  // weight plane for the exact box cost more than it saved)
  CellBox bx[6];
  bx[0] = sb;
  const bool used = !bx[0].empty();  // the bin has cells
  const float* lev[6] = {sp};
  for (int l = 1; l < 6; ++l) lev[l] = T.lev[l].data();
  for (int k = 0; k < nscale; ++k) {
    const int l = slev[k];
    const size_t ln = size_t(lw[l]) * lh[l];
    float* dst = res_[k].data() + size_t(j) * 2 * ln;
    std::fill(dst, dst + 2 * ln, 0.0f);
    if (!used) continue;
    for (int b = built + 1; b <= l; ++b) {  // each level built once per bin
      const size_t pn = size_t(lw[b - 1]) * lh[b - 1], qn = size_t(lw[b]) * lh[b];
      const CellBox& p = bx[b - 1];
      CellBox& q = bx[b];
      q = {p.x0 / 2, (p.x1 + 1) / 2, p.y0 / 2, (p.y1 + 1) / 2};
      for (int c = 0; c < 2; ++c) {
        float* o = T.lev[b].data() + c * qn;
        down2_box(lev[b - 1] + c * pn, lw[b - 1], lh[b - 1], o, q);
        // the ring of cells around the box (+0) that the next level's blocks read
        const int xa = std::max(q.x0 - 1, 0), xb = std::min(q.x1 + 1, lw[b]);
        if (q.y0 > 0) std::fill(o + size_t(q.y0 - 1) * lw[b] + xa, o + size_t(q.y0 - 1) * lw[b] + xb, 0.0f);
        if (q.y1 < lh[b]) std::fill(o + size_t(q.y1) * lw[b] + xa, o + size_t(q.y1) * lw[b] + xb, 0.0f);
        for (int y = q.y0; y < q.y1; ++y) {
          if (q.x0 > 0) o[size_t(y) * lw[b] + q.x0 - 1] = 0.0f;
          if (q.x1 < lw[b]) o[size_t(y) * lw[b] + q.x1] = 0.0f;
        }
      }
    }
    built = std::max(built, l);
    const CellBox& q = bx[l];
    const BlurTaps taps(sblur[k]);
    for (int c = 0; c < 2; ++c) {
      float* d = dst + c * ln;
      for (int y = q.y0; y < q.y1; ++y)
        std::memcpy(d + size_t(y) * lw[l] + q.x0, lev[l] + c * ln + size_t(y) * lw[l] + q.x0,
                    sizeof(float) * (q.x1 - q.x0));
      blur_box(d, lw[l], lh[l], taps, q, T.tmp.data());
    }
  }
}

// Cells [x, x + 8) of row y by 8 lanes (ep_slice_sums on __m256: the same operations in
// the same order; target avx2 without FMA, so nothing is contracted: the same bits as the
// scalar loop, as tests/model/test_spatial checks); jb, fb: their bins (ep_bin), j0 / j1
// the lowest / highest. The scalar loop's 16 loads per cell and scale (and their address
// arithmetic) were its cost, and 8-lane vgatherdps cost as much. Here the 8 cells' corners
// come from windows: at a scale's level the 8 cells' columns x0 span at most 8 (xa = x0 +
// 1 but at the right edge), so each bin, plane and row is one 8-float load at the lowest
// x0 (and one at x0 + 1 for xa) permuted (vpermps); where the cells' bins span two
// (j0 + 1 = j1), the two windows blended per lane. Else (bins further apart, the right
// edge, a window past the buffer) the corners by vgatherdps.
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static void ep_slice8_avx2(const EdgePooler& P, int y, int x, const int* jb,
                                                           const float* fb, int j0, int j1, float* out) {
  const __m256i j = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(jb));
  const __m256 f = _mm256_loadu_ps(fb), v = _mm256_loadu_ps(P.guide + size_t(y) * P.w + x);
  const __m256 hi = _mm256_castsi256_ps(_mm256_cmpeq_epi32(j, _mm256_set1_epi32(j1)));  // lanes on bin j1
  __m256 acc = {};
  for (int k = 0; k < P.nscale; ++k) {
    const int l = P.slev[k], sw = P.lw[l], ln = P.lw[l] * P.lh[l];
    const EdgePooler::Axis &ax = P.sx_[k], &ay = P.sy_[k];
    const int rb = ay.i0[y] * sw, ra = ay.i1[y] * sw;
    const int* i0 = ax.i0.data() + x;
    const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(i0));
    const float* res = P.res_[k].data();
    __m256 q[2][2][4];
    const int xm = i0[0];  // the lowest x0 (x0 rises with x)
    if (j1 - j0 <= 1 && i0[7] - xm <= 7 && ax.i1[x + 7] == i0[7] + 1 &&
        size_t(j1 + 1) * 2 * ln + ln + std::max(rb, ra) + xm + 9 <= P.res_[k].size()) {
      const __m256i idx = _mm256_sub_epi32(x0, _mm256_set1_epi32(xm));
      const int r[4] = {rb, rb, ra, ra}, d[4] = {0, 1, 0, 1};  // corners 00, 10, 01, 11
      for (int dj = 0; dj < 2; ++dj)
        for (int p = 0; p < 2; ++p)
          for (int i = 0; i < 4; ++i) {
            const float* w = res + size_t(j0 + dj) * 2 * ln + size_t(p) * ln + r[i] + xm + d[i];
            const __m256 lo = _mm256_permutevar8x32_ps(_mm256_loadu_ps(w), idx);
            q[dj][p][i] = j1 == j0 ? lo
                                   : _mm256_blendv_ps(lo, _mm256_permutevar8x32_ps(_mm256_loadu_ps(w + 2 * ln), idx), hi);
          }
    } else {
      const __m256i xa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ax.i1.data() + x));
      const __m256i vb = _mm256_set1_epi32(rb), va = _mm256_set1_epi32(ra);
      const __m256i c[4] = {_mm256_add_epi32(vb, x0), _mm256_add_epi32(vb, xa), _mm256_add_epi32(va, x0),
                            _mm256_add_epi32(va, xa)};
      const __m256i b0 = _mm256_mullo_epi32(j, _mm256_set1_epi32(2 * ln));
      for (int dj = 0; dj < 2; ++dj)
        for (int p = 0; p < 2; ++p) {
          const __m256i b = _mm256_add_epi32(b0, _mm256_set1_epi32(dj * 2 * ln + p * ln));
          for (int i = 0; i < 4; ++i) q[dj][p][i] = _mm256_i32gather_ps(res, _mm256_add_epi32(b, c[i]), 4);
        }
    }
    __m256 num, den;
    ep_slice_sums(q, _mm256_loadu_ps(ax.t.data() + x), _mm256_set1_ps(ay.t[y]), f, &num, &den);
    const __m256 mix = _mm256_blendv_ps(v, _mm256_div_ps(num, den),
                                        _mm256_cmp_ps(den, _mm256_set1_ps(1e-8f), _CMP_GT_OQ));
    acc += P.swt[k] * mix;
  }
  _mm256_storeu_ps(out + size_t(y) * P.w + x, acc / P.wsum);
}
#endif

// spatial.h ep_slice_at with the positions of the scales' columns and rows made once per
// frame (begin): the same bits, ~0.6x the samples of ep_slice_at per cell (two divisions
// and the clamps per cell and scale); with AVX2 8 cells a step (ep_slice8_avx2). The
// cells' bins as begin made them (cj_, cf_).
void EdgePooler::slice(int y0, int y1, float* out) const {
  for (int y = y0; y < y1; ++y) {
    int x = 0;
#if defined(__x86_64__) || defined(__i386__)
    if (cpu::have_avx2())
      for (; x + 8 <= w; x += 8) {
        const int* jb = cj_.data() + size_t(y) * w + x;
        ep_slice8_avx2(*this, y, x, jb, cf_.data() + size_t(y) * w + x, *std::min_element(jb, jb + 8),
                       *std::max_element(jb, jb + 8), out);
      }
#endif
    for (; x < w; ++x) {
      const int i = y * w + x;
      const float v = guide[i], f = cf_[i];
      const int j = cj_[i];
      float acc = 0;
      for (int k = 0; k < nscale; ++k) {
        const int l = slev[k];
        const Axis &ax = sx_[k], &ay = sy_[k];
        acc += swt[k] * ep_slice_mix(res_[k].data(), lw[l], lh[l], ax.i0[x], ax.i1[x], ax.t[x], ay.i0[y],
                                     ay.i1[y], ay.t[y], j, f, v);
      }
      out[i] = acc / wsum;
    }
  }
}

void BilateralGrid::init(int width, int height, float ss_, float sr_, float lo_, float hi_,
                         int threads, CpuPool* pool) {
  static_cast<BilateralDesc&>(*this) = bgrid_desc(width, height, ss_, sr_, lo_, hi_);  // spatial.h
  // the threads' sums (~1.8 MB each at 1080p): their first touch in parallel
  part.assign(threads, {});
  auto zero = [&](int t, int) { part[t].assign(size_t(gx) * gy * gz * 2, 0ull); };
  if (pool) pool->run(threads, zero);
  else
    for (int t = 0; t < threads; ++t) zero(t, 0);
  cx0.resize(width);
  ctx.resize(width);
  for (int x = 0; x < width; ++x) bgrid_pos(float(x), ss, gx, &cx0[x], &ctx[x]);
  grid.assign(size_t(gx) * gy * gz * 2, 0.0f);
  tmp.assign(size_t(gx) * gy * gz * 2, 0.0f);
  zspan.assign(size_t(threads) * kZspan, 0);
  for (int t = 0; t < threads; ++t) zspan[kZspan * t] = gz, zspan[kZspan * t + 1] = -1;
  zr[0] = zr[1] = 0;
}

#if defined(__x86_64__) || defined(__i386__)
// splat_row's cell index (pairs, floats of `part`) and fixed-point value of n pixels from
// x0 (n a multiple of 8), 8 lanes: the same operations as bgrid_cell_xy, bgrid_cell_z
// (mul, then add: not contracted, as in splat_row) and bgrid_fix, whose
// llrint((double)(v - lo) * 2^20) is cvtps2dq of (v - lo) * 2^20 in float (the scaling
// is exact, v - lo >= 0, and below 2^31 where the caller allows this path).
__attribute__((target("avx2,fma"))) static void splat_prep_avx2(const float* __restrict logy, int x0, int n,
                                                              const BilateralDesc& d, int iy, int* __restrict idx,
                                                              uint32_t* __restrict fx, int* zmin, int* zmax) {
  __m256i zlo = _mm256_set1_epi32(*zmin), zhi = _mm256_set1_epi32(*zmax);
  const __m256 lo = _mm256_set1_ps(d.lo), hi = _mm256_set1_ps(d.hi);
  const __m256 inv_ss = _mm256_set1_ps(1.0f / d.ss), inv_sr = _mm256_set1_ps(1.0f / d.sr);
  const __m256 half = _mm256_set1_ps(0.5f), fix = _mm256_set1_ps(float(kBgridFix));
  const __m256i one = _mm256_set1_epi32(1), gxv = _mm256_set1_epi32(d.gx), gyv = _mm256_set1_epi32(d.gy);
  const __m256i iyv = _mm256_set1_epi32(iy);
  __m256i xs = _mm256_add_epi32(_mm256_set1_epi32(x0), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  for (int i = 0; i < n; i += 8, xs = _mm256_add_epi32(xs, _mm256_set1_epi32(8))) {
    const __m256 v = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_loadu_ps(logy + i)));  // std::min / max
    const __m256 dv = _mm256_sub_ps(v, lo);
    const __m256i ix = _mm256_add_epi32(
        _mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(_mm256_add_ps(_mm256_cvtepi32_ps(xs), half), inv_ss), half)), one);
    const __m256i iz = _mm256_add_epi32(_mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(dv, inv_sr), half)), one);
    zlo = _mm256_min_epi32(zlo, iz);
    zhi = _mm256_max_epi32(zhi, iz);
    const __m256i c = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_add_epi32(_mm256_mullo_epi32(iz, gyv), iyv), gxv), ix);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + i), _mm256_slli_epi32(c, 1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(fx + i), _mm256_cvtps_epi32(_mm256_mul_ps(dv, fix)));
  }
  alignas(32) int a[8], b[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(a), zlo);
  _mm256_store_si256(reinterpret_cast<__m256i*>(b), zhi);
  for (int k = 0; k < 8; ++k) {
    *zmin = std::min(*zmin, a[k]);
    *zmax = std::max(*zmax, b[k]);
  }
}
#endif

void BilateralGrid::splat_row(int thread, int y, const float* logy, int w) {
  unsigned long long* g = part[thread].data();
  const float inv_ss = 1.0f / ss, inv_sr = 1.0f / sr;
  const int iy = bgrid_cell_xy(y, inv_ss);
  int zmin = zspan[kZspan * thread], zmax = zspan[kZspan * thread + 1];
  int x0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  // the indices and values by 8 lanes into a chunk, then only the adds scalar (the whole
  // per-pixel arithmetic was scalar: ~5 % of balanced's samples)
  if (cpu::have_avx2() && double(gx) * gy * gz * 2 < 2147483648.0 && double(hi - lo) * kBgridFix < 2147483648.0) {
    constexpr int kChunk = 512;
    alignas(32) int idx[kChunk];
    alignas(32) uint32_t fx[kChunk];
    while (w - x0 >= 8) {
      const int n = std::min(kChunk, (w - x0) & ~7);
      splat_prep_avx2(logy + x0, x0, n, desc(), iy, idx, fx, &zmin, &zmax);
      // the adds as 8 interleaved streams an eighth of the chunk apart (n / 8 >= 1 pixel;
      // 64 at full chunks, more than a cell's ss = 36 px at 1080p): consecutive pixels
      // mostly add into the same cell, one load-add-store chain through store forwarding
      // (~60 % of the loop's samples on the one paddq); streams in different cells overlap
      // (4 streams of 256-pixel chunks: samples 937-1025 -> 435-466; 8 of 512: 366-381).
      // Integer sums: the same grid in any order (bgrid_fix).
      const int q = n / 8;
      for (int i = 0; i < q; ++i)
        for (int k = 0; k < 8; ++k) {
          unsigned long long* c = g + idx[i + k * q];
          c[0] += fx[i + k * q];
          c[1] += 1;
        }
      x0 += n;
    }
  }
#endif
  for (int x = x0; x < w; ++x) {
    const float v = std::min(std::max(logy[x], lo), hi);
    const int ix = bgrid_cell_xy(x, inv_ss);
    const int iz = bgrid_cell_z(v, lo, inv_sr);
    zmin = std::min(zmin, iz);
    zmax = std::max(zmax, iz);
    unsigned long long* c = g + ((size_t(iz) * gy + iy) * gx + ix) * 2;
    c[0] += bgrid_fix(v, lo);  // spatial.h: integer sums, the same in any order
    c[1] += 1;
  }
  zspan[kZspan * thread] = zmin;
  zspan[kZspan * thread + 1] = zmax;
}

// n pairs from pair i0 of the grid's blur (spatial.h bgrid_blur_at) at one coordinate c
// on the axis: the clamps are loop invariants (GCC unswitches them), the loop vectorises.
DTUTMO_HOT static void bgrid_blur_line(const float* __restrict src, float* __restrict dst, size_t i0, size_t n,
                                       size_t c, size_t stride, int len) {
  for (size_t r = 0; r < n; ++r) bgrid_blur_at(src, dst, i0 + r, c, stride, len);
}

void BilateralGrid::finish(CpuPool* pool) {
  const size_t plane = size_t(gx) * gy;  // pairs of one z plane (z-major: planes contiguous)
  // The planes that can be non-zero: the splats' z range [zl, zh] (zspan), one plane more
  // each side after the z blur ([za, zb)); the sums and the x / y passes over two more
  // each side ([a, b): zeros, the z taps' inputs). Only those planes are summed and
  // blurred, and the planes the last finish wrote outside them zeroed: the same grid as
  // over every plane (the rest is 0 + 0 taps of 0), where the content spans ~15 of the
  // ~70 planes of [kMinNits, kMaxNits] at sr = 1/2.
  int zl = gz, zh = -1;
  for (size_t t = 0; t < zspan.size(); t += kZspan) {
    zl = std::min(zl, zspan[t]);
    zh = std::max(zh, zspan[t + 1]);
    zspan[t] = gz;
    zspan[t + 1] = -1;
  }
  const bool any = zh >= zl;
  const int a = any ? std::max(0, zl - 2) : 0, b = any ? std::min(gz, zh + 3) : 0;
  const int za = any ? std::max(0, zl - 1) : 0, zb = any ? std::min(gz, zh + 2) : 0;
  auto zero_planes = [&](float* g, int p0, int p1) {
    if (p1 > p0) std::fill(g + 2 * size_t(p0) * plane, g + 2 * size_t(p1) * plane, 0.0f);
  };
  for (float* g : {grid.data(), tmp.data()}) {  // the last finish's planes outside [a, b)
    zero_planes(g, zr[0], std::min(zr[1], a));
    zero_planes(g, std::max(zr[0], b), zr[1]);
  }
  zr[0] = a;
  zr[1] = b;
  const size_t p0 = size_t(a) * plane, p1 = size_t(b) * plane;  // pairs [p0, p1)
  // Slices of kSlice cells, in parallel with a pool: this was ~2.6 ms per frame on one
  // thread at 1080p (53 x 32 x 57 cells, five passes) while the other core idled.
  constexpr size_t kSlice = 4096;
  const int ns = int((p1 - p0 + kSlice - 1) / kSlice);
  auto run = [&](auto&& fn) {
    auto slice = [&](int s) { fn(p0 + size_t(s) * kSlice, std::min(p1, p0 + size_t(s + 1) * kSlice)); };
    if (pool) pool->run(ns, [&](int s, int) { slice(s); });
    else
      for (int s = 0; s < ns; ++s) slice(s);
  };
  run([&](size_t c0, size_t c1) {
    for (size_t i = 2 * c0; i < 2 * c1; i += 2) {
      unsigned long long acc = 0, cnt = 0;
      for (auto& p : part) {
        acc += p[i];
        cnt += p[i + 1];
        p[i] = p[i + 1] = 0;
      }
      bgrid_unfix(acc, cnt, lo, &grid[i]);
    }
  });
  // [1 2 1] / 4 blur along x, y, z (twice in space: sigma ~ 1 cell), interleaved pairs;
  // each pass from one buffer into the other (the result of an odd count in tmp: swapped).
  // By lines along which the cell's coordinate c on the axis is constant (y and z: the
  // `stride` pairs of one c; x: a row's interior, where any interior c takes the same
  // taps), so that bgrid_blur_at's clamps are loop invariants and bgrid_blur_line
  // vectorises; cell by cell with c counted on, this was ~1 of p1.bgrid's 1.6 CPU-ms
  // a 1080p frame (balanced). The same bits (the taps' products by 1/4 and 1/2 are exact,
  // so no contraction can change a sum). Lines [l0, l1) of each pass: the planes' (x, y:
  // rows and lines l = z gy + y of [a, b); z: the planes [za, zb)).
  float* src = grid.data();
  float* dst = tmp.data();
  auto pass = [&](size_t stride, int len, size_t l0, size_t l1) {
    if (stride == 1 && len < 3) {  // a row of 1 or 2 cells: no interior
      for (size_t i = l0 * size_t(len); i < l1 * size_t(len); ++i) bgrid_blur_at(src, dst, i, i % size_t(len), 1, len);
    } else if (stride == 1) {  // rows of len pairs, 64 a task
      auto rows_fn = [&](int t, int) {
        for (size_t o = l0 + size_t(t) * 64, oe = std::min(l1, o + 64); o < oe; ++o) {
          const size_t i0 = o * size_t(len);
          bgrid_blur_at(src, dst, i0, 0, 1, len);
          bgrid_blur_line(src, dst, i0 + 1, size_t(len) - 2, 1, 1, len);
          bgrid_blur_at(src, dst, i0 + size_t(len) - 1, size_t(len) - 1, 1, len);
        }
      };
      const int nt = int((l1 - l0 + 63) / 64);
      if (pool) pool->run(nt, rows_fn);
      else
        for (int t = 0; t < nt; ++t) rows_fn(t, 0);
    } else {  // lines of `stride` pairs, in tasks of about kSlice pairs
      const size_t per = std::max<size_t>(1, kSlice / stride);
      auto lines_fn = [&](int t, int) {
        for (size_t l = l0 + size_t(t) * per, le = std::min(l1, l + per); l < le; ++l)
          bgrid_blur_line(src, dst, l * stride, stride, l % size_t(len), stride, len);
      };
      const int nt = int((l1 - l0 + per - 1) / per);
      if (pool) pool->run(nt, lines_fn);
      else
        for (int t = 0; t < nt; ++t) lines_fn(t, 0);
    }
    std::swap(src, dst);
  };
  for (int it = 0; it < 2; ++it) {
    pass(1, gx, size_t(a) * gy, size_t(b) * gy);
    pass(size_t(gx), gy, size_t(a) * gy, size_t(b) * gy);
  }
  pass(plane, gz, size_t(za), size_t(zb));
  // the z pass wrote [za, zb) of dst (now src): its planes [a, za) and [zb, b) are the
  // zeros the full blur gives there
  zero_planes(src, a, za);
  zero_planes(src, zb, b);
  grid.swap(tmp);  // five passes: the last one wrote tmp
}

float BilateralGrid::slice(float x, float y, float logy) const {
  return bgrid_slice(grid.data(), desc(), x, y, logy);
}

}  // namespace dtutmo

namespace dtutmo {

#if defined(__x86_64__) || defined(__i386__)
// The least and greatest of v[0 .. n) into *mn, *mx (their start values included), as
// std_min / std_max over the row (NaN skipped: minps / maxps return their second operand,
// the running value): 8 lanes, then the lanes (min and max are associative; a -0 / +0 tie
// may come out either way, the same z cell). GCC left the ordered scalar loop scalar
// (~2 % of balanced's samples).
__attribute__((target("avx2,fma"))) static int minmax_avx2(const float* __restrict v, int n, float* mn,
                                                         float* mx) {
  __m256 a = _mm256_set1_ps(*mn), b = _mm256_set1_ps(*mx);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    a = _mm256_min_ps(x, a);
    b = _mm256_max_ps(x, b);
  }
  alignas(32) float la[8], lb[8];
  _mm256_store_ps(la, a);
  _mm256_store_ps(lb, b);
  for (int k = 0; k < 8; ++k) {
    *mn = std_min(*mn, la[k]);
    *mx = std_max(*mx, lb[k]);
  }
  return i;
}

// slice_row's unit-stride pixels 8 at a time (spatial.h bgrid_slice_xz, as the AVX2 clone
// computes it: lerpf contracted to fma(b - a, t, a)). A pixel's 4 cells (x0, x0 + 1 at z0
// and at z0 + 1) are 2 x 4 adjacent floats of the slab (sum, count, sum, count): two
// 128-bit loads per pixel, transposed 8 x 4 per z row, instead of 8 gathers of 8 lanes
// (GCC's code; AMD gathers cost per element). Returns the pixels done (a multiple of 8).
__attribute__((target("avx2,fma"))) static inline __m256 lerp8(__m256 a, __m256 b, __m256 t) {
  return _mm256_fmadd_ps(_mm256_sub_ps(b, a), t, a);
}
// 4 x 4 transposes per 128-bit lane: s(x0), c(x0), s(x0 + 1), c(x0 + 1), pixels in order
__attribute__((target("avx2,fma"))) static inline void tr(const __m256* m, __m256* s0, __m256* c0, __m256* s1,
                                                          __m256* c1) {
  const __m256 t0 = _mm256_unpacklo_ps(m[0], m[1]), t1 = _mm256_unpackhi_ps(m[0], m[1]);
  const __m256 t2 = _mm256_unpacklo_ps(m[2], m[3]), t3 = _mm256_unpackhi_ps(m[2], m[3]);
  *s0 = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t0), _mm256_castps_pd(t2)));
  *c0 = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t0), _mm256_castps_pd(t2)));
  *s1 = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(t1), _mm256_castps_pd(t3)));
  *c1 = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(t1), _mm256_castps_pd(t3)));
}
// kPow2: d.sr a power of two, bgrid_zpos's (v - lo) / sr as the product by 1 / sr (exact:
// the same bits, one division of the two a step fewer; balanced's sr is 1/2)
template <bool kPow2>
__attribute__((target("avx2,fma"))) static int slice_xz_avx2(const float* __restrict logy, int n,
                                                           const BilateralDesc& d, const int* __restrict cx0,
                                                           const float* __restrict ctx, const float* __restrict slab,
                                                           float* __restrict out) {
  const __m256 lo = _mm256_set1_ps(d.lo), hi = _mm256_set1_ps(d.hi), sr = _mm256_set1_ps(d.sr);
  const __m256 isr = _mm256_set1_ps(1.0f / d.sr);
  const __m256 one = _mm256_set1_ps(1.0f), eps = _mm256_set1_ps(1e-6f);
  const __m256i zmax = _mm256_set1_epi32(d.gz - 2), gx = _mm256_set1_epi32(d.gx);
  const size_t rs = size_t(d.gx) * 2;  // a z row of the slab, floats
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    // std_min(std_max(v, lo), hi): maxps / minps return their second operand on NaN
    const __m256 v = _mm256_min_ps(hi, _mm256_max_ps(lo, _mm256_loadu_ps(logy + i)));
    // bgrid_zpos
    const __m256 dv = _mm256_sub_ps(v, lo);
    const __m256 f = _mm256_add_ps(kPow2 ? _mm256_mul_ps(dv, isr) : _mm256_div_ps(dv, sr), one);
    const __m256i fi = _mm256_cvttps_epi32(f);
    const __m256i z0 = _mm256_blendv_epi8(zmax, fi, _mm256_cmpgt_epi32(zmax, fi));  // (int)f < gz - 2
    const __m256 tz = _mm256_sub_ps(f, _mm256_cvtepi32_ps(z0));
    const __m256 tx = _mm256_loadu_ps(ctx + i);
    alignas(32) int b[8];  // the pixels' (z0, x0) pair index, floats
    _mm256_store_si256(reinterpret_cast<__m256i*>(b),
                       _mm256_slli_epi32(_mm256_add_epi32(_mm256_mullo_epi32(z0, gx),
                                                          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cx0 + i))),
                                         1));
    __m256 m0[4], m1[4];  // pixel p and p + 4: (s, c) at x0, x0 + 1; z0 and z0 + 1
    for (int p = 0; p < 4; ++p) {
      const float* a = slab + b[p];
      const float* c = slab + b[p + 4];
      m0[p] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(a)), _mm_loadu_ps(c), 1);
      m1[p] = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(a + rs)), _mm_loadu_ps(c + rs), 1);
    }
    __m256 s00, c00, s10, c10, s01, c01, s11, c11;  // s<x><z>
    tr(m0, &s00, &c00, &s10, &c10);
    tr(m1, &s01, &c01, &s11, &c11);
    const __m256 num = lerp8(lerp8(s00, s10, tx), lerp8(s01, s11, tx), tz);
    const __m256 den = lerp8(lerp8(c00, c10, tx), lerp8(c01, c11, tx), tz);
    _mm256_storeu_ps(out + i, _mm256_blendv_ps(v, _mm256_div_ps(num, den), _mm256_cmp_ps(den, eps, _CMP_GT_OQ)));
  }
  return i;
}
#endif

DTUTMO_HOT void BilateralGrid::slice_row(int y, const float* __restrict logy, int n, int step,
                                         float* __restrict out, float* __restrict slab, const int* x0c,
                                         const float* txc) const {
  const BilateralDesc d = desc();  // locals: the member loads would not vectorise (aliasing)
  const float lo = d.lo, hi = d.hi;
  int y0;
  float ty;
  bgrid_pos(float(y), d.ss, d.gy, &y0, &ty);
  const int off = step >> 1;
  // the z cells the row's values reach (clamped as bgrid_slice clamps)
  float mn = hi, mx = lo;
  int i0 = 0;
#if defined(__x86_64__) || defined(__i386__)
  if (step == 1 && cpu::have_avx2()) i0 = minmax_avx2(logy, n, &mn, &mx);
#endif
  for (int i = i0; i < n; ++i) {
    const float v = logy[step == 1 ? i : i * step + off];
    mn = std_min(mn, v);
    mx = std_max(mx, v);
  }
  int za, zb;
  float t;
  bgrid_zpos(std_min(std_max(mn, lo), hi), d, &za, &t);
  bgrid_zpos(std_min(std_max(mx, lo), hi), d, &zb, &t);
  const float* g = grid.data();
  for (int z = za; z <= zb + 1; ++z) {
    // spatial.h bgrid_ylerp over the slab's row z (pairs interleaved: 2 gx floats)
    const size_t rs = size_t(d.gx) * 2;
    const float* __restrict a = g + (size_t(z) * d.gy + y0) * rs;
    float* __restrict sz = slab + size_t(z) * rs;
    for (size_t x = 0; x < rs; ++x) sz[x] = bgrid_ylerp_at(a + x, rs, ty);
  }
  const int* __restrict x0 = x0c ? x0c : cx0.data();
  const float* __restrict tx = txc ? txc : ctx.data();
  const int sgx = d.gx;
  // int indices: GCC gathers with 32-bit offsets (a size_t index left the loop scalar)
  auto ld = [&](int i, int k, int c) { return slab[(k * sgx + i) * 2 + c]; };
  auto px = [&](int i, int x) __attribute__((always_inline)) {
    const float v = std_min(std_max(logy[x], lo), hi);
    int z0;
    float tz;
    bgrid_zpos(v, d, &z0, &tz);
    out[i] = bgrid_slice_xz(ld, x0[x], tx[x], z0, tz, v);
  };
  if (step == 1) {  // unit-stride loads (a run-time stride forces gathers)
    int i = 0;
#if defined(__x86_64__) || defined(__i386__)
    if (cpu::have_avx2()) {
      int e;
      const bool pow2 = std::frexp(d.sr, &e) == 0.5f && e > -125 && e < 125;  // 1 / sr exact
      i = pow2 ? slice_xz_avx2<true>(logy, n, d, x0, tx, slab, out)
               : slice_xz_avx2<false>(logy, n, d, x0, tx, slab, out);
    }
#endif
    for (; i < n; ++i) px(i, i);
  } else {
    for (int i = 0; i < n; ++i) px(i, i * step + off);
  }
}

}  // namespace dtutmo
