"""Waiting with a deadline, and saying why it expired: what was polled, how often, and the
last answer, plus what to look at."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from nativek8s.core.errors import NativeK8sError
from nativek8s.core.report import Reporter, current


class WaitExpired(NativeK8sError):
    """A wait ran past its deadline; the message is the diagnosis."""


@dataclass(frozen=True)
class Answer:
    done: bool
    text: str  # the last thing the polled party said, in words


def wait_for(what: str, polled: str, probe: Callable[[], Answer], timeout: float,
             interval: float, hint: str = "", clock: Callable[[], float] = time.monotonic,
             sleep: Callable[[float], None] = time.sleep, report: Reporter | None = None) -> str:
    """Call ``probe`` until it answers done; return its last text. Past ``timeout`` seconds
    raise :class:`WaitExpired` naming ``polled``, the number of polls and the last answer.
    ``report`` shows the wait (what, how long, the last answer) while it lasts."""
    start = clock()
    polls = 0
    with (report or current()).waiting(what) as waiting:
        while True:
            answer = probe()
            polls += 1
            if answer.done:
                return answer.text
            waiting.note(answer.text)
            elapsed = clock() - start
            if elapsed >= timeout:
                tail = f"; {hint}" if hint else ""
                raise WaitExpired(f"{what}: not after {timeout:g}s ({polls} polls of "
                                  f"`{polled}`); last answer: {answer.text}{tail}")
            sleep(min(interval, max(timeout - elapsed, 0.0)))
