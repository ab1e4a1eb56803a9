"""Tests for the verified download cache against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from nativek8s.core import downloads
from nativek8s.core.cache_dirs import cache_root
from nativek8s.core.downloads import CachedFile, DownloadError, fetch, parse_sha256sums
from tests.support.http_site import Site, serve

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, not a multiple of nothing in particular
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    # never send test traffic through a proxy configured on the machine
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    with serve(Site()) as state:
        yield state


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("NATIVEK8S_CACHE_DIR", str(root))
    return root


def _listing(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def test_first_download_writes_file_and_sidecar(site: Site, cache: Path) -> None:
    site.files["/v1/kernel-amd64"] = PAYLOAD
    seen: list[tuple[int, int | None]] = []

    got = fetch(f"{site.base}/v1/kernel-amd64", "talos/v1", progress=lambda d, t: seen.append((d, t)))

    assert got == CachedFile(cache / "talos/v1/kernel-amd64", PAYLOAD_SHA, len(PAYLOAD), True)
    assert got.path.read_bytes() == PAYLOAD
    record = json.loads((cache / "talos/v1/kernel-amd64.sha256").read_text())
    assert record["sha256"] == PAYLOAD_SHA and record["size"] == len(PAYLOAD)
    assert record["url"] == f"{site.base}/v1/kernel-amd64"
    assert seen[0] == (0, len(PAYLOAD)) and seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert "kernel-amd64.part" not in _listing(cache / "talos/v1")
    assert site.count("/v1/kernel-amd64") == 1


def test_verified_cache_is_reused_without_any_request(site: Site, cache: Path) -> None:
    site.files["/f.bin"] = PAYLOAD
    first = fetch(f"{site.base}/f.bin", "x", expected_sha256=PAYLOAD_SHA)
    second = fetch(f"{site.base}/f.bin", "x", expected_sha256=PAYLOAD_SHA.upper())
    third = fetch(f"{site.base}/f.bin", "x")

    assert site.count("/f.bin") == 1
    assert (second.downloaded, third.downloaded) == (False, False)
    assert second.path == first.path and second.sha256 == PAYLOAD_SHA


def test_wrong_checksum_is_refused_and_nothing_cached(site: Site, cache: Path) -> None:
    site.files["/f.bin"] = PAYLOAD
    wrong = "0" * 64

    with pytest.raises(DownloadError) as err:
        fetch(f"{site.base}/f.bin", "x", expected_sha256=wrong)

    message = str(err.value)
    assert f"{site.base}/f.bin" in message and wrong in message and PAYLOAD_SHA in message
    assert _listing(cache / "x") <= {"f.bin.lock"}
    # the right checksum then works, with a fresh download
    assert fetch(f"{site.base}/f.bin", "x", expected_sha256=PAYLOAD_SHA).downloaded
    assert site.count("/f.bin") == 2


def test_interrupted_download_leaves_no_complete_looking_file(site: Site, cache: Path) -> None:
    site.files["/big.img"] = PAYLOAD
    site.truncate.add("/big.img")

    with pytest.raises(DownloadError) as err:
        fetch(f"{site.base}/big.img", "x")

    assert f"{site.base}/big.img" in str(err.value) and "cut off" in str(err.value)
    assert _listing(cache / "x") <= {"big.img.lock"}

    site.truncate.clear()
    got = fetch(f"{site.base}/big.img", "x")
    assert got.downloaded and got.path.read_bytes() == PAYLOAD


def test_interrupted_download_without_length_fails_the_checksum(site: Site, cache: Path) -> None:
    # with no Content-Length a cut-off body cannot be told from a short file: the checksum must
    site.files["/big.img"] = PAYLOAD
    site.truncate.add("/big.img")
    site.no_length.add("/big.img")

    with pytest.raises(DownloadError, match="checksum mismatch"):
        fetch(f"{site.base}/big.img", "x", expected_sha256=PAYLOAD_SHA)
    assert _listing(cache / "x") <= {"big.img.lock"}


def test_download_without_content_length(site: Site, cache: Path) -> None:
    site.files["/nolen"] = b"hello"
    site.no_length.add("/nolen")
    seen: list[tuple[int, int | None]] = []

    got = fetch(f"{site.base}/nolen", "x", progress=lambda d, t: seen.append((d, t)))

    assert got.size == 5 and seen[-1] == (5, None)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_corrupted_cache_is_downloaded_again(
    site: Site, cache: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    site.files["/f.bin"] = PAYLOAD
    path = fetch(f"{site.base}/f.bin", "x").path
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[1000] ^= 0xFF
    else:
        del data[-10:]
    path.write_bytes(bytes(data))

    with caplog.at_level(logging.WARNING, logger=downloads.__name__):
        got = fetch(f"{site.base}/f.bin", "x")

    assert got.downloaded and got.path.read_bytes() == PAYLOAD
    assert site.count("/f.bin") == 2
    assert "corrupted" in caplog.text and "downloading it again" in caplog.text


def test_file_without_sidecar_is_not_trusted(site: Site, cache: Path) -> None:
    site.files["/f.bin"] = PAYLOAD
    (cache / "x").mkdir(parents=True)
    (cache / "x" / "f.bin").write_bytes(b"left over by something else")

    got = fetch(f"{site.base}/f.bin", "x")

    assert got.downloaded and got.path.read_bytes() == PAYLOAD


def test_cached_file_with_other_expected_hash_is_fetched_again(site: Site, cache: Path) -> None:
    site.files["/f.bin"] = b"old release"
    fetch(f"{site.base}/f.bin", "x")
    site.files["/f.bin"] = PAYLOAD

    got = fetch(f"{site.base}/f.bin", "x", expected_sha256=PAYLOAD_SHA)

    assert got.downloaded and got.sha256 == PAYLOAD_SHA and site.count("/f.bin") == 2


def test_http_404_is_a_clear_error(site: Site, cache: Path) -> None:
    with pytest.raises(DownloadError) as err:
        fetch(f"{site.base}/missing/openwrt.img.gz", "x")

    message = str(err.value)
    assert f"{site.base}/missing/openwrt.img.gz" in message
    assert "404" in message and "check that the URL" in message
    assert _listing(cache / "x") <= {"openwrt.img.gz.lock"}


def test_connection_refused_is_a_clear_error(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("no_proxy", "*")
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError, match=rf"http://127\.0\.0\.1:{port}/a\.bin.*retry"):
        fetch(f"http://127.0.0.1:{port}/a.bin", "x", timeout=5)


def test_messages_never_show_credentials_or_query(site: Site, cache: Path) -> None:
    port = site.base.rsplit(":", 1)[1]
    url = f"http://user:s3cr3tpw@127.0.0.1:{port}/missing?token=s3cr3ttok"
    with pytest.raises(DownloadError) as err:
        fetch(url, "x", name="missing")

    assert "s3cr3t" not in str(err.value)
    assert f"http://127.0.0.1:{port}/missing?…" in str(err.value)


def test_bad_arguments_are_refused_before_any_request(site: Site, cache: Path) -> None:
    with pytest.raises(DownloadError, match="not a sha256"):
        fetch(f"{site.base}/f", "x", expected_sha256="abc")
    with pytest.raises(DownloadError, match="file name"):
        fetch(f"{site.base}/dir/", "x")
    with pytest.raises(DownloadError, match="file name"):
        fetch(f"{site.base}/f", "x", name="../escape")
    assert site.requests == []


def test_cache_root_precedence(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    assert cache_root({"HOME": home}) == Path(home) / ".cache/nativek8s"
    assert cache_root({"HOME": home, "XDG_CACHE_HOME": "/xdg"}) == Path("/xdg/nativek8s")
    assert cache_root({"HOME": home, "XDG_CACHE_HOME": "rel"}) == Path(home) / ".cache/nativek8s"
    env = {"HOME": home, "XDG_CACHE_HOME": "/xdg", "NATIVEK8S_CACHE_DIR": "/c"}
    assert cache_root(env) == Path("/c")


def test_parse_sha256sums_both_formats() -> None:
    a, b = "a" * 64, "B" * 64
    text = f"{a} *openwrt-24.10.0-x86-64-generic-ext4-rootfs.img.gz\r\n\n{b}  sha256sums.asc\n"

    assert parse_sha256sums(text) == {
        "openwrt-24.10.0-x86-64-generic-ext4-rootfs.img.gz": a,
        "sha256sums.asc": b.lower(),
    }


@pytest.mark.parametrize(
    "text",
    ["not a line\n", "abc *short-hash\n", f"{'a' * 64}*no-space\n", f"{'a' * 64} *f\n{'b' * 64} *f\n"],
)
def test_parse_sha256sums_rejects_malformed(text: str) -> None:
    with pytest.raises(DownloadError):
        parse_sha256sums(text)
