#!/bin/sh
# The README's main command: set up (Debian packages), build, and tone-map the built-in
# animated HDR test scene -- or your own video file -- to a viewable H.264 MP4 plus a
# contact-sheet PNG, through the dtutmo GStreamer element.
#
#   scripts/demo.sh                 # procedural HDR scene -> dtutmo-demo.mp4, dtutmo-demo.png
#   scripts/demo.sh movie.mkv       # your HDR10/HLG/SDR file -> dtutmo-demo.mp4, .png
#   scripts/demo.sh in.mkv out.mp4 sheet.png
# Outputs land in the current folder unless paths are given.
# Environment: PROFILE=fast|balanced, DTUTMO_ARGS="prop=value ...", BUILD_DIR (default build).
set -eu
here=$(pwd)
abs() { case "$1" in /*) echo "$1" ;; *) echo "$here/$1" ;; esac; }
IN=${1:+$(abs "$1")}
OUT=$(abs "${2:-dtutmo-demo.mp4}")
SHEET=$(abs "${3:-dtutmo-demo.png}")
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
BUILD=${BUILD_DIR:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=release
ninja -C "$BUILD"
BUILD_DIR="$BUILD" exec ./pipelines/demo.sh "${IN:-}" "$OUT" "$SHEET"
