"""Host-wide kernel limits a big netns lab can reach: its namespaces share them.

The neighbour (ARP) table is one for the whole host (its gc_thresh sysctls exist only in the
host's namespace); past gc_thresh3 entries the kernel refuses new ones and drops the packets
waiting on them ("neighbor table overflow" in dmesg): BGP sessions of a thousand-node lab
stay in Connect. Raising it is the user's call, on their host: preflight says how.
"""

from __future__ import annotations

from pathlib import Path

from nativek8s.api import Plan

NEIGH = Path("/proc/sys/net/ipv4/neigh/default")
ARP_STATS = Path("/proc/net/stat/arp_cache")


def neighbour_entries_needed(plan: Plan) -> int:
    """About how many neighbour entries the lab makes, over all its namespaces: a node
    and its router know each other, so do a node and its pod (4 a node); both ends of each
    session between routers (2); a router and the routers it forwards to (4 a router, for
    verify's probes and what a user sends)."""
    routers = {r.name for r in plan.routers}
    between_routers = sum(1 for s in plan.sessions
                          if s.a.machine in routers and s.b.machine in routers)
    return 4 * len(plan.nodes) + 2 * between_routers + 4 * len(plan.routers)


def _entries_in_use() -> int:
    """The table's entries now (the first column of any row, in hex)."""
    lines = ARP_STATS.read_text().splitlines()
    return int(lines[1].split()[0], 16) if len(lines) > 1 else 0


def neighbour_table_problem(plan: Plan) -> str | None:
    """What to do when the lab would overflow the host's neighbour table; None if it fits
    (or the limits cannot be read: nothing to say then)."""
    try:
        limit = int((NEIGH / "gc_thresh3").read_text())
        used = _entries_in_use()
    except (OSError, ValueError, IndexError):
        return None
    needed = neighbour_entries_needed(plan)
    if used + needed <= limit:
        return None
    want = 1 << (2 * (used + needed) - 1).bit_length()  # a power of two, twice what is needed
    return (f"the lab needs about {needed} neighbour (ARP) entries and this host's table holds "
            f"at most {limit} ({used} in use; net.ipv4.neigh.default.gc_thresh3, one table "
            "for every namespace): past it the kernel drops packets and BGP sessions never "
            f"come up. Raise it first: sysctl -w net.ipv4.neigh.default.gc_thresh3={want} "
            f"net.ipv4.neigh.default.gc_thresh2={want // 2}")
