"""The context objects the engine hands to plugins.

:class:`RenderContext` is what every ``render`` (and ``planned_boot_media``) call receives;
:class:`LabContext` — a RenderContext plus the lab's state, progress output and command-line
extras — is what every deploy, destroy, status and verify call receives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import NativeK8sError, UsageError
from .plan import Machine, RouterPlan
from .report import Reporter

if TYPE_CHECKING:
    from .engine.state import LabState
    from .kinds import CNI, Hypervisor, NodeOS, PluginSet, RenderedFile, RouterOS
    from .plan import Plan
    from .secrets import SecretStore

OptionsT = TypeVar("OptionsT", bound=BaseModel)


class NoPlugins:
    """The composition of a RenderContext made without one (a plugin rendering its own files
    in a test): every role says it is not there."""

    def _missing(self, role: str) -> NativeK8sError:
        return NativeK8sError(f"internal: this render context has no {role} plugin; "
                              "build it with plugins=")

    @property
    def router(self) -> RouterOS:
        raise self._missing("router")

    @property
    def nodeos(self) -> NodeOS:
        raise self._missing("nodeos")

    @property
    def cni(self) -> CNI:
        raise self._missing("cni")

    @property
    def hypervisors(self) -> Mapping[str, Hypervisor]:
        raise self._missing("hypervisor")


@dataclass
class RenderContext:
    """What every render call receives: the plan, the lab's secrets and the other plugins
    of the composition (``ctx.plugins.cni.bgp_intent(ctx.plan)``)."""

    plan: Plan  # every address, name, ASN, session and route: plugins compute none
    secrets: SecretStore  # the lab's secrets, 0600 files: ctx.secrets.get(MD5_SECRET)
    plugins: PluginSet = field(default_factory=NoPlugins)  # .router .nodeos .cni .hypervisors

    def options(self, plugin: str, model: type[OptionsT],
                datacentre: str | None = None) -> OptionsT:
        """A plugin's options (``options.<plugin>`` in the topology, top level, overridden
        by the datacentre's when ``datacentre`` is given), validated by ``model``."""
        return plugin_options(self.plan, plugin, model, datacentre)

    def hypervisor_for(self, datacentre: str) -> Hypervisor | None:
        """The hypervisor plugin of a datacentre (None for a context made without the
        composition's plugins)."""
        name = self.plan.composition.datacentre_hypervisors.get(datacentre)
        if name is None or isinstance(self.plugins, NoPlugins):
            return None
        return self.plugins.hypervisors.get(name)


@dataclass(kw_only=True)
class LabContext(RenderContext):
    """What every deploy, destroy, status and verify call receives."""

    state: LabState  # the lab's state folder: record(), resources(), backend_dir(plugin)
    rendered: dict[str, list[RenderedFile]] = field(default_factory=dict)  # plugin → files
    echo: Callable[[str], None] = print  # progress lines for the user
    extras: dict[str, dict[str, str]] = field(default_factory=dict)  # plugin → -O key=value
    # Progress and messages: plugins report waits through it and never print themselves.
    report: Reporter = field(default_factory=lambda: Reporter(sink=print))

    @classmethod
    def of(cls, plan: Plan, state: LabState, plugins: PluginSet | None = None,
           echo: Callable[[str], None] = print, report: Reporter | None = None) -> LabContext:
        """A context for ``plan`` with ``state``'s secrets (tests and tools; the engine
        builds its own)."""
        return cls(plan=plan, secrets=state.secrets(plan), state=state,
                   plugins=plugins or NoPlugins(), echo=echo,
                   report=report or Reporter(sink=echo))

    def rendered_file(self, plugin: str, machine: str, target: str) -> RenderedFile:
        """The file a plugin rendered for a machine's path (e.g. a router's bird.conf)."""
        for f in self.rendered.get(plugin, []):
            if f.machine == machine and f.target == target:
                return f
        raise NativeK8sError(f"plugin {plugin!r} rendered no {target} for {machine}")

    def options(self, plugin: str, model: type[OptionsT],
                datacentre: str | None = None) -> OptionsT:
        """As RenderContext.options, with the command line's ``-O <plugin>.<key>=<value>``
        extras applied over the topology's."""
        return plugin_options(self.plan, plugin, model, datacentre, self.extras.get(plugin))


def os_plugin_of(plugins: PluginSet, machine: Machine) -> RouterOS | NodeOS:
    """The plugin that makes a machine's OS: the router OS for routers, else the node OS."""
    return plugins.router if isinstance(machine, RouterPlan) else plugins.nodeos


def plugin_options(plan: Plan, plugin: str, model: type[OptionsT],
                   datacentre: str | None = None,
                   extras: Mapping[str, Any] | None = None) -> OptionsT:
    """``options.<plugin>`` of the plan (datacentre's over top level), then ``extras`` (the
    command line's), validated by ``model``. Bad extras are a UsageError naming the flag."""
    merged = plan.options_for(plugin, datacentre)
    base = model.model_validate(merged)
    if not extras:
        return base
    try:
        return model.model_validate({**merged, **extras})
    except ValidationError as exc:
        bad = "; ".join(f"-O {plugin}.{'.'.join(map(str, e['loc']))}: {e['msg']}"
                        for e in exc.errors())
        raise UsageError(f"bad plugin option: {bad}; -O {plugin}.<key>=<value> sets a key of "
                         f"options.{plugin} (see the plugin's documentation)") from exc
