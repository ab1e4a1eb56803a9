"""Package feed indexes (opkg ``Packages``, apk ``packages.adb``), the rootfs's installed
packages, and which packages a router disk needs.

Dependencies are resolved by name (and by what packages provide) only: a release's feeds are
built together, so version constraints hold by construction and are not checked here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .adb import AdbError, read_index
from .release import ImageError

_DEP_NAME = re.compile(r"^\s*([^\s(<>=~!]+)")
_SPEC_VAR = re.compile(r"\$\{(name|version|arch|hash)(?::(\d+))?\}")


@dataclass(frozen=True)
class IndexEntry:
    """One package of a feed index."""

    name: str
    version: str
    feed: str
    filename: str  # path relative to the feed folder
    depends: tuple[tuple[str, ...], ...]  # each: alternatives, any one will do
    provides: tuple[str, ...] = ()
    sha256: str | None = None  # opkg: SHA256sum of the .ipk
    identity: bytes | None = None  # apk: SHA-256 of the package's ADB block
    size: int | None = None

    @property
    def path(self) -> str:
        """Path relative to the architecture folder, as the packages sha256sums names it."""
        return f"{self.feed}/{self.filename}"


# --- opkg ----------------------------------------------------------------------------------
def _stanzas(text: str) -> Iterable[dict[str, str]]:
    """Debian-control style paragraphs; continuation lines (leading space) are dropped."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields = {}
        elif line[0] in " \t":
            continue
        elif ":" in line:
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    if fields:
        yield fields


def _opkg_names(value: str) -> list[str]:
    """``a, b (>= 1.0)`` → ['a', 'b']."""
    names = []
    for part in value.split(","):
        match = _DEP_NAME.match(part)
        if match:
            names.append(match.group(1))
    return names


def _opkg_depends(value: str) -> tuple[tuple[str, ...], ...]:
    """``libc, a | b (>= 2)`` → (('libc',), ('a', 'b'))."""
    groups = []
    for part in value.split(","):
        alts = tuple(m.group(1) for alt in part.split("|") if (m := _DEP_NAME.match(alt)))
        if alts:
            groups.append(alts)
    return tuple(groups)


def parse_packages(text: str, feed: str) -> list[IndexEntry]:
    """An opkg ``Packages`` index."""
    entries = []
    for stanza in _stanzas(text):
        name, filename = stanza.get("Package"), stanza.get("Filename")
        if not name or not filename:
            raise ImageError(f"feed {feed}: a Packages entry has no Package or Filename field")
        size = stanza.get("Size", "")
        entries.append(IndexEntry(
            name=name, version=stanza.get("Version", ""), feed=feed, filename=filename,
            depends=_opkg_depends(stanza.get("Depends", "")),
            provides=tuple(_opkg_names(stanza.get("Provides", ""))),
            sha256=(stanza.get("SHA256sum") or "").lower() or None,
            size=int(size) if size.isdigit() else None,
        ))
    return entries


def parse_opkg_status(text: str) -> set[str]:
    """Names (and provides) of what ``/usr/lib/opkg/status`` records as installed."""
    names: set[str] = set()
    for stanza in _stanzas(text):
        status = stanza.get("Status", "").split()
        if "Package" in stanza and status[-1:] == ["installed"]:
            names.add(stanza["Package"])
            names.update(_opkg_names(stanza.get("Provides", "")))
    return names


# --- apk ----------------------------------------------------------------------------------
def _apk_filename(spec: str | None, name: str, version: str, arch: str | None,
                  identity: bytes, feed: str) -> str:
    spec = spec or "${name}-${version}.apk"  # apk's default for an index file URL
    if "://" in spec or spec.startswith("/") or ".." in spec.split("/"):
        raise ImageError(f"feed {feed}: packages.adb names its packages by {spec!r}, "
                         "which is not a path inside the feed")
    values = {"name": name, "version": version, "arch": arch or "", "hash": identity.hex()}

    def expand(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        return value[:int(match.group(2))] if match.group(2) else value

    return _SPEC_VAR.sub(expand, spec)


def parse_apk_index(data: bytes, feed: str) -> list[IndexEntry]:
    """An apk v3 ``packages.adb`` index."""
    try:
        index = read_index(data)
    except AdbError as exc:
        raise ImageError(f"feed {feed}: packages.adb cannot be read: {exc}") from None
    return [
        IndexEntry(
            name=pkg.name, version=pkg.version, feed=feed,
            filename=_apk_filename(index.pkgname_spec, pkg.name, pkg.version, pkg.arch,
                                   pkg.identity, feed),
            depends=tuple((d.name,) for d in pkg.depends if not d.conflict),
            provides=tuple(p.name for p in pkg.provides),
            identity=pkg.identity or None,
            size=pkg.file_size or None,
        )
        for pkg in index.packages
    ]


def parse_apk_installed(text: str) -> set[str]:
    """Names (and provides) in apk's installed database (``/lib/apk/db/installed``)."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("P:"):
            names.add(line[2:].strip())
        elif line.startswith("p:"):
            names.update(_DEP_NAME.match(p).group(1)  # type: ignore[union-attr]
                         for p in line[2:].split() if _DEP_NAME.match(p))
    return names


# --- resolution ---------------------------------------------------------------------------
def resolve(wanted: Iterable[str], entries: Iterable[IndexEntry],
            installed: set[str]) -> list[IndexEntry]:
    """The packages to add so that ``wanted`` and all their dependencies are present.

    Packages the rootfs already has are left out. The result is in dependency order
    (dependencies first). Raises ImageError naming what nothing provides, and who needs it.
    """
    by_name: dict[str, IndexEntry] = {}
    providers: dict[str, IndexEntry] = {}
    for entry in entries:  # feeds in order: the first one to offer a name wins
        by_name.setdefault(entry.name, entry)
        for name in entry.provides:
            providers.setdefault(name, entry)

    chosen: dict[str, IndexEntry] = {}
    order: list[IndexEntry] = []
    present = set(installed)

    def find(name: str) -> IndexEntry | None:
        return by_name.get(name) or providers.get(name)

    def add(name: str, needed_by: str | None, trail: tuple[str, ...]) -> None:
        if name in present:
            return
        entry = find(name)
        if entry is None:
            who = f" (needed by {needed_by})" if needed_by else ""
            raise ImageError(
                f"no package in the release's feeds provides {name!r}{who}, and the rootfs "
                "does not have it; check options.openwrt.packages and the OpenWrt version")
        if entry.name in chosen or entry.name in trail:
            return
        for group in entry.depends:
            if any(alt in present for alt in group):
                continue
            pick = next((alt for alt in group if find(alt) is not None), group[0])
            add(pick, entry.name, trail + (entry.name,))
        chosen[entry.name] = entry
        present.add(entry.name)
        present.update(entry.provides)
        order.append(entry)

    for name in wanted:
        add(name, None, ())
    return order
