"""Topology file → validated :class:`Topology`, or every problem at once."""

from __future__ import annotations

import difflib
import os
import reprlib
from dataclasses import replace
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

if TYPE_CHECKING:
    from .registry import Registry

from .errors import Problem, TopologyError, UsageError
from .topology import Topology
from .validate import check_requirements, check_topology
from .yaml_source import YamlDocument, parse_yaml

REFERENCE = "reference"
MAX_FILE_BYTES = 16 * 1024 * 1024  # the largest lab `init` writes is a few hundred KiB


def reference_text() -> str:
    """The built-in reference lab (the article's two datacentres) as commented YAML."""
    return resources.files("nativek8s.core").joinpath("data/reference.yaml").read_text()


def read_source(path: str | None) -> tuple[str, str]:
    """(text, display name) for a topology file, or the reference lab when path is None."""
    if path is None or path == REFERENCE:
        return reference_text(), "reference"
    file = Path(path)
    if file.is_dir():
        raise UsageError(f"{path}: is a directory; give a topology YAML file")
    try:
        size = file.stat().st_size
    except OSError:
        size = 0  # reported by the read below
    if size > MAX_FILE_BYTES:
        raise UsageError(f"{path}: {size:,} bytes is far too large for a topology (at most "
                         f"{MAX_FILE_BYTES:,}); give a topology YAML file")
    try:
        return file.read_text(encoding="utf-8"), str(path)
    except FileNotFoundError:
        raise UsageError(
            f"{path}: no such file; run `nativek8s init --out {path}` to write one"
        ) from None
    except UnicodeDecodeError:
        raise TopologyError([Problem("", "not a text file (not UTF-8); give a YAML file")],
                            str(path)) from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None


def parse_topology(text: str, source: str | None = None) -> tuple[Topology, YamlDocument]:
    """Structure and types only; raises TopologyError listing every problem."""
    doc = parse_yaml(text)
    if doc.problems:
        raise TopologyError(doc.problems, source)
    if not isinstance(doc.data, dict):
        raise TopologyError([Problem(
            "", f"expected a mapping of settings at the top level, got {_describe(doc.data)}; a "
                "topology starts with `name:` and `datacentres:` (`nativek8s init` writes one)",
            1)], source)
    try:
        topology = Topology.model_validate(doc.data)
    except ValidationError as exc:
        problems = [_problem_from(error, doc) for error in exc.errors()]
        raise TopologyError(problems, source) from None
    return topology, doc


def _problem_from(error: ErrorDetails, doc: YamlDocument) -> Problem:
    loc = [str(part) for part in error["loc"] if not str(part).startswith("function-")]
    # pydantic tags union members ("RouterSpec") in locations; drop class names.
    loc = [part for part in loc if not part[:1].isupper()]
    kind = error["type"]
    given = error.get("input")
    if loc and loc[-1] == "[key]":  # a mapping key of the wrong type, e.g. a number
        loc = loc[:-1]
        path = ".".join(loc)
        return Problem(path, f"the name {given!r} is not text; names start with a letter",
                       doc.line_of(path))
    path = ".".join(loc)
    if kind == "extra_forbidden":
        key = loc[-1]
        allowed = _fields_at(Topology, loc[:-1])
        hint = difflib.get_close_matches(key, allowed, n=1)
        msg = f"unknown key '{key}'"
        msg += f"; did you mean '{hint[0]}'?" if hint else "; remove it"
        msg += f" (allowed here: {', '.join(allowed)})" if allowed else ""
    elif kind == "missing":
        msg = "required key is missing; add it"
        if path == "name":
            msg += " (the lab's name: lower case, at most 10 characters, e.g. `name: lab`)"
    elif kind == "value_error":
        msg = str(error["ctx"]["error"])
    elif kind == "enum":
        msg = f"{given!r} is not allowed; expected one of: {error['ctx']['expected']}"
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        msg = f"expected a whole number, got {_describe(given)}"
    elif kind in ("bool_parsing", "bool_type"):
        msg = f"expected true or false, got {_describe(given)}"
    elif kind in ("dict_type", "model_type", "model_attributes_type"):
        msg = f"expected a mapping (key: value lines), got {_describe(given)}{_mapping_hint(loc, given)}"
    elif kind == "string_type":
        msg = f"expected a text value, got {_describe(given)}"
        if isinstance(given, (int, float)) and not isinstance(given, bool):
            msg += "; put it in quotes (e.g. \"1.10\") so YAML keeps it as written"
    elif kind == "path_type":
        msg = f"expected a file path, got {_describe(given)}"
    elif kind == "string_pattern_mismatch":
        msg = f"{given!r} is not a version such as 1.2.3; write the exact release"
    elif kind == "too_short":
        msg = "must not be empty; add at least one entry"
    else:
        msg = error["msg"]
    return Problem(path, msg, doc.line_of(path))


def _mapping_hint(loc: list[str], given: Any) -> str:
    """What to write instead, for the usual slips (a list, or a bare role)."""
    if given is None:
        return "; write {} for the defaults, or fill it in"
    if len(loc) == 4 and loc[0] == "datacentres" and loc[2] == "nodes" and isinstance(given, str):
        return f"; write `{loc[3]}: {{role: {given}}}`"
    if isinstance(given, list) and all(isinstance(item, str) for item in given) and given:
        names = ", ".join(f"{item}: {{}}" for item in given)
        return f"; write the entries as keys: {{{names}}}"
    return ""


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    names = {str: "text", int: "number", float: "number", bool: "boolean", list: "list",
             dict: "mapping"}
    text = _SHORT.repr(value)  # bounded: never the repr of a whole (aliased) structure
    text = text if len(text) <= 40 else text[:36] + " ..."
    return f"{names.get(type(value), type(value).__name__)} {text}"


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring = 3, 8, 8, 40


def _fields_at(model: type[BaseModel], loc: list[str]) -> list[str]:
    """Field names of the model found by walking loc from the Topology root."""
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return []
            current = _unwrap(field.annotation)
        elif get_origin(current) is dict:
            current = _unwrap(get_args(current)[1])
        else:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Optional[X] → X; everything else as it is."""
    if get_origin(annotation) in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    return annotation


def load_topology(
    path: str | None,
    registry: Registry | None = None,
    *,
    deployable: bool = False,
    **plugin_choices: str | None,
) -> tuple[Topology, list[Problem]]:
    """Read, parse and check a topology (None: the reference lab).

    ``deployable`` (validate, doctor, deploy): the chosen plugins must also be able to work
    together (a hypervisor's requirements of the router OS, say).

    Plugin choices given here (CLI flags) override the file. Returns the topology and its
    warnings; raises :class:`TopologyError` with every problem, located by path and line.
    """
    if registry is not None:
        _check_flags(registry, plugin_choices)
    text, source = read_source(path)
    topology, doc = parse_topology(text, source)
    topology = _resolve_paths(topology.with_plugins(**plugin_choices), path, doc, source)
    errors, warnings = check_topology(topology, registry)
    if not errors and registry is not None:
        for result in registry.pm.hook.nativek8s_validate_topology(topology=topology):
            for problem in result or []:
                (warnings if problem.warning else errors).append(problem)
    if deployable and not errors and registry is not None:
        errors += check_requirements(topology, registry)
    errors = [_locate(p, doc) for p in errors]
    if errors:
        raise TopologyError(errors, source)
    return topology, [_locate(p, doc) for p in warnings]


def _check_flags(registry: Registry, choices: dict[str, str | None]) -> None:
    """A plugin named on the command line must exist: say so about the flag, not the file."""
    from .registry import KIND_TITLES

    bad = [
        f"--{kind} {name}: no {KIND_TITLES[kind]} plugin is named {name!r}; choose one of: "
        f"{registry.choices(kind)}"
        for kind, name in choices.items()
        if name and name not in registry.names(kind)
    ]
    if bad:
        raise UsageError("\n".join(bad))


def _resolve_paths(topology: Topology, path: str | None, doc: YamlDocument,
                   source: str) -> Topology:
    """bgp.password_file made absolute: a relative one is relative to the topology file.

    Absolute, because the plan (which keeps it) outlives the working directory it was made in.
    """
    pw = topology.bgp.password_file
    if pw is None:
        return topology
    try:
        pw = pw.expanduser()
    except RuntimeError:  # ~user of no such user
        user = str(pw).split("/", 1)[0]
        where = "bgp.password_file"
        raise TopologyError([Problem(where, f"{user}: no such user, so {pw} names no file; "
                                            "write the path in full", doc.line_of(where))],
                            source) from None
    if not pw.is_absolute():
        base = Path.cwd() if path in (None, REFERENCE) else Path(os.path.abspath(path)).parent
        pw = base / pw
    bgp = topology.bgp.model_copy(update={"password_file": pw})
    return topology.model_copy(update={"bgp": bgp})


def _locate(problem: Problem, doc: YamlDocument) -> Problem:
    if problem.line is not None:
        return problem
    return replace(problem, line=doc.line_of(problem.path))
