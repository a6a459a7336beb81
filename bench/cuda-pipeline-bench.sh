#!/bin/sh
# GPU throughput of the dtutmo element on CUDA memory (NVIDIA, GStreamer nvcodec).
#
#  1. Element: 3840x2160 P010 PQ in CUDA memory -> dtutmo (profile fast, balanced) -> NV12
#     in CUDA memory -> fakesink sync=false. Frames come from pre-rendered hdrscenesrc
#     frames (multifilesrc loop) uploaded by cudaupload; the upload is measured alone too
#     and subtracted (one streaming thread, so the stages' times add up).
#  2. Transcode: HDR10 HEVC clip (made here with nvh265enc) -> nvh265dec -> dtutmo
#     -> nvh264enc -> fakesink, all in CUDA memory, against nvh265dec -> fakesink.
#  3. Streams: N decode -> dtutmo profile=balanced -> fakesink pipelines in ONE gst-launch
#     (one process, one CUDA context), N = 1, 2, ... until a stream drops below REAL_FPS
#     (default 60): the number of 4K60 streams one GPU sustains.
# fps are differential: each measurement runs FRAMES_A and FRAMES_B frames and divides the
# difference in frames by the difference in wall-clock time, so start-up (context,
# NVDEC/NVENC sessions, engine plans) is not counted.
#
# Usage: bench/cuda-pipeline-bench.sh [WIDTH] [HEIGHT]          (default 3840 2160)
# Environment: BUILD_DIR (default build), UNIQUE (distinct rendered frames, 30),
#   FRAMES_A/FRAMES_B (60/360), PROFILES ("fast balanced"), REAL_FPS (60),
#   MAX_STREAMS (16), WORK (scratch folder; UNIQUE x 12 MB of raw frames + two clips).
# Exits 77 with a message when no usable NVIDIA GPU / nvcodec / CUDA engine is found.
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
[ -f "$BUILD/gst/libgstdtutmo.so" ] || { echo "error: build first ($BUILD/gst)" >&2; exit 1; }
export GST_PLUGIN_PATH="$BUILD/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GST_REGISTRY="${GST_REGISTRY:-$BUILD/gst/registry-bench.bin}"
W=${1:-3840}
H=${2:-2160}
UNIQUE=${UNIQUE:-30}
FA=${FRAMES_A:-60}
FB=${FRAMES_B:-360}
PROFILES=${PROFILES:-fast balanced}
REAL_FPS=${REAL_FPS:-60}
MAX_STREAMS=${MAX_STREAMS:-16}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
trap 'rm -f "$WORK"/frame-*.p010 "$WORK"/clip-*.h265' EXIT INT TERM

nogpu() {
  echo "cuda-pipeline-bench: no usable GPU: $*" >&2
  echo "cuda-pipeline-bench: needs an NVIDIA GPU and driver, gst-plugins-bad's nvcodec" >&2
  echo "  (cudaupload, nvh265enc, nvh265dec, nvh264enc) and dtutmo built with CUDA." >&2
  exit 77
}
for e in dtutmo hdrscenesrc cudaupload nvh265enc nvh265dec nvh264enc h265parse multifilesrc \
         rawvideoparse; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || nogpu "GStreamer element '$e' is missing"
done
# The CUDA engine itself (engine=cuda fails to start without a usable device).
gst-launch-1.0 -q hdrscenesrc num-buffers=1 ! "video/x-raw,width=64,height=36" \
  ! dtutmo engine=cuda ! fakesink >/dev/null 2>&1 || nogpu "dtutmo engine=cuda does not start"

now() { date +%s.%N; }
# fps from two runs: frames (b - a) over seconds (tb - ta)
dfps() { awk -v a="$1" -v b="$2" -v ta="$3" -v tb="$4" 'BEGIN {
  d = tb - ta; if (d <= 0) { print "n/a"; exit } printf "%.1f", (b - a) / d }'; }
# time of one gst-launch run, seconds
timed() {
  t0=$(now)
  gst-launch-1.0 -q "$@" >/dev/null || { echo "error: gst-launch $*" >&2; exit 1; }
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
}
# per-frame milliseconds from a fps value
ms() { awk -v f="$1" 'BEGIN { if (f + 0 > 0) printf "%.2f", 1000 / f; else print "n/a" }'; }

CAPS="video/x-raw,format=P010_10LE,width=$W,height=$H,framerate=$REAL_FPS/1"
echo "cuda-pipeline-bench: rendering $UNIQUE frames ${W}x$H P010 PQ into $WORK"
gst-launch-1.0 -q hdrscenesrc scene=animated num-buffers="$UNIQUE" ! "$CAPS" \
  ! multifilesink location="$WORK/frame-%03d.p010"
cat "$WORK"/frame-*.p010 >/dev/null  # into the page cache
LAST=$((UNIQUE - 1))
# N frames of raw P010 (the rendered ones, looped), timestamped at REAL_FPS
raw() {
  echo "multifilesrc location=$WORK/frame-%03d.p010 index=0 stop-index=$LAST loop=true" \
       "num-buffers=$1 ! rawvideoparse format=p010-10le width=$W height=$H" \
       "framerate=$REAL_FPS/1 colorimetry=bt2100-pq"
}

echo "cuda-pipeline-bench: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'GPU')"
echo
echo "== 1. element, CUDA memory in and out, ${W}x$H P010 -> NV12 (fakesink sync=false)"
# shellcheck disable=SC2046
ua=$(timed $(raw "$FA") ! cudaupload ! "video/x-raw(memory:CUDAMemory)" ! fakesink sync=false)
# shellcheck disable=SC2046
ub=$(timed $(raw "$FB") ! cudaupload ! "video/x-raw(memory:CUDAMemory)" ! fakesink sync=false)
up=$(dfps "$FA" "$FB" "$ua" "$ub")
echo "read + upload alone: $up fps"
for P in $PROFILES; do
  # shellcheck disable=SC2046
  ta=$(timed $(raw "$FA") ! cudaupload ! "video/x-raw(memory:CUDAMemory)" \
    ! dtutmo engine=cuda profile="$P" ! "video/x-raw(memory:CUDAMemory),format=NV12" \
    ! fakesink sync=false)
  # shellcheck disable=SC2046
  tb=$(timed $(raw "$FB") ! cudaupload ! "video/x-raw(memory:CUDAMemory)" \
    ! dtutmo engine=cuda profile="$P" ! "video/x-raw(memory:CUDAMemory),format=NV12" \
    ! fakesink sync=false)
  all=$(dfps "$FA" "$FB" "$ta" "$tb")
  # the element's share: pipeline time minus the upload-only time, per frame
  el=$(awk -v a="$FA" -v b="$FB" -v ta="$ta" -v tb="$tb" -v ua="$ua" -v ub="$ub" 'BEGIN {
    d = (tb - ta) - (ub - ua); if (d <= 0) { print "n/a"; exit } printf "%.1f", (b - a) / d }')
  echo "dtutmo profile=$P: pipeline $all fps; element alone $el fps ($(ms "$el") ms/frame)"
done

echo
echo "== 2. HDR10 HEVC -> nvh265dec -> dtutmo -> nvh264enc (CUDA memory throughout)"
for n in "$FA" "$FB"; do
  # shellcheck disable=SC2046
  gst-launch-1.0 -q $(raw "$n") ! cudaupload ! nvh265enc ! video/x-h265,profile=main-10 \
    ! h265parse ! filesink location="$WORK/clip-$n.h265" >/dev/null
done
DEC_A="filesrc location=$WORK/clip-$FA.h265 ! h265parse ! nvh265dec"
DEC_B="filesrc location=$WORK/clip-$FB.h265 ! h265parse ! nvh265dec"
# shellcheck disable=SC2086
da=$(timed $DEC_A ! "video/x-raw(memory:CUDAMemory)" ! fakesink sync=false)
# shellcheck disable=SC2086
db=$(timed $DEC_B ! "video/x-raw(memory:CUDAMemory)" ! fakesink sync=false)
echo "nvh265dec alone: $(dfps "$FA" "$FB" "$da" "$db") fps"
for P in $PROFILES; do
  # shellcheck disable=SC2086
  ta=$(timed $DEC_A ! "video/x-raw(memory:CUDAMemory)" ! dtutmo engine=cuda profile="$P" \
    ! "video/x-raw(memory:CUDAMemory)" ! nvh264enc ! h264parse ! fakesink sync=false)
  # shellcheck disable=SC2086
  tb=$(timed $DEC_B ! "video/x-raw(memory:CUDAMemory)" ! dtutmo engine=cuda profile="$P" \
    ! "video/x-raw(memory:CUDAMemory)" ! nvh264enc ! h264parse ! fakesink sync=false)
  echo "nvh265dec -> dtutmo profile=$P -> nvh264enc: $(dfps "$FA" "$FB" "$ta" "$tb") fps"
done

echo
echo "== 3. ${W}x$H@$REAL_FPS streams per GPU, profile=balanced (decode -> dtutmo -> fakesink)"
# N branches in one gst-launch
streams() {
  clip=$1 n=$2 s=""
  i=0
  while [ "$i" -lt "$n" ]; do
    s="$s filesrc location=$clip ! h265parse ! nvh265dec ! video/x-raw(memory:CUDAMemory)"
    s="$s ! queue max-size-buffers=4 ! dtutmo engine=cuda profile=balanced"
    s="$s ! video/x-raw(memory:CUDAMemory),format=NV12 ! fakesink sync=false"
    i=$((i + 1))
  done
  echo "$s"
}
best=0
n=1
while [ "$n" -le "$MAX_STREAMS" ]; do
  # shellcheck disable=SC2046
  ta=$(timed $(streams "$WORK/clip-$FA.h265" "$n"))
  # shellcheck disable=SC2046
  tb=$(timed $(streams "$WORK/clip-$FB.h265" "$n"))
  per=$(dfps "$FA" "$FB" "$ta" "$tb")
  ok=$(awk -v f="$per" -v r="$REAL_FPS" 'BEGIN { print (f + 0 >= r) ? 1 : 0 }')
  echo "$n stream(s): $per fps each$( [ "$ok" = 1 ] && echo " (real time)" || echo " (below $REAL_FPS)")"
  [ "$ok" = 1 ] || break
  best=$n
  n=$((n + 1))
done
echo "=> one GPU sustains $best stream(s) of ${W}x$H@$REAL_FPS in profile=balanced" \
     "(decode included; MAX_STREAMS=$MAX_STREAMS)"
