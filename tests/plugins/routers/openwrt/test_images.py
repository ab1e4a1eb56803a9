"""The image pipeline end to end, against a fake release tree on a real HTTP server
(127.0.0.1): downloads checked against sha256sums, BIRD's packages resolved from the feed
index, the per-router disk written with debugfs and read back with debugfs, for the 23.05,
24.10 (opkg) and 25.12 (apk) layouts."""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from nativek8s.api import (
    BootMedia,
    LabContext,
    LabState,
    Plan,
    RenderContext,
    RenderedFile,
    SecretStore,
)
from nativek8s.plugins.routers.openwrt.image import FIRSTBOOT, PKGS_DIR
from nativek8s.plugins.routers.openwrt.openwrt import CMDLINE, Openwrt
from nativek8s.plugins.routers.openwrt.release import ImageError
from tests.support.http_site import Site, serve

from . import adb_writer
from .conftest import plan_of
from .fake_release import (
    BOOT_SECTORS,
    EXPECTED_ORDER,
    FS_MIB,
    SECTOR,
    FakeRelease,
    ipk,
    make_release,
    write_sums,
)

VERSIONS = ["23.05.5", "24.10.0", "25.12.0"]

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("mkfs.ext4", "debugfs", "resize2fs", "e2fsck")),
    reason="needs e2fsprogs (mkfs.ext4, debugfs, resize2fs, e2fsck)")


def debugfs(image: Path, request: str) -> bytes:
    done = subprocess.run(["debugfs", "-R", request, str(image)], capture_output=True,
                          check=True, timeout=30)
    return done.stdout


def mode_of(image: Path, path: str) -> int:
    """Permission bits of a regular file (debugfs stat shows type and mode apart)."""
    out = debugfs(image, f"stat {path}").decode()
    assert "Type: regular" in out, out[:200]
    return int(out.split("Mode:", 1)[1].split()[0], 8)


def topology(version: str, base_url: str, extra: str = "") -> str:
    return f"""
name: img
versions: {{openwrt: "{version}"}}
options: {{openwrt: {{base_url: "{base_url}"{extra}}}}}
bgp: {{md5: true}}
datacentres:
  dc1: {{nodes: {{node-1: {{role: controlplane}}}}}}
  dc2: {{nodes: {{node-2: {{}}}}}}
"""


@dataclass
class Lab:
    ctx: LabContext
    release: FakeRelease
    server: Site  # what the release mirror served
    cache: Path

    @property
    def plan(self) -> Plan:
        return self.ctx.plan

    def router(self, name: str = "router-1"):
        return next(r for r in self.plan.routers if r.name == name)

    def files(self, router: str = "router-1") -> list[RenderedFile]:
        return [f for f in self.ctx.rendered["openwrt"] if f.machine == router]


@pytest.fixture
def make_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Lab]]:
    cache = tmp_path / "cache"
    monkeypatch.setenv("NATIVEK8S_CACHE_DIR", str(cache))
    servers = ExitStack()

    def make(version: str, extra: str = "", base_url: str | None = None) -> Lab:
        release = make_release(tmp_path / "mirror", version, tmp_path / "work")
        server = servers.enter_context(serve(Site(root=tmp_path / "mirror")))
        plan = plan_of(tmp_path, topology(version, base_url or server.base, extra))
        secrets = SecretStore(tmp_path / "secrets")
        rendered = Openwrt().render(RenderContext(plan=plan, secrets=secrets))
        ctx = LabContext(plan=plan, state=LabState("img", root=tmp_path / "state"),
                         secrets=secrets, rendered={"openwrt": rendered}, echo=lambda _: None)
        return Lab(ctx, release, server, cache)

    with servers:
        yield make


@pytest.mark.parametrize("version", VERSIONS)
def test_router_disk_has_files_packages_and_firstboot_script(make_lab, version):
    lab = make_lab(version)
    media = Openwrt().boot_media(lab.ctx, lab.router())
    assert isinstance(media, BootMedia) and media.cmdline == CMDLINE
    assert media.kernel is not None and media.kernel.read_bytes() == lab.release.kernel
    disk = media.disk
    assert disk is not None and disk.parent.name == "router-1"
    assert disk.parent.parent == lab.ctx.state.backend_dir("openwrt")

    for f in lab.files():  # every rendered file at its target, and a copy for first boot
        content = f.content.encode() if isinstance(f.content, str) else f.content
        assert debugfs(disk, f"cat {f.target}") == content
        once = f.target.startswith("/etc/uci-defaults/")  # run once, deleted: no copy
        assert debugfs(disk, f"cat {PKGS_DIR}/files{f.target}") == (b"" if once else content)
        want = 0o600 if f.secret else 0o644
        assert mode_of(disk, f.target) == want, f.target
    assert mode_of(disk, "/etc/uci-defaults/80-nativek8s-root-password") == 0o600
    bird_conf = debugfs(disk, "cat /etc/bird.conf").decode()
    assert "protocol bgp" in bird_conf and "password" in bird_conf  # md5 on: a secret file
    assert mode_of(disk, "/etc/bird.conf") == 0o600

    # bird2 and bird2c with the dependencies the rootfs lacks (libc, terminfo are installed)
    listing = debugfs(disk, f"ls {PKGS_DIR}").decode()
    for name in EXPECTED_ORDER:
        pkg_file = [w for w in listing.split() if w.startswith((f"{name}_", f"{name}-"))]
        assert len(pkg_file) == 1, (name, listing)
        assert debugfs(disk, f"cat {PKGS_DIR}/{pkg_file[0]}") == lab.release.package_files[name]
    for absent in ("terminfo", "bird2cl", "tcpdump", "libc"):
        assert not any(w.startswith((f"{absent}_", f"{absent}-")) for w in listing.split())

    script = debugfs(disk, f"cat {FIRSTBOOT}").decode()
    assert mode_of(disk, FIRSTBOOT) == 0o755
    install = next(line for line in script.splitlines()
                   if line.startswith(("opkg install", "apk add")))
    if lab.release.manager == "opkg":
        assert install.startswith("opkg install ")
    else:
        assert install.startswith("apk add --no-network --allow-untrusted ")
    order = [w.strip('"').rsplit("/", 1)[-1] for w in install.split() if "$PKGS/" in w]
    assert [n.split("_")[0] if "_" in n else n.rsplit("-", 2)[0] for n in order] \
        == EXPECTED_ORDER
    assert 'cp -p "$PKGS/files/etc/bird.conf" "/etc/bird.conf"' in script
    assert "for service in network firewall dnsmasq bird; do" in script
    syntax = subprocess.run(["sh", "-n"], input=script, text=True, capture_output=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    # the rest of the rootfs is untouched, and the filesystem is consistent
    assert debugfs(disk, "cat /etc/openwrt_release") == b"DISTRIB_ID='OpenWrt'\n"
    assert subprocess.run(["e2fsck", "-f", "-n", str(disk)], capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_second_run_downloads_nothing_and_reuses_the_disk(make_lab, version):
    lab = make_lab(version)
    first = Openwrt().boot_media(lab.ctx, lab.router())
    assert first.disk is not None
    asked = list(lab.server.requests)
    assert any(p.endswith("-generic-ext4-rootfs.img.gz") for p in asked)
    assert sum(p.endswith("/sha256sums") for p in asked) == 2  # target and packages
    stamp = first.disk.stat().st_mtime_ns

    second = Openwrt().boot_media(lab.ctx, lab.router())
    assert lab.server.requests == asked  # not one request more
    assert second == first and second.disk.stat().st_mtime_ns == stamp  # type: ignore[union-attr]

    other = Openwrt().boot_media(lab.ctx, lab.router("router-2"))  # a new disk, no download
    assert lab.server.requests == asked
    assert other.disk != first.disk
    assert b"router-2" in debugfs(other.disk, "cat /etc/bird.conf")  # type: ignore[arg-type]


def test_changed_rendered_file_makes_a_new_disk_without_downloads(make_lab):
    lab = make_lab("24.10.0")
    first = Openwrt().boot_media(lab.ctx, lab.router())
    asked = list(lab.server.requests)
    rendered = lab.ctx.rendered["openwrt"]
    lab.ctx.rendered["openwrt"] = [
        RenderedFile(f.path, "# changed\n", f.machine, f.target, f.secret)
        if f.machine == "router-1" and f.target == "/etc/config/dhcp" else f for f in rendered]
    second = Openwrt().boot_media(lab.ctx, lab.router())
    assert lab.server.requests == asked
    assert debugfs(second.disk, "cat /etc/config/dhcp") == b"# changed\n"  # type: ignore[arg-type]
    assert first.disk == second.disk


def _cache_files(cache: Path, name: str) -> list[Path]:
    return [p for p in cache.rglob("*") if p.name.startswith(name) and not p.name.endswith(".lock")]


@pytest.mark.parametrize("version", VERSIONS)
def test_tampered_rootfs_is_refused_and_nothing_cached(make_lab, version):
    lab = make_lab(version)
    name = lab.release.file_name("ext4-rootfs.img.gz")
    path = lab.release.target_dir / name
    path.write_bytes(path.read_bytes()[:-1] + b"!")  # one byte of the appended metadata
    with pytest.raises(ImageError) as caught:
        Openwrt().boot_media(lab.ctx, lab.router())
    message = str(caught.value)
    assert name in message and "checksum mismatch" in message and "nothing was cached" in message
    assert _cache_files(lab.cache, name) == []
    assert not (lab.ctx.state.backend_dir("openwrt") / "router-1" / "rootfs.img").exists()


@pytest.mark.parametrize("version", VERSIONS)
def test_package_that_disagrees_with_its_index_is_refused(make_lab, version):
    """A mirror whose sha256sums match a package that its feed index does not describe."""
    lab = make_lab(version)
    path = lab.release.package_path("libpthread")
    if lab.release.manager == "apk":
        data, _ = adb_writer.package(adb_writer.ApkInfo("libpthread", "9.9-r9"))
    else:
        data = ipk("libpthread", "1.2.4-4", ["libc"], payload=b"evil")
    path.write_bytes(data)
    write_sums(lab.release.arch_dir)  # the sums now agree with the file, the index does not
    with pytest.raises(ImageError) as caught:
        Openwrt().boot_media(lab.ctx, lab.router())
    message = str(caught.value)
    assert path.name in message and "does not match the feed index" in message
    assert _cache_files(lab.cache, path.name) == []


def test_tampered_index_is_refused(make_lab):
    lab = make_lab("25.12.0")
    index = lab.release.arch_dir / "routing" / "packages.adb"
    index.write_bytes(index.read_bytes() + b"x")
    with pytest.raises(ImageError, match=r"checksum mismatch for \S+/routing/packages\.adb"):
        Openwrt().boot_media(lab.ctx, lab.router())


def test_missing_dependency_is_named(make_lab):
    lab = make_lab("24.10.0", extra=', packages: ["bird2", "tcpdump"]')
    with pytest.raises(ImageError, match=r"'libpcap1' \(needed by tcpdump\)"):
        Openwrt().boot_media(lab.ctx, lab.router())


def test_file_url_mirror_works_offline(make_lab, tmp_path):
    lab = make_lab("25.12.0", base_url=f"file://{tmp_path / 'mirror'}")
    media = Openwrt().boot_media(lab.ctx, lab.router())
    assert lab.server.requests == []
    assert b"protocol bgp" in debugfs(media.disk, "cat /etc/bird.conf")  # type: ignore[arg-type]


def test_rootfs_grows_to_the_asked_size(make_lab):
    lab = make_lab("24.10.0", extra=", rootfs_size_mib: 20")
    disk = Openwrt().boot_media(lab.ctx, lab.router()).disk
    assert disk is not None and disk.stat().st_size == 20 << 20
    sb = subprocess.run(["dumpe2fs", "-h", str(disk)], capture_output=True, text=True,
                        check=True).stdout
    assert re.search(r"^Block count:\s+20480$", sb, re.MULTILINE)  # the filesystem grew, not just the file
    assert re.search(r"^Block size:\s+1024$", sb, re.MULTILINE)


def test_rootfs_grows_when_the_packages_do_not_fit(make_lab):
    lab = make_lab("23.05.5")
    big = random.Random(7).randbytes((FS_MIB + 1) << 20)  # more than the filesystem holds
    data = ipk("bird2", "2.15.1-1", ["libc", "libpthread"], payload=big)
    path = lab.release.package_path("bird2")
    path.write_bytes(data)
    packages = path.parent / "Packages"
    stanza_sha = hashlib.sha256(data).hexdigest()
    text = packages.read_text().split("\n\n")
    text = [s if not s.startswith("Package: bird2\n") else
            "\n".join(("Size: " + str(len(data))) if line.startswith("Size:") else
                      ("SHA256sum: " + stanza_sha) if line.startswith("SHA256sum:") else line
                      for line in s.splitlines()) for s in text]
    packages.write_text("\n\n".join(text))
    write_sums(lab.release.arch_dir)
    disk = Openwrt().boot_media(lab.ctx, lab.router()).disk
    assert disk is not None and disk.stat().st_size > FS_MIB << 20
    listing = debugfs(disk, f"ls {PKGS_DIR}").decode()
    name = next(w for w in listing.split() if w.startswith("bird2_"))
    assert debugfs(disk, f"cat {PKGS_DIR}/{name}") == data


@pytest.mark.parametrize("version", ["24.10.0", "25.12.0"])
def test_combined_disk_boots_the_same_filesystem(make_lab, version, tmp_path):
    lab = make_lab(version)
    router = lab.router()
    combined = Openwrt().combined_disk(lab.ctx, router)
    rootfs = Openwrt().boot_media(lab.ctx, router).disk
    assert rootfs is not None
    raw = combined.read_bytes()
    assert raw[510:512] == b"\x55\xaa"
    start1, count1 = struct.unpack_from("<II", raw, 446 + 8)
    start2, count2 = struct.unpack_from("<II", raw, 446 + 16 + 8)
    assert start1 == BOOT_SECTORS
    assert raw[start1 * SECTOR:(start1 + count1) * SECTOR] == lab.release.boot_partition
    part2 = tmp_path / "part2.img"
    part2.write_bytes(raw[start2 * SECTOR:(start2 + count2) * SECTOR])
    assert part2.read_bytes() == rootfs.read_bytes()
    assert debugfs(part2, "cat /etc/bird.conf") == debugfs(rootfs, "cat /etc/bird.conf")
    requests = len(lab.server.requests)
    Openwrt().combined_disk(lab.ctx, router)
    assert len(lab.server.requests) == requests


def test_combined_partition_grows_with_the_rootfs(make_lab, tmp_path):
    lab = make_lab("24.10.0", extra=", rootfs_size_mib: 16")
    combined = Openwrt().combined_disk(lab.ctx, lab.router())
    raw = combined.read_bytes()
    start2, count2 = struct.unpack_from("<II", raw, 446 + 16 + 8)
    assert count2 * SECTOR == 16 << 20 and len(raw) == (start2 + count2) * SECTOR
    part2 = tmp_path / "part2.img"
    part2.write_bytes(raw[start2 * SECTOR:])
    fsck = subprocess.run(["e2fsck", "-f", "-n", str(part2)], capture_output=True, check=False)
    assert fsck.returncode == 0


def test_old_versions_are_refused(make_lab):
    lab = make_lab("24.10.0")
    plan = lab.plan.model_copy(update={"versions": {**lab.plan.versions, "openwrt": "22.03.7"}})
    lab.ctx.plan = plan
    with pytest.raises(ImageError, match="too old"):
        Openwrt().boot_media(lab.ctx, lab.router())
    assert lab.server.requests == []
