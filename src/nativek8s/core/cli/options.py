"""Options shared by several commands."""

from __future__ import annotations

import click

topology_file = click.option(
    "-f", "--file", "topology", metavar="FILE", default=None,
    help="Topology file (default: the built-in reference lab).",
)


def composition(func):
    """--hypervisor/--router/--nodeos/--cni: override the topology's plugin choices."""
    for kind, default in reversed([("hypervisor", "netns"), ("router", "openwrt"),
                                   ("nodeos", "talos"), ("cni", "cilium")]):
        func = click.option(
            f"--{kind}", default=None, metavar="NAME",
            help=f"{kind} plugin (default: the topology's, else {default}).",
        )(func)
    return func
