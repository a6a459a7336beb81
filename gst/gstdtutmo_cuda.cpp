// dtutmo -- CUDA-memory glue of the `dtutmo` element. See gstdtutmo_cuda.h.
//
// Follows gst-plugins-bad's CUDA elements (sys/nvcodec): caps with both memory features,
// the CUDA structures first so negotiation prefers them; the context from
// gst_cuda_ensure_element_context / set_context / the CONTEXT query, and the upstream
// buffer's context followed in before_transform; GstCudaBufferPool proposed upstream and
// decided downstream for CUDA caps. GStreamer 1.22 has no stream hand-off between
// elements, so every frame is synchronised on the engine's stream before it is pushed
// (the CUDA engine's process() does that).
#include "gstdtutmo_cuda.h"

#include "gstdtutmo.h"  // DTUTMO_VIDEO_CAPS_MAKE_WITH_FEATURES
#include "hugepages.h"

#include <atomic>
#include <mutex>
#include <utility>

#ifdef HAVE_GST_CUDA
#include <gst/cuda/gstcudabufferpool.h>
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/cuda/gstcudautils.h>
#endif

GST_DEBUG_CATEGORY_STATIC(gst_dtutmo_cuda_debug);
#define GST_CAT_DEFAULT gst_dtutmo_cuda_debug

// Formats of the CUDA-memory structures. Inputs: every format the element takes in system
// memory (the CUDA engine reads them all from device memory; the test checks the two lists
// agree). P012_LE, I420_12LE and RGBA64_LE come from newer upstreams: 1.22's CUDA allocator
// cannot lay them out, so no pool is proposed for them (pool_format). Outputs: what the
// engine encodes and the 1.22 allocator lays out (NVENC takes NV12, P010_10LE, RGBA/BGRA,
// RGB10A2_LE).
#define CUDA_SINK_FORMATS                                                                 \
  "{ P010_10LE, P012_LE, P016_LE, I420_10LE, I420_12LE, Y444_16LE, RGBA64_LE, RGB10A2_LE, " \
  "BGR10A2_LE, I420, NV12, RGBA, BGRx }"
#define CUDA_SRC_FORMATS "{ NV12, I420, RGBA, BGRA, RGBx, BGRx, P010_10LE, RGB10A2_LE }"

namespace {

// Formats GStreamer 1.22's gst_cuda_allocator_alloc lays out (others hit
// g_assert_not_reached there), restricted to those on our pads.
[[maybe_unused]] bool pool_format(GstVideoFormat f) {
  switch (f) {
    case GST_VIDEO_FORMAT_P010_10LE:
    case GST_VIDEO_FORMAT_P016_LE:
    case GST_VIDEO_FORMAT_I420_10LE:
    case GST_VIDEO_FORMAT_Y444_16LE:
    case GST_VIDEO_FORMAT_RGB10A2_LE:
    case GST_VIDEO_FORMAT_BGR10A2_LE:
    case GST_VIDEO_FORMAT_I420:
    case GST_VIDEO_FORMAT_NV12:
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_BGRx:
      return true;
    default:
      return false;
  }
}

enum EngineState { kNotStarted = 0, kCuda, kNoCuda };

// Per-element state, attached as qdata in instance init and freed with the object.
struct CudaElementState {
#ifdef HAVE_GST_CUDA
  // The element's context. Written by gst_cuda_ensure_element_context and set_context
  // (which the former may call re-entrantly on the same thread), as in upstream elements.
  GstCudaContext* ctx = nullptr;
#endif
  std::atomic<int> device_id{-1};
  std::atomic<int> engine_state{kNotStarted};
  std::mutex lock;          // guards no_cuda_why
  std::string no_cuda_why;  // why the CUDA engine is not in use
  bool warned_foreign_device = false;
  // CUDA-memory buffers mapped through the memory's host staging copy (another context's
  // memory: a PCIe round trip per frame); the "host-staged-buffers" property. Warned
  // about once per direction.
  std::atomic<guint64> host_staged{0};
  std::atomic<bool> warned_staged_read{false}, warned_staged_write{false};

  ~CudaElementState() {
#ifdef HAVE_GST_CUDA
    gst_clear_object(&ctx);
#endif
  }
};

GQuark state_quark() {
  static GQuark q = g_quark_from_static_string("gst-dtutmo-cuda-state");
  return q;
}

CudaElementState* state_of(gpointer element) {
  return static_cast<CudaElementState*>(g_object_get_qdata(G_OBJECT(element), state_quark()));
}

GstElementClass* parent_element_class = nullptr;
GstBaseTransformClass* parent_trans_class = nullptr;
GstBaseTransformClass* base_transform_class = nullptr;

// The read-only "host-staged-buffers" property is installed here (class_init), so its
// getter wraps the element's: an id above every id gstdtutmo.cpp uses.
constexpr guint kPropHostStaged = 0x7fff0001;
GObjectGetPropertyFunc element_get_property = nullptr;

void cuda_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  if (prop_id == kPropHostStaged) {
    CudaElementState* c = state_of(object);
    g_value_set_uint64(value, c ? c->host_staged.load() : 0);
    return;
  }
  element_get_property(object, prop_id, value, pspec);
}

bool features_have_cuda(const GstCapsFeatures* f) {
#ifdef HAVE_GST_CUDA
  return f && !gst_caps_features_is_any(f) &&
         gst_caps_features_contains(f, GST_CAPS_FEATURE_MEMORY_CUDA_MEMORY);
#else
  (void)f;
  return false;
#endif
}

bool caps_have_cuda(GstCaps* caps) {
  if (!caps) return false;
  for (guint i = 0; i < gst_caps_get_size(caps); ++i)
    if (features_have_cuda(gst_caps_get_features(caps, i))) return true;
  return false;
}

#ifdef HAVE_GST_CUDA

// Makes `ctx` current on this thread for the scope.
class ContextPush {
 public:
  explicit ContextPush(GstCudaContext* ctx) : ok_(ctx && gst_cuda_context_push(ctx)) {}
  ~ContextPush() {
    if (ok_) gst_cuda_context_pop(nullptr);
  }
  bool ok() const { return ok_; }
  ContextPush(const ContextPush&) = delete;
  ContextPush& operator=(const ContextPush&) = delete;

 private:
  bool ok_;
};

guint context_device(GstCudaContext* ctx) {
  guint dev = 0;
  g_object_get(ctx, "cuda-device-id", &dev, NULL);
  return dev;
}

bool same_context(GstCudaContext* a, GstCudaContext* b) {
  return a == b || (a && b && gst_cuda_context_get_handle(a) == gst_cuda_context_get_handle(b));
}

// The CUDA engine bound to a GstCudaContext: pushes the context around every call so the
// engine's stream, buffers and kernels live in the context of the GstCudaMemory it is
// given. Streaming-thread calls (configure, process, reset, stats, switch_context) are not
// concurrent with each other; set_params may come from any thread.
class ContextEngine final : public dtutmo::Engine {
 public:
  ContextEngine(GstCudaContext* ctx, std::unique_ptr<dtutmo::Engine> inner)
      : ctx_(GST_CUDA_CONTEXT(gst_object_ref(ctx))), inner_(std::move(inner)) {}
  ~ContextEngine() override {
    {
      ContextPush push(ctx_);
      inner_.reset();
    }
    gst_object_unref(ctx_);
  }

  GstCudaContext* context() const { return ctx_; }

  const char* name() const override { return "cuda"; }

  bool configure(const dtutmo::StreamConfig& cfg, std::string* err) override {
    ContextPush push(ctx_);
    if (!push.ok()) return fail(err, "could not make the CUDA context current");
    const bool ok = inner_->configure(cfg, err);
    cfg_ = cfg;
    configured_ = ok;
    return ok;
  }

  bool set_params(const dtutmo::Params& p, std::string* err) override {
    std::lock_guard<std::mutex> g(mu_);
    params_ = p;
    have_params_ = true;
    return inner_->set_params(p, err);  // no CUDA calls: taken at the next process()
  }

  bool process(const dtutmo::FrameView& in, const dtutmo::FrameView& out, double time_s,
               std::string* err) override {
    ContextPush push(ctx_);
    if (!push.ok()) return fail(err, "could not make the CUDA context current");
    // Synchronous: the output is complete when this returns (1.22 has no stream hand-off
    // to the next element, which may read the memory on any stream).
    return inner_->process(in, out, time_s, err);
  }

  bool process_async(const dtutmo::FrameView& in, const dtutmo::FrameView& out, double time_s,
                     std::string* err) override {
    ContextPush push(ctx_);
    if (!push.ok()) return fail(err, "could not make the CUDA context current");
    return inner_->process_async(in, out, time_s, err);
  }

  void reset() override {
    ContextPush push(ctx_);
    inner_->reset();
  }

  dtutmo::EngineStats stats() const override {
    ContextPush push(ctx_);
    return inner_->stats();
  }

  void* cuda_stream() const override { return inner_->cuda_stream(); }

  bool set_cuda_stream(void* stream, std::string* err) override {
    ContextPush push(ctx_);
    return inner_->set_cuda_stream(stream, err);
  }

  // Re-create the engine in `ctx` (configured as before; the temporal state starts again).
  // On failure the current engine stays.
  bool switch_context(GstCudaContext* ctx, std::string* err) {
    std::unique_ptr<dtutmo::Engine> next;
    {
      ContextPush push(ctx);
      if (!push.ok()) return fail(err, "could not make the new CUDA context current");
      next = dtutmo::create_cuda_engine(int(context_device(ctx)), err);
      if (!next) return false;
      {
        std::lock_guard<std::mutex> g(mu_);
        if (have_params_ && !next->set_params(params_, err)) return false;
      }
      if (configured_ && !next->configure(cfg_, err)) return false;
    }
    std::unique_ptr<dtutmo::Engine> old;
    GstCudaContext* old_ctx = ctx_;
    {
      std::lock_guard<std::mutex> g(mu_);
      old = std::move(inner_);
      inner_ = std::move(next);
      ctx_ = GST_CUDA_CONTEXT(gst_object_ref(ctx));
    }
    {
      ContextPush push(old_ctx);
      old.reset();
    }
    gst_object_unref(old_ctx);
    return true;
  }

 private:
  static bool fail(std::string* err, const char* what) {
    if (err) *err = what;
    return false;
  }

  GstCudaContext* ctx_;
  std::unique_ptr<dtutmo::Engine> inner_;
  mutable std::mutex mu_;  // guards inner_ swaps against set_params, and params_
  dtutmo::Params params_;
  bool have_params_ = false;
  dtutmo::StreamConfig cfg_;
  bool configured_ = false;
};

#endif  // HAVE_GST_CUDA

// CUDA caps on the pads only when the CUDA engine runs (after start) or may run (before
// start: engine is not cpu).
bool cuda_caps_allowed(GstBaseTransform* trans) {
#ifdef HAVE_GST_CUDA
  CudaElementState* c = state_of(trans);
  if (!c) return false;
  const int s = c->engine_state.load();
  if (s != kNotStarted) return s == kCuda;
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(trans), "engine");
  if (!spec || !G_IS_PARAM_SPEC_ENUM(spec)) return true;
  const GEnumValue* cpu = g_enum_get_value_by_nick(G_PARAM_SPEC_ENUM(spec)->enum_class, "cpu");
  gint kind = 0;
  g_object_get(trans, "engine", &kind, NULL);
  return !cpu || kind != cpu->value;
#else
  (void)trans;
  return false;
#endif
}

// A GST_TYPE_LIST of the formats in a "{ A, B }" caps format set.
GValue format_set(const char* formats) {
  GValue v = G_VALUE_INIT;
  gchar* s = g_strdup_printf("video/x-raw,format=(string)%s", formats);
  GstStructure* st = gst_structure_from_string(s, nullptr);
  g_free(s);
  g_value_init(&v, GST_TYPE_LIST);
  if (st) {
    const GValue* f = gst_structure_get_value(st, "format");
    if (f) {
      g_value_unset(&v);
      g_value_init(&v, G_VALUE_TYPE(f));
      g_value_copy(f, &v);
    }
    gst_structure_free(st);
  }
  return v;
}

// Append `from`'s structures to *to with CUDA-memory features and the formats restricted
// to `formats`; structures left without a format are dropped.
void append_cuda(GstCaps** to, GstCaps* from, const GValue* formats) {
#ifdef HAVE_GST_CUDA
  for (guint i = 0; i < gst_caps_get_size(from); ++i) {
    GstStructure* s = gst_structure_copy(gst_caps_get_structure(from, i));
    const GValue* f = gst_structure_get_value(s, "format");
    if (f) {
      GValue out = G_VALUE_INIT;
      if (!gst_value_intersect(&out, f, formats)) {
        gst_structure_free(s);
        continue;
      }
      gst_structure_take_value(s, "format", &out);
    } else {
      gst_structure_set_value(s, "format", formats);
    }
    *to = gst_caps_merge_structure_full(
        *to, s, gst_caps_features_new(GST_CAPS_FEATURE_MEMORY_CUDA_MEMORY, NULL));
  }
#else
  (void)to, (void)from, (void)formats;
#endif
}

// ---------------------------------------------------------------------------------------
// vfuncs

#ifdef HAVE_GST_CUDA
void gst_dtutmo_cuda_set_context(GstElement* element, GstContext* context) {
  CudaElementState* c = state_of(element);
  if (c) gst_cuda_handle_set_context(element, context, c->device_id.load(), &c->ctx);
  parent_element_class->set_context(element, context);
}
#endif

gboolean gst_dtutmo_cuda_query(GstBaseTransform* trans, GstPadDirection direction,
                               GstQuery* query) {
#ifdef HAVE_GST_CUDA
  if (GST_QUERY_TYPE(query) == GST_QUERY_CONTEXT) {
    CudaElementState* c = state_of(trans);
    if (c && gst_cuda_handle_context_query(GST_ELEMENT(trans), query, c->ctx)) return TRUE;
  }
#endif
  return parent_trans_class->query(trans, direction, query);
}

gboolean gst_dtutmo_cuda_propose_allocation(GstBaseTransform* trans, GstQuery* decide_query,
                                            GstQuery* query) {
  GstCaps* caps = nullptr;
  gst_query_parse_allocation(query, &caps, nullptr);
  if (!caps_have_cuda(caps)) {
    // system memory: GstVideoFilter proposes a video pool with the query's first
    // allocator, here the huge-page one (hugepages.h) for frames of 2 MiB and more
    GstVideoInfo sys;
    if (decide_query && caps && gst_video_info_from_caps(&sys, caps)) dtutmo_prefer_huge_pages(query, sys.size);
    return parent_trans_class->propose_allocation(trans, decide_query, query);
  }
#ifdef HAVE_GST_CUDA
  if (!decide_query) return TRUE;  // passthrough (never, the element always converts)
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) {
    GST_ERROR_OBJECT(trans, "invalid caps in the allocation query %" GST_PTR_FORMAT, caps);
    return FALSE;
  }
  CudaElementState* c = state_of(trans);
  if (gst_query_get_n_allocation_pools(query) == 0 && c && c->ctx &&
      pool_format(GST_VIDEO_INFO_FORMAT(&info))) {
    GstBufferPool* pool = gst_cuda_buffer_pool_new(c->ctx);
    GstStructure* config = gst_buffer_pool_get_config(pool);
    gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
    guint size = GST_VIDEO_INFO_SIZE(&info);
    gst_buffer_pool_config_set_params(config, caps, size, 0, 0);
    if (!gst_buffer_pool_set_config(pool, config)) {
      GST_ERROR_OBJECT(trans, "the CUDA buffer pool refused its configuration");
      gst_object_unref(pool);
      return FALSE;
    }
    // The pool pads the size to its pitched layout.
    config = gst_buffer_pool_get_config(pool);
    gst_buffer_pool_config_get_params(config, nullptr, &size, nullptr, nullptr);
    gst_structure_free(config);
    gst_query_add_allocation_pool(query, pool, size, 0, 0);
    gst_object_unref(pool);
    GST_DEBUG_OBJECT(trans, "proposed a CUDA buffer pool upstream (%u bytes)", size);
  }
  gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
  return TRUE;
#else
  return FALSE;
#endif
}

gboolean gst_dtutmo_cuda_decide_allocation(GstBaseTransform* trans, GstQuery* query) {
  GstCaps* outcaps = nullptr;
  gst_query_parse_allocation(query, &outcaps, nullptr);
  if (!caps_have_cuda(outcaps)) {
    // system memory: GstVideoFilter's pool, its frames in huge pages (hugepages.h)
    GstVideoInfo sys;
    if (outcaps && gst_video_info_from_caps(&sys, outcaps)) dtutmo_prefer_huge_pages(query, sys.size);
    return parent_trans_class->decide_allocation(trans, query);
  }
#ifdef HAVE_GST_CUDA
  CudaElementState* c = state_of(trans);
  GstVideoInfo info;
  if (!c || !c->ctx || !gst_video_info_from_caps(&info, outcaps)) {
    GST_ERROR_OBJECT(trans, "CUDA output caps without a CUDA context %" GST_PTR_FORMAT,
                     outcaps);
    return FALSE;
  }
  GstBufferPool* pool = nullptr;
  guint size = 0, min = 0, max = 0;
  const bool update = gst_query_get_n_allocation_pools(query) > 0;
  if (update) {
    gst_query_parse_nth_allocation_pool(query, 0, &pool, &size, &min, &max);
    // Downstream's pool only when it is a CUDA pool of our context.
    if (pool && (!GST_IS_CUDA_BUFFER_POOL(pool) ||
                 !same_context(GST_CUDA_BUFFER_POOL(pool)->context, c->ctx)))
      gst_clear_object(&pool);
  }
  if (!pool) {
    pool = gst_cuda_buffer_pool_new(c->ctx);
    size = GST_VIDEO_INFO_SIZE(&info);
  }
  GstStructure* config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
  gst_buffer_pool_config_set_params(config, outcaps, MAX(size, guint(GST_VIDEO_INFO_SIZE(&info))),
                                    min, max);
  if (!gst_buffer_pool_set_config(pool, config)) {
    GST_ERROR_OBJECT(trans, "the CUDA buffer pool refused its configuration");
    gst_object_unref(pool);
    return FALSE;
  }
  config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_get_params(config, nullptr, &size, nullptr, nullptr);
  gst_structure_free(config);
  if (update)
    gst_query_set_nth_allocation_pool(query, 0, pool, size, min, max);
  else
    gst_query_add_allocation_pool(query, pool, size, min, max);
  GST_DEBUG_OBJECT(trans, "CUDA buffer pool %" GST_PTR_FORMAT " for %" GST_PTR_FORMAT, pool,
                   outcaps);
  gst_object_unref(pool);
  // GstBaseTransform's (not GstVideoFilter's, which would replace the pool with a
  // system-memory one).
  return base_transform_class->decide_allocation(trans, query);
#else
  return FALSE;
#endif
}

GstPadTemplate* make_template(GstStaticPadTemplate* sys, const char* cuda_caps) {
  GstCaps* caps = gst_caps_new_empty();
#ifdef HAVE_GST_CUDA
  caps = gst_caps_merge(caps, gst_caps_from_string(cuda_caps));
#else
  (void)cuda_caps;
#endif
  caps = gst_caps_merge(caps, gst_static_caps_get(&sys->static_caps));
  GstPadTemplate* t =
      gst_pad_template_new(sys->name_template, sys->direction, sys->presence, caps);
  gst_caps_unref(caps);
  return t;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Hooks

void gst_dtutmo_cuda_class_init(GstElementClass* element_class, GstStaticPadTemplate* sink,
                                GstStaticPadTemplate* src) {
  GST_DEBUG_CATEGORY_INIT(gst_dtutmo_cuda_debug, "dtutmocuda", 0,
                          "dtutmo CUDA memory, context and pools");
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(element_class);
  parent_element_class = GST_ELEMENT_CLASS(g_type_class_peek_parent(element_class));
  parent_trans_class = GST_BASE_TRANSFORM_CLASS(g_type_class_peek_parent(element_class));
  base_transform_class =
      GST_BASE_TRANSFORM_CLASS(g_type_class_peek_static(GST_TYPE_BASE_TRANSFORM));

  gst_element_class_add_pad_template(
      element_class,
      make_template(sink, DTUTMO_VIDEO_CAPS_MAKE_WITH_FEATURES("memory:CUDAMemory",
                                                               CUDA_SINK_FORMATS)));
  gst_element_class_add_pad_template(
      element_class,
      make_template(src, DTUTMO_VIDEO_CAPS_MAKE_WITH_FEATURES("memory:CUDAMemory",
                                                              CUDA_SRC_FORMATS)));

  GObjectClass* gobject_class = G_OBJECT_CLASS(element_class);
  element_get_property = gobject_class->get_property;
  gobject_class->get_property = cuda_get_property;
  g_object_class_install_property(
      gobject_class, kPropHostStaged,
      g_param_spec_uint64("host-staged-buffers", "Host-staged buffers",
                          "CUDA-memory buffers (input or output) that had to be mapped through "
                          "host memory because they belong to another CUDA context than the "
                          "engine's: a PCIe round trip each (0 in a zero-copy pipeline; read-only)",
                          0, G_MAXUINT64, 0,
                          GParamFlags(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

#ifdef HAVE_GST_CUDA
  element_class->set_context = GST_DEBUG_FUNCPTR(gst_dtutmo_cuda_set_context);
#endif
  trans_class->query = GST_DEBUG_FUNCPTR(gst_dtutmo_cuda_query);
  trans_class->propose_allocation = GST_DEBUG_FUNCPTR(gst_dtutmo_cuda_propose_allocation);
  trans_class->decide_allocation = GST_DEBUG_FUNCPTR(gst_dtutmo_cuda_decide_allocation);
}

void gst_dtutmo_cuda_instance_init(GstElement* element) {
  g_object_set_qdata_full(G_OBJECT(element), state_quark(), new CudaElementState(),
                          [](gpointer p) { delete static_cast<CudaElementState*>(p); });
}

std::unique_ptr<dtutmo::Engine> gst_dtutmo_cuda_create_engine(GstElement* element,
                                                              int device_id, std::string* why) {
  CudaElementState* c = state_of(element);
  c->device_id = device_id;
  auto no_cuda = [&](const std::string& reason) -> std::unique_ptr<dtutmo::Engine> {
    if (why) *why = reason;
    std::lock_guard<std::mutex> g(c->lock);
    c->no_cuda_why = reason;
    c->engine_state = kNoCuda;
    return nullptr;
  };
#ifdef HAVE_GST_CUDA
  std::string reason;
  // Both the runtime (the engine) and libgstcuda need the driver; probe it without CUDA
  // calls first, so a machine without one logs one clear line and nothing else.
  if (!gst_cuda_load_library())
    return no_cuda("no CUDA driver (libcuda.so.1 could not be loaded)");
  if (!dtutmo::cuda_engine_available(&reason)) return no_cuda(reason);
  // Not under c->lock: set_context may run re-entrantly on this thread.
  if (!gst_cuda_ensure_element_context(element, device_id, &c->ctx) || !c->ctx)
    return no_cuda("no CUDA context for device-id " + std::to_string(device_id));
  GstCudaContext* ctx = c->ctx;
  std::unique_ptr<dtutmo::Engine> engine;
  {
    ContextPush push(ctx);
    if (!push.ok()) return no_cuda("could not make the CUDA context current");
    engine = dtutmo::create_cuda_engine(int(context_device(ctx)), &reason);
  }
  if (!engine) return no_cuda(reason);
  // The CUDA allocator behind GstCudaBufferPool: registered by nvcodec's plugin_init too,
  // but a pipeline need not contain a nvcodec element (appsrc of CUDA memory, a process
  // that has not loaded nvcodec yet); without it our pools cannot allocate.
  gst_cuda_memory_init_once();
  GST_INFO_OBJECT(element, "CUDA engine in context %" GST_PTR_FORMAT " (device %u)", ctx,
                  context_device(ctx));
  c->engine_state = kCuda;
  return std::unique_ptr<dtutmo::Engine>(new ContextEngine(ctx, std::move(engine)));
#else
  // No GStreamer CUDA library: the runtime's own context, system memory only.
  std::string reason;
  std::unique_ptr<dtutmo::Engine> engine =
      dtutmo::create_cuda_engine(device_id < 0 ? 0 : device_id, &reason);
  if (!engine) return no_cuda(reason);
  no_cuda("dtutmo was built without GStreamer's CUDA library (gstreamer-cuda-1.0)");
  return engine;
#endif
}

void gst_dtutmo_cuda_stop(GstElement* element) {
  CudaElementState* c = state_of(element);
  if (!c) return;
  c->engine_state = kNotStarted;
#ifdef HAVE_GST_CUDA
  gst_clear_object(&c->ctx);
#endif
}

GstCaps* gst_dtutmo_cuda_transform_caps(GstBaseTransform* trans, GstPadDirection direction,
                                        GstCaps* caps, GstCaps* filter,
                                        GstDtutmoSysmemTransformCaps sysmem) {
  if (!cuda_caps_allowed(trans)) return sysmem(trans, direction, caps, filter);

  // Sink -> src: CUDA in gives CUDA or system out, system in gives system out.
  // Src -> sink: CUDA out needs CUDA in, system out takes CUDA or system in.
  GValue formats = format_set(direction == GST_PAD_SINK ? CUDA_SRC_FORMATS : CUDA_SINK_FORMATS);
  GstCaps* cuda_part = gst_caps_new_empty();
  GstCaps* sys_part = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    const GstCapsFeatures* f = gst_caps_get_features(caps, i);
    const bool any = f && gst_caps_features_is_any(f);
    const bool is_cuda = any || features_have_cuda(f);
    const bool is_sys =
        any || !f || gst_caps_features_is_equal(f, GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY);
    if (!is_cuda && !is_sys) continue;
    GstCaps* one = gst_caps_new_full(gst_structure_copy(gst_caps_get_structure(caps, i)), NULL);
    GstCaps* mapped = sysmem(trans, direction, one, nullptr);
    gst_caps_unref(one);
    const bool to_cuda = direction == GST_PAD_SINK ? is_cuda : true;
    const bool to_sys = direction == GST_PAD_SINK ? true : is_sys;
    if (to_cuda) append_cuda(&cuda_part, mapped, &formats);
    if (to_sys)
      sys_part = gst_caps_merge(sys_part, mapped);
    else
      gst_caps_unref(mapped);
  }
  g_value_unset(&formats);
  // CUDA first: downstream/upstream pick the first structure they support.
  GstCaps* result = gst_caps_merge(cuda_part, sys_part);
  if (filter) {
    GstCaps* tmp = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(result);
    result = tmp;
  }
  GST_DEBUG_OBJECT(trans, "%s %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
                   direction == GST_PAD_SINK ? "sink" : "src", caps, result);
  return result;
}

void gst_dtutmo_cuda_keep_features(GstCaps* fixed, GstCaps* othercaps, guint index) {
  if (index >= gst_caps_get_size(othercaps) || gst_caps_get_size(fixed) == 0) return;
  GstCapsFeatures* f = gst_caps_get_features(othercaps, index);
  if (!f || gst_caps_features_is_any(f)) return;
  gst_caps_set_features(fixed, 0, gst_caps_features_copy(f));
}

bool gst_dtutmo_cuda_check_caps(GstElement* element, GstCaps* incaps, GstCaps* outcaps,
                                const dtutmo::Engine* engine) {
  if (!caps_have_cuda(incaps) && !caps_have_cuda(outcaps)) return true;
#ifdef HAVE_GST_CUDA
  if (dynamic_cast<const ContextEngine*>(engine)) return true;
#else
  (void)engine;
#endif
  std::string why;
  if (CudaElementState* c = state_of(element)) {
    std::lock_guard<std::mutex> g(c->lock);
    why = c->no_cuda_why;
  }
  if (why.empty()) why = "the element runs the CPU engine (engine=cpu)";
  GST_ELEMENT_ERROR(element, CORE, NEGOTIATION,
                    ("CUDA memory (memory:CUDAMemory) was negotiated but the CUDA engine is not "
                     "in use: %s",
                     why.c_str()),
                    ("%" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, incaps, outcaps));
  return false;
}

void gst_dtutmo_cuda_before_transform(GstBaseTransform* trans, GstBuffer* buffer,
                                      dtutmo::Engine* engine) {
#ifdef HAVE_GST_CUDA
  auto* ce = dynamic_cast<ContextEngine*>(engine);
  CudaElementState* c = state_of(trans);
  if (!ce || !c || gst_buffer_n_memory(buffer) == 0) return;
  GstMemory* mem = gst_buffer_peek_memory(buffer, 0);
  if (!gst_is_cuda_memory(mem)) return;
  GstCudaContext* bctx = GST_CUDA_MEMORY_CAST(mem)->context;
  if (same_context(bctx, ce->context())) return;
  const int want = c->device_id.load();
  const guint dev = context_device(bctx);
  if (want >= 0 && guint(want) != dev) {
    // Another device than the one asked for: keep ours; frames are staged on the host.
    if (!c->warned_foreign_device) {
      c->warned_foreign_device = true;
      GST_WARNING_OBJECT(trans, "input is CUDA memory of device %u, device-id is %d: frames "
                         "are copied through host memory", dev, want);
    }
    return;
  }
  GST_INFO_OBJECT(trans, "following the upstream CUDA context %" GST_PTR_FORMAT " -> %"
                  GST_PTR_FORMAT " (temporal state restarts)", ce->context(), bctx);
  std::string err;
  if (!ce->switch_context(bctx, &err)) {
    GST_WARNING_OBJECT(trans, "could not move the engine to the upstream context (%s); "
                       "frames are copied through host memory", err.c_str());
    return;
  }
  gst_object_replace(reinterpret_cast<GstObject**>(&c->ctx), GST_OBJECT(bctx));
  // The output pool belongs to the old context: decide it again. GstBaseTransform checks
  // for reconfiguration after before_transform, so this buffer's output already comes
  // from the new pool.
  gst_base_transform_reconfigure_src(trans);
#else
  (void)trans, (void)buffer, (void)engine;
#endif
}

gboolean gst_dtutmo_cuda_frame_map(GstElement* element, GstVideoFrame* frame,
                                   const GstVideoInfo* info, GstBuffer* buffer, GstMapFlags flags,
                                   const dtutmo::Engine* engine, bool* device) {
  *device = false;
#ifdef HAVE_GST_CUDA
  if (gst_buffer_n_memory(buffer) == 1 && gst_is_cuda_memory(gst_buffer_peek_memory(buffer, 0))) {
    GstCudaMemory* cmem = GST_CUDA_MEMORY_CAST(gst_buffer_peek_memory(buffer, 0));
    // Without a video meta the planes are where the memory's own (pitched) layout puts
    // them, on the device and in its host staging copy alike.
    const GstVideoInfo* map_info = gst_buffer_get_video_meta(buffer) ? info : &cmem->info;
    auto* ce = dynamic_cast<const ContextEngine*>(engine);
    if (ce && same_context(cmem->context, ce->context())) {
      if (!gst_video_frame_map(frame, map_info, buffer, GstMapFlags(flags | GST_MAP_CUDA)))
        return FALSE;
      *device = true;
      return TRUE;
    }
    // Another context's memory (an upstream on another device than device-id, a context
    // the engine could not follow): the memory copies itself to host staging (and back,
    // for a write), and the engine uploads and downloads it again. Correct but slow;
    // counted and said once per direction.
    CudaElementState* c = state_of(element);
    if (c) {
      c->host_staged++;
      const bool write = (flags & GST_MAP_WRITE) != 0;
      std::atomic<bool>& warned = write ? c->warned_staged_write : c->warned_staged_read;
      if (!warned.exchange(true))
        GST_WARNING_OBJECT(element, "%s buffer is CUDA memory of another context (%" GST_PTR_FORMAT
                           ") than the engine's: mapped through host memory, a PCIe round trip "
                           "per frame (property host-staged-buffers counts them)",
                           write ? "output" : "input", cmem->context);
    }
    return gst_video_frame_map(frame, map_info, buffer, flags);
  }
#else
  (void)engine, (void)element;
#endif
  return gst_video_frame_map(frame, info, buffer, flags);
}
