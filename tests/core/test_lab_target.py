"""Which lab a lab command acts on: one rule for [LAB] and -f FILE (cli/lab_target.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nativek8s.core.cli.lab_target import resolve_lab_target
from nativek8s.core.engine.state import LabState
from nativek8s.core.errors import UsageError
from nativek8s.core.load import load_topology
from nativek8s.core.plan import build_plan

from .conftest import run_cli

LAB_FILE = """name: mylab
datacentres:
  dc1:
    nodes:
      node-1: {role: controlplane}
"""


@pytest.fixture
def lab_file(tmp_path: Path) -> Path:
    path = tmp_path / "lab.yaml"
    path.write_text(LAB_FILE)
    return path


def _deployed(path: Path) -> LabState:
    """A lab whose state holds its plan, as deploy leaves it."""
    plan = build_plan(load_topology(str(path))[0])
    state = LabState(plan.lab)
    state.save_plan(plan)
    return state


def test_nothing_deployed(builtin_registry, isolated):
    target = resolve_lab_target(None, None, deploy=True)
    assert target.lab == "reference" and target.plan is not None and not target.exists
    assert resolve_lab_target(None, None, must_exist=False) is None  # destroy: nothing to do
    with pytest.raises(UsageError, match="no lab is deployed"):
        resolve_lab_target(None, None)
    assert isolated.untouched()


def test_a_bare_deploy_heals_the_only_lab(builtin_registry, isolated, lab_file):
    _deployed(lab_file)
    lab_file.write_text(LAB_FILE.replace("node-1", "node-9"))  # the file moved on
    for lab in (None, "mylab"):
        target = resolve_lab_target(lab, None, deploy=True)
        assert target.lab == "mylab"
        assert [m.name for m in target.plan.nodes] == ["node-1"]  # the saved plan
    assert resolve_lab_target(None, None).lab == "mylab"


def test_a_file_names_its_lab_for_every_command(builtin_registry, isolated, lab_file):
    with pytest.raises(UsageError, match="lab 'mylab' .* is not deployed"):
        resolve_lab_target(None, str(lab_file))
    _deployed(lab_file)
    assert resolve_lab_target(None, str(lab_file)).lab == "mylab"
    assert resolve_lab_target("mylab", str(lab_file)).lab == "mylab"
    with pytest.raises(UsageError, match="describes lab 'mylab', not 'other'"):
        resolve_lab_target("other", str(lab_file))
    target = resolve_lab_target(None, str(lab_file), deploy=True)
    assert target.plan.lab == "mylab"


def test_several_labs_and_unknown_names(builtin_registry, isolated, lab_file):
    _deployed(lab_file)
    LabState("reference").save_plan(build_plan(load_topology(None)[0]))
    with pytest.raises(UsageError, match=r"several labs exist \(mylab, reference\)"):
        resolve_lab_target(None, None)
    with pytest.raises(UsageError, match=r"several labs exist"):
        resolve_lab_target(None, None, deploy=True)
    with pytest.raises(UsageError, match="no lab named 'nope'"):
        resolve_lab_target("nope", None, deploy=True)
    gone = resolve_lab_target("nope", None, must_exist=False)  # destroy looks for marks
    assert gone.lab == "nope" and not gone.exists
    with pytest.raises(UsageError, match="--hypervisor chooses plugins for a topology file"):
        resolve_lab_target("mylab", None, hypervisor="libvirt")


@pytest.mark.parametrize("command", ["deploy", "status", "verify", "destroy"])
def test_every_lab_command_takes_lab_and_file(command, builtin_registry):
    text = run_cli([command, "--help"]).output
    assert "[LAB]" in text.splitlines()[0] and "-f, --file FILE" in text


@pytest.mark.parametrize("command", [["status"], ["verify"], ["deploy", "--no-routes"]])
def test_damaged_state_is_a_clear_error(command, builtin_registry, isolated, lab_file):
    state = _deployed(lab_file)
    state.plan_file.write_text("")
    result = run_cli(command)
    assert result.exit_code == 2, result.output
    assert f"its state file {state.plan_file} is damaged (it is empty)" in result.stderr
    assert "Traceback" not in result.output
