// dtutmo -- the `dtutmo` element: HDR -> SDR/PQ/HLG tone mapping with a model of the eye.
//
// A thin GstVideoFilter: caps, properties, state resets and frame mapping. All colour math
// lives in the engine (common/dtutmo/engine.h), CPU or CUDA.
#pragma once

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_DTUTMO (gst_dtutmo_get_type())
G_DECLARE_FINAL_TYPE(GstDtutmo, gst_dtutmo, GST, DTUTMO, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE(dtutmo);

G_END_DECLS
