"""The BGP intent, and proof that it agrees with the rendered Cilium resources."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

import pytest
import yaml

from nativek8s.api import MD5_SECRET, RenderContext, SpeakerIntent
from nativek8s.plugins.cni.cilium.cilium import Cilium
from tests.plugins.cni.cilium.cilium_plans import make_plan, three_dc, with_cilium


def test_reference_intent():
    plan = make_plan()
    intents = Cilium().bgp_intent(plan)
    assert [i.node for i in intents] == ["node-1", "node-2"]
    one = intents[0]
    assert (one.router_id, one.local_asn, one.listen) == (IPv4Address("10.1.0.10"), 65001, False)
    assert one.prefixes == (IPv4Network("10.244.0.0/24"),)
    (peer,) = one.peers
    assert (peer.address, peer.asn, peer.hold_time, peer.keepalive_time, peer.connect_retry,
            peer.md5_secret) == (IPv4Address("10.1.0.1"), 65000, 9, 3, 5, None)
    assert intents[1].peers[0].address == IPv4Address("10.2.0.1")


def test_three_dc_intent_with_md5():
    plan = three_dc(md5=True)
    intents = {i.node: i for i in Cilium().bgp_intent(plan)}
    assert set(intents) == {n.name for n in plan.nodes}
    assert [str(p.address) for p in intents["node-2"].peers] == ["10.1.0.1", "10.1.0.2"]
    assert {p.md5_secret for i in intents.values() for p in i.peers} == {MD5_SECRET}
    assert len({i.prefixes for i in intents.values()}) == len(intents)
    for node in plan.nodes:
        assert intents[node.name].prefixes == (node.pod_cidr,)
        assert intents[node.name].router_id == node.address.ip


# --- agreement between intent and resources ------------------------------------------------

def _rendered(plan, tmp_path):
    from nativek8s.core.secrets import SecretStore

    files = Cilium().render(RenderContext(plan=plan, secrets=SecretStore(tmp_path / "s")))
    docs = []
    for f in files:
        if f.path.startswith("bgp/") or f.path in ("bgp-secret.yaml", "node-labels.yaml"):
            docs += [d for d in yaml.safe_load_all(f.content) if d]
    return docs


def _selects(selector: dict, labels: dict) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels selectors are checked here"
    return selector.get("matchLabels", {}).items() <= labels.items()


Seen = dict[tuple[str, int], tuple[int, int, int, str | None]]  # (addr, AS) → timers, secret


def _policy_view(policy: dict) -> tuple[int, bool, bool, Seen, list[str]]:
    """(local AS, listens, exports PodCIDR, peers) of a CiliumBGPPeeringPolicy."""
    (router,) = policy["spec"]["virtualRouters"]
    seen: Seen = {}
    for n in router["neighbors"]:
        seen[(n["peerAddress"].removesuffix("/32"), n["peerASN"])] = (
            n.get("holdTimeSeconds", 90), n.get("keepAliveTimeSeconds", 30),
            n.get("connectRetryTimeSeconds", 120), n.get("authSecretRef"))
    return router["localASN"], False, router.get("exportPodCIDR", False), seen, []


def _bgpv2_view(config: dict, kinds: dict[str, list[dict]]) -> tuple[int, bool, bool, Seen,
                                                                      list[str]]:
    """The same for a CiliumBGPClusterConfig, following its peer configs and advertisements."""
    (instance,) = config["spec"]["bgpInstances"]
    peer_configs = {d["metadata"]["name"]: d for d in kinds.get("CiliumBGPPeerConfig", [])}
    seen: Seen = {}
    problems: list[str] = []
    exported = True
    for p in instance["peers"]:
        pc = peer_configs.get(p["peerConfigRef"]["name"])
        if pc is None:
            problems.append(f"peer {p['name']} refers to a missing peer config")
            continue
        t = pc["spec"].get("timers", {})
        seen[(p["peerAddress"], p["peerASN"])] = (
            t.get("holdTimeSeconds", 90), t.get("keepAliveTimeSeconds", 30),
            t.get("connectRetryTimeSeconds", 120), pc["spec"].get("authSecretRef"))
        types = set()
        for fam in pc["spec"].get("families", []):
            if (fam["afi"], fam["safi"]) != ("ipv4", "unicast"):
                continue
            for adv in kinds.get("CiliumBGPAdvertisement", []):
                if _selects(fam.get("advertisements", {}), adv["metadata"]["labels"]):
                    types |= {a["advertisementType"] for a in adv["spec"]["advertisements"]}
        if types != {"PodCIDR"}:
            problems.append(f"peer {p['name']} is sent {sorted(types) or 'nothing'}")
            exported = False
    return instance["localASN"], "localPort" in instance, exported, seen, problems


def disagreements(plan, intents: list[SpeakerIntent], docs: list[dict]) -> list[str]:
    """How the intent differs from what Cilium would do with the rendered resources."""
    out: list[str] = []
    kinds: dict[str, list[dict]] = {}
    for d in docs:
        kinds.setdefault(d["kind"], []).append(d)
    node_labels = {d["metadata"]["name"]: d["metadata"]["labels"] for d in kinds.get("Node", [])}
    secrets = {d["metadata"]["name"] for d in kinds.get("Secret", [])}
    if {i.node for i in intents} != {n.name for n in plan.nodes}:
        out.append(f"intents for {sorted(i.node for i in intents)}, plan has "
                   f"{sorted(n.name for n in plan.nodes)}")
    for intent in intents:
        node = plan.machine(intent.node)
        labels = node_labels.get(node.resource_name, {})
        where = f"{intent.node}:"
        if intent.router_id != node.address.ip:
            out.append(f"{where} router id {intent.router_id}; Cilium uses the node address")
        configs = [d for d in kinds.get("CiliumBGPClusterConfig", []) +
                   kinds.get("CiliumBGPPeeringPolicy", [])
                   if _selects(d["spec"].get("nodeSelector", {}), labels)]
        if len(configs) != 1:
            out.append(f"{where} selected by {len(configs)} BGP configs")
            continue
        view = (_policy_view(configs[0]) if configs[0]["kind"] == "CiliumBGPPeeringPolicy"
                else _bgpv2_view(configs[0], kinds))
        local_asn, listens, exported, seen, problems = view
        out += [f"{where} {p}" for p in problems]
        if local_asn != intent.local_asn:
            out.append(f"{where} local AS {intent.local_asn}, resources {local_asn}")
        if listens != intent.listen:
            out.append(f"{where} listen={intent.listen}, resources listen={listens}")
        wanted = {(str(p.address), p.asn): p for p in intent.peers}
        if set(wanted) != set(seen):
            out.append(f"{where} peers {sorted(wanted)}, resources {sorted(seen)}")
        for key in set(wanted) & set(seen):
            p, (hold, keepalive, retry, secret_ref) = wanted[key], seen[key]
            if (p.hold_time, p.keepalive_time, p.connect_retry) != (hold, keepalive, retry):
                out.append(f"{where} peer {key[0]} timers differ")
            if (p.md5_secret is None) != (secret_ref is None):
                out.append(f"{where} peer {key[0]} md5 {p.md5_secret!r} vs {secret_ref!r}")
            elif secret_ref is not None and secret_ref not in secrets:
                out.append(f"{where} peer {key[0]}: Secret {secret_ref} is not rendered")
        advertised = (node.pod_cidr,) if exported else ()
        if intent.prefixes != advertised:
            out.append(f"{where} exports {intent.prefixes}, Cilium advertises {advertised}")
    return out


CASES = {
    "reference-1.18": lambda: make_plan(),
    "reference-1.16": lambda: make_plan(with_cilium("1.16.0")),
    "three-dc-md5-1.17": lambda: three_dc(md5=True, **with_cilium("1.17.0")),
    "three-dc-md5-1.19": lambda: three_dc(md5=True, **with_cilium("1.19.0")),
    "three-dc-md5-policy-1.16": lambda: three_dc(
        md5=True, **with_cilium("1.16.0", peering_policy=True)),
    "three-dc-policy-1.18": lambda: three_dc(**with_cilium("1.18.0", peering_policy=True)),
}


@pytest.mark.parametrize("case", CASES)
def test_intent_agrees_with_the_resources(case, tmp_path):
    plan = CASES[case]()
    assert disagreements(plan, Cilium().bgp_intent(plan), _rendered(plan, tmp_path)) == []


def test_the_agreement_check_finds_differences(tmp_path):
    plan = three_dc(md5=True)
    docs = _rendered(plan, tmp_path)
    intents = Cilium().bgp_intent(plan)
    first = intents[0]
    peer = first.peers[0]
    mutated = [
        first.model_copy(update={"local_asn": 65002}),
        first.model_copy(update={"listen": True}),
        first.model_copy(update={"prefixes": (*first.prefixes, IPv4Network("10.99.0.0/24"))}),
        first.model_copy(update={"peers": (peer.model_copy(update={"asn": 65009}),
                                           *first.peers[1:])}),
        first.model_copy(update={"peers": (peer.model_copy(update={"hold_time": 30}),
                                           *first.peers[1:])}),
        first.model_copy(update={"peers": (peer.model_copy(update={"md5_secret": None}),
                                           *first.peers[1:])}),
        first.model_copy(update={"peers": first.peers[1:]}),
    ]
    for bad in mutated:
        assert disagreements(plan, [bad, *intents[1:]], docs), bad
    assert disagreements(plan, intents[1:], docs)  # a node without intent
    no_adverts = [d for d in docs if d["kind"] != "CiliumBGPAdvertisement"]
    found = disagreements(plan, intents, no_adverts)
    assert "node-1: peer router-1a is sent nothing" in found
    no_secret = [d for d in docs if d["kind"] != "Secret"]
    assert any("Secret nativek8s-bgp-md5 is not rendered" in f
               for f in disagreements(plan, intents, no_secret))
    unlabelled = [d for d in docs if d["kind"] != "Node"]
    assert "node-1: selected by 0 BGP configs" in disagreements(plan, intents, unlabelled)
