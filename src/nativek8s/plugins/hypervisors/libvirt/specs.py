"""What the lab needs from libvirt, as plain data: networks, the pool, volumes, domains.

Pure functions of the plan, the options and the boot media, shared by `render` and
`deploy` so both produce the same XML.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path
from urllib.parse import urlsplit

from nativek8s.api import (
    BootMedia,
    Management,
    NetworkKind,
    NodePlan,
    Plan,
    RouterPlan,
    UsageError,
    management_plan,
)

from .options import LibvirtOptions, options_of, wan_cidr

ROUTER_CMDLINE = "root=/dev/vda rootwait console=ttyS0"  # the article's router boot
FIRST_DISK = "vda"  # virtio-blk: the guest's /dev/vda (system_disk)
DEFAULT_CMDLINE = "console=ttyS0"
GUEST_AGENT = "org.qemu.guest_agent.0"
# libvirt's own images folder on a system libvirtd's host: QEMU there runs as its own user
# (libvirt-qemu on Debian), which cannot reach a folder under /root or $HOME.
SYSTEM_IMAGES = "/var/lib/libvirt/images"


@dataclass(frozen=True)
class NetworkSpec:
    uri: str
    lab: str
    key: str  # the plan's network key: dc1, peering, wan
    name: str  # libvirt network name, also the bridge name (≤15 characters)
    cidr: IPv4Network | None  # the plan's subnet (isolated) or the NAT subnet
    nat: bool = False  # libvirt NAT + DHCP (the WAN); else isolated, no DHCP, no host address
    gateway: str | None = None  # NAT: the host's address on the network
    dhcp_range: tuple[str, str] | None = None
    dhcp_hosts: tuple[tuple[str, str], ...] = ()  # (MAC, address): the routers' fixed WAN
    routes: tuple[tuple[str, str], ...] = ()  # (prefix, gateway) on the host, while it runs
    # NAT only towards this host device (its uplink): without it libvirt's masquerade rule
    # also catches the host's management traffic bridged between a router and a node when
    # br_netfilter is on (Docker hosts), and drops it on the address-less LAN bridges.
    nat_dev: str | None = None

    @property
    def bridge(self) -> str:
        return self.name


@dataclass(frozen=True)
class PoolSpec:
    uri: str
    name: str
    path: str | None  # directory of a pool the lab creates; None: an existing pool


@dataclass(frozen=True)
class VolumeSpec:
    pool: str
    name: str
    capacity_bytes: int
    backing: str | None = None  # copy-on-write over the OS plugin's image
    backing_format: str = "raw"


@dataclass(frozen=True)
class MediaVolume:
    """A boot media file of an OS plugin, uploaded into the pool: QEMU reads it there, on
    the libvirt host, as its own user. The name carries the content's digest, so a rebuilt
    image is a new volume and a base under a live overlay never changes."""

    pool: str
    name: str
    source: str  # the file here
    format: str = "raw"


@dataclass(frozen=True)
class DiskSpec:
    target: str  # vda, vdb, sda
    volume: VolumeSpec | None = None  # a pool volume
    path: str | None = None  # a file (installer ISO)
    cdrom: bool = False


@dataclass(frozen=True)
class NicSpec:
    name: str  # the planned guest name (eth0...), for humans
    mac: str
    type: str  # network | bridge | direct
    source: str  # network name, host bridge, host device


@dataclass(frozen=True)
class DomainSpec:
    uri: str
    lab: str
    machine: str  # plan name
    name: str  # libvirt domain name
    kind: str  # router | node
    datacentre: str
    domain_type: str  # kvm | qemu
    machine_type: str
    memory_mib: int
    cpus: int
    console_log: str
    kernel: str | None = None
    initrd: str | None = None
    cmdline: str | None = None
    boot: tuple[str, ...] = ("hd",)  # firmware boot order when not booting a kernel
    disks: tuple[DiskSpec, ...] = ()
    nics: tuple[NicSpec, ...] = ()
    guest_agent: bool = False
    media: tuple[MediaVolume, ...] = ()  # uploaded before the domain is defined
    notes: tuple[str, ...] = field(default=())  # rendered as XML comments

    @property
    def volumes(self) -> tuple[VolumeSpec, ...]:
        return tuple(d.volume for d in self.disks if d.volume is not None)


def machine_uri(plan: Plan, machine: RouterPlan | NodePlan) -> str:
    return options_of(plan, machine.datacentre).uri


def is_session(uri: str) -> bool:
    """A per-user libvirtd (qemu:///session): its QEMU runs as this user."""
    return urlsplit(uri).path.rstrip("/") == "/session"


def pool_spec(plan: Plan, uri: str, state_dir: Path) -> PoolSpec:
    chosen = options_of(plan).pool
    if chosen:
        return PoolSpec(uri, chosen, None)
    name = f"nk8s-{plan.lab}"
    if is_session(uri):
        return PoolSpec(uri, name, str(state_dir / "pool"))
    return PoolSpec(uri, name, f"{SYSTEM_IMAGES}/{name}")


_IMAGE_SUFFIXES = {".img", ".bin", ".iso", ".qcow2", ".raw", ".gz", ".xz"}
_DIGESTS: dict[tuple[str, int, int], str] = {}
_DIGEST_LOCK = threading.Lock()


def _digest(path: Path) -> str:
    """12 hex digits of the file's SHA-256 (cached by path, size and mtime)."""
    try:
        st = path.stat()
    except OSError:
        return "unprepared"  # render without prepared media
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _DIGEST_LOCK:
        known = _DIGESTS.get(key)
    if known is None:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        known = h.hexdigest()[:12]
        with _DIGEST_LOCK:
            _DIGESTS[key] = known
    return known


def media_volume(pool: str, path: Path) -> MediaVolume:
    suffix = path.suffix if path.suffix in _IMAGE_SUFFIXES else ""  # not talos-1.13.9's ".9"
    stem = path.name[: len(path.name) - len(suffix)]
    return MediaVolume(pool, f"{stem}-{_digest(path)}{suffix}", str(path), _image_format(path))


def management(plan: Plan) -> Management | None:
    """The host's path into the lab over the NAT WAN (libvirt's network, so libvirt's
    host): none when the routers' WAN is a host bridge or macvtap (the user's network)."""
    if any(options_of(plan, r.datacentre).wan != "nat" for r in plan.routers):
        return None
    try:
        return management_plan(plan, wan_cidr(plan))
    except ValueError as exc:
        raise UsageError(f"options.libvirt.wan_cidr: {exc}; choose a larger subnet "
                         f"(a /24 is the default)") from None


def _wan_spec(plan: Plan, uri: str, net_key: str, name: str) -> NetworkSpec:
    mgmt = management(plan)
    assert mgmt is not None
    macs = {r.name: r.interface(net_key).mac for r in plan.routers}
    return NetworkSpec(
        uri, plan.lab, net_key, name, mgmt.wan, nat=True, gateway=str(mgmt.host),
        dhcp_range=(str(mgmt.dhcp_range[0]), str(mgmt.dhcp_range[1])),
        dhcp_hosts=tuple((macs[r], str(a.ip)) for r, a in mgmt.routers.items()),
        routes=tuple((str(rt.prefix), str(rt.via)) for rt in mgmt.routes))


def network_specs(plan: Plan) -> list[NetworkSpec]:
    """Every network on every connection that has a machine on it (one, normally)."""
    wan_nat = {r.datacentre for r in plan.routers
               if options_of(plan, r.datacentre).wan == "nat"}
    out: list[NetworkSpec] = []
    for net in plan.networks:
        members = [m for m in plan.machines if any(i.network == net.key for i in m.interfaces)]
        if net.kind == NetworkKind.wan:
            members = [m for m in members if m.datacentre in wan_nat]
        uris = sorted({machine_uri(plan, m) for m in members})
        if net.kind == NetworkKind.lan and not uris:  # a LAN nobody is on yet
            uris = [options_of(plan, net.datacentre).uri]
        for uri in uris:
            if net.kind == NetworkKind.wan:
                out.append(_wan_spec(plan, uri, net.key, net.resource_name))
            else:
                out.append(NetworkSpec(uri, plan.lab, net.key, net.resource_name, net.cidr))
    return out


REMOTE_CONSOLE_DIR = "/var/log/libvirt/qemu"  # exists on every libvirt host


def console_log(plan: Plan, opts: LibvirtOptions, machine: RouterPlan | NodePlan, state_dir: Path) -> str:
    """Where the serial console goes, on the libvirt host (libvirt opens the file itself
    and hands QEMU the descriptor): the lab's state here, libvirt's log folder there."""
    if opts.console_dir:
        base = Path(opts.console_dir)
    elif urlsplit(opts.uri).hostname:
        return f"{REMOTE_CONSOLE_DIR}/{machine.resource_name}-console.log"
    else:
        base = state_dir / "console"
    return str(base / f"{machine.resource_name}.log")


def _nics(plan: Plan, machine: RouterPlan | NodePlan, opts: LibvirtOptions) -> tuple[NicSpec, ...]:
    nics = []
    for iface in machine.interfaces:  # the plan's order is the guest's eth0, eth1, ...
        net = plan.network(iface.network)
        if net.kind == NetworkKind.wan and opts.wan == "bridge":
            nics.append(NicSpec(iface.name, iface.mac, "bridge", str(opts.wan_device)))
        elif net.kind == NetworkKind.wan and opts.wan == "macvtap":
            nics.append(NicSpec(iface.name, iface.mac, "direct", str(opts.wan_device)))
        else:
            nics.append(NicSpec(iface.name, iface.mac, "network", net.resource_name))
    return tuple(nics)


def _gib(n: int) -> int:
    return n * 1024**3


def _image_format(path: Path) -> str:
    return "qcow2" if path.suffix == ".qcow2" else "raw"


def _image_size(path: Path) -> int:
    """Virtual size of a raw or qcow2 image (qcow2: big-endian u64 at offset 24)."""
    with path.open("rb") as f:
        head = f.read(32)
    if head[:4] == b"QFI\xfb" and len(head) == 32:
        return int.from_bytes(head[24:32], "big")
    return path.stat().st_size


def _backing_size(path: Path, fallback_gib: int | None) -> int:
    """Capacity of an overlay: the image's size when readable here, rounded up to MiB."""
    try:
        size = _image_size(path)
    except OSError:
        return _gib(fallback_gib or 1)
    mib = 1024**2
    return max(_gib(fallback_gib or 0), -(-size // mib) * mib)


def domain_spec(plan: Plan, machine: RouterPlan | NodePlan, media: BootMedia | None, domain_type: str,
                state_dir: Path, boot_disk: bool = False,
                pool_dir: str | None = None) -> DomainSpec:
    """One machine's domain. ``boot_disk``: the OS is installed, boot from the disk.
    ``pool_dir``: the pool's folder on the libvirt host (default: the lab pool's; an
    existing pool's is known only once connected)."""
    opts = options_of(plan, machine.datacentre)
    pool_of = pool_spec(plan, opts.uri, state_dir)
    pool = pool_of.name
    folder = pool_dir or pool_of.path or f"<folder of pool {pool}>"
    uploads: dict[str, MediaVolume] = {}

    def uploaded(path: Path) -> str:
        vol = uploads.setdefault(str(path), media_volume(pool, path))
        return f"{folder}/{vol.name}"

    router = machine.kind == "router"
    notes: list[str] = []
    disks: list[DiskSpec] = []
    kernel = initrd = cmdline = None
    boot: tuple[str, ...] = ("hd",)
    media = media or BootMedia()
    if media == BootMedia():
        notes.append("the OS plugin gave no boot media: this domain has nothing to boot")
    targets = iter((FIRST_DISK, "vdb", "vdc"))
    if media.disk is not None:
        disks.append(DiskSpec(next(targets), VolumeSpec(
            pool, f"{machine.resource_name}-root.qcow2",
            _backing_size(media.disk, media.disk_size_gib),
            backing=uploaded(media.disk), backing_format=_image_format(media.disk))))
    disk_gib = media.disk_size_gib if media.disk is None else None
    if not router and opts.node_disk_gib is not None:
        disk_gib = opts.node_disk_gib
    if disk_gib and media.disk is None:
        disks.append(DiskSpec(next(targets), VolumeSpec(
            pool, f"{machine.resource_name}-disk.qcow2", _gib(disk_gib))))
    if media.iso is not None and not boot_disk:
        disks.append(DiskSpec("sda", path=uploaded(media.iso), cdrom=True))
        boot = ("hd", "cdrom")  # an empty disk is skipped; an installed one wins
    if media.kernel is not None and not boot_disk:
        kernel = uploaded(media.kernel)
        initrd = uploaded(media.initrd) if media.initrd is not None else None
        cmdline = media.cmdline or (ROUTER_CMDLINE if media.disk is not None
                                    else DEFAULT_CMDLINE)
    return DomainSpec(
        uri=opts.uri, lab=plan.lab, machine=machine.name, name=machine.resource_name,
        kind=machine.kind, datacentre=machine.datacentre, domain_type=domain_type,
        machine_type=opts.machine,
        memory_mib=opts.router_memory_mib if router else opts.node_memory_mib,
        cpus=opts.router_cpus if router else opts.node_cpus,
        console_log=console_log(plan, opts, machine, state_dir),
        kernel=kernel, initrd=initrd, cmdline=cmdline, boot=boot, disks=tuple(disks),
        nics=_nics(plan, machine, opts), guest_agent=True,  # verify runs commands through it
        media=tuple(uploads.values()), notes=tuple(notes))
