"""Command-line parsing with the behaviour of spf13/cobra + pflag, which helm and the
cilium CLI are built on: long and short flags (`--f=v`, `--f v`, `-f v`, `-fv`),
interspersed positionals, `--` terminator, repeatable array flags, Go duration and bool
syntax, and pflag's error texts for unknown flags and bad values.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOOL, STRING, ARRAY, SLICE, DURATION, INT, FLOAT, MAP = (
    "bool", "string", "stringArray", "stringSlice", "duration", "int", "float32", "stringToString")
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class FlagError(Exception):
    """A parse error, worded as pflag words it."""


@dataclass
class Flag:
    name: str
    kind: str
    default: Any = None
    short: str = ""
    no_opt_default: str | None = None  # value when given without one (e.g. --dry-run)


@dataclass
class Parsed:
    values: dict[str, Any]
    args: list[str]
    given: set[str] = field(default_factory=set)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


def parse_duration(text: str) -> float:
    """Go time.ParseDuration, in seconds."""
    if text in ("0", "+0", "-0"):
        return 0.0
    matches = re.findall(r"(\d+(?:\.\d*)?|\.\d+)([a-zµ]*)", text)
    if not matches or "".join(n + u for n, u in matches) != text.lstrip("+-"):
        raise ValueError(f'time: invalid duration "{text}"')
    total = 0.0
    for number, unit in matches:
        if unit == "":
            raise ValueError(f'time: missing unit in duration "{text}"')
        if unit not in _UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration "{text}"')
        total += float(number) * _UNITS[unit]
    return -total if text.startswith("-") else total


def _convert(flag: Flag, raw: str, current: Any) -> Any:
    def bad(detail: str) -> FlagError:
        return FlagError(f'invalid argument "{raw}" for "{_label(flag)}" flag: {detail}')
    if flag.kind == BOOL:
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise bad(f'strconv.ParseBool: parsing "{raw}": invalid syntax')
    if flag.kind == DURATION:
        try:
            return parse_duration(raw)
        except ValueError as exc:
            raise bad(str(exc)) from None
    if flag.kind == INT:
        try:
            return int(raw, 0)
        except ValueError:
            raise bad(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None
    if flag.kind == FLOAT:
        try:
            return float(raw)
        except ValueError:
            raise bad(f'strconv.ParseFloat: parsing "{raw}": invalid syntax') from None
    if flag.kind == ARRAY:
        return list(current or []) + [raw]
    if flag.kind == SLICE:
        return list(current or []) + [p for p in raw.split(",") if p != ""]
    if flag.kind == MAP:
        out = dict(current or {})
        for pair in raw.split(","):
            if "=" not in pair:
                raise bad(f"{pair} must be formatted as key=value")
            key, value = pair.split("=", 1)
            out[key] = value
        return out
    return raw


def _label(flag: Flag) -> str:
    return f"-{flag.short}, --{flag.name}" if flag.short else f"--{flag.name}"


class FlagSet:
    def __init__(self, flags: list[Flag], normalize: Callable[[str], str] | None = None) -> None:
        self.normalize = normalize or (lambda name: name)
        flags = [dataclasses.replace(f, name=self.normalize(f.name)) for f in flags]
        self.flags = {f.name: f for f in flags}
        self.flags.setdefault("help", Flag("help", BOOL, False, "h"))
        self.shorts = {f.short: f for f in self.flags.values() if f.short}

    def parse(self, argv: list[str]) -> Parsed:
        values = {name: flag.default for name, flag in self.flags.items()}
        given: set[str] = set()
        args: list[str] = []
        index = 0
        while index < len(argv):
            token = argv[index]
            index += 1
            if token == "--":
                args.extend(argv[index:])
                break
            if token.startswith("--") and len(token) > 2:
                name, eq, raw = token[2:].partition("=")
                flag = self.flags.get(self.normalize(name))
                if flag is None:
                    raise FlagError(f"unknown flag: --{name}")
                if not eq:
                    if flag.kind == BOOL:
                        raw = "true"
                    elif flag.no_opt_default is not None:
                        raw = flag.no_opt_default
                    elif index < len(argv):
                        raw = argv[index]
                        index += 1
                    else:
                        raise FlagError(f"flag needs an argument: --{name}")
                values[flag.name] = _convert(flag, raw, values[flag.name])
                given.add(flag.name)
            elif token.startswith("-") and len(token) > 1:
                shorts = token[1:]
                while shorts:
                    letter, shorts = shorts[0], shorts[1:]
                    flag = self.shorts.get(letter)
                    if flag is None:
                        raise FlagError(f"unknown shorthand flag: '{letter}' in {token}")
                    if flag.kind == BOOL:
                        raw = "true"
                        if shorts.startswith("="):
                            raw, shorts = shorts[1:], ""
                    elif shorts:
                        raw, shorts = shorts.removeprefix("="), ""
                    elif index < len(argv):
                        raw = argv[index]
                        index += 1
                    else:
                        raise FlagError(f"flag needs an argument: '{letter}' in -{letter}")
                    values[flag.name] = _convert(flag, raw, values[flag.name])
                    given.add(flag.name)
            else:
                args.append(token)
        return Parsed(values, args, given)


def command_words(argv: list[str], flags: list[Flag]) -> list[str]:
    """Positional words of argv, skipping the values of flags that take one (as cobra's
    stripFlags does before it looks up the subcommand)."""
    takes_value = {f"--{f.name}" for f in flags if f.kind != BOOL and f.no_opt_default is None}
    takes_value |= {f"-{f.short}" for f in flags if f.short and f.kind != BOOL}
    words: list[str] = []
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token == "--":
            break
        elif token.startswith("-"):
            skip = "=" not in token and token in takes_value
        else:
            words.append(token)
    return words
