"""Talos API commands of the talosctl stand-in, answered by the simulated nodes (``talos_sim``).

Follows siderolabs/talos v1.13.9: ``cmd/talosctl/pkg/talos/global/client.go`` (talosconfig,
endpoints, nodes and their error texts), ``apply-config.go``, ``bootstrap.go``,
``kubeconfig.go``, ``get.go`` with ``output/{json,yaml,table}.go``, and machined's API
answers (``Bootstrap`` AlreadyExists when etcd's data directory is not empty, control-plane-only
APIs answering Unimplemented on workers, ``MachineStatus`` resources).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tests.standins import talos_config as tc
from tests.standins import talos_config14 as tc14
from tests.standins import talos_patch as tp
from tests.standins import talos_sim as sim
from tests.standins.talos_commands import CommandError, injected

if TYPE_CHECKING:
    from tests.standins.talos_cli import Ctx

# --- connections ----------------------------------------------------------------------------


def _talosconfig(ctx: Ctx) -> dict[str, Any]:
    explicit = ctx["talosconfig"]
    path = explicit or os.environ.get("TALOSCONFIG") or str(Path.home() / ".talos" / "config")
    if explicit and not os.path.exists(explicit):
        Path(explicit).write_text('context: ""\ncontexts: {}\n', encoding="utf-8")  # upstream ensure()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        data = {}
    except (OSError, yaml.YAMLError) as exc:
        raise CommandError(f'failed to open config file "{path}": {tc.one_line(exc)}') from None
    return data if isinstance(data, dict) else {}


def _context(ctx: Ctx, config: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    contexts = config.get("contexts") or {}
    if ctx["context"]:
        found = contexts.get(ctx["context"])
        return found, None if found else f'context "{ctx["context"]}" not found in config'
    found = contexts.get(config.get("context") or "")
    if found:
        return found, None
    if not config.get("context") and not contexts:
        return None, "talos config file is empty"
    return None, f'default context "{config.get("context", "")}" not found in config'


def secure(ctx: Ctx, state: dict[str, Any]) -> tuple[list[str], str, str | None]:
    """(nodes, talosconfig CA fingerprint, connection error of the endpoints or None)."""
    config = _talosconfig(ctx)
    context, problem = _context(ctx, config)
    endpoints = ctx["endpoints"] or (context or {}).get("endpoints") or []
    if not endpoints:
        raise CommandError("error constructing client: failed to determine endpoints")
    if problem:
        raise CommandError(
            f"error constructing client: failed to create client connection: "
            f"failed to resolve configuration context: {problem}"
        )
    assert context is not None
    nodes = ctx["nodes"] or context.get("nodes") or []
    if not nodes:
        raise CommandError(
            "nodes are not set for the command: please use `--nodes` flag or configuration file "
            "to set the nodes to run the command against"
        )
    fp = tc.fingerprint(context.get("ca", ""))
    errors = [sim.secure_error(*sim.node_for(state, e), fp) for e in endpoints]
    reachable = any(e is None for e in errors)
    return nodes, fp, None if reachable else errors[0]


def target(ctx: Ctx, state: dict[str, Any], prefix: str, single: bool = True) -> tuple[str, dict[str, Any]]:
    """Resolve one node over mTLS, raising the error talosctl would print."""
    nodes, fp, endpoint_error = secure(ctx, state)
    if single and len(nodes) > 1:
        raise CommandError(f'command "{ctx.command.path}" is not supported with multiple nodes')
    ip, node = sim.node_for(state, nodes[0])
    error = endpoint_error or sim.secure_error(ip, node, fp)
    if error:
        raise CommandError(prefix + error)
    assert node is not None  # secure_error() answers for unknown nodes
    if injected(ctx, node, state):
        raise CommandError(prefix + sim.refused(ip))
    return ip, node


def is_control_plane(node: dict[str, Any]) -> bool:
    return (node.get("config") or {}).get("type") in {"controlplane", "init"}


# --- apply-config ---------------------------------------------------------------------------


def _summary(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """What the simulation keeps of an applied config: nothing secret."""
    main = next(d for d in docs if "kind" not in d)
    get = lambda *p: tc.dig(main, p)  # noqa: E731
    common = {
        "type": get("machine", "type"),
        "ca": tc.fingerprint(str(get("machine", "ca", "crt"))),
        "hostname": _static_hostname(docs),
    }
    if tc14.multidoc(docs):
        return {**common, **tc14.summary(docs)}
    return {
        "type": get("machine", "type"),
        "cluster": get("cluster", "clusterName"),
        "cluster_id": tc.fingerprint(str(get("cluster", "id"))),
        "endpoint": get("cluster", "controlPlane", "endpoint"),
        "ca": tc.fingerprint(str(get("machine", "ca", "crt"))),
        "k8s_ca_crt": get("cluster", "ca", "crt"),
        "cni": get("cluster", "network", "cni", "name") or "flannel",
        "install_disk": get("machine", "install", "disk"),
        "install_image": get("machine", "install", "image"),
        "hostname": _static_hostname(docs),
        "labels": dict(get("machine", "nodeLabels") or {}),
        "proxy": not get("cluster", "proxy", "disabled"),
        # Talos taints control planes unless cluster.allowSchedulingOnControlPlanes
        "taints": {"node-role.kubernetes.io/control-plane": "NoSchedule"}
        if get("machine", "type") == "controlplane"
        and not get("cluster", "allowSchedulingOnControlPlanes") else {},
    }


def _static_hostname(docs: list[dict[str, Any]]) -> str | None:
    """HostnameConfig's static hostname wins over machine.network.hostname (the two may not
    both be set; see talos_patch.validate_for_apply)."""
    for doc in docs:
        if doc.get("kind") == "HostnameConfig" and doc.get("hostname"):
            return str(doc["hostname"])
    main = next(d for d in docs if "kind" not in d)
    return tc.dig(main, ("machine", "network", "hostname"))


def apply_config(ctx: Ctx) -> int:
    if ctx.args:
        if ctx.args[0] != "config" and ctx.args[0].lower() != "machineconfig":
            raise CommandError(f"unknown positional argument {ctx.args[0]}")
        if ctx.called_as == "apply-config":
            raise CommandError("expected no positional arguments")
    if not ctx["file"]:
        raise CommandError("no filename supplied for configuration")
    try:
        text = Path(ctx["file"]).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(
            f'failed to read configuration from "{ctx["file"]}": open {ctx["file"]}: {tc.os_reason(exc)}'
        ) from None
    if not text:
        raise CommandError("no configuration data read")
    docs: list[dict[str, Any]] | None = None
    if ctx["config-patch"]:  # only then does the client parse the file; else the node does
        try:
            docs = tp.apply_patches(
                tc.load_docs(text, "machine configuration"), tp.load_patches(ctx["config-patch"])
            )
        except tc.ConfigError as exc:
            raise CommandError(str(exc)) from None
    prefix = "error applying new configuration: "
    with sim.session() as state:
        if ctx["insecure"]:
            if not ctx["nodes"]:
                raise CommandError("failed to determine endpoints")
            ip, node = sim.node_for(state, ctx["nodes"][0])  # upstream uses the first node only
            error = sim.insecure_error(ip, node)
        else:
            ip, node = target(ctx, state, prefix)
            error = None
        if error:
            raise CommandError(prefix + error)
        assert node is not None  # insecure_error() answers for unknown nodes
        if ctx["insecure"] and injected(ctx, node, state):
            raise CommandError(prefix + sim.refused(ip))
        _server_apply(ctx, node, text if docs is None else docs, prefix)
    return 0


def _server_apply(ctx: Ctx, node: dict[str, Any], data: str | list[dict[str, Any]], prefix: str) -> None:
    try:
        docs = tc.load_docs(data, "machine configuration") if isinstance(data, str) else data
        tp.check_documents(docs)
    except tc.ConfigError as exc:
        raise CommandError(
            prefix + f"rpc error: code = InvalidArgument desc = failed to parse config: {exc}"
        ) from None
    problems = tp.validate_for_apply(docs)
    if problems:
        raise CommandError(
            prefix
            + "rpc error: code = InvalidArgument desc = configuration validation failed: "
            + tc.multierror(problems)
        )
    summary = _summary(docs)
    old = node.get("config")
    if old and old["type"] != summary["type"]:
        raise CommandError(prefix + "rpc error: code = InvalidArgument desc = machine type can't be changed")
    if ctx["dry-run"]:
        ctx.out.write("Dry run summary:\nNo changes (dry run).\n")
        return
    node["config"] = summary
    node["applies"] = int(node.get("applies", 0)) + 1
    if node["stage"] == "maintenance":
        sim.set_stage(node, "installing", time.time())
    else:
        ctx.err.write("Applied configuration without a reboot\n")


# --- bootstrap ------------------------------------------------------------------------------


def cluster_bootstrapped(state: dict[str, Any], cluster_id: str) -> bool:
    return any(
        n.get("etcd") and (n.get("config") or {}).get("cluster_id") == cluster_id
        for n in state["nodes"].values()
    )


def bootstrap(ctx: Ctx) -> int:
    if ctx["recover-from"]:
        raise sim.SimError("talosctl stand-in: bootstrap --recover-from is not simulated")
    prefix = "error executing bootstrap: "
    with sim.session() as state:
        ip, node = target(ctx, state, prefix)
        if not is_control_plane(node):
            raise CommandError(
                prefix
                + "rpc error: code = Unimplemented desc = bootstrap is only available on control plane nodes"
            )
        if node["etcd"] or cluster_bootstrapped(state, node["config"]["cluster_id"]):
            raise CommandError(
                prefix + "rpc error: code = AlreadyExists desc = etcd data directory is not empty"
            )
        node["etcd"] = True
        node["bootstrapped_at"] = time.time()
    return 0
