"""Networks on a libvirt host: ensure (define, update, start) and destroy, owned only."""

from __future__ import annotations

from typing import Any

from nativek8s.api import LabState, NativeK8sError

from .connection import binding, keep_running, lookup, message
from .ownership import describe, owner_of, require_lab
from .specs import NetworkSpec
from .xml import with_uuid
from .xml.network import network_xml


def defined_xml(net: Any) -> str:
    """The network's persistent definition (what the next start uses)."""
    libvirt = binding()
    try:
        return net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_INVALID_ARG:  # the test driver's refusal
            raise
        return net.XMLDesc(0)


def state_key(spec: NetworkSpec) -> str:
    return f"libvirt:network:{spec.name}@{spec.uri}"


def ensure(conn: Any, spec: NetworkSpec, state: LabState) -> str:
    """The network defined as planned, active and autostarted; a note of what changed."""
    libvirt = binding()
    xml = network_xml(spec)
    want = owner_of(xml)
    assert want is not None
    key = state_key(spec)
    notes: list[str] = []
    try:
        net = lookup(conn.networkLookupByName, spec.name)
        if net is None:
            state.record(key, uri=spec.uri, name=spec.name)  # before: a crash stays findable
            net = conn.networkDefineXMLFlags(xml, libvirt.VIR_NETWORK_DEFINE_VALIDATE)
            notes.append("defined")
        else:
            have = require_lab("network", spec.name, spec.uri, defined_xml(net), spec.lab)
            if have.digest != want.digest:
                active = net.isActive()
                net = conn.networkDefineXMLFlags(with_uuid(xml, net.UUIDString()),
                                                 libvirt.VIR_NETWORK_DEFINE_VALIDATE)
                notes.append("updated" + (" (applies when it restarts)" if active else ""))
        _remember(state, key, spec, net.UUIDString())
        keep_running(net, notes)
    except libvirt.libvirtError as exc:
        raise NativeK8sError(f"network {spec.name} on {spec.uri}: {message(exc)}") from None
    return ", ".join(notes) or "present"


def _remember(state: LabState, key: str, spec: NetworkSpec, uuid: str) -> None:
    if state.resources().get(key, {}).get("uuid") != uuid:
        state.record(key, uri=spec.uri, name=spec.name, uuid=uuid)


def destroy(conn: Any, name: str, lab: str) -> tuple[bool, str]:
    """(removed, note). Only a network carrying this lab's metadata is removed."""
    net = lookup(conn.networkLookupByName, name)
    if net is None:
        return False, f"network {name}: already gone"
    owner = owner_of(defined_xml(net))
    if owner is None or owner.lab != lab:
        return False, f"network {name}: {describe(owner)}, left alone"
    if net.isActive():
        net.destroy()
    if net.isPersistent():
        net.undefine()
    return True, f"network {name}"


def existing(conn: Any) -> list[tuple[str, str]]:
    """(name, inactive XML) of every network on the connection."""
    libvirt = binding()
    out = []
    for net in conn.listAllNetworks(0):
        try:
            out.append((net.name(), defined_xml(net)))
        except libvirt.libvirtError:  # removed while we looked
            continue
    return out
