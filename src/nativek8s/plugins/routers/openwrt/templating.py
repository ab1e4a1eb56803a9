"""The Jinja2 environment of the plugin's templates (``templates/`` beside this module)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment


def uci_quote(value: object) -> str:
    """A UCI value in single quotes; a quote inside is written as '\\'' like the shell."""
    return "'" + str(value).replace("'", "'\\''") + "'"


@cache
def environment() -> Environment:
    # Imported here: commands that only observe a lab (status, verify, destroy) never render.
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("nativek8s.plugins.routers.openwrt", "templates"),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, autoescape=False,
    )
    env.filters["q"] = uci_quote
    return env


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)
