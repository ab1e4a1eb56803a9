"""`nativek8s render` for libvirt: golden XML of the reference lab, checked by libvirt's own
schemas (the test driver's VALIDATE flags), and what the XML must say.

`pytest --update-goldens` rewrites the golden files after a deliberate change.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import libvirt
import pytest

from nativek8s.api import BootMedia, Plan, RenderedFile, SecretStore
from nativek8s.core.compose import select
from nativek8s.core.registry import Registry
from nativek8s.core.render import render_files
from nativek8s.plugins.hypervisors.libvirt.xml import NS
from tests.support.golden import Golden

from .libvirt_lab import make_plan, topology

GOLDEN = Path(__file__).parents[3] / "data" / "golden" / "libvirt" / "reference"
CACHE = Path("/var/cache/nativek8s/images")  # the stand-in OS plugins' (absent) images
STATE = "/var/lib/nativek8s"


def cached_media(ctx: Any, machine: Any) -> BootMedia:
    if machine.kind == "router":
        return BootMedia(kernel=CACHE / "openwrt-24.10.0-x86-64-generic-kernel.bin",
                         disk=CACHE / f"openwrt-24.10.0-{machine.name}-rootfs.img")
    return BootMedia(kernel=CACHE / "talos-1.13.9-vmlinuz-amd64",
                     initrd=CACHE / "talos-1.13.9-initramfs-amd64.xz",
                     cmdline="talos.platform=metal console=ttyS0", disk_size_gib=10)


@pytest.fixture
def rendered(monkeypatch, oses, registry, tmp_path):
    monkeypatch.setenv("NATIVEK8S_STATE_DIR", STATE)
    oses.media = cached_media

    def run(plan: Plan) -> dict[str, RenderedFile]:
        files = render_files(plan, select(plan, registry), SecretStore(tmp_path / "s"))
        return {f.path: f for f in files["libvirt"]}

    return run


def _xml(files: dict[str, RenderedFile], path: str) -> ET.Element:
    return ET.fromstring(files[path].content)


def test_golden_reference_lab(rendered, registry: Registry, golden: Golden):
    files = rendered(make_plan(registry))
    golden.check_tree(GOLDEN, {path: str(f.content) for path, f in files.items()})


def test_rendered_xml_passes_libvirts_schemas(rendered, registry, tmp_path):
    """Every file defines on libvirt with VALIDATE: the RNG schemas accept it."""
    node = tmp_path / "node.xml"
    node.write_text("<node><memory>8388608</memory></node>")
    conn = libvirt.open(f"test://{node}")
    files = rendered(make_plan(registry, wan="macvtap", wan_device="eth0"))
    files |= {f"nat/{k}": v for k, v in rendered(make_plan(registry)).items()
              if k.startswith("networks/")}
    kinds = {p.split("/")[-2] for p in files}
    assert kinds == {"networks", "pool", "volumes", "domains"}
    for path, f in sorted(files.items()):
        if "/networks/" in f"/{path}":
            conn.networkDefineXMLFlags(f.content, libvirt.VIR_NETWORK_DEFINE_VALIDATE).undefine()
        elif path.startswith("domains/"):
            conn.defineXMLFlags(f.content, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
        elif path.startswith("pool/"):
            pool = conn.storagePoolDefineXML(f.content, libvirt.VIR_STORAGE_POOL_DEFINE_VALIDATE)
            pool.create(0)
    pool = conn.storagePoolLookupByName("nk8s-reference")
    for path, f in files.items():
        if path.startswith("volumes/"):
            # The test driver validates, then refuses the flag; a schema error says so.
            with pytest.raises(libvirt.libvirtError, match=r"unsupported flags \(0x4\)"):
                pool.createXML(f.content, libvirt.VIR_STORAGE_VOL_CREATE_VALIDATE)
    bad = files["volumes/reference-node-1-disk.qcow2.xml"].content.replace("<target>", "<x/><target>")
    with pytest.raises(libvirt.libvirtError, match="failed to validate against schema"):
        pool.createXML(bad, libvirt.VIR_STORAGE_VOL_CREATE_VALIDATE)
    conn.close()


def test_nics_follow_the_plan(rendered, registry):
    plan = make_plan(registry)
    files = rendered(plan)
    for m in plan.machines:
        dom = _xml(files, f"domains/{m.resource_name}.xml")
        nics = [(i.find("mac").get("address"), i.find("source").get("network"))
                for i in dom.iterfind("devices/interface")]
        assert nics == [(i.mac, plan.network(i.network).resource_name) for i in m.interfaces]
        assert all(i.find("model").get("type") == "virtio"
                   for i in dom.iterfind("devices/interface"))
        owner = dom.find(f"metadata/{{{NS}}}lab")
        assert (owner.get("lab"), owner.get("key"), owner.get("role")) == (
            "reference", m.name, m.kind)
    assert [len(_xml(files, f"domains/{m.resource_name}.xml").findall("devices/interface"))
            for m in plan.machines] == [3, 3, 1, 1]


def test_lans_and_peering_are_isolated_the_wan_is_nat(rendered, registry):
    files = rendered(make_plan(registry))
    bridges = []
    for name in ("reference-dc1", "reference-dc2", "reference-peer"):
        net = _xml(files, f"networks/{name}.xml")
        assert net.find("forward") is None and net.find("ip") is None  # no host address, no DHCP
        bridges.append(net.find("bridge").get("name"))
    wan = _xml(files, "networks/reference-wan.xml")
    assert wan.find("forward").get("mode") == "nat"
    ip = wan.find("ip")
    assert ip.find("dhcp/range") is not None
    bridges.append(wan.find("bridge").get("name"))
    assert len(set(bridges)) == 4 and all(len(b) <= 15 for b in bridges)
    owners = {_xml(files, f"networks/{b}.xml").find(f"metadata/{{{NS}}}lab").get("cidr")
              for b in bridges}
    assert owners == {"10.1.0.0/24", "10.2.0.0/24", "10.255.0.0/24",
                      f"{ip.get('address').rsplit('.', 1)[0]}.0/{ip.get('prefix')}"}


def test_router_and_node_boot(rendered, registry):
    files = rendered(make_plan(registry))
    router = _xml(files, "domains/reference-router-1.xml")
    assert router.findtext("os/cmdline") == "root=/dev/vda rootwait console=ttyS0"
    assert router.find("os/initrd") is None
    assert router.findtext("memory") == "256" and router.findtext("vcpu") == "1"
    disk = router.find("devices/disk/source")
    assert (disk.get("pool"), disk.get("volume")) == ("nk8s-reference",
                                                      "reference-router-1-root.qcow2")
    vol = _xml(files, "volumes/reference-router-1-root.qcow2.xml")
    assert vol.findtext("backingStore/path") == str(
        CACHE / "openwrt-24.10.0-router-1-rootfs.img")
    assert router.find("devices/channel") is None
    node = _xml(files, "domains/reference-node-1.xml")
    assert node.findtext("os/kernel") == str(CACHE / "talos-1.13.9-vmlinuz-amd64")
    assert node.findtext("os/cmdline") == "talos.platform=metal console=ttyS0"
    assert int(node.findtext("memory")) >= 2048
    assert node.find("devices/channel/target").get("name") == "org.qemu.guest_agent.0"
    assert int(_xml(files, "volumes/reference-node-1-disk.qcow2.xml").findtext("capacity")) \
        == 10 * 1024**3
    log = f"{STATE}/labs/reference/backend/libvirt/console/reference-node-1.log"
    # A pty `virsh console` attaches to (`nativek8s console`), logged to the file as well.
    serial = node.find("devices/serial")
    assert serial.get("type") == "pty" and serial.find("log").attrib == {"file": log,
                                                                       "append": "on"}
    assert node.find("devices/console").get("type") == "pty"
    assert node.get("type") == "kvm"  # auto renders as kvm; deploy falls back when needed


def test_options_per_datacentre(rendered, registry):
    data = topology()
    data["datacentres"]["dc2"]["options"] = {"libvirt": {
        "node_memory_mib": 6144, "node_disk_gib": 20, "domain_type": "qemu"}}
    plan = make_plan(registry, {"datacentres": data["datacentres"]}, wan="bridge",
                     wan_device="br0", node_cpus=4)
    files = rendered(plan)
    n1, n2 = (_xml(files, f"domains/reference-node-{i}.xml") for i in (1, 2))
    assert (n1.findtext("memory"), n1.findtext("vcpu"), n1.get("type")) == ("4096", "4", "kvm")
    assert (n2.findtext("memory"), n2.findtext("vcpu"), n2.get("type")) == ("6144", "4", "qemu")
    assert n1.find("cpu").get("mode") == "host-passthrough"
    assert n2.find("cpu").get("mode") == "maximum"
    assert _xml(files, "volumes/reference-node-2-disk.qcow2.xml").findtext("capacity") == str(
        20 * 1024**3)
    wan = _xml(files, "domains/reference-router-2.xml").findall("devices/interface")[1]
    assert (wan.get("type"), wan.find("source").get("bridge")) == ("bridge", "br0")
    assert "networks/reference-wan.xml" not in files


def test_installer_iso_and_missing_media(rendered, registry, oses):
    oses.media = lambda ctx, m: (BootMedia(iso=CACHE / "talos.iso", disk_size_gib=10)
                                 if m.kind == "node" else BootMedia())
    files = rendered(make_plan(registry))
    node = _xml(files, "domains/reference-node-1.xml")
    assert [b.get("dev") for b in node.iterfind("os/boot")] == ["hd", "cdrom"]
    cdrom = node.find("devices/disk[@device='cdrom']")
    assert cdrom.find("source").get("file") == str(CACHE / "talos.iso")
    assert cdrom.find("readonly") is not None
    router = files["domains/reference-router-1.xml"].content
    assert "<!-- the OS plugin gave no boot media: this domain has nothing to boot -->" in router


def test_render_with_the_builtin_os_plugins_names_cache_paths_and_fetches_nothing(tmp_path):
    """`nativek8s render --hypervisor libvirt` (the article's lab) works offline: the
    domains point at where openwrt and talos will put their media; nothing is downloaded or
    built, and the state keeps only the lab's router credentials."""
    import subprocess
    import sys

    env = {**os.environ, "NATIVEK8S_CACHE_DIR": str(tmp_path / "cache"),
           "NATIVEK8S_STATE_DIR": str(tmp_path / "state")}
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "nativek8s.core.cli.main", "render",
                           "--hypervisor", "libvirt", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    router = (out / "libvirt" / "domains" / "reference-router-1.xml").read_text()
    node = (out / "libvirt" / "domains" / "reference-node-1.xml").read_text()
    cache = tmp_path / "cache"
    assert f"<kernel>{cache}/openwrt/24.10.0/targets/x86/64/" in router
    assert f"<kernel>{cache}/talos/" in node and "<initrd>" in node
    assert "talos.platform=metal" in node
    assert not cache.exists()  # nothing fetched
    # kept: only the lab's router credentials, made once (the files render shows depend on them)
    state = tmp_path / "state"
    assert sorted(str(p.relative_to(state)) for p in state.rglob("*") if p.is_file()) == [
        f"labs/reference/secrets/{n}" for n in ("router-root-password",
                                                "router-root-password.hash", "router-ssh-key",
                                                "router-ssh-key.pub")]
    assert (out / "openwrt" / "router-1" / "etc" / "bird.conf").is_file()
