"""YAML reading that remembers where each value came from.

Errors name the YAML path *and* the line, and duplicate keys (a silent overwrite in plain
PyYAML) are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Problem


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that records duplicate mapping keys instead of overwriting."""


@dataclass
class YamlDocument:
    """Parsed data plus the line of every dotted path in it."""

    data: Any
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: str) -> int | None:
        # Fall back to the nearest enclosing path that has a line.
        while True:
            if path in self.lines:
                return self.lines[path]
            if "." not in path:
                return self.lines.get(path)
            path = path.rsplit(".", 1)[0]


def join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _walk(node: yaml.Node, path: str, doc: YamlDocument) -> None:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = join(path, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                doc.problems.append(
                    Problem(child, f"duplicate key (first given on line {seen[key]}); keep one", line)
                )
            seen[key] = line
            doc.lines[child] = line
            _walk(value_node, child, doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, join(path, index), doc)


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; syntax errors become a Problem with its line."""
    try:
        node = yaml.compose(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc)
        return YamlDocument(None, problems=[Problem("", f"not valid YAML: {what}", line)])
    if node is None:
        return YamlDocument(
            None, problems=[Problem("", "the file is empty; run `nativek8s init` for a start")]
        )
    doc = YamlDocument(None)
    _walk(node, "", doc)
    doc.data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    return doc
