// dtutmo-convert -- an HDR (or SDR) file in, a finished tone-mapped file out, on GStreamer's
// own libraries:
//
//   GstDiscoverer (the input's facts: streams, duration, colour)
//   uridecodebin3 --video--> videoconvert ! dtutmo ! queue ! videoconvert ! encoder ! parser --+
//                 --audio--> (copied as it is when the container takes it, else encoded) -----+--> muxer ! filesink
//   urisourcebin ! parsebin --subtitles--> queue (copied when the container takes them) -+
//
// The container follows OUT's extension. Colour tags come from the caps the element
// negotiates: the encoders write them into the bitstream (VUI; HDR10 SEI from the caps'
// mastering-display-info and content-light-level). Ctrl-C (SIGINT) or SIGTERM sends EOS,
// so the muxer finishes a playable file; a second one stops at once.
// --plot draws the element's post-messages data (plot.cpp).
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <glib-unix.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "dtutmo/params.h"
#include "plot.h"

namespace {

const char* const kProg = "dtutmo-convert";

// Exit statuses (also in --help and README).
enum Exit { kOk = 0, kFailed = 1, kUsage = 2, kInterrupted = 130 };

struct Container {
  const char* ext;
  const char* muxer;
  const char* name;
  const char* audio_codec;  // codec for audio the container cannot take as it is
};
const Container kContainers[] = {
    {"mp4", "mp4mux", "MP4", "aac"},      {"m4v", "mp4mux", "MP4", "aac"},
    {"mov", "qtmux", "QuickTime", "aac"}, {"mkv", "matroskamux", "Matroska", "opus"},
    {"ts", "mpegtsmux", "MPEG-TS", "aac"}, {"m2ts", "mpegtsmux", "MPEG-TS", "aac"},
};

struct VideoCodec {
  const char* name;
  const char* encoder;
  const char* parser;
  const char* description;
  const char* package;  // Debian package of the encoder
  bool hdr;             // can carry PQ/HLG (10-bit)
  int default_crf;
};
const VideoCodec kVideoCodecs[] = {
    {"h264", "x264enc", "h264parse", "H.264", "gstreamer1.0-plugins-ugly", false, 20},
    {"h265", "x265enc", "h265parse", "H.265/HEVC", "gstreamer1.0-plugins-bad", true, 22},
};

struct AudioEncoder {
  const char* codec;
  const char* element;
  const char* package;
  const char* bitrate_property;
  int bitrate;  // bit/s
};
// First installed one per codec wins.
const AudioEncoder kAudioEncoders[] = {
    {"aac", "avenc_aac", "gstreamer1.0-libav", "bitrate", 192000},
    {"aac", "voaacenc", "gstreamer1.0-plugins-bad", "bitrate", 192000},
    {"opus", "opusenc", "gstreamer1.0-plugins-base", "bitrate", 160000},
};

struct Options {
  std::string in, out, plot;
  std::string profile;  // empty: the element's default
  std::string target = "sdr";
  std::vector<std::pair<std::string, std::string>> sets;
  std::string codec, encoder, preset = "medium";
  int crf = -1;      // -1: the codec's default
  int bitrate = 0;   // kbit/s; 0: constant quality (crf)
  bool quiet = false, overwrite = false, no_audio = false, no_subtitles = false;
  bool realtime = false;
  int stall_s = 300;  // --stall-timeout: seconds without output before giving up; 0 never
};

void usage(FILE* f) {
  std::fprintf(
      f,
      "usage: dtutmo-convert [options] IN OUT\n"
      "Tone-maps the video of IN (HDR10, HLG or SDR; any file GStreamer reads) with the\n"
      "dtutmo eye model and writes OUT, keeping the audio and subtitle streams.\n"
      "\n"
      "OUT's extension picks the container: .mp4 .m4v .mov .mkv .ts .m2ts\n"
      "\n"
      "options:\n"
      "      --target T         sdr (BT.709, default), pq (HDR10) or hlg (BT.2100 HLG)\n"
      "      --profile P        fast | balanced | quality (default: the element's, fast)\n"
      "      --set NAME=VALUE   any dtutmo property, e.g. display-peak=1000 (repeatable;\n"
      "                         gst-inspect-1.0 dtutmo lists them)\n"
      "      --codec C          h264 (default for sdr) or h265 (default for pq/hlg)\n"
      "      --encoder ELEMENT  another GStreamer encoder for that codec (e.g. nvh264enc)\n"
      "      --crf N            constant quality, lower is better (default 20 h264, 22 h265)\n"
      "      --bitrate KBPS     average bit rate instead of constant quality\n"
      "      --preset P         encoder speed preset, ultrafast .. veryslow (default medium)\n"
      "      --plot FILE.png    draw the eye's adaptation over the clip (luminance, pupil,\n"
      "                         rod weight, cuts)\n"
      "      --no-audio         drop the audio streams\n"
      "      --no-subtitles     drop the subtitle streams\n"
      "      --realtime         process at the clip's own speed (like ffmpeg -re)\n"
      "      --stall-timeout S  give up when nothing is converted or written for S seconds\n"
      "                         (a stalled pipeline; default 300, 0 = wait forever)\n"
      "  -y, --overwrite        replace OUT if it exists\n"
      "  -q, --quiet            no progress line and no summary (errors only)\n"
      "  -h, --help\n"
      "\n"
      "Audio is copied when the container takes its codec, else encoded (AAC for\n"
      "MP4/MOV/TS, Opus for MKV). Subtitles are copied when the container takes them.\n"
      "A progress line (percent, fps, ETA) is shown when stderr is a terminal.\n"
      "Ctrl-C finishes a playable OUT up to that point; a second Ctrl-C stops at once.\n"
      "Exit status: 0 done, 1 conversion failed, 2 bad usage, 130 stopped by Ctrl-C\n"
      "(OUT finished up to that point).\n");
}

[[noreturn]] void die_usage(const std::string& msg) {
  std::fprintf(stderr, "%s: %s\n(%s --help for the options)\n", kProg, msg.c_str(), kProg);
  std::exit(kUsage);
}

bool parse_int(const char* s, int lo, int hi, int* out) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (errno || !end || *end || end == s || v < lo || v > hi) return false;
  *out = int(v);
  return true;
}

Options parse_args(int argc, char** argv) {
  Options o;
  std::vector<std::string> pos;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die_usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      usage(stdout);
      std::exit(kOk);
    } else if (a == "--target") {
      o.target = value();
    } else if (a == "--profile") {
      o.profile = value();
    } else if (a == "--set") {
      const std::string kv = value();
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) die_usage("--set needs NAME=VALUE, got '" + kv + "'");
      o.sets.push_back({kv.substr(0, eq), kv.substr(eq + 1)});
    } else if (a == "--codec") {
      o.codec = value();
    } else if (a == "--encoder") {
      o.encoder = value();
    } else if (a == "--crf") {
      if (!parse_int(value(), 0, 51, &o.crf)) die_usage("--crf needs an integer in [0, 51]");
    } else if (a == "--bitrate") {
      if (!parse_int(value(), 1, 2000000, &o.bitrate))
        die_usage("--bitrate needs kbit/s in [1, 2000000]");
    } else if (a == "--preset") {
      o.preset = value();
    } else if (a == "--plot") {
      o.plot = value();
    } else if (a == "--no-audio") {
      o.no_audio = true;
    } else if (a == "--no-subtitles") {
      o.no_subtitles = true;
    } else if (a == "--realtime") {
      o.realtime = true;
    } else if (a == "--stall-timeout") {
      if (!parse_int(value(), 0, 86400, &o.stall_s)) die_usage("--stall-timeout needs seconds in [0, 86400]");
    } else if (a == "-y" || a == "--overwrite") {
      o.overwrite = true;
    } else if (a == "-q" || a == "--quiet") {
      o.quiet = true;
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      die_usage("unknown option " + a);
    } else {
      pos.push_back(a);
    }
  }
  if (pos.size() != 2) die_usage("needs IN and OUT");
  o.in = pos[0];
  o.out = pos[1];
  if (o.target != "sdr" && o.target != "pq" && o.target != "hlg")
    die_usage("--target must be sdr, pq or hlg, not '" + o.target + "'");
  if (o.crf >= 0 && o.bitrate > 0) die_usage("give --crf or --bitrate, not both");
  return o;
}

std::string lower_ext(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot + 1);
  for (char& c : e) c = char(g_ascii_tolower(c));
  return e;
}

std::string hms(double s) {
  if (!(s >= 0)) s = 0;
  const long t = long(s);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

// Caps without the media type's non-essential fields, for messages.
std::string codec_name(const GstCaps* caps) {
  if (!caps || gst_caps_is_empty(caps)) return "?";
  gchar* d = gst_pb_utils_get_codec_description(caps);
  std::string s = d ? d : gst_structure_get_name(gst_caps_get_structure(caps, 0));
  g_free(d);
  return s;
}

// The caps of the muxer's request pads other than video (audio, subtitles, ...): what the
// container can take without re-encoding.
GstCaps* muxer_non_video_caps(GstElementFactory* mux) {
  GstCaps* out = gst_caps_new_empty();
  for (const GList* l = gst_element_factory_get_static_pad_templates(mux); l; l = l->next) {
    auto* t = static_cast<GstStaticPadTemplate*>(l->data);
    if (t->direction != GST_PAD_SINK) continue;
    GstCaps* c = gst_static_caps_get(&t->static_caps);
    for (guint i = 0; i < gst_caps_get_size(c); ++i) {
      const char* n = gst_structure_get_name(gst_caps_get_structure(c, i));
      if (g_str_has_prefix(n, "video/") || g_str_has_prefix(n, "image/")) continue;
      out = gst_caps_merge(out, gst_caps_copy_nth(c, i));
    }
    gst_caps_unref(c);
  }
  return out;
}

bool muxer_takes(GstCaps* mux_caps, GstCaps* stream_caps) {
  return stream_caps && gst_caps_can_intersect(mux_caps, stream_caps);
}

const AudioEncoder* find_audio_encoder(const char* codec) {
  for (const AudioEncoder& e : kAudioEncoders) {
    if (std::strcmp(e.codec, codec) != 0) continue;
    GstElementFactory* f = gst_element_factory_find(e.element);
    if (f) {
      gst_object_unref(f);
      return &e;
    }
  }
  return nullptr;
}

std::string audio_encoder_packages(const char* codec) {
  std::string s;
  for (const AudioEncoder& e : kAudioEncoders)
    if (std::strcmp(e.codec, codec) == 0)
      s += std::string(s.empty() ? "" : " or ") + e.element + " (" + e.package + ")";
  return s;
}

// ---------------------------------------------------------------------------------------

struct App {
  Options o;
  const Container* container = nullptr;
  const VideoCodec* vcodec = nullptr;
  std::string video_encoder;
  const AudioEncoder* aenc = nullptr;  // for audio the container cannot take as it is
  GstCaps* mux_caps = nullptr;         // non-video caps the muxer takes

  GMainLoop* loop = nullptr;
  GstElement* pipeline = nullptr;
  GstElement* mux = nullptr;
  GstElement* tm = nullptr;      // the dtutmo element
  GstElement* subdec = nullptr;  // the second reader's parsebin, for subtitles (on_pad_added)

  // The streams to convert, by stream id, decided from the discoverer's facts before the
  // pipeline starts: their muxer pads must all exist before the first buffer reaches the
  // muxer (mp4mux takes no new pad after that).
  struct Stream {
    enum Kind { Video, AudioCopy, AudioEncode, Subtitle } kind;
    std::string id;
    GstCaps* caps = nullptr;  // what goes into the muxer (for its pad)
    GstPad* mux_pad = nullptr;
    bool linked = false;
  };
  std::vector<Stream> streams;
  std::mutex lock;  // guards `streams` (pad-added runs in streaming threads)

  int rc = kOk;
  int signals = 0;
  bool finished = false;
  std::string error;

  GstClockTime duration = GST_CLOCK_TIME_NONE;
  std::atomic<guint64> frames{0};
  std::atomic<guint64> written{0};  // buffers the muxer gave the file (the stall watchdog)
  std::atomic<gint64> position_ns{-1};
  guint64 seen = 0;        // frames + written at the watchdog's last look
  gint64 active_us = 0;    // when they last changed
  gint64 start_us = 0;
  bool progress = false;
  size_t progress_width = 0;

  std::vector<dtutmo_convert::AdaptationSample> samples;
};

void fail(App* app, const std::string& msg) {
  if (app->error.empty()) app->error = msg;
  app->rc = kFailed;
  g_main_loop_quit(app->loop);
}

// Errors found in streaming threads go through the bus to the main loop.
void post_error(App* app, const std::string& msg) {
  GError* e = g_error_new_literal(GST_CORE_ERROR, GST_CORE_ERROR_FAILED, msg.c_str());
  gst_element_post_message(app->pipeline,
                           gst_message_new_error(GST_OBJECT(app->pipeline), e, nullptr));
  g_error_free(e);
}

GstElement* make(const char* factory, const char* name = nullptr) {
  return gst_element_factory_make(factory, name);
}

bool set_arg(GstElement* e, const char* prop, const std::string& value) {
  if (!g_object_class_find_property(G_OBJECT_GET_CLASS(e), prop)) return false;
  gst_util_set_object_arg(G_OBJECT(e), prop, value.c_str());
  return true;
}

// Adds `chain` to the pipeline, links it in order, to `src` (a decodebin pad) and to
// `mux_pad`. Streaming thread (pad-added).
bool link_branch(App* app, GstPad* src, const std::vector<GstElement*>& chain, GstPad* mux_pad,
                 std::string* err) {
  for (GstElement* e : chain) gst_bin_add(GST_BIN(app->pipeline), e);
  for (size_t i = 0; i + 1 < chain.size(); ++i)
    if (!gst_element_link(chain[i], chain[i + 1])) {
      *err = std::string("cannot link ") + GST_ELEMENT_NAME(chain[i]) + " to " +
             GST_ELEMENT_NAME(chain[i + 1]);
      return false;
    }
  GstPad* tail = gst_element_get_static_pad(chain.back(), "src");
  const bool ok = gst_pad_link(tail, mux_pad) == GST_PAD_LINK_OK;
  gst_object_unref(tail);
  if (!ok) {
    *err = std::string("cannot link ") + GST_ELEMENT_NAME(chain.back()) + " to the " +
           app->container->name + " muxer";
    return false;
  }
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) gst_element_sync_state_with_parent(*it);
  GstPad* head = gst_element_get_static_pad(chain.front(), "sink");
  const GstPadLinkReturn lr = gst_pad_link(src, head);
  gst_object_unref(head);
  if (lr != GST_PAD_LINK_OK) {
    *err = std::string("cannot link the decoder's ") + GST_PAD_NAME(src) + " pad";
    return false;
  }
  return true;
}

// A request pad of the muxer for a stream of `caps`; nullptr when it takes no such stream.
GstPad* request_mux_pad(GstElement* mux, GstCaps* caps) {
  for (GList* l = gst_element_class_get_pad_template_list(GST_ELEMENT_GET_CLASS(mux)); l;
       l = l->next) {
    GstPadTemplate* t = GST_PAD_TEMPLATE(l->data);
    if (GST_PAD_TEMPLATE_DIRECTION(t) != GST_PAD_SINK ||
        GST_PAD_TEMPLATE_PRESENCE(t) != GST_PAD_REQUEST)
      continue;
    GstCaps* tc = gst_pad_template_get_caps(t);
    const bool match = gst_caps_can_intersect(tc, caps);
    gst_caps_unref(tc);
    if (match) return gst_element_request_pad(mux, t, nullptr, nullptr);
  }
  return nullptr;
}

GstPadProbeReturn count_frame(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  App* app = static_cast<App*>(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  app->frames++;
  // (tests only: DTUTMO_CONVERT_TEST_STALL=N holds the video branch forever after N
  // frames, a stalled pipeline for the watchdog to find)
  static const char* stall_after = std::getenv("DTUTMO_CONVERT_TEST_STALL");
  if (stall_after && app->frames > guint64(std::atoll(stall_after)))
    for (;;) g_usleep(G_USEC_PER_SEC);
  if (buf && GST_BUFFER_PTS_IS_VALID(buf)) {
    GstEvent* ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
    if (ev) {
      const GstSegment* seg;
      gst_event_parse_segment(ev, &seg);
      const guint64 st = gst_segment_to_stream_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
      if (GST_CLOCK_TIME_IS_VALID(st)) app->position_ns = gint64(st);
      gst_event_unref(ev);
    }
  }
  return GST_PAD_PROBE_OK;
}

bool build_video_branch(App* app, GstPad* src, GstPad* mux_pad, std::string* err) {
  const Options& o = app->o;
  GstElement* conv_in = make("videoconvert");
  GstElement* tm = make("dtutmo", "tm");
  GstElement* q = make("queue");
  GstElement* conv_out = make("videoconvert");
  GstElement* filter = make("capsfilter");
  GstElement* enc = make(app->video_encoder.c_str());
  GstElement* parse = make(app->vcodec->parser);
  if (!conv_in || !tm || !q || !conv_out || !filter || !enc || !parse) {
    *err = "cannot create the video elements";
    return false;
  }
  // Properties were checked in prepare_element(); the same settings again on this one.
  if (!o.profile.empty()) gst_util_set_object_arg(G_OBJECT(tm), "profile", o.profile.c_str());
  for (const auto& kv : o.sets) gst_util_set_object_arg(G_OBJECT(tm), kv.first.c_str(), kv.second.c_str());
  gst_util_set_object_arg(G_OBJECT(tm), "target", o.target.c_str());
  if (!o.plot.empty()) g_object_set(tm, "post-messages", TRUE, NULL);
  // The encoder's input: 8-bit 4:2:0 for SDR, 10-bit 4:2:0 for PQ/HLG (videoconvert keeps
  // the colorimetry and the HDR10 caps fields), chroma centre-sited as dtutmo packs it when
  // nothing downstream asks otherwise: x264enc writes the caps' chroma-site into the
  // stream; x265enc (1.22) does not, so it gets chromaloc=1 below (without it both
  // streams said left-cosited, H.264 / HEVC's default, and players shifted the chroma).
  GstCaps* fc = gst_caps_from_string(o.target == "sdr"
                                         ? "video/x-raw,format={I420,NV12},chroma-site=jpeg"
                                         : "video/x-raw,format=I420_10LE,chroma-site=jpeg");
  g_object_set(filter, "caps", fc, NULL);
  gst_caps_unref(fc);
  g_object_set(q, "max-size-buffers", 4u, "max-size-bytes", 0u, "max-size-time", guint64(0), NULL);
  // Rate control and speed.
  const int crf = o.crf >= 0 ? o.crf : app->vcodec->default_crf;
  const std::string enc_name = GST_OBJECT_NAME(gst_element_get_factory(enc));
  if (enc_name == "x264enc") {
    set_arg(enc, "speed-preset", o.preset);
    if (o.bitrate > 0) {
      set_arg(enc, "pass", "cbr");
      set_arg(enc, "bitrate", std::to_string(o.bitrate));
    } else {
      set_arg(enc, "pass", "qual");
      set_arg(enc, "quantizer", std::to_string(crf));
    }
  } else if (enc_name == "x265enc") {
    set_arg(enc, "speed-preset", o.preset);
    if (o.bitrate > 0)
      set_arg(enc, "bitrate", std::to_string(o.bitrate));
    set_arg(enc, "option-string",
            (o.bitrate > 0 ? std::string() : "crf=" + std::to_string(crf) + ":") + "chromaloc=1");
  } else if (o.bitrate > 0 && !set_arg(enc, "bitrate", std::to_string(o.bitrate))) {
    std::fprintf(stderr, "%s: warning: %s has no bitrate property; its default rate control\n",
                 kProg, enc_name.c_str());
  }
  std::vector<GstElement*> chain = {conv_in, tm, q, conv_out, filter};
  if (o.realtime) {
    GstElement* id = make("identity");
    g_object_set(id, "sync", TRUE, NULL);
    chain.push_back(id);
  }
  chain.push_back(enc);
  chain.push_back(parse);
  if (!link_branch(app, src, chain, mux_pad, err)) return false;
  GstPad* tsrc = gst_element_get_static_pad(tm, "src");
  gst_pad_add_probe(tsrc, GST_PAD_PROBE_TYPE_BUFFER, count_frame, app, nullptr);
  gst_object_unref(tsrc);
  app->tm = tm;
  return true;
}

// The queue of an audio or subtitle branch. The muxer interleaves by time, so these
// streams wait there while the video encoder fills its lookahead (x264/x265 hold a second
// or two of frames before the first comes out); a queue full before that would stall the
// demuxer, which feeds the video too. Bounded by time only, generously.
GstElement* side_queue() {
  GstElement* q = make("queue");
  g_object_set(q, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
               guint64(60 * GST_SECOND), NULL);
  return q;
}

// Subtitles come from a second reader of the same URI that demuxes only (urisourcebin !
// parsebin, nothing decoded): muxers wait for data on every pad, a subtitle may be
// minutes away in the file, and a single demuxer would stall at decodebin3's interleave
// limit before reaching it (the video waiting in the muxer for the subtitle, the subtitle
// behind the video in the file). The second reader runs ahead and its queue holds the
// whole (small) track. It is not a second uridecodebin3: with two decodebin3 instances on
// one file GStreamer 1.22.0 stalled about one conversion in 50 (the main reader's video
// never reached EOS; 3 hangs in ~110 runs here, none in 300 with parsebin, none in 200
// with a single reader).
void on_pad_added(GstElement* dec, GstPad* pad, gpointer data) {
  App* app = static_cast<App*>(data);
  const bool subtitles_reader = dec == app->subdec;
  GstStream* stream = gst_pad_get_stream(pad);
  const std::string id = stream && gst_stream_get_stream_id(stream) ? gst_stream_get_stream_id(stream) : "";
  if (stream) gst_object_unref(stream);
  std::lock_guard<std::mutex> g(app->lock);
  App::Stream* plan = nullptr;
  for (App::Stream& s : app->streams)
    if (s.id == id && !s.linked && (s.kind == App::Stream::Subtitle) == subtitles_reader) plan = &s;
  if (!plan) {  // not in the plan, or the other reader's: drop it
    GstElement* sink = make("fakesink");
    g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add(GST_BIN(app->pipeline), sink);
    gst_element_sync_state_with_parent(sink);
    GstPad* sp = gst_element_get_static_pad(sink, "sink");
    gst_pad_link(pad, sp);
    gst_object_unref(sp);
    return;
  }
  plan->linked = true;
  std::string err;
  bool ok = true;
  switch (plan->kind) {
    case App::Stream::Video:
      ok = build_video_branch(app, pad, plan->mux_pad, &err);
      break;
    case App::Stream::AudioEncode: {
      GstElement* enc = make(app->aenc->element);
      set_arg(enc, app->aenc->bitrate_property, std::to_string(app->aenc->bitrate));
      ok = link_branch(app, pad, {side_queue(), make("audioconvert"), make("audioresample"), enc},
                       plan->mux_pad, &err);
      break;
    }
    case App::Stream::AudioCopy:
      ok = link_branch(app, pad, {side_queue()}, plan->mux_pad, &err);
      break;
    case App::Stream::Subtitle: {
      GstElement* q = make("queue");  // the whole track, however far ahead
      g_object_set(q, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time",
                   guint64(0), NULL);
      ok = link_branch(app, pad, {q}, plan->mux_pad, &err);
      break;
    }
  }
  if (!ok) post_error(app, err);
}

// decodebin3's stream selection (1 = select, 0 = skip). Main reader: the planned video
// stream, and every audio and subtitle stream (those outside the plan end in a fakesink;
// left unselected, a stream keeps a slot in decodebin3's multiqueue that could stall the
// demuxer).
gint on_select_stream(GstElement*, GstStreamCollection*, GstStream* stream, gpointer data) {
  App* app = static_cast<App*>(data);
  if (!(gst_stream_get_stream_type(stream) & GST_STREAM_TYPE_VIDEO)) return 1;
  const char* id = gst_stream_get_stream_id(stream);
  for (const App::Stream& s : app->streams)  // ids never change once playing: no lock
    if (id && s.id == id && s.kind == App::Stream::Video) return 1;
  return 0;
}

// The subtitle reader's source pad (urisourcebin's pads are dynamic) into its parsebin.
void on_source_pad(GstElement*, GstPad* pad, gpointer parse) {
  GstPad* sink = gst_element_get_static_pad(GST_ELEMENT(parse), "sink");
  if (!gst_pad_is_linked(sink)) gst_pad_link(pad, sink);
  gst_object_unref(sink);
}

// A reader exposed its streams (`exposed`: their ids): a planned stream of that reader
// it did not expose would leave its muxer pad waiting for data forever; release it.
void release_unexposed(App* app, bool subtitles_reader, const std::vector<std::string>& exposed) {
  std::lock_guard<std::mutex> g(app->lock);
  for (App::Stream& s : app->streams) {
    if (s.linked || !s.mux_pad || (s.kind == App::Stream::Subtitle) != subtitles_reader ||
        std::find(exposed.begin(), exposed.end(), s.id) != exposed.end())
      continue;
    if (s.kind == App::Stream::Video) {
      post_error(app, "the decoder did not expose the video stream " + s.id);
      continue;
    }
    gst_element_release_request_pad(app->mux, s.mux_pad);
    gst_object_unref(s.mux_pad);
    s.mux_pad = nullptr;
    s.linked = true;
  }
}

// The main reader (decodebin3) selected its streams.
void release_unselected(App* app, GstMessage* msg) {
  std::vector<std::string> selected;
  for (guint i = 0; i < gst_message_streams_selected_get_size(msg); ++i) {
    GstStream* s = gst_message_streams_selected_get_stream(msg, i);
    if (s && gst_stream_get_stream_id(s)) selected.push_back(gst_stream_get_stream_id(s));
    if (s) gst_object_unref(s);
  }
  release_unexposed(app, false, selected);
}

// The subtitle reader (parsebin) exposed every stream it will: those it linked are done.
void on_subtitles_exposed(GstElement*, gpointer data) {
  release_unexposed(static_cast<App*>(data), true, {});
}

// The stall watchdog (every second): a pipeline that neither converts a frame nor writes a
// buffer for --stall-timeout seconds has stalled (its streaming threads wait on each
// other; once in CI on GStreamer 1.22.0): said plainly and given up, the partial file
// removed. _exit: a stalled pipeline can block its own state change to NULL as well.
gboolean on_watchdog(gpointer data) {
  App* app = static_cast<App*>(data);
  if (app->finished) return G_SOURCE_REMOVE;
  const guint64 now_seen = app->frames + app->written;
  const gint64 now = g_get_monotonic_time();
  if (now_seen != app->seen || app->active_us == 0) {
    app->seen = now_seen;
    app->active_us = now;
    return G_SOURCE_CONTINUE;
  }
  if (now - app->active_us < gint64(app->o.stall_s) * G_USEC_PER_SEC) return G_SOURCE_CONTINUE;
  if (app->progress) std::fputc('\n', stderr);
  std::fprintf(stderr,
               "%s: the pipeline stalled: nothing converted or written for %d s (after %llu frames); "
               "giving up, %s removed\n",
               kProg, app->o.stall_s, (unsigned long long)app->frames.load(), app->o.out.c_str());
  std::fflush(stderr);
  std::remove(app->o.out.c_str());
  _exit(kFailed);
}

void print_progress(App* app, bool final_line) {
  const double elapsed = double(g_get_monotonic_time() - app->start_us) / 1e6;
  const guint64 frames = app->frames;
  const gint64 pos = app->position_ns;
  const double fps = elapsed > 0 ? double(frames) / elapsed : 0.0;
  char line[256];
  int n = 0;
  if (GST_CLOCK_TIME_IS_VALID(app->duration) && app->duration > 0 && pos >= 0) {
    // The last frame starts one frame before the end: the final line says 100 %.
    const double done = final_line ? 1.0 : std::min(1.0, double(pos) / double(app->duration));
    const double total_s = double(app->duration) / 1e9, media_s = done * total_s;
    const double rate = elapsed > 0 ? media_s / elapsed : 0;  // media seconds per second
    const std::string eta = final_line ? hms(0) : rate > 0 ? hms((total_s - media_s) / rate) : "?";
    n = std::snprintf(line, sizeof line, "%5.1f%%  %s / %s  frame %llu  %.1f fps  ETA %s",
                      100.0 * done, hms(media_s).c_str(), hms(total_s).c_str(),
                      (unsigned long long)frames, fps, eta.c_str());
  } else {
    n = std::snprintf(line, sizeof line, "frame %llu  %.1f fps", (unsigned long long)frames, fps);
  }
  const size_t len = size_t(std::max(n, 0));
  std::string pad(app->progress_width > len ? app->progress_width - len : 0, ' ');
  app->progress_width = std::max(app->progress_width, len);
  std::fprintf(stderr, "\r%s%s%s", line, pad.c_str(), final_line ? "\n" : "");
  std::fflush(stderr);
}

gboolean on_progress_timer(gpointer data) {
  App* app = static_cast<App*>(data);
  if (app->finished) return G_SOURCE_REMOVE;
  print_progress(app, false);
  return G_SOURCE_CONTINUE;
}

gboolean on_signal(gpointer data) {
  App* app = static_cast<App*>(data);
  if (++app->signals == 1) {
    if (app->progress) std::fputc('\n', stderr);
    std::fprintf(stderr, "%s: stopping: finishing %s (Ctrl-C again to abort)\n", kProg,
                 app->o.out.c_str());
    app->rc = kInterrupted;
    gst_element_send_event(app->pipeline, gst_event_new_eos());
  } else {
    std::fprintf(stderr, "%s: aborted; %s is incomplete\n", kProg, app->o.out.c_str());
    app->rc = kInterrupted;
    app->error = "aborted";
    g_main_loop_quit(app->loop);
  }
  return G_SOURCE_CONTINUE;
}

gboolean on_bus(GstBus*, GstMessage* msg, gpointer data) {
  App* app = static_cast<App*>(data);
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_EOS:
      app->finished = true;
      g_main_loop_quit(app->loop);
      break;
    case GST_MESSAGE_ERROR: {
      GError* e = nullptr;
      gchar* dbg = nullptr;
      gst_message_parse_error(msg, &e, &dbg);
      std::string m = e ? e->message : "unknown error";
      if (e && e->domain == GST_RESOURCE_ERROR && GST_MESSAGE_SRC(msg) &&
          g_str_has_prefix(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), "filesink"))
        m = "cannot write " + app->o.out + ": " + m;
      if (dbg && std::getenv("DTUTMO_CONVERT_DEBUG")) m += std::string(" (") + dbg + ")";
      g_clear_error(&e);
      g_free(dbg);
      fail(app, m);
      break;
    }
    case GST_MESSAGE_WARNING: {
      if (app->o.quiet) break;
      GError* e = nullptr;
      gst_message_parse_warning(msg, &e, nullptr);
      if (app->progress) std::fputc('\n', stderr);
      std::fprintf(stderr, "%s: warning from %s: %s\n", kProg, GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
                   e ? e->message : "?");
      g_clear_error(&e);
      break;
    }
    case GST_MESSAGE_STREAMS_SELECTED:
      release_unselected(app, msg);
      break;
    case GST_MESSAGE_ELEMENT: {
      const GstStructure* s = gst_message_get_structure(msg);
      if (!s || !gst_structure_has_name(s, "dtutmo")) break;
      dtutmo_convert::AdaptationSample a;
      guint64 st = GST_CLOCK_TIME_NONE, rt = GST_CLOCK_TIME_NONE;
      gst_structure_get_uint64(s, "stream-time", &st);
      gst_structure_get_uint64(s, "running-time", &rt);
      const guint64 t = GST_CLOCK_TIME_IS_VALID(st) ? st : rt;
      if (!GST_CLOCK_TIME_IS_VALID(t)) break;
      a.time_s = double(t) / 1e9;
      gboolean cut = FALSE, reset = FALSE;
      gst_structure_get_double(s, "adaptation-luminance", &a.adaptation_nits);
      gst_structure_get_double(s, "pupil-diameter", &a.pupil_mm);
      gst_structure_get_double(s, "rod-weight", &a.rod_weight);
      gst_structure_get_boolean(s, "cut", &cut);
      gst_structure_get_boolean(s, "reset", &reset);
      a.cut = cut;
      a.reset = reset;
      app->samples.push_back(a);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

// Checks --profile and every --set against a scratch dtutmo element, so a typo is a usage
// error before anything is read or written, and writes model parameters in their
// canonical spelling back into o->sets (an alias such as display-mode=hybrid is accepted
// by the registry, not by the element's enum). False with a message.
bool prepare_element(Options* opts, std::string* err) {
  const Options& o = *opts;
  GstElement* e = gst_element_factory_make("dtutmo", nullptr);
  if (!e) {
    *err = "the dtutmo GStreamer plugin was not found: install it (meson install, or the "
           "gstreamer1.0-dtutmo package) or set GST_PLUGIN_PATH to the build's gst/ folder";
    return false;
  }
  gst_object_ref_sink(e);
  std::vector<std::pair<std::string, std::string>> all = o.sets;
  if (!o.profile.empty()) all.insert(all.begin(), {"profile", o.profile});
  bool ok = true;
  for (const auto& kv : all) {
    const std::string& name = kv.first;
    GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(e), name.c_str());
    if (!spec || !(spec->flags & G_PARAM_WRITABLE) || name == "name" || name == "parent") {
      *err = "dtutmo has no settable property '" + name + "' (gst-inspect-1.0 dtutmo)";
      ok = false;
      break;
    }
    if (name == "target") {
      *err = "use --target instead of --set target=...";
      ok = false;
      break;
    }
    // Model parameters: the registry's own check (range, integer, enum nick).
    dtutmo::Params scratch;
    std::string perr;
    dtutmo::ParamDetails d;
    if (dtutmo::param_details(name, &d)) {
      if (!dtutmo::set_param(scratch, name, kv.second, &perr)) {
        *err = perr;
        ok = false;
        break;
      }
      std::string canonical;
      dtutmo::get_param(scratch, name, &canonical);
      for (auto& set : opts->sets)
        if (set.first == name && set.second == kv.second) set.second = canonical;
      if (d.kind == dtutmo::ParamDetails::Float || d.kind == dtutmo::ParamDetails::Int) {
        std::string text;
        dtutmo::get_param(scratch, name, &text);
        const double v = std::strtod(text.c_str(), nullptr);
        if (v < d.lo || v > d.hi) {
          char buf[160];
          std::snprintf(buf, sizeof buf, "%s=%s is outside [%g, %g]", name.c_str(),
                        kv.second.c_str(), double(d.lo), double(d.hi));
          *err = buf;
          ok = false;
          break;
        }
      }
      continue;
    }
    GValue v = G_VALUE_INIT;
    g_value_init(&v, spec->value_type);
    if (!gst_value_deserialize(&v, kv.second.c_str())) {
      *err = "'" + kv.second + "' is not a valid value for " + name;
      ok = false;
    }
    g_value_unset(&v);
    if (!ok) break;
  }
  if (ok) {
    // Pairs with a constraint between them (display-black <= display-peak / 10, a display
    // peak of 0 or >= 10, percentile-low < percentile-high): the element holds an invalid
    // pair back with a warning and streams on with the previous values, which suits a
    // live change; a conversion asked for them up front is refused instead.
    dtutmo::Params p;
    std::string perr;
    dtutmo::ParamDetails d;
    dtutmo::set_param(p, "target", o.target, &perr);
    for (const auto& kv : all)
      if (dtutmo::param_details(kv.first, &d)) dtutmo::set_param(p, kv.first, kv.second, &perr);
    if (!dtutmo::validate(p, &perr)) {
      *err = "these settings do not go together: " + perr;
      ok = false;
    }
  }
  gst_object_unref(e);
  return ok;
}

std::string describe_video(GstDiscovererVideoInfo* v) {
  GstCaps* caps = gst_discoverer_stream_info_get_caps(GST_DISCOVERER_STREAM_INFO(v));
  std::string s = std::to_string(gst_discoverer_video_info_get_width(v)) + "x" +
                  std::to_string(gst_discoverer_video_info_get_height(v));
  const guint fn = gst_discoverer_video_info_get_framerate_num(v);
  const guint fd = gst_discoverer_video_info_get_framerate_denom(v);
  if (fn > 0 && fd > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " %.3g fps", double(fn) / fd);
    s += buf;
  }
  s += " " + codec_name(caps);
  const GstStructure* st = caps ? gst_caps_get_structure(caps, 0) : nullptr;
  const char* colorimetry = st ? gst_structure_get_string(st, "colorimetry") : nullptr;
  GstVideoColorimetry c;
  if (colorimetry && gst_video_colorimetry_from_string(&c, colorimetry)) {
    s += c.transfer == GST_VIDEO_TRANSFER_SMPTE2084      ? ", PQ"
         : c.transfer == GST_VIDEO_TRANSFER_ARIB_STD_B67 ? ", HLG"
         : c.transfer == GST_VIDEO_TRANSFER_GAMMA28      ? ", SDR gamma 2.8 (BT.470 B/G)"
         : c.transfer == GST_VIDEO_TRANSFER_GAMMA22      ? ", SDR gamma 2.2 (BT.470 M)"
                                                         : ", SDR";
    s += c.primaries == GST_VIDEO_COLOR_PRIMARIES_BT2020 ? " BT.2020" : " BT.709";
  } else {
    s += ", untagged colour";
  }
  GstVideoMasteringDisplayInfo m;
  if (caps && gst_video_mastering_display_info_from_caps(&m, caps)) {
    char buf[96];
    std::snprintf(buf, sizeof buf, ", mastered %g-%g cd/m2",
                  m.min_display_mastering_luminance / 10000.0,
                  m.max_display_mastering_luminance / 10000.0);
    s += buf;
  }
  if (caps) gst_caps_unref(caps);
  return s;
}

// A property's value as gst-launch would write it ("?" without the element).
std::string property_text(GstElement* e, const char* name) {
  GParamSpec* spec = e ? g_object_class_find_property(G_OBJECT_GET_CLASS(e), name) : nullptr;
  if (!spec) return "?";
  GValue v = G_VALUE_INIT;
  g_value_init(&v, spec->value_type);
  g_object_get_property(G_OBJECT(e), name, &v);
  gchar* t = gst_value_serialize(&v);
  g_value_unset(&v);
  std::string s = t ? t : "?";
  g_free(t);
  return s;
}

// The binary runs from the build tree (not installed): find the plugin built next to it.
void use_build_tree_plugin() {
#ifdef DTUTMO_BUILD_TOOL_DIR
  gchar* exe = g_file_read_link("/proc/self/exe", nullptr);
  if (!exe) return;
  gchar* dir = g_path_get_dirname(exe);
  if (g_strcmp0(dir, DTUTMO_BUILD_TOOL_DIR) == 0 &&
      g_file_test(DTUTMO_BUILD_PLUGIN_DIR, G_FILE_TEST_IS_DIR)) {
    const char* old = g_getenv("GST_PLUGIN_PATH");
    std::string path = DTUTMO_BUILD_PLUGIN_DIR;
    if (old && *old) path += std::string(":") + old;
    g_setenv("GST_PLUGIN_PATH", path.c_str(), TRUE);
  }
  g_free(dir);
  g_free(exe);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  App app;
  app.o = parse_args(argc, argv);
  const Options& o = app.o;
  use_build_tree_plugin();
  gst_init(nullptr, nullptr);

  // --- the output: container, codec, encoder, writable file ---
  const std::string ext = lower_ext(o.out);
  for (const Container& c : kContainers)
    if (ext == c.ext) app.container = &c;
  if (!app.container)
    die_usage("cannot tell the container from '" + o.out +
              "': use .mp4, .m4v, .mov, .mkv, .ts or .m2ts");
  std::string codec = o.codec.empty() ? (o.target == "sdr" ? "h264" : "h265") : o.codec;
  for (const VideoCodec& v : kVideoCodecs)
    if (codec == v.name) app.vcodec = &v;
  if (!app.vcodec) die_usage("--codec must be h264 or h265, not '" + codec + "'");
  if (o.target != "sdr" && !app.vcodec->hdr)
    die_usage("--target " + o.target + " needs --codec h265 (10-bit HDR)");
  std::string err;
  if (!prepare_element(&app.o, &err)) {
    std::fprintf(stderr, "%s: %s\n", kProg, err.c_str());
    return err.find("plugin was not found") != std::string::npos ? kFailed : kUsage;
  }
  app.video_encoder = o.encoder.empty() ? app.vcodec->encoder : o.encoder;
  GstElementFactory* vf = gst_element_factory_find(app.video_encoder.c_str());
  if (!vf) {
    std::fprintf(stderr, "%s: missing encoder: %s (%s) is not installed%s%s\n", kProg,
                 app.video_encoder.c_str(), app.vcodec->description,
                 o.encoder.empty() ? "; on Debian: apt install " : "",
                 o.encoder.empty() ? app.vcodec->package : "");
    return kFailed;
  }
  gst_object_unref(vf);
  GstElementFactory* mf = gst_element_factory_find(app.container->muxer);
  if (!mf) {
    std::fprintf(stderr, "%s: missing muxer: %s (%s) is not installed\n", kProg,
                 app.container->muxer, app.container->name);
    return kFailed;
  }
  app.mux_caps = muxer_non_video_caps(mf);
  gst_object_unref(mf);
  app.aenc = find_audio_encoder(app.container->audio_codec);

  // Input: a path (or a URI).
  std::string uri;
  if (gst_uri_is_valid(o.in.c_str())) {
    uri = o.in;
  } else {
    if (access(o.in.c_str(), R_OK) != 0) {
      std::fprintf(stderr, "%s: cannot read %s: %s\n", kProg, o.in.c_str(), std::strerror(errno));
      return kFailed;
    }
    GError* e = nullptr;
    gchar* u = gst_filename_to_uri(o.in.c_str(), &e);
    if (!u) {
      std::fprintf(stderr, "%s: cannot read %s: %s\n", kProg, o.in.c_str(), e ? e->message : "?");
      g_clear_error(&e);
      return kFailed;
    }
    uri = u;
    g_free(u);
  }
  // Output: refuse to clobber (without -y) and check that it can be written at all.
  struct stat in_st, out_st;
  const bool out_exists = stat(o.out.c_str(), &out_st) == 0;
  if (out_exists && stat(o.in.c_str(), &in_st) == 0 && in_st.st_dev == out_st.st_dev &&
      in_st.st_ino == out_st.st_ino) {
    std::fprintf(stderr, "%s: OUT is the input file %s\n", kProg, o.in.c_str());
    return kUsage;
  }
  if (out_exists && !o.overwrite) {
    std::fprintf(stderr, "%s: %s exists (-y to overwrite)\n", kProg, o.out.c_str());
    return kFailed;
  }
  {
    FILE* f = std::fopen(o.out.c_str(), "ab");
    if (!f) {
      std::fprintf(stderr, "%s: cannot write %s: %s\n", kProg, o.out.c_str(), std::strerror(errno));
      return kFailed;
    }
    std::fclose(f);
    if (!out_exists) std::remove(o.out.c_str());
  }
  if (!o.plot.empty() && lower_ext(o.plot) != "png") die_usage("--plot writes a PNG: give FILE.png");

  // --- the input's facts ---
  GError* derr = nullptr;
  GstDiscoverer* disc = gst_discoverer_new(30 * GST_SECOND, &derr);
  if (!disc) {
    std::fprintf(stderr, "%s: %s\n", kProg, derr ? derr->message : "no discoverer");
    return kFailed;
  }
  GstDiscovererInfo* info = gst_discoverer_discover_uri(disc, uri.c_str(), &derr);
  const GstDiscovererResult res = info ? gst_discoverer_info_get_result(info) : GST_DISCOVERER_ERROR;
  if (res != GST_DISCOVERER_OK) {
    std::string why = derr ? derr->message : "not a media file GStreamer can read";
    if (res == GST_DISCOVERER_MISSING_PLUGINS) why = "a decoder or demuxer it needs is not installed";
    if (res == GST_DISCOVERER_TIMEOUT) why = "timed out while reading it";
    std::fprintf(stderr, "%s: cannot read %s: %s\n", kProg, o.in.c_str(), why.c_str());
    return kFailed;
  }
  g_clear_error(&derr);
  GList* videos = gst_discoverer_info_get_video_streams(info);
  GList* audios = gst_discoverer_info_get_audio_streams(info);
  GList* subs = gst_discoverer_info_get_subtitle_streams(info);
  if (!videos) {
    std::fprintf(stderr, "%s: %s has no video stream\n", kProg, o.in.c_str());
    return kFailed;
  }
  app.duration = gst_discoverer_info_get_duration(info);
  auto* v0 = static_cast<GstDiscovererVideoInfo*>(videos->data);
  auto stream_id = [](gpointer si) {
    const char* id = gst_discoverer_stream_info_get_stream_id(GST_DISCOVERER_STREAM_INFO(si));
    return std::string(id ? id : "");
  };
  app.streams.push_back({App::Stream::Video, stream_id(v0),
                         gst_caps_new_empty_simple(std::string(app.vcodec->name) == "h264"
                                                       ? "video/x-h264"
                                                       : "video/x-h265")});
  std::string audio_desc;
  int audio_to_encode = 0;
  for (GList* l = audios; l && !o.no_audio; l = l->next) {
    GstCaps* c = gst_discoverer_stream_info_get_caps(GST_DISCOVERER_STREAM_INFO(l->data));
    const bool copy = muxer_takes(app.mux_caps, c);
    audio_to_encode += copy ? 0 : 1;
    audio_desc += std::string(audio_desc.empty() ? "" : ", ") + codec_name(c) +
                  (copy ? " (copied)" : " (encoded)");
    if (copy) {
      app.streams.push_back({App::Stream::AudioCopy, stream_id(l->data), c});
    } else {
      app.streams.push_back({App::Stream::AudioEncode, stream_id(l->data),
                             gst_caps_new_empty_simple(std::string(app.container->audio_codec) == "aac"
                                                           ? "audio/mpeg"
                                                           : "audio/x-opus")});
      if (c) gst_caps_unref(c);
    }
  }
  int subs_copied = 0, subs_dropped = 0;
  for (GList* l = subs; l && !o.no_subtitles; l = l->next) {
    GstCaps* c = gst_discoverer_stream_info_get_caps(GST_DISCOVERER_STREAM_INFO(l->data));
    if (muxer_takes(app.mux_caps, c)) {
      subs_copied++;
      app.streams.push_back({App::Stream::Subtitle, stream_id(l->data), c});
    } else {
      subs_dropped++;
      if (c) gst_caps_unref(c);
    }
  }
  if (audio_to_encode > 0 && !app.aenc) {
    std::fprintf(stderr, "%s: missing encoder: the audio needs encoding for %s and no %s "
                 "encoder is installed: %s (or use --no-audio)\n", kProg, app.container->name,
                 app.container->audio_codec, audio_encoder_packages(app.container->audio_codec).c_str());
    return kFailed;
  }
  if (!o.quiet) {
    const std::string length = GST_CLOCK_TIME_IS_VALID(app.duration)
                                   ? hms(double(app.duration) / 1e9)
                                   : std::string("length unknown");
    std::fprintf(stderr, "%s: %s: %s, %s%s\n", kProg, o.in.c_str(), describe_video(v0).c_str(),
                 length.c_str(), g_list_length(videos) > 1 ? " (first video stream used)" : "");
    const std::string rate = o.bitrate > 0 ? std::to_string(o.bitrate) + " kbit/s"
                                           : "CRF " + std::to_string(o.crf >= 0 ? o.crf : app.vcodec->default_crf);
    const char* signal = o.target == "sdr" ? "SDR BT.709" : o.target == "pq" ? "HDR10 PQ BT.2020" : "HLG BT.2020";
    std::string profile = o.profile.empty() ? "fast" : o.profile;  // the element's default
    for (const auto& kv : o.sets)
      if (kv.first == "profile") profile = kv.second;
    std::string subtitles = std::to_string(subs_copied) + " copied";
    if (subs_dropped)
      subtitles += ", " + std::to_string(subs_dropped) + " dropped (" + app.container->name +
                   " cannot carry them)";
    std::fprintf(stderr, "%s: -> %s: %s, %s %s %s, profile %s; audio: %s; subtitles: %s\n",
                 kProg, o.out.c_str(), app.container->name, app.vcodec->description, signal,
                 rate.c_str(), profile.c_str(),
                 o.no_audio ? "dropped" : audio_desc.empty() ? "none" : audio_desc.c_str(),
                 subtitles.c_str());
  }
  gst_discoverer_stream_info_list_free(videos);
  gst_discoverer_stream_info_list_free(audios);
  gst_discoverer_stream_info_list_free(subs);
  gst_discoverer_info_unref(info);
  g_object_unref(disc);

  // --- the pipeline ---
  app.loop = g_main_loop_new(nullptr, FALSE);
  app.pipeline = gst_pipeline_new("dtutmo-convert");
  GstElement* dec = make("uridecodebin3", "dec");
  app.mux = make(app.container->muxer, "mux");
  GstElement* sink = make("filesink", "filesink");
  if (!dec || !app.mux || !sink) {
    std::fprintf(stderr, "%s: cannot create uridecodebin3, %s or filesink\n", kProg, app.container->muxer);
    return kFailed;
  }
  // Stop decoding at what the container takes as it is: those streams are copied.
  GstCaps* stop = gst_caps_from_string("video/x-raw(ANY); audio/x-raw(ANY); text/x-raw(ANY)");
  stop = gst_caps_merge(stop, gst_caps_ref(app.mux_caps));
  g_object_set(dec, "uri", uri.c_str(), "caps", stop, NULL);
  gst_caps_unref(stop);
  g_object_set(sink, "location", o.out.c_str(), NULL);
  gst_bin_add_many(GST_BIN(app.pipeline), dec, app.mux, sink, NULL);
  if (!gst_element_link(app.mux, sink)) {
    std::fprintf(stderr, "%s: cannot link %s to filesink\n", kProg, app.container->muxer);
    return kFailed;
  }
  {  // what the muxer writes, for the stall watchdog (an encoder's flush writes, converts nothing)
    GstPad* sp = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(sp, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      [](GstPad*, GstPadProbeInfo*, gpointer d) {
                        static_cast<App*>(d)->written++;
                        return GST_PAD_PROBE_OK;
                      },
                      &app, nullptr);
    gst_object_unref(sp);
  }
  // Every muxer pad before the first buffer (see App::streams).
  for (App::Stream& st : app.streams) {
    st.mux_pad = request_mux_pad(app.mux, st.caps);
    if (!st.mux_pad) {
      std::fprintf(stderr, "%s: the %s muxer takes no %s stream\n", kProg, app.container->name,
                   codec_name(st.caps).c_str());
      return kFailed;
    }
  }
  g_signal_connect(dec, "pad-added", G_CALLBACK(on_pad_added), &app);
  g_signal_connect(dec, "select-stream", G_CALLBACK(on_select_stream), &app);
  if (subs_copied > 0) {
    // Demuxes and parses only; every stream is exposed, all but the planned subtitles end
    // in a fakesink; a planned subtitle it never exposes is released at no-more-pads.
    GstElement* src = make("urisourcebin", "subsrc");
    app.subdec = make("parsebin", "subparse");
    if (!src || !app.subdec) {
      std::fprintf(stderr, "%s: cannot create urisourcebin or parsebin\n", kProg);
      return kFailed;
    }
    g_object_set(src, "uri", uri.c_str(), NULL);
    gst_bin_add_many(GST_BIN(app.pipeline), src, app.subdec, NULL);
    g_signal_connect(src, "pad-added", G_CALLBACK(on_source_pad), app.subdec);
    g_signal_connect(app.subdec, "pad-added", G_CALLBACK(on_pad_added), &app);
    g_signal_connect(app.subdec, "no-more-pads", G_CALLBACK(on_subtitles_exposed), &app);
  }
  GstBus* bus = gst_element_get_bus(app.pipeline);
  gst_bus_add_watch(bus, on_bus, &app);
  gst_object_unref(bus);
  g_unix_signal_add(SIGINT, on_signal, &app);
  g_unix_signal_add(SIGTERM, on_signal, &app);

  app.progress = !o.quiet && isatty(STDERR_FILENO);
  app.start_us = g_get_monotonic_time();
  if (gst_element_set_state(app.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The bus carries the reason; let the loop pick it up.
  }
  if (app.progress) g_timeout_add(500, on_progress_timer, &app);
  if (o.stall_s > 0) g_timeout_add_seconds(1, on_watchdog, &app);
  g_main_loop_run(app.loop);
  const bool ok = app.finished && app.error.empty();
  if (app.progress && ok) print_progress(&app, true);
  else if (app.progress) std::fputc('\n', stderr);
  gst_element_set_state(app.pipeline, GST_STATE_NULL);
  const double elapsed = double(g_get_monotonic_time() - app.start_us) / 1e6;

  int rc = app.rc;
  if (!ok) {
    std::fprintf(stderr, "%s: %s\n", kProg, app.error.empty() ? "failed" : app.error.c_str());
    if (rc == kOk) rc = kFailed;
    if (rc != kInterrupted) std::remove(o.out.c_str());  // an unplayable partial file
  } else if (!o.quiet) {
    std::fprintf(stderr, "%s: wrote %s: %llu frames in %.1f s (%.1f fps)%s\n", kProg,
                 o.out.c_str(), (unsigned long long)app.frames.load(), elapsed,
                 elapsed > 0 ? double(app.frames.load()) / elapsed : 0.0,
                 rc == kInterrupted ? ", stopped early by Ctrl-C" : "");
  }
  if (ok && !o.plot.empty()) {
    char settings[256];
    std::snprintf(settings, sizeof settings,
                  "dtutmo profile=%s adaptation=%s target=%s, %zu frames",
                  property_text(app.tm, "profile").c_str(),
                  property_text(app.tm, "adaptation").c_str(), o.target.c_str(),
                  app.samples.size());
    gchar* base = g_path_get_basename(o.in.c_str());
    const std::string name = base;
    g_free(base);
    if (!dtutmo_convert::write_adaptation_plot(app.samples, o.plot,
                                               "What the eye did: " + name, settings, 1200, 900,
                                               &err)) {
      std::fprintf(stderr, "%s: --plot: %s\n", kProg, err.c_str());
      if (rc == kOk) rc = kFailed;
    } else if (!o.quiet) {
      std::fprintf(stderr, "%s: wrote %s\n", kProg, o.plot.c_str());
    }
  }
  for (App::Stream& st : app.streams) {
    if (st.mux_pad) gst_object_unref(st.mux_pad);
    if (st.caps) gst_caps_unref(st.caps);
  }
  gst_object_unref(app.pipeline);
  gst_caps_unref(app.mux_caps);
  g_main_loop_unref(app.loop);
  return rc;
}
