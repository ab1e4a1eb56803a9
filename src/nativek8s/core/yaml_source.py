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


def _walk(node: yaml.Node, path: str, doc: YamlDocument, seen_nodes: set[int]) -> None:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen_nodes:
        return  # an alias: walked once already (and nested aliases must not blow up)
    seen_nodes.add(id(node))
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
            _walk(value_node, child, doc, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, join(path, index), doc, seen_nodes)


def _syntax_problem(exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if problem == "but found another document":
        return Problem("", "the file holds more than one YAML document ('---'); keep only one",
                       mark.line + 1 if mark else None)
    what = f"{context}: {problem}" if context else problem
    if mark is not None:
        what += f", column {mark.column + 1}"
    if "'\\t'" in problem:
        hint = "indent with spaces: YAML does not allow tabs"
    elif "constructor" in problem:
        hint = "remove the tag: only plain YAML values are allowed"
    else:
        hint = "check the indentation, colons, quotes and brackets there"
    return Problem("", f"not valid YAML ({what}); {hint}", mark.line + 1 if mark else None)


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; syntax errors become a Problem with its line."""
    loader = _UniqueKeyLoader(text)
    try:
        # One parse: compose the node tree (for lines), then construct from that tree.
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(
                None, problems=[Problem("", "the file is empty; run `nativek8s init` for a start")]
            )
        doc = YamlDocument(None)
        _walk(node, "", doc, set())
        doc.data = loader.construct_document(node)
        return doc
    except yaml.YAMLError as exc:
        return YamlDocument(None, problems=[_syntax_problem(exc)])
    finally:
        loader.dispose()
