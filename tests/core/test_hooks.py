"""Hook specifications: documented like pytest's, and each exercised by a test_hook_<name>."""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from pathlib import Path

import pytest

from nativek8s.core import hooks
from nativek8s.core.compose import select
from nativek8s.core.errors import TopologyError
from nativek8s.core.load import load_topology
from nativek8s.core.plan import build_plan

from .conftest import DATA, run_cli
from .sample_plugins import SAMPLE_COMPOSITION, SampleHypervisor, SampleRouter

HOOKSPECS = sorted(
    name for name, obj in vars(hooks).items()
    if callable(obj) and hasattr(obj, f"{hooks.PROJECT}_spec")
)
THREE_DC = DATA / "topologies" / "three-dc.yaml"


def test_there_are_hookspecs():
    assert "nativek8s_validate_topology" in HOOKSPECS and len(HOOKSPECS) >= 5


@pytest.mark.parametrize("name", HOOKSPECS)
def test_hookspec_is_documented(name: str):
    spec = getattr(hooks, name)
    doc = inspect.getdoc(spec) or ""
    assert doc.splitlines() and doc.splitlines()[0].endswith("."), "needs a one-line summary"
    assert ":param" in doc or ":return:" in doc
    for param in inspect.signature(spec).parameters:
        assert f":param {param}:" in doc, f"{name}: parameter {param} is not documented"
    assert "Example::" in doc
    example = textwrap.dedent(doc.split("Example::", 1)[1]).strip("\n")
    tree = ast.parse(example)  # the example is real Python
    defined = [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    assert name in defined, f"{name}: the example should implement the hook"


def _test_names() -> set[str]:
    names: set[str] = set()
    for file in Path(__file__).parent.glob("test_*.py"):
        tree = ast.parse(file.read_text())
        names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    return names


@pytest.mark.parametrize("name", HOOKSPECS)
def test_hookspec_has_a_test(name: str):
    # datasette's rule: a hook nobody tests is a hook that silently breaks.
    assert f"test_hook_{name}" in _test_names()


def test_hook_nativek8s_hypervisors(sample_registry, isolated):
    found = sample_registry.get("hypervisor", "sample-hv")
    assert found.distribution == "in-process" and "nativek8s_hypervisors" in found.hooks
    assert isinstance(sample_registry.create("hypervisor", "sample-hv"), SampleHypervisor)
    # A datacentre may use another hypervisor than the lab's default.
    topo, _ = load_topology(None, sample_registry, router="sample-router", nodeos="sample-os",
                            cni="sample-cni")
    dcs = {**topo.datacentres}
    dcs["dc2"] = dcs["dc2"].model_copy(update={"hypervisor": "sample-hv"})
    plan = build_plan(topo.model_copy(update={"datacentres": dcs}))
    assert plan.composition.datacentre_hypervisors == {"dc1": "netns", "dc2": "sample-hv"}
    selected = select(plan, sample_registry)
    assert isinstance(selected.hypervisor_for(plan, "dc2"), SampleHypervisor)
    assert selected.hypervisor_for(plan, "dc1").name == "netns"


def test_hook_nativek8s_router_oses(sample_registry, isolated):
    result = run_cli(["plan", "--router", "sample-router", "-o", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["composition"]["router"] == "sample-router"
    assert isinstance(sample_registry.create("router", "sample-router"), SampleRouter)
    assert "sample-router (in-process)" in sample_registry.choices("router")


def test_hook_nativek8s_node_oses(sample_registry, isolated, tmp_path: Path):
    out = tmp_path / "out"
    result = run_cli(["render", "-f", str(THREE_DC), "--out", str(out), *SAMPLE_COMPOSITION])
    assert result.exit_code == 0, result.output
    for node in ("cp-1", "worker-1", "worker-5"):
        assert (out / "sample-os" / f"{node}.conf").read_text().startswith("10.")


def test_hook_nativek8s_cnis(sample_registry):
    result = run_cli(["plugins", "-o", "json"])
    rows = {r["name"]: r for r in json.loads(result.stdout)["plugins"]}
    assert rows["sample-cni"]["kind"] == "cni"
    assert rows["sample-cni"]["distribution"] == "in-process"
    assert "nativek8s_cnis" in rows["sample-cni"]["hooks"]
    assert sample_registry.create("cni", "sample-cni").bgp_intent(None) == []


def test_hook_nativek8s_validate_topology(sample_registry, tmp_path: Path):
    topo = tmp_path / "slow.yaml"
    topo.write_text(THREE_DC.read_text().replace("bgp:\n", "bgp:\n  hold_time: 90\n"))
    with pytest.raises(TopologyError) as err:
        load_topology(str(topo), sample_registry, router="sample-router")
    [problem] = err.value.problems
    assert problem.path == "bgp.hold_time" and "30 s or less" in problem.message
    assert problem.line == topo.read_text().splitlines().index("  hold_time: 90") + 1
    # Another router: the sample plugin has nothing to say.
    load_topology(str(topo), sample_registry)
    # Core problems come first: plugins only see topologies core accepts.
    bad = tmp_path / "bad.yaml"
    bad.write_text(topo.read_text().replace("name: three", "name: Three"))
    with pytest.raises(TopologyError) as err:
        load_topology(str(bad), sample_registry, router="sample-router")
    assert [p.path for p in err.value.problems] == ["name"]


def test_hook_nativek8s_doctor_checks(sample_registry, isolated):
    """A plugin's findings: doctor lists them with every other one and exits 2; deploy runs
    the same checks first and refuses the same way, leaving no state. (sample-router cannot
    run on netns, so the lab is on sample-hv, where the real node OS and CNI check too.)"""
    doctor = run_cli(["doctor", "--router", "sample-router", "--hypervisor", "sample-hv"])
    assert doctor.exit_code == 2, doctor.output
    assert "warn sample-router: router images: none cached" in doctor.stderr
    assert ("FAIL sample-router: sample-routerctl: sample-routerctl is not on PATH: install "
            "it") in doctor.stderr
    assert "cannot be deployed from this host: " in doctor.stderr
    assert doctor.stdout == ""  # not "ready"
    deploy = run_cli(["deploy", "--router", "sample-router", "--hypervisor", "sample-hv"])
    assert deploy.exit_code == 2
    assert "sample-routerctl is not on PATH" in deploy.stderr
    assert not isolated.state.exists()  # refused before anything was made
    # Another router: the sample plugin has nothing to say.
    other = run_cli(["doctor", "-v"])
    assert "sample-router" not in other.stderr


def test_hook_example_names_match_kinds():
    # Registration examples construct the descriptor their hook returns.
    for name, descriptor in [("nativek8s_hypervisors", "HypervisorSpec"),
                             ("nativek8s_router_oses", "RouterOSSpec"),
                             ("nativek8s_node_oses", "NodeOSSpec"),
                             ("nativek8s_cnis", "CNISpec")]:
        doc = inspect.getdoc(getattr(hooks, name)) or ""
        assert re.search(rf"\b{descriptor}\(", doc), name
