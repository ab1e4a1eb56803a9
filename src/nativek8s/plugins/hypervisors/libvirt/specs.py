"""What the lab needs from libvirt, as plain data: networks, the pool, volumes, domains.

Pure functions of the plan, the options and the boot media, shared by `render` and
`deploy` so both produce the same XML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path

from nativek8s.api import BootMedia, NetworkKind, NodePlan, Plan, RouterPlan

from .options import LibvirtOptions, options_of, wan_cidr

ROUTER_CMDLINE = "root=/dev/vda rootwait console=ttyS0"  # the article's router boot
FIRST_DISK = "vda"  # virtio-blk: the guest's /dev/vda (system_disk)
DEFAULT_CMDLINE = "console=ttyS0"
GUEST_AGENT = "org.qemu.guest_agent.0"


@dataclass(frozen=True)
class NetworkSpec:
    uri: str
    lab: str
    key: str  # the plan's network key: dc1, peering, wan
    name: str  # libvirt network name, also the bridge name (≤15 characters)
    cidr: IPv4Network | None  # the plan's subnet (isolated) or the NAT subnet
    nat: bool = False  # libvirt NAT + DHCP (the WAN); else isolated, no DHCP, no host address

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
    notes: tuple[str, ...] = field(default=())  # rendered as XML comments

    @property
    def volumes(self) -> tuple[VolumeSpec, ...]:
        return tuple(d.volume for d in self.disks if d.volume is not None)


def machine_uri(plan: Plan, machine: RouterPlan | NodePlan) -> str:
    return options_of(plan, machine.datacentre).uri


def pool_spec(plan: Plan, uri: str, state_dir: Path) -> PoolSpec:
    chosen = options_of(plan).pool
    if chosen:
        return PoolSpec(uri, chosen, None)
    return PoolSpec(uri, f"nk8s-{plan.lab}", str(state_dir / "pool"))


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
                out.append(NetworkSpec(uri, plan.lab, net.key, net.resource_name,
                                       wan_cidr(plan), nat=True))
            else:
                out.append(NetworkSpec(uri, plan.lab, net.key, net.resource_name, net.cidr))
    return out


def console_log(plan: Plan, opts: LibvirtOptions, machine: RouterPlan | NodePlan, state_dir: Path) -> str:
    base = Path(opts.console_dir) if opts.console_dir else state_dir / "console"
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
                state_dir: Path, boot_disk: bool = False) -> DomainSpec:
    """One machine's domain. ``boot_disk``: the OS is installed, boot from the disk."""
    opts = options_of(plan, machine.datacentre)
    pool = pool_spec(plan, opts.uri, state_dir).name
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
            backing=str(media.disk), backing_format=_image_format(media.disk))))
    disk_gib = media.disk_size_gib if media.disk is None else None
    if not router and opts.node_disk_gib is not None:
        disk_gib = opts.node_disk_gib
    if disk_gib and media.disk is None:
        disks.append(DiskSpec(next(targets), VolumeSpec(
            pool, f"{machine.resource_name}-disk.qcow2", _gib(disk_gib))))
    if media.iso is not None and not boot_disk:
        disks.append(DiskSpec("sda", path=str(media.iso), cdrom=True))
        boot = ("hd", "cdrom")  # an empty disk is skipped; an installed one wins
    if media.kernel is not None and not boot_disk:
        kernel = str(media.kernel)
        initrd = str(media.initrd) if media.initrd is not None else None
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
        nics=_nics(plan, machine, opts), guest_agent=not router, notes=tuple(notes))
