"""/etc/config/firewall in its two modes: strict (default) and open (the article's)."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from nativek8s.core.errors import TopologyError

from .topologies import OPEN_FIREWALL, REFLECTED, THREE_DCS
from .uci_reader import Section, of_type, read_uci

FIREWALL = "/etc/config/firewall"


def zones(sections: list[Section]) -> dict[str, Section]:
    return {z.get("name"): z for z in of_type(sections, "zone")}


def rules(sections: list[Section]) -> dict[str, Section]:
    return {r.get("name"): r for r in of_type(sections, "rule")}


def forwardings(sections: list[Section]) -> set[tuple[str, str]]:
    return {(f.get("src"), f.get("dest")) for f in of_type(sections, "forwarding")}


def planned_peers(plan, router: str, kind: str) -> set[IPv4Address]:
    return {s.sides(router)[1].address for s in plan.sessions_of(router) if s.kind == kind}


@pytest.mark.parametrize("yaml_text", [None, THREE_DCS, REFLECTED], ids=["ref", "3dc", "rr"])
def test_strict_accepts_bgp_only_from_planned_peers(yaml_text, render_lab):
    lab = render_lab(yaml_text)
    for router in lab.plan.routers:
        fw = read_uci(lab.text(router.name, FIREWALL))
        by_name = rules(fw)
        for zone, kind in (("lan", "ebgp"), ("peering", "ibgp")):
            rule = by_name[f"Allow-BGP-{zone}"]
            assert (rule.get("src"), rule.get("proto"), rule.get("dest_port")) == (
                zone, "tcp", "179")
            assert rule.get("target") == "ACCEPT"
            assert {IPv4Address(a) for a in rule.lists["src_ip"]} == planned_peers(
                lab.plan, router.name, kind)
        bgp_rules = [r for r in by_name.values() if r.get("dest_port") == "179"]
        assert len(bgp_rules) == 2


def test_strict_zones_policies_masquerade_and_forwardings(render_lab):
    fw = read_uci(render_lab(None).text("router-1", FIREWALL))
    z = zones(fw)
    assert set(z) == {"lan", "wan", "peering"}
    assert all(zone.get("input") == "REJECT" for zone in z.values())
    assert [n for n, zone in z.items() if zone.get("masq") == "1"] == ["wan"]
    # firewall4 keeps its NAT-leak protection (drop "ct state invalid" leaving a masquerading
    # zone) unless masq_allow_invalid is set: strict sets it nowhere
    assert [n for n, zone in z.items() if zone.get("masq_allow_invalid")] == []
    assert z["wan"].lists["network"] == ["wan", "wan6"]
    assert forwardings(fw) == {("lan", "peering"), ("peering", "lan"), ("lan", "wan")}
    defaults = of_type(fw, "defaults")[0]
    assert (defaults.get("input"), defaults.get("forward")) == ("REJECT", "REJECT")


def test_strict_services_from_lan_only(render_lab):
    by_name = rules(read_uci(render_lab(None).text("router-1", FIREWALL)))
    dhcp, dns, ssh = by_name["Allow-DHCP"], by_name["Allow-DNS"], by_name["Allow-SSH"]
    assert (dhcp.get("src"), dhcp.get("proto"), dhcp.get("dest_port")) == ("lan", "udp", "67")
    assert (dns.get("src"), dns.get("proto"), dns.get("dest_port")) == ("lan", "tcp udp", "53")
    assert (ssh.get("src"), ssh.get("proto"), ssh.get("dest_port")) == ("lan", "tcp", "22")
    assert {r.get("src") for r in by_name.values() if r.get("proto") == "icmp"} == {
        "lan", "peering", "wan"}
    from_wan = {n for n, r in by_name.items() if r.get("src") == "wan"}
    assert from_wan == {"Allow-DHCP-Renew", "Allow-Ping", "Allow-DHCPv6", "Allow-ICMPv6-Input"}
    assert not any(r.get("dest_port") == "22" and r.get("src") == "wan" for r in by_name.values())


def test_ssh_from_wan_option(render_lab):
    lab = render_lab("""
name: sshwan
options: {openwrt: {ssh_from_wan: true}}
datacentres:
  dc1: {nodes: {node-1: {role: controlplane}}}
""")
    rule = rules(read_uci(lab.text("router-1", FIREWALL)))["Allow-SSH-WAN"]
    assert (rule.get("src"), rule.get("dest_port"), rule.get("target")) == ("wan", "22", "ACCEPT")


def test_open_is_the_articles_zones(render_lab):
    fw = read_uci(render_lab(OPEN_FIREWALL).text("router-1", FIREWALL))
    z = zones(fw)
    for zone in z.values():
        assert (zone.get("input"), zone.get("output"), zone.get("forward")) == ("ACCEPT",) * 3
        assert zone.get("masq_allow_invalid") == "1"
    assert z["wan"].get("masq") == "1" and z["wan"].get("mtu_fix") == "1"
    assert z["lan"].get("masq") is None and z["peering"].get("masq") is None
    assert z["peering"].lists["network"] == ["peering"]
    assert {("lan", "peering"), ("peering", "lan")} <= forwardings(fw)
    assert of_type(fw, "rule") == []


def test_strict_and_open_differ_only_where_documented(render_lab, tmp_path):
    strict = read_uci(render_lab(OPEN_FIREWALL.replace("firewall: open", "firewall: strict"))
                      .text("router-1", FIREWALL))
    opened = read_uci(render_lab(OPEN_FIREWALL).text("router-1", FIREWALL))
    assert forwardings(strict) == forwardings(opened)
    assert set(zones(strict)) == set(zones(opened))
    for name in ("lan", "peering"):
        assert zones(strict)[name].get("input") == "REJECT"
        assert zones(opened)[name].get("input") == "ACCEPT"
    assert rules(strict) and not rules(opened)


def test_firewall_mode_per_datacentre(render_lab):
    lab = render_lab("""
name: mixed
datacentres:
  dc1:
    nodes: {node-1: {role: controlplane}}
  dc2:
    nodes: {node-2: {}}
    options: {openwrt: {firewall: open}}
""")
    assert zones(read_uci(lab.text("router-1", FIREWALL)))["lan"].get("input") == "REJECT"
    assert zones(read_uci(lab.text("router-2", FIREWALL)))["lan"].get("input") == "ACCEPT"


def test_unknown_firewall_mode_or_option_is_refused(render_lab):
    with pytest.raises(TopologyError) as caught:
        render_lab("""
name: bad
options: {openwrt: {firewall: closed, colour: red}}
datacentres:
  dc1: {nodes: {node-1: {role: controlplane}}}
""")
    message = str(caught.value)
    assert "options.openwrt.firewall" in message and "options.openwrt.colour" in message
