"""What frr.conf cannot hold, found before anything is rendered: located problems."""

from __future__ import annotations

from nativek8s.api import Problem, Topology

from .config import password_problem


def topology_problems(topology: Topology) -> list[Problem]:
    out: list[Problem] = []
    bgp = topology.bgp
    if bgp.password_file is not None and bgp.password_file.is_file():
        problem = password_problem(bgp.password_file.read_text().strip())
        if problem:
            out.append(Problem("bgp.password_file", f"the password in {bgp.password_file} "
                                                    f"{problem}"))
    for dc, spec in topology.datacentres.items():
        for router in spec.routers or {}:
            if not router.replace("-", "").replace("_", "").isalnum():
                out.append(Problem(f"datacentres.{dc}.routers.{router}",
                                   "FRR's hostname and list names take letters, digits, "
                                   "'-' and '_' only; rename the router"))
    return out
