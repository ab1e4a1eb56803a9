"""The rendered router allows no login without the lab's credential: SSH (dropbear) takes
the lab's key only, no password; root's console password is the lab's. Read back as
OpenWrt reads them (UCI files, /etc/shadow after the first-boot script ran)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from nativek8s.plugins.routers.openwrt.credentials import (
    AUTHORIZED_KEYS,
    DROPBEAR_CONFIG,
    ROOT_HASH,
    ROOT_PASSWORD,
    ROOT_PASSWORD_SCRIPT,
    SSH_KEY,
)

from .uci_reader import of_type, read_uci

# OpenWrt's own /etc/shadow (base-files): root has no password at all.
OPENWRT_SHADOW = """root:::0:99999:7:::
daemon:*:0:0:99999:7:::
ftp:*:0:0:99999:7:::
network:*:0:0:99999:7:::
nobody:*:0:0:99999:7:::
"""


def _crypt(password: str, salt: str) -> str:
    done = subprocess.run(["openssl", "passwd", "-6", "-salt", salt, "-stdin"],
                          input=password + "\n", capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_ssh_takes_the_lab_key_only(render_lab) -> None:
    lab = render_lab(None)
    key = lab.secrets.path(SSH_KEY)
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(key)], capture_output=True,
                             text=True, check=True).stdout.split()[:2]
    for router in lab.plan.routers:
        (dropbear,) = of_type(read_uci(lab.text(router.name, DROPBEAR_CONFIG)), "dropbear")
        assert dropbear.get("PasswordAuth") == "off"
        assert dropbear.get("RootPasswordAuth") == "off"
        keys = lab.text(router.name, AUTHORIZED_KEYS).splitlines()
        assert [k.split()[:2] for k in keys] == [derived]  # exactly the lab's key
        assert keys[0].split()[0] == "ssh-ed25519"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700


def test_console_root_password_is_the_labs(render_lab, tmp_path: Path) -> None:
    lab = render_lab(None)
    password = lab.secrets.path(ROOT_PASSWORD).read_text().strip()
    assert len(password) >= 20
    assert stat.S_IMODE(lab.secrets.path(ROOT_PASSWORD).stat().st_mode) == 0o600
    assert stat.S_IMODE(lab.secrets.path(ROOT_HASH).stat().st_mode) == 0o600
    files = {(f.machine, f.target): f for f in lab.files}
    script = files[("router-1", ROOT_PASSWORD_SCRIPT)]
    assert script.secret  # the hash could be attacked offline: 0600 on disk and in render
    assert all(password not in str(f.content) for f in lab.files)  # only its hash
    # Run the first-boot script as OpenWrt would, on OpenWrt's shadow file.
    shadow = tmp_path / "shadow"
    shadow.write_text(OPENWRT_SHADOW)
    runnable = tmp_path / "root-password.sh"
    runnable.write_text(str(script.content).replace("/etc/shadow", str(shadow)))
    subprocess.run(["sh", str(runnable)], check=True)
    entries = {line.split(":")[0]: line.split(":") for line in shadow.read_text().splitlines()}
    field = entries["root"][1]
    assert field.startswith("$6$")  # SHA-512 crypt: what OpenWrt's busybox login checks
    salt = field.split("$")[2]
    assert _crypt(password, salt) == field
    assert _crypt("", salt) != field
    assert entries["daemon"] == OPENWRT_SHADOW.splitlines()[1].split(":")  # untouched
    assert subprocess.run(["sh", str(runnable)]).returncode == 0  # a second boot: the same


def test_credentials_are_made_once_per_lab(render_lab) -> None:
    first = render_lab(None)
    again = render_lab(None)  # same secrets folder: same key and hash, same router disk
    for target in (AUTHORIZED_KEYS, ROOT_PASSWORD_SCRIPT):
        assert first.text("router-1", target) == again.text("router-1", target)
    assert first.text("router-1", AUTHORIZED_KEYS) == first.text("router-2", AUTHORIZED_KEYS)


def test_missing_ssh_keygen_says_what_to_install(render_lab, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    from nativek8s.core.errors import NativeK8sError

    with pytest.raises(NativeK8sError, match="`ssh-keygen` is not on PATH.*openssh-client"):
        render_lab(None)
    assert os.environ["PATH"] == "/nonexistent"
