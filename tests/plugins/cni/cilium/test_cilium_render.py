"""`render`: the files, their YAML, the MD5 Secret, and golden files of the reference lab.

`pytest --update-goldens` rewrites the golden files after a deliberate change.
"""

from __future__ import annotations

import stat

import pytest
import yaml

from nativek8s.api import MD5_SECRET, RenderContext, SecretStore, UsageError
from nativek8s.core.render import write_rendered
from nativek8s.plugins.cni.cilium.cilium import Cilium
from nativek8s.plugins.cni.cilium.options import options_of
from nativek8s.plugins.cni.cilium.values import helm_values
from nativek8s.plugins.cni.cilium.versions import parse_version
from tests.plugins.cni.cilium.cilium_plans import make_plan, three_dc, with_cilium
from tests.plugins.cni.cilium.cilium_upstream import PROJECT_ROOT, crd_errors, snapshot_for, values_errors
from tests.support.golden import Golden

GOLDEN = PROJECT_ROOT / "tests" / "data" / "golden" / "cilium" / "reference"


def _render(plan, secrets):
    return {f.path: f for f in Cilium().render(RenderContext(plan=plan, secrets=secrets))}


def test_reference_lab_files(secrets):
    files = _render(make_plan(), secrets)
    assert sorted(files) == ["bgp/dc1.yaml", "bgp/dc2.yaml", "node-labels.yaml", "values.yaml"]
    assert not any(f.secret for f in files.values())
    assert not secrets.exists(MD5_SECRET)  # no MD5: no password generated


def test_reference_lab_matches_golden_files(secrets, golden: Golden):
    files = _render(make_plan(), secrets)
    golden.check_tree(GOLDEN, {path: f.content for path, f in files.items()})


def test_values_file_is_the_helm_values(secrets):
    plan = make_plan()
    values = yaml.safe_load(_render(plan, secrets)["values.yaml"].content)
    assert values == helm_values(plan, options_of(plan))
    assert values_errors(values) == []


@pytest.mark.parametrize("version", ["1.16.0", "1.17.0", "1.18.0", "1.19.0"])
def test_every_rendered_document_validates(version, secrets):
    plan = three_dc(md5=True, **with_cilium(version))
    files = _render(plan, secrets)
    assert sorted(p for p in files if p.startswith("bgp/")) == [
        "bgp/dc1.yaml", "bgp/dc2.yaml", "bgp/dc3.yaml"]  # "edge" has no nodes
    snapshot = snapshot_for(parse_version(version).minor_version)
    for path in (p for p in files if p.startswith("bgp/")):
        docs = list(yaml.safe_load_all(files[path].content))
        assert len(docs) == 3
        for doc in docs:
            assert crd_errors(doc, snapshot) == [], (path, doc)


def test_md5_secret_file(secrets, tmp_path):
    plan = three_dc(md5=True)
    files = _render(plan, secrets)
    secret_file = files["bgp-secret.yaml"]
    assert secret_file.secret
    password = secrets.get(MD5_SECRET, generate=False)
    manifest = yaml.safe_load(secret_file.content)
    assert manifest["kind"] == "Secret" and manifest["type"] == "Opaque"
    assert manifest["metadata"]["name"] == "nativek8s-bgp-md5"
    assert manifest["metadata"]["namespace"] == "kube-system"
    assert manifest["stringData"] == {"password": password}
    assert not any(password in f.content for p, f in files.items() if p != "bgp-secret.yaml")
    written = write_rendered({"cilium": list(files.values())}, tmp_path / "out")
    mode = stat.S_IMODE((tmp_path / "out" / "cilium" / "bgp-secret.yaml").stat().st_mode)
    assert mode == 0o600 and len(written) == len(files)


def test_md5_password_from_the_users_file(tmp_path):
    own = tmp_path / "bgp.pw"
    own.write_text("lab-password-123\n")
    own.chmod(0o600)
    store = SecretStore(tmp_path / "secrets", {MD5_SECRET: own})
    files = _render(three_dc(md5=True), store)
    assert yaml.safe_load(files["bgp-secret.yaml"].content)["stringData"] == {
        "password": "lab-password-123"}


def test_peering_policy_on_1_18_says_so_in_the_file(secrets):
    files = _render(make_plan(with_cilium("1.18.0", peering_policy=True)), secrets)
    text = files["bgp/dc1.yaml"].content
    assert "# WARNING: CiliumBGPPeeringPolicy is deprecated in Cilium 1.18.0" in text
    assert [d["kind"] for d in yaml.safe_load_all(text)] == ["CiliumBGPPeeringPolicy"]


@pytest.mark.parametrize("version, options, match", [
    ("1.15.0", {}, "versions.cilium: Cilium 1.15.0 is not supported"),
    ("1.19.0", {"peering_policy": True}, "options.cilium.peering_policy: CiliumBGPPeeringPolicy"),
])
def test_render_refuses_what_validation_refuses(version, options, match, secrets):
    with pytest.raises(UsageError, match=match):
        Cilium().render(RenderContext(plan=make_plan(with_cilium(version, **options)),
                                      secrets=secrets))


def test_node_labels(secrets):
    files = _render(three_dc(), secrets)
    docs = list(yaml.safe_load_all(files["node-labels.yaml"].content))
    assert [(d["metadata"]["name"], d["metadata"]["labels"]) for d in docs] == [
        ("threedc-node-1", {"dc": "dc1"}), ("threedc-node-2", {"dc": "dc1"}),
        ("threedc-node-3", {"dc": "dc2"}), ("threedc-node-4", {"dc": "dc3"}),
        ("threedc-node-5", {"dc": "dc3"})]
    assert all(d["apiVersion"] == "v1" and d["kind"] == "Node" for d in docs)


def test_render_is_deterministic(tmp_path):
    a = _render(three_dc(md5=True), SecretStore(tmp_path / "a"))
    b = _render(three_dc(md5=True), SecretStore(tmp_path / "a"))
    assert {p: f.content for p, f in a.items()} == {p: f.content for p, f in b.items()}

