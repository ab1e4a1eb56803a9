"""netns backend pieces that need no namespaces: wiring, processes, preflight, speakers."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from nativek8s.api import LabContext, LabState, UsageError
from nativek8s.core.compose import select
from nativek8s.core.load import load_topology
from nativek8s.core.plan import build_plan
from nativek8s.core.registry import registry
from nativek8s.plugins.hypervisors.netns import netns as netns_mod
from nativek8s.plugins.hypervisors.netns import processes
from nativek8s.plugins.hypervisors.netns.speakers import bird_config, gobgp_config
from nativek8s.plugins.hypervisors.netns.wiring import wire


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.setenv("NATIVEK8S_STATE_DIR", str(tmp_path))
    plan = build_plan(load_topology(None)[0])
    state = LabState(plan.lab)
    return LabContext(plan=plan, state=state, secrets=state.secrets(plan),
                      plugins=select(plan, registry()), echo=lambda _: None)


def test_wiring_of_the_reference_lab(ctx):
    spaces = {ns.name: ns for ns in wire(ctx.plan, ctx.plugins.router.lan_bridge)}
    assert set(spaces) == {
        "nk.reference.sw.dc1", "nk.reference.sw.dc2", "nk.reference.sw.peering",
        "nk.reference.router-1", "nk.reference.router-2", "nk.reference.node-1",
        "nk.reference.node-2", "nk.reference.node-1.pod", "nk.reference.node-2.pod"}
    r1 = spaces["nk.reference.router-1"]
    assert "addr replace 10.1.0.1/24 dev br-lan" in r1.configure
    assert "addr replace 10.255.0.1/24 dev eth2" in r1.configure
    assert r1.sysctls["net.ipv4.ip_forward"] == "1"
    n1 = spaces["nk.reference.node-1"]
    assert "route replace default via 10.1.0.1 dev eth0" in n1.configure
    assert "route replace 10.244.0.10/32 dev pod0" in n1.configure
    mac = ctx.plan.machine("node-1").interfaces[0].mac
    assert any(ln.mac == mac and ln.peer_ns == n1.name for ln in spaces["nk.reference.sw.dc1"].links)
    for ns in spaces.values():  # every namespace is marked as the lab's
        assert "link set lo alias nativek8s-lab=reference" in ns.configure


def _sleeper(tmp_path, *extra: str) -> processes.Identity:
    own_ns = os.stat("/proc/self/ns/net").st_ino
    return processes.start([sys.executable, "-c", "import time; time.sleep(60)", *extra],
                           tmp_path / "log", os.path.realpath(sys.executable), own_ns)


def test_a_process_is_ours_only_while_it_is_the_one_started(tmp_path):
    ident = _sleeper(tmp_path)
    try:
        assert processes.is_ours(ident)
        assert ident.start > 0 and ident.exe == os.path.realpath(sys.executable)
        # Same PID, another start time (a recycled PID), exe or namespace: not ours.
        for other in (dict(start=ident.start + 1), dict(exe="/usr/bin/tail"),
                      dict(netns=ident.netns + 1)):
            fake = processes.Identity(**{**ident.record(), **other})
            assert not processes.is_ours(fake)
            assert processes.stop_all([fake]) == []
        assert processes.is_ours(ident)  # untouched by the attempts above
        assert processes.Identity.from_record(ident.record()) == ident
        assert processes.stop_all([ident]) == [ident.pid]
        assert not processes.is_ours(ident)
    finally:
        if processes.is_ours(ident):
            os.kill(ident.pid, 9)


def test_a_command_line_naming_a_lab_file_does_not_make_a_process_ours(tmp_path):
    """A `tail -F .../router-1.bird.conf` (any process mentioning the lab's files) is never
    taken for a daemon: nothing finds processes by their command line any more."""
    conf = tmp_path / "router-1.bird.conf"
    conf.write_text("")
    tail = subprocess.Popen(["tail", "-F", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        assert not hasattr(processes, "find")
        time.sleep(0.05)
        ident = processes.identity(tail.pid)
        assert ident is not None
        record = {**ident.record(), "exe": processes.executable("bird")}
        assert not processes.is_ours(processes.Identity.from_record(record))
        assert processes.stop_all([processes.Identity.from_record(record)]) == []
        assert tail.poll() is None
    finally:
        tail.kill()
        tail.wait()


def test_preflight_needs_root(ctx, monkeypatch):
    monkeypatch.setattr(netns_mod.os, "geteuid", lambda: 1000)
    with pytest.raises(UsageError, match="needs root"):
        netns_mod.Netns().preflight(ctx)


def test_preflight_names_missing_packages(ctx, monkeypatch):
    monkeypatch.setattr(netns_mod.os, "geteuid", lambda: 0)
    monkeypatch.setattr(netns_mod.shutil, "which",
                        lambda tool: None if tool in ("gobgpd", "birdc") else f"/usr/bin/{tool}")
    with pytest.raises(UsageError, match="apt-get install bird2 gobgpd"):
        netns_mod.Netns().preflight(ctx)


def test_speaker_configs_from_the_cni_intent(ctx):
    intent = next(i for i in ctx.plugins.cni.bgp_intent(ctx.plan) if i.node == "node-1")
    toml = gobgp_config(intent, ctx.secrets)
    assert 'neighbor-address = "10.1.0.1"' in toml and "peer-as = 65000" in toml
    assert "as = 65001" in toml and "hold-time = 9" in toml
    conf = bird_config(intent, ctx.secrets)
    assert "route 10.244.0.0/24 unreachable;" in conf
    assert "export where net ~ [ 10.244.0.0/24 ];" in conf


@pytest.mark.skipif(subprocess.run(["which", "gobgpd"], capture_output=True).returncode != 0,
                    reason="gobgpd not installed (scripts/install-deps.sh)")
def test_gobgpd_accepts_the_rendered_config(ctx, tmp_path):
    intent = ctx.plugins.cni.bgp_intent(ctx.plan)[0]
    cfg = tmp_path / "g.toml"
    cfg.write_text(gobgp_config(intent, ctx.secrets))
    proc = subprocess.run(["gobgpd", "-f", str(cfg), "-t", "toml", "-d"], capture_output=True,
                          text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(subprocess.run(["which", "bird"], capture_output=True).returncode != 0,
                    reason="bird not installed (scripts/install-deps.sh)")
def test_bird_accepts_the_speaker_config(ctx, tmp_path):
    intent = ctx.plugins.cni.bgp_intent(ctx.plan)[0]
    cfg = tmp_path / "b.conf"
    cfg.write_text(bird_config(intent, ctx.secrets))
    proc = subprocess.run(["bird", "-p", "-c", str(cfg)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def _host_neighbour_table(tmp_path, monkeypatch, limit: str, in_use: int) -> None:
    from nativek8s.plugins.hypervisors.netns import hostlimits

    neigh = tmp_path / "neigh"
    neigh.mkdir()
    (neigh / "gc_thresh3").write_text(limit)
    stats = tmp_path / "arp_cache"
    stats.write_text("entries  allocs\n" + f"{in_use:08x} 00000010\n" * 2)
    monkeypatch.setattr(hostlimits, "NEIGH", neigh)
    monkeypatch.setattr(hostlimits, "ARP_STATS", stats)


def test_the_reference_lab_needs_few_neighbour_entries(ctx):
    from nativek8s.plugins.hypervisors.netns.hostlimits import neighbour_entries_needed

    # 2 nodes (4 each: router and pod, both ways), 1 session between routers, 2 routers.
    assert neighbour_entries_needed(ctx.plan) == 4 * 2 + 2 * 1 + 4 * 2


def test_preflight_refuses_a_lab_the_hosts_neighbour_table_cannot_hold(ctx, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(netns_mod.os, "geteuid", lambda: 0)
    monkeypatch.setattr(netns_mod.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    _host_neighbour_table(tmp_path, monkeypatch, "20\n", in_use=5)
    with pytest.raises(UsageError) as exc:
        netns_mod.Netns().preflight(ctx)
    text = str(exc.value)
    assert "needs about 18 neighbour (ARP) entries" in text and "at most 20 (5 in use" in text
    # A power of two, twice what the lab and what is there need.
    assert ("sysctl -w net.ipv4.neigh.default.gc_thresh3=64 "
            "net.ipv4.neigh.default.gc_thresh2=32") in text


def test_a_lab_the_table_holds_or_unreadable_limits_pass(ctx, tmp_path, monkeypatch):
    from nativek8s.plugins.hypervisors.netns import hostlimits

    _host_neighbour_table(tmp_path, monkeypatch, "1024\n", in_use=12)
    assert hostlimits.neighbour_table_problem(ctx.plan) is None
    monkeypatch.setattr(hostlimits, "NEIGH", tmp_path / "nowhere")
    assert hostlimits.neighbour_table_problem(ctx.plan) is None
