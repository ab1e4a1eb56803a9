"""Label and field selectors as in k8s.io/apimachinery/pkg/labels and fields.

Label selectors: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-ANDed.
Field selectors: `metadata.name`, `metadata.namespace`, and for pods `spec.nodeName` and
`status.phase` (=, ==, !=); other fields are answered 400 as on the real server.
"""

from __future__ import annotations

import re
from typing import Any, Callable

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


def label_selector(selector: str | None) -> Predicate:
    if not selector:
        return lambda obj: True
    tests: list[Callable[[dict[str, str]], bool]] = []
    for term in _split(selector):
        if match := _SET.match(term):
            key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
            if op == "in":
                tests.append(lambda l, k=key, v=values: l.get(k) in v)
            else:
                tests.append(lambda l, k=key, v=values: l.get(k) not in v)
        elif match := _EQ.match(term):
            key, op, value = match.groups()
            if op == "!=":
                tests.append(lambda l, k=key, v=value: l.get(k) != v)
            else:
                tests.append(lambda l, k=key, v=value: l.get(k) == v)
        elif match := _EXISTS.match(term):
            negate, key = match.group(1) == "!", match.group(2)
            tests.append(lambda l, k=key, n=negate: (k in l) != n)
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
        if op == "!=":
            tests.append(lambda o, t=top, a=attr, v=value: (o.get(t) or {}).get(a, "") != v)
        else:
            tests.append(lambda o, t=top, a=attr, v=value: (o.get(t) or {}).get(a, "") == v)
    return lambda obj: all(test(obj) for test in tests)
