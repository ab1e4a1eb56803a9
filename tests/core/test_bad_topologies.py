"""The bad-topology corpus: `nativek8s validate FILE` prints exactly the expected message,
exits 2 (0 for warnings only), and creates nothing.

Each tests/data/bad_topologies/NAME.yaml has NAME.expected: the whole of stderr, with the
installed version written as `<version>` and the corpus folder left out of paths. Files named
warn-*.yaml hold warnings only. `pytest --update-goldens` rewrites the expected files.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.golden import HINT, Golden

from .conftest import CLI, DATA, cli_env, normalise, run_cli

BAD = DATA / "bad_topologies"
CASES = sorted(BAD.glob("*.yaml"))


def _snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_mode)
            for p in sorted(folder.iterdir())}


def _stderr_text(raw: str) -> str:
    return normalise(raw).replace(f"{BAD}/", "")


@pytest.fixture
def corpus_cwd(monkeypatch: pytest.MonkeyPatch) -> Path:
    # Git keeps no read bits: give the world-readable case's password file its mode, and
    # the others the private mode they need to get to the checks they are about.
    for pw in BAD.glob("*.pw"):
        pw.chmod(0o644 if pw.name == "world-readable.pw" else 0o600)
    monkeypatch.chdir(BAD)
    return BAD


def test_corpus_is_big_enough(golden: Golden):
    assert len(CASES) >= 25
    missing = [c.name for c in CASES if not c.with_suffix(".expected").exists()]
    assert not missing or golden.update, f"no .expected file for {missing}; {HINT}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_bad_topology(case: Path, corpus_cwd: Path, isolated, builtin_registry, golden: Golden):
    before = _snapshot(corpus_cwd)
    result = run_cli(["validate", case.name])
    stderr = _stderr_text(result.stderr)
    expected_file = case.with_suffix(".expected")
    warning_only = case.stem.startswith("warn-")
    assert result.exit_code == (0 if warning_only else 2), result.output
    golden.check(expected_file, stderr)
    if warning_only:
        assert stderr.startswith("warning: ") and "valid" in result.stdout
    else:
        assert result.stdout == ""
        # Every problem line names the file, and a YAML path or the document.
        for line in stderr.splitlines()[1:]:
            assert line.startswith(f"  {case.name}"), line
    assert _snapshot(corpus_cwd) == before, "validate changed the folder it ran in"
    assert isolated.untouched(), "validate created state or cache"


def test_real_process_matches_corpus(corpus_cwd: Path, tmp_path: Path):
    """The installed-style entry (python -m) prints the same as the in-process CLI."""
    case = BAD / "several-errors.yaml"
    before = _snapshot(corpus_cwd)
    env = cli_env(NATIVEK8S_STATE_DIR=str(tmp_path / "state"),
                  NATIVEK8S_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([*CLI, "validate", case.name], check=False, cwd=corpus_cwd, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert _stderr_text(proc.stderr) == case.with_suffix(".expected").read_text()
    assert proc.stdout == ""
    assert _snapshot(corpus_cwd) == before
    assert list(tmp_path.iterdir()) == []
