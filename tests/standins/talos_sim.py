"""Simulated Talos nodes and the call log for the talosctl stand-in (``bin/talosctl``).

Environment:

- ``NK8S_TALOS_SIM``: JSON file holding the simulated nodes (read and rewritten by every
  call, under ``flock`` on ``<file>.lock`` so parallel calls are safe).
- ``NK8S_STANDIN_LOG``: JSON-lines file; every call appends ``{"tool", "argv", "cwd",
  "exit", "time"}``. Environment values are never logged.
- ``NK8S_TALOSCTL_VERSION``: client version reported and emulated (default ``v1.13.9``).
- ``NK8S_TALOS_SCHEMA``: optional upstream config JSON schema for strict decoding.

Simulation file (fields marked * are written by the stand-in)::

    {
      "nodes": {
        "10.1.0.10": {
          "stage": "maintenance",     # booting | maintenance | installing | rebooting | running
                                      # (rebooting: an installed node power-cycled: it boots
                                      # its disk, back to running after boot_seconds)
          "boot_seconds": 0.0,        # booting -> maintenance after this many seconds
          "install_seconds": 0.1,     # installing -> running after apply-config --insecure
          "hostname": "cp-1",         # default: talos-<hash of the IP>
          "cni_ready": false,         # k8s node Ready once a CNI runs (tests set it)
          "fail": {"bootstrap": 1},   # fail the next N calls of a command on this node
          "since": 1.7e9,             # * when the current stage began (epoch seconds)
          "history": [["maintenance", 1.7e9], ...],   # * stages entered
          "config": {...},            # * non-secret summary of the applied config (type,
                                      #   cluster, endpoint, CA fingerprints, cni, install disk/image)
          "applies": 1,               # * number of successful apply-config calls
          "etcd": false               # * etcd data directory not empty (after bootstrap)
        }
      },
      "fail": {"gen config": 1}       # fail the next N calls of a command, any node
    }

Command names for ``fail`` are the command path: ``version``, ``gen secrets``, ``gen config``,
``apply-config``, ``bootstrap``, ``kubeconfig``, ``get``, ``service``, ``health``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SIM_ENV = "NK8S_TALOS_SIM"
LOG_ENV = "NK8S_STANDIN_LOG"
STAGES = ("booting", "maintenance", "installing", "rebooting", "running")
API_PORT = 50000

_CONN = "rpc error: code = Unavailable desc = connection error: desc = "


class SimError(Exception):
    """A problem with the stand-in's own setup (not something real talosctl would say)."""


def refused(ip: str) -> str:
    return _CONN + f'"transport: Error while dialing: dial tcp {ip}:{API_PORT}: connect: connection refused"'


def no_route(ip: str) -> str:
    return _CONN + f'"transport: Error while dialing: dial tcp {ip}:{API_PORT}: connect: no route to host"'


UNKNOWN_AUTHORITY = _CONN + (
    '"transport: authentication handshake failed: tls: failed to verify certificate: '
    'x509: certificate signed by unknown authority"'
)
CERT_REQUIRED = _CONN + '"error reading server preface: remote error: tls: certificate required"'


def default_hostname(ip: str) -> str:
    digest = hashlib.sha256(ip.encode()).hexdigest()
    return f"talos-{digest[:3]}-{digest[3:6]}"


# --- state file ----------------------------------------------------------------------------


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def sim_path() -> Path:
    value = os.environ.get(SIM_ENV)
    if not value:
        raise SimError(f"talosctl stand-in: {SIM_ENV} is not set; it must name the simulation JSON file")
    return Path(value)


@contextlib.contextmanager
def session(path: Path | None = None) -> Iterator[dict[str, Any]]:
    """Lock, load and advance the simulation; save it when the block ends."""
    path = path or sim_path()
    with _flock(path.with_name(path.name + ".lock")):
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SimError(f"talosctl stand-in: cannot read {path}: {exc}") from None
        now = time.time()
        for ip, node in state.setdefault("nodes", {}).items():
            _prepare(ip, node, now)
        try:
            yield state
        finally:  # also after a failed call: consumed injected failures must stay consumed
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
            os.replace(tmp, path)


def _prepare(ip: str, node: dict[str, Any], now: float) -> None:
    node.setdefault("stage", "maintenance")
    if node["stage"] not in STAGES:
        raise SimError(
            f"talosctl stand-in: node {ip} has unknown stage {node['stage']!r}; use one of {STAGES}"
        )
    if "since" not in node:
        node["since"] = now
        node["history"] = [[node["stage"], now]]
    node.setdefault("etcd", False)
    advance(node, now)


def set_stage(node: dict[str, Any], stage: str, at: float) -> None:
    node["stage"], node["since"] = stage, at
    node.setdefault("history", []).append([stage, at])


def advance(node: dict[str, Any], now: float) -> None:
    """Apply time-driven transitions: booting -> maintenance, installing -> running,
    rebooting -> running."""
    delays = {"booting": ("boot_seconds", "maintenance"),
              "installing": ("install_seconds", "running"),
              "rebooting": ("boot_seconds", "running")}
    while node["stage"] in delays:
        key, nxt = delays[node["stage"]]
        due = node["since"] + float(node.get(key, 0.0))
        if now < due:
            return
        set_stage(node, nxt, due)


def take_failure(state: dict[str, Any], command: str, node: dict[str, Any] | None = None) -> bool:
    """Consume one injected failure of ``command`` (global first, then the node's)."""
    for table in (state.get("fail"), node.get("fail") if node else None):
        if table and int(table.get(command, 0)) > 0:
            table[command] = int(table[command]) - 1
            return True
    return False


# --- node access (what the Talos API would answer) ------------------------------------------


def node_for(state: dict[str, Any], address: str) -> tuple[str, dict[str, Any] | None]:
    ip = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
    ip = ip.strip("[]")
    return ip, state["nodes"].get(ip)


def secure_error(ip: str, node: dict[str, Any] | None, ca_fingerprint: str) -> str | None:
    """Why an mTLS (talosconfig) connection to ``ip`` fails, or None when it works."""
    if node is None:
        return no_route(ip)
    if node["stage"] in {"booting", "installing", "rebooting"}:
        return refused(ip)
    if node["stage"] == "maintenance":
        return UNKNOWN_AUTHORITY  # maintenance mode serves a self-signed certificate
    config = node.get("config") or {}
    if config.get("ca") != ca_fingerprint:
        return UNKNOWN_AUTHORITY
    return None


def insecure_error(ip: str, node: dict[str, Any] | None) -> str | None:
    """Why a maintenance-mode (--insecure) connection to ``ip`` fails, or None."""
    if node is None:
        return no_route(ip)
    if node["stage"] in {"booting", "installing", "rebooting"}:
        return refused(ip)
    if node["stage"] == "running":
        return CERT_REQUIRED  # apid requires a client certificate once configured
    return None


# --- call log --------------------------------------------------------------------------------


def record_call(argv: list[str], exit_code: int) -> None:
    value = os.environ.get(LOG_ENV)
    if not value:
        return
    path = Path(value)
    line = json.dumps(
        {"tool": "talosctl", "argv": argv, "cwd": os.getcwd(), "exit": exit_code, "time": time.time()}
    )
    with _flock(path.with_name(path.name + ".lock")), open(path, "a", encoding="utf-8") as log:
        log.write(line + "\n")


# --- helpers for tests ---------------------------------------------------------------------


def write_sim(path: Path, nodes: dict[str, dict[str, Any]], fail: dict[str, int] | None = None) -> Path:
    path.write_text(json.dumps({"nodes": nodes, "fail": fail or {}}, indent=2), encoding="utf-8")
    return path


def read_sim(path: Path) -> dict[str, Any]:
    """The simulation as the next call would see it (transitions applied)."""
    with session(path) as state:
        return json.loads(json.dumps(state))


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def secrets_in_log(log_path: Path, secret_values: list[str]) -> list[tuple[int, int]]:
    """(log line, argv index) of every argv element containing a secret (never the secret)."""
    hits = []
    for line, entry in enumerate(read_log(log_path), start=1):
        for index, arg in enumerate(entry["argv"]):
            if any(secret and secret in arg for secret in secret_values):
                hits.append((line, index))
    return hits
