"""Fixtures for the stand-in tests: run ``bin/talosctl`` as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

STANDINS = Path(__file__).resolve().parent
sys.path.insert(0, str(STANDINS))  # the stand-in's helper modules import each other flatly

TALOSCTL = STANDINS / "bin" / "talosctl"


def _shared() -> Path:
    """../shared beside the project root; from a git worktree, beside its main checkout
    (NK8S_SHARED_DIR overrides both)."""
    if os.environ.get("NK8S_SHARED_DIR"):
        return Path(os.environ["NK8S_SHARED_DIR"])
    root = STANDINS.parents[1]
    candidates = [root.parent / "shared"]
    dotgit = root / ".git"
    if dotgit.is_file():  # a worktree: .git names its git dir, whose commondir is the main one
        gitdir = Path(dotgit.read_text().split(":", 1)[1].strip())
        if (gitdir / "commondir").is_file():
            main = (gitdir / (gitdir / "commondir").read_text().strip()).resolve().parent
            candidates.append(main.parent / "shared")
    return next((c for c in candidates if c.is_dir()), candidates[0])


SHARED = _shared()
SCHEMA = SHARED / "upstream" / "talos" / "config.schema.v1.13.9.json"
SCHEMA_14 = SHARED / "upstream" / "talos" / "config.schema.v1.14.0-rc.1.json"


@pytest.fixture(scope="session")
def standin_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bin directory whose ``talosctl`` runs the stand-in with this test run's interpreter.

    Prepend it to PATH in tests of code that calls talosctl. Using ``sys.executable`` directly
    skips version-manager shims (a pyenv shim costs ~0.2 s per call) and guarantees the
    interpreter has PyYAML; ``-S`` saves the site start-up on every call.
    """
    directory = tmp_path_factory.mktemp("standin-bin")
    launcher = directory / "talosctl"
    # -S skips site (and every .pth file it would process); the paths it would add are given.
    paths = [p for p in sys.path if p]
    launcher.write_text(
        f"#!{sys.executable} -S\nimport sys\nsys.path.extend({paths!r})\nimport runpy\n"
        f"runpy.run_path({str(TALOSCTL)!r}, run_name='__main__')\n"
    )
    launcher.chmod(0o755)
    return directory


@dataclass
class Talos:
    """Runs the stand-in in ``cwd`` with its simulation and log files."""

    cwd: Path
    env: dict[str, str]
    executable: Path

    @property
    def sim(self) -> Path:
        return Path(self.env["NK8S_TALOS_SIM"])

    @property
    def log(self) -> Path:
        return Path(self.env["NK8S_STANDIN_LOG"])

    def __call__(self, *args: str, ok: bool | None = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.executable), *args],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if ok is True:
            assert result.returncode == 0, f"talosctl {' '.join(args)} failed:\n{result.stderr}"
        elif ok is False:
            assert result.returncode == 1, f"talosctl {' '.join(args)} should fail:\n{result.stdout}"
        return result


@pytest.fixture
def talos(tmp_path: Path, standin_bin: Path) -> Talos:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NK8S_", "TALOSCONFIG"))}
    env.update(
        NK8S_TALOS_SIM=str(tmp_path / "sim.json"),
        NK8S_STANDIN_LOG=str(tmp_path / "calls.jsonl"),
        HOME=str(tmp_path / "home"),  # never read or write the real ~/.talos or ~/.kube
    )
    (tmp_path / "home").mkdir()
    (tmp_path / "sim.json").write_text('{"nodes": {}}')
    env["PATH"] = f"{standin_bin}{os.pathsep}{env.get('PATH', '')}"
    return Talos(cwd=tmp_path, env=env, executable=standin_bin / "talosctl")


@pytest.fixture
def schema() -> Path:
    if not SCHEMA.exists():
        pytest.skip(f"upstream Talos schema not found at {SCHEMA} (needs ../shared beside the repo)")
    return SCHEMA


@pytest.fixture
def schema14() -> Path:
    if not SCHEMA_14.exists():
        pytest.skip(f"upstream Talos schema not found at {SCHEMA_14} (needs ../shared beside the repo)")
    return SCHEMA_14
