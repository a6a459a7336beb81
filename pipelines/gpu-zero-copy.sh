#!/bin/sh
# GPU path (NVIDIA): NVDEC -> dtutmo (CUDA engine) -> NVENC.
#   filesrc ! parsebin ! h265parse ! nvh265dec ! dtutmo engine=cuda ! nvh264enc ! mp4mux
# STATUS: the dtutmo element negotiates system memory only for now, so GStreamer
# downloads the decoded frames to system memory and uploads them again for NVENC; it
# works, but it is not yet zero-copy. Zero-copy (video/x-raw(memory:CUDAMemory) on both
# pads) comes with the CUDA-memory work on the element; this script is the pipeline that
# will then run without copies, unchanged.
# Usage: pipelines/gpu-zero-copy.sh IN-hdr10.mp4 [OUT.mp4]
# Needs: an NVIDIA GPU and driver, gst-plugins-bad's nvcodec (nvh265dec, nvh264enc).
set -eu
. "$(dirname -- "$0")/env.sh"
[ $# -ge 1 ] || { sed -n '2,11p' "$0"; exit 2; }
IN=$1
OUT=${2:-${IN%.*}-sdr-gpu.mp4}
need dtutmo nvh265dec nvh264enc h265parse parsebin
# shellcheck disable=SC2086
gst-launch-1.0 -e filesrc location="$IN" ! parsebin ! video/x-h265 ! h265parse ! nvh265dec \
  ! dtutmo engine=cuda profile="${PROFILE:-balanced}" ${DTUTMO_ARGS:-} \
  ! nvh264enc ! video/x-h264,profile=high ! h264parse ! mp4mux ! filesink location="$OUT"
echo "gpu-zero-copy: wrote $OUT"
