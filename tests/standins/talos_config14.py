"""Talos 1.14 machine configuration for the talosctl stand-in: the multi-document layout.

Stands in for siderolabs/talos v1.14.0-rc.1 ``pkg/machinery/config/generate`` (``init.go``,
``kubernetes.go``, ``network.go``; layout of ``testdata/stability/v1.14/base-*.yaml``) and
for the container checks of ``pkg/machinery/config/container``: documents only allowed on
control planes (``ControlplaneOnlyConfig``) and documents that conflict with the v1alpha1
fields they replace (``V1Alpha1ConflictValidate``). Certificates are random PEM-shaped
bytes, as in ``talos_config``.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.standins import talos_config as tc

# container.ControlplaneOnlyConfig implementations at v1.14.0-rc.1 (types/k8s)
CONTROLPLANE_ONLY = frozenset({
    "KubeAdmissionControlConfig", "KubeAggregatorCAConfig", "KubeAPIServerConfig",
    "KubeAuditPolicyConfig", "KubeAuthenticationConfig", "KubeAuthorizerConfig",
    "KubeControllerManagerConfig", "KubeCoreDNSConfig", "KubeEtcdEncryptionConfig",
    "KubeFlannelCNIConfig", "KubeProxyConfig", "KubeSchedulerConfig",
    "KubeServiceAccountConfig", "KubeTalosAPIAccessConfig",
})
# document kind -> v1alpha1 field it replaces (V1Alpha1ConflictValidate), as a path
CONFLICTS = {
    "UnattendedInstallConfig": ("machine", "install"),
    "KubeNetworkConfig": ("cluster", "network"),
    "KubeProxyConfig": ("cluster", "proxy"),
    "KubeNodeConfig": ("machine", "nodeLabels"),
    "KubeClusterConfig": ("cluster", "controlPlane"),
}
_DEV_PATH = re.compile(r'^disk\.dev_path\s*==\s*"([^"]+)"$')


def _doc(kind: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1alpha1", "kind": kind, **fields}


def _pem(label: str) -> str:
    return base64.b64decode(tc.fake_pem(label)).decode()


def generate(kind: str, bundle: dict[str, Any], cluster_name: str, endpoint: str,
             opts: dict[str, Any]) -> list[dict[str, Any]]:
    """Machine config documents for ``kind`` (controlplane or worker), Talos 1.14 layout."""
    cp = kind == "controlplane"
    k8s = "v" + opts["kubernetes_version"].lstrip("v")
    certs = bundle["certs"]
    main: dict[str, Any] = {
        "version": "v1alpha1", "debug": False, "persist": True,
        "machine": {"type": kind, "token": bundle["trustdinfo"]["token"],
                    "ca": {"crt": certs["os"]["crt"], "key": certs["os"]["key"] if cp else ""},
                    "certSANs": list(opts.get("additional_sans") or []),
                    "features": {"diskQuotaSupport": True}},
        "cluster": {"token": bundle["secrets"]["bootstraptoken"]},
    }
    if cp:
        main["cluster"]["etcd"] = {"ca": dict(certs["etcd"])}
    docs = [main]
    if opts.get("with_cluster_discovery", True):
        docs.append(_doc("DiscoveryServiceConfig", name="default",
                         endpoint="https://discovery.talos.dev/"))
    docs.append(_doc("DiscoveryIdentityConfig", clusterID=bundle["cluster"]["id"],
                     clusterSecret=bundle["cluster"]["secret"]))
    if opts.get("install_disk"):
        docs.append(_doc("UnattendedInstallConfig",
                         installer={"image": opts["install_image"]},
                         provisioning={"diskSelector": {
                             "match": f'disk.dev_path == "{opts["install_disk"]}"'},
                             "wipe": False}))
    docs += [
        _doc("ResolverConfig", hostDNS={"enabled": True, "forwardKubeDNSToHost": True}),
        _doc("VolumeConfig", name="EPHEMERAL", mount={"secure": True}),
        _doc("FilesystemTrimConfig", interval="168h0m0s"),
        _doc("SecurityProfileConfig", workloadIsolation=True),
        _doc("HostnameConfig", auto="stable"),
        _doc("KubeClusterConfig", clusterName=cluster_name, endpoint=endpoint),
    ]
    node: dict[str, Any] = {"nodeIP": {}}
    if cp:
        role = "node-role.kubernetes.io/control-plane"
        node["labels"] = {role: "", "node.kubernetes.io/exclude-from-external-load-balancers": ""}
        node["taints"] = {role: "NoSchedule"}
    k8s_ca = _pem("CERTIFICATE")
    docs += [
        _doc("KubeNodeConfig", **node),
        _doc("KubeletConfig", image=f"ghcr.io/siderolabs/kubelet:{k8s}", config={},
             defaultRuntimeSeccompProfileEnabled=True),
        _doc("KubeNetworkConfig", dnsDomain=opts["dns_domain"], podSubnets=["10.244.0.0/16"],
             serviceSubnets=["10.96.0.0/12"]),
        _doc("KubeAPIServerCAConfig", **({"issuingCA": {"cert": k8s_ca,
                                                        "key": _pem("EC PRIVATE KEY")}}
                                         if cp else {"acceptedCAs": [k8s_ca]})),
        _doc("KubePrismConfig", port=7445),
    ]
    if cp:
        docs += _controlplane_docs(bundle, endpoint, k8s)
    return docs


def _controlplane_docs(bundle: dict[str, Any], endpoint: str, k8s: str) -> list[dict[str, Any]]:
    secretbox = {"secretbox": {"keys": [
        {"name": "key2", "secret": bundle["secrets"]["secretboxencryptionsecret"]}]}}
    return [
        _doc("KubeAggregatorCAConfig", issuingCA={"cert": _pem("CERTIFICATE"),
                                                  "key": _pem("EC PRIVATE KEY")}),
        _doc("KubeAuthorizerConfig", name="node", type="Node"),
        _doc("KubeAuthorizerConfig", name="rbac", type="RBAC"),
        _doc("KubeEtcdEncryptionConfig", config={"resources": [
            {"providers": [secretbox], "resources": ["secrets"]}]}),
        _doc("KubeServiceAccountConfig", issuer={"privateKey": _pem("EC PRIVATE KEY"),
                                                 "issuerURL": endpoint}),
        _doc("KubeAPIServerConfig", image=f"registry.k8s.io/kube-apiserver:{k8s}"),
        _doc("KubeControllerManagerConfig", image=f"registry.k8s.io/kube-controller-manager:{k8s}"),
        _doc("KubeSchedulerConfig", image=f"registry.k8s.io/kube-scheduler:{k8s}", config={}),
        _doc("KubeProxyConfig", image=f"registry.k8s.io/kube-proxy:{k8s}", config={}),
        _doc("KubeFlannelCNIConfig", backendType="vxlan", backendPort=4789),
        _doc("KubeCoreDNSConfig", enabled=True),
    ]


def multidoc(docs: list[dict[str, Any]]) -> bool:
    """Whether a config has the 1.14 layout (cluster settings in KubeClusterConfig)."""
    return any(d.get("kind") == "KubeClusterConfig" for d in docs)


def container_problems(docs: list[dict[str, Any]]) -> list[str]:
    """Control-plane-only kinds on a worker, documents beside the fields they replace, and
    the UnattendedInstallConfig's own Validate()."""
    main = next((d for d in docs if "kind" not in d), {})
    problems = []
    machine_type = tc.dig(main, ("machine", "type"))
    kinds = sorted({d["kind"] for d in docs if d.get("kind") in CONTROLPLANE_ONLY})
    if kinds and machine_type not in {"controlplane", "init"}:
        problems.append("the following document kinds are only allowed on control plane "
                        f"machines: [{' '.join(kinds)}]")
    for doc in docs:
        path = CONFLICTS.get(doc.get("kind", ""))
        if path and tc.dig(main, path) is not None:
            problems.append(f"{doc['kind']} document conflicts with .{'.'.join(path)} in "
                            "v1alpha1 config, please remove it to avoid conflicts")
        if doc.get("kind") == "UnattendedInstallConfig" and not tc.dig(
                doc, ("provisioning", "diskSelector", "match")):
            problems.append("provisioning.diskSelector.match is required")
    return problems


def summary(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The 1.14 places of what the simulation keeps of an applied config."""
    by_kind = {d.get("kind"): d for d in docs if "kind" in d}
    cluster = by_kind.get("KubeClusterConfig", {})
    ca = by_kind.get("KubeAPIServerCAConfig", {})
    install = by_kind.get("UnattendedInstallConfig", {})
    match = _DEV_PATH.match(str(tc.dig(install, ("provisioning", "diskSelector", "match")) or ""))
    k8s_ca = tc.dig(ca, ("issuingCA", "cert")) or (ca.get("acceptedCAs") or [""])[0]
    return {
        "cluster": cluster.get("clusterName"),
        "cluster_id": tc.fingerprint(str(tc.dig(by_kind.get("DiscoveryIdentityConfig", {}),
                                                ("clusterID",)))),
        "endpoint": cluster.get("endpoint"),
        "k8s_ca_crt": base64.b64encode(k8s_ca.encode()).decode(),
        "cni": "flannel" if "KubeFlannelCNIConfig" in by_kind else "none",
        "install_disk": match.group(1) if match else None,
        "install_image": tc.dig(install, ("installer", "image")),
        "labels": dict(by_kind.get("KubeNodeConfig", {}).get("labels") or {}),
        "taints": dict(by_kind.get("KubeNodeConfig", {}).get("taints") or {}),
        # without the document Talos falls back to v1alpha1's (absent in 1.14): unknown here
        "proxy": by_kind["KubeProxyConfig"].get("enabled", True)
        if "KubeProxyConfig" in by_kind else None,
    }
