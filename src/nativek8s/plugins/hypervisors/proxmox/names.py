"""Names and marks that tie Proxmox objects to a lab: VM tags, the SDN zone id, vnet aliases,
uploaded file names. Destroy removes only what carries them.
"""

from __future__ import annotations

import re

from nativek8s.api import Machine, Network, Plan, short_id

PROJECT_TAG = "nativek8s"


def lab_tags(plan: Plan) -> list[str]:
    """Tags of every VM of the lab (lab names are DNS labels: valid PVE tags)."""
    return [PROJECT_TAG, plan.lab]


def tag_string(plan: Plan) -> str:
    return ";".join(lab_tags(plan))


def split_tags(value: str | None) -> set[str]:
    # PVE stores tags separated by ';' and accepts ',', ';' and spaces on input.
    return {t for t in re.split(r"[;,\s]+", value or "") if t}


def has_lab_tags(plan: Plan, value: str | None) -> bool:
    return set(lab_tags(plan)) <= split_tags(value)


def zone_id(plan: Plan) -> str:
    """The lab's SDN zone: 'nk' + 6 hex digits (PVE zone ids: ≤8 characters)."""
    return short_id(plan.lab, "proxmox:zone")


def vnet_alias(plan: Plan, net: Network) -> str:
    """Marks a vnet as this lab's (PVE vnet ids are too short to say it themselves)."""
    return f"{PROJECT_TAG} {plan.lab} {net.key}"


def vm_description(plan: Plan, machine: Machine) -> str:
    kind = getattr(machine, "kind", "machine")
    return (f"Made by nativek8s for lab {plan.lab}: {kind} {machine.name} in "
            f"{machine.datacentre}. `nativek8s destroy {plan.lab}` removes it.")


def _clean(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "image"


def disk_file_name(plan: Plan, machine: Machine, sha256: str, fmt: str) -> str:
    """A machine's own boot disk in 'import' content: lab and machine in the name, so destroy
    can tell it is the lab's; the content hash, so equal name and size mean equal bytes."""
    return f"nk8s-{plan.lab}-{_clean(machine.name)}-{sha256[:16]}.{fmt}"


def iso_file_name(source_stem: str, sha256: str) -> str:
    """An installer ISO, shared by every machine and lab that boots the same bytes."""
    return f"nk8s-{_clean(source_stem)[:64]}-{sha256[:16]}.iso"
