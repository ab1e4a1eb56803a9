"""`nativek8s doctor` and the check `deploy` runs first: everything a deploy of this
composition needs from this host, every problem at once, nothing created.

The hypervisor's ``preflight`` (names taken, access, permissions) and every plugin's
``nativek8s_doctor_checks`` hook (tools and their versions, images cached or reachable,
free disk, memory, KVM, host traps) each contribute :class:`Finding` objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import NativeK8sError, UsageError

if TYPE_CHECKING:
    from .engine.context import LabContext


@dataclass(frozen=True)
class Finding:
    """One thing a deploy needs, as checked on this host."""

    source: str  # the plugin (or "core") that checked it
    subject: str  # what was checked: "talosctl", "KVM", "memory", "bridge netfilter"
    ok: bool
    detail: str  # what was found; when not ok, what is wrong and what to do
    warning: bool = False  # not ok, but a deploy can go on (e.g. TCG is slow)

    @property
    def blocking(self) -> bool:
        return not self.ok and not self.warning

    def line(self) -> str:
        mark = "ok  " if self.ok else ("warn" if self.warning else "FAIL")
        return f"{mark} {self.source}: {self.subject}: {self.detail}"


class NotReady(UsageError):
    """doctor found problems: nothing was created (exit 2)."""

    def __init__(self, lab: str, findings: list[Finding]):
        self.findings = findings
        bad = [f for f in findings if f.blocking]
        head = (f"lab {lab} cannot be deployed from this host: {len(bad)} "
                f"problem{'s' if len(bad) != 1 else ''}")
        super().__init__("\n".join([head, *("  " + f.line() for f in bad)]))


def role_is_deployed(ctx: LabContext, role: str) -> bool:
    """Whether a role's plugin runs for real in this lab (no hypervisor emulates it), so
    its tools are needed: the netns backend emulates the node OS and the CNI."""
    return not any(role in h.emulates for h in ctx.plugins.hypervisors.values())


def _preflights(ctx: LabContext) -> Iterable[Finding]:
    for name, hyp in ctx.plugins.hypervisors.items():
        try:
            hyp.preflight(ctx)
        except NativeK8sError as exc:
            yield Finding(name, "preflight", False, str(exc))
        else:
            yield Finding(name, "preflight", True, "access, names and permissions")


def findings(ctx: LabContext, hook: Any) -> list[Finding]:
    """Every finding: the hypervisors' preflights, then every plugin's doctor checks
    (``hook`` is the plugin manager's ``nativek8s_doctor_checks`` caller)."""
    out = list(_preflights(ctx))
    for result in hook(ctx=ctx):
        for found in result or []:
            if not isinstance(found, Finding):
                raise NativeK8sError(f"internal: a doctor check returned {found!r}, not a "
                                     "Finding")
            out.append(found)
    return out


def require_ready(ctx: LabContext, hook: Any) -> list[Finding]:
    """The findings; raise :class:`NotReady` (exit 2) listing every blocking one."""
    found = findings(ctx, hook)
    if any(f.blocking for f in found):
        raise NotReady(ctx.plan.lab, found)
    return found
