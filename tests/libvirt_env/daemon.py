"""A private, throw-away libvirtd (+ virtlogd) for tests, isolated from the host.

Both daemons run inside a network namespace we create (``nk8s-t2-lv-XXXXXX``), so libvirt's
bridges, dnsmasq and iptables rules never touch the host's network, and inside a private mount
namespace where a per-instance state directory is bind-mounted over ``/etc/libvirt``,
``/run/libvirt``, ``/var/lib/libvirt``, ``/var/log/libvirt`` and ``/var/cache/libvirt``. So:

- the host's libvirt configuration is neither read nor changed; our own ``qemu.conf`` is
  Debian's stock one (QEMU as ``libvirt-qemu``, ``dynamic_ownership = 1``);
- ``/dev/kvm`` is given to the QEMU user as Debian's udev rule does (group access, 0660; a
  node of our own bound over it). Left root-only (0600, as in this container), libvirt's
  per-call check "can the QEMU user open /dev/kvm" disagrees with its cached probe (KVM
  seen), marks the capabilities cache outdated and re-probes QEMU (~4 s) on every call;
- a libvirtd already running on the host, or another instance of this class, never collides
  with ours: every path libvirt uses is private;
- defined domains/networks vanish with the state directory.

Clients reach it with ``qemu:///system?socket=<state>/run/libvirt-sock`` (the bind-mounted
``/run/libvirt`` is the state directory's ``run/`` seen from the host).

Teardown destroys and undefines domains, networks and storage pools *before* stopping
libvirtd (otherwise its dnsmasq processes are orphaned), stops the daemons by PID, kills by PID
anything still inside the namespace (checked by namespace inode, so a reused PID is never hit),
deletes the namespace and removes the state directory.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shlex
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .libvirt_conf import (
    LIBVIRTD_CONF,
    QEMU_CONF,
    QEMU_USER,
    VIRTLOGD_CONF,
    default_caps_cache,
)
from .procfs import comm, is_running, netns_inode, pids_in_netns

NETNS_PREFIX = "nk8s-t2-lv-"
# state subdirectory -> where libvirt (privileged mode) expects it
BIND_MOUNTS = {"etc": "/etc/libvirt", "run": "/run/libvirt", "lib": "/var/lib/libvirt",
               "log": "/var/log/libvirt", "cache": "/var/cache/libvirt"}
BINARIES = ("libvirtd", "virtlogd", "qemu-system-x86_64", "qemu-img", "dnsmasq", "iptables",
            "ip", "unshare", "mount")
_SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])
_UNIX_PATH_MAX = 107
DEFAULT_BASE_DIR = Path("/tmp")

def which(binary: str) -> str | None:
    return shutil.which(binary, path=_SBIN_PATH)


def missing_prerequisites() -> list[str]:
    """Reasons a private libvirtd cannot run here (empty when it can)."""
    reasons = []
    if os.geteuid() != 0:
        reasons.append("needs root (network and mount namespaces)")
    missing = [b for b in BINARIES if which(b) is None]
    if missing:
        reasons.append(f"missing binaries {missing}: run scripts/install-libvirt-deps.sh")
    absent = [t for t in BIND_MOUNTS.values() if not os.path.isdir(t)]
    if absent:
        reasons.append(f"missing mount points {absent}: run scripts/install-libvirt-deps.sh")
    try:
        pwd.getpwnam(QEMU_USER)  # the qemu driver refuses to load without it
    except KeyError:
        reasons.append("no user libvirt-qemu: run scripts/install-libvirt-deps.sh")
    try:
        import libvirt  # noqa: F401
    except ImportError:
        reasons.append("Python module libvirt missing: pip install libvirt-python")
    return reasons


@dataclass
class Teardown:
    """What stopping a private libvirtd did; ``leftovers`` lists what had to be killed."""

    netns: str = ""
    domains: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    pools: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    seconds: float = 0.0


class PrivateLibvirtd:
    """One private libvirtd. Use as a context manager or call ``start()``/``stop()``."""

    def __init__(self, base_dir: Path | None = None, caps_cache: Path | None = None,
                 shared_caps_cache: bool = True, keep_state: bool = False,
                 netns: str | None = None) -> None:
        self.netns = netns or NETNS_PREFIX + secrets.token_hex(3)
        if not self.netns.startswith(NETNS_PREFIX):
            raise ValueError(f"netns name must start with {NETNS_PREFIX}")
        self.state_dir = Path(base_dir or DEFAULT_BASE_DIR) / self.netns
        self.caps_cache = (caps_cache or default_caps_cache()) if shared_caps_cache else None
        self.keep_state = keep_state
        self.libvirtd_pid: int | None = None
        self.virtlogd_pid: int | None = None
        self.start_seconds: float | None = None
        self._inode: int | None = None
        if len(str(self.socket)) > _UNIX_PATH_MAX:
            raise ValueError(f"socket path too long for AF_UNIX: {self.socket}")

    @property
    def socket(self) -> Path:
        return self.state_dir / "run" / "libvirt-sock"

    @property
    def uri(self) -> str:
        return f"qemu:///system?socket={self.socket}"

    @property
    def files_dir(self) -> Path:
        """A folder QEMU (libvirt-qemu) can read, for files a test hands to a domain."""
        return self.state_dir / "files"

    def readable(self, path: Path) -> Path:
        """A copy of ``path`` in :attr:`files_dir` (once), where QEMU can open it."""
        copy = self.files_dir / path.name
        if not copy.exists():
            shutil.copyfile(path, copy)
        return copy

    @property
    def log_dir(self) -> Path:
        """Host path of the daemon's /var/log/libvirt (libvirtd.log, qemu/<domain>.log)."""
        return self.state_dir / "log"

    def __enter__(self) -> PrivateLibvirtd:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def open(self) -> Any:
        """A new read-write ``libvirt.virConnect`` to this daemon."""
        import libvirt
        return libvirt.open(self.uri)

    @classmethod
    def attach(cls, netns: str, base_dir: Path | None = None) -> PrivateLibvirtd:
        """An instance for a daemon started earlier (e.g. by a crashed session), to stop it."""
        inst = cls(base_dir=base_dir, netns=netns, shared_caps_cache=False)
        inst._inode = netns_inode(netns)
        for daemon in ("libvirtd", "virtlogd"):
            try:
                pid = int((inst.state_dir / "run" / f"{daemon}.pid").read_text().strip())
            except (OSError, ValueError):
                continue
            if inst._owned(pid):
                setattr(inst, f"{daemon}_pid", pid)
        return inst

    @property
    def owner_pid(self) -> int | None:
        """The process that started this daemon (recorded so stale ones can be found)."""
        try:
            return int((self.state_dir / "owner").read_text())
        except (OSError, ValueError):
            return None

    def _write_state(self) -> None:
        self.state_dir.mkdir(mode=0o711, parents=True)  # QEMU traverses it to files/
        self.files_dir.mkdir(mode=0o755)
        (self.state_dir / "owner").write_text(f"{os.getpid()}\n")
        for sub in BIND_MOUNTS:
            # As Debian ships them: QEMU (libvirt-qemu) must traverse /var/lib/libvirt to
            # the images and /run/libvirt to its sockets; the rest stays root's.
            (self.state_dir / sub).mkdir(mode=0o755 if sub in ("lib", "run") else 0o700)
        if os.path.exists("/dev/kvm"):  # see the module docstring
            kvm = os.stat("/dev/kvm")
            node = self.state_dir / "kvm"
            os.mknod(node, 0o660 | stat.S_IFCHR, kvm.st_rdev)
            os.chown(node, 0, pwd.getpwnam(QEMU_USER).pw_gid)
            os.chmod(node, 0o660)
        (self.state_dir / "etc" / "qemu.conf").write_text(QEMU_CONF)
        (self.state_dir / "etc" / "libvirtd.conf").write_text(LIBVIRTD_CONF)
        (self.state_dir / "etc" / "virtlogd.conf").write_text(VIRTLOGD_CONF)
        if self.caps_cache is not None:
            self.caps_cache.mkdir(parents=True, exist_ok=True)

    def _start_script(self) -> str:
        q = shlex.quote
        lines = ["set -e"]
        if os.path.exists("/dev/kvm"):  # see the module docstring
            lines.append(f"mount --bind {q(str(self.state_dir / 'kvm'))} /dev/kvm")
        for sub, target in BIND_MOUNTS.items():
            source = self.caps_cache if sub == "cache" and self.caps_cache else self.state_dir / sub
            lines.append(f"mount --bind {q(str(source))} {q(target)}")
        # -d returns once the daemon serves its sockets; driver init continues in the background.
        lines.append(f"{q(which('virtlogd') or 'virtlogd')} -d -p /run/libvirt/virtlogd.pid")
        lines.append(f"{q(which('libvirtd') or 'libvirtd')} -d -p /run/libvirt/libvirtd.pid")
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 120.0) -> None:
        reasons = missing_prerequisites()
        if reasons:
            raise RuntimeError("cannot run a private libvirtd: " + "; ".join(reasons))
        started = time.monotonic()
        self._write_state()
        try:
            subprocess.run(["ip", "netns", "add", self.netns], check=True, capture_output=True)
            self._inode = netns_inode(self.netns)
            subprocess.run(["ip", "-n", self.netns, "link", "set", "lo", "up"], check=True)
            with open(self.state_dir / "start.log", "wb") as log:
                subprocess.run(["ip", "netns", "exec", self.netns, "unshare", "--mount",
                                "--propagation", "private", "--", "/bin/sh", "-c",
                                self._start_script()],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=True,
                               timeout=60, env={**os.environ, "PATH": _SBIN_PATH})
            self.virtlogd_pid = self._read_pid("virtlogd", timeout=10)
            self.libvirtd_pid = self._read_pid("libvirtd", timeout=10)
            self._wait_ready(started + timeout)
        except BaseException as exc:
            detail = self._log_tail()
            self.stop()
            if isinstance(exc, Exception):
                raise RuntimeError(f"private libvirtd failed to start: {exc}\n{detail}") from exc
            raise
        self.start_seconds = time.monotonic() - started

    def _read_pid(self, daemon: str, timeout: float) -> int:
        path = self.state_dir / "run" / f"{daemon}.pid"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pid = int(path.read_text().strip())
            except (OSError, ValueError):
                time.sleep(0.05)
                continue
            if self._owned(pid):
                return pid
            raise RuntimeError(f"{daemon} pid {pid} is not inside {self.netns}")
        raise RuntimeError(f"{daemon} wrote no pid file {path}")

    def _owned(self, pid: int) -> bool:
        try:
            return self._inode is not None and os.stat(f"/proc/{pid}/ns/net").st_ino == self._inode
        except OSError:
            return False

    def _wait_ready(self, deadline: float) -> None:
        import libvirt
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.libvirtd_pid is None or not is_running(self.libvirtd_pid):
                raise RuntimeError("libvirtd exited during driver initialisation")
            try:
                # Connecting to qemu:// blocks until the drivers are initialised.
                conn = libvirt.open(self.uri)
                try:
                    conn.getVersion()
                    return
                finally:
                    conn.close()
            except libvirt.libvirtError as exc:
                last = exc
                time.sleep(0.1)
        raise TimeoutError(f"libvirtd not ready: {last}")

    def _log_tail(self, lines: int = 20) -> str:
        out = []
        for name in ("start.log", "log/libvirtd.log", "log/virtlogd.log"):
            path = self.state_dir / name
            if path.is_file():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {name}\n" + "\n".join(tail))
        return "\n".join(out)

    def clear(self, report: Teardown | None = None) -> Teardown:
        """Destroy and undefine every domain, network and storage pool (networks after the
        domains using them; all of them before libvirtd stops, or dnsmasq is orphaned)."""
        import libvirt
        report = report if report is not None else Teardown()
        try:
            conn = libvirt.open(self.uri)
        except libvirt.libvirtError as exc:
            report.errors.append(f"connect: {exc}")
            return report
        try:
            for dom in conn.listAllDomains():
                report.domains.append(dom.name())
                try:
                    if dom.isActive():
                        dom.destroy()
                    if dom.isPersistent():
                        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                                          | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                                          | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
                except libvirt.libvirtError as exc:
                    report.errors.append(f"domain {dom.name()}: {exc}")
            for kind, items in (("network", conn.listAllNetworks()),
                                ("pool", conn.listAllStoragePools())):
                for obj in items:
                    (report.networks if kind == "network" else report.pools).append(obj.name())
                    try:
                        if obj.isActive():
                            obj.destroy()
                        if obj.isPersistent():
                            obj.undefine()
                    except libvirt.libvirtError as exc:
                        report.errors.append(f"{kind} {obj.name()}: {exc}")
        finally:
            conn.close()
        return report

    def _terminate(self, pid: int | None, timeout: float = 15.0) -> None:
        if pid is None or not self._owned(pid):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while is_running(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if is_running(pid) and self._owned(pid):
            os.kill(pid, signal.SIGKILL)

    def processes(self) -> list[tuple[int, str]]:
        """Every process inside this instance's network namespace (pid, command)."""
        if self._inode is None:
            return []
        return [(pid, comm(pid)) for pid in pids_in_netns(self._inode) if is_running(pid)]

    def stop(self) -> Teardown:
        """Tear everything down; safe to call twice and after a failed start."""
        started = time.monotonic()
        report = Teardown(netns=self.netns)
        if self.libvirtd_pid is not None and is_running(self.libvirtd_pid):
            self.clear(report)
        self._terminate(self.libvirtd_pid)
        self._terminate(self.virtlogd_pid)
        for pid, name in self.processes():  # e.g. QEMU or dnsmasq orphaned by a crash
            report.leftovers.append(f"{name}[{pid}]")
            self._terminate(pid, timeout=5)
        if netns_inode(self.netns) is not None:
            subprocess.run(["ip", "netns", "del", self.netns], check=False, capture_output=True)
        self.libvirtd_pid = self.virtlogd_pid = None
        self._inode = None
        if not self.keep_state and self.state_dir.exists():
            shutil.rmtree(self.state_dir, ignore_errors=True)
        report.seconds = time.monotonic() - started
        return report


def reap_stale(base_dir: Path | None = None) -> list[Teardown]:
    """Stop instances whose starting process is gone (a killed test session). Instances of
    live processes, and namespaces without our owner file, are left alone."""
    reports = []
    try:
        names = sorted(n for n in os.listdir("/run/netns") if n.startswith(NETNS_PREFIX))
    except FileNotFoundError:
        return reports
    for name in names:
        inst = PrivateLibvirtd.attach(name, base_dir)
        owner = inst.owner_pid
        if owner is not None and not is_running(owner):
            reports.append(inst.stop())
    return reports


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.libvirt_env.daemon reap``: stop stale private daemons;
    ``... stop NETNS``: stop the one in that namespace (a lab kept by vm-lab.sh --keep)."""
    import sys
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "stop" and args[1].startswith(NETNS_PREFIX):
        print(PrivateLibvirtd.attach(args[1]).stop())
        return 0
    if args != ["reap"]:
        print("usage: python -m tests.libvirt_env.daemon reap | stop NETNS", file=sys.stderr)
        return 2
    for report in reap_stale():
        print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
