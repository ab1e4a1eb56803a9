#!/usr/bin/env bash
# The static gates scripts/test.sh runs before pytest (configured in pyproject.toml):
#   ruff check (lint), mypy (types of src/), lint-imports (core never imports a plugin;
#   plugins import only nativek8s.api, nativek8s.shared and their own package; no plugin
#   imports another). Stops at the first that fails.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$EPOCHREALTIME
echo "gates: ruff check"
.venv/bin/ruff check src tests scripts examples conftest.py
echo "gates: mypy"
.venv/bin/mypy
echo "gates: lint-imports"
.venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache
awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "gates: passed in %.1f s\n", b - a }'
