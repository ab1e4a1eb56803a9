"""Node BGP speakers from the CNI's BGP intent: GoBGP (what Cilium embeds) or BIRD."""

from __future__ import annotations

from nativek8s.api import SecretStore, SpeakerIntent


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def gobgp_config(intent: SpeakerIntent, secrets: SecretStore) -> str:
    """gobgpd TOML. It listens on 179 too (Cilium only dials out) so the router's first
    connect attempt succeeds at once; the router's config is the same either way."""
    lines = [
        "[global.config]",
        f"  as = {intent.local_asn}",
        f"  router-id = {_q(str(intent.router_id))}",
        "  port = 179",
        f"  local-address-list = [{_q(str(intent.router_id))}]",
    ]
    for peer in intent.peers:
        lines += [
            "", "[[neighbors]]", "  [neighbors.config]",
            f"    neighbor-address = {_q(str(peer.address))}",
            f"    peer-as = {peer.asn}",
        ]
        if peer.md5_secret:
            lines.append(f"    auth-password = {_q(secrets.get(peer.md5_secret))}")
        lines += [
            "  [neighbors.timers.config]",
            f"    connect-retry = {peer.connect_retry}",
            f"    hold-time = {peer.hold_time}",
            f"    keepalive-interval = {peer.keepalive_time}",
            "  [[neighbors.afi-safis]]", "    [neighbors.afi-safis.config]",
            '      afi-safi-name = "ipv4-unicast"',
        ]
    return "\n".join(lines) + "\n"


def bird_config(intent: SpeakerIntent, secrets: SecretStore) -> str:
    """A light node speaker: BIRD announcing the PodCIDR (unreachable route, no kernel)."""
    nets = ", ".join(str(p) for p in intent.prefixes)
    lines = [
        f"router id {intent.router_id};",
        "protocol device { }",
        "protocol static pods {",
        "  ipv4;",
        *(f"  route {p} unreachable;" for p in intent.prefixes),
        "}",
    ]
    for i, peer in enumerate(intent.peers):
        lines += [
            f"protocol bgp peer{i} {{",
            f"  local {intent.router_id} as {intent.local_asn};",
            f"  neighbor {peer.address} as {peer.asn};",
            f"  hold time {peer.hold_time};",
            f"  keepalive time {peer.keepalive_time};",
            f"  connect retry time {peer.connect_retry};",
            "  connect delay time 1;",
            "  error wait time 1, 5;",
        ]
        if peer.md5_secret:
            lines.append(f"  password {_q(secrets.get(peer.md5_secret))};")
        lines += [
            "  ipv4 {",
            "    import none;",
            f"    export where net ~ [ {nets} ];" if nets else "    export none;",
            "  };",
            "}",
        ]
    return "\n".join(lines) + "\n"
