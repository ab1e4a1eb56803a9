"""Proxmox deploy and verify, with router VMs whose guest agent runs commands in a real
router: the reference lab runs on the netns backend (BIRD 2 on the openwrt-rendered
bird.conf, GoBGP as the nodes' speakers), and each stand-in router VM's guest is that
router's namespace. So `birdc show protocols all` and `ip -j -4 route show` come from a real
BIRD and a real kernel, over the Proxmox agent API, and verify judges them against the
Proxmox lab's plan (the same topology, so the same addresses and sessions)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from nativek8s.core.engine import lab as engine
from nativek8s.core.engine.state import LabState
from nativek8s.core.load import reference_text
from tests.standins.proxmox_api.guest import NamespaceGuest

from .pve_lab import make_plan, topology, write_token

pytestmark = [pytest.mark.netns]
NEEDS = ("ip", "bird", "birdc", "gobgpd", "gobgp")


@dataclass
class RealRouters:
    """A netns reference lab; ``guest(router)`` is a guest model running in its router."""

    lab: str
    state_dir: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "NATIVEK8S_STATE_DIR": str(self.state_dir)}
        return subprocess.run([sys.executable, "-m", "nativek8s.core.cli.main", *args],
                              capture_output=True, text=True, env=env, timeout=180)

    def socket(self, router: str) -> str:
        resources = json.loads((self.state_dir / "labs" / self.lab / "resources.json")
                               .read_text())
        argv = resources[f"netns:proc:{router}:bird"]["argv"]
        return str(argv[argv.index("-s") + 1])

    def guest(self, router: str) -> NamespaceGuest:
        return NamespaceGuest(f"nk.{self.lab}.{router}", self.socket(router))


@pytest.fixture
def real_routers(tmp_path: Path) -> Iterator[RealRouters]:
    if os.geteuid() != 0:
        pytest.skip("needs root (the real routers run in network namespaces)")
    missing = [t for t in NEEDS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"missing tools: {' '.join(missing)} (scripts/install-deps.sh)")
    name = "p" + secrets.token_hex(3)
    topo = tmp_path / "real.yaml"
    topo.write_text(reference_text().replace("name: reference", f"name: {name}", 1))
    real = RealRouters(name, tmp_path / "netns-state")
    try:
        done = real.cli("deploy", "-f", str(topo), "--no-routes")
        assert done.returncode == 0, done.stdout + done.stderr
        yield real
    finally:
        real.cli("destroy", name)
        left = [n for n in os.listdir("/run/netns") if n.startswith(f"nk.{name}.")] \
            if os.path.isdir("/run/netns") else []
        for ns in left:  # only this test's lab's namespaces, by exact name
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture
def pve_lab(pve, real_routers, tmp_path) -> Iterator[tuple[Any, LabState, dict[str, Any]]]:
    """The reference lab on the stand-in, its router VMs' guests the real routers."""
    guests: dict[str, NamespaceGuest] = {}

    def guest_for(vm: Any) -> NamespaceGuest | None:
        machine = vm.config["name"].removeprefix("reference-")
        if not machine.startswith("router-"):
            return None
        guests[machine] = real_routers.guest(machine)
        return guests[machine]

    pve.state.guest_for = guest_for
    data = topology(pve, write_token(tmp_path / "pve.token", pve.token))
    data["plugins"]["cni"] = "tinycni"  # no Kubernetes here: routers are what is checked
    plan = make_plan(data)
    (tmp_path / "lab.yaml").write_text(yaml.safe_dump(data))
    try:
        yield plan, LabState(plan.lab, root=tmp_path / "pve-state"), guests
    finally:
        for guest in guests.values():
            guest.close()


def test_deploy_and_verify_check_the_routers_through_the_agent(pve_lab, monkeypatch):
    from .pve_lab import registry

    plan, state, guests = pve_lab
    monkeypatch.setattr(engine, "CONVERGE_WAIT", 20.0)  # real BIRD: sessions may be young
    lines: list[str] = []
    reg = registry()
    results = engine.deploy(plan, state, reg, lines.append)
    text = "\n".join(lines)
    assert results is not None, text
    assert {r.via for r in results} == {"inside the router, the Proxmox guest agent "
                                        "(agent/exec)"}
    failed = [r.line() for r in results if not r.ok]
    assert failed == [], "\n".join(failed)
    kinds = {(r.check, r.machine) for r in results}
    assert kinds == {(c, m) for c in ("bgp", "filter", "routes")
                     for m in ("router-1", "router-2")}
    bgp = sorted(r.subject for r in results if r.check == "bgp")
    assert bgp == ["router-1 → node-1 (10.1.0.10)", "router-1 → router-2 (10.255.0.2)",
                   "router-2 → node-2 (10.2.0.10)", "router-2 → router-1 (10.255.0.1)"]
    routes = {r.subject: r.observed for r in results if r.check == "routes"}
    assert "via 10.255.0.2 dev eth2 proto bird" in routes["router-1 10.244.1.0/24"]
    assert ["birdc", "show", "protocols", "all"] in guests["router-1"].started
    assert ["ip", "-j", "-4", "rule", "show"] in guests["router-1"].started

    # The same observed for real: a session taken down inside router-1 fails verify there.
    real = guests["router-1"]
    off = subprocess.run(["ip", "netns", "exec", real.namespace, "birdc", "-s",
                          str(real.birdc_socket), "disable", '"router-1--node-1"'],
                         capture_output=True, text=True, timeout=10)
    assert off.returncode == 0, off.stderr
    again = engine.lab_verify(state, reg, lines.append)
    bad = {(r.check, r.subject) for r in again if not r.ok}
    assert ("bgp", "router-1 → node-1 (10.1.0.10)") in bad
    # node-1's PodCIDR is gone from both routers; router-2's own sessions stay up
    assert ("routes", "router-1 10.244.0.0/24") in bad
    assert ("routes", "router-2 10.244.0.0/24") in bad
    assert all(r.ok for r in again if r.machine == "router-2" and r.check == "bgp")
    assert len(bad) == 3, bad
