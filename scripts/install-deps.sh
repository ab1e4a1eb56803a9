#!/usr/bin/env bash
# Installs what nativek8s needs on Debian 12 (as root) into the system and a venv at .venv.
#   scripts/install-deps.sh           runtime: the netns backend (BIRD 2, GoBGP, iproute2, ...)
#   scripts/install-deps.sh --dev     and everything the test suite needs
# Idempotent: apt runs only when a package is missing; pip only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[ "${1:-}" = "--dev" ] && DEV=1

# openssh-client, openssl: each lab's router login (ssh-keygen; openssl passwd -6).
# graphviz: `nativek8s graph` renders SVG with its `dot`.
PKGS=(python3 python3-venv python3-pip iproute2 bird2 gobgpd iputils-ping traceroute iperf3
      procps openssh-client openssl graphviz)
if [ "$DEV" = 1 ]; then
  # e2fsprogs: image tests (mkfs.ext4 -d, debugfs); openssl: the Proxmox stand-in's TLS;
  # chromium: the graph's HTML page is tested in a real headless browser;
  # frr: the FRR example plugin's tests (vtysh --dryrun, zebra + bgpd in namespaces).
  PKGS+=(e2fsprogs git gcc python3-dev chromium frr)
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # bird2's and frr's packages start their daemon in the host namespace where systemd runs:
  # the lab never uses them, so keep them from starting (policy-rc.d) and disable them below.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ "$DEV" = 1 ]; then
  # libvirt, QEMU and the user the tier-2 tests need (private libvirtd; host config untouched)
  scripts/install-libvirt-deps.sh --no-python
fi
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now bird.service >/dev/null 2>&1 || true
  systemctl disable --now frr.service >/dev/null 2>&1 || true
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ "$DEV" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[dev]"
  # The FRR router OS: a plugin in its own distribution, as a third party would ship one.
  .venv/bin/python -m pip install -q -e ./examples/nativek8s-frr
else
  .venv/bin/python -m pip install -q -e .
fi
echo "nativek8s $(.venv/bin/nativek8s --version | awk '{print $NF}') ready in $(pwd)/.venv"
