#!/bin/sh
# HDR10 (HEVC Main10, PQ) file -> SDR BT.709 H.264 MP4, all on the CPU:
#   filesrc ! parsebin ! h265parse ! avdec_h265 ! dtutmo ! x264enc ! mp4mux
# The input's colorimetry (bt2100-pq) and HDR10 metadata come from the stream through
# the caps; audio is not copied. No HDR10 file at hand? Make one:
#   pipelines/make-hdr10-clip.sh hdr10-test.mp4
# Usage: pipelines/hdr10-to-sdr.sh IN.mp4|IN.mkv|IN.hevc [OUT.mp4]
# Environment: PROFILE=fast|balanced (default balanced), ADAPTATION=broadcast|natural
# (default broadcast: edited footage, re-adapt on a cut's first frame), DTUTMO_ARGS,
# BUILD_DIR
set -eu
. "$(dirname -- "$0")/env.sh"
[ $# -ge 1 ] || { sed -n '2,11p' "$0"; exit 2; }
IN=$1
OUT=${2:-${IN%.*}-sdr.mp4}
PROFILE=${PROFILE:-balanced}
need dtutmo parsebin h265parse avdec_h265 x264enc mp4mux
# shellcheck disable=SC2086
gst-launch-1.0 -e filesrc location="$IN" ! parsebin ! video/x-h265 ! h265parse \
  ! avdec_h265 ! videoconvert \
  ! dtutmo profile="$PROFILE" target=sdr display-peak=100 adaptation="${ADAPTATION:-broadcast}" ${DTUTMO_ARGS:-} \
  ! videoconvert ! video/x-raw,format=I420 \
  ! x264enc speed-preset=medium pass=quant quantizer=18 \
  ! video/x-h264,profile=high ! h264parse ! mp4mux ! filesink location="$OUT"
echo "hdr10-to-sdr: wrote $OUT"
