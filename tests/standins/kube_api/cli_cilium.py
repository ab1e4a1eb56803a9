"""Stand-in for the cilium CLI (cilium-cli v0.18.3, Helm mode): `version [--client]`,
`install`, `upgrade`, `status [--wait]`, `bgp peers`, with the flags of cilium-cli/cli/{cmd,install,
status,bgp,version}.go (install's --helm-set/--helm-values are normalised to
--set/--values as cilium-cli's normalizeFlags does). Errors print as the real main and
fatalf do (plain message, or "\\n❌ ..." on stderr), exit code 1.

`bgp peers` reads peer state from CiliumBGPNodeConfig status instead of exec'ing
`cilium bgp peers` in each agent pod (the stand-in API has no exec).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tests.support.pflag import (
    ARRAY,
    BOOL,
    DURATION,
    INT,
    SLICE,
    STRING,
    Flag,
    FlagError,
    FlagSet,
    command_words,
)

from . import cli_chart as chart
from .cli_kube import Kube, KubeError, record, should_fail

CLI_VERSION, DEFAULT_CILIUM = "v0.18.3", "v1.17.2"
ROOT = [Flag("context", STRING, ""), Flag("namespace", STRING, "kube-system", "n"),
        Flag("as", STRING, ""), Flag("as-group", ARRAY, []),
        Flag("helm-release-name", STRING, "cilium"), Flag("kubeconfig", STRING, "")]
INSTALL = [Flag("version", STRING, DEFAULT_CILIUM), Flag("datapath-mode", STRING, ""),
           Flag("list-versions", BOOL, False), Flag("nodes-without-cilium", BOOL, False),
           Flag("chart-directory", STRING, ""), Flag("helm-values", SLICE, [], "f"),
           Flag("helm-set", ARRAY, []), Flag("helm-set-string", ARRAY, []),
           Flag("helm-set-file", ARRAY, []), Flag("wait", BOOL, False),
           Flag("wait-duration", DURATION, 300.0), Flag("dry-run", BOOL, False),
           Flag("dry-run-helm-values", BOOL, False), Flag("repository", STRING, "https://helm.cilium.io")]
UPGRADE = [Flag("version", STRING, DEFAULT_CILIUM), Flag("datapath-mode", STRING, ""),
           Flag("chart-directory", STRING, ""), Flag("helm-values", SLICE, [], "f"),
           Flag("helm-set", ARRAY, []), Flag("helm-set-string", ARRAY, []),
           Flag("helm-set-file", ARRAY, []), Flag("reset-values", BOOL, False),
           Flag("reuse-values", BOOL, False), Flag("wait", BOOL, False),
           Flag("wait-duration", DURATION, 300.0), Flag("dry-run", BOOL, False),
           Flag("dry-run-helm-values", BOOL, False), Flag("repository", STRING, "https://helm.cilium.io")]
STATUS = [Flag("wait", BOOL, False), Flag("wait-duration", DURATION, 300.0),
          Flag("ignore-warnings", BOOL, False), Flag("worker-count", INT, 5),
          Flag("output", STRING, "summary", "o"), Flag("interactive", BOOL, True)]
BGP_PEERS = [Flag("agent-pod-selector", STRING, "k8s-app=cilium"), Flag("node", STRING, ""),
             Flag("wait-duration", DURATION, 60.0), Flag("output", STRING, "summary", "o")]
COMMANDS = {("version",): [Flag("client", BOOL, False)], ("install",): INSTALL,
            ("upgrade",): UPGRADE,
            ("status",): STATUS, ("bgp", "peers"): BGP_PEERS, ("bgp", "neighbors"): BGP_PEERS}
_NORMAL = {"helm-set": "set", "helm-set-file": "set-file", "helm-set-string": "set-string",
           "helm-values": "values"}


class Fatal(Exception):
    """fatalf(): printed as "\\n❌ message"."""


class Fail(Exception):
    """An error returned from RunE: printed as is by main."""


def main(argv: list[str]) -> int:
    record("cilium", argv)
    try:
        words = command_words(argv, ROOT + [f for fl in COMMANDS.values() for f in fl])
        command = next((c for c in sorted(COMMANDS, key=len, reverse=True)
                        if tuple(words[:len(c)]) == c), None)
        if command is None:
            parent = "cilium bgp" if words[:1] == ["bgp"] else "cilium"
            word = words[1] if parent == "cilium bgp" and len(words) > 1 else (words[0] if words else "")
            raise Fail(f'unknown command "{word}" for "{parent}"')
        rest = list(argv)
        for word in command:
            rest.remove(word)
        normalize = (lambda n: _NORMAL.get(n, n)) if command in (("install",), ("upgrade",)) \
            else None
        opts = FlagSet(ROOT + COMMANDS[command], normalize).parse(rest)
        if opts["help"]:
            print(f"Usage:\n  cilium {' '.join(command)} [flags]")
            return 0
        if opts.args:
            raise Fail(f'unknown command "{opts.args[0]}" for "cilium {" ".join(command)}"')
        if should_fail("cilium", command[-1]):
            raise Fatal(f"Unable to {command[-1]} Cilium: injected failure (NK8S_STANDIN_FAIL)")
        if command == ("version",):
            return cmd_version(opts)
        if command == ("install",):
            return cmd_install(opts)
        if command == ("upgrade",):
            return cmd_upgrade(opts)
        if command == ("status",):
            return cmd_status(opts)
        return cmd_bgp_peers(opts)
    except (Fail, FlagError) as exc:
        print(exc, file=sys.stderr)
        return 1
    except (Fatal, KubeError, chart.ChartError) as exc:
        print(f"\n❌ {exc}", file=sys.stderr)
        return 1


def _kube(opts: Any) -> Kube:
    try:
        return Kube(opts["kubeconfig"], opts["context"])
    except KubeError as exc:
        raise Fail(f"unable to create Kubernetes client: {exc}") from None


def cmd_version(opts: Any) -> int:
    print(f"cilium-cli: {CLI_VERSION} compiled with go1.24.1 on linux/amd64")
    print(f"cilium image (default): {DEFAULT_CILIUM}")
    print("cilium image (stable): unknown")
    if opts["client"]:
        return 0
    kube = _kube(opts)
    ds = kube.get(f"/apis/apps/v1/namespaces/{opts['namespace']}/daemonsets/cilium")
    if ds is None:
        print("cilium image (running): unknown. Unable to obtain cilium version. Reason: "
              'release: not found')
    else:
        image = ds["spec"]["template"]["spec"]["containers"][0]["image"]
        print(f"cilium image (running): {image.rsplit(':', 1)[-1].lstrip('v')}")
    return 0


def cmd_install(opts: Any) -> int:
    if opts["list-versions"]:
        for default in ("1.16.0", "1.17.2", "1.18.0"):
            print(f"v{default}" + (" (default)" if f"v{default}" == DEFAULT_CILIUM else ""))
        return 0
    try:
        version = chart.resolve_version(opts["version"])
    except chart.ChartError as exc:
        raise Fatal(f"Unable to install Cilium: {exc}") from None
    try:
        values = chart.load_values(opts["values"], opts["set"], opts["set-string"])
        chart.validate_values(version, values)
    except chart.ChartError as exc:
        raise Fatal(f"Unable to install Cilium: {exc}") from None
    kube = _kube(opts)
    namespace, release = opts["namespace"], opts["helm-release-name"]
    print(f"ℹ️  Using Cilium version {version}")
    if opts["dry-run"] or opts["dry-run-helm-values"]:
        return 0
    if chart.releases(kube, namespace, release):
        raise Fatal("Unable to install Cilium: cannot re-use a name that is still in use")
    chart.ensure_namespace(kube, namespace, create=False)
    chart.apply_objects(kube, namespace, version, values, "helm")
    ready = not opts["wait"] or chart.wait_ready(kube, namespace, opts["wait-duration"])
    chart.record_release(kube, namespace, release, 1, version, values,
                         "deployed" if ready else "failed")
    if not ready:
        raise Fatal("Unable to install Cilium: context deadline exceeded")
    print("🔮 Auto-detected kube-proxy has not been installed")
    print("ℹ️  Cilium will fully replace all functionalities of kube-proxy")
    return 0


def cmd_upgrade(opts: Any) -> int:
    """helm upgrade of the existing release (values: reset to the given ones unless
    --reuse-values, which merges them over the release's)."""
    try:
        version = chart.resolve_version(opts["version"])
        values = chart.load_values(opts["values"], opts["set"], opts["set-string"])
    except chart.ChartError as exc:
        raise Fatal(f"Unable to upgrade Cilium: {exc}") from None
    kube = _kube(opts)
    namespace, release = opts["namespace"], opts["helm-release-name"]
    history = chart.releases(kube, namespace, release)
    if not history:
        raise Fatal(f'Unable to upgrade Cilium: "{release}" has no deployed releases')
    if opts["reuse-values"]:
        values = chart.merge(chart.release_values(history[-1]), values)
    try:
        chart.validate_values(version, values)
    except chart.ChartError as exc:
        raise Fatal(f"Unable to upgrade Cilium: {exc}") from None
    print(f"ℹ️  Using Cilium version {version}")
    if opts["dry-run"] or opts["dry-run-helm-values"]:
        return 0
    revision = int(history[-1]["metadata"]["labels"]["version"]) + 1
    chart.apply_objects(kube, namespace, version, values, "helm")
    ready = not opts["wait"] or chart.wait_ready(kube, namespace, opts["wait-duration"])
    chart.record_release(kube, namespace, release, revision, version, values,
                         "deployed" if ready else "failed")
    if not ready:
        raise Fatal("Unable to upgrade Cilium: context deadline exceeded")
    return 0


def _summary(kube: Kube, namespace: str) -> tuple[str, bool]:
    ds = kube.get(f"/apis/apps/v1/namespaces/{namespace}/daemonsets/cilium")
    dep = kube.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/cilium-operator")
    lines, errors = [], []
    for label, obj, kind in (("DaemonSet", ds, "cilium"), ("Deployment", dep, "cilium-operator")):
        if obj is None:
            errors.append(f'{kind}: {"daemonsets.apps" if label == "DaemonSet" else "deployments.apps"} '
                          f'"{kind}" not found')
            continue
        status = obj.get("status") or {}
        if label == "DaemonSet":
            want, ready = status.get("desiredNumberScheduled", 0), status.get("numberReady", 0)
            avail = status.get("numberAvailable", 0)
        else:
            want, ready = obj["spec"].get("replicas", 1), status.get("readyReplicas", 0)
            avail = status.get("availableReplicas", 0)
        lines.append(f"{label:<23}{kind:<19}Desired: {want}, Ready: {ready}/{want}, "
                     f"Available: {avail}/{want}")
        if ready < want:
            errors.append(f"{kind}: {want - ready} pods of {label} {kind} are not ready")
    state = lambda n: "OK" if not [e for e in errors if e.startswith(n + ":")] else "1 errors"  # noqa: E731
    head = (f"    /¯¯\\\n /¯¯\\__/¯¯\\    Cilium:             {state('cilium')}\n"
            f" \\__/¯¯\\__/    Operator:           {state('cilium-operator')}\n"
            " /¯¯\\__/¯¯\\    Envoy DaemonSet:    disabled (using embedded mode)\n"
            " \\__/¯¯\\__/    Hubble Relay:       disabled\n"
            "    \\__/       ClusterMesh:        disabled\n\n")
    body = "\n".join(lines) + "\n" + "".join(f"Errors: {e}\n" for e in errors)
    return head + body, not errors


def cmd_status(opts: Any) -> int:
    kube = _kube(opts)
    if opts["wait"]:
        ok = chart.wait_ready(kube, opts["namespace"], opts["wait-duration"])
        text, ok = _summary(kube, opts["namespace"])
        if not ok:
            print(text, end="", file=sys.stderr)
            raise Fatal("Unable to determine status:  timeout while waiting for status to become "
                        "successful: context deadline exceeded")
    text, ok = _summary(kube, opts["namespace"])
    if opts["output"] == "json":
        print(json.dumps({"ok": ok}, indent=1))
    else:
        print(text, end="")
    if not ok:
        raise Fail("status check failed: [cilium is not ready]")
    return 0


def _peers(kube: Kube, namespace: str, opts: Any) -> dict[str, list[dict[str, Any]]]:
    query = {"labelSelector": opts["agent-pod-selector"]}
    if opts["node"]:
        query["fieldSelector"] = f"spec.nodeName={opts['node']}"
    try:
        pods = kube.request("GET", f"/api/v1/namespaces/{namespace}/pods", query=query)["items"]
    except KubeError as exc:
        raise Fatal(f"Unable to get peering status: unable to list Cilium pods: {exc}") from None
    nodes = sorted({p["spec"].get("nodeName", "") for p in pods if p["spec"].get("nodeName")})
    groups = (kube.get("/apis/cilium.io") or {}).get("preferredVersion", {}).get("version")
    result: dict[str, list[dict[str, Any]]] = {}
    for node in nodes:
        config = kube.get(f"/apis/cilium.io/{groups}/ciliumbgpnodeconfigs/{node}") if groups else None
        peers = []
        for instance in ((config or {}).get("status") or {}).get("bgpInstances", []):
            for peer in instance.get("peers", []):
                families = [{"afi": r.get("afi", "ipv4"), "safi": r.get("safi", "unicast"),
                             "received": r.get("received", 0), "advertised": r.get("advertised", 0)}
                            for r in peer.get("routeCount", [])] or [
                    {"afi": "ipv4", "safi": "unicast", "received": 0, "advertised": 0}]
                peers.append({"local-asn": instance.get("localASN", 0),
                              "peer-asn": peer.get("peerASN", 0),
                              "peer-address": peer.get("peerAddress", ""),
                              "session-state": peer.get("peeringState", "unknown"),
                              "uptime-nanoseconds": 0, "families": families})
        result[node] = peers
    return result


def cmd_bgp_peers(opts: Any) -> int:
    result = _peers(_kube(opts), opts["namespace"], opts)
    if opts["output"] == "json":
        print(json.dumps(result, indent=1))
        return 0
    rows = [["Node", "Local AS", "Peer AS", "Peer Address", "Session State", "Uptime", "Family",
             "Received", "Advertised"]]
    for node in sorted(result):
        for index, peer in enumerate(sorted(result[node], key=lambda p: p["peer-address"])):
            for fam_index, fam in enumerate(peer["families"]):
                head = [node if index == 0 and fam_index == 0 else ""]
                session = [str(peer["local-asn"]), str(peer["peer-asn"]), peer["peer-address"],
                           peer["session-state"], "0s"] if fam_index == 0 else [""] * 5
                rows.append(head + session + [f"{fam['afi']}/{fam['safi']}", str(fam["received"]),
                                              str(fam["advertised"])])
    widths = [max(len(r[i]) for r in rows) + 3 for i in range(len(rows[0]))]
    for row in rows:
        print("".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return 0
