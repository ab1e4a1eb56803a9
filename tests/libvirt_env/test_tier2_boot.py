"""Tier 2: real libvirtd + QEMU (TCG) + stand-in guests, all inside a private namespace.

Proves the approach the libvirt plugin's tests will use: isolated networks, direct kernel
boot, planned MACs, a qcow2 disk, console to a file, guest-to-guest traffic, and a teardown
that leaves nothing behind. Timings are printed (run with ``-s``), never asserted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from .console import Report, kernel_cmdline, parse_report
from .daemon import NETNS_PREFIX, PrivateLibvirtd, is_running, reap_stale
from .domain_xml import Nic, domain_xml, network_xml
from .guest import StandinGuest

pytestmark = [pytest.mark.netns, pytest.mark.slow]

DISK_BYTES = 64 * 1024 * 1024
BOOT_DEADLINE_S = 240.0  # a hang guard for slow CI machines, not a performance check


def make_disk(path: Path, size: int = DISK_BYTES) -> Path:
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), str(size)], check=True)
    return path


def wait_for_reports(conn: Any, logs: dict[str, Path],
                     deadline_s: float = BOOT_DEADLINE_S) -> dict[str, Report]:
    """Poll the console logs until every guest printed its END line."""
    deadline = time.monotonic() + deadline_s
    reports: dict[str, Report] = {}
    while True:
        for name, log in logs.items():
            text = log.read_text(errors="replace") if log.exists() else ""
            reports[name] = parse_report(text)
            if not reports[name].complete and not conn.lookupByName(name).isActive():
                pytest.fail(f"guest {name} stopped before its report:\n{text[-3000:]}")
        if all(r.complete for r in reports.values()):
            return reports
        if time.monotonic() > deadline:
            tails = {n: log.read_text(errors="replace")[-2000:] if log.exists() else ""
                     for n, log in logs.items()}
            pytest.fail(f"no complete report after {deadline_s} s: {tails}")
        time.sleep(0.2)


def host_has_link(name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{name}")


def netns_has_link(netns: str, name: str) -> bool:
    return subprocess.run(["ip", "-n", netns, "link", "show", name],
                          capture_output=True).returncode == 0


def names(objects: Iterable[Any]) -> set[str]:
    return {o.name() for o in objects}


def test_two_guests_ping_over_isolated_network(libvirt_daemon: PrivateLibvirtd,
                                               libvirt_conn: Any,
                                               standin_guest: StandinGuest,
                                               tmp_path: Path) -> None:
    conn = libvirt_conn
    # "peer" is pure L2 (no <ip>, like the routers' peering network); "lan" has an address
    # on its bridge (like a datacentre LAN), reachable only inside the private namespace.
    nets = {"nk8s-t2-peer": ("nk8st2peer", None), "nk8s-t2-lan": ("nk8st2lan", "10.77.1.1/24")}
    for name, (bridge, address) in nets.items():
        conn.networkDefineXML(network_xml(name, bridge, address)).create()
    plan = {
        "nk8s-t2-a": {"peer": ("52:54:00:4e:b2:0a", "10.77.0.10/24"),
                      "lan": ("52:54:00:4e:b2:1a", "10.77.1.10/24"),
                      "ping": ["10.77.0.11", "10.77.1.1"]},
        "nk8s-t2-b": {"peer": ("52:54:00:4e:b2:0b", "10.77.0.11/24"),
                      "lan": ("52:54:00:4e:b2:1b", "10.77.1.11/24"),
                      "ping": ["10.77.0.10"]},
    }
    logs: dict[str, Path] = {}
    started = time.monotonic()
    for name, p in plan.items():
        logs[name] = tmp_path / f"{name}.console.log"
        # Addresses are keyed by MAC: the plan knows MACs, not the guest's interface names.
        cmdline = kernel_cmdline({p["peer"][0]: p["peer"][1], p["lan"][0]: p["lan"][1]},
                                 ping=p["ping"], ping_timeout=120)
        xml = domain_xml(name, standin_guest.kernel, standin_guest.initrd, cmdline,
                         [Nic("nk8s-t2-peer", p["peer"][0]), Nic("nk8s-t2-lan", p["lan"][0])],
                         make_disk(tmp_path / f"{name}.qcow2"), logs[name])
        conn.defineXML(xml).create()

    # Bridges exist in the private namespace only.
    for bridge, _ in nets.values():
        assert netns_has_link(libvirt_daemon.netns, bridge)
        assert not host_has_link(bridge)

    reports = wait_for_reports(conn, logs)
    boot_to_ping = time.monotonic() - started

    for name, p in plan.items():
        report = reports[name]
        assert report.status == 0
        assert report.failed_modules == []
        assert len(report.nics) == 2, report.nics
        assert report.macs == {p["peer"][0], p["lan"][0]}
        assert report.disks == {"vda": DISK_BYTES}
        assert sorted(a["addr"] for a in report.addrs) == sorted([p["peer"][1], p["lan"][1]])
        assert all(a["result"] == "ok" for a in report.addrs), report.addrs
        assert set(report.pings) == set(p["ping"])
        for peer, result in report.pings.items():
            assert result["result"] == "ok", f"{name} -> {peer}: {result}"
    print(f"\nboot to ping (both guests, wall clock): {boot_to_ping:.1f} s; guest uptime at "
          f"report end: {', '.join(f'{n}={r.uptime}s' for n, r in reports.items())}")

    # Orderly teardown the way the plugin will do it: domains first, then networks.
    for name in plan:
        dom = conn.lookupByName(name)
        dom.destroy()
        dom.undefine()
    for name in nets:
        net = conn.networkLookupByName(name)
        net.destroy()
        net.undefine()
    assert conn.listAllDomains() == []
    assert conn.listAllNetworks() == []
    for bridge, _ in nets.values():
        assert not netns_has_link(libvirt_daemon.netns, bridge)
    assert {comm for _, comm in libvirt_daemon.processes()} == {"libvirtd", "virtlogd"}


def test_second_daemon_coexists_and_teardown_leaves_nothing(
        libvirt_daemon: PrivateLibvirtd, standin_guest: StandinGuest, tmp_path: Path) -> None:
    """A second private libvirtd runs beside the session one (as it would beside a host
    libvirtd), and stop() cleans a daemon with a running guest and an active network."""
    host_run = sorted(os.listdir("/run/libvirt"))
    other = PrivateLibvirtd()
    other.start()
    try:
        conn = other.open()
        try:
            # Same names and bridge as the session daemon may use: nothing is shared.
            conn.networkDefineXML(network_xml("nk8s-t2-lan", "nk8st2lan", "10.77.1.1/24")).create()
            xml = domain_xml("nk8s-t2-solo", standin_guest.kernel, standin_guest.initrd,
                             kernel_cmdline(), [Nic("nk8s-t2-lan", "52:54:00:4e:b2:2a")],
                             make_disk(tmp_path / "solo.qcow2"), tmp_path / "solo.console.log")
            conn.defineXML(xml).create()
            assert names(conn.listAllDomains()) == {"nk8s-t2-solo"}
        finally:
            conn.close()
        running = other.processes()
        comms = {comm for _, comm in running}
        assert {"libvirtd", "virtlogd", "dnsmasq"} <= comms
        assert any(c.startswith("qemu-system") for c in comms), comms
        # The session daemon sees none of it.
        session = libvirt_daemon.open()
        try:
            assert "nk8s-t2-solo" not in names(session.listAllDomains())
        finally:
            session.close()
    finally:
        report = other.stop()

    assert report.domains == ["nk8s-t2-solo"]
    assert report.networks == ["nk8s-t2-lan"]
    assert report.errors == []
    assert report.leftovers == []  # libvirt stopped QEMU and dnsmasq; nothing needed a kill
    assert not any(is_running(pid) for pid, _ in running)
    assert not os.path.exists(f"/run/netns/{other.netns}")
    assert not other.state_dir.exists()
    assert sorted(os.listdir("/run/libvirt")) == host_run
    print(f"\nsecond daemon: start {other.start_seconds:.2f} s, teardown {report.seconds:.2f} s")


def test_daemon_of_a_killed_session_is_reaped(libvirt_daemon: PrivateLibvirtd) -> None:
    """A session killed with SIGKILL leaves its daemon running; the next one stops it, and
    leaves the live session's daemon alone."""
    tests_dir = Path(__file__).resolve().parents[1]
    code = ("import sys, time; from libvirt_env.daemon import PrivateLibvirtd\n"
            "d = PrivateLibvirtd(); d.start(); print(d.netns, flush=True); time.sleep(600)\n")
    child = subprocess.Popen([sys.executable, "-c", code], cwd=tests_dir, text=True,
                             stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        netns = child.stdout.readline().strip()
        assert netns.startswith(NETNS_PREFIX), netns
    finally:
        child.kill()
        child.wait()
    orphan = PrivateLibvirtd.attach(netns)
    pids = [pid for pid, _ in orphan.processes()]
    assert len(pids) == 2  # libvirtd and virtlogd outlived their owner

    reports = reap_stale()

    assert [r.netns for r in reports] == [netns]
    assert not any(is_running(pid) for pid in pids)
    assert not os.path.exists(f"/run/netns/{netns}")
    assert os.path.exists(f"/run/netns/{libvirt_daemon.netns}")
    assert is_running(libvirt_daemon.libvirtd_pid or 0)
