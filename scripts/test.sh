#!/usr/bin/env bash
# The test suite: set up this Debian 12 machine (as root), then run every test.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --dev
exec .venv/bin/python -m pytest -q "$@"
