"""The reference lab on the netns backend, end to end, with the real router and CNI
plugins: deploy, verify, status, faults, re-runs and destroy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = [pytest.mark.netns]


def verify_json(lab) -> dict:
    proc = lab.cli("verify", lab.name, "-o", "json")
    data = json.loads(proc.stdout)
    assert data["ok"] == (proc.returncode == 0)
    return data


def test_reference_lab_deploys_verifies_and_is_destroyed(make_lab):
    lab = make_lab()
    doctor = lab.cli("doctor", "-f", str(lab.topology), check=True)
    assert doctor.stdout == f"netns: ready to deploy lab {lab.name}\n"
    assert lab.namespaces() == set() and not (lab.state_dir / "labs").exists()  # nothing made
    deploy = lab.cli("deploy", "-f", str(lab.topology), check=True)
    assert "deployed and verified" in deploy.stderr
    assert (lab.state_dir / "labs" / lab.name).stat().st_mode & 0o777 == 0o700  # holds secrets
    assert "10.244.1.0/24 via 10.255.0.2" in deploy.stdout  # router-1's table is printed
    data = verify_json(lab)
    checks = {r["check"] for r in data["results"]}
    assert {"bgp", "filter", "routes", "ping", "tcp", "source", "path", "overlay"} <= checks
    assert data["ok"], [r for r in data["results"] if not r["ok"]]
    source = [r for r in data["results"] if r["check"] == "source"]
    assert {r["observed"] for r in source} == {"it saw 10.244.0.10", "it saw 10.244.1.10"}

    status = json.loads(lab.cli("status", lab.name, "-o", "json", check=True).stdout)
    assert {m["name"]: m["state"] for m in status["machines"]} == {
        "router-1": "running", "router-2": "running", "node-1": "running", "node-2": "running"}
    assert status["ok"] and all(s["ok"] for s in status["sessions"])
    assert len(status["sessions"]) == 6

    again = lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    assert "created" not in again.stderr and "started" not in again.stderr  # a re-run acts not

    lab.cli("destroy", check=True)  # the only lab: no name needed
    assert lab.namespaces() == set()
    assert lab.processes() == []
    assert lab.cli("destroy", lab.name).returncode == 0  # twice is fine


def test_killed_router_daemon_fails_verify_and_deploy_heals(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    pid = lab.resources()["netns:proc:router-2:bird"]["pid"]
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    proc = lab.cli("verify", lab.name)
    assert proc.returncode == 1
    failed = [ln for ln in proc.stdout.splitlines() if ln.startswith("FAIL")]
    text = "\n".join(failed)
    assert "router-1 → router-2" in text  # router-1 lost its iBGP peer
    assert "router-1 10.244.1.0/24" in text  # and dc2's PodCIDR with it
    assert "dc1→dc2" in text
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    assert verify_json(lab)["ok"]


@pytest.mark.parametrize("delay", [0.25, 0.6, 1.0])
def test_deploy_killed_at_any_point_resumes_and_destroys_clean(make_lab, delay):
    lab = make_lab()
    proc = subprocess.Popen([sys.executable, "-m", "nativek8s.core.cli.main", "deploy", "-f",
                             str(lab.topology), "--no-routes"], env=lab.env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    assert verify_json(lab)["ok"]
    lab.cli("destroy", lab.name, check=True)
    assert lab.namespaces() == set() and lab.processes() == []


def test_foreign_namespaces_survive_and_block(make_lab):
    lab = make_lab()
    other = make_lab()
    stray = f"nk.{lab.name}.by-hand"
    taken = f"nk.{other.name}.router-1"
    subprocess.run(["ip", "netns", "add", stray], check=True)
    subprocess.run(["ip", "netns", "add", taken], check=True)
    try:
        doctor = other.cli("doctor", "-f", str(other.topology))
        assert doctor.returncode == 2
        assert f"namespace {taken} exists and is not lab {other.name}'s" in doctor.stderr
        refused = other.cli("deploy", "-f", str(other.topology))
        assert refused.returncode == 2
        assert f"namespace {taken} exists and is not lab {other.name}'s" in refused.stderr
        assert other.namespaces() == {taken}  # nothing created
        lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
        lab.cli("destroy", lab.name, check=True)
        assert lab.namespaces() == {stray}
    finally:
        subprocess.run(["ip", "netns", "del", stray])
        subprocess.run(["ip", "netns", "del", taken])


def test_two_labs_side_by_side(make_lab):
    a, b = make_lab(), make_lab()
    a.cli("deploy", "-f", str(a.topology), "--no-routes", check=True)
    b.cli("deploy", "-f", str(b.topology), "--no-routes", check=True)
    assert verify_json(a)["ok"] and verify_json(b)["ok"]
    busy = a.cli("verify")  # two labs: the command must be told which
    assert busy.returncode == 2 and "several labs" in busy.stderr
    a.cli("destroy", a.name, check=True)
    assert verify_json(b)["ok"]


def test_node_cannot_hijack_another_nodes_prefix(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    sock = f"/run/nativek8s/{lab.name}/node-1.gobgp.sock"
    subprocess.run(["gobgp", "--target", f"unix://{sock}", "global", "rib", "add", "-a", "ipv4",
                    "10.244.1.0/24"], check=True, capture_output=True)  # node-2's PodCIDR
    subprocess.run(["gobgp", "--target", f"unix://{sock}", "global", "rib", "add", "-a", "ipv4",
                    "10.2.0.0/24"], check=True, capture_output=True)  # dc2's LAN
    time.sleep(1.0)
    routes = subprocess.run(["ip", "-n", f"nk.{lab.name}.router-1", "-4", "route"],
                            capture_output=True, text=True, check=True).stdout
    assert "10.244.1.0/24 via 10.255.0.2" in routes  # still towards dc2, not node-1
    assert "10.2.0.0/24 via 10.255.0.2" in routes
    results = verify_json(lab)["results"]
    failed = [r for r in results if not r["ok"]]
    assert [(r["check"], r["subject"]) for r in failed] == [("filter", "router-1 ← node-1")]
    assert failed[0]["observed"] == "the import filter refuses 10.2.0.0/24, 10.244.1.0/24"
    assert all(r["ok"] for r in results if r["check"] in ("routes", "ping", "path"))
    # Withdrawn: refused no more, so the lab verifies again.
    for prefix in ("10.244.1.0/24", "10.2.0.0/24"):
        subprocess.run(["gobgp", "--target", f"unix://{sock}", "global", "rib", "del", "-a",
                        "ipv4", prefix], check=True, capture_output=True)
    proc = lab.cli("verify", lab.name, "--wait", "10")
    assert proc.returncode == 0, proc.stdout


def test_a_lower_metric_route_overriding_bgp_fails_verify(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    router = f"nk.{lab.name}.router-1"
    # node-2's PodCIDR sent back into dc1: node-1 returns it to router-1, a loop.
    loop = ["10.244.1.0/24", "via", "10.1.0.10", "metric", "10"]
    subprocess.run(["ip", "-n", router, "route", "add", *loop], check=True)
    results = verify_json(lab)["results"]
    failed = {(r["check"], r["subject"]): r for r in results if not r["ok"]}
    bad = failed[("routes", "router-1 10.244.1.0/24")]
    assert bad["observed"].startswith("unicast 10.244.1.0/24 via 10.1.0.10 dev br-lan proto "
                                      "boot metric 10 (in use; it overrides ")
    assert ("ping", "dc1→dc2 (10.244.0.10 → 10.244.1.10)") in failed
    subprocess.run(["ip", "-n", router, "route", "del", *loop], check=True)
    subprocess.run(["ip", "-n", router, "route", "add", "10.2.0.128/25", "via", "10.255.0.2"],
                   check=True)  # an extra route into dc2's LAN, by hand
    failed = [r for r in verify_json(lab)["results"] if not r["ok"]]
    assert [(r["check"], r["subject"]) for r in failed] == [("routes", "router-1 10.2.0.128/25")]
    subprocess.run(["ip", "-n", router, "route", "del", "10.2.0.128/25"], check=True)
    # A policy rule looks node-2's pods up in another table: the main one is never reached.
    subprocess.run(["ip", "-n", router, "route", "add", "10.244.1.0/24", "via", "10.1.0.10",
                    "table", "100"], check=True)
    subprocess.run(["ip", "-n", router, "rule", "add", "to", "10.244.1.0/24", "table", "100",
                    "priority", "100"], check=True)
    failed = [r for r in verify_json(lab)["results"] if not r["ok"]]
    assert ("routes", "router-1 rule 100") in [(r["check"], r["subject"]) for r in failed]


def test_bird_speaker_option(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--speaker", "bird", "--no-routes", check=True)
    assert "netns:proc:node-1:bird" in lab.resources()
    assert verify_json(lab)["ok"]


def test_a_refused_deploy_leaves_no_state(make_lab):
    lab = make_lab()
    taken = f"nk.{lab.name}.node-1"
    subprocess.run(["ip", "netns", "add", taken], check=True)
    try:
        assert lab.cli("deploy", "-f", str(lab.topology)).returncode == 2
        assert not lab.state_dir.exists()
    finally:
        subprocess.run(["ip", "netns", "del", taken])


def test_outputs_quiet_deploy_status_and_verify_documents(make_lab):
    """-q deploy prints one line; status and verify documents validate against their shipped
    schemas (JSON and YAML) and carry what the daemons report; a wait shows progress."""
    import jsonschema
    import yaml

    from nativek8s.core.documents import schema

    def valid(doc: dict) -> dict:
        jsonschema.Draft202012Validator(schema(doc["kind"])).validate(doc)
        return doc

    lab = make_lab()
    doctor = lab.cli("doctor", "-v", "-f", str(lab.topology), check=True)  # -v after the name
    assert "netns: bird: " in doctor.stderr and "netns: gobgpd: " in doctor.stderr
    assert "netns: bird: " not in lab.cli("doctor", "-f", str(lab.topology)).stderr
    deploy = lab.cli("-q", "deploy", "-f", str(lab.topology), check=True)
    assert deploy.stdout == ""
    assert deploy.stderr == f"lab {lab.name}: deployed and verified\n"

    proc = lab.cli("status", lab.name, "-o", "json", check=True)
    status = valid(json.loads(proc.stdout))
    assert (status["kind"], status["hypervisor"], status["ok"]) == ("Status", "netns", True)
    assert yaml.safe_load(lab.cli("status", lab.name, "-o", "yaml").stdout)["sessions"]
    by_end = {(s["machine"], s["peer_machine"]): s for s in status["sessions"]}
    assert len(by_end) == 6 and all(s["state"] == "Established" for s in by_end.values())
    ibgp, router_side, node_side = (by_end[("router-1", "router-2")],
                                    by_end[("router-1", "node-1")], by_end[("node-1", "router-1")])
    assert (ibgp["type"], ibgp["local_as"], ibgp["peer_as"]) == ("ibgp", 65000, 65000)
    assert (router_side["local_as"], router_side["peer_as"]) == (65000, 65001)  # BIRD says
    assert (node_side["local_as"], node_side["peer_as"]) == (65001, 65000)  # GoBGP says
    assert ibgp["received"] == ibgp["accepted"] == 2  # the far LAN and the far PodCIDR
    assert router_side["received"] == router_side["accepted"] == 1  # node-1's PodCIDR
    assert node_side["received"] == node_side["accepted"] == 0  # routers send nodes nothing
    assert all(s["uptime_seconds"] >= 0 for s in by_end.values())
    table = lab.cli("status", lab.name, check=True).stdout.splitlines()
    assert table[0] == f"lab {lab.name} (netns): ok"
    assert table[1].split() == ["MACHINE", "KIND", "STATE", "DETAIL"]

    report = valid(json.loads(lab.cli("verify", lab.name, "-o", "json", check=True).stdout))
    assert report["ok"] and report["not_run"] == [] and report["summary"]["failed"] == 0
    quiet = lab.cli("-q", "verify", lab.name, check=True)
    assert quiet.stdout == f"verify {lab.name}: {report['summary']['passed']} passed, 0 failed\n"

    # router-1 drops half of node-2's pods (a blackhole added by hand): verify waits for the
    # routes to become the planned ones, showing what it waits for
    router1 = f"nk.{lab.name}.router-1"
    subprocess.run(["ip", "-n", router1, "route", "add", "blackhole", "10.244.1.0/25"],
                   check=True)
    slow = lab.cli("verify", lab.name, "--wait", "3", "-o", "json")
    assert slow.returncode == 1
    assert "… waiting for BGP sessions and routes to converge" in slow.stderr
    failed = valid(json.loads(slow.stdout))
    assert not failed["ok"] and failed["summary"]["failed"] > 0
    tcp_down = {r["subject"] for r in failed["results"] if r["check"] == "tcp" and not r["ok"]}
    assert tcp_down  # node-2's PodCIDR is gone from router-1: no TCP answer to or from it
    assert {n["subject"] for n in failed["not_run"] if n["check"] == "source"} == tcp_down
    assert failed["summary"]["not_run"] == len(failed["not_run"])

    # node-2's speaker stops: waiting cannot heal that, so verify stops waiting at once
    pid = lab.resources()["netns:proc:node-2:gobgpd"]["pid"]
    os.kill(pid, signal.SIGKILL)
    dead = lab.cli("verify", lab.name, "--wait", "60", "-o", "json")
    assert dead.returncode == 1
    assert "waiting for BGP sessions and routes" not in dead.stderr
    faults = [r for r in valid(json.loads(dead.stdout))["results"] if r["check"] == "fault"]
    assert [(f["subject"], f["observed"].split(" (")[0]) for f in faults] == [
        ("node-2", "gobgpd is not running")]
    down = valid(json.loads(lab.cli("status", lab.name, "-o", "json").stdout))
    assert not down["ok"]
    lab.cli("destroy", lab.name, check=True)
