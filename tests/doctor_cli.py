"""`nativek8s doctor` and `deploy` in process with the built-in plugins, on a host without
talosctl, helm or the cilium CLI (PATH holds nothing), the lab's state and cache in folders
that do not exist yet (so anything created shows), and the Talos Image Factory a real HTTP
server on 127.0.0.1 (tests/support/http_site.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from nativek8s.core.load import reference_text
from nativek8s.core.registry import reset_registry


def bare_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(state dir, cache dir), neither existing; PATH without any tool."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    state, cache = tmp_path / "state", tmp_path / "cache"
    monkeypatch.setenv("NATIVEK8S_STATE_DIR", str(state))
    monkeypatch.setenv("NATIVEK8S_CACHE_DIR", str(cache))
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    return state, cache


def topology(tmp_path: Path, options: dict[str, Any]) -> Path:
    data = yaml.safe_load(reference_text())
    data["options"] = options
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run(args: list[str]) -> Result:
    from nativek8s.core.cli.main import cli

    reset_registry(None)  # the built-in plugins, loaded afresh
    try:
        try:
            runner = CliRunner(mix_stderr=False)  # click < 8.2
        except TypeError:
            runner = CliRunner()
        return runner.invoke(cli, args, catch_exceptions=False)
    finally:
        reset_registry(None)


def openwrt_files(version: str, combined: bool) -> dict[str, bytes]:
    """A release tree's files the router disks are made from (their bytes do not matter to
    doctor, which downloads nothing)."""
    target = f"/releases/{version}/targets/x86/64"
    stem = f"openwrt-{version}-x86-64-generic"
    images = [f"{stem}-ext4-combined.img.gz"] if combined else [
        f"{stem}-kernel.bin", f"{stem}-ext4-rootfs.img.gz"]
    files = {f"{target}/{name}": b"x" * 1024 for name in ["sha256sums", *images]}
    files[f"/releases/{version}/packages/x86_64/sha256sums"] = b"x"
    return files
