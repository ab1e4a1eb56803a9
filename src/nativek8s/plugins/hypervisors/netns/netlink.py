"""A namespace's routes, policy rules and links read over rtnetlink, in this process.

What `ip -j -4 route show`, `ip -j -4 rule show` and `ip -j -d link show` print, without
an `ip` process per question: a lab of a thousand machines has every table read on each
verify, and a process costs ~3 ms of CPU where a netlink dump costs ~0.1 ms. The socket
is opened in a thread that entered the namespace (inns), so it reads that namespace's
tables and nothing else. Message layouts: linux/netlink.h, rtnetlink.h, fib_rules.h,
if_link.h.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from nativek8s.api import KernelRoute, NativeK8sError

from .inns import in_namespace

NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
RTM_GETLINK, RTM_NEWLINK, RTM_GETROUTE, RTM_NEWROUTE = 18, 16, 26, 24
RTM_GETRULE, RTM_NEWRULE = 34, 32
AF_INET = socket.AF_INET
RT_TABLE_MAIN = 254
_HDR = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port
_RTMSG = struct.Struct("=BBBBBBBBI")  # rtmsg and fib_rule_hdr have the same layout
_IFINFO = struct.Struct("=BxHiII")
_RTA = struct.Struct("=HH")
_NEXTHOP = struct.Struct("=HBBi")

# rtattr types
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_MULTIPATH, RTA_TABLE = 1, 4, 5, 6, 9, 15
FRA_DST, FRA_SRC, FRA_IIFNAME, FRA_PRIORITY, FRA_FWMARK = 1, 2, 3, 6, 10
FRA_SUPPRESS_IFGROUP, FRA_SUPPRESS_PREFIXLEN, FRA_FWMASK = 13, 14, 16
FRA_TABLE, FRA_OIFNAME, FRA_PROTOCOL = 15, 17, 21
_UNSET = b"\xff\xff\xff\xff"  # -1 (suppress_*) or all ones (fwmask): what ip leaves out
IFLA_IFNAME, IFLA_LINKINFO, IFLA_INFO_KIND = 3, 18, 1
FR_ACT_TO_TBL = 1

ROUTE_TYPES = {1: "unicast", 2: "local", 3: "broadcast", 4: "anycast", 5: "multicast",
               6: "blackhole", 7: "unreachable", 8: "prohibit", 9: "throw", 10: "nat"}
RULE_ACTIONS = {2: "goto", 3: "nop", 6: "blackhole", 7: "unreachable", 8: "prohibit"}
TABLES = {253: "default", 254: "main", 255: "local"}
LINK_TYPES = {1: "ether", 772: "loopback", 65534: "none"}
# iproute2's built-in names for route protocols (lib/rt_names.c), before its config files.
PROTOCOLS = {0: "unspec", 1: "redirect", 2: "kernel", 3: "boot", 4: "static", 8: "gated",
             9: "ra", 10: "mrt", 11: "zebra", 12: "bird", 13: "dnrouted", 14: "xorp",
             15: "ntk", 16: "dhcp", 18: "keepalived", 42: "babel", 99: "openr", 186: "bgp",
             187: "isis", 188: "ospf", 189: "rip", 192: "eigrp"}
_NAMES_DIRS = (Path("/usr/share/iproute2"), Path("/etc/iproute2"))  # later wins, as in ip


def protocol_names() -> dict[int, str]:
    """Route protocol numbers → the words `ip route` prints: its built-in table, then
    rt_protos and rt_protos.d/*.conf of /usr/share/iproute2 and /etc/iproute2."""
    names = dict(PROTOCOLS)
    for folder in _NAMES_DIRS:
        files = [folder / "rt_protos", *sorted((folder / "rt_protos.d").glob("*.conf"))]
        for path in files:
            try:
                text = path.read_text()
            except OSError:
                continue
            for line in text.splitlines():
                parts = line.split("#", 1)[0].split()
                if len(parts) >= 2 and parts[0].isdigit():
                    names[int(parts[0])] = parts[1]
    return names


def _attrs(data: bytes, offset: int = 0) -> Iterator[tuple[int, bytes]]:
    while offset + 4 <= len(data):
        length, kind = _RTA.unpack_from(data, offset)
        if length < 4:
            break
        yield kind & 0x3FFF, data[offset + 4:offset + length]  # without NLA_F_NESTED etc.
        offset += (length + 3) & ~3


def _dump(namespace: str, request: int, payload: bytes) -> list[tuple[int, bytes]]:
    """Every message of one dump request, read inside the namespace: (type, body)."""
    def ask() -> list[tuple[int, bytes]]:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
            sock.bind((0, 0))
            sock.sendall(_HDR.pack(_HDR.size + len(payload), request,
                                   NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + payload)
            out: list[tuple[int, bytes]] = []
            while True:
                data = sock.recv(1 << 16)
                offset = 0
                while offset + _HDR.size <= len(data):
                    length, kind, _, _, _ = _HDR.unpack_from(data, offset)
                    body = data[offset + _HDR.size:offset + length]
                    if kind == NLMSG_DONE:
                        return out
                    if kind == NLMSG_ERROR:
                        err = -struct.unpack_from("=i", body)[0]
                        if err:
                            raise OSError(err, f"netlink dump in {namespace}")
                        return out
                    out.append((kind, body))
                    offset += (length + 3) & ~3

    try:
        return in_namespace(namespace, ask)
    except OSError as exc:
        raise NativeK8sError(f"reading the tables of namespace {namespace}: "
                             f"{exc.strerror or exc}") from None


def _ipv4_messages(namespace: str, request: int, reply: int
                   ) -> Iterator[tuple[tuple[int, ...], dict[int, bytes]]]:
    """Each reply to an IPv4 route or rule dump: (rtmsg/fib_rule_hdr fields, attributes)."""
    header = _RTMSG.pack(AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)
    for kind, body in _dump(namespace, request, header):
        if kind == reply:
            yield _RTMSG.unpack_from(body), dict(_attrs(body, _RTMSG.size))


def _links(namespace: str) -> list[tuple[int, str, str]]:
    """(index, name, kind) of every link; kind as `ip -d` calls it (its link kind, else
    its hardware type)."""
    out = []
    for kind, body in _dump(namespace, RTM_GETLINK, _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)):
        if kind != RTM_NEWLINK:
            continue
        _, hw, index, _, _ = _IFINFO.unpack_from(body)
        name, link_kind = "", LINK_TYPES.get(hw, str(hw))
        for attr, value in _attrs(body, _IFINFO.size):
            if attr == IFLA_IFNAME:
                name = value.split(b"\0", 1)[0].decode()
            elif attr == IFLA_LINKINFO:
                for sub, data in _attrs(value):
                    if sub == IFLA_INFO_KIND:
                        link_kind = data.split(b"\0", 1)[0].decode()
        out.append((index, name, link_kind))
    return out


def link_kinds(namespace: str) -> dict[str, str]:
    """Link name → kind ("veth", "bridge", "vxlan", ...; "loopback" for lo)."""
    return {name: kind for _, name, kind in _links(namespace)}


def routes(namespace: str, protocols: dict[int, str] | None = None) -> list[KernelRoute]:
    """The main table's IPv4 routes, as `ip -4 route show` lists them."""
    names = protocols if protocols is not None else protocol_names()
    ifnames = {index: name for index, name, _ in _links(namespace)}
    out = []
    for fields, attrs in _ipv4_messages(namespace, RTM_GETROUTE, RTM_NEWROUTE):
        family, dst_len, _, _, table, proto, _, rtype, _ = fields
        if RTA_TABLE in attrs:
            table = struct.unpack("=I", attrs[RTA_TABLE])[0]
        if family != AF_INET or table != RT_TABLE_MAIN:
            continue
        dst = IPv4Address(attrs[RTA_DST]) if RTA_DST in attrs else IPv4Address(0)
        via = [IPv4Address(attrs[RTA_GATEWAY])] if RTA_GATEWAY in attrs else []
        if RTA_MULTIPATH in attrs:
            via += _nexthops(attrs[RTA_MULTIPATH])
        oif = struct.unpack("=i", attrs[RTA_OIF])[0] if RTA_OIF in attrs else None
        out.append(KernelRoute(
            prefix=IPv4Network(f"{dst}/{dst_len}"), via=tuple(via),
            dev=ifnames.get(oif, str(oif)) if oif is not None else None,
            protocol=names.get(proto, str(proto)), kind=ROUTE_TYPES.get(rtype, str(rtype)),
            metric=struct.unpack("=I", attrs[RTA_PRIORITY])[0] if RTA_PRIORITY in attrs else 0))
    return out


def _nexthops(data: bytes) -> list[IPv4Address]:
    hops, offset = [], 0
    while offset + _NEXTHOP.size <= len(data):
        length = _NEXTHOP.unpack_from(data, offset)[0]
        if length < _NEXTHOP.size:
            break
        for attr, value in _attrs(data[offset + _NEXTHOP.size:offset + length]):
            if attr == RTA_GATEWAY:
                hops.append(IPv4Address(value))
        offset += (length + 3) & ~3
    return hops


def rules(namespace: str) -> list[dict]:
    """IPv4 policy rules with the keys `ip -j rule show` gives the kernel's own (priority,
    src, table); any other selector or action appears under a key of its own, so a rule
    that is not one of the kernel's defaults never looks like one."""
    out = []
    for fields, attrs in _ipv4_messages(namespace, RTM_GETRULE, RTM_NEWRULE):
        _, dst_len, src_len, tos, table, _, _, action, _ = fields
        rule: dict[str, object] = {
            "priority": struct.unpack("=I", attrs[FRA_PRIORITY])[0]
            if FRA_PRIORITY in attrs else 0,
            "src": str(IPv4Address(attrs[FRA_SRC])) if FRA_SRC in attrs else "all"}
        if src_len and FRA_SRC in attrs:
            rule["srclen"] = src_len
        if FRA_DST in attrs:
            rule.update(dst=str(IPv4Address(attrs[FRA_DST])), dstlen=dst_len)
        if tos:
            rule["tos"] = tos
        for attr, key in ((FRA_IIFNAME, "iif"), (FRA_OIFNAME, "oif")):
            if attr in attrs:
                rule[key] = attrs[attr].split(b"\0", 1)[0].decode()
        if FRA_FWMARK in attrs:
            rule["fwmark"] = hex(struct.unpack("=I", attrs[FRA_FWMARK])[0])
        for attr, key in ((FRA_SUPPRESS_PREFIXLEN, "suppress_prefixlen"),
                          (FRA_SUPPRESS_IFGROUP, "suppress_ifgroup"), (FRA_FWMASK, "fwmask")):
            if attrs.get(attr, _UNSET) != _UNSET:
                rule[key] = struct.unpack("=i", attrs[attr])[0]
        known = {FRA_PRIORITY, FRA_SRC, FRA_DST, FRA_IIFNAME, FRA_OIFNAME, FRA_FWMARK,
                 FRA_TABLE, FRA_PROTOCOL, FRA_SUPPRESS_PREFIXLEN, FRA_SUPPRESS_IFGROUP,
                 FRA_FWMASK}
        rule.update({f"attribute{a}": v.hex() for a, v in attrs.items() if a not in known})
        if action == FR_ACT_TO_TBL:
            number = struct.unpack("=I", attrs[FRA_TABLE])[0] if FRA_TABLE in attrs else table
            rule["table"] = TABLES.get(number, str(number))
        else:
            rule["action"] = RULE_ACTIONS.get(action, str(action))
        out.append(rule)
    return out
