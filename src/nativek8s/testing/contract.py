"""The plugin contract, as checks: each takes a plugin by name and returns what is broken
(messages that say what to fix), or raises :class:`Skip` when it cannot apply here.

``nativek8s plugins check NAME`` runs them; :class:`nativek8s.testing.PluginContract` runs
them from a plugin's own pytest suite.
"""

from __future__ import annotations

import os
import secrets as _random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..core.errors import NativeK8sError, Problem, TopologyError
from ..core.kinds import KINDS, implements
from ..core.load import load_topology
from ..core.plan import MD5_SECRET, Plan
from ..core.registry import KIND_TITLES, Registered, Registry
from ..core.topology import Topology
from .labs import NO_SUCH_OPTION, THREE_DC_RR


class Skip(Exception):
    """The check does not apply to this plugin or cannot run on this host (the reason)."""


@dataclass
class Subject:
    """The plugin under check, and a scratch folder for the labs it renders."""

    registry: Registry
    found: Registered
    work: Path
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.found.name

    @property
    def kind(self) -> str:
        return self.found.kind

    def create(self) -> Any:
        return self.registry.create(self.kind, self.name)

    def topology_file(self, text: str, stem: str) -> Path:
        path = self.work / f"{stem}.yaml"
        path.write_text(text)
        return path

    def labs(self) -> dict[str, str | None]:
        """Lab label → topology file (None: the built-in reference lab)."""
        rr = self.topology_file(THREE_DC_RR.format(name="rr" + _random.token_hex(2)), "rr")
        return {"reference": None, "three-datacentre route-reflector": str(rr)}


def find(registry: Registry, name: str) -> Registered:
    hits = [registry.by_kind[k][name] for k in KINDS if name in registry.by_kind[k]]
    if not hits:
        names = ", ".join(sorted({r.name for r in registry.all()})) or "none"
        raise NativeK8sError(f"no installed plugin is named {name!r} (installed: {names})")
    return hits[0]


def _chosen(topo: Topology, s: Subject) -> Topology:
    """The lab with the checked plugin in its role."""
    return topo.with_plugins(**{s.kind: s.name})


# --- registration --------------------------------------------------------------------------
def check_registration(s: Subject) -> list[str]:
    out = []
    if not s.found.spec.description.strip():
        out.append(f"its {type(s.found.spec).__name__} has no description: give one "
                   "(`nativek8s plugins` shows it)")
    try:
        obj = s.create()
    except NativeK8sError as exc:
        return [*out, f"its factory's object is refused: {exc}"]
    if getattr(obj, "name", None) != s.name:
        out.append(f"its object's name is {getattr(obj, 'name', None)!r}, not the registered "
                   f"{s.name!r}: set `name = {s.name!r}` on the class")
    return out


# --- options -------------------------------------------------------------------------------
_BAD_VALUES: tuple[Any, ...] = ({"nested": ["mapping"]}, -(10**12), "not-a-valid-value")


def check_options(s: Subject) -> list[str]:
    model = s.found.spec.options
    if model is None:
        raise Skip("it takes no options")
    out = []
    try:
        model.model_validate({})
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        out.append(f"its options cannot be left out (no default for {fields}): a topology "
                   f"without options.{s.name} must work; give every option a default")
    if not _refuses(model, NO_SUCH_OPTION, 1):
        out.append(f"its options accept an unknown key ({NO_SUCH_OPTION!r}): a typo would "
                   "pass silently; set model_config = ConfigDict(extra='forbid')")
    for fname, info in model.model_fields.items():
        key = info.alias or fname
        if not any(_refuses(model, key, bad) for bad in _BAD_VALUES):
            out.append(f"option {key!r} accepts anything (a mapping, a huge number, any "
                       "text): give it a type")
    out += _located_option_problem(s)
    return out


def _refuses(model: type[BaseModel], key: str, value: Any) -> bool:
    """True if the model refuses this value of this key (other keys' errors aside)."""
    try:
        model.model_validate({key: value})
    except ValidationError as exc:
        return any(e["loc"][:1] == (key,) for e in exc.errors())
    return False


def _located_option_problem(s: Subject) -> list[str]:
    """A bad option in a topology file is reported at its YAML path and line."""
    text = (f"name: opt{_random.token_hex(2)}\ndatacentres:\n  dc1:\n"
            f"    nodes: {{node-1: {{role: controlplane}}}}\noptions:\n  {s.name}:\n"
            f"    {NO_SUCH_OPTION}: 1\n")
    path = s.topology_file(text, "options")
    try:
        load_topology(str(path), s.registry)  # options are checked for every installed plugin
    except TopologyError as exc:
        want = f"options.{s.name}.{NO_SUCH_OPTION}"
        if not any(p.path == want and p.line == 7 for p in exc.problems):
            return [f"an unknown option in a topology is not reported at {want} (line 7): "
                    f"{exc}"]
        return []
    return [f"a topology with options.{s.name}.{NO_SUCH_OPTION} is accepted"]


# --- render --------------------------------------------------------------------------------
def _plan_and_files(s: Subject, topology: str | None, label: str,
                    secrets_dir: Path) -> tuple[Plan, list[Any], Any]:
    from ..core.compose import select
    from ..core.plan import build_plan
    from ..core.render import render_files
    from ..core.secrets import SecretStore

    try:  # core's checks only: the plugins' own checks are the validate-hook check's
        topo = _chosen(load_topology(topology, None)[0], s)
    except TopologyError as exc:
        raise Skip(f"the {label} lab is refused with {s.name} chosen ({exc}); "
                   "render checks need a lab it accepts") from None
    plan = build_plan(topo)
    selected = select(plan, s.registry)
    store = SecretStore(secrets_dir)
    rendered = render_files(plan, selected, store)
    obj = (selected.hypervisors[s.name] if s.kind == "hypervisor"
           else getattr(selected, s.kind))
    return plan, rendered.get(getattr(obj, "name", s.name), []), (obj, store)


def check_render(s: Subject) -> list[str]:
    out = []
    for label, topology in s.labs().items():
        plan, files, (obj, store) = _plan_and_files(s, topology, label, s.work / "secrets")
        _, again, _ = _plan_and_files(s, topology, label, s.work / "secrets")
        where = f"{label} lab"
        if [(f.path, f.content) for f in files] != [(f.path, f.content) for f in again]:
            changed = sorted({f.path for f in files} ^ {f.path for f in again}
                             | {a.path for a, b in zip(files, again, strict=False)
                                if a.content != b.content})
            out.append(f"{where}: rendering twice gives different output ({', '.join(changed)})"
                       ": render from the plan only (no clocks, random values, dict order)")
        paths = [f.path for f in files]
        if len(paths) != len(set(paths)):
            out.append(f"{where}: several files share a path: "
                       f"{sorted({p for p in paths if paths.count(p) > 1})}")
        machines = {m.name for m in plan.machines}
        for f in files:
            if f.machine is not None and f.machine not in machines:
                out.append(f"{where}: {f.path} is for machine {f.machine!r}, which the plan "
                           "does not have")
        if plan.md5:
            password = store.get(MD5_SECRET)
            for f in files:
                text = f.content if isinstance(f.content, str) else f.content.decode(
                    errors="replace")
                if password in text and not f.secret:
                    out.append(f"{where}: {f.path} holds the MD5 password but is not marked "
                               "secret=True (it would be written world-readable)")
        out += _complete(s, obj, plan, files, where)
    return out


def _complete(s: Subject, obj: Any, plan: Plan, files: list[Any], where: str) -> list[str]:
    out = []
    if s.kind == "router":
        for router in plan.routers:
            target = obj.bgp_daemon(router).config_target
            if not any(f.machine == router.name and f.target == target for f in files):
                out.append(f"{where}: no {target} rendered for {router.name} (its bgp_daemon's "
                           "config_target): render every router")
    if s.kind == "cni":
        intents = {i.node: i for i in obj.bgp_intent(plan)}
        for node in plan.nodes:
            intent = intents.get(node.name)
            if intent is None:
                out.append(f"{where}: no BGP intent for {node.name}: bgp_intent must cover "
                           "every node")
                continue
            want = {str(s_.sides(node.name)[1].address) for s_ in plan.sessions_of(node.name)}
            got = {str(p.address) for p in intent.peers}
            if want != got:
                out.append(f"{where}: {node.name}'s intent peers with {sorted(got)}, the plan "
                           f"with {sorted(want)}")
    return out


# --- validate hook -------------------------------------------------------------------------
_TOP_KEYS = set(Topology.model_fields)


def check_validate_hook(s: Subject) -> list[str]:
    hook = "nativek8s_validate_topology"
    if hook not in s.found.hooks:
        raise Skip("it has no topology check (nativek8s_validate_topology)")
    module = sys.modules.get(s.found.module)
    fn: Callable[..., Any] | None = getattr(module, hook, None)
    impls = [i for i in s.registry.pm.hook.nativek8s_validate_topology.get_hookimpls()
             if i.plugin_name == s.found.module or getattr(i.plugin, "__name__", "") ==
             s.found.module]
    if impls:
        fn = impls[0].function
    if fn is None:
        raise Skip(f"its {hook} could not be found in {s.found.module}")
    out = []
    for label, topology in s.labs().items():
        try:
            topo = _chosen(load_topology(topology, None)[0], s)
        except TopologyError as exc:
            out.append(f"{label} lab: refused before the plugin's check: {exc}")
            continue
        result = fn(topology=topo)
        out += _problems_located(result, f"{label} lab")
    return out


def _problems_located(result: Any, where: str) -> list[str]:
    if result is None:
        return []
    if not isinstance(result, list):
        return [f"{where}: the check returned {type(result).__name__}, not a list of Problem"]
    out = []
    for p in result:
        if not isinstance(p, Problem):
            out.append(f"{where}: the check returned {p!r}, not a Problem(path, message)")
            continue
        head = p.path.split(".", 1)[0].split("[", 1)[0]
        if not p.path or head not in _TOP_KEYS:
            out.append(f"{where}: problem {p.message!r} is located at {p.path!r}, not a "
                       f"topology path (one of {', '.join(sorted(_TOP_KEYS))}, dotted): "
                       "name where in the file it is")
        if not p.message.strip():
            out.append(f"{where}: a problem at {p.path!r} has no message")
    return out


# --- netns lifecycle -----------------------------------------------------------------------
def check_netns_lifecycle(s: Subject) -> list[str]:
    if s.kind not in ("router", "cni"):
        raise Skip(f"only router OS and CNI plugins run on netns ({KIND_TITLES[s.kind]})")
    if os.geteuid() != 0:
        raise Skip("needs root (creates network namespaces)")
    if s.kind == "router" and not implements(s.create(), "namespace_daemon"):
        raise Skip("it does not implement namespace_daemon: it cannot run on netns")
    lab = "c" + _random.token_hex(3)
    topo = s.topology_file(
        f"name: {lab}\ndatacentres:\n  dc1:\n    lan: 10.1.0.0/24\n    nodes:\n"
        f"      node-1: {{role: controlplane}}\n  dc2:\n    lan: 10.2.0.0/24\n    nodes:\n"
        f"      node-2: {{role: worker}}\n", "netns")
    env = {**os.environ, "NATIVEK8S_STATE_DIR": str(s.work / "state")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nativek8s.core.cli.main", *args],
                              capture_output=True, text=True, env=env, timeout=300)

    out = []
    try:
        deploy = cli("deploy", "-f", str(topo), f"--{s.kind}", s.name, "--hypervisor", "netns")
        said = deploy.stdout + deploy.stderr
        if deploy.returncode == 2 and "missing tools" in said:
            raise Skip(said.strip().splitlines()[-1].strip())
        if deploy.returncode != 0 or f"lab {lab}: deployed and verified" not in said:
            tail = "\n    ".join(said.strip().splitlines()[-12:])
            out.append(f"deploy on netns did not end 'deployed and verified' "
                       f"(exit {deploy.returncode}):\n    {tail}")
    finally:
        destroy = cli("destroy", lab)
        if destroy.returncode != 0:
            out.append(f"destroy failed (exit {destroy.returncode}): {destroy.stderr.strip()}")
        left = [n for n in _namespaces() if n.startswith(f"nk.{lab}.")]
        if left:
            out.append(f"destroy left namespaces: {', '.join(left)}")
            for n in left:  # ours by name: this run created the lab
                subprocess.run(["ip", "netns", "del", n], capture_output=True)
    return out


def _namespaces() -> list[str]:
    try:
        return sorted(p.name for p in Path("/run/netns").iterdir())
    except FileNotFoundError:
        return []


@dataclass(frozen=True)
class Check:
    name: str
    what: str
    run: Callable[[Subject], list[str]]


CHECKS = (
    Check("registration", "registered with a description; its object passes its kind's "
                          "interface and carries its name", check_registration),
    Check("options", "options: defaults work, unknown keys and ill-typed values are "
                     "refused, at their YAML path and line", check_options),
    Check("render", "render output stable and complete for the reference lab and a "
                    "three-datacentre route-reflector lab", check_render),
    Check("validate-hook", "its topology check returns Problems located by YAML path",
          check_validate_hook),
    Check("netns", "deploys, verifies and is destroyed on netns (router OS and CNI)",
          check_netns_lifecycle),
)


@dataclass(frozen=True)
class Outcome:
    check: Check
    failures: tuple[str, ...] = ()
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


def run_check(check: Check, registry: Registry, name: str,
              work: Path | None = None) -> Outcome:
    found = find(registry, name)
    with tempfile.TemporaryDirectory(prefix="nk8s-check-") as tmp:
        subject = Subject(registry, found, Path(work or tmp))
        try:
            return Outcome(check, tuple(check.run(subject)))
        except Skip as exc:
            return Outcome(check, skipped=str(exc))
        except Exception as exc:  # the plugin broke the check itself: that is a finding
            return Outcome(check, (f"raised {type(exc).__name__}: {exc}",))


def check_plugin(registry: Registry, name: str, netns: bool = True) -> list[Outcome]:
    """Every check of the contract against one installed plugin."""
    out = []
    for check in CHECKS:
        if check.name == "netns" and not netns:
            out.append(Outcome(check, skipped="not asked for (--no-netns)"))
            continue
        out.append(run_check(check, registry, name))
    return out


def which_missing(tools: list[str]) -> list[str]:
    return [t for t in tools if shutil.which(t) is None]
