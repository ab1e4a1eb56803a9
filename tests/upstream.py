"""Where the upstream schemas are: the one lookup every test uses.

The files are upstream's (Talos, Cilium, Proxmox VE; tests/upstream_sources.py lists each
with its pinned URL and sha256) and never committed. Looked for, per file, in:
1. ``NATIVEK8S_UPSTREAM_DIR``, if set;
2. ``../shared/upstream`` beside this checkout (from a git worktree, also beside its main
   checkout): CI provides it;
3. the cache ``scripts/fetch-upstream-data.sh`` fills (``~/.cache/nativek8s/upstream``).

A test that needs a missing file skips, naming the file and the command that fetches it
(:func:`require`, or the ``upstream_file`` fixture); with ``NATIVEK8S_REQUIRE_ALL=1`` (set by
.ci/run) it fails instead. No test runs a weaker check because a file is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.upstream_sources import BY_PATH, COMMAND, cache_dir

ENV = "NATIVEK8S_UPSTREAM_DIR"
REQUIRE_ALL_ENV = "NATIVEK8S_REQUIRE_ALL"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def candidates() -> list[Path]:
    """The data folders, in the order they are searched."""
    if os.environ.get(ENV):
        return [Path(os.environ[ENV])]
    found = [PROJECT_ROOT.parent / "shared" / "upstream"]
    dotgit = PROJECT_ROOT / ".git"
    if dotgit.is_file():  # a worktree: .git names its git dir, whose commondir is the main one
        gitdir = Path(dotgit.read_text().split(":", 1)[1].strip())
        if (gitdir / "commondir").is_file():
            main = (gitdir / (gitdir / "commondir").read_text().strip()).resolve().parent
            found.append(main.parent / "shared" / "upstream")
    found.append(cache_dir())
    return found


def _files(relative: str) -> list[str]:
    """The upstream files a name stands for: itself, or every file under a folder."""
    relative = relative.strip("/")
    if relative in BY_PATH:
        return [relative]
    inside = [p for p in BY_PATH if p.startswith(relative + "/")]
    if not inside:
        raise KeyError(f"{relative!r} is not an upstream file or folder of "
                       "tests/upstream_sources.py; add it there with its URL and sha256")
    return inside


def find(relative: str) -> Path | None:
    """The first data folder's copy of a file (or of a whole folder: every file in it)."""
    files = _files(relative)
    for base in candidates():
        if all((base / f).is_file() for f in files):
            return base / relative.strip("/")
    return None


def missing_reason(relative: str) -> str:
    files = _files(relative)
    missing = files[0] if files == [relative] else f"{relative}/ ({len(files)} files)"
    tried = ", ".join(str(c) for c in candidates())
    return (f"upstream file(s) not found: {missing} (looked in {tried}); "
            f"get them with `{COMMAND}` (needs internet), or set {ENV}")


def require(relative: str) -> Path:
    """The upstream file (or folder), or skip the calling test naming it and the command
    that fetches it; with NATIVEK8S_REQUIRE_ALL=1, fail instead."""
    import pytest

    path = find(relative)
    if path is None:
        if os.environ.get(REQUIRE_ALL_ENV) == "1":
            pytest.fail(f"{missing_reason(relative)} [{REQUIRE_ALL_ENV}=1]", pytrace=False)
        pytest.skip(missing_reason(relative))
    return path
