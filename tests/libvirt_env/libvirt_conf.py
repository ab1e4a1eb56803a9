"""Configuration of the private libvirtd (see daemon.py): the files bind-mounted over
/etc/libvirt and where libvirt's QEMU capabilities cache lives."""

from __future__ import annotations

import os
from pathlib import Path

# Debian's stock settings: QEMU runs as libvirt-qemu and libvirt chowns the files a domain
# uses to it (dynamic ownership), so a path QEMU cannot reach fails here as on a user's host.
QEMU_USER = "libvirt-qemu"
QEMU_CONF = f"""\
# Written by nativek8s tests (tests/libvirt_env/libvirt_conf.py) for a private libvirtd.
user = "{QEMU_USER}"
group = "{QEMU_USER}"
dynamic_ownership = 1
# No confinement: AppArmor profiles ship with libvirt-daemon-system, which we do not install.
security_driver = "none"
"""
LIBVIRTD_CONF = """\
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
"""
VIRTLOGD_CONF = 'log_outputs = "3:file:/var/log/libvirt/virtlogd.log"\n'


def default_caps_cache() -> Path:
    """Shared across instances: libvirt revalidates its QEMU capabilities cache itself
    (binary ctimes, host CPU, kernel), and reusing it saves the first probe (~7 s)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nativek8s" / "libvirt-cache"
