"""`nativek8s graph` of the reference lab (and a bigger one): every machine, network,
session and planned route is in each format; the SVG is Graphviz's; the HTML renders in a
real headless chromium. Expectations come from the plan, so a machine or route the writers
drop fails here."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from nativek8s.core.errors import UsageError
from nativek8s.core.graph import format_for, graph_of_plan, write
from nativek8s.core.graph.build import machine_id
from nativek8s.core.load import load_topology
from nativek8s.core.plan import Plan, build_plan
from tests import browser
from tests.core.conftest import run_cli
from tests.core.plans import plan_of

SVG_NS = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (install-deps.sh does it)")


def reference() -> Plan:
    return build_plan(load_topology(None)[0])


PLANS = {"reference": reference, "3dc-2nodes": lambda: plan_of(3, 2, name="big")}


def planned_routes(plan: Plan) -> dict[str, set[str]]:
    return {m.name: {str(r.prefix) for r in m.routes} for m in plan.machines}


# --- DOT ------------------------------------------------------------------------------------
def dot_statements(text: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """(node id → its attribute text, [(a, b, attributes)] of edges) of our DOT output."""
    nodes, edges = {}, []
    for line in text.splitlines():
        edge = re.match(r"\s+(\w+) -- (\w+) \[(.*)\];$", line)
        node = re.match(r"\s+(\w+) \[(.*)\];$", line)
        if edge:
            edges.append(edge.groups())
        elif node and node.group(1) not in ("graph", "node", "edge"):
            nodes[node.group(1)] = node.group(2)
    return nodes, edges


@pytest.mark.parametrize("name", PLANS)
def test_dot_has_every_machine_route_network_and_session(name):
    plan = PLANS[name]()
    nodes, edges = dot_statements(write(graph_of_plan(plan), "dot"))
    for m in plan.machines:
        label = nodes[machine_id(m.name)]
        assert f"<b>{m.name}</b>" in label and f"AS {m.asn}" in label
        cells = set(re.findall(r'color="#\w+">([^<]*)</font>', label))
        assert planned_routes(plan)[m.name] <= cells, m.name
        if m.kind == "node":
            assert f"PodCIDR {m.pod_cidr}" in label
    for net in plan.networks:
        if net.kind.value != "wan":
            assert str(net.cidr) in nodes[f"net_{net.key}"]
    sessions = [(a, b, attrs) for a, b, attrs in edges if "dashed" in attrs]
    assert {(a, b) for a, b, _ in sessions} == {
        (machine_id(s.a.machine), machine_id(s.b.machine)) for s in plan.sessions}
    for s, (_, _, attrs) in zip(plan.sessions, sessions, strict=True):
        assert ("iBGP" if s.kind == "ibgp" else "eBGP") in attrs and f"AS {s.a.asn}" in attrs
    links = {(a, b) for a, b, attrs in edges if "dashed" not in attrs}
    for m in plan.machines:
        for i in m.interfaces:
            if i.network != "wan":
                assert {(machine_id(m.name), f"net_{i.network}"),
                        (f"net_{i.network}", machine_id(m.name))} & links, (m.name, i.name)


def test_dot_is_stable_for_the_reference_lab():
    """Same plan, same text: the SVG in docs/ changes only when the plan or writer does."""
    graph = graph_of_plan(reference())
    assert write(graph, "dot") == write(graph_of_plan(reference()), "dot")


# --- Mermaid --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", PLANS)
def test_mermaid_has_every_machine_route_and_session(name):
    plan = PLANS[name]()
    text = write(graph_of_plan(plan), "mermaid")
    lines = text.splitlines()
    assert lines[3] == "flowchart TB"
    for m in plan.machines:
        line = next(ln for ln in lines if ln.strip().startswith(f'{machine_id(m.name)}["'))
        assert f"<b>{m.name}</b>" in line
        for prefix in planned_routes(plan)[m.name]:
            assert f"{prefix} " in line or f"{prefix}<" in line or line.endswith(
                f'{prefix} ({"local"})"]:::nk_node'), (m.name, prefix)
    links = [ln for ln in lines if re.match(r"\s+\w+ (---|-\.-)\|", ln)]
    sessions = [ln for ln in links if "-.-" in ln]
    assert len(sessions) == len(plan.sessions)
    styles = [int(x) for x in re.findall(r"linkStyle (\d+) ", text)]
    # linkStyle counts every link in order: the sessions are the last ones.
    assert styles == list(range(len(links) - len(sessions), len(links)))
    assert text.count("subgraph ") == text.count("\n  end") == len(plan.datacentres)


# --- SVG ------------------------------------------------------------------------------------
def svg_nodes(svg: str) -> dict[str, list[str]]:
    """Graphviz SVG: node title → the texts drawn in it."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(f"{SVG_NS}g"):
        if g.get("class") == "node":
            title = g.findtext(f"{SVG_NS}title")
            out[title] = ["".join(t.itertext()) for t in g.iter(f"{SVG_NS}text")]
    return out


@needs_dot
@pytest.mark.parametrize("name", PLANS)
def test_svg_draws_every_machine_with_its_routes(name):
    plan = PLANS[name]()
    drawn = svg_nodes(write(graph_of_plan(plan), "svg"))
    for m in plan.machines:
        texts = drawn[machine_id(m.name)]
        assert m.name in texts
        assert planned_routes(plan)[m.name] <= set(texts), m.name
    assert {f"net_{n.key}" for n in plan.networks if n.kind.value != "wan"} <= set(drawn)


def test_svg_without_dot_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(UsageError, match="apt-get install graphviz"):
        write(graph_of_plan(reference()), "svg")


# --- formats and the CLI --------------------------------------------------------------------
def test_format_from_extension_or_flag():
    assert [format_for(f"x{e}", None) for e in (".svg", ".HTML", ".dot", ".gv", ".mmd")] == [
        "svg", "html", "dot", "dot", "mermaid"]
    assert format_for(None, None) == "dot" and format_for("x.svg", "mermaid") == "mermaid"
    with pytest.raises(UsageError, match="cannot tell the format from '.png'"):
        format_for("lab.png", None)


def test_cli_bad_extension_exits_2_and_writes_nothing(tmp_path, builtin_registry, isolated):
    result = run_cli(["graph", "-o", str(tmp_path / "lab.png")])
    assert result.exit_code == 2 and "--format" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_live_without_a_lab_exits_2(builtin_registry, isolated):
    result = run_cli(["graph", "--live"])
    assert result.exit_code == 2 and "no lab is deployed" in result.stderr
    assert isolated.untouched()


@needs_dot
def test_cli_writes_each_format(tmp_path, builtin_registry, isolated):
    for ext in ("svg", "html", "dot", "mmd"):
        out = tmp_path / f"lab.{ext}"
        result = run_cli(["graph", "-o", str(out)])
        assert result.exit_code == 0, result.stderr
        assert "m_node_2" in out.read_text()  # Graphviz writes node-2 as node&#45;2
    assert isolated.untouched()
    assert ET.fromstring((tmp_path / "lab.svg").read_text()).tag == f"{SVG_NS}svg"


# --- HTML in a real browser -----------------------------------------------------------------
@needs_dot
@pytest.mark.skipif(browser.missing_reason() is not None, reason=str(browser.missing_reason()))
@pytest.mark.parametrize("name", PLANS)
def test_html_renders_in_chromium_with_every_machine_and_route(name, tmp_path):
    plan = PLANS[name]()
    page = tmp_path / "lab.html"
    page.write_text(write(graph_of_plan(plan), "html"))
    seen = browser.probe_graph_page(page)
    assert seen["svg"][0] > 300 and seen["svg"][1] > 150
    assert seen["external"] == []  # self-contained: nothing to fetch
    for m in plan.machines:
        node = seen["nodes"][machine_id(m.name)]
        assert node["w"] > 50 and node["h"] > 50, m.name
        assert m.name in node["texts"]
        assert planned_routes(plan)[m.name] <= set(node["texts"]), m.name
    rows: dict[str, set[str]] = {}
    for machine, prefix, _ in seen["rows"]:
        rows.setdefault(machine, set()).add(prefix)
    assert rows == planned_routes(plan)


@needs_dot
def test_the_readme_picture_is_the_reference_plan():
    """docs/images/reference-lab.svg (in README.md) draws what the plan says today; after a
    deliberate change: `nativek8s graph -o docs/images/reference-lab.svg`."""
    committed = Path(__file__).resolve().parents[2] / "docs/images/reference-lab.svg"
    fresh = write(graph_of_plan(reference()), "svg")
    assert svg_nodes(committed.read_text()) == svg_nodes(fresh)


# --- live marks, on a routing table made up from the plan (the lab itself: tests/e2e) ------
def test_live_route_marks():
    from ipaddress import IPv4Address, IPv4Network

    from nativek8s.core.graph.live import route_rows
    from nativek8s.core.graph.model import Mark
    from nativek8s.core.observe import KernelRoute

    r1 = reference().machine("router-1")
    seen = [KernelRoute(r.prefix, r.via[:1], r.dev, "bird" if r.via else "kernel")
            for r in r1.routes if str(r.prefix) != "10.244.1.0/24"]  # dc2's pods: lost
    seen = [KernelRoute(r.prefix, (IPv4Address("10.255.0.9"),), r.dev, r.protocol)
            if str(r.prefix) == "10.2.0.0/24" else r for r in seen]  # dc2's LAN: wrong hop
    seen += [KernelRoute(IPv4Network("10.244.9.0/24"), (IPv4Address("10.1.0.10"),), "eth0",
                         "bird"),  # a hijack
             KernelRoute(IPv4Network("169.254.0.0/16"), (), "eth1", "kernel")]
    rows = {r.prefix: r for r in route_rows(r1, seen, learned=frozenset({"bird"}))}
    assert rows["10.244.1.0/24"].mark == Mark.failed
    assert rows["10.244.1.0/24"].observed == "no route"
    assert rows["10.2.0.0/24"].mark == Mark.failed and "10.255.0.9" in rows["10.2.0.0/24"].observed
    assert rows["10.244.0.0/24"].mark == Mark.ok and rows["10.244.0.0/24"].via == "10.1.0.10"
    assert rows["10.244.9.0/24"].mark == Mark.unexpected
    assert rows["169.254.0.0/16"].mark == Mark.extra
    assert list(rows)[:len(r1.routes)] == [str(r.prefix) for r in r1.routes]  # plan's order


def test_cli_which_lab(builtin_registry, isolated, tmp_path):
    """LAB draws a deployed lab's saved plan; -f FILE that file's; the lab rule's errors."""
    from nativek8s.core.engine.state import LabState

    plan = plan_of(2, 1, name="saved")
    LabState(plan.lab).save_plan(plan)
    saved = run_cli(["graph", "saved", "--format", "mermaid"])
    assert saved.exit_code == 0 and "title: lab saved:" in saved.stdout
    unknown = run_cli(["graph", "nosuch"])
    assert unknown.exit_code == 2 and "no lab named 'nosuch'" in unknown.stderr
    topo = tmp_path / "lab.yaml"
    topo.write_text("name: other\ndatacentres:\n  dc1:\n    lan: 10.1.0.0/24\n    nodes:\n"
                    "      n1: {role: controlplane}\n")
    drawn = run_cli(["graph", "-f", str(topo), "--format", "mermaid"])
    assert drawn.exit_code == 0 and "title: lab other:" in drawn.stdout
    live = run_cli(["graph", "-f", str(topo), "--live"])
    assert live.exit_code == 2 and "not deployed" in live.stderr
