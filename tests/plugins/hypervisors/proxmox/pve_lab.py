"""Labs for the proxmox plugin's tests: small stand-in router and node OS plugins that make
tiny boot images (the real openwrt/talos image pipelines are not needed to test placement,
upload and VM wiring), plans placed on stand-in nodes, and a context to run steps in.

A plain module (not conftest) so tests import it by a name no other test folder uses.
"""

from __future__ import annotations

import copy
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nativek8s.api import (
    CNI,
    BgpDaemon,
    BootMedia,
    CNISpec,
    LabContext,
    LabState,
    NodeOS,
    NodeOSSpec,
    RouterOS,
    RouterOSSpec,
    hookimpl,
)
from nativek8s.core.engine.lab import context
from nativek8s.core.engine.steps import Progress, Step, run_steps
from nativek8s.core.load import parse_topology, reference_text
from nativek8s.core.plan import Plan, build_plan
from nativek8s.core.registry import Registry, make_plugin_manager
from nativek8s.core.validate import check_topology
from nativek8s.shared.bird import session_states
from nativek8s.shared.files import write_atomic
from tests.standins.proxmox_api.guest import CannedGuest, Exited

ROUTER_IMAGE_BYTES = 256 * 1024
CAPTURED = Path(__file__).parents[3] / "data" / "proxmox_agent"
BIRDC_ARGV = ("birdc", "show", "protocols", "all")
FILTERED_ARGV = ("birdc", "show", "route", "filtered")
ROUTES_ARGV = ("ip", "-j", "-4", "route", "show")
RULES_ARGV = ("ip", "-j", "-4", "rule", "show")
CALLS: dict[str, int] = {}  # boot_media calls per machine, across the test session
_CALLS_LOCK = threading.Lock()


def _count(machine: str) -> None:
    with _CALLS_LOCK:
        CALLS[machine] = CALLS.get(machine, 0) + 1


def _write_if_changed(path: Path, data: bytes) -> Path:
    # Atomically: nodes ask for their media at once, and one uploads the file while
    # another checks it (a plain write empties it for a moment: "checksum mismatch").
    if not path.exists() or path.read_bytes() != data:
        write_atomic(path, data)
    return path


class TinyRouter(RouterOS):
    """Router OS stand-in: a raw 'disk' per router whose bytes depend on lab and router."""

    name = "tinywrt"
    kernel_only = False  # tests flip this to check that direct kernel boot is refused

    def bgp_daemon(self, router: Any) -> BgpDaemon:
        return BgpDaemon(kind="bird2", config_target="/etc/bird.conf")

    def bgp_sessions(self, router: Any, access: Any) -> list[Any]:
        # What the openwrt plugin reads: BIRD's own `birdc show protocols all`, parsed.
        return session_states(access)

    def boot_media(self, ctx: LabContext, router: Any, kernel_boot: bool = True) -> BootMedia:
        _count(router.name)
        folder = ctx.state.backend_dir(self.name)
        if self.kernel_only:
            kernel = _write_if_changed(folder / "vmlinuz", b"kernel")
            return BootMedia(kernel=kernel, cmdline="console=ttyS0")
        head = f"tiny router disk of {ctx.plan.lab}/{router.name}\n".encode()
        return BootMedia(disk=_write_if_changed(folder / f"{router.name}.img",
                                                head.ljust(ROUTER_IMAGE_BYTES, b"\0")))


class TinyNodeOS(NodeOS):
    """Node OS stand-in: one installer ISO for every node, an 8 GiB install disk."""

    name = "tinyos"

    def boot_media(self, ctx: LabContext, node: Any, kernel_boot: bool = True) -> BootMedia:
        _count(node.name)
        folder = ctx.state.backend_dir(self.name)
        iso = _write_if_changed(folder / "tinyos-installer.iso", b"CD001 tiny installer" * 64)
        return BootMedia(iso=iso, disk_size_gib=8)

    def deploy_steps(self, ctx: Any) -> list[Step]:
        return []


class TinyCNI(CNI):
    """CNI stand-in with deploy steps (Cilium's real-cluster steps are another issue's)."""

    name = "tinycni"

    def bgp_intent(self, plan: Plan) -> list[Any]:
        return []

    def deploy_steps(self, ctx: Any) -> list[Step]:
        return []


@hookimpl
def nativek8s_cnis() -> list[CNISpec]:
    return [CNISpec(name="tinycni", factory=TinyCNI, description="test CNI")]


@hookimpl
def nativek8s_router_oses() -> list[RouterOSSpec]:
    return [RouterOSSpec(name="tinywrt", factory=TinyRouter, description="test router OS")]


@hookimpl
def nativek8s_node_oses() -> list[NodeOSSpec]:
    return [NodeOSSpec(name="tinyos", factory=TinyNodeOS, description="test node OS")]


def registry() -> Registry:
    return Registry(make_plugin_manager(extra=[sys.modules[__name__]]))


def topology(pve: Any, token_file: Path, nodes: dict[str, str] | None = None,
             **proxmox: Any) -> dict[str, Any]:
    """The reference lab on the stand-in; ``nodes``: datacentre → Proxmox node."""
    data = yaml.safe_load(reference_text())
    data["plugins"] = {"hypervisor": "proxmox", "router": "tinywrt", "nodeos": "tinyos",
                       "cni": "cilium"}
    opts = {"host": pve.host, "token_file": str(token_file), "ca_file": str(pve.ca_file),
            "request_timeout": 10, "task_timeout": 20, "boot_timeout": 0, **proxmox}
    data["options"] = {"proxmox": opts}
    for dc, node in (nodes or {}).items():
        data["datacentres"][dc]["options"] = {"proxmox": {"node": node}}
    return data


def make_plan(data: dict[str, Any], reg: Registry | None = None) -> Plan:
    topo, _ = parse_topology(yaml.safe_dump(copy.deepcopy(data)), "test")
    errors, _ = check_topology(topo, reg or registry())
    assert not errors, errors
    return build_plan(topo)


@dataclass
class Lab:
    """A plan with its state folder and a context whose echo is captured."""

    plan: Plan
    root: Path
    reg: Registry
    lines: list[str] = field(default_factory=list)

    def ctx(self) -> LabContext:
        return context(self.plan, LabState(self.plan.lab, root=self.root), self.reg,
                       self.lines.append)

    def plugin(self, ctx: LabContext | None = None) -> Any:
        ctx = ctx or self.ctx()
        return ctx.plugins.hypervisor_for(self.plan, self.plan.datacentres[0].name)

    def deploy(self) -> LabContext:
        """As the engine does: preflight, then the hypervisor's steps and the node OS's."""
        ctx = self.ctx()
        hyp = self.plugin(ctx)
        hyp.preflight(ctx)
        steps = list(hyp.deploy_steps(ctx)) + list(ctx.plugins.nodeos.deploy_steps(ctx))
        run_steps(steps, Progress(self.lines.append))
        return ctx

    def destroy(self) -> list[str]:
        ctx = self.ctx()
        return list(self.plugin(ctx).destroy(ctx))


def captured_guest(router: str) -> CannedGuest:
    """A router VM answering what a real one answered (tests/data/proxmox_agent)."""
    return CannedGuest({
        BIRDC_ARGV: Exited(0, (CAPTURED / f"{router}.birdc.txt").read_bytes()),
        FILTERED_ARGV: Exited(0, (CAPTURED / f"{router}.filtered.txt").read_bytes()),
        ROUTES_ARGV: Exited(0, (CAPTURED / f"{router}.routes.json").read_bytes()),
        RULES_ARGV: Exited(0, (CAPTURED / f"{router}.rules.json").read_bytes()),
    })


def captured_routers(vm: Any) -> CannedGuest | None:
    """For ``state.guest_for``: router VMs of any lab get their captured guest, and their
    agent reports a WAN address (198.51.100.1N for router-N) on the NIC with the WAN MAC."""
    name = str(vm.config.get("name", ""))
    router = name.rsplit("-", 2)[-2:]
    if router[0] != "router":
        return None
    wan_mac = str(vm.config["net1"]).split(",")[0].split("=")[1].lower()
    vm.guest_interfaces = [{"name": "eth1", "hardware-address": wan_mac, "ip-addresses": [
        {"ip-address-type": "ipv4", "ip-address": f"198.51.100.1{router[1]}", "prefix": 24}]}]
    return captured_guest("-".join(router))


def write_token(path: Path, token: Any) -> Path:
    path.write_text(f"{token.userid}!{token.tokenid}={token.secret}\n")
    path.chmod(0o600)
    return path


def writes(pve: Any) -> list[tuple[str, str, int]]:
    """Every request of the stand-in that was not a GET."""
    return [r for r in pve.api.requests if r[0] != "GET"]


def requests_matching(pve: Any, method: str, pred: Callable[[str], bool]) -> list[str]:
    return [path for m, path, _ in pve.api.requests if m == method and pred(path)]
