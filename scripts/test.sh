#!/usr/bin/env bash
# The test suite: set up this Debian 12 machine (as root), run the gates (ruff, mypy,
# import-linter: any finding fails the script), then every test.
#   scripts/test.sh                     everything (what .ci/run runs)
#   scripts/test.sh --suite NAME        one CI cell: core, netns, libvirt, standins or frr
#                                       (pytest -m suite_NAME; the gates run with core)
# Other arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
SUITES="core netns libvirt standins frr"  # tests/suites.py; .github/workflows/ci.yml
suite=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --suite) suite="${2:-}"; shift 2 || { echo "--suite needs a name: $SUITES" >&2; exit 2; } ;;
    --suite=*) suite="${1#--suite=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -n "$suite" ] && [[ " $SUITES " != *" $suite "* ]]; then
  echo "unknown suite '$suite'; choose one of: $SUITES" >&2
  exit 2
fi
scripts/install-deps.sh --dev
if [ -z "$suite" ] || [ "$suite" = core ]; then
  scripts/gates.sh
fi
if [ -n "$suite" ]; then
  exec .venv/bin/python -m pytest -q -m "suite_$suite" ${args[@]+"${args[@]}"}
fi
exec .venv/bin/python -m pytest -q ${args[@]+"${args[@]}"}
