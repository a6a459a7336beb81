// dtutmo -- the `dtutmo` element: HDR -> SDR/PQ/HLG tone mapping with a model of the eye.
//
// A thin GstVideoFilter: caps, properties, state resets and frame mapping. All colour math
// lives in the engine (common/dtutmo/engine.h), CPU or CUDA.
#pragma once

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

#include "dtutmo/engine.h"

// GST_VIDEO_CAPS_MAKE(_WITH_FEATURES) with the frame sizes the engines take
// (1 .. DTUTMO_MAX_FRAME_SIDE) instead of 1 .. G_MAXINT, for the pad templates.
#define DTUTMO_VIDEO_CAPS_SIZES                                                  \
  "width = (int) [ 1, " G_STRINGIFY(DTUTMO_MAX_FRAME_SIDE) " ], "                \
  "height = (int) [ 1, " G_STRINGIFY(DTUTMO_MAX_FRAME_SIDE) " ], "               \
  "framerate = " GST_VIDEO_FPS_RANGE
#define DTUTMO_VIDEO_CAPS_MAKE(formats) \
  "video/x-raw, format = (string) " formats ", " DTUTMO_VIDEO_CAPS_SIZES
#define DTUTMO_VIDEO_CAPS_MAKE_WITH_FEATURES(features, formats) \
  "video/x-raw(" features "), format = (string) " formats ", " DTUTMO_VIDEO_CAPS_SIZES

G_BEGIN_DECLS

#define GST_TYPE_DTUTMO (gst_dtutmo_get_type())
G_DECLARE_FINAL_TYPE(GstDtutmo, gst_dtutmo, GST, DTUTMO, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE(dtutmo);

G_END_DECLS
