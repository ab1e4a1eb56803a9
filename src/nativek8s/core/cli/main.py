"""Entry point of the `nativek8s` command."""

from __future__ import annotations

import logging
import sys

import click

from ... import __version__
from ..errors import EXIT_USAGE, NativeK8sError
from . import commands_graph, commands_lab, commands_machine, commands_topology


class _Group(click.Group):
    """Turns our errors into one clear message and their exit code (2: bad input)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NativeK8sError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

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
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Build Kubernetes labs whose pods are routed natively across datacentres with BGP.

    Without -f, commands use the built-in reference lab: two datacentres, an OpenWrt router
    and a Talos node in each, Cilium announcing each node's PodCIDR over BGP.
    """
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = {"verbose": verbose, "quiet": quiet}


for command in (*commands_topology.COMMANDS, *commands_lab.COMMANDS, *commands_graph.COMMANDS,
                *commands_machine.COMMANDS):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="nativek8s")


if __name__ == "__main__":  # pragma: no cover
    main()
