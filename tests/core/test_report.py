"""The reporter: what -q/-v show, progress of long waits (plain lines and a terminal's
updating line), colour rules, download progress, and step lines that appear when a long
step starts. A fake clock stands for the passing time; the ticker thread is real."""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nativek8s.core import downloads
from nativek8s.core.engine.steps import Progress, Step, StepFailed, run_steps
from nativek8s.core.report import (
    DEBUG,
    QUIET,
    VERBOSE,
    Reporter,
    colour_wanted,
    human_bytes,
    reporting,
)
from tests.support.http_site import Site, serve


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def eventually(predicate: Callable[[], bool], limit: float = 10.0) -> bool:
    """Poll until true (the ticker runs in its own thread); no timing is asserted."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def reporter(lines: list[str], clock: FakeClock, verbosity: int = 0) -> Reporter:
    return Reporter.to(lines.append, verbosity, clock=clock, tick=0.01)


def test_quiet_shows_only_errors_and_the_final_line():
    lines: list[str] = []
    clock = FakeClock()
    r = reporter(lines, clock, QUIET)
    r.say("step done")
    r.detail("detail")
    with r.waiting("something slow") as wait:
        clock.t += 30
        wait.note("still not")
        time.sleep(0.1)  # ticks pass: a quiet reporter shows no progress
    r.error("FAIL bgp")
    r.final("lab x: deployed")
    assert lines == ["FAIL bgp", "lab x: deployed"]


def test_verbosity_levels():
    for level, expected in ((0, ["say"]), (VERBOSE, ["say", "detail"]),
                            (DEBUG, ["say", "detail", "debug"])):
        lines: list[str] = []
        r = reporter(lines, FakeClock(), level)
        r.say("say")
        r.detail("detail")
        r.debug("debug")
        assert lines == expected


def test_a_short_wait_shows_nothing_a_ten_second_wait_shows_progress():
    lines: list[str] = []
    clock = FakeClock()
    r = reporter(lines, clock)
    with r.waiting("quick"):
        clock.t += 0.5
        time.sleep(0.1)
    assert lines == []
    with r.waiting("BGP sessions Established") as wait:
        wait.note("1 of 4 up")
        clock.t += 1.5
        assert eventually(lambda: len(lines) == 1)
        clock.t += 10.0  # 11.5 s in: ten seconds after the first line, the next
        assert eventually(lambda: len(lines) == 2)
    first, second = lines
    assert "… waiting for BGP sessions Established [2s] (1 of 4 up)" in first
    assert "still waiting for BGP sessions Established [12s] (1 of 4 up)" in second
    time.sleep(0.1)
    assert len(lines) == 2  # the wait ended: nothing more


def test_verbose_shows_each_new_answer_of_a_wait():
    lines: list[str] = []
    r = reporter(lines, FakeClock(), VERBOSE)
    with r.waiting("node-1 in maintenance mode") as wait:
        wait.note("connection refused")
        wait.note("connection refused")  # unchanged: not repeated
        wait.note("maintenance")
    assert [ln.split("… ", 1)[1] for ln in lines] == [
        "node-1 in maintenance mode: connection refused", "node-1 in maintenance mode: maintenance"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_gets_one_updating_line_and_whole_messages():
    out = Terminal()
    clock = FakeClock()
    r = Reporter(out, tty=True, colour=False, clock=clock, tick=0.01)
    with r.waiting("Talos API of node-1"):
        clock.t += 3
        assert eventually(lambda: "Talos API of node-1 [3s]" in out.getvalue())
        long = "error: " + "word " * 100  # 507 characters, never cut
        r.error(long)
    text = out.getvalue()
    assert "\r\x1b[K" + long + "\n" in text  # the status line is cleared first
    assert text.endswith("\r\x1b[K") or text.endswith("\n")  # and taken away at the end
    assert "\n" not in text.replace(long + "\n", "")  # progress never adds lines


def test_colour_only_on_a_terminal_without_no_color():
    assert not colour_wanted(io.StringIO(), {})
    assert colour_wanted(Terminal(), {})
    assert not colour_wanted(Terminal(), {"NO_COLOR": "1"})
    assert colour_wanted(Terminal(), {"NO_COLOR": ""})  # set but empty: no-color.org says ignore
    assert Reporter(Terminal(), colour=True).style("ok", "ok") == "\x1b[32mok\x1b[0m"
    assert Reporter(io.StringIO()).style("ok", "ok") == "ok"


def test_human_bytes():
    assert [human_bytes(n) for n in (512, 2048, 5 * 2**20, 3 * 2**30)] == [
        "512 B", "2.0 KiB", "5.0 MiB", "3.0 GiB"]


class SteppingClock(FakeClock):
    """Each reading is a quarter second later: a download that takes a few seconds."""

    def __call__(self) -> float:
        self.t += 0.25
        return self.t


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    with serve(Site()) as state:
        yield state


def test_download_progress_has_bytes_and_rate(site: Site, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("NATIVEK8S_CACHE_DIR", str(tmp_path))
    site.files["/talos/kernel"] = b"k" * (3 * 2**20 + 5)
    lines: list[str] = []
    seen: list[str] = []
    r = reporter(lines, SteppingClock(), VERBOSE)
    original = r.waiting

    def spy(what: str):  # what the wait shows while the bytes arrive
        cm = original(what)
        activity = cm.__enter__()
        real = activity.bytes

        def record(done: int, total: int | None) -> None:
            real(done, total)
            seen.append(activity.last_note)
        activity.bytes = record
        return _Entered(cm, activity)

    monkeypatch.setattr(r, "waiting", spy)
    with reporting(r):
        cached = downloads.fetch(f"{site.base}/talos/kernel", "t")
    assert cached.downloaded and cached.size == 3 * 2**20 + 5
    assert seen[0].startswith("0 B of 3.0 MiB, ")
    assert seen[-1].startswith("3.0 MiB of 3.0 MiB, ") and seen[-1].endswith("/s")
    (done,) = [ln for ln in lines if "downloaded" in ln]
    assert f"downloaded {site.base}/talos/kernel: 3.0 MiB in " in done and done.endswith("/s)")
    with reporting(r):  # reused from the cache: nothing to show
        assert not downloads.fetch(f"{site.base}/talos/kernel", "t").downloaded
    assert len([ln for ln in lines if "downloaded" in ln]) == 1


class _Entered:
    def __init__(self, cm, activity):
        self.cm, self.activity = cm, activity

    def __enter__(self):
        return self.activity

    def __exit__(self, *exc):
        return self.cm.__exit__(*exc)


def test_a_long_step_shows_when_it_starts_not_only_when_it_ends():
    lines: list[str] = []
    clock = FakeClock()
    started = threading.Event()
    release = threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "done"

    progress = Progress(reporter(lines, clock))
    worker = threading.Thread(target=run_steps, args=([Step("s", "boot VM", slow, "node-1")],
                                                      progress))
    worker.start()
    assert started.wait(10)
    clock.t += 2
    assert eventually(lambda: any("waiting for boot VM [node-1]" in ln for ln in lines))
    release.set()
    worker.join(10)
    assert "✓ boot VM [node-1]" in lines[-1] and lines[-1].endswith("— done")
    assert "waiting for boot VM [node-1]" in lines[0]


def test_a_failed_steps_message_is_never_cut():
    lines: list[str] = []
    message = "the Talos API of node-1 answered: " + "x" * 300 + " end"

    def fail() -> str:
        raise RuntimeError(message + "\nsecond line")

    with pytest.raises(StepFailed) as info:
        run_steps([Step("f", "apply config", fail, "node-1")], Progress(lines.append))
    # the duration depends on the machine; the message after it must be whole
    assert re.search(r"apply config \[node-1\] \(\d+\.\d\ds\) — " + re.escape(message) + "$",
                     lines[0]), lines[0]
    assert "second line" in str(info.value)  # the error keeps the rest
