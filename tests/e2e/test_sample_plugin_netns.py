"""The sample third-party CNI (tests/sample_plugin, written only against nativek8s.api)
drives a real netns lab: the backend runs its BGP intent with BIRD node speakers, chosen with
the generic per-plugin option `-O netns.speaker=bird`, and verify passes."""

from __future__ import annotations

import json
import os

import pytest

from tests.sample_plugin import install

pytestmark = [pytest.mark.netns]


def test_sample_cni_deploys_and_verifies_on_netns(make_lab, tmp_path_factory, monkeypatch):
    lab = make_lab()  # skips where netns labs cannot run, before building anything
    site = install(tmp_path_factory.mktemp("sample-plugin"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(site), os.environ.get("PYTHONPATH", "")])))
    deploy = lab.cli("deploy", "-f", str(lab.topology), "--cni", "sample-bgp",
                     "-O", "netns.speaker=bird", "--no-routes", check=True)
    assert "deployed and verified" in deploy.stderr
    resources = lab.resources()
    assert resources["netns:speaker"]["speaker"] == "bird"
    assert "netns:proc:node-1:bird" in resources
    data = json.loads(lab.cli("verify", lab.name, "-o", "json").stdout)
    assert data["ok"], [r for r in data["results"] if not r["ok"]]
    assert {r["check"] for r in data["results"]} >= {"bgp", "routes", "ping", "source"}
    lab.cli("destroy", lab.name, check=True)
    assert lab.namespaces() == set()
