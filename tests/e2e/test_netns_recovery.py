"""Faults a netns lab must survive: damaged or lost state, foreign processes that mention
the lab's files, a namespace deleted by hand, a lab that grows, shrinks or switches its
node speaker. Every daemon is owned exactly; `deploy` converges; `destroy` always works."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time

import pytest

from nativek8s.plugins.hypervisors.netns import processes

from .conftest import write_topology

pytestmark = [pytest.mark.netns]

DC3 = ("  dc3:\n    lan: 10.3.0.0/24\n    nodes:\n      node-3: {role: worker}\n")


def verify_ok(lab) -> dict:
    proc = lab.cli("verify", lab.name, "-o", "json")
    data = json.loads(proc.stdout)
    assert data["ok"], [r for r in data["results"] if not r["ok"]]
    return data


def ns_processes(namespace: str) -> dict[int, str]:
    """pid → executable of every process inside a namespace."""
    ino = os.stat(f"/run/netns/{namespace}").st_ino
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}/ns/net").st_ino == ino:
                    out[int(entry)] = os.path.basename(os.readlink(f"/proc/{entry}/exe"))
            except OSError:
                continue
    return out


def lab_dir(lab):
    return lab.state_dir / "labs" / lab.name


@pytest.mark.parametrize("file, content", [("plan.json", ""), ("plan.json", "garbage{"),
                                           ("resources.json", "[]"),
                                           ("resources.json", '"text"')])
def test_damaged_state_is_reported_and_destroy_still_removes_everything(make_lab, file,
                                                                        content):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    assert len(lab.namespaces()) == 9
    (lab_dir(lab) / file).write_text(content)
    status = lab.cli("status", lab.name)
    assert status.returncode == 2 and "Traceback" not in status.stderr
    assert f"its state file {lab_dir(lab) / file} is damaged" in status.stderr
    destroy = lab.cli("destroy", lab.name)
    assert destroy.returncode == 0, destroy.stderr
    assert f"{file} is damaged" in destroy.stderr
    assert lab.namespaces() == set() and lab.processes() == []
    assert not lab_dir(lab).exists()


def test_lost_state_destroy_by_name_and_adoption(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    shutil.rmtree(lab_dir(lab))
    destroy = lab.cli("destroy", lab.name, check=True)
    assert "nothing to destroy" not in destroy.stderr
    assert lab.namespaces() == set() and lab.processes() == []
    assert "nothing to destroy" in lab.cli("destroy", lab.name, check=True).stderr

    # Lost again; this time deploy -f adopts what is there, and records it.
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    shutil.rmtree(lab_dir(lab))
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    assert set(lab.resources()["netns:namespaces"]["names"]) == lab.namespaces()
    verify_ok(lab)
    lab.cli("destroy", check=True)
    assert lab.namespaces() == set() and lab.processes() == []


def test_a_foreign_process_naming_a_lab_file_is_left_alone(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    conf = lab_dir(lab) / "backend" / "netns" / "router-1.bird.conf"
    tail = subprocess.Popen(["tail", "-F", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        router = lab.resources()["netns:proc:router-1:bird"]["pid"]
        os.kill(router, 9)  # deploy must restart BIRD without touching the tail
        time.sleep(0.1)
        lab.cli("deploy", lab.name, "--no-routes", check=True)
        assert tail.poll() is None
        lab.cli("destroy", lab.name, check=True)
        assert tail.poll() is None
        assert lab.namespaces() == set()
    finally:
        tail.kill()
        tail.wait()


def test_a_namespace_deleted_by_hand_is_healed(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    old = lab.resources()["netns:proc:node-1:gobgpd"]["pid"]
    subprocess.run(["ip", "netns", "del", f"nk.{lab.name}.node-1"], check=True)
    deploy = lab.cli("deploy", lab.name, "--no-routes")
    assert deploy.returncode == 0, deploy.stderr
    assert not os.path.exists(f"/proc/{old}")  # the daemon of the deleted one was stopped
    assert list(ns_processes(f"nk.{lab.name}.node-1").values()) == ["gobgpd"]
    verify_ok(lab)


def test_growing_and_shrinking_a_lab(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    two = lab.topology.read_text()
    write_topology(lab.topology, lab.name, datacentres=two.split("datacentres:\n", 1)[1] + DC3)
    grow = lab.cli("deploy", "-f", str(lab.topology), "--no-routes")
    assert grow.returncode == 0, grow.stderr
    assert f"nk.{lab.name}.node-3.pod" in lab.namespaces()
    # Started once each: node-3's speaker, router-3, the pod agent (new pods).
    assert grow.stderr.count("started") == 3, grow.stderr
    data = verify_ok(lab)
    assert any("dc3" in r["subject"] for r in data["results"] if r["check"] == "ping")
    agent = lab.resources()["netns:proc:pods:podagent"]

    lab.topology.write_text(two)
    shrink = lab.cli("deploy", "-f", str(lab.topology), "--no-routes")
    assert shrink.returncode == 0, shrink.stderr
    assert not {n for n in lab.namespaces() if "node-3" in n or "router-3" in n or "dc3" in n}
    assert not any(":node-3:" in k or ":router-3:" in k for k in lab.resources())
    assert lab.resources()["netns:proc:pods:podagent"] != agent, shrink.stderr  # replaced
    assert not processes.is_ours(processes.Identity.from_record(agent))  # and stopped
    verify_ok(lab)
    lab.cli("destroy", lab.name, check=True)
    assert lab.namespaces() == set() and lab.processes() == []


def test_switching_the_node_speaker(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    switch = lab.cli("deploy", lab.name, "--speaker", "bird", "--no-routes")
    assert switch.returncode == 0, switch.stderr
    for node in ("node-1", "node-2"):
        assert list(ns_processes(f"nk.{lab.name}.{node}").values()) == ["bird"]
        listening = subprocess.run(["ip", "netns", "exec", f"nk.{lab.name}.{node}", "ss",
                                    "-Htlnp", "sport = :179"], capture_output=True,
                                   text=True, check=True).stdout
        assert "gobgpd" not in listening
    assert not any(k.endswith(":gobgpd") for k in lab.resources())
    verify_ok(lab)
    back = lab.cli("deploy", lab.name, "--speaker", "gobgp", "--no-routes", check=True)
    assert back.stderr.count("started") == 2  # one speaker per node, nothing else
    verify_ok(lab)


@pytest.mark.parametrize("redirect", ["", "2>&1"])
def test_a_closed_output_pipe_never_aborts_a_deploy(make_lab, redirect):
    """`nativek8s deploy | head -2`: the reader goes away; the deploy carries on."""
    lab = make_lab()
    cmd = (f"{shlex.quote(sys.executable)} -m nativek8s.core.cli.main deploy -f "
           f"{shlex.quote(str(lab.topology))} {redirect} | head -2 >/dev/null; "
           "exit ${PIPESTATUS[0]}")
    proc = subprocess.run(["bash", "-c", cmd], env=lab.env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
    assert {k for k in lab.resources() if k.startswith("netns:proc:")} == {
        "netns:proc:router-1:bird", "netns:proc:router-2:bird", "netns:proc:node-1:gobgpd",
        "netns:proc:node-2:gobgpd", "netns:proc:pods:podagent"}
    verify_ok(lab)


def test_deploy_from_the_file_rewrites_a_damaged_plan(make_lab):
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    (lab_dir(lab) / "plan.json").write_text("{")
    again = lab.cli("deploy", "-f", str(lab.topology), "--no-routes")
    assert again.returncode == 0, again.stderr
    assert "plan.json is damaged" in again.stderr and "started" not in again.stderr
    verify_ok(lab)


def test_a_restarted_pod_agent_is_waited_for(make_lab):
    """deploy restarts a killed pod agent and waits until it listens: its own probes (tcp,
    source) then pass at once."""
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    os.kill(lab.resources()["netns:proc:pods:podagent"]["pid"], 9)
    time.sleep(0.1)
    again = lab.cli("deploy", lab.name, "--no-routes")
    assert again.returncode == 0, again.stderr
    assert "pod agent (" in again.stderr and "started" in again.stderr
    log = (lab_dir(lab) / "logs" / "podagent.log").read_text()
    assert log.count("pod agent: listening on port 8080 in 2 namespaces") == 2


def test_a_lab_whose_router_plugin_is_gone_is_refused_by_name_and_destroyed_from_marks(make_lab):
    """Deployed with a plugin this installation lacks (e.g. a plugin package uninstalled):
    status says which and how to act; destroy still removes everything the lab made."""
    lab = make_lab()
    lab.cli("deploy", "-f", str(lab.topology), "--no-routes", check=True)
    plan_file = lab_dir(lab) / "plan.json"
    plan = json.loads(plan_file.read_text())
    plan["composition"]["router"] = "gone-router"
    plan_file.write_text(json.dumps(plan))
    status = lab.cli("status", lab.name)
    assert status.returncode == 2 and "Traceback" not in status.stderr, status.stderr
    assert (f"lab {lab.name} was deployed with the router plugin 'gone-router', which is not "
            "installed here") in status.stderr
    destroy = lab.cli("destroy", lab.name)
    assert destroy.returncode == 0, destroy.stderr
    assert "removing what is marked" in destroy.stderr + destroy.stdout
    assert lab.namespaces() == set() and lab.processes() == []
    assert not lab_dir(lab).exists()
