"""Plugin kinds: the descriptor each registration hook returns, and the base class the
plugin's object subclasses.

Every method the engine (or another plugin) may call on a plugin is declared here, typed and
documented; nothing is looked up by name. Required members are marked :func:`required`: a
plugin class that does not define them is refused when it is created, naming them. Every
other member has a working default, so adding an optional member to a kind is one method
with a default here; then regenerate docs/plugins.md
(``python -m nativek8s.core.contract_doc docs/plugins.md``), which a test checks.

Each base class's docstring holds a complete plugin of its kind (tests run them); a plugin
is one module with one entry point::

    # pyproject.toml:  [project.entry-points.nativek8s]  myrouter = "myrouter.plugin"
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar, runtime_checkable

from .errors import PluginError

if TYPE_CHECKING:  # annotations only: the CLI imports this module, and stays light
    from pydantic import BaseModel

    from .contexts import LabContext, RenderContext
    from .engine.steps import Step
    from .intent import SpeakerIntent
    from .nsdaemon import DaemonPaths, NamespaceDaemon
    from .observe import Observer
    from .plan import NodePlan, Plan, RouterPlan
    from .plan.management import Management
    from .verify import CheckResult

F = TypeVar("F", bound=Callable[..., object])


def required(fn: F) -> F:
    """Marks an interface method every plugin of the kind must define."""
    fn.__nativek8s_required__ = True  # type: ignore[attr-defined]
    return fn


class Unsupported(PluginError):
    """An optional member the plugin does not provide (its default implementation raises
    this); callers that need the member say who needs it."""

    def __init__(self, plugin: Plugin, member: str, purpose: str):
        self.plugin, self.member = plugin.name, member
        super().__init__(f"the {plugin.kind_title} plugin {plugin.name!r} cannot {purpose} "
                         f"(it does not implement {member})")


@dataclass(frozen=True)
class RenderedFile:
    """A file a plugin would install or hand to a tool.

    ``path`` is relative to the plugin's folder in ``nativek8s render --out DIR``
    (``DIR/<plugin>/<path>``); ``target`` is where it goes on the machine, if anywhere.
    Secret files (they contain a password or key) are written with mode 0600.
    """

    path: str
    content: str | bytes
    machine: str | None = None
    target: str | None = None
    secret: bool = False

    @property
    def text(self) -> str:
        """The content as text."""
        return self.content if isinstance(self.content, str) else self.content.decode()


@dataclass(frozen=True)
class SystemDisk:
    """The disk a hypervisor gives a machine to install its OS on, as the guest sees it."""

    bus: str  # how it is attached: "virtio-blk", "virtio-scsi"
    device: str  # its Linux device path in the guest: "/dev/vda", "/dev/sda"


@dataclass(frozen=True)
class BgpDaemon:
    """Which BGP daemon a router OS runs, and which rendered file configures it."""

    kind: str  # "bird2": backends that can run it (netns) know how
    config_target: str  # RenderedFile.target of its configuration


@dataclass(frozen=True)
class BgpSessionState:
    """One BGP session as a daemon reports it."""

    name: str  # protocol or neighbour name
    peer: str  # peer address
    state: str  # daemon's word: "Established", "Active", "Connect", ...
    info: str = ""  # last error or extra detail from the daemon
    refused: int = 0  # announcements from the peer its import filter refuses now
    refused_prefixes: tuple[str, ...] = ()  # which, where the daemon can say
    # For status (None where the daemon does not say):
    local_as: int | None = None
    peer_as: int | None = None
    since: str = ""  # the daemon's time of the last state change, as it prints it
    uptime_seconds: float | None = None  # how long it has been Established
    received: int | None = None  # prefixes the peer announces
    accepted: int | None = None  # of those, in the table (passed the import filter)
    advertised: int | None = None  # IPv4 unicast routes sent to the peer (None: not known)

    @property
    def established(self) -> bool:
        return self.state.lower() == "established"


@dataclass(frozen=True)
class BootMedia:
    """What a hypervisor boots a machine from; the OS plugin prepares it (downloads,
    bakes configuration in) and the hypervisor only attaches it."""

    kernel: Path | None = None  # direct kernel boot
    initrd: Path | None = None
    cmdline: str = ""
    disk: Path | None = None  # a ready root disk (e.g. a router image with its config)
    iso: Path | None = None  # an installer ISO (e.g. Talos on Proxmox)
    disk_size_gib: int | None = None  # size of an empty install disk to add, if any


@runtime_checkable
class MachineAccess(Protocol):
    """A way to run commands on one machine, given by the hypervisor's observer."""

    machine: str
    bgp_control_socket: str | None  # where the BGP daemon's control socket is, if known

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> str:
        """Run argv on the machine; return stdout. A command that ran and failed raises
        CommandFailed (its exit code and output); anything else NativeK8sError."""
        ...


@runtime_checkable
class InteractiveAccess(MachineAccess, Protocol):
    """A MachineAccess that can give the user's terminal to a command in the machine
    (`nativek8s exec`); accesses without it (a guest agent) only ``run`` commands."""

    def host_command(self, argv: Sequence[str]) -> list[str]:
        """The command to run on this host so that argv runs inside the machine with this
        terminal's stdin/stdout/stderr, its exit code being argv's. Tools that talk to the
        machine's BGP daemon (``birdc``, ``gobgp``) are pointed at its control socket.
        Raise UsageError when argv cannot run there (e.g. ``birdc`` where GoBGP runs)."""
        ...


class Plugin:
    """What every plugin object has: a name and the files it renders."""

    name: ClassVar[str] = ""
    """The plugin's name, as its spec registers it: ``--<kind> <name>``, ``options.<name>``,
    ``-O <name>.<key>=<value>``."""
    kind_title: ClassVar[str] = "plugin"
    """How messages name the kind ("router OS"); set by each base class."""

    def render(self, ctx: RenderContext) -> Iterable[RenderedFile]:
        """Every file this plugin would install for the plan (``nativek8s render``; deploy
        saves them in the lab's state). Default: none."""
        return []


class RouterOS(Plugin):
    """Turns the plan into router configuration, and reads the router's BGP state.

    A complete router OS (BIRD 2 on a Debian-like system)::

        from nativek8s.api import (BgpDaemon, BgpSessionState, MachineAccess, RenderContext,
                                   RenderedFile, RouterOS, RouterOSSpec, RouterPlan, hookimpl)
        from nativek8s.shared import bird

        class MyRouter(RouterOS):
            name = "myrouter"
            kernel_route_protocols = frozenset({bird.KERNEL_PROTOCOL})

            def render(self, ctx: RenderContext) -> list[RenderedFile]:
                return [RenderedFile(path=f"{r.name}/bird.conf", machine=r.name,
                                     target="/etc/bird/bird.conf",
                                     content=f"router id {r.router_id};\\n")
                        for r in ctx.plan.routers]

            def bgp_daemon(self, router: RouterPlan) -> BgpDaemon:
                return BgpDaemon(kind="bird2", config_target="/etc/bird/bird.conf")

            def bgp_sessions(self, router: RouterPlan,
                             access: MachineAccess) -> list[BgpSessionState]:
                return bird.session_states(access)

            def bgp_hint(self, router: RouterPlan) -> str:
                return bird.hint(router.name)

        @hookimpl
        def nativek8s_router_oses() -> list[RouterOSSpec]:
            return [RouterOSSpec(name="myrouter", factory=MyRouter, description="BIRD 2")]
    """

    kind_title: ClassVar[str] = "router OS"
    kernel_route_protocols: ClassVar[frozenset[str]] = frozenset()
    """The kernel's ``proto`` word on routes the router's BGP daemon installs (BIRD:
    ``bird``); verify flags such routes the plan does not expect. Default: none checked."""

    @required
    def bgp_daemon(self, router: RouterPlan) -> BgpDaemon:
        """Which daemon the router runs and which rendered file configures it."""
        raise NotImplementedError

    @required
    def bgp_sessions(self, router: RouterPlan, access: MachineAccess) -> list[BgpSessionState]:
        """The router's BGP sessions as its daemon reports them (for verify/status)."""
        raise NotImplementedError

    def bgp_hint(self, router: RouterPlan) -> str:
        """Where to look when a session of this router is not up (verify's ``look at:``).
        Default: nothing."""
        return ""

    def lan_bridge(self, router: RouterPlan) -> str | None:
        """The bridge the router OS puts its LAN interface in (OpenWrt: ``br-lan``), which
        its rendered configuration names; a backend running that configuration outside the
        real OS (netns) creates it. Default: None (the configuration names the interface)."""
        return None

    def reload_commands(self, router: RouterPlan) -> list[list[str]]:
        """Commands (argv) that make a running router apply its rendered files after a
        hypervisor rewrote them in place (the plan changed after its first boot).
        Default: none (the files are read at the next boot)."""
        return []

    def namespace_daemon(self, router: RouterPlan, files: Sequence[RenderedFile],
                         paths: DaemonPaths) -> NamespaceDaemon | None:
        """How to run this router's routing daemon in a network namespace on the host (the
        netns backend): programs, files, readiness, control socket, all under ``paths``
        (:mod:`nativek8s.core.nsdaemon`). ``files`` are what :meth:`render` made for this
        router. Sessions are then read through :meth:`bgp_sessions` with
        ``access.bgp_control_socket`` set to the answer's ``control_socket``. None: this
        router cannot run so (netns refuses the lab, naming it). Default: Unsupported
        (netns refuses the router OS at ``validate``)."""
        raise Unsupported(self, "namespace_daemon", "run its daemon in a network namespace")

    def boot_media(self, ctx: LabContext, router: RouterPlan,
                   kernel_boot: bool = True) -> BootMedia:
        """A bootable router for hypervisors that run real machines, config baked in,
        downloaded and built now. ``kernel_boot=False``: the hypervisor cannot boot a kernel
        directly (Proxmox), so the media must boot by itself (a whole disk, or an ISO).
        Default: Unsupported."""
        raise Unsupported(self, "boot_media", "provide boot media for virtual machines")

    def planned_boot_media(self, ctx: RenderContext, router: RouterPlan,
                           kernel_boot: bool = True) -> BootMedia:
        """Where :meth:`boot_media` will put the media, downloading and building nothing
        (``nativek8s render``). Default: Unsupported."""
        raise Unsupported(self, "planned_boot_media", "say where its boot media will be")


class NodeOS(Plugin):
    """Configures and provisions Kubernetes nodes.

    Hypervisors that run real machines call ``boot_media`` for every node; the engine runs
    ``deploy_steps`` after the hypervisor's own steps unless the hypervisor emulates nodes.
    A complete node OS (an installer ISO, a check that every node answers SSH)::

        from pathlib import Path

        from nativek8s.api import (BootMedia, LabContext, NodeOS, NodeOSSpec, NodePlan,
                                   RenderContext, Step, hookimpl)
        from nativek8s.shared.waiting import Poll, wait_for

        ISO = Path("/var/cache/myos/installer.iso")

        class MyOS(NodeOS):
            name = "myos"

            def boot_media(self, ctx: LabContext, node: NodePlan,
                           kernel_boot: bool = True) -> BootMedia:
                return BootMedia(iso=ISO, disk_size_gib=10)

            def planned_boot_media(self, ctx: RenderContext, node: NodePlan,
                                   kernel_boot: bool = True) -> BootMedia:
                return BootMedia(iso=ISO, disk_size_gib=10)

            def deploy_steps(self, ctx: LabContext) -> list[Step]:
                def up(node: NodePlan) -> str:
                    poll = lambda: Poll(False, f"{node.address.ip}:22 not answering")
                    return wait_for(f"{node.name} up", "TCP 22", poll, timeout=0).answer

                return [Step(key=f"myos:up:{n.name}", title="node up", machine=n.name,
                             run=lambda n=n: up(n)) for n in ctx.plan.nodes]

        @hookimpl
        def nativek8s_node_oses() -> list[NodeOSSpec]:
            return [NodeOSSpec(name="myos", factory=MyOS)]
    """

    kind_title: ClassVar[str] = "node OS"

    def boot_media(self, ctx: LabContext, node: NodePlan, kernel_boot: bool = True) -> BootMedia:
        """As :meth:`RouterOS.boot_media`, for a node. Default: Unsupported."""
        raise Unsupported(self, "boot_media", "provide boot media for virtual machines")

    def planned_boot_media(self, ctx: RenderContext, node: NodePlan,
                           kernel_boot: bool = True) -> BootMedia:
        """As :meth:`RouterOS.planned_boot_media`, for a node. Default: Unsupported."""
        raise Unsupported(self, "planned_boot_media", "say where its boot media will be")

    def access_hint(self, ctx: LabContext, node: NodePlan) -> str:
        """What `nativek8s exec` tells a user who asks for a shell on a real node of this OS
        (Talos has none: the exact talosctl command), with the lab's paths filled in.
        Default: that nativek8s cannot run commands there."""
        return (f"{node.name} runs {self.name}: nativek8s cannot run commands on its nodes; "
                "use that OS's own tools")

    def deploy_steps(self, ctx: LabContext) -> list[Step]:
        """Turn the hypervisor's machines into a cluster (run after the hypervisor's steps).
        Default: Unsupported (the node OS cannot deploy on real machines)."""
        raise Unsupported(self, "deploy_steps", "deploy on real machines")


class CNI(Plugin):
    """Pod networking; says what each node's BGP speaker must do.

    A complete CNI that only says what each node's speaker must do (the netns backend runs
    it; docs/plugins.md has a fuller one)::

        from nativek8s.api import CNI, CNISpec, PeerIntent, Plan, SpeakerIntent, hookimpl

        class MyCNI(CNI):
            name = "mycni"

            def bgp_intent(self, plan: Plan) -> list[SpeakerIntent]:
                intents = []
                for node in plan.nodes:
                    peers = []
                    for session in plan.sessions_of(node.name):
                        _, remote = session.sides(node.name)
                        peers.append(PeerIntent(
                            address=remote.address, asn=remote.asn,
                            hold_time=session.hold_time,
                            keepalive_time=session.keepalive_time,
                            connect_retry=session.connect_retry))
                    intents.append(SpeakerIntent(
                        node=node.name, router_id=node.router_id, local_asn=node.asn,
                        peers=tuple(peers), prefixes=(node.pod_cidr,)))
                return intents

        @hookimpl
        def nativek8s_cnis() -> list[CNISpec]:
            return [CNISpec(name="mycni", factory=MyCNI)]
    """

    kind_title: ClassVar[str] = "CNI"

    @required
    def bgp_intent(self, plan: Plan) -> list[SpeakerIntent]:
        """What each node's BGP speaker must do (backends that emulate nodes run it)."""
        raise NotImplementedError

    def deploy_steps(self, ctx: LabContext) -> list[Step]:
        """Install and configure the CNI on a real cluster (skipped when emulated; run after
        the node OS's steps). Default: Unsupported."""
        raise Unsupported(self, "deploy_steps", "deploy on a real cluster")

    def cluster_checks(self, ctx: LabContext) -> list[CheckResult] | None:
        """Verify's checks through the cluster's API, for hypervisors whose observer cannot
        look inside the machines. Default: None (no such checks)."""
        return None


class Hypervisor(Plugin):
    """Creates a lab's networks and machines, and observes them.

    ``emulates`` names the roles it plays itself: the netns backend emulates nodes and
    pods (``frozenset({"nodeos", "cni"})``), so the engine does not run those plugins'
    deploy steps. A complete hypervisor (machines as records in the lab's state)::

        from nativek8s.api import (Hypervisor, HypervisorSpec, LabContext, MachineStatus,
                                   Observer, Step, hookimpl)

        class Records(Observer):
            unverifiable = "records have no BGP to look at"

            def __init__(self, ctx: LabContext):
                self.ctx = ctx

            def machines(self) -> list[MachineStatus]:
                made = self.ctx.state.resources()
                return [MachineStatus(m.name, m.kind, "running" if f"rec:{m.name}" in made
                                      else "missing") for m in self.ctx.plan.machines]

        class MyHypervisor(Hypervisor):
            name = "records"

            def deploy_steps(self, ctx: LabContext) -> list[Step]:
                def make(machine: str) -> str:
                    ctx.state.record(f"rec:{machine}", made=True)
                    return "recorded"

                return [Step(key=f"rec:{m.name}", title="record", machine=m.name,
                             run=lambda m=m.name: make(m)) for m in ctx.plan.machines]

            def destroy(self, ctx: LabContext) -> list[str]:
                mine = [k for k in ctx.state.resources() if k.startswith("rec:")]
                ctx.state.forget(*mine)
                return mine

            def observer(self, ctx: LabContext) -> Observer:
                return Records(ctx)

        @hookimpl
        def nativek8s_hypervisors() -> list[HypervisorSpec]:
            return [HypervisorSpec(name="records", factory=MyHypervisor)]
    """

    kind_title: ClassVar[str] = "hypervisor"
    emulates: ClassVar[frozenset[str]] = frozenset()
    """The roles it plays itself (netns: ``frozenset({"nodeos", "cni"})``): the engine skips
    those plugins' deploy steps (and does not render their files in deploy) and lets the
    observer check nodes and pods. Default: none."""
    kernel_boot: ClassVar[bool | None] = None
    """Whether its machines boot a kernel directly (libvirt: True) or only self-booting media
    (Proxmox: False). Default: None (it runs no real machines, e.g. netns)."""
    requires: ClassVar[dict[str, tuple[str, ...]]] = {}
    """Members the plugin of each role must implement for this hypervisor to run it (netns:
    ``{"router": ("namespace_daemon",)}``); ``validate`` refuses compositions that lack
    one, before anything is created. Default: none."""

    def system_disk(self, plan: Plan, machine: RouterPlan | NodePlan) -> SystemDisk:
        """The disk this hypervisor attaches to a machine for its OS, and what the guest
        calls it (so a node OS installs to a disk that exists). Default: Unsupported (it
        runs no real machines)."""
        raise Unsupported(self, "system_disk", "say which disk its machines install to")

    def boot_from_disk(self, ctx: LabContext, machine: str, restart: bool = False) -> str:
        """After the OS installed itself to the machine's disk: boot that disk from now on,
        not the media it was installed from (a directly booted kernel would come back on
        every reboot, and OS upgrades would change nothing). ``restart`` power-cycles the
        machine now. Default: Unsupported (its machines do so by themselves, or it runs
        none)."""
        raise Unsupported(self, "boot_from_disk", "switch a machine to boot from its disk")

    def management(self, plan: Plan) -> Management | None:
        """The path by which the host that runs nativek8s reaches the lab (computed by
        :func:`~nativek8s.core.plan.management.management_plan` over the WAN subnet this
        hypervisor owns): the router OS opens its firewall for it, the hypervisor gives the
        routers their fixed WAN addresses and the host its routes. Default: None (the host
        needs none, or the user's network provides it)."""
        return None

    def preflight(self, ctx: LabContext) -> None:
        """Raise NativeK8sError listing every unmet requirement (tools, permissions), before
        anything is created. Default: nothing to check."""

    @required
    def deploy_steps(self, ctx: LabContext) -> list[Step]:
        """Idempotent :class:`Step` objects creating (or healing) this lab's machines."""
        raise NotImplementedError

    @required
    def destroy(self, ctx: LabContext) -> list[str]:
        """Remove what this lab created (and nothing else); return what was removed."""
        raise NotImplementedError

    @required
    def observer(self, ctx: LabContext) -> Observer:
        """An :class:`Observer` of the deployed lab."""
        raise NotImplementedError

    def console_command(self, ctx: LabContext, machine: str) -> list[str]:
        """The host command that attaches this terminal to the machine's serial console
        (`nativek8s console`); raise UsageError saying what to use instead where there is
        none. Default: Unsupported."""
        raise Unsupported(self, "console_command", "attach to a machine's serial console")

    def destroy_marked(self, lab: str, plan: Plan | None,
                       echo: Callable[[str], None]) -> list[str]:
        """Remove what carries this lab's ownership mark, without its state (lost or
        damaged); ``plan`` is the lab's plan when a topology file gave it, else None.
        Return what was removed. Default: Unsupported (it cannot find them by mark)."""
        raise Unsupported(self, "destroy_marked", "find a lab's resources without its state")


class PluginSet(Protocol):
    """The plugins of a composition, by role (``ctx.plugins``)."""

    @property
    def router(self) -> RouterOS: ...

    @property
    def nodeos(self) -> NodeOS: ...

    @property
    def cni(self) -> CNI: ...

    @property
    def hypervisors(self) -> Mapping[str, Hypervisor]: ...


@dataclass(frozen=True)
class PluginSpec:
    """What a registration hook returns: a named factory of one kind."""

    name: str
    factory: Callable[[], Plugin]
    description: str = ""
    options: type[BaseModel] | None = None  # validates `options.<name>` in topologies
    kind: ClassVar[str] = ""
    interface: ClassVar[type[Plugin]] = Plugin


@dataclass(frozen=True)
class HypervisorSpec(PluginSpec):
    kind: ClassVar[str] = "hypervisor"
    interface: ClassVar[type[Plugin]] = Hypervisor


@dataclass(frozen=True)
class RouterOSSpec(PluginSpec):
    kind: ClassVar[str] = "router"
    interface: ClassVar[type[Plugin]] = RouterOS


@dataclass(frozen=True)
class NodeOSSpec(PluginSpec):
    kind: ClassVar[str] = "nodeos"
    interface: ClassVar[type[Plugin]] = NodeOS


@dataclass(frozen=True)
class CNISpec(PluginSpec):
    kind: ClassVar[str] = "cni"
    interface: ClassVar[type[Plugin]] = CNI


@dataclass(frozen=True)
class Kind:
    """One plugin kind: its name (``--<name>`` on the command line, ``plugins.<name>`` in a
    topology), title, registration hook, descriptor, interface and default plugin."""

    name: str
    title: str
    hook: str
    spec: type[PluginSpec]
    interface: type[Plugin]
    default: str


# The plugin kinds, defined once, in composition order.
KIND_LIST: tuple[Kind, ...] = (
    Kind("hypervisor", "hypervisor", "nativek8s_hypervisors", HypervisorSpec, Hypervisor,
         "netns"),
    Kind("router", "router OS", "nativek8s_router_oses", RouterOSSpec, RouterOS, "openwrt"),
    Kind("nodeos", "node OS", "nativek8s_node_oses", NodeOSSpec, NodeOS, "talos"),
    Kind("cni", "CNI", "nativek8s_cnis", CNISpec, CNI, "cilium"),
)
KIND_BY_NAME: dict[str, Kind] = {k.name: k for k in KIND_LIST}
KINDS: tuple[str, ...] = tuple(k.name for k in KIND_LIST)
KIND_TITLES: dict[str, str] = {k.name: k.title for k in KIND_LIST}
DEFAULT_PLUGINS: dict[str, str] = {k.name: k.default for k in KIND_LIST}


_REQUIRED_ATTRIBUTES = frozenset({"name"})


def interface_members(interface: type) -> dict[str, bool]:
    """Public members of an interface (its own and inherited), name → required."""
    out: dict[str, bool] = {n: True for n in _REQUIRED_ATTRIBUTES
                            if n in getattr(interface, "__annotations__", {})
                            or hasattr(interface, n)}
    for klass in reversed(interface.__mro__):
        if klass is object or klass is Protocol:
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and name not in _REQUIRED_ATTRIBUTES:
                out[name] = bool(getattr(value, "__nativek8s_required__", False))
        for name in vars(klass).get("__annotations__", {}):
            if not name.startswith("_") and name not in _REQUIRED_ATTRIBUTES:
                out.setdefault(name, False)
    return out


def missing_members(obj: Plugin, interface: type[Plugin]) -> list[str]:
    """The required members ``obj`` lacks (those it did not override), and ``name`` if
    unset."""
    missing = [] if obj.name else ["name"]
    for member, needed in interface_members(interface).items():
        if member in _REQUIRED_ATTRIBUTES or not needed:
            continue
        if getattr(type(obj), member, None) is getattr(interface, member):
            missing.append(member)
    return missing


def implements(plugin: object, member: str) -> bool:
    """True if the plugin object provides an optional member itself, not its kind's default
    (which raises :class:`Unsupported`)."""
    mine = getattr(type(plugin), member, None)
    if not callable(mine):
        return False
    return not any(mine is vars(base).get(member)
                   for base in (Plugin, RouterOS, NodeOS, CNI, Hypervisor))


def __getattr__(name: str) -> object:
    # RenderContext lived here before the contexts had their own module; code written
    # against that still imports it from here (plugins import it from nativek8s.api).
    if name == "RenderContext":
        from .contexts import RenderContext

        return RenderContext
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
