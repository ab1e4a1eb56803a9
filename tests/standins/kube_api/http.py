"""HTTP(S) plumbing: a threaded server on 127.0.0.1, bearer-token authentication, request
recording, fault injection, and the kubeconfig that points clients at it.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import re
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from tests.support.http_site import ServerThread

from . import errors
from .router import Request, Response


@dataclass
class Fault:
    """Answer matching requests with an error instead of serving them."""

    method: str | None
    path: str  # regular expression matched against the URL path
    code: int = 500
    reason: str = "InternalError"
    message: str = "injected fault"
    times: int | None = 1  # None: forever

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and re.search(self.path, path) is not None


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    content_type: str
    body: Any
    code: int = 0
    user_agent: str = ""


@dataclass
class Plumbing:
    handle: Callable[[Request], Response]
    token: str
    requests: list[Recorded] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None


def _parse_for_record(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return yaml.safe_load(text) if content_type.endswith("yaml") else json.loads(text)
    except (ValueError, yaml.YAMLError):
        return text


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed ACK
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        pass

    def _serve(self) -> None:
        plumbing = self.server.plumbing
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request(self.command, split.path, query, headers, raw)
        record = Recorded(self.command, split.path, query, req.content_type,
                          _parse_for_record(raw, req.content_type),
                          user_agent=headers.get("user-agent", ""))
        try:
            auth = headers.get("authorization", "")
            if not hmac.compare_digest(auth.encode(), f"Bearer {plumbing.token}".encode()):
                raise errors.unauthorized()
            fault = plumbing.take_fault(self.command, split.path)
            if fault is not None:
                raise errors.ApiError(fault.code, fault.reason, fault.message, {})
            response = plumbing.handle(req)
        except errors.ApiError as exc:
            response = Response(exc.code, exc.status())
        except Exception as exc:  # a stand-in bug must surface as a 500, not a hang
            response = Response(500, errors.internal(f"stand-in error: {exc!r}").status())
        record.code = response.code
        with plumbing.lock:
            plumbing.requests.append(record)
        payload = response.raw if response.raw is not None else json.dumps(response.body).encode()
        self.send_response(response.code)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for warning in response.warnings:
            self.send_header("Warning", f'299 - "{warning}"')
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    plumbing: Plumbing


def serve(plumbing: Plumbing, tls_dir: Path | None) -> tuple[_Server, ServerThread, bytes | None]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.plumbing = plumbing
    ca_pem = None
    if tls_dir is not None:
        import ssl
        cert, key = make_certificate(tls_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        ca_pem = cert.read_bytes()
    return server, ServerThread(server, name="kube-api-standin"), ca_pem


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """Self-signed certificate for 127.0.0.1 (it is its own CA), made with openssl."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "apiserver.crt", directory / "apiserver.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=kube-apiserver-standin",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-addext", "basicConstraints=critical,CA:TRUE"],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def write_kubeconfig(path: Path, server_url: str, token: str, ca_pem: bytes | None,
                     namespace: str = "default") -> Path:
    cluster: dict[str, Any] = {"server": server_url}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    config = {"apiVersion": "v1", "kind": "Config", "preferences": {},
              "clusters": [{"name": "standin", "cluster": cluster}],
              "users": [{"name": "standin-admin", "user": {"token": token}}],
              "contexts": [{"name": "admin@standin", "context": {
                  "cluster": "standin", "user": "standin-admin", "namespace": namespace}}],
              "current-context": "admin@standin"}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(config, handle, sort_keys=False)
    os.chmod(path, 0o600)
    return path
