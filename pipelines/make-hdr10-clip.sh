#!/bin/sh
# Make an HDR10 test clip (HEVC Main10, PQ, BT.2020, with mastering-display and MaxCLL
# SEI) from hdrscenesrc with x265enc, with a stereo AAC track (a 440 Hz tone), so the
# HDR10 pipelines and dtutmo-convert can be tried without a camera or a download.
# Usage: pipelines/make-hdr10-clip.sh [OUT.mp4] [SECONDS] [WIDTH] [HEIGHT] [SCENE]
#   defaults: hdr10-test.mp4, 6 s, 1920x1080, animated (daylight, interior, night, ...)
# Environment: AUDIO=0 leaves the audio track out.
set -eu
. "$(dirname -- "$0")/env.sh"
OUT=${1:-hdr10-test.mp4}
SECS=${2:-6}
W=${3:-1920}
H=${4:-1080}
SCENE=${5:-animated}
need hdrscenesrc x265enc h265parse mp4mux
FRAMES=$((SECS * 30))
AUDIO_BRANCH=""
if [ "${AUDIO:-1}" != 0 ]; then
  need audiotestsrc avenc_aac aacparse
  # 1024 samples a buffer at 48 kHz, rounded up to cover the video.
  AUDIO_BRANCH="audiotestsrc wave=sine freq=440 volume=0.2 samplesperbuffer=1024 \
    num-buffers=$(( (SECS * 48000 + 1023) / 1024 )) ! audio/x-raw,rate=48000,channels=2 \
    ! avenc_aac ! aacparse ! queue ! mux."
fi
# BT.2020 primaries, D65, mastering 0.0001..1000 cd/m2 (units: 0.00002 and 0.0001).
X265="colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:range=limited:hdr10=1"
X265="$X265:master-display=G(8500,39850)B(6550,2300)R(35400,14600)WP(15635,16450)L(10000000,1)"
X265="$X265:max-cll=1000,400:repeat-headers=1"
# hdrscenesrc packs 4:2:0 chroma at the centre of each 2x2 block (its caps say
# chroma-site=jpeg, kept through videoconvert); x265enc (1.22) writes no chroma location,
# HEVC's default being left-cosited, so it is named: chromaloc=1 (centre, H.273 type 1).
X265="$X265:chromaloc=1"
echo "make-hdr10-clip: $FRAMES frames ${W}x$H of '$SCENE' -> $OUT"
gst-launch-1.0 -e hdrscenesrc scene="$SCENE" num-buffers="$FRAMES" \
  ! "video/x-raw,format=P010_10LE,width=$W,height=$H,framerate=30/1" \
  ! videoconvert ! "video/x-raw,format=I420_10LE,colorimetry=bt2100-pq,chroma-site=jpeg" \
  ! x265enc speed-preset=ultrafast option-string="$X265" \
  ! video/x-h265,profile=main-10 ! h265parse ! queue ! mp4mux name=mux ! filesink location="$OUT" \
  $AUDIO_BRANCH
echo "make-hdr10-clip: wrote $OUT"
