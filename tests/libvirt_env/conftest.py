"""Registers the tier-2 libvirt fixtures for the tests in this directory."""

from .fixtures import libvirt_conn, libvirt_daemon, libvirt_uri, standin_guest  # noqa: F401
