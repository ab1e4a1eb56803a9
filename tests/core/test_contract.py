"""The plugin contract: every built-in plugin conforms to its kind's base class, the docs
list every member and hook as the code declares them, the kinds are defined once, and
per-plugin options reach plugins from the topology and the command line."""

from __future__ import annotations

import inspect
import textwrap
import types
from pathlib import Path

import pytest

from nativek8s import api
from nativek8s.core import hooks, kinds
from nativek8s.core.contract_doc import END, START, reference, replace_reference
from nativek8s.core.errors import PluginError, UsageError
from nativek8s.core.kinds import KIND_LIST, interface_members
from nativek8s.core.observe import Observer
from nativek8s.core.plan import Composition
from nativek8s.core.registry import Registry, make_plugin_manager
from nativek8s.core.topology import PluginChoice

from .conftest import ROOT, run_cli

DOCS = ROOT / "docs" / "plugins.md"
REGENERATE = "python -m nativek8s.core.contract_doc docs/plugins.md"


def test_docs_reference_is_generated_from_the_code():
    page = DOCS.read_text()
    assert START in page and END in page
    assert replace_reference(page) == page, f"docs/plugins.md is stale: run `{REGENERATE}`"


@pytest.mark.parametrize("interface", [k.interface for k in KIND_LIST] + [Observer],
                         ids=lambda c: c.__name__)
def test_every_interface_member_is_documented(interface: type):
    text = reference()
    for member in interface_members(interface):
        owner = "Plugin" if member in interface_members(api.Plugin) else interface.__name__
        assert f"`{owner}.{member}`" in text, (interface, member)
        doc = inspect.getdoc(getattr(interface, member, None))
        if callable(getattr(interface, member, None)):
            assert doc, f"{interface.__name__}.{member} has no docstring"


def test_every_hook_is_documented():
    specs = [n for n in vars(hooks) if n.startswith("nativek8s_")]
    assert set(specs) >= {k.hook for k in KIND_LIST}
    for name in specs:
        assert f"`{name}`" in DOCS.read_text()
        assert inspect.getdoc(getattr(hooks, name))


def test_kinds_are_defined_once():
    names = [k.name for k in KIND_LIST]
    assert list(PluginChoice.model_fields) == names
    assert set(names) <= set(Composition.model_fields)
    assert kinds.KINDS == tuple(names) == api.KINDS


def _overrides(obj: object, interface: type) -> list[str]:
    return [m for m in interface_members(interface)
            if callable(getattr(interface, m, None))
            and getattr(type(obj), m) is not getattr(interface, m)]


def test_builtin_plugins_conform(builtin_registry: Registry):
    """Each built-in subclasses its kind's base class, defines every required member, and
    every member it overrides takes the base's parameters, in order, with the same defaults."""
    seen = set()
    for registered in builtin_registry.all():
        kind = kinds.KIND_BY_NAME[registered.kind]
        obj = builtin_registry.create(kind.name, registered.name)
        assert isinstance(obj, kind.interface)
        assert kinds.missing_members(obj, kind.interface) == []
        for member in _overrides(obj, kind.interface):
            base = inspect.signature(getattr(kind.interface, member))
            mine = inspect.signature(getattr(type(obj), member))
            assert [(p.name, p.default) for p in mine.parameters.values()][:len(
                base.parameters)] == [(p.name, p.default) for p in base.parameters.values()], (
                registered.name, member)
        seen.add(registered.name)
    assert seen >= {"netns", "libvirt", "proxmox", "openwrt", "talos", "cilium"}


def test_an_object_not_subclassing_its_kind_is_refused():
    class Duck:
        name = "duck"

        def bgp_daemon(self, router: object) -> None: ...

        def bgp_sessions(self, router: object, access: object) -> list[object]:
            return []

    class Plugin:
        @api.hookimpl
        def nativek8s_router_oses(self) -> list[api.RouterOSSpec]:
            return [api.RouterOSSpec(name="duck", factory=Duck)]  # type: ignore[arg-type]

    reg = Registry(make_plugin_manager([Plugin()]))
    with pytest.raises(PluginError, match=r"router OS plugin 'duck' \(in-process\) made a Duck, "
                                          r"which does not subclass nativek8s.api.RouterOS"):
        reg.create("router", "duck")


def test_unsupported_optional_members_name_plugin_and_member():
    class Bare(api.NodeOS):
        name = "bare"

    with pytest.raises(api.Unsupported) as err:
        Bare().deploy_steps(None)  # type: ignore[arg-type]
    assert str(err.value) == ("the node OS plugin 'bare' cannot deploy on real machines (it "
                              "does not implement deploy_steps)")
    assert api.CNI.cluster_checks(Bare(), None) is None  # type: ignore[arg-type]


# --- per-plugin options ----------------------------------------------------------------

def _ctx(tmp_path: Path, extras: dict[str, dict[str, str]], options: str = "") -> api.LabContext:
    from nativek8s.core.load import load_topology
    from nativek8s.core.plan import build_plan

    topo = tmp_path / "lab.yaml"
    topo.write_text("name: opts\ndatacentres:\n  dc1:\n    nodes:\n      n1: {role: controlplane}\n"
                    + options)
    plan = build_plan(load_topology(str(topo))[0])
    ctx = api.LabContext.of(plan, api.LabState(plan.lab, root=tmp_path / "state"))
    ctx.extras = extras
    return ctx


def test_options_come_from_the_topology_then_the_command_line(tmp_path: Path, builtin_registry):
    from nativek8s.plugins.hypervisors.netns.options import NetnsOptions

    topo = "options:\n  netns: {speaker: bird, probe_port: 9000}\n"
    assert _ctx(tmp_path, {}, topo).options("netns", NetnsOptions).speaker == "bird"
    ctx = _ctx(tmp_path, {"netns": {"speaker": "gobgp"}}, topo)
    opts = ctx.options("netns", NetnsOptions)
    assert (opts.speaker, opts.probe_port) == ("gobgp", 9000)
    with pytest.raises(UsageError, match=r"-O netns\.speaker: Input should be 'gobgp' or 'bird'"):
        _ctx(tmp_path, {"netns": {"speaker": "frr"}}).options("netns", NetnsOptions)
    with pytest.raises(UsageError, match=r"-O netns\.colour: Extra inputs are not permitted"):
        _ctx(tmp_path, {"netns": {"colour": "red"}}).options("netns", NetnsOptions)


@pytest.mark.parametrize("value", ["speaker=bird", "netns.speaker", ".x=1", "netns.=1"])
def test_malformed_plugin_option_is_a_usage_error(value: str, builtin_registry, isolated):
    result = run_cli(["doctor", "-O", value])
    assert result.exit_code == 2
    assert "expected PLUGIN.KEY=VALUE" in result.stderr
    assert isolated.untouched()


def test_plugin_option_for_a_plugin_not_in_the_lab(builtin_registry, isolated):
    result = run_cli(["doctor", "-O", "frr.speaker=bird"])
    assert result.exit_code == 2
    assert "-O frr.…: no plugin named 'frr' in this lab; its plugins are cilium, netns, " \
           "openwrt, talos" in result.stderr
    assert isolated.untouched()


# --- the examples in the base classes' docstrings ---------------------------------------

def _example(cls: type) -> str:
    """The code block of a class docstring (the indented lines after its `::`)."""
    doc = inspect.getdoc(cls) or ""
    _, sep, rest = doc.partition("::\n")
    assert sep, f"{cls.__name__} has no example"
    lines = []
    for line in rest.splitlines():
        if line and not line.startswith(" "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


@pytest.mark.parametrize("kind", KIND_LIST, ids=lambda k: k.name)
def test_docstring_example_is_a_working_plugin(kind: kinds.Kind, tmp_path: Path):
    from nativek8s.core.load import load_topology
    from nativek8s.core.plan import build_plan

    module = types.ModuleType(f"example_{kind.name}")
    code = compile(_example(kind.interface), f"<{kind.interface.__name__} docstring>", "exec")
    exec(code, module.__dict__)  # noqa: S102 - the documented example, run as written
    reg = Registry(make_plugin_manager([module]))
    name = next(n for n in reg.names(kind.name) if reg.get(kind.name, n).module == module.__name__)
    plugin = reg.create(kind.name, name)  # subclass, every required member defined
    plan = build_plan(load_topology(None)[0])
    state = api.LabState(plan.lab, root=tmp_path)
    list(plugin.render(api.RenderContext(plan, state.secrets(plan))))
    if isinstance(plugin, api.CNI):
        assert [i.node for i in plugin.bgp_intent(plan)] == [n.name for n in plan.nodes]
    if isinstance(plugin, api.Hypervisor):
        ctx = api.LabContext.of(plan, state)
        for step in plugin.deploy_steps(ctx):
            assert step.run() == "recorded"
        assert {m.state for m in plugin.observer(ctx).machines()} == {"running"}
        assert len(plugin.destroy(ctx)) == len(plan.machines)
    if isinstance(plugin, api.NodeOS):
        ctx = api.LabContext.of(plan, state)
        assert plugin.boot_media(ctx, plan.nodes[0]).iso is not None
        with pytest.raises(api.NativeK8sError, match="not answering"):
            plugin.deploy_steps(ctx)[0].run()


def test_contexts_give_each_datacentre_its_hypervisor(builtin_registry, tmp_path: Path):
    from nativek8s.core.compose import select

    ctx = _ctx(tmp_path, {})
    ctx.plugins = select(ctx.plan, builtin_registry)
    hypervisor = ctx.hypervisor_for("dc1")
    assert hypervisor is not None and hypervisor.name == "netns"
    assert api.RenderContext(ctx.plan, ctx.secrets).hypervisor_for("dc1") is None
    assert ctx.plugins.router.name == "openwrt"
    with pytest.raises(api.NativeK8sError, match="this render context has no router plugin"):
        api.RenderContext(ctx.plan, ctx.secrets).plugins.router  # noqa: B018


def test_a_bad_plugin_option_value_on_the_command_line(builtin_registry, isolated):
    result = run_cli(["doctor", "-O", "netns.speaker=frr"])
    assert result.exit_code == 2
    assert "bad plugin option: -O netns.speaker: Input should be 'gobgp' or 'bird'" \
        in result.stderr
    assert isolated.untouched()
