"""Commands that act on a running lab. The deploy engine is not built yet: they say so."""

from __future__ import annotations

import click

from ..errors import NativeK8sError
from .options import composition, topology_file


def _not_yet(what: str) -> None:
    raise NativeK8sError(
        f"`nativek8s {what}` needs a hypervisor plugin that can deploy, and none is installed "
        "in this version; `nativek8s plan` and `nativek8s render` work without one"
    )


@click.command()
@topology_file
@composition
def deploy(topology, **choices):
    """Create the lab (networks, routers, nodes, cluster, CNI, BGP) and verify it."""
    _not_yet("deploy")


@click.command()
@click.argument("lab", required=False)
def destroy(lab):
    """Remove everything the lab created, and nothing else."""
    _not_yet("destroy")


@click.command()
@click.argument("lab", required=False)
def status(lab):
    """Show each machine and BGP session of a lab."""
    _not_yet("status")


@click.command()
@click.argument("lab", required=False)
def verify(lab):
    """Check the lab against its plan: sessions, routes, pod-to-pod, source addresses."""
    _not_yet("verify")


COMMANDS = (deploy, destroy, status, verify)
