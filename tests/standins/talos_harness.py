"""Test harness for the talosctl stand-in: where it is, how to launch it, how to run it.

Used by ``conftest.py`` here; tests of code that calls ``talosctl`` can use it the same way
(``make_launcher`` gives a bin directory to prepend to PATH).
"""

from __future__ import annotations

import io
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.launchers import write_launchers

STANDINS = Path(__file__).resolve().parent
TALOSCTL = STANDINS / "bin" / "talosctl"
SCHEMA = "talos/config.schema.v1.13.9.json"  # upstream files, found by tests.upstream
SCHEMA_14 = "talos/config.schema.v1.14.0-rc.1.json"


def make_launcher(directory: Path) -> Path:
    """Write ``directory/talosctl`` running the stand-in with this interpreter; return directory."""
    return write_launchers(directory, ("talosctl",))


@dataclass
class Talos:
    """Runs the stand-in in ``cwd`` with its simulation and log files.

    By default in this process (same code as the executable, without ~0.2 s of interpreter
    start-up per call); ``subprocess=True`` runs the real ``talosctl`` executable.
    """

    cwd: Path
    env: dict[str, str]
    executable: Path
    subprocess: bool = False

    @property
    def sim(self) -> Path:
        return Path(self.env["NK8S_TALOS_SIM"])

    @property
    def log(self) -> Path:
        return Path(self.env["NK8S_STANDIN_LOG"])

    def __call__(self, *args: str, ok: bool | None = True) -> subprocess.CompletedProcess[str]:
        if self.subprocess:
            result = subprocess.run(
                [str(self.executable), *args],
                cwd=self.cwd,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=60,
            )
        else:
            result = self._in_process(list(args))
        if ok is True:
            assert result.returncode == 0, f"talosctl {' '.join(args)} failed:\n{result.stderr}"
        elif ok is False:
            assert result.returncode == 1, f"talosctl {' '.join(args)} should fail:\n{result.stdout}"
        return result

    def _in_process(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        from tests.standins import talos_cli

        out, err = io.StringIO(), io.StringIO()
        with pytest.MonkeyPatch.context() as mp:
            for name in set(os.environ) - set(self.env):
                mp.delenv(name)
            for name, value in self.env.items():
                mp.setenv(name, value)
            mp.chdir(self.cwd)
            code = talos_cli.main(argv, out, err)
        return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())
