#!/bin/sh
# Install what the tier-2 libvirt tests need on a Debian 12 machine (root, no systemd needed).
#
# Idempotent: installs only missing packages, creates only missing users/dirs, and prints what
# it did. It does NOT edit /etc/libvirt/qemu.conf and starts no daemon: the test harness
# (tests/libvirt_env/daemon.py) runs its own libvirtd with a private config bind-mounted over
# /etc/libvirt in a private mount + network namespace, so the host's libvirt setup is untouched.
#
# Usage: scripts/install-libvirt-deps.sh [--no-python]
#   --no-python   skip `pip install libvirt-python` (e.g. when CI installs Python deps itself)
set -eu

WITH_PYTHON=1
for arg in "$@"; do
    case "$arg" in
        --no-python) WITH_PYTHON=0 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "must run as root" >&2
    exit 1
fi

# libvirt-daemon-system is avoided on purpose: it pulls systemd and enables host services.
# libvirt-clients gives virsh, only for debugging; the tests use the Python binding.
# bird2 and libglib2.0-0: the libraries of the bird, birdc and qemu-ga copied into the
# stand-in guest (tests/libvirt_env/userland.py) are taken from this host.
PACKAGES="libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils
dnsmasq-base iptables iproute2 util-linux libvirt-dev pkg-config gcc bird2 libglib2.0-0"

missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $pkg"
    fi
done
if [ -n "$missing" ]; then
    echo "apt: installing:$missing"
    apt-get update -q
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
else
    echo "apt: all packages already installed"
fi

# The qemu driver refuses to load if its default user is unknown, even when the private
# qemu.conf says user = "root" (the Debian postinst that creates it lives in -system).
if ! getent passwd libvirt-qemu >/dev/null; then
    useradd --system --user-group --no-create-home --shell /usr/sbin/nologin libvirt-qemu
    echo "user: created libvirt-qemu"
else
    echo "user: libvirt-qemu exists"
fi

# Mount points for the harness' private bind mounts (the packages create most of them).
for dir in /etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt; do
    if [ ! -d "$dir" ]; then
        mkdir -p "$dir"
        echo "dir: created $dir"
    fi
done

if [ "$WITH_PYTHON" -eq 1 ]; then
    PYTHON="${PYTHON:-python3}"
    if "$PYTHON" -c 'import libvirt' 2>/dev/null; then
        echo "pip: libvirt-python already importable by $PYTHON"
    else
        echo "pip: installing libvirt-python for $PYTHON (compiles against libvirt-dev)"
        "$PYTHON" -m pip install -q 'libvirt-python>=9.0'
    fi
fi
echo "done"
