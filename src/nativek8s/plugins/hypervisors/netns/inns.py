"""Run a Python function inside a network namespace, in a thread of its own.

setns(2) changes only the calling thread, so a short-lived thread can write a namespace's
sysctls or open sockets there without a process per call. Before running the function it
checks that the thread really is in that namespace: nothing ever lands in the host's.
"""

from __future__ import annotations

import array
import ctypes
import fcntl
import os
import socket
import struct
import threading
from collections.abc import Callable
from typing import TypeVar

from nativek8s.api import NativeK8sError

from .iproute import NETNS_DIR

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def in_namespace(name: str, fn: Callable[[], T]) -> T:
    result: dict[str, object] = {}

    def body() -> None:
        try:
            path = NETNS_DIR / name
            fd = os.open(path, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns into {name}: {os.strerror(err)}")
            finally:
                os.close(fd)
            if os.stat("/proc/thread-self/ns/net").st_ino != os.stat(path).st_ino:
                raise NativeK8sError(f"could not enter namespace {name}")
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            result["error"] = exc

    thread = threading.Thread(target=body, name=f"netns:{name}", daemon=True)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]  # type: ignore[return-value]


def write_sysctls(name: str, values: dict[str, str]) -> None:
    def write() -> None:
        for key, value in values.items():
            with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
                f.write(value)

    in_namespace(name, write)


SIOCETHTOOL, ETHTOOL_GLINK = 0x8946, 0x0000000A


def settle_links(name: str) -> None:
    """Have the kernel apply every pending carrier change of the namespace's links now.

    It applies them lazily (linkwatch: changes of bridges, and of veths whose index happens
    to equal their peer's, wait for a batch that runs at most once a second, host-wide), so
    a BIRD started just after wiring could see its LAN down for up to a second, then wait
    its connect delay (another second) once the LAN comes up. Asking a link for its carrier
    (ETHTOOL_GLINK, what `ethtool` does) applies its pending change at once.
    """

    def settle() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for _, link in socket.if_nameindex():
                request = array.array("B", struct.pack("=II", ETHTOOL_GLINK, 0))
                ifreq = struct.pack("16sP", link.encode(), request.buffer_info()[0])
                try:
                    fcntl.ioctl(sock, SIOCETHTOOL, ifreq)
                except OSError:  # a link without a carrier to ask about (lo): nothing pends
                    pass

    in_namespace(name, settle)
