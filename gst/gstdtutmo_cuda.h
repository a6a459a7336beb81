// dtutmo -- CUDA-memory glue of the `dtutmo` element: video/x-raw(memory:CUDAMemory) caps,
// GstCudaContext sharing, GstCudaBufferPool allocation and device-pointer frame mapping.
//
// gstdtutmo.cpp calls these functions at a few hooks; everything CUDA-specific lives here so
// the element stays a plain GstVideoFilter. Built with and without GStreamer's CUDA library
// (HAVE_GST_CUDA, gst-plugins-bad 1.22+): without it the functions fall back to the
// system-memory behaviour (no CUDA caps, plain frame mapping, the runtime's own context).
//
// Contexts: a GstCudaContext is a driver-API context of its own (not the runtime's primary
// context). The CUDA engine works in whatever context is current on the calling thread, so
// the engine made here is wrapped in an Engine that pushes the element's context around
// every call (creation, configure, process, reset, stats, destruction); all its streams and
// buffers therefore live in the same context as the GstCudaMemory it reads and writes.
// The context is looked up only when the CUDA engine is wanted (engine=auto or cuda and a
// driver loads): with no driver the element starts on the CPU engine and negotiates system
// memory only.
#pragma once

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <memory>
#include <string>

#include "dtutmo/engine.h"

// The system-memory transform_caps of the element (for single-structure system caps).
typedef GstCaps* (*GstDtutmoSysmemTransformCaps)(GstBaseTransform* trans,
                                                 GstPadDirection direction, GstCaps* caps,
                                                 GstCaps* filter);

// class_init: add the pad templates made of `sink`/`src` (the system-memory templates)
// preceded by their CUDA-memory structures for the formats the CUDA path supports, install
// the vfuncs this file implements (set_context, query, propose_allocation,
// decide_allocation), which chain to the parent class for system memory, and the read-only
// "host-staged-buffers" property (its getter wraps the element's get_property: call this
// after setting that).
void gst_dtutmo_cuda_class_init(GstElementClass* element_class, GstStaticPadTemplate* sink,
                                GstStaticPadTemplate* src);

// instance init: attach the per-element CUDA state (freed with the object).
void gst_dtutmo_cuda_instance_init(GstElement* element);

// start: the CUDA engine in the element's (shared) GstCudaContext on `device_id` (-1: any,
// i.e. the neighbours' context or device 0), or nullptr with the reason in *why. From then
// on CUDA caps are offered only if it succeeded (before start: unless engine=cpu); the
// reason is kept for the negotiation error.
std::unique_ptr<dtutmo::Engine> gst_dtutmo_cuda_create_engine(GstElement* element,
                                                              int device_id, std::string* why);
// stop: forget the context (a later start looks it up again) and the engine choice.
void gst_dtutmo_cuda_stop(GstElement* element);

// transform_caps: `sysmem` maps system-memory caps (the element's format/colorimetry
// rules); this adds the CUDA-memory structures first (CUDA in -> CUDA or system out,
// system in -> system out) when CUDA memory can be used, and applies `filter`.
GstCaps* gst_dtutmo_cuda_transform_caps(GstBaseTransform* trans, GstPadDirection direction,
                                        GstCaps* caps, GstCaps* filter,
                                        GstDtutmoSysmemTransformCaps sysmem);
// fixate_caps: give `fixed` (one structure built from othercaps' structure `index`) that
// structure's caps features (CUDA memory stays CUDA memory).
void gst_dtutmo_cuda_keep_features(GstCaps* fixed, GstCaps* othercaps, guint index);

// set_info: CUDA memory on either side needs the CUDA engine in a GstCudaContext; posts a
// negotiation error saying why not and returns false otherwise.
bool gst_dtutmo_cuda_check_caps(GstElement* element, GstCaps* incaps, GstCaps* outcaps,
                                const dtutmo::Engine* engine);

// before_transform: follow the upstream buffer's context (device-id -1, or the same
// device): the engine is re-created in that context (temporal state reset) and the output
// pool re-decided.
void gst_dtutmo_cuda_before_transform(GstBaseTransform* trans, GstBuffer* buffer,
                                      dtutmo::Engine* engine);

// transform: map `buffer` as gst_video_frame_map(frame, info, buffer, flags) would, but
// with GST_MAP_CUDA (device pointers, *device = true) when it is CUDA memory of the
// engine's context and the engine is the CUDA engine; CUDA memory of another context is
// mapped on the host (the memory stages it), which `element` warns about once per
// direction and counts in its read-only "host-staged-buffers" property (installed by
// gst_dtutmo_cuda_class_init). Uses the memory's own pitched layout when the buffer has
// no video meta.
gboolean gst_dtutmo_cuda_frame_map(GstElement* element, GstVideoFrame* frame,
                                   const GstVideoInfo* info, GstBuffer* buffer, GstMapFlags flags,
                                   const dtutmo::Engine* engine, bool* device);
