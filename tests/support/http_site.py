"""The test suite's HTTP server: real HTTP on 127.0.0.1, serving files from memory or a folder.

It records every request path, and can cut a body short (send half, then close) or leave out
Content-Length, the faults a download cache must survive. ``ServerThread`` runs any
``socketserver`` server (the stand-ins' API servers too) and stops it at once: ``serve_forever``
would only notice ``shutdown()`` at its next poll (0.5 s by default), a cost paid at every
test's end.
"""

from __future__ import annotations

import selectors
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class ServerThread:
    """Serves ``server`` in a daemon thread until ``stop()``, which returns at once."""

    def __init__(self, server: socketserver.BaseServer, name: str = "test-http") -> None:
        self.server = server
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.server, selectors.EVENT_READ)  # type: ignore[arg-type]
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    self.server._handle_request_noblock()  # type: ignore[attr-defined]

    def stop(self) -> None:
        """Stop accepting, wait for the loop to end, close the listening socket."""
        if self._thread.is_alive():
            self._wake_w.send(b"x")
            self._thread.join(timeout=5)
        self.server.server_close()
        self._wake_r.close()
        self._wake_w.close()


@dataclass
class Site:
    """What the server serves, and what it saw."""

    files: dict[str, bytes] = field(default_factory=dict)  # path -> body
    root: Path | None = None  # and files under this folder, by their relative path
    truncate: set[str] = field(default_factory=set)  # send half the body, then close
    no_length: set[str] = field(default_factory=set)  # omit Content-Length
    requests: list[str] = field(default_factory=list)
    base: str = ""  # http://127.0.0.1:PORT

    def count(self, path: str) -> int:
        return self.requests.count(path)

    def body(self, path: str) -> bytes | None:
        if path in self.files:
            return self.files[path]
        if self.root is not None:
            local = (self.root / path.split("?")[0].lstrip("/")).resolve()
            if local.is_relative_to(self.root.resolve()) and local.is_file():
                return local.read_bytes()
        return None


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: close == end of body

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            site.requests.append(self.path)
            body = site.body(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if self.path not in site.no_length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path in site.truncate:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@contextmanager
def serve(site: Site) -> Iterator[Site]:
    """Serve site until the block ends (set no_proxy in the test: never via a proxy)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    runner = ServerThread(server)
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield site
    finally:
        runner.stop()
