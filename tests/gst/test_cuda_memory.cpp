// dtutmo -- tests of the element's CUDA-memory path (gst/gstdtutmo_cuda.cpp).
//
// Without a GPU: the pad templates carry memory:CUDAMemory and system-memory structures,
// transform_caps maps the memory features (CUDA in -> CUDA first, then system out; system
// in -> system out; src -> sink the reverse), engine=cpu offers no CUDA memory, the
// element starts on the CPU engine on system memory, and CUDA caps fail negotiation
// cleanly once the element knows it has no CUDA engine.
// With a GPU (skipped otherwise: the CUDA driver must load, the CUDA engine be creatable and
// gst-plugins-bad's nvcodec elements be registered): cudaupload ! dtutmo ! cudadownload
// against the CPU engine, nvh265dec ! dtutmo ! nvh264enc on an HDR10 clip made here, one
// CUDA context for the pipeline, two streams in one process, and output pool reuse.
#include <gst/base/gstbasetransform.h>
#include <glib/gstdio.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dtutmo/engine.h"

#ifdef HAVE_GST_CUDA
#include <gst/cuda/gstcudabufferpool.h>
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudamemory.h>
#endif

namespace {

class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
::testing::Environment* const gst_env =
    ::testing::AddGlobalTestEnvironment(new GstEnvironment);

const char* const kCudaIn[] = {"P010_10LE", "P016_LE", "Y444_16LE", "RGBA64_LE"};
const char* const kCudaOut[] = {"NV12", "RGBA", "BGRA", "P010_10LE", "RGB10A2_LE"};
const char kCudaFeature[] = "memory:CUDAMemory";

bool has_cuda_feature(GstCaps* caps, guint i) {
  GstCapsFeatures* f = gst_caps_get_features(caps, i);
  return f && !gst_caps_features_is_any(f) && gst_caps_features_contains(f, kCudaFeature);
}

int count_cuda(GstCaps* caps) {
  int n = 0;
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) n += has_cuda_feature(caps, i);
  return n;
}

GstCaps* video_caps(const char* fmt, bool cuda, int w = 64, int h = 36) {
  GstCaps* c = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, fmt, "width",
                                   G_TYPE_INT, w, "height", G_TYPE_INT, h, "framerate",
                                   GST_TYPE_FRACTION, 30, 1, "pixel-aspect-ratio",
                                   GST_TYPE_FRACTION, 1, 1, "colorimetry", G_TYPE_STRING,
                                   std::string(fmt) == "NV12" ? "bt709" : "bt2100-pq", NULL);
  if (cuda) gst_caps_set_features(c, 0, gst_caps_features_new(kCudaFeature, NULL));
  return c;
}

// Can `caps` carry format `fmt` in CUDA (or system) memory?
[[maybe_unused]] bool accepts(GstCaps* caps, const char* fmt, bool cuda) {
  GstCaps* probe = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, fmt, NULL);
  if (cuda) gst_caps_set_features(probe, 0, gst_caps_features_new(kCudaFeature, NULL));
  const bool ok = gst_caps_can_intersect(caps, probe);
  gst_caps_unref(probe);
  return ok;
}

[[maybe_unused]] GstCaps* transform(GstElement* e, GstPadDirection dir, GstCaps* caps) {
  GstBaseTransformClass* k = GST_BASE_TRANSFORM_GET_CLASS(e);
  return k->transform_caps(GST_BASE_TRANSFORM(e), dir, caps, nullptr);
}

// The GPU cases need the driver, the CUDA engine and nvcodec's elements.
bool gpu_usable(std::string* why) {
#ifdef HAVE_GST_CUDA
  if (!gst_cuda_load_library()) {
    *why = "no CUDA driver";
    return false;
  }
  std::unique_ptr<dtutmo::Engine> e = dtutmo::create_cuda_engine(0, why);
  if (!e) return false;
  for (const char* f : {"cudaupload", "cudadownload"}) {
    GstElementFactory* fac = gst_element_factory_find(f);
    if (!fac) {
      *why = std::string(f) + " is not registered (gst-plugins-bad nvcodec)";
      return false;
    }
    gst_object_unref(fac);
  }
  return true;
#else
  *why = "built without GStreamer's CUDA library";
  return false;
#endif
}

#define SKIP_WITHOUT_GPU()                              \
  do {                                                  \
    std::string why_;                                   \
    if (!gpu_usable(&why_)) GTEST_SKIP() << why_;       \
  } while (0)

bool have_elements(std::initializer_list<const char*> names, std::string* missing) {
  for (const char* n : names) {
    GstElementFactory* f = gst_element_factory_find(n);
    if (!f) {
      *missing = n;
      return false;
    }
    gst_object_unref(f);
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Without a GPU

TEST(CudaCaps, PadTemplatesHaveBothMemoryFeatures) {
  GstElementFactory* f = gst_element_factory_find("dtutmo");
  ASSERT_NE(f, nullptr);
  GstElement* e = gst_element_factory_create(f, nullptr);
  ASSERT_NE(e, nullptr);
  GstPadTemplate* sink = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(e), "sink");
  GstPadTemplate* src = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(e), "src");
  ASSERT_NE(sink, nullptr);
  ASSERT_NE(src, nullptr);
  GstCaps* sc = gst_pad_template_get_caps(sink);
  GstCaps* oc = gst_pad_template_get_caps(src);
#ifdef HAVE_GST_CUDA
  // CUDA structures first: negotiation prefers them when both sides can.
  EXPECT_TRUE(has_cuda_feature(sc, 0)) << gst_caps_to_string(sc);
  EXPECT_TRUE(has_cuda_feature(oc, 0)) << gst_caps_to_string(oc);
  for (const char* fmt : kCudaIn) {
    EXPECT_TRUE(accepts(sc, fmt, true)) << "sink, CUDA memory, " << fmt;
    EXPECT_TRUE(accepts(sc, fmt, false)) << "sink, system memory, " << fmt;
  }
  for (const char* fmt : kCudaOut) {
    EXPECT_TRUE(accepts(oc, fmt, true)) << "src, CUDA memory, " << fmt;
    EXPECT_TRUE(accepts(oc, fmt, false)) << "src, system memory, " << fmt;
  }
  // 1.22's CUDA allocator cannot lay out RGBA64_LE: never produced in CUDA memory.
  EXPECT_FALSE(accepts(oc, "RGBA64_LE", true));
  EXPECT_TRUE(accepts(oc, "RGBA64_LE", false));
#else
  EXPECT_EQ(count_cuda(sc), 0);
  EXPECT_EQ(count_cuda(oc), 0);
#endif
  gst_caps_unref(sc);
  gst_caps_unref(oc);
  gst_object_unref(e);
  gst_object_unref(f);
}

#ifdef HAVE_GST_CUDA

TEST(CudaCaps, CudaInGivesCudaFirstThenSystemOut) {
  GstElement* e = gst_element_factory_make("dtutmo", nullptr);  // engine=auto, not started
  GstCaps* in = video_caps("P010_10LE", true);
  GstCaps* out = transform(e, GST_PAD_SINK, in);
  ASSERT_GT(gst_caps_get_size(out), 0u);
  EXPECT_TRUE(has_cuda_feature(out, 0)) << gst_caps_to_string(out);
  EXPECT_GT(count_cuda(out), 0);
  EXPECT_LT(count_cuda(out), int(gst_caps_get_size(out))) << "system memory out too";
  // CUDA structures come before every system one.
  bool seen_sys = false;
  for (guint i = 0; i < gst_caps_get_size(out); ++i) {
    if (!has_cuda_feature(out, i)) seen_sys = true;
    else EXPECT_FALSE(seen_sys) << "CUDA structure after a system one: " << gst_caps_to_string(out);
  }
  // SDR target (default): the 8-bit outputs in both memories; size kept.
  for (const char* fmt : {"NV12", "RGBA", "BGRA"}) {
    EXPECT_TRUE(accepts(out, fmt, true)) << fmt;
    EXPECT_TRUE(accepts(out, fmt, false)) << fmt;
  }
  EXPECT_FALSE(accepts(out, "RGBA64_LE", true));
  gint w = 0;
  EXPECT_TRUE(gst_structure_get_int(gst_caps_get_structure(out, 0), "width", &w));
  EXPECT_EQ(w, 64);
  gst_caps_unref(out);
  gst_caps_unref(in);

  // target=pq: 10-bit outputs in CUDA memory.
  gst_util_set_object_arg(G_OBJECT(e), "target", "pq");
  in = video_caps("P010_10LE", true);
  out = transform(e, GST_PAD_SINK, in);
  EXPECT_TRUE(has_cuda_feature(out, 0));
  EXPECT_TRUE(accepts(out, "P010_10LE", true));
  EXPECT_TRUE(accepts(out, "RGB10A2_LE", true));
  EXPECT_FALSE(accepts(out, "NV12", true));
  gst_caps_unref(out);
  gst_caps_unref(in);
  gst_object_unref(e);
}

TEST(CudaCaps, SystemInGivesSystemOutOnly) {
  GstElement* e = gst_element_factory_make("dtutmo", nullptr);
  GstCaps* in = video_caps("P010_10LE", false);
  GstCaps* out = transform(e, GST_PAD_SINK, in);
  ASSERT_GT(gst_caps_get_size(out), 0u);
  EXPECT_EQ(count_cuda(out), 0) << gst_caps_to_string(out);
  EXPECT_TRUE(accepts(out, "NV12", false));
  gst_caps_unref(out);
  gst_caps_unref(in);
  gst_object_unref(e);
}

TEST(CudaCaps, SrcToSinkDirection) {
  GstElement* e = gst_element_factory_make("dtutmo", nullptr);
  // CUDA out needs CUDA in.
  GstCaps* out = video_caps("NV12", true);
  GstCaps* in = transform(e, GST_PAD_SRC, out);
  ASSERT_GT(gst_caps_get_size(in), 0u);
  EXPECT_EQ(count_cuda(in), int(gst_caps_get_size(in))) << gst_caps_to_string(in);
  for (const char* fmt : kCudaIn) EXPECT_TRUE(accepts(in, fmt, true)) << fmt;
  EXPECT_FALSE(accepts(in, "P012_LE", true)) << "no CUDA allocator layout for P012";
  gst_caps_unref(in);
  gst_caps_unref(out);
  // System out takes CUDA (first) or system in.
  out = video_caps("NV12", false);
  in = transform(e, GST_PAD_SRC, out);
  ASSERT_GT(gst_caps_get_size(in), 0u);
  EXPECT_TRUE(has_cuda_feature(in, 0)) << gst_caps_to_string(in);
  EXPECT_TRUE(accepts(in, "P010_10LE", true));
  EXPECT_TRUE(accepts(in, "P010_10LE", false));
  EXPECT_TRUE(accepts(in, "P012_LE", false));
  gst_caps_unref(in);
  gst_caps_unref(out);
  gst_object_unref(e);
}

TEST(CudaCaps, CpuEngineOffersNoCudaMemory) {
  GstElement* e = gst_element_factory_make("dtutmo", nullptr);
  gst_util_set_object_arg(G_OBJECT(e), "engine", "cpu");
  GstCaps* in = video_caps("P010_10LE", true);
  GstCaps* out = transform(e, GST_PAD_SINK, in);
  EXPECT_TRUE(gst_caps_is_empty(out)) << gst_caps_to_string(out);
  gst_caps_unref(out);
  gst_caps_unref(in);
  GstCaps* sys_out = video_caps("NV12", false);
  in = transform(e, GST_PAD_SRC, sys_out);
  EXPECT_GT(gst_caps_get_size(in), 0u);
  EXPECT_EQ(count_cuda(in), 0) << gst_caps_to_string(in);
  gst_caps_unref(in);
  gst_caps_unref(sys_out);
  gst_object_unref(e);
}

// The same through pads: a CUDA capsfilter upstream, dtutmo's src pad is queried.
TEST(CudaCaps, PadQueryFollowsUpstreamMemory) {
  for (bool cuda : {true, false}) {
    GstElement* bin = gst_bin_new(nullptr);
    GstElement* cf = gst_element_factory_make("capsfilter", nullptr);
    GstElement* d = gst_element_factory_make("dtutmo", nullptr);
    GstCaps* c = video_caps("P010_10LE", cuda);
    g_object_set(cf, "caps", c, NULL);
    gst_caps_unref(c);
    gst_bin_add_many(GST_BIN(bin), cf, d, NULL);
    ASSERT_TRUE(gst_element_link(cf, d));
    GstPad* src = gst_element_get_static_pad(d, "src");
    GstCaps* q = gst_pad_query_caps(src, nullptr);
    ASSERT_GT(gst_caps_get_size(q), 0u);
    if (cuda) {
      EXPECT_TRUE(has_cuda_feature(q, 0)) << gst_caps_to_string(q);
      EXPECT_LT(count_cuda(q), int(gst_caps_get_size(q)));
    } else {
      EXPECT_EQ(count_cuda(q), 0) << gst_caps_to_string(q);
    }
    gst_caps_unref(q);
    gst_object_unref(src);
    gst_object_unref(bin);
  }
}

#endif  // HAVE_GST_CUDA

// A P010 frame of mid grey (PQ code ~0.5) in system memory.
GstBuffer* grey_p010(int w, int h) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_P010_10LE, w, h);
  GstBuffer* b = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstMapInfo m;
  gst_buffer_map(b, &m, GST_MAP_WRITE);
  auto* p = reinterpret_cast<guint16*>(m.data);
  for (gsize i = 0; i < m.size / 2; ++i) p[i] = guint16(512 << 6);
  gst_buffer_unmap(b, &m);
  GST_BUFFER_PTS(b) = 0;
  GST_BUFFER_DURATION(b) = GST_SECOND / 30;
  return b;
}

TEST(CudaFallback, AutoOnSystemMemoryRunsWhereItCan) {
  GstHarness* h = gst_harness_new("dtutmo");
  gst_harness_set_src_caps(h, video_caps("P010_10LE", false));
  ASSERT_EQ(gst_harness_push(h, grey_p010(64, 36)), GST_FLOW_OK);
  GstBuffer* out = gst_harness_pull(h);
  ASSERT_NE(out, nullptr);
  gst_buffer_unref(out);
  gchar* name = nullptr;
  g_object_get(h->element, "engine-name", &name, NULL);
  std::string why;
  const bool gpu = gpu_usable(&why);
  EXPECT_STREQ(name, gpu ? "cuda" : "cpu") << why;
  g_free(name);
  GstCaps* oc = gst_pad_get_current_caps(h->sinkpad);
  ASSERT_NE(oc, nullptr);
  EXPECT_EQ(count_cuda(oc), 0) << "system memory in gives system memory out";
  gst_caps_unref(oc);
  gst_harness_teardown(h);
}

TEST(CudaFallback, CudaCapsWithoutGpuFailNegotiationCleanly) {
  std::string why;
  if (gpu_usable(&why)) GTEST_SKIP() << "a GPU is usable here";
  GstHarness* h = gst_harness_new("dtutmo");
  // Started (engine=auto, CPU engine): no CUDA memory on the pads any more.
  gst_harness_play(h);
  GstPad* sink = gst_element_get_static_pad(h->element, "sink");
  GstCaps* cuda_in = video_caps("P010_10LE", true);
  EXPECT_FALSE(gst_pad_query_accept_caps(sink, cuda_in));
  gst_object_unref(sink);
  gst_harness_set_src_caps(h, cuda_in);
  GstFlowReturn r = gst_harness_push(h, grey_p010(64, 36));
  EXPECT_EQ(r, GST_FLOW_NOT_NEGOTIATED);
  gchar* name = nullptr;
  g_object_get(h->element, "engine-name", &name, NULL);
  EXPECT_STREQ(name, "cpu");
  g_free(name);
  gst_harness_teardown(h);
}

// ---------------------------------------------------------------------------------------
// With a GPU

// Runs `launch` to EOS (or `timeout_s`); on each fakesink/appsink named in `capture`,
// records the frames (tightly packed rows) and the GstMemory pointers of the buffers.
struct Capture {
  explicit Capture(std::string n, bool cp = true) : name(std::move(n)), copy(cp) {}
  std::string name;  // element whose sink pad is probed
  bool copy = true;  // map and copy frames (system memory only)
  std::vector<std::vector<guint8>> frames;
  std::set<const void*> memories;
  std::set<const void*> contexts;  // GstCudaContext of CUDA memory seen
  int buffers = 0;
  bool cuda_memory = false;
};

GstPadProbeReturn capture_probe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* c = static_cast<Capture*>(data);
  GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info);
  c->buffers++;
  for (guint i = 0; i < gst_buffer_n_memory(b); ++i) {
    GstMemory* m = gst_buffer_peek_memory(b, i);
    c->memories.insert(m);
#ifdef HAVE_GST_CUDA
    if (gst_is_cuda_memory(m)) {
      c->cuda_memory = true;
      c->contexts.insert(GST_CUDA_MEMORY_CAST(m)->context);
    }
#endif
  }
  if (!c->copy) return GST_PAD_PROBE_OK;
  GstCaps* caps = gst_pad_get_current_caps(pad);
  GstVideoInfo vi;
  if (caps && gst_video_info_from_caps(&vi, caps)) {
    GstVideoFrame f;
    if (gst_video_frame_map(&f, &vi, b, GST_MAP_READ)) {
      std::vector<guint8> bytes;
      for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&f); ++p) {
        const int rows = GST_VIDEO_FRAME_COMP_HEIGHT(&f, p);
        const int row = GST_VIDEO_FRAME_COMP_WIDTH(&f, p) * GST_VIDEO_FRAME_COMP_PSTRIDE(&f, p);
        const guint8* d = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&f, p));
        for (int y = 0; y < rows; ++y)
          bytes.insert(bytes.end(), d + y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, p),
                       d + y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, p) + row);
      }
      c->frames.push_back(std::move(bytes));
      gst_video_frame_unmap(&f);
    }
  }
  if (caps) gst_caps_unref(caps);
  return GST_PAD_PROBE_OK;
}

bool run_pipeline(const std::string& launch, std::vector<Capture*> captures, std::string* err,
                  GstElement** keep = nullptr, int timeout_s = 120) {
  GError* e = nullptr;
  GstElement* p = gst_parse_launch(launch.c_str(), &e);
  if (!p || e) {
    *err = std::string("parse: ") + (e ? e->message : "?");
    if (e) g_error_free(e);
    if (p) gst_object_unref(p);
    return false;
  }
  for (Capture* c : captures) {
    GstElement* s = gst_bin_get_by_name(GST_BIN(p), c->name.c_str());
    if (!s) {
      *err = "no element " + c->name;
      gst_object_unref(p);
      return false;
    }
    GstPad* pad = gst_element_get_static_pad(s, "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, capture_probe, c, nullptr);
    gst_object_unref(pad);
    gst_object_unref(s);
  }
  bool ok = gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
  GstBus* bus = gst_element_get_bus(p);
  if (ok) {
    GstMessage* m = gst_bus_timed_pop_filtered(bus, GstClockTime(timeout_s) * GST_SECOND,
                                               GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (!m) {
      ok = false;
      *err = "timeout";
    } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      GError* ge = nullptr;
      gchar* dbg = nullptr;
      gst_message_parse_error(m, &ge, &dbg);
      *err = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(m))) + ": " + ge->message + " (" +
             (dbg ? dbg : "") + ")";
      g_error_free(ge);
      g_free(dbg);
      ok = false;
    }
    if (m) gst_message_unref(m);
  } else {
    *err = "could not start " + launch;
  }
  gst_object_unref(bus);
  if (keep) {
    gst_element_set_state(p, GST_STATE_PAUSED);  // caller inspects, then tears down
    *keep = p;
  } else {
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
  return ok;
}

void stop_pipeline(GstElement* p) {
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}

struct Diff {
  double mean = 0.0;
  int max = 0;
};
Diff diff(const std::vector<guint8>& a, const std::vector<guint8>& b) {
  Diff d;
  if (a.size() != b.size() || a.empty()) {
    d.mean = 1e9;
    d.max = 1 << 30;
    return d;
  }
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const int x = std::abs(int(a[i]) - int(b[i]));
    sum += x;
    d.max = std::max(d.max, x);
  }
  d.mean = sum / double(a.size());
  return d;
}

const char kSrc[] =
    "hdrscenesrc scene=%s num-buffers=%d ! "
    "video/x-raw,format=P010_10LE,width=%d,height=%d,framerate=30/1";

std::string src(const char* scene, int frames, int w = 320, int h = 180) {
  char buf[256];
  std::snprintf(buf, sizeof buf, kSrc, scene, frames, w, h);
  return buf;
}

// The engines differ by float rounding (fast math, FP16 intermediates on the GPU) and
// the dither pattern is the same; 8-bit codes agree to about one step.
constexpr double kMeanTol = 1.0;
constexpr int kMaxTol = 24;

TEST(CudaGpu, UploadDtutmoDownloadMatchesCpuEngine) {
  SKIP_WITHOUT_GPU();
  std::string err;
  Capture cpu{"s"};
  ASSERT_TRUE(run_pipeline(src("daylight", 3) +
                               " ! dtutmo engine=cpu ! video/x-raw,format=RGBA ! fakesink name=s",
                           {&cpu}, &err))
      << err;
  Capture gpu{"s"}, mid{"c", false};
  GstElement* p = nullptr;
  ASSERT_TRUE(run_pipeline(src("daylight", 3) +
                               " ! cudaupload ! video/x-raw(memory:CUDAMemory) "
                               "! dtutmo name=d engine=cuda "
                               "! video/x-raw(memory:CUDAMemory),format=RGBA "
                               "! identity name=c ! cudadownload ! video/x-raw,format=RGBA "
                               "! fakesink name=s",
                           {&gpu, &mid}, &err, &p))
      << err;
  GstElement* d = gst_bin_get_by_name(GST_BIN(p), "d");
  gchar* name = nullptr;
  g_object_get(d, "engine-name", &name, NULL);
  EXPECT_STREQ(name, "cuda");
  g_free(name);
  gst_object_unref(d);
  stop_pipeline(p);
  EXPECT_TRUE(mid.cuda_memory) << "dtutmo's output is CUDA memory";
  ASSERT_EQ(cpu.frames.size(), 3u);
  ASSERT_EQ(gpu.frames.size(), 3u);
  const Diff df = diff(cpu.frames.back(), gpu.frames.back());
  EXPECT_LE(df.mean, kMeanTol);
  EXPECT_LE(df.max, kMaxTol);
}

TEST(CudaGpu, SystemMemoryRunsTheCudaEngineHostPath) {
  SKIP_WITHOUT_GPU();
  std::string err;
  Capture cpu{"s"}, gpu{"s"};
  const std::string tail = " ! video/x-raw,format=NV12 ! fakesink name=s";
  ASSERT_TRUE(run_pipeline(src("interior", 3) + " ! dtutmo engine=cpu" + tail, {&cpu}, &err)) << err;
  GstElement* p = nullptr;
  ASSERT_TRUE(run_pipeline(src("interior", 3) + " ! dtutmo name=d engine=auto" + tail, {&gpu},
                           &err, &p))
      << err;
  GstElement* d = gst_bin_get_by_name(GST_BIN(p), "d");
  gchar* name = nullptr;
  g_object_get(d, "engine-name", &name, NULL);
  EXPECT_STREQ(name, "cuda");
  g_free(name);
  gst_object_unref(d);
  stop_pipeline(p);
  EXPECT_FALSE(gpu.cuda_memory);
  ASSERT_EQ(gpu.frames.size(), 3u);
  const Diff df = diff(cpu.frames.back(), gpu.frames.back());
  EXPECT_LE(df.mean, kMeanTol);
  EXPECT_LE(df.max, kMaxTol);
}

TEST(CudaGpu, OneContextForThePipeline) {
  SKIP_WITHOUT_GPU();
  std::string err;
  Capture in{"a", false}, out{"b", false};
  ASSERT_TRUE(run_pipeline(src("night", 5) +
                               " ! cudaupload ! video/x-raw(memory:CUDAMemory) ! identity name=a "
                               "! dtutmo ! video/x-raw(memory:CUDAMemory) ! identity name=b "
                               "! dtutmo target=pq ! video/x-raw(memory:CUDAMemory) "
                               "! cudadownload ! fakesink",
                           {&in, &out}, &err))
      << err;
  ASSERT_TRUE(in.cuda_memory);
  ASSERT_TRUE(out.cuda_memory);
  ASSERT_EQ(in.contexts.size(), 1u);
  ASSERT_EQ(out.contexts.size(), 1u);
  EXPECT_EQ(*in.contexts.begin(), *out.contexts.begin())
      << "cudaupload and dtutmo share one GstCudaContext";
}

TEST(CudaGpu, TwoStreamsInOneProcess) {
  SKIP_WITHOUT_GPU();
  std::string err;
  const std::string branch =
      " ! cudaupload ! dtutmo ! video/x-raw(memory:CUDAMemory),format=RGBA ! cudadownload "
      "! video/x-raw,format=RGBA ! fakesink name=";
  Capture one{"s1"}, two{"s2"};
  ASSERT_TRUE(run_pipeline(src("animated", 20) + branch + "s1 " + src("night", 20) + branch + "s2",
                           {&one, &two}, &err))
      << err;
  Capture ref1{"s1"}, ref2{"s2"};
  ASSERT_TRUE(run_pipeline(src("animated", 20) + branch + "s1", {&ref1}, &err)) << err;
  ASSERT_TRUE(run_pipeline(src("night", 20) + branch + "s2", {&ref2}, &err)) << err;
  ASSERT_EQ(one.frames.size(), 20u);
  ASSERT_EQ(two.frames.size(), 20u);
  // Each stream keeps its own temporal state: the same frames as when run alone.
  for (size_t i = 0; i < 20; i += 19) {
    EXPECT_LE(diff(one.frames[i], ref1.frames[i]).mean, 0.05) << "frame " << i;
    EXPECT_LE(diff(two.frames[i], ref2.frames[i]).mean, 0.05) << "frame " << i;
  }
}

TEST(CudaGpu, OutputPoolIsReused) {
  SKIP_WITHOUT_GPU();
  std::string err;
  Capture in{"a", false}, out{"b", false};
  const int n = 60;
  ASSERT_TRUE(run_pipeline(src("sky-gradient", n) +
                               " ! cudaupload ! video/x-raw(memory:CUDAMemory) ! identity name=a "
                               "! dtutmo ! video/x-raw(memory:CUDAMemory),format=NV12 "
                               "! fakesink name=b",
                           {&in, &out}, &err))
      << err;
  ASSERT_EQ(out.buffers, n);
  ASSERT_TRUE(out.cuda_memory);
  // Buffers come back to the CUDA pool: a handful of memories serve every frame.
  EXPECT_LE(out.memories.size(), 8u) << "output memories allocated for " << n << " frames";
  EXPECT_LE(in.memories.size(), 8u) << "upstream's memories (from the proposed pool)";
}

TEST(CudaGpu, NvdecDtutmoNvencOnHdr10) {
  SKIP_WITHOUT_GPU();
  std::string missing;
  if (!have_elements({"nvh265dec", "nvh264enc", "h265parse", "h264parse"}, &missing))
    GTEST_SKIP() << missing << " is not registered";
  std::string enc;
  if (have_elements({"nvh265enc"}, &missing))
    enc = "cudaupload ! nvh265enc";
  else if (have_elements({"x265enc", "videoconvert"}, &missing))
    enc = "videoconvert ! video/x-raw,format=I420_10LE ! x265enc speed-preset=ultrafast "
          "option-string=colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc";
  else
    GTEST_SKIP() << "no HEVC encoder to make the clip";
  gchar* path = g_build_filename(g_get_tmp_dir(), "dtutmo-cuda-test-hdr10.h265", NULL);
  std::string err;
  const int n = 30;
  ASSERT_TRUE(run_pipeline(src("animated", n, 640, 360) + " ! " + enc +
                               " ! video/x-h265,profile=main-10 ! h265parse "
                               "! filesink location=" + path,
                           {}, &err))
      << err;
  Capture in{"a", false}, out{"b", false}, coded{"s", false};
  ASSERT_TRUE(run_pipeline(std::string("filesrc location=") + path +
                               " ! h265parse ! nvh265dec ! identity name=a ! dtutmo "
                               "! identity name=b ! nvh264enc ! h264parse ! fakesink name=s",
                           {&in, &out, &coded}, &err))
      << err;
  g_remove(path);
  g_free(path);
  EXPECT_EQ(in.buffers, n);
  EXPECT_EQ(out.buffers, n);
  EXPECT_GT(coded.buffers, 0);
  EXPECT_TRUE(in.cuda_memory) << "nvh265dec -> dtutmo in CUDA memory";
  EXPECT_TRUE(out.cuda_memory) << "dtutmo -> nvh264enc in CUDA memory";
}

}  // namespace
