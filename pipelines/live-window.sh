#!/bin/sh
# Live preview in a window: the procedural scenes (or a file) tone-mapped in real time
# and shown with autovideosink (the source is live, so frames late for the display are
# dropped by QoS rather than piling up). The default 640x360 keeps the CPU engine close
# to real time on a few cores; raise WIDTH/HEIGHT on bigger machines or with CUDA.
# Usage: pipelines/live-window.sh [INPUT]
#   INPUT  optional file; default: hdrscenesrc is-live=true scene=animated
# Environment: WIDTH, HEIGHT (default 640x360), PROFILE (fast), DTUTMO_ARGS, BUILD_DIR
set -eu
. "$(dirname -- "$0")/env.sh"
W=${WIDTH:-640}
H=${HEIGHT:-360}
PROFILE=${PROFILE:-fast}
# A window needs a display: without one autovideosink would fail after start-up (or pick
# a sink that shows nothing). Say so up front.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "error: no display (neither DISPLAY nor WAYLAND_DISPLAY is set): live-window.sh shows" >&2
  echo "  a window. Run it in a desktop session, or write a file instead:" >&2
  echo "  pipelines/demo.sh, or dtutmo-convert IN OUT (see README)" >&2
  exit 1
fi
need dtutmo autovideosink videoconvert
if [ $# -ge 1 ]; then
  SRC="filesrc location=\"$1\" ! decodebin ! videoconvert ! videoscale ! video/x-raw,width=$W,height=$H"
else
  SRC="hdrscenesrc is-live=true scene=animated ! video/x-raw,width=$W,height=$H,framerate=30/1"
fi
# shellcheck disable=SC2086
eval gst-launch-1.0 $SRC ! queue max-size-buffers=2 leaky=downstream \
  ! dtutmo profile="$PROFILE" ${DTUTMO_ARGS:-} ! videoconvert ! autovideosink sync=true
