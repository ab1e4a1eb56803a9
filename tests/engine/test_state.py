"""Lab state: plan round trip, resources, secrets' modes, lock, lab resolution."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from nativek8s.core.engine.lock import LabBusy, LabLock
from nativek8s.core.engine.state import DamagedState, LabState, known_labs
from nativek8s.core.load import load_topology
from nativek8s.core.plan import MD5_SECRET, build_plan
from nativek8s.core.registry import registry


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NATIVEK8S_STATE_DIR", str(tmp_path))
    return tmp_path


def test_plan_round_trip_and_resources(state_dir):
    plan = build_plan(load_topology(None)[0])
    state = LabState(plan.lab)
    assert not state.exists()
    state.save_plan(plan)
    assert state.load_plan() == plan
    state.record("x", pid=1)
    state.record("x", marker="m")
    assert state.resources() == {"x": {"pid": 1, "marker": "m"}}
    state.forget("x")
    assert state.resources() == {}
    assert known_labs() == ["reference"]


def test_secrets_are_private_and_stable(state_dir):
    plan = build_plan(load_topology(None)[0])
    store = LabState(plan.lab).secrets(plan)
    first = store.get(MD5_SECRET)
    assert store.get(MD5_SECRET) == first and len(first) >= 20
    mode = stat.S_IMODE(os.stat(store.path(MD5_SECRET)).st_mode)
    assert mode == 0o600


@pytest.mark.parametrize("content, why", [
    ("", "it is empty"),
    ("{not json", "Invalid JSON"),
    ("[]", "Input should be an object"),
    ('{"lab": "reference"}', "Field required"),
])
def test_a_damaged_plan_names_its_file_and_the_way_out(state_dir, content, why):
    state = LabState("reference")
    state.save_plan(build_plan(load_topology(None)[0]))
    state.plan_file.write_text(content)
    with pytest.raises(DamagedState) as exc:
        state.load_plan()
    text = str(exc.value)
    assert str(state.plan_file) in text and why in text
    assert "`nativek8s destroy reference`" in text
    assert "\n" not in text and len(text) < 400  # one line, not a pydantic dump


@pytest.mark.parametrize("content, why", [
    ("[]", "it holds list []"),
    ('"some text"', "it holds str"),
    ("{", "not JSON"),
    ('{"netns:namespaces": 3}', "the record of 'netns:namespaces' is not a mapping"),
])
def test_damaged_resources_name_their_file(state_dir, content, why):
    state = LabState("reference")
    state.save_plan(build_plan(load_topology(None)[0]))
    state.resources_file.write_text(content)
    with pytest.raises(DamagedState, match="resources.json is damaged") as exc:
        state.resources()
    assert why in str(exc.value)
    with pytest.raises(DamagedState):
        state.record("x", pid=1)  # never overwrites what it could not read
    assert state.resources_file.read_text() == content


def test_state_writes_leave_no_temporary_files(state_dir):
    state = LabState("reference")
    state.save_plan(build_plan(load_topology(None)[0]))
    for i in range(5):
        state.record(f"k{i}", n=i)
    assert sorted(p.name for p in state.dir.iterdir()) == ["plan.json", "resources.json"]


def test_second_holder_of_the_lab_lock_fails_at_once(tmp_path):
    path = tmp_path / "lock"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, fcntl, os\n"
        f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, str(os.getpid()).encode())\n"
        "print('locked', flush=True); time.sleep(30)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LabBusy, match=f"process {holder.pid} is working on it"):
            with LabLock(path, "reference"):
                pass
    finally:
        holder.kill()
        holder.wait()
    with LabLock(path, "reference"):  # free again
        pass


def test_destroy_in_the_first_moments_of_a_deploy_says_busy(state_dir):
    """A deploy takes the lock before it saves anything: destroy then must not report
    'nothing to destroy' (and remove nothing) but say the lab is busy."""
    from nativek8s.core.engine.lab import destroy

    state = LabState("reference")
    with LabLock(state.dir / "lock", "reference"):  # a deploy that saved no plan yet
        with pytest.raises(LabBusy, match=f"process {os.getpid()} is working on it"):
            destroy(state, registry(), lambda _: None)
    assert (state.dir / "lock").exists()


def test_destroy_holds_the_lock_until_the_state_folder_is_gone(state_dir,
                                                               monkeypatch):
    from nativek8s.core.engine.lab import destroy

    state = LabState("reference")
    state.save_plan(build_plan(load_topology(None)[0]))
    seen = []
    real_remove = LabState.remove

    def remove(self):
        try:
            with LabLock(self.dir / "lock", self.lab):
                seen.append("free")
        except LabBusy:
            seen.append("held")
        real_remove(self)

    monkeypatch.setattr(LabState, "remove", remove)
    monkeypatch.setattr("nativek8s.core.engine.lab._hypervisor",
                        lambda ctx: type("H", (), {"destroy": lambda self, c: ["x"]})())
    assert destroy(state, registry(), lambda _: None) == ["x"]
    assert seen == ["held"] and not state.dir.exists()
