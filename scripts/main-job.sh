#!/usr/bin/env bash
# The main job: set up this Debian 12 machine, then deploy and verify the reference lab on
# the netns backend (no VMs). Run as root. Extra arguments go to `nativek8s deploy`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
exec .venv/bin/nativek8s deploy "$@"
