"""Steps and their runner: dependencies respected, independent steps in parallel.

Every step is an *ensure*: it looks at the real backend and acts only where it differs from
the plan, so running the whole list again is how a failed or interrupted deploy resumes.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from ..errors import NativeK8sError
from ..report import Reporter


@dataclass(frozen=True)
class Step:
    """One idempotent unit of work.

    ``key`` is unique in a run (e.g. ``"netns:router:router-1"``); ``after`` lists keys that
    must finish first. ``run`` returns a short note for the progress line (or None).
    """

    key: str
    title: str  # "start BIRD", "create namespaces"
    run: Callable[[], str | None]
    machine: str | None = None
    after: tuple[str, ...] = ()


class StepFailed(NativeK8sError):
    def __init__(self, step: Step, cause: BaseException):
        self.step, self.cause = step, cause
        where = f" on {step.machine}" if step.machine else ""
        super().__init__(f"step {step.title!r}{where} failed: {cause}\n"
                         "fix the cause and run the same command again: finished steps are "
                         "checked, not redone")


class Progress:
    """Prints one line per finished step: elapsed time, step, machine, its duration; a step
    running longer than a second shows as a wait (what runs, for how long) meanwhile."""

    def __init__(self, echo: Callable[[str], None] | Reporter):
        self.report = echo if isinstance(echo, Reporter) else Reporter.to(echo)
        self.started = self.report.started

    def line(self, mark: str, step: Step, took: float, note: str | None) -> None:
        elapsed = self.report.elapsed()
        tail = f" — {note}" if note else ""
        styled = self.report.style(mark, "ok" if mark == "✓" else "fail")
        text = f"{elapsed:6.2f}s {styled} {step.title}{_who(step)} ({took:.2f}s){tail}"
        if mark == "✓":
            self.report.say(text)
        else:
            self.report.error(text)

    def run(self, step: Step) -> str | None:
        """Run a step inside a wait named after it (in the caller's context's copy)."""
        with self.report.waiting(f"{step.title}{_who(step)}"):
            return step.run()


def _who(step: Step) -> str:
    return f" [{step.machine}]" if step.machine else ""


def _check(steps: list[Step]) -> None:
    keys = [s.key for s in steps]
    dupes = {k for k in keys if keys.count(k) > 1}
    if dupes:
        raise NativeK8sError(f"internal: duplicate step keys {sorted(dupes)}")
    unknown = {a for s in steps for a in s.after if a not in keys}
    if unknown:
        raise NativeK8sError(f"internal: steps depend on unknown steps {sorted(unknown)}")


def run_steps(steps: Iterable[Step], progress: Progress, workers: int = 16) -> None:
    """Run steps as their dependencies allow; stop scheduling at the first failure."""
    steps = list(steps)
    _check(steps)
    pending = {s.key: s for s in steps}
    done: set[str] = set()
    running: dict[Future, tuple[Step, float]] = {}
    failure: StepFailed | None = None
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while pending or running:
            if failure is None:
                for key, step in list(pending.items()):
                    if all(a in done for a in step.after):
                        del pending[key]
                        # a copy of the context: the step sees the command's reporter
                        run = contextvars.copy_context().run
                        running[pool.submit(run, progress.run, step)] = (step, time.monotonic())
            if not running:
                if pending and failure is None:
                    raise NativeK8sError(f"internal: dependency cycle among {sorted(pending)}")
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                step, t0 = running.pop(fut)
                took = time.monotonic() - t0
                try:
                    note = fut.result()
                except BaseException as exc:  # noqa: BLE001 - reported, then re-raised
                    # its first line, whole (never cut mid-word); the error repeats it all
                    progress.line("✗", step, took, str(exc).splitlines()[0] if str(exc) else
                                  type(exc).__name__)
                    failure = failure or StepFailed(step, exc)
                    continue
                done.add(step.key)
                progress.line("✓", step, took, note)
    if failure is not None:
        raise failure
