"""Stable names and MACs derived from the lab name (no randomness: plans are pure)."""

from __future__ import annotations

import hashlib

IFNAMSIZ = 15  # Linux interface names (bridges on the host) are at most 15 characters
SHORT_ID_LEN = 8  # Proxmox SDN vnet ids are at most 8 characters


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\0".join(parts).encode()).digest()


def resource_name(lab: str, name: str) -> str:
    return f"{lab}-{name}"


def short_id(lab: str, key: str) -> str:
    """'nk' + 6 hex digits: unique enough per host, stable per lab and network."""
    return "nk" + _digest("short", lab, key).hex()[: SHORT_ID_LEN - 2]


def mac_address(lab: str, machine: str, interface: str, salt: int = 0) -> str:
    """Locally administered unicast MAC (first octet 0x02), stable per lab+machine+NIC."""
    raw = _digest("mac", lab, machine, interface, str(salt))[:5]
    return ":".join(f"{b:02x}" for b in (0x02, *raw))
