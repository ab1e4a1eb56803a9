"""Polling with a deadline, and a diagnosis when it runs out: what was awaited, what was
polled, how often, the last answer, and where to look."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from nativek8s.core.errors import NativeK8sError
from nativek8s.core.report import Reporter, current


@dataclass(frozen=True)
class Poll:
    """One answer of a probe."""

    done: bool
    answer: str  # what this poll saw, in words (the diagnosis quotes the last one)


class WaitTimeout(NativeK8sError):
    """A wait ran past its deadline; the message is the diagnosis."""


def wait_for(what: str, polled: str, probe: Callable[[], Poll], timeout: float,
             interval: float = 2.0, hint: str = "", report: Reporter | None = None,
             clock: Callable[[], float] = time.monotonic,
             sleep: Callable[[float], None] = time.sleep) -> Poll:
    """Call ``probe`` until it answers done and return that answer; past ``timeout`` seconds
    raise :class:`WaitTimeout` saying ``what`` was awaited, ``polled`` (the objects read),
    how many polls, the last answer and ``hint`` (where to look). ``report`` (default: the
    run's reporter) shows the wait and its last answer while it lasts.

    A NativeK8sError from the probe counts as a not-done answer quoting it (a service coming
    up refuses requests for a while); the deadline still holds. At least one poll is made,
    even with timeout 0, and no sleep runs past the deadline.
    """
    deadline = clock() + timeout
    polls = 0
    with (report or current()).waiting(what) as waiting:
        while True:
            polls += 1
            try:
                result = probe()
            except NativeK8sError as exc:
                result = Poll(False, str(exc))
            if result.done:
                return result
            waiting.note(result.answer)
            left = deadline - clock()
            if left <= 0:
                look = f"; look at: {hint}" if hint else ""
                raise WaitTimeout(f"{what}: not done after {timeout:g} s; polled {polled} "
                                  f"{polls} time{'s' if polls != 1 else ''}; last answer: "
                                  f"{result.answer}{look}")
            sleep(min(interval, left))
