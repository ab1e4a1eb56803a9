"""Options of the `frr` plugin (`options.frr` in a topology, top level or per datacentre)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FrrOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    log_level: Literal["emergencies", "alerts", "critical", "errors", "warnings",
                       "notifications", "informational", "debugging"] = Field(
        "informational", description="FRR's `log stdout <level>`")
