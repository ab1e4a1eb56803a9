"""The API token's secret never shows: not in progress lines, logs (every logger at DEBUG,
proxmoxer's and urllib3's included), stdout/stderr, exceptions and their tracebacks, or any
file of the lab's state -- through a deploy, a failed step, a rejected token, an unreachable
host and a destroy."""

from __future__ import annotations

import logging
import socket
import traceback

import pytest

from nativek8s.api import NativeK8sError
from nativek8s.plugins.hypervisors.proxmox.connection import Connection, Token
from nativek8s.plugins.hypervisors.proxmox.options import ProxmoxOptions

from .pve_lab import write_token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_token_secret_never_appears(pve, make_lab, caplog, capfd, tmp_path):
    secret = pve.token.secret
    caplog.set_level(logging.DEBUG)
    for name in ("proxmoxer", "proxmoxer.core", "proxmoxer.backends.https", "urllib3",
                 "requests"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    seen: list[str] = []

    def attempt(action) -> None:
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - every failure's text is inspected
            seen.append("".join(traceback.format_exception(exc)))
            seen.append(repr(exc))

    lab = make_lab(pve)
    pve.state.tasks.fail_next("qmstart", "start failed: QEMU exited with code 1",
                              log=["kvm: cannot set up guest memory 'pc.ram'"])
    attempt(lab.deploy)
    attempt(lab.deploy)
    ctx = lab.ctx()
    seen += [repr(o) for o in lab.plugin(ctx).observer(ctx).machines()]
    attempt(lab.destroy)
    # A wrong secret for the same token id, and a host where nothing listens.
    wrong = pve.add_token(tokenid="other")
    wrong_secret = wrong.secret
    wrong.secret = "0" * 32
    bad = write_token(tmp_path / "bad.token", type(wrong)(wrong.userid, wrong.tokenid,
                                                          wrong_secret))
    attempt(lambda: make_lab_with(lab, pve, bad).deploy())
    opts = ProxmoxOptions(host=f"127.0.0.1:{_free_port()}", verify_tls=False,
                          request_timeout=2)
    token = Token("nativek8s@pve", "lab", secret)
    attempt(lambda: Connection(opts, token).get("/version"))
    seen.append(repr(token))
    seen.append(repr(Connection(opts, token)))

    out, err = capfd.readouterr()
    files = [p.read_text(errors="replace") for p in lab.root.rglob("*") if p.is_file()]
    everything = "\n".join([*lab.lines, caplog.text, out, err, *seen, *files])
    assert "QEMU exited with code 1" in everything  # the failures did happen and were seen
    assert "was rejected" in everything and "cannot reach" in everything
    assert caplog.records  # the loggers were listening
    assert secret not in everything
    assert wrong_secret not in everything


def make_lab_with(lab, pve, token_file):
    from .pve_lab import Lab, make_plan, topology

    return Lab(make_plan(topology(pve, token_file), lab.reg), lab.root / "other", lab.reg)


def test_a_rejected_token_says_what_to_check(pve, make_lab, tmp_path):
    lab = make_lab(pve)
    write_token(tmp_path / "pve.token", type(pve.token)(pve.token.userid, pve.token.tokenid,
                                                        "e" * 32))
    with pytest.raises(NativeK8sError) as err:
        lab.deploy()
    assert "401" in str(err.value) and "nativek8s@pve!lab was rejected" in str(err.value)
    assert "e" * 32 not in str(err.value)
