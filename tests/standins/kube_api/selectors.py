"""Label and field selectors as in k8s.io/apimachinery/pkg/labels and fields.

Label selectors: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-ANDed.
Field selectors: `metadata.name`, `metadata.namespace`, and for pods `spec.nodeName` and
`status.phase` (=, ==, !=); other fields are answered 400 as on the real server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import errors

Predicate = Callable[[dict[str, Any]], bool]

_SET = re.compile(r"^\s*([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ = re.compile(r"^\s*([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^\s!=(),]+)\s*$")


def _split(selector: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return parts


LabelTest = Callable[[dict[str, str]], bool]


def _set_test(key: str, inside: bool, values: set[str]) -> LabelTest:
    return lambda labels: (labels.get(key) in values) == inside


def _equal_test(key: str, value: str, equal: bool) -> LabelTest:
    return lambda labels: (labels.get(key) == value) == equal


def _exists_test(key: str, present: bool) -> LabelTest:
    return lambda labels: (key in labels) == present


def _field_test(top: str, attr: str, value: str, equal: bool) -> Predicate:
    return lambda obj: ((obj.get(top) or {}).get(attr, "") == value) == equal


def label_selector(selector: str | None) -> Predicate:
    if not selector:
        return lambda obj: True
    tests: list[LabelTest] = []
    for term in _split(selector):
        if match := _SET.match(term):
            values = {v.strip() for v in match.group(3).split(",")}
            tests.append(_set_test(match.group(1), match.group(2) == "in", values))
        elif match := _EQ.match(term):
            key, op, value = match.groups()
            tests.append(_equal_test(key, value, op != "!="))
        elif match := _EXISTS.match(term):
            tests.append(_exists_test(match.group(2), match.group(1) != "!"))
        else:
            raise errors.bad_request(f"unable to parse requirement: found '{term.strip()}', "
                                     "expected: in, notin, =, ==, !=, gt, lt")

    def predicate(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(test(labels) for test in tests)
    return predicate


def field_selector(selector: str | None, kind: str) -> Predicate:
    if not selector:
        return lambda obj: True
    tests: list[Predicate] = []
    for term in selector.split(","):
        match = _EQ.match(term)
        if not match:
            raise errors.bad_request(f"invalid selector: '{selector}'; can't understand '{term}'")
        field, op, value = match.groups()
        allowed = {"metadata.name", "metadata.namespace"} | (
            {"spec.nodeName", "status.phase"} if kind == "Pod" else set())
        if field not in allowed:
            raise errors.bad_request(f'field label not supported: {field}')
        top, attr = field.split(".", 1)
        tests.append(_field_test(top, attr, value, op != "!="))
    return lambda obj: all(test(obj) for test in tests)
