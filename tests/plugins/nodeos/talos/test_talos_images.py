"""Boot media from an Image Factory served by a real HTTP server on 127.0.0.1 (fake
files): the Factory's URL layout, the article's kernel arguments, cache reuse, an
interrupted download, a wrong checksum, the ISO variant."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nativek8s.api import LabContext, LabState, NativeK8sError, Plan
from nativek8s.plugins.nodeos.talos.options import (
    QEMU_GUEST_AGENT_SCHEMATIC as SCHEMATIC,
)
from nativek8s.plugins.nodeos.talos.talos import Talos
from tests.plugins.nodeos.talos.talos_plans import reference
from tests.support.http_site import Site, serve

KERNEL = b"\x4d\x5a fake kernel " * 4096
INITRAMFS = b"\xfd7zXZ fake initramfs " * 8192
ISO = b"CD001 fake iso " * 1000
BASE = f"/image/{SCHEMATIC}/v1.13.9"
ARTICLE_ARGS = ("talos.platform=metal console=ttyS0 console=tty0 init_on_alloc=1 slab_nomerge "
                "pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on "
                "ima_template=ima-ng ima_appraise=fix ima_hash=sha512")


@dataclass
class Factory(Site):
    cache: Path = Path()

    @property
    def url(self) -> str:
        return self.base


@pytest.fixture
def factory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Factory]:
    monkeypatch.setenv("no_proxy", "*")  # never through a proxy configured on the machine
    monkeypatch.setenv("NO_PROXY", "*")
    monkeypatch.setenv("NATIVEK8S_CACHE_DIR", str(tmp_path / "cache"))
    site = Factory(files={f"{BASE}/kernel-amd64": KERNEL, f"{BASE}/initramfs-amd64.xz": INITRAMFS,
                          f"{BASE}/metal-amd64.iso": ISO}, cache=tmp_path / "cache")
    with serve(site):
        yield site


def _ctx(plan: Plan, factory: Factory) -> LabContext:
    return LabContext.of(plan, LabState(plan.lab, root=factory.cache.parent / "state"))


def _media(factory: Factory, **options):
    plan = reference(options={"talos": {"factory_url": factory.url, **options}})
    return Talos().boot_media(_ctx(plan, factory), plan.nodes[0]), plan


def test_kernel_and_initramfs_with_the_article_kernel_args(factory: Factory) -> None:
    media, _ = _media(factory)
    assert media.kernel.read_bytes() == KERNEL
    assert media.initrd.read_bytes() == INITRAMFS
    assert media.cmdline == ARTICLE_ARGS
    assert media.iso is None and media.disk_size_gib == 10
    assert factory.requests == [f"{BASE}/kernel-amd64", f"{BASE}/initramfs-amd64.xz"]
    assert media.kernel.parent.relative_to(Path(media.kernel).parents[3]) == \
        Path("talos") / SCHEMATIC / "v1.13.9"


def test_cache_is_reused_and_checked(factory: Factory) -> None:
    first, _ = _media(factory)
    again, _ = _media(factory)
    assert again == first
    assert len(factory.requests) == 2  # nothing downloaded the second time
    first.kernel.write_bytes(KERNEL[:-1] + b"!")  # corrupted in the cache
    third, _ = _media(factory)
    assert third.kernel.read_bytes() == KERNEL
    assert factory.requests[2:] == [f"{BASE}/kernel-amd64"]


def test_interrupted_download_leaves_nothing_that_looks_complete(factory: Factory) -> None:
    factory.truncate.add(f"{BASE}/initramfs-amd64.xz")
    with pytest.raises(NativeK8sError, match="cut off: got .* nothing was cached") as err:
        _media(factory)
    assert "Talos v1.13.9 boot media" in str(err.value)
    names = sorted(p.name for p in factory.cache.rglob("*") if p.is_file())
    assert "initramfs-amd64.xz" not in names and "initramfs-amd64.xz.part" not in names
    factory.truncate.clear()
    media, _ = _media(factory)  # a retry completes it
    assert media.initrd.read_bytes() == INITRAMFS


def test_wrong_checksum_is_refused_and_not_cached(factory: Factory) -> None:
    good = hashlib.sha256(KERNEL).hexdigest()
    with pytest.raises(NativeK8sError, match="checksum mismatch"):
        _media(factory, checksums={"kernel-amd64": "0" * 64})
    assert not list(factory.cache.rglob("kernel-amd64"))
    media, _ = _media(factory, checksums={"kernel-amd64": good})
    assert media.kernel.read_bytes() == KERNEL


def test_missing_version_is_a_clear_error(factory: Factory) -> None:
    plan = reference("1.14.0-rc.1", options={"talos": {"factory_url": factory.url}})
    with pytest.raises(NativeK8sError, match="HTTP 404"):
        Talos().boot_media(_ctx(plan, factory), plan.nodes[0])


def test_iso_media_and_extra_kernel_args(factory: Factory) -> None:
    media, _ = _media(factory, media="iso")
    assert media.iso.read_bytes() == ISO and media.kernel is None and media.cmdline == ""
    assert factory.requests == [f"{BASE}/metal-amd64.iso"]
    plan = reference(options={"talos": {"factory_url": factory.url, "kernel_args": ["a=1"]}})
    media = Talos().boot_media(_ctx(plan, factory), plan.nodes[1])
    assert media.cmdline == ARTICLE_ARGS + " a=1"
    iso = Talos().iso_media(_ctx(plan, factory), plan.nodes[1])
    assert iso.iso.read_bytes() == ISO


def test_per_datacentre_disk_size(factory: Factory) -> None:
    plan = reference(options={"talos": {"factory_url": factory.url}}, datacentres={
        "dc1": {"nodes": {"node-1": {"role": "controlplane"}}},
        "dc2": {"nodes": {"node-2": {}}, "options": {"talos": {"disk_size_gib": 32}}}})
    sizes = [Talos().boot_media(_ctx(plan, factory), n).disk_size_gib for n in plan.nodes]
    assert sizes == [10, 32]
