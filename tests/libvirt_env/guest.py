"""Build (or find in a cache) the stand-in guest: Debian's stock kernel plus an initramfs made
of busybox-static, the virtio modules and ``standin_init.sh``. No root, no debootstrap: the two
.deb files come from ``apt-get download`` and only the needed files are kept.

Cache layout (default ``~/.cache/nativek8s/standin-guest``)::

    debs/<package>_<version>_amd64.deb       downloaded once, reused offline (one kernel)
    <kernel-release>-<key>/vmlinuz           the build; <key> hashes every input
    <kernel-release>-<key>/vmlinux           ELF kernel for PVH boot (see kernel.py)
    <kernel-release>-<key>/initrd.img
    <kernel-release>-<key>/manifest.json

The kernel is the package ``linux-image-amd64`` depends on when first built; later runs reuse
the cached one until ``--refresh`` (or ``--kernel-package``) asks for another.

Command line (from ``tests/``): ``python -m libvirt_env.guest [--cache-dir DIR]
[--kernel-package PKG] [--refresh] [--force]``, or ``scripts/build-standin-guest.sh``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import initramfs as cpio
from . import kernel as kmod

BUILD_FORMAT = 2  # bump when the layout of the initramfs changes
MODULE_ROOTS = ("virtio_pci", "virtio_net", "virtio_blk")
BUSYBOX_PACKAGE = "busybox-static"
KERNEL_META_PACKAGE = "linux-image-amd64"
INIT_SCRIPT = Path(__file__).with_name("standin_init.sh")


@dataclass(frozen=True)
class StandinGuest:
    kernel: Path   # what to boot: the PVH-capable ELF vmlinux, else the bzImage
    bzimage: Path  # Debian's vmlinuz as shipped
    initrd: Path
    kernel_release: str
    modules: tuple[str, ...]
    kernel_deb: str
    busybox_deb: str
    build_seconds: float | None  # None when taken from the cache


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nativek8s" / "standin-guest"


def _run(argv: list[str], cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:  # no apt-get/dpkg-deb: not a Debian-like host
        raise RuntimeError(f"{argv[0]} not found: {exc}") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def resolve_kernel_package() -> str:
    """The versioned kernel package ``linux-image-amd64`` currently points at, e.g.
    ``linux-image-6.1.0-56-amd64`` (``NK8S_STANDIN_KERNEL`` overrides it)."""
    override = os.environ.get("NK8S_STANDIN_KERNEL")
    if override:
        return override
    for line in _run(["apt-cache", "depends", KERNEL_META_PACKAGE]).splitlines():
        name = line.strip().removeprefix("Depends:").strip()
        if line.strip().startswith("Depends:") and name.startswith("linux-image-"):
            return name
    raise RuntimeError(f"apt-cache knows no kernel behind {KERNEL_META_PACKAGE}; "
                       "run apt-get update or set NK8S_STANDIN_KERNEL")


def fetch_deb(package: str, debs_dir: Path) -> Path:
    """The package's .deb in ``debs_dir``, downloaded with ``apt-get download`` if absent."""
    debs_dir.mkdir(parents=True, exist_ok=True)
    found = sorted(debs_dir.glob(f"{package}_*.deb"))
    if not found:
        # The sandbox user _apt cannot write to a private cache dir; download as ourselves.
        _run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", package],
             cwd=debs_dir)
        found = sorted(debs_dir.glob(f"{package}_*.deb"))
    if not found:
        raise RuntimeError(f"apt-get download {package} produced no .deb in {debs_dir}")
    return found[-1]


def _build_key(kernel_deb: Path, busybox_deb: Path) -> str:
    digest = hashlib.sha256()
    for part in (str(BUILD_FORMAT), kernel_deb.name, busybox_deb.name, ",".join(MODULE_ROOTS)):
        digest.update(part.encode() + b"\0")
    digest.update(INIT_SCRIPT.read_bytes())
    return digest.hexdigest()[:12]


def _load_manifest(build_dir: Path) -> StandinGuest | None:
    try:
        data = json.loads((build_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    guest = StandinGuest(kernel=build_dir / data["boot_kernel"], bzimage=build_dir / "vmlinuz",
                         initrd=build_dir / "initrd.img",
                         kernel_release=data["kernel_release"], modules=tuple(data["modules"]),
                         kernel_deb=data["kernel_deb"], busybox_deb=data["busybox_deb"],
                         build_seconds=None)
    files = (guest.kernel, guest.bzimage, guest.initrd)
    return guest if all(f.is_file() for f in files) else None


def _initramfs(busybox: bytes, modules: list[Path]) -> bytes:
    names = [kmod.module_name(m) for m in modules]
    entries = [cpio.directory(d) for d in ("bin", "dev", "etc", "etc/nk8s", "lib",
                                           "lib/modules", "proc", "sys", "tmp")]
    entries += [
        cpio.char_device("dev/console", 5, 1),  # init's stdio before devtmpfs is mounted
        cpio.regular("bin/busybox", busybox, 0o755),
        cpio.regular("init", INIT_SCRIPT.read_bytes(), 0o755),
        cpio.regular("etc/nk8s/modules", ("\n".join(names) + "\n").encode()),
    ]
    entries += [cpio.regular(f"lib/modules/{n}.ko", m.read_bytes())
                for n, m in zip(names, modules, strict=True)]
    return cpio.gzip_bytes(cpio.write_newc(entries))


def _build(kernel_deb: Path, busybox_deb: Path, build_dir: Path) -> StandinGuest:
    started = time.monotonic()
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-", dir=build_dir.parent) as tmp:
        root = Path(tmp)
        _run(["dpkg-deb", "-x", str(kernel_deb), str(root / "kernel")])
        _run(["dpkg-deb", "-x", str(busybox_deb), str(root / "busybox")])
        vmlinuz = sorted((root / "kernel" / "boot").glob("vmlinuz-*"))
        if len(vmlinuz) != 1:
            raise RuntimeError(f"expected one vmlinuz in {kernel_deb.name}, found {vmlinuz}")
        release = vmlinuz[0].name.removeprefix("vmlinuz-")
        modules = kmod.load_order(MODULE_ROOTS, root / "kernel" / "lib" / "modules" / release)
        out = root / "out"
        out.mkdir()
        shutil.copyfile(vmlinuz[0], out / "vmlinuz")
        boot_kernel = "vmlinuz"
        try:
            vmlinux = kmod.extract_vmlinux(vmlinuz[0].read_bytes())
            if kmod.has_pvh_entry(vmlinux):
                (out / "vmlinux").write_bytes(vmlinux)
                boot_kernel = "vmlinux"
        except ValueError:
            pass  # boot the bzImage: slower under TCG, same kernel
        (out / "initrd.img").write_bytes(
            _initramfs((root / "busybox" / "bin" / "busybox").read_bytes(), modules))
        manifest = {"kernel_release": release, "boot_kernel": boot_kernel,
                    "modules": [kmod.module_name(m) for m in modules],
                    "kernel_deb": kernel_deb.name, "busybox_deb": busybox_deb.name,
                    "build_format": BUILD_FORMAT}
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if build_dir.exists():
            shutil.rmtree(build_dir)
        out.rename(build_dir)  # atomic: a half-built dir is never found by _load_manifest
    guest = _load_manifest(build_dir)
    assert guest is not None
    return StandinGuest(**{**asdict(guest), "build_seconds": time.monotonic() - started})


def _kernel_deb(debs: Path, kernel_package: str | None, refresh: bool) -> Path:
    """The cached kernel .deb; a new one only on request or when none is cached, so the
    guest stays the same across apt index updates (and no apt-cache call is needed)."""
    if kernel_package is None and not refresh:
        cached = sorted(debs.glob("linux-image-*.deb"))
        if len(cached) == 1:
            return cached[0]
    deb = fetch_deb(kernel_package or resolve_kernel_package(), debs)
    for other in debs.glob("linux-image-*.deb"):
        if other != deb:
            other.unlink()
    return deb


def find_or_build(cache_dir: Path | None = None, kernel_package: str | None = None,
                  force: bool = False, refresh: bool = False) -> StandinGuest:
    """The stand-in guest, built only when the cache lacks one for the current inputs.
    ``refresh`` re-resolves the kernel package (``linux-image-amd64``'s dependency)."""
    cache = cache_dir or default_cache_dir()
    kernel_deb = _kernel_deb(cache / "debs", kernel_package, refresh)
    busybox_deb = fetch_deb(BUSYBOX_PACKAGE, cache / "debs")
    release_hint = kernel_deb.name.split("_")[0].removeprefix("linux-image-")
    build_dir = cache / f"{release_hint}-{_build_key(kernel_deb, busybox_deb)}"
    cached = None if force else _load_manifest(build_dir)
    if cached:
        return cached
    guest = _build(kernel_deb, busybox_deb, build_dir)
    for other in cache.iterdir():  # builds from older inputs; the .debs stay for offline use
        if other.is_dir() and other != build_dir and (other / "manifest.json").exists():
            shutil.rmtree(other, ignore_errors=True)
    return guest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help=f"default: {default_cache_dir()}")
    parser.add_argument("--kernel-package", default=None,
                        help="versioned kernel package; default: what linux-image-amd64 depends on")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("--refresh", action="store_true",
                        help="re-resolve the kernel package instead of reusing the cached one")
    args = parser.parse_args(argv)
    started = time.monotonic()
    guest = find_or_build(args.cache_dir, args.kernel_package, args.force, args.refresh)
    print(json.dumps({**{k: str(v) if isinstance(v, Path) else v for k, v in asdict(guest).items()},
                      "total_seconds": round(time.monotonic() - started, 2)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
