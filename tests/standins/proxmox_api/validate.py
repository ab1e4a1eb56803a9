"""Parameter verification as PVE::JSONSchema does it, driven by the endpoint's schema.

Order and messages follow ``check_object``/``check_prop``/``check_type``/
``parse_property_string`` of pve-common, so a request the real API rejects with 400 is
rejected here with the same per-parameter message. Values arrive as strings (form or query
encoding), lists (repeated keys) or JSON values.
"""

from __future__ import annotations

import re
from typing import Any

from . import formats
from .errors import ApiError, FormatError, param_error
from .schema import Endpoint, property_schema

_NUMBER_RE = re.compile(r"[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?")
_INTEGER_RE = re.compile(r"[+-]?\d+")


def perl_pattern(pattern: str) -> str:
    """Perl's ``(?^:...)``/``(?^i:...)`` (stringified qr//) in Python syntax."""
    return pattern.replace("(?^:", "(?:").replace("(?^i:", "(?i:")


def is_number(value: str) -> bool:
    return _NUMBER_RE.fullmatch(value) is not None


def _perl_type(value: Any) -> str:
    if isinstance(value, bool):
        return "JSON::PP::Boolean"
    return "ARRAY" if isinstance(value, list) else "HASH"


def scalar_text(value: Any) -> Any:
    """JSON numbers and booleans as Perl would see them in string context."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return value


def add_error(errors: dict[str, str], path: str, message: str) -> None:
    path = path or "_root"
    errors[path] = f"{errors[path]}\\n{message}" if path in errors else message


def check_type(path: str, typ: Any, value: Any, errors: dict[str, str]) -> bool:
    if not typ or typ == "any":
        return True
    if typ in ("array", "object"):
        want = list if typ == "array" else dict
        if not isinstance(value, want):
            add_error(errors, path, f"type check ('{typ}') failed")
            return False
        return True
    if typ == "null":
        add_error(errors, path, f"type check ('{typ}') failed - value is not null")
        return False
    if isinstance(value, (list, dict, bool)):
        if typ == "boolean" and isinstance(value, bool):
            return True
        add_error(errors, path, f"type check ('{typ}') failed - got {_perl_type(value)}")
        return False
    ok = {
        "boolean": lambda v: v in ("0", "1"),
        "integer": lambda v: _INTEGER_RE.fullmatch(v) is not None,
        "number": is_number,
    }.get(typ, lambda v: True)(value)
    if not ok:
        add_error(errors, path, f"type check ('{typ}') failed - got '{value}'")
    return ok


def check_format(fmt: Any, value: str, path: str) -> None:
    """Raise FormatError like JSONSchema::check_format."""
    if isinstance(fmt, dict):
        parse_property_string(fmt, value, path)
        return
    if fmt == "regex":
        return
    name, kind = formats.split_format_name(fmt)
    if name in formats.HASH_FORMATS:
        parse_property_string(formats.HASH_FORMATS[name], value, path)
        return
    verifier = formats.VERIFIERS.get(name)
    if verifier is None:
        formats.UNCHECKED.add(fmt)
        return
    if kind == "list":
        for item in formats.split_list(value):
            verifier(item)
    elif kind != "opt" or value:
        verifier(value)


def check_prop(value: Any, schema: dict[str, Any], path: str, errors: dict[str, str]) -> None:
    if schema.get("alias"):
        return
    if value is None:
        if not schema.get("optional") and schema.get("type") != "null":
            add_error(errors, path, "property is missing and it is not optional")
        return
    value = scalar_text(value)
    if not check_type(path, schema.get("type"), value, errors):
        return
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                check_prop(item, items, f"{path}[{i}]", errors)
        return
    if isinstance(value, dict):
        if "properties" in schema or schema.get("additionalProperties"):
            check_object(path, schema.get("properties", {}), value,
                         schema.get("additionalProperties"), errors)
        return
    if isinstance(value, bool):
        return
    _check_scalar(value, schema, path, errors)


def _check_scalar(value: str, schema: dict[str, Any], path: str, errors: dict[str, str]) -> None:
    if schema.get("format"):
        try:
            check_format(schema["format"], value, path)
        except FormatError as err:
            add_error(errors, path, f"invalid format - {err.message}")
            return
    pattern = schema.get("pattern")
    if pattern and not re.search("^" + perl_pattern(pattern) + "$", value):
        add_error(errors, path, "value does not match the regex pattern")
        return
    if schema.get("maxLength") is not None and len(value) > int(schema["maxLength"]):
        add_error(errors, path, f"value may only be {schema['maxLength']} characters long")
        return
    if schema.get("minLength") is not None and len(value) < int(schema["minLength"]):
        add_error(errors, path, f"value must be at least {schema['minLength']} characters long")
        return
    if is_number(value):
        if schema.get("maximum") is not None and float(value) > float(schema["maximum"]):
            add_error(errors, path, f"value must have a maximum value of {schema['maximum']}")
            return
        if schema.get("minimum") is not None and float(value) < float(schema["minimum"]):
            add_error(errors, path, f"value must have a minimum value of {schema['minimum']}")
            return
    enum = schema.get("enum")
    if enum and value not in [str(e) for e in enum]:
        add_error(errors, path, f"value '{value}' does not have a value in the enumeration "
                                f"'{', '.join(str(e) for e in enum)}'")


def check_object(path: str, props: dict[str, dict[str, Any]], value: dict[str, Any],
                 additional: Any, errors: dict[str, str]) -> None:
    for key in list(value):
        target = (props.get(key) or {}).get("alias")
        if target is None:
            continue
        if value.get(target) is not None:
            add_error(errors, f"{path}.{key}" if path else key,
                      f"cannot set both '{key}' and its alias target '{target}'")
        else:
            value[target] = value.pop(key)
    present_indexed = [k for k in value if k not in props and property_schema(props, k)]
    for key in [k for k in props if not k.endswith("[n]")] + present_indexed:
        schema = property_schema(props, key)
        assert schema is not None
        check_prop(value.get(key), schema, f"{path}.{key}" if path else key, errors)
    for key in value:
        newpath = f"{path}.{key}" if path else key
        schema = property_schema(props, key)
        if schema is not None:
            requires = schema.get("requires")
            if isinstance(requires, str) and value.get(requires) is None:
                add_error(errors, f"{path}.{requires}" if path else requires,
                          f"missing property required by '{newpath}'")
            continue
        if additional is not None and not additional:
            add_error(errors, newpath, "property is not defined in schema and the schema does "
                                       "not allow additional properties")


def _parse_boolean(text: str) -> str:
    low = text.lower()
    if low in ("1", "on", "yes", "true"):
        return "1"
    if low in ("0", "off", "no", "false"):
        return "0"
    return text


def parse_property_string(fmt: dict[str, Any], data: str, path: str = "") -> dict[str, str]:
    """JSONSchema::parse_property_string: ``key=value,...`` checked against ``fmt``."""
    res: dict[str, str] = {}
    default_key: str | None = None
    for part in data.split(","):
        if not part.strip():
            continue
        match = re.fullmatch(r"([^=]+)=(.+)", part, re.S)
        if match:
            key, val = match.group(1), match.group(2)
            if key in res:
                raise FormatError(f"duplicate key in comma-separated list property: {key}")
            schema = fmt.get(key)
            if schema and schema.get("alias"):
                if schema.get("keyAlias"):
                    if schema["keyAlias"] in res:
                        raise FormatError(f"key alias '{schema['keyAlias']}' is already defined")
                    res[schema["keyAlias"]] = key
                key = schema["alias"]
                schema = fmt.get(key)
                if key in res:
                    raise FormatError(f"key '{key}' is already defined (via alias)")
            if not schema:
                raise FormatError(f"invalid key in comma-separated list property: {key}")
            res[key] = _parse_boolean(val) if schema.get("type") == "boolean" else val
        elif "=" not in part:
            if default_key:
                raise FormatError(f"duplicate key in comma-separated list property: {default_key}")
            default_key = next((k for k, s in fmt.items() if s.get("default_key")), None)
            if default_key is None:
                raise FormatError("value without key, but schema does not define a default key")
            if default_key in res:
                raise FormatError(f"duplicate key in comma-separated list property: {default_key}")
            is_bool = fmt[default_key].get("type") == "boolean"
            res[default_key] = _parse_boolean(part) if is_bool else part
        else:
            raise FormatError("missing key in comma-separated list property")
    errors: dict[str, str] = {}
    check_object(path, fmt, res, 0, errors)
    if errors:
        raise FormatError("format error\n" + "".join(f"{k}: {v}\n" for k, v in errors.items()))
    return res


def _normalize(params: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    """RESTHandler's normalize_legacy_param_formats (form encoding cannot nest)."""
    out = dict(params)
    for key, value in params.items():
        schema = endpoint.property_schema(key)
        if schema is None or value in (None, ""):
            continue
        fmt = schema.get("format")
        if isinstance(value, list) and schema.get("type") == "string" \
                and isinstance(fmt, str) and fmt.endswith("-list"):
            out[key] = ",".join(str(v) for v in value)
        elif not isinstance(value, list) and schema.get("type") == "array":
            out[key] = [value]
    return out


def typed(value: Any, schema: dict[str, Any]) -> Any:
    typ = schema.get("type")
    if typ == "integer" and isinstance(value, str):
        return int(value)
    if typ == "number" and isinstance(value, str):
        return float(value)
    if typ == "boolean":  # PVE keeps booleans as 1/0 (also in configs it returns)
        return int(value == "1") if isinstance(value, str) else int(bool(value))
    return value


def verify_result(endpoint: Endpoint, data: Any) -> None:
    """RESTHandler's optional result verification against the schema's ``returns``."""
    returns = endpoint.info.get("returns")
    if not returns:
        return
    errors: dict[str, str] = {}
    check_prop(data, returns, "", errors)
    if errors:
        raise ApiError(500, "Result verification failed", dict(sorted(errors.items())))


def validate_params(endpoint: Endpoint, params: dict[str, Any]) -> dict[str, Any]:
    """Return the parameters as Python values, or raise the 400 PVE answers."""
    params = _normalize(params, endpoint)
    errors: dict[str, str] = {}
    check_object("", endpoint.properties, params, endpoint.additional_properties, errors)
    if errors:
        raise param_error(dict(sorted(errors.items())))
    out = {}
    for key, value in params.items():
        schema = endpoint.property_schema(key) or {}
        out[key] = typed(scalar_text(value), schema)
    return out
