"""Lab state: plan round trip, resources, secrets' modes, lock, lab resolution."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from nativek8s.core.engine.lock import LabBusy, LabLock
from nativek8s.core.engine.state import LabState, known_labs, resolve_lab
from nativek8s.core.errors import UsageError
from nativek8s.core.load import load_topology
from nativek8s.core.plan import MD5_SECRET, build_plan


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
    assert resolve_lab(None).lab == "reference"


def test_secrets_are_private_and_stable(state_dir):
    plan = build_plan(load_topology(None)[0])
    store = LabState(plan.lab).secrets(plan)
    first = store.get(MD5_SECRET)
    assert store.get(MD5_SECRET) == first and len(first) >= 20
    mode = stat.S_IMODE(os.stat(store.path(MD5_SECRET)).st_mode)
    assert mode == 0o600


def test_resolve_lab_errors(state_dir):
    with pytest.raises(UsageError, match="no lab is deployed"):
        resolve_lab(None)
    with pytest.raises(UsageError, match="no lab named 'nope'"):
        resolve_lab("nope")
    for name in ("a", "b"):
        LabState(name).save_plan(build_plan(load_topology(None)[0]))
    with pytest.raises(UsageError, match="several labs exist"):
        resolve_lab(None)


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
