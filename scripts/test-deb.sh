#!/bin/sh
# CI check of the Debian package: build it from a copy of the source tree with Debian's
# own tooling (dpkg-buildpackage, debhelper, meson), unpack it into a scratch root with
# dpkg -x (no chroot, nothing installed on the machine), and check that GStreamer loads
# the plugin from there and that the tools run.
# Usage: scripts/test-deb.sh [SOURCE_DIR]     (default: this checkout)
# Run by `meson test --suite package` (and so by scripts/test.sh). Exit 77 (skipped)
# only where dpkg-buildpackage or debhelper is missing (not a Debian machine).
set -eu
SRC=$(CDPATH= cd -- "${1:-$(dirname -- "$0")/..}" && pwd)
for t in dpkg-buildpackage dh dpkg-checkbuilddeps; do
  command -v "$t" >/dev/null 2>&1 || { echo "test-deb: $t not found (apt install dpkg-dev debhelper)"; exit 77; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dtutmo-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
start=$(date +%s)

# The source: tracked and new (not ignored) files, as a clean clone would have them.
mkdir "$WORK/src"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$SRC" && git ls-files -z --cached --others --exclude-standard \
     | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh \
     | tar -c --null -T - -f -) | tar -x -C "$WORK/src"
else
  (cd "$SRC" && tar -c --exclude='./build*' --exclude=./.git -f - .) | tar -x -C "$WORK/src"
fi

# Lean: no tests, no debug-symbol package, no debug info (-g0 after Debian's -g: the
# package is unpacked and thrown away), two jobs (CI has two cores).
cd "$WORK/src"
DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=${JOBS:-2}" \
DEB_CFLAGS_APPEND=-g0 DEB_CXXFLAGS_APPEND=-g0 \
  dpkg-buildpackage -b -uc -us >"$WORK/build.log" 2>&1 || {
  tail -n 60 "$WORK/build.log"; echo "test-deb: dpkg-buildpackage failed"; exit 1; }
DEB=$(ls "$WORK"/gstreamer1.0-dtutmo_*.deb)
echo "test-deb: built $(basename "$DEB") in $(( $(date +%s) - start )) s"
dpkg-deb --info "$DEB" | sed -n 's/^ *\(Package\|Version\|Depends\|Recommends\):/  &/p'

dpkg -x "$DEB" "$WORK/root"
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
PLUGDIR=$(pkg-config --variable=pluginsdir gstreamer-1.0)
fail() { echo "test-deb: $*"; exit 1; }
[ -f "$WORK/root$PLUGDIR/libgstdtutmo.so" ] || {
  (cd "$WORK/root" && find . -type f); fail "plugin not in GStreamer's folder $PLUGDIR"; }
for t in dtutmo-convert dtutmo-image dtutmo-quality; do
  [ -x "$WORK/root/usr/bin/$t" ] || fail "/usr/bin/$t missing"
done
case $PLUGDIR in */$MA/*) ;; *) fail "plugin folder $PLUGDIR is not multiarch ($MA)";; esac

# GStreamer as installed on this machine, plus the unpacked plugin folder, own registry.
export GST_PLUGIN_PATH="$WORK/root$PLUGDIR" GST_REGISTRY="$WORK/registry.bin"
gst-inspect-1.0 dtutmo >"$WORK/inspect.txt" 2>&1 || { cat "$WORK/inspect.txt"; fail "gst-inspect-1.0 dtutmo failed"; }
grep -q "$WORK/root$PLUGDIR/libgstdtutmo.so" "$WORK/inspect.txt" || fail "gst-inspect did not load the packaged plugin"
grep -q "post-messages" "$WORK/inspect.txt" || fail "the packaged element lacks post-messages"
gst-inspect-1.0 hdrscenesrc >/dev/null 2>&1 || fail "gst-inspect-1.0 hdrscenesrc failed"
gst-launch-1.0 -q hdrscenesrc num-buffers=3 ! video/x-raw,width=64,height=36 ! dtutmo ! fakesink \
  || fail "packaged plugin does not run"
"$WORK/root/usr/bin/dtutmo-convert" --help >/dev/null || fail "dtutmo-convert --help failed"
"$WORK/root/usr/bin/dtutmo-image" --help >/dev/null || fail "dtutmo-image --help failed"
echo "test-deb: OK: $(basename "$DEB") installs the plugin in $PLUGDIR and the tools in /usr/bin ($(( $(date +%s) - start )) s in all)"
