// dtutmo -- the engine interface. One interface, two implementations: the CPU engine
// (common/src, always built) and the CUDA engine (cuda/, built when CUDA is found).
//
// An engine turns a sequence of timestamped input frames into output frames and keeps the
// temporal adaptation state of MODEL.md between them. It is configured once per stream
// (size, formats, signals) and allocates everything then; process() allocates nothing.
#pragma once

#include <memory>
#include <string>

#include "dtutmo/frame.h"
#include "dtutmo/params.h"

namespace dtutmo {

// Both engines take frames of 1 .. kMaxFrameSide pixels on each side (the element's pad
// templates and dtutmo-image's --size advertise the same range; the macro is for caps
// strings).
#define DTUTMO_MAX_FRAME_SIDE 16384
constexpr int kMaxFrameSide = DTUTMO_MAX_FRAME_SIDE;

struct StreamConfig {
  int width = 0;
  int height = 0;
  PixelFormat in_format = PixelFormat::P010_10LE;
  PixelFormat out_format = PixelFormat::RGBA;
  SignalDesc in;             // how the input is encoded
  SignalDesc out;            // how the output must be encoded (transfer SRGB/BT1886 for SDR,
                             // PQ or HLG for HDR targets; primaries BT709 or BT2020)
  HdrMetadata hdr;           // input's static metadata, zeros when absent
};

// The stream configurations every engine accepts: size 1x1 .. 16384x16384, known pixel
// formats, a linear output transfer only into RGBF32. Returns false with a message (no
// engine prefix); both engines' configure() call it.
bool validate(const StreamConfig& cfg, std::string* err);
// Whether a frame view has format `f`, size width x height, every plane and a stride of at
// least min_stride(); `what` ("input", "output") starts the message. Where the memory is
// (host or device) is the engine's own check.
bool check_frame(const FrameView& v, PixelFormat f, int width, int height, const char* what,
                 std::string* err);

// Read-only statistics of the last processed frame (for the element's read-only
// properties and for tests).
struct EngineStats {
  float adaptation_nits = 0.0f;   // smoothed global adaptation luminance La, cd/m^2
  float pupil_mm = 0.0f;          // smoothed pupil diameter, mm
  float rod_weight = 0.0f;        // mesopic rod weight at La [0, 1]
  float response_low = 0.0f;      // smoothed low / high response percentiles [0, 1)
  float response_high = 0.0f;
  float display_adapt_nits = 0.0f;// display observer's adaptation, cd/m^2
  long long frames = 0;           // frames since the last reset
  long long bad_samples = 0;      // NaN/Inf/negative input samples zeroed in the last frame
  bool cut_detected = false;      // broadcast mode: last frame was taken as a scene cut
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual const char* name() const = 0;  // "cpu" or "cuda"

  // Prepare for a stream: checks the formats, allocates buffers, builds plans and tables.
  // Resets the temporal state. Returns false with a message on error.
  virtual bool configure(const StreamConfig& cfg, std::string* err) = 0;

  // New parameters; they take effect at the next process(). Thread-safe against a
  // concurrent process() (the element's property setters call it from any thread).
  // Parameters that change the temporal model do not reset the state.
  virtual bool set_params(const Params& p, std::string* err) = 0;

  // Process one frame. `time_s` is the frame's presentation time in seconds (from the
  // buffer's PTS); the state advances by its difference to the previous frame's (a
  // negative or absurd step counts as a discontinuity and re-adapts at once).
  // `in` and `out` must match the configured formats and size; strides may be any
  // value >= min_stride.
  virtual bool process(const FrameView& in, const FrameView& out, double time_s,
                       std::string* err) = 0;

  // Forget the temporal state: the next frame starts fully adapted.
  virtual void reset() = 0;

  virtual EngineStats stats() const = 0;

  // --- CUDA interop (added for the CUDA engine and the zero-copy GStreamer path) ---
  // The CUDA stream (a cudaStream_t, passed as void* so this header needs no CUDA) the
  // engine enqueues its work on; nullptr for engines without one.
  virtual void* cuda_stream() const { return nullptr; }
  // Make the engine enqueue its work on the caller's `stream` (a cudaStream_t; nullptr
  // returns to the engine's own stream). The stream must belong to the context that is
  // current when process() runs. Fails on engines without CUDA.
  virtual bool set_cuda_stream(void* stream, std::string* err) {
    (void)stream;
    if (err) *err = std::string(name()) + " engine has no CUDA stream";
    return false;
  }
  // As process(), but may return before the output is written: the CUDA engine enqueues
  // the frame on its stream and returns without synchronising (device FrameViews only;
  // host views are synchronised as in process()). The caller synchronises the stream
  // (cuda_stream()) before reading `out`; stats() waits for the frame itself.
  // The default is process().
  virtual bool process_async(const FrameView& in, const FrameView& out, double time_s,
                             std::string* err) {
    return process(in, out, time_s, err);
  }
};

// The multi-threaded CPU engine; threads = 0 uses every core.
std::unique_ptr<Engine> create_cpu_engine(int threads = 0);

// The CUDA engine on device `device`; returns nullptr with a reason ("no device", "built
// without CUDA", ...) in *err when it cannot run here. Defined in cuda/ when built with
// CUDA, and by a stub that always fails otherwise.
std::unique_ptr<Engine> create_cuda_engine(int device, std::string* err);
bool cuda_engine_available(std::string* why);

}  // namespace dtutmo
