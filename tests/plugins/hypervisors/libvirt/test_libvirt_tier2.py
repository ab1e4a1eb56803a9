"""Tier 2: the reference lab on a real, private libvirtd (QEMU under TCG), booted.

Routers and nodes boot the stand-in guest (a Debian kernel and a busybox initramfs that
reports its NICs, disks, addresses and pings on the serial console; tests/libvirt_env) as
their boot media, given by stand-in router/node OS plugins. The guest is told each planned
address by MAC (``nk8s.addr=``) and whom to ping (``nk8s.ping=``): a node pings its router
over the datacentre LAN, each router the other over the peering network.

Skipped with the reason when not root or libvirt/QEMU are missing
(scripts/install-libvirt-deps.sh). Timings are printed (``-s``), never asserted.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from nativek8s.api import BootMedia, LabState
from nativek8s.core.engine.lab import destroy
from nativek8s.plugins.hypervisors.libvirt.connection import pinned
from nativek8s.plugins.hypervisors.libvirt.options import options_of
from nativek8s.plugins.hypervisors.libvirt.specs import console_log
from tests.libvirt_env.console import Report, kernel_cmdline, parse_report

from .libvirt_lab import Recording, deploy, make_plan

pytestmark = [pytest.mark.netns, pytest.mark.slow]

ROUTER_DISK = 8 * 1024 * 1024
NODE_DISK_GIB = 10
BOOT_DEADLINE_S = 240.0  # a hang guard for slow CI machines, not a performance check


def guest_media(guest: Any, rootfs: Path):
    """The stand-in OS plugins' boot_media: the stand-in guest, told the plan's addresses."""
    def media(ctx: Any, m: Any) -> BootMedia:
        plan = ctx.plan
        addrs = {i.mac: str(i.address) for i in m.interfaces if i.address is not None}
        if m.kind == "router":
            peers = [str(r.peering_address.ip) for r in plan.routers if r.name != m.name]
            return BootMedia(kernel=guest.kernel, initrd=guest.initrd, disk=rootfs,
                             cmdline=kernel_cmdline(addrs, ping=peers, ping_timeout=120))
        return BootMedia(kernel=guest.kernel, initrd=guest.initrd, disk_size_gib=NODE_DISK_GIB,
                         cmdline=kernel_cmdline(addrs, ping=[str(m.gateway)], ping_timeout=120))
    return media


def wait_for_reports(conn: Any, logs: dict[str, tuple[str, Path]]) -> dict[str, Report]:
    """Poll the console logs until every guest printed its END line."""
    deadline = time.monotonic() + BOOT_DEADLINE_S
    while True:
        reports = {n: parse_report(p.read_text(errors="replace") if p.exists() else "")
                   for n, (_, p) in logs.items()}
        for name, (domain, path) in logs.items():
            if not reports[name].complete and not conn.lookupByName(domain).isActive():
                pytest.fail(f"{name} stopped before its report:\n{path.read_text()[-3000:]}")
        if all(r.complete for r in reports.values()):
            return reports
        if time.monotonic() > deadline:
            pytest.fail(f"no complete report after {BOOT_DEADLINE_S} s: "
                        f"{ {n: r for n, r in reports.items() if not r.complete} }")
        time.sleep(0.25)


def _host_links() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def attach_and_detach(argv: list[str], wait: float = 60.0) -> tuple[str, int]:
    """Run argv on a new pty, read until virsh says it is connected, press Ctrl+]; (what it
    printed, its exit code, or -1 if it is still attached). No timing is judged: the waits
    only keep a broken console from hanging the suite."""
    import pty
    import select
    import subprocess

    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    seen, end = b"", time.monotonic() + wait
    try:
        while b"Escape character" not in seen and time.monotonic() < end:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if not ready:
                continue
            try:
                seen += os.read(leader, 4096)
            except OSError:  # the pty closed: virsh exited
                break
        # virsh prints its banner before it puts the terminal in raw mode: a Ctrl+] sent
        # before that waits in the line buffer, so send it again until virsh leaves.
        code = -1
        while time.monotonic() < end + wait:
            try:
                os.write(leader, b"\x1d")
                code = proc.wait(timeout=1.0)
                break
            except subprocess.TimeoutExpired:
                continue
            except OSError:  # the terminal closed: virsh is gone
                code = proc.wait(timeout=wait)
                break
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    return seen.decode(errors="replace"), code


def test_reference_lab_boots_and_routes_its_lans(libvirt_uri, libvirt_conn, libvirt_daemon,
                                                 standin_guest, oses, registry, tmp_path):
    conn = libvirt_conn
    host_links = _host_links()
    rootfs = tmp_path / "router-rootfs.img"
    rootfs.write_bytes(b"\0" * ROUTER_DISK)
    oses.media = guest_media(standin_guest, rootfs)
    # Someone else's network and VM on the same host: destroy must leave them.
    conn.networkDefineXML("<network><name>someone-else</name>"
                          "<bridge name='virbr77'/></network>").create()
    conn.defineXML("<domain type='qemu'><name>someone-else-vm</name><memory>65536</memory>"
                   "<os><type arch='x86_64'>hvm</type></os></domain>")
    plan = make_plan(registry, uri=libvirt_uri, domain_type="qemu", router_memory_mib=192,
                     node_memory_mib=192, node_cpus=1)
    state = LabState(plan.lab, root=tmp_path / "state")

    started = time.monotonic()
    ctx = deploy(plan, state, registry)  # through the plugin's own connection to libvirt_uri
    deployed = time.monotonic() - started
    state_dir = state.backend_dir("libvirt")
    logs = {m.name: (m.resource_name, Path(console_log(
        plan, options_of(plan, m.datacentre), m, state_dir))) for m in plan.machines}
    reports = wait_for_reports(conn, logs)
    booted = time.monotonic() - started

    for m in plan.machines:
        report = reports[m.name]
        assert report.status == 0 and report.failed_modules == [], report
        # Planned NIC count, MACs and order: the guest's eth0, eth1, ... are the plan's.
        assert report.nics == {i.name: i.mac for i in m.interfaces}, m.name
        expected_disk = ROUTER_DISK if m.kind == "router" else NODE_DISK_GIB * 1024**3
        assert report.disks == {"vda": expected_disk}, m.name
        assert all(a["result"] == "ok" for a in report.addrs), report.addrs
        assert report.pings and all(p["result"] == "ok" for p in report.pings.values()), (
            m.name, report.pings)
    assert set(reports["node-1"].pings) == {"10.1.0.1"}  # node-1 → router-1 over dc1
    assert set(reports["node-2"].pings) == {"10.2.0.1"}
    assert set(reports["router-1"].pings) == {"10.255.0.2"}  # over the peering network

    # The console the log came from is a pty `virsh console` attaches to (and Ctrl+] leaves).
    argv = ctx.plugins.hypervisors["libvirt"].console_command(ctx, "router-1")
    assert argv == ["virsh", "-c", libvirt_uri, "console", "reference-router-1"]
    banner, code = attach_and_detach(argv)
    assert "Connected to domain" in banner and code == 0, (banner, code)

    # A second deploy changes nothing.
    calls: list[str] = []
    with pinned(libvirt_uri, Recording(conn, calls)):
        deploy(plan, state, registry)
    assert calls == [], f"a re-run changed something: {calls}"

    # The lab's bridges live in the daemon's namespace, never in the host's.
    assert _host_links() == host_links

    removed = destroy(state, registry, lambda _: None)
    assert len(removed) == 4 + 4 + 4 + 1  # domains, volumes, networks, pool
    assert {d.name() for d in conn.listAllDomains()} == {"someone-else-vm"}
    assert {n.name() for n in conn.listAllNetworks()} == {"someone-else"}
    assert "nk8s-reference" not in {p.name() for p in conn.listAllStoragePools()}
    assert not state.dir.exists()
    running = {c for _, c in libvirt_daemon.processes()}
    assert not any(c.startswith("qemu-system") for c in running), running
    print(f"\ntier 2: deploy {deployed:.1f} s, boot to pings {booted:.1f} s; guest uptime at "
          f"report end: {', '.join(f'{n}={r.uptime}s' for n, r in reports.items())}")
