"""Every test is in exactly one suite; the suites, pyproject's markers, scripts/test.sh and
the CI matrix name the same ones."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from tests.suites import MARK_PREFIX, SUITES, suite_of

ROOT = Path(__file__).resolve().parents[2]


def test_every_collected_test_is_in_exactly_one_known_suite(tmp_path):
    out = tmp_path / "suites.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "-p", "no:cacheprovider", f"--suite-map={out}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    seen = json.loads(out.read_text())
    assert len(seen) > 500  # the whole tree was collected
    wrong = {test: marks for test, marks in seen.items() if len(marks) != 1}
    assert wrong == {}, "tests in no suite or in several"
    used = {marks[0].removeprefix(MARK_PREFIX) for marks in seen.values()}
    assert used == set(SUITES)  # each suite has tests, and no other suite exists
    assert any(t.startswith("examples/nativek8s-frr/") for t, m in seen.items()
               if m == ["suite_frr"])


def test_rules_by_path_and_marker():
    assert suite_of("tests/core/test_cli.py", set()) == "core"
    assert suite_of("tests/plugins/routers/openwrt/test_bird_netns.py", {"netns"}) == "netns"
    assert suite_of("tests/libvirt_env/test_tier2_boot.py", {"netns"}) == "libvirt"
    assert suite_of("tests/core/test_cli.py", {"suite_frr"}) == "frr"


def test_markers_script_and_ci_matrix_name_the_same_suites():
    markers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"]["markers"]
    registered = {m.split(":")[0].removeprefix(MARK_PREFIX) for m in markers
                  if m.startswith(MARK_PREFIX)}
    assert registered == set(SUITES)
    script = (ROOT / "scripts" / "test.sh").read_text()
    listed = re.search(r'^SUITES="([^"]+)"', script, re.M)
    assert listed and set(listed.group(1).split()) == set(SUITES)
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    cells = [c["suite"] for c in ci["jobs"]["suite"]["strategy"]["matrix"]["include"]]
    assert sorted(cells) == sorted(SUITES)
    steps = ci["jobs"]["suite"]["steps"]
    assert any(s.get("run") == "./scripts/test.sh --suite ${{ matrix.suite }}" for s in steps)


def test_an_unknown_suite_is_refused_before_any_setup():
    proc = subprocess.run([str(ROOT / "scripts" / "test.sh"), "--suite", "nope"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "unknown suite 'nope'; choose one of: core netns libvirt standins frr" in proc.stderr
