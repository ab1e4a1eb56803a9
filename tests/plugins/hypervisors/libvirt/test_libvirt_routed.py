"""Tier 2: the reference lab routes for real on a private libvirtd with Debian's stock QEMU
settings (libvirt-qemu, dynamic ownership): router VMs run Debian's BIRD on openwrt's
rendered bird.conf, node VMs run BIRD as speaker with cilium's intent and a pod each, and
the engine's own deploy/verify check the routers inside their VMs through the QEMU guest
agent (routed_lab.py says what stands in for what).

Skipped with the reason when not root or libvirt/QEMU are missing. Timings are printed
(``-s``), never asserted.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from nativek8s.core.engine.lab import deploy, destroy, lab_verify
from nativek8s.core.engine.state import LabState
from nativek8s.core.errors import NativeK8sError
from nativek8s.core.load import parse_topology, reference_text
from nativek8s.core.plan import Plan, build_plan
from nativek8s.core.plan.management import management_of
from nativek8s.core.registry import Registry, make_plugin_manager
from nativek8s.core.validate import check_topology
from nativek8s.core.verify import CheckResult
from nativek8s.plugins.hypervisors.libvirt.connection import pinned
from nativek8s.plugins.hypervisors.netns.speakers import bird_config

from .libvirt_lab import Recording
from .routed_lab import CNI, NODE, ROUTER, VIA_NODES, RoutedPlugins, access_of, start_bird

pytestmark = [pytest.mark.netns, pytest.mark.slow]


def routed_plan(registry: Registry, uri: str, **bgp: Any) -> Plan:
    data = yaml.safe_load(reference_text())
    data["bgp"] = {**data.get("bgp", {}), **bgp}
    data["plugins"] = {"hypervisor": "libvirt", "router": ROUTER, "nodeos": NODE, "cni": CNI}
    data.setdefault("options", {})["libvirt"] = {
        "uri": uri, "domain_type": "qemu", "router_memory_mib": 192, "node_memory_mib": 192,
        "node_cpus": 1}
    topo, _ = parse_topology(yaml.safe_dump(copy.deepcopy(data)), "test")
    errors, _ = check_topology(topo, registry)
    assert not errors, errors
    return build_plan(topo)


def by_check(results: list[CheckResult]) -> dict[str, list[CheckResult]]:
    out: dict[str, list[CheckResult]] = {}
    for r in results:
        out.setdefault(r.check, []).append(r)
    return out


def failed(results: list[CheckResult]) -> list[str]:
    return [r.line() for r in results if not r.ok]


def test_reference_lab_routes_inside_vms(libvirt_uri, libvirt_conn, libvirt_daemon,
                                         standin_guest, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    conn = libvirt_conn
    registry = Registry(make_plugin_manager(extra=[RoutedPlugins(standin_guest)]))
    conn.networkDefineXML("<network><name>someone-else</name>"
                          "<bridge name='virbr77'/></network>").create()
    plan = routed_plan(registry, libvirt_uri)
    state = LabState(plan.lab, root=tmp_path / "state")
    lines: list[str] = []

    started = time.monotonic()
    results = deploy(plan, state, registry, lines.append)
    deployed = time.monotonic() - started

    assert results is not None, lines
    assert not failed(results), "\n".join(failed(results) + lines[-20:])
    assert not any("not verified" in ln for ln in lines), lines
    checks = by_check(results)
    # Every planned session, from both ends: the routers' side inside the router VMs
    # (libvirt's observer, openwrt's birdc reading), the nodes' side inside the node VMs.
    bgp = checks["bgp"]
    assert len(bgp) == 2 * len([s for s in plan.sessions if s.kind == "ebgp"]) + 2 * len(
        [s for s in plan.sessions if s.kind == "ibgp"])
    for r in bgp:
        machine = plan.machine(r.machine)
        want = "QEMU guest agent" if machine.kind == "router" else VIA_NODES
        assert want in r.via, r
    # The routers' kernel tables equal the plan's expected routes, nothing refused.
    routes = checks["routes"]
    assert {r.machine for r in routes} == {r.name for r in plan.routers}
    assert len(routes) >= sum(len(r.routes) for r in plan.routers)
    assert all(r.ok for r in checks["filter"])
    # Pod to pod, both ways, the source kept, through the routers.
    pairs = {r.subject for r in checks["source"]}
    assert len(pairs) == 2, pairs
    assert all(r.ok for r in checks["ping"] + checks["tcp"] + checks["source"] + checks["path"])

    # The management path: from the libvirt host's namespace (the private daemon's) to
    # every node's Talos and Kubernetes ports, through the LAN routes libvirt added there.
    mgmt = management_of(_ctx(state, registry).plugins, plan)
    assert mgmt is not None
    routes = host_routes(libvirt_daemon.netns)
    for route in mgmt.routes:
        assert routes.get(str(route.prefix)) == str(route.via), routes
    for node in plan.nodes:
        for port in mgmt.node_ports:
            assert tcp_connects(libvirt_daemon.netns, str(node.address.ip), port), (node, port)

    # A second deploy changes nothing on libvirt.
    calls: list[str] = []
    with pinned(libvirt_uri, Recording(conn, calls)):
        again = deploy(plan, state, registry, lambda _: None)
    assert calls == [], f"a re-run changed something: {calls}"
    assert again is not None and not failed(again)

    # The plan changes after the routers' first boot: their files are rewritten inside the
    # running VMs through the guest agent and BIRD re-reads them (the image under their
    # overlay never changes).
    changed = routed_plan(registry, libvirt_uri, hold_time=12)
    lines.clear()
    after = deploy(changed, state, registry, lines.append)
    assert after is not None and not failed(after), failed(after or []) + lines
    assert any("router configuration" in ln and "through the guest agent" in ln
               for ln in lines), lines
    ctx = _ctx(state, registry)
    for router in changed.routers:
        seen = access_of(ctx, router.name).run(["cat", "/etc/bird.conf"])
        assert "hold time 12;" in seen, seen[-400:]
        assert "hold time 9;" not in seen
    plan = changed

    # node-1 announces node-2's PodCIDR too: router-1's import filter refuses it.
    node1, node2 = plan.machine("node-1"), plan.machine("node-2")
    ctx = _ctx(state, registry)
    intent = next(i for i in ctx.plugins.cni.bgp_intent(plan) if i.node == "node-1")
    greedy = intent.model_copy(update={"prefixes": (*intent.prefixes, node2.pod_cidr)})
    start_bird(access_of(ctx, "node-1"), bird_config(greedy, ctx.secrets))
    deadline = time.monotonic() + 60
    while True:
        now = lab_verify(state, registry, lambda _: None)
        refused = [r for r in now if r.check == "filter" and not r.ok]
        if refused or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert [r.subject for r in refused] == ["router-1 ← node-1"], failed(now)
    assert refused[0].observed == f"the import filter refuses {node2.pod_cidr}"
    # ... and its table still sends node-2's PodCIDR over the peering network.
    assert all(r.ok for r in now if r.check == "routes"), failed(now)
    assert node1.pod_cidr != node2.pod_cidr

    # `nativek8s exec` reaches a router VM through the guest agent; its exit code is the
    # command's own.
    exec_in(monkeypatch, registry, state, ["router-1", "birdc", "show", "protocols"],
            want_code=0, want_out="Established")
    exec_in(monkeypatch, registry, state, ["router-1", "--", "sh", "-c", "echo hi; exit 3"],
            want_code=3, want_out="hi")

    # Bad guests: a command failing inside, one running too long, an agent gone. Each is
    # an error naming the machine, never a traceback or a hang.
    router2 = access_of(ctx, "router-2")
    with pytest.raises(NativeK8sError, match=r"router-2: `false` exited 1"):
        router2.run(["false"])
    with pytest.raises(NativeK8sError, match=r"router-2: `sleep 30` did not finish within 1 s"):
        router2.run(["sleep", "30"], timeout=1)
    with pytest.raises(NativeK8sError, match=r"router-2: `no-such-program` through the guest"):
        router2.run(["no-such-program"])
    with pytest.raises(NativeK8sError, match="router-2: the QEMU guest agent did not answer"):
        router2.run(["sh", "-c", "kill $(cat /run/qemu-ga.pid)"])  # its status never comes
    t0 = time.monotonic()
    silent = lab_verify(state, registry, lambda _: None)
    gone = [r for r in silent if r.machine == "router-2" and not r.ok]
    assert gone and all("router-2: the QEMU guest agent did not answer" in r.observed
                        for r in gone), [r.line() for r in gone]
    print(f"\nverify with router-2's agent gone: {time.monotonic() - t0:.1f} s")

    removed = destroy(state, registry, lambda _: None)
    assert not set(host_routes(libvirt_daemon.netns)) & {str(r.prefix) for r in mgmt.routes}
    assert len(removed) == 4 + 2 + 4 + 1  # domains, kernel + initrd, networks, pool
    assert {n.name() for n in conn.listAllNetworks()} == {"someone-else"}
    assert conn.listAllDomains() == []
    running = {c for _, c in libvirt_daemon.processes()}
    assert not any(c.startswith("qemu-system") for c in running), running
    print(f"\nrouted tier 2: deploy + verify {deployed:.1f} s; "
          f"{len(results)} checks passed; {[ln for ln in lines if 'verified' in ln]}")


def exec_in(monkeypatch: pytest.MonkeyPatch, registry: Registry, state: LabState,
            args: list[str], want_code: int, want_out: str) -> None:
    """`nativek8s exec ARGS` on this lab (the routed stand-ins are not installed plugins, so
    the CLI is given this test's registry)."""
    from click.testing import CliRunner

    from nativek8s.core import registry as registry_module
    from nativek8s.core.cli.main import cli

    monkeypatch.setattr(registry_module, "registry", lambda: registry)
    monkeypatch.setenv("NATIVEK8S_STATE_DIR", str(state.dir.parent.parent))
    result = CliRunner().invoke(cli, ["exec", *args])
    assert result.exit_code == want_code, (result.output, result.exception)
    assert want_out in result.output, result.output


def host_routes(netns: str) -> dict[str, str]:
    """prefix → gateway of the routes in a network namespace."""
    out = subprocess.run(["ip", "-n", netns, "-j", "-4", "route", "show"], check=True,
                         capture_output=True, text=True).stdout
    return {r["dst"]: r.get("gateway", "") for r in json.loads(out or "[]")}


def tcp_connects(netns: str, address: str, port: int) -> bool:
    code = ("import socket, sys\n"
            f"socket.create_connection(({address!r}, {port}), timeout=5).close()\n")
    return subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", code],
                          capture_output=True).returncode == 0


def _ctx(state: LabState, registry: Registry) -> Any:
    from nativek8s.core.engine.lab import open_lab

    return open_lab(state, registry, lambda _: None)
