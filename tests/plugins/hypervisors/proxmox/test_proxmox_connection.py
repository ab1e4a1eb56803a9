"""Where the token comes from (a 0600 file or the environment, never an option value), what
is said when it is missing or malformed (never its content), and TLS verification."""

from __future__ import annotations

import pytest

from nativek8s.api import NativeK8sError, UsageError
from nativek8s.plugins.hypervisors.proxmox.connection import Connection, load_token
from nativek8s.plugins.hypervisors.proxmox.options import ProxmoxOptions

ENVS = ("NATIVEK8S_PROXMOX_TOKEN", "PROXMOX_VE_API_TOKEN", "NATIVEK8S_PROXMOX_TOKEN_FILE",
        "NATIVEK8S_PROXMOX_HOST")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ENVS:
        monkeypatch.delenv(name, raising=False)


def test_token_from_a_private_file(tmp_path):
    path = tmp_path / "token"
    path.write_text("nativek8s@pve!lab=aaaaaaaa-1111-2222-3333-444444444444\n")
    path.chmod(0o600)
    token = load_token(ProxmoxOptions(token_file=path))
    assert (token.userid, token.name) == ("nativek8s@pve", "lab")
    assert token.secret == "aaaaaaaa-1111-2222-3333-444444444444"
    assert "aaaaaaaa" not in repr(token)


def test_a_token_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "token"
    path.write_text("nativek8s@pve!lab=aaaaaaaa-1111\n")
    path.chmod(0o644)
    with pytest.raises(UsageError, match=r"readable by others; run `chmod 600 "):
        load_token(ProxmoxOptions(token_file=path))


def test_a_malformed_token_is_described_without_its_content(tmp_path, monkeypatch):
    monkeypatch.setenv("NATIVEK8S_PROXMOX_TOKEN", "root@pam:hunter2-secret-value")
    with pytest.raises(UsageError) as err:
        load_token(ProxmoxOptions())
    assert "$NATIVEK8S_PROXMOX_TOKEN is not of the form USER@REALM!TOKENID=SECRET" in str(
        err.value)
    assert "hunter2" not in str(err.value)


def test_token_from_the_environment_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("PROXMOX_VE_API_TOKEN", "a@pve!second=bbbbbbbbbbbb")
    assert load_token(ProxmoxOptions()).name == "second"
    monkeypatch.setenv("NATIVEK8S_PROXMOX_TOKEN", "a@pve!first=aaaaaaaaaaaa")
    assert load_token(ProxmoxOptions()).name == "first"
    path = tmp_path / "t"
    path.write_text("a@pve!file=cccccccccccc")
    path.chmod(0o600)
    monkeypatch.setenv("NATIVEK8S_PROXMOX_TOKEN_FILE", str(path))
    assert load_token(ProxmoxOptions()).name == "file"


def test_no_token_and_no_host_say_how_to_give_them():
    with pytest.raises(UsageError, match=r"no Proxmox API token: set options.proxmox.token_"):
        load_token(ProxmoxOptions())
    with pytest.raises(UsageError, match=r"no Proxmox host: set options.proxmox.host"):
        Connection(ProxmoxOptions())


def test_options_refuse_a_token_value():
    with pytest.raises(ValueError, match="extra"):
        ProxmoxOptions.model_validate({"token": "a@pve!b=c"})


def test_tls_is_verified_by_default(pve, monkeypatch):
    monkeypatch.setenv("NATIVEK8S_PROXMOX_TOKEN", pve.token.header.split("=", 1)[1])
    with pytest.raises(NativeK8sError) as err:
        Connection(ProxmoxOptions(host=pve.host)).get("/version")
    assert "TLS verification of https://" in str(err.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(err.value) and "ca_file" in str(err.value)
    assert Connection(ProxmoxOptions(host=pve.host, ca_file=pve.ca_file)).get(
        "/version")["version"] == "9.1.3"
    assert Connection(ProxmoxOptions(host=pve.host, verify_tls=False)).get("/version")


def test_host_is_a_bare_address():
    with pytest.raises(ValueError, match=r"give HOST or HOST:PORT only"):
        ProxmoxOptions(host="https://pve1:8006/api2/json")
    assert ProxmoxOptions(host="pve1:8006").host == "pve1:8006"
