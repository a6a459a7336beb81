// dtutmo-soak: a long run of the element with property and caps churn, resident memory
// sampled (a benchmark, not a test: README states its figure).
//
//   hdrscenesrc scene=animated num-buffers=N ! capsfilter ! dtutmo engine=cpu ! fakesink sync=false
//
// While it runs, from the streaming thread (a probe on dtutmo's sink pad):
//   every 50 frames    one property change, in turn: detail, fov, display-peak,
//                      display-black (sometimes an invalid pair, held back with a warning),
//                      percentile-high, hue-preserve, adaptation, dither
//   every 1,000 frames target: sdr -> pq -> hlg -> sdr (output renegotiation)
//   every 2,000 frames input caps: P010_10LE PQ -> RGBA64_LE PQ -> RGBA64_LE linear ->
//                      P010_10LE PQ one pixel larger on each side (engine reconfigured)
//   every 7,000 frames profile: fast <-> balanced
// The main thread pops the bus (errors end the run), samples RSS (/proc/self/statm) every
// 1,000 frames, and prints the samples every 10,000 frames and a summary: RSS after the
// warm-up (frame 5,000), the lowest and highest sample after it, the last, and the least-
// squares growth per 10,000 frames over the samples after the warm-up.
//
// Usage: dtutmo-soak [--frames N] [--size WxH]     (default 100000 320x180)
// The plugin is taken from this build's gst/ unless GST_PLUGIN_PATH is set.
#include <gst/gst.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::atomic<long long> g_frames{0};
int g_w = 320, g_h = 180;
GstElement* g_tm = nullptr;
GstElement* g_cf = nullptr;

double rss_mb() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// The source's outputs in turn: PQ 4:2:0, PQ RGB, linear RGB; every fourth one a pixel
// larger on each side.
void set_caps(long long n) {
  static const char* const kFormats[] = {"P010_10LE,colorimetry=bt2100-pq", "RGBA64_LE,colorimetry=1:1:14:7",
                                         "RGBA64_LE,colorimetry=1:1:1:7", "P010_10LE,colorimetry=bt2100-pq"};
  const bool bigger = n % 4 == 3;
  char s[256];
  std::snprintf(s, sizeof s, "video/x-raw,format=%s,width=%d,height=%d,framerate=30/1", kFormats[n % 4],
                g_w + (bigger ? 1 : 0), g_h + (bigger ? 1 : 0));
  GstCaps* caps = gst_caps_from_string(s);
  g_object_set(g_cf, "caps", caps, NULL);
  gst_caps_unref(caps);
}

// Runs in the streaming thread before dtutmo sees buffer `n`.
GstPadProbeReturn on_buffer(GstPad*, GstPadProbeInfo*, gpointer) {
  const long long n = g_frames++;
  if (n == 0) return GST_PAD_PROBE_OK;
  if (n % 2000 == 0) set_caps(n / 2000);
  if (n % 1000 == 0) {
    static const char* const kTargets[] = {"sdr", "pq", "hlg"};
    gst_util_set_object_arg(G_OBJECT(g_tm), "target", kTargets[(n / 1000) % 3]);
  }
  if (n % 7000 == 0) gst_util_set_object_arg(G_OBJECT(g_tm), "profile", (n / 7000) % 2 ? "balanced" : "fast");
  if (n % 50 == 0) {
    const long long k = n / 50;
    switch (k % 8) {
      case 0: g_object_set(g_tm, "detail", 0.5 + double(k % 7) * 0.25, NULL); break;
      case 1: g_object_set(g_tm, "fov", 40.0 + double(k % 5) * 10.0, NULL); break;
      case 2: g_object_set(g_tm, "display-peak", k % 3 ? 100.0 : 600.0, NULL); break;
      case 3: g_object_set(g_tm, "display-black", (k / 8) % 2 ? 0.05 : 30.0, NULL); break;  // 30 > 100/10: held
      case 4: g_object_set(g_tm, "percentile-high", 95.0 + double(k % 5), NULL); break;
      case 5: g_object_set(g_tm, "hue-preserve", gboolean(k % 2), NULL); break;
      case 6: gst_util_set_object_arg(G_OBJECT(g_tm), "adaptation", k % 2 ? "broadcast" : "natural"); break;
      default: g_object_set(g_tm, "dither", gboolean(k % 3 != 0), NULL); break;
    }
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

int main(int argc, char** argv) {
  long long frames = 100000;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--frames") && i + 1 < argc) {
      frames = std::atoll(argv[++i]);
    } else if (!std::strcmp(argv[i], "--size") && i + 1 < argc) {
      if (std::sscanf(argv[++i], "%dx%d", &g_w, &g_h) != 2) return 2;
    } else {
      std::fprintf(stderr, "usage: %s [--frames N] [--size WxH]\n", argv[0]);
      return 2;
    }
  }
  g_setenv("GST_PLUGIN_PATH", DTUTMO_PLUGIN_DIR, FALSE);
  gst_init(&argc, &argv);
  char desc[512];
  std::snprintf(desc, sizeof desc,
                "hdrscenesrc scene=animated num-buffers=%lld ! capsfilter name=cf ! dtutmo name=tm engine=cpu ! "
                "fakesink sync=false",
                frames);
  GError* err = nullptr;
  GstElement* pipe = gst_parse_launch(desc, &err);
  if (!pipe) {
    std::fprintf(stderr, "dtutmo-soak: %s\n", err ? err->message : "cannot build the pipeline");
    return 1;
  }
  g_tm = gst_bin_get_by_name(GST_BIN(pipe), "tm");
  g_cf = gst_bin_get_by_name(GST_BIN(pipe), "cf");
  set_caps(0);
  GstPad* sink = gst_element_get_static_pad(g_tm, "sink");
  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, nullptr, nullptr);
  gst_object_unref(sink);

  const auto t0 = std::chrono::steady_clock::now();
  GstBus* bus = gst_element_get_bus(pipe);
  gst_element_set_state(pipe, GST_STATE_PLAYING);
  std::vector<std::pair<long long, double>> samples;
  long long warnings = 0, next_sample = 0;
  bool ok = true;
  std::printf("dtutmo-soak: %lld frames %dx%d, RSS sampled every 1000 frames\n", frames, g_w, g_h);
  for (;;) {
    GstMessage* m = gst_bus_timed_pop(bus, 20 * GST_MSECOND);
    const long long n = g_frames.load();
    while (n >= next_sample) {
      samples.emplace_back(next_sample, rss_mb());
      if (next_sample % 10000 == 0)
        std::printf("  frame %7lld  RSS %6.1f MB\n", next_sample, samples.back().second), std::fflush(stdout);
      next_sample += 1000;
    }
    if (!m) continue;
    const GstMessageType t = GST_MESSAGE_TYPE(m);
    if (t == GST_MESSAGE_WARNING) ++warnings;
    if (t == GST_MESSAGE_ERROR) {
      GError* e = nullptr;
      gst_message_parse_error(m, &e, nullptr);
      std::fprintf(stderr, "dtutmo-soak: error at frame %lld: %s\n", n, e ? e->message : "?");
      g_clear_error(&e);
      ok = false;
    }
    gst_message_unref(m);
    if (t == GST_MESSAGE_EOS || t == GST_MESSAGE_ERROR) break;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double final_rss = rss_mb();
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(g_tm);
  gst_object_unref(g_cf);
  gst_object_unref(pipe);

  // After the warm-up: lowest, highest, least-squares slope.
  double lo = 1e30, hi = 0, warm = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  int k = 0;
  for (const auto& s : samples) {
    if (s.first < 5000) continue;
    if (k == 0) warm = s.second;
    lo = std::min(lo, s.second);
    hi = std::max(hi, s.second);
    const double x = double(s.first) / 10000.0;
    sx += x, sy += s.second, sxx += x * x, sxy += x * s.second, ++k;
  }
  const double slope = k > 1 ? (k * sxy - sx * sy) / (k * sxx - sx * sx) : 0.0;
  std::printf("dtutmo-soak: %lld frames in %.0f s (%.0f fps), %lld warnings on the bus%s\n", g_frames.load(), secs,
              double(g_frames.load()) / secs, warnings, ok ? "" : ", ENDED BY AN ERROR");
  std::printf("dtutmo-soak: RSS after warm-up %.1f MB, range %.1f .. %.1f MB, at the end %.1f MB, "
              "growth %+.2f MB per 10,000 frames\n",
              warm, lo, hi, final_rss, slope);
  return ok ? 0 : 1;
}
