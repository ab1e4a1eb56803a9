"""Deploy, re-deploy, update and destroy on libvirt's test driver (tier 1)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from nativek8s.api import LabState
from nativek8s.core.engine.lab import destroy
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


def test_second_deploy_changes_nothing(conn, test_uri, calls, registry, state):
    plan = make_plan(registry, uri=test_uri)
    deploy(plan, state, registry)
    first = list(calls)
    assert "conn.defineXMLFlags" in first and "conn.networkDefineXMLFlags" in first
    assert "storagepool.createXML" in first and "domain.create" in first
    resources = state.resources()
    calls.clear()
    lines: list[str] = []
    deploy(plan, state, registry, lines.append)
    assert calls == [], f"a re-run changed something: {calls}"
    assert state.resources() == resources
    vm_lines = [ln for ln in lines if " VM [" in ln and " ✓ " in ln]  # not waits shown
    assert len(vm_lines) == 4 and all(ln.endswith("— running") for ln in vm_lines), lines


def test_a_stopped_vm_is_started_again(conn, test_uri, calls, registry, state):
    plan = make_plan(registry, uri=test_uri)
    deploy(plan, state, registry)
    conn.lookupByName("reference-node-2").destroy()
    conn.networkLookupByName("reference-dc2").destroy()
    calls.clear()
    deploy(plan, state, registry)
    assert sorted(calls) == ["domain.create", "network.create"]
    assert conn.lookupByName("reference-node-2").isActive()


def test_an_update_keeps_the_uuid(conn, test_uri, calls, registry, state):
    deploy(make_plan(registry, uri=test_uri), state, registry)
    before = {d.name(): d.UUIDString() for d in conn.listAllDomains()}
    nets = {n.name(): n.UUIDString() for n in conn.listAllNetworks()}
    calls.clear()
    lines: list[str] = []
    deploy(make_plan(registry, uri=test_uri, node_memory_mib=3072), state, registry,
           lines.append)
    assert calls == ["conn.defineXMLFlags", "conn.defineXMLFlags"]  # the two nodes only
    assert {d.name(): d.UUIDString() for d in conn.listAllDomains()} == before
    assert {n.name(): n.UUIDString() for n in conn.listAllNetworks()} == nets
    memory = ET.fromstring(conn.lookupByName("reference-node-1").XMLDesc(2)).findtext("memory")
    assert int(memory) == 3072 * 1024  # KiB
    assert any("updated (applies at its next power cycle)" in ln for ln in lines), lines


def _foreign(conn) -> None:
    conn.networkDefineXML("<network><name>someone-else</name>"
                          "<bridge name='virbr7'/></network>").create()
    conn.defineXML("<domain type='kvm'><name>someone-else-vm</name><memory>65536</memory>"
                   "<os><type arch='x86_64'>hvm</type></os></domain>")


def test_destroy_removes_only_the_labs(conn, test_uri, registry, state):
    _foreign(conn)
    plan = make_plan(registry, uri=test_uri)
    deploy(plan, state, registry)
    pool = conn.storagePoolLookupByName("nk8s-reference")
    removed = destroy(state, registry, lambda _: None)
    assert _names(conn.listAllNetworks()) == {"someone-else"}
    assert _names(conn.listAllDomains()) == {"someone-else-vm"}
    assert "nk8s-reference" not in _names(conn.listAllStoragePools())
    assert pool.name() == "nk8s-reference"
    assert sorted(r.split()[0] for r in removed) == (
        ["domain"] * 4 + ["network"] * 4 + ["pool"] + ["volume"] * 4)
    assert not state.dir.exists()


def test_destroy_leaves_same_named_objects_of_others(conn, test_uri, registry, state):
    plan = make_plan(registry, uri=test_uri)
    deploy(plan, state, registry)
    # Someone replaces node-2 and dc2 with their own objects of the same names.
    dom = conn.lookupByName("reference-node-2")
    dom.destroy()
    dom.undefine()
    conn.defineXML("<domain type='kvm'><name>reference-node-2</name><memory>65536</memory>"
                   "<os><type arch='x86_64'>hvm</type></os><devices><disk type='volume'>"
                   "<source pool='nk8s-reference' volume='reference-node-2-disk.qcow2'/>"
                   "<target dev='vda'/></disk></devices></domain>")
    lines: list[str] = []
    destroy(state, registry, lines.append)
    assert _names(conn.listAllDomains()) == {"reference-node-2"}
    pool = conn.storagePoolLookupByName("nk8s-reference")  # kept: it holds their disk
    assert pool.listVolumes() == ["reference-node-2-disk.qcow2"]
    assert "libvirt: domain reference-node-2: not nativek8s, left alone" in lines
    assert any("used by reference-node-2, left alone" in ln for ln in lines), lines
    assert any("still holds reference-node-2-disk.qcow2" in ln for ln in lines), lines


def test_destroy_after_a_crash_between_record_and_create(conn, test_uri, registry, state):
    plan = make_plan(registry, uri=test_uri)
    state.save_plan(plan)
    state.record(f"libvirt:network:reference-dc1@{test_uri}", uri=test_uri,
                 name="reference-dc1")  # recorded, never created
    assert destroy(state, registry, lambda _: None) == []
    assert not state.dir.exists()


def test_boot_from_disk_after_install(conn, test_uri, registry, state):
    plan = make_plan(registry, uri=test_uri)
    ctx = deploy(plan, state, registry)
    uuid = conn.lookupByName("reference-node-1").UUIDString()
    hyp = ctx.plugins.hypervisors["libvirt"]
    assert hyp.boot_from_disk(ctx, "node-1", restart=True) == "boots from disk (restarted)"
    dom = conn.lookupByName("reference-node-1")
    os_el = ET.fromstring(dom.XMLDesc(0)).find("os")
    assert dom.UUIDString() == uuid and dom.isActive()
    assert os_el.find("kernel") is None and os_el.find("boot").get("dev") == "hd"
    # A later deploy keeps booting from disk.
    calls_before = dom.XMLDesc(0)
    deploy(plan, state, registry)
    assert conn.lookupByName("reference-node-1").XMLDesc(0) == calls_before


def test_observer_reports_domain_states_and_console(conn, test_uri, registry, state):
    plan = make_plan(registry, uri=test_uri)
    ctx = deploy(plan, state, registry)
    conn.lookupByName("reference-router-2").destroy()
    obs = ctx.plugins.hypervisors["libvirt"].observer(ctx)
    log = obs.console_log("router-2")
    log.write_text("booting\nKernel panic - not syncing: VFS\n")
    states = {m.name: (m.state, m.detail) for m in obs.machines()}
    assert states["node-1"] == ("running", "")
    assert states["router-2"] == ("stopped", "console: Kernel panic - not syncing: VFS")
    assert obs.console_tail("router-2", 1) == ["Kernel panic - not syncing: VFS"]
    with pytest.raises(Exception, match="test driver reports no addresses"):
        obs.addresses("router-1")
    with pytest.raises(Exception, match="not observable through libvirt"):
        obs.access("router-1")


def test_console_command_refuses_what_it_cannot_attach_to(conn, test_uri, registry, state):
    """(Attaching for real is in tier 2: test_libvirt_tier2.)"""
    from nativek8s.core.errors import UsageError

    plan = make_plan(registry, uri=test_uri)
    ctx = deploy(plan, state, registry)
    hyp = ctx.plugins.hypervisors["libvirt"]
    conn.lookupByName("reference-router-2").destroy()
    with pytest.raises(UsageError, match=r"router-2 \(reference-router-2\) is stopped: .*"
                                         r"console/reference-router-2\.log"):
        hyp.console_command(ctx, "router-2")
    with pytest.raises(UsageError, match="test driver .* has no consoles"):
        hyp.console_command(ctx, "router-1")


def test_graph_live_shows_states_and_marks_what_libvirt_cannot_see(conn, test_uri, registry,
                                                                   state):
    from nativek8s.core.graph import graph_of_plan, write
    from nativek8s.core.graph.live import observe
    from nativek8s.core.graph.model import Mark

    plan = make_plan(registry, uri=test_uri)
    ctx = deploy(plan, state, registry)
    conn.lookupByName("reference-node-2").destroy()
    observer = ctx.plugins.hypervisors["libvirt"].observer(ctx)
    graph = observe(graph_of_plan(plan), plan, observer, ctx.plugins.router)
    assert {m.name: m.state for m in graph.machines} == {
        "router-1": "running", "router-2": "running", "node-1": "running",
        "node-2": "stopped"}
    # Nothing inside the guests is visible here: no session or route may pass as seen.
    assert {s.mark for s in graph.sessions} == {Mark.unknown}
    assert all(r.mark == Mark.unknown for m in graph.machines for r in m.routes)
    assert all(m.note for m in graph.machines)
    assert "(live)" in write(graph, "mermaid")
@pytest.mark.parametrize("damage", ["lost", "garbage"])
def test_destroy_without_state_removes_what_carries_the_labs_metadata(conn, test_uri, registry,
                                                                      state, damage):
    """The state folder lost (or its files garbage): destroy given the topology's plan finds
    the lab's domains, volumes, pool and networks by their metadata; others stay."""
    import shutil

    _foreign(conn)
    plan = make_plan(registry, uri=test_uri)
    deploy(plan, state, registry)
    if damage == "lost":
        shutil.rmtree(state.dir)
    else:
        state.plan_file.write_text("garbage")
    lines: list[str] = []
    removed = destroy(LabState(plan.lab, state.dir.parent.parent), registry, lines.append,
                      plan=plan)
    assert _names(conn.listAllNetworks()) == {"someone-else"}
    assert _names(conn.listAllDomains()) == {"someone-else-vm"}
    assert "nk8s-reference" not in _names(conn.listAllStoragePools())
    assert sorted(r.split()[0] for r in removed) == (
        ["domain"] * 4 + ["network"] * 4 + ["pool"] + ["volume"] * 4)
    assert not state.dir.exists()
