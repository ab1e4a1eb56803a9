"""One request through the stand-in, in the order pve-proxy/pvedaemon handle it.

Order (pve-http-server AnyEvent.pm, pve-manager PVE/HTTPServer.pm ``auth_handler`` and
``rest_handler``): URI format -> authentication (401 ``No ticket`` / ``Authentication
failed!``) -> body decoding -> schema lookup (501 ``Method 'GET /x' not implemented``) ->
URI/body parameter conflicts -> ``allowtoken`` -> schema permissions (403) -> parameter
verification (400) -> handler. Errors answer ``{"data": null, "message": ..., "errors":
...}`` with the message's first line as HTTP reason phrase.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .errors import ApiError, param_error, perm_error
from .handlers import Ctx, Upload, load_all
from .handlers.storage import new_tmpfilename
from .multipart import decode_body, decode_urlencoded, parse_upload
from .perms import Checker
from .schema import ApiSchema
from .state import State
from .validate import validate_params, verify_result

log = logging.getLogger(__name__)

NO_AUTH = {("GET", "/access/domains"), ("GET", "/access/ticket"), ("POST", "/access/ticket"),
           ("POST", "/access/vncticket"), ("POST", "/access/openid/login"),
           ("POST", "/access/openid/auth-url")}
_UPLOAD_RE = re.compile(r"^/nodes/([^/]+)/storage/([^/]+)/upload$")


@dataclass
class RequestFault:
    """An injected handler failure for matching requests (``times=None``: every one)."""

    method: str | None
    template: str | None
    error: ApiError
    times: int | None


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""


@dataclass
class Response:
    status: int
    message: str
    body: bytes | None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        first = (self.message.splitlines() or [""])[0]
        return first or "OK"


def _json(status: int, message: str, payload: dict[str, Any]) -> Response:
    return Response(status, message, json.dumps(payload).encode(),
                    {"Content-Type": "application/json;charset=UTF-8"})


def error_response(err: ApiError) -> Response:
    payload: dict[str, Any] = {"data": None, "message": err.message}
    if err.errors:
        payload["errors"] = err.errors
    return _json(err.status, err.message, payload)


def _auth_value(header: str, key: str) -> str | None:
    m = re.search(rf"(?:^|\s){re.escape(key)}(?:=| )([^;]*)", header or "")
    return unquote(m.group(1)) if m and m.group(1) else None


class Api:
    def __init__(self, schema: ApiSchema, state: State) -> None:
        self.schema = schema
        self.state = state
        self.routes = load_all()
        self.requests: list[tuple[str, str, int]] = []  # (method, rel path, status), for asserts
        self.faults: list[RequestFault] = []
        self.auth_failure_delay = 0.0  # PVE delays every 401 by 3 s; tests keep it 0
        # Check every answer against the schema's 'returns' (PVE can, but does not by default):
        # keeps the simulated data in the shape the real API documents.
        self.verify_results = True

    def fail_next(self, method: str | None = None, template: str | None = None, *,
                  status: int = 500, message: str = "cluster not ready - no quorum?",
                  errors: dict[str, str] | None = None, times: int | None = 1) -> None:
        """Make the handler of matching requests (schema template such as
        ``/nodes/{node}/qemu``) fail as PVE would with ``status``/``message``, after
        authentication, permission checks and parameter verification passed."""
        self.faults.append(RequestFault(method, template, ApiError(status, message, errors), times))

    def _injected(self, method: str, template: str) -> ApiError | None:
        for fault in self.faults:
            if fault.method not in (None, method) or fault.template not in (None, template):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            return fault.error
        return None

    def handle(self, req: Request) -> Response:
        m = re.fullmatch(r"/api2/(\w+)(/.*)?", req.path)
        if not m:
            return Response(501, "no such uri", None)
        fmt, rel = m.group(1), m.group(2) or "/"
        if fmt != "json":
            return Response(501, f"no formatter for uri {rel}, {fmt}", None)
        try:
            resp = self._handle(req, rel)
        except ApiError as err:
            resp = error_response(err) if err.status != 401 else Response(401, err.message, None)
            if err.status == 401 and self.auth_failure_delay:
                time.sleep(self.auth_failure_delay)
        except Exception as exc:  # a stand-in bug: answer like PVE's 500, keep the trace
            log.error("stand-in failure on %s %s\n%s", req.method, rel, traceback.format_exc())
            resp = error_response(ApiError(500, f"stand-in internal error: {exc}"))
        self.requests.append((req.method, rel, resp.status))
        return resp

    def _authenticate(self, req: Request, rel: str) -> tuple[str | None, bool]:
        """Authenticated subject and whether it came from an API token."""
        if (req.method, rel) in NO_AUTH:
            return None, False
        header = req.headers.get("authorization", "")
        cookie = _auth_value(req.headers.get("cookie", ""), "PVEAuthCookie")
        ticket = cookie or _auth_value(header, "PVEAuthCookie")
        if not ticket:
            token = _auth_value(header, "PVEAPIToken")
            if token is None:
                raise ApiError(401, "No ticket")
            subject = self.state.verify_token(token)
            if subject is None:
                raise ApiError(401, "Authentication failed!")
            return subject, True
        known = self.state.tickets.get(ticket)
        if known is None:
            raise ApiError(401, "Authentication failed!")
        userid, csrf = known
        if req.method != "GET" and not _UPLOAD_RE.match(rel) \
                and req.headers.get("csrfpreventiontoken") != csrf:
            raise ApiError(401, "Permission denied - invalid csrf token")
        return userid, False

    def _handle(self, req: Request, rel: str) -> Response:
        subject, is_token = self._authenticate(req, rel)
        checker = Checker(subject or "", self.state.acl_of(subject or ""))
        upload: Upload | None = None
        length = len(req.body)
        if length and req.method not in ("PUT", "POST"):
            return Response(501, f"Unexpected content for method '{req.method}'", None)
        up = _UPLOAD_RE.match(rel) if req.method == "POST" and subject else None
        query = decode_urlencoded(req.query)
        if up:
            with self.state.lock:
                checker.check(f"/storage/{up.group(2)}", ["Datastore.AllocateTemplate"])
            if "tmpfilename" in query:
                raise ApiError(500, "'tmpfilename' query parameter is not allowed for file uploads")
            params, upload = parse_upload(req.headers.get("content-type"), req.body)
            params["tmpfilename"] = new_tmpfilename()
        else:
            params = decode_body(req.headers.get("content-type"), req.body)
        params.update(query)

        found = self.schema.find(req.method, rel)
        if found is None:
            raise ApiError(501, f"Method '{req.method} {rel}' not implemented", newline=False)
        endpoint, uri_params = found
        for key in sorted(params):
            if key in uri_params and uri_params[key] != params[key]:
                raise param_error({key: "duplicate parameter (already defined in URI) with "
                                        "conflicting values!"})
        params.update(uri_params)
        with self.state.lock:
            self.state.tasks.poll()
            if is_token and not endpoint.allowtoken:
                raise perm_error(f"URI '{rel}' not available with API token, need proper ticket.\n")
            checker.check_api2(endpoint.permissions, params)
            if endpoint.proxyto == "node" and "node" in params:
                self.state.node(str(params["node"]))
            values = validate_params(endpoint, params)
            handler = self.routes.get((req.method, endpoint.template))
            if handler is None:
                raise ApiError(501, f"stand-in: '{req.method} {endpoint.template}' exists in the "
                                    "PVE 9.1.3 API but is not simulated")
            injected = self._injected(req.method, endpoint.template)
            if injected is not None:
                raise injected
            ctx = Ctx(self.state, checker, subject or "", endpoint, self.schema, upload)
            data = handler(ctx, values)
            if self.verify_results:
                verify_result(endpoint, data)
        payload: dict[str, Any] = {"data": data}
        if ctx.total is not None:
            payload["total"] = ctx.total
        return _json(200, "OK", payload)
