// dtutmo -- the CPU engine (engine_cpu.h): configuration, buffers, and the per-frame
// sequence pass 1 -> low resolution -> pass 2 with its temporal bookkeeping. The stages
// themselves are in cpu_decode.cpp, cpu_optics.cpp, cpu_adapt.cpp,
// cpu_receptors_display.cpp, cpu_csf.cpp and cpu_encode.cpp.
#include "engine_cpu.h"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "dtutmo/convert.h"

namespace dtutmo {
namespace cpu {

StageTimes::StageTimes(CpuPool* pool) : pool_(pool) {
  const char* e = std::getenv("DTUTMO_TIMELINE");
  on_ = e && *e && std::strcmp(e, "0") != 0;
}

StageTimes::~StageTimes() {
  if (!on_ || frames_ == 0) return;
  double w = 0, c = 0, m = 0;
  for (const Stage& s : st_) w += s.wall, c += s.cpu, m += s.cmax;
  std::fprintf(stderr,
               "dtutmo timeline, %ld frames, %d threads: stage, wall ms/frame, CPU ms/frame, longest "
               "thread's CPU ms/frame, par = CPU / longest\n",
               frames_, pool_->threads());
  auto line = [&](const char* n, double sw, double sc, double sm) {
    std::fprintf(stderr, "  %-14s %8.3f %8.3f %8.3f %5.2f\n", n, sw / frames_, sc / frames_, sm / frames_,
                 sm > 0 ? sc / sm : 0.0);
  };
  for (const Stage& s : st_) line(s.name, s.wall, s.cpu, s.cmax);
  line("total", w, c, m);
}

void StageTimes::now(double* wall, double* cpu) {
  timespec a;
  clock_gettime(CLOCK_MONOTONIC, &a);
  *wall = a.tv_sec * 1e3 + a.tv_nsec * 1e-6;
  const int n = std::min(pool_->threads(), kTimelineThreads);
  for (int i = 0; i < n; ++i) cpu[i] = pool_->thread_cpu_ms(i);
}

void StageTimes::record(const char* name) {
  double w, c[kTimelineThreads];
  now(&w, c);
  Stage* s = nullptr;
  for (Stage& x : st_)
    if (x.name == name || std::strcmp(x.name, name) == 0) s = &x;
  if (!s) {
    st_.push_back({name, 0.0, 0.0, 0.0});
    s = &st_.back();
  }
  s->wall += w - t_;
  double sum = 0, mx = 0;
  const int n = std::min(pool_->threads(), kTimelineThreads);
  for (int i = 0; i < n; ++i) {
    const double d = c[i] - c_[i];
    sum += d;
    mx = std::max(mx, d);
    c_[i] = c[i];
  }
  s->cpu += sum;
  s->cmax += mx;
  t_ = w;
}

bool CpuEngine::set_params(const Params& p, std::string* err) {
  if (!validate(p, err)) return false;
  std::lock_guard<std::mutex> l(mu_);
  pending_ = p;
  have_pending_ = true;
  return true;
}

// A per-column table of a row w wide at the response histogram's sample columns, compact
// (model.h hist_step, hist_nsub; frame_consts reads its samples so).
template <class T>
static void hist_cols(const std::vector<T>& v, int w, std::vector<T>* out) {
  const int step = hist_step(w), n = hist_nsub(w);
  out->resize(n);
  for (int i = 0; i < n; ++i) (*out)[i] = v[size_t(i) * step + step / 2];
}

bool CpuEngine::configure(const StreamConfig& cfg, std::string* err) {
  std::string m;
  if (!validate(cfg, &m)) {
    if (err) *err = "cpu engine: " + m;
    return false;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    if (have_pending_) {
      P_ = pending_;
      have_pending_ = false;
    }
  }
  C_ = cfg;
  W_ = cfg.width;
  H_ = cfg.height;
  half_fits_ = !reference_ && half_model_fits(cfg);
  half_auto_ = !reference_ && half_model_auto(cfg);
  half_.reset();
  full_ready_ = false;
  configured_ = false;
  if (use_half()) {
    if (!start_half(err)) return false;
    last_half_ = true;
  } else {
    alloc_full();
    last_half_ = false;
  }
  configured_ = true;
  fresh_ = true;
  return true;
}

int CpuEngine::half_factor() const { return half_model_factor(P_); }

// The block model (cpu_half.h) with the parameters in force (its block's side among them).
bool CpuEngine::start_half(std::string* err) {
  half_.reset(new HalfModel(&pool_, pool_.threads(), half_factor()));
  half_->set_vector(half_vector_);
  if (!half_->configure(C_, P_, err)) {
    half_.reset();
    return false;
  }
  return true;
}

// The full-size buffers, grids and tables of the per-pixel model.
void CpuEngine::alloc_full() {
  const StreamConfig& cfg = C_;
  gw_ = (W_ + cell_ - 1) / cell_;
  gh_ = (H_ + cell_ - 1) / cell_;
  const size_t np = size_t(W_) * H_;
  zero_fill(lin_, np * 3);  // (their first touch on the pool's threads: zero_fill)
  zero_fill(logy_, np);
  base_.clear();  // balanced (base/detail) only: ensure_balanced
  const size_t nc = size_t(gw_) * gh_;
  cell_sum_.assign(nc, 0.0f);
  cell_cnt_.assign(nc, 0.0f);
  la_tgt_.assign(nc, 0.0f);
  la_loc_.assign(nc, 0.0f);
  la_s_.assign(nc, 0.0f);
  la_rod_s_.assign(nc, 0.0f);
  cells_.assign(nc, AdaptCell{});
  dispk_.assign(nc * 3, 0.0f);
  gridk_.assign(nc * kAd, 0.0f);
  rod_row_.assign(gh_, 1);
  tone_tab_.assign(3 * size_t(kToneTab), 0.0f);
  cam_tab_.assign(2 * size_t(kToneTab), 0.0f);
  resp_tab_.assign(2 * size_t(kToneTab), 0.0f);
  fill_response_table(kConeL.n, resp_tab_.data());
  fill_response_table(kRod.n, resp_tab_.data() + kToneTab);
  lcols_.grid(W_, gw_, float(cell_));
  hcols_.sw = lcols_.sw;
  hist_cols(lcols_.ix, W_, &hcols_.ix);
  hist_cols(lcols_.tx, W_, &hcols_.tx);
  // the La lookup's units (interp_row_jbu): runs of equal ix, split into pieces of at most
  // kCell columns, the short piece first (the first run: kCell / 2 clamped columns and
  // kCell more)
  lunits_.clear();
  for (int x = 0; x < W_;) {
    int e = x;
    while (e < W_ && lcols_.ix[e] == lcols_.ix[x]) ++e;
    for (int a = x, len = (e - x) % cell_ ? (e - x) % cell_ : cell_; a < e; a += len, len = cell_)
      lunits_.insert(lunits_.end(), {a, len, lcols_.ix[x], std::min(lcols_.ix[x] + 1, gw_ - 1)});
    x = e;
  }
  epool_.init(gw_, gh_, kPoolRangeStep, pool_.threads());
  jguide_.assign(nc, 0.0f);
  jbu_ = false;
  ew_ = (W_ + kSub - 1) / kSub;  // the edge map's size (hybrid display mode)
  eh_ = (H_ + kSub - 1) / kSub;
  const int nt = pool_.threads();
  scr_.assign(nt, Scratch{});
  for (Scratch& s : scr_) {
    s.ad.assign(size_t(kAd + 1) * W_ + 8, 0.0f);
    s.resp.assign(size_t(6) * W_, 0.0f);
    s.rsp.assign(size_t(3) * W_, 0.0f);
    s.lms.assign(size_t(3) * W_, 0.0f);
    s.blk.assign(size_t(15) * ((W_ + 1) / 2) + 4 * size_t(W_) + 8, 0.0f);
    s.ad2.assign(s.ad.size(), 0.0f);
    s.resp2.assign(s.resp.size(), 0.0f);
    s.lms2.assign(s.lms.size(), 0.0f);
    s.vrow.assign(std::max(size_t(kAd) * (gw_ + 1), size_t(ew_) + 1), 0.0f);
    s.jf.assign(lunits_.size() / 4, 0);
    s.jfc.assign(size_t(gw_), 0);
    s.jf_key[0] = s.jf_key[1] = -1;
    s.out.assign(size_t(3) * W_ * kCell, 0.0f);
    s.row.assign(size_t(4) * W_, 0.0f);  // 4: row_colour's CIELAB hue gate and ratios
    s.conv.assign(convert_scratch_floats(W_), 0.0f);
  }
  hist_.assign(nt, std::vector<uint32_t>(size_t(kHistBins) * kHistCopies, 0));
  edge_.assign(size_t(ew_) * eh_, 0.0f);
  edge_tmp_.assign(size_t(ew_) * eh_ * 2, 0.0f);
  ecols_.grid(W_, ew_, float(kSub));
  hsub_.assign(size_t((H_ + kSub - 1) / kSub) * hist_nsub(W_) * 4, 0.0f);
  // balanced buffers are made lazily at the first frame that needs them (at configure
  // time when the profile is already balanced), never in the middle of a stream again.
  optics_ready_ = false;
  bgrid_ready_ = false;
  resp_.clear();
  {
    const FormatInfo& fo = format_info(cfg.out_format);
    out_420_ = fo.yuv && fo.subsampled;
  }
  build_decode_table();
  build_encode_table();
  full_ready_ = true;
}

bool CpuEngine::check_view(const FrameView& v, PixelFormat f, const char* what,
                           std::string* err) const {
  std::string m;
  if (v.device_memory) {
    m = std::string(what) + " frame is in device memory";
  } else if (!check_frame(v, f, W_, H_, what, &m)) {
  } else {
    return true;
  }
  if (err) *err = "cpu engine: " + m;
  return false;
}

// b as n zeros, written by the pool's threads in 2 MiB parts: a new buffer's first touch
// is its page faults (the kernel's zero fill of each huge page), ~27 us a 4 KiB page in
// this VM, which on one thread made most of balanced's first-frame set-up.
void CpuEngine::zero_fill(FrameBuf& b, size_t n) {
  b.clear();
  b.resize(n);  // no writes (HugePageAllocator::construct)
  constexpr size_t kPart = (size_t(2) << 20) / sizeof(float);
  float* p = b.data();
  pool_.run(int((n + kPart - 1) / kPart), [&](int t, int) {
    const size_t i0 = size_t(t) * kPart;
    std::memset(p + i0, 0, std::min(kPart, n - i0) * sizeof(float));
  });
}

// Buffers of the balanced stages (first frame that needs them; they stay allocated). Made
// in parallel (zero_fill, the glare channels, the bilateral grid's sums): their first
// touch was ~150 ms of serial set-up on the first 1080p frame.
void CpuEngine::ensure_balanced() {
  if (P_.optics && (!optics_ready_ ||
                    !glare_[0].matches(W_, H_, float(W_) / P_.fov_deg, int(P_.glare_max_cells),
                                       P_.observer_age, P_.pigmentation)))
    setup_optics();
  if (P_.base_detail) {
    const float ss = P_.base_scale * float(std::max(W_, H_));
    if (base_.empty()) zero_fill(base_, size_t(W_) * H_);
    if (!bgrid_ready_ || bgrid_.ss != std::max(ss, 1.0f)) {
      bgrid_.init(W_, H_, ss, 0.5f, std::log2(kMinNits), std::log2(kMaxNits), pool_.threads(), &pool_);
      hist_cols(bgrid_.cx0, W_, &hbx0_);
      hist_cols(bgrid_.ctx, W_, &hbtx_);
      for (Scratch& s : scr_) {
        s.bslab.assign(bgrid_.slab_size(), 0.0f);
        s.brow.assign(size_t(W_), 0.0f);
      }
      bgrid_ready_ = true;
    }
  }
  if (P_.csf && resp_.empty()) {
    const size_t np = size_t(W_) * H_;
    zero_fill(resp_, np * 3);
    pw_[0] = W_;
    ph_[0] = H_;
    for (int k = 0; k <= kCsfLevels; ++k) {
      if (k > 0) {
        pw_[k] = (pw_[k - 1] + 1) / 2;
        ph_[k] = (ph_[k - 1] + 1) / 2;
      }
      // level 0 is resp_ itself (cpu_csf.cpp)
      if (k > 0)
        for (int c = 0; c < 3; ++c) zero_fill(pyr_[k][c], size_t(pw_[k]) * ph_[k]);
    }
    // bands and rebuild by rows (cpu_csf.cpp): per level the upsample's column table
    for (int k = 0; k < kCsfLevels; ++k) csf_cols_[k].scaled(pw_[k], pw_[k + 1]);
  }
}

bool CpuEngine::process(const FrameView& in, const FrameView& out, double time_s,
                        std::string* err) {
  if (!configured_) {
    if (err) *err = "cpu engine: process() before configure()";
    return false;
  }
  if (!check_view(in, C_.in_format, "input", err) || !check_view(out, C_.out_format, "output", err))
    return false;
  bool newp = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (have_pending_) {
      P_ = pending_;
      have_pending_ = false;
      newp = true;
    }
  }
  if (use_half()) {
    // the model at half resolution (cpu_half.h); a switch from full starts it afresh
    bool fresh;
    {
      std::lock_guard<std::mutex> l(state_mu_);
      fresh = fresh_ || !last_half_;
      fresh_ = false;
    }
    if (!half_ || half_->factor() != half_factor()) {  // first, or the block's side changed: afresh
      if (!start_half(err)) return false;
    } else {
      if (newp && !half_->set_params(P_, err)) return false;
      if (fresh) half_->reset();
    }
    last_half_ = true;
    tl_.begin();
    if (!half_->process(in, out, time_s, err, &tl_)) return false;
    tl_.frame();
    const EngineStats hs = half_->stats();
    std::lock_guard<std::mutex> l(state_mu_);
    st_ = hs;
    return true;
  }
  if (!full_ready_) alloc_full();
  if (last_half_) {
    std::lock_guard<std::mutex> l(state_mu_);
    fresh_ = true;  // from half resolution: the per-pixel model starts afresh
  }
  last_half_ = false;
  bool snap;
  double dt;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    snap = fresh_;
    fresh_ = false;
  }
  dt = time_s - last_t_;
  if (!(dt > 0.0 && dt <= 10.0)) snap = true;
  last_t_ = time_s;
  if (snap) st_.frames = 0;

  tl_.begin();
  ensure_balanced();

  stream_consts(K_, P_, C_, gw_, gh_);  // model.h: the stream's and parameters' constants
  K_.cell = cell_;
  tl_.mark("setup");

  gcap_snap_ = snap;
  gcap_k_ = snap ? 1.0f : smooth_k(dt, P_.cone_tau);
  pass1(in);
  low_res(dt, snap);
  if (glare_cut_redo(P_.optics, st_.cut_detected, gcap_snap_)) {
    // A cut is detected in low_res, after the optics of pass 1 used the glare cap smoothed
    // from the previous shot (model.h glare_cut_redo; ghost 0.26 without): the frame is
    // made again with the glare state snapped, low_res's global update as temporal_redo
    // (what the cut gave, the detector's report kept; its frame_consts renews the lookups'
    // cache key, Scratch::jf_key). The CUDA engine does the same.
    gcap_snap_ = true;
    gcap_k_ = 1.0f;
    pass1(in);
    low_res(dt, true, true);
  }
  pass2(out);
  tl_.mark("pass2");
  tl_.frame();

  std::lock_guard<std::mutex> l(state_mu_);
  st_.adaptation_nits = K_.la_global;
  st_.rod_adaptation_nits = K_.la_global_rod;
  st_.pupil_mm = K_.pupil_mm;
  st_.rod_weight = P_.mesopic ? mesopic_weight(K_.la_global) : 0.0f;
  st_.response_low = ts_.s_rlo;
  st_.response_high = ts_.s_rhi;
  st_.display_adapt_nits = K_.disp_la;
  st_.frames++;
  return true;
}

std::unique_ptr<Engine> create_cpu_reference_engine(int threads) {
  return std::unique_ptr<Engine>(new CpuEngine(threads, true));
}

}  // namespace cpu

std::unique_ptr<Engine> create_cpu_engine(int threads) {
  return std::unique_ptr<Engine>(new cpu::CpuEngine(threads));
}

}  // namespace dtutmo
