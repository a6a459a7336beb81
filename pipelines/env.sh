# Sourced by the pipeline scripts: finds the build folder and points GStreamer at the
# dtutmo plugin built there (no install needed). BUILD_DIR overrides (default: build).
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
if [ ! -f "$BUILD/gst/libgstdtutmo.so" ]; then
  echo "error: $BUILD/gst/libgstdtutmo.so not found; build first:" >&2
  echo "  meson setup build && ninja -C build   (or set BUILD_DIR)" >&2
  exit 1
fi
GST_PLUGIN_PATH="$BUILD/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
# A registry of our own, so a stale system registry never hides a rebuilt plugin.
GST_REGISTRY=${GST_REGISTRY:-$BUILD/gst/registry-pipelines.bin}
export GST_PLUGIN_PATH GST_REGISTRY
need() {
  for e in "$@"; do
    gst-inspect-1.0 "$e" >/dev/null 2>&1 || {
      echo "error: GStreamer element '$e' is missing (run scripts/setup-debian.sh)" >&2
      exit 1
    }
  done
}
