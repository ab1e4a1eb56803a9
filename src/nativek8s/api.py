"""The public, stable surface for plugin authors: everything a plugin needs, in one import.

Plugins import ``nativek8s.api``, the shared helpers of ``nativek8s.shared`` and their own
package — nothing else of nativek8s (an import-linter contract keeps it so). Names here keep
their meaning across releases; everything under ``nativek8s.core`` may change.

See docs/plugins.md for a complete plugin of every kind and the reference of every interface
member and hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core.contexts import LabContext, RenderContext, os_plugin_of, plugin_options
from .core.doctor import Finding, role_is_deployed
from .core.engine.state import LabState
from .core.engine.steps import Step
from .core.errors import CommandFailed, NativeK8sError, PluginError, Problem, UsageError
from .core.hooks import hookimpl
from .core.intent import PeerIntent, SpeakerIntent
from .core.kinds import (
    CNI,
    KINDS,
    BgpDaemon,
    BgpSessionState,
    BootMedia,
    CNISpec,
    Hypervisor,
    HypervisorSpec,
    InteractiveAccess,
    MachineAccess,
    NodeOS,
    NodeOSSpec,
    Plugin,
    PluginSet,
    PluginSpec,
    RenderedFile,
    RouterOS,
    RouterOSSpec,
    SystemDisk,
    Unsupported,
    required,
)
from .core.nsdaemon import DaemonFile, DaemonPaths, DaemonProcess, NamespaceDaemon
from .core.observe import KernelRoute, MachineStatus, Observer, ProbeResult
from .core.paths import lab_dir
from .core.plan import (
    MD5_SECRET,
    BgpEndpoint,
    BgpKind,
    BgpSession,
    Cluster,
    Composition,
    Datacentre,
    ExpectedRoute,
    Interface,
    Machine,
    Network,
    NetworkKind,
    NodePlan,
    Plan,
    RouteOrigin,
    RouterPeer,
    RouterPlan,
)
from .core.plan.build import build_plan
from .core.plan.management import (
    NODE_PORTS,
    ROUTER_PORTS,
    Management,
    ManagementRoute,
    management_of,
    management_plan,
)
from .core.plan.naming import short_id
from .core.registry import create_plugin
from .core.report import Reporter
from .core.report import current as current_reporter
from .core.roles import Role
from .core.secrets import SECRET_MODE, SecretStore, write_private
from .core.topology import Topology
from .core.verify import CheckResult

if TYPE_CHECKING:
    from .core import downloads
    from .core.downloads import (
        SIDECAR_SUFFIX,
        CachedFile,
        DownloadError,
        cached_path,
        fetch,
        parse_sha256sums,
    )

# The download helpers are imported on first use (`from nativek8s.api import fetch` works
# as ever): they bring in HTTP and TLS, which a lab whose plugins download nothing (netns)
# would otherwise load in every command.
_DOWNLOADS = frozenset({"SIDECAR_SUFFIX", "CachedFile", "DownloadError", "cached_path",
                        "fetch", "parse_sha256sums"})


def __getattr__(name: str) -> object:
    if name == "downloads" or name in _DOWNLOADS:
        from .core import downloads

        return downloads if name == "downloads" else getattr(downloads, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Finding", "SystemDisk", "build_plan", "create_plugin", "role_is_deployed",
    "DaemonFile", "DaemonPaths", "DaemonProcess", "NamespaceDaemon",
    "CNI",
    "KINDS",
    "NODE_PORTS", "ROUTER_PORTS", "Management", "ManagementRoute", "management_of",
    "management_plan",
    "MD5_SECRET",
    "SECRET_MODE",
    "SIDECAR_SUFFIX",
    "BgpDaemon",
    "BgpEndpoint",
    "BgpKind",
    "BgpSession",
    "BgpSessionState",
    "BootMedia",
    "CNISpec",
    "CachedFile",
    "CheckResult",
    "Cluster",
    "Composition",
    "Datacentre",
    "DownloadError",
    "ExpectedRoute",
    "Hypervisor",
    "HypervisorSpec",
    "Interface",
    "KernelRoute",
    "LabContext",
    "LabState",
    "Machine",
    "InteractiveAccess",
    "MachineAccess",
    "MachineStatus",
    "CommandFailed",
    "NativeK8sError",
    "Network",
    "NetworkKind",
    "NodeOS",
    "NodeOSSpec",
    "NodePlan",
    "Observer",
    "PeerIntent",
    "Plan",
    "Plugin",
    "PluginError",
    "PluginSet",
    "PluginSpec",
    "ProbeResult",
    "Problem",
    "RenderContext",
    "RenderedFile",
    "Reporter",
    "Role",
    "RouteOrigin",
    "RouterOS",
    "RouterOSSpec",
    "RouterPeer",
    "RouterPlan",
    "SecretStore",
    "SpeakerIntent",
    "Step",
    "Topology",
    "Unsupported",
    "UsageError",
    "cached_path",
    "current_reporter",
    "downloads",
    "fetch",
    "hookimpl",
    "lab_dir",
    "os_plugin_of",
    "parse_sha256sums",
    "plugin_options",
    "required",
    "short_id",
    "write_private",
]
