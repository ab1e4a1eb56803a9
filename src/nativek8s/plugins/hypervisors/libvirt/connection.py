"""libvirt connections: one per URI, opened on first use, replaceable for tests.

The binding is imported here, when a connection is first needed, so `nativek8s` without the
`[libvirt]` extra still plans and renders.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from nativek8s.api import NativeK8sError

Opener = Callable[[str], Any]
_PINNED: dict[str, Any] = {}  # uri → connection given by a test or an embedder
_PIN_LOCK = threading.Lock()


def binding() -> Any:
    """The `libvirt` module, or an error saying how to install it."""
    try:
        import libvirt
    except ImportError as exc:
        raise NativeK8sError(
            "the libvirt hypervisor needs the libvirt Python binding: "
            "`pip install nativek8s[libvirt]` (on Debian/Ubuntu first "
            "`apt-get install libvirt-dev pkg-config` so it can compile)") from exc
    # Without a handler libvirt prints every error on stderr; the exceptions carry them.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    return libvirt


def is_remote(uri: str) -> bool:
    """True when the URI names another host (qemu+ssh://host/system)."""
    return bool(urlsplit(uri).hostname)


def is_test_driver(uri: str) -> bool:
    return urlsplit(uri).scheme == "test"


@contextmanager
def pinned(uri: str, conn: Any) -> Iterator[Any]:
    """While active, every :class:`Connections` hands out ``conn`` for ``uri``.

    For tests: libvirt's test driver (``test:///path.xml``) gives a fresh hypervisor on
    every open, so the code under test must share the test's one connection."""
    with _PIN_LOCK:
        if uri in _PINNED:
            raise RuntimeError(f"{uri} is already pinned")
        _PINNED[uri] = conn
    try:
        yield conn
    finally:
        with _PIN_LOCK:
            _PINNED.pop(uri, None)


def _open(uri: str) -> Any:
    libvirt = binding()
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        hint = ("is libvirtd running, and may this user use it (root or the libvirt group)?"
                if not is_remote(uri) else
                "can this user reach the host (ssh keys) and is libvirtd running there?")
        raise NativeK8sError(f"cannot connect to libvirt at {uri}: "
                             f"{exc.get_error_message()}; {hint}") from None


class Connections:
    """One open connection per URI, shared by every step of a run."""

    def __init__(self, opener: Opener | None = None):
        self._opener = opener or _open
        self._conns: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, uri: str) -> Any:
        with _PIN_LOCK:
            conn = _PINNED.get(uri)
        if conn is not None:
            return conn
        with self._lock:
            conn = self._conns.get(uri)
            if conn is None or not conn.isAlive():
                conn = self._conns[uri] = self._opener(uri)
            return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._conns.values():
                with suppress(Exception):  # closing a dead connection is not an error
                    conn.close()
            self._conns.clear()


_NOT_FOUND = ("VIR_ERR_NO_DOMAIN", "VIR_ERR_NO_NETWORK", "VIR_ERR_NO_STORAGE_POOL",
              "VIR_ERR_NO_STORAGE_VOL", "VIR_ERR_NO_INTERFACE")


def lookup(find: Callable[[str], Any], name: str) -> Any | None:
    """``find(name)``, or None when libvirt says there is no such object."""
    libvirt = binding()
    try:
        return find(name)
    except libvirt.libvirtError as exc:
        codes = {getattr(libvirt, c, None) for c in _NOT_FOUND}
        if exc.get_error_code() in codes:
            return None
        raise


def message(exc: BaseException) -> str:
    """libvirt's own words for an error, without the binding's prefixes."""
    get = getattr(exc, "get_error_message", None)
    return (get() if get else None) or str(exc)


def keep_running(obj: Any, notes: list[str], before_start: Callable[[], None] | None = None,
                 start: bool = True) -> None:
    """A domain, network or pool: started if it is not (when ``start``), and set to start
    with the host."""
    if start and not obj.isActive():
        if before_start is not None:
            before_start()
        obj.create()
        notes.append("started")
    if not obj.autostart():
        obj.setAutostart(1)
