"""The management path: after the VMs start, deploy reads each router's WAN address through
its guest agent and checks (read only) how this host would reach that router's LAN; what is
missing is a warning with the exact route, never a change to the host."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from functools import partial

import pytest

from nativek8s.plugins.hypervisors.proxmox.management import check_paths, host_route
from nativek8s.plugins.hypervisors.proxmox.vms import Vms
from tests.support.scratch_netns import scratch_namespaces


def test_deploy_warns_with_the_route_this_host_lacks(pve, make_lab):
    lab = make_lab(pve)
    lab.deploy()
    text = "\n".join(lab.lines)
    gateway, how = host_route("10.1.0.10")  # this host's real answer, whatever it is
    assert gateway != "198.51.100.11"
    assert f"warning: dc1: this host reaches 10.1.0.0/24 {how}, not via router-1's WAN " \
           "address 198.51.100.11; add the route, e.g. `ip route add 10.1.0.0/24 via " \
           "198.51.100.11`" in text
    assert "`ip route add 10.2.0.0/24 via 198.51.100.12`" in text
    assert "each router must also forward those ports from this host" in text
    assert "✓ check this host's way into the LANs" in text  # a warning, not a failure


def test_a_router_whose_agent_reports_nothing(pve, make_lab):
    pve.state.guest_for = lambda vm: None  # no guest agent answers in any VM
    lab = make_lab(pve)
    lab.deploy()
    text = "\n".join(lab.lines)
    assert "warning: dc1: router-1's WAN address is not known (its guest agent did not " \
           "report one within 0 s)" in text


@pytest.fixture
def namespace() -> Iterator[str]:
    """A namespace of this test's own with a route to dc1's LAN via router-1's WAN."""
    with scratch_namespaces("pveagent-") as (name,):
        for cmd in (["link", "add", "wan0", "type", "veth", "peer", "name", "wan1"],
                    ["link", "set", "wan0", "up"], ["link", "set", "wan1", "up"],
                    ["addr", "add", "198.51.100.2/24", "dev", "wan0"],
                    ["route", "add", "10.1.0.0/24", "via", "198.51.100.11"]):
            subprocess.run(["ip", "-n", name, *cmd], check=True)
        yield name


@pytest.mark.netns
def test_a_host_routed_through_the_routers(pve, make_lab, namespace):
    lab = make_lab(pve)
    ctx = lab.deploy()
    vms = Vms(lab.plugin(ctx).observer(ctx).vms.conn, lab.plan, ctx.state, 10)
    machines = {m.name: m for m in lab.plan.machines}
    problems = check_paths(vms.conn, lab.plan,
                           lambda name: vms.find(machines[name], adopt=False), wait=0,
                           route=partial(host_route, ip=("ip", "-n", namespace)))
    # dc1's LAN goes via router-1's WAN address; dc2's has no route in this namespace
    assert len(problems) == 1 and problems[0].startswith("dc2: this host reaches 10.2.0.0/24")
    assert "Network is unreachable" in problems[0]


def test_a_booting_router_is_waited_for_until_its_agent_reports(pve, make_lab):
    """The wait ends when the agent reports (its WAN address appears on the 3rd ask)."""
    lab = make_lab(pve)
    ctx = lab.deploy()
    vms = Vms(lab.plugin(ctx).observer(ctx).vms.conn, lab.plan, ctx.state, 10)
    machines = {m.name: m for m in lab.plan.machines}
    router1 = next(vm for vm in pve.state.vms.values()
                   if vm.config["name"].endswith("router-1"))
    reported, router1.guest_interfaces = router1.guest_interfaces, []
    naps: list[float] = []

    def nap(seconds: float) -> None:  # the agent reports on the third ask
        naps.append(seconds)
        if len(naps) == 2:
            router1.guest_interfaces = reported

    problems = check_paths(vms.conn, lab.plan,
                           lambda name: vms.find(machines[name], adopt=False), wait=60,
                           sleep=nap)
    assert len(naps) == 2
    assert "router-1's WAN address 198.51.100.11" in problems[0]
