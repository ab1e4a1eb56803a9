"""`graph --live`, `exec` and `console` on a real netns lab (BIRD routers, GoBGP or BIRD
node speakers)."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
import time

import pytest

from tests import browser

pytestmark = [pytest.mark.netns]


def live_marks(lab, tmp_path) -> tuple[str, str]:
    """(mermaid text, HTML text) of `graph --live`."""
    mermaid = lab.cli("graph", lab.name, "--live", "--format", "mermaid", check=True).stdout
    page = tmp_path / "lab.html"
    done = lab.cli("graph", lab.name, "--live", "-o", str(page), check=True)
    assert f"wrote {page} (html, lab {lab.name}" in done.stderr
    return mermaid, page.read_text()


def test_graph_live_shows_sessions_routes_and_differences(make_lab, tmp_path):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    mermaid, html = live_marks(lab, tmp_path)
    assert "(live)" in mermaid and "<br/>✗" not in mermaid and "<br/>+ " not in mermaid
    for prefix in ("10.244.0.0/24 via 10.1.0.10", "10.244.1.0/24 via 10.255.0.2"):
        assert f"✓ {prefix}" in mermaid  # router-1's observed table, as planned
    assert html.count("Established") == 6  # both sides of three sessions
    assert "Differences from the plan</h2>\n<p class=\"mark-ok\">none" in html
    if browser.missing_reason() is None:
        seen = browser.probe_graph_page(tmp_path / "lab.html")
        assert {m for m, _, _ in seen["rows"]} == {"router-1", "router-2", "node-1", "node-2"}
        assert all(mark in ("mark-ok", "mark-extra") for _, _, mark in seen["rows"])
        assert [s[1] for s in seen["sessions"]] == ["mark-ok"] * 3
        assert {s[3] for s in seen["sessions"]} == {"rgb(26, 127, 55)"}  # green, as drawn

    # router-2's BIRD dies: its sessions go down and router-1 loses dc2's routes.
    os.kill(lab.resources()["netns:proc:router-2:bird"]["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:  # until router-1 notices (BIRD sees the TCP reset at once, or hold time)
        mermaid, html = live_marks(lab, tmp_path)
        if "✗ 10.244.1.0/24" in mermaid or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "✗ 10.244.1.0/24 via 10.255.0.2 dev eth2 (bgp)" in mermaid
    assert "session router-1--router-2: router-1: " in html
    assert "router-1: planned 10.244.1.0/24 via 10.255.0.2" in html
    assert "router-2: bird not running" in html or "degraded" in html
    if browser.missing_reason() is None:
        seen = browser.probe_graph_page(tmp_path / "lab.html")
        marks = {s[0]: s[1] for s in seen["sessions"]}
        assert marks["router-1--router-2"] == "mark-failed"
        assert marks["router-1--node-1"] == "mark-ok"
        assert ["router-1", "10.244.1.0/24", "mark-failed"] in seen["rows"]


def test_exec_runs_commands_in_machines_with_their_daemons(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    protocols = lab.cli("exec", "--lab", lab.name, "router-1", "birdc", "show", "protocols",
                        check=True).stdout
    assert re.search(r"router-1--node-1\s+BGP.*Established", protocols)
    routes = lab.cli("exec", "node-1", "--", "ip", "route", check=True).stdout
    assert "default via 10.1.0.1 dev eth0" in routes and "10.244.0.10 dev pod0" in routes
    peers = lab.cli("exec", "node-2", "gobgp", "neighbor", check=True).stdout
    assert re.search(r"10\.2\.0\.1\s+65000 .*Establ", peers)
    assert lab.cli("exec", "node-1", "--", "sh", "-c", "exit 7").returncode == 7

    wrong = lab.cli("exec", "node-1", "birdc", "show", "route")
    assert wrong.returncode == 2 and "node-1 runs gobgpd, not bird" in wrong.stderr
    unknown = lab.cli("exec", "router-9", "true")
    assert unknown.returncode == 2
    assert "machines: router-1, router-2, node-1, node-2" in unknown.stderr
    console = lab.cli("console", "router-1")
    assert console.returncode == 2 and "`nativek8s exec router-1`" in console.stderr


def test_exec_without_a_command_is_a_shell_on_a_terminal(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "nativek8s.core.cli.main", "exec",
                             "router-2"], env={**lab.env(), "SHELL": "/bin/sh"},
                            stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    os.write(leader, b"ip -br addr show br-lan; exit 3\n")
    seen = b""
    try:
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the shell exited and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        assert proc.wait(timeout=30) == 3
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    assert b"a shell inside it" in seen and b"10.2.0.1/24" in seen
    assert f"[{lab.name} router-2]# ".encode() in seen  # the prompt says where it is


def test_exec_birdc_on_a_bird_node_speaker(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", "--speaker", "bird", check=True)
    out = lab.cli("exec", "node-1", "birdc", "show", "protocols", check=True).stdout
    assert re.search(r"peer0\s+BGP", out)
    wrong = lab.cli("exec", "node-1", "gobgp", "neighbor")
    assert wrong.returncode == 2 and "node-1 runs bird, not gobgpd" in wrong.stderr
