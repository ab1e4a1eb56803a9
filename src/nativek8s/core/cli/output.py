"""How commands talk to the user: one Reporter per run (from -q/-v), and -o json|yaml."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from ..report import (
    DEBUG,
    NORMAL,
    QUIET,
    SILENT,
    Reporter,
    colour_wanted,
    current,
    paint,
    set_current,
)

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
        configure_logging(obj)


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
        level = _level(obj)
        report = obj["report"] = Reporter(sys.stderr, verbosity=level)
        set_current(report)  # core code with no lab context (downloads) reports too
    return obj["report"]


def _level(obj: dict) -> int:
    return QUIET if obj.get("quiet") else min(obj.get("verbose", 0), DEBUG)


def configure_logging(obj: dict) -> None:
    """Log records at the level -q/-v ask for, written through the run's reporter (so they
    never tear a terminal's progress line). Called again when a subcommand's -v/-q adds."""
    level = _level(obj)
    root = logging.getLogger()
    root.setLevel(logging.ERROR if level < NORMAL else (logging.WARNING, logging.INFO,
                                                        logging.DEBUG)[level])
    if not any(isinstance(h, LogToReporter) for h in root.handlers):
        root.addHandler(LogToReporter())


def unconfigure_logging() -> None:
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, LogToReporter)]


class LogToReporter(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        report = current()
        if report is SILENT:  # before the run made its reporter
            sys.stderr.write(text + "\n")
        else:
            report.error(text)  # the logger's level already chose


def stdout_style(text: str, style: str) -> str:
    """Colour for lines on stdout: only on a terminal, never with NO_COLOR."""
    return paint(text, style) if colour_wanted(sys.stdout) else text


def emit(kind: str, body: dict[str, Any], fmt: str) -> None:
    from ..documents import document, render

    click.echo(render(document(kind, body), fmt))
