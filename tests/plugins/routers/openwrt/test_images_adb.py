"""The apk v3 (ADB) reader: on files the test writer makes, and, where apk-tools 3 is on PATH
(Debian does not package it), on files real ``apk mkpkg``/``apk mkndx`` make and checked by
real ``apk adbdump``."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from nativek8s.plugins.routers.openwrt.adb import AdbError, identity, read_index
from nativek8s.plugins.routers.openwrt.feeds import parse_apk_index
from nativek8s.plugins.routers.openwrt.release import ImageError

from . import adb_writer


def _apk3() -> str:
    found = shutil.which("apk")
    if found is None:
        pytest.skip("apk-tools 3 is not on PATH (not packaged by Debian)")
    version = subprocess.run([found, "--version"], capture_output=True, text=True,
                             check=False).stdout
    if not version.startswith("apk-tools 3"):
        pytest.skip(f"apk on PATH is not apk-tools 3: {version.strip()}")
    return found


BIRD2C = adb_writer.ApkInfo("bird2c", "2.19.2-r1",
                            depends=["bird2=2.19.2-r1", "libreadline", "!birdc4"],
                            provides=["birdc=2.19.2-r1"], tags=["openwrt:abiversion=x"])


def test_reader_reads_the_writers_index():
    pkg, ident = adb_writer.package(BIRD2C)
    index = read_index(adb_writer.index([(BIRD2C, ident, len(pkg))], "${name}_${version}.apk"))
    (entry,) = index.packages
    assert (entry.name, entry.version, entry.arch, entry.file_size) == \
        ("bird2c", "2.19.2-r1", "x86_64", len(pkg))
    assert entry.identity == ident == identity(pkg)
    assert [(d.name, d.version, d.conflict) for d in entry.depends] == [
        ("bird2", "2.19.2-r1", False), ("libreadline", None, False), ("birdc4", None, True)]
    assert [d.name for d in entry.provides] == ["birdc"]
    assert entry.tags == ("openwrt:abiversion=x",)
    assert index.pkgname_spec == "${name}_${version}.apk"


def test_feed_entries_skip_conflicts_and_follow_the_name_spec():
    pkg, ident = adb_writer.package(BIRD2C)
    (entry,) = parse_apk_index(adb_writer.index([(BIRD2C, ident, len(pkg))],
                                                "${arch}/${name:4}-${version}.apk"), "routing")
    assert entry.depends == (("bird2",), ("libreadline",))
    assert entry.path == "routing/x86_64/bird-2.19.2-r1.apk"
    (entry,) = parse_apk_index(adb_writer.index([(BIRD2C, ident, len(pkg))]), "routing")
    assert entry.filename == "bird2c-2.19.2-r1.apk"  # apk's default for an index URL


@pytest.mark.parametrize("spec", ["https://elsewhere/${name}.apk", "../${name}.apk"])
def test_name_spec_outside_the_feed_is_refused(spec):
    pkg, ident = adb_writer.package(BIRD2C)
    with pytest.raises(ImageError, match="not a path inside the feed"):
        parse_apk_index(adb_writer.index([(BIRD2C, ident, len(pkg))], spec), "routing")


@pytest.mark.parametrize(("data", "why"), [
    (b"PK\x03\x04not adb", "not an apk v3"),
    (b"ADBdnot deflate", "damaged ADB compression"),
    (b"ADB.pckg" + bytes(16), "schema"),
    (b"ADB.indx\x00\x01\x00\x00", "first block"),
])
def test_damaged_files_are_refused(data, why):
    with pytest.raises(AdbError, match=why):
        read_index(data)


def test_identity_is_of_the_adb_block_only():
    pkg, ident = adb_writer.package(BIRD2C)
    other, other_ident = adb_writer.package(adb_writer.ApkInfo("bird2c", "2.19.2-r2"))
    assert identity(pkg) == ident != other_ident == identity(other)
    with pytest.raises(AdbError, match="schema"):
        identity(adb_writer.index([]))


def test_real_apk_reads_what_the_writer_writes(tmp_path):
    apk = _apk3()
    pkg, ident = adb_writer.package(BIRD2C)
    (tmp_path / "packages.adb").write_bytes(adb_writer.index([(BIRD2C, ident, len(pkg))]))
    dump = json.loads(subprocess.run([apk, "adbdump", "--format", "json",
                                      str(tmp_path / "packages.adb")],
                                     capture_output=True, text=True, check=True).stdout)
    (entry,) = dump["packages"]
    assert entry["hashes"] == ident.hex() and entry["file-size"] == len(pkg)
    assert entry["depends"] == ["bird2=2.19.2-r1", "libreadline", "!birdc4"]


def test_reader_reads_what_real_apk_writes(tmp_path):
    apk = _apk3()
    root = tmp_path / "root"
    (root / "usr/sbin").mkdir(parents=True)
    (root / "usr/sbin/bird").write_bytes(b"#!/bin/sh\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run([apk, "mkpkg", "-F", str(root), "-I", "name:bird2", "-I", "version:2.19.2-r1",
                    "-I", "arch:x86_64", "-I", "depends:libc libpthread !bird1",
                    "-I", "provides:bird=2.19.2-r1", "-o", str(repo / "bird2-2.19.2-r1.apk")],
                   check=True, capture_output=True)
    subprocess.run([apk, "mkndx", "--allow-untrusted", "--output", "packages.adb",
                    "bird2-2.19.2-r1.apk"], cwd=repo, check=True, capture_output=True)
    (entry,) = parse_apk_index((repo / "packages.adb").read_bytes(), "routing")
    pkg = (repo / "bird2-2.19.2-r1.apk").read_bytes()
    assert entry.filename == "bird2-2.19.2-r1.apk" and entry.size == len(pkg)
    assert entry.identity == identity(pkg)
    assert entry.depends == (("libc",), ("libpthread",)) and entry.provides == ("bird",)
