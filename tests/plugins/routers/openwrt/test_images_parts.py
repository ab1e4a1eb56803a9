"""The image pipeline's parts: release layouts, feed indexes and dependency resolution, the
ext4 writer, gzip with OpenWrt's trailing metadata."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from nativek8s.plugins.routers.openwrt.diskimage import gunzip_sparse
from nativek8s.plugins.routers.openwrt.ext4 import Ext4Image, NewFile
from nativek8s.plugins.routers.openwrt.feeds import (
    IndexEntry,
    parse_apk_installed,
    parse_opkg_status,
    parse_packages,
    resolve,
)
from nativek8s.plugins.routers.openwrt.options import OpenWrtOptions
from nativek8s.plugins.routers.openwrt.release import (
    APK,
    OPKG,
    ImageError,
    Release,
    layout_for,
)

needs_e2fsprogs = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("mkfs.ext4", "debugfs", "resize2fs", "e2fsck")),
    reason="needs e2fsprogs (mkfs.ext4, debugfs, resize2fs, e2fsck)")


@pytest.mark.parametrize(("version", "layout"), [
    ("23.05.0", OPKG), ("23.05.5", OPKG), ("24.10.0-rc1", OPKG), ("24.10.2", OPKG),
    ("25.12.0-rc1", APK), ("25.12.0", APK), ("26.06.1", APK),
])
def test_layout_per_version(version, layout):
    assert layout_for(version) is layout


@pytest.mark.parametrize(("version", "why"), [
    ("22.03.7", "too old"), ("21.02", "too old"), ("SNAPSHOT", "not a release"),
    ("24.10.0+foo", "not a release"),
])
def test_unsupported_versions(version, why):
    with pytest.raises(ImageError, match=why):
        layout_for(version)


def test_release_file_names_and_urls():
    rel = Release("24.10.0", "https://downloads.openwrt.org")
    assert rel.target_url == "https://downloads.openwrt.org/releases/24.10.0/targets/x86/64"
    assert rel.packages_url == "https://downloads.openwrt.org/releases/24.10.0/packages/x86_64"
    assert rel.kernel == "openwrt-24.10.0-x86-64-generic-kernel.bin"
    assert rel.rootfs == "openwrt-24.10.0-x86-64-generic-ext4-rootfs.img.gz"
    assert rel.combined == "openwrt-24.10.0-x86-64-generic-ext4-combined.img.gz"


@pytest.mark.parametrize("bad", ["ftp://mirror", "downloads.openwrt.org", "file://relative"])
def test_base_url_must_be_a_url(bad):
    with pytest.raises(ValueError, match="base_url"):
        OpenWrtOptions(base_url=bad)


def test_base_url_loses_its_trailing_slash_and_packages_are_checked():
    assert OpenWrtOptions(base_url="http://m.example/openwrt/").base_url == \
        "http://m.example/openwrt"
    with pytest.raises(ValueError):
        OpenWrtOptions(packages=("bird2; rm -rf /",))


PACKAGES = """\
Package: bird2c
Version: 2.15.1-1
Depends: libc, bird2 (= 2.15.1-1), libreadline8 | libedit0, libncurses6
Source: feeds/routing/bird2
Filename: bird2c_2.15.1-1_x86_64.ipk
Size: 25000
SHA256sum: AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12AB12
Description: BIRD client
 Unless you can't afford dependency on ncurses and readline, you
 should install BIRD command-line client together with BIRD.

Package: libedit0
Version: 3.1-1
Depends: libc
Provides: libedit
Filename: libedit0_3.1-1_x86_64.ipk
Size: 10
SHA256sum: cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34
"""


def test_opkg_index_fields():
    first, second = parse_packages(PACKAGES, "routing")
    assert first.name == "bird2c" and first.path == "routing/bird2c_2.15.1-1_x86_64.ipk"
    assert first.depends == (("libc",), ("bird2",), ("libreadline8", "libedit0"),
                             ("libncurses6",))
    assert first.sha256 == "ab12" * 16 and first.size == 25000
    assert second.provides == ("libedit",)


def test_opkg_index_without_filename_is_refused():
    with pytest.raises(ImageError, match="no Package or Filename"):
        parse_packages("Package: x\nVersion: 1\n", "base")


def test_opkg_status_counts_only_installed():
    status = ("Package: libc\nStatus: install ok installed\n\n"
              "Package: old\nStatus: deinstall ok not-installed\n\n"
              "Package: libreadline8\nProvides: libreadline\nStatus: install user installed\n")
    assert parse_opkg_status(status) == {"libc", "libreadline8", "libreadline"}


def test_apk_installed_db():
    db = "C:Q1x=\nP:libc\nV:1.2.5-r4\np:so:libc.so cmd:ldd=1\n\nP:terminfo\nV:6.4-r2\n"
    assert parse_apk_installed(db) == {"libc", "so:libc.so", "cmd:ldd", "terminfo"}


def _entry(name, *deps, provides=()):
    return IndexEntry(name=name, version="1", feed="base", filename=f"{name}.ipk",
                      depends=tuple(tuple(d.split("|")) for d in deps), provides=provides)


def test_resolution_order_alternatives_provides_and_cycles():
    entries = [
        _entry("app", "libc", "liba|libb", "virt", "cyc1"),
        _entry("libb", "libc"),
        _entry("provider", provides=("virt",)),
        _entry("cyc1", "cyc2"), _entry("cyc2", "cyc1"),
        _entry("liba", "libc"),
    ]
    got = [e.name for e in resolve(["app"], entries, {"libc"})]
    assert got == ["liba", "provider", "cyc2", "cyc1", "app"]
    # an alternative the rootfs has satisfies the group
    got = [e.name for e in resolve(["app"], entries, {"libc", "libb", "virt"})]
    assert got == ["cyc2", "cyc1", "app"]
    assert resolve(["app"], entries, {"app"}) == []


def test_resolution_names_what_is_missing():
    with pytest.raises(ImageError, match=r"'libz' \(needed by app\)"):
        resolve(["app"], [_entry("app", "libz")], set())
    with pytest.raises(ImageError, match=r"provides 'bird9', and the rootfs"):
        resolve(["bird9"], [], set())


# --- gzip ----------------------------------------------------------------------------------
def test_gunzip_ignores_trailing_metadata_and_reads_every_member(tmp_path):
    data = b"A" * 100000 + bytes(300000) + b"B" * 5
    src = tmp_path / "x.img.gz"
    src.write_bytes(gzip.compress(data[:1000]) + gzip.compress(data[1000:]) + b"{meta}FWx0")
    assert gunzip_sparse(src, tmp_path / "x.img") == len(data)
    assert (tmp_path / "x.img").read_bytes() == data


def test_gunzip_refuses_a_cut_file(tmp_path):
    src = tmp_path / "x.img.gz"
    src.write_bytes(gzip.compress(bytes(range(256)) * 1000)[:-20])
    with pytest.raises(ImageError, match="cut short"):
        gunzip_sparse(src, tmp_path / "x.img")


# --- ext4 ----------------------------------------------------------------------------------
@pytest.fixture
def small_fs(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "tmp").mkdir()
    (tree / "var").symlink_to("tmp")
    (tree / "etc/hosts").write_text("127.0.0.1 localhost\n")
    image = tmp_path / "fs.img"
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(tree), "-b", "1024", str(image), "4M"],
                   check=True, capture_output=True)
    return image


@needs_e2fsprogs
def test_ext4_replaces_files_and_makes_parents(small_fs):
    image = Ext4Image(small_fs)
    image.put([NewFile("/etc/hosts", b"new\n", 0o600, uid=0, gid=5),
               NewFile("/a/b/c/file", b"x" * 5000, 0o640)])
    image.check()
    assert image.read("/etc/hosts") == b"new\n"
    assert image.read("/a/b/c/file") == b"x" * 5000
    assert image.file_types(["/a", "/a/b", "/a/b/c", "/var", "/nope"]) == {
        "/a": "directory", "/a/b": "directory", "/a/b/c": "directory", "/var": "symlink",
        "/nope": None}
    stat = subprocess.run(["debugfs", "-R", "stat /etc/hosts", str(small_fs)],
                          capture_output=True, text=True, check=True).stdout
    assert "Mode:  0600" in stat and "Group:     5" in stat


@needs_e2fsprogs
@pytest.mark.parametrize(("target", "why"), [
    ("/var/x", "/var is a symlink"), ("/etc/hosts/x", "/etc/hosts is a regular"),
    ("/etc", "it is a directory"), ("etc/x", "must be absolute"), ("/a b", "must be absolute"),
    ("/a/../etc/x", "must be absolute"),
])
def test_ext4_refuses_what_it_cannot_write_safely(small_fs, target, why):
    before = small_fs.read_bytes()
    with pytest.raises(ImageError, match=why):
        Ext4Image(small_fs).put([NewFile(target, b"x")])
    assert small_fs.read_bytes() == before


@needs_e2fsprogs
def test_ext4_full_filesystem_is_an_error_not_silence(small_fs):
    with pytest.raises(ImageError, match="debugfs could not update"):
        Ext4Image(small_fs).put([NewFile("/big", b"\x01" * (8 << 20))])  # zeros would be a hole


@needs_e2fsprogs
def test_ext4_grows_for_files_that_do_not_fit(small_fs):
    image = Ext4Image(small_fs)
    files = [NewFile("/big", b"\x01" * (6 << 20))]
    image.ensure_room(files)
    assert small_fs.stat().st_size > 6 << 20
    image.put(files)
    image.check()
    assert image.read("/big") == b"\x01" * (6 << 20)


def test_not_an_ext4_image(tmp_path):
    if shutil.which("dumpe2fs") is None:
        pytest.skip("needs e2fsprogs")
    junk = tmp_path / "junk.img"
    junk.write_bytes(b"x" * 4096)
    with pytest.raises(ImageError):
        Ext4Image(junk).free_bytes()
