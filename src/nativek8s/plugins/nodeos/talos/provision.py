"""Deploy steps of the `talos` plugin: from booted machines to a cluster waiting for its CNI.

Every step is an *ensure*: it looks first and acts only where needed, so running the steps
again resumes a failed deploy. Order (keys ``talos:...``)::

    preflight ─ secrets ─ config ──────────────┐
        └─ maintenance:<node> (each, parallel) ─┴─ apply:<node> (each, parallel)
    apply:<first control plane> ─ bootstrap ─ api ─ kubeconfig ─┬─ ready
    apply:<every node> ─────────────────────────────────────────┘

Files (lab state, private): ``secrets/talos-secrets.yaml`` (gen secrets, once per lab),
``backend/talos/generated/{controlplane,worker}.yaml``, ``talosconfig`` and ``kubeconfig``
at the top of the lab's state, all mode 0600. ``backend/talos/provision.json`` records what
was applied and that the cluster was bootstrapped (never twice).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from pathlib import Path

from nativek8s.api import SECRET_MODE, Hypervisor, LabContext, NativeK8sError, NodePlan, Step
from nativek8s.shared.waiting import Poll, wait_for

from . import commands as cmd
from .disks import disks_of
from .generate import SECRETS_NAME, digest, ensure_configs, ensure_secrets
from .options import PLUGIN, options_of
from .record import ProvisionRecord
from .status import (
    ALREADY_EXISTS,
    CERT_REQUIRED,
    UNKNOWN_AUTHORITY,
    MachineStatus,
    node_error,
    parse_statuses,
    short_error,
)
from .talosctl import Talosctl, TalosctlError
from .versions import kubernetes_version, supported

BOOTSTRAPPED = "bootstrapped"


class Provisioner:
    """Builds the steps for one lab and holds what they share."""

    def __init__(self, ctx: LabContext):
        self.ctx = ctx
        self.report = ctx.report  # shows the long waits (install, bootstrap, ready)
        self.plan = ctx.plan
        self.version = supported(self.plan.versions["talos"])
        self.kubernetes = kubernetes_version(self.version, self.plan.versions.get("kubernetes"))
        self.options = options_of(self.plan)
        base = ctx.state.backend_dir(PLUGIN)
        self.base = base
        self.layout = cmd.Layout(
            secrets=str(ctx.secrets.directory / SECRETS_NAME),
            generated=str(base / "generated"),
            patches=str(base / "patches"),
            talosconfig=str(ctx.state.dir / "talosconfig"),
            kubeconfig=str(ctx.state.kubeconfig))
        self.record = ProvisionRecord(base / "provision.json")
        self.control_planes = cmd.control_planes(self.plan)
        if not self.control_planes:
            raise NativeK8sError(f"lab {self.plan.lab} has no control-plane node; mark one "
                                 "node `role: controlplane` in the topology")
        self.first = self.control_planes[0]
        self.disks = disks_of(ctx)
        self._talosctl: Talosctl | None = None

    # --- the steps ------------------------------------------------------------------------
    def steps(self) -> list[Step]:
        nodes = self.plan.nodes
        steps = [
            Step("talos:preflight", "check talosctl", self.preflight),
            Step("talos:secrets", "Talos secrets", self.secrets, after=("talos:preflight",)),
            Step("talos:config", "Talos machine configs", self.config,
                 after=("talos:secrets",)),
        ]
        for n in nodes:
            steps.append(Step(f"talos:maintenance:{n.name}", "wait for Talos maintenance mode",
                              functools.partial(self.maintenance, n), machine=n.name,
                              after=("talos:preflight",)))
            steps.append(Step(f"talos:apply:{n.name}", "apply Talos config",
                              functools.partial(self.apply, n), machine=n.name,
                              after=("talos:config", f"talos:maintenance:{n.name}")))
            if self._disk_booter(n) is not None:
                steps.append(Step(f"talos:disk-boot:{n.name}", "boot from the installed disk",
                                  functools.partial(self.disk_boot, n), machine=n.name,
                                  after=(f"talos:apply:{n.name}",)))
        installed = {s.key for s in steps}

        def settled(node: NodePlan) -> str:  # installed, and booting its own disk
            key = f"talos:disk-boot:{node.name}"
            return key if key in installed else f"talos:apply:{node.name}"

        steps += [
            Step("talos:bootstrap", "bootstrap the cluster", self.bootstrap,
                 machine=self.first.name, after=(settled(self.first),)),
            Step("talos:api", "wait for the Kubernetes API", self.api, machine=self.first.name,
                 after=("talos:bootstrap",)),
            Step("talos:kubeconfig", "fetch the kubeconfig", self.kubeconfig,
                 after=("talos:api",)),
            Step("talos:ready", "wait for the nodes to register", self.ready,
                 after=("talos:kubeconfig", *(settled(n) for n in nodes))),
        ]
        return steps

    @property
    def talosctl(self) -> Talosctl:
        if self._talosctl is None:  # preflight sets it; a lone step (tests) finds it too
            self._talosctl = Talosctl.find(self.options.talosctl, self.version,
                                           self.options.command_timeout)
        return self._talosctl

    def preflight(self) -> str:
        self._talosctl = Talosctl.find(self.options.talosctl, self.version,
                                       self.options.command_timeout)
        have = self._talosctl.check_version(self.version)
        return f"talosctl {have.tag} ({self._talosctl.executable})"

    def secrets(self) -> str:
        return ensure_secrets(self.talosctl, self.layout, self.version)

    def config(self) -> str:
        return ensure_configs(self.talosctl, self.plan, self.layout, self.version,
                              self.kubernetes, self.options, self.record, self.disks)

    # --- per node -------------------------------------------------------------------------
    def _fingerprint(self, node: NodePlan) -> str:
        return digest(Path(self.layout.config_file(node)).read_bytes(),
                       Path(self.layout.node_patch(node)).read_bytes())

    def _applied(self, node: NodePlan) -> str | None:
        return self.record.get(f"applied:{node.name}")

    def _insecure(self, node: NodePlan) -> tuple[MachineStatus | None, str]:
        """(status, error text) over the maintenance API."""
        try:
            out = self.talosctl.run(cmd.status_insecure(node)).stdout
        except TalosctlError as exc:
            return None, exc.stderr or str(exc)
        found = parse_statuses(out)
        return (found[0] if found else None), ""

    def _secure(self, nodes: list[NodePlan]) -> tuple[list[MachineStatus], str]:
        """(statuses of the nodes that answered, error text) with the lab's talosconfig."""
        try:
            return parse_statuses(self.talosctl.run(cmd.status(self.plan, self.layout,
                                                               nodes)).stdout), ""
        except TalosctlError as exc:
            return parse_statuses(exc.stdout) if exc.stdout.strip() else [], \
                exc.stderr or str(exc)

    def maintenance(self, node: NodePlan) -> str:
        polled = f"`{cmd.shell_line(cmd.status_insecure(node))}`"
        applied = self._applied(node)

        def probe() -> Poll:
            status, error = self._insecure(node)
            if status is not None:
                return Poll(status.stage == "maintenance", status.describe())
            if CERT_REQUIRED in error:
                return Poll(True, "configured already (its API wants a client certificate)")
            if applied is not None:  # installing or rebooting after an earlier apply
                return Poll(True, f"configured by an earlier run ({short_error(error)})")
            return Poll(False, short_error(error))

        return wait_for(f"{node.name} ({cmd.ip(node)}) in maintenance mode", polled, probe,
                        self.options.maintenance_timeout, self.options.poll_interval,
                        hint=(f"is the machine running and does {cmd.ip(node)} answer on TCP "
                              "50000? Check its console and that its datacentre router's "
                              f"DHCP gives {node.interfaces[0].mac} that address"),
                        report=self.report).answer

    def apply(self, node: NodePlan) -> str:
        fingerprint = self._fingerprint(node)
        recorded = self._applied(node)
        secure_error = ""
        if recorded is not None:  # configured by an earlier run: look with the talosconfig
            statuses, secure_error = self._secure([node])
            if statuses:
                return self._reconcile(node, recorded, fingerprint)
        status, error = self._insecure(node)
        if status is not None and status.stage == "maintenance":
            self.talosctl.run(cmd.apply_insecure(self.layout, node))
            self.record.set(f"applied:{node.name}", fingerprint)
            return ("was back in maintenance mode: applied again" if recorded
                    else f"applied {cmd.config_name(node)} (installing)")
        if recorded is not None:  # installing or rebooting after the earlier apply
            return f"applied earlier; not answering yet ({short_error(secure_error or error)})"
        if CERT_REQUIRED not in error:
            raise NativeK8sError(f"{node.name} ({cmd.ip(node)}) does not answer the Talos API: "
                                 f"{short_error(error)}; start the machine and run again")
        # configured but not recorded: ours (a run stopped before recording) or not ours
        statuses, secure_error = self._secure([node])
        if statuses:
            return self._reconcile(node, None, fingerprint)
        if UNKNOWN_AUTHORITY in secure_error:
            raise NativeK8sError(
                f"{node.name} ({cmd.ip(node)}) is configured for another cluster: its Talos API "
                "does not trust this lab's talosconfig. Wipe it (`talosctl reset`) or recreate "
                "the machine, then run again")
        raise NativeK8sError(f"{node.name} ({cmd.ip(node)}): {short_error(secure_error)}")

    def _reconcile(self, node: NodePlan, recorded: str | None, fingerprint: str) -> str:
        """The node runs with this lab's certificates: apply again only what changed."""
        if recorded == fingerprint:
            return "already applied"
        self.talosctl.run(cmd.apply_secure(self.plan, self.layout, node))
        self.record.set(f"applied:{node.name}", fingerprint)
        return "configuration changed: applied again"

    def _disk_booter(self, node: NodePlan) -> Hypervisor | None:
        """The node's hypervisor, if it must be told to boot the installed disk (libvirt's
        direct kernel boot would otherwise bring the cached kernel back on every reboot)."""
        hypervisor = self.ctx.hypervisor_for(node.datacentre)
        return hypervisor if hypervisor is not None and hypervisor.kernel_boot else None

    def disk_boot(self, node: NodePlan) -> str:
        """Once Talos runs from its disk: the machine boots that disk from now on, so
        `talosctl upgrade` (which writes the disk and reboots) takes effect. Once per node."""
        key = f"disk_boot:{node.name}"
        if self.record.get(key):
            return "boots from its disk (since an earlier run)"
        hint = ("the node installs to disk and reboots after apply-config; check its console "
                f"and the install disk ({self.disks[node.name]})")
        self._wait_secure(f"{node.name} ({cmd.ip(node)}) installed and running", node,
                          lambda s: s.stage == "running", self.options.install_timeout, hint)
        booter = self._disk_booter(node)
        assert booter is not None  # the step exists only for such nodes
        note = booter.boot_from_disk(self.ctx, node.name, restart=True)
        self.record.set(key, time.strftime("%Y-%m-%d %H:%M:%S"))
        self._wait_secure(f"{node.name} ({cmd.ip(node)}) running from its disk", node,
                          lambda s: s.stage == "running", self.options.install_timeout, hint)
        return note

    # --- cluster --------------------------------------------------------------------------
    def _wait_secure(self, what: str, node: NodePlan, done: Callable[[MachineStatus], bool],
                     timeout: float, hint: str) -> str:
        polled = f"`{cmd.shell_line(cmd.status(self.plan, self.layout, [node]))}`"

        def probe() -> Poll:
            statuses, error = self._secure([node])
            if not statuses:
                return Poll(False, short_error(error))
            return Poll(done(statuses[0]), statuses[0].describe())

        return wait_for(what, polled, probe, timeout, self.options.poll_interval, hint,
                        report=self.report).answer

    def bootstrap(self) -> str:
        node = self.first
        when = self.record.get(BOOTSTRAPPED)
        if when:
            return f"already bootstrapped ({when})"
        self._wait_secure(f"{node.name} ({cmd.ip(node)}) installed and running", node,
                          lambda s: s.stage == "running", self.options.install_timeout,
                          hint="the node installs to disk and reboots after apply-config; "
                               "check its console, the install disk "
                               f"({self.disks[node.name]}) and that the installer image "
                               "can be pulled")
        try:
            self.talosctl.run(cmd.bootstrap(self.plan, self.layout, node))
        except TalosctlError as exc:
            if ALREADY_EXISTS not in exc.stderr:
                raise
            self._mark_bootstrapped("found bootstrapped (etcd data directory not empty)")
            return "already bootstrapped (etcd data directory not empty)"
        self._mark_bootstrapped("bootstrapped by nativek8s")
        return f"etcd bootstrapped on {node.name}"

    def _mark_bootstrapped(self, how: str) -> None:
        self.record.set(BOOTSTRAPPED, f"{how} at {time.strftime('%Y-%m-%d %H:%M:%S')}")

    def api(self) -> str:
        node = self.first
        return self._wait_secure(
            f"Kubernetes API on {node.name}", node, lambda s: s.registered,
            self.options.api_timeout,
            hint="etcd, kube-apiserver and the kubelet must run on the control plane; see "
                 f"`talosctl -n {cmd.ip(node)} -e {cmd.ip(node)} --talosconfig "
                 f"{self.layout.talosconfig} services` and `... dmesg`")

    def kubeconfig(self) -> str:
        """The admin kubeconfig into the lab's state (fetched again when the cluster's
        configuration changed); merged into the user's default one only when asked."""
        target = Path(self.layout.kubeconfig)
        inputs = self.record.get("config_inputs")
        notes = []
        if target.exists() and self.record.get("kubeconfig_for") == inputs:
            notes.append(f"{target} (kept)")
        else:
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.unlink(missing_ok=True)
            try:
                self.talosctl.run(cmd.kubeconfig(self.plan, self.layout, self.first,
                                                 output=str(tmp)))
                tmp.chmod(SECRET_MODE)
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            self.record.set("kubeconfig_for", inputs)
            notes.append(str(target))
        if self.options.merge_kubeconfig and self.record.get("merged_for") != inputs:
            self.talosctl.run(cmd.kubeconfig_merge(self.plan, self.layout, self.first))
            self.record.set("merged_for", inputs)
            notes.append("merged into your default kubeconfig")
        return ", ".join(notes)

    def ready(self) -> str:
        nodes = list(self.plan.nodes)
        polled = f"`{cmd.shell_line(cmd.status(self.plan, self.layout, nodes))}`"

        def probe() -> Poll:
            statuses, error = self._secure(nodes)
            seen = {s.node: s for s in statuses}
            waiting = []
            for n in nodes:
                status = seen.get(cmd.ip(n))
                if status is None:
                    waiting.append(f"{cmd.ip(n)}: {node_error(error, cmd.ip(n))}")
                elif not status.registered:
                    waiting.append(status.describe())
            return Poll(not waiting, "; ".join(waiting) or "all registered")

        wait_for(f"{len(nodes)} node(s) registered with Kubernetes", polled, probe,
                 self.options.ready_timeout, self.options.poll_interval,
                 hint="a node's kubelet must reach the API server at "
                      f"{self.plan.cluster.endpoint}; check its routes to the control plane",
                 report=self.report)
        return (f"{len(nodes)} node(s) registered; NotReady until the CNI runs (Talos waits "
                "about 10 minutes for it)")
