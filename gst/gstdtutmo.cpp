// dtutmo -- the `dtutmo` element. See gstdtutmo.h and docs/DESIGN.md.
//
// Responsibilities (and nothing else): caps negotiation (transform_caps / fixate_caps),
// reading the input's signal description and HDR metadata from caps, one GObject property
// per model parameter (generated from dtutmo::param_names()), choosing the engine, mapping
// frames (honouring GstVideoMeta strides and offsets, and checking them against the buffer
// size), and resetting the temporal state at flush, segment, stream start, DISCONT and caps
// changes.
//
// Time: the engine's clock is the buffer's RUNNING TIME (PTS converted through the current
// segment), so adaptation follows what the viewer sees: at rate 2.0 the eye has half the
// time to adapt, and a seek starts again at running time 0 (the state is reset anyway).
// Buffers without PTS advance by the caps frame duration (1/30 s when the caps have none).
#include "gstdtutmo.h"

#include <gst/base/gstbasetransform.h>
#include <gst/video/video-hdr.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dtutmo/engine.h"
#include "dtutmo/frame.h"
#include "dtutmo/params.h"
#include "gstdtutmo_cuda.h"

GST_DEBUG_CATEGORY_STATIC(gst_dtutmo_debug);
#define GST_CAT_DEFAULT gst_dtutmo_debug

namespace {

// ---------------------------------------------------------------------------------------
// Formats

const char* const kSinkFormats[] = {"P010_10LE",  "P012_LE",    "P016_LE",   "I420_10LE",
                                    "I420_12LE",  "Y444_16LE",  "RGBA64_LE", "RGB10A2_LE",
                                    "BGR10A2_LE", "I420",       "NV12",      "RGBA",
                                    "BGRx"};
const char* const kSdrYuvOut[] = {"NV12", "I420"};
const char* const kSdrRgbOut[] = {"RGBA", "BGRA", "RGBx", "BGRx"};
const char* const kHdrYuvOut[] = {"P010_10LE"};
const char* const kHdrRgbOut[] = {"RGB10A2_LE", "RGBA64_LE"};

#define SINK_FORMATS_STR                                                                  \
  "{ P010_10LE, P012_LE, P016_LE, I420_10LE, I420_12LE, Y444_16LE, RGBA64_LE, RGB10A2_LE, " \
  "BGR10A2_LE, I420, NV12, RGBA, BGRx }"
#define SRC_FORMATS_STR \
  "{ RGBA, BGRA, RGBx, BGRx, NV12, I420, P010_10LE, RGB10A2_LE, RGBA64_LE }"

// Colorimetry strings of the outputs. YUV outputs use GStreamer's named colorimetries
// (limited range unless downstream asks for full). RGB outputs carry the numeric form
// "range:matrix:transfer:primaries" with full range and the RGB matrix, because a named
// YUV colorimetry on RGB caps makes GStreamer read the RGB as limited range
// (e.g. RGBA64_LE + bt2100-pq parses as 2:1:14:7).
const char* const kSdrYuvColorimetry[] = {"bt709", "1:3:5:1"};
const char* const kSdrRgbColorimetry[] = {"1:1:5:1", "sRGB"};  // BT.709 (BT.1886) or sRGB
const char* const kPqYuvColorimetry[] = {"bt2100-pq", "1:6:14:7"};
const char* const kPqRgbColorimetry[] = {"1:1:14:7"};
const char* const kHlgYuvColorimetry[] = {"bt2100-hlg", "1:6:15:7"};
const char* const kHlgRgbColorimetry[] = {"1:1:15:7"};

template <size_t N>
GValue string_list(const char* const (&v)[N]) {
  GValue list = G_VALUE_INIT;
  g_value_init(&list, GST_TYPE_LIST);
  for (size_t i = 0; i < N; ++i) {
    GValue s = G_VALUE_INIT;
    g_value_init(&s, G_TYPE_STRING);
    g_value_set_string(&s, v[i]);
    gst_value_list_append_and_take_value(&list, &s);
  }
  return list;
}

template <size_t N>
void set_string_list(GstStructure* s, const char* field, const char* const (&v)[N]) {
  if (N == 1) {
    gst_structure_set(s, field, G_TYPE_STRING, v[0], NULL);
    return;
  }
  GValue list = string_list(v);
  gst_structure_take_value(s, field, &list);
}

bool is_yuv_name(const char* name) {
  const GstVideoFormat f = gst_video_format_from_string(name);
  const GstVideoFormatInfo* fi = gst_video_format_get_info(f);
  return fi && GST_VIDEO_FORMAT_INFO_IS_YUV(fi);
}

int depth_of_name(const char* name) {
  const GstVideoFormat f = gst_video_format_from_string(name);
  const GstVideoFormatInfo* fi = gst_video_format_get_info(f);
  return fi ? int(GST_VIDEO_FORMAT_INFO_DEPTH(fi, 0)) : 8;
}

// A format with subsampled chroma (the 4:2:0 outputs: NV12, I420, P010_10LE).
bool is_subsampled_yuv_name(const char* name) {
  const GstVideoFormat f = gst_video_format_from_string(name);
  const GstVideoFormatInfo* fi = gst_video_format_get_info(f);
  return fi && GST_VIDEO_FORMAT_INFO_IS_YUV(fi) &&
         (GST_VIDEO_FORMAT_INFO_W_SUB(fi, 1) != 0 || GST_VIDEO_FORMAT_INFO_H_SUB(fi, 1) != 0);
}

bool target_is_hdr(dtutmo::Target t) { return t != dtutmo::Target::SDR; }

// ---------------------------------------------------------------------------------------
// Properties generated from the parameter registry

enum {
  PROP_0,
  PROP_ENGINE,
  PROP_DEVICE_ID,
  PROP_ADAPTATION_LUMINANCE,
  PROP_PUPIL_DIAMETER,
  PROP_ROD_WEIGHT,
  PROP_ENGINE_NAME,
  PROP_POST_MESSAGES,
  PROP_MESSAGE_INTERVAL,
  PROP_PARAM_FIRST = 100,  // PROP_PARAM_FIRST + i is dtutmo::param_names()[i]
};

enum GstDtutmoEngineKind { ENGINE_AUTO = 0, ENGINE_CPU = 1, ENGINE_CUDA = 2 };

#define DEFAULT_ENGINE ENGINE_AUTO
#define DEFAULT_DEVICE_ID -1
#define DEFAULT_POST_MESSAGES FALSE
#define DEFAULT_MESSAGE_INTERVAL 0

GType gst_dtutmo_engine_kind_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {ENGINE_AUTO, "CUDA when a device is usable, else CPU", "auto"},
      {ENGINE_CPU, "Multi-threaded CPU engine", "cpu"},
      {ENGINE_CUDA, "CUDA engine (fails when no device is usable)", "cuda"},
      {0, nullptr, nullptr}};
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstDtutmoEngineKind", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

// "display-mode" -> "GstDtutmoDisplayMode"
std::string enum_type_name(const char* param) {
  std::string out = "GstDtutmo";
  bool up = true;
  for (const char* c = param; *c; ++c) {
    if (*c == '-' || *c == '_') {
      up = true;
      continue;
    }
    out += up ? char(g_ascii_toupper(*c)) : *c;
    up = false;
  }
  return out;
}

// Registered once per process; the value tables live as long as the type system. Each
// value once (aliases such as display-mode=hybrid are accepted by the text interface,
// dtutmo::set_param, but not listed), described by what it does.
GType param_enum_type(const char* param, const dtutmo::ParamDetails& d) {
  const std::string tname = enum_type_name(param);
  GType t = g_type_from_name(tname.c_str());
  if (t) return t;
  GEnumValue* v = g_new0(GEnumValue, d.nicks.size() + 1);
  size_t k = 0;
  for (const dtutmo::ParamNick& n : d.nicks) {
    if (n.alias) continue;
    v[k].value = n.value;
    v[k].value_name = g_intern_string(n.description);
    v[k].value_nick = g_intern_string(n.nick);
    ++k;
  }
  return g_enum_register_static(g_intern_string(tname.c_str()), v);
}


}  // namespace

// ---------------------------------------------------------------------------------------
// Instance

// C++ state, allocated in init and freed in finalize (GObject zero-fills the instance and
// runs no constructors).
struct GstDtutmoState {
  std::mutex lock;  // guards params, applied, held_warning, engine pointer swaps, cached stats
  dtutmo::Params params;   // as set through the properties (what get_property returns)
  dtutmo::Params applied;  // the last valid set: what the engine and the output caps use
  std::string held_warning;  // why `applied` differs from `params`; posted with the next frame
  GstDtutmoEngineKind engine_kind = ENGINE_AUTO;
  int device_id = DEFAULT_DEVICE_ID;
  std::unique_ptr<dtutmo::Engine> engine;
  dtutmo::EngineStats stats;
  std::string engine_name;
  bool post_messages = DEFAULT_POST_MESSAGES;
  GstClockTime message_interval = DEFAULT_MESSAGE_INTERVAL;

  // Streaming-thread state.
  bool configured = false;
  std::atomic<bool> need_reset{true};
  dtutmo::Target negotiated_target = dtutmo::Target::SDR;
  double last_time_s = 0.0;
  std::atomic<bool> have_last_time{false};
  double frame_duration_s = 1.0 / 30.0;
  bool warned_untagged = false;
  bool warned_interlaced = false;
  GstClockTime last_post_rt = GST_CLOCK_TIME_NONE;  // running time of the last message
  std::string warned_colorimetry;    // the last unusable colorimetry warned about
  bool caps_error_posted = false;    // set_info posted the error of the current caps event
  GstCaps* rejected_caps = nullptr;  // the last input caps refused with an error
};

struct _GstDtutmo {
  GstVideoFilter parent;
  GstDtutmoState* st;
};

#define gst_dtutmo_parent_class parent_class
G_DEFINE_TYPE(GstDtutmo, gst_dtutmo, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE(dtutmo, "dtutmo", GST_RANK_NONE, GST_TYPE_DTUTMO);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(DTUTMO_VIDEO_CAPS_MAKE(SINK_FORMATS_STR)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(DTUTMO_VIDEO_CAPS_MAKE(SRC_FORMATS_STR)));

static void gst_dtutmo_set_property(GObject* object, guint prop_id, const GValue* value,
                                    GParamSpec* pspec);
static void gst_dtutmo_get_property(GObject* object, guint prop_id, GValue* value,
                                    GParamSpec* pspec);
static void gst_dtutmo_finalize(GObject* object);
static gboolean gst_dtutmo_start(GstBaseTransform* trans);
static gboolean gst_dtutmo_stop(GstBaseTransform* trans);
static GstCaps* gst_dtutmo_transform_caps(GstBaseTransform* trans, GstPadDirection direction,
                                          GstCaps* caps, GstCaps* filter);
static GstCaps* gst_dtutmo_fixate_caps(GstBaseTransform* trans, GstPadDirection direction,
                                       GstCaps* caps, GstCaps* othercaps);
static gboolean gst_dtutmo_sink_event(GstBaseTransform* trans, GstEvent* event);
static void gst_dtutmo_before_transform(GstBaseTransform* trans, GstBuffer* buffer);
static GstFlowReturn gst_dtutmo_transform(GstBaseTransform* trans, GstBuffer* inbuf,
                                          GstBuffer* outbuf);
static gboolean gst_dtutmo_set_info(GstVideoFilter* filter, GstCaps* incaps,
                                    GstVideoInfo* in_info, GstCaps* outcaps,
                                    GstVideoInfo* out_info);
static gboolean gst_dtutmo_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps* outcaps);
static dtutmo::Target current_target(GstDtutmo* self);

static void gst_dtutmo_class_init(GstDtutmoClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass* filter_class = GST_VIDEO_FILTER_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_dtutmo_debug, "dtutmo", 0, "dtutmo tone mapper");

  gobject_class->set_property = gst_dtutmo_set_property;
  gobject_class->get_property = gst_dtutmo_get_property;
  gobject_class->finalize = gst_dtutmo_finalize;

  g_object_class_install_property(
      gobject_class, PROP_ENGINE,
      g_param_spec_enum("engine", "Engine",
                        "Which engine runs the model: auto (CUDA when usable, else CPU; the "
                        "choice and the reason are logged), cpu, or cuda (error when no "
                        "usable device). Takes effect at the next READY->PAUSED",
                        gst_dtutmo_engine_kind_get_type(), DEFAULT_ENGINE,
                        GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                    GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_DEVICE_ID,
      g_param_spec_int("device-id", "Device ID",
                       "CUDA device index for the CUDA engine; -1: any (the CUDA context "
                       "of the neighbouring elements or the upstream buffers, else device 0)",
                       -1, 64,
                       DEFAULT_DEVICE_ID,
                       GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                   GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_ADAPTATION_LUMINANCE,
      g_param_spec_double("adaptation-luminance", "Adaptation luminance",
                          "Smoothed global adaptation luminance La of the last frame, cd/m2 "
                          "(read-only; 0 before the first frame)",
                          0.0, G_MAXDOUBLE, 0.0,
                          GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(
      gobject_class, PROP_PUPIL_DIAMETER,
      g_param_spec_double("pupil-diameter", "Pupil diameter",
                          "Smoothed pupil diameter of the last frame, mm [2, 8] (read-only; 0 "
                          "before the first frame)",
                          0.0, 8.0, 0.0, GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(
      gobject_class, PROP_ROD_WEIGHT,
      g_param_spec_double("rod-weight", "Rod weight",
                          "Mesopic rod weight at the adaptation luminance of the last frame "
                          "[0, 1] (read-only)",
                          0.0, 1.0, 0.0,
                          GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
  g_object_class_install_property(
      gobject_class, PROP_ENGINE_NAME,
      g_param_spec_string("engine-name", "Engine name",
                          "Engine in use: cpu or cuda; empty before READY->PAUSED (read-only)",
                          "", GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  g_object_class_install_property(
      gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean("post-messages", "Post messages",
                           "Post an element message named \"dtutmo\" with the adaptation "
                           "state (adaptation luminance, pupil, rod weight, response range, "
                           "cut, reset) per frame or per message-interval",
                           DEFAULT_POST_MESSAGES,
                           GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                       GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_MESSAGE_INTERVAL,
      g_param_spec_uint64("message-interval", "Message interval",
                          "Least running time between two messages, ns (0: every frame); "
                          "frames with a cut or a state reset are always posted",
                          0, G_MAXUINT64, DEFAULT_MESSAGE_INTERVAL,
                          GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                      GST_PARAM_MUTABLE_PLAYING)));

  // One property per model parameter, typed from the registry (params.cpp).
  const dtutmo::Params defaults;
  const auto& names = dtutmo::param_names();
  for (guint i = 0; i < names.size(); ++i) {
    const char* name = names[i].name;
    dtutmo::ParamDetails d;
    if (!dtutmo::param_details(name, &d)) continue;
    std::string text;
    dtutmo::get_param(defaults, name, &text);
    const GParamFlags flags =
        GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_NAME | G_PARAM_STATIC_NICK |
                    G_PARAM_STATIC_BLURB | GST_PARAM_MUTABLE_PLAYING);
    GParamSpec* spec = nullptr;
    switch (d.kind) {
      case dtutmo::ParamDetails::Float: {
        const double def = std::strtod(text.c_str(), nullptr);
        spec = g_param_spec_double(name, name, names[i].blurb, d.lo, d.hi,
                                   CLAMP(def, double(d.lo), double(d.hi)),
                                   GParamFlags(flags | GST_PARAM_CONTROLLABLE));
        break;
      }
      case dtutmo::ParamDetails::Int: {
        const int def = int(std::strtol(text.c_str(), nullptr, 10));
        spec = g_param_spec_int(name, name, names[i].blurb, int(d.lo), int(d.hi),
                                CLAMP(def, int(d.lo), int(d.hi)), flags);
        break;
      }
      case dtutmo::ParamDetails::Bool:
        spec = g_param_spec_boolean(name, name, names[i].blurb, text == "true", flags);
        break;
      case dtutmo::ParamDetails::Enum: {
        int def = 0;
        for (const auto& n : d.nicks)
          if (text == n.nick) {
            def = n.value;
            break;
          }
        const GType et = param_enum_type(name, d);
        gst_type_mark_as_plugin_api(et, GstPluginAPIFlags(0));
        spec = g_param_spec_enum(name, name, names[i].blurb, et, def, flags);
        break;
      }
    }
    if (spec) g_object_class_install_property(gobject_class, PROP_PARAM_FIRST + i, spec);
  }
  gst_type_mark_as_plugin_api(gst_dtutmo_engine_kind_get_type(), GstPluginAPIFlags(0));

  gst_element_class_set_static_metadata(
      element_class, "DTUTMO tone mapper", "Filter/Effect/Converter/Video",
      "Tone-maps HDR (PQ, HLG, linear) or SDR video to SDR, PQ or HLG displays with a model "
      "of the human eye (optics, photoreceptors, mesopic vision, temporal adaptation)",
      "dtutmo developers");
  // The system-memory templates preceded by their memory:CUDAMemory forms; also installs
  // set_context, query, propose_allocation and decide_allocation (gstdtutmo_cuda.cpp).
  gst_dtutmo_cuda_class_init(element_class, &sink_template, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_dtutmo_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_dtutmo_stop);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_dtutmo_transform_caps);
  trans_class->fixate_caps = GST_DEBUG_FUNCPTR(gst_dtutmo_fixate_caps);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_dtutmo_sink_event);
  trans_class->before_transform = GST_DEBUG_FUNCPTR(gst_dtutmo_before_transform);
  // Our own transform instead of GstVideoFilter's transform_frame path: that one turns a
  // buffer that cannot be mapped into a warning and a silently dropped frame; here it is
  // an element error.
  trans_class->transform = GST_DEBUG_FUNCPTR(gst_dtutmo_transform);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_dtutmo_set_caps);
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;
  filter_class->set_info = GST_DEBUG_FUNCPTR(gst_dtutmo_set_info);
}

static void gst_dtutmo_init(GstDtutmo* self) {
  self->st = new GstDtutmoState();
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), TRUE);
  gst_dtutmo_cuda_instance_init(GST_ELEMENT(self));
}

static void gst_dtutmo_finalize(GObject* object) {
  GstDtutmo* self = GST_DTUTMO(object);
  gst_caps_replace(&self->st->rejected_caps, nullptr);
  delete self->st;
  self->st = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

// The parameters the engine should run with: the last valid set, with the negotiated
// target in force until renegotiation (the output caps describe it).
static dtutmo::Params effective_params(GstDtutmoState* st) {
  dtutmo::Params p = st->applied;
  if (st->configured) p.target = st->negotiated_target;
  return p;
}

// Properties change one at a time, so a pair with a constraint between its two values
// (display-black <= display-peak / 10, percentile-low < percentile-high) can be invalid
// between two changes. Whatever the target, the element then keeps the last valid values
// of that pair, applies every other change, and keeps streaming; the next frame posts a
// warning saying so, unless the pair is valid again by then. validate() is the judge of
// what is valid. Call with st->lock held. Returns whether the applied display pair (which
// the HDR output caps carry) changed.
static bool update_applied_locked(GstDtutmoState* st) {
  struct Pair {
    const char* a;
    const char* b;
    float dtutmo::Params::*pa;
    float dtutmo::Params::*pb;
  };
  static const Pair kPairs[] = {
      {"display-black", "display-peak", &dtutmo::Params::display_black, &dtutmo::Params::display_peak},
      {"percentile-low", "percentile-high", &dtutmo::Params::pct_low, &dtutmo::Params::pct_high}};
  const dtutmo::Params old = st->applied;
  dtutmo::Params p = st->params;
  std::string held;
  for (const Pair& pr : kPairs) {
    dtutmo::Params alone = old;  // the requested pair with everything else as applied
    alone.*pr.pa = p.*pr.pa;
    alone.*pr.pb = p.*pr.pb;
    std::string why;
    if (dtutmo::validate(alone, &why)) continue;
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s%s=%g with %s=%g is not valid (%s); keeping %s=%g %s=%g",
                  held.empty() ? "" : "; ", pr.a, double(p.*pr.pa), pr.b, double(p.*pr.pb), why.c_str(),
                  pr.a, double(old.*pr.pa), pr.b, double(old.*pr.pb));
    held += buf;
    p.*pr.pa = old.*pr.pa;
    p.*pr.pb = old.*pr.pb;
  }
  std::string why;
  if (!dtutmo::validate(p, &why)) {  // not reachable through the properties' own ranges
    held += (held.empty() ? "" : "; ") + why + "; keeping the previous settings";
    p = old;
  }
  st->applied = p;
  st->held_warning = held;
  // the peak in force (display-peak 0 follows the target)
  return p.display_black != old.display_black ||
         dtutmo::display_peak_nits(p) != dtutmo::display_peak_nits(old);
}

// The warning of update_applied_locked, from the streaming thread, once per held change.
static void post_held_warning(GstDtutmo* self) {
  std::string w;
  {
    std::lock_guard<std::mutex> g(self->st->lock);
    w.swap(self->st->held_warning);
  }
  if (!w.empty())
    GST_ELEMENT_WARNING(self, LIBRARY, SETTINGS, ("Invalid dtutmo setting held back: %s", w.c_str()),
                        ("the value takes effect as soon as the pair is valid"));
}

// Call with st->lock held.
static void push_params_locked(GstDtutmo* self) {
  GstDtutmoState* st = self->st;
  if (!st->engine) return;
  std::string err;
  const dtutmo::Params p = effective_params(st);
  if (!dtutmo::validate(p, &err)) {
    GST_WARNING_OBJECT(self, "parameters not applied yet: %s", err.c_str());
    return;
  }
  if (!st->engine->set_params(p, &err))
    GST_WARNING_OBJECT(self, "engine refused the parameters: %s", err.c_str());
}

static void gst_dtutmo_set_property(GObject* object, guint prop_id, const GValue* value,
                                    GParamSpec* pspec) {
  GstDtutmo* self = GST_DTUTMO(object);
  GstDtutmoState* st = self->st;
  switch (prop_id) {
    case PROP_ENGINE: {
      std::lock_guard<std::mutex> g(st->lock);
      st->engine_kind = GstDtutmoEngineKind(g_value_get_enum(value));
      return;
    }
    case PROP_DEVICE_ID: {
      std::lock_guard<std::mutex> g(st->lock);
      st->device_id = g_value_get_int(value);
      return;
    }
    case PROP_POST_MESSAGES: {
      std::lock_guard<std::mutex> g(st->lock);
      st->post_messages = g_value_get_boolean(value);
      return;
    }
    case PROP_MESSAGE_INTERVAL: {
      std::lock_guard<std::mutex> g(st->lock);
      st->message_interval = g_value_get_uint64(value);
      return;
    }
    default:
      break;
  }
  const auto& names = dtutmo::param_names();
  if (prop_id < PROP_PARAM_FIRST || prop_id - PROP_PARAM_FIRST >= names.size()) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  const guint index = prop_id - PROP_PARAM_FIRST;
  std::string text;
  if (G_VALUE_HOLDS_DOUBLE(value)) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    text = g_ascii_dtostr(buf, sizeof buf, g_value_get_double(value));
  } else if (G_VALUE_HOLDS_INT(value)) {
    text = std::to_string(g_value_get_int(value));
  } else if (G_VALUE_HOLDS_BOOLEAN(value)) {
    text = g_value_get_boolean(value) ? "true" : "false";
  } else if (G_VALUE_HOLDS_ENUM(value)) {
    GEnumClass* ec = G_ENUM_CLASS(g_type_class_peek(G_VALUE_TYPE(value)));
    GEnumValue* ev = ec ? g_enum_get_value(ec, g_value_get_enum(value)) : nullptr;
    if (!ev) return;
    text = ev->value_nick;
  }
  bool target_changed = false, peak_changed = false;
  {
    std::lock_guard<std::mutex> g(st->lock);
    const dtutmo::Target old_target = st->params.target;
    std::string err;
    if (!dtutmo::set_param(st->params, names[index].name, text, &err)) {
      GST_WARNING_OBJECT(self, "%s", err.c_str());
      return;
    }
    target_changed = st->params.target != old_target;
    peak_changed = update_applied_locked(st);
    GST_DEBUG_OBJECT(self, "%s = %s%s%s", names[index].name, text.c_str(),
                     st->held_warning.empty() ? "" : "; held: ", st->held_warning.c_str());
    push_params_locked(self);
  }
  // A new target (or new HDR peak, which the output caps' metadata carry) needs new
  // output caps: renegotiate before the next buffer.
  if (target_changed || (peak_changed && target_is_hdr(current_target(self))))
    gst_base_transform_reconfigure_src(GST_BASE_TRANSFORM(self));
}

static void gst_dtutmo_get_property(GObject* object, guint prop_id, GValue* value,
                                    GParamSpec* pspec) {
  GstDtutmo* self = GST_DTUTMO(object);
  GstDtutmoState* st = self->st;
  std::lock_guard<std::mutex> g(st->lock);
  switch (prop_id) {
    case PROP_ENGINE: g_value_set_enum(value, st->engine_kind); return;
    case PROP_DEVICE_ID: g_value_set_int(value, st->device_id); return;
    case PROP_ADAPTATION_LUMINANCE: g_value_set_double(value, st->stats.adaptation_nits); return;
    case PROP_PUPIL_DIAMETER: g_value_set_double(value, st->stats.pupil_mm); return;
    case PROP_ROD_WEIGHT: g_value_set_double(value, st->stats.rod_weight); return;
    case PROP_ENGINE_NAME: g_value_set_string(value, st->engine_name.c_str()); return;
    case PROP_POST_MESSAGES: g_value_set_boolean(value, st->post_messages); return;
    case PROP_MESSAGE_INTERVAL: g_value_set_uint64(value, st->message_interval); return;
    default: break;
  }
  const auto& names = dtutmo::param_names();
  if (prop_id < PROP_PARAM_FIRST || prop_id - PROP_PARAM_FIRST >= names.size()) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  std::string text;
  if (!dtutmo::get_param(st->params, names[prop_id - PROP_PARAM_FIRST].name, &text)) return;
  if (G_VALUE_HOLDS_DOUBLE(value)) {
    g_value_set_double(value, g_ascii_strtod(text.c_str(), nullptr));
  } else if (G_VALUE_HOLDS_INT(value)) {
    g_value_set_int(value, int(std::strtol(text.c_str(), nullptr, 10)));
  } else if (G_VALUE_HOLDS_BOOLEAN(value)) {
    g_value_set_boolean(value, text == "true");
  } else if (G_VALUE_HOLDS_ENUM(value)) {
    GEnumClass* ec = G_ENUM_CLASS(g_type_class_peek(G_VALUE_TYPE(value)));
    GEnumValue* ev = ec ? g_enum_get_value_by_nick(ec, text.c_str()) : nullptr;
    if (ev) g_value_set_enum(value, ev->value);
  }
}

// ---------------------------------------------------------------------------------------
// Engine lifetime

static gboolean gst_dtutmo_start(GstBaseTransform* trans) {
  GstDtutmo* self = GST_DTUTMO(trans);
  GstDtutmoState* st = self->st;
  // Read the settings under the lock, but create the engine without it: the CUDA context
  // lookup posts messages on the bus, and a bus handler may read our properties.
  dtutmo::Params params;
  GstDtutmoEngineKind engine_kind;
  int device_id;
  {
    std::lock_guard<std::mutex> g(st->lock);
    update_applied_locked(st);
    params = st->applied;
    engine_kind = st->engine_kind;
    device_id = st->device_id;
  }
  std::string err;
  if (!dtutmo::validate(params, &err)) {
    GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS, ("Invalid dtutmo settings: %s", err.c_str()),
                      (NULL));
    return FALSE;
  }
  std::unique_ptr<dtutmo::Engine> engine;
  if (engine_kind != ENGINE_CPU) {
    std::string why;
    engine = gst_dtutmo_cuda_create_engine(GST_ELEMENT(self), device_id, &why);
    if (!engine) {
      if (engine_kind == ENGINE_CUDA) {
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                          ("CUDA engine requested but not usable: %s", why.c_str()),
                          ("engine=cuda device-id=%d", device_id));
        return FALSE;
      }
      GST_INFO_OBJECT(self, "engine=auto: using the CPU engine because the CUDA engine is "
                      "not usable: %s", why.c_str());
    } else {
      GST_INFO_OBJECT(self, "engine=%s: using the CUDA engine on device %d",
                      engine_kind == ENGINE_AUTO ? "auto" : "cuda", device_id);
    }
  }
  if (!engine) engine = dtutmo::create_cpu_engine(0);
  if (!engine) {
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("Could not create the dtutmo CPU engine"), (NULL));
    return FALSE;
  }
  if (!engine->set_params(params, &err)) {
    GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS, ("Engine refused the settings: %s", err.c_str()),
                      (NULL));
    return FALSE;
  }
  std::lock_guard<std::mutex> g(st->lock);
  // A property set meanwhile is pending in st->applied; hand the latest to the engine.
  if (!engine->set_params(st->applied, &err))
    GST_WARNING_OBJECT(self, "settings changed during start were refused: %s", err.c_str());
  st->engine_name = engine->name();
  st->engine = std::move(engine);
  st->configured = false;
  st->need_reset = true;
  st->have_last_time = false;
  st->stats = dtutmo::EngineStats();
  st->last_post_rt = GST_CLOCK_TIME_NONE;
  return TRUE;
}

static gboolean gst_dtutmo_stop(GstBaseTransform* trans) {
  GstDtutmo* self = GST_DTUTMO(trans);
  std::unique_ptr<dtutmo::Engine> old;
  {
    std::lock_guard<std::mutex> g(self->st->lock);
    old = std::move(self->st->engine);
    self->st->configured = false;
  }
  gst_caps_replace(&self->st->rejected_caps, nullptr);  // a restarted stream reports again
  gst_dtutmo_cuda_stop(GST_ELEMENT(self));
  return TRUE;  // `old` is destroyed outside the lock
}

// ---------------------------------------------------------------------------------------
// Caps

static dtutmo::Target current_target(GstDtutmo* self) {
  std::lock_guard<std::mutex> g(self->st->lock);
  return self->st->applied.target;
}

// Append to `out` the output structures for `target`, built on `base` (size, framerate,
// PAR... of the input), YUV first when `yuv_first`.
static GstCaps* append_outputs(GstCaps* out, const GstStructure* base, dtutmo::Target target,
                               bool yuv_first) {
  GstStructure* yuv = gst_structure_copy(base);
  GstStructure* rgb = gst_structure_copy(base);
  switch (target) {
    case dtutmo::Target::SDR:
      set_string_list(yuv, "format", kSdrYuvOut);
      set_string_list(yuv, "colorimetry", kSdrYuvColorimetry);
      set_string_list(rgb, "format", kSdrRgbOut);
      set_string_list(rgb, "colorimetry", kSdrRgbColorimetry);
      break;
    case dtutmo::Target::PQ:
      set_string_list(yuv, "format", kHdrYuvOut);
      set_string_list(yuv, "colorimetry", kPqYuvColorimetry);
      set_string_list(rgb, "format", kHdrRgbOut);
      set_string_list(rgb, "colorimetry", kPqRgbColorimetry);
      break;
    case dtutmo::Target::HLG:
      set_string_list(yuv, "format", kHdrYuvOut);
      set_string_list(yuv, "colorimetry", kHlgYuvColorimetry);
      set_string_list(rgb, "format", kHdrRgbOut);
      set_string_list(rgb, "colorimetry", kHlgRgbColorimetry);
      break;
  }
  out = gst_caps_merge_structure(out, yuv_first ? yuv : rgb);
  return gst_caps_merge_structure(out, yuv_first ? rgb : yuv);
}

static bool structure_is_yuv_input(const GstStructure* s) {
  const char* f = gst_structure_get_string(s, "format");
  return f && is_yuv_name(f);
}

// System memory in and out; gst_dtutmo_transform_caps adds the memory:CUDAMemory forms.
static GstCaps* gst_dtutmo_transform_caps_sysmem(GstBaseTransform* trans,
                                                 GstPadDirection direction, GstCaps* caps,
                                                 GstCaps* filter);

static GstCaps* gst_dtutmo_transform_caps(GstBaseTransform* trans, GstPadDirection direction,
                                          GstCaps* caps, GstCaps* filter) {
  return gst_dtutmo_cuda_transform_caps(trans, direction, caps, filter,
                                        gst_dtutmo_transform_caps_sysmem);
}

static GstCaps* gst_dtutmo_transform_caps_sysmem(GstBaseTransform* trans,
                                                 GstPadDirection direction, GstCaps* caps,
                                                 GstCaps* filter) {
  GstDtutmo* self = GST_DTUTMO(trans);
  const dtutmo::Target target = current_target(self);
  GstCaps* result = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    GstCapsFeatures* features = gst_caps_get_features(caps, i);
    // System memory only (the CUDA memory path is added by the CUDA work).
    if (features && !gst_caps_features_is_any(features) &&
        !gst_caps_features_is_equal(features, GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY))
      continue;
    GstStructure* base = gst_structure_copy(gst_caps_get_structure(caps, i));
    const bool yuv_first = direction == GST_PAD_SINK && structure_is_yuv_input(base);
    gst_structure_remove_fields(base, "format", "colorimetry", "chroma-site",
                                "mastering-display-info", "content-light-level", NULL);
    if (direction == GST_PAD_SINK) {
      result = append_outputs(result, base, target, yuv_first);
    } else {
      GValue list = string_list(kSinkFormats);
      gst_structure_take_value(base, "format", &list);
      result = gst_caps_merge_structure(result, gst_structure_copy(base));
    }
    gst_structure_free(base);
  }
  if (filter) {
    GstCaps* tmp = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(result);
    result = tmp;
  }
  GST_DEBUG_OBJECT(self, "transformed %" GST_PTR_FORMAT " (%s, target %s) into %" GST_PTR_FORMAT,
                   caps, direction == GST_PAD_SINK ? "sink" : "src",
                   dtutmo::target_name(target), result);
  return result;
}

// Higher is better: same family (YUV/RGB) as the input keeps downstream conversions cheap;
// for HDR outputs a 16-bit input prefers the 16-bit RGB output; then the list order.
static int format_score(const char* fmt, bool in_yuv, int in_depth, dtutmo::Target target,
                        int order) {
  int score = 1000 - order;
  if (is_yuv_name(fmt) == in_yuv) score += 10000;
  const int d = depth_of_name(fmt);
  if (target_is_hdr(target) && in_depth > 10 && d > 10) score += 5000;
  if (target_is_hdr(target) != (d > 8)) score -= 100000;  // never chosen over a match
  return score;
}

static void add_hdr_metadata(GstCaps* caps, const dtutmo::Params& p) {
  // BT.2020 primaries and D65, in the 0.00002 units of SMPTE ST 2086; the "mastering
  // display" of our output is the display we tone-mapped for.
  GstVideoMasteringDisplayInfo minfo;
  gst_video_mastering_display_info_init(&minfo);
  const guint16 prim[3][2] = {{35400, 14600}, {8500, 39850}, {6550, 2300}};
  for (int i = 0; i < 3; ++i) {
    minfo.display_primaries[i].x = prim[i][0];
    minfo.display_primaries[i].y = prim[i][1];
  }
  minfo.white_point.x = 15635;
  minfo.white_point.y = 16450;
  minfo.max_display_mastering_luminance = guint32(std::lround(dtutmo::display_peak_nits(p) * 10000.0));
  minfo.min_display_mastering_luminance = guint32(std::lround(p.display_black * 10000.0));
  gst_video_mastering_display_info_add_to_caps(&minfo, caps);
  // MaxCLL: nothing brighter than the display peak is produced. MaxFALL: unknown (0).
  GstVideoContentLightLevel cll;
  gst_video_content_light_level_init(&cll);
  cll.max_content_light_level = guint16(CLAMP(std::lround(dtutmo::display_peak_nits(p)), 0L, 65535L));
  cll.max_frame_average_light_level = 0;
  gst_video_content_light_level_add_to_caps(&cll, caps);
}

static GstCaps* gst_dtutmo_fixate_caps(GstBaseTransform* trans, GstPadDirection direction,
                                       GstCaps* caps, GstCaps* othercaps) {
  GstDtutmo* self = GST_DTUTMO(trans);
  if (direction != GST_PAD_SINK)
    return GST_BASE_TRANSFORM_CLASS(parent_class)->fixate_caps(trans, direction, caps, othercaps);

  dtutmo::Params params;
  {
    std::lock_guard<std::mutex> g(self->st->lock);
    params = self->st->applied;
  }
  othercaps = gst_caps_make_writable(othercaps);
  const GstStructure* ins = gst_caps_get_structure(caps, 0);
  const char* in_fmt = gst_structure_get_string(ins, "format");
  const bool in_yuv = in_fmt && is_yuv_name(in_fmt);
  const int in_depth = in_fmt ? depth_of_name(in_fmt) : 8;

  // Pick the best (structure, format) pair.
  int best_score = G_MININT, order = 0;
  guint best_idx = 0;
  std::string best_fmt;
  for (guint i = 0; i < gst_caps_get_size(othercaps); ++i) {
    const GstStructure* s = gst_caps_get_structure(othercaps, i);
    const GValue* v = gst_structure_get_value(s, "format");
    if (!v) continue;
    auto consider = [&](const char* f) {
      const int sc = format_score(f, in_yuv, in_depth, params.target, order++);
      if (sc > best_score) {
        best_score = sc;
        best_idx = i;
        best_fmt = f;
      }
    };
    if (G_VALUE_HOLDS_STRING(v)) {
      consider(g_value_get_string(v));
    } else if (GST_VALUE_HOLDS_LIST(v)) {
      for (guint k = 0; k < gst_value_list_get_size(v); ++k) {
        const GValue* e = gst_value_list_get_value(v, k);
        if (G_VALUE_HOLDS_STRING(e)) consider(g_value_get_string(e));
      }
    }
  }
  if (best_fmt.empty()) {
    GST_WARNING_OBJECT(self, "no output format in %" GST_PTR_FORMAT, othercaps);
    return gst_caps_fixate(othercaps);
  }
  GstStructure* s = gst_structure_copy(gst_caps_get_structure(othercaps, best_idx));
  gst_structure_set(s, "format", G_TYPE_STRING, best_fmt.c_str(), NULL);
  // Same size, frame rate and pixel aspect ratio as the input.
  gint w, h, n, d;
  if (gst_structure_get_int(ins, "width", &w)) gst_structure_fixate_field_nearest_int(s, "width", w);
  if (gst_structure_get_int(ins, "height", &h)) gst_structure_fixate_field_nearest_int(s, "height", h);
  if (gst_structure_get_fraction(ins, "framerate", &n, &d))
    gst_structure_fixate_field_nearest_fraction(s, "framerate", n, d);
  if (gst_structure_get_fraction(ins, "pixel-aspect-ratio", &n, &d))
    gst_structure_fixate_field_nearest_fraction(s, "pixel-aspect-ratio", n, d);
  const char* im = gst_structure_get_string(ins, "interlace-mode");
  if (im) gst_structure_fixate_field_string(s, "interlace-mode", im);
  // YUV outputs: limited range unless downstream only takes full (then the list has
  // only the full-range form left). The first colorimetry of the list is preferred.
  const GValue* cv = gst_structure_get_value(s, "colorimetry");
  if (cv && GST_VALUE_HOLDS_LIST(cv) && gst_value_list_get_size(cv) > 0) {
    const GValue* first = gst_value_list_get_value(cv, 0);
    if (G_VALUE_HOLDS_STRING(first))
      gst_structure_fixate_field_string(s, "colorimetry", g_value_get_string(first));
  }
  gst_structure_fixate(s);
  // 4:2:0 outputs say where their chroma sits. Downstream that names no chroma-site gets
  // centre-sited chroma (the engine's 2x2 mean, GstVideoInfo's reading of caps without the
  // field), and caps without the field were encoded as H.264 / HEVC's default, left-cosited
  // ("mpeg2": x264enc wrote chroma_loc_type 0), so players shifted the chroma by half a
  // luma pixel. Naming it ("jpeg") changes no output byte; x264enc / x265enc write it.
  if (is_subsampled_yuv_name(best_fmt.c_str()) && !gst_structure_has_field(s, "chroma-site"))
    gst_structure_set(s, "chroma-site", G_TYPE_STRING, "jpeg", NULL);
  gst_structure_remove_fields(s, "mastering-display-info", "content-light-level", NULL);
  GstCaps* result = gst_caps_new_full(s, NULL);
  gst_dtutmo_cuda_keep_features(result, othercaps, best_idx);  // CUDA memory stays CUDA
  if (target_is_hdr(params.target)) add_hdr_metadata(result, params);
  gst_caps_unref(othercaps);
  GST_DEBUG_OBJECT(self, "fixated to %" GST_PTR_FORMAT, result);
  return result;
}

// GStreamer keeps whatever numbers "range:matrix:transfer:primaries" caps carry (e.g. 99)
// in its enum fields, and loading an enum outside its values is undefined behaviour: the
// fields are read as ints and checked against the registered values before any use.
template <typename E>
static int enum_int(const E& e) {
  static_assert(sizeof(E) == sizeof(int), "GStreamer's colorimetry enums are ints");
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}
template <typename E>
static bool enum_known(const E& e, GType type) {
  GEnumClass* ec = G_ENUM_CLASS(g_type_class_ref(type));
  const bool known = g_enum_get_value(ec, enum_int(e)) != nullptr;
  g_type_class_unref(ec);
  return known;
}

// Input signal from caps. Returns false for colorimetries we cannot decode.
static bool input_signal(GstDtutmo* self, GstCaps* caps, const GstVideoInfo* info,
                         dtutmo::SignalDesc* sig, std::string* why) {
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  const GstVideoFormatInfo* fi = info->finfo;
  const bool yuv = GST_VIDEO_FORMAT_INFO_IS_YUV(fi);
  const int depth = int(GST_VIDEO_FORMAT_INFO_DEPTH(fi, 0));
  const GstVideoColorimetry& c = info->colorimetry;

  // GStreamer replaces a colorimetry it cannot parse, or one invalid for the format, by its
  // default for the format (BT.709 for most), which would silently decode HDR as SDR. Such
  // a tag, or one whose transfer function is unknown (0, or not a GStreamer value), counts
  // as no tag: the same documented default for every format, with a warning.
  const char* tag = gst_structure_get_string(s, "colorimetry");
  GstVideoColorimetry parsed;
  const bool known = enum_known(c.range, GST_TYPE_VIDEO_COLOR_RANGE) &&
                     enum_known(c.matrix, GST_TYPE_VIDEO_COLOR_MATRIX) &&
                     enum_known(c.transfer, GST_TYPE_VIDEO_TRANSFER_FUNCTION) &&
                     enum_known(c.primaries, GST_TYPE_VIDEO_COLOR_PRIMARIES);
  const bool untagged = !gst_structure_has_field(s, "colorimetry");
  if (untagged || !tag || !known || !gst_video_colorimetry_from_string(&parsed, tag) ||
      enum_int(parsed.transfer) != enum_int(c.transfer) || c.transfer == GST_VIDEO_TRANSFER_UNKNOWN) {
    // A documented default (gst/README.md), announced once per element and tag.
    if (depth >= 10) {
      sig->transfer = dtutmo::Transfer::PQ;
      sig->primaries = dtutmo::Primaries::BT2020;
      sig->matrix = dtutmo::YuvMatrix::BT2020NC;
    } else {
      sig->transfer = dtutmo::Transfer::BT1886;
      sig->primaries = dtutmo::Primaries::BT709;
      sig->matrix = dtutmo::YuvMatrix::BT709;
    }
    sig->full_range = !yuv;
    if (!untagged) {
      const std::string t = tag ? tag : "(not a string)";
      if (self->st->warned_colorimetry != t) {
        self->st->warned_colorimetry = t;
        GST_ELEMENT_WARNING(self, STREAM, FORMAT,
                            ("Input colorimetry '%s' has no usable transfer function; decoding it as "
                             "untagged %d-bit input: %s",
                             t.c_str(), depth,
                             depth >= 10 ? "PQ (SMPTE ST 2084) with BT.2020 primaries"
                                         : "BT.709 (BT.1886 display)"),
                            ("%s input with colorimetry=%s: set one GStreamer knows (e.g. bt2100-pq, "
                             "bt2100-hlg, bt709, or range:matrix:transfer:primaries with known values)",
                             GST_VIDEO_FORMAT_INFO_NAME(fi), t.c_str()));
      }
    } else if (depth >= 10 && !self->st->warned_untagged) {
      self->st->warned_untagged = true;
      GST_ELEMENT_WARNING(self, STREAM, FORMAT,
                          ("Input caps have no colorimetry; assuming PQ (SMPTE ST 2084) with "
                           "BT.2020 primaries%s",
                           yuv ? ", BT.2020 matrix, limited range" : ""),
                          ("%s input without colorimetry: set colorimetry in the caps "
                           "(e.g. bt2100-pq, bt2100-hlg, bt709)",
                           GST_VIDEO_FORMAT_INFO_NAME(fi)));
    }
    return true;
  }

  switch (c.transfer) {
    case GST_VIDEO_TRANSFER_SMPTE2084: sig->transfer = dtutmo::Transfer::PQ; break;
    case GST_VIDEO_TRANSFER_ARIB_STD_B67: sig->transfer = dtutmo::Transfer::HLG; break;
    case GST_VIDEO_TRANSFER_GAMMA10: sig->transfer = dtutmo::Transfer::Linear; break;
    case GST_VIDEO_TRANSFER_SRGB: sig->transfer = dtutmo::Transfer::SRGB; break;
    case GST_VIDEO_TRANSFER_BT709:
    case GST_VIDEO_TRANSFER_BT601:
    case GST_VIDEO_TRANSFER_BT2020_10:
    case GST_VIDEO_TRANSFER_BT2020_12:
    case GST_VIDEO_TRANSFER_SMPTE240M:
    case GST_VIDEO_TRANSFER_UNKNOWN:
      // SDR video: displayed through BT.1886 (gamma 2.4).
      sig->transfer = dtutmo::Transfer::BT1886;
      break;
    // BT.470 System M and B/G (old NTSC and PAL/SECAM SD tags): the display gamma the tag
    // names, a pure power 2.2 / 2.8, as FFmpeg's zscale and colorspace and GStreamer's own
    // transfer decode read them.
    case GST_VIDEO_TRANSFER_GAMMA22: sig->transfer = dtutmo::Transfer::Gamma22; break;
    case GST_VIDEO_TRANSFER_GAMMA28: sig->transfer = dtutmo::Transfer::Gamma28; break;
    default: {
      // A GStreamer transfer function that is not a display transfer (log100, log316...).
      GEnumClass* ec = G_ENUM_CLASS(g_type_class_ref(GST_TYPE_VIDEO_TRANSFER_FUNCTION));
      const GEnumValue* ev = g_enum_get_value(ec, enum_int(c.transfer));
      *why = std::string("unsupported transfer function '") + (ev ? ev->value_nick : "?") +
             "' in colorimetry " + (tag ? tag : "?") + " (supported: PQ, HLG, linear, sRGB and the SDR gammas)";
      g_type_class_unref(ec);
      return false;
    }
  }
  // BT.601 primaries (SMPTE 170M, BT.470BG) are close to BT.709's and decoded as such.
  sig->primaries = c.primaries == GST_VIDEO_COLOR_PRIMARIES_BT2020 ? dtutmo::Primaries::BT2020
                                                                 : dtutmo::Primaries::BT709;
  switch (c.matrix) {
    case GST_VIDEO_COLOR_MATRIX_BT2020: sig->matrix = dtutmo::YuvMatrix::BT2020NC; break;
    case GST_VIDEO_COLOR_MATRIX_BT601: sig->matrix = dtutmo::YuvMatrix::BT601; break;
    case GST_VIDEO_COLOR_MATRIX_BT709: sig->matrix = dtutmo::YuvMatrix::BT709; break;
    default:
      sig->matrix = sig->primaries == dtutmo::Primaries::BT2020 ? dtutmo::YuvMatrix::BT2020NC
                                                                : dtutmo::YuvMatrix::BT709;
      break;
  }
  sig->full_range = !yuv || c.range == GST_VIDEO_COLOR_RANGE_0_255;
  return true;
}

static bool output_signal(const GstVideoInfo* info, dtutmo::SignalDesc* sig,
                          dtutmo::Target* target) {
  const GstVideoColorimetry& c = info->colorimetry;
  const bool yuv = GST_VIDEO_FORMAT_INFO_IS_YUV(info->finfo);
  const bool hdr_depth = GST_VIDEO_FORMAT_INFO_DEPTH(info->finfo, 0) > 8;
  if (c.transfer == GST_VIDEO_TRANSFER_SMPTE2084 || c.transfer == GST_VIDEO_TRANSFER_ARIB_STD_B67) {
    if (!hdr_depth) return false;
    *target = c.transfer == GST_VIDEO_TRANSFER_SMPTE2084 ? dtutmo::Target::PQ
                                                         : dtutmo::Target::HLG;
    sig->transfer = *target == dtutmo::Target::PQ ? dtutmo::Transfer::PQ : dtutmo::Transfer::HLG;
    sig->primaries = dtutmo::Primaries::BT2020;
    sig->matrix = dtutmo::YuvMatrix::BT2020NC;
  } else {
    if (hdr_depth) return false;
    *target = dtutmo::Target::SDR;
    sig->transfer = c.transfer == GST_VIDEO_TRANSFER_SRGB ? dtutmo::Transfer::SRGB
                                                          : dtutmo::Transfer::BT1886;
    sig->primaries = dtutmo::Primaries::BT709;
    sig->matrix = dtutmo::YuvMatrix::BT709;
  }
  sig->full_range = !yuv || c.range == GST_VIDEO_COLOR_RANGE_0_255;
  return true;
}

// One error per refused input caps. After a refusal upstream retries the same caps
// (reconfigure), several times, and each retry would post the same error again; and the
// caps event handler must not add a second error blaming downstream for a refusal that
// set_info has explained. Returns whether to post (the caps were not refused before).
static bool first_refusal(GstDtutmo* self, GstCaps* incaps) {
  GstDtutmoState* st = self->st;
  st->caps_error_posted = true;
  if (st->rejected_caps && incaps && gst_caps_is_equal(st->rejected_caps, incaps)) {
    GST_DEBUG_OBJECT(self, "caps refused again (error already posted): %" GST_PTR_FORMAT, incaps);
    return false;
  }
  gst_caps_replace(&st->rejected_caps, incaps);
  return true;
}

static gboolean gst_dtutmo_set_info(GstVideoFilter* filter, GstCaps* incaps,
                                    GstVideoInfo* in_info, GstCaps* outcaps,
                                    GstVideoInfo* out_info) {
  GstDtutmo* self = GST_DTUTMO(filter);
  GstDtutmoState* st = self->st;
  dtutmo::StreamConfig cfg;
  cfg.width = GST_VIDEO_INFO_WIDTH(in_info);
  cfg.height = GST_VIDEO_INFO_HEIGHT(in_info);
  cfg.in_format = dtutmo::format_from_name(GST_VIDEO_INFO_NAME(in_info));
  cfg.out_format = dtutmo::format_from_name(GST_VIDEO_INFO_NAME(out_info));
  if (cfg.in_format == dtutmo::PixelFormat::COUNT || cfg.out_format == dtutmo::PixelFormat::COUNT ||
      GST_VIDEO_INFO_WIDTH(out_info) != cfg.width || GST_VIDEO_INFO_HEIGHT(out_info) != cfg.height) {
    if (first_refusal(self, incaps))
      GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Unsupported conversion"),
                      ("%" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, incaps, outcaps));
    return FALSE;
  }
  std::string why;
  if (!input_signal(self, incaps, in_info, &cfg.in, &why)) {
    if (first_refusal(self, incaps))
      GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Cannot decode the input: %s", why.c_str()),
                      ("%" GST_PTR_FORMAT, incaps));
    return FALSE;
  }
  // Interlaced input goes through as whole frames (the caps' interlace mode is kept):
  // the spatial stages and the 4:2:0 chroma, read and written per frame row pair, mix
  // the two fields. It works, but deinterlacing first is better: said once.
  if (GST_VIDEO_INFO_IS_INTERLACED(in_info) && !st->warned_interlaced) {
    st->warned_interlaced = true;
    const char* mode = gst_video_interlace_mode_to_string(GST_VIDEO_INFO_INTERLACE_MODE(in_info));
    GST_ELEMENT_WARNING(self, STREAM, FORMAT,
                        ("Input is interlaced (interlace-mode=%s): dtutmo processes whole frames, "
                         "so local adaptation and the 4:2:0 chroma mix the two fields; "
                         "deinterlace upstream (e.g. deinterlace) for clean fields",
                         mode ? mode : "?"),
                        ("%" GST_PTR_FORMAT, incaps));
  }
  dtutmo::Target target;
  if (!output_signal(out_info, &cfg.out, &target)) {
    if (first_refusal(self, incaps))
      GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                      ("Output format and colorimetry do not match: SDR needs an 8-bit format, "
                       "PQ/HLG a 10-bit or deeper one"),
                      ("%" GST_PTR_FORMAT, outcaps));
    return FALSE;
  }
  // 4:2:0 chroma siting as GStreamer reads the caps (chroma-site; absent: its default for
  // the size, "mpeg2" = h-cosited above 576 lines, "jpeg" = centre below).
  cfg.in.chroma_h_cosited = (in_info->chroma_site & GST_VIDEO_CHROMA_SITE_H_COSITED) != 0;
  cfg.in.chroma_v_cosited = (in_info->chroma_site & GST_VIDEO_CHROMA_SITE_V_COSITED) != 0;
  cfg.out.chroma_h_cosited = (out_info->chroma_site & GST_VIDEO_CHROMA_SITE_H_COSITED) != 0;
  cfg.out.chroma_v_cosited = (out_info->chroma_site & GST_VIDEO_CHROMA_SITE_V_COSITED) != 0;
  GstVideoMasteringDisplayInfo minfo;
  if (gst_video_mastering_display_info_from_caps(&minfo, incaps)) {
    cfg.hdr.master_max = float(minfo.max_display_mastering_luminance) / 10000.0f;
    cfg.hdr.master_min = float(minfo.min_display_mastering_luminance) / 10000.0f;
  }
  GstVideoContentLightLevel cll;
  if (gst_video_content_light_level_from_caps(&cll, incaps)) {
    cfg.hdr.max_cll = float(cll.max_content_light_level);
    cfg.hdr.max_fall = float(cll.max_frame_average_light_level);
  }

  std::lock_guard<std::mutex> g(st->lock);
  if (!st->engine) {
    if (first_refusal(self, incaps))
      GST_ELEMENT_ERROR(self, CORE, STATE_CHANGE, ("No engine (element not started)"), (NULL));
    return FALSE;
  }
  if (!gst_dtutmo_cuda_check_caps(GST_ELEMENT(self), incaps, outcaps, st->engine.get())) {
    first_refusal(self, incaps);  // CUDA memory without the CUDA engine (it posted why)
    return FALSE;
  }
  st->negotiated_target = target;
  st->configured = true;
  std::string err;
  const dtutmo::Params p = effective_params(st);
  if (!dtutmo::validate(p, &err) || !st->engine->set_params(p, &err)) {
    if (first_refusal(self, incaps))
      GST_ELEMENT_ERROR(self, LIBRARY, SETTINGS, ("Invalid dtutmo settings: %s", err.c_str()),
                        (NULL));
    st->configured = false;
    return FALSE;
  }
  if (!st->engine->configure(cfg, &err)) {
    if (first_refusal(self, incaps))
      GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("The %s engine cannot run this stream: %s",
                                                st->engine->name(), err.c_str()),
                      ("%" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, incaps, outcaps));
    st->configured = false;
    return FALSE;
  }
  st->frame_duration_s = (in_info->fps_n > 0 && in_info->fps_d > 0)
                             ? double(in_info->fps_d) / double(in_info->fps_n)
                             : 1.0 / 30.0;
  st->need_reset = true;
  st->have_last_time = false;
  GST_INFO_OBJECT(self, "%s engine: %dx%d %s -> %s, target %s, in transfer %d", st->engine->name(),
                  cfg.width, cfg.height, GST_VIDEO_INFO_NAME(in_info),
                  GST_VIDEO_INFO_NAME(out_info), dtutmo::target_name(target), int(cfg.in.transfer));
  return TRUE;
}

// GstVideoFilter's set_caps (which calls set_info) switches a filter without a
// transform_frame vfunc to in-place mode; we convert formats, so never in place.
static gboolean gst_dtutmo_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps* outcaps) {
  const gboolean ok = GST_BASE_TRANSFORM_CLASS(parent_class)->set_caps(trans, incaps, outcaps);
  gst_base_transform_set_in_place(trans, FALSE);
  gst_base_transform_set_passthrough(trans, FALSE);
  return ok;
}

// ---------------------------------------------------------------------------------------
// Events and data

static gboolean gst_dtutmo_sink_event(GstBaseTransform* trans, GstEvent* event) {
  GstDtutmo* self = GST_DTUTMO(trans);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_SEGMENT:
    case GST_EVENT_STREAM_START:
      // Serialized (or flush) events: the streaming thread sees the flag at the next buffer.
      GST_DEBUG_OBJECT(self, "%s: temporal state reset", GST_EVENT_TYPE_NAME(event));
      self->st->need_reset = true;
      self->st->have_last_time = false;
      break;
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      GstCaps* in = caps ? gst_caps_ref(caps) : nullptr;
      self->st->caps_error_posted = false;
      const gboolean ok = GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
      if (ok) {
        gst_caps_replace(&self->st->rejected_caps, nullptr);
      } else if (in && !self->st->caps_error_posted && first_refusal(self, in)) {
        // Nothing downstream takes what this target produces (set_info was not reached).
        GstCaps* peer = gst_pad_peer_query_caps(GST_BASE_TRANSFORM_SRC_PAD(trans), nullptr);
        const dtutmo::Target t = current_target(self);
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION,
                          ("dtutmo cannot produce anything downstream accepts for target=%s "
                           "(%s needs one of %s)",
                           dtutmo::target_name(t), dtutmo::target_name(t),
                           target_is_hdr(t) ? "P010_10LE, RGB10A2_LE, RGBA64_LE"
                                            : "RGBA, BGRA, RGBx, BGRx, NV12, I420"),
                          ("input %" GST_PTR_FORMAT ", downstream accepts %" GST_PTR_FORMAT, in,
                           peer));
        if (peer) gst_caps_unref(peer);
      }
      if (in) gst_caps_unref(in);
      return ok;
    }
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

static void gst_dtutmo_before_transform(GstBaseTransform* trans, GstBuffer* buffer) {
  // CUDA memory of another context upstream: move the engine there (gstdtutmo_cuda.cpp).
  gst_dtutmo_cuda_before_transform(trans, buffer, GST_DTUTMO(trans)->st->engine.get());
  // Controlled properties (GstController bindings) follow the stream time.
  const GstClockTime ts = GST_BUFFER_PTS(buffer);
  if (GST_CLOCK_TIME_IS_VALID(ts) && trans->segment.format == GST_FORMAT_TIME) {
    const GstClockTime stream_time =
        gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, ts);
    if (GST_CLOCK_TIME_IS_VALID(stream_time)) gst_object_sync_values(GST_OBJECT(trans), stream_time);
  }
}

// Does every plane of `buf`, as `info` and its GstVideoMeta (if any) lay it out, lie
// inside the buffer? gst_video_frame_map checks the total size only when there is no meta,
// and a meta's strides/offsets are not checked against the memory at all.
static bool buffer_fits(GstBuffer* buf, const GstVideoInfo* info, std::string* why) {
  const gsize size = gst_buffer_get_size(buf);
  const GstVideoMeta* meta = gst_buffer_get_video_meta(buf);
  const GstVideoFormatInfo* fi = info->finfo;
  const int w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
  if (meta) {
    if (int(meta->width) != w || int(meta->height) != h || meta->format != GST_VIDEO_INFO_FORMAT(info) ||
        meta->n_planes != GST_VIDEO_INFO_N_PLANES(info)) {
      *why = "video meta does not match the caps";
      return false;
    }
  } else if (size < GST_VIDEO_INFO_SIZE(info)) {
    *why = "buffer of " + std::to_string(size) + " bytes, caps promise " +
           std::to_string(GST_VIDEO_INFO_SIZE(info));
    return false;
  }
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES(info); ++p) {
    const gsize offset = meta ? meta->offset[p] : GST_VIDEO_INFO_PLANE_OFFSET(info, p);
    const gint stride = meta ? meta->stride[p] : GST_VIDEO_INFO_PLANE_STRIDE(info, p);
    // Components of this plane: width and height of the plane from the format info.
    gint comp[GST_VIDEO_MAX_COMPONENTS];
    gst_video_format_info_component(fi, p, comp);
    const int pw = GST_VIDEO_FORMAT_INFO_SCALE_WIDTH(fi, comp[0], w);
    const int ph = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(fi, comp[0], h);
    const gsize row = gsize(pw) * GST_VIDEO_FORMAT_INFO_PSTRIDE(fi, comp[0]);
    if (stride < 0 || gsize(stride) < row) {
      *why = "plane " + std::to_string(p) + " stride " + std::to_string(stride) +
             " is below its row size " + std::to_string(row);
      return false;
    }
    const gsize need = offset + gsize(stride) * gsize(ph > 0 ? ph - 1 : 0) + row;
    if (need > size) {
      *why = "plane " + std::to_string(p) + " needs " + std::to_string(need) +
             " bytes, the buffer has " + std::to_string(size);
      return false;
    }
  }
  return true;
}

// post-messages: the adaptation state after this frame as an element message, like
// `level` posts levels (fields documented in gst/README.md). With a message-interval,
// one message per interval of running time, plus every frame with a cut or a reset so
// that no event is lost or moved in time. Streaming thread.
static void post_state_message(GstDtutmo* self, GstBuffer* inbuf, GstClockTime rt, double t,
                               const dtutmo::EngineStats& stats, bool reset,
                               GstClockTime interval) {
  GstDtutmoState* st = self->st;
  GstBaseTransform* trans = GST_BASE_TRANSFORM(self);
  const GstClockTime now = GST_CLOCK_TIME_IS_VALID(rt) ? rt : GstClockTime(t * GST_SECOND);
  const bool due = interval == 0 || !GST_CLOCK_TIME_IS_VALID(st->last_post_rt) ||
                   now < st->last_post_rt || now - st->last_post_rt >= interval;
  if (!due && !reset && !stats.cut_detected) return;
  st->last_post_rt = now;
  const GstClockTime pts = GST_BUFFER_PTS(inbuf);
  GstClockTime stream_time = GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID(pts) && trans->segment.format == GST_FORMAT_TIME)
    stream_time = gst_segment_to_stream_time(&trans->segment, GST_FORMAT_TIME, pts);
  GstStructure* s = gst_structure_new(
      "dtutmo", "timestamp", G_TYPE_UINT64, guint64(pts), "stream-time", G_TYPE_UINT64,
      guint64(stream_time), "running-time", G_TYPE_UINT64, guint64(rt), "duration",
      G_TYPE_UINT64, guint64(GST_BUFFER_DURATION(inbuf)), "adaptation-luminance",
      G_TYPE_DOUBLE, double(stats.adaptation_nits), "pupil-diameter", G_TYPE_DOUBLE,
      double(stats.pupil_mm), "rod-weight", G_TYPE_DOUBLE, double(stats.rod_weight),
      "response-low", G_TYPE_DOUBLE, double(stats.response_low), "response-high",
      G_TYPE_DOUBLE, double(stats.response_high), "display-adaptation", G_TYPE_DOUBLE,
      double(stats.display_adapt_nits), "cut", G_TYPE_BOOLEAN, gboolean(stats.cut_detected),
      "reset", G_TYPE_BOOLEAN, gboolean(reset), NULL);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static GstFlowReturn gst_dtutmo_transform(GstBaseTransform* trans, GstBuffer* inbuf,
                                          GstBuffer* outbuf) {
  GstDtutmo* self = GST_DTUTMO(trans);
  GstVideoFilter* filter = GST_VIDEO_FILTER(trans);
  GstDtutmoState* st = self->st;
  if (!filter->negotiated || !st->configured || !st->engine) {
    GST_ELEMENT_ERROR(self, CORE, NOT_IMPLEMENTED, ("Not negotiated"), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  post_held_warning(self);
  std::string why;
  if (!buffer_fits(inbuf, &filter->in_info, &why)) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Input buffer does not hold a whole frame"),
                      ("%s", why.c_str()));
    return GST_FLOW_ERROR;
  }
  if (!buffer_fits(outbuf, &filter->out_info, &why)) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Output buffer does not hold a whole frame"),
                      ("%s", why.c_str()));
    return GST_FLOW_ERROR;
  }
  // CUDA memory of the engine's context is mapped with GST_MAP_CUDA (device pointers).
  GstVideoFrame in_frame, out_frame;
  bool in_device = false, out_device = false;
  if (!gst_dtutmo_cuda_frame_map(GST_ELEMENT(self), &in_frame, &filter->in_info, inbuf,
                                 GST_MAP_READ, st->engine.get(), &in_device)) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Could not map the input buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  if (!gst_dtutmo_cuda_frame_map(GST_ELEMENT(self), &out_frame, &filter->out_info, outbuf,
                                 GST_MAP_WRITE, st->engine.get(), &out_device)) {
    gst_video_frame_unmap(&in_frame);
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Could not map the output buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  dtutmo::FrameView in, out;
  in.format = dtutmo::format_from_name(GST_VIDEO_INFO_NAME(&filter->in_info));
  out.format = dtutmo::format_from_name(GST_VIDEO_INFO_NAME(&filter->out_info));
  in.width = out.width = GST_VIDEO_INFO_WIDTH(&filter->in_info);
  in.height = out.height = GST_VIDEO_INFO_HEIGHT(&filter->in_info);
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&in_frame) && p < 4; ++p) {
    in.data[p] = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&in_frame, p));
    in.stride[p] = GST_VIDEO_FRAME_PLANE_STRIDE(&in_frame, p);
  }
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&out_frame) && p < 4; ++p) {
    out.data[p] = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&out_frame, p));
    out.stride[p] = GST_VIDEO_FRAME_PLANE_STRIDE(&out_frame, p);
  }
  in.device_memory = in_device;
  out.device_memory = out_device;

  // Time: running time of the PTS; without PTS, one frame duration after the last.
  double t = st->have_last_time ? st->last_time_s + st->frame_duration_s : 0.0;
  const GstClockTime pts = GST_BUFFER_PTS(inbuf);
  GstClockTime rt = GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID(pts)) {
    rt = pts;
    if (trans->segment.format == GST_FORMAT_TIME)
      rt = gst_segment_to_running_time(&trans->segment, GST_FORMAT_TIME, pts);
    if (GST_CLOCK_TIME_IS_VALID(rt)) t = double(rt) / double(GST_SECOND);
  }
  if (GST_BUFFER_FLAG_IS_SET(inbuf, GST_BUFFER_FLAG_DISCONT)) st->need_reset = true;
  const bool reset = st->need_reset;
  if (st->need_reset) {
    GST_DEBUG_OBJECT(self, "resetting the temporal state at t = %.3f s", t);
    st->engine->reset();
    st->need_reset = false;
  }
  const bool ok = st->engine->process(in, out, t, &why);
  st->last_time_s = t;
  st->have_last_time = true;
  gst_video_frame_unmap(&out_frame);
  gst_video_frame_unmap(&in_frame);
  if (!ok) {
    GST_ELEMENT_ERROR(self, LIBRARY, FAILED, ("The %s engine failed: %s", st->engine->name(),
                                              why.c_str()),
                      (NULL));
    return GST_FLOW_ERROR;
  }
  const dtutmo::EngineStats stats = st->engine->stats();
  bool post;
  GstClockTime interval;
  {
    std::lock_guard<std::mutex> g(st->lock);
    st->stats = stats;
    post = st->post_messages;
    interval = st->message_interval;
  }
  GST_LOG_OBJECT(self, "t=%.4f La=%.4g pupil=%.2f rod=%.2f bad=%lld", t, stats.adaptation_nits,
                 stats.pupil_mm, stats.rod_weight, stats.bad_samples);
  if (post) post_state_message(self, inbuf, rt, t, stats, reset, interval);
  return GST_FLOW_OK;
}
