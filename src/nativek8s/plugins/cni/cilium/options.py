"""`options.cilium` in a topology: how Cilium is installed and which BGP resources it gets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nativek8s.api import Plan

PLUGIN = "cilium"


class CiliumOptions(BaseModel):
    """Cluster-wide settings of the `cilium` plugin (per-datacentre values are refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    installer: Literal["auto", "helm", "cilium-cli"] = Field(
        "auto", description="how Cilium is installed; auto: helm if present, else the cilium CLI")
    chart_version: str | None = Field(
        None, pattern=r"^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$",
        description="Helm chart version to pin; default versions.cilium (same minor required)")
    ipam: Literal["kubernetes", "cluster-pool"] = Field(
        "kubernetes", description="who hands out PodCIDRs: Kubernetes, or Cilium's operator "
                                  "from the plan's pod CIDR and pod_mask")
    peering_policy: bool = Field(
        False, description="the article's CiliumBGPPeeringPolicy instead of the BGPv2 kinds "
                           "(Cilium 1.16-1.17; deprecated in 1.18; removed in 1.19)")
    register_timeout: int = Field(
        300, ge=0, description="seconds deploy waits for every planned node to register, "
                               "to give it its planned PodCIDR (kubernetes IPAM)")
    ready_timeout: int = Field(
        600, ge=0, description="seconds deploy waits for Cilium's agents and operator to be "
                               "ready after installing (images are pulled meanwhile)")
    bgp_timeout: int = Field(
        180, ge=0, description="seconds deploy waits for every node's BGP sessions to be "
                               "Established")


def options_of(plan: Plan) -> CiliumOptions:
    return CiliumOptions.model_validate(plan.options_for(PLUGIN))


def chart_version(plan: Plan) -> str:
    """The Helm chart version to install: the pinned one, else the plan's Cilium version."""
    return options_of(plan).chart_version or plan.versions["cilium"]
