// dtutmo -- tests of the element's CUDA-memory path (gst/gstdtutmo_cuda.cpp).
//
// Without a GPU: the pad templates carry memory:CUDAMemory and system-memory structures
// (the CUDA sink takes every system-memory input format), transform_caps maps the memory
// features (CUDA in -> CUDA first, then system out; system in -> system out; src -> sink
// the reverse), engine=cpu offers no CUDA memory, the element starts on the CPU engine on
// system memory, CUDA caps fail negotiation cleanly once the element knows it has no CUDA
// engine, and the element reads I420 in the layout GStreamer 1.22's CUDA allocator gives
// odd heights.
// With a GPU (gpu_gate.h: skipped without one, failed when one is present but unusable or
// when DTUTMO_REQUIRE_GPU=1; the CUDA driver must load and nvcodec's cudaupload /
// cudadownload be registered): cudaupload ! dtutmo ! cudadownload against the CPU engine,
// pixel by pixel, for NV12 / P010 / I420 outputs at 4K and odd sizes; nvh265dec ! dtutmo !
// cudadownload against the CPU engine on an HDR10 clip; nothing staged through host memory
// on those paths, nor when upstream's context changes; the CUDA allocator registered by the
// element itself; one CUDA context for the pipeline, two
// streams in one process, output pool reuse; NVENC after dtutmo where the GPU has one.
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
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../cuda/gpu_gate.h"
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

const char* const kCudaIn[] = {"P010_10LE", "P012_LE",   "P016_LE",  "I420_10LE",
                               "I420_12LE", "Y444_16LE", "RGBA64_LE"};
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

bool have_elements(std::initializer_list<const char*> names, std::string* missing);

// The GPU cases need the CUDA engine (gpu_gate.h), GStreamer's CUDA library and nvcodec's
// cudaupload / cudadownload.
#ifdef HAVE_GST_CUDA
#define SKIP_WITHOUT_GPU()                                                              \
  do {                                                                                  \
    DTUTMO_NEED_GPU();                                                                  \
    ASSERT_TRUE(gst_cuda_load_library()) << "the CUDA engine runs but libgstcuda cannot " \
                                            "load the driver";                         \
    std::string missing_;                                                               \
    if (!have_elements({"cudaupload", "cudadownload"}, &missing_))                      \
      DTUTMO_SKIP_OR_FAIL(missing_ + " is not registered (gst-plugins-bad nvcodec)");   \
  } while (0)
#else
#define SKIP_WITHOUT_GPU() DTUTMO_SKIP_OR_FAIL("built without GStreamer's CUDA library")
#endif

// Whether the element runs the CUDA engine here on its own (engine=auto).
bool gpu_usable() {
#ifdef HAVE_GST_CUDA
  return dtutmo_test::gpu_runs() && gst_cuda_load_library();
#else
  return false;
#endif
}

// A harness around a dtutmo with `props` set before the harness starts it (gst_harness_new
// starts filters at once, and engine / device-id are read at that start).
GstHarness* dtutmo_harness(std::initializer_list<std::pair<const char*, const char*>> props) {
  GstElement* e = gst_element_factory_make("dtutmo", nullptr);
  for (const auto& kv : props) gst_util_set_object_arg(G_OBJECT(e), kv.first, kv.second);
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  return h;
}

guint64 host_staged(GstElement* e) {
  guint64 n = 0;
  g_object_get(e, "host-staged-buffers", &n, NULL);
  return n;
}

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
  // Every input format of system memory is an input format of CUDA memory too (the CUDA
  // engine reads them all from device memory).
  int sys_formats = 0;
  for (guint i = 0; i < gst_caps_get_size(sc); ++i) {
    if (has_cuda_feature(sc, i)) continue;
    const GValue* f = gst_structure_get_value(gst_caps_get_structure(sc, i), "format");
    ASSERT_NE(f, nullptr);
    const guint n = GST_VALUE_HOLDS_LIST(f) ? gst_value_list_get_size(f) : 1;
    for (guint k = 0; k < n; ++k) {
      const GValue* one = GST_VALUE_HOLDS_LIST(f) ? gst_value_list_get_value(f, k) : f;
      const char* fmt = g_value_get_string(one);
      EXPECT_TRUE(accepts(sc, fmt, true)) << "sink takes " << fmt << " in system memory only";
      ++sys_formats;
    }
  }
  EXPECT_GE(sys_formats, 13);
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
  EXPECT_STREQ(name, gpu_usable() ? "cuda" : "cpu") << dtutmo_test::cuda_engine_gate().why;
  g_free(name);
  GstCaps* oc = gst_pad_get_current_caps(h->sinkpad);
  ASSERT_NE(oc, nullptr);
  EXPECT_EQ(count_cuda(oc), 0) << "system memory in gives system memory out";
  gst_caps_unref(oc);
  EXPECT_EQ(host_staged(h->element), 0u) << "system memory is never CUDA-staged";
  gst_harness_teardown(h);
}

// device-id 64 names no device, so the element knows it has no CUDA engine on a GPU
// machine as on one without (the test runs on both).
TEST(CudaFallback, CudaCapsWithoutCudaEngineFailNegotiationCleanly) {
  GstHarness* h = dtutmo_harness({{"device-id", "64"}});
  // Started (engine=auto, CPU engine): no CUDA memory on the pads any more.
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

// GStreamer 1.22's CUDA allocator (gst_cuda_allocator_alloc, every GstCudaBufferPool and
// so cudaupload, nvh265dec and dtutmo's own output pool) lays out I420 / I420_10LE as one
// pitched block of 2 x round_up_2(height) rows: every plane with the luma pitch, U after
// pitch x height bytes, V after pitch x height / 2 more (the product halved: at odd
// heights V starts half a pitch into U's last row, read from the library's code).
struct Planar420Layout {
  gsize offset[3];
  gint stride[3];
  gsize bytes;
};
Planar420Layout cuda_1_22_layout(gsize pitch, int height) {
  Planar420Layout l;
  l.offset[0] = 0;
  l.offset[1] = pitch * gsize(height);
  l.offset[2] = l.offset[1] + pitch * gsize(height) / 2;
  l.stride[0] = l.stride[1] = l.stride[2] = gint(pitch);
  l.bytes = pitch * gsize(((height + 1) & ~1) * 2);
  return l;
}

// The issue that asked for this (8, section 4) feared that the half row makes V overlap
// U at odd heights. It does not: the pitch is at least GST_ROUND_UP_4 of the luma row,
// which is at least two chroma rows (odd widths round the chroma row up, and the 4-byte
// rounding of the luma row covers that), so V's row r lies in the second half of the
// pitch after U's row (r + ceil(h/2) - 1); and V's last row ends inside the block. Every
// byte of every plane row marked once, for 8- and 16-bit samples, odd and even sizes, at
// the smallest pitch the allocator may return.
TEST(CudaLayout, Planar420OddHeightsDoNotOverlapIn1_22) {
  std::vector<int> widths;
  for (int w = 1; w <= 18; ++w) widths.push_back(w);
  for (int w : {63, 64, 65, 127, 129, 1283}) widths.push_back(w);
  for (int bpp : {1, 2})
    for (int w : widths)
      for (int h = 1; h <= 41; ++h) {
        const gsize pitch = GST_ROUND_UP_4(gsize(w) * bpp);
        const Planar420Layout l = cuda_1_22_layout(pitch, h);
        std::vector<guint8> owner(l.bytes, 0);
        int clashes = 0, outside = 0;
        for (int p = 0; p < 3; ++p) {
          const gsize row = gsize(p ? (w + 1) / 2 : w) * bpp;
          for (int r = 0; r < (p ? (h + 1) / 2 : h); ++r)
            for (gsize i = 0; i < row; ++i) {
              const gsize at = l.offset[p] + pitch * r + i;
              if (at >= l.bytes) ++outside;
              else if (owner[at]++) ++clashes;
            }
        }
        ASSERT_EQ(clashes, 0) << w << "x" << h << ", " << bpp << " bytes per sample";
        ASSERT_EQ(outside, 0) << w << "x" << h << ", " << bpp << " bytes per sample";
      }
}

// An I420 frame (8 or 10 bit) with a video meta in 1.22's CUDA layout, in system memory:
// what dtutmo gets when it maps such a buffer on the host. The element must read it as it
// reads the same frame packed.
GstBuffer* planar420_buffer(GstVideoFormat fmt, int w, int h, bool cuda_layout,
                            const std::vector<guint16>& y, const std::vector<guint16>& u,
                            const std::vector<guint16>& v) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, fmt, w, h);
  const int bpp = fmt == GST_VIDEO_FORMAT_I420 ? 1 : 2;
  Planar420Layout l;
  if (cuda_layout) {
    l = cuda_1_22_layout(GST_ROUND_UP_N(gsize(w) * bpp, 512), h);
  } else {
    for (int p = 0; p < 3; ++p) {
      l.offset[p] = GST_VIDEO_INFO_PLANE_OFFSET(&info, p);
      l.stride[p] = GST_VIDEO_INFO_PLANE_STRIDE(&info, p);
    }
    l.bytes = GST_VIDEO_INFO_SIZE(&info);
  }
  GstBuffer* b = gst_buffer_new_allocate(nullptr, l.bytes, nullptr);
  GstMapInfo m;
  gst_buffer_map(b, &m, GST_MAP_WRITE);
  std::memset(m.data, 0xff, m.size);
  const std::vector<guint16>* planes[3] = {&y, &u, &v};
  for (int p = 0; p < 3; ++p) {
    const int pw = p ? (w + 1) / 2 : w, ph = p ? (h + 1) / 2 : h;
    for (int r = 0; r < ph; ++r)
      for (int x = 0; x < pw; ++x) {
        guint8* at = m.data + l.offset[p] + gsize(l.stride[p]) * r + gsize(x) * bpp;
        const guint16 val = (*planes[p])[gsize(r) * pw + x];
        if (bpp == 1) *at = guint8(val);
        else std::memcpy(at, &val, 2);
      }
  }
  gst_buffer_unmap(b, &m);
  gst_buffer_add_video_meta_full(b, GST_VIDEO_FRAME_FLAG_NONE, fmt, w, h, 3, l.offset, l.stride);
  GST_BUFFER_PTS(b) = 0;
  GST_BUFFER_DURATION(b) = GST_SECOND / 30;
  return b;
}

std::vector<guint8> pull_packed(GstHarness* h) {
  GstBuffer* out = gst_harness_pull(h);
  std::vector<guint8> bytes;
  if (!out) return bytes;
  GstCaps* caps = gst_pad_get_current_caps(h->sinkpad);
  GstVideoInfo vi;
  GstVideoFrame f;
  if (caps && gst_video_info_from_caps(&vi, caps) && gst_video_frame_map(&f, &vi, out, GST_MAP_READ)) {
    for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&f); ++p) {
      const int row = GST_VIDEO_FRAME_COMP_WIDTH(&f, p) * GST_VIDEO_FRAME_COMP_PSTRIDE(&f, p);
      const guint8* d = static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&f, p));
      for (int r = 0; r < GST_VIDEO_FRAME_COMP_HEIGHT(&f, p); ++r)
        bytes.insert(bytes.end(), d + r * GST_VIDEO_FRAME_PLANE_STRIDE(&f, p),
                     d + r * GST_VIDEO_FRAME_PLANE_STRIDE(&f, p) + row);
    }
    gst_video_frame_unmap(&f);
  }
  if (caps) gst_caps_unref(caps);
  gst_buffer_unref(out);
  return bytes;
}

TEST(CudaLayout, ElementReadsPlanar420InThe1_22CudaLayout) {
  const int w = 37, h = 21;  // odd both ways: the half-row V offset
  for (GstVideoFormat fmt : {GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_I420_10LE}) {
    const bool ten = fmt == GST_VIDEO_FORMAT_I420_10LE;
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    std::vector<guint16> y(std::size_t(w) * h), u(std::size_t(cw) * ch), v(std::size_t(cw) * ch);
    // a gradient with a distinct chroma bottom row, which an overlap would overwrite
    for (int r = 0; r < h; ++r)
      for (int x = 0; x < w; ++x) y[std::size_t(r) * w + x] = guint16((ten ? 64 : 16) + (x * 7 + r * 5) % (ten ? 876 : 219));
    for (std::size_t i = 0; i < u.size(); ++i) {
      const bool bottom = i >= std::size_t(cw) * (ch - 1);
      u[i] = guint16(ten ? (bottom ? 900 : 400 + i % 100) : (bottom ? 230 : 100 + i % 25));
      v[i] = guint16(ten ? (bottom ? 100 : 600 - i % 100) : (bottom ? 20 : 150 - i % 25));
    }
    std::vector<guint8> outs[2];
    for (int layout = 0; layout < 2; ++layout) {
      GstHarness* hh = dtutmo_harness({{"engine", "cpu"}});
      GstCaps* in = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, gst_video_format_to_string(fmt),
                                        "width", G_TYPE_INT, w, "height", G_TYPE_INT, h, "framerate",
                                        GST_TYPE_FRACTION, 30, 1, "colorimetry", G_TYPE_STRING,
                                        ten ? "bt2100-pq" : "bt709", NULL);
      gst_harness_set_src_caps(hh, in);
      gst_harness_set_sink_caps_str(hh, "video/x-raw,format=RGBA");
      ASSERT_EQ(gst_harness_push(hh, planar420_buffer(fmt, w, h, layout == 1, y, u, v)), GST_FLOW_OK);
      outs[layout] = pull_packed(hh);
      gst_harness_teardown(hh);
    }
    ASSERT_EQ(outs[0].size(), std::size_t(w) * h * 4);
    EXPECT_TRUE(outs[0] == outs[1]) << gst_video_format_to_string(fmt)
                                    << ": the 1.22 CUDA layout reads differently from the packed one";
  }
}

TEST(CudaCaps, HostStagedBuffersIsAReadOnlyCounter) {
  GstElement* e = gst_element_factory_make("dtutmo", nullptr);
  GParamSpec* ps = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "host-staged-buffers");
  ASSERT_NE(ps, nullptr);
  EXPECT_EQ(G_PARAM_SPEC_VALUE_TYPE(ps), G_TYPE_UINT64);
  EXPECT_TRUE(ps->flags & G_PARAM_READABLE);
  EXPECT_FALSE(ps->flags & G_PARAM_WRITABLE);
  EXPECT_EQ(host_staged(e), 0u);
  // the wrapped getter still answers the element's own properties
  gint dev = 0;
  g_object_get(e, "device-id", &dev, NULL);
  EXPECT_EQ(dev, -1);
  gst_object_unref(e);
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

// The CPU engine's own speed trades (colour once per 2x2 block of a 4:2:0 output, the
// model on 2x2 or 4x4 block means for HD and UHD 4:2:0 in and 8-bit 4:2:0 out; docs/DESIGN.md)
// off, so that it computes what the CUDA engine computes: the references below.
const char kCpuAsCuda[] = " colour-sampling=full model-resolution=full ";

// The engines differ by float rounding (fast math, FP16 intermediates on the GPU) and
// the dither pattern is the same; 8-bit codes agree to about one step.
constexpr double kMeanTol = 1.0;
constexpr int kMaxTol = 24;

// Frames as Capture stores them (each plane's rows, tightly packed) compared code by code:
// at most one code apart on 99.9% of the samples (a rounding difference between the
// engines moves a sample across a code boundary, not further), and no row of any plane
// more than one code apart on average (a wrong pitch, plane offset or chroma row shifts a
// whole row by many codes, even where it is a tiny share of a 4K frame).
void expect_frames_close(const char* format, int w, int h, const std::vector<guint8>& a,
                         const std::vector<guint8>& b, const std::string& what) {
  GstVideoInfo vi;
  ASSERT_TRUE(gst_video_info_set_format(&vi, gst_video_format_from_string(format), w, h));
  ASSERT_EQ(a.size(), b.size()) << what;
  const int depth = GST_VIDEO_INFO_COMP_DEPTH(&vi, 0);
  const int bytes = depth > 8 ? 2 : 1;
  const int shift = depth > 8 ? GST_VIDEO_FORMAT_INFO_SHIFT(vi.finfo, 0) : 0;
  std::size_t at = 0, n = 0, off = 0;
  int bad_rows = 0, worst = 0;
  std::string first;
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(&vi); ++p) {
    const int row = GST_VIDEO_INFO_COMP_WIDTH(&vi, p) * GST_VIDEO_INFO_COMP_PSTRIDE(&vi, p);
    for (int r = 0; r < GST_VIDEO_INFO_COMP_HEIGHT(&vi, p); ++r, at += row) {
      ASSERT_LE(at + row, a.size()) << what;
      double sum = 0.0;
      for (int i = 0; i < row; i += bytes) {
        const int x = bytes == 2 ? (a[at + i] | (a[at + i + 1] << 8)) >> shift : a[at + i];
        const int y = bytes == 2 ? (b[at + i] | (b[at + i + 1] << 8)) >> shift : b[at + i];
        const int d = std::abs(x - y);
        sum += d;
        off += d > 1;
        worst = std::max(worst, d);
        ++n;
      }
      if (sum > double(row / bytes) && bad_rows++ == 0)
        first = "plane " + std::to_string(p) + " row " + std::to_string(r) + " mean " +
                std::to_string(sum / (row / bytes));
    }
  }
  EXPECT_EQ(at, a.size()) << what;
  EXPECT_LE(double(off), 0.001 * double(n))
      << what << ": " << off << " of " << n << " samples more than one code apart (worst " << worst << ")";
  EXPECT_EQ(bad_rows, 0) << what << ": rows more than one code apart on average, the first: " << first;
}

std::string engine_name(GstElement* pipeline, const char* element) {
  GstElement* d = gst_bin_get_by_name(GST_BIN(pipeline), element);
  if (!d) return "?";
  gchar* name = nullptr;
  g_object_get(d, "engine-name", &name, NULL);
  std::string r = name ? name : "";
  g_free(name);
  gst_object_unref(d);
  return r;
}

guint64 staged_in(GstElement* pipeline, const char* element) {
  GstElement* d = gst_bin_get_by_name(GST_BIN(pipeline), element);
  if (!d) return G_MAXUINT64;
  const guint64 n = host_staged(d);
  gst_object_unref(d);
  return n;
}

// cudaupload ! dtutmo ! cudadownload against engine=cpu, pixel by pixel, output in CUDA
// memory of the formats NVENC and the CUDA converters take (NV12, P010, I420), input as
// cudaupload lays out P010 and I420_10LE, at 4K and at odd sizes. Nothing may go through
// host staging on this path.
TEST(CudaGpu, UploadDtutmoDownloadMatchesCpuEngine) {
  SKIP_WITHOUT_GPU();
  struct Case {
    int w, h;
    const char* in;   // what cudaupload gets
    const char* out;  // what dtutmo writes in CUDA memory
    const char* props;
  };
  const Case cases[] = {
      {320, 180, "P010_10LE", "RGBA", "profile=fast"},
      {3840, 2160, "P010_10LE", "NV12", "profile=fast"},
      {3840, 2160, "P010_10LE", "P010_10LE", "profile=balanced target=pq"},
      {3840, 2160, "I420_10LE", "NV12", "profile=balanced"},
      {1283, 721, "P010_10LE", "NV12", "profile=balanced"},
      {1283, 721, "I420_10LE", "I420", "profile=fast"},
      {1283, 721, "P010_10LE", "P010_10LE", "profile=fast target=pq"},
      {127, 73, "I420_10LE", "P010_10LE", "profile=balanced target=pq"},
      {127, 73, "P010_10LE", "I420", "profile=balanced"},
      {127, 73, "I420_10LE", "NV12", "profile=fast"},
  };
  for (const Case& c : cases) {
    const std::string what = std::string(c.in) + " -> " + c.out + " " + std::to_string(c.w) + "x" +
                             std::to_string(c.h) + " " + c.props;
    SCOPED_TRACE(what);
    // 4K: one frame (hdrscenesrc renders a 4K frame in about two CPU-seconds)
    const int frames = c.w >= 3840 ? 1 : 2;
    const std::string in = src("colored-lights", frames, c.w, c.h) +
                           (std::strcmp(c.in, "P010_10LE") ? std::string(" ! videoconvert ! video/x-raw,format=") + c.in
                                                           : std::string());
    const std::string out_caps = std::string("video/x-raw,format=") + c.out;
    std::string err;
    Capture cpu{"s"};
    ASSERT_TRUE(run_pipeline(in + " ! dtutmo engine=cpu" + kCpuAsCuda + c.props + " ! " + out_caps + " ! fakesink name=s",
                             {&cpu}, &err))
        << err;
    Capture gpu{"s"}, mid{"c", false};
    GstElement* p = nullptr;
    ASSERT_TRUE(run_pipeline(in + " ! cudaupload ! video/x-raw(memory:CUDAMemory) ! dtutmo name=d engine=cuda " +
                                 c.props + " ! video/x-raw(memory:CUDAMemory),format=" + c.out +
                                 " ! identity name=c ! cudadownload ! " + out_caps + " ! fakesink name=s",
                             {&gpu, &mid}, &err, &p))
        << err;
    EXPECT_EQ(engine_name(p, "d"), "cuda");
    EXPECT_EQ(staged_in(p, "d"), 0u) << "frames went through host memory on the zero-copy path";
    stop_pipeline(p);
    EXPECT_TRUE(mid.cuda_memory) << "dtutmo's output is CUDA memory";
    ASSERT_EQ(cpu.frames.size(), size_t(frames));
    ASSERT_EQ(gpu.frames.size(), size_t(frames));
    for (int f = 0; f < frames; ++f)
      expect_frames_close(c.out, c.w, c.h, cpu.frames[f], gpu.frames[f], what + " frame " + std::to_string(f));
  }
}

TEST(CudaGpu, SystemMemoryRunsTheCudaEngineHostPath) {
  SKIP_WITHOUT_GPU();
  std::string err;
  Capture cpu{"s"}, gpu{"s"};
  const std::string tail = " ! video/x-raw,format=NV12 ! fakesink name=s";
  ASSERT_TRUE(run_pipeline(src("interior", 3) + " ! dtutmo engine=cpu" + kCpuAsCuda + tail, {&cpu}, &err)) << err;
  GstElement* p = nullptr;
  ASSERT_TRUE(run_pipeline(src("interior", 3) + " ! dtutmo name=d engine=auto" + tail, {&gpu},
                           &err, &p))
      << err;
  EXPECT_EQ(engine_name(p, "d"), "cuda");
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
  GstElement* p = nullptr;
  ASSERT_TRUE(run_pipeline(src("night", 5) +
                               " ! cudaupload ! video/x-raw(memory:CUDAMemory) ! identity name=a "
                               "! dtutmo name=d1 ! video/x-raw(memory:CUDAMemory) ! identity name=b "
                               "! dtutmo name=d2 target=pq ! video/x-raw(memory:CUDAMemory) "
                               "! cudadownload ! fakesink",
                           {&in, &out}, &err, &p))
      << err;
  EXPECT_EQ(staged_in(p, "d1"), 0u);
  EXPECT_EQ(staged_in(p, "d2"), 0u);
  stop_pipeline(p);
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

#ifdef HAVE_GST_CUDA
// Buffers of CUDA memory made in a context of our own, acquired from a pool of it.
struct ForeignCudaFrames {
  GstCudaContext* ctx = nullptr;
  GstBufferPool* pool = nullptr;
  ForeignCudaFrames(GstCaps* caps) {
    ctx = gst_cuda_context_new(0);
    if (!ctx) return;
    pool = gst_cuda_buffer_pool_new(ctx);
    GstVideoInfo vi;
    gst_video_info_from_caps(&vi, caps);
    GstStructure* cfg = gst_buffer_pool_get_config(pool);
    gst_buffer_pool_config_set_params(cfg, caps, GST_VIDEO_INFO_SIZE(&vi), 0, 0);
    gst_buffer_pool_config_add_option(cfg, GST_BUFFER_POOL_OPTION_VIDEO_META);
    if (!gst_buffer_pool_set_config(pool, cfg) || !gst_buffer_pool_set_active(pool, TRUE))
      gst_clear_object(&pool);
  }
  ~ForeignCudaFrames() {
    if (pool) {
      gst_buffer_pool_set_active(pool, FALSE);
      gst_object_unref(pool);
    }
    gst_clear_object(&ctx);
  }
  GstBuffer* frame(int i) {
    GstBuffer* b = nullptr;
    if (gst_buffer_pool_acquire_buffer(pool, &b, nullptr) != GST_FLOW_OK) return nullptr;
    GstMapInfo m;  // mid grey, written through the memory's host staging (uploaded at the CUDA map)
    if (gst_buffer_map(b, &m, GST_MAP_WRITE)) {
      auto* px = reinterpret_cast<guint16*>(m.data);
      for (gsize k = 0; k < m.size / 2; ++k) px[k] = guint16(512 << 6);
      gst_buffer_unmap(b, &m);
    }
    GST_BUFFER_PTS(b) = GstClockTime(i) * GST_SECOND / 30;
    GST_BUFFER_DURATION(b) = GST_SECOND / 30;
    return b;
  }
};
#endif

// Upstream's CUDA memory belongs to another context than the one dtutmo started in: the
// engine follows it (device-id -1) and the output pool is decided again before the first
// output buffer (GstBaseTransform reconfigures after before_transform), so every output
// is memory of upstream's context and nothing goes through host staging.
TEST(CudaGpu, FollowingUpstreamsContextStagesNothing) {
  SKIP_WITHOUT_GPU();
#ifdef HAVE_GST_CUDA
  GstCaps* in_caps = video_caps("P010_10LE", true, 128, 72);
  ForeignCudaFrames foreign(in_caps);
  ASSERT_NE(foreign.pool, nullptr) << "a CUDA buffer pool of a second context";
  GstHarness* h = dtutmo_harness({{"engine", "cuda"}});  // starts in a context of its own
  gst_harness_set_src_caps(h, in_caps);
  gst_harness_set_sink_caps_str(h, "video/x-raw(memory:CUDAMemory),format=NV12");
  for (int i = 0; i < 6; ++i) {
    GstBuffer* b = foreign.frame(i);
    ASSERT_NE(b, nullptr);
    ASSERT_EQ(gst_harness_push(h, b), GST_FLOW_OK) << "frame " << i;
    GstBuffer* out = gst_harness_pull(h);
    ASSERT_NE(out, nullptr);
    GstMemory* m = gst_buffer_peek_memory(out, 0);
    ASSERT_TRUE(gst_is_cuda_memory(m));
    EXPECT_TRUE(GST_CUDA_MEMORY_CAST(m)->context == foreign.ctx)
        << "frame " << i << ": output memory is not of upstream's context";
    gst_buffer_unref(out);
  }
  EXPECT_EQ(host_staged(h->element), 0u) << "buffers went through host memory";
  gst_harness_teardown(h);
#endif
}

// The element registers GStreamer's CUDA allocator itself (gst_cuda_memory_init_once):
// checked in a fresh process (a death-test child) that has loaded no nvcodec element.
TEST(CudaGpu, ElementRegistersTheCudaAllocator) {
  SKIP_WITHOUT_GPU();
#ifdef HAVE_GST_CUDA
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_EXIT(
      {
        GstPlugin* nv = gst_registry_find_plugin(gst_registry_get(), "nvcodec");
        const bool nv_loaded = nv && gst_plugin_is_loaded(nv);
        if (nv) gst_object_unref(nv);
        GstAllocator* before = gst_allocator_find(GST_CUDA_MEMORY_TYPE_NAME);
        if (nv_loaded || before) std::exit(2);  // not a fresh process: nothing to learn
        GstElement* e = gst_element_factory_make("dtutmo", nullptr);
        gst_util_set_object_arg(G_OBJECT(e), "engine", "cuda");
        if (gst_element_set_state(e, GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE) std::exit(3);
        GstAllocator* after = gst_allocator_find(GST_CUDA_MEMORY_TYPE_NAME);
        gst_element_set_state(e, GST_STATE_NULL);
        gst_object_unref(e);
        std::exit(after ? 0 : 4);
      },
      ::testing::ExitedWithCode(0), "")
      << "exit 2: the child had the allocator already; 3: the element did not start; 4: not "
         "registered";
#endif
}

// An HDR10 HEVC clip: $DTUTMO_HDR10_CLIP (scripts/gpu-check.sh brings one made with
// x265), else one made here with x265enc; "" and a reason when neither is possible.
std::string hdr10_clip(std::string* why, bool* made) {
  *made = false;
  const char* env = std::getenv("DTUTMO_HDR10_CLIP");
  if (env && *env) {
    if (g_file_test(env, G_FILE_TEST_EXISTS)) return env;
    *why = std::string("DTUTMO_HDR10_CLIP=") + env + " does not exist";
    return "";
  }
  std::string missing;
  if (!have_elements({"x265enc", "videoconvert", "h265parse", "mp4mux"}, &missing)) {
    *why = missing + " is not registered (to make the HDR10 clip; or set DTUTMO_HDR10_CLIP)";
    return "";
  }
  gchar* path = g_build_filename(g_get_tmp_dir(), "dtutmo-cuda-test-hdr10.mp4", NULL);
  const std::string out = path;
  g_free(path);
  std::string err;
  if (!run_pipeline(src("animated", 30, 640, 360) +
                        " ! videoconvert ! video/x-raw,format=I420_10LE ! x265enc speed-preset=ultrafast "
                        "option-string=colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc "
                        "! video/x-h265,profile=main-10 ! h265parse ! mp4mux ! filesink location=" + out,
                    {}, &err)) {
    *why = "could not make the clip: " + err;
    return "";
  }
  *made = true;
  return out;
}

const char kDecode[] = " ! qtdemux ! h265parse ! nvh265dec ";

// NVDEC's frames (CUDA memory, its own layout) through dtutmo on the GPU against the same
// decoded frames through the CPU engine, pixel by pixel; nothing staged on the host.
TEST(CudaGpu, NvdecDtutmoMatchesCpuOnHdr10) {
  SKIP_WITHOUT_GPU();
  std::string missing;
  if (!have_elements({"nvh265dec", "h265parse", "qtdemux"}, &missing))
    DTUTMO_SKIP_OR_FAIL(missing + " is not registered (NVDEC: libnvcuvid)");
  std::string why;
  bool made = false;
  const std::string clip = hdr10_clip(&why, &made);
  if (clip.empty()) DTUTMO_SKIP_OR_FAIL(why);
  std::string err;
  Capture cpu{"s"}, gpu{"s"}, in{"a", false}, out{"b", false};
  const std::string head = "filesrc location=" + clip + kDecode;
  ASSERT_TRUE(run_pipeline(head + "! cudadownload ! video/x-raw,format=P010_10LE ! dtutmo engine=cpu" + kCpuAsCuda +
                                  "profile=balanced ! video/x-raw,format=NV12 ! fakesink name=s",
                           {&cpu}, &err))
      << err;
  GstElement* p = nullptr;
  ASSERT_TRUE(run_pipeline(head + "! video/x-raw(memory:CUDAMemory) ! identity name=a ! dtutmo name=d "
                                  "engine=cuda profile=balanced ! video/x-raw(memory:CUDAMemory),format=NV12 "
                                  "! identity name=b ! cudadownload ! video/x-raw,format=NV12 ! fakesink name=s",
                           {&gpu, &in, &out}, &err, &p))
      << err;
  EXPECT_EQ(staged_in(p, "d"), 0u);
  GstElement* s = gst_bin_get_by_name(GST_BIN(p), "s");
  GstPad* pad = gst_element_get_static_pad(s, "sink");
  GstCaps* caps = gst_pad_get_current_caps(pad);
  GstVideoInfo vi;
  ASSERT_TRUE(caps && gst_video_info_from_caps(&vi, caps));
  gst_caps_unref(caps);
  gst_object_unref(pad);
  gst_object_unref(s);
  stop_pipeline(p);
  if (made) g_remove(clip.c_str());
  EXPECT_TRUE(in.cuda_memory) << "nvh265dec -> dtutmo in CUDA memory";
  EXPECT_TRUE(out.cuda_memory) << "dtutmo -> cudadownload in CUDA memory";
  ASSERT_GT(cpu.frames.size(), 0u);
  ASSERT_EQ(gpu.frames.size(), cpu.frames.size());
  for (size_t f : {size_t(0), cpu.frames.size() / 2, cpu.frames.size() - 1})
    expect_frames_close("NV12", GST_VIDEO_INFO_WIDTH(&vi), GST_VIDEO_INFO_HEIGHT(&vi), cpu.frames[f],
                        gpu.frames[f], "frame " + std::to_string(f));
}

// NVDEC -> dtutmo -> NVENC in CUDA memory, where the GPU has an encoder (H100 and H200
// have none: scripts/gpu-check.sh leaves this test out there and says so).
TEST(CudaGpu, NvdecDtutmoNvencOnHdr10) {
  SKIP_WITHOUT_GPU();
  std::string missing;
  if (!have_elements({"nvh265dec", "nvh264enc", "h265parse", "h264parse", "qtdemux"}, &missing))
    DTUTMO_SKIP_OR_FAIL(missing + " is not registered");
  std::string why;
  bool made = false;
  const std::string clip = hdr10_clip(&why, &made);
  if (clip.empty()) DTUTMO_SKIP_OR_FAIL(why);
  std::string err;
  Capture in{"a", false}, out{"b", false}, coded{"s", false};
  ASSERT_TRUE(run_pipeline("filesrc location=" + clip + kDecode +
                               "! identity name=a ! dtutmo ! identity name=b ! nvh264enc ! h264parse "
                               "! fakesink name=s",
                           {&in, &out, &coded}, &err))
      << err;
  if (made) g_remove(clip.c_str());
  EXPECT_GT(in.buffers, 0);
  EXPECT_EQ(out.buffers, in.buffers);
  EXPECT_GT(coded.buffers, 0);
  EXPECT_TRUE(in.cuda_memory) << "nvh265dec -> dtutmo in CUDA memory";
  EXPECT_TRUE(out.cuda_memory) << "dtutmo -> nvh264enc in CUDA memory";
}

}  // namespace
