"""YAML reading that remembers where each value came from.

Errors name the YAML path *and* the line, and duplicate keys (a silent overwrite in plain
PyYAML) are refused. Hostile files are refused quickly and in bounded memory: nesting
deeper than MAX_DEPTH, aliases that expand to more than MAX_ALIAS_EXPANSION extra values
(a "billion laughs"), control characters and numbers longer than MAX_DIGITS.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import yaml
import yaml.reader

from .errors import Problem

MAX_DEPTH = 32  # a topology nests 5 levels; plugin options a few more
MAX_ALIAS_EXPANSION = 10_000  # values aliases may add beyond those written out
MAX_DIGITS = 20  # every number of a topology fits 64 bits
MAX_TEXT = 4096  # characters of one value or key: a path fits (PATH_MAX)
_INT_TAG = "tag:yaml.org,2002:int"
_ALLOWED_CONTROLS = {"\t", "\n"}


class _TooDeep(yaml.YAMLError):
    def __init__(self, line: int):
        super().__init__("too deep")
        self.line = line


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses nesting deeper than MAX_DEPTH (PyYAML composes recursively:
    a deep file would end in RecursionError)."""

    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


@dataclass
class YamlDocument:
    """Parsed data plus the line of every dotted path in it."""

    data: Any
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: str) -> int | None:
        # Fall back to the nearest enclosing key the user wrote; for a top-level key that
        # is missing or left to its default, the document's first line.
        while True:
            if path in self.lines:
                return self.lines[path]
            if "." not in path:
                return self.lines.get(path, self.lines.get(""))
            path = path.rsplit(".", 1)[0]


def join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _scalar_problem(node: yaml.ScalarNode, path: str) -> Problem | None:
    line = node.start_mark.line + 1
    text = str(node.value)
    bad = next((c for c in text if unicodedata.category(c) == "Cc"
                and c not in _ALLOWED_CONTROLS), None)
    if bad is not None:
        return Problem(path, f"holds the control character U+{ord(bad):04X}; remove it", line)
    if node.tag == _INT_TAG and sum(c.isdigit() for c in text) > MAX_DIGITS:
        return Problem(path, f"a number of {sum(c.isdigit() for c in text)} digits is far too "
                             "large for any setting here", line)
    if len(text) > MAX_TEXT:
        return Problem(path, f"a value of {len(text):,} characters is far too long for any "
                             f"setting here (at most {MAX_TEXT:,})", line)
    if text.startswith("~") and os.path.expanduser(text) == text:
        user = text.split("/", 1)[0]
        return Problem(path, f"{user}: no such user, so {text} names no file; write the path "
                             "in full", line)
    return None


def _expanded_size(node: yaml.Node, memo: dict[int, int], active: set[int]) -> int:
    """How many values the node stands for once every alias is expanded (aliases share
    one node object in the composed tree; constructing or validating repeats them)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise _SelfAlias(node.start_mark.line + 1)
    active.add(key)
    size = 1
    if isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, memo, active) + _expanded_size(v, memo, active)
                    for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, memo, active) for item in node.value)
    active.discard(key)
    memo[key] = size
    return size


class _SelfAlias(Exception):
    def __init__(self, line: int):
        super().__init__(line)
        self.line = line


def _walk(node: yaml.Node, path: str, doc: YamlDocument, seen_nodes: set[int]) -> None:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen_nodes:
        return  # an alias: walked once already (and nested aliases must not blow up)
    seen_nodes.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        if problem := _scalar_problem(node, path):
            doc.problems.append(problem)
    elif isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if isinstance(key_node, yaml.ScalarNode) and (
                    problem := _scalar_problem(key_node, join(path, key.encode(
                        "unicode_escape").decode()))):
                doc.problems.append(problem)
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


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> Problem:
    before = text[:exc.position]
    line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
    char = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return Problem("", f"the control character U+{ord(char):04X} at column {column} is not "
                       "allowed in YAML; remove it", line)


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document; syntax errors become a Problem with its line."""
    try:
        loader = _UniqueKeyLoader(text)  # the reader checks every character here
    except yaml.reader.ReaderError as exc:
        return YamlDocument(None, problems=[_reader_problem(text, exc)])
    try:
        # One parse: compose the node tree (for lines), then construct from that tree.
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(
                None, problems=[Problem("", "the file is empty; run `nativek8s init` for a start")]
            )
        doc = YamlDocument(None)
        written: dict[int, int] = {}
        size = _expanded_size(node, written, set())
        if size - len(written) > MAX_ALIAS_EXPANSION:
            return YamlDocument(None, problems=[Problem(
                "", f"aliases (*name) here expand to {size:,} values from {len(written):,} "
                    f"written; at most {MAX_ALIAS_EXPANSION:,} more are allowed: write the "
                    "values out", _first_alias_line(text))])
        _walk(node, "", doc, set())
        if not doc.problems:
            doc.data = loader.construct_document(node)
        return doc
    except _TooDeep as exc:
        return YamlDocument(None, problems=[Problem(
            "", f"values nest deeper than {MAX_DEPTH} levels; a topology needs a few", exc.line)])
    except _SelfAlias as exc:
        return YamlDocument(None, problems=[Problem(
            "", "an alias refers to the value that contains it (an endless value); remove it",
            exc.line)])
    except yaml.reader.ReaderError as exc:
        return YamlDocument(None, problems=[_reader_problem(text, exc)])
    except yaml.YAMLError as exc:
        return YamlDocument(None, problems=[_syntax_problem(exc)])
    finally:
        loader.dispose()


def _first_alias_line(text: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if "*" in line.split("#", 1)[0]:
            return number
    return None
