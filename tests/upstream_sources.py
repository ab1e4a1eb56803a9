"""The upstream files the tests check against: where each comes from, its pinned sha256, and
the fetcher behind ``scripts/fetch-upstream-data.sh`` that fills the cache with them.

They are upstream's files (Talos and Cilium schemas, Cilium's BGP CRDs, the Proxmox VE API
schema), so the project never commits them. Standard library only: the script runs before
any virtualenv exists.

What can be fetched, honestly:
- Talos and Cilium files come from fixed tags and commits: the URL always serves the pinned
  bytes.
- The Proxmox API schema has no versioned public URL: the API viewer's ``apidata.js`` on
  pve.proxmox.com follows the current PVE release. The fetcher converts it to JSON (the
  array assigned to ``apiSchema``, written as ``json.dumps`` writes it) and checks the pin
  of that result; once PVE moves past 9.1.3 the check fails and the file is not written.
  On a PVE 9.1.3 host, ``/usr/share/pve-docs/api-viewer/apidata.js`` is the same file:
  ``--apidata FILE`` converts a local copy instead.

Usage (see ``--help``): ``scripts/fetch-upstream-data.sh [--dest DIR] [--base-url URL]``.
A file already in place with the pinned sha256 is not downloaded again. A download is
written to a temporary file beside its destination and renamed only after its sha256
matched: a mismatch or a broken connection leaves nothing behind.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

COMMAND = "scripts/fetch-upstream-data.sh"
BASE_URL_ENV = "NATIVEK8S_UPSTREAM_BASE_URL"

_TALOS = "https://raw.githubusercontent.com/siderolabs/talos/{tag}/pkg/machinery/config/schemas/config.schema.json"
_CILIUM = "https://raw.githubusercontent.com/cilium/cilium/{ref}/"
_CRDS = _CILIUM + "pkg/k8s/apis/cilium.io/client/crds/{group}/{file}"
# Commits of cilium/cilium main (cilium/SOURCES-crds.txt in the data folder says how chosen).
_CILIUM_REFS = {
    "v1.16-branchpoint": "5614531067a83e20d24bccc7b12b314330d043c3",
    "v1.17-branchpoint": "a1cb89775aefb354abaa908ce44230651c84eda6",
    "1.18.0-dev-2025-03-23": "8b9ec12f03fdb60f725175f963aac8d68103bd97",
}
APIDATA_URL = "https://pve.proxmox.com/pve-docs/api-viewer/apidata.js"


@dataclass(frozen=True)
class Source:
    path: str  # relative to the data folder, as the tests ask for it
    url: str
    sha256: str  # of the file as the tests read it (after conversion, if any)
    convert: Callable[[bytes], bytes] | None = None


def apidata_to_json(js: bytes) -> bytes:
    """The ``apiSchema`` array of PVE's api-viewer ``apidata.js``, as JSON text."""
    text = js.decode("utf-8")
    start = text.find("apiSchema")
    start = text.find("[", start) if start >= 0 else -1
    if start < 0:
        raise ValueError("no `apiSchema = [...]` in apidata.js")
    schema, _ = json.JSONDecoder().raw_decode(text, start)
    return json.dumps(schema).encode("utf-8")


def _crd(snapshot: str, group: str, file: str, sha256: str) -> Source:
    return Source(f"cilium/{snapshot}/{group}/{file}",
                  _CRDS.format(ref=_CILIUM_REFS[snapshot], group=group, file=file), sha256)


_BGP = ("ciliumbgpadvertisements.yaml", "ciliumbgpclusterconfigs.yaml",
        "ciliumbgpnodeconfigoverrides.yaml", "ciliumbgpnodeconfigs.yaml",
        "ciliumbgppeerconfigs.yaml", "ciliumbgppeeringpolicies.yaml")
_PINS = {
    "v1.16-branchpoint": (
        "8b46d6c1d4920436b15224690cd43941d9268febd9ac080fb1bc746ba1e5b3bb",
        "b3339a39a379aa2087bc8fc19d4bd4053c499e36ce85d3cfa28a27c5c0d1264a",
        "998efccecdbf45e5c13de49b61f9388b5fe5166cabfcf8c3a233f8a7bced7fb6",
        "5181df327fdc1273766b300aed00afed3b615291d6e68b14886b3d51f487c52b",
        "632b6c964bf9a90c1ffa0c339e689fe4f48ba7dbd656e2f63755fa7a1a31ea9f",
        "5bcb2cd9ad83fef8f2efdaa3e28414fcb2b550e2eef3be5d25dbd1b4b8597aa9"),
    "v1.17-branchpoint": (
        "00495d5d26cef58f2fe790dbf553159912af1d41342d3ceef371c441b679c858",
        "44245a1a6c53cbd09d8d55b1cefffca7104d1bf12e3db342d3be5826310f895c",
        "c3470229f6f761991bd55db7ef9ee23843af456ad62f7da5c0322ac46dc6352e",
        "54904d7e5ee27dfb1fd974904a253db4158ab59114a620a270873da5b9076f48",
        "9804bcd1aff8dd72f942765246de670c9d5710dce88e1ffe703f2a40e2684250",
        "edb6bdc2cf8d42e394ae9b4299eae3803936051a0f329e8dc20fb7c30f41392b"),
}

SOURCES: tuple[Source, ...] = (
    Source("talos/config.schema.v1.13.9.json", _TALOS.format(tag="v1.13.9"),
           "3729ac38813c92a35d3159444402d9e7955b5b67aa28303969d5e1d1fa9d2d1d"),
    Source("talos/config.schema.v1.14.0-rc.1.json", _TALOS.format(tag="v1.14.0-rc.1"),
           "9727a9c856e865aa927e122eb93c25019ec09664ad38c91364acca7c369cbb3a"),
    *(_crd(snap, "v2alpha1", file, sha)
      for snap, pins in _PINS.items() for file, sha in zip(_BGP, pins, strict=True)),
    # 1.18 development: BGPv2 kinds promoted to cilium.io/v2, PeeringPolicy still v2alpha1
    *(_crd("1.18.0-dev-2025-03-23", "v2", file, sha) for file, sha in zip(_BGP[:5], (
        "0cde8fd478f254f825bfd47ab209ad43c9731662bbd1a8938b7a0b6c9caadd4e",
        "a6c48cfa8a5d169fd16a856a6231b56be79c6d7d0b4b682467ad2a158c191824",
        "9e0f082364f5eac0707d687e29ecce7b21a00f864f02b0087aaf39ae20df28b9",
        "5b416e785934a82cb22ae0bf18ca1bcf3aecd67e85b95547b09180da1779c548",
        "11669c0a09febf3c3368ce94faf2c8e37ffa88ef835eba0fe55bd48e349bc287"), strict=True)),
    _crd("1.18.0-dev-2025-03-23", "v2alpha1", _BGP[5],
         "79a2195ba0e9d8982e6185dd96ba759203db1320d0f384fd78911a1e6776aea7"),
    # the chart's values schema at the same 1.18 development commit
    Source("cilium/values.schema.1.18.0-dev.json",
           _CILIUM.format(ref=_CILIUM_REFS["1.18.0-dev-2025-03-23"])
           + "install/kubernetes/cilium/values.schema.json",
           "317ad360908e0ad568c2f9445c143f23183908d2d1befac41848063d50622e92"),
    Source("proxmox/apischema.9.1.3.json", APIDATA_URL,
           "21e8e3afa44ad587163ba40967779c9136f7f8bd9d666e02f07c854ab5daf45a", apidata_to_json),
)
BY_PATH = {s.path: s for s in SOURCES}


def cache_dir() -> Path:
    """Where the fetcher puts the files: ``$XDG_CACHE_HOME/nativek8s/upstream``
    (``~/.cache/nativek8s/upstream`` without XDG_CACHE_HOME)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nativek8s" / "upstream"


def mirrored(url: str, base_url: str | None) -> str:
    """``https://host/path`` read from a mirror laid out as ``<base_url>/host/path``."""
    if not base_url:
        return url
    return f"{base_url.rstrip('/')}/{url.split('://', 1)[1]}"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class FetchError(Exception):
    pass


def fetch_one(source: Source, dest: Path, base_url: str | None = None,
              apidata: Path | None = None, timeout: float = 60.0) -> str:
    """Put one file in place under dest; returns a word saying what happened."""
    target = dest / source.path
    if target.is_file() and sha256_of(target) == source.sha256:
        return "present"
    if apidata is not None and source.convert is apidata_to_json:
        data, where = apidata.read_bytes(), str(apidata)
    else:
        where = mirrored(source.url, base_url)
        try:
            with urllib.request.urlopen(where, timeout=timeout) as answer:
                data = answer.read()
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"{source.path}: cannot download {where}: {exc}") from None
    if source.convert is not None:
        try:
            data = source.convert(data)
        except ValueError as exc:
            raise FetchError(f"{source.path}: cannot convert {where}: {exc}") from None
    got = hashlib.sha256(data).hexdigest()
    if got != source.sha256:
        raise FetchError(f"{source.path}: sha256 of {where} is {got}, pinned {source.sha256}; "
                         "not written (upstream changed, or the download is not the pinned file)")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return "fetched"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Download the upstream schemas the tests check against, "
        "each from its pinned URL, into the cache the tests look in; checks every sha256.")
    parser.add_argument("--dest", type=Path, default=None,
                        help=f"folder to fill (default: {cache_dir()})")
    parser.add_argument("--base-url", default=os.environ.get(BASE_URL_ENV),
                        help=f"read https://HOST/PATH from BASE_URL/HOST/PATH, a mirror "
                        f"(default: ${BASE_URL_ENV}, else upstream itself)")
    parser.add_argument("--apidata", type=Path, default=None,
                        help="convert this local apidata.js (PVE 9.1.3's "
                        "/usr/share/pve-docs/api-viewer/apidata.js) instead of downloading it")
    parser.add_argument("--only", action="append", default=None, metavar="PATH",
                        help="fetch only this file (repeatable)")
    args = parser.parse_args(argv)
    dest = args.dest or cache_dir()
    unknown = [p for p in args.only or () if p not in BY_PATH]
    if unknown:
        parser.error(f"not an upstream file: {', '.join(unknown)}; known: {', '.join(BY_PATH)}")
    wanted = [BY_PATH[p] for p in args.only] if args.only else list(SOURCES)
    failed = 0
    for source in wanted:
        try:
            print(f"{fetch_one(source, dest, args.base_url, args.apidata):8} {source.path}")
        except FetchError as exc:
            failed += 1
            print(f"FAILED   {exc}", file=sys.stderr)
    print(f"{len(wanted) - failed} of {len(wanted)} files in {dest}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
