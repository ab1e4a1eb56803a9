"""Storage XML: the lab's directory pool and its qcow2 volumes.

Pools and volumes have no ``<metadata>`` in libvirt's schema: the lab owns its pool by name
and path (recorded in the lab's state) and its volumes through its domains' metadata.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..specs import MediaVolume, PoolSpec, VolumeSpec
from . import sub, to_text


def pool_xml(spec: PoolSpec) -> str:
    if spec.path is None:
        raise ValueError(f"pool {spec.name} is not the lab's to define")
    root = ET.Element("pool", type="dir")
    sub(root, "name", spec.name)
    target = sub(root, "target")
    sub(target, "path", spec.path)
    perms = sub(target, "permissions")  # QEMU's own user reaches the volumes through it
    sub(perms, "mode", "0711")
    return to_text(root)


def media_xml(spec: MediaVolume, size: int) -> str:
    """A volume for an uploaded boot media file, readable by QEMU's user."""
    root = ET.Element("volume", type="file")
    sub(root, "name", spec.name)
    sub(root, "capacity", str(size), unit="bytes")
    target = sub(root, "target")
    sub(target, "format", type=spec.format)
    perms = sub(target, "permissions")
    sub(perms, "mode", "0644")
    return to_text(root)


def volume_xml(spec: VolumeSpec) -> str:
    root = ET.Element("volume", type="file")
    sub(root, "name", spec.name)
    sub(root, "capacity", str(spec.capacity_bytes), unit="bytes")
    sub(root, "allocation", "0", unit="bytes")  # sparse: qcow2 grows as the guest writes
    target = sub(root, "target")
    sub(target, "format", type="qcow2")
    if spec.backing is not None:
        backing = sub(root, "backingStore")
        sub(backing, "path", spec.backing)
        sub(backing, "format", type=spec.backing_format)
    return to_text(root)
