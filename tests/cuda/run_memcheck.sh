#!/bin/sh
# compute-sanitizer memcheck over the CUDA engine's parity tests.
# usage: run_memcheck.sh <has-device binary> <test binary> [compute-sanitizer path]
# Exits 77 (skipped) without a device or without compute-sanitizer.
HAS_DEVICE="$1"
BIN="$2"
CS="$3"
"$HAS_DEVICE" || exit 77
if [ -z "$CS" ] || [ ! -x "$CS" ]; then
  CS=$(command -v compute-sanitizer 2>/dev/null)
fi
if [ -z "$CS" ]; then
  echo "SKIP: compute-sanitizer not found"
  exit 77
fi
# small frames only: memcheck is ~100x slower than the kernels
exec "$CS" --tool memcheck --leak-check full --error-exitcode 1 \
  "$BIN" --gtest_filter='CudaParity.Fast*:CudaParity.Balanced*:CudaParity.Yuv*:CudaParity.DeviceViews*:CudaParity.Bad*'
