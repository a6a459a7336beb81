// dtutmo -- the format table of frame.h and plane geometry.
#include "dtutmo/frame.h"

#include <cstring>
#include <strings.h>

namespace dtutmo {

namespace {

// Indexed by PixelFormat. pixel_bytes of a subsampled chroma plane is per chroma sample
// (NV12/P01x: the interleaved U,V pair).
const FormatInfo kFormats[] = {
    {"P010_10LE", 2, 10, true, true, {2, 4, 0, 0}},
    {"P012_LE", 2, 12, true, true, {2, 4, 0, 0}},
    {"P016_LE", 2, 16, true, true, {2, 4, 0, 0}},
    {"I420_10LE", 3, 10, true, true, {2, 2, 2, 0}},
    {"I420_12LE", 3, 12, true, true, {2, 2, 2, 0}},
    {"Y444_16LE", 3, 16, true, false, {2, 2, 2, 0}},
    {"RGBA64_LE", 1, 16, false, false, {8, 0, 0, 0}},
    {"RGB10A2_LE", 1, 10, false, false, {4, 0, 0, 0}},
    {"BGR10A2_LE", 1, 10, false, false, {4, 0, 0, 0}},
    {"I420", 3, 8, true, true, {1, 1, 1, 0}},
    {"NV12", 2, 8, true, true, {1, 2, 0, 0}},
    {"RGBA", 1, 8, false, false, {4, 0, 0, 0}},
    {"BGRA", 1, 8, false, false, {4, 0, 0, 0}},
    {"RGBx", 1, 8, false, false, {4, 0, 0, 0}},
    {"BGRx", 1, 8, false, false, {4, 0, 0, 0}},
    {"RGBF32", 1, 32, false, false, {12, 0, 0, 0}},
};
static_assert(sizeof(kFormats) / sizeof(kFormats[0]) == static_cast<int>(PixelFormat::COUNT),
              "format table out of step with PixelFormat");

const FormatInfo kInvalid = {"unknown", 0, 0, false, false, {0, 0, 0, 0}};

bool valid(PixelFormat f) {
  return static_cast<int>(f) >= 0 && static_cast<int>(f) < static_cast<int>(PixelFormat::COUNT);
}

}  // namespace

const FormatInfo& format_info(PixelFormat f) {
  return valid(f) ? kFormats[static_cast<int>(f)] : kInvalid;
}

PixelFormat format_from_name(const char* name) {
  if (!name) return PixelFormat::COUNT;
  // Exact GStreamer spelling first (RGBx and RGBX differ only in case, but both name the
  // same layout here, so a case-insensitive fallback is safe).
  for (int i = 0; i < static_cast<int>(PixelFormat::COUNT); ++i)
    if (std::strcmp(kFormats[i].name, name) == 0) return static_cast<PixelFormat>(i);
  for (int i = 0; i < static_cast<int>(PixelFormat::COUNT); ++i)
    if (strcasecmp(kFormats[i].name, name) == 0) return static_cast<PixelFormat>(i);
  return PixelFormat::COUNT;
}

std::ptrdiff_t min_stride(PixelFormat f, int plane, int width) {
  const FormatInfo& fi = format_info(f);
  if (plane < 0 || plane >= fi.planes || width <= 0) return 0;
  const int w = (plane > 0 && fi.subsampled) ? (width + 1) / 2 : width;
  return static_cast<std::ptrdiff_t>(w) * fi.pixel_bytes[plane];
}

int plane_height(PixelFormat f, int plane, int height) {
  const FormatInfo& fi = format_info(f);
  if (plane < 0 || plane >= fi.planes || height <= 0) return 0;
  return (plane > 0 && fi.subsampled) ? (height + 1) / 2 : height;
}

FrameView packed_view(PixelFormat f, int width, int height, uint8_t* base) {
  FrameView v;
  v.format = f;
  v.width = width;
  v.height = height;
  const FormatInfo& fi = format_info(f);
  std::size_t off = 0;
  for (int p = 0; p < fi.planes; ++p) {
    v.stride[p] = min_stride(f, p, width);
    v.data[p] = base ? base + off : nullptr;
    off += static_cast<std::size_t>(v.stride[p]) * static_cast<std::size_t>(plane_height(f, p, height));
  }
  return v;
}

std::size_t packed_size(PixelFormat f, int width, int height) {
  const FormatInfo& fi = format_info(f);
  std::size_t n = 0;
  for (int p = 0; p < fi.planes; ++p)
    n += static_cast<std::size_t>(min_stride(f, p, width)) *
         static_cast<std::size_t>(plane_height(f, p, height));
  return n;
}

}  // namespace dtutmo
