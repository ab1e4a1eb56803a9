"""How commands talk to the user: one Reporter per run (from -q/-v), and -o json|yaml."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from ..report import DEBUG, NORMAL, QUIET, Reporter, colour_wanted, paint, set_current

FORMATS = ["table", "json", "yaml"]


def output_option(func):
    """-o/--output table|json|yaml: json and yaml print one document (see `nativek8s schema`)."""
    return click.option("-o", "--output", type=click.Choice(FORMATS), default="table",
                        help="table (default), or a json/yaml document "
                             "(`nativek8s schema` lists them).")(func)


def _more(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value:
        obj = ctx.find_root().ensure_object(dict)
        key = "quiet" if param.name == "sub_quiet" else "verbose"
        obj[key] = True if key == "quiet" else obj.get("verbose", 0) + value


def add_verbosity(command: click.Command) -> None:
    """-v/-q after the command name too (`nativek8s doctor -v`), same as before it."""
    command.params += [
        click.Option(["-v", "--verbose", "sub_verbose"], count=True, expose_value=False,
                     callback=_more, help="More detail (-vv: debug)."),
        click.Option(["-q", "--quiet", "sub_quiet"], is_flag=True, expose_value=False,
                     callback=_more, help="Only errors and the final line."),
    ]


def reporter() -> Reporter:
    """The run's reporter (made on first use, when every -q/-v has been read)."""
    obj = click.get_current_context().find_root().ensure_object(dict)
    if "report" not in obj:
        level = QUIET if obj.get("quiet") else min(obj.get("verbose", 0), DEBUG)
        obj["report"] = Reporter(sys.stderr, verbosity=level)
        set_current(obj["report"])  # core code with no lab context (downloads) reports too
        logging.getLogger().setLevel(
            logging.ERROR if level < NORMAL else (logging.WARNING, logging.INFO,
                                                  logging.DEBUG)[level])
    return obj["report"]


def stdout_style(text: str, style: str) -> str:
    """Colour for lines on stdout: only on a terminal, never with NO_COLOR."""
    return paint(text, style) if colour_wanted(sys.stdout) else text


def emit(kind: str, body: dict[str, Any], fmt: str) -> None:
    from ..documents import document, render

    click.echo(render(document(kind, body), fmt))
