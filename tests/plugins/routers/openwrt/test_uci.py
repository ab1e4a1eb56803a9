"""/etc/config/network and /etc/config/dhcp, from the plan."""

from __future__ import annotations

from nativek8s.plugins.routers.openwrt.templating import uci_quote

from .topologies import THREE_DCS, TWO_ROUTERS_ONE_DC
from .uci_reader import named, of_type, read_uci


def test_network_lan_bridge_wan_dhcp_and_peering_static(render_lab):
    lab = render_lab(THREE_DCS)
    for router in lab.plan.routers:
        net = read_uci(lab.text(router.name, "/etc/config/network"))
        lan_if = router.interface(router.datacentre)
        bridge = [d for d in of_type(net, "device") if d.get("type") == "bridge"]
        assert len(bridge) == 1 and bridge[0].get("name") == "br-lan"
        assert bridge[0].lists["ports"] == [lan_if.name]
        lan = named(net, "interface", "lan")
        assert (lan.get("device"), lan.get("proto")) == ("br-lan", "static")
        assert lan.lists["ipaddr"] == [str(router.lan_address)]
        wan = named(net, "interface", "wan")
        assert (wan.get("device"), wan.get("proto")) == (router.interface("wan").name, "dhcp")
        peering = named(net, "interface", "peering")
        assert peering.get("device") == router.interface("peering").name
        assert peering.lists["ipaddr"] == [str(router.peering_address)]


def test_dhcp_binds_each_nodes_mac_to_its_address(render_lab):
    lab = render_lab(THREE_DCS)
    for router in lab.plan.routers:
        dhcp = read_uci(lab.text(router.name, "/etc/config/dhcp"))
        assert of_type(dhcp, "dnsmasq")[0].get("localservice") == "0"
        hosts = {(h.get("name"), h.get("mac"), h.get("ip")) for h in of_type(dhcp, "host")}
        expected = {
            (n.name, n.interface(n.datacentre).mac, str(n.address.ip))
            for n in lab.plan.nodes if n.datacentre == router.datacentre
        }
        assert hosts == expected and len(hosts) == 2
        lan = named(dhcp, "dhcp", "lan")
        assert lan.get("dynamicdhcp") == "0" and lan.get("ignore") is None
        for other in ("wan", "peering"):
            assert named(dhcp, "dhcp", other).get("ignore") == "1"


def test_only_the_lans_gateway_router_serves_dhcp(render_lab):
    lab = render_lab(TWO_ROUTERS_ONE_DC)
    gateway = lab.plan.network("dc1").gateway
    serving = []
    for name in ("r1a", "r1b"):
        dhcp = read_uci(lab.text(name, "/etc/config/dhcp"))
        if named(dhcp, "dhcp", "lan").get("ignore") != "1":
            serving.append(name)
            assert [h.get("name") for h in of_type(dhcp, "host")] == ["node-1"]
        else:
            assert of_type(dhcp, "host") == []
    assert serving == ["r1a"] and lab.plan.machine("r1a").lan_address.ip == gateway


def test_rendered_files_paths_targets_and_machines(render_lab):
    lab = render_lab(None)
    for router in lab.plan.routers:
        mine = {f.target: f for f in lab.files if f.machine == router.name}
        assert set(mine) == {"/etc/config/network", "/etc/config/firewall",
                             "/etc/config/dhcp", "/etc/bird.conf", "/etc/config/dropbear",
                             "/etc/dropbear/authorized_keys",
                             "/etc/uci-defaults/80-nativek8s-root-password"}
        for target, f in mine.items():
            assert f.path == f"{router.name}{target}"


def test_uci_quote_escapes_single_quotes():
    assert uci_quote("plain") == "'plain'"
    assert uci_quote("it's") == "'it'\\''s'"
