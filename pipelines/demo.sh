#!/bin/sh
# The main demo: HDR in, tone-mapped SDR out, through the dtutmo element.
#   hdrscenesrc (procedural HDR scenes: a light ramp, daylight, a cut to a night street)
#   ! dtutmo ! x264enc -> an H.264 MP4 you can play anywhere, plus a contact sheet PNG
#   of six frames across the clip (taken with ffmpeg from the MP4).
# Watch the eye adapt: the picture follows the light ramp indoors, colours fade at night
# (rods), and the lamps get glare with profile=balanced. Cuts are re-adapted to on their
# first frame (adaptation=broadcast, the default); with DTUTMO_ARGS="adaptation=natural"
# the picture after the cut to night starts dark and opens up over about a second.
#
# Usage: pipelines/demo.sh [INPUT] [OUT.mp4] [SHEET.png]
#   INPUT  optional video file (HDR10/HLG/SDR, anything decodebin reads); default: the
#          animated procedural scene, DURATION seconds (8) at WIDTH x HEIGHT (640x360), 30 fps
#   OUT    default dtutmo-demo.mp4;  SHEET  default dtutmo-demo.png
# Environment: PROFILE=fast|balanced (default fast), DTUTMO_ARGS="extra=props",
#              WIDTH, HEIGHT, DURATION (procedural input only),
#              BUILD_DIR=build folder (default build)
set -eu
. "$(dirname -- "$0")/env.sh"
IN=${1:-}
OUT=${2:-dtutmo-demo.mp4}
SHEET=${3:-dtutmo-demo.png}
PROFILE=${PROFILE:-fast}
need dtutmo x264enc mp4mux videoconvert

if [ -n "$IN" ]; then
  [ -f "$IN" ] || { echo "error: no such file: $IN" >&2; exit 1; }
  SRC="filesrc location=\"$IN\" ! decodebin ! videoconvert"
else
  FRAMES=$(( ${DURATION:-8} * 30 ))
  SRC="hdrscenesrc scene=animated num-buffers=$FRAMES ! video/x-raw,width=${WIDTH:-640},height=${HEIGHT:-360},framerate=30/1"
fi

echo "demo: $SRC ! dtutmo profile=$PROFILE ! x264enc -> $OUT"
# shellcheck disable=SC2086
eval gst-launch-1.0 -e $SRC \
  ! dtutmo profile="$PROFILE" ${DTUTMO_ARGS:-} \
  ! videoconvert ! video/x-raw,format=I420 \
  ! x264enc speed-preset=faster pass=quant quantizer=18 \
  ! video/x-h264,profile=high ! h264parse ! mp4mux ! filesink location=\"$OUT\"

if command -v ffmpeg >/dev/null 2>&1; then
  # Six frames spread over the clip, 3x2, each 320 wide.
  N=$(ffprobe -v error -count_packets -select_streams v:0 -show_entries stream=nb_read_packets \
        -of csv=p=0 "$OUT" 2>/dev/null || echo 240)
  STEP=$(( (N + 5) / 6 )); [ "$STEP" -ge 1 ] || STEP=1
  ffmpeg -v error -y -i "$OUT" \
    -vf "select='not(mod(n\,$STEP))',scale=320:-2,tile=3x2:padding=4:color=gray" \
    -frames:v 1 -update 1 "$SHEET"
  echo "demo: wrote $OUT and $SHEET"
else
  echo "demo: wrote $OUT (ffmpeg not found: no contact sheet)"
fi
