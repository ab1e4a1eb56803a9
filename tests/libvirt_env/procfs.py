"""Process and network-namespace probes through /proc, used to find (and only ever signal)
processes that live inside a namespace we created."""

from __future__ import annotations

import os
from pathlib import Path


def netns_inode(name: str) -> int | None:
    """Inode of the namespace `ip netns add NAME` pinned, None if there is none."""
    try:
        return os.stat(f"/run/netns/{name}").st_ino
    except FileNotFoundError:
        return None


def pids_in_netns(inode: int) -> list[int]:
    """Every process whose network namespace has this inode."""
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if os.stat(f"/proc/{entry.name}/ns/net").st_ino == inode:
                    pids.append(int(entry.name))
            except OSError:
                continue  # exited meanwhile
    return pids


def is_running(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"
