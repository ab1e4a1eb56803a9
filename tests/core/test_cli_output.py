"""The command line's outputs as an interface: documents with apiVersion/kind that validate
against their shipped schemas, -o yaml, consistent -f/--out flags, completion scripts."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from nativek8s.core.documents import API_VERSION, KINDS, schema
from nativek8s.core.verify import CheckResult, not_run

from .conftest import DATA, cli_env, run_cli
from .plans import plan_of

THREE_DC = DATA / "topologies" / "three-dc.yaml"


def valid(doc: dict) -> dict:
    """The document, after checking it against the schema of its kind."""
    assert doc["apiVersion"] == API_VERSION
    jsonschema.Draft202012Validator(schema(doc["kind"]),
                                    format_checker=jsonschema.FormatChecker()).validate(doc)
    return doc


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_schema_is_a_valid_schema_and_printed_by_the_command(kind: str):
    jsonschema.Draft202012Validator.check_schema(schema(kind))
    result = run_cli(["schema", kind.lower()])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == schema(kind)


def test_schema_lists_the_kinds_and_refuses_an_unknown_one():
    result = run_cli(["schema"])
    assert result.stdout.splitlines()[0].split() == ["KIND", "PRINTED", "BY", "DESCRIPTION"]
    assert [ln.split()[0] for ln in result.stdout.splitlines()[1:]] == list(KINDS)
    bad = run_cli(["schema", "Nope"])
    assert bad.exit_code == 2
    assert "no document kind 'Nope'; kinds: Status, VerifyReport, Plan, PluginList" in bad.stderr


@pytest.mark.parametrize("command", [["plan", "-f", str(THREE_DC)], ["plugins"]])
def test_topology_documents_validate_in_json_and_yaml(command, builtin_registry):
    as_json = run_cli([*command, "-o", "json"])
    as_yaml = run_cli([*command, "-o", "yaml"])
    assert as_json.exit_code == as_yaml.exit_code == 0
    doc = valid(json.loads(as_json.stdout))
    assert list(doc)[:2] == ["apiVersion", "kind"]
    assert yaml.safe_load(as_yaml.stdout) == doc


def test_plan_schema_refuses_what_a_plan_cannot_be(builtin_registry):
    doc = json.loads(run_cli(["plan", "-o", "json"]).stdout)
    doc["routers"][0]["asn"] = "not a number"
    with pytest.raises(jsonschema.ValidationError):
        valid(doc)


def test_verify_and_status_schemas_refuse_loose_documents():
    report = {"apiVersion": API_VERSION, "kind": "VerifyReport", "lab": "x", "ok": True,
              "summary": {"passed": 1, "failed": 0, "not_run": 0},
              "results": [CheckResult("bgp", "a → b", True, "Established",
                                      "Established").as_dict()],
              "not_run": []}
    valid(report)
    with pytest.raises(jsonschema.ValidationError):
        valid({**report, "not_run": [{"check": "source"}]})  # a skip needs its reason
    with pytest.raises(jsonschema.ValidationError):
        valid({**report, "kind": "Status"})


def test_not_run_names_each_skipped_check_with_its_reason():
    plan = plan_of(2)
    tcp = CheckResult("tcp", "dc1→dc2 (a → b)", False, "a TCP answer", "refused")
    skipped = not_run(plan, [tcp], "the libvirt hypervisor cannot look inside router VMs")
    assert [(n.check, n.subject) for n in skipped] == [
        ("bgp", "router-1"), ("routes", "router-1"), ("bgp", "router-2"),
        ("routes", "router-2"),
        ("source", "dc1→dc2 (a → b)")]
    assert skipped[0].reason == "the libvirt hypervisor cannot look inside router VMs"
    assert not_run(plan, [], None) == []


def test_validate_takes_f_like_every_topology_command(builtin_registry):
    by_flag = run_cli(["validate", "-f", str(THREE_DC)])
    by_arg = run_cli(["validate", str(THREE_DC)])
    assert by_flag.exit_code == by_arg.exit_code == 0
    assert by_flag.stdout == by_arg.stdout
    both = run_cli(["validate", "-f", str(THREE_DC), str(DATA / "x.yaml")])
    assert both.exit_code == 2 and "give one" in both.stderr


def test_init_out_and_f_and_the_old_o(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for flag, name in (("--out", "a.yaml"), ("-f", "b.yaml"), ("-o", "c.yaml")):
        result = run_cli(["init", flag, name])
        assert result.exit_code == 0, result.output
        assert result.stderr == f"wrote {name}; check it with `nativek8s validate -f {name}`\n"
    assert (tmp_path / "a.yaml").read_text() == (tmp_path / "b.yaml").read_text() == \
        (tmp_path / "c.yaml").read_text()
    confused = run_cli(["init", "-o", "json"])  # a format everywhere else
    assert confused.exit_code == 2 and "use --out json" in confused.stderr
    assert not (tmp_path / "json").exists()


def test_v_and_q_after_the_command_name(builtin_registry, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli(["doctor", "-v", "--help"]).exit_code == 0
    quiet = run_cli(["init", "--out", "lab.yaml", "-q"])
    assert quiet.exit_code == 0 and quiet.stderr.startswith("wrote lab.yaml")  # final line


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_clicks_script(shell: str):
    from click.shell_completion import get_completion_class

    from nativek8s.core.cli.main import cli

    result = run_cli(["completion", shell])
    assert result.exit_code == 0
    expected = get_completion_class(shell)(cli, {}, "nativek8s", "_NATIVEK8S_COMPLETE").source()
    assert result.stdout == expected + "\n"


def test_bash_completion_completes_commands_in_real_bash(tmp_path: Path):
    launcher = tmp_path / "nativek8s"
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} -m nativek8s.core.cli.main \"$@\"\n")
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    env = cli_env(PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    script = ('eval "$(nativek8s completion bash)"; COMP_WORDS=(nativek8s st); COMP_CWORD=1; '
              '_nativek8s_completion nativek8s; echo "${COMPREPLY[@]}"')
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["status"]
