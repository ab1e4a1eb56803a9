"""The `frr` router OS: frr.conf and daemons for every router, FRR run in a network
namespace on request of the netns backend, and the routers' BGP state read through vtysh."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import ClassVar

from jinja2 import Environment, StrictUndefined
from nativek8s.api import (
    BgpDaemon,
    BgpSessionState,
    DaemonFile,
    DaemonPaths,
    DaemonProcess,
    MachineAccess,
    NamespaceDaemon,
    Plan,
    RenderContext,
    RenderedFile,
    RouterOS,
    RouterPlan,
    plugin_options,
)

from .config import frr_config
from .options import FrrOptions
from .sessions import session_states

FRR_CONF = "/etc/frr/frr.conf"
DAEMONS = "/etc/frr/daemons"
SBIN = "/usr/lib/frr"  # Debian's FRR keeps its daemons here, off PATH
FRR_USER = "frr"  # Debian's FRR drops privileges to it (and checks it is in group frrvty)
SECTION = "!! "  # frr.conf's section lines: "!! zebra", "!! bgpd" (comments to FRR)
DAEMON_ORDER = ("zebra", "bgpd")  # bgpd talks to zebra: zebra first

_env = Environment(trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined,
                   keep_trailing_newline=True, autoescape=False)


def _template(name: str) -> str:
    return resources.files(__package__).joinpath("templates", name).read_text()


def options_for(plan: Plan, router: RouterPlan) -> FrrOptions:
    """The plugin's options for a router: top level, overridden by its datacentre's."""
    return plugin_options(plan, "frr", FrrOptions, router.datacentre)


def sections(conf: str) -> dict[str, str]:
    """frr.conf cut into what each daemon reads: the common head, plus its own section
    (every daemon reading the whole file would log each other's commands as unknown)."""
    head: list[str] = []
    parts: dict[str, list[str]] = {}
    name: str | None = None
    for line in conf.splitlines(keepends=True):
        if line.startswith(SECTION):
            name = line[len(SECTION):].strip()
            parts[name] = []
        elif name is None:
            head.append(line)
        else:
            parts[name].append(line)
    return {n: "".join(head + lines) for n, lines in parts.items()}


class Frr(RouterOS):
    name = "frr"
    kernel_route_protocols: ClassVar[frozenset[str]] = frozenset({"bgp"})  # zebra's word

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        files: list[RenderedFile] = []
        for router in ctx.plan.routers:
            c = frr_config(ctx.plan, router, options_for(ctx.plan, router), ctx.secrets)
            files += [
                RenderedFile(path=f"{router.name}{FRR_CONF}", machine=router.name,
                             target=FRR_CONF, secret=c.has_password,
                             content=_env.from_string(_template("frr.conf.j2")).render(c=c)),
                RenderedFile(path=f"{router.name}{DAEMONS}", machine=router.name,
                             target=DAEMONS,
                             content=_env.from_string(_template("daemons.j2")).render(c=c)),
            ]
        return files

    def bgp_daemon(self, router: RouterPlan) -> BgpDaemon:
        return BgpDaemon(kind="frr", config_target=FRR_CONF)

    def namespace_daemon(self, router: RouterPlan, files: Sequence[RenderedFile],
                         paths: DaemonPaths) -> NamespaceDaemon:
        """zebra, then bgpd, in the foreground (no watchfrr), each with its own section of
        the router's frr.conf and every path in one folder of the router: FRR drops
        privileges to its user before it reads its configuration, so the folder is that
        user's (netns makes it so; the lab's state folder is closed to it)."""
        conf = next(f for f in files if f.target == FRR_CONF)
        text = conf.content if isinstance(conf.content, str) else conf.content.decode()
        user = FRR_USER
        folder = paths.run("frr")
        zserv = folder / "zserv.api"
        out_files: list[DaemonFile] = []
        procs: list[DaemonProcess] = []
        parts = sections(text)  # the vtysh section is for vtysh only
        for daemon in DAEMON_ORDER:
            conf_text = parts[daemon]
            path = folder / f"{daemon}.conf"
            out_files.append(DaemonFile(path, conf_text, conf.secret, owner=user))
            # -P 0: no vty on TCP (vtysh uses the socket folder); --log stdout: what it says
            # before it reads its "log stdout" line goes to the log too.
            argv = [f"{SBIN}/{daemon}", "-f", str(path), "-i", str(folder / f"{daemon}.pid"),
                    "--vty_socket", str(folder), "-z", str(zserv), "-u", user, "-g", user,
                    "-P", "0", "--log", "stdout"]
            procs.append(DaemonProcess(name=daemon, argv=tuple(argv), files=(path,),
                                       ready=folder / f"{daemon}.vty"))
        return NamespaceDaemon(
            files=tuple(out_files), processes=tuple(procs), control_socket=str(folder),
            tools={f"{SBIN}/zebra": "frr", f"{SBIN}/bgpd": "frr", "vtysh": "frr"},
            owner=user)

    def bgp_sessions(self, router: RouterPlan, access: MachineAccess) -> list[BgpSessionState]:
        """The router's neighbours as bgpd reports them (vtysh, JSON), named as in the plan:
        each neighbour's description is its session's name."""
        return session_states(access)

    def bgp_hint(self, router: RouterPlan) -> str:
        return (f"vtysh -c 'show bgp neighbors' in {router.name}'s namespace (netns: with "
                "--vty_socket /run/nativek8s/<lab>/" f"{router.name}.frr); its bgpd log")
