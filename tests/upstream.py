"""Where the upstream schemas are: ``../shared/upstream`` beside the project.

One lookup for every test: ``NATIVEK8S_UPSTREAM_DIR`` wins; then ``../shared/upstream``
beside this checkout; from a git worktree, also beside its main checkout. Tests that need a
file and cannot find it skip, saying where they looked (a fresh clone has no ``../shared``).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "NATIVEK8S_UPSTREAM_DIR"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def candidates() -> list[Path]:
    if os.environ.get(ENV):
        return [Path(os.environ[ENV])]
    found = [PROJECT_ROOT.parent / "shared" / "upstream"]
    dotgit = PROJECT_ROOT / ".git"
    if dotgit.is_file():  # a worktree: .git names its git dir, whose commondir is the main one
        gitdir = Path(dotgit.read_text().split(":", 1)[1].strip())
        if (gitdir / "commondir").is_file():
            main = (gitdir / (gitdir / "commondir").read_text().strip()).resolve().parent
            found.append(main.parent / "shared" / "upstream")
    return found


def upstream_dir() -> Path:
    """The first candidate that exists (else the first, for messages)."""
    found = candidates()
    return next((c for c in found if c.is_dir()), found[0])


def missing_reason(relative: str) -> str:
    tried = ", ".join(str(c / relative) for c in candidates())
    return (f"upstream file {relative} not found (tried {tried}); it lives in "
            f"../shared/upstream beside the project, or set {ENV}")


def require(relative: str) -> Path:
    """The upstream file, or skip the calling test saying where it looked."""
    import pytest

    path = upstream_dir() / relative
    if not path.exists():
        pytest.skip(missing_reason(relative))
    return path
