#!/usr/bin/env bash
# One command a person can run on a Debian 12 machine, as root: the reference lab as VMs
# on libvirt, routing for real, verified inside the VMs, then torn down.
#
# Installs what it needs (scripts/install-deps.sh --dev: libvirt, QEMU, BIRD, the venv),
# builds the stand-in guest (Debian's kernel, busybox, Debian's bird/birdc/qemu-ga), starts a
# private libvirtd in its own network namespace with Debian's stock QEMU settings (the
# host's libvirt is neither used nor changed), runs nativek8s's deploy and verify on the
# reference lab (routers checked inside their VMs through the QEMU guest agent, nodes and
# pods through a stand-in CNI inside the node VMs), prints verify's output and removes
# everything. Exit 0 only when verify passed. See docs/hypervisors/libvirt.md.
#
# Usage: scripts/vm-lab.sh [--keep]    (--keep: leave the lab and the daemon running)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "vm-lab: must run as root (network namespaces, a private libvirtd)" >&2
  exit 2
fi
scripts/install-deps.sh --dev
exec .venv/bin/python -m tests.plugins.hypervisors.libvirt.vmlab "$@"
