"""Fixtures for end-to-end labs on the netns backend: real namespaces, BIRD and GoBGP.

Every lab gets a unique short name, its own state folder, and is destroyed by name at the
end even when the test fails; a final check removes any namespace of it that survived.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

NEEDS = ["ip", "bird", "birdc", "gobgpd", "gobgp", "ping", "traceroute"]


def netns_ready() -> str | None:
    if os.geteuid() != 0:
        return "needs root (creates network namespaces)"
    missing = [t for t in NEEDS if shutil.which(t) is None]
    if missing:
        return f"missing tools: {' '.join(missing)} (scripts/install-deps.sh installs them)"
    return None


@dataclass
class Lab:
    name: str
    state_dir: Path
    topology: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "NATIVEK8S_STATE_DIR": str(self.state_dir)}

    def cli(self, *args: str, check: bool = False, timeout: float = 120) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "nativek8s.core.cli.main", *args],
                              capture_output=True, text=True, env=self.env(), timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"nativek8s {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    def namespaces(self) -> set[str]:
        try:
            names = {p.name for p in Path("/run/netns").iterdir()}
        except FileNotFoundError:
            return set()
        return {n for n in names if n.startswith(f"nk.{self.name}.")}

    def resources(self) -> dict:
        path = self.state_dir / "labs" / self.name / "resources.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def processes(self) -> list[int]:
        """PIDs whose command line names this lab's state or namespaces."""
        marks = (str(self.state_dir), f"nk.{self.name}.", f"/run/nativek8s/{self.name}/")
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if stat != "Z" and any(m in cmd for m in marks):
                pids.append(int(entry.name))
        return pids


def write_topology(path: Path, name: str, extra: str = "", datacentres: str | None = None) -> Path:
    dcs = datacentres or (
        "  dc1:\n    lan: 10.1.0.0/24\n    nodes:\n      node-1: {role: controlplane}\n"
        "  dc2:\n    lan: 10.2.0.0/24\n    nodes:\n      node-2: {role: worker}\n")
    path.write_text(f"name: {name}\ndatacentres:\n{dcs}{extra}")
    return path


def _cleanup(lab: Lab) -> None:
    lab.cli("destroy", lab.name)
    for pid in lab.processes():  # only processes naming this lab's own paths
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    for ns in lab.namespaces():
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture
def make_lab(tmp_path):
    reason = netns_ready()
    if reason:
        pytest.skip(reason)
    labs: list[Lab] = []

    def make(extra: str = "", datacentres: str | None = None) -> Lab:
        name = "t" + secrets.token_hex(3)
        topo = write_topology(tmp_path / f"{name}.yaml", name, extra, datacentres)
        lab = Lab(name, tmp_path / "state", topo)
        labs.append(lab)
        return lab

    yield make
    for lab in labs:
        _cleanup(lab)
