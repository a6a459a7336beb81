#!/bin/sh
# Install every Debian (bookworm) package that dtutmo needs to build, test and run its demo.
# Usage: sudo scripts/setup-debian.sh    (idempotent; run as root or through sudo)
# CUDA is optional: the build uses /usr/local/cuda when nvcc is there, the CPU engine otherwise.
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
PKGS="build-essential pkg-config meson ninja-build git
  libglib2.0-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  libavformat-dev libavcodec-dev libavutil-dev ffmpeg
  libopenexr-dev libopenimageio-dev libpng-dev libcairo2-dev
  debhelper
  libgtest-dev libgmock-dev
  valgrind time gdb"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  $SUDO apt-get update -q
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -q --no-install-recommends $missing
else
  echo "setup: all packages present"
fi
