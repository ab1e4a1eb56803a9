"""The shared layer's small helpers: version parsing, atomic writes, parallel maps, waiting.
(BIRD output parsing is tested against a real BIRD in tests/plugins/routers/openwrt.)"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from nativek8s.api import NativeK8sError, UsageError
from nativek8s.shared.files import write_atomic
from nativek8s.shared.parallel import parallel_map
from nativek8s.shared.versions import Version, parse_version
from nativek8s.shared.waiting import Poll, WaitTimeout, wait_for


@pytest.mark.parametrize(("text", "expected"), [
    ("1.18.0", Version(1, 18, 0)), ("v1.16", Version(1, 16, 0)),
    ("24.10.0-rc2", Version(24, 10, 0, "-rc2")), ("8.2.4+pve1", Version(8, 2, 4, "+pve1")),
    ("1.14.0-rc.1", Version(1, 14, 0, "-rc.1")),
])
def test_versions_as_upstream_writes_them(text: str, expected: Version):
    assert parse_version(text) == expected
    assert str(parse_version(text)) == text


def test_versions_order_by_number_and_name_what_is_wrong():
    assert parse_version("1.9.0") < parse_version("1.10.0") < parse_version("v1.10.1")
    assert parse_version("1.18").minor_version == (1, 18)
    with pytest.raises(UsageError, match=r"^versions.cilium: 'latest' is not a Cilium version "
                                         r"such as 1.18.0$"):
        parse_version("latest", "versions.cilium", "a Cilium version", "1.18.0")


def test_write_atomic_replaces_whole_files_with_their_mode(tmp_path: Path):
    path = tmp_path / "deep" / "file.txt"
    write_atomic(path, "one")
    write_atomic(path, b"two")
    assert path.read_text() == "two"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask()
    secret = tmp_path / "secret"
    write_atomic(secret, "s3cret", mode=0o600)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "secret"]  # no temp left


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_parallel_map_keeps_order_runs_at_once_and_raises():
    started = threading.Barrier(3, timeout=10)  # would time out if the calls ran one by one

    def slow_square(n: int) -> int:
        started.wait()
        return n * n

    assert parallel_map(slow_square, [1, 2, 3]) == [1, 4, 9]
    assert parallel_map(slow_square, []) == []
    with pytest.raises(ZeroDivisionError):
        parallel_map(lambda n: 1 // n, [1, 0, 2])


def test_wait_for_counts_errors_as_answers_and_respects_the_deadline():
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    answers = iter([NativeK8sError("refused"), Poll(False, "starting"), Poll(True, "up")])

    def probe() -> Poll:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait_for("x", "p", probe, 10, 2, clock=lambda: now[0], sleep=sleep).answer == "up"
    assert sleeps == [2, 2]
    with pytest.raises(WaitTimeout, match=r"^w: not done after 3 s; polled p 3 times; last "
                                          r"answer: refused; look at: its log$"):
        wait_for("w", "p", lambda: (_ for _ in ()).throw(NativeK8sError("refused")), 3, 1.5,
                 hint="its log", clock=lambda: now[0], sleep=sleep)
