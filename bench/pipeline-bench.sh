#!/bin/sh
# 1080p throughput of the dtutmo GStreamer element against FFmpeg's zscale+tonemap chain,
# on the same input, in the same run.
#
# Input: FRAMES frames of the animated HDR scene pre-rendered by hdrscenesrc into a raw
# P010 (PQ, BT.2020) file, so neither a decoder nor the scene renderer is measured. Both
# sides read that file and write SDR BT.709 4:2:0 to a null sink:
#   dtutmo:  filesrc ! rawvideoparse ! dtutmo profile=P ! fakesink sync=false
#   FFmpeg:  -f rawvideo ... -vf zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,
#            tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p -f null -
# fps = frames / wall-clock seconds of the whole command (start-up included; it is small
# next to the frames at 1080p). Engine: auto (CUDA when usable, else CPU); ENGINE=cpu to
# force. FFmpeg uses its default threading.
#
# Usage: bench/pipeline-bench.sh [FRAMES] [WIDTH] [HEIGHT]     (default 30 1920 1080)
# Environment: BUILD_DIR (default build), ENGINE (auto), PROFILES ("fast balanced"),
#              WORK (scratch folder, default a temp dir; the raw file is FRAMES x 6 MB)
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
[ -f "$BUILD/gst/libgstdtutmo.so" ] || { echo "error: build first ($BUILD/gst)" >&2; exit 1; }
export GST_PLUGIN_PATH="$BUILD/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GST_REGISTRY=${GST_REGISTRY:-$BUILD/gst/registry-bench.bin}
FRAMES=${1:-30}
W=${2:-1920}
H=${3:-1080}
ENGINE=${ENGINE:-auto}
PROFILES=${PROFILES:-fast balanced}
WORK=${WORK:-$(mktemp -d)}
RAW=$WORK/bench-${W}x$H-p010.raw
trap 'rm -f "$RAW"' EXIT INT TERM

now() { date +%s.%N; }
fps() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.2f", n / (b - a) }'; }

echo "bench: rendering $FRAMES frames ${W}x$H P010 PQ -> $RAW"
gst-launch-1.0 -q hdrscenesrc scene=animated num-buffers="$FRAMES" \
  ! "video/x-raw,format=P010_10LE,width=$W,height=$H,framerate=30/1" ! filesink location="$RAW"
cat "$RAW" >/dev/null  # into the page cache

echo "bench: $(nproc) cores; $(uname -m)"
for P in $PROFILES; do
  t0=$(now)
  gst-launch-1.0 -q filesrc location="$RAW" \
    ! rawvideoparse format=p010-10le width="$W" height="$H" framerate=30/1 colorimetry=bt2100-pq \
    ! dtutmo engine="$ENGINE" profile="$P" target=sdr \
    ! "video/x-raw,format=NV12" ! fakesink sync=false
  t1=$(now)
  echo "dtutmo profile=$P engine=$ENGINE: $(fps "$FRAMES" "$t0" "$t1") fps (${W}x$H, $FRAMES frames)"
done

if ffmpeg -hide_banner -filters 2>/dev/null | grep -q " zscale "; then
  VF="zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0"
  VF="$VF,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
  NAME="ffmpeg zscale+tonemap(hable)"
else
  # Without libzimg: colorspace cannot linearise PQ, so this fallback only measures a
  # comparable amount of per-pixel work (float conversion + tonemap), not a correct chain.
  VF="format=gbrpf32le,tonemap=tonemap=hable:desat=0,format=yuv420p"
  NAME="ffmpeg tonemap(hable) WITHOUT zscale (no libzimg: not a correct PQ chain)"
fi
t0=$(now)
ffmpeg -v error -hide_banner -f rawvideo -pix_fmt p010le -s "${W}x$H" -r 30 \
  -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc -color_range tv \
  -i "$RAW" -vf "$VF" -f null -
t1=$(now)
echo "$NAME: $(fps "$FRAMES" "$t0" "$t1") fps (${W}x$H, $FRAMES frames)"
