"""How one logs into the lab's routers, and nothing else does.

OpenWrt boots with an empty root password: anyone reaching its console, or its SSH (dropbear
accepts an empty password by default), is root. Each lab gets its own credentials, made
once and kept in the lab's secrets (files, mode 0600):

- ``router-ssh-key`` (and ``.pub``): an ed25519 key; its public half is the routers'
  ``/etc/dropbear/authorized_keys``. SSH accepts only it: dropbear's password logins are
  off (``/etc/config/dropbear``).
- ``router-root-password``: root's password, for the serial console. Its SHA-512 crypt hash
  (``router-root-password.hash``, made once so the router disk stays the same between
  deploys) goes into ``/etc/shadow`` at first boot through a uci-defaults script.

The password and key never pass through argv: ``openssl passwd -stdin`` reads the password
on stdin; ``ssh-keygen`` gets an empty passphrase.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from nativek8s.api import SECRET_MODE, NativeK8sError, SecretStore

SSH_KEY = "router-ssh-key"
ROOT_PASSWORD = "router-root-password"
ROOT_HASH = f"{ROOT_PASSWORD}.hash"
AUTHORIZED_KEYS = "/etc/dropbear/authorized_keys"
DROPBEAR_CONFIG = "/etc/config/dropbear"
ROOT_PASSWORD_SCRIPT = "/etc/uci-defaults/80-nativek8s-root-password"
_SHA512_CRYPT = re.compile(r"^\$6\$[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$")


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise NativeK8sError(f"`{name}` is not on PATH: nativek8s makes the routers' login "
                             f"credentials with it; install {package}")
    return found


def public_key(secrets: SecretStore, lab: str) -> str:
    """The lab's router SSH public key, the key pair made on first use."""
    key = secrets.path(SSH_KEY)
    pub = key.with_name(key.name + ".pub")
    if not key.exists() or not pub.exists():
        key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key.unlink(missing_ok=True)
        pub.unlink(missing_ok=True)
        done = subprocess.run([_tool("ssh-keygen", "openssh-client"), "-q", "-t", "ed25519",
                               "-N", "", "-C", f"nativek8s lab {lab} routers", "-f", str(key)],
                              capture_output=True, text=True, check=False,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise NativeK8sError(f"ssh-keygen could not make the routers' key {key}: "
                                 f"{done.stderr.strip()[-200:]}")
    key.chmod(SECRET_MODE)
    return pub.read_text().strip()


def sha512_crypt(password: str) -> str:
    done = subprocess.run([_tool("openssl", "openssl"), "passwd", "-6", "-stdin"],
                          input=password + "\n", capture_output=True, text=True, check=False)
    value = done.stdout.strip()
    if done.returncode != 0 or not _SHA512_CRYPT.match(value):
        raise NativeK8sError("openssl could not hash the routers' root password "
                             f"({done.stderr.strip()[-200:]})")
    return value


def root_password_hash(secrets: SecretStore) -> str:
    """The crypt hash of the lab's root password (both made on first use)."""
    password = secrets.get(ROOT_PASSWORD)
    if secrets.exists(ROOT_HASH):
        stored = secrets.path(ROOT_HASH).read_text().strip()
        if _SHA512_CRYPT.match(stored):
            return stored
    value = sha512_crypt(password)
    secrets.put(ROOT_HASH, value)
    return value
