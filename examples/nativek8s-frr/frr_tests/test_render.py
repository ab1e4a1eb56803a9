"""frr.conf and daemons for every router: FRR's own parser accepts them, and they say what
the plan says (sessions, filters, reflection, next hops, MD5, timers)."""

from __future__ import annotations

import pytest
from nativek8s.api import MD5_SECRET, DaemonPaths, RenderContext, SecretStore, UsageError

from nativek8s_frr.frr import DAEMONS, FRR_CONF, Frr, sections

from .conftest import REFERENCE, THREE_DC_RR, dryrun, plan_of


@pytest.mark.parametrize("text", [REFERENCE, THREE_DC_RR], ids=["reference", "three-dc-rr"])
def test_every_router_config_passes_frrs_own_parser(render, tmp_path, text):
    plan, files = render(text)
    assert {m for m, _ in files} == {r.name for r in plan.routers}
    for router in plan.routers:
        conf = files[(router.name, FRR_CONF)].content
        proc = dryrun(conf, tmp_path)
        assert proc.returncode == 0, f"{router.name}: {proc.stdout}{proc.stderr}"
        assert "bgpd=yes" in files[(router.name, DAEMONS)].content


def test_the_parser_refuses_a_broken_config(tmp_path):
    """The check above can fail: a password of two words is not FRR syntax."""
    proc = dryrun("router bgp 65000\n neighbor 10.0.0.1 remote-as 65001\n"
                  " neighbor 10.0.0.1 password two words\n", tmp_path)
    assert proc.returncode != 0
    assert "password two words" in proc.stdout + proc.stderr


def test_reference_router_takes_exactly_its_nodes_podcidr_from_the_node(render):
    plan, files = render(REFERENCE)
    conf = files[("router-1", FRR_CONF)].content
    node = plan.machine("node-1")
    assert f"ip prefix-list nk-node-1-in seq 5 permit {node.pod_cidr}\n" in conf
    lists = [ln for ln in conf.splitlines() if ln.startswith("ip prefix-list")]
    assert not [ln for ln in lists if " le " in ln or " ge " in ln]  # no more-specifics
    assert f"ip prefix-list nk-node-1-next-hop seq 5 permit {node.address.ip}/32" in conf
    assert "route-map nk-node-1-out deny 10" in conf  # nothing sent to the node
    assert f"neighbor {node.address.ip} route-map nk-node-1-in in" in conf
    assert f"neighbor {node.address.ip} soft-reconfiguration inbound" in conf
    assert "neighbor 10.255.0.2 next-hop-self" in conf  # iBGP: our nodes' routes via us
    assert "route-reflector-client" not in conf  # two routers: full mesh
    assert " password " not in conf
    assert f"network {plan.network(plan.datacentre('dc1').lan).cidr}" in conf
    assert f"set src {plan.machine('router-1').source_address}" in conf
    assert files[("router-1", FRR_CONF)].secret is False


def test_three_datacentres_reflect_routes_with_md5_and_the_topologys_timers(render, tmp_path):
    plan, files = render(THREE_DC_RR)
    reflectors = [r for r in plan.routers if r.route_reflector]
    assert reflectors, "the lab is meant to use route reflectors"
    password = SecretStore(tmp_path / "secrets").get(MD5_SECRET)
    for router in plan.routers:
        f = files[(router.name, FRR_CONF)]
        assert f.secret is True  # written 0600
        for session in plan.sessions_of(router.name):
            local, remote = session.sides(router.name)
            assert f" neighbor {remote.address} remote-as {remote.asn}\n" in f.content
            assert f" neighbor {remote.address} description {session.name}\n" in f.content
            assert f" neighbor {remote.address} password {password}\n" in f.content
            assert f" neighbor {remote.address} timers 10 30\n" in f.content
            client = remote.reflector_client and not local.reflector_client
            assert (f"neighbor {remote.address} route-reflector-client" in f.content) == client
    clients = [r for r in plan.routers if not r.route_reflector]
    for client in clients:
        assert "route-reflector-client" not in files[(client.name, FRR_CONF)].content


def test_a_password_frr_cannot_hold_is_refused_naming_the_secret(tmp_path):
    secrets = SecretStore(tmp_path / "secrets")
    secrets.put(MD5_SECRET, "two words")
    plan = plan_of(THREE_DC_RR)
    with pytest.raises(UsageError, match="whitespace"):
        Frr().render(RenderContext(plan=plan, secrets=secrets))


def test_namespace_daemon_runs_zebra_then_bgpd_in_the_routers_own_folder(render, tmp_path):
    plan, files = render(THREE_DC_RR)
    router = plan.routers[0]
    paths = DaemonPaths(router.name, tmp_path / "state", tmp_path / "run")
    answer = Frr().namespace_daemon(router, [f for (m, _), f in files.items()
                                             if m == router.name], paths)
    assert [p.name for p in answer.processes] == ["zebra", "bgpd"]
    folder = paths.run("frr")
    assert answer.control_socket == str(folder)
    assert answer.owner == "frr"
    for f in answer.files:
        assert f.path.parent == folder and f.secret  # MD5: 0600 where netns writes it
    zebra, bgpd = (f.content for f in answer.files)
    assert "set src" in zebra and "router bgp" not in zebra
    assert "router bgp" in bgpd and "set src" not in bgpd
    for proc in answer.processes:
        assert str(folder / f"{proc.name}.conf") in proc.argv and proc.ready is not None
        assert proc.ready.parent == folder


def test_sections_give_each_daemon_the_head_and_its_own_part():
    conf = "hostname r\n!! zebra\nip protocol bgp route-map x\n!! bgpd\nrouter bgp 1\n"
    assert sections(conf) == {"zebra": "hostname r\nip protocol bgp route-map x\n",
                              "bgpd": "hostname r\nrouter bgp 1\n"}


def test_render_is_stable(render):
    _, first = render(THREE_DC_RR)
    _, again = render(THREE_DC_RR)
    assert {k: f.content for k, f in first.items()} == {k: f.content for k, f in again.items()}

