"""Request bodies as pve-http-server decodes them: url-encoded, JSON, and upload multipart.

Uploads are parsed the way ``file_upload_multipart`` does: optional ``content``,
``checksum-algorithm`` and ``checksum`` fields first, then one file part whose field name
must be ``filename``; the part's file name becomes the ``filename`` parameter.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from .errors import ApiError, die
from .handlers import Upload

UPLOAD_FIELDS = ("content", "checksum-algorithm", "checksum")


def _unescape(text: str) -> str:
    return unquote_to_bytes(text.replace("+", " ")).decode("utf-8", "replace")


def decode_urlencoded(data: str) -> dict[str, Any]:
    """decode_urlencoded: ``&``/``;`` separated, repeated keys become lists, bare keys None."""
    res: dict[str, Any] = {}
    for kv in re.split(r"[&;]", data or ""):
        if not kv:
            continue
        key, sep, value = kv.partition("=")
        k = _unescape(key)
        v: Any = _unescape(value) if sep else None
        if v is not None and res.get(k) is not None:
            old = res[k]
            v = [*old, v] if isinstance(old, list) else [old, v]
        res[k] = v
    return res


def content_type(header: str | None) -> tuple[str | None, str | None]:
    """(type, boundary) like parse_content_type."""
    if not header:
        return None, None
    ct, *params = re.split(r"\s*[;,]\s*", header)
    for p in params:
        m = re.fullmatch(r"\s*boundary\s*=\s*(\S+?)\s*", p)
        if m:
            return ct, m.group(1).strip('"')
    return ct, None


def decode_body(header: str | None, body: bytes) -> dict[str, Any]:
    ct, _ = content_type(header)
    if not body:
        return {}
    if ct == "application/json":
        try:
            data = json.loads(body)
        except ValueError as err:
            raise die(f"malformed JSON string: {err}") from None
        return data if isinstance(data, dict) else {}
    if ct in (None, "application/x-www-form-urlencoded"):
        return decode_urlencoded(body.decode("utf-8", "replace"))
    raise ApiError(506, f"upload 'Content-Type '{header}' not implemented")


def _disposition(head: bytes) -> tuple[str, str | None]:
    text = head.decode("utf-8", "replace")
    m = re.search(r'Content-Disposition: (.*?); name="(.*?)"(?:; filename="([^"]+)")?', text)
    if not m:
        raise die("upload failed")
    if m.group(1) != "form-data":
        raise die(f"wrong content disposition '{m.group(1)}'")
    return m.group(2), m.group(3)


def parse_upload(header: str | None, body: bytes) -> tuple[dict[str, str], Upload]:
    ct, boundary = content_type(header)
    if ct != "multipart/form-data" or not boundary:
        raise die(f"upload 'Content-Type '{header}' not implemented")
    params: dict[str, str] = {}
    for raw in body.split(b"--" + boundary.encode())[1:]:
        if raw.startswith(b"--"):
            break
        raw = raw[2:] if raw.startswith(b"\r\n") else raw[1:] if raw.startswith(b"\n") else raw
        parts = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)
        head, data = parts[0], parts[1] if len(parts) > 1 else b""
        data = data[:-2] if data.endswith(b"\r\n") else data[:-1] if data.endswith(b"\n") else data
        name, filename = _disposition(head)
        if filename is not None:
            if name != "filename":
                raise die(f"wrong field name '{name}' for file upload, expected 'filename'")
            params["filename"] = filename.strip()
            return params, Upload(filename.strip(), data)
        if name not in UPLOAD_FIELDS:
            raise die("upload failed")
        params[name] = data.decode("utf-8", "replace").strip()
    raise die("upload failed")
