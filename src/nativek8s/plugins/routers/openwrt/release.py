"""Where an OpenWrt x86-64 release keeps its files, per version layout, and fetching them.

A release tree (downloads.openwrt.org or a mirror of it)::

    releases/<ver>/targets/x86/64/sha256sums                  "<hash> *<file>" lines
    releases/<ver>/targets/x86/64/openwrt-<ver>-x86-64-generic-kernel.bin
    releases/<ver>/targets/x86/64/openwrt-<ver>-x86-64-generic-ext4-rootfs.img.gz
    releases/<ver>/targets/x86/64/openwrt-<ver>-x86-64-generic-ext4-combined.img.gz
    releases/<ver>/packages/x86_64/sha256sums                 every file below, "<hash> *<feed>/<file>"
    releases/<ver>/packages/x86_64/<feed>/Packages            opkg index (23.05, 24.10)
    releases/<ver>/packages/x86_64/<feed>/packages.adb        apk v3 index (25.12 and later)

The packages ``sha256sums`` is the one OpenWrt's buildbot (phase 2) writes over the whole
architecture folder. Every file is checked against a ``sha256sums`` before it is used and is
cached by :func:`nativek8s.api.fetch`, so a second run downloads nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from nativek8s.api import CachedFile, NativeK8sError, fetch, parse_sha256sums

TARGET = "x86/64"
ARCH = "x86_64"
FEEDS = ("base", "packages", "routing")  # bird2 is in routing; its libraries in base
SUMS = "sha256sums"

_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(-rc\d+)?$")


class ImageError(NativeK8sError):
    """A router image cannot be made: a missing or bad release file, a full disk, a tool."""


@dataclass(frozen=True)
class Layout:
    """What differs between release series: the package manager and its files."""

    name: str  # "opkg" or "apk"
    package_ext: str  # ".ipk" or ".apk"
    index: str  # feed index file name
    installed_db: str  # the rootfs's record of installed packages


OPKG = Layout(name="opkg", package_ext=".ipk", index="Packages",
              installed_db="/usr/lib/opkg/status")
APK = Layout(name="apk", package_ext=".apk", index="packages.adb",
             installed_db="/lib/apk/db/installed")


def layout_for(version: str) -> Layout:
    """opkg for 23.05 and 24.10, apk from 25.12 on; older series are refused."""
    match = _VERSION_RE.match(version)
    if match is None:
        raise ImageError(
            f"OpenWrt version {version!r} is not a release version such as 24.10.0 or "
            "25.12.0-rc1 (snapshots are not supported)")
    series = (int(match.group(1)), int(match.group(2)))
    if series < (23, 5):
        raise ImageError(
            f"OpenWrt {version} is too old for router images: use 23.05, 24.10 or 25.12 "
            "(versions.openwrt in the topology)")
    return APK if series >= (25, 12) else OPKG


@dataclass(frozen=True)
class Release:
    version: str
    base_url: str  # without a trailing slash

    @property
    def layout(self) -> Layout:
        return layout_for(self.version)

    @property
    def root_url(self) -> str:
        return f"{self.base_url}/releases/{self.version}"

    @property
    def target_url(self) -> str:
        return f"{self.root_url}/targets/{TARGET}"

    @property
    def packages_url(self) -> str:
        return f"{self.root_url}/packages/{ARCH}"

    def image_name(self, kind: str) -> str:
        """``kernel.bin``, ``ext4-rootfs.img.gz`` or ``ext4-combined.img.gz``."""
        return f"openwrt-{self.version}-{TARGET.replace('/', '-')}-generic-{kind}"

    @property
    def kernel(self) -> str:
        return self.image_name("kernel.bin")

    @property
    def rootfs(self) -> str:
        return self.image_name("ext4-rootfs.img.gz")

    @property
    def combined(self) -> str:
        return self.image_name("ext4-combined.img.gz")

    # --- where the cache keeps them (relative to the cache root) -------------------------
    @property
    def target_cache(self) -> Path:
        return Path("openwrt") / self.version / "targets" / TARGET

    @property
    def packages_cache(self) -> Path:
        return Path("openwrt") / self.version / "packages" / ARCH

    def feed_cache(self, feed: str) -> Path:
        return self.packages_cache / feed


@dataclass(frozen=True)
class TargetFiles:
    kernel: CachedFile
    rootfs_gz: CachedFile
    combined_gz: CachedFile | None


def fetch_sums(url: str, dest_dir: Path) -> dict[str, str]:
    """A ``sha256sums`` file, fetched (or reused) and parsed."""
    cached = fetch(url, dest_dir)
    try:
        return parse_sha256sums(cached.path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ImageError(f"{url} is not a sha256sums text file") from None


def expected_sum(sums: dict[str, str], name: str, sums_url: str) -> str:
    try:
        return sums[name]
    except KeyError:
        raise ImageError(
            f"{sums_url} lists no checksum for {name}: the release has no such file, or "
            "the mirror is incomplete; nothing was downloaded for it") from None


def fetch_verified(base: str, name: str, sums: dict[str, str], sums_url: str,
                   dest_dir: Path) -> CachedFile:
    """``base/name`` checked against its line in ``sums`` (``name`` may hold a folder)."""
    digest = expected_sum(sums, name, sums_url)
    return fetch(f"{base}/{name}", dest_dir, name=name.rsplit("/", 1)[-1],
                 expected_sha256=digest)


def fetch_target_files(release: Release, *, combined: bool = False) -> TargetFiles:
    """The kernel and ext4 rootfs (and the combined disk, if asked) of the release."""
    sums_url = f"{release.target_url}/{SUMS}"
    sums = fetch_sums(sums_url, release.target_cache)

    def get(name: str) -> CachedFile:
        return fetch_verified(release.target_url, name, sums, sums_url, release.target_cache)

    return TargetFiles(
        kernel=get(release.kernel),
        rootfs_gz=get(release.rootfs),
        combined_gz=get(release.combined) if combined else None,
    )
