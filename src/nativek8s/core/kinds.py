"""Plugin kinds: the descriptor each registration hook returns, and the interface
(``Protocol``) the plugin's object implements.

A complete router OS plugin, as one module with one entry point::

    # myrouter/plugin.py        pyproject: [project.entry-points.nativek8s] myrouter = "myrouter.plugin"
    from nativek8s.core.hooks import hookimpl
    from nativek8s.core.kinds import BgpDaemon, RenderContext, RenderedFile, RouterOSSpec

    class MyRouter:
        name = "myrouter"

        def render(self, ctx: RenderContext) -> list[RenderedFile]:
            return [
                RenderedFile(path=f"{r.name}/etc/bird.conf", machine=r.name,
                             target="/etc/bird.conf", content=make_bird_conf(ctx.plan, r))
                for r in ctx.plan.routers
            ]

        def bgp_daemon(self, router):
            return BgpDaemon(kind="bird2", config_target="/etc/bird.conf")

    @hookimpl
    def nativek8s_router_oses():
        return [RouterOSSpec(name="myrouter", factory=MyRouter, description="BIRD on Debian")]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from .intent import SpeakerIntent

if TYPE_CHECKING:
    from .nsdaemon import DaemonPaths, NamespaceDaemon
    from .plan import Plan, RouterPlan
    from .secrets import SecretStore

KINDS = ("hypervisor", "router", "nodeos", "cni")


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


@dataclass
class RenderContext:
    """What every render call receives."""

    plan: Plan
    secrets: SecretStore
    plugins: dict[str, Any] = field(default_factory=dict)  # role → selected plugin object

    def hypervisor_for(self, datacentre: str) -> Any:
        """The hypervisor plugin object of a datacentre (None if not selected here)."""
        name = self.plan.composition.datacentre_hypervisors.get(datacentre)
        return self.plugins.get(f"hypervisor:{name}")


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
    """A way to run commands on one machine, given by the hypervisor that hosts it."""

    machine: str
    bgp_control_socket: str | None  # where the BGP daemon's control socket is, if known

    def run(self, argv: Sequence[str], timeout: float = 10.0) -> str:
        """Run argv on the machine; return stdout; raise NativeK8sError on failure."""
        ...


@runtime_checkable
class Plugin(Protocol):
    """Every plugin object. Members named in ``optional`` are needed only by some
    compositions (e.g. ``boot_media`` only by hypervisors that run real machines); the
    engine says so when one is missing, instead of refusing the plugin up front."""

    name: str
    optional: ClassVar[tuple[str, ...]] = ()

    def render(self, ctx: RenderContext) -> Iterable[RenderedFile]:
        """Every file this plugin would install for the plan."""
        ...


@runtime_checkable
class RouterOS(Plugin, Protocol):
    """Turns the plan into router configuration, and reads the router's BGP state."""

    optional: ClassVar[tuple[str, ...]] = ("boot_media", "namespace_daemon")

    def bgp_daemon(self, router: RouterPlan) -> BgpDaemon: ...

    def namespace_daemon(self, router: RouterPlan, files: Sequence[RenderedFile],
                         paths: DaemonPaths) -> NamespaceDaemon | None:
        """How to run this router's routing daemon in a network namespace on the host (the
        netns backend): programs, files, readiness, control socket, all under ``paths``.
        ``files`` are what :meth:`render` made for this router. Sessions are then read
        through :meth:`bgp_sessions` with ``access.bgp_control_socket`` set to the
        answer's ``control_socket``. None: this router cannot run so (netns refuses the
        lab, naming it). Optional: without it, netns refuses the router OS."""
        ...

    def bgp_sessions(self, router: RouterPlan, access: MachineAccess) -> list[BgpSessionState]:
        """The router's BGP sessions as its daemon reports them (for verify/status)."""
        ...

    def boot_media(self, ctx: Any, router: RouterPlan, kernel_boot: bool = True,
                   prepare: bool = True) -> BootMedia:
        """A bootable router for hypervisors that run real machines (config baked in).
        ``kernel_boot=False``: the hypervisor cannot boot a kernel directly (Proxmox), so the
        media must boot by itself (a whole disk, or an ISO). ``prepare=False``: only say
        where the media will be (``nativek8s render``), downloading and building nothing;
        ``ctx`` may then be a RenderContext."""
        ...


@runtime_checkable
class NodeOS(Plugin, Protocol):
    """Configures and provisions Kubernetes nodes.

    Hypervisors that run real machines call ``boot_media`` for every node; the engine runs
    ``deploy_steps`` after the hypervisor's own steps unless the hypervisor emulates nodes.
    """

    optional: ClassVar[tuple[str, ...]] = ("boot_media", "deploy_steps")

    def boot_media(self, ctx: Any, node: Any, kernel_boot: bool = True,
                   prepare: bool = True) -> BootMedia:
        """As RouterOS.boot_media, for a node."""
        ...

    def deploy_steps(self, ctx: Any) -> list[Any]: ...


@runtime_checkable
class CNI(Plugin, Protocol):
    """Pod networking; says what each node's BGP speaker must do."""

    optional: ClassVar[tuple[str, ...]] = ("deploy_steps",)

    def bgp_intent(self, plan: Plan) -> list[SpeakerIntent]: ...

    def deploy_steps(self, ctx: Any) -> list[Any]:
        """Install and configure the CNI on a real cluster (skipped when emulated)."""
        ...


@runtime_checkable
class Hypervisor(Plugin, Protocol):
    """Creates a lab's networks and machines, and observes them.

    ``emulates`` names the roles it plays itself: the netns backend emulates nodes and
    pods (``{"nodeos", "cni"}``), so the engine does not run those plugins' deploy steps.
    Every method receives the :class:`~nativek8s.core.engine.context.LabContext`.
    """

    emulates: frozenset[str]
    optional: ClassVar[tuple[str, ...]] = ("system_disk", "kernel_boot", "boot_from_disk",
                                          "destroy_marked", "requires")
    kernel_boot: bool  # it boots a kernel directly (libvirt); else self-booting media

    def system_disk(self, plan: Plan, machine: Any) -> SystemDisk:
        """The disk this hypervisor attaches to a machine for its OS, and what the guest
        calls it (so a node OS installs to a disk that exists). Only hypervisors that run
        real machines have it."""
        ...

    def boot_from_disk(self, ctx: Any, machine: str, restart: bool = False) -> str:
        """After the OS installed itself to the machine's disk: boot that disk from now on,
        not the media it was installed from (a directly booted kernel would come back on
        every reboot, and OS upgrades would change nothing). ``restart`` power-cycles the
        machine now. Only hypervisors whose machines do not do so by themselves have it."""
        ...

    # Members the plugin of each role must implement for this hypervisor to run it (netns:
    # the router OS's namespace_daemon); `validate` refuses compositions that lack one,
    # before anything is created.
    requires: ClassVar[dict[str, tuple[str, ...]]] = {}

    def preflight(self, ctx: Any) -> None:
        """Raise NativeK8sError listing every unmet requirement (tools, permissions)."""
        ...

    def deploy_steps(self, ctx: Any) -> list[Any]:
        """Idempotent :class:`~nativek8s.core.engine.steps.Step` objects for this lab."""
        ...

    def destroy(self, ctx: Any) -> list[str]:
        """Remove what this lab created (and nothing else); return what was removed."""
        ...

    def destroy_marked(self, lab: str, plan: Any | None, echo: Callable[[str], None]
                       ) -> list[str]:
        """Optional. Remove what carries this lab's ownership mark, without its state (lost
        or damaged); ``plan`` is the lab's plan when a topology file gave it, else None.
        Return what was removed."""
        ...

    def observer(self, ctx: Any) -> Any:
        """An :class:`~nativek8s.core.observe.Observer` of the deployed lab."""
        ...


def implements(plugin: Any, member: str) -> bool:
    """True if the plugin object provides an optional interface member."""
    return callable(getattr(plugin, member, None))


@dataclass(frozen=True)
class PluginSpec:
    """What a registration hook returns: a named factory of one kind."""

    name: str
    factory: Callable[[], Any]
    description: str = ""
    options: type[BaseModel] | None = None  # validates `options.<name>` in topologies
    kind: ClassVar[str] = ""
    interface: ClassVar[type] = Plugin


@dataclass(frozen=True)
class HypervisorSpec(PluginSpec):
    kind: ClassVar[str] = "hypervisor"
    interface: ClassVar[type] = Hypervisor


@dataclass(frozen=True)
class RouterOSSpec(PluginSpec):
    kind: ClassVar[str] = "router"
    interface: ClassVar[type] = RouterOS


@dataclass(frozen=True)
class NodeOSSpec(PluginSpec):
    kind: ClassVar[str] = "nodeos"
    interface: ClassVar[type] = NodeOS


@dataclass(frozen=True)
class CNISpec(PluginSpec):
    kind: ClassVar[str] = "cni"
    interface: ClassVar[type] = CNI
