"""The lab's pod agent: in every probe pod, a TCP server that answers with the client's
address (like agnhost's /clientip), so verify can see whether a source was rewritten.

One process serves every pod: a listening socket is opened inside each pod's namespace
from a thread that entered it, then one selector loop serves them all.

Usage: python -m nativek8s.plugins.hypervisors.netns.podagent PORT NAMESPACE...
"""

from __future__ import annotations

import selectors
import signal
import socket
import sys

from .inns import in_namespace

READY = "pod agent: listening"  # logged once every pod's socket listens


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", port))
    sock.listen(16)
    sock.setblocking(False)
    return sock


def serve(port: int, namespaces: list[str]) -> None:
    sel = selectors.DefaultSelector()
    for ns in namespaces:
        sel.register(in_namespace(ns, lambda: _listen(port)), selectors.EVENT_READ)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"{READY} on port {port} in {len(namespaces)} namespaces", flush=True)
    while True:
        for key, _ in sel.select():
            try:
                conn, (addr, _) = key.fileobj.accept()  # type: ignore[union-attr]
            except BlockingIOError:
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    conn.sendall(addr.encode() + b"\n")
                except OSError:
                    pass


def client_address(namespace: str, address: str, port: int, timeout: float = 2.0) -> str:
    """Connect from namespace; return what the far agent says our address is."""

    def ask() -> str:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            return conn.recv(64).decode().strip()

    return in_namespace(namespace, ask)


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2:])
