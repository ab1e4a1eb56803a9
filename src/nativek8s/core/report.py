"""What the user sees while a command runs: messages by verbosity, progress of long waits
and downloads, colour only on a terminal.

One :class:`Reporter` per command. The engine hands it to plugins on the lab context
(``ctx.report``); plugins never print, they say what they wait for::

    with ctx.report.waiting("router-1 in maintenance mode") as wait:
        ...
        wait.note("connection refused")   # the last thing the wait saw

and the reporter decides how and whether to show it: nothing for waits shorter than a
second; past that, the elapsed time and what is awaited, on one updating line on a terminal
and as plain lines otherwise (one when the wait starts to be long, then one every
``PLAIN_EVERY`` seconds). ``-q`` shows only errors and the command's final line; ``-v`` adds
detail (each new answer of a wait), ``-vv`` debug. Messages are never shortened; only the
transient status line of a terminal is cut to the terminal's width (it is redrawn, not kept).
"""

from __future__ import annotations

import contextvars
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

QUIET, NORMAL, VERBOSE, DEBUG = -1, 0, 1, 2
SHOW_AFTER = 1.0  # seconds: a shorter wait shows nothing
PLAIN_EVERY = 10.0  # seconds between the plain lines of a wait that goes on

_STYLES = {"ok": "32", "fail": "31;1", "warn": "33", "dim": "2", "bold": "1"}


def colour_wanted(stream: Any, env: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if (os.environ if env is None else env).get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str, style: str) -> str:
    """ANSI colour; only for streams colour_wanted() allows."""
    return f"\x1b[{_STYLES[style]}m{text}\x1b[0m"


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


class Activity:
    """One thing being waited for: a running step, a poll loop, a download."""

    def __init__(self, reporter: Reporter, what: str):
        self.reporter, self.what = reporter, what
        self.started = reporter.clock()
        self.last_note = ""
        self.shown_at: float | None = None  # when its last plain line was printed

    def note(self, text: str) -> None:
        """What the wait saw last; shown with -v each time it changes."""
        if text != self.last_note:
            self.last_note = text
            if text:
                self.reporter.detail(f"{self.reporter.elapsed():6.2f}s … {self.what}: {text}")

    def bytes(self, done: int, total: int | None) -> None:
        """Download progress: bytes so far, of how many, at what rate."""
        took = max(self.reporter.clock() - self.started, 1e-6)
        of = f" of {human_bytes(total)}" if total else ""
        self.last_note = f"{human_bytes(done)}{of}, {human_bytes(done / took)}/s"

    def describe(self, now: float) -> str:
        """`what [12s] (last note)`: the duration first, so a cut status line keeps it."""
        tail = f" ({self.last_note})" if self.last_note else ""
        return f"{self.what} [{now - self.started:.0f}s]{tail}"


class Reporter:
    """Writes a command's messages and progress to one stream (stderr by default)."""

    def __init__(self, stream: TextIO | None = None, verbosity: int = NORMAL,
                 tty: bool | None = None, colour: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, tick: float = 0.25,
                 sink: Callable[[str], None] | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.sink = sink  # lines go here instead of the stream (tests, library callers)
        self.verbosity = verbosity
        isatty = getattr(self.stream, "isatty", None)
        self.tty = (bool(isatty and isatty()) if tty is None else tty) and sink is None
        self.colour = colour_wanted(self.stream) if colour is None else colour
        self.clock, self.tick = clock, tick
        self.started = clock()
        self._activities: list[Activity] = []
        self._lock = threading.RLock()
        self._status_shown = False
        self._ticker: threading.Thread | None = None

    @classmethod
    def to(cls, sink: Callable[[str], None], verbosity: int = NORMAL, **kwargs: Any) -> Reporter:
        """A reporter that hands every line to ``sink`` (plain lines, no colour)."""
        return cls(sink=sink, verbosity=verbosity, tty=False, colour=False, **kwargs)

    # --- messages -------------------------------------------------------------------------
    def elapsed(self) -> float:
        return self.clock() - self.started

    def style(self, text: str, style: str) -> str:
        return paint(text, style) if self.colour else text

    def say(self, message: str) -> None:
        """An ordinary progress message (hidden by -q)."""
        if self.verbosity >= NORMAL:
            self._write(message)

    def detail(self, message: str) -> None:
        """Shown with -v."""
        if self.verbosity >= VERBOSE:
            self._write(message)

    def debug(self, message: str) -> None:
        """Shown with -vv."""
        if self.verbosity >= DEBUG:
            self._write(message)

    def error(self, message: str) -> None:
        """Always shown."""
        self._write(message)

    def final(self, message: str) -> None:
        """The command's last line: always shown, also with -q."""
        self._write(message)

    def __call__(self, message: str) -> None:  # usable wherever an echo callable is wanted
        self.say(message)

    def _write(self, message: str) -> None:
        with self._lock:
            if self.sink is not None:
                self.sink(message)
                return
            self._clear_status()
            self.stream.write(message + "\n")
            self._draw_status()
            self.stream.flush()

    # --- waits ----------------------------------------------------------------------------
    @contextmanager
    def waiting(self, what: str) -> Iterator[Activity]:
        """Report a wait that may be long; nothing is shown unless it lasts over a second."""
        activity = Activity(self, what)
        with self._lock:
            self._activities.append(activity)
            self._start_ticker()
        try:
            yield activity
        finally:
            with self._lock:
                self._activities.remove(activity)
                if self.tty:
                    self._clear_status()
                    self._draw_status()
                    self.stream.flush()

    def _start_ticker(self) -> None:
        if self.verbosity < NORMAL or (self._ticker and self._ticker.is_alive()):
            return
        self._ticker = threading.Thread(target=self._run_ticker, name="nativek8s-progress",
                                        daemon=True)
        self._ticker.start()

    def _run_ticker(self) -> None:
        while True:
            time.sleep(self.tick)
            with self._lock:
                if not self._activities:
                    self._clear_status()
                    self._ticker = None
                    return
                if self.tty:
                    self._clear_status()
                    self._draw_status()
                    self.stream.flush()
                else:
                    self._plain_lines()

    def _long(self, now: float) -> list[Activity]:
        return [a for a in self._activities if now - a.started >= SHOW_AFTER]

    def _plain_lines(self) -> None:
        now = self.clock()
        for a in self._long(now):
            if a.shown_at is None or now - a.shown_at >= PLAIN_EVERY:
                verb = "waiting for" if a.shown_at is None else "still waiting for"
                a.shown_at = now
                self._write(f"{now - self.started:6.2f}s … {verb} {a.describe(now)}")

    def _status_text(self) -> str:
        now = self.clock()
        long = self._long(now)
        if not long:
            return ""
        text = f"{now - self.started:6.2f}s … " + "; ".join(a.describe(now) for a in long)
        width = shutil.get_terminal_size((100, 20)).columns - 1
        return text if len(text) <= width else text[:max(width - 1, 0)] + "…"

    def _clear_status(self) -> None:
        if self._status_shown and self.sink is None:
            self.stream.write("\r\x1b[K")
            self._status_shown = False

    def _draw_status(self) -> None:
        if not self.tty or self.verbosity < NORMAL:
            return
        text = self._status_text()
        if text:
            self.stream.write(self.style(text, "dim"))
            self._status_shown = True

    def close(self) -> None:
        with self._lock:
            self._activities.clear()
            self._clear_status()
            if self.sink is None:
                self.stream.flush()


# The reporter of the command running in this context: core code with no lab context at
# hand (downloads) reports through it. The engine runs every step in a copy of the context.
_current: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar(
    "nativek8s_reporter", default=None)

SILENT = Reporter(sink=lambda _line: None, verbosity=QUIET)


def current() -> Reporter:
    return _current.get() or SILENT


def set_current(reporter: Reporter | None) -> None:
    """Make reporter the current one from here on (a command line sets it for its run, and
    None when the run ends)."""
    _current.set(reporter)


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    token = _current.set(reporter)
    try:
        yield reporter
    finally:
        _current.reset(token)


def reporter_of(ctx: Any) -> Reporter:
    """The context's reporter; a silent one for contexts made without one (tests)."""
    report = getattr(ctx, "report", None)
    return report if isinstance(report, Reporter) else current()
