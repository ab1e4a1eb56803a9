"""The stand-in's HTTP(S) server on 127.0.0.1 and its Python handle, ``ProxmoxStandin``."""

from __future__ import annotations

import secrets
import socket
import ssl
import tempfile
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.support.http_site import ServerThread

from .api import Api, Request, Response
from .perms import LAB_PRIVILEGES
from .schema import ApiSchema
from .state import State, Token
from .tls import make_self_signed


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1  # one write per response: header and body in separate segments cost 40 ms
    server: _Server

    def _serve(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = unquote(url.path)  # pve-http-server: uri_unescape($request->uri->path)
        resp = self.server.api.handle(Request(self.command, path, url.query, headers, body))
        self._send(resp)

    def _send(self, resp: Response) -> None:
        # PVE drops keep-alive after errors; its 401s carry no body.
        # A status line is Latin-1; a message from elsewhere (a guest's) may not be.
        self.send_response(resp.status, resp.reason.encode("latin-1", "replace").decode("latin-1"))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body or b"")))
        if resp.status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if resp.body:
            self.wfile.write(resp.body)

    do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # keep test output quiet; Api.requests records what was asked


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: Api

    def get_request(self) -> tuple[Any, Any]:
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


class ProxmoxStandin:
    """A Proxmox VE 9.1 API stand-in on 127.0.0.1 (HTTPS by default, HTTP with ``tls=False``).

    ``token`` is an API token ``nativek8s@pve!lab`` with lab privileges on ``/``; ``state``
    is the in-memory cluster (nodes, storages, VMs, SDN, tasks) for assertions and faults.
    """

    def __init__(self, *, nodes: Iterable[str] = ("pve",), tls: bool = True,
                 token_privileges: Iterable[str] | None = LAB_PRIVILEGES,
                 task_delay: float = 0.0, schema: ApiSchema | None = None) -> None:
        self.schema = schema or ApiSchema.load()
        self.state = State(tuple(nodes))
        self.state.tasks.delay = task_delay
        self.token: Token = self.state.add_token(
            privileges=frozenset(token_privileges) if token_privileges is not None else None)
        self.root_password = secrets.token_urlsafe(12)
        self.state.passwords["root@pam"] = self.root_password
        self.api = Api(self.schema, self.state)
        self.tls = tls
        self.ca_file: Path | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: _Server | None = None
        self._runner: ServerThread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> ProxmoxStandin:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.api = self.api
        if self.tls:
            self._tmp = tempfile.TemporaryDirectory(prefix="pve-standin-")
            cert, key = make_self_signed(Path(self._tmp.name))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            self.ca_file = cert
        self._server = server
        self._runner = ServerThread(server, name="pve-standin")
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.stop()
            self._runner = None
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> ProxmoxStandin:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "stand-in not started"
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` -- what proxmoxer's ``host`` argument takes."""
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}/api2/json"

    # -- helpers for tests -------------------------------------------------------------------
    def add_token(self, userid: str = "nativek8s@pve", tokenid: str = "extra",
                  privileges: Iterable[str] | None = None, path: str = "/") -> Token:
        """Another API token; ``privileges`` are role or privilege names granted on ``path``."""
        with self.state.lock:
            return self.state.add_token(userid, tokenid, frozenset(privileges or ()), path)

    def client(self, token: Token | None = None, **kwargs: Any) -> Any:
        """A real ``proxmoxer.ProxmoxAPI`` using ``token`` (default: the lab token)."""
        from proxmoxer import ProxmoxAPI

        token = token or self.token
        kwargs.setdefault("verify_ssl", str(self.ca_file) if self.ca_file else False)
        return ProxmoxAPI(self.host, user=token.userid, token_name=token.tokenid,
                          token_value=token.secret, **kwargs)

    def settle(self, timeout: float = 10.0) -> None:
        """Finish all tasks that are due (held tasks stay running); waits for delays."""
        deadline = time.monotonic() + timeout
        while True:
            with self.state.lock:
                self.state.tasks.poll()
                pending = [t for t in self.state.tasks.running() if not t.held]
                if not pending:
                    return
                wait = min(t.due for t in pending) - self.state.tasks.clock()
            if time.monotonic() + max(wait, 0) > deadline:
                raise TimeoutError(f"{len(pending)} task(s) still running")
            time.sleep(max(wait, 0.001))
