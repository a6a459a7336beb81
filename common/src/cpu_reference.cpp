// dtutmo -- CPU engine, the scalar reference path (create_cpu_reference_engine): every
// pixel through the whole-pixel functions the CUDA kernels call, in the kernels' order:
//   decode     k_decode_* : pio::read_rgb, bad_sample, decode_rgb
//   histogram  k_hist_sample : cell_sample[_jbu], scene_responses, achromatic_response
//   responses  k_responses_plane (CSF on) : the same per pixel
//   pass 2     k_pass2 : per 2x2 block, cell_sample[_jbu], scene_responses (or the CSF
//              plane), sample_grid (hybrid), display_pixel, pio::write_block
// The low-resolution and per-frame work (statistics, pooling, temporal state, frame
// constants, CSF pyramid, optics, bilateral grid) is the engine's own: those are shared
// functions already, called the same way by both paths. Tests compare this path with the
// vectorised row loops: what differs between them is only how the loops are written.
#include <algorithm>

#include "dtutmo/pixel_io.h"
#include "dtutmo/pixel_model.h"
#include "dtutmo/spatial.h"
#include "engine_cpu.h"

namespace dtutmo {
namespace cpu {

// The adaptation channels at pixel (x, y) of log2 luminance ly (the kernels' sample_at).
CellSample CpuEngine::cell_at(int x, int y, float ly, int nch) const {
  const CellGrid g = {gridk_.data(), size_t(gw_) * gh_, 1, gw_, gh_};
  return jbu_ ? cell_sample_jbu(g, jguide_.data(), x, y, ly, nch) : cell_sample(g, x, y, nch);
}

long long CpuEngine::decode_rows_reference(const FrameView& in, int y0, int y1, const DecodeConsts& dc) {
  const pio::FramePlanes f = pio::frame_planes(in);
  const FormatInfo& fi = format_info(in.format);
  const pio::YuvDecode yd = fi.yuv ? pio::yuv_decode(C_.in, fi.bits) : pio::YuvDecode{};
  long long bad = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = 0; x < W_; ++x) {
      float r, g, b;
      pio::read_rgb(f, yd, x, y, r, g, b);
      bad += int(bad_sample(r)) + int(bad_sample(g)) + int(bad_sample(b));
      const Vec3 o = decode_rgb({r, g, b}, dc);
      float* p = lin_.data() + (size_t(y) * W_ + x) * 3;
      p[0] = o.x;
      p[1] = o.y;
      p[2] = o.z;
    }
  return bad;
}

// The linear input of pixel (x, y) scaled to its base (base/detail), and its detail.
static inline Vec3 based(const float* lin, const float* logy, const BilateralGrid* bg, int W, int x,
                         int y, float* detail) {
  const size_t i = size_t(y) * W + x;
  Vec3 c = {lin[3 * i], lin[3 * i + 1], lin[3 * i + 2]};
  *detail = 0.0f;
  if (bg) {
    const float ly = logy[i];
    const float b = bg->slice(float(x), float(y), ly);
    const float g = fast_exp2(b - ly);
    c = {c.x * g, c.y * g, c.z * g};
    *detail = ly - b;
  }
  return c;
}

void CpuEngine::hist_row_reference(int j, uint32_t* hist) {
  const int step = hist_step(W_), nsub = hist_nsub(W_);
  const BilateralGrid* bg = P_.base_detail && bgrid_ready_ ? &bgrid_ : nullptr;
  const int y = std::min(H_ - 1, j * kSub + kSub / 2);
  for (int i = 0; i < ew_; ++i) {
    const int x = std::min(i, nsub - 1) * step + (step >> 1);
    float d;
    const Vec3 rgb = based(lin_.data(), logy_.data(), bg, W_, x, y, &d);
    const CellSample a = cell_at(x, y, logy_[size_t(y) * W_ + x] - d, kChD0);
    const float ra = achromatic_response(scene_responses(rgb, a, K_));
    edge_[size_t(j) * ew_ + i] = ra;
    if (i < nsub && in_picture(K_, x, y)) hist[hist_bin(ra)]++;
  }
}

void CpuEngine::responses_row_reference(int y, float* r) {
  const BilateralGrid* bg = P_.base_detail && bgrid_ready_ ? &bgrid_ : nullptr;
  for (int x = 0; x < W_; ++x) {
    float d;
    const Vec3 rgb = based(lin_.data(), logy_.data(), bg, W_, x, y, &d);
    const Vec3 o = scene_responses(rgb, cell_at(x, y, logy_[size_t(y) * W_ + x] - d, kChD0), K_);
    r[x] = o.x;  // planar, as row_responses
    r[W_ + x] = o.y;
    r[2 * W_ + x] = o.z;
  }
}

void CpuEngine::pass2_band_reference(const FrameView& out, int y0, int y1) {
  const pio::FramePlanes f = pio::frame_planes(out);
  const FormatInfo& fo = format_info(out.format);
  const pio::YuvEncode ye = fo.yuv ? pio::yuv_encode(C_.out, fo.bits) : pio::YuvEncode{};
  const bool dither = P_.dither && fo.bits <= 8;
  const BilateralGrid* bg = P_.base_detail && bgrid_ready_ ? &bgrid_ : nullptr;
  const bool with_dk = P_.display_mode != DisplayMode::Whiteboard;
  const bool hybrid = P_.display_mode == DisplayMode::Hybrid;
  const ColourOpts co = {P_.hue_preserve, P_.saturation, P_.highlight_chroma, P_.lab_hue};
  const DisplayTables tabs = tables();
  for (int by = y0; by < y1; by += 2)
    for (int bx = 0; bx < W_; bx += 2) {
      float o[4][3];
      for (int k = 0; k < 4; ++k) {
        const int x = bx + (k & 1), y = by + (k >> 1);
        o[k][0] = o[k][1] = o[k][2] = 0.0f;
        if (x >= W_ || y >= H_) continue;
        const size_t i = size_t(y) * W_ + x;
        float d;
        const Vec3 rgb = based(lin_.data(), logy_.data(), bg, W_, x, y, &d);
        const CellSample a = cell_at(x, y, logy_[i] - d, with_dk ? kAd : kChD0);
        const float* rr = resp_.empty() ? nullptr : resp_.data() + size_t(y) * W_ * 3;
        const Vec3 r = csf_active_ ? Vec3{rr[x], rr[W_ + x], rr[2 * W_ + x]} : scene_responses(rgb, a, K_);
        DisplayIn din;
        din.hw = hybrid ? sample_grid(edge_.data(), ew_, ew_, eh_, float(kSub), x, y) : 0.0f;
        din.detail_d = d;
        din.detail_on = bg != nullptr;
        const Vec3 e = display_pixel(K_, tabs, r, a, din, co, {lin_[3 * i], lin_[3 * i + 1], lin_[3 * i + 2]});
        o[k][0] = e.x;
        o[k][1] = e.y;
        o[k][2] = e.z;
      }
      pio::write_block(f, ye, bx, by, o, dither);
    }
}

}  // namespace cpu
}  // namespace dtutmo
