"""pytest fixtures for tests against a real, private libvirtd (tier 2).

- ``libvirt_daemon`` (session): a started :class:`PrivateLibvirtd`; torn down at session end,
  failing the session if anything had to be killed.
- ``libvirt_uri`` (session): its connection URI, ``qemu:///system?socket=...``.
- ``libvirt_conn`` (function): an open ``libvirt.virConnect``; after the test every domain,
  network and pool is destroyed and undefined, so tests do not see each other's objects.
- ``standin_guest`` (session): kernel + initrd of the stand-in guest (built once, cached in
  ``$NK8S_STANDIN_CACHE`` or ``~/.cache/nativek8s/standin-guest``).

Skips carry the reason: not root, packages missing (see scripts/install-libvirt-deps.sh), or
no way to get the guest's .deb files. Use them from a conftest with
``from libvirt_env.fixtures import *`` (or the relative form inside this package).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .daemon import PrivateLibvirtd, missing_prerequisites, reap_stale
from .guest import StandinGuest, find_or_build

__all__ = ["libvirt_daemon", "libvirt_uri", "libvirt_conn", "standin_guest"]


def _quiet_libvirt() -> None:
    # libvirt-python prints every error to stderr unless a handler is registered; the
    # exceptions carry the same message.
    import libvirt
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


@pytest.fixture(scope="session")
def libvirt_daemon() -> Iterator[PrivateLibvirtd]:
    reasons = missing_prerequisites()
    if reasons:
        pytest.skip("private libvirtd unavailable: " + "; ".join(reasons))
    _quiet_libvirt()
    reap_stale()  # daemons left by a killed session (their owner process is gone)
    daemon = PrivateLibvirtd(keep_state=bool(os.environ.get("NK8S_KEEP_LIBVIRT_STATE")))
    daemon.start()
    yield daemon
    report = daemon.stop()
    assert not report.leftovers, f"processes left in {daemon.netns}: {report.leftovers}"
    assert not report.errors, f"teardown errors: {report.errors}"


@pytest.fixture(scope="session")
def libvirt_uri(libvirt_daemon: PrivateLibvirtd) -> str:
    return libvirt_daemon.uri


@pytest.fixture
def libvirt_conn(libvirt_daemon: PrivateLibvirtd) -> Iterator[Any]:
    conn = libvirt_daemon.open()
    try:
        yield conn
    finally:
        conn.close()
        report = libvirt_daemon.clear()
        assert not report.errors, f"cleanup errors: {report.errors}"


@pytest.fixture(scope="session")
def standin_guest() -> StandinGuest:
    cache = os.environ.get("NK8S_STANDIN_CACHE")
    try:
        return find_or_build(Path(cache) if cache else None)
    except RuntimeError as exc:  # nothing cached and no apt-get/dpkg-deb, index or network
        pytest.skip(f"cannot build the stand-in guest: {exc}")
