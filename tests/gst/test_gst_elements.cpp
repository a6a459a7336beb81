// dtutmo -- tests of the GStreamer elements `dtutmo` and `hdrscenesrc` through GstHarness
// and small pipelines. The plugin is found through GST_PLUGIN_PATH (set by meson).
//
// Frames are made and read with the project's own row converters (convert.h), so a test
// states its input in cd/m^2 and reads its output back as code values or display nits.
#include <gst/base/gstbasetransform.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video-hdr.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "dtutmo/convert.h"
#include "dtutmo/engine.h"
#include "dtutmo/frame.h"
#include "dtutmo/params.h"
#include "dtutmo/transfer.h"

namespace {

class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
::testing::Environment* const gst_env =
    ::testing::AddGlobalTestEnvironment(new GstEnvironment);

const char* const kSinkFormats[] = {"P010_10LE",  "P012_LE",   "P016_LE",   "I420_10LE",
                                    "I420_12LE",  "Y444_16LE", "RGBA64_LE", "RGB10A2_LE",
                                    "BGR10A2_LE", "I420",      "NV12",      "RGBA",
                                    "BGRx"};
const char* const kSdrOut[] = {"RGBA", "BGRA", "RGBx", "BGRx", "NV12", "I420"};
const char* const kHdrOut[] = {"P010_10LE", "RGB10A2_LE", "RGBA64_LE"};

bool is_yuv(const char* fmt) {
  const GstVideoFormatInfo* fi = gst_video_format_get_info(gst_video_format_from_string(fmt));
  return GST_VIDEO_FORMAT_INFO_IS_YUV(fi);
}
int depth(const char* fmt) {
  const GstVideoFormatInfo* fi = gst_video_format_get_info(gst_video_format_from_string(fmt));
  return int(GST_VIDEO_FORMAT_INFO_DEPTH(fi, 0));
}

// Colorimetry a producer would tag an input of this format with: PQ BT.2020 for deep
// formats, BT.709 for 8-bit ones (numeric full-range forms for RGB).
const char* default_colorimetry(const char* fmt) {
  const bool yuv = is_yuv(fmt);
  if (depth(fmt) > 8) return yuv ? "bt2100-pq" : "1:1:14:7";
  return yuv ? "bt709" : "1:1:5:1";
}

GstCaps* video_caps(const char* fmt, int w, int h, const char* colorimetry, int fps_n = 30,
                    int fps_d = 1) {
  GstCaps* caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, fmt, "width",
                                      G_TYPE_INT, w, "height", G_TYPE_INT, h, "framerate",
                                      GST_TYPE_FRACTION, fps_n, fps_d, "pixel-aspect-ratio",
                                      GST_TYPE_FRACTION, 1, 1, NULL);
  if (colorimetry)
    gst_caps_set_simple(caps, "colorimetry", G_TYPE_STRING, colorimetry, NULL);
  return caps;
}

// Signal description matching caps, for making and reading frames in tests.
dtutmo::SignalDesc signal_of(const GstVideoInfo& info) {
  dtutmo::SignalDesc s;
  const GstVideoColorimetry& c = info.colorimetry;
  s.transfer = c.transfer == GST_VIDEO_TRANSFER_SMPTE2084      ? dtutmo::Transfer::PQ
               : c.transfer == GST_VIDEO_TRANSFER_ARIB_STD_B67 ? dtutmo::Transfer::HLG
               : c.transfer == GST_VIDEO_TRANSFER_GAMMA10      ? dtutmo::Transfer::Linear
               : c.transfer == GST_VIDEO_TRANSFER_SRGB         ? dtutmo::Transfer::SRGB
               : c.transfer == GST_VIDEO_TRANSFER_GAMMA22      ? dtutmo::Transfer::Gamma22
               : c.transfer == GST_VIDEO_TRANSFER_GAMMA28      ? dtutmo::Transfer::Gamma28
                                                               : dtutmo::Transfer::BT1886;
  s.primaries = c.primaries == GST_VIDEO_COLOR_PRIMARIES_BT2020 ? dtutmo::Primaries::BT2020
                                                               : dtutmo::Primaries::BT709;
  s.matrix = c.matrix == GST_VIDEO_COLOR_MATRIX_BT2020  ? dtutmo::YuvMatrix::BT2020NC
             : c.matrix == GST_VIDEO_COLOR_MATRIX_BT601 ? dtutmo::YuvMatrix::BT601
                                                        : dtutmo::YuvMatrix::BT709;
  s.full_range = !GST_VIDEO_INFO_IS_YUV(&info) || c.range == GST_VIDEO_COLOR_RANGE_0_255;
  s.chroma_h_cosited = (info.chroma_site & GST_VIDEO_CHROMA_SITE_H_COSITED) != 0;
  s.chroma_v_cosited = (info.chroma_site & GST_VIDEO_CHROMA_SITE_V_COSITED) != 0;
  return s;
}

// Code value [0, 1] of `nits` for the signal (SDR and linear relative to `scale` nits).
float encode_nits(const dtutmo::SignalDesc& s, float nits, float scale = 100.0f) {
  switch (s.transfer) {
    case dtutmo::Transfer::PQ: return dtutmo::pq_inv_eotf(nits);
    case dtutmo::Transfer::Linear: return std::min(1.0f, nits / scale);
    case dtutmo::Transfer::SRGB: return dtutmo::srgb_inv_eotf(nits / scale);
    case dtutmo::Transfer::HLG: return dtutmo::hlg_oetf(nits / 1000.0f);
    // The BT.470 display gammas, inverted here (the engines only decode them).
    case dtutmo::Transfer::Gamma22: return std::pow(std::clamp(nits / scale, 0.0f, 1.0f), 1.0f / 2.2f);
    case dtutmo::Transfer::Gamma28: return std::pow(std::clamp(nits / scale, 0.0f, 1.0f), 1.0f / 2.8f);
    default: return dtutmo::bt1886_inv_eotf(nits / scale);
  }
}

dtutmo::FrameView view_of(GstVideoFrame* f) {
  dtutmo::FrameView v;
  v.format = dtutmo::format_from_name(GST_VIDEO_FRAME_FORMAT(f) == GST_VIDEO_FORMAT_UNKNOWN
                                          ? ""
                                          : gst_video_format_to_string(GST_VIDEO_FRAME_FORMAT(f)));
  v.width = GST_VIDEO_FRAME_WIDTH(f);
  v.height = GST_VIDEO_FRAME_HEIGHT(f);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(f) && p < 4; ++p) {
    v.data[p] = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(f, p));
    v.stride[p] = GST_VIDEO_FRAME_PLANE_STRIDE(f, p);
  }
  return v;
}

using NitsFn = std::function<void(int x, int y, float rgb[3])>;

// A frame for `caps` whose pixel (x, y) shows fn's linear RGB in cd/m^2, encoded per the
// caps. `pad` > 0: every plane's stride grows by `pad` bytes, planes start `pad` bytes
// apart from a non-zero offset, described by a GstVideoMeta.
GstBuffer* make_frame(GstCaps* caps, const NitsFn& fn, int pad = 0, float scale = 100.0f) {
  GstVideoInfo info;
  EXPECT_TRUE(gst_video_info_from_caps(&info, caps));
  GstVideoInfo layout = info;
  if (pad > 0) {
    gsize offset = gsize(pad);
    for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(&info); ++p) {
      layout.stride[p] = info.stride[p] + pad;
      layout.offset[p] = offset;
      gint comp[GST_VIDEO_MAX_COMPONENTS];
      gst_video_format_info_component(info.finfo, p, comp);
      const int ph = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(info.finfo, comp[0], info.height);
      offset += gsize(layout.stride[p]) * ph + pad;
    }
    layout.size = offset;
  }
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, layout.size, nullptr);
  if (pad > 0)
    gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT(&info),
                                   info.width, info.height, GST_VIDEO_INFO_N_PLANES(&info),
                                   layout.offset, layout.stride);
  // Fill the padding with a pattern that would show if read.
  gst_buffer_memset(buf, 0, 0xA5, layout.size);
  GstVideoFrame frame;
  EXPECT_TRUE(gst_video_frame_map(&frame, &layout, buf, GST_MAP_WRITE));
  const dtutmo::SignalDesc sig = signal_of(info);
  std::vector<float> rgb(size_t(info.width) * info.height * 3);
  for (int y = 0; y < info.height; ++y)
    for (int x = 0; x < info.width; ++x) {
      float* px = &rgb[(size_t(y) * info.width + x) * 3];
      fn(x, y, px);
      for (int c = 0; c < 3; ++c) px[c] = encode_nits(sig, px[c], scale);
    }
  dtutmo::pack_rows(rgb.data(), info.width * 3, view_of(&frame), sig, 0, info.height, false);
  gst_video_frame_unmap(&frame);
  return buf;
}

GstBuffer* make_uniform(GstCaps* caps, float nits, float scale = 100.0f) {
  return make_frame(
      caps, [nits](int, int, float* p) { p[0] = p[1] = p[2] = nits; }, 0, scale);
}

// A textured frame: a log ramp across x between lo and hi cd/m^2, with grey bars.
GstBuffer* make_scene(GstCaps* caps, float lo, float hi, float scale = 100.0f) {
  GstVideoInfo info;
  gst_video_info_from_caps(&info, caps);
  const int w = info.width;
  return make_frame(
      caps,
      [=](int x, int y, float* p) {
        const float t = w > 1 ? float(x) / float(w - 1) : 0.5f;
        float v = lo * std::pow(hi / lo, t);
        if ((y / 4) % 2) v *= 0.5f;
        p[0] = v;
        p[1] = v * 0.9f;
        p[2] = v * 0.8f;
      },
      0, scale);
}

// Output code values (R'G'B', [0, 1]) of a buffer with caps.
std::vector<float> read_codes(GstBuffer* buf, GstCaps* caps) {
  GstVideoInfo info;
  EXPECT_TRUE(gst_video_info_from_caps(&info, caps));
  GstVideoFrame frame;
  std::vector<float> rgb(size_t(info.width) * info.height * 3);
  if (!gst_video_frame_map(&frame, &info, buf, GST_MAP_READ)) {
    ADD_FAILURE() << "cannot map output";
    return rgb;
  }
  dtutmo::unpack_rows(view_of(&frame), signal_of(info), 0, info.height, rgb.data(),
                      info.width * 3);
  gst_video_frame_unmap(&frame);
  return rgb;
}

double mean_of(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

// A harness around one dtutmo (engine=cpu unless told otherwise) with a bus to read its
// messages.
struct Harness {
  GstHarness* h = nullptr;
  GstBus* bus = nullptr;
  guint64 frame = 0;

  // The properties are set before the harness starts the element (gst_harness_new starts
  // filters at once, and engine / device-id are read at that start).
  explicit Harness(const char* props = nullptr, bool cpu = true) {
    GstElement* e = gst_element_factory_make("dtutmo", nullptr);
    if (cpu) gst_util_set_object_arg(G_OBJECT(e), "engine", "cpu");
    if (props) {
      gchar** kv = g_strsplit(props, " ", -1);
      for (gchar** p = kv; *p; ++p) {
        gchar** pair = g_strsplit(*p, "=", 2);
        if (pair[0] && pair[1]) gst_util_set_object_arg(G_OBJECT(e), pair[0], pair[1]);
        g_strfreev(pair);
      }
      g_strfreev(kv);
    }
    h = gst_harness_new_with_element(e, "sink", "src");
    gst_object_unref(e);
    bus = gst_bus_new();
    gst_element_set_bus(h->element, bus);
  }
  ~Harness() {
    gst_harness_teardown(h);
    gst_bus_set_flushing(bus, TRUE);
    gst_object_unref(bus);
  }
  // Stream start + caps + segment. Takes `in`. (A rejected caps event still "succeeds":
  // sticky events are stored; the refusal shows on the next buffer as NOT_NEGOTIATED.)
  bool start(GstCaps* in, GstCaps* out = nullptr) {
    if (out) gst_harness_set_sink_caps(h, out);
    gst_harness_push_event(h, gst_event_new_stream_start("test"));
    const bool ok = gst_harness_push_event(h, gst_event_new_caps(in));
    GstSegment seg;
    gst_segment_init(&seg, GST_FORMAT_TIME);
    gst_harness_push_event(h, gst_event_new_segment(&seg));
    gst_caps_unref(in);
    return ok;
  }
  // Whether `in` -> `out` negotiates: start, then push one frame.
  bool negotiates(GstCaps* in, GstCaps* out = nullptr) {
    GstVideoInfo info;
    const bool have_info = gst_video_info_from_caps(&info, in);
    start(in, out);
    GstBuffer* b = gst_buffer_new_allocate(nullptr, have_info ? info.size : 4096, nullptr);
    gst_buffer_memset(b, 0, 0x40, gst_buffer_get_size(b));
    const GstFlowReturn r = push_next(b);
    drain();
    return r == GST_FLOW_OK;
  }
  GstFlowReturn push(GstBuffer* buf, GstClockTime pts, GstClockTime dur = GST_SECOND / 30) {
    GST_BUFFER_PTS(buf) = pts;
    GST_BUFFER_DURATION(buf) = dur;
    return gst_harness_push(h, buf);
  }
  // Push at 30 fps, frame counter advancing.
  GstFlowReturn push_next(GstBuffer* buf) {
    const GstClockTime pts = gst_util_uint64_scale(frame++, GST_SECOND, 30);
    return push(buf, pts);
  }
  GstCaps* out_caps() { return gst_pad_get_current_caps(h->sinkpad); }
  // Push `ib` as the next frame and read the output frame's code values.
  std::vector<float> push_read(GstBuffer* ib) {
    EXPECT_EQ(push_next(ib), GST_FLOW_OK);
    GstBuffer* ob = gst_harness_pull(h);
    GstCaps* oc = out_caps();
    std::vector<float> codes = read_codes(ob, oc);
    gst_buffer_unref(ob);
    gst_caps_unref(oc);
    return codes;
  }
  double la() {
    gdouble v = 0;
    g_object_get(h->element, "adaptation-luminance", &v, NULL);
    return v;
  }
  // First message of `type` on the bus, or nullptr.
  GstMessage* pop(GstMessageType type) { return gst_bus_pop_filtered(bus, type); }
  void drain() {
    while (GstBuffer* b = gst_harness_try_pull(h)) gst_buffer_unref(b);
  }
};

std::string message_text(GstMessage* m) {
  GError* err = nullptr;
  gchar* dbg = nullptr;
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR)
    gst_message_parse_error(m, &err, &dbg);
  else
    gst_message_parse_warning(m, &err, &dbg);
  std::string s = err ? err->message : "";
  s += " | ";
  s += dbg ? dbg : "";
  if (err) g_error_free(err);
  g_free(dbg);
  return s;
}

// --------------------------------------------------------------------------------------
// Negotiation

struct Pair {
  const char* in;
  const char* out;
  const char* target;
};

std::vector<Pair> every_pair() {
  std::vector<Pair> v;
  for (const char* in : kSinkFormats) {
    for (const char* out : kSdrOut) v.push_back({in, out, "sdr"});
    for (const char* out : kHdrOut) {
      v.push_back({in, out, "pq"});
      v.push_back({in, out, "hlg"});
    }
  }
  return v;
}

class EveryPair : public ::testing::TestWithParam<Pair> {};

TEST_P(EveryPair, NegotiatesAndProcesses) {
  const Pair p = GetParam();
  std::string props = std::string("target=") + p.target + " display-peak=" +
                      (std::strcmp(p.target, "sdr") == 0 ? "100" : "1000");
  Harness hh(props.c_str());
  GstCaps* in = video_caps(p.in, 32, 18, default_colorimetry(p.in));
  GstCaps* out = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, p.out, NULL);
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in, out));
  ASSERT_EQ(hh.push_next(make_scene(in_copy, 0.5f, 80.0f)), GST_FLOW_OK);
  GstBuffer* ob = gst_harness_pull(hh.h);
  ASSERT_NE(ob, nullptr);
  GstCaps* oc = hh.out_caps();
  GstVideoInfo oi;
  ASSERT_TRUE(gst_video_info_from_caps(&oi, oc));
  EXPECT_STREQ(GST_VIDEO_INFO_NAME(&oi), p.out);
  EXPECT_EQ(oi.width, 32);
  EXPECT_EQ(oi.height, 18);
  EXPECT_EQ(oi.fps_n, 30);
  EXPECT_GE(gst_buffer_get_size(ob), oi.size);
  GstVideoMasteringDisplayInfo minfo;
  GstVideoContentLightLevel cll;
  if (std::strcmp(p.target, "sdr") == 0) {
    EXPECT_EQ(oi.colorimetry.transfer, GST_VIDEO_TRANSFER_BT709);
    EXPECT_EQ(oi.colorimetry.primaries, GST_VIDEO_COLOR_PRIMARIES_BT709);
    EXPECT_FALSE(gst_video_mastering_display_info_from_caps(&minfo, oc));
    EXPECT_FALSE(gst_video_content_light_level_from_caps(&cll, oc));
  } else {
    EXPECT_EQ(oi.colorimetry.transfer, std::strcmp(p.target, "pq") == 0
                                           ? GST_VIDEO_TRANSFER_SMPTE2084
                                           : GST_VIDEO_TRANSFER_ARIB_STD_B67);
    EXPECT_EQ(oi.colorimetry.primaries, GST_VIDEO_COLOR_PRIMARIES_BT2020);
    ASSERT_TRUE(gst_video_mastering_display_info_from_caps(&minfo, oc));
    EXPECT_EQ(minfo.max_display_mastering_luminance, 1000u * 10000u);
    ASSERT_TRUE(gst_video_content_light_level_from_caps(&cll, oc));
    EXPECT_EQ(cll.max_content_light_level, 1000);
  }
  // RGB outputs are full range, YUV ones limited (nobody asked for full).
  EXPECT_EQ(oi.colorimetry.range,
            is_yuv(p.out) ? GST_VIDEO_COLOR_RANGE_16_235 : GST_VIDEO_COLOR_RANGE_0_255);
  // Finite, in range, and not a flat frame: the ramp is visible.
  const std::vector<float> codes = read_codes(ob, oc);
  float lo = 1e9f, hi = -1e9f;
  for (float c : codes) {
    ASSERT_TRUE(std::isfinite(c));
    lo = std::min(lo, c);
    hi = std::max(hi, c);
  }
  // YUV 4:2:0 outputs are read back through their subsampled chroma: next to a bright
  // edge a reconstructed R'G'B' may overshoot [0, 1] by a few 8-bit codes
  const float tol = is_yuv(p.out) ? 0.02f : 0.01f;
  EXPECT_GE(lo, -tol);
  EXPECT_LE(hi, 1.0f + tol);
  EXPECT_GT(hi - lo, 0.05f) << "flat output";
  gst_buffer_unref(ob);
  gst_caps_unref(oc);
  gst_caps_unref(in_copy);
  EXPECT_EQ(hh.pop(GST_MESSAGE_ERROR), nullptr);
}

std::string pair_name(const ::testing::TestParamInfo<Pair>& i) {
  std::string s = std::string(i.param.in) + "_to_" + i.param.out + "_" + i.param.target;
  for (char& c : s)
    if (!g_ascii_isalnum(c)) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Negotiation, EveryPair, ::testing::ValuesIn(every_pair()), pair_name);

TEST(Negotiation, RejectsUnsupportedInputFormats) {
  for (const char* fmt : {"YUY2", "GRAY8", "GRAY16_LE", "v210", "RGB"}) {
    Harness hh;
    EXPECT_FALSE(hh.negotiates(video_caps(fmt, 16, 16, nullptr))) << fmt;
  }
}

TEST(Negotiation, RejectsTargetThatDownstreamCannotTake) {
  // target=pq needs a 10-bit output; downstream takes 8-bit RGBA only.
  Harness hh("target=pq");
  GstCaps* in = video_caps("P010_10LE", 16, 16, "bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  hh.start(in, gst_caps_from_string("video/x-raw,format=RGBA"));
  EXPECT_EQ(hh.push_next(make_uniform(in_copy, 100)), GST_FLOW_NOT_NEGOTIATED);
  GstMessage* m = hh.pop(GST_MESSAGE_ERROR);
  ASSERT_NE(m, nullptr);
  const std::string text = message_text(m);
  EXPECT_NE(text.find("target=pq"), std::string::npos) << text;
  gst_message_unref(m);
  gst_caps_unref(in_copy);
  // and the other way round: sdr into a 10-bit-only downstream.
  Harness h2("target=sdr");
  EXPECT_FALSE(h2.negotiates(video_caps("P010_10LE", 16, 16, "bt2100-pq"),
                        gst_caps_from_string("video/x-raw,format=P010_10LE")));
}

TEST(Negotiation, SizeAndRateArePreserved) {
  Harness hh;
  EXPECT_FALSE(hh.negotiates(video_caps("P010_10LE", 32, 16, "bt2100-pq"),
                        gst_caps_from_string("video/x-raw,width=64,height=16")));
  Harness h2;
  GstCaps* in = gst_caps_from_string(
      "video/x-raw,format=P010_10LE,width=40,height=20,framerate=25/1,"
      "pixel-aspect-ratio=4/3,colorimetry=bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(h2.start(in));
  ASSERT_EQ(h2.push_next(make_uniform(in_copy, 50)), GST_FLOW_OK);
  GstCaps* oc = h2.out_caps();
  GstVideoInfo oi;
  ASSERT_TRUE(gst_video_info_from_caps(&oi, oc));
  EXPECT_EQ(oi.width, 40);
  EXPECT_EQ(oi.height, 20);
  EXPECT_EQ(oi.fps_n, 25);
  EXPECT_EQ(oi.par_n, 4);
  EXPECT_EQ(oi.par_d, 3);
  gst_caps_unref(oc);
  gst_caps_unref(in_copy);
  h2.drain();
}

// With no restriction downstream: the output family follows the input's, the depth the
// target's, and YUV outputs are limited range unless downstream asks for full.
TEST(Negotiation, FormatPreferences) {
  struct Case {
    const char* in;
    const char* target;
    const char* downstream;
    const char* expect_fmt;
    const char* expect_colorimetry;
  } cases[] = {
      {"P010_10LE", "sdr", nullptr, "NV12", "bt709"},
      {"RGBA64_LE", "sdr", nullptr, "RGBA", nullptr},
      {"P010_10LE", "pq", nullptr, "P010_10LE", "bt2100-pq"},
      {"P010_10LE", "hlg", nullptr, "P010_10LE", "bt2100-hlg"},
      {"RGBA64_LE", "pq", nullptr, "RGBA64_LE", nullptr},
      {"RGB10A2_LE", "pq", nullptr, "RGB10A2_LE", nullptr},
      {"P010_10LE", "sdr", "video/x-raw,colorimetry=1:3:5:1", "NV12", nullptr},
      {"NV12", "sdr", "video/x-raw,format={BGRx,I420}", "I420", "bt709"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.in) + " " + c.target);
    Harness hh((std::string("target=") + c.target).c_str());
    GstCaps* in = video_caps(c.in, 16, 8, default_colorimetry(c.in));
    GstCaps* in_copy = gst_caps_copy(in);
    ASSERT_TRUE(hh.start(in, c.downstream ? gst_caps_from_string(c.downstream) : nullptr));
    ASSERT_EQ(hh.push_next(make_uniform(in_copy, 50)), GST_FLOW_OK);
    GstCaps* oc = hh.out_caps();
    const GstStructure* s = gst_caps_get_structure(oc, 0);
    EXPECT_STREQ(gst_structure_get_string(s, "format"), c.expect_fmt);
    if (c.expect_colorimetry) {
      EXPECT_STREQ(gst_structure_get_string(s, "colorimetry"), c.expect_colorimetry);
    }
    GstVideoInfo oi;
    ASSERT_TRUE(gst_video_info_from_caps(&oi, oc));
    if (c.downstream && std::strstr(c.downstream, "1:3:5:1")) {
      EXPECT_EQ(oi.colorimetry.range, GST_VIDEO_COLOR_RANGE_0_255);
    }
    gst_caps_unref(oc);
    gst_caps_unref(in_copy);
    hh.drain();
  }
}

// 4:2:0 outputs name the chroma siting the engine packs: centre ("jpeg") when downstream
// names none (without the field encoders wrote H.264 / HEVC's left-cosited default for
// centre-sited samples), downstream's own choice otherwise; RGB outputs carry none.
TEST(Negotiation, SubsampledOutputsNameTheirChromaSite) {
  struct Case {
    const char* target;
    const char* downstream;
    const char* expect_fmt;
    const char* expect_site;  // nullptr: no chroma-site field
  } cases[] = {
      {"sdr", "video/x-raw,format=I420", "I420", "jpeg"},
      {"sdr", "video/x-raw,format=NV12", "NV12", "jpeg"},
      {"pq", "video/x-raw,format=P010_10LE", "P010_10LE", "jpeg"},
      {"sdr", "video/x-raw,format=I420,chroma-site=mpeg2", "I420", "mpeg2"},
      {"pq", "video/x-raw,format=P010_10LE,chroma-site=cosited", "P010_10LE", "cosited"},
      {"sdr", "video/x-raw,format=RGBA", "RGBA", nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.target) + " -> " + c.downstream);
    Harness hh((std::string("target=") + c.target).c_str());
    GstCaps* in = video_caps("P010_10LE", 16, 8, "bt2100-pq");
    gst_caps_set_simple(in, "chroma-site", G_TYPE_STRING, "mpeg2", NULL);
    GstCaps* in_copy = gst_caps_copy(in);
    ASSERT_TRUE(hh.start(in, gst_caps_from_string(c.downstream)));
    ASSERT_EQ(hh.push_next(make_uniform(in_copy, 50)), GST_FLOW_OK);
    GstCaps* oc = hh.out_caps();
    const GstStructure* s = gst_caps_get_structure(oc, 0);
    EXPECT_STREQ(gst_structure_get_string(s, "format"), c.expect_fmt);
    EXPECT_STREQ(gst_structure_get_string(s, "chroma-site"), c.expect_site);
    gst_caps_unref(oc);
    gst_caps_unref(in_copy);
    hh.drain();
  }
}

TEST(Negotiation, UntaggedHdrInputWarnsOnceAndDefaultsToPq) {
  Harness hh;
  GstCaps* in = video_caps("P010_10LE", 16, 16, nullptr);
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(hh.push_next(make_uniform(in_copy, 50)), GST_FLOW_OK);
  GstMessage* m = hh.pop(GST_MESSAGE_WARNING);
  ASSERT_NE(m, nullptr);
  EXPECT_NE(message_text(m).find("PQ"), std::string::npos) << message_text(m);
  gst_message_unref(m);
  EXPECT_EQ(hh.pop(GST_MESSAGE_WARNING), nullptr) << "warned more than once";
  gst_caps_unref(in_copy);
  hh.drain();

  // Untagged 8-bit input is BT.709 SDR without a warning.
  Harness h8;
  GstCaps* in8 = video_caps("NV12", 16, 16, nullptr);
  GstCaps* in8_copy = gst_caps_copy(in8);
  ASSERT_TRUE(h8.start(in8));
  ASSERT_EQ(h8.push_next(make_uniform(in8_copy, 50)), GST_FLOW_OK);
  EXPECT_EQ(h8.pop(GST_MESSAGE_WARNING), nullptr);
  gst_caps_unref(in8_copy);
  h8.drain();
}

// Interlaced input is processed (as whole frames, the interlace mode kept on the output)
// with one warning that says the fields are mixed; progressive input gets none.
TEST(Negotiation, InterlacedInputWarnsOnce) {
  for (const char* mode : {"interleaved", "mixed", "progressive"}) {
    SCOPED_TRACE(mode);
    Harness hh;
    GstCaps* in = video_caps("P010_10LE", 16, 16, "bt2100-pq");
    gst_caps_set_simple(in, "interlace-mode", G_TYPE_STRING, mode, NULL);
    GstCaps* in_copy = gst_caps_copy(in);
    ASSERT_TRUE(hh.start(in));
    for (int i = 0; i < 3; ++i) ASSERT_EQ(hh.push_next(make_uniform(in_copy, 50)), GST_FLOW_OK);
    GstCaps* oc = hh.out_caps();
    EXPECT_STREQ(gst_structure_get_string(gst_caps_get_structure(oc, 0), "interlace-mode"), mode);
    gst_caps_unref(oc);
    GstMessage* m = hh.pop(GST_MESSAGE_WARNING);
    if (std::strcmp(mode, "progressive") == 0) {
      EXPECT_EQ(m, nullptr) << message_text(m);
    } else {
      ASSERT_NE(m, nullptr);
      EXPECT_NE(message_text(m).find("interlaced"), std::string::npos) << message_text(m);
      EXPECT_NE(message_text(m).find(mode), std::string::npos) << message_text(m);
      EXPECT_EQ(hh.pop(GST_MESSAGE_WARNING), nullptr) << "warned more than once";
    }
    if (m) gst_message_unref(m);
    gst_caps_unref(in_copy);
    hh.drain();
  }
}

TEST(Negotiation, HdrMetadataDroppedForSdrAndSetForPq) {
  for (const char* target : {"sdr", "pq"}) {
    Harness hh((std::string("target=") + target + " display-peak=600 display-black=0.05").c_str());
    GstCaps* in = video_caps("P010_10LE", 16, 16, "bt2100-pq");
    gst_caps_set_simple(in, "mastering-display-info", G_TYPE_STRING,
                        "35400:14600:8500:39850:6550:2300:15635:16450:40000000:50",
                        "content-light-level", G_TYPE_STRING, "4000:400", NULL);
    GstCaps* in_copy = gst_caps_copy(in);
    ASSERT_TRUE(hh.start(in));
    ASSERT_EQ(hh.push_next(make_uniform(in_copy, 50)), GST_FLOW_OK);
    GstCaps* oc = hh.out_caps();
    GstVideoMasteringDisplayInfo minfo;
    GstVideoContentLightLevel cll;
    if (std::strcmp(target, "sdr") == 0) {
      EXPECT_FALSE(gst_video_mastering_display_info_from_caps(&minfo, oc));
      EXPECT_FALSE(gst_video_content_light_level_from_caps(&cll, oc));
    } else {
      ASSERT_TRUE(gst_video_mastering_display_info_from_caps(&minfo, oc));
      EXPECT_EQ(minfo.max_display_mastering_luminance, 600u * 10000u);
      EXPECT_EQ(minfo.min_display_mastering_luminance, 500u);
      ASSERT_TRUE(gst_video_content_light_level_from_caps(&cll, oc));
      EXPECT_EQ(cll.max_content_light_level, 600);
    }
    gst_caps_unref(oc);
    gst_caps_unref(in_copy);
    hh.drain();
  }
}

// --------------------------------------------------------------------------------------
// Pixels

// An SDR-range picture (white 100 cd/m^2) shown on a 100 cd/m^2 SDR display comes out
// close to itself.
TEST(Pixels, SdrRangeInputComesOutNearItself) {
  Harness hh("target=sdr display-peak=100 input-scale=100");
  GstCaps* in = video_caps("RGBA", 64, 36, "1:1:5:1");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in, gst_caps_from_string("video/x-raw,format=RGBA")));
  auto fn = [](int x, int y, float* p) {
    // A grey ramp 1..100 cd/m^2 over the top half, colour patches below.
    const float t = float(x) / 63.0f;
    if (y < 18) {
      p[0] = p[1] = p[2] = 1.0f + 99.0f * t * t;
    } else {
      const int k = x / 16;
      const float c[4][3] = {{60, 20, 10}, {15, 50, 20}, {10, 20, 60}, {40, 40, 40}};
      for (int i = 0; i < 3; ++i) p[i] = c[k][i];
    }
  };
  GstBuffer* ib = make_frame(in_copy, fn);
  const std::vector<float> in_codes = read_codes(ib, in_copy);
  ASSERT_EQ(hh.push_next(ib), GST_FLOW_OK);
  GstBuffer* ob = gst_harness_pull(hh.h);
  GstCaps* oc = hh.out_caps();
  const std::vector<float> out_codes = read_codes(ob, oc);
  double sum = 0;
  for (size_t i = 0; i < in_codes.size(); ++i) sum += std::fabs(in_codes[i] - out_codes[i]);
  const double mad = sum / double(in_codes.size());
  std::printf("SDR picture on a 100-nit SDR display: mean |code difference| = %.4f\n", mad);
  EXPECT_LT(mad, 0.08) << "mean |code difference| of an SDR picture on an SDR display";
  gst_buffer_unref(ob);
  gst_caps_unref(oc);
  gst_caps_unref(in_copy);
}

// A stream of black (PQ black, code 64, and its neighbour 65 on every other row) comes out
// as video black from the first frame on: SDR Y' 16 (17 where the dither rounds up),
// neutral chroma; PQ at the display's black (display-black, 0.1 cd/m^2: its PQ code, one
// code of rounding). It had come out at Y' 44 (SDR) and 0.55 cd/m^2 (PQ on the 1000 cd/m^2
// target): the display key brightened a frame of no light, the normalisation spread it
// over 4x the display's black, and on a bright display the observer's response matching
// put the floor's tiny response above black.
TEST(Pixels, BlackInputIsVideoBlack) {
  for (const char* target : {"sdr", "pq"}) {
    const bool sdr = std::string(target) == "sdr";
    Harness hh((std::string("target=") + target).c_str());
    GstCaps* in = video_caps("P010_10LE", 64, 36, "bt2100-pq");
    GstCaps* in_copy = gst_caps_copy(in);
    ASSERT_TRUE(hh.start(in, gst_caps_from_string(sdr ? "video/x-raw,format=I420" : "video/x-raw,format=P010_10LE")));
    // the black's luma code, limited range (a neutral grey's Y' is its R'G'B' code): SDR
    // 16 (BT.1886's black is the display's), PQ 64 + 876 x PQ^-1(0.1 cd/m^2)
    const float y_black = sdr ? 16.0f : 64.0f + 876.0f * dtutmo::pq_inv_eotf(0.1f);
    for (int f = 0; f < 3; ++f) {
      ASSERT_EQ(hh.push_next(make_frame(in_copy, [](int, int y, float* p) { p[0] = p[1] = p[2] = y % 2 ? 5e-5f : 0.0f; })),
                GST_FLOW_OK);
      GstBuffer* ob = gst_harness_pull(hh.h);
      ASSERT_NE(ob, nullptr);
      GstMapInfo m;
      ASSERT_TRUE(gst_buffer_map(ob, &m, GST_MAP_READ));
      const size_t ny = 64 * 36, nc = 32 * 18;
      auto at = [&](size_t i) { return sdr ? int(m.data[i]) : int(reinterpret_cast<const uint16_t*>(m.data)[i] >> 6); };
      int ymax = 0, cdev = 0;
      double ysum = 0;
      for (size_t i = 0; i < ny; ++i) {
        ymax = std::max(ymax, at(i));
        ysum += at(i);
      }
      const int mid = sdr ? 128 : 512;  // I420: U then V planes; P010: interleaved UV
      for (size_t i = ny; i < ny + 2 * nc; ++i) cdev = std::max(cdev, std::abs(at(i) - mid));
      gst_buffer_unmap(ob, &m);
      gst_buffer_unref(ob);
      EXPECT_LE(ymax, y_black + 1.5f) << target << " frame " << f;
      EXPECT_LT(ysum / ny, y_black + 0.5f) << target << " frame " << f;
      EXPECT_LE(cdev, 1) << target << " frame " << f;
    }
    gst_caps_unref(in_copy);
  }
}

// Input tagged with the BT.470 SD gammas (GStreamer's gamma22, 1:4:4:1 for NTSC-era
// files, and gamma28, 1:4:8:1, what PAL DVDs and broadcasts carry) negotiates and is
// decoded as the pure power the tag names: a picture encoded with gamma 2.8 (2.2) comes
// out as the same picture encoded with BT.709 (decoded through BT.1886, gamma 2.4), within
// a code. The same bytes tagged BT.709 come out several codes apart on average (brighter
// for gamma 2.8, darker for 2.2).
TEST(Pixels, Bt470GammaInputDecodesAsItsPurePower) {
  const char* const tags[][2] = {{"1:4:8:1", "1:4:5:1"}, {"1:4:4:1", "1:4:5:1"},
                                 {"1:1:8:1", "1:1:5:1"}};
  const char* const fmts[] = {"I420_10LE", "I420_10LE", "RGBA64_LE"};
  const GstVideoTransferFunction tfs[] = {GST_VIDEO_TRANSFER_GAMMA28, GST_VIDEO_TRANSFER_GAMMA22,
                                          GST_VIDEO_TRANSFER_GAMMA28};
  for (int k = 0; k < 3; ++k) {
    SCOPED_TRACE(std::string(fmts[k]) + " colorimetry=" + tags[k][0]);
    GstVideoColorimetry cm;
    ASSERT_TRUE(gst_video_colorimetry_from_string(&cm, tags[k][0]));
    ASSERT_EQ(cm.transfer, tfs[k]);
    std::vector<float> out[3];
    GstBuffer* tagged_bytes = nullptr;
    for (int v = 0; v < 3; ++v) {
      // v 0: the BT.470 tag; 1: the same picture encoded as BT.709; 2: v 0's bytes tagged BT.709.
      Harness hh("target=sdr input-scale=100");
      GstCaps* in = video_caps(fmts[k], 64, 36, tags[k][v == 0 ? 0 : 1]);
      GstCaps* in_copy = gst_caps_copy(in);
      ASSERT_TRUE(hh.start(in, gst_caps_from_string("video/x-raw,format=RGBA")));
      GstBuffer* ib = v == 2 ? tagged_bytes : make_scene(in_copy, 0.5f, 90.0f);
      if (v == 0) tagged_bytes = gst_buffer_copy(ib);
      out[v] = hh.push_read(ib);
      gst_caps_unref(in_copy);
      ASSERT_FALSE(out[v].empty());
    }
    float d01 = 0.0f;
    double d02 = 0.0;  // mean |difference|
    for (size_t i = 0; i < out[0].size(); ++i) {
      d01 = std::max(d01, std::fabs(out[0][i] - out[1][i]));
      d02 += std::fabs(out[2][i] - out[0][i]);
    }
    d02 /= double(out[0].size());
    std::printf("%s %s: max |BT.470 - BT.709 picture| %.2f codes, mean |tag ignored| %.2f codes\n",
                fmts[k], tags[k][0], d01 * 255.0f, d02 * 255.0);
    EXPECT_LE(d01 * 255.0f, 1.01f) << "the BT.470 picture against the same picture in BT.709";
    EXPECT_GT(d02 * 255.0, 3.0) << "the tag's bytes read as BT.1886 differ (the test can tell)";
  }
}

// 4:2:0 input is decoded with the caps' chroma-site: the same NV12 bytes, a chroma edge
// between chroma columns 15 and 16 (luma 31 | 32), tagged "jpeg" (centre) and "mpeg2"
// (h-cosited, H.264 / HEVC) come out differently at the edge (luma 32 sits on chroma 16
// when cosited, a quarter of the way back to chroma 15 when centred) and alike away
// from it.
TEST(Pixels, InputChromaSiteComesFromTheCaps) {
  std::vector<float> out[2];
  const char* sites[2] = {"jpeg", "mpeg2"};
  for (int k = 0; k < 2; ++k) {
    Harness hh("target=sdr display-peak=100 input-scale=100");
    GstCaps* in = gst_caps_from_string(
        (std::string("video/x-raw,format=NV12,width=64,height=36,framerate=30/1,pixel-aspect-ratio=1/1,"
                     "colorimetry=bt709,chroma-site=") + sites[k]).c_str());
    GstVideoInfo info;
    ASSERT_TRUE(gst_video_info_from_caps(&info, in));
    ASSERT_EQ(info.chroma_site, k ? GST_VIDEO_CHROMA_SITE_MPEG2 : GST_VIDEO_CHROMA_SITE_JPEG);
    ASSERT_TRUE(hh.start(in, gst_caps_from_string("video/x-raw,format=RGBA")));
    GstBuffer* ib = gst_buffer_new_allocate(nullptr, info.size, nullptr);
    GstVideoFrame f;
    ASSERT_TRUE(gst_video_frame_map(&f, &info, ib, GST_MAP_WRITE));
    for (int y = 0; y < 36; ++y)
      std::memset(static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, 0)) + y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0),
                  126, 64);
    for (int j = 0; j < 18; ++j) {
      uint8_t* uv = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, 1)) + j * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 1);
      for (int i = 0; i < 32; ++i) {
        uv[2 * i] = i < 16 ? 96 : 160;      // Cb: bluish to the right
        uv[2 * i + 1] = i < 16 ? 160 : 96;  // Cr: reddish to the left
      }
    }
    gst_video_frame_unmap(&f);
    out[k] = hh.push_read(ib);
  }
  ASSERT_EQ(out[0].size(), out[1].size());
  auto at = [](const std::vector<float>& v, int x, int c) { return v[(size_t(18) * 64 + x) * 3 + c]; };
  // at the edge: red (falling to the right) is lower with cosited chroma at luma 32
  EXPECT_GT(at(out[0], 32, 0) - at(out[1], 32, 0), 0.02f) << "luma 32, jpeg vs mpeg2";
  // away from the edge both read the same flat chroma
  for (int x : {8, 20, 44, 56})
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(at(out[0], x, c), at(out[1], x, c), 2.5f / 255.0f) << "x " << x;
}

// Global mode: output luminance grows with input luminance across a ramp; and a whole
// scene 100x brighter comes out brighter.
TEST(Pixels, BrighterInputGivesBrighterOutput) {
  Harness hh("target=sdr local-adaptation=0 local=false dither=false");
  GstCaps* in = video_caps("P010_10LE", 64, 8, "bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in, gst_caps_from_string("video/x-raw,format=RGBA")));
  GstBuffer* ib = make_frame(in_copy, [](int x, int, float* p) {
    p[0] = p[1] = p[2] = 0.1f * std::pow(10000.0f, float(x) / 63.0f);
  });
  ASSERT_EQ(hh.push_next(ib), GST_FLOW_OK);
  GstBuffer* ob = gst_harness_pull(hh.h);
  GstCaps* oc = hh.out_caps();
  const std::vector<float> codes = read_codes(ob, oc);
  // Row 4, green channel, left to right.
  float prev = -1;
  for (int x = 0; x < 64; ++x) {
    const float g = codes[(4 * 64 + x) * 3 + 1];
    EXPECT_GE(g, prev - 1.5f / 255.0f) << "x=" << x;
    prev = std::max(prev, g);
  }
  EXPECT_GT(codes[(4 * 64 + 63) * 3 + 1], codes[(4 * 64 + 0) * 3 + 1] + 0.3f);
  gst_buffer_unref(ob);
  gst_caps_unref(oc);
  gst_caps_unref(in_copy);

  // Night (mean ~0.01 cd/m^2) vs the same scene 1000x brighter, each fully adapted.
  double means[2];
  const float levels[2] = {0.02f, 20.0f};
  for (int i = 0; i < 2; ++i) {
    Harness h2("target=sdr");
    GstCaps* c = video_caps("P010_10LE", 64, 36, "bt2100-pq");
    GstCaps* cc = gst_caps_copy(c);
    ASSERT_TRUE(h2.start(c, gst_caps_from_string("video/x-raw,format=RGBA")));
    ASSERT_EQ(h2.push_next(make_scene(cc, levels[i] * 0.1f, levels[i] * 10.0f)), GST_FLOW_OK);
    GstBuffer* b = gst_harness_pull(h2.h);
    GstCaps* o = h2.out_caps();
    means[i] = mean_of(read_codes(b, o));
    gst_buffer_unref(b);
    gst_caps_unref(o);
    gst_caps_unref(cc);
  }
  std::printf("mean output code: night %.4f, 1000x brighter %.4f\n", means[0], means[1]);
  EXPECT_GT(means[1], means[0] + 0.02) << "night " << means[0] << " day " << means[1];
  EXPECT_GT(means[0], 0.005) << "night scene must not be black";
}

// --------------------------------------------------------------------------------------
// Sizes and strides

TEST(Sizes, OddSizesEveryInputFormat) {
  const int sizes[][2] = {{1, 1}, {7, 3}, {33, 17}, {2, 1}};
  for (const char* fmt : kSinkFormats) {
    for (const auto& wh : sizes) {
      for (const char* out : {"RGBA", "P010_10LE", "I420"}) {
        SCOPED_TRACE(std::string(fmt) + " -> " + out + " " + std::to_string(wh[0]) + "x" +
                     std::to_string(wh[1]));
        const bool hdr = depth(out) > 8;
        Harness hh(hdr ? "target=pq" : "target=sdr");
        GstCaps* in = video_caps(fmt, wh[0], wh[1], default_colorimetry(fmt));
        GstCaps* in_copy = gst_caps_copy(in);
        ASSERT_TRUE(hh.start(in, video_caps(out, wh[0], wh[1], nullptr)));
        ASSERT_EQ(hh.push_next(make_scene(in_copy, 1, 5000)), GST_FLOW_OK);
        GstBuffer* ob = gst_harness_pull(hh.h);
        GstCaps* oc = hh.out_caps();
        // YUV 4:2:0 outputs read back through the matrix can leave [0, 1] a little
        // where chroma is shared by differently coloured pixels.
        const float tol = is_yuv(out) ? 0.08f : 0.01f;
        for (float c : read_codes(ob, oc)) {
          ASSERT_TRUE(std::isfinite(c));
          ASSERT_GE(c, -tol);
          ASSERT_LE(c, 1.0f + tol);
        }
        gst_buffer_unref(ob);
        gst_caps_unref(oc);
        gst_caps_unref(in_copy);
      }
    }
  }
}

// The same picture packed tightly and with padded strides and offsets (GstVideoMeta)
// gives the same output.
TEST(Sizes, PaddedStridesAndOffsetsGiveTheSameOutput) {
  for (const char* fmt : kSinkFormats) {
    SCOPED_TRACE(fmt);
    std::vector<float> result[2];
    for (int padded = 0; padded < 2; ++padded) {
      Harness hh("target=sdr");
      GstCaps* in = video_caps(fmt, 30, 14, default_colorimetry(fmt));
      GstCaps* in_copy = gst_caps_copy(in);
      ASSERT_TRUE(hh.start(in, gst_caps_from_string("video/x-raw,format=RGBA")));
      GstBuffer* ib = make_frame(
          in_copy,
          [](int x, int y, float* p) {
            p[0] = 1.0f + 3.0f * x;
            p[1] = 1.0f + 5.0f * y;
            p[2] = 10.0f + float((x * 7 + y * 3) % 13);
          },
          padded ? 36 : 0);
      result[padded] = hh.push_read(ib);
      gst_caps_unref(in_copy);
    }
    ASSERT_EQ(result[0].size(), result[1].size());
    EXPECT_TRUE(result[0] == result[1]);
  }
}

// --------------------------------------------------------------------------------------
// Errors

TEST(Errors, TruncatedBufferIsAnErrorNotACrash) {
  for (const char* fmt : {"P010_10LE", "RGBA64_LE", "I420", "Y444_16LE"}) {
    SCOPED_TRACE(fmt);
    Harness hh;
    GstCaps* in = video_caps(fmt, 32, 16, default_colorimetry(fmt));
    GstVideoInfo info;
    gst_video_info_from_caps(&info, in);
    ASSERT_TRUE(hh.start(in));
    for (gsize size : {gsize(0), gsize(1), info.size / 2, info.size - 1}) {
      GstBuffer* b = gst_buffer_new_allocate(nullptr, size, nullptr);
      if (size) gst_buffer_memset(b, 0, 0x40, size);
      EXPECT_EQ(hh.push_next(b), GST_FLOW_ERROR) << "size " << size;
      GstMessage* m = hh.pop(GST_MESSAGE_ERROR);
      ASSERT_NE(m, nullptr);
      gst_message_unref(m);
    }
  }
}

TEST(Errors, VideoMetaPointingOutsideTheBufferIsAnError) {
  Harness hh;
  GstCaps* in = video_caps("P010_10LE", 32, 16, "bt2100-pq");
  GstVideoInfo info;
  gst_video_info_from_caps(&info, in);
  ASSERT_TRUE(hh.start(in));
  // Right size, but the meta claims strides that run past the end.
  GstBuffer* b = gst_buffer_new_allocate(nullptr, info.size, nullptr);
  gsize offset[GST_VIDEO_MAX_PLANES] = {0, info.offset[1]};
  gint stride[GST_VIDEO_MAX_PLANES] = {info.stride[0] * 4, info.stride[1] * 4};
  gst_buffer_add_video_meta_full(b, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_P010_10LE, 32,
                                 16, 2, offset, stride);
  EXPECT_EQ(hh.push_next(b), GST_FLOW_ERROR);
  // A stride below the row size.
  GstBuffer* b2 = gst_buffer_new_allocate(nullptr, info.size, nullptr);
  gint stride2[GST_VIDEO_MAX_PLANES] = {8, 8};
  gst_buffer_add_video_meta_full(b2, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_P010_10LE, 32,
                                 16, 2, offset, stride2);
  EXPECT_EQ(hh.push_next(b2), GST_FLOW_ERROR);
}

// --------------------------------------------------------------------------------------
// Hardening (issue 11): unusable colorimetry, held-back display pairs, one error per
// refusal, honest pad templates

// Exactly one message of `type` is on the bus, and its text has `needle`. (Popping one
// type drops the others: pop warnings before errors.)
void expect_one_message(Harness& hh, GstMessageType type, const char* needle) {
  GstMessage* m = hh.pop(type);
  ASSERT_NE(m, nullptr) << "no " << gst_message_type_get_name(type) << " about " << needle;
  EXPECT_NE(message_text(m).find(needle), std::string::npos) << message_text(m);
  gst_message_unref(m);
  EXPECT_EQ(hh.pop(type), nullptr) << "more than one " << gst_message_type_get_name(type);
}

// Output bytes of one frame through a fresh element (engine=cpu), caps `in` (taken).
std::vector<uint8_t> output_of(GstCaps* in, GstBuffer* frame, std::string* warning = nullptr) {
  Harness hh;
  EXPECT_TRUE(hh.start(in));
  EXPECT_EQ(hh.push_next(gst_buffer_copy_deep(frame)), GST_FLOW_OK);
  std::vector<uint8_t> v;
  if (GstBuffer* b = gst_harness_try_pull(hh.h)) {
    GstMapInfo m;
    gst_buffer_map(b, &m, GST_MAP_READ);
    v.assign(m.data, m.data + m.size);
    gst_buffer_unmap(b, &m);
    gst_buffer_unref(b);
  }
  if (GstMessage* m = hh.pop(GST_MESSAGE_WARNING)) {
    if (warning) *warning = message_text(m);
    gst_message_unref(m);
  }
  EXPECT_EQ(hh.pop(GST_MESSAGE_ERROR), nullptr);
  return v;
}

// Defect 3: a colorimetry GStreamer cannot use (unparsable, invalid for the format, or an
// unknown transfer) was silently decoded as SDR on YUV and refused on RGB. It is now
// decoded like untagged input, for every format, with a warning naming the tag.
TEST(Negotiation, UnusableColorimetryIsDecodedLikeUntagged) {
  struct Case {
    const char* fmt;
    const char* real;  // what the samples are
    const char* other;  // a valid tag that decodes differently
  } cases[] = {{"P010_10LE", "bt2100-pq", "bt709"},
               {"RGBA64_LE", "1:1:14:7", "1:1:5:1"},
               {"NV12", "bt709", "bt2100-pq"}};
  for (const Case& c : cases) {
    GstCaps* real = video_caps(c.fmt, 32, 16, c.real);
    GstBuffer* frame = make_scene(real, 0.5f, 400.0f);
    gst_caps_unref(real);
    const std::vector<uint8_t> untagged = output_of(video_caps(c.fmt, 32, 16, nullptr), frame);
    const std::vector<uint8_t> other = output_of(video_caps(c.fmt, 32, 16, c.other), frame);
    ASSERT_FALSE(untagged.empty());
    ASSERT_NE(untagged, other) << c.fmt << ": the test frame does not tell the decodings apart";
    for (const char* garbled : {"bogus", "1:1:99:7", "2:4:0:7", "1:4:77:1", "2:3:14:99"}) {
      SCOPED_TRACE(std::string(c.fmt) + " colorimetry=" + garbled);
      std::string warning;
      const std::vector<uint8_t> out = output_of(video_caps(c.fmt, 32, 16, garbled), frame, &warning);
      EXPECT_EQ(out, untagged) << "not decoded like untagged input";
      EXPECT_NE(warning.find(garbled), std::string::npos) << warning;
    }
    gst_buffer_unref(frame);
  }
}

// Defect 4: on PQ/HLG a momentarily invalid display-black/display-peak pair killed the
// stream (on SDR it was held back silently). Every target now keeps the last valid pair,
// warns, keeps streaming, and takes the pair as soon as it is valid; display-black's
// advertised maximum is accepted (with a peak that allows it).
TEST(Properties, InvalidDisplayPairIsHeldBackOnEveryTarget) {
  for (const char* target : {"sdr", "pq", "hlg"}) {
    SCOPED_TRACE(target);
    // an explicit 100 cd/m^2 peak on every target (HDR targets default to 1000)
    Harness hh((std::string("display-peak=100 target=") + target).c_str());
    const bool hdr = std::strcmp(target, "sdr") != 0;
    GstCaps* in = video_caps("P010_10LE", 32, 16, "bt2100-pq");
    GstCaps* in_copy = gst_caps_copy(in);
    ASSERT_TRUE(hh.start(in));
    ASSERT_EQ(hh.push_next(make_uniform(in_copy, 100)), GST_FLOW_OK);
    auto min_lum = [&]() -> guint32 {  // mastering-display minimum of the output caps
      GstCaps* oc = hh.out_caps();
      GstVideoMasteringDisplayInfo minfo;
      const bool have = oc && gst_video_mastering_display_info_from_caps(&minfo, oc);
      if (oc) gst_caps_unref(oc);
      return have ? minfo.min_display_mastering_luminance : 0;
    };
    EXPECT_EQ(min_lum(), hdr ? 1000u : 0u);  // 0.1 cd/m^2; SDR caps carry none
    g_object_set(hh.h->element, "display-black", 50.0, NULL);  // peak still 100
    for (int i = 0; i < 3; ++i) ASSERT_EQ(hh.push_next(make_uniform(in_copy, 100)), GST_FLOW_OK);
    expect_one_message(hh, GST_MESSAGE_WARNING, "display-black=50");  // held back, said once
    EXPECT_EQ(min_lum(), hdr ? 1000u : 0u);  // the last valid pair, no error
    EXPECT_EQ(hh.pop(GST_MESSAGE_ERROR), nullptr);
    gdouble black = 0;
    g_object_get(hh.h->element, "display-black", &black, NULL);
    EXPECT_EQ(black, 50.0);  // the property reads back what was set
    g_object_set(hh.h->element, "display-peak", 1000.0, NULL);  // now valid
    ASSERT_EQ(hh.push_next(make_uniform(in_copy, 100)), GST_FLOW_OK);
    EXPECT_EQ(min_lum(), hdr ? 500000u : 0u);  // 50 cd/m^2
    // The advertised maximum of display-black, then a peak that allows it.
    GParamSpec* ps = g_object_class_find_property(G_OBJECT_GET_CLASS(hh.h->element), "display-black");
    ASSERT_NE(ps, nullptr);
    g_object_set(hh.h->element, "display-black", G_PARAM_SPEC_DOUBLE(ps)->maximum, NULL);
    g_object_set(hh.h->element, "display-peak", 10000.0, NULL);
    ASSERT_EQ(hh.push_next(make_uniform(in_copy, 100)), GST_FLOW_OK);
    EXPECT_EQ(min_lum(), hdr ? guint32(G_PARAM_SPEC_DOUBLE(ps)->maximum * 10000.0) : 0u);
    EXPECT_EQ(hh.pop(GST_MESSAGE_WARNING), nullptr) << "a valid pair warned";
    EXPECT_EQ(hh.pop(GST_MESSAGE_ERROR), nullptr);
    gst_caps_unref(in_copy);
    hh.drain();
  }
}

// Every message of `type` a pipeline posts from start to end (or to 2 s after its first
// error), counted per source element name.
int count_pipeline_messages(const char* desc, GstMessageType type, const char* source) {
  GstElement* p = gst_parse_launch(desc, nullptr);
  EXPECT_NE(p, nullptr) << desc;
  if (!p) return -1;
  GstBus* bus = gst_element_get_bus(p);
  gst_element_set_state(p, GST_STATE_PLAYING);
  int n = 0;
  GstClockTime wait = 10 * GST_SECOND;
  while (GstMessage* m = gst_bus_timed_pop_filtered(
             bus, wait, GstMessageType(type | GST_MESSAGE_ERROR | GST_MESSAGE_EOS))) {
    const bool end = GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) wait = 2 * GST_SECOND;  // let repeats arrive
    if ((GST_MESSAGE_TYPE(m) & type) && std::strcmp(GST_OBJECT_NAME(GST_MESSAGE_SRC(m)), source) == 0) ++n;
    gst_message_unref(m);
    if (end) break;
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(p);
  return n;
}

// Defect 5: one caps refusal posted 14 errors (the right one, then one blaming
// downstream, once per upstream retry). Now one error per refusal, in a pipeline and
// through the harness; a different refusal later is reported again.
TEST(Negotiation, OneErrorPerRefusal) {
  EXPECT_EQ(count_pipeline_messages("videotestsrc num-buffers=3 ! video/x-raw,format=RGBA,width=64,height=36,"
                                    "colorimetry=1:1:10:1 ! dtutmo name=tm engine=cpu ! fakesink",
                                    GST_MESSAGE_ERROR, "tm"),
            1);
  // Nothing downstream takes the target's formats: one error, not one per buffer.
  Harness hd("target=pq");
  GstCaps* pq = video_caps("P010_10LE", 16, 8, "bt2100-pq");
  GstCaps* pq_copy = gst_caps_copy(pq);
  hd.start(pq, gst_caps_from_string("video/x-raw,format=RGBA"));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(hd.push_next(make_uniform(pq_copy, 50)), GST_FLOW_NOT_NEGOTIATED);
  expect_one_message(hd, GST_MESSAGE_ERROR, "target=pq");
  gst_caps_unref(pq_copy);
  // Refused in set_info: the error says why, and only that error.
  Harness hh;
  GstCaps* log = video_caps("RGBA", 16, 8, "1:1:10:1");  // log316: refused in set_info
  GstCaps* log_copy = gst_caps_copy(log);
  hh.start(log);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(hh.push_next(make_uniform(log_copy, 50)), GST_FLOW_NOT_NEGOTIATED);
  expect_one_message(hh, GST_MESSAGE_ERROR, "log316");
  gst_caps_unref(log_copy);
}

// Defect 5: the pad templates advertise the frame sizes the engines take.
TEST(Negotiation, PadTemplatesAdvertiseTheEngineSizes) {
  GstElementFactory* f = gst_element_factory_find("dtutmo");
  ASSERT_NE(f, nullptr);
  int structures = 0;
  for (const GList* l = gst_element_factory_get_static_pad_templates(f); l; l = l->next) {
    GstCaps* caps = gst_static_pad_template_get_caps(static_cast<GstStaticPadTemplate*>(l->data));
    for (guint i = 0; i < gst_caps_get_size(caps); ++i, ++structures)
      for (const char* field : {"width", "height"}) {
        const GValue* v = gst_structure_get_value(gst_caps_get_structure(caps, i), field);
        ASSERT_TRUE(v && GST_VALUE_HOLDS_INT_RANGE(v)) << field;
        EXPECT_EQ(gst_value_get_int_range_min(v), 1);
        EXPECT_EQ(gst_value_get_int_range_max(v), dtutmo::kMaxFrameSide) << field;
      }
    gst_caps_unref(caps);
  }
  EXPECT_GE(structures, 2);
  gst_object_unref(f);
  Harness hh;
  GstCaps* big = video_caps("P010_10LE", dtutmo::kMaxFrameSide + 1, 16, "bt2100-pq");
  EXPECT_FALSE(gst_pad_query_accept_caps(hh.h->srcpad->peer, big));
  gst_caps_unref(big);
  GstCaps* ok = video_caps("P010_10LE", dtutmo::kMaxFrameSide, 16, "bt2100-pq");
  EXPECT_TRUE(gst_pad_query_accept_caps(hh.h->srcpad->peer, ok));
  gst_caps_unref(ok);
}

// --------------------------------------------------------------------------------------
// Temporal state

struct TemporalFixture : public ::testing::Test {
  static constexpr float kDark = 1.0f, kBright = 1000.0f;
  // the eye's time constants across the step (broadcast, the default, takes a x1000 step
  // for a cut and re-adapts at once; tested in tests/quality/test_temporal.cpp)
  static constexpr const char* kNatural = "adaptation=natural";
  GstCaps* caps = nullptr;
  void SetUp() override { caps = video_caps("P010_10LE", 32, 18, "bt2100-pq"); }
  void TearDown() override { gst_caps_unref(caps); }
  GstBuffer* frame(float level) { return make_scene(caps, level * 0.2f, level * 5.0f); }
  // La of a fresh element after one frame at `level` (fully adapted by definition).
  double adapted(float level) {
    Harness hh(kNatural);
    EXPECT_TRUE(hh.start(gst_caps_copy(caps)));
    EXPECT_EQ(hh.push_next(frame(level)), GST_FLOW_OK);
    hh.drain();
    return hh.la();
  }
  // A harness adapted to the dark level for 1 s (30 frames).
  void adapt_dark(Harness& hh) {
    ASSERT_TRUE(hh.start(gst_caps_copy(caps)));
    for (int i = 0; i < 30; ++i) ASSERT_EQ(hh.push_next(frame(kDark)), GST_FLOW_OK);
    hh.drain();
  }
};

TEST_F(TemporalFixture, AdaptationFollowsTheSceneOverTime) {
  const double la_dark = adapted(kDark), la_bright = adapted(kBright);
  ASSERT_GT(la_bright, la_dark * 10);
  Harness hh(kNatural);
  adapt_dark(hh);
  EXPECT_NEAR(hh.la() / la_dark, 1.0, 0.02);
  // the state follows the median of the last three frames' targets (a one-frame flash is
  // rejected), so a step shows from its second frame
  ASSERT_EQ(hh.push_next(frame(kBright)), GST_FLOW_OK);
  ASSERT_EQ(hh.push_next(frame(kBright)), GST_FLOW_OK);
  const double la1 = hh.la();
  EXPECT_GT(la1, la_dark * 1.05) << "did not move toward the bright scene";
  EXPECT_LT(la1, la_bright * 0.95) << "jumped at once: no temporal adaptation";
  for (int i = 0; i < 90; ++i) ASSERT_EQ(hh.push_next(frame(kBright)), GST_FLOW_OK);
  EXPECT_NEAR(hh.la() / la_bright, 1.0, 0.02) << "did not converge in 3 s";
  hh.drain();
}

TEST_F(TemporalFixture, FlushResetsTheState) {
  const double la_bright = adapted(kBright);
  Harness hh(kNatural);
  adapt_dark(hh);
  gst_harness_push_event(hh.h, gst_event_new_flush_start());
  gst_harness_push_event(hh.h, gst_event_new_flush_stop(TRUE));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  gst_harness_push_event(hh.h, gst_event_new_segment(&seg));
  hh.frame = 0;
  ASSERT_EQ(hh.push_next(frame(kBright)), GST_FLOW_OK);
  EXPECT_NEAR(hh.la() / la_bright, 1.0, 0.01) << "first frame after a flush must be adapted";
  hh.drain();
}

TEST_F(TemporalFixture, NewSegmentResetsTheState) {
  const double la_bright = adapted(kBright);
  Harness hh(kNatural);
  adapt_dark(hh);
  // A seek without flush: a new segment starting at 10 s.
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.start = seg.time = seg.position = 10 * GST_SECOND;
  gst_harness_push_event(hh.h, gst_event_new_segment(&seg));
  ASSERT_EQ(hh.push(frame(kBright), 10 * GST_SECOND), GST_FLOW_OK);
  EXPECT_NEAR(hh.la() / la_bright, 1.0, 0.01);
  hh.drain();
}

TEST_F(TemporalFixture, DiscontResetsTheState) {
  const double la_bright = adapted(kBright);
  Harness hh(kNatural);
  adapt_dark(hh);
  GstBuffer* b = frame(kBright);
  GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
  ASSERT_EQ(hh.push_next(b), GST_FLOW_OK);
  EXPECT_NEAR(hh.la() / la_bright, 1.0, 0.01);
  hh.drain();
}

TEST_F(TemporalFixture, CapsChangeResetsTheState) {
  Harness hh(kNatural);
  adapt_dark(hh);
  GstCaps* c2 = video_caps("P010_10LE", 16, 8, "bt2100-pq");
  ASSERT_TRUE(gst_harness_push_event(hh.h, gst_event_new_caps(c2)));
  ASSERT_EQ(hh.push_next(make_scene(c2, kBright * 0.2f, kBright * 5.0f)), GST_FLOW_OK);
  const double la_after = hh.la();
  Harness fresh;
  ASSERT_TRUE(fresh.start(gst_caps_ref(c2)));
  ASSERT_EQ(fresh.push_next(make_scene(c2, kBright * 0.2f, kBright * 5.0f)), GST_FLOW_OK);
  EXPECT_NEAR(la_after / fresh.la(), 1.0, 0.01);
  gst_caps_unref(c2);
  hh.drain();
  fresh.drain();
}

// Frames without timestamps advance by the caps frame duration: the same as stamped
// frames at that rate.
TEST_F(TemporalFixture, UntimestampedFramesStepByTheFrameRate) {
  double la[2];
  for (int stamped = 0; stamped < 2; ++stamped) {
    Harness hh(kNatural);
    adapt_dark(hh);
    for (int i = 0; i < 3; ++i) {
      if (stamped) {
        ASSERT_EQ(hh.push_next(frame(kBright)), GST_FLOW_OK);
      } else {
        ASSERT_EQ(hh.push(frame(kBright), GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE), GST_FLOW_OK);
      }
    }
    la[stamped] = hh.la();
    hh.drain();
  }
  EXPECT_NEAR(la[0] / la[1], 1.0, 1e-3);
}

// The clock is the running time: at rate 2.0 the same PTS steps are half the time.
TEST_F(TemporalFixture, TimeIsRunningTime) {
  double la[2];
  for (int fast = 0; fast < 2; ++fast) {
    Harness hh(kNatural);
    ASSERT_TRUE(hh.start(gst_caps_copy(caps)));
    if (fast) {
      GstSegment seg;
      gst_segment_init(&seg, GST_FORMAT_TIME);
      seg.rate = 2.0;
      gst_harness_push_event(hh.h, gst_event_new_segment(&seg));
    }
    for (int i = 0; i < 30; ++i) ASSERT_EQ(hh.push_next(frame(kDark)), GST_FLOW_OK);
    for (int i = 0; i < 2; ++i) ASSERT_EQ(hh.push_next(frame(kBright)), GST_FLOW_OK);  // step shows from its 2nd frame
    la[fast] = hh.la();
    hh.drain();
  }
  EXPECT_LT(la[1], la[0] * 0.98) << "at rate 2 the eye has less time to adapt";
}

TEST_F(TemporalFixture, StaticSceneConvergesToIdenticalFrames) {
  Harness hh("target=sdr");
  ASSERT_TRUE(hh.start(gst_caps_copy(caps), gst_caps_from_string("video/x-raw,format=RGBA")));
  GstBuffer* last = nullptr;
  GstBuffer* prev = nullptr;
  for (int i = 0; i < 60; ++i) {
    ASSERT_EQ(hh.push_next(frame(50)), GST_FLOW_OK);
    if (prev) gst_buffer_unref(prev);
    prev = last;
    last = gst_harness_pull(hh.h);
  }
  GstMapInfo a, b;
  gst_buffer_map(prev, &a, GST_MAP_READ);
  gst_buffer_map(last, &b, GST_MAP_READ);
  ASSERT_EQ(a.size, b.size);
  EXPECT_EQ(std::memcmp(a.data, b.data, a.size), 0);
  gst_buffer_unmap(prev, &a);
  gst_buffer_unmap(last, &b);
  gst_buffer_unref(prev);
  gst_buffer_unref(last);
}

// --------------------------------------------------------------------------------------
// Properties

TEST(Properties, EveryParameterIsAPropertyWithItsDefault) {
  GstElement* e = gst_element_factory_make("dtutmo", nullptr);
  ASSERT_NE(e, nullptr);
  const dtutmo::Params defaults;
  for (const auto& info : dtutmo::param_names()) {
    SCOPED_TRACE(info.name);
    GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(e), info.name);
    ASSERT_NE(spec, nullptr);
    EXPECT_TRUE(spec->flags & GST_PARAM_MUTABLE_PLAYING);
    std::string def;
    ASSERT_TRUE(dtutmo::get_param(defaults, info.name, &def));
    dtutmo::ParamDetails d;
    ASSERT_TRUE(dtutmo::param_details(info.name, &d));
    GValue v = G_VALUE_INIT;
    g_value_init(&v, spec->value_type);
    g_object_get_property(G_OBJECT(e), info.name, &v);
    switch (d.kind) {
      case dtutmo::ParamDetails::Float: {
        ASSERT_TRUE(G_IS_PARAM_SPEC_DOUBLE(spec));
        EXPECT_NEAR(g_value_get_double(&v), std::strtod(def.c_str(), nullptr), 1e-4);
        EXPECT_FLOAT_EQ(float(G_PARAM_SPEC_DOUBLE(spec)->minimum), d.lo);
        EXPECT_FLOAT_EQ(float(G_PARAM_SPEC_DOUBLE(spec)->maximum), d.hi);
        break;
      }
      case dtutmo::ParamDetails::Int: {
        ASSERT_TRUE(G_IS_PARAM_SPEC_INT(spec));
        EXPECT_EQ(g_value_get_int(&v), std::atoi(def.c_str()));
        EXPECT_EQ(G_PARAM_SPEC_INT(spec)->minimum, int(d.lo));
        EXPECT_EQ(G_PARAM_SPEC_INT(spec)->maximum, int(d.hi));
        break;
      }
      case dtutmo::ParamDetails::Bool:
        ASSERT_TRUE(G_IS_PARAM_SPEC_BOOLEAN(spec));
        EXPECT_EQ(bool(g_value_get_boolean(&v)), def == "true");
        break;
      case dtutmo::ParamDetails::Enum: {
        ASSERT_TRUE(G_IS_PARAM_SPEC_ENUM(spec));
        GEnumValue* ev = g_enum_get_value(G_PARAM_SPEC_ENUM(spec)->enum_class,
                                          g_value_get_enum(&v));
        ASSERT_NE(ev, nullptr);
        EXPECT_EQ(def, ev->value_nick);
        for (const auto& n : d.nicks) {
          if (!n.alias) {
            EXPECT_NE(g_enum_get_value_by_nick(G_PARAM_SPEC_ENUM(spec)->enum_class, n.nick),
                      nullptr)
                << n.nick;
          }
        }
        break;
      }
    }
    g_value_unset(&v);
  }
  // Set and read back through the string interface gst-launch uses.
  gst_util_set_object_arg(G_OBJECT(e), "cone-tau", "0.25");
  gst_util_set_object_arg(G_OBJECT(e), "profile", "balanced");
  gst_util_set_object_arg(G_OBJECT(e), "display-mode", "full-inverse");
  gst_util_set_object_arg(G_OBJECT(e), "mesopic", "false");
  gdouble tau;
  gboolean mesopic, optics;
  gint mode;
  g_object_get(e, "cone-tau", &tau, "mesopic", &mesopic, "optics", &optics, "display-mode",
               &mode, NULL);
  EXPECT_DOUBLE_EQ(tau, 0.25);
  EXPECT_FALSE(mesopic);
  EXPECT_TRUE(optics) << "profile=balanced switches optics on";
  EXPECT_EQ(mode, int(dtutmo::DisplayMode::FullInverse));
  // Read-only statistics and the engine choice.
  for (const char* ro : {"adaptation-luminance", "pupil-diameter", "rod-weight", "engine-name"}) {
    GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(e), ro);
    ASSERT_NE(spec, nullptr) << ro;
    EXPECT_FALSE(spec->flags & G_PARAM_WRITABLE) << ro;
  }
  ASSERT_NE(g_object_class_find_property(G_OBJECT_GET_CLASS(e), "engine"), nullptr);
  ASSERT_NE(g_object_class_find_property(G_OBJECT_GET_CLASS(e), "device-id"), nullptr);
  gst_object_unref(e);
}

TEST(Properties, StatisticsAndEngineNameAfterAFrame) {
  Harness hh;
  GstCaps* in = video_caps("P010_10LE", 32, 18, "bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in));
  ASSERT_EQ(hh.push_next(make_scene(in_copy, 0.01f, 0.1f)), GST_FLOW_OK);
  gdouble la, pupil, rod;
  gchar* name = nullptr;
  g_object_get(hh.h->element, "adaptation-luminance", &la, "pupil-diameter", &pupil, "rod-weight",
               &rod, "engine-name", &name, NULL);
  EXPECT_GT(la, 0.0);
  EXPECT_LT(la, 1.0);
  EXPECT_GT(pupil, 4.0) << "a dark scene opens the pupil";
  EXPECT_LE(pupil, 9.0);
  EXPECT_GT(rod, 0.5) << "a dark scene is seen by rods";
  EXPECT_STREQ(name, "cpu");
  g_free(name);
  gst_caps_unref(in_copy);
  hh.drain();
}

// device-id 64 names no device on any machine: the same path as no GPU at all, so these
// run (and are not skipped) on GPU machines too.
TEST(Properties, AutoEngineFallsBackToCpuWithoutCuda) {
  Harness hh("device-id=64", /*cpu=*/false);
  GstCaps* in = video_caps("P010_10LE", 16, 8, "bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in));
  ASSERT_EQ(hh.push_next(make_uniform(in_copy, 100)), GST_FLOW_OK);
  gchar* name = nullptr;
  g_object_get(hh.h->element, "engine-name", &name, NULL);
  EXPECT_STREQ(name, "cpu");
  g_free(name);
  gst_caps_unref(in_copy);
  hh.drain();
}

TEST(Properties, ExplicitCudaWithoutDeviceFailsToStart) {
  GstElement* e = gst_element_factory_make("dtutmo", nullptr);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  gst_util_set_object_arg(G_OBJECT(e), "engine", "cuda");
  gst_util_set_object_arg(G_OBJECT(e), "device-id", "64");
  EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  ASSERT_NE(m, nullptr);
  EXPECT_NE(message_text(m).find("CUDA"), std::string::npos);
  gst_message_unref(m);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
  gst_object_unref(e);
}

// One frame of make_scene (5 .. 200 cd/m^2) through the started harness: the output's bytes.
std::vector<uint8_t> push_pull_scene(Harness& hh, GstCaps* in) {
  EXPECT_EQ(hh.push_next(make_scene(in, 5, 200)), GST_FLOW_OK);
  GstBuffer* b = gst_harness_pull(hh.h);
  GstMapInfo m;
  gst_buffer_map(b, &m, GST_MAP_READ);
  std::vector<uint8_t> v(m.data, m.data + m.size);
  gst_buffer_unmap(b, &m);
  gst_buffer_unref(b);
  return v;
}

// A property changed while playing takes effect at the next frame.
TEST(Properties, ChangesWhilePlayingTakeEffect) {
  Harness hh("target=sdr dither=true");
  GstCaps* in = video_caps("P010_10LE", 64, 16, "bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in, gst_caps_from_string("video/x-raw,format=RGBA")));
  auto grab = [&]() { return push_pull_scene(hh, in_copy); };
  for (int i = 0; i < 20; ++i) grab();  // converge
  const auto a = grab();
  const auto a2 = grab();
  ASSERT_EQ(a, a2) << "static scene must be stable before the change";
  g_object_set(hh.h->element, "dither", FALSE, NULL);
  const auto b = grab();
  EXPECT_NE(a, b) << "dither=false did not change the 8-bit output";
  g_object_set(hh.h->element, "detail", 2.0, "display-peak", 50.0, NULL);
  const auto c = grab();
  EXPECT_NE(b, c);
  gst_caps_unref(in_copy);
}

// A 4:2:0 property of the CPU engine changed while playing (P010 64x32 PQ in, I420 out,
// the static scene settled first): the next frame after the change from `start` to
// `other` differs; back to `start`, `settle` frames later the output is the settled one
// again.
void switch_420_while_playing(const char* prop, const char* start, const char* other, int settle) {
  Harness hh((std::string("target=sdr ") + prop + "=" + start).c_str());
  GstCaps* in = video_caps("P010_10LE", 64, 32, "bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in, gst_caps_from_string("video/x-raw,format=I420")));
  auto grab = [&]() { return push_pull_scene(hh, in_copy); };
  for (int i = 0; i < 20; ++i) grab();  // converge
  const auto a = grab();
  ASSERT_EQ(a, grab()) << "static scene must be stable before the change";
  gst_util_set_object_arg(G_OBJECT(hh.h->element), prop, other);
  const auto b = grab();
  EXPECT_NE(a, b) << prop << "=" << other << " did not change the 4:2:0 output";
  EXPECT_EQ(b.size(), a.size());
  gst_util_set_object_arg(G_OBJECT(hh.h->element), prop, start);
  for (int i = 0; i < settle; ++i) grab();
  EXPECT_EQ(grab(), a);
  gst_caps_unref(in_copy);
}

// colour-sampling: takes effect at the next frame, and back again gives the same bytes
// as before the change.
TEST(Properties, ColourSamplingChangesWhilePlaying) { switch_420_while_playing("colour-sampling", "auto", "full", 0); }

// model-resolution: takes effect at the next frame (the block model starts its state
// afresh), and back to full gives the per-pixel output again once the state has settled;
// the same between half and quarter.
TEST(Properties, ModelResolutionChangesWhilePlaying) {
  switch_420_while_playing("model-resolution", "full", "half", 20);
  switch_420_while_playing("model-resolution", "full", "quarter", 20);
  switch_420_while_playing("model-resolution", "half", "quarter", 20);
}

TEST(Properties, TargetChangeWhilePlayingRenegotiates) {
  Harness hh("target=sdr");
  GstCaps* in = video_caps("P010_10LE", 32, 16, "bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in));
  ASSERT_EQ(hh.push_next(make_uniform(in_copy, 100)), GST_FLOW_OK);
  GstCaps* oc = hh.out_caps();
  EXPECT_STREQ(gst_structure_get_string(gst_caps_get_structure(oc, 0), "format"), "NV12");
  gst_caps_unref(oc);
  gst_util_set_object_arg(G_OBJECT(hh.h->element), "target", "pq");
  ASSERT_EQ(hh.push_next(make_uniform(in_copy, 100)), GST_FLOW_OK);
  oc = hh.out_caps();
  GstVideoInfo oi;
  ASSERT_TRUE(gst_video_info_from_caps(&oi, oc));
  EXPECT_STREQ(GST_VIDEO_INFO_NAME(&oi), "P010_10LE");
  EXPECT_EQ(oi.colorimetry.transfer, GST_VIDEO_TRANSFER_SMPTE2084);
  gst_caps_unref(oc);
  // The buffer after the change is a P010 frame (its size says so).
  GstBuffer* last = nullptr;
  while (GstBuffer* b = gst_harness_try_pull(hh.h)) {
    if (last) gst_buffer_unref(last);
    last = b;
  }
  ASSERT_NE(last, nullptr);
  EXPECT_GE(gst_buffer_get_size(last), oi.size);
  gst_buffer_unref(last);
  gst_caps_unref(in_copy);
}

// display-peak / display-black changed while playing on an HDR target: the next buffer
// goes out under new caps whose HDR10 fields describe the new display (an encoder
// downstream writes them into its SEI); on an SDR target nothing is renegotiated.
TEST(Properties, HdrDisplayChangeWhilePlayingUpdatesTheCapsMetadata) {
  Harness hh("target=pq display-peak=1000 display-black=0.05");
  GstCaps* in = video_caps("P010_10LE", 32, 16, "bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in));
  auto metadata = [&](guint32* peak, guint32* black, guint* cll) {
    GstCaps* oc = hh.out_caps();
    GstVideoMasteringDisplayInfo minfo;
    GstVideoContentLightLevel ll;
    ASSERT_TRUE(gst_video_mastering_display_info_from_caps(&minfo, oc));
    ASSERT_TRUE(gst_video_content_light_level_from_caps(&ll, oc));
    *peak = minfo.max_display_mastering_luminance;
    *black = minfo.min_display_mastering_luminance;
    *cll = ll.max_content_light_level;
    gst_caps_unref(oc);
  };
  guint32 peak = 0, black = 0;
  guint cll = 0;
  ASSERT_EQ(hh.push_next(make_uniform(in_copy, 100)), GST_FLOW_OK);
  metadata(&peak, &black, &cll);
  EXPECT_EQ(peak, 1000u * 10000u);
  EXPECT_EQ(black, 500u);
  EXPECT_EQ(cll, 1000u);
  g_object_set(hh.h->element, "display-peak", 4000.0, NULL);
  ASSERT_EQ(hh.push_next(make_uniform(in_copy, 100)), GST_FLOW_OK);
  metadata(&peak, &black, &cll);
  EXPECT_EQ(peak, 4000u * 10000u);
  EXPECT_EQ(cll, 4000u);
  g_object_set(hh.h->element, "display-black", 0.2, NULL);
  ASSERT_EQ(hh.push_next(make_uniform(in_copy, 100)), GST_FLOW_OK);
  metadata(&peak, &black, &cll);
  EXPECT_EQ(black, 2000u);
  // 0 = the target's display (1000 cd/m2 for pq)
  g_object_set(hh.h->element, "display-peak", 0.0, NULL);
  ASSERT_EQ(hh.push_next(make_uniform(in_copy, 100)), GST_FLOW_OK);
  metadata(&peak, &black, &cll);
  EXPECT_EQ(peak, 1000u * 10000u);
  EXPECT_EQ(cll, 1000u);
  hh.drain();
  gst_caps_unref(in_copy);
}

// QoS is on: a frame that a QoS event says is already too late is dropped (not processed,
// not pushed), later frames flow again.
TEST(Properties, QosDropsLateFrames) {
  Harness hh;
  GstCaps* in = video_caps("P010_10LE", 16, 8, "bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in));
  EXPECT_TRUE(gst_base_transform_is_qos_enabled(GST_BASE_TRANSFORM(hh.h->element)));
  ASSERT_EQ(hh.push(make_uniform(in_copy, 100), 0), GST_FLOW_OK);
  EXPECT_EQ(gst_harness_buffers_received(hh.h), 1u);
  // Downstream: the frame at 1 s arrived 1 s late.
  gst_harness_push_upstream_event(
      hh.h, gst_event_new_qos(GST_QOS_TYPE_UNDERFLOW, 2.0, GST_SECOND, GST_SECOND));
  ASSERT_EQ(hh.push(make_uniform(in_copy, 100), 2 * GST_SECOND), GST_FLOW_OK);
  EXPECT_EQ(gst_harness_buffers_received(hh.h), 1u) << "late frame was not dropped";
  ASSERT_EQ(hh.push(make_uniform(in_copy, 100), 20 * GST_SECOND), GST_FLOW_OK);
  EXPECT_EQ(gst_harness_buffers_received(hh.h), 2u);
  gst_caps_unref(in_copy);
  hh.drain();
}

TEST(Properties, LatencyQueryAddsNothing) {
  Harness hh;
  ASSERT_TRUE(hh.start(video_caps("P010_10LE", 16, 8, "bt2100-pq")));
  GstClockTime lat = gst_harness_query_latency(hh.h);
  EXPECT_TRUE(lat == 0 || lat == GST_CLOCK_TIME_NONE) << lat;
}

// --------------------------------------------------------------------------------------
// The adaptation state on the bus (post-messages) and honest properties

struct Posted {
  guint64 timestamp = 0, stream_time = 0, running_time = 0, duration = 0;
  double la = 0, pupil = 0, rod = 0, lo = 0, hi = 0;
  gboolean cut = FALSE, reset = FALSE;
};

// Every "dtutmo" element message on the bus, in order.
std::vector<Posted> posted(Harness& hh) {
  std::vector<Posted> v;
  while (GstMessage* m = hh.pop(GST_MESSAGE_ELEMENT)) {
    const GstStructure* s = gst_message_get_structure(m);
    if (s && gst_structure_has_name(s, "dtutmo")) {
      Posted p;
      EXPECT_TRUE(gst_structure_get_uint64(s, "timestamp", &p.timestamp));
      EXPECT_TRUE(gst_structure_get_uint64(s, "stream-time", &p.stream_time));
      EXPECT_TRUE(gst_structure_get_uint64(s, "running-time", &p.running_time));
      EXPECT_TRUE(gst_structure_get_uint64(s, "duration", &p.duration));
      EXPECT_TRUE(gst_structure_get_double(s, "adaptation-luminance", &p.la));
      EXPECT_TRUE(gst_structure_get_double(s, "pupil-diameter", &p.pupil));
      EXPECT_TRUE(gst_structure_get_double(s, "rod-weight", &p.rod));
      EXPECT_TRUE(gst_structure_get_double(s, "response-low", &p.lo));
      EXPECT_TRUE(gst_structure_get_double(s, "response-high", &p.hi));
      EXPECT_TRUE(gst_structure_get_boolean(s, "cut", &p.cut));
      EXPECT_TRUE(gst_structure_get_boolean(s, "reset", &p.reset));
      EXPECT_EQ(GST_MESSAGE_SRC(m), GST_OBJECT(hh.h->element));
      v.push_back(p);
    }
    gst_message_unref(m);
  }
  return v;
}

TEST(Messages, NoneUnlessAskedFor) {
  Harness hh;
  GstCaps* in = video_caps("P010_10LE", 32, 18, "bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(hh.push_next(make_scene(in_copy, 1, 100)), GST_FLOW_OK);
  EXPECT_TRUE(posted(hh).empty());
  gboolean on = TRUE;
  g_object_get(hh.h->element, "post-messages", &on, NULL);
  EXPECT_FALSE(on) << "default off, like level's";
  gst_caps_unref(in_copy);
  hh.drain();
}

// One message per frame with the state after that frame: the same numbers as the
// read-only properties, the frame's times, a reset on the first frame only, and the
// state of the eye (a night scene: wider pupil, rods in use).
TEST(Messages, OnePerFrameWithThatFramesState) {
  Harness hh("post-messages=true adaptation=natural");  // the default, broadcast, cuts at 30
  GstCaps* in = video_caps("P010_10LE", 32, 18, "bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in));
  std::vector<double> la, pupil, rod;
  for (int i = 0; i < 60; ++i) {
    // 1 s of daylight-level interior (~200 cd/m2), then 1 s of night (~0.02 cd/m2).
    const float level = i < 30 ? 200.0f : 0.02f;
    ASSERT_EQ(hh.push_next(make_scene(in_copy, level * 0.2f, level * 5.0f)), GST_FLOW_OK);
    gdouble a, p, r;
    g_object_get(hh.h->element, "adaptation-luminance", &a, "pupil-diameter", &p, "rod-weight",
                 &r, NULL);
    la.push_back(a);
    pupil.push_back(p);
    rod.push_back(r);
  }
  const std::vector<Posted> v = posted(hh);
  ASSERT_EQ(v.size(), 60u);
  for (size_t i = 0; i < v.size(); ++i) {
    SCOPED_TRACE(i);
    const guint64 pts = gst_util_uint64_scale(i, GST_SECOND, 30);
    EXPECT_EQ(v[i].timestamp, pts);
    EXPECT_EQ(v[i].stream_time, pts);
    EXPECT_EQ(v[i].running_time, pts);
    EXPECT_EQ(v[i].duration, GST_SECOND / 30);
    EXPECT_DOUBLE_EQ(v[i].la, la[i]);
    EXPECT_DOUBLE_EQ(v[i].pupil, pupil[i]);
    EXPECT_DOUBLE_EQ(v[i].rod, rod[i]);
    EXPECT_LT(v[i].lo, v[i].hi);
    EXPECT_EQ(bool(v[i].reset), i == 0);
    EXPECT_FALSE(v[i].cut) << "natural adaptation reports no cut";
  }
  EXPECT_GT(v[29].la, 20.0);
  EXPECT_LT(v[59].la, 0.2);
  EXPECT_GT(v[59].pupil, v[29].pupil + 1.0) << "the pupil opens at night";
  EXPECT_NEAR(v[29].rod, 0.0, 1e-6) << "no rods at interior levels";
  EXPECT_GT(v[59].rod, 0.5) << "rods at night";
  gst_caps_unref(in_copy);
  hh.drain();
}

// message-interval thins the messages by running time; a reset or a cut is posted at its
// own frame whatever the interval.
TEST(Messages, IntervalKeepsResetsAndCuts) {
  Harness hh("post-messages=true message-interval=100000000");
  GstCaps* in = video_caps("P010_10LE", 32, 18, "bt2100-pq");
  GstCaps* in_copy = gst_caps_copy(in);
  ASSERT_TRUE(hh.start(in));
  for (int i = 0; i < 30; ++i) ASSERT_EQ(hh.push_next(make_scene(in_copy, 20, 500)), GST_FLOW_OK);
  std::vector<Posted> v = posted(hh);
  ASSERT_EQ(v.size(), 10u) << "1 s at 30 fps, one message per 100 ms";
  for (size_t i = 1; i < v.size(); ++i)
    EXPECT_GE(v[i].running_time - v[i - 1].running_time, 100 * GST_MSECOND);
  // A new segment resets the state: posted on its first frame, inside the interval.
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  gst_harness_push_event(hh.h, gst_event_new_segment(&seg));
  hh.frame = 0;
  ASSERT_EQ(hh.push_next(make_scene(in_copy, 20, 500)), GST_FLOW_OK);
  v = posted(hh);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].reset);

  // Broadcast adaptation: the cut to a scene 1000x darker is posted at the frame the
  // engine reports it, though the interval (10 s) posts nothing else.
  Harness bb("post-messages=true message-interval=10000000000 adaptation=broadcast");
  ASSERT_TRUE(bb.start(gst_caps_copy(in_copy)));
  for (int i = 0; i < 20; ++i) ASSERT_EQ(bb.push_next(make_scene(in_copy, 20, 500)), GST_FLOW_OK);
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(bb.push_next(make_scene(in_copy, 0.02f, 0.5f)), GST_FLOW_OK);
  v = posted(bb);
  ASSERT_GE(v.size(), 2u);
  EXPECT_TRUE(v[0].reset);
  EXPECT_EQ(v[0].timestamp, 0u);
  int cuts = 0;
  for (const Posted& p : v) {
    if (!p.cut) continue;
    ++cuts;
    EXPECT_GE(p.timestamp, gst_util_uint64_scale(20, GST_SECOND, 30)) << "cut before the change";
    EXPECT_LE(p.timestamp, gst_util_uint64_scale(23, GST_SECOND, 30)) << "cut reported late";
    EXPECT_LT(p.la, 5.0) << "the cut frame is adapted to the dark scene";
  }
  EXPECT_EQ(cuts, 1);
  EXPECT_EQ(v.size(), 2u) << "nothing but the reset and the cut within 10 s";
  gst_caps_unref(in_copy);
  hh.drain();
  bb.drain();
}

// The profile sets the stage switches it is about; a switch set explicitly keeps its
// value whether it was given before or after the profile (gst-launch sets properties in
// the order written).
TEST(Properties, ProfileAndSwitchesInAnyOrder) {
  GstElement* a = gst_element_factory_make("dtutmo", nullptr);
  GstElement* b = gst_element_factory_make("dtutmo", nullptr);
  ASSERT_TRUE(a && b);
  gst_util_set_object_arg(G_OBJECT(a), "optics", "false");
  gst_util_set_object_arg(G_OBJECT(a), "glare-cells", "128");
  gst_util_set_object_arg(G_OBJECT(a), "profile", "balanced");
  gst_util_set_object_arg(G_OBJECT(b), "profile", "balanced");
  gst_util_set_object_arg(G_OBJECT(b), "optics", "false");
  gst_util_set_object_arg(G_OBJECT(b), "glare-cells", "128");
  for (GstElement* e : {a, b}) {
    gboolean optics, csf, dtucam;
    gint cells, mode;
    g_object_get(e, "optics", &optics, "csf", &csf, "dtucam", &dtucam, "glare-cells", &cells,
                 "display-mode", &mode, NULL);
    EXPECT_FALSE(optics);
    EXPECT_EQ(cells, 128);
    EXPECT_TRUE(csf && dtucam) << "not set: the profile's";
    EXPECT_EQ(mode, int(dtutmo::DisplayMode::Hybrid));
  }
  gst_object_unref(a);
  gst_object_unref(b);
}

// gst-inspect lists each enum value once, described by what it does.
TEST(Properties, EnumValuesListedOnceWithWhatTheyDo) {
  GstElement* e = gst_element_factory_make("dtutmo", nullptr);
  ASSERT_NE(e, nullptr);
  guint n = 0;
  GParamSpec** specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(e), &n);
  int enums = 0;
  for (guint i = 0; i < n; ++i) {
    if (!G_IS_PARAM_SPEC_ENUM(specs[i])) continue;
    ++enums;
    SCOPED_TRACE(specs[i]->name);
    GEnumClass* ec = G_PARAM_SPEC_ENUM(specs[i])->enum_class;
    std::vector<int> seen;
    for (guint k = 0; k < ec->n_values; ++k) {
      const GEnumValue& v = ec->values[k];
      EXPECT_EQ(std::count(seen.begin(), seen.end(), v.value), 0) << v.value_nick;
      seen.push_back(v.value);
      EXPECT_STRNE(v.value_name, v.value_nick);
      EXPECT_GT(std::strlen(v.value_name), std::strlen(v.value_nick) + 10) << v.value_name;
    }
  }
  EXPECT_GE(enums, 7);  // engine, profile, display-mode, viewing, target, adaptation, precision
  g_free(specs);
  // display-mode=hybrid (an old spelling) is not listed; production-hybrid is.
  GParamSpec* dm = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "display-mode");
  ASSERT_NE(dm, nullptr);
  EXPECT_EQ(g_enum_get_value_by_nick(G_PARAM_SPEC_ENUM(dm)->enum_class, "hybrid"), nullptr);
  EXPECT_NE(g_enum_get_value_by_nick(G_PARAM_SPEC_ENUM(dm)->enum_class, "production-hybrid"),
            nullptr);
  gst_object_unref(e);
}

// --------------------------------------------------------------------------------------
// Pipelines and hdrscenesrc

struct RunResult {
  bool eos = false;
  std::string error;
};

RunResult run_pipeline(const char* desc, GstElement** keep = nullptr) {
  RunResult r;
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(desc, &err);
  if (!p) {
    r.error = err ? err->message : "parse failed";
    g_clear_error(&err);
    return r;
  }
  GstBus* bus = gst_element_get_bus(p);
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstMessage* m = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                             GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS)
    r.eos = true;
  else
    r.error = message_text(m);
  gst_message_unref(m);
  gst_object_unref(bus);
  if (keep) {
    *keep = GST_ELEMENT(gst_object_ref(p));
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return r;
}

TEST(Pipeline, SceneSourceThroughDtutmoForManyFrames) {
  GstElement* p = nullptr;
  // 8 s of the animated scene (through its cut), 30 fps.
  RunResult r = run_pipeline(
      "hdrscenesrc num-buffers=240 ! video/x-raw,width=48,height=27,framerate=30/1 ! "
      "dtutmo name=tm engine=cpu ! fakesink",
      &p);
  EXPECT_TRUE(r.eos) << r.error;
  GstElement* tm = gst_bin_get_by_name(GST_BIN(p), "tm");
  gdouble la = 0;
  g_object_get(tm, "adaptation-luminance", &la, NULL);
  EXPECT_GT(la, 0.0);
  gst_object_unref(tm);
  gst_object_unref(p);
}

TEST(Pipeline, LinearSceneSourceAndEveryScene) {
  RunResult r = run_pipeline(
      "hdrscenesrc num-buffers=10 scene=daylight linear-scale=1000 ! "
      "video/x-raw,format=RGBA64_LE,colorimetry=1:1:1:7,width=40,height=20 ! "
      "dtutmo engine=cpu input-scale=1000 target=pq ! fakesink");
  EXPECT_TRUE(r.eos) << r.error;
  GEnumClass* ec = G_ENUM_CLASS(g_type_class_ref(g_type_from_name("GstHdrSceneSrcScene")));
  ASSERT_NE(ec, nullptr);
  for (guint i = 0; i < ec->n_values; ++i) {
    const std::string desc = std::string("hdrscenesrc num-buffers=3 scene=") +
                             ec->values[i].value_nick +
                             " ! video/x-raw,width=24,height=16 ! dtutmo engine=cpu "
                             "profile=balanced ! fakesink";
    RunResult s = run_pipeline(desc.c_str());
    EXPECT_TRUE(s.eos) << ec->values[i].value_nick << ": " << s.error;
  }
  g_type_class_unref(ec);
}

TEST(Pipeline, SeekWhilePlayingKeepsRunning) {
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(
      "hdrscenesrc ! video/x-raw,width=32,height=18,framerate=30/1 ! dtutmo name=tm "
      "engine=cpu ! fakesink name=sink",
      &err);
  ASSERT_NE(p, nullptr);
  GstBus* bus = gst_element_get_bus(p);
  ASSERT_NE(gst_element_set_state(p, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(gst_element_get_state(p, nullptr, nullptr, GST_CLOCK_TIME_NONE),
            GST_STATE_CHANGE_SUCCESS);
  // Seek into the night part of the animated scene and play 1 s of it.
  ASSERT_TRUE(gst_element_seek(p, 1.0, GST_FORMAT_TIME,
                               GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE),
                               GST_SEEK_TYPE_SET, 5 * GST_SECOND, GST_SEEK_TYPE_SET,
                               6 * GST_SECOND));
  ASSERT_EQ(gst_element_get_state(p, nullptr, nullptr, GST_CLOCK_TIME_NONE),
            GST_STATE_CHANGE_SUCCESS);
  GstElement* tm = gst_bin_get_by_name(GST_BIN(p), "tm");
  gdouble la_night = 0;
  g_object_get(tm, "adaptation-luminance", &la_night, NULL);
  EXPECT_GT(la_night, 0.0);
  EXPECT_LT(la_night, 1.0) << "after the seek the eye is adapted to night at once";
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstMessage* m = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                             GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  EXPECT_EQ(GST_MESSAGE_TYPE(m), GST_MESSAGE_EOS) << message_text(m);
  gst_message_unref(m);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(tm);
  gst_object_unref(bus);
  gst_object_unref(p);
}

// hdrscenesrc's caps: PQ P010 with HDR10 metadata by default, timestamps from the frame
// count, linear RGBA64 on request.
TEST(HdrSceneSrc, PqCapsMetadataAndTimestamps) {
  GstHarness* h = gst_harness_new("hdrscenesrc");
  gst_util_set_object_arg(G_OBJECT(h->element), "scene", "daylight");
  gst_harness_set_sink_caps_str(h, "video/x-raw,width=32,height=18,framerate=25/1");
  gst_harness_play(h);
  GstBuffer* bufs[3];
  for (auto& b : bufs) b = gst_harness_pull(h);
  GstCaps* caps = gst_pad_get_current_caps(h->sinkpad);
  GstVideoInfo info;
  ASSERT_TRUE(gst_video_info_from_caps(&info, caps));
  EXPECT_STREQ(GST_VIDEO_INFO_NAME(&info), "P010_10LE");
  EXPECT_STREQ(gst_structure_get_string(gst_caps_get_structure(caps, 0), "colorimetry"),
               "bt2100-pq");
  GstVideoMasteringDisplayInfo minfo;
  GstVideoContentLightLevel cll;
  ASSERT_TRUE(gst_video_mastering_display_info_from_caps(&minfo, caps));
  EXPECT_EQ(minfo.max_display_mastering_luminance, 10000u * 10000u);
  ASSERT_TRUE(gst_video_content_light_level_from_caps(&cll, caps));
  EXPECT_EQ(cll.max_content_light_level, 10000);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(GST_BUFFER_PTS(bufs[i]), guint64(i) * GST_SECOND / 25);
    EXPECT_EQ(GST_BUFFER_DURATION(bufs[i]), GST_SECOND / 25);
  }
  // Daylight: the sun clips near PQ code 1, shadows are far below.
  const std::vector<float> codes = read_codes(bufs[0], caps);
  const float hi = *std::max_element(codes.begin(), codes.end());
  const float lo = *std::min_element(codes.begin(), codes.end());
  EXPECT_GT(hi, 0.75f) << "brightest below " << dtutmo::pq_eotf(hi) << " cd/m2";
  EXPECT_LT(lo, 0.55f);
  for (auto& b : bufs) gst_buffer_unref(b);
  gst_caps_unref(caps);
  gst_harness_teardown(h);
}

// P010's 4:2:0 chroma is named in the caps (centre, "jpeg", unless downstream asks for
// another siting) and packed at the siting named: the same frame at "mpeg2" or "cosited"
// has the same luma and other chroma (so encoders label what is there; make-hdr10-clip.sh).
TEST(HdrSceneSrc, ChromaSiteNamedAndPackedAsNamed) {
  const char* const sites[] = {nullptr, "jpeg", "mpeg2", "cosited"};
  std::vector<uint8_t> y[4], uv[4];
  for (int k = 0; k < 4; ++k) {
    GstHarness* h = gst_harness_new("hdrscenesrc");
    gst_util_set_object_arg(G_OBJECT(h->element), "scene", "colored-lights");
    std::string sink = "video/x-raw,format=P010_10LE,width=64,height=36,framerate=30/1";
    if (sites[k]) sink += std::string(",chroma-site=") + sites[k];
    gst_harness_set_sink_caps_str(h, sink.c_str());
    gst_harness_play(h);
    GstBuffer* b = gst_harness_pull(h);
    GstCaps* caps = gst_pad_get_current_caps(h->sinkpad);
    EXPECT_STREQ(gst_structure_get_string(gst_caps_get_structure(caps, 0), "chroma-site"),
                 sites[k] ? sites[k] : "jpeg");
    GstVideoInfo info;
    ASSERT_TRUE(gst_video_info_from_caps(&info, caps));
    GstVideoFrame f;
    ASSERT_TRUE(gst_video_frame_map(&f, &info, b, GST_MAP_READ));
    for (int r = 0; r < 36; ++r) {
      const uint8_t* p = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, 0)) +
                         r * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0);
      y[k].insert(y[k].end(), p, p + 64 * 2);
    }
    for (int r = 0; r < 18; ++r) {
      const uint8_t* p = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, 1)) +
                         r * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 1);
      uv[k].insert(uv[k].end(), p, p + 64 * 2);
    }
    gst_video_frame_unmap(&f);
    gst_buffer_unref(b);
    gst_caps_unref(caps);
    gst_harness_teardown(h);
  }
  EXPECT_EQ(uv[0], uv[1]) << "the default is centre-sited chroma";
  for (int k = 2; k < 4; ++k) {
    SCOPED_TRACE(sites[k]);
    EXPECT_EQ(y[k], y[1]);
    EXPECT_NE(uv[k], uv[1]) << "the chroma is packed at the siting the caps name";
  }
}

TEST(HdrSceneSrc, LinearOutputScalesByLinearScale) {
  double means[2];
  const char* scales[2] = {"1000", "10000"};
  for (int i = 0; i < 2; ++i) {
    GstHarness* h = gst_harness_new("hdrscenesrc");
    gst_util_set_object_arg(G_OBJECT(h->element), "scene", "interior");
    gst_util_set_object_arg(G_OBJECT(h->element), "linear-scale", scales[i]);
    gst_harness_set_sink_caps_str(
        h, "video/x-raw,format=RGBA64_LE,colorimetry=1:1:1:7,width=32,height=18");
    gst_harness_play(h);
    GstBuffer* b = gst_harness_pull(h);
    GstCaps* caps = gst_pad_get_current_caps(h->sinkpad);
    GstVideoInfo info;
    ASSERT_TRUE(gst_video_info_from_caps(&info, caps));
    EXPECT_EQ(info.colorimetry.transfer, GST_VIDEO_TRANSFER_GAMMA10);
    GstVideoMasteringDisplayInfo minfo;
    EXPECT_FALSE(gst_video_mastering_display_info_from_caps(&minfo, caps));
    // Median-ish check on the dark part: mean of values below 0.05 scales by 10.
    const std::vector<float> codes = read_codes(b, caps);
    double s = 0;
    int n = 0;
    for (float c : codes)
      if (c < 0.05f) s += c, ++n;
    means[i] = n ? s / n : 0;
    gst_buffer_unref(b);
    gst_caps_unref(caps);
    gst_harness_teardown(h);
  }
  EXPECT_GT(means[0], means[1] * 3.0);
}

// System-memory output frames of 2 MiB or more come from the huge-page allocator
// (gst/hugepages.h) when downstream names none or the default one: 2 MiB-aligned data.
// Smaller frames keep the default allocator, and downstream's own allocator is kept.
struct CountingAllocator {
  GstAllocator parent;
};
struct CountingAllocatorClass {
  GstAllocatorClass parent_class;
};
GType counting_allocator_get_type();
G_DEFINE_TYPE(CountingAllocator, counting_allocator, GST_TYPE_ALLOCATOR)
gint counting_allocs = 0;
// a stand-in for a downstream allocator of its own: system memory, counted
GstMemory* counting_alloc(GstAllocator*, gsize size, GstAllocationParams* params) {
  g_atomic_int_inc(&counting_allocs);
  return gst_allocator_alloc(nullptr, size, params);
}
void counting_allocator_class_init(CountingAllocatorClass* klass) {
  GST_ALLOCATOR_CLASS(klass)->alloc = counting_alloc;
}
void counting_allocator_init(CountingAllocator* self) { GST_ALLOCATOR(self)->mem_type = "Counting"; }

TEST(Allocation, LargeSystemFramesTakeHugePages) {
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  // the output frame's data address (downstream proposing `down` when given)
  auto output = [](int w, int h, GstAllocator* down) -> uintptr_t {
    Harness hh("target=sdr");
    if (down) gst_harness_set_propose_allocator(hh.h, GST_ALLOCATOR(gst_object_ref(down)), nullptr);
    GstCaps* in = video_caps("P010_10LE", w, h, "bt2100-pq");
    GstCaps* in_copy = gst_caps_copy(in);
    EXPECT_TRUE(hh.start(in, gst_caps_from_string("video/x-raw,format=I420")));
    EXPECT_EQ(hh.push_next(make_scene(in_copy, 0.5f, 800.0f)), GST_FLOW_OK);
    gst_caps_unref(in_copy);
    GstBuffer* ob = gst_harness_pull(hh.h);
    uintptr_t addr = 1;
    GstMapInfo m;
    if (ob && gst_buffer_map(ob, &m, GST_MAP_READ)) {
      addr = reinterpret_cast<uintptr_t>(m.data);
      gst_buffer_unmap(ob, &m);
    }
    if (ob) gst_buffer_unref(ob);
    return addr;
  };
  // 1920x1088 I420: 3.1 MB, one whole 2 MiB page; the same with the default allocator named
  GstAllocator* def = gst_allocator_find(nullptr);
  EXPECT_EQ(output(1920, 1088, nullptr) % kHuge, 0u);
  EXPECT_EQ(output(1920, 1088, def) % kHuge, 0u);
  GstAllocator* huge = gst_allocator_find("dtutmo-hugepages");
  EXPECT_NE(huge, nullptr);  // registered by the element
  if (huge) gst_object_unref(huge);
  // a small frame: the default allocator's alignment (2 MiB only by chance: a few frames)
  int aligned = 0;
  for (int i = 0; i < 4; ++i) aligned += output(320, 240, nullptr) % kHuge == 0;
  EXPECT_LT(aligned, 4);
  gst_object_unref(def);
  // upstream asking (a decoder's ALLOCATION query after its caps): a pool whose allocator,
  // first in the query, is the huge-page one for a 6.2 MB P010 frame, not for a small one
  auto proposed = [](int w, int h) {
    Harness hh("target=sdr");
    GstCaps* in = video_caps("P010_10LE", w, h, "bt2100-pq");
    GstCaps* q_caps = gst_caps_copy(in);
    EXPECT_TRUE(hh.start(in, gst_caps_from_string("video/x-raw,format=I420")));
    GstQuery* q = gst_query_new_allocation(q_caps, TRUE);
    gst_caps_unref(q_caps);
    std::string name = "(no answer)";
    if (gst_pad_peer_query(hh.h->srcpad, q)) {
      name = "(none)";
      GstAllocator* a = nullptr;
      if (gst_query_get_n_allocation_params(q) > 0) gst_query_parse_nth_allocation_param(q, 0, &a, nullptr);
      if (a) name = GST_OBJECT_NAME(a) ? GST_OBJECT_NAME(a) : "(unnamed)";
      if (a) gst_object_unref(a);
      EXPECT_GT(gst_query_get_n_allocation_pools(q), 0u);
    }
    gst_query_unref(q);
    return name;
  };
  GstAllocator* ours = gst_allocator_find("dtutmo-hugepages");
  ASSERT_NE(ours, nullptr);
  const std::string our_name = GST_OBJECT_NAME(ours);
  gst_object_unref(ours);
  EXPECT_EQ(proposed(1920, 1080), our_name);
  EXPECT_NE(proposed(320, 240), our_name);
  // downstream's own allocator: asked for every frame of the pool
  GstAllocator* own = GST_ALLOCATOR(g_object_new(counting_allocator_get_type(), nullptr));
  gst_object_ref_sink(own);
  const int before = g_atomic_int_get(&counting_allocs);
  EXPECT_NE(output(1920, 1088, own) % kHuge, 0u);
  EXPECT_GT(g_atomic_int_get(&counting_allocs), before);
  gst_object_unref(own);
}

TEST(HdrSceneSrc, ScenesDifferAndLiveReportsLatency) {
  double means[2];
  const char* scenes[2] = {"night", "daylight"};
  for (int i = 0; i < 2; ++i) {
    GstHarness* h = gst_harness_new("hdrscenesrc");
    gst_util_set_object_arg(G_OBJECT(h->element), "scene", scenes[i]);
    gst_harness_set_sink_caps_str(h, "video/x-raw,width=32,height=18");
    gst_harness_play(h);
    GstBuffer* b = gst_harness_pull(h);
    GstCaps* caps = gst_pad_get_current_caps(h->sinkpad);
    means[i] = mean_of(read_codes(b, caps));
    gst_buffer_unref(b);
    gst_caps_unref(caps);
    gst_harness_teardown(h);
  }
  EXPECT_LT(means[0], means[1]);

  GstElement* src = gst_element_factory_make("hdrscenesrc", nullptr);
  g_object_set(src, "is-live", TRUE, NULL);
  gboolean live = FALSE;
  g_object_get(src, "is-live", &live, NULL);
  EXPECT_TRUE(live);
  gst_object_unref(src);
  RunResult r = run_pipeline(
      "hdrscenesrc is-live=true num-buffers=3 ! video/x-raw,width=16,height=8,framerate=100/1 ! "
      "dtutmo engine=cpu ! fakesink sync=true");
  EXPECT_TRUE(r.eos) << r.error;
}

}  // namespace
