"""The topology file as typed, validated models.

Structure and types are checked here (pydantic, unknown keys refused); cross-field rules
(overlaps, sizes, names, ASNs, plugins) live in :mod:`nativek8s.core.validate`.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .kinds import DEFAULT_PLUGINS
from .roles import Role


def _cidr(value: Any) -> ipaddress.IPv4Network:
    if isinstance(value, ipaddress.IPv4Network):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected an IPv4 network such as 10.1.0.0/24, got {value!r}")
    if "/" not in value:
        raise ValueError(f"{value!r} has no prefix length; write it as a network, e.g. {value}/24")
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ipaddress.NetmaskValueError:
        raise ValueError(f"{value!r} has an invalid prefix length; IPv4 prefixes are /0 to "
                         "/32") from None
    except ValueError:
        try:
            loose = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 network such as 10.1.0.0/24") from None
        raise ValueError(f"{value!r} has host bits set; did you mean {loose}?") from None


Cidr = Annotated[ipaddress.IPv4Network, BeforeValidator(_cidr)]
Version = Annotated[str, Field(pattern=r"^\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.-]+)?$")]
PluginOptions = dict[str, dict[str, Any]]


class _Strict(BaseModel):
    # Unknown keys are almost always typos: refuse them, and say which keys exist.
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeSpec(_Strict):
    role: Role = Role.worker


class RouterSpec(_Strict):
    """A datacentre router; reserved for per-router settings."""


class DatacentreSpec(_Strict):
    lan: Cidr | None = Field(None, description="LAN of this datacentre; default 10.<index>.0.0/24")
    routers: dict[str, RouterSpec | None] | None = Field(
        None, description="router names; default one router named router-<index>"
    )
    nodes: dict[str, NodeSpec | None] = Field(default_factory=dict)
    hypervisor: str | None = Field(None, description="hypervisor plugin for this datacentre")
    options: PluginOptions = Field(default_factory=dict, description="per-plugin options here")


class AsnSpec(_Strict):
    routers: int = 65000
    cluster: int = 65001


class NetworksSpec(_Strict):
    peering: Cidr = ipaddress.IPv4Network("10.255.0.0/24")
    pods: Cidr = ipaddress.IPv4Network("10.244.0.0/16")
    pod_mask: int = Field(24, description="prefix length of each node's PodCIDR")
    services: Cidr = ipaddress.IPv4Network("10.96.0.0/12")
    direct_node_routes: bool = Field(
        True, description="nodes on one LAN route each other's PodCIDRs directly"
    )


class BgpSpec(_Strict):
    hold_time: int = 9
    keepalive_time: int = 3
    connect_retry: int = 5
    md5: bool = Field(False, description="TCP-MD5 on every session; password generated per lab")
    password_file: Path | None = Field(None, description="file holding the MD5 password")
    full_mesh_max_routers: int = Field(
        4, description="above this many routers, iBGP uses route reflectors"
    )


class VersionsSpec(_Strict):
    talos: Version = "1.13.9"
    kubernetes: Version | None = None
    cilium: Version = "1.18.0"
    openwrt: Version = "24.10.0"


class PluginChoice(_Strict):
    hypervisor: str = DEFAULT_PLUGINS["hypervisor"]
    router: str = DEFAULT_PLUGINS["router"]
    nodeos: str = DEFAULT_PLUGINS["nodeos"]
    cni: str = DEFAULT_PLUGINS["cni"]


class Topology(_Strict):
    """A whole lab as the user describes it."""

    name: str
    datacentres: dict[str, DatacentreSpec] = Field(min_length=1)
    asn: AsnSpec = AsnSpec()
    networks: NetworksSpec = NetworksSpec()
    bgp: BgpSpec = BgpSpec()
    versions: VersionsSpec = VersionsSpec()
    plugins: PluginChoice = PluginChoice()
    options: PluginOptions = Field(default_factory=dict, description="per-plugin options")

    def with_plugins(self, **choices: str | None) -> Topology:
        """This topology with plugin choices overridden (CLI flags win over the file)."""
        given = {kind: name for kind, name in choices.items() if name}
        if not given:
            return self
        return self.model_copy(update={"plugins": self.plugins.model_copy(update=given)})
