"""Read-only Talos API commands of the talosctl stand-in: ``kubeconfig``, ``get``, ``version``.

Follows siderolabs/talos v1.13.9 ``cmd/talosctl/cmd/talos/{kubeconfig,get,version}.go``,
``output/{json,yaml,table}.go``, ``pkg/kubeconfig/generate.go`` (admin kubeconfig of context
``admin@<cluster>``, written with mode 0600) and the MachineStatus resource
(``MachineStatuses.runtime.talos.dev``, readiness checks of machined's MachineStatusController).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tests.standins import talos_api as api
from tests.standins import talos_config as tc
from tests.standins import talos_sim as sim
from tests.standins.talos_commands import CommandError, injected, long_version

if TYPE_CHECKING:
    from tests.standins.talos_cli import Ctx

_MACHINE_STATUS = {"machinestatus", "machinestatuses", "machinestatuses.runtime.talos.dev"}


# --- kubeconfig -----------------------------------------------------------------------------


def _kubeconfig_doc(node: dict[str, Any]) -> dict[str, Any]:
    cfg = node["config"]
    name, user = cfg["cluster"], f"admin@{cfg['cluster']}"
    return {
        "apiVersion": "v1",
        "clusters": [
            {
                "cluster": {"certificate-authority-data": cfg["k8s_ca_crt"], "server": cfg["endpoint"]},
                "name": name,
            }
        ],
        "contexts": [{"context": {"cluster": name, "namespace": "default", "user": user}, "name": user}],
        "current-context": user,
        "kind": "Config",
        "preferences": {},
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": tc.fake_pem("CERTIFICATE"),
                    "client-key-data": tc.fake_pem("EC PRIVATE KEY"),
                },
            }
        ],
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
                entry = {
                    **entry,
                    "context": {
                        **ref,
                        "cluster": renamed.get(ref["cluster"], ref["cluster"]),
                        "user": renamed.get(ref["user"], ref["user"]),
                    },
                }
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
        _, node = api.target(ctx, state, prefix)
        if not api.is_control_plane(node):
            raise CommandError(
                prefix
                + "rpc error: code = Unimplemented desc = kubeconfig is only available on control plane nodes"
            )
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
        bootstrapped = bool(cfg) and api.cluster_bootstrapped(state, cfg.get("cluster_id", ""))
        if api.is_control_plane(node) and not bootstrapped:
            unmet.append({"name": "services", "reason": "etcd not running"})
        name = cfg.get("hostname") or node.get("hostname") or sim.default_hostname(ip)
        if not bootstrapped:
            unmet.append({"name": "nodeReady", "reason": f'node "{name}" status is not available yet'})
        elif cfg.get("cni") == "none" and not node.get("cni_ready"):
            unmet.append({"name": "nodeReady", "reason": f'node "{name}" is not ready'})
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(node["since"]))
    return {
        "metadata": {
            "namespace": "runtime",
            "type": "MachineStatuses.runtime.talos.dev",
            "id": "machine",
            "version": len(node.get("history", [])) + 1,
            "owner": "runtime.MachineStatusController",
            "phase": "running",
            "created": stamp,
            "updated": stamp,
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
            targets, fp, endpoint_error = api.secure(ctx, state)
        if endpoint_error:
            raise CommandError(endpoint_error)
        if ctx.args[0].lower() not in _MACHINE_STATUS:
            raise CommandError(
                f'rpc error: code = NotFound desc = resource "{ctx.args[0]}" is not registered'
            )
        results, errors = [], []
        for address in targets:
            ip, node = sim.node_for(state, address)
            error = sim.insecure_error(ip, node) if ctx["insecure"] else sim.secure_error(ip, node, fp)
            if error is None and injected(ctx, node, state):
                error = sim.refused(ip)
            if error:
                errors.append(f"{ip}: {error}" if len(targets) > 1 else error)
            elif node is not None and (len(ctx.args) == 1 or ctx.args[1] == "machine"):
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
            ctx.out.write(
                f"{ip}   runtime     MachineStatus   machine   {r['metadata']['version']}   "
                f"{spec['stage']}   {str(spec['status']['ready']).lower()}\n"
            )
    for n, (ip, resource) in enumerate(results):
        if fmt == "json":
            ctx.out.write(json.dumps({"node": ip, **resource}, indent=4) + "\n")
        elif fmt == "yaml":
            ctx.out.write(("---\n" if n else "") + f"node: {ip}\n" + tc.dump_docs([resource]))
        elif fmt.startswith("jsonpath="):
            value: Any = resource["spec"]
            for part in fmt[len("jsonpath=") :].strip("{}").lstrip(".").split("."):
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
            nodes, fp, endpoint_error = api.secure(ctx, state)
            if endpoint_error:
                raise CommandError(prefix + endpoint_error)
            targets = [sim.node_for(state, n) for n in nodes]
            for ip, node in targets:
                error = sim.secure_error(ip, node, fp)
                if error:
                    raise CommandError(prefix + error)
    for ip, node in targets:
        ctx.out.write(f"\tNODE:        {ip}\n")
        ctx.out.write(long_version((node or {}).get("version", ctx.version)))
        ctx.out.write("\tEnabled:     RBAC\n")
    return 0
