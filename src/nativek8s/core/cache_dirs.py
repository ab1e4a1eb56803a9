"""Where nativek8s keeps files it can fetch again (downloaded images, release files).

Precedence: ``$NATIVEK8S_CACHE_DIR``, then ``$XDG_CACHE_HOME/nativek8s``, then
``~/.cache/nativek8s``. Per the XDG base-directory spec a relative ``XDG_CACHE_HOME`` is
invalid and ignored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

CACHE_DIR_ENV = "NATIVEK8S_CACHE_DIR"
APP_NAME = "nativek8s"


def cache_root(env: Mapping[str, str] | None = None) -> Path:
    """Return the cache directory (not created)."""
    env = os.environ if env is None else env
    override = env.get(CACHE_DIR_ENV, "")
    if override:
        return Path(override).expanduser()
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP_NAME
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".cache" / APP_NAME
