#!/bin/sh
# dtutmo's CPU engine against FFmpeg's tone-mapping chain, side by side in one run, on a
# real HDR10 clip (issue 10).
#
# Input: the animated procedural scene encoded by pipelines/make-hdr10-clip.sh with x265
# (HEVC Main10, PQ, BT.2020, HDR10 SEI) at each size, decoded ONCE with FFmpeg to a raw
# 10-bit 4:2:0 file (yuv420p10le = GStreamer's I420_10LE, what avdec_h265 gives), so the
# decoder is measured on neither side. Both sides read that file from the page cache and
# write 8-bit 4:2:0 BT.709 (limited range) to a null sink:
#   dtutmo:  filesrc blocksize=FRAME ! video/x-raw,format=I420_10LE,colorimetry=bt2100-pq,
#              chroma-site=jpeg,...
#              ! dtutmo engine=cpu profile=P target=sdr ! video/x-raw,format=I420 ! fakesink
#   FFmpeg:  ffmpeg -threads 2 -filter_threads 2 -f rawvideo -pix_fmt yuv420p10le ...
#              -vf zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,
#                  tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p -f null -
# Rounds: each round runs every dtutmo profile and then FFmpeg back to back; the ratio
# dtutmo/FFmpeg is taken within a round (the machine's load is about the same), and the
# median and the spread over REPEAT rounds are printed. fps = frames / wall seconds of the
# whole command (start-up included); CPU = user + sys seconds per frame. Also printed: the
# CPU-time ratio (FFmpeg's CPU-ms per frame / dtutmo's), steadier than the fps ratio on a
# shared machine: FFmpeg's chain keeps ~1 core busy, dtutmo ~2, so on an idle machine the
# fps ratio is about twice the CPU-time ratio and on a busy one it tends to it (the goal
# is the fps ratio on an idle machine; "cores" per run shows how quiet it was).
# Memory (each size): peak RSS of the dtutmo pipeline minus that of the same pipeline with
# `videoconvert` in place of dtutmo (same input and output frames and buffer pools), per
# pixel: the bytes per pixel dtutmo needs above the frames themselves.
#
# Usage: bench/pipeline-bench.sh [SIZE...]        (default: 1920x1080 3840x2160)
# Environment:
#   BUILD_DIR  build with the plugin (default build); a build configured with -Davx512=false
#              runs the AVX2 clone of the hot loops on an AVX-512 CPU (README, Performance)
#   PROFILES   dtutmo profiles (default "fast balanced"); NAME_half and NAME_full run
#              profile NAME with model-resolution=half or full (e.g. fast_full: the model
#              on every pixel, where the default, auto, takes half from 1920x1080 up)
#   REPEAT     rounds (default 3)
#   FRAMES     frames at 1920x1080 (default 120); other sizes scale by pixel count, >= 30
#   WORK       folder for the clips and raw files, kept between runs (default
#              $BUILD_DIR/bench-work; the raw files are 6.2 MB per 1080p frame)
#   ENGINE     dtutmo engine (default cpu)
#   READER     caps (default): filesrc's buffers (one frame each) taken as frames by a caps
#              filter; rawvideoparse: through rawvideoparse, which copies every frame into a
#              new buffer on the streaming thread (GStreamer 1.22's gst_raw_video_parse_process
#              always does), ~1.5 ms a 1080p frame that neither FFmpeg's raw reader nor a
#              decoder upstream of dtutmo spends (the bench's figures before 2026-12-03)
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
[ -f "$BUILD/gst/libgstdtutmo.so" ] || { echo "error: build first ($BUILD/gst)" >&2; exit 1; }
export GST_PLUGIN_PATH="$BUILD/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GST_REGISTRY=${GST_REGISTRY:-$BUILD/gst/registry-bench.bin}
SIZES=${*:-1920x1080 3840x2160}
PROFILES=${PROFILES:-fast balanced}
REPEAT=${REPEAT:-3}
FRAMES=${FRAMES:-120}
ENGINE=${ENGINE:-cpu}
WORK=${WORK:-$BUILD/bench-work}
mkdir -p "$WORK"
command -v /usr/bin/time >/dev/null || { echo "error: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
ffmpeg -hide_banner -filters 2>/dev/null | grep -q " zscale " ||
  { echo "error: FFmpeg without zscale (libzimg): no PQ chain to compare with" >&2; exit 1; }

# The reference chain as issue 10 states it. (The raw file carries no chroma siting, so
# zscale takes the clip's centre-sited chroma as left-cosited; `chromalin=center` would
# read it right at the same speed, 1.78-1.83 user-s per 60 frames either way, but the
# chain being measured against stays the one named.)
VF="zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0"
VF="$VF,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"

# run NAME FRAMES CMD...: runs CMD under /usr/bin/time; sets FPS, CPUMS (CPU ms/frame), CORES
# (CPU time / wall time: how many cores it kept busy), RSS (KiB)
run() {
  name=$1 n=$2
  shift 2
  if ! /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.txt" "$@" >"$WORK/run.log" 2>&1; then
    echo "error: $name failed:" >&2
    tail -5 "$WORK/run.log" >&2
    exit 1
  fi
  set -- $(tail -1 "$WORK/time.txt")
  FPS=$(awk -v n="$n" -v e="$1" 'BEGIN { printf "%.2f", n / (e > 0 ? e : 0.01) }')
  CPUMS=$(awk -v n="$n" -v u="$2" -v s="$3" 'BEGIN { printf "%.1f", (u + s) * 1000 / n }')
  CORES=$(awk -v e="$1" -v u="$2" -v s="$3" 'BEGIN { printf "%.1f", (u + s) / (e > 0 ? e : 0.01) }')
  RSS=$4
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
range() { tr ' ' '\n' | grep . | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }

# registry made now: a first gst-launch with no registry scans every plugin in-process,
# which would count in the first run's time and peak memory
gst-inspect-1.0 dtutmo >/dev/null 2>&1 || { echo "error: dtutmo plugin does not load ($BUILD/gst)" >&2; exit 1; }

isa="AVX2"
grep -q avx512f /proc/cpuinfo && isa="AVX-512"
grep -q -- "-DDTUTMO_NO_AVX512" "$BUILD/build.ninja" 2>/dev/null && isa="$isa CPU, AVX2 clone forced (-Davx512=false)"
echo "bench: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $isa"
echo "bench: $(ffmpeg -version | head -1 | cut -d' ' -f1-3); build $BUILD; load average $(cut -d' ' -f1-3 /proc/loadavg)"

for S in $SIZES; do
  W=${S%x*}
  H=${S#*x}
  N=$(awk -v f="$FRAMES" -v p="$((W * H))" 'BEGIN { n = int(f * 2073600 / p + 0.5); print n < 30 ? 30 : n }')
  SECS=$(((N + 29) / 30))
  CLIP=$WORK/hdr10-${W}x$H-${SECS}s.mp4
  RAW=$WORK/hdr10-${W}x$H-$N.yuv420p10le
  if [ ! -s "$CLIP" ]; then
    BUILD_DIR=$BUILD "$ROOT/pipelines/make-hdr10-clip.sh" "$CLIP.part" "$SECS" "$W" "$H" animated >"$WORK/clip.log" 2>&1 ||
      { tail -5 "$WORK/clip.log" >&2; exit 1; }
    mv "$CLIP.part" "$CLIP"
  fi
  if [ ! -s "$RAW" ]; then
    ffmpeg -v error -y -i "$CLIP" -frames:v "$N" -f rawvideo -pix_fmt yuv420p10le "$RAW.part"
    mv "$RAW.part" "$RAW"
  fi
  cat "$RAW" >/dev/null  # into the page cache
  # one read per frame (W x H x 3 bytes of I420_10LE), as FFmpeg's raw reader does: with
  # filesrc's default 4 KiB blocks the identity pipeline (filesrc ! rawvideoparse ! fakesink,
  # 60 1080p frames) took 290-435 against 250-360 CPU-ms (4 alternated runs), ~1 ms per frame
  # of plumbing that a decoder upstream of dtutmo would not add
  # the frames as they are in the file: a caps filter gives filesrc's buffers (one frame
  # each, no timestamps: dtutmo then advances its clock by the caps' frame duration, as
  # rawvideoparse's timestamps would) the caps rawvideoparse would give them, with the
  # clip's chroma siting: centre ("jpeg"; hdrscenesrc packs each 2x2 block's mean, and
  # make-hdr10-clip.sh labels the HEVC stream so). rawvideoparse has no chroma-site
  # property and says "mpeg2" (left-cosited): capssetter corrects it (in place), so that
  # both readers give the same output bytes. (Before 2026-12-03 the bench said "mpeg2":
  # dtutmo's output bytes differ since, not its work.)
  if [ "${READER:-caps}" = rawvideoparse ]; then
    SRC="filesrc location=$RAW blocksize=$((W * H * 3)) ! rawvideoparse format=i420-10le width=$W height=$H framerate=30/1 colorimetry=bt2100-pq ! capssetter caps=video/x-raw,chroma-site=jpeg"
  else
    SRC="filesrc location=$RAW blocksize=$((W * H * 3)) ! video/x-raw,format=I420_10LE,width=$W,height=$H,framerate=30/1,colorimetry=bt2100-pq,chroma-site=jpeg,pixel-aspect-ratio=1/1,interlace-mode=progressive"
  fi
  OUTCAPS="video/x-raw,format=I420,colorimetry=bt709"
  echo
  echo "== ${W}x$H, $N frames of $(basename "$CLIP") (x265 HDR10), raw 10-bit 4:2:0 in, 8-bit 4:2:0 BT.709 out"
  ffps="" ; for P in $PROFILES; do eval "r_$P=''; q_$P=''"; done
  r=1
  while [ "$r" -le "$REPEAT" ]; do
    line="round $r:"
    for P in $PROFILES; do
      case $P in
        *_half) props="profile=${P%_half} model-resolution=half" ;;
        *_full) props="profile=${P%_full} model-resolution=full" ;;
        *) props="profile=$P" ;;
      esac
      # shellcheck disable=SC2086
      run "dtutmo $P" "$N" gst-launch-1.0 -q $SRC ! dtutmo engine="$ENGINE" $props target=sdr \
        ! "$OUTCAPS" ! fakesink sync=false
      eval "f_$P=\$FPS; c_$P=\$CPUMS; m_$P=\$RSS"
      line="$line dtutmo $P $FPS fps ($CPUMS CPU-ms/f, $CORES cores),"
    done
    run ffmpeg "$N" ffmpeg -v error -hide_banner -threads 2 -filter_threads 2 \
      -f rawvideo -pix_fmt yuv420p10le -s "${W}x$H" -r 30 \
      -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc -color_range tv \
      -i "$RAW" -vf "$VF" -f null -
    fm=$RSS
    line="$line ffmpeg $FPS fps ($CPUMS CPU-ms/f, $CORES cores) ->"
    for P in $PROFILES; do
      eval "fp=\$f_$P; cp=\$c_$P"
      ratio=$(awk -v a="$fp" -v b="$FPS" 'BEGIN { printf "%.2f", a / b }')
      cratio=$(awk -v a="$cp" -v b="$CPUMS" 'BEGIN { printf "%.2f", b / a }')
      eval "r_$P=\"\$r_$P $ratio\"; q_$P=\"\$q_$P $cratio\""
      line="$line $P ${ratio}x (CPU ${cratio}x)"
    done
    ffps="$ffps $FPS"
    echo "$line"
    r=$((r + 1))
  done
  # memory: the same pipeline with videoconvert in place of dtutmo (frames, pools, GStreamer)
  # shellcheck disable=SC2086
  run baseline "$N" gst-launch-1.0 -q $SRC ! videoconvert ! "$OUTCAPS" ! fakesink sync=false
  base=$RSS
  echo "ffmpeg zscale+tonemap(hable)+zscale, -threads 2: median $(echo $ffps | median) fps (rounds $(echo $ffps | range)), peak RSS $((fm / 1024)) MiB"
  for P in $PROFILES; do
    eval "rs=\$r_$P; qs=\$q_$P; m=\$m_$P"
    bpp=$(awk -v a="$m" -v b="$base" -v p="$((W * H))" 'BEGIN { printf "%.1f", (a - b) * 1024 / p }')
    echo "dtutmo $P / ffmpeg: median $(echo $rs | median)x fps (rounds $(echo $rs | range)), CPU time $(echo $qs | median)x (rounds $(echo $qs | range)); peak RSS $((m / 1024)) MiB, $bpp bytes/pixel above the frames (videoconvert pipeline $((base / 1024)) MiB)"
  done
done
