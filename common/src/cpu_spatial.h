// dtutmo -- spatial helpers of the CPU engine, all at reduced resolution or separable:
// normalised Gaussian blur of small grids, pyramid down/upsampling, the edge-aware
// multi-scale log-domain pooling of the adaptation luminance, a bilateral grid.
// Buffers are allocated by the init functions (configure time), never per frame.
#pragma once

#include <vector>

#include "cpu_alloc.h"
#include "cpu_pool.h"
#include "dtutmo/spatial.h"

namespace dtutmo {

// Separable Gaussian blur (sigma in grid cells, nothing below 0.05) of a w x h
// single-channel grid, with normalised weights at the borders (no darkening or
// brightening toward the edges; spatial.h blur_at). `tmp` must hold w*h floats.
constexpr int kBlurMaxRadius = 255;
void blur_grid(float* img, int w, int h, float sigma, float* tmp);
// The same by rows, for rows in parallel: the taps of sigma (on: sigma above 0.05, else
// the blur is the identity), the horizontal pass of rows [y0, y1) from img into tmp, then
// (once every row's is done) the vertical pass of rows [y0, y1) from tmp into img.
struct BlurTaps {
  explicit BlurTaps(float sigma);
  bool on;
  int rr;
  float k[2 * kBlurMaxRadius + 1];
};
// Columns [x0, x1) only (x1 < 0: to w); blur_rows_v reads tmp's rows [s0, s1) only (s1 <
// 0: to h), the others taken as +0 (their terms, +0, are left out: the same sums).
void blur_rows_h(const float* img, float* tmp, int w, int y0, int y1, const BlurTaps& t, int x0 = 0,
                 int x1 = -1);
void blur_rows_v(const float* tmp, float* img, int w, int h, int y0, int y1, const BlurTaps& t, int x0 = 0,
                 int x1 = -1, int s0 = 0, int s1 = -1);
// (CellBox, a box of cells: spatial.h)

// Bilinear resampling by rows (spatial.h bilinear, the same bits as per sample): per
// destination column the lower source column ix and the upper one's weight tx, made once
// per geometry; per row the vertical lerp of the two source rows once per source column
// (grid_vlerp), then one horizontal lerp per destination pixel (vectorised).
struct ColTable {
  std::vector<int> ix;
  std::vector<float> tx;
  int sw = 0;
  // dw destination columns on sw samples: sample i at pixel (i + 0.5) step (grid_pos)...
  void grid(int dw, int sw, float step);
  // ...or at pixel centres scaled by sw / dw (scaled_pos; the pyramids' upsample)
  void scaled(int dw, int sw);
};
// Row of the bilinear sample of plane p (row stride `stride`, ColTable's sw columns)
// between rows y0 and y1 at weight ty (grid_interp), out[0 .. t.ix.size()). vr: scratch of
// sw + 1 floats.
void bilinear_row(const float* p, size_t stride, int y0, int y1, float ty, const ColTable& t,
                  float* vr, float* out);

// 2x2 box downsample (odd sizes: the last row/column averages what exists).
void down2(const float* in, int w, int h, float* out, int* ow, int* oh);
// Its output cells in box b only.
void down2_box(const float* in, int w, int h, float* out, const CellBox& b);
// Bilinear upsample from (sw, sh) to (dw, dh): sample centres aligned (factor dw/sw).
void upsample_bilinear(const float* in, int sw, int sh, float* out, int dw, int dh);
// Its row y alone, by rows (cpu_spatial.h bilinear_row; t: ColTable::scaled(dw, sw), the
// row out[0 .. dw); vr: sw + 1 floats).
// spatial.h down2_at's 2 x 2 box of whole blocks, the same bits (its sum in its order from
// 0, where 0 + -0 is +0, and its division by 4): o[x] for x in [x0, x1) from rows a and b
// (columns 2x, 2x + 1), vectorised (down2_box; the CSF's level 1 from level 0's rows)
void down2_rows(const float* a, const float* b, int x0, int x1, float* o);
void upsample_row(const float* in, int sw, int sh, float* out, int dh, int y, const ColTable& t,
                  float* vr);

// Edge-aware multi-scale pooling of a log-luminance grid (the adaptation map): Gaussians
// of sigma_cells[k] with weights[k], computed on a pyramid so that each blur is a few
// taps, and cross-bilateral, guided by the grid itself (a bilateral grid
// along the log-luminance axis, bins `dz` log2 units apart, anchored at multiples of dz so
// that a static region never moves between bins). Linear splat and slice along z give a
// range kernel of standard deviation ~0.58 dz (zero beyond 2 dz). Each scale is sliced
// separately and normalised, then the scales are mixed with their weights.
// Use: begin() (each cell's bins, each bin's box), process_bin(j, thread) for j < bins()
// (the bin's splat, pyramid and blurs: independent, any thread), slice(y0, y1, out) for
// grid rows (independent). Deterministic.
struct EdgePooler {
  static constexpr int kMaxBins = kEpMaxBins;
  void init(int w, int h, float dz, int threads);
  // (each cell's bins and each bin's box; the splat is process_bin's)
  void begin(const float* in, const float* sigma_cells, const float* weights, int n);
  int bins() const { return nb; }
  void process_bin(int j, int thread);
  void slice(int y0, int y1, float* out) const;
  int w = 0, h = 0, nb = 0, nscale = 0;
  float dz = 2.0f, dzc = 2.0f, lo = 0.0f;
  const float* guide = nullptr;
  float wsum = 1.0f;
  int lw[6], lh[6];
  int slev[4];
  float sblur[4], swt[4];
  std::vector<int> cj_;                  // per cell: its lower bin j (ep_bin; begin)...
  std::vector<float> cf_;                // ...and the upper one's weight f
  CellBox bbox_[kMaxBins];               // per bin: the cells whose j or j + 1 it is (begin)
  std::vector<int> first_, last_;        // begin's scratch: a row's first and last cell of each j
  // one plane of a bin at a level, a blur's taps: on box b only (process_bin)
  void blur_box(float* img, int lw, int lh, const BlurTaps& t, const CellBox& b, float* tmp) const;
  std::vector<float> res_[4];            // per scale: kMaxBins x 2 planes at its level
  struct Axis {                          // per scale, column or row: ep_slice_pos
    std::vector<int> i0, i1;
    std::vector<float> t;
  };
  Axis sx_[4], sy_[4];
  struct Thread {
    std::vector<float> lev[6];  // one bin's pyramid, 2 planes per level
    std::vector<float> tmp;
  };
  std::vector<Thread> ts_;
};

// Bilateral grid on log2 luminance (Chen, Paris & Durand 2007): splat, blur, slice.
struct BilateralGrid : BilateralDesc {  // the grid's geometry (spatial.h)
  // Spatial cell `ss` pixels, range cell `sr` log2 units, over [lo, hi] log2 units.
  // pool (optional): the threads' sums zeroed in parallel (first touch: page faults)
  void init(int width, int height, float ss, float sr, float lo, float hi, int threads, CpuPool* pool = nullptr);
  void splat_row(int thread, int y, const float* logy, int w);
  // Sums the threads' grids (zeroing them: init's zeros and then every finish are where
  // the next splat starts), then blurs; with a pool, in slices of the grid on its threads
  // (the same bits: each cell's sum and taps are the same whichever thread makes it).
  void finish(CpuPool* pool = nullptr);
  float slice(float x, float y, float logy) const; // pixel centre coordinates
  // The base of n pixels of row y at columns i step + step / 2, logy the row's log2
  // luminance (by column), out[i]: slice() by rows (the y lerp once per row for the x-z
  // slab of the row's value range, then bilinear in x and z; the same bits). slab:
  // slab_size() floats of scratch. x0, tx (optional): the n columns' cx0 and ctx compact,
  // logy compact too and step 1 (the response histogram's samples: unit-stride loads and
  // the AVX2 slice, where step kSub gathered each pixel's cells lane by lane: ~38 % of
  // balanced's fc.hist samples; the same bits, as the AVX2 clone's scalar slice).
  void slice_row(int y, const float* logy, int n, int step, float* out, float* slab, const int* x0 = nullptr,
                 const float* tx = nullptr) const;
  size_t slab_size() const { return size_t(gx) * gz * 2; }
  const BilateralDesc& desc() const { return *this; }
  // per thread: gx*gy*gz*2 (fixed-point sum of values, count; spatial.h bgrid_fix), so
  // that the sum over threads does not depend on which thread splatted which rows; on
  // huge pages (1.8 MB each at 1080p: ~450 page faults each as 4 KiB pages)
  std::vector<std::vector<unsigned long long, HugePageAllocator<unsigned long long, (size_t(1) << 19)>>> part;
  std::vector<float> grid, tmp;
  // per thread (kZspan ints apart: a 64-byte line each, written after every row): the
  // least and greatest z cell splatted since the last finish (which sums and blurs only
  // the planes they reach), and the planes [zr[0], zr[1]) that the last finish wrote in
  // grid and tmp (the rest of both is zero)
  static constexpr int kZspan = 16;
  std::vector<int> zspan;
  int zr[2] = {0, 0};
  std::vector<int> cx0;    // per pixel column: lower x cell and the upper one's weight
  std::vector<float> ctx;
};

}  // namespace dtutmo
