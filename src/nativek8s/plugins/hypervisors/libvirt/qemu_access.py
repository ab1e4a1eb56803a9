"""Can the QEMU that libvirt runs reach the lab's files? Read who QEMU runs as from the
daemon (its DAC security model in the host capabilities, ``+995:+995``), then check every
folder on the way to the pool: QEMU opens kernels, initrds and backing images by path, and
libvirt's dynamic ownership chowns the files, never their folders.

Only for libvirt hosts that are this machine (the folders are checked here)."""

from __future__ import annotations

import grp
import os
import pwd
import stat
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class QemuUser:
    uid: int
    gid: int

    @property
    def name(self) -> str:
        try:
            return pwd.getpwuid(self.uid).pw_name
        except KeyError:
            return f"uid {self.uid}"

    def groups(self) -> set[int]:
        out = {self.gid}
        try:
            name = pwd.getpwuid(self.uid).pw_name
        except KeyError:
            return out
        return out | {g.gr_gid for g in grp.getgrall() if name in g.gr_mem}

    def describe(self) -> str:
        return f"{self.name} (uid {self.uid}, gid {self.gid})"


def _label_ids(label: str) -> tuple[int, int] | None:
    try:
        user, group = label.split(":", 1)
        return int(user.lstrip("+")), int(group.lstrip("+"))
    except ValueError:
        return None


def qemu_user(capabilities_xml: str) -> QemuUser | None:
    """QEMU's user from ``virConnectGetCapabilities``; None when libvirt does not say."""
    root = ET.fromstring(capabilities_xml)
    for model in root.iterfind("host/secmodel"):
        if model.findtext("model") != "dac":
            continue
        for label in model.iterfind("baselabel"):
            ids = _label_ids(label.text or "")
            if ids is not None:
                return QemuUser(*ids)
    return None


def can_traverse(user: QemuUser, st: os.stat_result) -> bool:
    if user.uid == 0:
        return True
    if st.st_uid == user.uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in user.groups():
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def blocking_folder(user: QemuUser, path: str) -> Path | None:
    """The first existing folder on the way to ``path`` that the user cannot enter."""
    target = Path(path)
    for folder in [*reversed(target.parents), target]:
        try:
            st = folder.stat()
        except OSError:
            return None  # not made yet: libvirt makes it (0711) when it builds the pool
        if stat.S_ISDIR(st.st_mode) and not can_traverse(user, st):
            return folder
    return None


def problem(conn: Any, uri: str, what: str, path: str) -> str | None:
    """What to change when QEMU cannot reach ``path`` (``what`` names it for the user)."""
    user = qemu_user(conn.getCapabilities())
    if user is None:
        return None
    folder = blocking_folder(user, path)
    if folder is None:
        return None
    mode = stat.S_IMODE(folder.stat().st_mode)
    return (f"{what} {path}: libvirt at {uri} runs QEMU as {user.describe()}, which cannot "
            f"enter {folder} (mode {mode:04o}); QEMU opens the lab's images there. Allow it "
            f"(`chmod o+x {folder}`) or use a pool under /var/lib/libvirt/images")
