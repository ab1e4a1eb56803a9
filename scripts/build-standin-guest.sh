#!/bin/sh
# Build (or find in the cache) the stand-in guest for the tier-2 libvirt tests: Debian's
# stock kernel + a busybox-static initramfs. No root needed; downloads two .deb files with
# apt-get download the first time. Prints the paths and timings as JSON.
# Usage: scripts/build-standin-guest.sh [--cache-dir DIR] [--kernel-package PKG] [--refresh] [--force]
set -eu
cd "$(dirname "$0")/../tests"
exec "${PYTHON:-python3}" -m libvirt_env.guest "$@"
