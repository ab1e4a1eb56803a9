"""YAML text of rendered files: stable key order, a comment header, multi-document."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Any

import yaml

WIDTH = 96  # comment lines wrap here


def _comment(lines: Iterable[str]) -> str:
    wrapped = [part for line in lines for part in (textwrap.wrap(line, WIDTH - 2) or [""])]
    return "".join(f"# {line}\n" if line else "#\n" for line in wrapped)


def yaml_file(data: dict[str, Any], header: Iterable[str] = ()) -> str:
    return _comment(header) + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def yaml_documents(docs: list[dict[str, Any]], header: Iterable[str] = ()) -> str:
    body = yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False,
                              explicit_start=True)
    return _comment(header) + body
