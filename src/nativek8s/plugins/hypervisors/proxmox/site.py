"""Everything a deploy, destroy or preflight needs to know about the cluster, gathered once:
the connection, each datacentre's options and node, the SDN the lab needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from nativek8s.api import Plan, UsageError

from .connection import ApiError, Connection, host_of, load_token
from .layout import Layout, make_layout
from .options import ProxmoxOptions, all_options
from .sdn import SdnSpec, sdn_spec


@dataclass
class Site:
    plan: Plan
    conn: Connection
    options: dict[str, ProxmoxOptions]  # datacentre → options
    layout: Layout
    sdn: SdnSpec

    @property
    def main(self) -> ProxmoxOptions:
        """Options that must be the same lab-wide (host, token, timeouts): the top level's."""
        return next(iter(self.options.values()))

    def options_of(self, machine_dc: str) -> ProxmoxOptions:
        return self.options[machine_dc]


def lab_options(plan: Plan) -> dict[str, ProxmoxOptions]:
    """Datacentre → options; refuses a lab spread over several clusters or tokens."""
    options = all_options(plan)
    if not options:
        raise UsageError(f"lab {plan.lab} has no datacentre on the proxmox hypervisor")
    hosts = {(o.host, o.token_file, o.verify_tls, o.ca_file) for o in options.values()}
    if len(hosts) > 1:
        raise UsageError("every datacentre of a lab must use the same Proxmox cluster: set "
                         "host, token_file, verify_tls and ca_file under options.proxmox, not "
                         "per datacentre")
    return options


def connect(plan: Plan) -> tuple[Connection, dict[str, ProxmoxOptions]]:
    options = lab_options(plan)
    first = next(iter(options.values()))
    host_of(first)  # a missing host is said before the token is looked for
    return Connection(first, load_token(first)), options


def vxlan_peers(conn: Connection, options: dict[str, ProxmoxOptions]) -> dict[str, str]:
    """Node → underlay address: from options.vxlan_peers, else the cluster status."""
    peers: dict[str, str] = {}
    for opts in options.values():
        peers.update(opts.vxlan_peers or {})
    if peers:
        return peers
    try:
        status = conn.get("/cluster/status") or []
    except ApiError as exc:
        if exc.status != 403:
            raise
        return {}  # sdn_spec then says which addresses are missing and how to give them
    return {str(e["name"]): str(e["ip"]) for e in status
            if e.get("type") == "node" and e.get("ip")}


def gather(plan: Plan, conn: Connection | None = None) -> Site:
    if conn is None:
        conn, options = connect(plan)
    else:
        options = lab_options(plan)
    nodes = [str(n["node"]) for n in conn.get("/nodes") or []]
    layout = make_layout(plan, options, sorted(nodes))
    peers = vxlan_peers(conn, options) if layout.zone_type == "vxlan" else None
    return Site(plan, conn, options, layout, sdn_spec(plan, layout, peers))
