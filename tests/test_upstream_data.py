"""The upstream-data fetcher (scripts/fetch-upstream-data.sh) against a real HTTP server on
127.0.0.1 standing in for upstream, and the one lookup the tests use (tests/upstream.py)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests import upstream
from tests.support.http_site import Site, serve
from tests.upstream_sources import (
    COMMAND,
    SOURCES,
    FetchError,
    Source,
    apidata_to_json,
    fetch_one,
    main,
    mirrored,
)

ROOT = Path(__file__).resolve().parents[1]
URL = "https://example.org/owner/repo/v1/schema.json"
PATH = "/example.org/owner/repo/v1/schema.json"  # where the mirror serves URL


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("no_proxy", "127.0.0.1")  # the server is local: never via a proxy


def _source(body: bytes, convert=None) -> Source:
    return Source("demo/schema.json", URL, hashlib.sha256(body).hexdigest(), convert)


def _leftovers(dest: Path) -> list[str]:
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())


def test_mirror_url_keeps_host_and_path() -> None:
    assert mirrored(URL, "http://127.0.0.1:8080/") == "http://127.0.0.1:8080" + PATH
    assert mirrored(URL, None) == URL


def test_fetch_writes_the_pinned_file_once(tmp_path: Path) -> None:
    body = b'{"type": "object"}\n'
    with serve(Site(files={PATH: body})) as site:
        assert fetch_one(_source(body), tmp_path, site.base) == "fetched"
        assert fetch_one(_source(body), tmp_path, site.base) == "present"
        assert site.count(PATH) == 1  # in place with the pinned sha256: not downloaded again
    assert (tmp_path / "demo/schema.json").read_bytes() == body
    assert _leftovers(tmp_path) == ["demo/schema.json"]


def test_sha_mismatch_is_refused_and_nothing_written(tmp_path: Path) -> None:
    pinned = _source(b"the pinned bytes")
    with serve(Site(files={PATH: b"upstream changed"})) as site, \
            pytest.raises(FetchError) as err:
        fetch_one(pinned, tmp_path, site.base)
    assert "demo/schema.json: sha256 of http://127.0.0.1:" in str(err.value)
    assert f"is {hashlib.sha256(b'upstream changed').hexdigest()}, pinned {pinned.sha256}" \
        in str(err.value)
    assert _leftovers(tmp_path) == []


def test_a_wrong_file_in_place_is_replaced_only_by_the_pinned_one(tmp_path: Path) -> None:
    body = b"pinned"
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo/schema.json").write_bytes(b"stale")
    with serve(Site(files={PATH: b"still wrong"})) as site, pytest.raises(FetchError):
        fetch_one(_source(body), tmp_path, site.base)
    assert (tmp_path / "demo/schema.json").read_bytes() == b"stale"  # untouched
    with serve(Site(files={PATH: body})) as site:
        assert fetch_one(_source(body), tmp_path, site.base) == "fetched"
    assert _leftovers(tmp_path) == ["demo/schema.json"]


def test_cut_off_download_and_missing_file_leave_nothing(tmp_path: Path) -> None:
    body = b"x" * 100_000
    with serve(Site(files={PATH: body}, truncate={PATH})) as site, \
            pytest.raises(FetchError, match="cannot download"):
        fetch_one(_source(body), tmp_path, site.base)
    with serve(Site()) as site, pytest.raises(FetchError, match="HTTP Error 404"):
        fetch_one(_source(body), tmp_path, site.base)
    assert _leftovers(tmp_path) == []


def test_apidata_js_is_converted_then_checked(tmp_path: Path) -> None:
    tree = [{"path": "/version", "text": "version", "leaf": 1}]
    js = b"const apiSchema = " + json.dumps(tree, indent=4).encode() + b";\n\nlet x = [1];\n"
    source = _source(json.dumps(tree).encode(), apidata_to_json)
    with serve(Site(files={PATH: js})) as site:
        assert fetch_one(source, tmp_path, site.base) == "fetched"
    assert json.loads((tmp_path / source.path).read_text()) == tree
    with pytest.raises(ValueError, match="apiSchema"):
        apidata_to_json(b"var somethingElse = [];")


def test_every_pinned_file_from_a_mirror_of_upstream(tmp_path: Path) -> None:
    """The real manifest: a mirror laid out like upstream, serving the reference copies
    (the Proxmox schema as the apidata.js it is converted from); the script fills the cache."""
    files = {}
    for source in SOURCES:
        body = upstream.require(source.path).read_bytes()
        if source.convert is apidata_to_json:
            body = b"const apiSchema = " + json.dumps(json.loads(body), indent=1).encode() + b";\n"
        files["/" + source.url.split("://", 1)[1]] = body
    dest = tmp_path / "cache" / "nativek8s" / "upstream"
    with serve(Site(files=files)) as site:
        run = subprocess.run([str(ROOT / COMMAND), "--base-url", site.base],
                             env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert f"{len(SOURCES)} of {len(SOURCES)} files in {dest}" in run.stdout
        assert len(site.requests) == len(SOURCES)
        assert main(["--dest", str(dest), "--base-url", site.base]) == 0  # all present
        assert len(site.requests) == len(SOURCES)
    for source in SOURCES:
        assert hashlib.sha256((dest / source.path).read_bytes()).hexdigest() == source.sha256


def test_failed_files_make_the_script_fail(tmp_path: Path) -> None:
    with serve(Site()) as site:
        run = subprocess.run([str(ROOT / COMMAND), "--dest", str(tmp_path), "--base-url",
                              site.base, "--only", "talos/config.schema.v1.13.9.json"],
                             env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "FAILED   talos/config.schema.v1.13.9.json: cannot download" in run.stderr
    assert _leftovers(tmp_path) == []


# --- the lookup ----------------------------------------------------------------------------

def test_cache_is_the_last_place_looked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(upstream.ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert upstream.candidates()[-1] == tmp_path / "nativek8s" / "upstream"
    assert upstream.candidates()[0] == ROOT.parent / "shared" / "upstream"


def test_missing_file_skips_naming_it_and_the_command(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv(upstream.ENV, str(tmp_path))
    monkeypatch.delenv(upstream.REQUIRE_ALL_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        upstream.require("talos/config.schema.v1.13.9.json")
    assert "talos/config.schema.v1.13.9.json" in str(skipped.value)
    assert f"`{COMMAND}`" in str(skipped.value)
    monkeypatch.setenv(upstream.REQUIRE_ALL_ENV, "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        upstream.require("talos/config.schema.v1.13.9.json")
    assert "NATIVEK8S_REQUIRE_ALL=1" in str(failed.value)


def test_a_folder_is_found_only_when_every_file_is_there(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setenv(upstream.ENV, str(tmp_path))
    folder = "cilium/v1.17-branchpoint"
    names = [s.path for s in SOURCES if s.path.startswith(folder + "/")]
    assert len(names) == 6
    for name in names[:-1]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert upstream.find(folder) is None
    (tmp_path / names[-1]).write_text("x")
    assert upstream.find(folder) == tmp_path / folder
    with pytest.raises(KeyError, match="not an upstream file"):
        upstream.find("cilium/v9.9")
