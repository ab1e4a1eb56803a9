"""Commands inside router VMs through the Proxmox guest agent API (POST agent/exec, GET
agent/exec-status), over real HTTPS to the stand-in: the output comes back; every failure
(no agent, VM off, agent silent, hung program, failing program, missing program, missing
privilege) is one NativeK8sError naming the machine -- never a traceback, never a hang."""

from __future__ import annotations

import json
import time

import pytest

from nativek8s.core.errors import NativeK8sError
from nativek8s.core.verify import observe_routes
from tests.standins.proxmox_api.guest import CannedGuest, Exited, HungGuest

from .pve_lab import BIRDC_ARGV, CAPTURED, ROUTES_ARGV, captured_routers


@pytest.fixture
def deployed(pve, make_lab):
    """The reference lab deployed on the stand-in; its routers answer as real ones did."""
    pve.state.guest_for = captured_routers
    lab = make_lab(pve)
    ctx = lab.deploy()
    observer = lab.plugin(ctx).observer(ctx)
    vms = {vm.config["name"].removeprefix(f"{lab.plan.lab}-"): vm
           for vm in pve.state.vms.values()}
    return lab, observer, vms


def error_of(fn) -> str:
    with pytest.raises(NativeK8sError) as err:
        fn()
    return str(err.value)


def test_a_command_runs_and_its_output_comes_back(pve, deployed):
    lab, observer, vms = deployed
    access = observer.access("router-1")
    out = access.run(list(ROUTES_ARGV))
    assert json.loads(out) == json.loads((CAPTURED / "router-1.routes.json").read_text())
    assert vms["router-1"].guest.started == [list(ROUTES_ARGV)]
    routes = {str(r.prefix): r for r in observe_routes(observer, "router-2")}
    assert str(routes["10.244.0.0/24"].via[0]) == "10.255.0.1"  # router-2's real table
    paths = [p for m, p, _ in pve.api.requests if "/agent/" in p]
    vmid = vms["router-1"].vmid
    assert f"/nodes/pve/qemu/{vmid}/agent/exec" in paths
    assert f"/nodes/pve/qemu/{vmid}/agent/exec-status" in paths
    sessions = lab.ctx().plugins.router.bgp_sessions(lab.plan.machine("router-1"), access)
    assert {s.name: s.state for s in sessions} == {
        "router-1--router-2": "Established", "router-1--node-1": "Established"}


def test_output_in_utf8_arrives_whole(deployed):
    _, observer, vms = deployed
    vms["router-1"].guest = CannedGuest({("cat", "/etc/motd"): Exited(0, "Grüße ✓\n".encode())})
    assert observer.access("router-1").run(["cat", "/etc/motd"]) == "Grüße ✓\n"


def test_a_vm_without_the_agent_configured(pve, deployed):
    _, observer, vms = deployed
    vm = vms["router-2"]
    del vm.config["agent"]
    text = error_of(lambda: observer.access("router-2").run(list(ROUTES_ARGV)))
    assert text.startswith(f"router-2 (VM {vm.vmid} on pve) has no QEMU guest agent configured")
    assert f"qm set {vm.vmid} --agent enabled=1" in text


def test_deploy_turns_the_agent_on_for_a_router_vm_without_it(pve, deployed):
    lab, _, vms = deployed
    vms["router-2"].config["agent"] = "0"
    vms["node-1"].config["agent"] = "0"  # nodes are not looked into: left as they are
    lab.lines.clear()
    lab.deploy()
    assert vms["router-2"].config["agent"] == "enabled=1"
    assert vms["node-1"].config["agent"] == "0"
    assert any("[router-2]" in line and "guest agent turned on" in line for line in lab.lines)


def test_a_stopped_vm_and_a_silent_agent(pve, deployed):
    _, observer, vms = deployed
    vms["router-1"].status = "stopped"
    text = error_of(lambda: observer.access("router-1").run(list(BIRDC_ARGV)))
    assert text == (f"router-1 (VM {vms['router-1'].vmid} on pve) is not running; "
                    "`nativek8s deploy` starts it")
    vms["router-2"].guest = vms["router-2"].guest_interfaces = None  # agent silent
    text = error_of(lambda: observer.access("router-2").run(list(BIRDC_ARGV)))
    assert "router-2" in text and "its QEMU guest agent does not answer" in text
    assert "qemu-ga" in text


def test_a_command_that_never_ends_times_out(deployed):
    _, observer, vms = deployed
    vms["router-1"].guest = HungGuest()
    t0 = time.monotonic()
    text = error_of(lambda: observer.access("router-1").run(list(BIRDC_ARGV), timeout=0.3))
    assert time.monotonic() - t0 < 5  # bounded by the timeout, not by anything else
    assert text.startswith("router-1: `birdc show protocols all` did not finish within 0.3 s")
    assert f"VM {vms['router-1'].vmid}" in text


def test_a_failing_command_names_machine_exit_code_and_stderr(deployed):
    _, observer, vms = deployed
    vms["router-2"].guest = CannedGuest({BIRDC_ARGV: Exited(
        1, b"", b"Unable to connect to server control socket (/var/run/bird.ctl): "
                b"No such file or directory\n")})
    text = error_of(lambda: observer.access("router-2").run(list(BIRDC_ARGV)))
    assert text == (f"router-2: `birdc show protocols all` exited 1 inside VM "
                    f"{vms['router-2'].vmid}: Unable to connect to server control socket "
                    "(/var/run/bird.ctl): No such file or directory")


def test_a_missing_program(deployed):
    _, observer, _ = deployed
    text = error_of(lambda: observer.access("router-1").run(["traceroute", "-n", "10.2.0.1"]))
    assert "router-1" in text and "cannot run `traceroute -n 10.2.0.1`" in text
    assert "No such file or directory" in text


def test_a_token_without_the_agent_privilege(pve, deployed):
    _, observer, _ = deployed
    pve.token.acl.revoke("/", "VM.GuestAgent.Unrestricted")
    text = error_of(lambda: observer.access("router-1").run(list(ROUTES_ARGV)))
    assert "router-1" in text and "may not run commands through the guest agent" in text
    assert "grant it VM.GuestAgent.Unrestricted on /vms" in text
    assert pve.token.secret not in text


def test_nodes_are_not_observable_through_the_agent(deployed):
    _, observer, _ = deployed
    assert sorted(observer.inside) == ["router"]
    text = error_of(lambda: observer.access("node-1"))
    assert text.startswith("node-1 (a node): not observable through the Proxmox guest agent")
    assert "the CNI plugin checks nodes and pods through Kubernetes" in text


def test_a_router_whose_vm_is_gone(pve, deployed):
    lab, observer, vms = deployed
    access = observer.access("router-1")
    vms["router-1"].config["tags"] = "someone-else"  # no longer the lab's VM
    text = error_of(lambda: access.run(list(ROUTES_ARGV)))
    assert text == (f"router-1 has no VM on the Proxmox cluster (lab {lab.plan.lab}); "
                    "run `nativek8s deploy`")


def test_verify_turns_agent_trouble_into_failed_checks_naming_the_router(pve, tmp_path,
                                                                         monkeypatch):
    """Through the engine: one router hung, the other without an agent; verify ends (no
    hang, no traceback) with failed checks that name each router and why."""
    from nativek8s.core.engine import lab as engine
    from nativek8s.core.engine.state import LabState

    from .pve_lab import make_plan, registry, topology, write_token

    monkeypatch.setattr(engine, "CONVERGE_WAIT", 0.0)
    pve.state.guest_for = captured_routers
    data = topology(pve, write_token(tmp_path / "pve.token", pve.token), command_timeout=0.5)
    data["plugins"]["cni"] = "tinycni"
    plan, reg = make_plan(data), registry()
    state = LabState(plan.lab, root=tmp_path / "state")
    assert all(r.ok for r in engine.deploy(plan, state, reg, lambda line: None) or [False])
    vms = {vm.config["name"].removeprefix("reference-"): vm for vm in pve.state.vms.values()}
    vms["router-1"].guest = HungGuest()
    del vms["router-2"].config["agent"]
    lines: list[str] = []
    results = engine.lab_verify(state, reg, lines.append)
    assert {r.via for r in results} == {"inside the router, the Proxmox guest agent "
                                        "(agent/exec)"}
    failed = {(r.check, r.machine, r.observed) for r in results if not r.ok}
    assert {(check, machine) for check, machine, _ in failed} == {
        ("bgp", "router-1"), ("routes", "router-1"), ("bgp", "router-2"), ("routes", "router-2")}
    for _check, machine, observed in failed:
        if machine == "router-1":
            assert observed.startswith("router-1: `") and "did not finish within 0.5 s" in observed
        else:
            assert "router-2 (VM" in observed and "no QEMU guest agent configured" in observed


def test_a_policy_rule_inside_a_router_fails_its_routes_check(deployed):
    """verify reads the router's policy rules through the agent too (`ip -j -4 rule show`)."""
    from nativek8s.core.verify import verify_machines

    from .pve_lab import RULES_ARGV, captured_guest

    lab, observer, vms = deployed
    guest = captured_guest("router-2")
    rules = json.loads((CAPTURED / "router-2.rules.json").read_text())
    rules.insert(1, {"priority": 100, "src": "10.244.0.0/16", "table": "7"})
    guest.answers[RULES_ARGV] = Exited(0, json.dumps(rules).encode())
    vms["router-2"].guest = guest
    ctx = lab.ctx()
    results = verify_machines(lab.plan, observer, ctx.plugins.router, list(lab.plan.routers))
    failed = [(r.machine, r.subject) for r in results if not r.ok]
    assert failed == [("router-2", "router-2 rule 100")]
    assert list(RULES_ARGV) in guest.started
