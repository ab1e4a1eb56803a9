"""What the netns observer reads in its own process (BIRD's control socket, rtnetlink) is
what birdc and ip print, checked against the real tools in scratch namespaces; and
settle_links has the kernel apply a bridge's carrier change at once."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from nativek8s.api import CommandFailed, KernelRoute
from nativek8s.plugins.hypervisors.netns import netlink
from nativek8s.plugins.hypervisors.netns.inns import settle_links
from nativek8s.shared.birdctl import query
from tests.support.scratch_netns import scratch_namespaces

pytestmark = pytest.mark.netns

BIRD_CONF = """router id 10.79.0.1;
protocol device { }
protocol static extra { ipv4; route 10.79.8.0/24 unreachable; route 10.79.9.0/24 blackhole; }
protocol kernel { ipv4 { export all; import none; }; }
protocol bgp peer0 { local 10.79.0.1 as 65001; neighbor 10.79.0.2 as 65002;
  ipv4 { import all; export none; }; }
"""
ROUTES = [
    "route add 10.79.1.0/24 via 10.79.0.2",
    "route add 10.79.2.0/24 via 10.79.0.2 metric 50 proto static",
    "route add 10.79.2.0/24 via 10.79.0.3 metric 10 proto 186",
    "route add blackhole 10.79.3.0/24",
    "route add unreachable 10.79.4.0/24 proto boot",
    "route add prohibit 10.79.5.0/24",
    "route add 10.79.6.0/24 nexthop via 10.79.0.2 nexthop via 10.79.0.3",
    "route add 10.79.7.0/24 via 10.79.0.2 table 100",  # not the main table: not listed
    "route add default via 10.79.0.2",
    "route add 10.79.10.7 dev e0",
]
RULES = [
    "rule add from 10.79.0.0/16 table 100 pref 100",
    "rule add to 10.78.0.0/16 iif e0 lookup main pref 200",
    "rule add fwmark 0x10 blackhole pref 300",
    "rule add lookup main suppress_prefixlength 0 pref 400",
]


def _ip(*argv: str, stdin: str | None = None) -> str:
    return subprocess.run(["ip", *argv], check=True, capture_output=True, text=True,
                          input=stdin, timeout=10).stdout


@pytest.fixture
def spaces():
    """Two namespaces joined by a veth (e0 in the first, on a bridge in the second)."""
    with scratch_namespaces("nk.io", "a", "b") as (a, b):
        _ip("-n", a, "-batch", "-", stdin="\n".join([
            "link set lo up", f"link add e0 type veth peer name p0 netns {b}",
            "addr add 10.79.0.1/24 dev e0", "link set e0 up", *ROUTES, *RULES]) + "\n")
        _ip("-n", b, "-batch", "-", stdin="link add br0 type bridge\nlink set br0 up\n"
            "link set p0 master br0\nlink set p0 up\n")
        yield a, b


def test_routes_are_what_ip_lists(spaces) -> None:
    a, _ = spaces
    seen = [KernelRoute.from_ip_json(r)
            for r in json.loads(_ip("-n", a, "-j", "-4", "route", "show"))]
    mine = netlink.routes(a)
    assert mine == seen
    kinds = {str(r.prefix): r.kind for r in mine}
    assert kinds["10.79.3.0/24"] == "blackhole" and kinds["10.79.5.0/24"] == "prohibit"
    assert {r.protocol for r in mine} >= {"bgp", "static", "boot", "kernel"}
    ecmp = next(r for r in mine if str(r.prefix) == "10.79.6.0/24")
    assert [str(h) for h in ecmp.via] == ["10.79.0.2", "10.79.0.3"]
    assert not any(str(r.prefix) == "10.79.7.0/24" for r in mine)


def test_rules_are_what_ip_lists(spaces) -> None:
    a, _ = spaces
    seen = json.loads(_ip("-n", a, "-j", "-4", "rule", "show"))
    assert netlink.rules(a) == seen
    _ip("-n", a, "-batch", "-", stdin="".join(
        r.replace("add", "del", 1) + "\n" for r in RULES))
    assert netlink.rules(a) == [{"priority": 0, "src": "all", "table": "local"},
                                {"priority": 32766, "src": "all", "table": "main"},
                                {"priority": 32767, "src": "all", "table": "default"}]


def test_link_kinds_are_what_ip_lists(spaces) -> None:
    for ns in spaces:
        links = json.loads(_ip("-n", ns, "-j", "-d", "link", "show"))
        seen = {ln["ifname"]: ln.get("linkinfo", {}).get("info_kind", ln.get("link_type"))
                for ln in links}
        assert netlink.link_kinds(ns) == seen
    assert netlink.link_kinds(spaces[1])["br0"] == "bridge"


def test_a_namespace_that_is_gone_is_named() -> None:
    with pytest.raises(Exception, match="nk.nosuch"):
        netlink.routes("nk.nosuch")


def _operstates(ns: str) -> dict[str, str]:
    # A dump: unlike `ip link show dev X`, it does not make the kernel apply pending changes.
    return {ln["ifname"]: ln["operstate"]
            for ln in json.loads(_ip("-n", ns, "-j", "link", "show"))}


def test_settle_links_applies_a_bridges_carrier_change_at_once(spaces) -> None:
    a, b = spaces
    # Another bridge's change first. Once the kernel has applied it, it holds further
    # changes back for a second: the router's bridge below then stays down that long.
    _ip("-n", b, "-batch", "-", stdin="link add bx type bridge\n"
        "link add dx type veth peer name dy\nlink set dx master bx\nlink set dx up\n"
        "link set dev dy up\nlink set bx up\n")
    end = time.monotonic() + 3
    while _operstates(b)["bx"] != "UP" and time.monotonic() < end:
        time.sleep(0.002)
    # A router's LAN: its port on a bridge of its own, the far end on the switch's bridge.
    _ip("-n", b, "-batch", "-", stdin=f"link add l1 type veth peer name l0 netns {a}\n"
        "link set l1 master br0\nlink set l1 up\n")
    _ip("-n", a, "-batch", "-", stdin="link add br-lan type bridge\nlink set l0 master br-lan\n"
        "link set l0 up\nlink set br-lan up\n")
    settle_links(a)
    assert _operstates(a)["br-lan"] == "UP"


@pytest.fixture
def bird(spaces, tmp_path: Path):
    if not shutil.which("bird") or not shutil.which("birdc"):
        pytest.skip("needs bird and birdc (apt-get install bird2)")
    a, _ = spaces
    conf, sock = tmp_path / "bird.conf", tmp_path / "bird.ctl"
    conf.write_text(BIRD_CONF)
    proc = subprocess.Popen(["ip", "netns", "exec", a, "bird", "-f", "-c", str(conf), "-s",
                             str(sock), "-P", str(tmp_path / "bird.pid")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 10
        while not sock.exists() and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.01)
        assert sock.exists(), "BIRD did not start"
        yield str(sock)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _birdc(sock: str, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["birdc", "-s", sock, *command.split()], capture_output=True,
                          text=True, timeout=10)


# What changes from one moment to the next: timers, the clock, and BIRD's timestamps (the
# two outputs are taken a few milliseconds apart).
_MOVING = re.compile(r"(timer|delay|Current server time|Uptime).*|\d\d:\d\d:\d\d(\.\d+)?")


@pytest.mark.parametrize("command", ["show status", "show protocols", "show protocols all",
                                     "show route all", "show route filtered",
                                     "show route for 10.79.8.1 all"])
def test_birdctl_prints_what_birdc_prints(bird: str, command: str) -> None:
    real = _birdc(bird, command)
    assert real.returncode == 0, real.stderr
    assert _MOVING.sub("", query(bird, command)) == _MOVING.sub("", real.stdout)


@pytest.mark.parametrize("command", ["show route for 10.80.0.1", "show route protocol nosuch"])
def test_birdctl_fails_where_birdc_fails(bird: str, command: str) -> None:
    real = _birdc(bird, command)
    assert real.returncode == 1
    with pytest.raises(CommandFailed) as exc:
        query(bird, command)
    assert exc.value.exit_status == 1
    assert exc.value.output == real.stdout
    assert real.stdout.splitlines()[-1] in str(exc.value)


def test_birdctl_names_a_socket_nobody_listens_on(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed, match="Unable to connect to server control socket"):
        query(str(tmp_path / "none.ctl"), "show status")
