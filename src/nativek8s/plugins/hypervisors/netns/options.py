"""Options of the netns backend (`options: {netns: {...}}` in a topology)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class NetnsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Literal["gobgp", "bird"] = Field(
        "gobgp", description="nodes' BGP speaker: gobgp (as Cilium embeds) or bird (lighter)")
    probe_port: int = Field(8080, ge=1, le=65535, description="TCP port of the pod agent")
