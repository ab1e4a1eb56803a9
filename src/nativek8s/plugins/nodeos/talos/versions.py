"""Which Talos versions nativek8s supports, and what differs between them.

Facts (siderolabs/talos tags v1.13.9 and v1.14.0-rc.1, ``pkg/machinery/config``):
- 1.13 takes the article's patch form: ``machine.install``, ``cluster.network.cni``,
  ``cluster.proxy`` in the v1alpha1 document.
- 1.14 (version contract > 1.13: ``MultidocKubernetesConfigSupported``,
  ``UnattendedInstallConfig``) generates separate documents instead and drops those fields
  from the v1alpha1 schema: UnattendedInstallConfig, KubeNetworkConfig, KubeProxyConfig,
  KubeFlannelCNIConfig, KubeNodeConfig.
- Both generate a ``HostnameConfig`` document (``auto: stable``) since 1.12, so a static
  hostname is that document with ``auto: off`` (upstream ``stdpatches.WithStaticHostname``).
- ``constants.DefaultKubernetesVersion``: 1.36.3 at v1.13.9, 1.37.0-rc.0 at v1.14.0-rc.1;
  a release supports that Kubernetes minor and the five before it.
Only versions whose upstream config schema the tests pin are supported (docs/testing.md):
what the plugin generates is checked against them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nativek8s.api import UsageError
from nativek8s.shared.versions import Version
from nativek8s.shared.versions import parse_version as shared_parse

SUPPORTED_MINORS = ((1, 13), (1, 14))
MULTIDOC_FROM = (1, 14)
DEFAULT_KUBERNETES = {(1, 13): "1.36.3", (1, 14): "1.37.0-rc.0"}
SUPPORTED_KUBERNETES_MINORS = 6

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?$")
_PRE = re.compile(r"^(?:-[0-9A-Za-z.-]+)?$")  # Talos tags: a pre-release, no build metadata


@dataclass(frozen=True, order=True)
class TalosVersion(Version):
    @property
    def pre(self) -> str:
        return self.rest[1:]

    @property
    def tag(self) -> str:
        """As Talos tags it (and the Image Factory names it): ``v1.13.9``."""
        return f"v{self.major}.{self.minor}.{self.patch}" + (f"-{self.pre}" if self.pre else "")

    @property
    def multidoc(self) -> bool:
        """Kubernetes, install and CNI settings live in separate documents (1.14+)."""
        return self.minor_version >= MULTIDOC_FROM

    def __str__(self) -> str:
        return self.tag


def parse_version(text: str) -> TalosVersion:
    what, noun = "versions.talos", "a Talos version"
    v = shared_parse(text, what, noun, "1.13.9")
    if not _PRE.match(v.rest):
        raise UsageError(f"{what}: {text!r} is not {noun} such as 1.13.9")
    return TalosVersion(v.major, v.minor, v.patch, v.rest, v.text)


def support_problem(version: TalosVersion) -> str | None:
    """Why nativek8s cannot configure this Talos version (None: it can)."""
    if version.minor_version in SUPPORTED_MINORS:
        return None
    known = " and ".join(f"{a}.{b}.x" for a, b in SUPPORTED_MINORS)
    return (f"Talos {version} is not supported: nativek8s generates and checks machine "
            f"configuration for Talos {known} only; set versions.talos to one of those")


def supported(version_text: str) -> TalosVersion:
    """The parsed version; raises UsageError saying what to do when unsupported."""
    version = parse_version(version_text)
    problem = support_problem(version)
    if problem:
        raise UsageError(f"versions.talos: {problem}")
    return version


def kubernetes_version(version: TalosVersion, wanted: str | None) -> str:
    """The Kubernetes version to pin (without a leading v): the topology's, else Talos's
    default for its release."""
    return (wanted or DEFAULT_KUBERNETES[version.minor_version]).lstrip("v")


def kubernetes_problem(version: TalosVersion, kubernetes: str) -> str | None:
    """Why this Talos release cannot run that Kubernetes version (None: it can)."""
    match = _VERSION.match(kubernetes)
    if not match:
        return f"{kubernetes!r} is not a Kubernetes version such as 1.36.3"
    newest = _VERSION.match(DEFAULT_KUBERNETES[version.minor_version])
    assert newest is not None
    newest_minor = int(newest.group(2))
    minor = int(match.group(2))
    oldest_minor = newest_minor - SUPPORTED_KUBERNETES_MINORS + 1
    if int(match.group(1)) != 1 or not oldest_minor <= minor <= newest_minor:
        return (f"Talos {version.major}.{version.minor} runs Kubernetes 1.{oldest_minor} to "
                f"1.{newest_minor}; set versions.kubernetes in that range (or leave it out "
                f"for {DEFAULT_KUBERNETES[version.minor_version]})")
    return None
