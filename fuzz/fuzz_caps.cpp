// Fuzz target: the element's caps handling -- the colorimetry, mastering-display-info,
// content-light-level and chroma-site strings, format, size, frame rate and downstream
// restrictions -- then one frame through whatever was negotiated. Every input must end in
// output or a clean refusal (an error message, NOT_NEGOTIATED): no crash, no sanitizer
// report.
//
// Input: text lines (missing lines are empty)
//   0 target (sdr|pq|hlg)   1 format   2 width   3 height   4 colorimetry
//   5 mastering-display-info   6 content-light-level   7 chroma-site   8 framerate
//   9 downstream caps (a caps string, or empty)   10 sample bytes of the frame
// Line 4 etc. go into the caps as strings, whatever they hold; a line starting with '=' is
// parsed as a caps-string value instead (so the fields can have other types too).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gst_fuzz.h"

using namespace dtutmo_fuzz;

namespace {

std::vector<std::string> lines(const uint8_t* data, size_t size, size_t n) {
  std::vector<std::string> v(n);
  size_t k = 0, start = 0;
  for (size_t i = 0; i <= size && k < n; ++i)
    if (i == size || (data[i] == '\n' && k + 1 < n)) {
      v[k++].assign(reinterpret_cast<const char*>(data) + start, i - start);
      start = i + 1;
    }
  return v;
}

// `value` as field `name` of `s`: a string, or (after '=') a value parsed by GStreamer.
void set_field(GstStructure* s, const char* name, const std::string& value) {
  if (value.empty()) return;
  if (value[0] == '=') {
    if (!g_utf8_validate(value.c_str(), gssize(value.size()), nullptr)) return;
    GstStructure* t = gst_structure_from_string(("x, v=" + value.substr(1)).c_str(), nullptr);
    if (!t) return;
    if (const GValue* v = gst_structure_get_value(t, "v")) gst_structure_set_value(s, name, v);
    gst_structure_free(t);
    return;
  }
  if (g_utf8_validate(value.c_str(), gssize(value.size()), nullptr))
    gst_structure_set(s, name, G_TYPE_STRING, value.c_str(), NULL);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  init_gst();
  // GStreamer's own string parsers emit criticals for some hostile strings: while the
  // input is parsed they are neither fatal nor printed. Once the element is involved they
  // count (G_DEBUG=fatal-criticals makes them fatal).
  const GLogLevelFlags fatal = g_log_set_always_fatal(GLogLevelFlags(G_LOG_FATAL_MASK));
  const GLogFunc printer = g_log_set_default_handler([](const gchar*, GLogLevelFlags, const gchar*, gpointer) {}, nullptr);
  const std::vector<std::string> f = lines(data, size, 11);
  const char* target = f[0] == "pq" || f[0] == "hlg" ? f[0].c_str() : "sdr";
  GstStructure* s = gst_structure_new_empty("video/x-raw");
  set_field(s, "format", f[1]);
  // Sizes as numbers when they are, so that most inputs get past the templates.
  for (int i : {2, 3}) {
    const char* name = i == 2 ? "width" : "height";
    char* end = nullptr;
    const long long v = std::strtoll(f[i].c_str(), &end, 10);
    if (!f[i].empty() && end && *end == '\0')
      gst_structure_set(s, name, G_TYPE_INT, gint(std::max<long long>(G_MININT, std::min<long long>(G_MAXINT, v))), NULL);
    else
      set_field(s, name, f[i]);
  }
  set_field(s, "colorimetry", f[4]);
  set_field(s, "mastering-display-info", f[5]);
  set_field(s, "content-light-level", f[6]);
  set_field(s, "chroma-site", f[7]);
  if (!f[8].empty())
    set_field(s, "framerate", f[8][0] == '=' ? f[8] : "=" + f[8]);
  GstCaps* caps = gst_caps_new_full(s, NULL);
  GstCaps* down = nullptr;
  if (!f[9].empty() && g_utf8_validate(f[9].c_str(), -1, nullptr)) down = gst_caps_from_string(f[9].c_str());
  g_log_set_default_handler(printer, nullptr);
  g_log_set_always_fatal(fatal);
  // Fixed caps (GStreamer's rule for a caps event); and not more than 2 Mpixel: the
  // engine allocates about 30 bytes a pixel for a stream, as it should, and a fuzzer
  // configuring 16K streams would measure that, not find bugs.
  gint cw = 0, ch = 0;
  const bool huge = gst_structure_get_int(s, "width", &cw) && gst_structure_get_int(s, "height", &ch) &&
                    gint64(cw) * gint64(ch) > (gint64(1) << 21);
  if (!gst_caps_is_fixed(caps) || huge || (down && gst_caps_is_any(down))) {
    gst_caps_unref(caps);
    if (down) gst_caps_unref(down);
    return 0;
  }

  Harness hh(target);
  if (down) gst_harness_set_sink_caps(hh.h, down);
  const bool accepted = hh.start(caps);
  GstVideoInfo info;
  // A frame when the caps describe one of a sensible size (the element copes with any, but
  // a 16384x16384 frame per input would make the fuzzer crawl).
  if (accepted && gst_caps_is_fixed(caps) && gst_video_info_from_caps(&info, caps) && info.size > 0 &&
      info.size <= (gsize(4) << 20)) {
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, info.size, nullptr);
    fill(buf, reinterpret_cast<const uint8_t*>(f[10].data()), f[10].size());
    GST_BUFFER_PTS(buf) = 0;
    gst_harness_push(hh.h, buf);
    hh.drain();
  }
  gst_caps_unref(caps);
  return 0;
}
