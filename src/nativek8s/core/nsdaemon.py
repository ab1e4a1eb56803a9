"""How a router OS's routing daemon runs in a network namespace: the router plugin's answer
to :meth:`RouterOS.namespace_daemon <nativek8s.core.kinds.RouterOS.namespace_daemon>`.

A backend that emulates routers in namespaces on one host (netns) knows namespaces, folders,
logs and process ownership; the router plugin knows its daemon: which programs, which files,
when it is ready, how to apply a changed configuration. The backend gives the plugin the
folders it may use (:class:`DaemonPaths`); the plugin answers with a :class:`NamespaceDaemon`
naming only paths inside them, so several labs and routers share one filesystem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class DaemonPaths:
    """The folders a router's daemon may use on the host (the backend makes them).

    ``config_dir`` is private to the lab (configuration, PID files); ``run_dir`` is short
    (UNIX sockets: ``sun_path`` holds 108 bytes). Names are prefixed with the router's
    name: the folders are shared by every router of the lab.
    """

    machine: str
    config_dir: Path
    run_dir: Path

    def config(self, name: str) -> Path:
        """A file of this router in the private folder: ``<config_dir>/<machine>.<name>``."""
        return self.config_dir / f"{self.machine}.{name}"

    def run(self, name: str) -> Path:
        """A socket (or folder of sockets) of this router: ``<run_dir>/<machine>.<name>``."""
        return self.run_dir / f"{self.machine}.{name}"


@dataclass(frozen=True)
class DaemonFile:
    """A file to write before the daemon starts (mode 0600 if ``secret``)."""

    path: Path  # inside DaemonPaths.config_dir, or a folder of the router's in run_dir
    content: str
    secret: bool = False
    owner: str | None = None  # a user to own it (a daemon that reads it after dropping root)


@dataclass(frozen=True)
class DaemonProcess:
    """One program of the daemon, run in the foreground inside the router's namespace.

    Processes start in order; each waits until the previous one's ``ready`` path exists.
    """

    name: str  # short word for logs and records: "bird", "zebra", "bgpd"
    argv: tuple[str, ...]  # run as is inside the namespace (argv[0]: the program it stays,
    # in the foreground: netns owns it by executable and namespace); output goes to its log
    files: tuple[Path, ...] = ()  # the DaemonFiles it reads: a change restarts or reloads it
    ready: Path | None = None  # exists once it answers (a control socket); None: at once
    reload: tuple[str, ...] | None = None  # applies changed files in place; None: restart


@dataclass(frozen=True)
class NamespaceDaemon:
    """A router's routing daemon as the netns backend runs it."""

    files: tuple[DaemonFile, ...]  # written first (only when changed)
    processes: tuple[DaemonProcess, ...]  # started in order, each once the previous is ready
    control_socket: str | None = None  # given to bgp_sessions as access.bgp_control_socket
    tools: dict[str, str] = field(default_factory=dict)  # program → Debian package providing it
    owner: str | None = None
    """The user its programs drop privileges to (FRR: frr): netns makes the folders of its
    files and sockets inside run_dir (the lab's state folder is closed to others) that
    user's."""
