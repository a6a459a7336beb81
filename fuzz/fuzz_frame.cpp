// Fuzz target: the element's frame path -- every input format and target, odd sizes,
// GstVideoMeta layouts (strides, plane offsets; honest, padded, overlapping or pointing
// outside the buffer), buffers too small or too large, raw sample values (NaN and Inf
// floats are just bit patterns of RGBA64/P016 etc.), DISCONT and missing timestamps.
// Every input must end in output or an element error: no crash, no sanitizer report.
//
// Input: a 24-byte header, then the sample bytes (repeated over the buffer)
//   0 input format (index into the sink formats)   1 target (sdr, pq, hlg)
//   2 width - 1 (mod 64; its bit 6: quarter in place of half below)   3 height - 1 (mod 64)
//   4 flags: 1 GstVideoMeta, 2 second frame, 4 DISCONT on it, 8 no PTS, 16 meta
//   format/size differ from the caps, 32 model-resolution=half (or quarter), 64 downstream
//   takes I420 only (128: NV12 only)
//   5..12 stride change of planes 0-3 (int16 LE)   13..20 offset change of planes 0-3
//   (uint16 LE)   21..22 buffer size change (int16 LE)   23 colorimetry (index)
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "gst_fuzz.h"

using namespace dtutmo_fuzz;

namespace {
const char* const kFormats[] = {"P010_10LE", "P012_LE",   "P016_LE",   "I420_10LE",  "I420_12LE",
                                "Y444_16LE", "RGBA64_LE", "RGB10A2_LE", "BGR10A2_LE", "I420",
                                "NV12",      "RGBA",      "BGRx"};
const char* const kTargets[] = {"sdr", "pq", "hlg"};
const char* const kColorimetry[] = {"bt2100-pq", "bt2100-hlg", "bt709", "1:1:14:7", "1:1:1:7", "sRGB",
                                    "1:1:5:1",   nullptr};
int16_t s16(const uint8_t* p) { return int16_t(uint16_t(p[0] | p[1] << 8)); }
uint16_t u16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  init_gst();
  uint8_t hdr[24] = {0};
  std::memcpy(hdr, data, std::min<size_t>(size, sizeof hdr));
  const uint8_t* samples = size > sizeof hdr ? data + sizeof hdr : nullptr;
  const size_t nsamples = size > sizeof hdr ? size - sizeof hdr : 0;
  const char* fmt = kFormats[hdr[0] % (sizeof kFormats / sizeof kFormats[0])];
  const int w = 1 + hdr[2] % 64, h = 1 + hdr[3] % 64;
  const uint8_t flags = hdr[4];
  const char* colorimetry = kColorimetry[hdr[23] % (sizeof kColorimetry / sizeof kColorimetry[0])];

  GstCaps* caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, fmt, "width", G_TYPE_INT, w,
                                      "height", G_TYPE_INT, h, "framerate", GST_TYPE_FRACTION, 30, 1, NULL);
  if (colorimetry) gst_caps_set_simple(caps, "colorimetry", G_TYPE_STRING, colorimetry, NULL);
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) {
    gst_caps_unref(caps);
    return 0;
  }
  Harness hh(kTargets[hdr[1] % 3]);
  if (flags & 32)
    gst_util_set_object_arg(G_OBJECT(hh.h->element), "model-resolution", (hdr[2] & 64) ? "quarter" : "half");
  if (flags & (64 | 128)) gst_harness_set_sink_caps_str(hh.h, (flags & 64) ? "video/x-raw,format=I420" : "video/x-raw,format=NV12");
  hh.start(caps);
  gst_caps_unref(caps);

  // The layout the meta claims: the caps' one, changed by the header.
  gsize offset[GST_VIDEO_MAX_PLANES] = {0};
  gint stride[GST_VIDEO_MAX_PLANES] = {0};
  gsize end = info.size;
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(&info); ++p) {
    stride[p] = info.stride[p] + ((flags & 1) ? s16(hdr + 5 + 2 * p) : 0);
    offset[p] = info.offset[p] + ((flags & 1) ? u16(hdr + 13 + 2 * p) : 0);
    end = std::max<gsize>(end, offset[p] + gsize(std::max(0, stride[p])) * gsize(h));
  }
  const long long want = (long long)end + s16(hdr + 21);
  const gsize bytes = gsize(std::max(0LL, std::min(want, 8LL << 20)));
  for (int frame = 0; frame < ((flags & 2) ? 2 : 1); ++frame) {
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, bytes, nullptr);
    fill(buf, samples, nsamples);
    if (flags & 1) {
      const bool lie = flags & 16;  // a meta that does not match the caps
      gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE,
                                     lie ? GST_VIDEO_FORMAT_NV12 : GST_VIDEO_INFO_FORMAT(&info),
                                     lie ? guint(w + 1) : guint(w), guint(h), GST_VIDEO_INFO_N_PLANES(&info), offset,
                                     stride);
    }
    GST_BUFFER_PTS(buf) = (flags & 8) ? GST_CLOCK_TIME_NONE : GstClockTime(frame) * GST_SECOND / 30;
    if (frame == 1 && (flags & 4)) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
    gst_harness_push(hh.h, buf);
    hh.drain();
  }
  return 0;
}
