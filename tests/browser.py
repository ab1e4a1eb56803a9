"""Debian's chromium, headless, as a test tool: load a page from a file, let its scripts run,
and return the DOM or a screenshot. Each run has a fresh profile and talks to no network."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing_reason() -> str | None:
    if chromium() is None:
        return "chromium is not installed (scripts/install-deps.sh --dev installs it)"
    return None


def _run(extra: list[str], page: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="nk8s-chromium-") as profile:
        argv = [chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def dump_dom(page: Path) -> str:
    """The DOM after the page loaded and its scripts ran."""
    proc = _run(["--dump-dom", "--virtual-time-budget=5000", "--window-size=1400,1000"], page)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise AssertionError(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def screenshot(page: Path, png: Path, width: int = 1400, height: int = 1100) -> Path:
    proc = _run([f"--screenshot={png}", f"--window-size={width},{height}"], page)
    if proc.returncode != 0 or not png.exists():
        raise AssertionError(f"chromium screenshot failed: {proc.stderr[-2000:]}")
    return png
