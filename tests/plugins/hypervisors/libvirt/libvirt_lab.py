"""Helpers of the libvirt plugin's tests: plans, boot media files, a recording connection,
and deploy without the later plugins' steps and verify (which need real guests' insides).

A plain module (not conftest) so tests import it by a name no other test folder uses."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from nativek8s.api import BootMedia, LabState
from nativek8s.core.engine.lab import context
from nativek8s.core.engine.steps import Progress, run_steps
from nativek8s.core.load import parse_topology, reference_text
from nativek8s.core.plan import Machine, Plan, build_plan
from nativek8s.core.registry import Registry, make_plugin_manager
from nativek8s.core.render import render_files
from nativek8s.core.validate import check_topology

from .standin_os import NODE, ROUTER, StandinOSes

NODE_XML = """<node>
  <cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads>
       <active>2</active><mhz>2000</mhz><model>i686</model></cpu>
  <memory>8388608</memory>
  <interface type="ethernet" name="eth0">
    <start mode="onboot"/><mac address="52:54:00:00:00:01"/>
  </interface>
  <interface type="bridge" name="br-wan">
    <start mode="onboot"/><bridge stp="off"/>
  </interface>
</node>
"""


def topology(changes: dict[str, Any] | None = None, **libvirt: Any) -> dict[str, Any]:
    """The reference lab on libvirt with the stand-in OS plugins; ``libvirt`` options."""
    data = yaml.safe_load(reference_text())
    data["plugins"] = {"hypervisor": "libvirt", "router": ROUTER, "nodeos": NODE,
                       "cni": "cilium"}
    if libvirt:
        data.setdefault("options", {})["libvirt"] = libvirt
    for key, value in (changes or {}).items():
        data[key] = copy.deepcopy(value)
    return data


def make_plan(registry: Registry, changes: dict[str, Any] | None = None,
              **libvirt: Any) -> Plan:
    topo, _ = parse_topology(yaml.safe_dump(topology(changes, **libvirt)), "test")
    errors, _ = check_topology(topo, registry)
    assert not errors, errors
    return build_plan(topo)


def registry_with(oses: StandinOSes) -> Registry:
    return Registry(make_plugin_manager(extra=[oses]))


class MediaFiles:
    """Small files standing in for the OS plugins' images, one set shared by all machines."""

    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        self.kernel = root / "vmlinuz"
        self.initrd = root / "initrd.img"
        self.rootfs = root / "router-rootfs.img"
        self.kernel.write_bytes(b"\x7fELF stand-in kernel")
        self.initrd.write_bytes(b"070701 stand-in initramfs")
        self.rootfs.write_bytes(b"\0" * (2 * 1024 * 1024))

    def __call__(self, ctx: Any, machine: Machine) -> BootMedia:
        if machine.kind == "router":
            return BootMedia(kernel=self.kernel, disk=self.rootfs)
        return BootMedia(kernel=self.kernel, initrd=self.initrd,
                         cmdline="talos.platform=metal console=ttyS0", disk_size_gib=10)


MUTATING = re.compile(r"^(define|networkDefine|storagePoolDefine|createXML|create$|undefine|"
                      r"destroy|setAutostart|build|delete|networkCreate)")


class Recording:
    """A libvirt object (connection, domain, network, pool, volume) that logs every call
    that changes something; objects it returns are wrapped the same way."""

    def __init__(self, target: Any, log: list[str], label: str = "conn"):
        self._target, self._log, self._label = target, log, label

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr
        log, label = self._log, self._label

        def call(*args: Any, **kwargs: Any) -> Any:
            if MUTATING.match(name):
                log.append(f"{label}.{name}")
            return _wrap(attr(*args, **kwargs), log)

        return call


def _wrap(value: Any, log: list[str]) -> Any:
    import libvirt

    kinds = (libvirt.virDomain, libvirt.virNetwork, libvirt.virStoragePool,
             libvirt.virStorageVol)
    if isinstance(value, kinds):
        return Recording(value, log, type(value).__name__[3:].lower())
    if isinstance(value, list):
        return [_wrap(v, log) for v in value]
    return value


def deploy(plan: Plan, state: LabState, registry: Registry,
           echo: Callable[[str], None] = lambda _: None) -> Any:
    """The engine's deploy up to the hypervisor's and node OS's steps (no verify: it needs
    the guests' insides). Returns the context."""
    ctx = context(plan, state, registry, echo)
    hyp = ctx.plugins.hypervisors["libvirt"]
    hyp.preflight(ctx)
    for note in hyp.preflight_notes:  # what doctor's checks report as warnings
        echo(f"libvirt: {note}")
    state.save_plan(plan)
    ctx.rendered = render_files(plan, ctx.plugins, ctx.secrets)
    steps = list(hyp.deploy_steps(ctx)) + list(ctx.plugins.nodeos.deploy_steps(ctx))
    run_steps(steps, Progress(echo))
    return ctx
