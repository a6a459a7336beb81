// dtutmo -- `hdrscenesrc`. See gsthdrscenesrc.h.
//
// Output (chosen through caps; the default is the first):
//   - PQ:     P010_10LE  colorimetry=bt2100-pq  (limited range, BT.2020 matrix), 4:2:0
//             chroma at chroma-site=jpeg (centre; mpeg2 or cosited when downstream asks)
//             RGBA64_LE  colorimetry=1:1:14:7   (full-range RGB, PQ, BT.2020)
//     both with mastering-display-info and content-light-level in the caps.
//   - linear: RGBA64_LE  colorimetry=1:1:1:7    (full-range RGB, linear, BT.2020);
//             code 1.0 = `linear-scale` cd/m^2 (brighter samples clip). Give dtutmo the
//             same value as `input-scale`.
// RGB caps use the numeric colorimetry form because GStreamer reads a named YUV
// colorimetry on RGB caps as limited range.
// Timestamps: frame n has PTS n * duration (duration from the caps frame rate), and the
// scene time is the PTS in seconds (the animated scene and the edited sequences are
// periodic; scenes.h).
#include "gsthdrscenesrc.h"
#include "hugepages.h"

#include <gst/video/video-hdr.h>

#include <cmath>
#include <vector>

#include "dtutmo/convert.h"
#include "dtutmo/frame.h"
#include "dtutmo/scenes.h"
#include "dtutmo/transfer.h"

GST_DEBUG_CATEGORY_STATIC(gst_hdr_scene_src_debug);
#define GST_CAT_DEFAULT gst_hdr_scene_src_debug

enum { PROP_0, PROP_SCENE, PROP_IS_LIVE, PROP_LINEAR_SCALE };

#define DEFAULT_SCENE int(dtutmo::Scene::Animated)
#define DEFAULT_IS_LIVE FALSE
#define DEFAULT_LINEAR_SCALE 1000.0
#define DEFAULT_WIDTH 1280
#define DEFAULT_HEIGHT 720
#define DEFAULT_FPS_N 30
#define DEFAULT_FPS_D 1

// Mastering display advertised in the PQ caps: BT.2020 primaries, D65, 0.0001-10000
// cd/m^2 (the scenes use the whole PQ range; the sun clips at 10000). MaxCLL 10000,
// MaxFALL unknown (0).
#define MASTER_MAX_NITS 10000.0
#define MASTER_MIN_NITS 0.0001

struct GstHdrSceneSrcState {
  int scene = DEFAULT_SCENE;
  double linear_scale = DEFAULT_LINEAR_SCALE;

  GstVideoInfo info;
  bool linear = false;  // linear RGBA64 output, else PQ
  dtutmo::SignalDesc sig;
  std::vector<float> rgb;  // one frame of linear nits, then code values
  guint64 n = 0;           // next frame number
  // PQ inverse EOTF as a table on log2(nits): 64 entries an octave from 2^kLo to 2^kHi.
  std::vector<float> pq_lut;
};

static constexpr int kPqLutLo = -24, kPqLutHi = 14, kPqLutPerOctave = 64;

struct _GstHdrSceneSrc {
  GstPushSrc parent;
  GstHdrSceneSrcState* st;
};

#define gst_hdr_scene_src_parent_class parent_class
G_DEFINE_TYPE(GstHdrSceneSrc, gst_hdr_scene_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE(hdrscenesrc, "hdrscenesrc", GST_RANK_NONE, GST_TYPE_HDR_SCENE_SRC);

#define SRC_CAPS_COMMON \
  "width=(int)[1,32767], height=(int)[1,32767], framerate=(fraction)[1/2147483647,2147483647/1]"
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-raw, format=(string)P010_10LE, colorimetry=(string)bt2100-pq, "
                    "chroma-site=(string){ jpeg, mpeg2, cosited }, " SRC_CAPS_COMMON "; "
                    "video/x-raw, format=(string)RGBA64_LE, colorimetry=(string){1:1:14:7, "
                    "1:1:1:7}, " SRC_CAPS_COMMON));

static GType gst_hdr_scene_src_scene_get_type() {
  static GType type = 0;
  if (g_once_init_enter(&type)) {
    const int n = int(dtutmo::Scene::COUNT);
    GEnumValue* v = g_new0(GEnumValue, n + 1);
    for (int i = 0; i < n; ++i) {
      v[i].value = i;
      v[i].value_name = dtutmo::scene_name(dtutmo::Scene(i));
      v[i].value_nick = dtutmo::scene_name(dtutmo::Scene(i));
    }
    GType t = g_enum_register_static("GstHdrSceneSrcScene", v);
    g_once_init_leave(&type, t);
  }
  return type;
}

static void gst_hdr_scene_src_set_property(GObject* object, guint prop_id, const GValue* value,
                                           GParamSpec* pspec);
static void gst_hdr_scene_src_get_property(GObject* object, guint prop_id, GValue* value,
                                           GParamSpec* pspec);
static void gst_hdr_scene_src_finalize(GObject* object);
static GstCaps* gst_hdr_scene_src_fixate(GstBaseSrc* src, GstCaps* caps);
static gboolean gst_hdr_scene_src_set_caps(GstBaseSrc* src, GstCaps* caps);
static gboolean gst_hdr_scene_src_start(GstBaseSrc* src);
static gboolean gst_hdr_scene_src_decide_allocation(GstBaseSrc* src, GstQuery* query);
static gboolean gst_hdr_scene_src_is_seekable(GstBaseSrc* src);
static gboolean gst_hdr_scene_src_do_seek(GstBaseSrc* src, GstSegment* segment);
static gboolean gst_hdr_scene_src_query(GstBaseSrc* src, GstQuery* query);
static void gst_hdr_scene_src_get_times(GstBaseSrc* src, GstBuffer* buffer, GstClockTime* start,
                                        GstClockTime* end);
static GstFlowReturn gst_hdr_scene_src_fill(GstPushSrc* src, GstBuffer* buf);

static void gst_hdr_scene_src_class_init(GstHdrSceneSrcClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass* basesrc_class = GST_BASE_SRC_CLASS(klass);
  GstPushSrcClass* pushsrc_class = GST_PUSH_SRC_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_hdr_scene_src_debug, "hdrscenesrc", 0, "HDR scene source");

  gobject_class->set_property = gst_hdr_scene_src_set_property;
  gobject_class->get_property = gst_hdr_scene_src_get_property;
  gobject_class->finalize = gst_hdr_scene_src_finalize;

  g_object_class_install_property(
      gobject_class, PROP_SCENE,
      g_param_spec_enum("scene", "Scene",
                        "Procedural scene with known absolute luminances (animated: a light "
                        "ramp, daylight, then a cut to night; 6 s period). Edited sequences "
                        "for temporal tests: cuts (similar and very different levels, a "
                        "one-frame flash; 8 s), fades (to and from black, a dissolve; 6 s), "
                        "pan-slow (interior, 8 s), pan-fast (night street, 4 s), edit (all "
                        "four in turn, 26 s)",
                        gst_hdr_scene_src_scene_get_type(), DEFAULT_SCENE,
                        GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                    GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_IS_LIVE,
      g_param_spec_boolean("is-live", "Is live",
                           "Act as a live source (frames paced by the clock)", DEFAULT_IS_LIVE,
                           GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                       GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property(
      gobject_class, PROP_LINEAR_SCALE,
      g_param_spec_double("linear-scale", "Linear scale",
                          "Linear output only (RGBA64_LE, colorimetry=1:1:1:7): cd/m2 of code "
                          "value 1.0 [1, 100000]; brighter samples clip",
                          1.0, 100000.0, DEFAULT_LINEAR_SCALE,
                          GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                      GST_PARAM_MUTABLE_READY)));

  gst_element_class_set_static_metadata(
      element_class, "HDR scene source", "Source/Video",
      "Procedural HDR scenes with known absolute luminances (PQ or linear), for testing "
      "tone mappers",
      "dtutmo developers");
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_type_mark_as_plugin_api(gst_hdr_scene_src_scene_get_type(), GstPluginAPIFlags(0));

  basesrc_class->fixate = GST_DEBUG_FUNCPTR(gst_hdr_scene_src_fixate);
  basesrc_class->set_caps = GST_DEBUG_FUNCPTR(gst_hdr_scene_src_set_caps);
  basesrc_class->start = GST_DEBUG_FUNCPTR(gst_hdr_scene_src_start);
  basesrc_class->decide_allocation = GST_DEBUG_FUNCPTR(gst_hdr_scene_src_decide_allocation);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR(gst_hdr_scene_src_is_seekable);
  basesrc_class->do_seek = GST_DEBUG_FUNCPTR(gst_hdr_scene_src_do_seek);
  basesrc_class->query = GST_DEBUG_FUNCPTR(gst_hdr_scene_src_query);
  basesrc_class->get_times = GST_DEBUG_FUNCPTR(gst_hdr_scene_src_get_times);
  pushsrc_class->fill = GST_DEBUG_FUNCPTR(gst_hdr_scene_src_fill);
}

static void gst_hdr_scene_src_init(GstHdrSceneSrc* self) {
  self->st = new GstHdrSceneSrcState();
  gst_video_info_init(&self->st->info);
  auto& lut = self->st->pq_lut;
  const int n = (kPqLutHi - kPqLutLo) * kPqLutPerOctave + 2;
  lut.resize(n);
  for (int i = 0; i < n; ++i)
    lut[i] = dtutmo::pq_inv_eotf(std::exp2(float(kPqLutLo) + float(i) / kPqLutPerOctave));
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
  gst_base_src_set_live(GST_BASE_SRC(self), DEFAULT_IS_LIVE);
}

static void gst_hdr_scene_src_finalize(GObject* object) {
  GstHdrSceneSrc* self = GST_HDR_SCENE_SRC(object);
  delete self->st;
  self->st = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_hdr_scene_src_set_property(GObject* object, guint prop_id, const GValue* value,
                                           GParamSpec* pspec) {
  GstHdrSceneSrc* self = GST_HDR_SCENE_SRC(object);
  switch (prop_id) {
    case PROP_SCENE:
      GST_OBJECT_LOCK(self);
      self->st->scene = g_value_get_enum(value);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_IS_LIVE: gst_base_src_set_live(GST_BASE_SRC(self), g_value_get_boolean(value)); break;
    case PROP_LINEAR_SCALE:
      GST_OBJECT_LOCK(self);
      self->st->linear_scale = g_value_get_double(value);
      GST_OBJECT_UNLOCK(self);
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static void gst_hdr_scene_src_get_property(GObject* object, guint prop_id, GValue* value,
                                           GParamSpec* pspec) {
  GstHdrSceneSrc* self = GST_HDR_SCENE_SRC(object);
  switch (prop_id) {
    case PROP_SCENE:
      GST_OBJECT_LOCK(self);
      g_value_set_enum(value, self->st->scene);
      GST_OBJECT_UNLOCK(self);
      break;
    case PROP_IS_LIVE: g_value_set_boolean(value, gst_base_src_is_live(GST_BASE_SRC(self))); break;
    case PROP_LINEAR_SCALE:
      GST_OBJECT_LOCK(self);
      g_value_set_double(value, self->st->linear_scale);
      GST_OBJECT_UNLOCK(self);
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static GstCaps* gst_hdr_scene_src_fixate(GstBaseSrc* src, GstCaps* caps) {
  caps = gst_caps_truncate(gst_caps_make_writable(caps));
  GstStructure* s = gst_caps_get_structure(caps, 0);
  gst_structure_fixate_field_nearest_int(s, "width", DEFAULT_WIDTH);
  gst_structure_fixate_field_nearest_int(s, "height", DEFAULT_HEIGHT);
  gst_structure_fixate_field_nearest_fraction(s, "framerate", DEFAULT_FPS_N, DEFAULT_FPS_D);
  if (gst_structure_has_field(s, "pixel-aspect-ratio"))
    gst_structure_fixate_field_nearest_fraction(s, "pixel-aspect-ratio", 1, 1);
  else
    gst_structure_set(s, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  if (!gst_structure_has_field(s, "interlace-mode"))
    gst_structure_set(s, "interlace-mode", G_TYPE_STRING, "progressive", NULL);
  caps = GST_BASE_SRC_CLASS(parent_class)->fixate(src, caps);  // first of any list

  GstVideoInfo info;
  if (gst_video_info_from_caps(&info, caps) &&
      info.colorimetry.transfer == GST_VIDEO_TRANSFER_SMPTE2084) {
    GstVideoMasteringDisplayInfo minfo;
    gst_video_mastering_display_info_init(&minfo);
    const guint16 prim[3][2] = {{35400, 14600}, {8500, 39850}, {6550, 2300}};  // BT.2020
    for (int i = 0; i < 3; ++i) {
      minfo.display_primaries[i].x = prim[i][0];
      minfo.display_primaries[i].y = prim[i][1];
    }
    minfo.white_point.x = 15635;  // D65
    minfo.white_point.y = 16450;
    minfo.max_display_mastering_luminance = guint32(MASTER_MAX_NITS * 10000.0);
    minfo.min_display_mastering_luminance = guint32(MASTER_MIN_NITS * 10000.0);
    GstVideoContentLightLevel cll;
    gst_video_content_light_level_init(&cll);
    cll.max_content_light_level = 10000;
    cll.max_frame_average_light_level = 0;
    gst_video_mastering_display_info_add_to_caps(&minfo, caps);
    gst_video_content_light_level_add_to_caps(&cll, caps);
  }
  return caps;
}

static gboolean gst_hdr_scene_src_set_caps(GstBaseSrc* src, GstCaps* caps) {
  GstHdrSceneSrc* self = GST_HDR_SCENE_SRC(src);
  GstHdrSceneSrcState* st = self->st;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps) || info.fps_n <= 0 || info.fps_d <= 0) {
    GST_ERROR_OBJECT(self, "unusable caps %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  const bool pq = info.colorimetry.transfer == GST_VIDEO_TRANSFER_SMPTE2084;
  const bool lin = info.colorimetry.transfer == GST_VIDEO_TRANSFER_GAMMA10;
  if (!pq && !lin) {
    GST_ERROR_OBJECT(self, "caps are neither PQ nor linear: %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  if (dtutmo::format_from_name(GST_VIDEO_INFO_NAME(&info)) == dtutmo::PixelFormat::COUNT) {
    GST_ERROR_OBJECT(self, "unsupported format in %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  st->info = info;
  st->linear = lin;
  st->sig.transfer = lin ? dtutmo::Transfer::Linear : dtutmo::Transfer::PQ;
  st->sig.primaries = dtutmo::Primaries::BT2020;
  st->sig.matrix = dtutmo::YuvMatrix::BT2020NC;
  st->sig.full_range = !GST_VIDEO_INFO_IS_YUV(&info) ||
                       info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
  // P010's 4:2:0 chroma is packed at the siting the caps name (the first, centre, unless
  // downstream asks for another), so that encoders label it right.
  st->sig.chroma_h_cosited = (info.chroma_site & GST_VIDEO_CHROMA_SITE_H_COSITED) != 0;
  st->sig.chroma_v_cosited = (info.chroma_site & GST_VIDEO_CHROMA_SITE_V_COSITED) != 0;
  st->rgb.assign(size_t(info.width) * size_t(info.height) * 3, 0.0f);
  GST_INFO_OBJECT(self, "%dx%d %s %s at %d/%d", info.width, info.height,
                  GST_VIDEO_INFO_NAME(&info), lin ? "linear" : "PQ", info.fps_n, info.fps_d);
  return TRUE;
}

// A video buffer pool sized from the caps (downstream's when it offers one), with
// GstVideoMeta when downstream supports it.
static gboolean gst_hdr_scene_src_decide_allocation(GstBaseSrc* src, GstQuery* query) {
  GstCaps* caps = nullptr;
  gst_query_parse_allocation(query, &caps, nullptr);
  GstVideoInfo info;
  if (!caps || !gst_video_info_from_caps(&info, caps)) return FALSE;
  GstBufferPool* pool = nullptr;
  guint size = guint(info.size), min = 0, max = 0;
  const bool update = gst_query_get_n_allocation_pools(query) > 0;
  if (update) {
    gst_query_parse_nth_allocation_pool(query, 0, &pool, &size, &min, &max);
    size = MAX(size, guint(info.size));
  }
  if (!pool) pool = gst_video_buffer_pool_new();
  GstStructure* config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_set_params(config, caps, size, min, max);
  if (gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr))
    gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  if (!gst_buffer_pool_set_config(pool, config)) {
    config = gst_buffer_pool_get_config(pool);
    if (!gst_buffer_pool_config_validate_params(config, caps, size, min, max) ||
        !gst_buffer_pool_set_config(pool, config)) {
      gst_object_unref(pool);
      GST_ELEMENT_ERROR(src, RESOURCE, SETTINGS, ("Buffer pool configuration failed"), (NULL));
      return FALSE;
    }
  }
  if (update)
    gst_query_set_nth_allocation_pool(query, 0, pool, size, min, max);
  else
    gst_query_add_allocation_pool(query, pool, size, min, max);
  gst_object_unref(pool);
  dtutmo_prefer_huge_pages(query, info.size);  // basesrc's default gives the pool the allocator
  return GST_BASE_SRC_CLASS(parent_class)->decide_allocation(src, query);
}

static gboolean gst_hdr_scene_src_start(GstBaseSrc* src) {
  GstHdrSceneSrc* self = GST_HDR_SCENE_SRC(src);
  self->st->n = 0;
  return TRUE;
}

static gboolean gst_hdr_scene_src_is_seekable(GstBaseSrc* src) {
  return !gst_base_src_is_live(src);
}

static gboolean gst_hdr_scene_src_do_seek(GstBaseSrc* src, GstSegment* segment) {
  GstHdrSceneSrc* self = GST_HDR_SCENE_SRC(src);
  const GstVideoInfo& info = self->st->info;
  segment->time = segment->start;
  const GstClockTime pos = segment->position;
  if (info.fps_n > 0 && GST_CLOCK_TIME_IS_VALID(pos))
    self->st->n = gst_util_uint64_scale(pos, guint64(info.fps_n), guint64(info.fps_d) * GST_SECOND);
  else
    self->st->n = 0;
  return TRUE;
}

static gboolean gst_hdr_scene_src_query(GstBaseSrc* src, GstQuery* query) {
  GstHdrSceneSrc* self = GST_HDR_SCENE_SRC(src);
  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    const GstVideoInfo& info = self->st->info;
    if (info.fps_n > 0) {
      // Live: one frame of latency (a frame is ready at its end); otherwise none.
      const GstClockTime lat =
          gst_util_uint64_scale(GST_SECOND, guint64(info.fps_d), guint64(info.fps_n));
      const bool live = gst_base_src_is_live(src);
      gst_query_set_latency(query, live, live ? lat : 0, live ? lat : 0);
      return TRUE;
    }
  }
  return GST_BASE_SRC_CLASS(parent_class)->query(src, query);
}

static void gst_hdr_scene_src_get_times(GstBaseSrc* src, GstBuffer* buffer, GstClockTime* start,
                                        GstClockTime* end) {
  // Live: basesrc waits on the clock until each frame's time (pacing).
  if (gst_base_src_is_live(src)) {
    const GstClockTime ts = GST_BUFFER_PTS(buffer);
    if (GST_CLOCK_TIME_IS_VALID(ts)) {
      *start = ts;
      if (GST_BUFFER_DURATION_IS_VALID(buffer)) *end = ts + GST_BUFFER_DURATION(buffer);
    }
  } else {
    *start = GST_CLOCK_TIME_NONE;
    *end = GST_CLOCK_TIME_NONE;
  }
}

static inline float pq_code_lut(const std::vector<float>& lut, float nits) {
  if (!(nits > 0.0f)) return dtutmo::pq_inv_eotf(0.0f);
  const float x = (std::log2(nits) - float(kPqLutLo)) * kPqLutPerOctave;
  if (x <= 0.0f) return dtutmo::pq_inv_eotf(nits);
  const int last = int(lut.size()) - 2;
  if (x >= float(last)) return dtutmo::pq_inv_eotf(nits);
  const int i = int(x);
  const float f = x - float(i);
  return lut[i] + f * (lut[i + 1] - lut[i]);
}

static GstFlowReturn gst_hdr_scene_src_fill(GstPushSrc* psrc, GstBuffer* buf) {
  GstHdrSceneSrc* self = GST_HDR_SCENE_SRC(psrc);
  GstHdrSceneSrcState* st = self->st;
  const GstVideoInfo& info = st->info;
  if (info.fps_n <= 0 || st->rgb.empty()) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Not negotiated"), (NULL));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  GST_OBJECT_LOCK(self);
  const dtutmo::Scene scene = dtutmo::Scene(self->st->scene);
  const float inv_scale = float(1.0 / st->linear_scale);
  GST_OBJECT_UNLOCK(self);

  const GstClockTime pts =
      gst_util_uint64_scale(st->n, guint64(info.fps_d) * GST_SECOND, guint64(info.fps_n));
  const GstClockTime next =
      gst_util_uint64_scale(st->n + 1, guint64(info.fps_d) * GST_SECOND, guint64(info.fps_n));
  const int w = info.width, h = info.height;
  float* rgb = st->rgb.data();
  dtutmo::render_scene(scene, w, h, double(pts) / double(GST_SECOND), rgb, std::ptrdiff_t(w) * 3,
                       dtutmo::Primaries::BT2020);
  const size_t count = size_t(w) * size_t(h) * 3;
  if (st->linear) {
    for (size_t i = 0; i < count; ++i) rgb[i] = dtutmo::clampf(rgb[i] * inv_scale, 0.0f, 1.0f);
  } else {
    for (size_t i = 0; i < count; ++i) rgb[i] = pq_code_lut(st->pq_lut, rgb[i]);
  }

  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &st->info, buf, GST_MAP_WRITE)) {
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Could not map the output buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  dtutmo::FrameView out;
  out.format = dtutmo::format_from_name(GST_VIDEO_INFO_NAME(&info));
  out.width = w;
  out.height = h;
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame) && p < 4; ++p) {
    out.data[p] = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, p));
    out.stride[p] = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
  }
  dtutmo::pack_rows(rgb, std::ptrdiff_t(w) * 3, out, st->sig, 0, h, false);
  gst_video_frame_unmap(&frame);

  GST_BUFFER_PTS(buf) = pts;
  GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(buf) = next - pts;
  GST_BUFFER_OFFSET(buf) = st->n;
  GST_BUFFER_OFFSET_END(buf) = st->n + 1;
  if (st->n == 0) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
  st->n++;
  return GST_FLOW_OK;
}
