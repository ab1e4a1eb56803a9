"""`options.libvirt` is validated with the topology: bad values name their YAML path."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest
import yaml

from nativek8s.core.load import parse_topology
from nativek8s.core.validate import check_topology
from nativek8s.plugins.hypervisors.libvirt.options import options_of, wan_cidr

from .libvirt_lab import make_plan, topology


def _problems(registry, data) -> list[str]:
    topo, _ = parse_topology(yaml.safe_dump(data), "test")
    errors, _ = check_topology(topo, registry)
    return [f"{p.path}: {p.message}" for p in errors]


@pytest.mark.parametrize(("options", "expected"), [
    ({"wan": "bridge"}, "options.libvirt: wan: bridge needs wan_device (the host bridge to use)"),
    ({"wan": "macvtap"}, "options.libvirt: wan: macvtap needs wan_device (the host interface"),
    ({"wan_device": "br0"}, "options.libvirt: wan_device is only for wan: bridge or wan: macvtap"),
    ({"domain_type": "xen"}, "options.libvirt.domain_type: Input should be 'auto', 'kvm' or 'qemu'"),
    ({"node_memory_mib": 64},
     "options.libvirt.node_memory_mib: Input should be greater than or equal to 128"),
    ({"wan_cidr": "10.0.0.300/24"}, "options.libvirt.wan_cidr: "),
    ({"memory": 1}, "options.libvirt.memory: unknown option; libvirt takes: uri, pool, domain_type"),
])
def test_bad_options(registry, options, expected):
    problems = _problems(registry, topology(**options))
    assert any(p.startswith(expected) for p in problems), problems


def test_datacentre_options_override_and_lab_wide_ones_do_not(registry):
    data = topology(wan_cidr="192.168.50.0/24", router_cpus=2)
    data["datacentres"]["dc2"]["options"] = {"libvirt": {
        "router_cpus": 4, "wan_cidr": "192.168.60.0/24", "pool": "elsewhere"}}
    plan = make_plan(registry, {"datacentres": data["datacentres"]},
                     wan_cidr="192.168.50.0/24", router_cpus=2)
    assert options_of(plan, "dc1").router_cpus == 2
    assert options_of(plan, "dc2").router_cpus == 4
    assert options_of(plan, "dc2").wan_cidr == IPv4Network("192.168.50.0/24")
    assert options_of(plan, "dc2").pool is None
    assert wan_cidr(plan) == IPv4Network("192.168.50.0/24")


def test_default_wan_subnet_is_stable_per_lab(registry):
    a, b = (wan_cidr(make_plan(registry, {"name": n})) for n in ("reference", "other"))
    assert a == wan_cidr(make_plan(registry))
    assert a.prefixlen == b.prefixlen == 24
    assert a.subnet_of(IPv4Network("192.168.128.0/17"))
    assert b.subnet_of(IPv4Network("192.168.128.0/17"))
