"""Which lab a lab command acts on: one rule for deploy, status, verify, destroy (and any
later command that acts on a lab).

- ``-f FILE``: the lab that file describes (deploy builds or heals it from the file);
- ``LAB``: that lab (deploy heals it from the plan it saved when it was last deployed);
- both: they must name the same lab;
- neither: the only lab that exists; with none, deploy builds the built-in reference lab
  and the others say no lab is deployed; with several, name one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..engine.state import LabState
    from ..plan import Plan
    from ..registry import Registry

REFERENCE = "reference"


@dataclass
class LabTarget:
    lab: str
    state: LabState
    plan: Plan | None = None  # for deploy: the plan to build (from the file or the state)
    registry: Registry | None = None
    exists: bool = True  # the lab has state (a saved plan)


lab_file = click.option(
    "-f", "--file", "topology", metavar="FILE", default=None,
    help="The lab this topology file describes (instead of LAB). Without LAB or FILE: the "
         "only lab there is.",
)


def lab_arguments(func: Callable[..., Any]) -> Callable[..., Any]:
    """``[LAB]`` and ``-f FILE``: the two ways to name a lab, on every lab command."""
    func = lab_file(func)
    return click.argument("lab", required=False)(func)


def resolve_lab_target(lab: str | None, topology: str | None, *, deploy: bool = False,
                       must_exist: bool = True, **choices: str | None) -> LabTarget | None:
    """The lab a command acts on (see the module's rule).

    ``deploy``: also load the plan to build; ``must_exist``: refuse a lab without state
    (destroy passes False: it can still remove what the backend marked as the lab's; it
    gets None when no lab is named and none exists).
    """
    from ..engine.state import LabState, known_labs
    from ..errors import UsageError

    flags = {k: v for k, v in choices.items() if v}
    if topology is not None or (deploy and lab is None and not known_labs()):
        return _from_file(lab, topology, deploy, must_exist, **choices)
    if flags:
        raise UsageError(f"--{next(iter(flags))} chooses plugins for a topology file: give it "
                         "with -f FILE (a deployed lab keeps the plugins it was deployed with)")
    if lab is None:
        labs = known_labs()
        if not labs and not must_exist:
            return None  # destroy: nothing to do
        if not labs:
            raise UsageError("no lab is deployed; run `nativek8s deploy` first")
        if len(labs) > 1:
            raise UsageError(f"several labs exist ({', '.join(labs)}); name one "
                             "(`nativek8s <command> LAB`) or give its file with -f FILE")
        lab = labs[0]
    state = LabState(lab)
    if state.exists():
        target = LabTarget(lab, state)
        if deploy:
            target.plan, target.registry = state.load_plan(), _registry()
        return target
    if deploy and lab == REFERENCE:
        return _from_file(None, None, deploy, must_exist)
    if must_exist or deploy:
        labs = known_labs()
        hint = f"known labs: {', '.join(labs)}" if labs else "no lab is deployed"
        how = "; deploy it with `nativek8s deploy -f FILE`" if deploy else ""
        raise UsageError(f"no lab named {lab!r} ({hint}){how}")
    return LabTarget(lab, state, exists=False)


def _from_file(lab: str | None, topology: str | None, deploy: bool, must_exist: bool,
               **choices: str | None) -> LabTarget:
    from ..engine.state import LabState
    from ..errors import UsageError
    from ..plan import build_plan
    from .commands_topology import _load

    topo, reg = _load(topology, deployable=deploy, **choices)
    if lab is not None and lab != topo.name:
        raise UsageError(f"{topology or REFERENCE} describes lab {topo.name!r}, not {lab!r}; "
                         "give one of them")
    state = LabState(topo.name)
    if not deploy and must_exist and not state.exists():
        raise UsageError(f"lab {topo.name!r} (from {topology}) is not deployed; "
                         f"run `nativek8s deploy -f {topology}` first")
    return LabTarget(topo.name, state, build_plan(topo), reg, exists=state.exists())


def _registry() -> Registry:
    from ..registry import registry

    return registry()


def with_lab(*, deploy: bool = False, must_exist: bool = True
             ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: a command gets ``target: LabTarget`` instead of ``lab``/``topology``
    (and the composition flags, when the command has them)."""

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def inner(lab: str | None, topology: str | None, **kwargs: Any) -> Any:
            choices = {k: kwargs.pop(k) for k in ("hypervisor", "router", "nodeos", "cni")
                       if k in kwargs}
            target = resolve_lab_target(lab, topology, deploy=deploy, must_exist=must_exist,
                                        **choices)
            return func(target=target, **kwargs)

        return lab_arguments(inner)

    return wrap
