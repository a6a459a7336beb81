#!/bin/sh
# compute-sanitizer memcheck over the CUDA engine's parity tests.
# usage: run_memcheck.sh <has-device binary> <test binary> [compute-sanitizer path]
# Exits 77 (skipped) without a device or without compute-sanitizer, unless
# DTUTMO_REQUIRE_GPU=1; fails when a GPU is present but the engine cannot run on it.
HAS_DEVICE="$1"
BIN="$2"
CS="$3"
"$HAS_DEVICE"
rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
if [ -z "$CS" ] || [ ! -x "$CS" ]; then
  CS=$(command -v compute-sanitizer 2>/dev/null)
fi
if [ -z "$CS" ]; then
  echo "compute-sanitizer not found"
  case "${DTUTMO_REQUIRE_GPU:-}" in ''|0) exit 77 ;; *) exit 1 ;; esac
fi
# small frames only: memcheck is ~100x slower than the kernels
exec "$CS" --tool memcheck --leak-check full --error-exitcode 1 \
  "$BIN" --gtest_filter='CudaParity.Fast*:CudaParity.Balanced*:CudaParity.Yuv*:CudaParity.DeviceViews*:CudaParity.Bad*'
