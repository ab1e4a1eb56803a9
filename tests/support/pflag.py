"""Command-line parsing as spf13/cobra + spf13/pflag do it, for the CLI stand-ins (talosctl, helm,
cilium are all cobra programs).

One emulator, tested against a table of pflag's behaviour (tests/support/test_pflag.py):
interspersed flags and arguments; ``--f=v``, ``--f v``, ``-f v``, ``-fv``, ``-f=v``; bool flags
that take a value only as ``--f=false`` (``NoOptDefVal`` "true"); shorthand clusters ``-abc``;
``--`` ending flags; values converted as the pflag value types do (``strconv.ParseBool``,
``strconv.ParseInt(s, 0, 64)``, ``time.ParseDuration``, ``encoding/csv`` for stringSlice,
first ``Set`` replacing the default and later ones appending); and pflag's error texts.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOOL, STRING, ARRAY, SLICE, DURATION, INT, FLOAT, MAP, ENUM = (
    "bool", "string", "stringArray", "stringSlice", "duration", "int", "float32", "stringToString",
    "enum")
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
          "h": 3600.0}


class FlagError(Exception):
    """A parse error, worded as pflag words it."""


@dataclass(frozen=True)
class Flag:
    name: str
    kind: str
    default: Any = None
    short: str = ""
    no_opt_default: str | None = None  # value when given without one (pflag's NoOptDefVal)
    help: str = ""
    choices: tuple[str, ...] = ()  # ENUM: a custom pflag.Value accepting only these
    hidden: bool = False

    @property
    def takes_value(self) -> bool:
        return self.kind != BOOL and self.no_opt_default is None

    def display(self) -> str:
        """How pflag names the flag in "invalid argument" errors."""
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"


@dataclass
class Parsed:
    values: dict[str, Any]
    args: list[str]
    changed: set[str] = field(default_factory=set)  # flags given on the command line

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


def go_quote(text: str) -> str:
    """strconv.Quote for the texts flags see: backslash, quote and control characters escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(char)])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration, in seconds, with its error texts."""
    invalid = ValueError(f"time: invalid duration {go_quote(text)}")
    rest = text[1:] if text[:1] in ("-", "+") else text
    if rest == "0":
        return 0.0
    if rest == "":
        raise invalid
    total = 0.0
    while rest:
        number = re.match(r"(\d*)(?:\.(\d*))?", rest)
        assert number is not None  # the pattern matches the empty string
        if not (number.group(1) or number.group(2)):  # no digit before or after a period
            raise invalid
        rest = rest[number.end():]
        unit = re.match(r"[^0-9.]*", rest)
        assert unit is not None
        if not unit.group():
            raise ValueError(f"time: missing unit in duration {go_quote(text)}")
        if unit.group() not in _UNITS:
            raise ValueError(f"time: unknown unit {go_quote(unit.group())} in duration {go_quote(text)}")
        rest = rest[unit.end():]
        total += float(number.group()) * _UNITS[unit.group()]
    return -total if text.startswith("-") else total


def parse_int(text: str, bits: int = 64) -> int:
    """strconv.ParseInt(text, 0, bits): sign, 0x/0o/0b/0 prefixes, underscores between digits."""
    syntax = ValueError(f"strconv.ParseInt: parsing {go_quote(text)}: invalid syntax")
    match = re.fullmatch(r"([+-]?)(0[xX]|0[oO]|0[bB]|0(?=[0-9_]))?([0-9a-fA-F_]+)", text)
    if not match:
        raise syntax
    sign, prefix, digits = match.groups()
    base = {"0x": 16, "0o": 8, "0b": 2, "0": 8}.get((prefix or "").lower(), 10)
    # Go allows "_" only between digits or after a base prefix
    if "_" in digits and (digits.endswith("_") or "__" in digits or (digits.startswith("_") and not prefix)):
        raise syntax
    try:
        value = int(digits.replace("_", ""), base)
    except ValueError:
        raise syntax from None
    value = -value if sign == "-" else value
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise ValueError(f"strconv.ParseInt: parsing {go_quote(text)}: value out of range")
    return value


def parse_float(text: str) -> float:
    """strconv.ParseFloat for decimal forms, infinities and NaN."""
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|infinity|nan)", text, re.I):
        return float(text)
    raise ValueError(f"strconv.ParseFloat: parsing {go_quote(text)}: invalid syntax")


def parse_bool(text: str) -> bool:
    """strconv.ParseBool."""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"strconv.ParseBool: parsing {go_quote(text)}: invalid syntax")


def read_csv_record(text: str) -> list[str]:
    """One record of Go's encoding/csv (what pflag's stringSlice reads): RFC 4180 quoting,
    no bare quotes, "parse error on line 1, column N: ..." with N the quote's 1-based column."""
    fields: list[str] = []
    pos = 0
    while True:
        if not text[pos:].startswith('"'):
            end = text.find(",", pos)
            value = text[pos:] if end < 0 else text[pos:end]
            if '"' in value:
                column = pos + value.index('"') + 1
                raise ValueError(f'parse error on line 1, column {column}: bare " in non-quoted-field')
            fields.append(value)
            if end < 0:
                return fields
            pos = end + 1
            continue
        pos += 1
        value = ""
        while True:
            quote = text.find('"', pos)
            if quote < 0:
                raise ValueError(f'parse error on line 1, column {len(text) + 1}: '
                                 'extraneous or missing " in quoted-field')
            value += text[pos:quote]
            pos = quote + 1
            if text[pos:pos + 1] == '"':
                value += '"'
                pos += 1
            elif text[pos:pos + 1] == ",":
                fields.append(value)
                pos += 1
                break
            elif pos == len(text):
                fields.append(value)
                return fields
            else:
                raise ValueError(f'parse error on line 1, column {pos}: '
                                 'extraneous or missing " in quoted-field')


def _string_to_string(raw: str) -> dict[str, str]:
    """pflag's stringToString: one "=" means one pair (commas and all), more go through csv."""
    count = raw.count("=")
    if count == 0:
        raise ValueError(f"{raw} must be formatted as key=value")
    pairs = [raw.strip('"')] if count == 1 else read_csv_record(raw)
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"{pair} must be formatted as key=value")
        key, value = pair.split("=", 1)
        out[key] = value
    return out


def convert(flag: Flag, raw: str) -> Any:
    """The value one ``Set(raw)`` gives (a list or dict for the repeatable kinds)."""
    if flag.kind == BOOL:
        return parse_bool(raw)
    if flag.kind == DURATION:
        return parse_duration(raw)
    if flag.kind == INT:
        return parse_int(raw)
    if flag.kind == FLOAT:
        return parse_float(raw)
    if flag.kind == SLICE:
        return read_csv_record(raw) if raw else []
    if flag.kind == ARRAY:
        return [raw]
    if flag.kind == MAP:
        return _string_to_string(raw)
    if flag.kind == ENUM and raw not in flag.choices:
        raise ValueError(f"possible options are: {', '.join(sorted(flag.choices))}")
    return raw


class FlagSet:
    """A command's flags (local and inherited); cobra adds ``-h, --help`` to every command."""

    def __init__(self, flags: list[Flag], normalize: Callable[[str], str] | None = None) -> None:
        self.normalize = normalize or (lambda name: name)
        self.flags = {self.normalize(f.name): dataclasses.replace(f, name=self.normalize(f.name))
                      for f in flags}
        self.flags.setdefault("help", Flag("help", BOOL, False, "h"))
        self.shorts = {f.short: f for f in self.flags.values() if f.short}

    def parse(self, argv: list[str]) -> Parsed:
        parsed = Parsed({name: _copy(flag.default) for name, flag in self.flags.items()}, [])
        rest = list(argv)
        while rest:
            token = rest.pop(0)
            if len(token) < 2 or not token.startswith("-"):
                parsed.args.append(token)
            elif token == "--":
                parsed.args.extend(rest)
                break
            elif token.startswith("--"):
                self._long(token, rest, parsed)
            else:
                shorts = token[1:]
                while shorts:
                    shorts = self._short(shorts, rest, parsed)
        return parsed

    def _long(self, token: str, rest: list[str], parsed: Parsed) -> None:
        body = token[2:]
        if body[:1] in ("-", "="):
            raise FlagError(f"bad flag syntax: {token}")
        name, eq, raw = body.partition("=")
        flag = self.flags.get(self.normalize(name))
        if flag is None:
            raise FlagError(f"unknown flag: --{name}")
        if not eq:
            if not flag.takes_value:
                raw = flag.no_opt_default if flag.no_opt_default is not None else "true"
            elif rest:
                raw = rest.pop(0)
            else:
                raise FlagError(f"flag needs an argument: {token}")
        self._set(flag, raw, parsed)

    def _short(self, shorts: str, rest: list[str], parsed: Parsed) -> str:
        """Consume one shorthand of a cluster; return what is left of the cluster."""
        letter, left = shorts[0], shorts[1:]
        flag = self.shorts.get(letter)
        if flag is None:
            raise FlagError(f"unknown shorthand flag: '{letter}' in -{shorts}")
        if len(shorts) > 2 and shorts[1] == "=":
            raw, left = shorts[2:], ""
        elif not flag.takes_value:
            raw = flag.no_opt_default if flag.no_opt_default is not None else "true"
        elif left:
            raw, left = left, ""
        elif rest:
            raw = rest.pop(0)
        else:
            raise FlagError(f"flag needs an argument: '{letter}' in -{shorts}")
        self._set(flag, raw, parsed)
        return left

    @staticmethod
    def _set(flag: Flag, raw: str, parsed: Parsed) -> None:
        try:
            value = convert(flag, raw)
        except ValueError as exc:
            raise FlagError(f"invalid argument {go_quote(raw)} for {go_quote(flag.display())} flag: {exc}") \
                from None
        first = flag.name not in parsed.changed
        if flag.kind in (SLICE, ARRAY) and not first:
            value = parsed.values[flag.name] + value
        elif flag.kind == MAP and not first:
            value = {**parsed.values[flag.name], **value}
        parsed.values[flag.name] = value
        parsed.changed.add(flag.name)


def _copy(default: Any) -> Any:
    return type(default)(default) if isinstance(default, list | dict) else default


def parse(flags: list[Flag], argv: list[str]) -> Parsed:
    """Parse argv (the command path removed) against flags."""
    return FlagSet(flags).parse(argv)


def command_words(argv: list[str], flags: list[Flag]) -> list[str]:
    """The words cobra looks a subcommand up by (its stripFlags): flags dropped, and the word
    after a ``--flag`` or ``-f`` that is not known to need no value dropped with it."""
    no_value = {f.name for f in flags if not f.takes_value}
    short_no_value = {f.short for f in flags if f.short and not f.takes_value}
    words: list[str] = []
    rest = list(argv)
    while rest:
        token = rest.pop(0)
        if token == "--":
            break
        long_with_value = token.startswith("--") and "=" not in token and token[2:] not in no_value
        short_with_value = (token.startswith("-") and "=" not in token and len(token) == 2
                            and token[1:] not in short_no_value)
        if long_with_value or short_with_value:
            if len(rest) <= 1:
                break
            rest.pop(0)
        elif token and not token.startswith("-"):
            words.append(token)
    return words


def usage(command_path: str, use: str, flags: list[Flag], inherited: list[Flag]) -> str:
    """A cobra-like usage block (its content, not byte-exact)."""

    def lines(group: list[Flag]) -> str:
        rows = []
        for f in sorted((f for f in group if not f.hidden), key=lambda f: f.name):
            left = f"  -{f.short}, --{f.name}" if f.short else f"      --{f.name}"
            type_name = "" if f.kind == BOOL else " " + {SLICE: "strings", ENUM: "string"}.get(f.kind, f.kind)
            rows.append(f"{left}{type_name}\t{f.help}")
        return "\n".join(rows)

    text = f"Usage:\n  {command_path.rsplit(' ', 1)[0]} {use}\n\nFlags:\n{lines(flags)}\n"
    if inherited:
        text += f"\nGlobal Flags:\n{lines(inherited)}\n"
    return text
