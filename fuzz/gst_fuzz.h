// dtutmo fuzzing -- what the two element targets share: GStreamer set up for an
// instrumented plugin (and LLVMFuzzerInitialize doing it), one GstHarness around `dtutmo`
// per input, the bus emptied. Included by exactly one file of each target.
#pragma once

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdlib>

namespace dtutmo_fuzz {

// The plugin of this build (DTUTMO_PLUGIN_DIR) unless GST_PLUGIN_PATH says otherwise; a
// registry of our own, scanned in-process: a forked plugin scanner would load the
// sanitizer-built plugin into a process without the sanitizer runtime.
inline void init_gst() {
  static bool done = false;
  if (done) return;
  done = true;
  g_setenv("GST_PLUGIN_PATH", DTUTMO_PLUGIN_DIR, FALSE);
  g_setenv("GST_REGISTRY_FORK", "no", TRUE);
  g_setenv("GST_REGISTRY", DTUTMO_FUZZ_REGISTRY, FALSE);
  g_setenv("GST_DEBUG", "*:0", FALSE);
  gst_init(nullptr, nullptr);
  GstElementFactory* f = gst_element_factory_find("dtutmo");
  if (!f) {
    g_printerr("dtutmo element not found (GST_PLUGIN_PATH=%s)\n", g_getenv("GST_PLUGIN_PATH"));
    std::abort();
  }
  gst_object_unref(f);
}

// A harness around one dtutmo on the CPU engine, with a bus of its own.
struct Harness {
  GstHarness* h;
  GstBus* bus;
  explicit Harness(const char* target) {
    h = gst_harness_new("dtutmo");
    bus = gst_bus_new();
    gst_element_set_bus(h->element, bus);
    gst_util_set_object_arg(G_OBJECT(h->element), "engine", "cpu");
    gst_util_set_object_arg(G_OBJECT(h->element), "target", target);
  }
  ~Harness() {
    drain();
    gst_harness_teardown(h);
    gst_bus_set_flushing(bus, TRUE);
    gst_object_unref(bus);
  }
  // Stream start, `caps` (not taken) and a TIME segment; whether the caps were accepted.
  bool start(GstCaps* caps) {
    gst_harness_push_event(h, gst_event_new_stream_start("fuzz"));
    const bool ok = gst_harness_push_event(h, gst_event_new_caps(caps));
    GstSegment seg;
    gst_segment_init(&seg, GST_FORMAT_TIME);
    gst_harness_push_event(h, gst_event_new_segment(&seg));
    return ok;
  }
  // Pull what came out (reading every byte) and empty the bus.
  void drain() {
    while (GstBuffer* b = gst_harness_try_pull(h)) {
      GstMapInfo m;
      if (gst_buffer_map(b, &m, GST_MAP_READ)) {
        volatile unsigned sum = 0;
        for (gsize i = 0; i < m.size; ++i) sum = sum + m.data[i];
        gst_buffer_unmap(b, &m);
      }
      gst_buffer_unref(b);
    }
    while (GstMessage* m = gst_bus_pop(bus)) gst_message_unref(m);
  }
};

// Fill `buf` with `data` repeated (zeros when empty).
inline void fill(GstBuffer* buf, const uint8_t* data, size_t size) {
  GstMapInfo m;
  if (!gst_buffer_map(buf, &m, GST_MAP_WRITE)) return;
  for (gsize i = 0; i < m.size; ++i) m.data[i] = size ? data[i % size] : 0;
  gst_buffer_unmap(buf, &m);
}

}  // namespace dtutmo_fuzz

// Both element targets set GStreamer up before their first input.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  dtutmo_fuzz::init_gst();
  return 0;
}
