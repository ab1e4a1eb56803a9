"""Running talosctl: found once, version-checked, every call with a deadline.

Nothing secret is ever put in argv: secrets live in files (the secrets bundle, the
talosconfig, the generated configs) whose paths are passed instead. Errors quote the
command line (safe for that reason) and the last lines talosctl printed.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from nativek8s.api import NativeK8sError

from .versions import TalosVersion, parse_version

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "install talosctl {want} (the same minor version as the nodes): "
    "`curl -sL https://talos.dev/install | sh`, or download talosctl-linux-amd64 of release "
    "{want} from https://github.com/siderolabs/talos/releases, or set options.talos.talosctl "
    "to its path")
_TAG = re.compile(r"^\s*(?:Tag:\s*|Talos\s+)(v\d+\.\d+\.\d+\S*)\s*$", re.MULTILINE)


class TalosctlError(NativeK8sError):
    """talosctl failed; ``stderr`` keeps its full message for callers that classify it."""

    def __init__(self, message: str, stderr: str = "", stdout: str = "",
                 returncode: int | None = None):
        super().__init__(message)
        self.stderr, self.stdout, self.returncode = stderr, stdout, returncode


@dataclass(frozen=True)
class Result:
    stdout: str
    stderr: str


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return "\n  ".join(kept) or "(no output)"


@dataclass
class Talosctl:
    executable: str
    timeout: float = 120.0

    @classmethod
    def find(cls, configured: str | None, want: TalosVersion, timeout: float = 120.0) -> Talosctl:
        """talosctl at the configured path or on PATH; a clear error when missing."""
        hint = INSTALL_HINT.format(want=want.tag)
        if configured:
            path = Path(configured).expanduser()
            if not (path.is_file() and os.access(path, os.X_OK)):
                raise NativeK8sError(f"talosctl not found at {path} (options.talos.talosctl); "
                                     + hint)
            return cls(str(path), timeout)
        found = shutil.which("talosctl")
        if found is None:
            raise NativeK8sError("talosctl is not on PATH; " + hint)
        return cls(found, timeout)

    def run(self, args: list[str], timeout: float | None = None) -> Result:
        """Run ``talosctl ARGS``; raise TalosctlError when it fails or takes too long."""
        shown = "talosctl " + shlex.join(args)
        log.debug("running %s", shown)
        try:
            done = subprocess.run([self.executable, *args], check=False, capture_output=True,
                                  text=True, timeout=timeout or self.timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise TalosctlError(f"`{shown}` did not finish within "
                                f"{timeout or self.timeout:g}s") from None
        except OSError as exc:
            raise TalosctlError(f"cannot run {self.executable}: {exc.strerror}") from None
        if done.returncode != 0:
            raise TalosctlError(f"`{shown}` failed (exit {done.returncode}):\n  "
                                f"{_tail(done.stderr or done.stdout)}",
                                stderr=done.stderr, stdout=done.stdout,
                                returncode=done.returncode)
        return Result(done.stdout, done.stderr)

    def client_version(self) -> TalosVersion:
        out = self.run(["version", "--client"]).stdout
        match = _TAG.search(out)
        if not match:
            raise NativeK8sError(f"cannot read the version of {self.executable} from "
                                 f"`talosctl version --client`: {_tail(out, 3)}")
        return parse_version(match.group(1))

    def check_version(self, want: TalosVersion) -> TalosVersion:
        """The client's version; it must be the nodes' minor version (talosctl generates
        configuration for its own release and talks to that release's API)."""
        have = self.client_version()
        if have.minor_version != want.minor_version:
            raise NativeK8sError(
                f"{self.executable} is talosctl {have.tag} but the nodes run Talos "
                f"{want.tag}; " + INSTALL_HINT.format(want=want.tag))
        return have
