// dtutmo -- GStreamer plugin: registers `dtutmo` (the tone mapper) and `hdrscenesrc`
// (procedural HDR test scenes).
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstdtutmo.h"
#include "gsthdrscenesrc.h"

#ifndef PACKAGE
#define PACKAGE "dtutmo"
#endif
#ifndef DTUTMO_VERSION
#define DTUTMO_VERSION "0.1.0"
#endif
// The project has no public home page; GStreamer requires a non-empty origin, and this is
// what its own modules say when none is configured (meson option package-origin).
#ifndef DTUTMO_PACKAGE_ORIGIN
#define DTUTMO_PACKAGE_ORIGIN "Unknown package origin"
#endif

static gboolean plugin_init(GstPlugin* plugin) {
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER(dtutmo, plugin);
  ok |= GST_ELEMENT_REGISTER(hdrscenesrc, plugin);
  return ok;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, dtutmo,
                  "HDR tone mapping with a model of the human eye (DTUTMO)", plugin_init,
                  DTUTMO_VERSION, "LGPL", "dtutmo", DTUTMO_PACKAGE_ORIGIN)
