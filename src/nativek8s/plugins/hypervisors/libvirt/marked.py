"""Destroy without state: every domain and network on the lab's hosts whose metadata names
the lab, the volumes those domains own, and the lab's own pool once it is empty."""

from __future__ import annotations

from typing import Any

from nativek8s.api import Plan

from . import domains, networks, storage
from .connection import Connections, binding
from .options import options_of
from .ownership import owner_of
from .specs import machine_uri


def destroy_marked(connections: Connections, lab: str, plan: Plan) -> tuple[list[str], list[str]]:
    """(removed, notes). The plan (from the topology file) says which hosts to look at."""
    removed: list[str] = []
    notes: list[str] = []

    def report(gone: bool, note: str) -> None:
        (removed if gone else notes).append(note)

    for uri in sorted({machine_uri(plan, m) for m in plan.machines}):
        conn = connections.get(uri)
        volumes: dict[tuple[str, str], None] = {}
        for name in _owned_domains(conn, lab):
            owner, note = domains.destroy(conn, name, lab)
            report(owner is not None, note)
            if owner is not None:
                volumes.update({v: None for v in owner.volumes})
        for pool, name in volumes:
            report(*storage.destroy_volume(conn, pool, name, lab))
        if options_of(plan).pool is None:  # the lab's own pool, not one the user gave
            gone, note = storage.destroy_pool(conn, f"nk8s-{lab}", None)
            if gone or not note.endswith("already gone"):
                report(gone, note)
        for name, xml in networks.existing(conn):
            owner = owner_of(xml)
            if owner is not None and owner.lab == lab:
                report(*networks.destroy(conn, name, lab))
    return removed, notes


def _owned_domains(conn: Any, lab: str) -> list[str]:
    libvirt = binding()
    out = []
    for dom in conn.listAllDomains(0):
        try:
            owner = owner_of(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        except libvirt.libvirtError:  # removed while we looked
            continue
        if owner is not None and owner.lab == lab:
            out.append(dom.name())
    return sorted(out)
