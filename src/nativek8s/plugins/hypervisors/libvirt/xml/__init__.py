"""libvirt XML for the lab, built with ElementTree from :mod:`..specs`.

Every network and domain carries one ``<nk8s:lab>`` element in nativek8s's own namespace
inside ``<metadata>``: the lab, what it is in the plan, and a digest of the XML it was
defined from (how a re-run knows nothing changed without comparing libvirt's defaults).
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET

NS = "urn:x-nativek8s:libvirt:1"
PREFIX = "nk8s"
ET.register_namespace(PREFIX, NS)


def q(tag: str) -> str:
    """A tag in our namespace."""
    return f"{{{NS}}}{tag}"


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def owner_element(parent: ET.Element, lab: str, kind: str, key: str,
                  **extra: str) -> ET.Element:
    meta = sub(parent, "metadata")
    return sub(meta, q("lab"), lab=lab, kind=kind, key=key, **extra)


def to_text(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode") + "\n"


def sealed(root: ET.Element, owner: ET.Element) -> str:
    """The XML with the owner element's ``digest`` set to the hash of everything else."""
    owner.attrib.pop("digest", None)
    digest = hashlib.sha256(to_text(root).encode()).hexdigest()[:16]
    owner.set("digest", digest)
    return to_text(root)


def with_uuid(xml: str, uuid: str) -> str:
    """The same XML with ``<uuid>`` after ``<name>``: libvirt then updates the object
    instead of refusing a second one of that name."""
    root = ET.fromstring(xml)
    for old in root.findall("uuid"):
        root.remove(old)
    names = [i for i, child in enumerate(root) if child.tag == "name"]
    element = ET.Element("uuid")
    element.text = uuid
    root.insert(names[0] + 1 if names else 0, element)
    return to_text(root)
