"""Commands about the command line itself: schema, completion."""

from __future__ import annotations

import json

import click

SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("kind", required=False)
def schema(kind):
    """Print the JSON Schema of an output document.

    KIND: Status, VerifyReport, Plan or PluginList; without KIND, list the kinds and the
    commands that print them.
    """
    from ..documents import API_VERSION, KINDS
    from ..documents import schema as schema_of

    if kind:
        click.echo(json.dumps(schema_of(kind), indent=2))
        return
    click.echo(f"{'KIND':<14}{'PRINTED BY':<27}DESCRIPTION")
    for name, (command, what) in KINDS.items():
        click.echo(f"{name:<14}{'nativek8s ' + command:<27}{what}")
    click.echo(f"(apiVersion {API_VERSION}; `nativek8s schema KIND` prints one)", err=True)


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell):
    """Print the shell completion script for bash, zsh or fish.

    The script is click's own.

    \b
    bash:  eval "$(nativek8s completion bash)"   (or save it in ~/.bashrc)
    zsh:   eval "$(nativek8s completion zsh)"
    fish:  nativek8s completion fish > ~/.config/fish/completions/nativek8s.fish
    """
    from click.shell_completion import get_completion_class

    from .main import cli

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - click ships all three
        raise click.UsageError(f"click has no completion for {shell}")
    comp = cls(cli, {}, "nativek8s", "_NATIVEK8S_COMPLETE")
    click.echo(comp.source())


COMMANDS = (schema, completion)
