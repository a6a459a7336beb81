#!/bin/sh
# Set up (Debian packages), build and run every test. This is the README's test command
# and what CI runs.
set -eu
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
BUILD=${BUILD_DIR:-build}
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --buildtype=release
fi
ninja -C "$BUILD"
meson test -C "$BUILD" --print-errorlogs --num-processes 2 ${MESON_TEST_ARGS:-}
