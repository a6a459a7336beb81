// dtutmo CUDA -- the CUDA implementation of dtutmo::Engine (create it through
// create_cuda_engine() in engine.h; this header is for the benchmark and the tests, which
// also want per-stage timings and the device memory in use).
//
// Threading and contexts: configure() and process() run on the caller's thread with the
// CUDA context that is current there. When no context is current, or the current one
// belongs to another device, the engine makes device `device`'s primary context current
// (cudaSetDevice); when the caller (e.g. GStreamer's GstCudaContext) already has a
// context of that device current, the engine uses it and never switches. configure() and
// process() must see the same context.
#pragma once

#include <cuda_runtime.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "buffers.h"
#include "dtutmo/engine.h"
#include "kernels.h"

namespace dtutmo {
namespace cuda {

class CudaEngine final : public Engine {
 public:
  explicit CudaEngine(int device) : device_(device) { params_ = params_for_profile(Profile::Fast); }
  ~CudaEngine() override;
  // Creates the stream and the events; called once by create_cuda_engine().
  std::string init();

  const char* name() const override { return "cuda"; }
  bool configure(const StreamConfig& cfg, std::string* err) override;
  bool set_params(const Params& p, std::string* err) override;
  bool process(const FrameView& in, const FrameView& out, double time_s,
               std::string* err) override;
  bool process_async(const FrameView& in, const FrameView& out, double time_s,
                     std::string* err) override;
  void reset() override;
  EngineStats stats() const override;
  void* cuda_stream() const override { return stream_; }
  bool set_cuda_stream(void* stream, std::string* err) override;

  // --- benchmark / tests ---
  // Record a CUDA event after every stage of the following frames.
  void set_profiling(bool on) { profiling_ = on; }
  // Milliseconds per stage of the last profiled frame (synchronises), in order.
  std::vector<std::pair<std::string, float>> stage_times_ms();
  // Device memory held by the engine, bytes (buffers, plans' data, not the context).
  std::size_t device_bytes() const;
  // cuFFT plans made so far (glare); with g_buffer_allocations (buffers.h) the tests check
  // that frames whose parameters change make neither plans nor allocations.
  int cufft_plans_made() const { return glare_.plans_made(); }

 private:
  std::string make_current();
  std::string run_frame(const FrameView& in, const FrameView& out, double time_s, bool sync);
  std::string check_view(const FrameView& v, PixelFormat f, const char* what) const;
  std::string ensure_balanced();
  std::string upload(const FrameView& in, DevFrame* dev);
  std::string download_begin(const DevFrame& dev);
  std::string download_end(const FrameView& out);
  void mark(const char* stage);
  FrameConsts consts_template() const;
  SetupParams setup_params(double dt, bool snap) const;
  DecodeArgs decode_args(const DevFrame& in) const;
  std::string pass1_lin(const DecodeArgs& dec, Plane lin, Plane logy, bool glare_snap, float k,
                        const int* gate);
  std::string pool_levels();
  Plane plane(DeviceBuffer<unsigned char>& b) const { return Plane{b.get(), half_}; }

  int device_;
  cudaStream_t own_stream_ = nullptr;
  cudaStream_t stream_ = nullptr;
  bool configured_ = false;
  StreamConfig cfg_;
  int W_ = 0, H_ = 0, gw_ = 0, gh_ = 0, ew_ = 0, eh_ = 0;

  // parameters
  mutable std::mutex params_mu_;
  Params pending_;
  bool have_pending_ = false;
  Params params_;
  bool half_ = true;  // FP16 intermediate planes

  // frames in device memory (host views are staged through pinned memory)
  DeviceBuffer<unsigned char> in_dev_, out_dev_;
  PinnedBuffer in_pin_, out_pin_;
  std::size_t in_off_[4] = {}, out_off_[4] = {};
  std::ptrdiff_t in_pitch_[4] = {}, out_pitch_[4] = {};

  // the tables (pixel_model.h): decode, encode, display inverse
  DeviceBuffer<float> dec_tab_, enc_tab_, logit_tab_, odds_tab_;

  // low resolution
  DeviceBuffer<float> cell_sum_, cell_cnt_, la_loc_, la_s_, la_rod_s_, pooled_;
  EdgePoolDev pooler_;
  DeviceBuffer<AdaptCell> cells_;
  DeviceBuffer<KCell> kcells_;
  DeviceBuffer<float> edge_, edge_tmp_;
  DeviceBuffer<unsigned int> hist_;
  DeviceBuffer<DevState> state_;
  DeviceBuffer<FrameConsts> consts_;
  DeviceBuffer<DevStats> dstats_;
  PinnedBuffer stats_pin_;
  cudaEvent_t stats_event_ = nullptr;
  bool stats_pending_ = false;

  // balanced
  DeviceBuffer<unsigned char> lin_, otf_tmp_, resp_;
  DeviceBuffer<float> logy_;
  GlareDev glare_;
  BilateralDev bgrid_;
  bool bgrid_ready_ = false;
  CsfDev csf_;
  bool csf_ready_ = false;
  bool balanced_half_ = true;  // precision the balanced planes were made with

  // temporal (host side: what the host knows without asking the device)
  mutable std::mutex state_mu_;
  bool fresh_ = true;
  double last_t_ = 0.0;
  long long frames_ = 0;

  // profiling
  bool profiling_ = false;
  std::vector<cudaEvent_t> events_;
  std::vector<std::string> event_names_;
  int n_events_ = 0;
};

}  // namespace cuda
}  // namespace dtutmo
