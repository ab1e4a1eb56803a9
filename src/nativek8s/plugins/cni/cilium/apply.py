"""Putting the plan on the cluster: the nodes' ``dc`` labels, the MD5 Secret and the BGP
resources, by server-side apply as field manager ``nativek8s``.

Every step is an ensure. Labels already right are not written (Talos sets them at boot, and
a second owner would be noise). The Secret and BGP resources are nativek8s's own: when
another manager changed a field, apply reports the conflict (409) and nativek8s takes the
field back with ``force`` and says so. Node labels are not forced: a node labelled for
another datacentre is a contradiction to resolve, so the error names who set it.
Resources of this lab that the plan no longer has (a removed datacentre) are deleted.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from nativek8s.api import MD5_SECRET, NativeK8sError, Plan, SecretStore

from .bgp_resources import dc_resources
from .kube import ApplyConflict, Kube, KubeError, MissingKind
from .labels import LAB
from .node_labels import kube_node_name
from .options import options_of
from .peering import NODE_LABEL, dc_peerings
from .secret import md5_secret
from .versions import BgpApi, BgpFlavour, bgp_api

GROUP = "cilium.io"
BGPV2_KINDS = ("CiliumBGPAdvertisement", "CiliumBGPPeerConfig", "CiliumBGPClusterConfig")
POLICY_KINDS = ("CiliumBGPPeeringPolicy",)


@dataclass
class Outcome:
    """What an apply run did, for the step's note."""

    created: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    taken_over: list[str] = field(default_factory=list)  # "kubectl: .spec.x of Kind name"

    def note(self) -> str:
        parts = [f"{n} {word}" for n, word in ((self.created, "created"),
                 (self.changed, "changed"), (self.unchanged, "unchanged"),
                 (self.deleted, "deleted")) if n]
        if self.taken_over:
            parts.append("took back from other managers: " + "; ".join(self.taken_over))
        return ", ".join(parts) or "nothing to do"


def _owner_of_label(node: dict[str, Any], label: str) -> str:
    for entry in node["metadata"].get("managedFields") or []:
        labels = ((entry.get("fieldsV1") or {}).get("f:metadata") or {}).get("f:labels") or {}
        if f"f:{label}" in labels:
            return str(entry.get("manager", "unknown"))
    return "unknown"


def ensure_node_labels(kube: Kube, plan: Plan) -> str:
    """Every planned node carries ``dc=<its datacentre>``."""
    outcome, missing = Outcome(), []
    for node in plan.nodes:
        name, dc = kube_node_name(node), node.datacentre
        live = kube.get("v1", "Node", name)
        if live is None:
            missing.append(name)
            continue
        have = (live["metadata"].get("labels") or {}).get(NODE_LABEL)
        if have == dc:
            outcome.unchanged += 1
            continue
        if have is not None:
            raise NativeK8sError(
                f"node {name} is labelled {NODE_LABEL}={have} (set by "
                f"{_owner_of_label(live, NODE_LABEL)}), but the plan puts it in datacentre "
                f"{dc}: its BGP sessions would go to {have}'s routers; fix the node's label "
                f"source (the node OS configuration) or the topology")
        kube.apply({"apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": name, "labels": {NODE_LABEL: dc}}})
        outcome.changed += 1
    if missing:
        known = sorted(n["metadata"]["name"] for n in kube.list("v1", "Node"))
        raise NativeK8sError(
            f"node{'s' if len(missing) > 1 else ''} {', '.join(missing)} not registered in "
            f"Kubernetes (it knows {', '.join(known) or 'no node'}): a node registers when "
            "its kubelet starts; check the node OS, and that Kubernetes names nodes "
            "<lab>-<name>")
    return outcome.note()


def require_kinds(kube: Kube, api: BgpApi, kinds: tuple[str, ...], version: str) -> None:
    """Refuse clearly when the cluster does not serve the kinds the plan's Cilium takes."""
    for kind in kinds:
        try:
            kube.resource(api.api_version, kind)
            continue
        except MissingKind:
            served = kube.served_versions(GROUP, kind)  # only to say what is there instead
        if api.api_version in served:
            continue  # registered meanwhile (the operator was just starting)
        if not served:
            raise NativeK8sError(
                f"Cilium CRDs missing: is Cilium ≥1.16 installed? The API serves no {kind} "
                f"({api.api_version}); Cilium's operator registers its CRDs when it starts")
        raise NativeK8sError(
            f"the API serves {kind} only as {', '.join(served)}, but versions.cilium "
            f"{version} takes {api.api_version}: the installed Cilium is another release "
            "than the plan's; install the planned one or change versions.cilium")


def secret_object(password: str, lab: str) -> dict[str, Any]:
    """The MD5 Secret as applied: ``data`` (base64), not the rendered ``stringData``,
    whose ownership server-side apply cannot track."""
    obj = md5_secret(password, lab)
    string_data = obj.pop("stringData")
    obj["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in string_data.items()}
    return obj


def _apply_one(kube: Kube, obj: dict[str, Any], outcome: Outcome) -> None:
    meta = obj["metadata"]
    before = kube.get(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace", ""))
    try:
        after = kube.apply(obj)
    except ApplyConflict as conflict:
        fields = ", ".join(f"{m}: {f}" for m, f in conflict.conflicts) or conflict.message
        outcome.taken_over.append(f"{fields} of {obj['kind']} {meta['name']}")
        after = kube.apply(obj, force=True)
    if before is None:
        outcome.created += 1
    elif after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]:
        outcome.changed += 1
    else:
        outcome.unchanged += 1


def _prune(kube: Kube, api: BgpApi, kinds: tuple[str, ...], lab: str,
           wanted: set[tuple[str, str]], outcome: Outcome) -> None:
    for kind in kinds:
        for obj in kube.list(api.api_version, kind, label_selector=f"{LAB}={lab}"):
            if (kind, obj["metadata"]["name"]) not in wanted:
                outcome.deleted += kube.delete(api.api_version, kind, obj["metadata"]["name"])


def apply_bgp(kube: Kube, plan: Plan, secrets: SecretStore) -> str:
    """The MD5 Secret (if any) and every datacentre's BGP resources; a note."""
    version = plan.versions["cilium"]
    api = bgp_api(version, options_of(plan).peering_policy)
    kinds = POLICY_KINDS if api.flavour == BgpFlavour.peering_policy else BGPV2_KINDS
    require_kinds(kube, api, kinds, version)
    objects = [r for dc in dc_peerings(plan) for r in dc_resources(dc, api, plan.lab)]
    if plan.md5:
        objects.insert(0, secret_object(secrets.get(MD5_SECRET), plan.lab))
    outcome = Outcome()
    for obj in objects:
        try:
            _apply_one(kube, obj, outcome)
        except KubeError as exc:
            raise NativeK8sError(f"{exc} (applying {len(objects)} objects: "
                                 f"{outcome.note()} before this one)") from None
    wanted = {(o["kind"], o["metadata"]["name"]) for o in objects}
    _prune(kube, api, kinds, plan.lab, wanted, outcome)
    return outcome.note()
