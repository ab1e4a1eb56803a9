"""Talos API commands of the talosctl stand-in, answered by the simulated nodes (``talos_sim``).

Follows siderolabs/talos v1.13.9: ``cmd/talosctl/pkg/talos/global/client.go`` (talosconfig,
endpoints, nodes and their error texts), ``apply-config.go``, ``bootstrap.go``,
``kubeconfig.go``, ``get.go`` with ``output/{json,yaml,table}.go``, and machined's API
answers (``Bootstrap`` AlreadyExists when etcd's data directory is not empty, control-plane-only
APIs answering Unimplemented on workers, ``MachineStatus`` resources).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

import talos_config as tc
import talos_patch as tp
import talos_sim as sim
from talos_commands import CommandError, injected, long_version

if TYPE_CHECKING:
    from talos_cli import Ctx

_MACHINE_STATUS = {"machinestatus", "machinestatuses", "machinestatuses.runtime.talos.dev"}


# --- connections ----------------------------------------------------------------------------


def _talosconfig(ctx: Ctx) -> dict[str, Any]:
    explicit = ctx["talosconfig"]
    path = explicit or os.environ.get("TALOSCONFIG") or str(Path.home() / ".talos" / "config")
    if explicit and not os.path.exists(explicit):
        Path(explicit).write_text("context: \"\"\ncontexts: {}\n", encoding="utf-8")  # upstream ensure()
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


def _target(ctx: Ctx, state: dict[str, Any], prefix: str, single: bool = True) -> tuple[str, dict[str, Any]]:
    """Resolve one node over mTLS, raising the error talosctl would print."""
    nodes, fp, endpoint_error = secure(ctx, state)
    if single and len(nodes) > 1:
        raise CommandError(f'command "{ctx.command.path}" is not supported with multiple nodes')
    ip, node = sim.node_for(state, nodes[0])
    error = endpoint_error or sim.secure_error(ip, node, fp)
    if error:
        raise CommandError(prefix + error)
    if injected(ctx, node, state):
        raise CommandError(prefix + sim.refused(ip))
    return ip, node


def _is_control_plane(node: dict[str, Any]) -> bool:
    return (node.get("config") or {}).get("type") in {"controlplane", "init"}


# --- apply-config ---------------------------------------------------------------------------


def _summary(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """What the simulation keeps of an applied config: nothing secret."""
    main = next(d for d in docs if "kind" not in d)
    get = lambda *p: tc.dig(main, p)  # noqa: E731
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
        "hostname": get("machine", "network", "hostname"),
    }


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
        raise CommandError(f'failed to read configuration from "{ctx["file"]}": open {ctx["file"]}: {tc.os_reason(exc)}') from None
    if not text:
        raise CommandError("no configuration data read")
    try:
        docs = tc.load_docs(text, "machine configuration")
        if ctx["config-patch"]:
            docs = tp.apply_patches(docs, tp.load_patches(ctx["config-patch"]))
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
            ip, node = _target(ctx, state, prefix)
            error = None
        if error:
            raise CommandError(prefix + error)
        if ctx["insecure"] and injected(ctx, node, state):
            raise CommandError(prefix + sim.refused(ip))
        _server_apply(ctx, node, docs, prefix)
    return 0


def _server_apply(ctx: Ctx, node: dict[str, Any], docs: list[dict[str, Any]], prefix: str) -> None:
    try:
        tp.check_documents(docs)
    except tc.ConfigError as exc:
        raise CommandError(prefix + f"rpc error: code = InvalidArgument desc = failed to parse config: {exc}") from None
    problems = tp.validate_for_apply(docs)
    if problems:
        raise CommandError(
            prefix + "rpc error: code = InvalidArgument desc = configuration validation failed: "
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


def _cluster_bootstrapped(state: dict[str, Any], cluster_id: str) -> bool:
    return any(n.get("etcd") and (n.get("config") or {}).get("cluster_id") == cluster_id for n in state["nodes"].values())


def bootstrap(ctx: Ctx) -> int:
    if ctx["recover-from"]:
        raise sim.SimError("talosctl stand-in: bootstrap --recover-from is not simulated")
    prefix = "error executing bootstrap: "
    with sim.session() as state:
        ip, node = _target(ctx, state, prefix)
        if not _is_control_plane(node):
            raise CommandError(prefix + "rpc error: code = Unimplemented desc = bootstrap is only available on control plane nodes")
        if node["etcd"] or _cluster_bootstrapped(state, node["config"]["cluster_id"]):
            raise CommandError(prefix + "rpc error: code = AlreadyExists desc = etcd data directory is not empty")
        node["etcd"] = True
        node["bootstrapped_at"] = time.time()
    return 0


# --- kubeconfig -----------------------------------------------------------------------------


def _kubeconfig_doc(node: dict[str, Any]) -> dict[str, Any]:
    cfg = node["config"]
    name, user = cfg["cluster"], f"admin@{cfg['cluster']}"
    return {
        "apiVersion": "v1",
        "clusters": [{"cluster": {"certificate-authority-data": cfg["k8s_ca_crt"], "server": cfg["endpoint"]}, "name": name}],
        "contexts": [{"context": {"cluster": name, "namespace": "default", "user": user}, "name": user}],
        "current-context": user,
        "kind": "Config",
        "preferences": {},
        "users": [{"name": user, "user": {
            "client-certificate-data": tc.fake_pem("CERTIFICATE"),
            "client-key-data": tc.fake_pem("EC PRIVATE KEY"),
        }}],
    }


def _merge_kubeconfig(existing: dict[str, Any], new: dict[str, Any], force: bool) -> dict[str, Any]:
    renamed: dict[str, str] = {}
    for section in ("clusters", "users", "contexts"):
        entries = existing.setdefault(section, []) or []
        existing[section] = entries
        for entry in new[section]:
            names = {e["name"] for e in entries}
            if entry["name"] in names and force:
                entries[:] = [e for e in entries if e["name"] != entry["name"]]
            elif entry["name"] in names:
                n = 1
                while f"{entry['name']}-{n}" in names:
                    n += 1
                renamed[entry["name"]] = f"{entry['name']}-{n}"
                entry = {**entry, "name": renamed[entry["name"]]}
            if section == "contexts":
                ref = entry["context"]
                entry = {**entry, "context": {**ref, "cluster": renamed.get(ref["cluster"], ref["cluster"]), "user": renamed.get(ref["user"], ref["user"])}}
            entries.append(entry)
    existing["current-context"] = renamed.get(new["current-context"], new["current-context"])
    return existing


def kubeconfig(ctx: Ctx) -> int:
    merge = ctx["merge"]
    if ctx.args:
        local = ctx.args[0]
    elif merge:
        local = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or str(Path.home() / ".kube" / "config")
    else:
        local = os.getcwd()
    local = os.path.normpath(local)
    if os.path.isdir(local):
        local = os.path.join(local, "kubeconfig")
    elif not os.path.exists(local) and local != "-":
        os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
    if os.path.exists(local) and not (ctx["force"] or merge):
        raise CommandError(f'kubeconfig file already exists, use --force to overwrite: "{local}"')
    if not os.path.exists(local):
        merge = False
    prefix = "error copying: "
    with sim.session() as state:
        _, node = _target(ctx, state, prefix)
        if not _is_control_plane(node):
            raise CommandError(prefix + "rpc error: code = Unimplemented desc = kubeconfig is only available on control plane nodes")
        doc = _kubeconfig_doc(node)
    if merge:
        existing = yaml.safe_load(Path(local).read_text(encoding="utf-8")) or {}
        doc = _merge_kubeconfig(existing, doc, ctx["force"])
    data = yaml.safe_dump(doc, sort_keys=False)
    if local == "-":
        ctx.out.write(data)
        return 0
    fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(data)
    os.chmod(local, 0o600)
    return 0


# --- get machinestatus, server version ------------------------------------------------------


def _machine_status(state: dict[str, Any], ip: str, node: dict[str, Any]) -> dict[str, Any]:
    unmet = []
    if node["stage"] == "running":
        cfg = node.get("config") or {}
        bootstrapped = bool(cfg) and _cluster_bootstrapped(state, cfg.get("cluster_id", ""))
        if _is_control_plane(node) and not bootstrapped:
            unmet.append({"name": "services", "reason": "etcd not running"})
        name = cfg.get("hostname") or node.get("hostname") or sim.default_hostname(ip)
        if not bootstrapped:
            unmet.append({"name": "nodeReady", "reason": f'node "{name}" status is not available yet'})
        elif cfg.get("cni") == "none" and not node.get("cni_ready"):
            unmet.append({"name": "nodeReady", "reason": f'node "{name}" is not ready'})
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(node["since"]))
    return {
        "metadata": {
            "namespace": "runtime", "type": "MachineStatuses.runtime.talos.dev", "id": "machine",
            "version": len(node.get("history", [])) + 1, "owner": "runtime.MachineStatusController",
            "phase": "running", "created": stamp, "updated": stamp,
        },
        "spec": {"stage": node["stage"], "status": {"ready": not unmet, "unmetConditions": unmet}},
    }


def get(ctx: Ctx) -> int:
    fmt = ctx["output"]
    if fmt not in {"table", "yaml", "json"} and not fmt.startswith("jsonpath="):
        raise CommandError(f'output format "{fmt}" is not supported')
    if ctx["watch"]:
        raise sim.SimError("talosctl stand-in: get --watch is not simulated")
    with sim.session() as state:
        if ctx["insecure"]:
            if not ctx["nodes"]:
                raise CommandError("failed to determine endpoints")
            targets, fp, endpoint_error = ctx["nodes"][:1], "", None
        else:
            targets, fp, endpoint_error = secure(ctx, state)
        if endpoint_error:
            raise CommandError(endpoint_error)
        if ctx.args[0].lower() not in _MACHINE_STATUS:
            raise CommandError(f'rpc error: code = NotFound desc = resource "{ctx.args[0]}" is not registered')
        results, errors = [], []
        for address in targets:
            ip, node = sim.node_for(state, address)
            error = sim.insecure_error(ip, node) if ctx["insecure"] else sim.secure_error(ip, node, fp)
            if error is None and injected(ctx, node, state):
                error = sim.refused(ip)
            if error:
                errors.append(f"{ip}: {error}" if len(targets) > 1 else error)
            elif len(ctx.args) == 1 or ctx.args[1] == "machine":
                results.append((ip, _machine_status(state, ip, node)))
    _write_resources(ctx, fmt, results)
    if errors:
        raise CommandError(errors[0] if len(targets) == 1 else tc.multierror(errors))
    return 0


def _write_resources(ctx: Ctx, fmt: str, results: list[tuple[str, dict[str, Any]]]) -> None:
    if fmt == "table":
        ctx.out.write("NODE        NAMESPACE   TYPE            ID        VERSION   STAGE     READY\n")
        for ip, r in results:
            spec = r["spec"]
            ctx.out.write(f"{ip}   runtime     MachineStatus   machine   {r['metadata']['version']}   "
                          f"{spec['stage']}   {str(spec['status']['ready']).lower()}\n")
    for n, (ip, resource) in enumerate(results):
        if fmt == "json":
            ctx.out.write(json.dumps({"node": ip, **resource}, indent=4) + "\n")
        elif fmt == "yaml":
            ctx.out.write(("---\n" if n else "") + f"node: {ip}\n" + tc.dump_docs([resource]))
        elif fmt.startswith("jsonpath="):
            value: Any = resource["spec"]
            for part in fmt[len("jsonpath="):].strip("{}").lstrip(".").split("."):
                value = value.get(part) if isinstance(value, dict) and part else value
            ctx.out.write(f"{json.dumps(value) if isinstance(value, (dict, list, bool)) else value}\n")


def server_version(ctx: Ctx) -> int:
    prefix = "error getting version: "
    with sim.session() as state:
        if ctx["insecure"]:
            if not ctx["nodes"]:
                raise CommandError("failed to determine endpoints")
            ip, node = sim.node_for(state, ctx["nodes"][0])
            error = sim.insecure_error(ip, node)
            if error:
                raise CommandError(prefix + error)
            targets = [(ip, node)]
        else:
            nodes, fp, endpoint_error = secure(ctx, state)
            if endpoint_error:
                raise CommandError(prefix + endpoint_error)
            targets = [sim.node_for(state, n) for n in nodes]
            for ip, node in targets:
                error = sim.secure_error(ip, node, fp)
                if error:
                    raise CommandError(prefix + error)
    for ip, node in targets:
        ctx.out.write(f"\tNODE:        {ip}\n")
        ctx.out.write(long_version(node.get("version", ctx.version)))
        ctx.out.write("\tEnabled:     RBAC\n")
    return 0
