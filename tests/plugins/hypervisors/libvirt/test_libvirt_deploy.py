"""Deploy, re-deploy, update and destroy on libvirt's test driver (tier 1)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from nativek8s.core.engine.lab import destroy
from nativek8s.core.engine.state import LabState
from nativek8s.core.registry import Registry
from nativek8s.plugins.hypervisors.libvirt.ownership import owner_of

from .libvirt_lab import deploy, make_plan

NETWORKS = {"reference-dc1", "reference-dc2", "reference-peer", "reference-wan"}
DOMAINS = {"reference-router-1", "reference-router-2", "reference-node-1", "reference-node-2"}


def _names(objs: list[Any]) -> set[str]:
    return {o.name() for o in objs}


def test_deploy_creates_the_lab(conn, test_uri, registry: Registry, state: LabState):
    plan = make_plan(registry, uri=test_uri)
    lines: list[str] = []
    deploy(plan, state, registry, lines.append)
    assert _names(conn.listAllNetworks()) == NETWORKS
    for net in conn.listAllNetworks():
        assert net.isActive() and net.autostart()
        assert owner_of(net.XMLDesc(0)).lab == "reference"
    assert _names(conn.listAllDomains()) == DOMAINS
    for dom in conn.listAllDomains():
        assert dom.isActive() and dom.autostart()
    pool = conn.storagePoolLookupByName("nk8s-reference")
    assert pool.isActive()
    assert sorted(pool.listVolumes()) == [
        "reference-node-1-disk.qcow2", "reference-node-2-disk.qcow2",
        "reference-router-1-root.qcow2", "reference-router-2-root.qcow2"]
    res = state.resources()
    uuids = {rec["name"]: rec["uuid"] for k, rec in res.items() if "uuid" in rec}
    assert uuids["reference-node-1"] == conn.lookupByName("reference-node-1").UUIDString()
    assert uuids["reference-dc1"] == conn.networkLookupByName("reference-dc1").UUIDString()
    assert any("falling back to QEMU emulation" in ln for ln in lines), lines
