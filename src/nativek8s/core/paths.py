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
