"""Commands that get into one machine of a lab: exec, console."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .lab_target import resolve_lab_target
from .options import topology_file
from .output import reporter

if TYPE_CHECKING:
    from ..engine.context import LabContext
    from ..kinds import Hypervisor
    from ..plan import NodePlan, RouterPlan


def lab_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--lab LAB and -f FILE: which lab, by the rule of every lab command (lab_target);
    MACHINE takes the place of the positional LAB."""
    func = topology_file(func)
    return click.option("--lab", "lab", metavar="LAB", default=None,
                        help="The lab (default: the only lab there is).")(func)


def _open(lab: str | None, topology: str | None,
          machine: str) -> tuple[LabContext, RouterPlan | NodePlan, Hypervisor]:
    """(context, the machine's plan, its hypervisor); unknown machine: exit 2 naming them."""
    from ..engine.lab import _hypervisor, open_lab
    from ..errors import UsageError
    from ..registry import registry

    target = resolve_lab_target(lab, topology)
    assert target is not None  # must_exist: a target or a UsageError
    ctx = open_lab(target.state, registry(), reporter())
    try:
        m = ctx.plan.machine(machine)
    except KeyError:
        names = ", ".join(m.name for m in ctx.plan.machines)
        raise UsageError(f"lab {ctx.plan.lab} has no machine {machine!r}; its machines: "
                         f"{names}") from None
    return ctx, m, _hypervisor(ctx)


def _replace_process(argv: list[str]) -> None:
    """Hand this terminal over: argv's exit code becomes ours, signals reach it directly."""
    reporter().close()  # no progress line left on the terminal
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvp(argv[0], argv)
    except FileNotFoundError:
        from ..errors import UsageError

        raise UsageError(f"{argv[0]} is not installed on this host") from None


@click.command("exec", context_settings={"ignore_unknown_options": True,
                                         "allow_interspersed_args": False})
@lab_options
@click.argument("machine")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def exec_(lab: str | None, topology: str | None, machine: str, command: tuple[str, ...]) -> None:
    """Run COMMAND inside MACHINE, or a shell when there is none; exit with its code.

    \b
      nativek8s exec router-1 birdc show route      # birdc finds the router's BIRD
      nativek8s exec node-1 -- ip route             # `--` when COMMAND has options
      nativek8s exec node-1 gobgp neighbor          # the node's GoBGP, on netns
      nativek8s exec router-1                       # an interactive shell
    """
    from ..errors import CommandFailed, NativeK8sError, UsageError
    from ..kinds import InteractiveAccess

    ctx, m, hyp = _open(lab, topology, machine)
    if m.kind == "node" and "nodeos" not in hyp.emulates:
        raise UsageError(ctx.plugins.nodeos.access_hint(ctx, m))
    observer = hyp.observer(ctx)
    try:
        access = observer.access(machine)
    except NativeK8sError as exc:  # the hypervisor says why it cannot reach inside
        raise UsageError(f"{exc}; `nativek8s console {machine}` attaches to its serial "
                         "console instead") from None
    argv = list(command)
    if argv[:1] == ["--"]:  # click keeps the separator once parsing stops at MACHINE
        argv = argv[1:]
    if isinstance(access, InteractiveAccess):
        if not argv:
            argv = [os.environ.get("SHELL") or "/bin/sh"]
            if sys.stdin.isatty():
                reporter().say(f"{machine} (lab {ctx.plan.lab}): a shell inside it; "
                               "`exit` leaves")
                # Say where the shell is (shells whose rc files set PS1 keep their own).
                os.environ["PS1"] = f"[{ctx.plan.lab} {machine}]# "
        _replace_process(access.host_command(argv))
        return
    if not argv:  # a guest agent runs one command at a time, with no terminal
        raise UsageError(f"{machine} is reached through {hyp.name}'s guest agent, which has "
                         f"no interactive shell: give a command (`nativek8s exec {machine} -- "
                         f"ip route`), or `nativek8s console {machine}`")
    try:
        click.echo(access.run(argv, timeout=60.0), nl=False)
    except CommandFailed as exc:  # the command's own exit code, as a shell would give it
        if exc.exit_status is None:
            raise
        click.echo(exc.output, nl=False)
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_status)


@click.command()
@lab_options
@click.argument("machine")
def console(lab: str | None, topology: str | None, machine: str) -> None:
    """Attach to MACHINE's serial console (libvirt VMs); says what to use elsewhere."""
    from ..errors import UsageError
    from ..kinds import Unsupported

    ctx, m, hyp = _open(lab, topology, machine)
    try:
        argv = hyp.console_command(ctx, machine)
    except Unsupported as exc:
        raise UsageError(str(exc)) from None
    reporter().say(f"{machine}: serial console of {m.resource_name}; detach with Ctrl+] "
                   "(press Enter if no prompt shows)")
    _replace_process(argv)


COMMANDS = (exec_, console)
