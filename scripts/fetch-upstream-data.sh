#!/usr/bin/env bash
# Downloads the upstream schemas the tests check against (Talos, Cilium, Proxmox VE), each
# from its pinned URL with a pinned sha256, into ~/.cache/nativek8s/upstream (or
# $XDG_CACHE_HOME/nativek8s/upstream). Needs internet; see tests/upstream_sources.py and
# docs/testing.md. Arguments: --help.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 -m tests.upstream_sources "$@"
