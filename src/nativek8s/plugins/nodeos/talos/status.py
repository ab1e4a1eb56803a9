"""Reading what Talos answers: MachineStatus resources and talosctl's error texts.

MachineStatus (``talosctl get machinestatus -o json``, one JSON object per node) carries
the machine's stage and its unmet readiness conditions (machined's MachineStatusController:
``time``, ``network``, ``services``, ``staticPods``, ``nodeReady``). With no CNI a node
stays NotReady: its only unmet condition is then ``nodeReady: node "x" is not ready``,
which also proves the kubelet registered through the API server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from nativek8s.api import NativeK8sError

# Fragments of gRPC errors talosctl prints (siderolabs/talos client and apid).
UNKNOWN_AUTHORITY = "certificate signed by unknown authority"
CERT_REQUIRED = "certificate required"
ALREADY_EXISTS = "AlreadyExists"


@dataclass(frozen=True)
class Condition:
    name: str
    reason: str


@dataclass(frozen=True)
class MachineStatus:
    node: str
    stage: str
    ready: bool
    unmet: tuple[Condition, ...]

    @property
    def registered(self) -> bool:
        """Running, and nothing missing but the node's Ready (which waits for a CNI);
        also true once the node is ready."""
        return self.stage == "running" and all(
            c.name == "nodeReady" and c.reason.endswith("is not ready") for c in self.unmet)

    def describe(self) -> str:
        if self.ready:
            return f"{self.node}: {self.stage}, ready"
        unmet = "; ".join(f"{c.name}: {c.reason}" for c in self.unmet) or "not ready"
        return f"{self.node}: {self.stage}, {unmet}"


def parse_statuses(text: str) -> list[MachineStatus]:
    """Every MachineStatus in talosctl's JSON output (a stream of objects)."""
    decoder = json.JSONDecoder()
    found, pos = [], 0
    text = text.strip()
    try:
        while pos < len(text):
            obj, end = decoder.raw_decode(text, pos)
            found.append(_status(obj))
            pos = end
            while pos < len(text) and text[pos].isspace():
                pos += 1
    except (ValueError, KeyError, TypeError) as exc:
        raise NativeK8sError(f"cannot read talosctl's MachineStatus output ({exc}): "
                             f"{text[:200]!r}") from None
    return found


def _status(obj: dict) -> MachineStatus:
    spec = obj["spec"]
    status = spec.get("status") or {}
    unmet = tuple(Condition(str(c.get("name", "")), str(c.get("reason", "")))
                  for c in status.get("unmetConditions") or [])
    return MachineStatus(node=str(obj.get("node", "")), stage=str(spec.get("stage", "")),
                         ready=bool(status.get("ready")), unmet=unmet)


def short_error(stderr: str) -> str:
    """What a failed talosctl call said: its first line, whole (never cut mid-word)."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return lines[0] if lines else "(no output)"


def node_error(stderr: str, ip: str) -> str:
    """What talosctl said about one node of several (``* 10.2.0.10: rpc error ...`` lines
    of its multi-node errors), else its first line."""
    for line in stderr.splitlines():
        head, sep, rest = line.strip().lstrip("*").strip().partition(": ")
        if sep and head == ip:
            return rest
    return short_error(stderr)
