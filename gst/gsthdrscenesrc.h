// dtutmo -- `hdrscenesrc`: the procedural HDR scenes of common/dtutmo/scenes.h as a video
// source (PQ P010_10LE / RGBA64_LE, or linear RGBA64_LE), for demos, tests and benchmarks.
#pragma once

#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_HDR_SCENE_SRC (gst_hdr_scene_src_get_type())
G_DECLARE_FINAL_TYPE(GstHdrSceneSrc, gst_hdr_scene_src, GST, HDR_SCENE_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE(hdrscenesrc);

G_END_DECLS
