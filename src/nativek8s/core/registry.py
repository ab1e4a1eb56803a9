"""The plugin manager: finds plugins, checks them, and hands out the chosen ones."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from . import hooks
from .errors import PluginError, UsageError
from .kinds import (
    KIND_BY_NAME,
    KIND_LIST,
    KIND_TITLES,
    KINDS,
    Plugin,
    PluginSpec,
    missing_members,
)

DISABLE_ENV = "NATIVEK8S_DISABLE_PLUGINS"
IN_PROCESS = "in-process"  # distribution shown for plugins registered in code, not installed


@dataclass(frozen=True)
class Registered:
    spec: PluginSpec
    module: str  # plugin module that returned it
    distribution: str  # "nativek8s 0.1.0", or "in-process" for plugins registered in code
    hooks: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return self.spec.kind


class Registry:
    """Every plugin kind's installed plugins, by name."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm
        self.by_kind: dict[str, dict[str, Registered]] = {kind: {} for kind in KINDS}
        dists = getattr(pm, "distributions", {})
        for kind_info in KIND_LIST:
            kind, hook_name, spec_type = kind_info.name, kind_info.hook, kind_info.spec
            caller = getattr(pm.hook, hook_name)
            for impl in caller.get_hookimpls():
                dist = dists.get(impl.plugin_name, IN_PROCESS)
                try:
                    result = impl.function()
                except Exception as exc:  # a broken third-party plugin must say who it is
                    raise PluginError(
                        f"{_who(pm, impl.plugin)} failed in {hook_name}: {exc!r}; fix or "
                        "uninstall it" + _disable_hint(pm, impl.plugin)
                    ) from exc
                for spec in _as_list(result):
                    self._add(kind, spec_type, spec, impl.plugin, dist)

    def _add(self, kind: str, spec_type: type[PluginSpec], spec: Any, plugin: object, dist: str) -> None:
        module = getattr(plugin, "__name__", type(plugin).__name__)
        if not isinstance(spec, spec_type):
            raise PluginError(
                f"plugin {module} ({dist}) returned {spec!r} from its {kind} registration "
                f"hook; expected {spec_type.__name__}"
            )
        hooks_of = tuple(sorted(
            name for name in dir(plugin) if name.startswith("nativek8s_")
        ))
        found = self.by_kind[kind].get(spec.name)
        if found is not None:
            title = KIND_TITLES[kind]
            raise PluginError(
                f"two {title} plugins are named {spec.name!r}: one from {found.distribution} "
                f"({found.module}), one from {dist} ({module}); uninstall one, or disable one "
                f"with {DISABLE_ENV}=<entry point name>"
            )
        self.by_kind[kind][spec.name] = Registered(spec, module, dist, hooks_of)

    def names(self, kind: str) -> list[str]:
        return list(self.by_kind[kind])

    def choices(self, kind: str) -> str:
        """'libvirt (nativek8s 0.1.0), netns (nativek8s 0.1.0)' for error messages."""
        entries = sorted(self.by_kind[kind].values(), key=lambda r: r.name)
        return ", ".join(f"{r.name} ({r.distribution})" for r in entries) or "none installed"

    def get(self, kind: str, name: str) -> Registered:
        found = self.by_kind[kind].get(name)
        if found is None:
            raise UsageError(
                f"unknown {KIND_TITLES[kind]} plugin {name!r}; choose one of: {self.choices(kind)}"
            )
        return found

    def create(self, kind: str, name: str) -> Plugin:
        """A new object of the named plugin, checked against its kind's interface."""
        found = self.get(kind, name)
        try:
            obj = found.spec.factory()
        except Exception as exc:
            raise PluginError(
                f"{KIND_TITLES[kind]} plugin {name!r} ({found.distribution}) failed to start: "
                f"{exc!r}; fix or reinstall it, or choose another with --{kind}"
            ) from exc
        interface = KIND_BY_NAME[kind].interface
        if not isinstance(obj, interface):
            raise PluginError(
                f"{KIND_TITLES[kind]} plugin {name!r} ({found.distribution}) made a "
                f"{type(obj).__name__}, which does not subclass nativek8s.api."
                f"{interface.__name__}; derive the plugin class from it (see docs/plugins.md)"
            )
        missing = missing_members(obj, interface)
        if missing:
            raise PluginError(
                f"{KIND_TITLES[kind]} plugin {name!r} ({found.distribution}) lacks "
                f"{', '.join(missing)} required by {interface.__name__}"
            )
        return obj

    def all(self) -> list[Registered]:
        """Every plugin, by kind (hypervisor, router, nodeos, cni), then by name."""
        return [r for kind in KINDS for r in sorted(self.by_kind[kind].values(),
                                                    key=lambda r: r.name)]


def _as_list(result: Any) -> list[Any]:
    if result is None:
        return []
    if isinstance(result, (list, tuple)):
        return list(result)
    return [result]


class PluginManager(pluggy.PluginManager):
    """pluggy's manager, remembering which distribution provided each plugin."""

    def __init__(self) -> None:
        super().__init__(hooks.PROJECT)
        self.distributions: dict[str, str] = {}  # plugin name → "dist version"


def make_plugin_manager(extra: list[ModuleType | object] | None = None) -> PluginManager:
    """Load every plugin of the entry-point group, minus the disabled ones."""
    pm = PluginManager()
    pm.add_hookspecs(hooks)
    disabled = {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}
    for ep in metadata.entry_points(group=hooks.PROJECT):
        dist = ep.dist.name if ep.dist else ""
        if ep.name in disabled or dist in disabled:
            continue
        if pm.get_plugin(ep.name) is not None:
            # Two distributions claim one entry-point name: which one loads would depend on
            # sys.path order, so refuse rather than silently drop one.
            other = pm.distributions.get(ep.name, "another distribution")
            this = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "an unknown distribution"
            raise PluginError(
                f"two distributions declare the plugin entry point {ep.name!r}: {other} and "
                f"{this}; uninstall one, or disable one with {DISABLE_ENV}=<distribution name>"
            )
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken third-party plugin must say who it is
            raise PluginError(
                f"plugin {ep.name!r} ({dist or 'unknown distribution'}) failed to load from "
                f"{ep.value}: {exc}; reinstall it, or disable it with {DISABLE_ENV}={ep.name}"
            ) from exc
        if ep.dist is not None:
            pm.distributions[ep.name] = f"{ep.dist.name} {ep.dist.version}"
        _register(pm, plugin, ep.name)
    for plugin in extra or []:
        _register(pm, plugin, None)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise _unknown_hooks_error(pm, exc.plugin) from exc
    return pm


def _register(pm: PluginManager, plugin: object, name: str | None) -> None:
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:  # e.g. a hook taking arguments its spec lacks
        detail = " ".join(str(exc).split("\n")[1:]) or str(exc)
        raise PluginError(f"{_who(pm, plugin, name)} does not match the hook specifications "
                          f"({detail}); see nativek8s.core.hooks") from exc


def _who(pm: pluggy.PluginManager, plugin: object, name: str | None = None) -> str:
    """"plugin 'frr' (nativek8s-frr 1.0)" for messages; in-process plugins by module/class."""
    name = name or pm.get_name(plugin)
    dists = getattr(pm, "distributions", {})
    if name in dists:
        return f"plugin {name!r} ({dists[name]})"
    label = getattr(plugin, "__name__", None) or type(plugin).__name__
    return f"plugin {label!r} ({IN_PROCESS})"


def _disable_hint(pm: pluggy.PluginManager, plugin: object) -> str:
    name = pm.get_name(plugin)
    dists = getattr(pm, "distributions", {})
    return f", or disable it with {DISABLE_ENV}={name}" if name in dists else ""


def _unknown_hooks_error(pm: PluginManager, plugin: object) -> PluginError:
    known = sorted(n for n in dir(hooks) if n.startswith(f"{hooks.PROJECT}_"))
    unknown = sorted(
        hook for hook, caller in vars(pm.hook).items()
        if not caller.has_spec() and any(i.plugin is plugin for i in caller.get_hookimpls())
    )
    parts = []
    for hook in unknown:
        close = difflib.get_close_matches(hook, known, n=1)
        parts.append(f"{hook}" + (f" (did you mean {close[0]}?)" if close else ""))
    return PluginError(
        f"{_who(pm, plugin)} implements unknown hooks: {', '.join(parts)}; rename them (the "
        f"hooks are: {', '.join(known)}){_disable_hint(pm, plugin)}"
    )


_REGISTRY: Registry | None = None


def registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry(make_plugin_manager())
    return _REGISTRY


def reset_registry(reg: Registry | None = None) -> None:
    """For tests and embedders: replace (or forget) the process-wide registry."""
    global _REGISTRY
    _REGISTRY = reg


def create_plugin(kind: str, name: str) -> Plugin:
    """A new object of an installed plugin, checked against its kind (e.g. a topology check
    asking the chosen hypervisor which disk it attaches)."""
    return registry().create(kind, name)
