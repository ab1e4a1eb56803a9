"""bird.conf as rendered for every kind of lab: accepted by a real BIRD 2 (`bird -p`), and
saying what the plan says."""

from __future__ import annotations

import re

import pytest

from nativek8s.api import MD5_SECRET

from .topologies import MD5, REFLECTED, THREE_DCS, TWO_ROUTERS_ONE_DC

BIRD_CONF = "/etc/bird.conf"
VARIANTS = {
    "reference": None, "three-dcs": THREE_DCS, "reflected": REFLECTED, "md5": MD5,
    "two-routers-one-dc": TWO_ROUTERS_ONE_DC,
}


def protocol_block(conf: str, name: str) -> str:
    match = re.search(rf"^protocol bgp '{re.escape(name)}' \{{\n(.*?)^\}}", conf, re.M | re.S)
    assert match, f"no protocol {name} in bird.conf"
    return match.group(1)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_router_config_passes_bird_parse(variant, render_lab, bird_check):
    lab = render_lab(VARIANTS[variant])
    for router in lab.plan.routers:
        result = bird_check(lab.text(router.name, BIRD_CONF))
        assert result.returncode == 0, f"{variant}/{router.name}: {result.stderr or result.stdout}"


def test_bird_parse_rejects_a_broken_config(render_lab, bird_check):
    """The check above can fail: a filter without its final accept/reject is refused."""
    conf = render_lab(None).text("router-1", BIRD_CONF)
    broken = conf.replace("krt_prefsrc = 10.1.0.1;", "krt_prefsrc = 10.1.0.1")
    assert bird_check(broken).returncode != 0


@pytest.mark.parametrize("variant", VARIANTS)
def test_one_bgp_protocol_per_planned_session(variant, render_lab):
    lab = render_lab(VARIANTS[variant])
    for router in lab.plan.routers:
        conf = lab.text(router.name, BIRD_CONF)
        names = re.findall(r"^protocol bgp '([^']+)'", conf, re.M)
        assert sorted(names) == sorted(s.name for s in lab.plan.sessions_of(router.name))


def test_reference_router_globals(render_lab):
    lab = render_lab(None)
    router = lab.plan.machine("router-1")
    conf = lab.text("router-1", BIRD_CONF)
    assert f"router id {router.router_id};" in conf
    assert f"krt_prefsrc = {router.source_address};" in conf
    assert "route 10.1.0.0/24 unreachable;" in conf
    # the kernel never gets the aggregate nor a connected network
    assert 'if proto = "lan_aggregate" then reject;' in conf
    assert "if net ~ [ 10.1.0.0/24, 10.255.0.0/24 ] then reject;" in conf
    # logs to stderr, never to a host path or syslog
    assert re.findall(r"^log .*$", conf, re.M) == ["log stderr all;"]


def test_ibgp_is_direct_and_sets_next_hop_self_for_ebgp_routes_only(render_lab):
    lab = render_lab(THREE_DCS)
    for router in lab.plan.routers:
        conf = lab.text(router.name, BIRD_CONF)
        for session in lab.plan.sessions_of(router.name):
            block = protocol_block(conf, session.name)
            local, remote = session.sides(router.name)
            assert f"local {local.address} as {local.asn};" in block
            assert f"neighbor {remote.address} as {remote.asn};" in block
            assert f"hold time {session.hold_time};" in block
            assert f"keepalive time {session.keepalive_time};" in block
            assert f"connect retry time {session.connect_retry};" in block
            assert "graceful restart aware;" in block
            if session.kind == "ibgp":
                assert "  direct;" in block
                assert "next hop self ebgp;" in block
                assert "export filter to_routers;" in block
                assert "passive" not in block
            else:
                assert "direct;" not in block
                assert "export none;" in block
                # The router dials nodes too: Cilium refuses (it only dials out, and BIRD
                # accepts that), an emulated node answers at once.
                assert "passive" not in block


def test_ebgp_import_filter_takes_only_the_nodes_podcidr(render_lab):
    lab = render_lab(THREE_DCS)
    conf = lab.text("router-2", BIRD_CONF)
    node = lab.plan.machine("dc2-node-2")
    block = protocol_block(conf, "router-2--dc2-node-2")
    assert (f"if net ~ [ {node.pod_cidr} ] && bgp_next_hop = {node.address.ip} then accept;"
            in block)
    assert "import all" not in block
    others = [n.pod_cidr for n in lab.plan.nodes if n.name != node.name]
    assert not any(str(p) in block for p in others)


def test_route_reflectors_mark_their_clients(render_lab):
    lab = render_lab(REFLECTED)
    reflectors = [r for r in lab.plan.routers if r.route_reflector]
    clients = [r for r in lab.plan.routers if not r.route_reflector]
    assert len(reflectors) == 2 and len(clients) == 4
    for rr in reflectors:
        conf = lab.text(rr.name, BIRD_CONF)
        for session in lab.plan.sessions_of(rr.name):
            if session.kind != "ibgp":
                continue
            _, remote = session.sides(rr.name)
            block = protocol_block(conf, session.name)
            assert ("rr client;" in block) == remote.reflector_client
    for client in clients:
        conf = lab.text(client.name, BIRD_CONF)
        assert "rr client" not in conf
        ibgp = [s for s in lab.plan.sessions_of(client.name) if s.kind == "ibgp"]
        assert {s.sides(client.name)[1].machine for s in ibgp} == {r.name for r in reflectors}


def test_md5_password_from_the_secret_store_and_file_marked_secret(render_lab):
    lab = render_lab(MD5)
    password = lab.secrets.get(MD5_SECRET, generate=False)
    for router in lab.plan.routers:
        bird = lab.file(router.name, BIRD_CONF)
        assert bird.secret
        blocks = [protocol_block(bird.content, s.name) for s in lab.plan.sessions_of(router.name)]
        assert all(f'password "{password}";' in b for b in blocks)
        for target in ("/etc/config/network", "/etc/config/firewall", "/etc/config/dhcp"):
            assert password not in lab.text(router.name, target)


def test_no_password_and_not_secret_without_md5(render_lab):
    lab = render_lab(None)
    bird = lab.file("router-1", BIRD_CONF)
    assert not bird.secret and "password" not in bird.content


def test_password_bird_cannot_hold_is_refused_without_echoing_it(render_lab, tmp_path):
    from nativek8s.core.errors import UsageError

    (tmp_path / "secrets").mkdir(mode=0o700)
    (tmp_path / "secrets" / MD5_SECRET).write_text('se"cret')
    with pytest.raises(UsageError) as caught:
        render_lab(MD5)
    assert "se\"cret" not in str(caught.value) and "double quote" in str(caught.value)


def test_bgp_daemon_names_bird2_and_its_config(render_lab):
    from nativek8s.plugins.routers.openwrt.openwrt import Openwrt

    lab = render_lab(None)
    daemon = Openwrt().bgp_daemon(lab.plan.routers[0])
    assert daemon.kind == "bird2" and daemon.config_target == BIRD_CONF
    assert {f.target for f in lab.files if f.machine == "router-1"} >= {BIRD_CONF}
