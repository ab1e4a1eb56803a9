"""A small verified-download cache (Talos Image Factory assets, OpenWrt release files).

Layout of one cached file ``NAME`` in its directory::

    NAME           the file, complete and verified
    NAME.sha256    JSON sidecar: {"url", "size", "sha256", "fetched"} written after NAME
    NAME.part      only while downloading; never mistaken for a complete file
    NAME.lock      flock(2) target so two processes do not download the same file at once

A file is reused only when its sidecar exists and its size and sha256 still match it (and
``expected_sha256``, when given); otherwise it is downloaded again. Only the standard library
is used (urllib), so core needs no HTTP dependency.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from nativek8s import __version__
from nativek8s.core.cache_dirs import CACHE_DIR_ENV, cache_root

from . import report
from .errors import NativeK8sError

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".sha256"
PART_SUFFIX = ".part"
LOCK_SUFFIX = ".lock"
_CHUNK = 1 << 20
_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
# GNU coreutils format: "<hash> *<file>" (binary) or "<hash>  <file>" (text).
_SUMS_LINE_RE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")

ProgressCallback = Callable[[int, "int | None"], None]
"""Called with (bytes done, total bytes or None when the server sent no length)."""


class DownloadError(NativeK8sError):
    """A download or cache problem; the message names the URL and what to do."""


@dataclass(frozen=True)
class CachedFile:
    path: Path
    sha256: str
    size: int
    downloaded: bool = False
    """True when this call fetched the file over the network, False when it was reused."""


def display_url(url: str) -> str:
    """The URL without user info or query string, safe for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    query = "?…" if parts.query else ""
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", "")) + query


def parse_sha256sums(text: str) -> dict[str, str]:
    """Parse a ``sha256sums`` file (``<hash> *<file>`` or ``<hash>  <file>`` lines).

    Returns {file name: lower-case hash}. Blank lines are skipped; any other malformed line,
    or one name listed twice with different hashes, raises DownloadError.
    """
    sums: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        match = _SUMS_LINE_RE.match(line)
        if match is None:
            raise DownloadError(
                f"malformed sha256sums line {lineno}: {line[:120]!r} "
                "(expected '<64 hex digits> *<file name>')"
            )
        digest, name = match.group(1).lower(), match.group(2)
        if sums.get(name, digest) != digest:
            raise DownloadError(f"sha256sums lists {name!r} twice with different hashes")
        sums[name] = digest
    return sums


def cached_path(url: str, dest_dir: str | os.PathLike[str] | None = None, *,
                name: str | None = None) -> Path:
    """Where :func:`fetch` keeps the file of ``url``, without fetching anything (to show
    paths before the files exist, e.g. in rendered VM definitions)."""
    return _resolve_dir(dest_dir) / (name if name is not None else _name_from_url(url))


def fetch(
    url: str,
    dest_dir: str | os.PathLike[str] | None = None,
    *,
    name: str | None = None,
    expected_sha256: str | None = None,
    progress: ProgressCallback | None = None,
    timeout: float = 60.0,
) -> CachedFile:
    """Return a verified local copy of ``url``, downloading it only when needed.

    :param dest_dir: directory for the file; a relative path is taken under the cache root
        (see :func:`nativek8s.core.cache_dirs.cache_root`), ``None`` means the root itself.
    :param name: file name to store under (default: the last path segment of the URL).
    :param expected_sha256: when given, the file must have this sha256 or nothing is cached.
    :param progress: optional callback, see :data:`ProgressCallback`.
    :raises DownloadError: on HTTP or network errors, checksum mismatch, or an unwritable cache.
    """
    shown = display_url(url)
    directory = _resolve_dir(dest_dir)
    name = name if name is not None else _name_from_url(url)
    _check_name(name, shown)
    expected = _normalise_sha256(expected_sha256, shown) if expected_sha256 else None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"cannot create cache directory {directory} for {shown}: {exc.strerror}; "
            f"set {CACHE_DIR_ENV} to a writable directory"
        ) from None
    target = directory / name
    with _locked(directory / (name + LOCK_SUFFIX), shown):
        cached = _reuse(target, shown, expected)
        if cached is not None:
            return cached
        if progress is not None:
            return _download(url, shown, target, expected, progress, timeout)
        return _reported_download(url, shown, target, expected, timeout)


def _reported_download(url: str, shown: str, target: Path, expected: str | None,
                       timeout: float) -> CachedFile:
    """A download shown by the command's reporter: bytes and rate while it runs (past a
    second), and one line with its size and rate when a long one ends."""
    reporter = report.current()
    with reporter.waiting(f"download of {shown}") as wait:
        cached = _download(url, shown, target, expected, wait.bytes, timeout)
        took = reporter.clock() - wait.started
    if took >= report.SHOW_AFTER:
        reporter.say(f"{reporter.elapsed():6.2f}s downloaded {shown}: "
                     f"{report.human_bytes(cached.size)} in {took:.1f}s "
                     f"({report.human_bytes(cached.size / took)}/s)")
    return cached


def _resolve_dir(dest_dir: str | os.PathLike[str] | None) -> Path:
    if dest_dir is None:
        return cache_root()
    path = Path(dest_dir).expanduser()
    return path if path.is_absolute() else cache_root() / path


def _name_from_url(url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    return urllib.parse.unquote(path.rsplit("/", 1)[-1])


def _check_name(name: str, shown: str) -> None:
    bad_suffix = name.endswith((SIDECAR_SUFFIX, PART_SUFFIX, LOCK_SUFFIX))
    if not name or name in {".", ".."} or "/" in name or "\0" in name or bad_suffix:
        raise DownloadError(
            f"cannot cache {shown} under the file name {name!r}; pass name= with a plain file name"
        )


def _normalise_sha256(value: str, shown: str) -> str:
    if not _SHA256_RE.match(value):
        raise DownloadError(f"expected_sha256 for {shown} is not a sha256 hex digest: {value[:80]!r}")
    return value.lower()


@contextlib.contextmanager
def _locked(lock_path: Path, shown: str) -> Iterator[None]:
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DownloadError(
            f"cannot lock {lock_path} to download {shown}: {exc.strerror}; "
            f"set {CACHE_DIR_ENV} to a writable directory"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + SIDECAR_SUFFIX)


def _read_sidecar(path: Path) -> tuple[int, str] | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        size, digest = record["size"], record["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(size, int) or not isinstance(digest, str) or not _SHA256_RE.match(digest):
        return None
    return size, digest.lower()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _discard(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _reuse(target: Path, shown: str, expected: str | None) -> CachedFile | None:
    """The cached file if it is still what the sidecar recorded (and what is expected)."""
    if not target.exists():
        return None
    record = _read_sidecar(_sidecar(target))
    problem = None
    if record is None:
        problem = "has no valid checksum record"
    else:
        size, digest = record
        if target.stat().st_size != size:
            problem = f"is corrupted (size {target.stat().st_size}, recorded {size})"
        else:
            actual = _sha256_of(target)
            if actual != digest:
                problem = f"is corrupted (sha256 {actual}, recorded {digest})"
            elif expected is not None and actual != expected:
                problem = f"has sha256 {actual} but {expected} is expected now"
            else:
                return CachedFile(path=target, sha256=actual, size=size, downloaded=False)
    log.warning("cached copy of %s at %s %s; downloading it again", shown, target, problem)
    _discard(target, _sidecar(target))
    return None


def _download(
    url: str,
    shown: str,
    target: Path,
    expected: str | None,
    progress: ProgressCallback | None,
    timeout: float,
) -> CachedFile:
    part = target.with_name(target.name + PART_SUFFIX)
    request = urllib.request.Request(url, headers={"User-Agent": f"nativek8s/{__version__}"})
    # A fresh opener per call so proxy settings from the environment are read each time.
    opener = urllib.request.build_opener()
    done = False
    try:
        try:
            out = open(part, "wb")
        except OSError as exc:
            raise DownloadError(
                f"cannot write {part} to download {shown}: {exc.strerror}; "
                f"set {CACHE_DIR_ENV} to a writable directory"
            ) from None
        with out:
            digest, size = _stream(opener, request, out, shown, progress, timeout)
            out.flush()
            os.fsync(out.fileno())
        if expected is not None and digest != expected:
            raise DownloadError(
                f"checksum mismatch for {shown}: expected sha256 {expected}, got {digest}; "
                "nothing was cached. Check that the expected checksum belongs to this URL and "
                "version, then retry"
            )
        os.replace(part, target)
        _write_sidecar(target, shown, size, digest)
        _fsync_dir(target.parent)
        done = True
    finally:
        if not done:
            _discard(part)
    log.info("downloaded %s (%d bytes, sha256 %s) to %s", shown, size, digest, target)
    return CachedFile(path=target, sha256=digest, size=size, downloaded=True)


def _stream(
    opener: urllib.request.OpenerDirector,
    request: urllib.request.Request,
    out: object,
    shown: str,
    progress: ProgressCallback | None,
    timeout: float,
) -> tuple[str, int]:
    """Copy the response body into ``out``; return (sha256, size)."""
    digest = hashlib.sha256()
    received = 0
    try:
        with opener.open(request, timeout=timeout) as response:
            total = _content_length(response)
            if progress is not None:
                progress(0, total)
            while chunk := response.read(_CHUNK):
                out.write(chunk)  # type: ignore[attr-defined]
                digest.update(chunk)
                received += len(chunk)
                if progress is not None:
                    progress(received, total)
    except urllib.error.HTTPError as exc:
        raise DownloadError(
            f"download of {shown} failed: HTTP {exc.code} {exc.reason}; "
            "check that the URL (version, file name) exists"
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise DownloadError(
            f"download of {shown} failed after {received} bytes: {reason or type(exc).__name__}; "
            "nothing was cached, check the network and retry"
        ) from None
    if total is not None and received != total:
        raise DownloadError(
            f"download of {shown} was cut off: got {received} of {total} bytes; nothing was cached, retry"
        )
    return digest.hexdigest(), received


def _content_length(response: object) -> int | None:
    value = getattr(response, "headers", {}).get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _write_sidecar(target: Path, shown: str, size: int, digest: str) -> None:
    record = {
        "url": shown,
        "size": size,
        "sha256": digest,
        "fetched": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    sidecar = _sidecar(target)
    tmp = sidecar.with_name(sidecar.name + PART_SUFFIX)
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, sidecar)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Availability:
    """Whether a download is already cached, else whether its server answers (doctor)."""

    url: str  # as shown (no credentials)
    path: Path  # where fetch would keep it
    cached: bool
    size: int | None = None  # bytes the server announces, when not cached
    error: str = ""  # why it cannot be downloaded, when it cannot

    @property
    def ok(self) -> bool:
        return self.cached or not self.error


def availability(url: str, dest_dir: str | os.PathLike[str] | None = None, *,
                 timeout: float = 10.0) -> Availability:
    """Cached, or reachable: a GET whose body is not read (servers that refuse HEAD
    exist), so nothing is downloaded or written."""
    shown = display_url(url)
    path = cached_path(url, dest_dir)
    if path.is_file() and path.stat().st_size > 0:
        return Availability(shown, path, cached=True)
    request = urllib.request.Request(url, headers={"User-Agent": f"nativek8s/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return Availability(shown, path, cached=False, size=_content_length(response))
    except urllib.error.HTTPError as exc:
        return Availability(shown, path, False, error=f"HTTP {exc.code} {exc.reason}")
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        return Availability(shown, path, False, error=f"unreachable: {reason}")


def free_bytes(directory: Path) -> int:
    """Free space where ``directory`` is (or would be created)."""
    existing = next(p for p in [directory, *directory.parents] if p.exists())
    return shutil.disk_usage(existing).free
