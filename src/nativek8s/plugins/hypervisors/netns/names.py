"""Namespace names of a lab. Dots never occur in DNS labels, so machine names (DNS labels)
cannot collide with the switches' or pods' names."""

from __future__ import annotations

PREFIX = "nk"
OWNER_ALIAS = "nativek8s-lab="  # set as lo's alias in every namespace the lab creates


def machine_ns(lab: str, machine: str) -> str:
    return f"{PREFIX}.{lab}.{machine}"


def switch_ns(lab: str, network: str) -> str:
    return f"{PREFIX}.{lab}.sw.{network}"


def pod_ns(lab: str, node: str) -> str:
    return f"{PREFIX}.{lab}.{node}.pod"


def owner_alias(lab: str) -> str:
    return OWNER_ALIAS + lab


def is_lab_namespace(lab: str, name: str) -> bool:
    return name.startswith(f"{PREFIX}.{lab}.")
