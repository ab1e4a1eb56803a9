"""`doctor --hypervisor libvirt` on a host without talosctl or helm: every missing piece
in one run (tools, boot media, ...), exit 2, nothing created; `deploy` refuses the same way.
libvirt itself is reachable (its test driver)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nativek8s.plugins.hypervisors.libvirt.hosttraps import bridge_filter_problem
from nativek8s.plugins.nodeos.talos.options import QEMU_GUEST_AGENT_SCHEMATIC
from tests.doctor_cli import bare_host, openwrt_files, run, topology
from tests.support.http_site import Site, serve

FACTORY_PATH = f"/image/{QEMU_GUEST_AGENT_SCHEMATIC}/v1.13.9"


def test_doctor_lists_every_missing_piece_and_creates_nothing(
        conn: Any, test_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state, cache = bare_host(tmp_path, monkeypatch)
    release = openwrt_files("24.10.0", combined=False)
    del release["/releases/24.10.0/packages/x86_64/sha256sums"]  # an incomplete mirror
    site = Site(files={f"{FACTORY_PATH}/kernel-amd64": b"k" * 4096,  # no initramfs
                       **release})
    with serve(site):
        lab = topology(tmp_path, {"libvirt": {"uri": test_uri},
                                  "talos": {"factory_url": site.base},
                                  "openwrt": {"base_url": site.base}})
        doctor = run(["doctor", "-f", str(lab), "--hypervisor", "libvirt", "-v"])
        deploy = run(["deploy", "-f", str(lab), "--hypervisor", "libvirt"])
    assert doctor.exit_code == 2, doctor.output
    err = doctor.stderr
    assert "cannot be deployed from this host: 6 problems" in err
    assert "FAIL openwrt: ssh-keygen: not on PATH" in err  # PATH holds nothing here
    assert "FAIL openwrt: openssl: not on PATH" in err
    assert "FAIL talos: talosctl: talosctl is not on PATH" in err
    assert "FAIL cilium: installer: neither `helm` nor the `cilium` CLI is on PATH" in err
    assert (f"FAIL talos: initramfs-amd64.xz: not cached and {site.base}{FACTORY_PATH}/"
            "initramfs-amd64.xz cannot be downloaded (HTTP 404") in err
    assert f"ok   talos: kernel-amd64: not cached; {site.base}" in err  # -v: what passed
    assert "ok   libvirt: preflight" in err
    # routers boot a kernel and their own disk: the release's kernel and rootfs
    assert f"ok   openwrt: openwrt-24.10.0-x86-64-generic-kernel.bin: not cached; {site.base}" \
        in err
    assert "ok   openwrt: openwrt-24.10.0-x86-64-generic-ext4-rootfs.img.gz" in err
    assert (f"FAIL openwrt: packages sha256sums: not cached and {site.base}/releases/24.10.0/packages/"
            "x86_64/sha256sums cannot be downloaded (HTTP 404") in err
    assert "warn libvirt: note: KVM is not usable on" in err  # the test driver has no KVM
    assert doctor.stdout == ""
    assert deploy.exit_code == 2 and "talosctl is not on PATH" in deploy.stderr
    assert not state.exists() and not cache.exists()  # nothing created, nothing downloaded
    assert [n.name() for n in conn.listAllNetworks()] == []
    assert [d.name() for d in conn.listAllDomains()] == []


RULES_DOCKER = """-P FORWARD DROP
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
"""


def test_bridge_netfilter_with_a_drop_policy_is_a_problem() -> None:
    """The parsing of `iptables -S FORWARD` as a Docker host prints it (reading the real
    firewall needs root, and changing it is not this test's business)."""
    bridges = ["lab-dc1", "lab-peer"]
    ok, detail = bridge_filter_problem(bridges, lambda: "1", lambda: RULES_DOCKER)
    assert ok is False and "bridges lab-dc1, lab-peer would be dropped" in detail
    assert "sysctl net.bridge.bridge-nf-call-iptables=0" in detail
    accepted = RULES_DOCKER + "-A FORWARD -i lab-dc1 -o lab-dc1 -j ACCEPT\n"
    ok, detail = bridge_filter_problem(bridges, lambda: "1", lambda: accepted)
    assert ok is False and "bridges lab-peer would" in detail
    assert bridge_filter_problem(bridges, lambda: None, lambda: RULES_DOCKER)[0] is True
    assert bridge_filter_problem(bridges, lambda: "1", lambda: "-P FORWARD ACCEPT\n")[0] is True
    ok, detail = bridge_filter_problem(bridges, lambda: "1", lambda: None)
    assert ok is None and "run doctor as root" in detail
