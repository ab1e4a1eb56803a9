"""Version strings as upstream projects write them: ``1.18.0``, ``v1.16``, ``24.10.0-rc2``,
``1.14.0-rc.1``, ``8.2.4+pve1``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nativek8s.core.errors import UsageError

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?P<rest>[-+~]\S*)?$")


@dataclass(frozen=True, order=True)
class Version:
    """Major, minor, patch (0 when absent) and whatever follows (``-rc2``, ``+pve1``).
    Ordered by number, then by the rest as text; printed as written."""

    major: int
    minor: int
    patch: int = 0
    rest: str = ""
    text: str = field(default="", compare=False)  # as written

    @property
    def minor_version(self) -> tuple[int, int]:
        return (self.major, self.minor)

    def __str__(self) -> str:
        return self.text or f"{self.major}.{self.minor}.{self.patch}{self.rest}"


def parse_version(text: str, what: str = "version", noun: str = "a version",
                  example: str = "1.16.3") -> Version:
    """``"v1.16.3"`` → Version(1, 16, 3). A string that is no version is a UsageError:
    ``"<what>: '<text>' is not <noun> such as <example>"`` (what: e.g. ``versions.cilium``)."""
    match = _VERSION.match(text.strip())
    if match is None:
        raise UsageError(f"{what}: {text!r} is not {noun} such as {example}")
    major, minor, patch = match.group(1, 2, 3)
    return Version(int(major), int(minor), int(patch or 0), match.group("rest") or "",
                   text.strip())
