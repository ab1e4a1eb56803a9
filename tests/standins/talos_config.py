"""Talos machine configuration for the talosctl stand-in: secrets, generation, patches, checks.

Stands in for siderolabs/talos ``pkg/machinery/config`` (v1.13): the secrets bundle written by
``gen secrets`` (secrets.Bundle layout and Validate()), and the v1alpha1 documents written by
``gen config`` (layout of Talos 1.13's ``testdata/stability/v1.13/base-*.yaml``). Patching and
strict decoding live in ``talos_patch``. Certificates are random PEM-shaped bytes, not real
X.509: nothing in the stand-in verifies signatures.
"""

from __future__ import annotations

import base64
import hashlib
import secrets as _rand
import string
from pathlib import Path
from typing import Any

import yaml


class ConfigError(Exception):
    """A configuration problem, worded like the Talos machinery error it imitates."""


# --- YAML in Talos' style (4-space indent, indented sequences) ---------------------------


class TalosDumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump_docs(docs: list[dict[str, Any]]) -> str:
    return "---\n".join(
        yaml.dump(d, Dumper=TalosDumper, indent=4, sort_keys=False, default_flow_style=False) for d in docs
    )


def load_docs(text: str, what: str) -> list[dict[str, Any]]:
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise ConfigError(f"failed to decode {what}: {one_line(exc)}") from None
    for doc in docs:
        if not isinstance(doc, dict):
            raise ConfigError(f"failed to decode {what}: document is not a mapping")
    return docs


def one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


# --- secrets bundle ----------------------------------------------------------------------


def fake_pem(label: str) -> str:
    body = base64.b64encode(_rand.token_bytes(96)).decode()
    pem = f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"
    return base64.b64encode(pem.encode()).decode()


def _pair(key_label: str = "EC PRIVATE KEY") -> dict[str, str]:
    return {"crt": fake_pem("CERTIFICATE"), "key": fake_pem(key_label)}


def _token(a: int, b: int) -> str:
    alphabet = string.ascii_lowercase + string.digits
    pick = lambda n: "".join(_rand.choice(alphabet) for _ in range(n))  # noqa: E731
    return f"{pick(a)}.{pick(b)}"


def new_secrets_bundle() -> dict[str, Any]:
    """A bundle with the layout of ``talosctl gen secrets`` (secrets.Bundle)."""
    return {
        "cluster": {
            "id": base64.urlsafe_b64encode(_rand.token_bytes(32)).decode(),
            "secret": base64.b64encode(_rand.token_bytes(32)).decode(),
        },
        "secrets": {
            "bootstraptoken": _token(6, 16),
            "secretboxencryptionsecret": base64.b64encode(_rand.token_bytes(32)).decode(),
        },
        "trustdinfo": {"token": _token(6, 16)},
        "certs": {
            "etcd": _pair(),
            "k8s": _pair(),
            "k8saggregator": _pair(),
            "k8sserviceaccount": {"key": fake_pem("EC PRIVATE KEY")},
            "os": _pair("ED25519 PRIVATE KEY"),
        },
    }


def load_secrets_bundle(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"failed to load secrets bundle: open {path}: {os_reason(exc)}") from None
    try:
        bundle = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"failed to load secrets bundle: {one_line(exc)}") from None
    problems = _validate_bundle(bundle if isinstance(bundle, dict) else {})
    if problems:
        raise ConfigError("failed to validate secrets bundle: " + multierror(problems))
    return bundle


def _validate_bundle(b: dict[str, Any]) -> list[str]:
    get = lambda *path: dig(b, path)  # noqa: E731
    problems = []
    if not isinstance(b.get("cluster"), dict):
        problems.append("cluster is required")
    else:
        problems += [f"cluster.{k} is required" for k in ("id", "secret") if not get("cluster", k)]
    if not isinstance(b.get("secrets"), dict):
        problems.append("secrets is required")
    elif not get("secrets", "bootstraptoken"):
        problems.append("secrets.bootstraptoken is required")
    if not get("trustdinfo", "token"):
        problems.append("trustdinfo.token is required")
    for name in ("etcd", "k8s", "k8saggregator", "os"):
        if not get("certs", name, "crt") or not get("certs", name, "key"):
            problems.append(f"certs.{name} is required")
    if not get("certs", "k8sserviceaccount", "key"):
        problems.append("certs.k8sserviceaccount is required")
    return problems


def dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def multierror(problems: list[str]) -> str:
    noun = "error" if len(problems) == 1 else "errors"
    return f"{len(problems)} {noun} occurred:\n" + "".join(f"\t* {p}\n" for p in problems) + "\n"


def os_reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def secret_values(bundle: dict[str, Any]) -> list[str]:
    """Every secret string in a bundle (keys, tokens, cluster secret), for leak checks."""
    found: list[str] = []

    def walk(node: Any, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, str) and key != "crt" and node:
            found.append(node)

    walk(bundle, "")
    return found


# --- generation ----------------------------------------------------------------------------


def generate(
    kind: str,
    bundle: dict[str, Any],
    cluster_name: str,
    endpoint: str,
    opts: dict[str, Any],
) -> list[dict[str, Any]]:
    """Machine config documents for ``kind`` (controlplane or worker), Talos 1.13 layout."""
    cp = kind == "controlplane"
    k8s = "v" + opts["kubernetes_version"].lstrip("v")
    certs = bundle["certs"]
    host = endpoint.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    sans = list(opts.get("additional_sans") or [])
    machine: dict[str, Any] = {
        "type": kind,
        "token": bundle["trustdinfo"]["token"],
        "ca": {"crt": certs["os"]["crt"], "key": certs["os"]["key"] if cp else ""},
        "certSANs": sans,
        "kubelet": {
            "image": f"ghcr.io/siderolabs/kubelet:{k8s}",
            "defaultRuntimeSeccompProfileEnabled": True,
            "disableManifestsDirectory": True,
        },
        "install": {
            "disk": opts["install_disk"],
            "image": opts["install_image"],
            "wipe": False,
            "grubUseUKICmdline": True,
        },
        "registries": _mirrors(opts.get("registry_mirrors") or []),
        "features": {
            "diskQuotaSupport": True,
            "kubePrism": {"enabled": True, "port": 7445},
            "hostDNS": {"enabled": True, "forwardKubeDNSToHost": True},
        },
    }
    if not machine["registries"]:
        del machine["registries"]
    if opts.get("with_kubespan"):
        machine["network"] = {"kubespan": {"enabled": True}}
    if cp:
        machine["nodeLabels"] = {"node.kubernetes.io/exclude-from-external-load-balancers": ""}
    cluster: dict[str, Any] = {
        "id": bundle["cluster"]["id"],
        "secret": bundle["cluster"]["secret"],
        "controlPlane": {"endpoint": endpoint},
        "clusterName": cluster_name,
        "network": {
            "dnsDomain": opts["dns_domain"],
            "podSubnets": ["10.244.0.0/16"],
            "serviceSubnets": ["10.96.0.0/12"],
        },
        "token": bundle["secrets"]["bootstraptoken"],
    }
    if cp:
        cluster["secretboxEncryptionSecret"] = bundle["secrets"]["secretboxencryptionsecret"]
    cluster["ca"] = {"crt": certs["k8s"]["crt"], "key": certs["k8s"]["key"] if cp else ""}
    if cp:
        cluster.update(
            {
                "aggregatorCA": dict(certs["k8saggregator"]),
                "serviceAccount": {"key": certs["k8sserviceaccount"]["key"]},
                "apiServer": {
                    "image": f"registry.k8s.io/kube-apiserver:{k8s}",
                    "certSANs": sorted({host, *sans}),
                },
                "controllerManager": {"image": f"registry.k8s.io/kube-controller-manager:{k8s}"},
                "proxy": {"image": f"registry.k8s.io/kube-proxy:{k8s}"},
                "scheduler": {"image": f"registry.k8s.io/kube-scheduler:{k8s}"},
            }
        )
    cluster["discovery"] = {
        "enabled": bool(opts.get("with_cluster_discovery", True)),
        "registries": {"kubernetes": {"disabled": True}, "service": {}},
    }
    if cp:
        cluster["etcd"] = {"ca": dict(certs["etcd"])}
    main = {"version": "v1alpha1", "debug": False, "persist": True, "machine": machine, "cluster": cluster}
    return [main, {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "auto": "stable"}]


def _mirrors(specs: list[str]) -> dict[str, Any]:
    mirrors: dict[str, Any] = {}
    for spec in specs:
        host, sep, url = spec.partition("=")
        if not sep:
            raise ConfigError(f'invalid registry mirror spec: "{spec}"')
        mirrors.setdefault(host, {"endpoints": []})["endpoints"].append(url)
    return {"mirrors": mirrors} if mirrors else {}


def talosconfig(bundle: dict[str, Any], context: str) -> dict[str, Any]:
    """The talosconfig written by gen config: no endpoints, OS CA plus an admin client cert."""
    return {
        "context": context,
        "contexts": {
            context: {
                "endpoints": [],
                "ca": bundle["certs"]["os"]["crt"],
                "crt": fake_pem("CERTIFICATE"),
                "key": fake_pem("ED25519 PRIVATE KEY"),
            }
        },
    }


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
