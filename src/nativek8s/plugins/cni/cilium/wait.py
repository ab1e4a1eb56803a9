"""Polling with a deadline, and a diagnosis when it runs out: what was polled, how often,
the last answer, and where to look."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from nativek8s.core.errors import NativeK8sError
from nativek8s.core.report import Reporter, current


@dataclass(frozen=True)
class Poll:
    done: bool
    answer: str  # what this poll saw, in words (the diagnosis quotes the last one)


class WaitTimeout(NativeK8sError):
    pass


def wait_for(what: str, polled: str, probe: Callable[[], Poll], timeout: float,
             interval: float = 2.0, hint: str = "", report: Reporter | None = None) -> Poll:
    """Call probe until it is done; after `timeout` seconds raise WaitTimeout saying
    `what` was awaited, `polled` (the objects read), how many polls, and the last answer.

    Errors count as a not-done answer (a cluster coming up refuses requests for a while,
    agents restart); the deadline still holds and the diagnosis quotes the error. At least
    one poll is made, even with timeout 0. ``report`` shows the wait while it lasts.
    """
    deadline = time.monotonic() + timeout
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
            left = deadline - time.monotonic()
            if left <= 0:
                look = f"; look at: {hint}" if hint else ""
                raise WaitTimeout(f"{what}: not done after {timeout:g} s; polled {polled} "
                                  f"{polls} time{'s' if polls != 1 else ''}; last answer: "
                                  f"{result.answer}{look}")
            time.sleep(min(interval, left))
