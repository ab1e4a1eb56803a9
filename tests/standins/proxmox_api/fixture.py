"""pytest fixture for the stand-in; import it into a test module or conftest.py::

    from tests.standins.proxmox_api.fixture import proxmox_standin  # noqa: F401

Skips (with the reason) when the upstream schema is not available.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .schema import require_schema
from .server import ProxmoxStandin


@pytest.fixture
def proxmox_standin() -> Iterator[ProxmoxStandin]:
    require_schema()
    with ProxmoxStandin() as standin:
        yield standin
