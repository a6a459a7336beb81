// dtutmo -- the CPU engine: MODEL.md's stages on the host, multi-threaded over row bands.
// Private to common/src: the class, its per-thread scratch and the adaptation channels.
// Its stage families live in one file each, named as in cuda/:
//   engine_cpu.cpp             configure, process (sequencing), temporal bookkeeping
//   cpu_decode.cpp             pass 1: unpack, EOTF (table), sanitise, log2 Y, cell sums
//   cpu_optics.cpp             OTF (separable Gaussian) and glare (FFT, cpu_glare.cpp)
//   cpu_adapt.cpp              low resolution: pooling, temporal state, per-cell constants,
//                              the per-pixel La lookup (bilinear / joint-bilateral)
//   cpu_receptors_display.cpp  frame constants (histogram, percentiles, normalisation),
//                              responses, display mapping, pass 2
//   cpu_csf.cpp                CSF ratio filter on a Laplacian pyramid
//   cpu_encode.cpp             output encode (transfer functions, table)
//
// Per frame (DESIGN.md "Performance plan"):
//   pass 1 (rows in parallel): unpack, EOTF (table), sanitise, luminance, log2 Y into
//     8x8 cell sums [balanced: optics first (glare by FFT on a reduced grid), then the
//     bilateral-grid splat];
//   low resolution: pooling of log La on a pyramid, temporal smoothing, per-cell receptor
//     constants (AdaptCell), response histogram on a subsample, percentiles, per-frame
//     constants (FrameConsts);
//   pass 2 (rows in parallel): responses, mesopic, [CSF], normalisation, [DTUCAM],
//     display inverse, [detail], gamut, encode, pack.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cpu_alloc.h"
#include "cpu_glare.h"
#include "cpu_half.h"
#include "cpu_pool.h"
#include "cpu_simd.h"
#include "cpu_spatial.h"
#include "dtutmo/convert.h"
#include "dtutmo/engine.h"
#include "dtutmo/frame_consts.h"
#include "dtutmo/model.h"
#include "dtutmo/pixel_model.h"

namespace dtutmo {
namespace cpu {

// The constants (kCell, kSub, kDecodeTab, kEncodeTab, ...), the per-frame model
// (dtutmo/model.h), the per-pixel model (dtutmo/pixel_model.h) and the spatial sampling
// (dtutmo/spatial.h) are shared with the CUDA engine.

// The extent of the rows and columns of a gw x gh grid of cells that are not bar-like
// (model.h picture_area), lit(i) whether cell i (row-major) is lit; cols: gw ints of
// scratch (kept: no allocation once sized).
template <class Lit>
CellBox bar_extent(int gw, int gh, std::vector<int>& cols, Lit lit) {
  cols.assign(size_t(gw), 0);
  CellBox e = empty_box(gw, gh);
  for (int y = 0, i = 0; y < gh; ++y) {
    int n = 0;
    for (int x = 0; x < gw; ++x, ++i)
      if (lit(i)) {
        ++n;
        ++cols[size_t(x)];
      }
    if (!bar_like(n, gw)) extent_add_row(e, y);
  }
  for (int x = 0; x < gw; ++x)
    if (!bar_like(cols[size_t(x)], gh)) extent_add_col(e, x);
  return e;
}

// The next row's lines that its first loops read from memory (lin_, logy_, ...), prefetched
// across one of this row's own loops by chunks (pass 2 of balanced: detail_gain_row,
// csf_opponent_row), up to 4 streams of k floats a pixel: the prefetches spread over the
// row's work (a row's all at once stalled on the miss buffers).
struct RowPrefetch {
  const float* p[4] = {};
  int k[4] = {};
  int n = 0;
  void add(const float* q, int floats_per_pixel) {
    p[n] = q;
    k[n++] = floats_per_pixel;
  }
  // columns [a, b): one prefetch per 64-byte line
  void operator()(int a, int b) const {
    for (int j = 0; j < n; ++j)
      for (int i = k[j] * a; i < k[j] * b; i += 16) __builtin_prefetch(p[j] + i, 0, 3);
  }
};

// columns per segment of the joint-bilateral lookup's stages (cpu_adapt.cpp kJbuFlat)
constexpr int kJbuBlock = 32;
// The response histogram's copies per thread (frame_consts, hist_row_bins): sample i
// counts in copy i % kHistCopies, summed at the frame's end.
constexpr int kHistCopies = 4;
struct Scratch {
  std::vector<float> ad;    // interpolated AdaptCell channels, kAd x width
  std::vector<float> resp;  // responses for one band, 3 x width x rows
  std::vector<float> out;   // encoded output for one band: per row planar R, G, B (3 x width)
  std::vector<float> row;   // misc row buffer
  std::vector<float> rsp;   // planar responses of one row (3 x width)
  std::vector<float> lms;   // input LMS of a row with rods (3 x width): row_colour's hue
  std::vector<float> conv;  // the row converters' scratch (convert.h convert_scratch_floats)
  std::vector<float> vrow;  // vertically interpolated grid rows, kAd x (gw + 1) (and at
                            // least one row of the glare grid and the edge map + 1)
  std::vector<float> bslab; // base/detail: the bilateral grid's x-z slab of a row (slice_row)
  std::vector<float> brow;  // base/detail: the row's base where no CSF runs (base_row, width)
  std::vector<float> blk;   // colour_pair: rows of 2x2-block means and weights, 15 x ((width + 1) / 2) + 4 x width
  // colour_pair: the first row's ad, resp and lms, swapped out while the second is made
  std::vector<float> ad2, resp2, lms2;
  bool rods = true;         // interp_row filled the rod channels (a rod weight reaches the row)
  RowPrefetch pf;           // pass 2's band loops: the next row's lines (CpuEngine::next_row)
  // joint-bilateral lookup: the segments of a grid-row pair (cpu_adapt.cpp jbu_segments:
  // jf_n of them; jfc the per-cell flags, gw) for the pair's keys jf_key (frame, grid
  // row, rods: CpuEngine::interp_row), channels and tolerance
  std::vector<int> jf;
  std::vector<unsigned char> jfc;
  int jf_n = 0;
  long long jf_key[2] = {-1, -1};
  int jf_nch = -1;
  float jf_tol = 0.0f;
  long long bad = 0;
};
// A 4:2:0 output's row pair y (even), y + 1 as the block path writes its codes
// (cpu_encode.cpp encode_codes_pair): the planes' rows and the dither's offsets (rows y,
// y + 1, then the chroma row; 0.5 without dither).
struct PairCodes {
  int y = 0;
  uint8_t *pya = nullptr, *pyb = nullptr, *pu = nullptr, *pv = nullptr;
  float th[24] = {};
};
// The frame's timeline, on only with the environment variable DTUTMO_TIMELINE set (read at
// construction; off: one predictable branch per mark): per stage the wall time, the CPU
// time of the pool's threads (the caller's and each worker's thread clock; idle workers
// block, so they add nothing) and the longest of those, summed over frames and printed to
// stderr as ms per frame when the engine is destroyed. "par" = CPU / longest thread: the
// cores the stage would keep busy on an otherwise idle machine (1.0: serial or one task;
// with 2 threads 2.0: balanced), not skewed by other processes as CPU / wall is on a
// shared machine. Stages are named by string literals; mark(name) ends the stage that
// began at the previous mark (or begin()).
constexpr int kTimelineThreads = 64;  // threads the timeline follows (the first 64)
class StageTimes {
 public:
  explicit StageTimes(CpuPool* pool);
  ~StageTimes();
  bool on() const { return on_; }
  void begin() {
    if (on_) now(&t_, c_);
  }
  void mark(const char* name) {
    if (on_) record(name);
  }
  void frame() {
    if (on_) ++frames_;
  }

 private:
  void now(double* wall, double* cpu);
  void record(const char* name);
  CpuPool* pool_;
  bool on_ = false;
  double t_ = 0, c_[kTimelineThreads] = {};
  long frames_ = 0;
  struct Stage {
    const char* name;
    double wall, cpu, cmax;
  };
  std::vector<Stage> st_;
};

// Per-pixel adaptation channels (spatial.h AdaptChannel, kChLM .. kChD2): receptor
// constants folded into one log2 each, K = log2 sigma - log2 p - log2 td, so
// r = 1 / (1 + 2^(n (K - log2 L))); the rod weight; the display observer's local constants.
constexpr int kAd = kAdaptChannels;
// The hot row loops carry DTUTMO_HOT (cpu_simd.h): one clone per ISA level.

class CpuEngine final : public Engine {
 public:
  // reference: the scalar per-pixel path (cpu_reference.cpp) instead of the row loops
  explicit CpuEngine(int threads, bool reference = false) : pool_(threads), reference_(reference) {
    P_ = params_for_profile(Profile::Fast);
  }
  const char* name() const override { return "cpu"; }
  bool configure(const StreamConfig& cfg, std::string* err) override;
  bool set_params(const Params& p, std::string* err) override;
  bool process(const FrameView& in, const FrameView& out, double time_s,
               std::string* err) override;
  void reset() override {
    std::lock_guard<std::mutex> l(state_mu_);
    fresh_ = true;
  }
  // Rows of the last frame that went through the photopic tone table (row_tone; tests).
  long long tone_rows() const { return tone_rows_n_.load(); }
  // Rows of the last frame whose colour was made per 2x2 block (colour_pair; tests).
  long long colour_block_rows() const { return blk_rows_n_.load(); }
  // Those of them whose codes the block path wrote itself (encode_pack_pair; tests).
  long long coded_block_rows() const { return pack_rows_n_.load(); }
  // The block path's codes made with its encode (default on; off: its R'G'B' rows through
  // the packer, as other paths). For the test that compares the two. Set before process.
  void set_pack_codes(bool on) { pack_codes_ = on; }
  // The adaptation cells' side in pixels: kCell (default), or 4 or 2 for the block
  // model's inner engine (cpu_half.h half_model_inner_cell: its cells then the per-pixel
  // engine's in the picture, or twice theirs at UHD). Set before configure.
  void set_cell(int c) { cell_ = (c == 4 || c == 2) ? c : kCell; }
  int cell() const { return cell_; }
  // The half-resolution model's AVX2 loops (default on) or its portable ones (tests; set
  // before process).
  void set_half_vector(bool on) {
    half_vector_ = on;
    if (half_) half_->set_vector(on);
  }
  // Rows of the last frame that a rod weight reaches (pass 2 without the CSF; tests).
  long long rod_rows() const { return rod_rows_n_.load(); }
  // Columns of those rows through the tone table (rod weight 0 there; tests).
  long long rod_row_tone_cols() const { return rod_cols_n_.load(); }
  // Pixels the La lookup has taken bilinearly so far (interp_row_jbu: corners within
  // kJbuFlat; tests).
  long long jbu_flat_pixels() const { return jbu_flat_n_.load(); }
  // The shortcut on or off (default on; off: every pixel through the joint-bilateral
  // weights, as the CUDA lookup and the reference path compute it). For the tests that
  // compare the engines' math: the shortcut's own bound has its test (test_engine
  // LookupShortcutStaysWithinACodeOfTheFullLookup). Set before process.
  void set_lookup_shortcut(bool on) { jbu_shortcut_ = on; }
  EngineStats stats() const override {
    std::lock_guard<std::mutex> l(state_mu_);
    return st_;
  }
  // cpu_decode.cpp: pass 1's row functions (public for the tests). decode_planar: planar
  // code values through the decode table into the interleaved row o, returns the bad
  // samples; ly: also the row's luminance (luminance_of, weights wy), for log2_row;
  // finite: the codes are known finite (an integer format's), only x < 0 can be bad.
  static long long decode_planar(const float* r, const float* g, const float* b, int w, float* o,
                                 const float* tab, float mul, float* ly = nullptr, Vec3 wy = {},
                                 bool finite = false);
  static void log2_row(float* ly, int w);
  static void log_luminance(const float* rgb, float* ly, int w, Vec3 wy);
  // a row's log2 luminance into its band's cell sums cs and counts cc (gw cells of `cell`
  // pixels: kCell, 4 or 2, set_cell)
  static void cell_row_sums(const float* ly, int w, int gw, float* cs, float* cc, int cell = kCell);
  // cpu_receptors_display.cpp: a 4:2:0 row pair's pixels from their 2x2 blocks' colour
  // (colour_pair; public for the tests, after a frame): bo the blocks' output linear RGB
  // (planar, (w + 1) / 2 apart), yk their display luminance, ya, yb the pixels' (w each),
  // into oa, ob (planar R', G', B', w apart); cc: the frame's colour constants
  // (frame_colour_consts); t, s: 3 and 4 x (w + 1) / 2 floats of scratch
  void encode_pair(int w, const ColourConsts& cc, const float* bo, const float* yk, const float* ya,
                   const float* yb, float* oa, float* ob, float* t, float* s) const;
  // the colour stage's constants of the current frame (colour_consts on K_ and the
  // options): colour_rows', colour_pair's and so encode_pair's. Inline, so that each
  // caller's target clone contracts its products as when it called colour_consts itself
  // (out of line, in the baseline target without FMA, 306 bytes of 20 frames of the 1080p
  // clip moved by 1 code)
  ColourConsts frame_colour_consts() const {
    return colour_consts(K_, ColourOpts{P_.hue_preserve, P_.saturation, P_.highlight_chroma, P_.lab_hue});
  }
  // colour_pair's block means of a row pair (public for the tests): la, lb the display
  // LMS, ia, ib the input LMS or null (then ra, rb: interleaved input RGB), planar, w
  // apart; out bl, bi (3 x (w + 1) / 2), yk ((w + 1) / 2), ya, yb, wa, wb (w each); simd:
  // the fused AVX2 pass where the CPU has it, else the scalar functions alone
  static void block_means(int w, const float* la, const float* lb, const float* ia, const float* ib,
                          const float* ra, const float* rb, Vec3 wl, float y0, float* bl, float* bi, float* yk,
                          float* ya, float* yb, float* wa, float* wb, bool simd);

 private:
  // engine_cpu.cpp
  bool check_view(const FrameView& v, PixelFormat f, const char* what, std::string* err) const;
  void ensure_balanced();
  // cpu_decode.cpp
  void build_decode_table();
  void pass1(const FrameView& in);
  // pass 1's statistics by bands of kCell rows: the band's cell sums, zeroed (returned;
  // its counts into *cc), then per row, with the row's log2 luminance in logy_, the
  // cell sums and the bilateral splat (row_stats; pass 1's bands and apply_optics'), and
  // on the response histogram's rows their subsample for frame_consts (hsub_)
  float* band_sums(int task, float** cc);
  void row_stats(int y, int th, float* cs, float* cc);
  // cpu_optics.cpp
  void setup_optics();
  // cells_done: the glare cells' sums and histogram already made (glare_cells_row in pass
  // 1's decode bands, hist_ zeroed before)
  void apply_optics(bool cells_done = false);
  // the glare grid's row gy of cell averages (gsrc_) and their luminance histogram (hist_[th])
  void glare_cells_row(int gy, int th);
  // cpu_adapt.cpp
  // redo: the cut frame made again (process): its global update is model.h temporal_redo
  void low_res(double dt, bool snap, bool redo = false);
  // ly: the row's lookup guide, log2 luminance as the receptors see it (the base with
  // base/detail on: base_row; else logy_)
  void interp_row(int y, Scratch& s, const float* ly);
  // the joint-bilateral lookup (local adaptation on: jbu_) at the response histogram's
  // columns of row y only (hcols_: model.h hist_step, hist_nsub), of the channels
  // responses_core reads; lv: the samples' levels (lv[i]); ad: out, compact (channel k's
  // at ad[k * nsub + i]); sets s.rods. pf: npf floats prefetched as the lookup goes (the
  // row's samples that responses_core reads next)
  void interp_cols(int y, Scratch& s, const float* lv, float* ad, const float* pf, int npf);
  void interp_h(int nch, const float* vr, float* ad, bool rods) const;
  // cpu_receptors_display.cpp
  void frame_consts(float k_range);
  void pass2(const FrameView& out);
  // x0, x1: the columns [x0, x1) (x1 < 0: the row's width)
  // li (optional, planar 3 x width, at the row's columns): the input LMS (responses_core)
  void row_responses(int y, float* r, Scratch& s, bool interp = true, int x0 = 0, int x1 = -1,
                     float* li = nullptr);
  // row y's base (log2), sliced into base_ where the CSF runs (its band loop reads it in a
  // later pass), else into s.brow; base_at: that row, read back in the same row's pass
  const float* base_row(int y, Scratch& s);
  // row y + 1's lines that pass 2 reads first (lin_, logy_; with the CSF resp_ and base_
  // too: band is its band loop), where row y + 1 < y1 is the same task's
  RowPrefetch next_row(int y, int y1, bool band) const;
  void zero_fill(FrameBuf& b, size_t n);
  const float* base_at(int y, const Scratch& s) const {
    return csf_active_ ? base_.data() + size_t(y) * W_ : s.brow.data();
  }
  void responses_core(int n, int step, const float* rgb, const float* gsc, const float* ad,
                      float* r, int rstride, int ad_stride, bool rods, float* xr,
                      float* li = nullptr) const;
  void row_tone(int y, float* lum, const Scratch& s, int x0, int x1, float* li = nullptr) const;
  void row_lum(int y, const float* r, Scratch& s, int x0 = 0, int x1 = -1);
  // li: the row's input LMS (row_tone's, and responses_core's where a rod weight reaches)
  void row_colour(int y, float* o, Scratch& s, const float* li = nullptr);
  void colour_rows(int W, float* lum, const float* li, const float* rgb, const float* rwt, bool rods,
                   float* gt, float* o) const;
  // colour at chroma resolution (4:2:0 output, colour-sampling auto): a row pair's colour
  // from its 2x2 blocks' means, luminance per pixel (cpu_receptors_display.cpp)
  // (rows y, y + 1: display LMS la, lb; input LMS ia, ib or null for lin_'s; rod weights
  // rwa, rwb or null for none)
  bool colour_pair(int y, const float* la, const float* ia, const float* rwa, const float* lb,
                   const float* ib, const float* rwb, float* oa, float* ob, Scratch& s,
                   const FrameView* out = nullptr, const Yuv420Codes* kc = nullptr) const;
  void encode_pack_pair(int y, int w, const ColourConsts& cc, const float* bo, const float* yk, const float* ya,
                        const float* yb, float* oa, float* ob, float* t, float* s, float* gc,
                        const FrameView& out, const Yuv420Codes& kc) const;
  void redo_chunk_rows(int w, const ColourConsts& cc, const float* bo, const float* iy, const float* mq,
                       const float* ya, const float* yb, float* oa, float* ob, int j, int rows) const;
  // pass 2's colour of a band's rows after their tone (row_colour or colour_pair; lum_row(y)
  // tones row y and returns its input LMS or null), then their pack into out
  template <class LumRow>
  void colour_band(const FrameView& out, int y0, int y1, Scratch& s, LumRow&& lum_row);
  // cpu_csf.cpp: csf_filter on resp_, whose rows the responses pass turned into opponent
  // channels (csf_opponent_row: planar rows, w apart)
  // level0: level 0 rebuilt into resp_ as responses (the reference path reads them);
  // else pass 2's band loop rebuilds each row as it needs it (csf_row)
  void csf_filter(bool level0);
  // row y of the CSF-filtered responses (planar 3 x width) into out, from level 0's
  // opponent row in resp_ and level 1's rebuilt D_1 (csf_filter(false) ran)
  void csf_row(int y, Scratch& s, float* out);
  const float* csf_up_row(int k, int c, int y, Scratch& s);
  static void csf_opponent_row(float* r, int w, const RowPrefetch& pf = RowPrefetch());
  // cpu_reference.cpp: the scalar per-pixel path
  CellSample cell_at(int x, int y, float ly, int nch) const;
  long long decode_rows_reference(const FrameView& in, int y0, int y1, const DecodeConsts& dc);
  void hist_row_reference(int j, uint32_t* hist);
  void responses_row_reference(int y, float* r);
  void pass2_band_reference(const FrameView& out, int y0, int y1);
  // cpu_encode.cpp
  void build_encode_table();
  DisplayTables tables() const { return {logit_tab_.data(), odds_tab_.data(), enc_tab_.data()}; }
  void encode_row(float* o, int w, bool clamp) const;  // planar rows R, G, B
  void encode_span(float* o, int w, int x0, int x1) const;  // columns x0 .. x1 of rows R, G, B (tables)
  void encode_rel(float* v, int n) const;                    // values relative to the range (tables)
  int encode_scaled_pair(const float* ya, const float* yb, int w, const float* sb, const float* g, float* oa,
                         float* ob, float* list) const;
  static PairCodes pair_codes(const FrameView& out, const Yuv420Codes& kc, int y);
  int encode_codes_pair(const float* ya, const float* yb, int w, const float* sb, float* g, float* gc,
                        const Yuv420Codes& kc, const PairCodes& pc, float* list) const;
  static void encode_codes_rgb(const float* oa, const float* ob, int w, int x0, const Yuv420Codes& kc,
                               const PairCodes& pc);
  int encode_scaled_chunk(const float* ya, const float* yb, int w, const float* sb, const float* g, int j,
                          float* oa, float* ob) const;

  CpuPool pool_;
  const bool reference_;
  StageTimes tl_{&pool_};  // DTUTMO_TIMELINE
  mutable std::mutex mu_, state_mu_;
  Params pending_;
  bool have_pending_ = false;
  Params P_;
  StreamConfig C_;
  bool configured_ = false;
  int cell_ = kCell;  // set_cell
  // model-resolution=half (cpu_half.h): whether the stream fits it (and auto takes it),
  // the model that runs it (made at the first frame that asks for it), whether the
  // full-size buffers are made (configure, or the first frame at full resolution), which
  // ran last
  bool half_fits_ = false, half_auto_ = false;
  bool use_half() const {
    return P_.model_resolution == ModelResolution::Half || P_.model_resolution == ModelResolution::Quarter
               ? half_fits_
               : P_.model_resolution == ModelResolution::Auto && half_auto_;
  }
  // the block model's side (2 or 4) under the parameters in force (half_model_factor)
  int half_factor() const;
  std::unique_ptr<HalfModel> half_;
  bool full_ready_ = false;
  bool last_half_ = false;
  bool half_vector_ = true;
  bool start_half(std::string* err);
  void alloc_full();
  FrameConsts K_{};
  int W_ = 0, H_ = 0, gw_ = 0, gh_ = 0;

  bool out_420_ = false;  // YUV 4:2:0 output: encode_row gives [0, 1], pack_rows_planar reads its rows
  std::vector<float> dec_tab_;
  std::vector<float> enc_tab_;  // output encode on rel's float bits (sRGB, BT.1886), kEncodeTab + 2
  std::vector<float> logit_tab_, odds_tab_;  // display inverse (pixel_model.h fill_logit_tables)
  FrameBuf lin_;    // W x H x 3 linear input RGB, cd/m^2
  FrameBuf logy_;   // W x H log2 luminance
  std::vector<float> cell_sum_, cell_cnt_;
  std::vector<float> la_tgt_, la_loc_, la_s_, la_rod_s_;  // grids, log2 cd/m^2
  std::vector<AdaptCell> cells_;  // (low_res writes them only where display_cells reads them: not whiteboard)
  std::vector<float> gridk_;  // kAd planar channel grids, gw x gh each
  long long frame_no_ = 0;     // version of the grids the La lookup reads, bumped where
                               // they change: frame_consts, after every low_res (a cut's
                               // second too) and after the display channels (Scratch::jf_key)
  std::vector<char> rod_row_;  // per grid row: some cell of it has a rod weight != 0
  std::vector<float> tone_tab_;  // photopic tone table, 3 x kToneTab (pixel_model.h)
  bool tone_on_ = false;         // this frame's photopic rows go through tone_tab_
  bool tone_m_is_l_ = false;     // M's table is L's (tone_tab_'s second is not made)
  std::vector<float> cam_tab_;   // DTUCAM carry gain factors, 2 x kToneTab (pixel_model.h
                                 // fill_cam_tables), filled per frame where DTUCAM is on
  std::vector<float> resp_tab_;  // receptor responses, 2 x kToneTab: cones, rods (pixel_model.h
                                 // fill_response_table; responses_core)
  std::atomic<long long> tone_rows_n_{0};  // rows of the last frame through tone_tab_
  std::atomic<long long> rod_rows_n_{0};   // rows of the last frame with rods
  std::atomic<long long> blk_rows_n_{0};   // rows of the last frame through colour_pair
  std::atomic<long long> pack_rows_n_{0};  // those packed by encode_pack_pair
  bool pack_codes_ = true;                 // set_pack_codes
  std::atomic<long long> rod_cols_n_{0};   // their columns through tone_tab_
  std::atomic<long long> jbu_flat_n_{0};   // jbu_flat_pixels
  bool jbu_shortcut_ = true;               // set_lookup_shortcut
  ColTable lcols_;  // the lookup's horizontal interpolation on the adaptation grid
  ColTable hcols_;  // lcols_ at the histogram's sample columns, compact (interp_cols)
  std::vector<int> lunits_;  // the La lookup's units: x0, len, cell, next cell (interp_row_jbu)
  std::vector<float> dispk_;  // grid x 3: full-inverse constants per class
  EdgePooler epool_;          // edge-aware (cross-bilateral) pooling of the La grid
  std::vector<float> jguide_; // per cell log2 mean luminance: guide of the La lookup
  bool jbu_ = false;          // La lookup is joint-bilateral (local adaptation on)
  std::vector<Scratch> scr_;
  // per thread kHistCopies histograms of kHistBins (the glare stage and the reference path
  // use the first; frame_consts' fast path all, hist_row_bins)
  std::vector<std::vector<uint32_t>> hist_;
  // edge map for the hybrid display mode, at 1/kSub resolution
  int ew_ = 0, eh_ = 0;
  std::vector<float> edge_, edge_tmp_;
  // per histogram row: its nsub samples' log2 Y, then their RGB (row_stats); ~2 MB at 1080p,
  // on huge pages (its first touch was ~500 page faults of 4 KiB at configure)
  std::vector<float, HugePageAllocator<float, (size_t(1) << 19)>> hsub_;
  ColTable ecols_;  // its per-column lerp onto the frame (row_lum)
  // optics
  bool optics_ready_ = false;
  CpuGlare glare_[3];
  std::vector<float> gsrc_[3], gdst_[3];
  ColTable gcols_;  // the veil's per-column lerp on the glare grid (apply_optics)
  CellBox glare_extent_ = {0, 0, 0, 0};  // this frame's glare cells' bar extent (apply_optics; model.h picture_area)
  std::vector<int> bar_cols_;  // bar_extent's scratch
  std::vector<std::vector<double>> glare_sums_;  // per thread: a glare row's cell sums (glare_cells_row)
  std::vector<int> gidx_;  // the glare's source cells, row-major (apply_optics)
  // the veil by CpuGlare::direct where at most 1 cell in kGlareDirectCells is a source
  static constexpr size_t kGlareDirectCells = 128;
  float otf_sigma_px_ = 0;
  std::vector<float> otf_tmp_;
  // base / detail
  BilateralGrid bgrid_;
  bool bgrid_ready_ = false;
  std::vector<int> hbx0_;    // bgrid_'s cx0 and ctx at the histogram's sample columns, compact
  std::vector<float> hbtx_;  // (frame_consts' slice_row of the samples)
  FrameBuf base_;   // W x H base log2 luminance
  // CSF
  FrameBuf resp_;   // W x H x 3 (responses, balanced when CSF runs)
  FrameBuf pyr_[kCsfLevels + 1][3];  // levels 1 ..; level 0 is resp_ (cpu_csf.cpp)
  ColTable csf_cols_[kCsfLevels];  // level k's upsample from k + 1 (ColTable::scaled)
  int pw_[kCsfLevels + 1], ph_[kCsfLevels + 1];
  float csf_gain_[kCsfLevels][3];
  bool csf_active_ = false;
  int csf_lv_ = 0;  // the CSF pyramid's levels this frame (csf_filter)

  // temporal state (model.h): the global level only; the cells' adaptation is recomputed
  // from every frame's layout (cpu_adapt.cpp)
  bool fresh_ = true;
  double last_t_ = 0.0;
  TemporalState ts_ = temporal_initial();
  std::vector<uint32_t> cut_hist_ = std::vector<uint32_t>(4 * kCutBins, 0u);  // cut signature histogram (low_res: 4 partial ones, summed into the first)
  // glare cap (optics.h): log2 cd/m^2, smoothed, and its median-of-3 history
  float s_gcap_ = 0, h_gcap_[2] = {0, 0};
  float s_rmed_ = 0.5f, h_rmed_[2] = {0.5f, 0.5f};  // median response (display key)
  bool gcap_snap_ = true;   // this frame's glare cap snaps (set by process before pass1)
  float gcap_k_ = 1.0f;     // its smoothing factor
  bool snapped_ = false;    // this frame snapped (reset, discontinuity, cut)
  EngineStats st_{};
};

// The CPU engine on its scalar reference path: every pixel through the whole-pixel
// functions the CUDA kernels call (pixel_io.h read_rgb / write_block, pixel_model.h
// decode_rgb / scene_responses / display_pixel, spatial.h cell_sample[_jbu], sample_grid)
// instead of the vectorised row loops, the low-resolution and per-frame work unchanged.
// For tests: it checks, without a GPU, that the kernels' per-pixel code and the CPU
// engine's row loops compute the same model. Several times slower than create_cpu_engine.
std::unique_ptr<Engine> create_cpu_reference_engine(int threads);

}  // namespace cpu
}  // namespace dtutmo
