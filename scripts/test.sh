#!/bin/sh
# Set up (Debian packages), build and run every test. This is the README's test command
# and what CI runs (.ci/run).
#
# Two builds: $BUILD_DIR (default build/, release) runs every suite, valgrind included;
# $SAN_BUILD_DIR (default build-san/: ASan + UBSan, -O1, no CUDA) runs the unit and
# GstHarness suites again under the sanitizers and fuzzes the file readers and the
# element's caps and frame paths for FUZZ_SECONDS per target (fuzz/; default 40).
# SANITIZE=0 skips the second build.
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
logs="$BUILD/meson-logs/testlog.json"

if [ "${SANITIZE:-1}" != 0 ]; then
  SAN=${SAN_BUILD_DIR:-build-san}
  if [ ! -f "$SAN/build.ninja" ]; then
    meson setup "$SAN" --buildtype=debugoptimized -Doptimization=1 -Db_sanitize=address,undefined \
      -Db_lundef=false -Dcuda=disabled -Dfuzz-seconds="${FUZZ_SECONDS:-40}"
  else
    meson configure "$SAN" -Dfuzz-seconds="${FUZZ_SECONDS:-40}"
  fi
  ninja -C "$SAN"
  # UBSan only prints by default: halt, so that a report fails its test. One engine test
  # runs ~100 s under the sanitizers and goes through no code the others do not (many
  # frames of the same paths); the plain build runs it. The convert suite drives the
  # tool in child processes whose plugin scanner is not sanitized (it cannot load an
  # ASan plugin); the plain build runs it.
  ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1} \
  GTEST_FILTER=${SAN_GTEST_FILTER:--Temporal.OneFrameOutlierLeavesEveryLaterFrameAlone} \
    meson test -C "$SAN" --print-errorlogs --num-processes 2 --no-suite convert ${MESON_TEST_ARGS:-} || rc=$?
  logs="$logs $SAN/meson-logs/testlog.json"
fi

# One plain summary line, counted from meson's own logs (both builds).
passed=0 failed=0 skipped=0
for log in $logs; do
  [ -f "$log" ] || continue
  p=$(grep -c '"result": "OK"' "$log" || true)
  f=$(grep -Ec '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
  s=$(grep -c '"result": "SKIP"' "$log" || true)
  echo "($(dirname "$(dirname "$log")"): $p ok, $f failed, $s skipped)"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $rc
