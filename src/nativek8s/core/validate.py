"""Cross-field rules of a topology: every problem at once, each with its YAML path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from ipaddress import IPv4Network
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from .errors import Problem
from .kinds import CNI, KIND_TITLES, KINDS, implements
from .plan.build import FIRST_NODE_HOST, PROBE_POD_HOST, lan_of, router_names
from .plan.naming import IFNAMSIZ
from .topology import Role, Topology

if TYPE_CHECKING:
    from .registry import Registry

DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
MAX_LAB_NAME = IFNAMSIZ - len("-peer")  # "<lab>-peer" must fit a bridge name
PRIVATE_ASNS = ((64512, 65534), (4200000000, 4294967294))
# IANA special-purpose AS numbers (RFC 7607, 6793, 5398, 7300) and the unallocated block.
RESERVED_ASNS = {0: "reserved (RFC 7607)", 23456: "AS_TRANS (RFC 6793)",
                 65535: "reserved (RFC 7300)", 4294967295: "reserved (RFC 7300)"}
DOC_ASNS = ((64496, 64511), (65536, 65551))  # RFC 5398
IANA_RESERVED_ASNS = (65552, 131071)


def check_topology(topo: Topology, registry: Registry | None = None) -> tuple[
        list[Problem], list[Problem]]:
    """(errors, warnings) of a structurally valid topology; lines are filled in later."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    errors += _names(topo)
    errors += _addresses(topo)
    asn_errors, asn_warnings = _asns(topo)
    errors += asn_errors
    warnings += asn_warnings
    errors += _roles(topo)
    errors += _bgp(topo)
    if registry is not None:
        errors += _plugins(topo, registry)
    return errors, warnings


def _label_problem(path: str, name: str, what: str, max_len: int) -> Problem | None:
    if not DNS_LABEL.match(name):
        return Problem(path, f"{what} {name!r} is not a DNS label: use lower-case letters, digits "
                             "and '-', starting with a letter and not ending with '-'")
    if len(name) > max_len:
        return Problem(path, f"{what} {name!r} is {len(name)} characters; at most {max_len} fit "
                             "(names are prefixed by the lab name in interface and VM names)")
    return None


def _names(topo: Topology) -> list[Problem]:
    out: list[Problem] = []
    lab = topo.name
    if p := _label_problem("name", lab, "lab name", MAX_LAB_NAME):
        out.append(p)
    # "<lab>-<dc>" names the datacentre's bridge: it must fit IFNAMSIZ.
    prefix = min(len(lab), MAX_LAB_NAME)  # an over-long lab name is reported once, above
    dc_max = IFNAMSIZ - prefix - 1
    machine_max = 63 - prefix - 1
    seen: dict[str, str] = {}
    reserved = {"peer", "peering", "wan"}
    for index, (dc, spec) in enumerate(topo.datacentres.items(), start=1):
        path = f"datacentres.{dc}"
        if p := _label_problem(path, dc, "datacentre name", dc_max):
            out.append(p)
        elif dc in reserved:
            out.append(Problem(path, f"datacentre name {dc!r} is reserved for the lab's own "
                                     "networks; choose another"))
        machines = [(f"{path}.routers.{r}", r) for r in router_names(dc, spec, index)] + [
            (f"{path}.nodes.{n}", n) for n in spec.nodes]
        if spec.routers is not None and not spec.routers:
            out.append(Problem(f"{path}.routers", "a datacentre needs at least one router; "
                                                  "remove the key for the default one"))
        for mpath, name in machines:
            if p := _label_problem(mpath, name, "machine name", machine_max):
                out.append(p)
            elif name in seen:
                out.append(Problem(mpath, f"machine name {name!r} is already used at "
                                          f"{seen[name]}; machine names are unique per lab"))
            else:
                seen[name] = mpath
    return out


def _networks(topo: Topology) -> Iterator[tuple[str, IPv4Network]]:
    # Shared ranges first: an overlap is then reported at the LAN, which the user wrote.
    yield ("networks.peering", topo.networks.peering)
    yield ("networks.pods", topo.networks.pods)
    yield ("networks.services", topo.networks.services)
    for index, (dc, spec) in enumerate(topo.datacentres.items(), start=1):
        if spec.lan is None and index > 255:
            continue  # reported by _addresses
        yield (f"datacentres.{dc}.lan", lan_of(spec, index))


# Ranges a lab cannot use: packets to them never leave a host, or are not unicast.
SPECIAL_RANGES = (
    (IPv4Network("0.0.0.0/8"), "'this network' range 0.0.0.0/8"),
    (IPv4Network("127.0.0.0/8"), "loopback range 127.0.0.0/8"),
    (IPv4Network("169.254.0.0/16"), "link-local range 169.254.0.0/16"),
    (IPv4Network("224.0.0.0/4"), "multicast range 224.0.0.0/4"),
    (IPv4Network("240.0.0.0/4"), "reserved range 240.0.0.0/4"),
)
TCP_MD5_MAX_KEY = 80  # bytes: Linux's TCP_MD5SIG_MAXKEYLEN


def _special(path: str, net: IPv4Network) -> Problem | None:
    for special, what in SPECIAL_RANGES:
        if net.overlaps(special):
            return Problem(path, f"{net} reaches into the {what}, which cannot carry the lab's "
                                 "traffic; use a private range such as 10.0.0.0/8, "
                                 "172.16.0.0/12 or 192.168.0.0/16")
    return None


def _addresses(topo: Topology) -> list[Problem]:
    out: list[Problem] = []
    nets = topo.networks
    for path, net in _networks(topo):
        if p := _special(path, net):
            out.append(p)
    for index, (dc, spec) in enumerate(topo.datacentres.items(), start=1):
        if spec.lan is None and index > 255:
            out.append(Problem(f"datacentres.{dc}", "no default LAN beyond the 255th datacentre "
                                                   "(10.N.0.0/24); give this one a `lan`"))
    named = list(_networks(topo))
    for i, (path_a, net_a) in enumerate(named):
        for path_b, net_b in named[i + 1:]:
            if net_a.overlaps(net_b):
                out.append(Problem(path_b, f"{net_b} overlaps {path_a} ({net_a}); every LAN, the "
                                           "peering network, pods and services need separate "
                                           "ranges"))
    for index, (dc, spec) in enumerate(topo.datacentres.items(), start=1):
        if spec.lan is None and index > 255:
            continue
        lan = lan_of(spec, index)
        routers = len(router_names(dc, spec, index))
        nodes = len(spec.nodes)
        room = lan.num_addresses - 1 - FIRST_NODE_HOST  # .10 up to the last before broadcast
        if routers > FIRST_NODE_HOST - 1:
            out.append(Problem(f"datacentres.{dc}.routers", f"{routers} routers; at most "
                                f"{FIRST_NODE_HOST - 1} fit (.1 to .{FIRST_NODE_HOST - 1}); "
                                "remove some"))
        elif routers > lan.num_addresses - 2:
            out.append(Problem(f"datacentres.{dc}.lan", f"{lan} has room for "
                               f"{max(lan.num_addresses - 2, 0)} routers but {dc} has {routers}; "
                               "use a larger LAN (a /24 is usual)"))
        if nodes > max(room, 0):
            out.append(Problem(f"datacentres.{dc}.lan", f"{lan} has room for {max(room, 0)} "
                               f"nodes (from .{FIRST_NODE_HOST}) but {dc} has {nodes}; use a "
                               "larger LAN"))
    if not nets.pods.prefixlen <= nets.pod_mask <= 32 - 5:
        out.append(Problem("networks.pod_mask", f"/{nets.pod_mask} does not fit: it must be "
                           f"between the pod CIDR's /{nets.pods.prefixlen} and /27 (each node "
                           f"needs room for its pods; verify uses .{PROBE_POD_HOST})"))
    else:
        total = sum(len(s.nodes) for s in topo.datacentres.values())
        slots = 1 << (nets.pod_mask - nets.pods.prefixlen)
        if total > slots:
            out.append(Problem("networks.pods", f"{nets.pods} holds {slots} PodCIDRs of "
                               f"/{nets.pod_mask} but the lab has {total} nodes; use a larger "
                               "pod CIDR or a longer pod_mask"))
    routers = sum(len(router_names(dc, s, i))
                  for i, (dc, s) in enumerate(topo.datacentres.items(), start=1))
    if routers > nets.peering.num_addresses - 2:
        out.append(Problem("networks.peering", f"{nets.peering} has room for "
                           f"{nets.peering.num_addresses - 2} routers but the lab has {routers}; "
                           "use a larger peering network"))
    return out


def _asn_kind(asn: int) -> tuple[str, str]:
    """("reserved" | "private" | "public", what to call it in a message)."""
    if asn in RESERVED_ASNS:
        return "reserved", RESERVED_ASNS[asn]
    if any(lo <= asn <= hi for lo, hi in DOC_ASNS):
        return "reserved", "reserved for documentation (RFC 5398)"
    if IANA_RESERVED_ASNS[0] <= asn <= IANA_RESERVED_ASNS[1]:
        return "reserved", "reserved by IANA"
    if any(lo <= asn <= hi for lo, hi in PRIVATE_ASNS):
        return "private", "private"
    return "public", "public"


def _asns(topo: Topology) -> tuple[list[Problem], list[Problem]]:
    errors, warnings = [], []
    for key in ("routers", "cluster"):
        asn = getattr(topo.asn, key)
        path = f"asn.{key}"
        if not 0 <= asn <= 4294967295:
            errors.append(Problem(path, f"{asn} is not an AS number (0 to 4294967295); pick a "
                                        "private ASN (64512-65534)"))
            continue
        kind, title = _asn_kind(asn)
        if kind == "reserved":
            errors.append(Problem(path, f"AS {asn} is {title} and cannot be used; pick a private "
                                        "ASN (64512-65534 or 4200000000-4294967294)"))
        elif kind == "public":
            warnings.append(Problem(path, f"AS {asn} is a public ASN, owned by someone; a lab "
                                          "normally uses a private one (64512-65534)"))
    if topo.asn.routers == topo.asn.cluster:
        errors.append(Problem("asn.cluster", f"the cluster uses the routers' AS {topo.asn.routers};"
                              " use a different ASN, or routes will not propagate (BIRD assumes "
                              "routers in one AS already reach each other)"))
    return errors, warnings


def _roles(topo: Topology) -> list[Problem]:
    nodes = [(dc, n, s) for dc, spec in topo.datacentres.items() for n, s in spec.nodes.items()]
    if not nodes:
        return [Problem("datacentres", "the lab has no nodes; add nodes to a datacentre")]
    if not any(s is not None and s.role == Role.controlplane for _, _, s in nodes):
        dc, name, _ = nodes[0]
        return [Problem(f"datacentres.{dc}.nodes", "no control-plane node; give one node "
                        f"`role: controlplane` (e.g. {name})")]
    return []


def _bgp(topo: Topology) -> list[Problem]:
    bgp, out = topo.bgp, []
    if bgp.hold_time != 0 and not 3 <= bgp.hold_time <= 65535:
        out.append(Problem("bgp.hold_time", f"{bgp.hold_time} s is not a hold time: use 0 (no "
                           "keepalives) or 3-65535 s; 9 suits a lab"))
    if not 1 <= bgp.keepalive_time or (bgp.hold_time and bgp.keepalive_time >= bgp.hold_time):
        out.append(Problem("bgp.keepalive_time", f"{bgp.keepalive_time} s: must be at least 1 s "
                           f"and below the hold time ({bgp.hold_time} s); a third of it is usual"))
    if not 1 <= bgp.connect_retry <= 65535:
        out.append(Problem("bgp.connect_retry", f"{bgp.connect_retry} s is out of range: use "
                           "1-65535 s; 5 suits a lab"))
    if bgp.full_mesh_max_routers < 2:
        out.append(Problem("bgp.full_mesh_max_routers", f"{bgp.full_mesh_max_routers} is too "
                           "small: route reflection needs 2 reflectors; use 2 or more"))
    if bgp.password_file is not None:
        path = bgp.password_file.expanduser()
        if not path.is_file():
            out.append(Problem("bgp.password_file", f"{path} does not exist; write the password "
                                                    "into it (mode 0600) or remove the key"))
        elif path.stat().st_mode & 0o077:
            out.append(Problem("bgp.password_file", f"{path} is readable by its group or "
                                                    f"others; run `chmod 600 {path}`"))
        elif p := _password_problem(path):
            out.append(p)
    return out


def _password_problem(path: Path) -> Problem | None:
    """The TCP-MD5 key as the secret store reads it (one line, surrounding blanks dropped):
    never echoed, only measured."""
    try:
        value = path.read_bytes().strip()
    except OSError as exc:
        return Problem("bgp.password_file", f"cannot read {path}: {exc.strerror}")
    if not value:
        return Problem("bgp.password_file", f"{path} is empty; write the password into it")
    if len(value) > TCP_MD5_MAX_KEY:
        return Problem("bgp.password_file", f"the password in {path} is {len(value)} bytes; "
                                            f"Linux takes at most {TCP_MD5_MAX_KEY} for TCP-MD5")
    if any(b < 0x20 or b == 0x7F for b in value):
        return Problem("bgp.password_file", f"the password in {path} holds a control character "
                                            "or a line break; keep it to one line of text")
    return None


def _plugins(topo: Topology, registry: Registry) -> list[Problem]:
    out: list[Problem] = []
    for kind in KINDS:
        name = getattr(topo.plugins, kind)
        if name not in registry.names(kind):
            out.append(Problem(f"plugins.{kind}", f"no {KIND_TITLES[kind]} plugin is named "
                                                  f"{name!r}; choose one of: "
                                                  f"{registry.choices(kind)}"))
    for dc, spec in topo.datacentres.items():
        if spec.hypervisor and spec.hypervisor not in registry.names("hypervisor"):
            out.append(Problem(f"datacentres.{dc}.hypervisor", f"no hypervisor plugin is "
                               f"named {spec.hypervisor!r}; choose one of: "
                               f"{registry.choices('hypervisor')}"))
    scopes = [("options", topo.options)] + [
        (f"datacentres.{dc}.options", spec.options) for dc, spec in topo.datacentres.items()]
    known = {r.name: r for r in registry.all()}
    for base, options in scopes:
        for plugin, values in options.items():
            found = known.get(plugin)
            if found is None:
                out.append(Problem(f"{base}.{plugin}", f"no installed plugin is named {plugin!r}"
                                   f"; fix the name or install the plugin (installed: "
                                   f"{', '.join(sorted(known)) or 'none'})"))
                continue
            if found.spec.options is None:
                out.append(Problem(f"{base}.{plugin}", f"plugin {plugin!r} takes no options; "
                                                       "remove this key"))
                continue
            try:
                found.spec.options.model_validate(values or {})
            except ValidationError as exc:
                for err in exc.errors():
                    sub = ".".join(str(p) for p in err["loc"])
                    msg = err["msg"].removeprefix("Value error, ")
                    if err["type"] == "extra_forbidden":
                        fields = ", ".join(found.spec.options.model_fields)
                        msg = f"unknown option; {plugin} takes: {fields}"
                    out.append(Problem(f"{base}.{plugin}.{sub}".rstrip("."), msg))
    return out


def check_requirements(topo: Topology, registry: Registry) -> list[Problem]:
    """What each chosen hypervisor needs of the other roles' plugins (netns: a router OS
    that says how to run its daemon in a namespace), checked before anything is made."""
    out: list[Problem] = []
    hypervisors = {topo.plugins.hypervisor, *(s.hypervisor for s in topo.datacentres.values()
                                              if s.hypervisor)}
    runs_speakers = False
    for hyp_name in sorted(hypervisors):
        hyp = registry.create("hypervisor", hyp_name)
        runs_speakers |= "cni" in getattr(hyp, "emulates", ())
        for role, members in getattr(hyp, "requires", {}).items():
            name = getattr(topo.plugins, role)
            plugin = registry.create(role, name)
            missing = [m for m in members if not implements(plugin, m)]
            if missing:
                out.append(Problem(
                    f"plugins.{role}",
                    f"the {hyp_name} hypervisor cannot run the {KIND_TITLES[role]} plugin "
                    f"{name!r}: it does not implement {', '.join(missing)} (how to run its "
                    f"daemon there); choose another {KIND_TITLES[role]} with --{role} or "
                    f"another hypervisor with --hypervisor"))
    return out + (_bgp_intent(topo, registry) if runs_speakers else [])


def _bgp_intent(topo: Topology, registry: Registry) -> list[Problem]:
    """A hypervisor that emulates the CNI (netns) runs each node's BGP speaker from the CNI's
    intent: a CNI that cannot give it is refused now, not half-way through a deploy."""
    from .plan import build_plan

    name = topo.plugins.cni
    plan = build_plan(topo)
    try:
        cni = registry.create("cni", name)
        assert isinstance(cni, CNI)  # the registry checks each object against its kind
        intents = cni.bgp_intent(plan) or []
    except Exception as exc:  # a plugin's bug: say whose
        return [Problem("plugins.cni", f"the CNI plugin {name!r} failed to give BGP intent: "
                                       f"{exc}; fix the plugin or choose another with --cni")]
    given = {getattr(i, "node", None) for i in intents}
    missing = [n.name for n in plan.nodes if n.name not in given]
    if missing:
        return [Problem("plugins.cni", f"the CNI plugin {name!r} gives no BGP intent for "
                                       f"{', '.join(missing)}; a lab needs each node's BGP "
                                       "speaker: fix the plugin or choose another with --cni")]
    return []
