"""Domains on a libvirt host: ensure (define, update, start) and destroy, owned only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nativek8s.api import LabState, NativeK8sError

from .connection import binding, is_remote, keep_running, lookup, message
from .ownership import Owner, describe, owner_of, require_lab
from .specs import DomainSpec
from .xml import with_uuid
from .xml.domain import domain_xml


def state_key(uri: str, name: str) -> str:
    return f"libvirt:domain:{name}@{uri}"


def ensure(conn: Any, spec: DomainSpec, state: LabState, start: bool = True) -> str:
    """The domain defined as planned, running and autostarted; a note of what changed.

    An update is written to the persistent definition; a running guest picks it up at its
    next power cycle (libvirt never changes a running guest's hardware behind its back)."""
    libvirt = binding()
    xml = domain_xml(spec)
    want = owner_of(xml)
    assert want is not None
    key = state_key(spec.uri, spec.name)
    notes: list[str] = []
    flags = libvirt.VIR_DOMAIN_DEFINE_VALIDATE
    try:
        dom = lookup(conn.lookupByName, spec.name)
        if dom is None:
            state.record(key, uri=spec.uri, name=spec.name, machine=spec.machine)
            dom = conn.defineXMLFlags(xml, flags)
            notes.append("defined")
        else:
            have = require_lab("domain", spec.name, spec.uri,
                               dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), spec.lab)
            if have.digest != want.digest:
                active = dom.isActive()
                dom = conn.defineXMLFlags(with_uuid(xml, dom.UUIDString()), flags)
                notes.append("updated" + (" (applies at its next power cycle)" if active
                                          else ""))
        uuid = dom.UUIDString()
        if state.resources().get(key, {}).get("uuid") != uuid:
            state.record(key, uri=spec.uri, name=spec.name, machine=spec.machine, uuid=uuid)
        keep_running(dom, notes, start=start, before_start=None if is_remote(spec.uri) else (
            # libvirt does not make the console log's folder
            lambda: Path(spec.console_log).parent.mkdir(parents=True, exist_ok=True)))
    except libvirt.libvirtError as exc:
        raise NativeK8sError(f"domain {spec.name} on {spec.uri}: {message(exc)}") from None
    return ", ".join(notes) or "running"


def restart(conn: Any, name: str) -> None:
    """Power-cycle a domain so its persistent definition takes effect."""
    dom = conn.lookupByName(name)
    if dom.isActive():
        dom.destroy()
    dom.create()


def destroy(conn: Any, name: str, lab: str) -> tuple[Owner | None, str]:
    """(owner if removed, note). Only a domain carrying this lab's metadata is removed."""
    libvirt = binding()
    dom = lookup(conn.lookupByName, name)
    if dom is None:
        return None, f"domain {name}: already gone"
    owner = owner_of(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    if owner is None or owner.lab != lab:
        return None, f"domain {name}: {describe(owner)}, left alone"
    if dom.isActive():
        dom.destroy()
    try:
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                          | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                          | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
    except libvirt.libvirtError:
        dom.undefine()  # drivers without those flags
    return owner, f"domain {name}"


STATES = {0: "no state", 1: "running", 2: "blocked", 3: "paused", 4: "shutting down",
          5: "stopped", 6: "crashed", 7: "suspended"}


def state_of(conn: Any, name: str) -> tuple[str, str]:
    """(state word, libvirt's reason number as text) of a domain; 'missing' if absent."""
    dom = lookup(conn.lookupByName, name)
    if dom is None:
        return "missing", ""
    code, reason = dom.state()
    return STATES.get(code, f"state {code}"), str(reason)
