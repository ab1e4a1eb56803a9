"""What every deploy, destroy, status and verify call receives (see core.contexts)."""

from __future__ import annotations

from ..contexts import LabContext

__all__ = ["LabContext"]
