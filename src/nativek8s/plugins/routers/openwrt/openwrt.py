"""The `openwrt` plugin object: OpenWrt's UCI files and BIRD 2's bird.conf for every router,
and the routers' BGP state read back through birdc."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from nativek8s.api import (
    BgpDaemon,
    BgpSessionState,
    BootMedia,
    DaemonFile,
    DaemonPaths,
    DaemonProcess,
    LabContext,
    MachineAccess,
    NamespaceDaemon,
    Plan,
    RenderContext,
    RenderedFile,
    RouterOS,
    RouterPlan,
    management_of,
)
from nativek8s.shared import bird

from . import credentials
from .bird import bird_config
from .options import OpenWrtOptions
from .templating import render
from .uci import LAN_BRIDGE, uci_config

if TYPE_CHECKING:
    from .image import RouterDisk

BIRD_CONF = "/etc/bird.conf"
UCI_FILES = ("network", "firewall", "dhcp")  # /etc/config/<name>, templates/<name>.j2
# The per-router disk is a bare ext4 filesystem, attached as the first virtio disk.
CMDLINE = "root=/dev/vda rootwait console=ttyS0"


def options_for(plan: Plan, router: RouterPlan) -> OpenWrtOptions:
    """The plugin's options for a router: top level, overridden by its datacentre's."""
    return OpenWrtOptions.model_validate(plan.options_for("openwrt", router.datacentre))


class Openwrt(RouterOS):
    name = "openwrt"
    kernel_route_protocols: ClassVar[frozenset[str]] = frozenset({bird.KERNEL_PROTOCOL})

    def render(self, ctx: RenderContext) -> list[RenderedFile]:
        files: list[RenderedFile] = []
        for router in ctx.plan.routers:
            files += self.render_router(ctx, router)
        return files

    def render_router(self, ctx: RenderContext, router: RouterPlan) -> list[RenderedFile]:
        options = options_for(ctx.plan, router)
        uci = uci_config(ctx.plan, router, options, management_of(ctx.plugins, ctx.plan))
        files = [
            RenderedFile(path=f"{router.name}/etc/config/{name}", machine=router.name,
                         target=f"/etc/config/{name}", content=render(f"{name}.j2", c=uci))
            for name in UCI_FILES
        ]
        bird = bird_config(ctx.plan, router, options, ctx.secrets)
        files.append(RenderedFile(
            path=f"{router.name}{BIRD_CONF}", machine=router.name, target=BIRD_CONF,
            content=render("bird.conf.j2", c=bird), secret=bird.has_password,
        ))
        return files + self._login_files(ctx, router)

    def _login_files(self, ctx: RenderContext, router: RouterPlan) -> list[RenderedFile]:
        """SSH with the lab's key only, root's console password the lab's (credentials)."""
        lab, name = ctx.plan.lab, router.name

        def file(target: str, content: str, secret: bool = False) -> RenderedFile:
            return RenderedFile(path=f"{name}{target}", machine=name, target=target,
                                content=content, secret=secret)

        script = credentials.ROOT_PASSWORD_SCRIPT
        return [
            file(credentials.DROPBEAR_CONFIG, render("dropbear.j2", router=name, lab=lab)),
            file(credentials.AUTHORIZED_KEYS,
                 credentials.public_key(ctx.secrets, lab) + "\n"),
            file(script, render("root-password.sh.j2", target=script, router=name, lab=lab,
                                hash=credentials.root_password_hash(ctx.secrets)),
                 secret=True),
        ]

    def bgp_daemon(self, router: RouterPlan) -> BgpDaemon:
        return BgpDaemon(kind="bird2", config_target=BIRD_CONF)

    def reload_commands(self, router: RouterPlan) -> list[list[str]]:
        """After its files were rewritten in place: OpenWrt's services re-read them."""
        return [["/etc/init.d/network", "reload"], ["/etc/init.d/firewall", "reload"],
                ["/etc/init.d/dnsmasq", "reload"], ["birdc", "configure"]]

    def namespace_daemon(self, router: RouterPlan, files: Sequence[RenderedFile],
                         paths: DaemonPaths) -> NamespaceDaemon:
        """BIRD as OpenWrt's procd runs it (`bird -f`, logging to stderr), with the router's
        bird.conf unchanged and its control socket and PID file in the given folders."""
        bird_conf = next(f for f in files if f.target == BIRD_CONF)
        conf, sock, pid = paths.config("bird.conf"), paths.run("ctl"), paths.config("bird.pid")
        text = bird_conf.text
        return NamespaceDaemon(
            files=(DaemonFile(conf, text, bird_conf.secret),),
            processes=(DaemonProcess(
                name="bird", argv=("bird", "-f", "-c", str(conf), "-s", str(sock),
                                   "-P", str(pid)),
                files=(conf,), ready=sock,
                reload=("birdc", "-s", str(sock), "configure")),),
            control_socket=str(sock),
            tools={"bird": "bird2", "birdc": "bird2"},
        )

    def bgp_sessions(self, router: RouterPlan, access: MachineAccess) -> list[BgpSessionState]:
        """The router's sessions as BIRD reports them, named as in the plan.

        The plan is not passed here, so sessions are mapped back by protocol name (which is
        the session's name); a planned session BIRD does not know cannot be listed.
        """
        return bird.session_states(access)

    def bgp_hint(self, router: RouterPlan) -> str:
        return bird.hint(router.name)

    def lan_bridge(self, router: RouterPlan) -> str | None:
        return LAN_BRIDGE

    # --- images ----------------------------------------------------------------------------
    def boot_media(self, ctx: LabContext, router: RouterPlan,
                   kernel_boot: bool = True) -> BootMedia:
        """Direct kernel boot: the release's kernel and the router's own ext4 disk; without
        kernel boot, the combined disk that boots by itself."""
        if not kernel_boot:
            return BootMedia(disk=self.combined_disk(ctx, router))
        disk = self._disk(ctx, router, combined=False)
        return BootMedia(kernel=disk.kernel, disk=disk.rootfs, cmdline=CMDLINE)

    def combined_disk(self, ctx: LabContext, router: RouterPlan) -> Path:
        """A disk that boots by itself (GRUB, MBR) with the router's filesystem as its
        second partition: for hypervisors that cannot boot a kernel directly (Proxmox)."""
        disk = self._disk(ctx, router, combined=True)
        assert disk.combined is not None
        return disk.combined

    def planned_boot_media(self, ctx: RenderContext, router: RouterPlan,
                           kernel_boot: bool = True) -> BootMedia:
        """Where boot_media puts the files, computed without making them."""
        from nativek8s.api import cached_path, lab_dir

        from .release import Release

        plan = ctx.plan
        options = options_for(plan, router)
        release = Release(version=plan.versions["openwrt"], base_url=options.base_url)
        folder = lab_dir(plan.lab) / "backend" / self.name / router.name  # as LabState's
        if not kernel_boot:
            return BootMedia(disk=folder / "combined.img")
        kernel = cached_path(f"{release.target_url}/{release.kernel}", release.target_cache,
                             name=release.kernel.rsplit("/", 1)[-1])
        return BootMedia(kernel=kernel, disk=folder / "rootfs.img", cmdline=CMDLINE)

    def _disk(self, ctx: LabContext, router: RouterPlan, *, combined: bool) -> RouterDisk:
        # The image pipeline is imported only by hypervisors that boot real routers.
        from .image import build_router_disk
        from .release import Release

        options = options_for(ctx.plan, router)
        release = Release(version=ctx.plan.versions["openwrt"], base_url=options.base_url)
        return build_router_disk(
            router.name, release, options, self._files_of(ctx, router),
            ctx.state.backend_dir(self.name), combined=combined,
            echo=ctx.echo)

    def _files_of(self, ctx: LabContext, router: RouterPlan) -> list[RenderedFile]:
        """The router's rendered files: those the engine rendered, or rendered now."""
        rendered = [f for f in ctx.rendered.get(self.name, [])
                    if f.machine == router.name and f.target]
        if rendered:
            return rendered
        return self.render_router(RenderContext(plan=ctx.plan, secrets=ctx.secrets), router)
