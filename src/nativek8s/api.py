"""The public, stable surface for plugin authors: everything a plugin needs, in one import.

Plugins outside this package (examples/nativek8s-frr) import ``nativek8s.api`` and their
own package only. Names here keep their meaning across releases.
"""

from __future__ import annotations

from .core.errors import NativeK8sError, PluginError, Problem, UsageError
from .core.hooks import hookimpl
from .core.kinds import (
    BgpDaemon,
    BgpSessionState,
    MachineAccess,
    RenderContext,
    RenderedFile,
    RouterOSSpec,
)
from .core.nsdaemon import DaemonFile, DaemonPaths, DaemonProcess, NamespaceDaemon
from .core.plan import MD5_SECRET, BgpKind, BgpSession, Plan, RouterPlan
from .core.plan.build import build_plan
from .core.secrets import SecretStore
from .core.topology import Topology

__all__ = [
    "MD5_SECRET",
    "BgpDaemon",
    "BgpKind",
    "BgpSession",
    "BgpSessionState",
    "DaemonFile",
    "DaemonPaths",
    "DaemonProcess",
    "MachineAccess",
    "NamespaceDaemon",
    "NativeK8sError",
    "Plan",
    "PluginError",
    "Problem",
    "RenderContext",
    "RenderedFile",
    "RouterOSSpec",
    "RouterPlan",
    "SecretStore",
    "Topology",
    "UsageError",
    "build_plan",
    "hookimpl",
]
