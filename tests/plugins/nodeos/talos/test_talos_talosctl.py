"""Preflight: talosctl found on PATH or at the configured path, with the nodes' minor
version; otherwise an error that says how to get the right one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nativek8s.api import NativeK8sError
from nativek8s.plugins.nodeos.talos.provision import Provisioner
from nativek8s.plugins.nodeos.talos.talosctl import Talosctl, TalosctlError
from nativek8s.plugins.nodeos.talos.versions import parse_version


def test_found_on_path_with_the_same_minor(make_lab) -> None:
    lab = make_lab()
    note = Provisioner(lab.context()).preflight()
    assert note.startswith("talosctl v1.13.9 (") and note.endswith("/talosctl)")


def test_missing_talosctl_says_how_to_install(make_lab, monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    lab = make_lab()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(NativeK8sError) as err:
        Provisioner(lab.context()).preflight()
    message = str(err.value)
    assert message.startswith("talosctl is not on PATH; install talosctl v1.13.9")
    assert "https://github.com/siderolabs/talos/releases" in message
    assert "options.talos.talosctl" in message


def test_configured_path_must_be_an_executable(make_lab, tmp_path: Path) -> None:
    lab = make_lab(talosctl=str(tmp_path / "nowhere" / "talosctl"))
    with pytest.raises(NativeK8sError, match=r"talosctl not found at .*nowhere/talosctl "
                                             r"\(options.talos.talosctl\); install"):
        Provisioner(lab.context()).preflight()


def test_configured_path_is_used(make_lab, standin_launcher: Path,
                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    lab = make_lab(talosctl=str(standin_launcher / "talosctl"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert str(standin_launcher) in Provisioner(lab.context()).preflight()


@pytest.mark.parametrize("client", ["v1.12.4", "v1.14.0"])
def test_other_minor_version_is_refused(make_lab, monkeypatch: pytest.MonkeyPatch,
                                        client: str) -> None:
    lab = make_lab()
    monkeypatch.setenv("NK8S_TALOSCTL_VERSION", client)
    with pytest.raises(NativeK8sError) as err:
        Provisioner(lab.context()).preflight()
    assert f"is talosctl {client} but the nodes run Talos v1.13.9; install talosctl " \
           "v1.13.9" in str(err.value)


def test_failed_call_quotes_command_and_output(make_lab) -> None:
    make_lab()
    talosctl = Talosctl.find(None, parse_version("1.13.9"))
    with pytest.raises(TalosctlError) as err:
        talosctl.run(["get", "machinestatus", "--insecure", "--nodes", "10.9.9.9"])
    assert str(err.value).startswith(
        "`talosctl get machinestatus --insecure --nodes 10.9.9.9` failed (exit 1):")
    assert "no route to host" in str(err.value) and "no route to host" in err.value.stderr


def test_a_hanging_talosctl_is_stopped(tmp_path: Path) -> None:
    slow = tmp_path / "talosctl"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    talosctl = Talosctl(str(slow), timeout=0.2)
    with pytest.raises(TalosctlError, match="did not finish within 0.2s"):
        talosctl.run(["version"])
    assert os.access(slow, os.X_OK)
