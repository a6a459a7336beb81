// dtutmo -- the CPU engine's block model (model-resolution=half, quarter): for a 4:2:0 YUV
// input and an 8-bit 4:2:0 BT.1886 output, the model runs on the frame's 2x2 block means
// (half: a quarter of the pixels, the chroma samples' own grid) or 4x4 block means
// (quarter: a sixteenth; each block holds 2x2 chroma samples) and each pixel takes its
// block's output scaled by the local tone slope (docs/DESIGN.md "The model at half
// resolution", "The model on 4x4 blocks"). Below, for 2x2 blocks; 4x4 ones alike (their
// means by 16 codes, their chroma the block's 2x2 samples toward its centre, each chroma
// sample of the output its block's chroma times its own 2x2 pixels' mean s).
//
// Per frame:
//  1. down: each 2x2 block's mean luma code and its chroma sample (moved to the block's
//     centre by the siting's weights) into a half-size Y444_16LE frame;
//  2. the unchanged CPU engine on that frame (the same parameters and temporal state; its
//     adaptation cells of 4 pixels below 3840x2160, the per-pixel engine's grid in the
//     picture, 8 above; on 4x4 blocks 2 and 4), R'G'B' floats out (RGBF32, BT.1886);
//  3. per block: x, the log2 luminance of a grey at the block's mean luma code (the table
//     G of the input's luma code, made by the shared decode: pixel_model.h), y, the log2
//     of the output's luma to the 2.4th power (BT.1886's light), and two local slopes of
//     y against x through the block's point, least squares over its brighter and over its
//     darker neighbours among the 3x3 blocks, drawn toward 1 where they barely differ (a
//     guided upsampling of the tone, one slope a side of the block's mean so that an edge
//     through a block gives each side its side's output);
//  4. per pixel: s = 2^(b (G(code) - x) / 2.4), b its side's slope, bounded by its side's
//     neighbours (no overshoot) and kept in [the darkest block's luma / the block's, 1 /
//     the block's largest R'G'B'] (never below the frame's black, never out of gamut);
//     Y' = s Y'blk (BT.1886 is a pure power: the pixel's light is the block's times
//     2^(b (G - x)), its hue the block's); the chroma sample the block's chroma times the
//     siting-weighted mean of its pixels' s.
// A flat block gives the block's output exactly (s = 1). The engine is a CpuEngine member
// so that the element, the tools and the tests see one engine.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cpu_alloc.h"
#include "cpu_pool.h"
#include "dtutmo/convert.h"
#include "dtutmo/engine.h"

namespace dtutmo {
namespace cpu {

// Whether a stream can run the model at half resolution: a 4:2:0 YUV input (P010, P012,
// P016, I420_10LE, I420_12LE) and an 8-bit 4:2:0 YUV output (I420, NV12) with BT.1886,
// at least 2x2 pixels.
bool half_model_fits(const StreamConfig& c);
// Whether model-resolution=auto runs it: a stream it fits of at least 1920 pixels across or
// 1080 down (HD and above). Measured through the element on the procedural scenes, fast,
// mean |dY'| against the per-pixel model: 0.13-0.96 codes at 1920x1080, 0.12-1.30 at
// 3840x2160 (docs/DESIGN.md "The model at half resolution"); on 4x4 blocks (fast)
// 0.19-0.96 and 0.31-1.15; below HD the per-pixel model itself moves more with its
// cells' size (night at 640x360: 7.9 codes between cells of 8 and of 4 pixels), 4x4 blocks
// at 1280x720 were 2-3 codes off on night, and the blocks gain less.
constexpr int kHalfAutoWidth = 1920, kHalfAutoHeight = 1080;
bool half_model_auto(const StreamConfig& c);
// The inner engine's adaptation cells (CpuEngine::set_cell): 4 pixels, which are 8 of the
// input's, the per-pixel engine's cells in the picture; at 3840 across or 2160 down and
// above 8 (16 of the input's: as large in the picture as the per-pixel engine's at
// 1920x1080, measured within 0.2-1.3 codes; cells of 4 there were closer, 0.1-0.7, and
// ~10 % slower).
constexpr int kHalfCoarseWidth = 3840, kHalfCoarseHeight = 2160;
int half_model_inner_cell(const StreamConfig& c);
// The block's side under parameters p: 4 for model-resolution=quarter, and for auto where
// none of balanced's spatial stages runs (optics, base/detail, CSF: they see the inner
// engine's frame, whose field holds a sixteenth of the pixels); else 2.
int half_model_factor(const Params& p);

// The input's words as 16-bit codes: (v & mask) << shl (I420_10LE: 10 low bits << 6,
// I420_12LE: 12 << 4, P01x as they are). Bits above the format's are dropped.
// A 2x2 block's mean is (sum of ((v & mask) >> r)) << l: I420: the sum of the 4 codes
// << (shl - 2), exact; P01x: the sum of the words >> 2 (exact for P010 and P012, whose low
// bits are zero; P016 loses its 2 lowest bits). Every sum fits in 15 bits.
class StageTimes;
struct BlockRow;  // cpu_half.cpp

struct HalfCodes {
  uint32_t mask = 0xFFFF;
  int shl = 0, r = 2, l = 0;
  uint32_t operator()(uint32_t v) const { return (v & mask) << shl; }
  uint32_t q(uint32_t v) const { return (v & mask) >> r; }
};

class HalfModel {
 public:
  // pool: the outer engine's pool (its threads run the per-pixel passes); threads: the
  // inner engine's.
  HalfModel(CpuPool* pool, int threads, int factor);
  int factor() const { return f_; }
  ~HalfModel();
  bool configure(const StreamConfig& cfg, const Params& p, std::string* err);
  bool set_params(const Params& p, std::string* err);
  // tl: the outer engine's timeline (DTUTMO_TIMELINE=1), marked after each pass
  bool process(const FrameView& in, const FrameView& out, double time_s, std::string* err, StageTimes* tl);
  void reset();
  EngineStats stats() const;
  // The AVX2 loops where the CPU has them (default), or the portable ones only (tests).
  void set_vector(bool on) { vector_ = on; }
  // The slope fit's prior (kSlopePrior) and its weight (log2 units squared): a pixel in a
  // block whose neighbours' x vary less than ~sqrt(kSlopeEps) (0.14 stop) keeps its Weber
  // contrast to the block's mean (slope 1). The per-pixel model's own slope for detail
  // at a fixed adaptation is about 1 (its cone response and the display observer's
  // inverse have the same exponent); the frame's global slope (0.3-0.7 on the scenes)
  // took 3-8 % of the fine detail's energy off and 40 % of a 1-pixel grating's contrast.
  static constexpr float kSlopeEps = 0.02f;
  static constexpr float kSlopePrior = 1.0f;
  static constexpr float kSlopeMax = 1.25f;
  static constexpr int kGTab = 4096;  // G: 12-bit luma codes

 private:
  void build_g();
  void set_codes();
  template <class V>
  void zero(V& b, size_t n);
  void down_rows(const FrameView& in, int y0, int y1);
  void down_rows4(const FrameView& in, int y0, int y1);
  void block_rows(int y0, int y1, float* least);
  void write_rows(const FrameView& out, const FrameView& in, int y0, int y1, int th);
  void write_rows4(const FrameView& out, const FrameView& in, int y0, int y1, int th);
  BlockRow row_consts(int by, float* scratch) const;

  CpuPool* pool_;
  std::unique_ptr<Engine> inner_;
  StreamConfig C_{};
  Params P_{};
  int W_ = 0, H_ = 0, w_ = 0, h_ = 0;
  int f_ = 2;  // the block's side: 2 (half) or 4 (quarter)
  HalfCodes cd_{};
  bool vector_ = true;
  bool in_il_ = false;  // input chroma interleaved (P01x)
  Yuv420Codes k_{};
  bool dither_ = true;
  // frame-sized buffers in 2 MiB pages, first touched on the pool's threads (configure)
  std::vector<uint16_t, HugePageAllocator<uint16_t>> hin_;  // Y444_16LE, w_ x h_
  std::vector<float, HugePageAllocator<float>> rgb_;        // the inner engine's R'G'B', w_ x h_ x 3
  std::vector<float, HugePageAllocator<float>> x_, y_, yb_;  // per block: log2 input grey, log2 output light, Y'
  std::vector<float> gtab_;
  float ymin_ = 0.0f;  // the frame's least output Y' (s's lower bound: no pixel below it)
  std::vector<std::vector<float>> scr_;  // per pool thread
  std::vector<float> least_;             // per task: the least Y'
};

}  // namespace cpu
}  // namespace dtutmo
