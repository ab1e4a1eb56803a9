"""Preflight names every unmet requirement at once and creates nothing; the privileges it
asks for are exactly enough for a deploy, verify's router checks and a destroy (checked with
a token that has only those)."""

from __future__ import annotations

import pytest

from nativek8s.api import NativeK8sError
from nativek8s.core.engine.steps import Progress, run_steps
from nativek8s.core.verify import verify_machines
from nativek8s.plugins.hypervisors.proxmox.preflight import required_privileges
from nativek8s.plugins.hypervisors.proxmox.site import gather
from tests.standins.proxmox_api import ProxmoxStandin
from tests.standins.proxmox_api.perms import Checker

from .pve_lab import Lab, captured_routers, make_plan, topology, write_token, writes


def preflight_error(lab) -> str:
    with pytest.raises(NativeK8sError) as err:
        ctx = lab.ctx()
        lab.plugin(ctx).preflight(ctx)
    return str(err.value)


def test_missing_privileges_are_listed_with_their_paths(pve, make_lab):
    pve.token.acl.revoke("/", "VM.PowerMgmt", "SDN.Allocate", "Datastore.AllocateTemplate")
    lab = make_lab(pve)
    text = preflight_error(lab)
    zone = gather(lab.plan).sdn.zone
    assert "the API token nativek8s@pve!lab lacks privileges:" in text
    assert "on /vms: VM.PowerMgmt" in text
    assert "on /sdn: SDN.Allocate" in text and "on /sdn/zones: SDN.Allocate" in text
    assert f"on /sdn/zones/{zone}: SDN.Allocate" in text
    assert "on /storage/local: Datastore.AllocateTemplate" in text
    assert "on /storage/local-lvm" not in text  # nothing lacks there
    assert "VM.GuestAgent" not in text  # the lab token has it (PVEVMAdmin)
    assert writes(pve) == []


def test_the_guest_agent_privilege_is_asked_for(pve, make_lab):
    pve.token.acl.revoke("/", "VM.GuestAgent.Unrestricted")
    text = preflight_error(make_lab(pve))
    assert "on /vms: VM.GuestAgent.Unrestricted" in text


def test_privileges_without_propagation_are_named(pve, make_lab):
    pve.token.acl.grant("/vms", "PVEVMAdmin", propagate=False)
    text = preflight_error(make_lab(pve))
    assert "on /vms: " in text and "VM.Allocate (granted without propagate)" in text


def test_storage_bridge_and_version_problems_come_together(pve, make_lab):
    pve.state.nodes["pve"].storages["local"].content.discard("import")
    pve.state.nodes["pve"].storages["local-lvm"].content.discard("images")
    pve.state.version["version"] = "8.3.2"
    text = preflight_error(make_lab(pve, bridge="vmbr9"))
    assert "found 4 problems" in text
    assert "Proxmox VE 8.3.2 cannot take uploaded disk images" in text
    assert "storage local on pve does not allow content import" in text
    assert "storage local-lvm on pve does not allow content images" in text
    assert "node pve has no bridge 'vmbr9'" in text and "(bridges: vmbr0)" in text


def test_vnet_ids_taken_by_someone_else_are_refused(pve, make_lab):
    lab = make_lab(pve)
    taken = lab.plan.network("peering").short_id
    api = pve.client()
    api.cluster.sdn.zones.post(zone="theirs", type="simple")
    api.cluster.sdn.vnets.post(vnet=taken, zone="theirs")
    text = preflight_error(lab)
    assert f"SDN vnet {taken} (for peering) already exists in zone theirs" in text
    assert "rename the lab" in text


def grant_exactly(pve, need: dict[str, set[str]], tokenid: str, leave_out=("", "")):
    """A token with ``need`` (minus one privilege); only /vms propagates, so nothing is
    inherited from a parent path."""
    token = pve.add_token(tokenid=tokenid, privileges=[])
    for path, privs in need.items():
        keep = sorted(p for p in privs if (path, p) != leave_out)
        if keep:
            token.acl.grant(path, *keep, propagate=path == "/vms")
    return token


def deploy_and_destroy(pve, token, tmp_path, reg, nodes=None) -> None:
    token_file = write_token(tmp_path / f"{token.tokenid}.token", token)
    lab = Lab(make_plan(topology(pve, token_file, nodes), reg),
              tmp_path / f"{token.tokenid}-state", reg)
    ctx = lab.ctx()
    pve.state.guest_for = captured_routers
    steps = lab.plugin(ctx).deploy_steps(ctx)
    run_steps(steps, Progress(lab.lines.append))
    # verify's part through the hypervisor: the routers, through their guest agents
    routers = [m for m in lab.plan.machines if m.kind == "router"]
    checks = verify_machines(lab.plan, lab.plugin(ctx).observer(ctx), ctx.plugins.router,
                             routers)
    assert checks and all(c.ok for c in checks), [c.line() for c in checks if not c.ok]
    assert lab.plugin(ctx).destroy(ctx)


def test_exactly_the_required_privileges_deploy_and_destroy(pve, make_lab, tmp_path):
    lab = make_lab(pve)
    exact = grant_exactly(pve, required_privileges(gather(lab.plan)), "exact")
    deploy_and_destroy(pve, exact, tmp_path, lab.reg)
    assert pve.state.vms == {} and pve.state.sdn_running.vnets == {}
    assert len([r for r in pve.api.requests if r[1].endswith("/status/start")]) == 4
    # One privilege less (the last one destroy needs) and preflight says so.
    exact.acl.revoke("/storage/local", "Datastore.Allocate")
    text = preflight_error(Lab(make_plan(topology(pve, tmp_path / "exact.token")),
                               tmp_path / "exact-state", lab.reg))
    assert "on /storage/local: Datastore.Allocate" in text


@pytest.mark.parametrize("layout", ["one node", "two nodes"])
def test_required_privileges_are_exactly_the_ones_checked(layout, make_lab, tmp_path,
                                                          monkeypatch):
    """With a token holding just the required privileges, deploy and destroy pass, and every
    one of them is used by one of the stand-in's (PVE's) permission checks: preflight asks
    for nothing the lab does not use."""
    names, nodes = (("pve",), None) if layout == "one node" else (
        ("pve1", "pve2"), {"dc1": "pve1", "dc2": "pve2"})
    with ProxmoxStandin(nodes=names) as pve:
        lab = make_lab(pve, nodes)
        need = required_privileges(gather(lab.plan))
        token = grant_exactly(pve, need, "exact")
        used = record_privileges_used(monkeypatch, token.acl)
        deploy_and_destroy(pve, token, tmp_path, lab.reg, nodes)
    wanted = {(path, priv) for path, privs in need.items() for priv in privs}
    assert sorted(wanted - used) == []  # asked for but never needed
    assert sorted(used - wanted) == []


def record_privileges_used(monkeypatch, acl) -> set[tuple[str, str]]:
    """(ACL path, privilege) of every permission check the token passed; of several
    alternatives (check_any) the one it holds, when it holds just one."""
    used: set[tuple[str, str]] = set()

    def source(path: str) -> str:  # the ACL entry that decides `path` (deepest that applies)
        found, comps = "/", [c for c in path.split("/") if c]
        for depth in range(len(comps) + 1):
            here = "/" + "/".join(comps[:depth])
            entry = acl.entries.get(here)
            if entry is not None and (here == "/" + "/".join(comps) or entry.propagate):
                found = here
        return found

    check, check_any = Checker.check, Checker.check_any

    def checked(self, path, privs, noerr=False):
        ok = check(self, path, privs, noerr)
        if ok and self.acl is acl:
            used.update((source(path), p) for p in privs)
        return ok

    def checked_any(self, path, privs, noerr=False):
        ok = check_any(self, path, privs, noerr)
        held = [p for p in privs if acl.has(path, p)]
        if ok and self.acl is acl and len(held) == 1:
            used.add((source(path), held[0]))
        return ok

    monkeypatch.setattr(Checker, "check", checked)
    monkeypatch.setattr(Checker, "check_any", checked_any)
    return used
