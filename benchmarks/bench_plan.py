"""Plan a 100-datacentre x 10-node lab, and time `nativek8s --help` against a bare Python.

Prints medians; no thresholds (see docs/benchmarks.md for recorded numbers). Run from the
project root:  PYTHONPATH=src python benchmarks/bench_plan.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from nativek8s.core.plan import build_plan
from nativek8s.core.topology import Topology
from nativek8s.core.validate import check_topology

DATACENTRES, NODES_PER_DC = 100, 10


def big_topology(dcs: int = DATACENTRES, per_dc: int = NODES_PER_DC) -> Topology:
    """LANs 10.0.N.0/24 and pods 10.128.0.0/10 in /24s: no overlap with services or peering."""
    datacentres = {
        f"dc{d}": {
            "lan": f"10.0.{d}.0/24",
            "nodes": {
                f"dc{d}-node-{k}": {"role": "controlplane" if d == k == 1 else "worker"}
                for k in range(1, per_dc + 1)
            },
        }
        for d in range(1, dcs + 1)
    }
    return Topology.model_validate({
        "name": "bench", "datacentres": datacentres,
        "networks": {"pods": "10.128.0.0/10", "pod_mask": 24},
    })


def _median(fn, runs: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(runs):
        start = clock()
        fn()
        times.append(clock() - start)
    return statistics.median(times)


def _timed(label: str, fn, runs: int) -> None:
    """Wall time, and this process's CPU time (steadier on a shared, busy machine)."""
    wall, cpu = _median(fn, runs), _median(fn, runs, time.process_time)
    print(f"{label:<31}median {wall * 1000:5.0f} ms wall, {cpu * 1000:5.0f} ms CPU "
          f"over {runs} runs")


def _median_wall(argv: list[str], runs: int, env: dict[str, str]) -> float:
    def once() -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    once()  # warm the OS file cache
    return _median(once, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    topo = big_topology()
    errors, _ = check_topology(topo)
    assert not errors, errors
    plan = build_plan(topo)
    routes = sum(len(m.routes) for m in plan.machines)
    print(f"topology: {DATACENTRES} datacentres x {NODES_PER_DC} nodes = {len(plan.nodes)} nodes, "
          f"{len(plan.routers)} routers, {len(plan.sessions)} BGP sessions, {routes} expected routes")
    _timed("validate (cross-field checks):", lambda: check_topology(topo), args.runs)
    _timed("build_plan:", lambda: build_plan(topo), args.runs)
    _timed("plan -> JSON:", plan.model_dump_json, args.runs)

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    bare = _median_wall([sys.executable, "-c", "pass"], args.runs, env)
    helps = _median_wall([sys.executable, "-m", "nativek8s.core.cli.main", "--help"], args.runs,
                         env)
    print(f"python -c pass:                median {bare * 1000:5.0f} ms wall")
    print(f"nativek8s --help:              median {helps * 1000:5.0f} ms wall "
          f"({helps / bare:.2f}x bare python, +{(helps - bare) * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
