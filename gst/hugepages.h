// dtutmo -- system-memory frames in transparent huge pages for the elements' output pools.
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

// The allocator "dtutmo-hugepages" (registered with GStreamer on first use): memory 2 MiB
// aligned, its whole 2 MiB spans marked MADV_HUGEPAGE, so that a frame's first touch takes
// one page fault per 2 MiB instead of one per 4 KiB (the tail under 2 MiB stays in 4 KiB
// pages: no memory is added to round it up). Memory is GStreamer's system memory
// (gst_memory_new_wrapped): mapping, sharing and copying behave as usual.
GstAllocator* dtutmo_huge_page_allocator(void);

// For an ALLOCATION query being decided by an element with system-memory output: where
// downstream named no allocator (or the default system-memory one) and a frame of
// frame_size bytes spans at least one 2 MiB page, puts the huge-page allocator first in the
// query's allocation parameters, for the element's pool to take. Downstream's own allocator
// (a GL, DMA-buf or shared-memory one) is left in place.
void dtutmo_prefer_huge_pages(GstQuery* query, gsize frame_size);

G_END_DECLS
