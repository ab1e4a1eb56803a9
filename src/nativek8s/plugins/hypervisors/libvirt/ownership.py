"""Who owns a libvirt object: the ``<nk8s:lab>`` element in its metadata.

Destroy removes only objects whose metadata names this lab; anything else of the same name
is reported and left alone.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from ipaddress import IPv4Network

from nativek8s.api import NativeK8sError

from .xml import q


@dataclass(frozen=True)
class Owner:
    lab: str
    kind: str  # network | domain
    key: str  # the plan's network key or machine name
    digest: str
    cidr: IPv4Network | None = None  # networks: the subnet the lab planned for it
    volumes: tuple[tuple[str, str], ...] = ()  # domains: (pool, volume) it owns


def owner_of(xml: str) -> Owner | None:
    """The lab metadata of a network's or domain's XML, if it has any."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    el = root.find(f"metadata/{q('lab')}")
    if el is None:
        return None
    cidr = el.get("cidr")
    return Owner(
        lab=el.get("lab", ""), kind=el.get("kind", ""), key=el.get("key", ""),
        digest=el.get("digest", ""), cidr=IPv4Network(cidr) if cidr else None,
        volumes=tuple((v.get("pool", ""), v.get("name", "")) for v in el.findall(q("volume"))))


def owned_by(xml: str, lab: str) -> bool:
    owner = owner_of(xml)
    return owner is not None and owner.lab == lab


def describe(owner: Owner | None) -> str:
    return f"lab {owner.lab!r}" if owner else "not nativek8s"


def require_lab(what: str, name: str, uri: str, xml: str, lab: str) -> Owner:
    """The owner recorded in an existing object's XML, which must be this lab: a same-named
    object that is someone else's is never taken over."""
    owner = owner_of(xml)
    if owner is None or owner.lab != lab:
        raise NativeK8sError(f"{what} {name} on {uri} exists and is {describe(owner)}; "
                             f"remove it or give the lab another name")
    return owner
