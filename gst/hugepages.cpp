// dtutmo -- system-memory frames in transparent huge pages (hugepages.h).
//
// Why: an output frame's first touch costs one page fault per 4 KiB, and on a paravirtualised
// VM one fault is ~10 us: a 1080p I420 frame (3.1 MB, 760 pages) ~7.6 ms of the first
// frames, a 2160p one (12.4 MB) ~30 ms, for each buffer the pool makes (two or three: the
// sink keeps the last one). Debian's default THP mode "madvise" gives a marked 2 MiB span
// one fault. The engine's own frame buffers do the same (common/src/cpu_alloc.h).
#include "hugepages.h"

#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace {

constexpr gsize kHuge = gsize(2) << 20;
constexpr const char* kName = "dtutmo-hugepages";

struct DtutmoHugeAllocator {
  GstAllocator parent;
};
struct DtutmoHugeAllocatorClass {
  GstAllocatorClass parent_class;
};

GType dtutmo_huge_allocator_get_type();
G_DEFINE_TYPE(DtutmoHugeAllocator, dtutmo_huge_allocator, GST_TYPE_ALLOCATOR)

// Memory of maxsize bytes (prefix, size, padding) from a 2 MiB-aligned block, wrapped as
// system memory whose release frees the block.
GstMemory* huge_alloc(GstAllocator*, gsize size, GstAllocationParams* params) {
  const gsize maxsize = size + params->prefix + params->padding;
  void* p = nullptr;
  if (maxsize == 0 || posix_memalign(&p, kHuge, maxsize) != 0) return nullptr;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (maxsize >= kHuge) madvise(p, maxsize / kHuge * kHuge, MADV_HUGEPAGE);  // a hint only
#endif
  auto* d = static_cast<guint8*>(p);
  if (params->prefix && (params->flags & GST_MEMORY_FLAG_ZERO_PREFIXED)) memset(d, 0, params->prefix);
  if (params->padding && (params->flags & GST_MEMORY_FLAG_ZERO_PADDED))
    memset(d + params->prefix + size, 0, params->padding);
  const auto flags = GstMemoryFlags(params->flags & ~(GST_MEMORY_FLAG_NOT_MAPPABLE));
  return gst_memory_new_wrapped(flags, d, maxsize, params->prefix, size, d, free);
}

// The memory huge_alloc returns belongs to the system allocator (gst_memory_new_wrapped),
// which frees it: none is ever ours to free.
void huge_free(GstAllocator*, GstMemory*) { g_warn_if_reached(); }

void dtutmo_huge_allocator_class_init(DtutmoHugeAllocatorClass* klass) {
  GstAllocatorClass* ac = GST_ALLOCATOR_CLASS(klass);
  ac->alloc = huge_alloc;
  ac->free = huge_free;
}

void dtutmo_huge_allocator_init(DtutmoHugeAllocator* self) {
  GstAllocator* a = GST_ALLOCATOR(self);
  a->mem_type = GST_ALLOCATOR_SYSMEM;
}

}  // namespace

GstAllocator* dtutmo_huge_page_allocator(void) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    auto* a = GST_ALLOCATOR(g_object_new(dtutmo_huge_allocator_get_type(), nullptr));
    gst_object_ref_sink(a);
    gst_allocator_register(kName, a);  // GStreamer keeps it (until gst_deinit)
    g_once_init_leave(&once, 1);
  }
  return gst_allocator_find(kName);
}

void dtutmo_prefer_huge_pages(GstQuery* query, gsize frame_size) {
  if (frame_size < kHuge) return;
  GstAllocator* down = nullptr;
  GstAllocationParams params;
  gst_allocation_params_init(&params);
  const bool have = gst_query_get_n_allocation_params(query) > 0;
  if (have) gst_query_parse_nth_allocation_param(query, 0, &down, &params);
  GstAllocator* def = gst_allocator_find(nullptr);  // the default: system memory
  const bool sysmem = !down || down == def;
  if (def) gst_object_unref(def);
  if (down) gst_object_unref(down);
  if (!sysmem) return;
  GstAllocator* huge = dtutmo_huge_page_allocator();
  if (have)
    gst_query_set_nth_allocation_param(query, 0, huge, &params);
  else
    gst_query_add_allocation_param(query, huge, &params);
  gst_object_unref(huge);
}
