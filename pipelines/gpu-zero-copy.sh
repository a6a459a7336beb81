#!/bin/sh
# GPU path (NVIDIA): NVDEC -> dtutmo (CUDA engine) -> NVENC, zero-copy.
#   filesrc ! parsebin ! h265parse ! nvh265dec ! video/x-raw(memory:CUDAMemory)
#     ! dtutmo engine=cuda ! video/x-raw(memory:CUDAMemory) ! nvh264enc ! mp4mux
# Frames stay in CUDA memory (one shared GstCudaContext) from the decoder to the encoder;
# the capsfilters make a missing CUDA path fail instead of falling back to copies.
# Usage: pipelines/gpu-zero-copy.sh IN-hdr10.mp4 [OUT.mp4]
# Needs: an NVIDIA GPU and driver, gst-plugins-bad's nvcodec (nvh265dec, nvh264enc).
set -eu
. "$(dirname -- "$0")/env.sh"
[ $# -ge 1 ] || { sed -n '2,8p' "$0"; exit 2; }
IN=$1
OUT=${2:-${IN%.*}-sdr-gpu.mp4}
need dtutmo h265parse parsebin
# nvcodec (gst-plugins-bad, installed by scripts/setup-debian.sh) registers its elements
# only where it finds an NVIDIA GPU and driver: say that, not "install the packages".
for e in nvh265dec nvh264enc; do
  gst-inspect-1.0 "$e" >/dev/null 2>&1 || {
    echo "error: GStreamer element '$e' is missing: it needs an NVIDIA GPU with its driver" >&2
    echo "  (gst-plugins-bad's nvcodec registers it only when it finds one); on the CPU:" >&2
    echo "  pipelines/hdr10-to-sdr.sh $IN" >&2
    exit 1
  }
done
# shellcheck disable=SC2086
gst-launch-1.0 -e filesrc location="$IN" ! parsebin ! video/x-h265 ! h265parse ! nvh265dec \
  ! "video/x-raw(memory:CUDAMemory)" \
  ! dtutmo engine=cuda profile="${PROFILE:-balanced}" ${DTUTMO_ARGS:-} \
  ! "video/x-raw(memory:CUDAMemory)" \
  ! nvh264enc ! video/x-h264,profile=high ! h264parse ! mp4mux ! filesink location="$OUT"
echo "gpu-zero-copy: wrote $OUT"
