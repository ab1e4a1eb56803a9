"""BIRD 2 (or any packages) for offline install: feed indexes and packages, each verified.

Chain of checks: the architecture's ``sha256sums`` → each feed's index (``Packages`` or
``packages.adb``) → each package file, which must match both its ``sha256sums`` line and its
index entry (opkg: ``SHA256sum``; apk: the identity, SHA-256 of the package's ADB block).
A package that fails the index check is removed from the cache again.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from nativek8s.api import SIDECAR_SUFFIX, CachedFile

from .adb import AdbError, identity
from .feeds import IndexEntry, parse_apk_index, parse_packages, resolve
from .release import APK, FEEDS, SUMS, ImageError, Release, fetch_sums, fetch_verified


@dataclass(frozen=True)
class FeedIndexes:
    entries: tuple[IndexEntry, ...]
    sums: dict[str, str]  # the architecture's sha256sums
    index_sha256: tuple[str, ...]  # of each feed index, to tell when the disk must change


@dataclass(frozen=True)
class FetchedPackage:
    entry: IndexEntry
    file: CachedFile


def fetch_indexes(release: Release, feeds: tuple[str, ...] = FEEDS) -> FeedIndexes:
    """Every feed's index, checked against the architecture's ``sha256sums``."""
    layout = release.layout
    sums_url = f"{release.packages_url}/{SUMS}"
    sums = fetch_sums(sums_url, release.packages_cache)
    entries: list[IndexEntry] = []
    digests = []
    for feed in feeds:
        index = fetch_verified(release.packages_url, f"{feed}/{layout.index}", sums, sums_url,
                               release.feed_cache(feed))
        digests.append(index.sha256)
        data = index.path.read_bytes()
        if layout is APK:
            entries += parse_apk_index(data, feed)
        else:
            entries += parse_packages(data.decode("utf-8", "replace"), feed)
    return FeedIndexes(entries=tuple(entries), sums=sums, index_sha256=tuple(digests))


def _discard(cached: CachedFile) -> None:
    for path in (cached.path, cached.path.with_name(cached.path.name + SIDECAR_SUFFIX)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _check_against_index(entry: IndexEntry, cached: CachedFile) -> str | None:
    """What is wrong with the file by the feed index's record of it, or None."""
    if entry.size is not None and cached.size != entry.size:
        return f"its size is {cached.size}, the index says {entry.size}"
    if entry.sha256 is not None and cached.sha256 != entry.sha256:
        return f"its sha256 is {cached.sha256}, the index says {entry.sha256}"
    if entry.identity is not None:
        try:
            actual = identity(cached.path.read_bytes())
        except AdbError as exc:
            return f"it is not an apk v3 package ({exc})"
        if actual != entry.identity:
            return f"its identity is {actual.hex()}, the index says {entry.identity.hex()}"
    return None


def fetch_packages(release: Release, wanted: tuple[str, ...], installed: set[str],
                   indexes: FeedIndexes | None = None) -> list[FetchedPackage]:
    """The packages (with dependencies the rootfs lacks), verified, in install order."""
    indexes = indexes or fetch_indexes(release)
    needed = resolve(wanted, indexes.entries, installed)
    sums_url = f"{release.packages_url}/{SUMS}"
    fetched = []
    for entry in needed:
        if not entry.filename.endswith(release.layout.package_ext):
            raise ImageError(f"feed {entry.feed}: {entry.name} is {entry.filename}, not a "
                             f"{release.layout.package_ext} package as OpenWrt "
                             f"{release.version} uses")
        cached = fetch_verified(release.packages_url, entry.path, indexes.sums, sums_url,
                                release.feed_cache(entry.feed))
        problem = _check_against_index(entry, cached)
        if problem is not None:
            _discard(cached)
            raise ImageError(
                f"{release.packages_url}/{entry.path} does not match the feed index: "
                f"{problem}; nothing was cached. The mirror may be inconsistent: retry later "
                "or use another base_url")
        fetched.append(FetchedPackage(entry=entry, file=cached))
    return fetched
