"""Node roles: shared by the topology and the plan (a module of its own so that reading a
plan does not build the topology's models)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    controlplane = "controlplane"
    worker = "worker"
