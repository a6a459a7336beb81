// dtutmo CUDA -- the CUDA engine: the stages of the fast and balanced profiles on the
// device, the temporal state on the device, host or device frames.
//
// Per frame, all on one stream, no host round trip until the final synchronisation:
//   [upload]  host views only: rows -> pinned staging -> cudaMemcpy2DAsync
//   decode    fast: decode + colour + 8x8 log2-luminance cell sums in one pass (nothing
//             written at full resolution); balanced: decode into the linear plane,
//             optics (OTF, glare by cuFFT), then log2 Y, cell sums
//   adapt     global log-mean + state update (1 block); [balanced, broadcast: a cut's
//             frame made again from decode with the glare snapped, gated on the device
//             (model.h glare_cut_redo)]; [bilateral grid]; pooling pyramid, per-cell
//             smoothing and receptor constants, rods' mean and display observer (1 block)
//   setup     response histogram on the kSub subsample, percentiles, normalisation,
//             DTUCAM conditions, CSF gains (1 block); full-inverse / hybrid constants
//   csf       balanced: responses plane, Laplacian pyramid with the CSF gains
//   pass2     responses + mesopic + [DTUCAM] + display mapping + [detail] + gamut +
//             encode + dither + pack, one thread per 2x2 block
//   [download] host views only
#include "engine_cuda.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "check.h"
#include "dtutmo/color.h"
#include "dtutmo/optics.h"
#include "dtutmo/pixel_io.h"
#include "dtutmo/transfer.h"

namespace dtutmo {
namespace cuda {

namespace {

constexpr int kMaxEvents = 24;

__global__ void k_probe() {}

std::size_t align256(std::size_t n) { return (n + 255) & ~std::size_t(255); }

DevFrame dev_frame(const FrameView& v) { return pio::frame_planes(v); }

std::string with_prefix(const std::string& m) { return m.empty() ? m : "cuda engine: " + m; }

}  // namespace

CudaEngine::~CudaEngine() {
  if (own_stream_) cudaStreamSynchronize(own_stream_);
  if (stream_ && stream_ != own_stream_) cudaStreamSynchronize(stream_);
  for (cudaEvent_t e : events_) cudaEventDestroy(e);
  if (stats_event_) cudaEventDestroy(stats_event_);
  if (own_stream_) cudaStreamDestroy(own_stream_);
}

std::string CudaEngine::make_current() {
  int cur = -1;
  const cudaError_t e = cudaGetDevice(&cur);
  if (e != cudaSuccess || cur != device_) DTUTMO_CUDA_TRY(cudaSetDevice(device_));
  return {};
}

std::string CudaEngine::init() {
  DTUTMO_TRY(make_current());
  DTUTMO_CUDA_TRY(cudaStreamCreateWithFlags(&own_stream_, cudaStreamNonBlocking));
  stream_ = own_stream_;
  DTUTMO_CUDA_TRY(cudaEventCreateWithFlags(&stats_event_, cudaEventDisableTiming));
  for (int i = 0; i < kMaxEvents; ++i) {
    cudaEvent_t ev = nullptr;
    DTUTMO_CUDA_TRY(cudaEventCreate(&ev));
    events_.push_back(ev);
  }
  event_names_.assign(kMaxEvents, std::string());
  DTUTMO_TRY(stats_pin_.allocate(sizeof(DevStats)));
  std::memset(stats_pin_.get(), 0, sizeof(DevStats));
  return {};
}

bool CudaEngine::set_params(const Params& p, std::string* err) {
  if (!validate(p, err)) return false;
  std::lock_guard<std::mutex> l(params_mu_);
  pending_ = p;
  have_pending_ = true;
  return true;
}

bool CudaEngine::set_cuda_stream(void* stream, std::string* err) {
  cudaStream_t next = stream ? static_cast<cudaStream_t>(stream) : own_stream_;
  if (next == stream_) return true;
  // finish what the old stream holds so nothing of this engine runs out of order
  const cudaError_t e = cudaStreamSynchronize(stream_);
  if (e != cudaSuccess) {
    if (err) *err = with_prefix(cuda_error_string(e, "cudaStreamSynchronize", __FILE__, __LINE__));
    return false;
  }
  stream_ = next;
  return true;
}

void CudaEngine::reset() {
  std::lock_guard<std::mutex> l(state_mu_);
  fresh_ = true;
}

EngineStats CudaEngine::stats() const {
  std::lock_guard<std::mutex> l(state_mu_);
  EngineStats s{};
  if (stats_pending_ && stats_event_) cudaEventSynchronize(stats_event_);
  DevStats d;
  std::memcpy(&d, stats_pin_.get(), sizeof(d));
  s.adaptation_nits = d.adaptation_nits;
  s.rod_adaptation_nits = d.rod_adaptation_nits;
  s.pupil_mm = d.pupil_mm;
  s.rod_weight = d.rod_weight;
  s.response_low = d.response_low;
  s.response_high = d.response_high;
  s.display_adapt_nits = d.display_adapt_nits;
  s.cut_detected = d.cut != 0;
  s.cut_shape = d.cut_shape;
  s.bad_samples = (long long)d.bad;
  s.frames = frames_;
  return s;
}

std::size_t CudaEngine::device_bytes() const {
  std::size_t b = in_dev_.bytes() + out_dev_.bytes() + dec_tab_.bytes() + enc_tab_.bytes() +
                  logit_tab_.bytes() + odds_tab_.bytes() + cell_sum_.bytes() +
                  cell_cnt_.bytes() + la_loc_.bytes() + la_s_.bytes() + la_rod_s_.bytes() +
                  pooled_.bytes() + pooler_.bytes() + cells_.bytes() +
                  kcells_.bytes() + edge_.bytes() + edge_tmp_.bytes() + hist_.bytes() +
                  state_.bytes() + consts_.bytes() + dstats_.bytes() + lin_.bytes() +
                  otf_tmp_.bytes() + resp_.bytes() + logy_.bytes() + glare_.bytes() +
                  bgrid_.bytes() + csf_.bytes();
  return b;
}

void CudaEngine::mark(const char* stage) {
  if (!profiling_ || n_events_ >= kMaxEvents) return;
  if (cudaEventRecord(events_[n_events_], stream_) == cudaSuccess) event_names_[n_events_++] = stage;
}

std::vector<std::pair<std::string, float>> CudaEngine::stage_times_ms() {
  std::vector<std::pair<std::string, float>> r;
  if (n_events_ < 2) return r;
  if (cudaEventSynchronize(events_[n_events_ - 1]) != cudaSuccess) return r;
  for (int i = 1; i < n_events_; ++i) {
    float ms = 0.0f;
    cudaEventElapsedTime(&ms, events_[i - 1], events_[i]);
    r.emplace_back(event_names_[i], ms);
  }
  float total = 0.0f;
  cudaEventElapsedTime(&total, events_[0], events_[n_events_ - 1]);
  r.emplace_back("total", total);
  return r;
}

bool CudaEngine::configure(const StreamConfig& cfg, std::string* err) {
  auto fail = [&](const std::string& m) {
    if (err) *err = with_prefix(m);
    configured_ = false;
    return false;
  };
  {
    std::string m;
    if (!validate(cfg, &m)) return fail(m);  // engine.h: the checks every engine makes
  }
  {
    std::lock_guard<std::mutex> l(params_mu_);
    if (have_pending_) {
      params_ = pending_;
      have_pending_ = false;
    }
  }
  std::string m = make_current();
  if (!m.empty()) return fail(m);
  if (stream_) cudaStreamSynchronize(stream_);  // frames in flight use the old buffers
  cfg_ = cfg;
  W_ = cfg.width;
  H_ = cfg.height;
  gw_ = (W_ + kCell - 1) / kCell;
  gh_ = (H_ + kCell - 1) / kCell;
  ew_ = (W_ + kSub - 1) / kSub;
  eh_ = (H_ + kSub - 1) / kSub;
  half_ = params_.precision == Precision::FP16;

  auto build = [&]() -> std::string {
    // staging and device copies of whole frames (host views)
    std::size_t in_bytes = 0, out_bytes = 0;
    const FormatInfo& fi = format_info(cfg.in_format);
    const FormatInfo& fo = format_info(cfg.out_format);
    for (int p = 0; p < 4; ++p) in_off_[p] = out_off_[p] = 0;
    for (int p = 0; p < fi.planes; ++p) {
      in_off_[p] = in_bytes;
      in_pitch_[p] = min_stride(cfg.in_format, p, W_);
      in_bytes += align256(std::size_t(in_pitch_[p]) * plane_height(cfg.in_format, p, H_));
    }
    for (int p = 0; p < fo.planes; ++p) {
      out_off_[p] = out_bytes;
      out_pitch_[p] = min_stride(cfg.out_format, p, W_);
      out_bytes += align256(std::size_t(out_pitch_[p]) * plane_height(cfg.out_format, p, H_));
    }
    DTUTMO_TRY(in_dev_.allocate(in_bytes));
    DTUTMO_TRY(out_dev_.allocate(out_bytes));
    DTUTMO_TRY(in_pin_.allocate(in_bytes));
    DTUTMO_TRY(out_pin_.allocate(out_bytes));

    // the tables (pixel_model.h, the CPU engine's): decode, encode, display inverse
    std::vector<float> tab(kDecodeTab + 2), etab(kEncodeTab + 2), ltab(kLogitTab), otab(2 * kLogitTab);
    fill_decode_table(cfg.in.transfer, tab.data());
    fill_encode_table(cfg.out.transfer, etab.data());
    fill_logit_tables(ltab.data(), otab.data());
    const std::pair<DeviceBuffer<float>*, const std::vector<float>*> tabs[] = {
        {&dec_tab_, &tab}, {&enc_tab_, &etab}, {&logit_tab_, &ltab}, {&odds_tab_, &otab}};
    for (const auto& t : tabs) {
      DTUTMO_TRY(t.first->allocate(t.second->size()));
      DTUTMO_CUDA_TRY(cudaMemcpyAsync(t.first->get(), t.second->data(), t.second->size() * sizeof(float),
                                      cudaMemcpyHostToDevice, stream_));
    }

    const std::size_t nc = std::size_t(gw_) * gh_;
    for (DeviceBuffer<float>* b : {&cell_sum_, &cell_cnt_, &la_loc_, &la_s_, &la_rod_s_, &pooled_})
      DTUTMO_TRY(b->allocate(nc));
    DTUTMO_TRY(pooler_.init(gw_, gh_, kPoolRangeStep));  // model.h, as the CPU engine
    DTUTMO_TRY(cells_.allocate(nc));
    DTUTMO_TRY(kcells_.allocate(nc));
    DTUTMO_TRY(edge_.allocate(std::size_t(ew_) * eh_));
    DTUTMO_TRY(edge_tmp_.allocate(std::size_t(ew_) * eh_ * 2));
    DTUTMO_TRY(hist_.allocate(kHistBins));
    DTUTMO_TRY(state_.allocate(1));
    DTUTMO_TRY(consts_.allocate(1));
    DTUTMO_TRY(dstats_.allocate(1));
    DevState s0{};  // as CpuEngine's initial state (the first frame refills it anyway)
    s0.ts = temporal_initial();
    s0.s_rmed = s0.h_rmed[0] = s0.h_rmed[1] = 0.5f;
    DTUTMO_CUDA_TRY(cudaMemcpyAsync(state_.get(), &s0, sizeof(s0), cudaMemcpyHostToDevice, stream_));
    DTUTMO_CUDA_TRY(cudaMemsetAsync(la_s_.get(), 0, nc * sizeof(float), stream_));
    DTUTMO_CUDA_TRY(cudaMemsetAsync(la_rod_s_.get(), 0, nc * sizeof(float), stream_));
    DTUTMO_CUDA_TRY(cudaMemsetAsync(dstats_.get(), 0, sizeof(DevStats), stream_));
    DTUTMO_CUDA_TRY(cudaMemsetAsync(kcells_.get(), 0, nc * sizeof(KCell), stream_));
    DTUTMO_CUDA_TRY(cudaMemsetAsync(edge_.get(), 0, std::size_t(ew_) * eh_ * sizeof(float), stream_));
    bgrid_ready_ = false;
    csf_ready_ = false;
    DTUTMO_TRY(ensure_balanced());
    DTUTMO_CUDA_TRY(cudaStreamSynchronize(stream_));  // the tables and `s0` die here
    return {};
  };
  m = build();
  if (!m.empty()) return fail(m);
  {
    std::lock_guard<std::mutex> l(state_mu_);
    fresh_ = true;
    frames_ = 0;
    stats_pending_ = false;
  }
  configured_ = true;
  return true;
}

// Buffers of the balanced stages, made at configure() when the parameters ask for them,
// otherwise at the first frame that does (and kept).
std::string CudaEngine::ensure_balanced() {
  const Params& P = params_;
  const bool use_lin = P.optics || P.base_detail;
  const std::size_t np = std::size_t(W_) * H_;
  const std::size_t elt = half_ ? sizeof(__half) : sizeof(float);
  if (use_lin) {
    DTUTMO_TRY(lin_.allocate(np * 3 * elt));
    DTUTMO_TRY(logy_.allocate(np));
  }
  // Controllable optics properties (fov, observer-age, pigmentation, glare-cells,
  // base-scale) may change every frame under a GstController: the glare plans follow the
  // grid only, the glare kernel and the bilateral grid's extent are refilled in place.
  if (P.optics) {
    const float ppd = float(W_) / P.fov_deg;
    const int cells = int(P.glare_max_cells);
    if (!glare_.grid_matches(W_, H_, cells)) DTUTMO_TRY(glare_.init(W_, H_, cells));
    if (!glare_.kernel_matches(ppd, P.observer_age, P.pigmentation))
      DTUTMO_TRY(glare_.set_kernel(ppd, P.observer_age, P.pigmentation, stream_));
    const float sigma_px = otf_sigma_deg(otf_fc(P.observer_age)) * ppd;
    if (sigma_px >= kOtfMinSigmaPx) DTUTMO_TRY(otf_tmp_.allocate(np * 3 * elt));
  }
  if (P.base_detail) {
    const float ss = P.base_scale * float(std::max(W_, H_));
    if (!bgrid_ready_ || bgrid_.ss != std::max(ss, 1.0f)) {
      DTUTMO_TRY(bgrid_.init(W_, H_, ss, 0.5f, std::log2(kMinNits), std::log2(kMaxNits)));
      bgrid_ready_ = true;
    }
  }
  if (P.csf) {
    DTUTMO_TRY(resp_.allocate(np * 3 * elt));
    if (!csf_ready_) {
      DTUTMO_TRY(csf_.init(W_, H_));
      csf_ready_ = true;
    }
  }
  return {};
}

std::string CudaEngine::check_view(const FrameView& v, PixelFormat f, const char* what) const {
  std::string m;
  check_frame(v, f, W_, H_, what, &m);  // engine.h; host and device views alike
  return m;
}

FrameConsts CudaEngine::consts_template() const {
  const Params& P = params_;
  FrameConsts K{};
  stream_consts(K, P, cfg_, gw_, gh_);  // common/dtutmo/model.h, as the CPU engine
  return K;
}

SetupParams CudaEngine::setup_params(double dt, bool snap) const {
  const Params& P = params_;
  SetupParams sp{};
  sp.width = W_;
  sp.height = H_;
  sp.gw = gw_;
  sp.gh = gh_;
  sp.fov_deg = P.fov_deg;
  sp.age = P.observer_age;
  sp.local_a = P.local ? P.local_adaptation : 0.0f;
  sp.peak = display_peak_nits(P);
  sp.black = P.display_black;
  sp.display_adapt = P.display_adapt;
  sp.pct_low = P.pct_low;
  sp.pct_high = P.pct_high;
  sp.key = P.key;
  sp.key_strength = P.key_strength;
  sp.knee = P.knee;
  sp.cut_threshold = P.cut_threshold;
  sp.cut_shape_threshold = P.cut_shape_threshold;
  sp.viewing = int(P.viewing);
  sp.broadcast = P.adaptation == AdaptationMode::Broadcast;
  sp.mesopic = P.mesopic;
  sp.display_mode = int(P.display_mode);
  sp.csf = P.csf;
  sp.optics = P.optics;
  sp.host_snap = snap;
  sp.kc_raw = snap ? 1.0f : smooth_k(dt, P.cone_tau);
  sp.kr_raw = snap ? 1.0f : smooth_k(dt, P.rod_tau);
  sp.kp_raw = snap ? 1.0f : smooth_k(dt, P.pupil_tau);
  sp.kq_raw = snap ? 1.0f : smooth_k(dt, P.range_tau);
  sp.ew = ew_;
  sp.eh = eh_;
  return sp;
}

DecodeArgs CudaEngine::decode_args(const DevFrame& in) const {
  const Params& P = params_;
  DecodeArgs a{};
  a.in = in;
  const FormatInfo& fi = format_info(cfg_.in_format);
  if (fi.yuv) a.yuv = pio::yuv_decode(cfg_.in, fi.bits);  // matrix, range, chroma siting
  a.dc = decode_consts(cfg_.in_format, cfg_.in.transfer, P.input_scale, P.hlg_peak, dec_tab_.get());
  const Mat3 r2x = rgb_to_xyz(cfg_.in.primaries);
  a.rgb_to_y = {r2x.m[1][0], r2x.m[1][1], r2x.m[1][2]};
  a.gw = gw_;
  a.gh = gh_;
  return a;
}

std::string CudaEngine::upload(const FrameView& in, DevFrame* dev) {
  const FormatInfo& fi = format_info(in.format);
  *dev = dev_frame(in);
  for (int p = 0; p < fi.planes; ++p) {
    const int rows = plane_height(in.format, p, H_);
    const std::size_t rb = std::size_t(in_pitch_[p]);
    unsigned char* pin = in_pin_.get() + in_off_[p];
    if (in.stride[p] == in_pitch_[p]) {
      std::memcpy(pin, in.data[p], rb * rows);
    } else {
      for (int r = 0; r < rows; ++r) std::memcpy(pin + rb * r, in.data[p] + in.stride[p] * r, rb);
    }
    DTUTMO_CUDA_TRY(cudaMemcpy2DAsync(in_dev_.get() + in_off_[p], rb, pin, rb, rb, rows,
                                      cudaMemcpyHostToDevice, stream_));
    dev->data[p] = in_dev_.get() + in_off_[p];
    dev->stride[p] = in_pitch_[p];
  }
  return {};
}

std::string CudaEngine::download_begin(const DevFrame& dev) {
  const FormatInfo& fo = format_info(dev.format);
  for (int p = 0; p < fo.planes; ++p) {
    const int rows = plane_height(dev.format, p, H_);
    const std::size_t rb = std::size_t(out_pitch_[p]);
    DTUTMO_CUDA_TRY(cudaMemcpy2DAsync(out_pin_.get() + out_off_[p], rb, dev.data[p], dev.stride[p],
                                      rb, rows, cudaMemcpyDeviceToHost, stream_));
  }
  return {};
}

std::string CudaEngine::download_end(const FrameView& out) {
  const FormatInfo& fo = format_info(out.format);
  for (int p = 0; p < fo.planes; ++p) {
    const int rows = plane_height(out.format, p, H_);
    const std::size_t rb = std::size_t(out_pitch_[p]);
    const unsigned char* pin = out_pin_.get() + out_off_[p];
    if (out.stride[p] == out_pitch_[p]) {
      std::memcpy(out.data[p], pin, rb * rows);
    } else {
      for (int r = 0; r < rows; ++r) std::memcpy(out.data[p] + out.stride[p] * r, pin + rb * r, rb);
    }
  }
  return {};
}

// Balanced pass 1: decode into the linear plane, [optics: OTF, glare with the cap's
// snap / smoothing factor k], log2 Y and cell sums. With `gate` (the cut frame made
// again, run_frame): every kernel but the glare's scratch memsets and transforms returns
// at once unless *gate, and bad samples are not counted twice.
std::string CudaEngine::pass1_lin(const DecodeArgs& dec, Plane lin, Plane logy, bool glare_snap, float k,
                                  const int* gate) {
  const Params& P = params_;
  DTUTMO_TRY(launch_decode_lin(dec, lin, gate ? nullptr : state_.get(), stream_, gate));
  if (!gate) mark("decode");
  if (P.optics) {
    const float ppd = float(W_) / P.fov_deg;
    const float sigma_px = otf_sigma_deg(otf_fc(P.observer_age)) * ppd;
    if (sigma_px >= kOtfMinSigmaPx) {
      DTUTMO_TRY(launch_otf_blur(lin, Plane{otf_tmp_.get(), half_}, W_, H_, sigma_px, stream_, gate));
      if (!gate) mark("otf");
    }
    DTUTMO_TRY(glare_.run(lin, dec.rgb_to_y, glare_snap, k, stream_, gate));
    if (!gate) mark("glare");
  }
  DTUTMO_TRY(launch_stats_from_lin(lin, W_, H_, dec.rgb_to_y, logy, cell_sum_.get(), cell_cnt_.get(), gw_, gh_,
                                   stream_, gate));
  if (!gate) mark("stats");
  return {};
}

// Local pooling (low_res()): Gaussians of 0.5, 1, 2, 4 degrees, weights 1:2:4:8, edge-aware
// (cross-bilateral in log luminance); the result is normalised.
std::string CudaEngine::pool_levels() {
  const float ppd = float(W_) / params_.fov_deg;
  const float sig[4] = {0.5f * ppd / kCell, 1.0f * ppd / kCell, 2.0f * ppd / kCell, 4.0f * ppd / kCell};
  const float wts[4] = {1, 2, 4, 8};
  return pooler_.pool(la_loc_.get(), sig, wts, 4, pooled_.get(), stream_);
}

std::string CudaEngine::run_frame(const FrameView& in, const FrameView& out, double time_s,
                                  bool sync) {
  if (!configured_) return "process() before configure()";
  DTUTMO_TRY(make_current());
  DTUTMO_TRY(check_view(in, cfg_.in_format, "input"));
  DTUTMO_TRY(check_view(out, cfg_.out_format, "output"));
  {
    std::lock_guard<std::mutex> l(params_mu_);
    if (have_pending_) {
      params_ = pending_;
      have_pending_ = false;
    }
  }
  const Params& P = params_;
  const bool want_half = P.precision == Precision::FP16;
  if (want_half != half_) {
    // the planes change element size: let frames in flight finish first
    DTUTMO_CUDA_TRY(cudaStreamSynchronize(stream_));
    half_ = want_half;
  }
  bool snap;
  {
    std::lock_guard<std::mutex> l(state_mu_);
    snap = fresh_;
    fresh_ = false;
  }
  const double dt = time_s - last_t_;
  if (!(dt > 0.0 && dt <= 10.0)) snap = true;
  last_t_ = time_s;

  DTUTMO_TRY(ensure_balanced());
  n_events_ = 0;
  mark("start");

  DevFrame din, dout;
  if (in.device_memory) {
    din = dev_frame(in);
  } else {
    DTUTMO_TRY(upload(in, &din));
  }
  if (out.device_memory) {
    dout = dev_frame(out);
  } else {
    dout = dev_frame(out);
    for (int p = 0; p < 4; ++p) {
      dout.data[p] = p < format_info(out.format).planes ? out_dev_.get() + out_off_[p] : nullptr;
      dout.stride[p] = out_pitch_[p];
    }
  }
  mark("upload");

  DevState* st = state_.get();
  DTUTMO_CUDA_TRY(cudaMemsetAsync(&st->bad, 0, sizeof(st->bad), stream_));
  DTUTMO_CUDA_TRY(cudaMemsetAsync(hist_.get(), 0, kHistBins * sizeof(unsigned int), stream_));

  const DecodeArgs dec = decode_args(din);
  const bool use_lin = P.optics || P.base_detail;
  const std::size_t np = std::size_t(W_) * H_;
  (void)np;
  Plane lin{lin_.get(), half_};
  Plane logy{logy_.get(), false};
  if (!use_lin) {
    DTUTMO_TRY(launch_decode_cells(dec, cell_sum_.get(), cell_cnt_.get(), st, stream_));
    mark("decode+cells");
  } else {
    DTUTMO_TRY(pass1_lin(dec, lin, logy, snap, snap ? 1.0f : smooth_k(dt, P.cone_tau), nullptr));
  }

  const FrameConsts tmpl = consts_template();
  const SetupParams sp = setup_params(dt, snap);
  FrameConsts* K = consts_.get();
  // Per-stage marks (profiling only) name the single-block kernels apart, so the
  // benchmark shows what multi-block reductions would save.
  // (with optics the picture area is found on the glare grid, before the veil)
  const GlarePicture gpic = {P.optics ? glare_.lit() : nullptr, glare_.cell(), glare_.gw(), glare_.gh()};
  DTUTMO_TRY(launch_global_stats(cell_sum_.get(), cell_cnt_.get(), la_loc_.get(), st, tmpl, K, sp, gpic,
                                 stream_));
  mark("global-stats");
  // A cut with optics on: the frame is made again with the glare state snapped, as the CPU
  // engine does (model.h glare_cut_redo). The detector ran on the device just now; rather
  // than wait for its answer (a host round trip in the middle of every frame, none today),
  // the redo is enqueued whenever a cut can be detected (broadcast, optics on, not snapped
  // by the host) with DevState::redo as its gate: on a frame without a cut its kernels
  // return at once; what still runs is two memsets of the glare's scratch and its two
  // transforms (on zeros). Estimated, not measured (no GPU here): tens of microseconds a
  // frame, against a balanced 4K budget of 3.3 ms.
  if (glare_cut_redo(P.optics, sp.broadcast != 0, snap)) {
    DTUTMO_TRY(pass1_lin(dec, lin, logy, true, 1.0f, &st->redo));
    DTUTMO_TRY(launch_global_stats(cell_sum_.get(), cell_cnt_.get(), la_loc_.get(), st, tmpl, K, sp, gpic,
                                   stream_, true));
    mark("cut-redo");
  }
  if (P.base_detail) {  // after the redo: from the frame's final log2 Y
    DTUTMO_TRY(bgrid_.build(logy_.get(), stream_));
    mark("bilateral");
  }
  const bool pooled = sp.local_a > 0.0f;
  if (pooled) {
    DTUTMO_TRY(pool_levels());
    mark("pooling");
  }
  DTUTMO_TRY(launch_cells_update(pooled ? pooled_.get() : nullptr, la_s_.get(),
                                 la_rod_s_.get(), cells_.get(), kcells_.get(), st, K, sp, stream_));
  mark("cells");
  DTUTMO_TRY(launch_rod_display(la_rod_s_.get(), K, sp, stream_));
  mark("rod-display");

  LinSource src{};
  src.guide = pooled ? la_loc_.get() : nullptr;  // joint-bilateral La lookup (local on)
  src.from_plane = use_lin;
  src.dec = dec;
  src.lin = lin;
  src.logy = logy;
  if (P.base_detail) {
    src.bgrid = bgrid_.grid();
    src.bdesc = bgrid_.desc();
  }
  DTUTMO_TRY(launch_hist_sample(src, kcells_.get(), gw_, gh_, K, edge_.get(), ew_, eh_, hist_.get(),
                                stream_));
  mark("histogram");
  DTUTMO_TRY(launch_frame_setup(hist_.get(), st, K, sp, dstats_.get(), stream_));
  mark("frame-setup");
  if (P.display_mode != DisplayMode::Whiteboard) {
    DTUTMO_TRY(launch_dispk(cells_.get(), gw_ * gh_, K, sp, kcells_.get(), stream_));
    if (P.display_mode == DisplayMode::Hybrid) {
      float* mag = edge_tmp_.get();
      float* tmp = edge_tmp_.get() + std::size_t(ew_) * eh_;
      DTUTMO_TRY(launch_edge_sobel(edge_.get(), ew_, eh_, K, mag, stream_));
      DTUTMO_TRY(launch_blur_grid(mag, ew_, eh_, 1.0f, tmp, stream_));
      DTUTMO_TRY(launch_edge_smoothstep(mag, ew_ * eh_, K, edge_.get(), stream_));
    }
    mark("display-cells");
  }

  Plane resp{resp_.get(), half_};
  if (P.csf) {
    DTUTMO_TRY(launch_responses_plane(src, kcells_.get(), gw_, gh_, K, resp, W_, H_, stream_));
    mark("responses");
    DTUTMO_TRY(csf_.run(resp, st, stream_));
    mark("csf");
  }

  Pass2Args a{};
  a.src = src;
  a.cells = kcells_.get();
  a.gw = gw_;
  a.gh = gh_;
  a.edge = edge_.get();
  a.ew = ew_;
  a.eh = eh_;
  a.resp = resp;
  a.use_resp = P.csf;
  a.out = dout;
  const FormatInfo& fo = format_info(cfg_.out_format);
  if (fo.yuv) a.yuv = pio::yuv_encode(cfg_.out, fo.bits);  // matrix, range, chroma siting
  a.dither = P.dither && fo.bits <= 8;
  a.colour.hue_preserve = P.hue_preserve;
  a.colour.saturation = P.saturation;
  a.colour.highlight_chroma = P.highlight_chroma;
  a.colour.lab_hue = P.lab_hue;
  a.tabs = DisplayTables{logit_tab_.get(), odds_tab_.get(), enc_tab_.get()};
  DTUTMO_TRY(launch_pass2(a, K, st, stream_));
  mark("pass2");

  {
    std::lock_guard<std::mutex> l(state_mu_);
    DTUTMO_CUDA_TRY(cudaMemcpyAsync(stats_pin_.get(), dstats_.get(), sizeof(DevStats),
                                    cudaMemcpyDeviceToHost, stream_));
    DTUTMO_CUDA_TRY(cudaEventRecord(stats_event_, stream_));
    stats_pending_ = true;
    if (snap) frames_ = 0;
    frames_++;
  }
  if (!out.device_memory) {
    DTUTMO_TRY(download_begin(dout));
    mark("download");
    DTUTMO_CUDA_TRY(cudaStreamSynchronize(stream_));
    DTUTMO_TRY(download_end(out));
  } else if (sync || !in.device_memory) {
    DTUTMO_CUDA_TRY(cudaStreamSynchronize(stream_));
  }
  return {};
}

bool CudaEngine::process(const FrameView& in, const FrameView& out, double time_s,
                         std::string* err) {
  const std::string m = run_frame(in, out, time_s, true);
  if (!m.empty()) {
    if (err) *err = with_prefix(m);
    return false;
  }
  return true;
}

bool CudaEngine::process_async(const FrameView& in, const FrameView& out, double time_s,
                               std::string* err) {
  const std::string m = run_frame(in, out, time_s, false);
  if (!m.empty()) {
    if (err) *err = with_prefix(m);
    return false;
  }
  return true;
}

// Whether this build has a kernel image (or PTX) the device can run.
std::string probe_device(int device) {
  cudaDeviceProp prop;
  DTUTMO_CUDA_TRY(cudaGetDeviceProperties(&prop, device));
  int cur = -1;
  if (cudaGetDevice(&cur) != cudaSuccess || cur != device) DTUTMO_CUDA_TRY(cudaSetDevice(device));
  cudaFuncAttributes attr;
  const cudaError_t e = cudaFuncGetAttributes(&attr, k_probe);
  if (e != cudaSuccess)
    return std::string("no kernel image for ") + prop.name + " (compute capability " +
           std::to_string(prop.major) + "." + std::to_string(prop.minor) +
           "); rebuild with -Dgpu-archs including it: " + cudaGetErrorString(e);
  return {};
}

}  // namespace cuda

bool cuda_engine_available(std::string* why) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    if (why)
      *why = std::string("no CUDA device: ") +
             (e != cudaSuccess ? std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")"
                               : std::string("none found"));
    cudaGetLastError();  // clear the sticky-free error state of the runtime
    return false;
  }
  return true;
}

std::unique_ptr<Engine> create_cuda_engine(int device, std::string* err) {
  std::string why;
  if (!cuda_engine_available(&why)) {
    if (err) *err = why;
    return nullptr;
  }
  int n = 0;
  cudaGetDeviceCount(&n);
  if (device < 0 || device >= n) {
    if (err) *err = "CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(n) +
                    " device" + (n == 1 ? "" : "s") + ")";
    return nullptr;
  }
  std::string m = cuda::probe_device(device);
  if (!m.empty()) {
    if (err) *err = "cuda engine: " + m;
    return nullptr;
  }
  std::unique_ptr<cuda::CudaEngine> e(new cuda::CudaEngine(device));
  m = e->init();
  if (!m.empty()) {
    if (err) *err = "cuda engine: " + m;
    return nullptr;
  }
  return std::unique_ptr<Engine>(e.release());
}

}  // namespace dtutmo
