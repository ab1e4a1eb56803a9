"""Real programs for the stand-in guest: BIRD and birdc from Debian's bird2, qemu-ga from
Debian's qemu-guest-agent (both from ``apt-get download``, unpacked with ``dpkg-deb -x``) and
iproute2's ``ip`` (JSON output, network namespaces, veth: busybox's lacks them), each with
the shared libraries ``ldd`` names, at the paths the loader expects.

They go to ``/usr/sbin`` (ahead of busybox's applets on the guest's PATH)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from . import initramfs as cpio

PACKAGES = {"bird2": ("usr/sbin/bird", "usr/sbin/birdc"),
            "qemu-guest-agent": ("usr/sbin/qemu-ga",)}
HOST_PROGRAMS = ("ip",)  # iproute2, installed on every Debian host
_LDD_PATH = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x")


def libraries(binary: Path) -> list[Path]:
    """The shared objects the dynamic loader maps for ``binary`` (ldd), loader included."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
    missing = [ln.split()[0] for ln in out.stdout.splitlines() if "not found" in ln]
    if out.returncode != 0 or missing:
        raise RuntimeError(f"ldd {binary}: {missing or out.stderr.strip()}; install the "
                           f"libraries it needs on this host (they are copied into the guest)")
    return [Path(m.group(1)) for ln in out.stdout.splitlines() if (m := _LDD_PATH.search(ln))]


def host_program(name: str) -> Path:
    found = shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if found is None:
        raise RuntimeError(f"{name} not found on this host (apt-get install iproute2)")
    return Path(found).resolve()


def entries(unpacked: dict[str, Path]) -> list[cpio.Entry]:
    """Initramfs members: the programs (``unpacked`` maps a package to its dpkg-deb -x
    folder) and their libraries; directories first."""
    files: dict[str, bytes] = {}
    programs: list[tuple[str, Path]] = []
    for package, paths in PACKAGES.items():
        programs += [(p, unpacked[package] / p) for p in paths]
    programs += [(f"usr/sbin/{name}", host_program(name)) for name in HOST_PROGRAMS]
    for target, source in programs:
        files[target] = source.read_bytes()
        for lib in libraries(source):
            # The loader asks for /lib64/ld-linux-x86-64.so.2 and /lib/x86_64-linux-gnu/...
            files.setdefault(str(lib).lstrip("/"), lib.resolve().read_bytes())
    dirs = sorted({str(parent) for path in files for parent in Path(path).parents
                   if str(parent) != "."})
    out = [cpio.directory(d) for d in dirs]
    out += [cpio.regular(path, data, 0o755) for path, data in sorted(files.items())]
    return out
