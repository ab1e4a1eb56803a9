"""Network namespaces a test makes for itself, removed by exact name however it ends."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def scratch_namespaces(prefix: str, *suffixes: str) -> Iterator[list[str]]:
    """Namespaces ``<prefix><random>`` (one per suffix, ``.<suffix>`` appended; one bare name
    without suffixes), as ``ip netns add`` makes them. Skips the test without root or
    iproute2."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 (makes network namespaces)")
    base = f"{prefix}{secrets.token_hex(3)}"
    names = [f"{base}.{s}" for s in suffixes] or [base]
    made: list[str] = []
    try:
        for name in names:
            subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
            made.append(name)
        yield names
    finally:
        for name in made:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
