// dtutmo -- a video sequence through the CPU engine, with and without its temporal state.
// See video.h.
#include "video.h"

#include <algorithm>
#include <cmath>

namespace dtutmo {
namespace quality {

namespace {
bool configure(Engine& e, int w, int h, const Params& p, bool p010, std::string* err) {
  StreamConfig cfg;
  cfg.width = w;
  cfg.height = h;
  if (p010) {  // HDR10: limited-range BT.2020 YCbCr, PQ (SignalDesc's defaults)
    cfg.in_format = PixelFormat::P010_10LE;
    cfg.in = SignalDesc{};
  } else {
    cfg.in_format = PixelFormat::RGBF32;
    cfg.in.transfer = Transfer::Linear;
    cfg.in.primaries = Primaries::BT709;
  }
  cfg.out_format = PixelFormat::RGBF32;
  cfg.out.transfer = Transfer::SRGB;
  cfg.out.primaries = Primaries::BT709;
  return e.set_params(p, err) && e.configure(cfg, err);
}

bool run(Engine& e, int w, int h, bool p010, uint8_t* in, std::vector<float>& out, double t,
         std::string* err) {
  const FrameView iv = packed_view(p010 ? PixelFormat::P010_10LE : PixelFormat::RGBF32, w, h, in);
  const FrameView ov = packed_view(PixelFormat::RGBF32, w, h, reinterpret_cast<uint8_t*>(out.data()));
  return e.process(iv, ov, t, err);
}
}  // namespace

void codes_to_luminance(const std::vector<float>& codes, std::vector<float>* y) {
  const size_t n = codes.size() / 3;
  y->resize(n);
  auto dec = [](float c) {
    c = std::min(std::max(c, 0.0f), 1.0f);
    return c <= 0.04045f ? c / 12.92f : std::pow((c + 0.055f) / 1.055f, 2.4f);
  };
  for (size_t i = 0; i < n; ++i)
    (*y)[i] = 0.2126f * dec(codes[3 * i]) + 0.7152f * dec(codes[3 * i + 1]) + 0.0722f * dec(codes[3 * i + 2]);
}

bool VideoRunner::init(int width, int height, Params p, bool p010, bool with_ghost, std::string* err) {
  w_ = width;
  h_ = height;
  p010_ = p010;
  if (!p010) p.input_scale = 1.0f;  // RGBF32 input in cd/m^2
  state_ = create_cpu_engine(0);
  if (!configure(*state_, w_, h_, p, p010_, err)) return false;
  instant_.reset();
  if (with_ghost) {
    instant_ = create_cpu_engine(0);
    if (!configure(*instant_, w_, h_, p, p010_, err)) return false;
  }
  state_out_.assign(size_t(w_) * h_ * 3, 0.0f);
  instant_out_.assign(size_t(w_) * h_ * 3, 0.0f);
  return true;
}

bool VideoRunner::step(uint8_t* in, double t, VideoFrame* out, std::string* err) {
  if (!state_ || !run(*state_, w_, h_, p010_, in, state_out_, t, err)) return false;
  VideoFrame f;
  f.stats = state_->stats();
  double m = 0.0;
  for (size_t i = 0; i < state_out_.size(); i += 3)
    m += 0.2126 * state_out_[i] + 0.7152 * state_out_[i + 1] + 0.0722 * state_out_[i + 2];
  f.mean_luma = 255.0 * m / double(state_out_.size() / 3);
  if (instant_) {
    instant_->reset();
    if (!run(*instant_, w_, h_, p010_, in, instant_out_, t, err)) return false;
    codes_to_luminance(state_out_, &ys_);
    codes_to_luminance(instant_out_, &yi_);
    f.ghost = ghost(ys_, yi_);
    f.ghost_linear = ghost(ys_, yi_, 1.0 / 256.0, 0.0);
  }
  *out = f;
  return true;
}

namespace {
void codes_to_image8(const std::vector<float>& codes, int w, int h, Image8* res) {
  res->width = w;
  res->height = h;
  res->rgb.resize(codes.size());
  for (size_t i = 0; i < codes.size(); ++i)
    res->rgb[i] = static_cast<uint8_t>(std::lround(std::min(std::max(codes[i], 0.0f), 1.0f) * 255.0f));
}
}  // namespace

void VideoRunner::image8(Image8* res) const { codes_to_image8(state_out_, w_, h_, res); }
void VideoRunner::instant_image8(Image8* res) const { codes_to_image8(instant_out_, w_, h_, res); }

}  // namespace quality
}  // namespace dtutmo
