"""Command-line parsing that behaves like spf13/cobra + spf13/pflag, as talosctl uses them.

Part of the talosctl stand-in (see ``talos_cli``). It reproduces what a caller can observe:
interspersed flags and arguments, ``--flag=value`` / ``--flag value`` / ``-fvalue`` /
``-f value`` forms, bool flags that take a value only as ``--flag=false``, repeatable slice
and array flags, ``--`` ending flags, and pflag's exact error texts (``unknown flag: --x``,
``flag needs an argument: --file``, ``invalid argument "x" for "-m, --merge" flag: ...``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from typing import Any

_BOOL_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_BOOL_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class UsageError(Exception):
    """A command-line error; talosctl prints it followed by the command's usage."""


@dataclass(frozen=True)
class Flag:
    name: str
    kind: str  # bool | string | stringSlice | stringArray | duration | enum
    short: str = ""
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()
    hidden: bool = False

    def display(self) -> str:
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"


@dataclass
class Parsed:
    values: dict[str, Any]
    args: list[str]
    changed: set[str] = field(default_factory=set)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


def parse_go_duration(text: str) -> float:
    """Parse a Go ``time.Duration`` string (``1m30s``, ``500ms``, ``0``) into seconds."""
    if text in {"0", "+0", "-0"}:
        return 0.0
    sign, rest = (-1.0, text[1:]) if text.startswith("-") else (1.0, text.lstrip("+"))
    pos, total = 0, 0.0
    for match in _DURATION_RE.finditer(rest):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not rest or pos != len(rest):
        raise ValueError(f"time: invalid duration {_go_quote(text)}")
    return sign * total


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _convert(flag: Flag, raw: str) -> Any:
    if flag.kind == "bool":
        if raw in _BOOL_TRUE:
            return True
        if raw in _BOOL_FALSE:
            return False
        raise ValueError(f"strconv.ParseBool: parsing {_go_quote(raw)}: invalid syntax")
    if flag.kind == "duration":
        return parse_go_duration(raw)
    if flag.kind == "enum" and raw not in flag.choices:
        raise ValueError(f"possible options are: {', '.join(sorted(flag.choices))}")
    if flag.kind == "stringSlice":
        return next(csv.reader([raw])) if raw else []
    return raw


def _initial(flag: Flag) -> Any:
    if flag.kind in {"stringSlice", "stringArray"}:
        return list(flag.default or [])
    return flag.default


def parse(flags: list[Flag], argv: list[str]) -> Parsed:
    """Parse ``argv`` (command path already removed) against ``flags``."""
    by_name = {f.name: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    values = {f.name: _initial(f) for f in flags}
    changed: set[str] = set()
    args: list[str] = []

    def store(flag: Flag, raw: str) -> None:
        try:
            value = _convert(flag, raw)
        except ValueError as exc:
            raise UsageError(f'invalid argument "{raw}" for "{flag.display()}" flag: {exc}') from None
        if flag.kind in {"stringSlice", "stringArray"}:
            if flag.name not in changed:
                values[flag.name] = []
            values[flag.name].extend(value if flag.kind == "stringSlice" else [value])
        else:
            values[flag.name] = value
        changed.add(flag.name)

    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":
            args.extend(argv[i:])
            break
        if token.startswith("--") and len(token) > 2:
            name, eq, raw = token[2:].partition("=")
            flag = by_name.get(name)
            if flag is None:
                raise UsageError(f"unknown flag: --{name}")
            if eq:
                store(flag, raw)
            elif flag.kind == "bool":
                store(flag, "true")
            elif i < len(argv):
                store(flag, argv[i])
                i += 1
            else:
                raise UsageError(f"flag needs an argument: --{name}")
        elif token.startswith("-") and len(token) > 1 and token != "-":
            i = _parse_shorts(token, argv, i, by_short, store)
        else:
            args.append(token)
    return Parsed(values=values, args=args, changed=changed)


def _parse_shorts(token: str, argv: list[str], i: int, by_short: dict[str, Flag], store: Any) -> int:
    cluster = token[1:]
    while cluster:
        char, cluster = cluster[0], cluster[1:]
        flag = by_short.get(char)
        if flag is None:
            raise UsageError(f"unknown shorthand flag: '{char}' in {token}")
        if cluster.startswith("="):
            store(flag, cluster[1:])
            return i
        if flag.kind == "bool":
            store(flag, "true")
            continue
        if cluster:
            store(flag, cluster)
            return i
        if i < len(argv):
            store(flag, argv[i])
            return i + 1
        raise UsageError(f"flag needs an argument: '{char}' in {token}")
    return i


def usage(command_path: str, use: str, flags: list[Flag], inherited: list[Flag]) -> str:
    """A cobra-like usage block (content, not byte-exact)."""

    def lines(group: list[Flag]) -> str:
        rows = []
        for f in sorted((f for f in group if not f.hidden), key=lambda f: f.name):
            left = f"  -{f.short}, --{f.name}" if f.short else f"      --{f.name}"
            type_name = (
                ""
                if f.kind == "bool"
                else " " + {"stringSlice": "strings", "enum": "string"}.get(f.kind, f.kind)
            )
            rows.append(f"{left}{type_name}\t{f.help}")
        return "\n".join(rows)

    text = f"Usage:\n  {command_path.rsplit(' ', 1)[0]} {use}\n\nFlags:\n{lines(flags)}\n"
    if inherited:
        text += f"\nGlobal Flags:\n{lines(inherited)}\n"
    return text
