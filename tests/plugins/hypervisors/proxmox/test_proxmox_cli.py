"""The same commands as on any hypervisor: `nativek8s deploy`, `verify`, `status` and
`destroy` with `--hypervisor proxmox`, through the engine, against the stand-in. Routers are
checked through the guest agent (their VMs answer what real routers answered); nodes and
pods are not observable that way, and deploy says so."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from nativek8s.core.cli.main import cli
from nativek8s.core.engine import lab as engine
from nativek8s.core.registry import reset_registry

from .pve_lab import captured_routers, registry, topology, write_token


def test_deploy_status_destroy_commands(pve, tmp_path, monkeypatch):
    monkeypatch.setenv("NATIVEK8S_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(engine, "CONVERGE_WAIT", 0.0)  # the captured routers have converged
    pve.state.guest_for = captured_routers
    token = write_token(tmp_path / "pve.token", pve.token)
    data = topology(pve, token, None)
    data["plugins"]["cni"] = "tinycni"
    (tmp_path / "lab.yaml").write_text(yaml.safe_dump(data))
    run = CliRunner().invoke
    reset_registry(registry())
    try:
        deploy = run(cli, ["deploy", "-f", str(tmp_path / "lab.yaml")])
        node1 = next(vm for vm in pve.state.vms.values()
                     if vm.config["name"] == "reference-node-1")
        node1.guest_interfaces = [  # what Talos's guest agent would report
            {"name": "lo", "ip-addresses": [{"ip-address-type": "ipv4",
                                             "ip-address": "127.0.0.1", "prefix": 8}]},
            {"name": "eth0", "hardware-address": "02:00:00:00:00:01", "ip-addresses": [
                {"ip-address-type": "ipv4", "ip-address": "10.1.0.10", "prefix": 24}]}]
        verify = run(cli, ["verify", "reference"])
        status = run(cli, ["status", "reference"])
        destroy = run(cli, ["destroy", "reference"])
    finally:
        reset_registry(None)
    assert "✓ start VM [node-2]" in deploy.output
    assert deploy.exit_code == 0, deploy.output
    assert "verified in" in deploy.output and "16 passed, 0 failed" in deploy.output
    # the routers' tables, read through the agent; nodes say why they are not shown
    assert "router-1 (router, dc1)\n  unicast 10.1.0.0/24 dev br-lan proto kernel\n" \
        in deploy.output
    assert "unicast 10.244.1.0/24 via 10.255.0.2 dev eth2 proto bird" in deploy.output
    assert "node-1 (node, dc1)\n  (not shown: node-1 (a node): not observable through " \
        "the Proxmox guest agent" in deploy.output
    assert verify.exit_code == 0, verify.output
    for line in ("ok   bgp      router-1 → node-1 (10.1.0.10)",
                 "ok   filter   router-2 ← node-2", "ok   routes   router-1 10.244.1.0/24"):
        assert f"{line}  [inside the router, the Proxmox guest agent (agent/exec)]\n" \
            in verify.output, verify.output
    assert pve.token.secret not in deploy.output + status.output + destroy.output
    assert status.exit_code == 0, status.output
    for name in ("router-1", "router-2", "node-1", "node-2"):
        assert any(line.split()[:3] == [name, name.split("-")[0], "running"]
                   for line in status.output.splitlines()), status.output
    assert "vmid 100" in status.output
    assert "198.51.100.11; route 10.1.0.0/24 via its WAN 198.51.100.11" in status.output
    assert "on pve, 10.1.0.10\n" in status.output  # from the guest agent
    assert "guest agent not answering" in status.output  # the others'
    assert destroy.exit_code == 0, destroy.output
    assert "destroyed (10 resources removed)" in destroy.output
    assert pve.state.vms == {} and pve.state.sdn_running.vnets == {}
    assert not (tmp_path / "state" / "labs" / "reference").exists()
