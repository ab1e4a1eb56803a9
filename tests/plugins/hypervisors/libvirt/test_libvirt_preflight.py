"""Bad input is refused before anything is created, with errors that say what to do."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nativek8s.api import (
    CNI,
    BgpDaemon,
    BgpSessionState,
    BootMedia,
    Hypervisor,
    MachineAccess,
    NativeK8sError,
    NodeOS,
    RenderContext,
    RouterOS,
    RouterPlan,
    UsageError,
)
from nativek8s.core.engine.steps import StepFailed
from nativek8s.plugins.hypervisors.libvirt import connection
from nativek8s.plugins.hypervisors.libvirt.hostnet import HostNetwork
from nativek8s.plugins.hypervisors.libvirt.media import media_problems
from nativek8s.plugins.hypervisors.libvirt.preflight import check, network_problems
from nativek8s.plugins.hypervisors.libvirt.specs import network_specs

from .libvirt_lab import deploy, make_plan, topology


def _refused(plan, state, registry, calls) -> str:
    with pytest.raises(UsageError) as err:
        deploy(plan, state, registry)
    assert calls == [], f"something was created: {calls}"
    return str(err.value)


def test_overlapping_subnet_of_an_existing_network(conn, test_uri, calls, registry, state):
    conn.networkDefineXML("<network><name>corp</name><forward mode='nat'/><bridge name='virbr5'/>"
                          "<ip address='10.1.128.1' prefix='16'/></network>")
    msg = _refused(make_plan(registry, uri=test_uri), state, registry, calls)
    assert ("subnet 10.1.0.0/24 of network dc1 overlaps 10.1.0.0/16 of libvirt network corp "
            f"on {test_uri}; choose another subnet in the topology") in msg
    assert "dc2" not in msg


def test_overlap_with_another_labs_isolated_network(conn, test_uri, calls, registry, state):
    other = make_plan(registry, {"name": "other"}, uri=test_uri)
    deploy(other, type(state)("other", root=state.dir.parent.parent), registry)
    calls.clear()
    msg = _refused(make_plan(registry, uri=test_uri), state, registry, calls)
    # other's LANs have no <ip>: their planned subnets come from the lab metadata.
    assert "subnet 10.1.0.0/24 of network dc1 overlaps 10.1.0.0/24 of libvirt network other-dc1" in msg
    assert "overlaps 10.255.0.0/24 of libvirt network other-peer" in msg


def test_bridge_and_name_clashes(conn, test_uri, calls, registry, state):
    conn.networkDefineXML("<network><name>mine</name><bridge name='reference-dc2'/></network>")
    conn.networkDefineXML("<network><name>reference-peer</name><bridge name='br9'/></network>")
    conn.defineXML("<domain type='kvm'><name>reference-node-1</name><memory>65536</memory>"
                   "<os><type arch='x86_64'>hvm</type></os></domain>")
    msg = _refused(make_plan(registry, uri=test_uri), state, registry, calls)
    assert ("bridge name reference-dc2 (network dc2) is already used by libvirt network mine "
            f"on {test_uri}; give the lab another name") in msg
    assert "network reference-peer already exists" in msg and "virsh net-undefine" in msg
    assert (f"domain reference-node-1 already exists on {test_uri} and is not lab "
            "reference's") in msg


def test_kvm_asked_for_but_not_offered(conn, test_uri, calls, registry, state):
    msg = _refused(make_plan(registry, uri=test_uri, domain_type="kvm"), state, registry, calls)
    assert f"KVM is not usable on {test_uri}" in msg
    assert "set options.libvirt.domain_type: qemu" in msg


def test_wan_device_must_exist(conn, test_uri, calls, registry, state):
    msg = _refused(make_plan(registry, uri=test_uri, wan="macvtap", wan_device="eth9"),
                   state, registry, calls)
    assert ("router-1: WAN interface eth9 (options.libvirt.wan_device) does not exist on "
            f"{test_uri}") in msg
    # br-wan exists on the test host (NODE_XML): accepted, and the WAN is that bridge.
    deploy(make_plan(registry, uri=test_uri, wan="bridge", wan_device="br-wan"), state,
           registry)
    assert "reference-wan" not in {n.name() for n in conn.listAllNetworks()}
    assert "<source bridge='br-wan'/>" in conn.lookupByName("reference-router-1").XMLDesc(0)


def test_named_pool_must_exist(conn, test_uri, calls, registry, state):
    msg = _refused(make_plan(registry, uri=test_uri, pool="images"), state, registry, calls)
    assert f"storage pool images (options.libvirt.pool) does not exist on {test_uri}" in msg


def test_wan_subnet_inside_the_lab(conn, test_uri, calls, registry, state):
    msg = _refused(make_plan(registry, uri=test_uri, wan_cidr="10.255.0.0/16"), state,
                   registry, calls)
    assert ("the NAT WAN subnet 10.255.0.0/16 overlaps the lab's network peering "
            "(10.255.0.0/24); set options.libvirt.wan_cidr") in msg


def test_every_problem_at_once(conn, test_uri, calls, registry, state):
    conn.networkDefineXML("<network><name>corp</name><bridge name='reference-dc1'/>"
                          "<ip address='10.2.0.1' prefix='24'/></network>")
    msg = _refused(make_plan(registry, uri=test_uri, domain_type="kvm", pool="nope"), state,
                   registry, calls)
    assert msg.startswith("cannot deploy on libvirt:\n  ")
    assert len(msg.splitlines()) == 1 + 4, msg  # bridge, subnet, KVM, pool


def test_network_spanning_two_hosts(conn, test_uri, tmp_path, registry, state):
    other = tmp_path / "other.xml"
    other.write_text(Path(test_uri.removeprefix("test://")).read_text())
    data = topology(uri=test_uri)
    data["datacentres"]["dc2"]["options"] = {"libvirt": {"uri": f"test://{other}"}}
    plan = make_plan(registry, {"datacentres": data["datacentres"]}, uri=test_uri)
    msg = _refused(plan, state, registry, [])
    assert (f"network peering would span several libvirt hosts ({test_uri}, test://{other})"
            in msg)
    assert "network wan would span" in msg and "network dc2" not in msg


def test_missing_image_fails_its_machine(conn, test_uri, oses, media, registry, state):
    def broken(ctx, machine):
        good = media(ctx, machine)
        if machine.name == "router-2":
            return BootMedia(kernel=media.kernel.with_name("gone"), disk=good.disk)
        return good

    oses.media = broken
    with pytest.raises(StepFailed) as err:
        deploy(make_plan(registry, uri=test_uri), state, registry)
    assert err.value.step.machine == "router-2"
    assert (f"router-2: boot media from 'standin-router' is missing: kernel "
            f"{media.kernel.with_name('gone')}") in str(err.value)
    assert "reference-router-2" not in {d.name() for d in conn.listAllDomains()}


def test_os_plugin_without_boot_media(conn, test_uri, registry, state):
    class BareRouter(RouterOS):
        name = "bare"

        def bgp_daemon(self, router: RouterPlan) -> BgpDaemon:
            return BgpDaemon(kind="bird2", config_target="/etc/bird.conf")

        def bgp_sessions(self, router: RouterPlan,
                         access: MachineAccess) -> list[BgpSessionState]:
            return []

    class BareOS(NodeOS):
        name = "bare"

    @dataclass
    class Bare:  # a PluginSet whose OS plugins keep the default (unsupported) boot media
        router: RouterOS = field(default_factory=BareRouter)
        nodeos: NodeOS = field(default_factory=BareOS)
        cni: CNI | None = None
        hypervisors: dict[str, Hypervisor] = field(default_factory=dict)

    plan = make_plan(registry, uri=test_uri)
    ctx = RenderContext(plan, state.secrets(plan), plugins=Bare())  # type: ignore[arg-type]
    found = check(plan, connection.Connections(), state.backend_dir("libvirt"),
                  media_problems(ctx))
    assert found.problems[:2] == [
        f"the {title} plugin 'bare' cannot provide boot media for virtual machines (it does "
        "not implement boot_media); the libvirt hypervisor needs it"
        for title in ("router OS", "node OS")]


def test_host_routes_and_interfaces(tmp_path, registry):
    proc = tmp_path / "route"
    # Iface Destination Gateway Flags RefCnt Use Metric Mask (little-endian hex)
    proc.write_text("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
                    "eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\n"
                    "eth0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\n"
                    "reference-wan\t0080A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n")
    sys_net = tmp_path / "net"
    (sys_net / "reference-dc2").mkdir(parents=True)
    plan = make_plan(registry, wan_cidr="192.168.128.0/24")
    problems = network_problems(plan, network_specs(plan), [], HostNetwork(proc, sys_net))
    for key, cidr in (("dc1", "10.1.0.0/24"), ("dc2", "10.2.0.0/24"),
                      ("peering", "10.255.0.0/24")):
        assert (f"subnet {cidr} of network {key} overlaps this host's route to 10.0.0.0/8 "
                "(dev eth0); choose another subnet in the topology") in problems
    assert ("bridge name reference-dc2 (network dc2) is already an interface on this host; "
            "give the lab another name") in problems
    # The default route and the lab's own NAT bridge route are no clash.
    assert not any("192.168.128.0" in p for p in problems)
    assert len(problems) == 3 + 1


def test_missing_binding_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "libvirt", None)
    with pytest.raises(NativeK8sError, match=r"pip install nativek8s\[libvirt\]"):
        connection.binding()


def test_unreachable_libvirt(tmp_path, registry, state):
    plan = make_plan(registry, uri=f"test://{tmp_path}/no-such-file.xml")
    found = check(plan, connection.Connections(), state.backend_dir("libvirt"), [])
    assert found.problems and found.problems[0].startswith(
        f"cannot connect to libvirt at test://{tmp_path}/no-such-file.xml: ")
