#!/bin/sh
# A V4L2 camera (8-bit SDR) through dtutmo to a window: the camera's BT.709 signal is
# linearised and scaled to cd/m2 by `input-scale` (diffuse white = INPUT_SCALE nits), so
# the model sees a plausible absolute luminance; useful to watch temporal adaptation
# (cover the lens, then uncover it) and mesopic colour loss at low input-scale. A camera
# has no cuts: adaptation=natural (broadcast, the element's default, would take the
# uncovering for a cut and re-adapt at once).
# Usage: pipelines/v4l2-camera.sh [/dev/videoN]
# Environment: INPUT_SCALE (default 200), WIDTH/HEIGHT (640x480), PROFILE, DTUTMO_ARGS
set -eu
. "$(dirname -- "$0")/env.sh"
DEV=${1:-/dev/video0}
W=${WIDTH:-640}
H=${HEIGHT:-480}
[ -e "$DEV" ] || { echo "error: no camera at $DEV" >&2; exit 1; }
need dtutmo v4l2src videoconvert autovideosink
# shellcheck disable=SC2086
gst-launch-1.0 v4l2src device="$DEV" ! videoconvert ! videoscale \
  ! "video/x-raw,format=I420,width=$W,height=$H" ! queue max-size-buffers=2 leaky=downstream \
  ! dtutmo profile="${PROFILE:-fast}" input-scale="${INPUT_SCALE:-200}" adaptation=natural ${DTUTMO_ARGS:-} \
  ! videoconvert ! autovideosink sync=false
