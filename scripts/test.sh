#!/bin/sh
# Set up (Debian packages), build and run every test. This is the README's test command
# and what CI runs (.ci/run).
set -eu
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
BUILD=${BUILD_DIR:-build}
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --buildtype=release
fi
ninja -C "$BUILD"
rc=0
meson test -C "$BUILD" --print-errorlogs --num-processes 2 ${MESON_TEST_ARGS:-} || rc=$?
# One plain summary line, counted from meson's own log.
log="$BUILD/meson-logs/testlog.json"
if [ -f "$log" ]; then
  passed=$(grep -c '"result": "OK"' "$log" || true)
  failed=$(grep -Ec '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
  skipped=$(grep -c '"result": "SKIP"' "$log" || true)
  echo "tests: $passed passed, $failed failed, $skipped skipped"
fi
exit $rc
