"""A real HTTP server on 127.0.0.1 serving files from memory, for download tests.

It records every request path, and can cut a body short (send half, then close) or leave
out Content-Length, the faults a download cache must survive.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Site:
    """What the server serves, and what it saw."""

    files: dict[str, bytes] = field(default_factory=dict)
    truncate: set[str] = field(default_factory=set)  # send half the body, then close
    no_length: set[str] = field(default_factory=set)  # omit Content-Length
    requests: list[str] = field(default_factory=list)
    base: str = ""  # http://127.0.0.1:PORT

    def count(self, path: str) -> int:
        return self.requests.count(path)


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: close == end of body

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            site.requests.append(self.path)
            body = site.files.get(self.path)
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
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
