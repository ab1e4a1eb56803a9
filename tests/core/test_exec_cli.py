"""`nativek8s exec` and `console` where they cannot enter: unknown machines, Talos nodes,
routers on VM hypervisors without in-guest access, netns consoles. (Entering machines for
real: tests/e2e/test_graph_exec.py; attaching a libvirt console: the libvirt tier-2 test.)"""

from __future__ import annotations

from nativek8s.core.engine.state import LabState
from nativek8s.core.load import load_topology
from nativek8s.core.plan import build_plan
from tests.core.conftest import run_cli


def saved_lab(registry, hypervisor: str) -> LabState:
    plan = build_plan(load_topology(None, registry, hypervisor=hypervisor)[0])
    state = LabState(plan.lab)
    state.save_plan(plan)
    return state


def test_unknown_machine_exits_2_listing_the_machines(builtin_registry, isolated):
    saved_lab(builtin_registry, "netns")
    for command in (["exec", "router-3", "true"], ["console", "router-3"]):
        result = run_cli(command)
        assert result.exit_code == 2, result.stderr
        assert ("lab reference has no machine 'router-3'; its machines: router-1, router-2, "
                "node-1, node-2") in result.stderr


def test_no_lab_exits_2(builtin_registry, isolated):
    result = run_cli(["exec", "router-1", "true"])
    assert result.exit_code == 2 and "no lab is deployed" in result.stderr


def test_talos_node_says_which_talosctl_command(builtin_registry, isolated):
    state = saved_lab(builtin_registry, "libvirt")
    result = run_cli(["exec", "node-2", "--", "ip", "route"])
    assert result.exit_code == 2
    assert "node-2 runs Talos, which has no shell" in result.stderr
    assert (f"talosctl --talosconfig {state.dir / 'talosconfig'} -n 10.2.0.10 -e 10.2.0.10 "
            "dmesg") in result.stderr


def test_router_without_guest_access_points_to_the_console(builtin_registry, isolated):
    saved_lab(builtin_registry, "libvirt")
    result = run_cli(["exec", "router-1", "ip", "route"])
    assert result.exit_code == 2
    assert "router-1: running commands is not observable through libvirt" in result.stderr
    assert "`nativek8s console router-1`" in result.stderr


def test_console_on_netns_and_proxmox_says_what_to_use(builtin_registry, isolated):
    saved_lab(builtin_registry, "netns")
    netns = run_cli(["console", "node-1"])
    assert netns.exit_code == 2 and "`nativek8s exec node-1` opens a shell" in netns.stderr


def test_console_on_proxmox_names_the_vm(builtin_registry, isolated):
    state = saved_lab(builtin_registry, "proxmox")
    state.record("proxmox:vm:router-2", vmid=4321, node="pve2")
    result = run_cli(["console", "router-2"])
    assert result.exit_code == 2
    assert "`qm terminal 4321` on Proxmox node pve2" in result.stderr
