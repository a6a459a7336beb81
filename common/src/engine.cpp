// dtutmo -- what the engine interface (engine.h) checks the same way for every engine.
#include "dtutmo/engine.h"

namespace dtutmo {

bool validate(const StreamConfig& cfg, std::string* err) {
  if (cfg.width < 1 || cfg.height < 1 || cfg.width > kMaxFrameSide || cfg.height > kMaxFrameSide) {
    if (err) *err = "frame size " + std::to_string(cfg.width) + "x" + std::to_string(cfg.height) +
                    " is outside 1x1 .. " + std::to_string(kMaxFrameSide) + "x" +
                    std::to_string(kMaxFrameSide);
    return false;
  }
  if (int(cfg.in_format) < 0 || cfg.in_format >= PixelFormat::COUNT || int(cfg.out_format) < 0 ||
      cfg.out_format >= PixelFormat::COUNT) {
    if (err) *err = "unknown pixel format";
    return false;
  }
  if (int(cfg.in.transfer) < 0 || cfg.in.transfer > Transfer::Gamma28 || int(cfg.out.transfer) < 0 ||
      cfg.out.transfer > Transfer::Gamma28) {
    if (err) *err = "unknown transfer function";
    return false;
  }
  // The engines encode PQ, HLG, linear, sRGB and BT.1886; the BT.470 gammas are decoded only.
  if (cfg.out.transfer == Transfer::Gamma22 || cfg.out.transfer == Transfer::Gamma28) {
    if (err) *err = "the BT.470 gamma 2.2 / 2.8 transfers are input transfers only";
    return false;
  }
  if (cfg.out.transfer == Transfer::Linear && cfg.out_format != PixelFormat::RGBF32) {
    if (err) *err = "linear output transfer needs RGBF32";
    return false;
  }
  return true;
}

bool check_frame(const FrameView& v, PixelFormat f, int width, int height, const char* what,
                 std::string* err) {
  if (v.format != f || v.width != width || v.height != height) {
    if (err) *err = std::string(what) + " frame does not match the configured format/size";
    return false;
  }
  const FormatInfo& fi = format_info(f);
  for (int p = 0; p < fi.planes; ++p) {
    if (!v.data[p] || v.stride[p] < min_stride(f, p, width)) {
      if (err) *err = std::string(what) + " frame has a missing plane or short stride";
      return false;
    }
  }
  return true;
}

}  // namespace dtutmo
