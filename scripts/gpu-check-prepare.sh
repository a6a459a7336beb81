#!/bin/sh
# Step 1 of the GPU check, on a machine WITHOUT a GPU (the project's build machine): build
# dtutmo for sm_90 (H100/H200) in a build folder of its own, make an HDR10 test clip with
# x265, and gather everything scripts/gpu-check.sh needs on a GPU machine that has no
# GStreamer into ONE archive, .devbundle/gpu-check.tar.xz (stripped binaries: the tests,
# the benchmark, the plugin; GStreamer's tools, plugins and libraries; the clip). Checks
# that the archive plus the working tree stay under the 64 MiB a device run may carry,
# and prints the exact arguments of that run.
#
# Usage: scripts/gpu-check-prepare.sh          (run it in the checkout the GPU run is made from)
# Environment: BUILD_DIR (default build-gpucheck), GPU_ARCHS (default 90),
#   CLIP_SECONDS (2), CLIP_SIZE (3840x2160), LIMIT_MIB (64).
# Step 2, on the GPU machine: scripts/gpu-check.sh (see README, "GPU check").
set -eu
ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD_DIR:-build-gpucheck}
ARCHS=${GPU_ARCHS:-90}
SECS=${CLIP_SECONDS:-2}
SIZE=${CLIP_SIZE:-3840x2160}
LIMIT_MIB=${LIMIT_MIB:-64}
OUTDIR=.devbundle
STAGE=$OUTDIR/gpu-check
ARCHIVE=$OUTDIR/gpu-check.tar.xz
say() { echo "gpu-check-prepare: $*"; }

# 1. Build (sm_$ARCHS only: every extra architecture is another copy of every kernel).
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" --buildtype=release -Dgpu-archs="$ARCHS" -Dcuda=enabled
else
  meson configure "$BUILD" -Dgpu-archs="$ARCHS" -Dcuda=enabled
fi
ninja -C "$BUILD"

# 2. The HDR10 clip (the GPU machine has no encoder to make one: H100/H200 lack NVENC).
rm -rf "$STAGE" "$ARCHIVE"
mkdir -p "$STAGE/bin" "$STAGE/lib" "$STAGE/lib-compat" "$STAGE/plugins" "$STAGE/sysplugins"
W=${SIZE%x*}
H=${SIZE#*x}
BUILD_DIR=$BUILD pipelines/make-hdr10-clip.sh "$STAGE/hdr10.mp4" "$SECS" "$W" "$H" animated
echo $((SECS * 30)) >"$STAGE/clip-frames"

# 3. What runs there.
for t in tests/cuda/test-cuda-available tests/cuda/test-cuda-helpers tests/cuda/test-cuda-stages \
         tests/cuda/test-cuda-plans tests/cuda/test-cuda-parity tests/cuda/cuda-has-device \
         tests/gst/test_cuda_memory tests/gst/test_gst_elements cuda/dtutmo-bench-cuda; do
  [ -x "$BUILD/$t" ] || { say "missing $BUILD/$t (was CUDA found?)"; exit 1; }
  cp "$BUILD/$t" "$STAGE/bin/"
done
cp "$BUILD/gst/libgstdtutmo.so" "$STAGE/plugins/"
plugdir=$(pkg-config --variable=pluginsdir gstreamer-1.0)
scanner=$(pkg-config --variable=pluginscannerdir gstreamer-1.0 2>/dev/null || true)
[ -x "$scanner/gst-plugin-scanner" ] || scanner=/usr/lib/x86_64-linux-gnu/gstreamer1.0/gstreamer-1.0
# coreelements (fakesink, identity, capsfilter, filesrc), videoconvertscale, nvcodec
# (cudaupload, cudadownload, nvh265dec), videoparsersbad (h265parse), isomp4 (qtdemux),
# imagefreeze (a CUDA frame repeated without uploads, for throughput), app, typefind,
# videotestsrc (test_gst_elements' caps refusals).
for p in coreelements videoconvertscale nvcodec videoparsersbad isomp4 imagefreeze app \
         typefindfunctions videotestsrc; do
  cp -L "$plugdir/libgst$p.so" "$STAGE/sysplugins/" || { say "no GStreamer plugin $p"; exit 1; }
done
cp -L "$(command -v gst-launch-1.0)" "$(command -v gst-inspect-1.0)" "$scanner/gst-plugin-scanner" \
  "$STAGE/bin/"
# Libraries: everything the ELF files load except the C runtime, the driver and cuFFT (the
# GPU machine's own; cuFFT alone is 280 MB). libstdc++ goes to lib-compat, used there only
# when the machine's is older than this one's.
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|libcuda\.so|libnvidia|libnvcuvid|libcufft)'
for f in "$STAGE"/bin/* "$STAGE"/plugins/* "$STAGE"/sysplugins/*; do ldd "$f" 2>/dev/null; done |
  awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
  while read -r name path; do
    echo "$name" | grep -Eq "$skip" && continue
    case $name in
      libstdc++.so*|libgcc_s.so*) cp -Ln "$path" "$STAGE/lib-compat/$name" ;;
      *) cp -Ln "$path" "$STAGE/lib/$name" ;;
    esac
  done
find "$STAGE" -type f \( -name '*.so*' -o -perm -u+x \) -exec strip --strip-unneeded {} + 2>/dev/null || true
git rev-parse --short HEAD > "$STAGE/commit" 2>/dev/null || echo unknown > "$STAGE/commit"
CUDA=$(meson introspect "$BUILD" --buildoptions |
       python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "cuda-path"))')
{ lscpu | sed -n 's/^Model name: *//p'; "$CUDA/bin/nvcc" --version | sed -n 's/^Cuda compilation tools, //p'
  echo "sm_$ARCHS"; } > "$STAGE/built-on"

# 4. One archive, and the sizes that travel.
tar -C "$OUTDIR" -cJf "$ARCHIVE" gpu-check
rm -rf "$STAGE"
archive_kib=$(du -k "$ARCHIVE" | cut -f1)
tree_kib=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -ck 2>/dev/null | tail -1 | cut -f1)
total_kib=$((archive_kib + tree_kib))
say "archive $ARCHIVE: $((archive_kib / 1024)) MiB; working tree that travels: $((tree_kib / 1024)) MiB;" \
    "together $((total_kib / 1024)) MiB of $LIMIT_MIB"
if [ "$total_kib" -ge $((LIMIT_MIB * 1024)) ]; then
  say "too large for one device run (limit $LIMIT_MIB MiB)"
  exit 1
fi
grep -qx '/.devbundle/' .gitignore 2>/dev/null || grep -qx '/.devbundle/' .git/info/exclude 2>/dev/null ||
  say "note: .devbundle/ is not ignored by git here; add it to .git/info/exclude"
cat <<EOF
gpu-check-prepare: ready. On the GPU machine (device tool), with this checkout:
  run  command:   scripts/gpu-check.sh
       carry:     ["$ARCHIVE"]
       timeout_s: 540
  (the check caps its own time at GPU_CHECK_SECONDS=380 s, so that with the machine's
   start it fits 8 minutes of device time; its report is the last thing it prints, also
   written to \$OUT/gpu-check-report.txt, with every log in \$OUT/gpu-check-logs.tar.xz)
EOF
