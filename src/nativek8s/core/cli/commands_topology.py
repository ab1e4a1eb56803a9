"""Commands that read a topology and change nothing: init, validate, plan, render, plugins."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..registry import Registry
    from ..topology import Topology

from .options import composition, topology_file
from .output import FORMATS, emit, output_option, reporter


def _load(topology: str | None, deployable: bool = False,
          **choices: str | None) -> tuple[Topology, Registry]:
    from ..load import load_topology
    from ..registry import registry

    reg = registry()
    topo, warnings = load_topology(topology, reg, deployable=deployable, **choices)
    for w in warnings:
        reporter().error(f"warning: {w.render(topology or 'reference')}")
    return topo, reg


@click.command()
@click.option("--datacentres", type=click.IntRange(1, 254), default=None,
              help="Number of datacentres (default: the reference lab's 2).")
@click.option("--nodes-per-dc", type=click.IntRange(1, 200), default=None,
              help="Nodes in each datacentre (default 1).")
@click.option("--name", default=None, help="Lab name (default: reference, or 'lab').")
@click.option("--out", "out", metavar="FILE", default=None,
              help="Write here (default: stdout).")
@click.option("-o", "--output", "legacy_out", metavar="FILE", default=None, hidden=True,
              help="Old spelling of --out (kept working; -o is a format elsewhere).")
@click.option("-f", "--file", "init_file", metavar="FILE", default=None,
              help="Same as --out: the topology file to write.")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def init(datacentres, nodes_per_dc, name, out, legacy_out, force, init_file):
    """Write a commented topology file to edit (the reference lab by default).

    --out FILE (or -f FILE, as every topology command names its file) writes it there.
    """
    from ..errors import UsageError
    from ..init_template import topology_text

    if legacy_out in FORMATS:  # `init -o json` is a format everywhere else: not a file here
        raise UsageError(f"init writes a topology file and has no output formats; "
                         f"to write a file named {legacy_out!r}, use --out {legacy_out}")
    given = [v for v in (out, legacy_out, init_file) if v is not None]
    if len(set(given)) > 1:
        raise UsageError(f"init got several output files ({', '.join(given)}); give one --out")
    output = given[0] if given else "-"
    text = topology_text(datacentres, nodes_per_dc, name)
    if output == "-":
        click.echo(text, nl=False)
        return
    path = Path(output)
    if path.exists() and not force:
        raise UsageError(f"{output} exists; choose another file or pass --force to overwrite")
    path.write_text(text)
    reporter().final(f"wrote {output}; check it with `nativek8s validate -f {output}`")


@click.command()
@click.argument("file", required=False)
@topology_file
@composition
def validate(file, topology, **choices):
    """Check a topology file; exit 2 if it has problems.

    The file is -f FILE (or FILE); without one, the built-in reference lab.
    """
    from ..errors import UsageError

    if file and topology and file != topology:
        raise UsageError(f"validate got two files ({file} and -f {topology}); give one")
    file = topology or file
    topo, _ = _load(file, deployable=True, **choices)
    nodes = sum(len(d.nodes) for d in topo.datacentres.values())
    click.echo(f"{file or 'reference'}: valid: lab {topo.name!r}, "
               f"{len(topo.datacentres)} datacentres, {nodes} nodes")


@click.command()
@topology_file
@composition
@output_option
def plan(topology, output, **choices):
    """Show every address, session and expected route the lab will have."""
    from ..compose import select
    from ..documents import render_plan
    from ..plan import build_plan
    from ..plan.management import management_of
    from .plan_table import plan_table

    topo, reg = _load(topology, **choices)
    p = build_plan(topo)
    if output != "table":
        click.echo(render_plan(p, output))
        return
    click.echo(plan_table(p))
    mgmt = management_of(select(p, reg), p)  # the hypervisor decides its WAN
    if mgmt is not None:
        click.echo("\nmanagement path (how this host reaches the lab):")
        click.echo("\n".join(f"  {line}" for line in mgmt.lines()))


@click.command()
@topology_file
@composition
@click.option("--out", "out_dir", required=True, metavar="DIR", help="Folder to write into.")
def render(topology, out_dir, **choices):
    """Write every file the selected plugins would install, under DIR/<plugin>/."""
    from ..compose import select
    from ..errors import UsageError
    from ..paths import lab_dir
    from ..plan import MD5_SECRET, build_plan
    from ..render import render_files, write_rendered
    from ..secrets import SecretStore

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out_dir} is a file; name a folder (it is made if missing)")
    topo, reg = _load(topology, **choices)
    p = build_plan(topo)
    overrides = {MD5_SECRET: Path(p.md5_password_file).expanduser()} if p.md5_password_file else {}
    secrets = SecretStore(lab_dir(p.lab) / "secrets", overrides)
    try:
        written = write_rendered(render_files(p, select(p, reg), secrets), out)
    except OSError as exc:  # a file in the way, no permission, a full disk
        raise UsageError(f"cannot write under --out {out_dir}: {exc.strerror} "
                         f"({exc.filename})") from None
    for path in written:
        click.echo(str(path))
    reporter().final(f"{len(written)} files written under {out_dir}")


@click.group(invoke_without_command=True)
@output_option
@click.pass_context
def plugins(ctx: click.Context, output: str) -> None:
    """List installed plugins: name, kind, distribution and hooks.

    `plugins check NAME` checks one against the plugin contract.
    """
    from ..registry import registry

    if ctx.invoked_subcommand is not None:
        return

    rows = [
        {"name": r.name, "kind": r.kind, "distribution": r.distribution, "module": r.module,
         "description": r.spec.description, "hooks": list(r.hooks)}
        for r in registry().all()
    ]
    if output != "table":
        emit("PluginList", {"plugins": rows}, output)
        return
    if not rows:
        click.echo("no plugins installed")
        return
    width = max(len("NAME"), *(len(str(r["name"])) for r in rows))
    click.echo(f"{'NAME':<{width}}  {'KIND':<10}  {'DISTRIBUTION':<22}  HOOKS")
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['kind']:<10}  {r['distribution']:<22}  "
                   f"{', '.join(h.removeprefix('nativek8s_') for h in r['hooks'])}")


@plugins.command("check")
@click.argument("name")
@click.option("--no-netns", is_flag=True,
              help="Skip the netns deploy + verify + destroy of router OS and CNI plugins.")
def plugins_check(name: str, no_netns: bool) -> None:
    """Check an installed plugin against the plugin contract; exit 1 if it breaks it.

    Registration, options (good and bad values), render output (stable and complete for
    the reference lab and a three-datacentre route-reflector lab), its topology check's
    problems (located), and for router OS and CNI plugins a netns deploy + verify +
    destroy when run as root. The same checks run in pytest: nativek8s.testing.
    """
    import sys

    from ...testing.contract import check_plugin, find
    from ..errors import UsageError
    from ..registry import registry

    reg = registry()
    try:
        found = find(reg, name)
    except Exception as exc:
        raise UsageError(str(exc)) from None
    outcomes = check_plugin(reg, name, netns=not no_netns)
    for o in outcomes:
        word = "skip" if o.skipped else "ok  " if o.ok else "FAIL"
        click.echo(f"{word} {o.check.name:<14} {o.check.what}")
        if o.skipped:
            click.echo(f"       {o.skipped}")
        for failure in o.failures:
            click.echo("       " + failure.replace("\n", "\n       "))
    failed = [o.check.name for o in outcomes if not o.ok]
    summary = (f"{found.kind} plugin {name} ({found.distribution}): "
               + (f"breaks the contract: {', '.join(failed)}" if failed
                  else "passes the contract"))
    click.echo(summary)
    if failed:
        sys.exit(1)


COMMANDS = (init, validate, plan, render, plugins)
