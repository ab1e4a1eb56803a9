"""The FRR example plugin (examples/nativek8s-frr, its own distribution) on the netns
backend: real zebra + bgpd in every router namespace, deployed, verified (including the
hijack filter), and destroyed without a trace."""

from __future__ import annotations

import importlib.util
import json
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.netns]

FRR = ["/usr/lib/frr/zebra", "/usr/lib/frr/bgpd", "vtysh"]


@pytest.fixture
def frr_lab(make_lab):
    missing = [t for t in FRR if shutil.which(t) is None]
    if missing:
        pytest.skip(f"FRR is not installed ({' '.join(missing)}); scripts/install-deps.sh "
                    "--dev installs it")
    if importlib.util.find_spec("nativek8s_frr") is None:
        pytest.skip("the example plugin is not installed: pip install -e examples/nativek8s-frr")
    return make_lab


def _gone(lab) -> None:
    assert lab.namespaces() == set()
    assert lab.processes() == []
    assert not Path(f"/run/nativek8s/{lab.name}").exists()
    assert not any(k.startswith("netns:") for k in lab.resources())


def test_frr_routers_deploy_verify_refuse_a_hijack_and_leave_nothing(frr_lab):
    lab = frr_lab(extra="bgp: {md5: true}\n")
    proc = lab.cli("deploy", "-f", str(lab.topology), "--router", "frr", timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"lab {lab.name}: deployed and verified" in proc.stdout + proc.stderr
    res = lab.resources()
    assert {"netns:proc:router-1:zebra", "netns:proc:router-1:bgpd"} <= set(res)
    # MD5: the router's config holds the password, 0600, owned by FRR's user.
    conf = Path(f"/run/nativek8s/{lab.name}/router-1.frr/bgpd.conf")
    assert " password " in conf.read_text()
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert conf.owner() == "frr"
    # node-1 announces node-2's PodCIDR and dc2's LAN: router-1 refuses both.
    sock = f"unix:///run/nativek8s/{lab.name}/node-1.gobgp.sock"
    for prefix in ("10.244.1.0/24", "10.2.0.0/24"):
        subprocess.run(["gobgp", "--target", sock, "global", "rib", "add", "-a", "ipv4",
                        prefix], check=True, capture_output=True)
    deadline = time.monotonic() + 20
    while True:
        verify = lab.cli("verify", lab.name, "-o", "json")
        results = json.loads(verify.stdout)["results"]
        failed = [(r["check"], r["subject"], r["observed"]) for r in results if not r["ok"]]
        if failed or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert [(check, subject) for check, subject, _ in failed] == [("filter", "router-1 ← node-1")]
    assert "refuses 2 announcement(s)" in failed[0][2]  # node-2's PodCIDR and dc2's LAN
    assert verify.returncode == 1
    routes = subprocess.run(["ip", "-n", f"nk.{lab.name}.router-1", "-4", "route"],
                            capture_output=True, text=True, check=True).stdout
    assert "10.244.1.0/24 nhid" in routes and "via 10.255.0.2" in routes
    destroyed = lab.cli("destroy", lab.name)
    assert destroyed.returncode == 0, destroyed.stderr
    _gone(lab)


def test_three_datacentres_with_route_reflectors(frr_lab):
    dcs = "".join(f"  dc{i}:\n    lan: 10.{i}.0.0/24\n    nodes:\n      node-{i}: "
                  f"{{role: {'controlplane' if i == 1 else 'worker'}}}\n" for i in (1, 2, 3))
    lab = frr_lab(extra="bgp: {full_mesh_max_routers: 2}\n", datacentres=dcs)
    proc = lab.cli("deploy", "-f", str(lab.topology), "--router", "frr", timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "deployed and verified" in proc.stdout + proc.stderr
    plan = json.loads(lab.cli("plan", "-f", str(lab.topology), "-o", "json").stdout)
    assert any(r["route_reflector"] for r in plan["routers"])
    assert lab.cli("destroy", lab.name).returncode == 0
    _gone(lab)


def _programs_in(namespace: str) -> set[str]:
    """The executables of the processes in a namespace (`ip netns pids`)."""
    pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True,
                          check=True).stdout.split()
    out = set()
    for pid in pids:
        try:
            out.add(Path(f"/proc/{pid}/exe").resolve().name)
        except OSError:
            pass
    return out


def test_switching_the_router_os_replaces_its_daemon(frr_lab):
    """openwrt's BIRD, then FRR, then BIRD again on the same lab: each deploy stops the
    other router OS's processes (owned by the lab's records) and verifies."""
    lab = frr_lab()
    ns = f"nk.{lab.name}.router-1"
    for router, runs, gone in (("openwrt", {"bird"}, {"zebra", "bgpd"}),
                               ("frr", {"zebra", "bgpd"}, {"bird"}),
                               ("openwrt", {"bird"}, {"zebra", "bgpd"})):
        proc = lab.cli("deploy", "-f", str(lab.topology), "--router", router, timeout=180)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "deployed and verified" in proc.stdout + proc.stderr
        programs = _programs_in(ns)
        assert runs <= programs and not (gone & programs), (router, programs)
    assert lab.cli("destroy", lab.name).returncode == 0
    _gone(lab)
