"""Tier 2: `nativek8s doctor` against a private libvirtd with Debian's stock QEMU user
(libvirt-qemu, dynamic ownership) refuses a pool QEMU cannot reach, naming the folder and
the user, and accepts the lab's own pool. Parsing of libvirt's DAC label: tier 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from nativek8s.core.load import reference_text
from nativek8s.plugins.hypervisors.libvirt.qemu_access import QemuUser, blocking_folder, qemu_user

CAPS = """<capabilities><host>
  <secmodel><model>none</model><doi>0</doi></secmodel>
  <secmodel><model>dac</model><doi>0</doi>
    <baselabel type='kvm'>+995:+995</baselabel><baselabel type='qemu'>+995:+995</baselabel>
  </secmodel></host></capabilities>"""


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder anyone may enter (pytest's tmp_path sits under a 0700 one)."""
    path = Path(tempfile.mkdtemp(prefix="nk8s-qemu-access-", dir="/tmp"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_qemu_user_from_capabilities_and_blocking_folders(open_dir: Path):
    assert qemu_user(CAPS) == QemuUser(995, 995)
    assert qemu_user("<capabilities><host/></capabilities>") is None
    private = open_dir / "private"
    (private / "images").mkdir(parents=True)
    private.chmod(0o700)
    user = QemuUser(995, 995)
    assert blocking_folder(user, str(private / "images" / "pool")) == private
    private.chmod(0o711)
    assert blocking_folder(user, str(private / "images" / "pool")) is None
    assert blocking_folder(QemuUser(0, 0), "/root/x") is None  # root enters anything


def _doctor(uri: str, tmp_path: Path, **libvirt) -> subprocess.CompletedProcess:
    data = yaml.safe_load(reference_text())
    data.setdefault("options", {})["libvirt"] = {"uri": uri, "domain_type": "qemu", **libvirt}
    topo = tmp_path / "lab.yaml"
    topo.write_text(yaml.safe_dump(data))
    env = {**os.environ, "NATIVEK8S_STATE_DIR": str(tmp_path / "state"),
           "NATIVEK8S_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "nativek8s.core.cli.main", "doctor", "-f",
                           str(topo), "--hypervisor", "libvirt"], capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.mark.netns
def test_doctor_names_the_folder_qemu_cannot_enter(libvirt_conn, libvirt_uri, tmp_path):
    private = tmp_path / "private"  # pytest's tmp_path is root's: 0700 above it
    conn = libvirt_conn
    pool = conn.storagePoolDefineXML(f"<pool type='dir'><name>userimages</name><target>"
                                     f"<path>{private}/pool</path></target></pool>", 0)
    pool.build(0)
    private.chmod(0o700)

    bad = _doctor(libvirt_uri, tmp_path, pool="userimages")
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert (f"storage pool userimages (options.libvirt.pool) at {private}/pool: libvirt at "
            f"{libvirt_uri} runs QEMU as libvirt-qemu (uid ") in bad.stderr
    blocked = next(p for p in [*reversed(private.parents), private]
                   if p.stat().st_mode & 0o001 == 0)
    assert f"cannot enter {blocked} (mode " in bad.stderr, bad.stderr

    # The lab's own pool under /var/lib/libvirt/images: nothing for libvirt to complain
    # about (doctor also asks the OS and CNI plugins, which want tools and downloads this
    # machine may not have: only libvirt's lines count here).
    good = _doctor(libvirt_uri, tmp_path)
    assert "runs QEMU as" not in good.stderr and "FAIL libvirt" not in good.stderr, good.stderr
