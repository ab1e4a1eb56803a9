"""Named string formats of the PVE schema (``"format": "pve-vmid"`` and friends).

The schema names formats but does not define them; their rules and messages come from the
upstream verifiers (pve-common JSONSchema.pm, pve-storage, qemu-server, pve-network as of
PVE 9.1). A verifier raises FormatError with PVE's message. Formats not listed here are not
checked (``UNCHECKED`` collects the names met, so tests can see what slipped through).
Hash formats (property strings) are given as dicts, like the inline ones in the schema.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from .errors import FormatError

Verifier = Callable[[str], None]
UNCHECKED: set[str] = set()

_CONFIGID_RE = re.compile(r"[a-z][a-z0-9_-]+", re.I)
_DNS_LABEL = r"([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)"
_DNS_RE = re.compile(rf"({_DNS_LABEL}\.)*{_DNS_LABEL}")
_VOLID_RE = re.compile(r"([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)", re.I | re.S)
_TAG_RE = re.compile(r"[a-z0-9_][a-z0-9_\-+.]*", re.I)
STORAGE_CONTENT = {"images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import"}
DRIVE_COUNTS = {"ide": 4, "sata": 6, "scsi": 31, "virtio": 16}


def _full(regex: re.Pattern[str] | str, value: str, flags: int = 0) -> bool:
    return re.fullmatch(regex, value, flags) is not None


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise FormatError(message)


def split_list(text: str) -> list[str]:
    """PVE::ParseUtils::split_list: NUL-separated, else on commas, semicolons, whitespace."""
    if "\0" in text:
        return text.split("\0")
    return [p for p in re.split(r"\s+", re.sub(r"[,;]", " ", text).lstrip()) if p]


def parse_id(kind: str) -> Verifier:
    def verify(value: str) -> None:
        _need(len(value) >= 2, f"{kind} ID '{value}' cannot be shorter than 2 characters")
        _need(_full(r"[a-z][a-z0-9\-_.]*[a-z0-9]", value, re.I),
              f"{kind} ID '{value}' contains illegal characters")
    return verify


def sdn_id(kind: str, max_len: int | None) -> Verifier:
    """PVE 9.1's parse_sdn_<kind>_id (moved into schema patterns after 9.1)."""
    def verify(value: str) -> None:
        _need(_full(r"[a-z][a-z0-9]*[a-z0-9]", value, re.I),
              f"{kind} ID '{value}' contains illegal characters")
        if max_len is not None:
            _need(len(value) <= max_len,
                  f"{kind} ID '{value}' can't be more length than {max_len} characters")
    return verify


def _ip(version: int | None) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        if "%" in value or "/" in value:
            return False
        try:
            addr = ipaddress.ip_address(value)
        except ValueError:
            return False
        return version is None or addr.version == version
    return check


def _cidr(version: int, max_bits: int) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        addr, sep, bits = value.partition("/")
        return bool(sep) and bits.isdigit() and _ip(version)(addr) and 7 < int(bits) <= max_bits
    return check


is_ipv4, is_ipv6, is_ip = _ip(4), _ip(6), _ip(None)
is_cidrv4, is_cidrv6 = _cidr(4, 32), _cidr(6, 128)


def is_cidr(value: str) -> bool:
    return is_cidrv4(value) or is_cidrv6(value)


def is_dns_name(value: str) -> bool:
    return _full(_DNS_RE, value)


def verify_subnet_id(value: str) -> None:
    if "/" in value:
        cidr = value
    else:
        parts = value.split("-")
        cidr = f"{parts[1] if len(parts) > 1 else ''}/{parts[2] if len(parts) > 2 else ''}"
    _need(is_cidr(cidr), "value does not look like a valid CIDR network")


def verify_volume_id(value: str) -> None:
    _need(_full(_VOLID_RE, value), f"unable to parse volume ID '{value}'")


def verify_volume_or_path(value: str) -> None:
    if not value.startswith("/"):
        verify_volume_id(value)


def is_drive_name(value: str) -> bool:
    match = re.fullmatch(r"(ide|sata|scsi|virtio)(\d+)", value)
    return match is not None and int(match.group(2)) < DRIVE_COUNTS[match.group(1)]


def verify_bootdev(value: str) -> None:
    ok = is_drive_name(value) or bool(re.fullmatch(r"(net([0-9]|[12][0-9]|3[01])|usb([0-9]|1[0-3])"
                                                   r"|hostpci([0-9]|1[0-5]))", value))
    _need(ok, f"invalid boot device '{value}'")


def verify_startup(value: str) -> None:
    parts = [p for p in value.split(",") if p.strip()]
    ok = bool(parts) and all(re.fullmatch(r"(order=)?\d+|up=\d+|down=\d+", p) for p in parts)
    _need(ok, "unable to parse startup options")


def verify_vlan(value: str) -> None:
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", value)
    _need(bool(match), f"invalid VLAN configuration '{value}'")
    assert match is not None
    for tag in filter(None, match.groups()):
        _need(2 <= int(tag) <= 4094, f"invalid VLAN tag '{tag}'")
    if match.group(2):
        _need(int(match.group(1)) < int(match.group(2)),
              f"VLAN range must go from lower to higher tag '{value}'")


def verify_bgp_rt(value: str) -> None:
    match = re.fullmatch(r"(\d+):(\d+)", value)
    ok = bool(match) and all(int(g) <= 4294967295 for g in match.groups())  # type: ignore[union-attr]
    _need(ok, "value does not look like a valid bgp route-target")


def simple(check: Callable[[str], bool], message: str) -> Verifier:
    def verify(value: str) -> None:
        _need(check(value), message.replace("{value}", value))
    return verify


VERIFIERS: dict[str, Verifier] = {
    "string": lambda v: None,
    "urlencoded": simple(lambda v: _full(r"[-%a-zA-Z0-9_.!~*'()]*", v),
                         "invalid urlencoded string: {value}"),
    "pve-configid": simple(lambda v: _full(_CONFIGID_RE, v), "invalid configuration ID '{value}'"),
    "pve-storage-id": parse_id("storage"),
    "acme-plugin-id": parse_id("ACME plugin"),
    "pve-bridge-id": simple(lambda v: _full(r"[-_.\w\d]+", v), "invalid bridge ID '{value}'"),
    "pve-vmid": simple(lambda v: _full(r"[1-9][0-9]{2,8}", v),
                       "value does not look like a valid VM ID"),
    "pve-node": simple(lambda v: _full(r"[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?", v),
                       "value does not look like a valid node name"),
    "mac-addr": simple(lambda v: _full(r"[a-f0-9][02468ace](?::[a-f0-9]{2}){5}", v, re.I),
                       "value does not look like a valid unicast MAC address"),
    "ipv4": simple(is_ipv4, "value does not look like a valid IPv4 address"),
    "ipv6": simple(is_ipv6, "value does not look like a valid IPv6 address"),
    "ip": simple(is_ip, "value does not look like a valid IP address"),
    "CIDRv4": simple(is_cidrv4, "value does not look like a valid IPv4 CIDR network"),
    "CIDRv6": simple(is_cidrv6, "value does not look like a valid IPv6 CIDR network"),
    "CIDR": simple(is_cidr, "value does not look like a valid CIDR network"),
    "dns-name": simple(is_dns_name, "value does not look like a valid DNS name"),
    "address": simple(lambda v: is_ip(v) or is_dns_name(v),
                      "value does not look like a valid address: {value}"),
    "pve-iface": simple(lambda v: _full(r"[a-z][a-z0-9_]{1,20}([:.]\d+)?", v, re.I),
                        "invalid network interface name '{value}'"),
    "pve-vlan-id-or-range": verify_vlan,
    "pve-tag": simple(lambda v: _full(_TAG_RE, v), "invalid characters in tag"),
    "pve-startup-order": verify_startup,
    "pve-storage-content": simple(lambda v: v in STORAGE_CONTENT, "invalid content type '{value}'"),
    "pve-volume-id": verify_volume_id,
    "pve-volume-id-or-absolute-path": verify_volume_or_path,
    "pve-volume-id-or-qm-path": lambda v: None if v in ("none", "cdrom")
    else verify_volume_or_path(v),
    "pve-qm-bootdev": verify_bootdev,
    "pve-qm-bootdisk": simple(is_drive_name, "invalid boot disk '{value}'"),
    "pve-sdn-vnet-id": sdn_id("vnet", 8),
    "pve-sdn-zone-id": sdn_id("zone", 8),
    "pve-sdn-dns-id": sdn_id("dns", None),
    "pve-sdn-ipam-id": sdn_id("ipam", None),
    "pve-sdn-subnet-id": verify_subnet_id,
    "pve-sdn-bgp-rt": verify_bgp_rt,
    "pve-task-status-type": simple(lambda v: _full(r"ok|error|warning|unknown", v, re.I),
                                   "invalid status '{value}'"),
}

# Named property-string formats (qemu-server's $boot_fmt, ...), same shape as inline ones.
HASH_FORMATS: dict[str, dict[str, Any]] = {
    "pve-qm-boot": {
        "legacy": {"optional": 1, "default_key": 1, "type": "string", "pattern": "[acdn]{1,4}"},
        "order": {"optional": 1, "type": "string", "format": "pve-qm-bootdev-list"},
    },
    "pve-qm-ipconfig": {
        "ip": {"optional": 1, "type": "string", "format": "pve-ipv4-config"},
        "gw": {"optional": 1, "type": "string", "format": "ipv4"},
        "ip6": {"optional": 1, "type": "string", "format": "pve-ipv6-config"},
        "gw6": {"optional": 1, "type": "string", "format": "ipv6"},
    },
}
VERIFIERS["pve-ipv4-config"] = simple(lambda v: v in ("dhcp", "manual") or is_cidrv4(v),
                                      "value does not look like a valid ipv4 network configuration")
VERIFIERS["pve-ipv6-config"] = simple(lambda v: v in ("auto", "dhcp", "manual") or is_cidrv6(v),
                                      "value does not look like a valid ipv6 network configuration")


def split_format_name(name: str) -> tuple[str, str]:
    """``pve-tag-list`` -> (``pve-tag``, ``list``), as JSONSchema::check_format does."""
    match = re.fullmatch(r"(.*?)(?:-(list|opt))?", name)
    assert match is not None
    return match.group(1), match.group(2) or "none"
