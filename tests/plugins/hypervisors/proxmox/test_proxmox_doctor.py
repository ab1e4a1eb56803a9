"""`doctor --hypervisor proxmox` on a host without talosctl or helm, the Proxmox API a
stand-in that grants everything: every missing piece in one run, exit 2, nothing created
(on this host or in Proxmox); the memory and WAN-bridge checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from nativek8s.plugins.nodeos.talos.options import QEMU_GUEST_AGENT_SCHEMATIC
from tests.doctor_cli import bare_host, openwrt_files, run, topology
from tests.support.http_site import Site, serve

from .pve_lab import write_token, writes

GIB = 2**30
ISO = f"/image/{QEMU_GUEST_AGENT_SCHEMATIC}/v1.13.9/metal-amd64.iso"


def _options(pve, token_file: Path, factory: str) -> dict:
    return {"proxmox": {"host": pve.host, "token_file": str(token_file),
                        "ca_file": str(pve.ca_file), "request_timeout": 10},
            "talos": {"factory_url": factory}, "openwrt": {"base_url": factory}}


def test_doctor_lists_every_missing_piece_and_creates_nothing(
        pve, token_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_token(token_file, pve.token)
    state, cache = bare_host(tmp_path, monkeypatch)
    with pve.state.lock:
        pve.state.nodes["pve"].bridge_ports["vmbr0"] = ""  # a bridge on no network
        pve.state.nodes["pve"].mem = 30 * GIB  # 2 GiB free for 9 GiB of VMs
    # the Factory has no ISO; the OpenWrt mirror has what Proxmox's routers boot
    with serve(Site(files=openwrt_files("24.10.0", combined=True))) as site:
        lab = topology(tmp_path, _options(pve, token_file, site.base))
        doctor = run(["doctor", "-f", str(lab), "--hypervisor", "proxmox", "-v"])
        deploy = run(["deploy", "-f", str(lab), "--hypervisor", "proxmox"])
    assert doctor.exit_code == 2, doctor.output
    err = doctor.stderr
    assert "cannot be deployed from this host: 5 problems" in err
    assert "FAIL openwrt: ssh-keygen: not on PATH" in err
    assert "FAIL talos: talosctl: talosctl is not on PATH" in err
    assert "FAIL cilium: installer: neither `helm` nor the `cilium` CLI" in err
    # Proxmox boots the installer ISO: that is what must be cached or downloadable
    assert f"FAIL talos: metal-amd64.iso: not cached and {site.base}{ISO}" in err
    assert "kernel-amd64" not in err
    # routers boot the combined disk by themselves, not a kernel
    assert "ok   openwrt: openwrt-24.10.0-x86-64-generic-ext4-combined.img.gz" in err
    assert "kernel.bin" not in err
    assert ("warn proxmox: memory on pve: 8704 MiB for the lab's VMs, 2048 MiB free of "
            "32768") in err
    assert "warn proxmox: WAN bridge vmbr0 on pve: vmbr0 has no port" in err
    assert deploy.exit_code == 2 and "talosctl is not on PATH" in deploy.stderr
    assert not state.exists() and not cache.exists()
    assert pve.state.vms == {} and writes(pve) == []


def test_memory_beyond_the_node_is_a_problem(pve, token_file: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    write_token(token_file, pve.token)
    bare_host(tmp_path, monkeypatch)
    with pve.state.lock:
        pve.state.nodes["pve"].maxmem = 8 * GIB
    with serve(Site(files=openwrt_files("24.10.0", combined=True))) as site:
        options = _options(pve, token_file, site.base)
        doctor = run(["doctor", "-f", str(topology(tmp_path, options)), "--hypervisor",
                      "proxmox", "-v"])
    assert ("FAIL proxmox: memory on pve: the lab's VMs need 8704 MiB but pve has 8192 MiB "
            "in all") in doctor.stderr
    assert "ok   proxmox: WAN bridge vmbr0 on pve: bridged to eno1" in doctor.stderr
