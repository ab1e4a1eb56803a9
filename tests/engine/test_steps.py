"""The step runner: order, parallelism, stopping at the first failure."""

from __future__ import annotations

import threading
import time

import pytest

from nativek8s.core.engine.steps import Progress, Step, StepFailed, run_steps
from nativek8s.core.errors import NativeK8sError


def progress(lines):
    return Progress(lines.append)


def test_dependencies_run_first_and_independent_steps_overlap():
    order, lines = [], []
    running, peak, lock = [0], [0], threading.Lock()

    def work(name, pause=0.05):
        def run():
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(pause)
            with lock:
                running[0] -= 1
                order.append(name)
            return f"{name} done"
        return run

    steps = [Step("a", "first", work("a")),
             Step("b", "second", work("b"), after=("a",)),
             Step("c", "third", work("c"), after=("a",)),
             Step("d", "last", work("d"), after=("b", "c"))]
    run_steps(steps, progress(lines))
    assert order[0] == "a" and order[-1] == "d" and set(order[1:3]) == {"b", "c"}
    assert peak[0] == 2  # b and c ran together
    done = [ln for ln in lines if " ✓ " in ln]  # (a step slower than 1 s also shows a wait)
    assert len(done) == 4 and "✓ last" in done[-1] and "d done" in done[-1]


def test_failure_stops_scheduling_and_names_the_step():
    ran, lines = [], []

    def boom():
        raise NativeK8sError("disk full")

    steps = [Step("a", "create", boom, machine="router-1"),
             Step("b", "after a", lambda: ran.append("b"), after=("a",))]
    with pytest.raises(StepFailed) as err:
        run_steps(steps, progress(lines))
    assert ran == []
    assert "'create' on router-1 failed: disk full" in str(err.value)
    assert "run the same command again" in str(err.value)
    assert "✗ create [router-1]" in lines[0]


def test_unknown_dependency_and_cycles_are_refused():
    with pytest.raises(NativeK8sError, match="unknown steps"):
        run_steps([Step("a", "a", lambda: None, after=("zzz",))], progress([]))
    with pytest.raises(NativeK8sError, match="cycle"):
        run_steps([Step("a", "a", lambda: None, after=("b",)),
                   Step("b", "b", lambda: None, after=("a",))], progress([]))
