"""Commands that read a topology and change nothing: init, validate, plan, render, plugins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..registry import Registry
    from ..topology import Topology

from .options import composition, topology_file


def _load(topology: str | None, **choices: str | None) -> tuple[Topology, Registry]:
    from ..load import load_topology
    from ..registry import registry

    reg = registry()
    topo, warnings = load_topology(topology, reg, **choices)
    for w in warnings:
        click.echo(f"warning: {w.render(topology or 'reference')}", err=True)
    return topo, reg


@click.command()
@click.option("--datacentres", type=click.IntRange(1, 254), default=None,
              help="Number of datacentres (default: the reference lab's 2).")
@click.option("--nodes-per-dc", type=click.IntRange(1, 200), default=None,
              help="Nodes in each datacentre (default 1).")
@click.option("--name", default=None, help="Lab name (default: reference, or 'lab').")
@click.option("-o", "--output", metavar="FILE", default="-", help="Write here (default: stdout).")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def init(datacentres, nodes_per_dc, name, output, force):
    """Write a commented topology file to edit (the reference lab by default)."""
    from ..errors import UsageError
    from ..init_template import topology_text

    text = topology_text(datacentres, nodes_per_dc, name)
    if output == "-":
        click.echo(text, nl=False)
        return
    path = Path(output)
    if path.exists() and not force:
        raise UsageError(f"{output} exists; choose another file or pass --force to overwrite")
    path.write_text(text)
    click.echo(f"wrote {output}; check it with `nativek8s validate {output}`", err=True)


@click.command()
@click.argument("file", required=False)
@composition
def validate(file, **choices):
    """Check a topology file (default: the reference lab); exit 2 if it has problems."""
    topo, _ = _load(file, **choices)
    nodes = sum(len(d.nodes) for d in topo.datacentres.values())
    click.echo(f"{file or 'reference'}: valid: lab {topo.name!r}, "
               f"{len(topo.datacentres)} datacentres, {nodes} nodes")


@click.command()
@topology_file
@composition
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table")
def plan(topology, output, **choices):
    """Show every address, session and expected route the lab will have."""
    from ..plan import build_plan
    from .plan_table import plan_table

    topo, _ = _load(topology, **choices)
    p = build_plan(topo)
    click.echo(p.model_dump_json(indent=2) if output == "json" else plan_table(p))


@click.command()
@topology_file
@composition
@click.option("--out", "out_dir", required=True, metavar="DIR", help="Folder to write into.")
def render(topology, out_dir, **choices):
    """Write every file the selected plugins would install, under DIR/<plugin>/."""
    from ..compose import select
    from ..paths import lab_dir
    from ..plan import MD5_SECRET, build_plan
    from ..render import render_files, write_rendered
    from ..secrets import SecretStore

    topo, reg = _load(topology, **choices)
    p = build_plan(topo)
    overrides = {MD5_SECRET: Path(p.md5_password_file).expanduser()} if p.md5_password_file else {}
    secrets = SecretStore(lab_dir(p.lab) / "secrets", overrides)
    written = write_rendered(render_files(p, select(p, reg), secrets), Path(out_dir))
    for path in written:
        click.echo(str(path))
    click.echo(f"{len(written)} files written under {out_dir}", err=True)


@click.command()
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table")
def plugins(output):
    """List installed plugins: name, kind, distribution and hooks."""
    from ..registry import registry

    rows = [
        {"name": r.name, "kind": r.kind, "distribution": r.distribution, "module": r.module,
         "description": r.spec.description, "hooks": list(r.hooks)}
        for r in registry().all()
    ]
    if output == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no plugins installed")
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['kind']:<10}  {r['distribution']:<22}  "
                   f"{', '.join(h.removeprefix('nativek8s_') for h in r['hooks'])}")


COMMANDS = (init, validate, plan, render, plugins)
