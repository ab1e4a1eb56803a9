"""Options shared by several commands."""

from __future__ import annotations

import click

from ..kinds import KIND_LIST

topology_file = click.option(
    "-f", "--file", "topology", metavar="FILE", default=None,
    help="Topology file (default: the built-in reference lab).",
)


def composition(func):
    """--hypervisor/--router/--nodeos/--cni: override the topology's plugin choices."""
    for kind in reversed(KIND_LIST):
        func = click.option(
            f"--{kind.name}", default=None, metavar="NAME",
            help=f"{kind.title} plugin (default: the topology's, else {kind.default}).",
        )(func)
    return func


plugin_option = click.option(
    "-O", "--option", "extras", metavar="PLUGIN.KEY=VALUE", multiple=True,
    help="Set one of a plugin's options for this run (repeatable), over the topology's "
         "options.<plugin>; e.g. -O netns.speaker=bird.",
)


def parse_extras(values: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """``("netns.speaker=bird",)`` → ``{"netns": {"speaker": "bird"}}``; each plugin
    validates its own keys and values."""
    out: dict[str, dict[str, str]] = {}
    for value in values:
        key, sep, val = value.partition("=")
        plugin, dot, name = key.partition(".")
        if not sep or not dot or not plugin or not name:
            raise click.BadParameter(f"{value!r}: expected PLUGIN.KEY=VALUE, e.g. "
                                     "netns.speaker=bird", param_hint="'-O' / '--option'")
        out.setdefault(plugin, {})[name] = val
    return out
