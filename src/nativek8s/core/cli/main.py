"""Entry point of the `nativek8s` command."""

from __future__ import annotations

import gc
import sys

import click

from ... import __version__
from ..errors import EXIT_USAGE, NativeK8sError
from ..report import set_current
from . import commands_graph, commands_lab, commands_machine, commands_meta, commands_topology
from .output import add_verbosity, configure_logging, unconfigure_logging
from .pipes import protect_output


def _close(ctx: click.Context) -> None:
    """Take the progress line of a terminal away before the last words."""
    report = (ctx.obj or {}).get("report")
    if report is not None:
        report.close()
        set_current(None)
    unconfigure_logging()


class _Group(click.Group):
    """Turns our errors into one clear message and their exit code (2: bad input)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except NativeK8sError as exc:
            _close(ctx)
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            _close(ctx)
            click.echo("interrupted", err=True)
            sys.exit(130)
        finally:
            _close(ctx)

    def main(self, *args, **kwargs):
        kwargs.setdefault("standalone_mode", True)
        try:
            return super().main(*args, **kwargs)
        except click.UsageError as exc:  # pragma: no cover - click exits itself
            exc.show()
            sys.exit(EXIT_USAGE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="nativek8s")
@click.option("-v", "--verbose", count=True, help="More output (repeat for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and the final line.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Build Kubernetes labs whose pods are routed natively across datacentres with BGP.

    Without -f, commands use the built-in reference lab: two datacentres, an OpenWrt router
    and a Talos node in each, Cilium announcing each node's PodCIDR over BGP.
    """
    obj = ctx.ensure_object(dict)  # a subcommand's own -v/-q add to these (output.py)
    obj["verbose"] = obj.get("verbose", 0) + verbose
    obj["quiet"] = obj.get("quiet", False) or quiet
    configure_logging(obj)


for command in (*commands_topology.COMMANDS, *commands_lab.COMMANDS, *commands_meta.COMMANDS,
                *commands_graph.COMMANDS, *commands_machine.COMMANDS):
    add_verbosity(command)
    cli.add_command(command)


def main() -> None:
    protect_output()  # `nativek8s deploy | head -2` must not abort the deploy
    try:
        cli(prog_name="nativek8s")
    finally:
        # The process ends here (click exits). Frozen, the objects of every imported module
        # (pydantic's schemas, plugin classes) go with the process instead of being freed
        # one by one by the collector at shutdown: 20-40 ms of CPU on every command. Python
        # does not promise __del__ at exit, and nothing of nativek8s relies on it.
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
