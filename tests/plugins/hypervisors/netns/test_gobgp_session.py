"""`gobgp neighbor -j` read into a session state, from two real gobgpd in namespaces of
their own: one announces two prefixes, the other reports received and accepted counts, the
AS numbers and an uptime (its JSON leaves zero counters out, and gives the epoch second the
session came up)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from nativek8s.plugins.hypervisors.netns import daemons
from nativek8s.plugins.hypervisors.netns.observer import gobgp_session

pytestmark = pytest.mark.netns

PREFIXES = ("10.78.0.0/24", "10.78.1.0/24")


def _config(asn: int, me: str, peer: str, peer_asn: int) -> str:
    return (f'[global.config]\n  as = {asn}\n  router-id = "{me}"\n  port = 179\n'
            f'  local-address-list = ["{me}"]\n[[neighbors]]\n  [neighbors.config]\n'
            f'    neighbor-address = "{peer}"\n    peer-as = {peer_asn}\n'
            "  [neighbors.timers.config]\n    connect-retry = 1\n"
            '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n'
            '      afi-safi-name = "ipv4-unicast"\n')


def _ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True, timeout=10)


@pytest.fixture
def pair(tmp_path: Path):
    if os.geteuid() != 0 or not (shutil.which("gobgpd") and shutil.which("gobgp")):
        pytest.skip("needs root and gobgpd/gobgp (scripts/install-deps.sh)")
    lab = f"nk.gs{secrets.token_hex(3)}"
    a, b = f"{lab}.a", f"{lab}.b"
    procs: list[subprocess.Popen] = []
    made: list[str] = []
    try:
        for ns in (a, b):
            _ip("netns", "add", ns)
            made.append(ns)
            _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", a, "link", "add", "ea", "type", "veth", "peer", "name", "eb", "netns", b)
        _ip("-n", a, "addr", "add", "10.77.0.1/30", "dev", "ea")
        _ip("-n", b, "addr", "add", "10.77.0.2/30", "dev", "eb")
        _ip("-n", a, "link", "set", "ea", "up")
        _ip("-n", b, "link", "set", "eb", "up")
        socks = {}
        for ns, asn, me, peer, peer_asn in ((a, 65010, "10.77.0.1", "10.77.0.2", 65020),
                                            (b, 65020, "10.77.0.2", "10.77.0.1", 65010)):
            conf = tmp_path / f"{ns}.toml"
            conf.write_text(_config(asn, me, peer, peer_asn))
            socks[ns] = tmp_path / f"{ns}.sock"
            with open(tmp_path / f"{ns}.log", "wb") as log:
                procs.append(subprocess.Popen(
                    ["ip", "netns", "exec", ns, "gobgpd", "-f", str(conf), "-t", "toml", "-p",
                     "--pprof-disable", f"--api-hosts=unix://{socks[ns]}"],
                    stdout=log, stderr=subprocess.STDOUT))
        yield socks[a], socks[b]
    finally:
        for proc in procs:  # ours, by PID
            proc.kill()
            proc.wait(10)
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], check=False, timeout=10)


def _until(predicate, limit: float = 60.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("not reached")


def test_received_accepted_as_numbers_and_uptime(pair):
    announcer, receiver = pair

    def up() -> bool:
        try:
            return gobgp_session(daemons.gobgp_neighbors(receiver)[0], time.time()).established
        except Exception:  # noqa: BLE001 - the daemon is still starting
            return False

    _until(up)
    # before any announcement: zero counters are left out of the JSON, read as 0
    before = gobgp_session(daemons.gobgp_neighbors(receiver)[0], time.time())
    assert (before.received, before.accepted) == (0, 0)
    for prefix in PREFIXES:
        subprocess.run(["gobgp", "--target", f"unix://{announcer}", "global", "rib", "add",
                        prefix], check=True, capture_output=True, timeout=10)
    state = _until(lambda: (s := gobgp_session(daemons.gobgp_neighbors(receiver)[0],
                                               time.time())).received == 2 and s)
    assert (state.peer, state.state) == ("10.77.0.1", "Established")
    assert (state.local_as, state.peer_as) == (65020, 65010)
    assert (state.received, state.accepted) == (2, 2)
    assert state.uptime_seconds is not None and state.uptime_seconds >= 0
    assert state.since.endswith("+00:00")
    plain = subprocess.run(["gobgp", "--target", f"unix://{receiver}", "neighbor"],
                           check=True, capture_output=True, text=True, timeout=10).stdout
    assert plain.splitlines()[1].split()[-2:] == ["2", "2"]  # gobgp's own table agrees
