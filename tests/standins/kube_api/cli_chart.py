"""The Cilium Helm chart as the helm/cilium CLI stand-ins install it.

Stands in for helm's chart handling of cilium/cilium: value files (must be YAML maps),
`--set` strvals, values.schema.json validation (only for 1.18, the one chart schema
pinned in tests/upstream_sources.py), rendering of the objects a readiness wait and a BGP setup look at
(DaemonSet `cilium`, Deployment `cilium-operator`, ConfigMap `cilium-config`), and helm's
release record (Secret `sh.helm.release.v1.NAME.vREV`, gzip+base64 JSON). The CRDs are
not rendered: Cilium's operator registers them once it runs (see cilium_sim.py).
"""

from __future__ import annotations

import base64
import copy
import datetime
import gzip
import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.upstream import find, missing_reason

from . import crds as crd_files
from .cli_kube import Kube, KubeError, sleep

LATEST = "1.18.0"
NOTES = ("You have successfully installed Cilium with Hubble.\n\nYour release version is {v}.\n\n"
         "For any further help, visit https://docs.cilium.io/en/v{m}/gettinghelp\n")


class ChartError(Exception):
    pass


def resolve_version(requested: str) -> str:
    """Exact chart versions of the minors with an upstream CRD snapshot."""
    if not requested:
        return LATEST
    version = requested.removeprefix("v")
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.]+)?", version)
    if not match or f"{match.group(1)}.{match.group(2)}" not in crd_files.CILIUM_CRD_DIRS:
        raise ChartError(f'chart "cilium" matching {requested} not found in cilium index. '
                         f"(try 'helm repo update'): no chart version found for cilium-{requested}")
    return version


def _typed(raw: str) -> Any:
    if raw in ("true", "false"):
        return raw == "true"
    if raw == "null":
        return None
    if re.fullmatch(r"-?(0|[1-9]\d*)", raw):
        return int(raw)
    return raw


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == sep:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def set_value(values: dict[str, Any], expression: str, as_string: bool = False) -> None:
    """helm strvals: a.b=c,d[0]=e (typed unless --set-string)."""
    for assignment in _split_unescaped(expression, ","):
        if "=" not in assignment:
            raise ChartError(f"failed parsing --set data: key \"{assignment}\" has no value")
        key, raw = assignment.split("=", 1)
        value: Any = raw if as_string else _typed(raw)
        node: Any = values
        parts = _split_unescaped(key, ".")
        for position, part in enumerate(parts):
            match = re.fullmatch(r"([^\[\]]+)((?:\[\d+\])*)", part)
            if not match:
                raise ChartError(f"failed parsing --set data: key \"{key}\" has no value")
            name, indexes = match.group(1), [int(i) for i in re.findall(r"\[(\d+)\]", match.group(2))]
            last = position == len(parts) - 1
            if not indexes:
                if last:
                    node[name] = value
                else:
                    node = node.setdefault(name, {})
                continue
            seq = node.setdefault(name, [])
            for depth, index in enumerate(indexes):
                while len(seq) <= index:
                    seq.append(None)
                if depth == len(indexes) - 1:
                    if last:
                        seq[index] = value
                    else:
                        if not isinstance(seq[index], dict):
                            seq[index] = {}
                        node = seq[index]
                else:
                    if not isinstance(seq[index], list):
                        seq[index] = []
                    seq = seq[index]


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of values: maps merge key by key, anything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_values(files: list[str], sets: list[str], set_strings: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in files:
        try:
            text = Path(name).read_text()
        except FileNotFoundError:
            raise ChartError(f"open {name}: no such file or directory") from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f"line {mark.line + 1}: " if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise ChartError(f"failed to parse {name}: error converting YAML to JSON: yaml: "
                             f"{line}{problem}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ChartError(f"failed to parse {name}: error unmarshaling JSON: while decoding "
                             f"JSON: json: cannot unmarshal {type(loaded).__name__} into Go value "
                             "of type map[string]interface {}")
        values = merge(values, loaded)
    for expression in sets:
        set_value(values, expression)
    for expression in set_strings:
        set_value(values, expression, as_string=True)
    return values


def validate_values(version: str, values: dict[str, Any]) -> None:
    """values.schema.json check; only the 1.18 chart schema is pinned."""
    if crd_files.cilium_minor(version) != "1.18":
        return
    path = find(crd_files.VALUES_SCHEMAS["1.18"])
    if path is None:  # never a weaker helm: the caller should have skipped (crds_or_skip)
        raise ChartError(missing_reason(crd_files.VALUES_SCHEMAS["1.18"]))
    import jsonschema  # only the 1.18 chart has a schema to check against

    schema = json.loads(path.read_text())
    validator = jsonschema.Draft7Validator(schema)
    problems = sorted(validator.iter_errors(values), key=lambda e: list(map(str, e.path)))
    if problems:
        lines = [f"- at '/{'/'.join(map(str, e.absolute_path))}': {e.message}" for e in problems]
        raise ChartError("values don't meet the specifications of the schema(s) in the "
                         "following chart(s):\ncilium:\n" + "\n".join(lines))


def _get(values: dict[str, Any], dotted: str, default: Any) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def _str(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def render(namespace: str, version: str, values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(collection path, object) for the objects this stand-in renders from the chart."""
    from .server import daemonset, operator_deployment  # same shapes as the fixture's

    tag = f"v{version}"
    config = {"cluster-name": _get(values, "cluster.name", "default"),
              "routing-mode": _get(values, "routingMode", "") or "tunnel",
              "enable-bgp-control-plane": _get(values, "bgpControlPlane.enabled", False),
              "enable-ipv4-masquerade": _get(values, "enableIPv4Masquerade", True),
              "kube-proxy-replacement": _get(values, "kubeProxyReplacement", "false"),
              "ipam": _get(values, "ipam.mode", "cluster-pool"),
              "auto-direct-node-routes": _get(values, "autoDirectNodeRoutes", False)}
    if _get(values, "ipv4NativeRoutingCIDR", ""):
        config["ipv4-native-routing-cidr"] = _get(values, "ipv4NativeRoutingCIDR", "")
    agent = daemonset("cilium", namespace, tag)
    env = [{"name": "KUBERNETES_SERVICE_HOST", "value": _str(_get(values, "k8sServiceHost", ""))},
           {"name": "KUBERNETES_SERVICE_PORT", "value": _str(_get(values, "k8sServicePort", ""))}]
    agent["spec"]["template"]["spec"]["containers"][0]["env"] = env
    operator = operator_deployment(namespace, tag)
    operator["spec"]["replicas"] = int(_get(values, "operator.replicas", 2))
    labels = {"app.kubernetes.io/managed-by": "Helm"}
    for obj in (agent, operator):
        obj["metadata"]["labels"].update(labels)
        obj["metadata"]["annotations"] = {"meta.helm.sh/release-name": "cilium",
                                          "meta.helm.sh/release-namespace": namespace}
    return [
        (f"/api/v1/namespaces/{namespace}/configmaps",
         {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "cilium-config", "namespace": namespace, "labels": labels},
          "data": {k: _str(v) for k, v in config.items()}}),
        (f"/apis/apps/v1/namespaces/{namespace}/daemonsets",
         {"apiVersion": "apps/v1", "kind": "DaemonSet", **agent}),
        (f"/apis/apps/v1/namespaces/{namespace}/deployments",
         {"apiVersion": "apps/v1", "kind": "Deployment", **operator}),
    ]


def releases(kube: Kube, namespace: str, name: str) -> list[dict[str, Any]]:
    found = kube.get(f"/api/v1/namespaces/{namespace}/secrets",
                     {"labelSelector": f"owner=helm,name={name}"})
    items = (found or {}).get("items", [])
    return sorted(items, key=lambda s: int(s["metadata"]["labels"].get("version", "0")))


def release_values(secret: dict[str, Any]) -> dict[str, Any]:
    """The user-supplied values ("config") of a release storage Secret."""
    payload = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    return json.loads(gzip.decompress(payload)).get("config") or {}


def record_release(kube: Kube, namespace: str, name: str, revision: int, version: str,
                   values: dict[str, Any], status: str) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC).isoformat()
    release = {"name": name, "namespace": namespace, "version": revision, "config": values,
               "info": {"status": status, "first_deployed": now, "last_deployed": now,
                        "description": "Install complete" if revision == 1 else "Upgrade complete",
                        "notes": NOTES.format(v=version, m=crd_files.cilium_minor(version))},
               "chart": {"metadata": {"name": "cilium", "version": version,
                                      "appVersion": version, "apiVersion": "v2"}}}
    payload = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    for old in releases(kube, namespace, name):
        if old["metadata"]["labels"].get("status") == "deployed":
            kube.request("PATCH", f"/api/v1/namespaces/{namespace}/secrets/{old['metadata']['name']}",
                         {"metadata": {"labels": {"status": "superseded"}}},
                         content_type="application/merge-patch+json")
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
              "metadata": {"name": f"sh.helm.release.v1.{name}.v{revision}",
                           "labels": {"name": name, "owner": "helm", "status": status,
                                      "version": str(revision)}},
              "data": {"release": base64.b64encode(payload.encode()).decode()}}
    kube.request("POST", f"/api/v1/namespaces/{namespace}/secrets", secret,
                 {"fieldManager": "helm"})
    return release


def ensure_namespace(kube: Kube, namespace: str, create: bool) -> None:
    if kube.get(f"/api/v1/namespaces/{namespace}") is not None:
        return
    if not create:
        raise ChartError(f'create: failed to create: namespaces "{namespace}" not found')
    kube.request("POST", "/api/v1/namespaces",
                 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
                 {"fieldManager": "helm"})


def apply_objects(kube: Kube, namespace: str, version: str, values: dict[str, Any],
                  manager: str) -> None:
    for collection, body in render(namespace, version, values):
        kube.create_or_patch(collection, body, manager)


def workloads_ready(kube: Kube, namespace: str) -> bool:
    ds = kube.get(f"/apis/apps/v1/namespaces/{namespace}/daemonsets/cilium") or {}
    dep = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/cilium-operator") or {}
    ds_status, dep_status = ds.get("status") or {}, dep.get("status") or {}
    ds_ready = bool(ds) and ds_status.get("numberReady", 0) >= ds_status.get(
        "desiredNumberScheduled", 1) and ds_status.get("numberUnavailable", 0) == 0
    dep_ready = bool(dep) and dep_status.get("readyReplicas", 0) >= dep.get("spec", {}).get(
        "replicas", 1)
    return ds_ready and dep_ready


def wait_ready(kube: Kube, namespace: str, timeout: float, interval: float = 2.0) -> bool:
    """Poll like helm --wait / cilium status --wait until ready or `timeout` runs out.

    Time is virtual: each poll costs `interval` seconds of the budget whatever the wall
    clock says (the real sleep is scaled by NK8S_STANDIN_TIME_SCALE), so a deadline is
    reached after timeout/interval polls, deterministically.
    """
    spent = 0.0
    while True:
        try:
            if workloads_ready(kube, namespace):
                return True
        except KubeError:
            pass
        if spent + interval > timeout:
            return False
        sleep(interval)
        spent += interval
