"""Where nativek8s keeps things on the user's machine."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / fallback


def state_root() -> Path:
    """Per-lab state (what was created, secrets, logs): NATIVEK8S_STATE_DIR or XDG state."""
    env = os.environ.get("NATIVEK8S_STATE_DIR")
    return Path(env) if env else _xdg("XDG_STATE_HOME", ".local/state") / "nativek8s"


def lab_dir(lab: str) -> Path:
    return state_root() / "labs" / lab


def cache_root() -> Path:
    """Downloads shared by every lab: NATIVEK8S_CACHE_DIR or XDG cache."""
    env = os.environ.get("NATIVEK8S_CACHE_DIR")
    return Path(env) if env else _xdg("XDG_CACHE_HOME", ".cache") / "nativek8s"


def outermost_missing(path: Path) -> Path | None:
    """The outermost folder of ``path`` (or path itself) that does not exist yet: what to
    remove to leave no trace after a refused command."""
    return next((p for p in reversed([path, *path.parents]) if not p.exists()), None)
