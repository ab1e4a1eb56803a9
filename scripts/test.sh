#!/usr/bin/env bash
# The test suite: set up this Debian 12 machine (as root), run the gates (ruff, mypy,
# import-linter: any finding fails the script), then every test. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --dev
scripts/gates.sh
exec .venv/bin/python -m pytest -q "$@"
