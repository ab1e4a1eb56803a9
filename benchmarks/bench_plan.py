"""Plan a 100-datacentre x 10-node lab, and time `nativek8s --help` against a bare Python.

Prints medians, and each against its target; no thresholds (see docs/benchmarks.md for
recorded numbers). Run from the project root:
    PYTHONPATH=src python benchmarks/bench_plan.py [--runs N] [--datacentres 50 --nodes-per-dc 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from nativek8s.core.documents import render_plan
from nativek8s.core.plan import build_plan
from nativek8s.core.topology import Topology
from nativek8s.core.validate import check_topology

DATACENTRES, NODES_PER_DC = 100, 10
JSON_TARGET = 0.3  # s: the plan's JSON text, as `plan -o json` writes it (issue #17)
HELP_TARGET = 0.120  # s: `nativek8s --help` over a bare interpreter


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


def _timed(label: str, fn, runs: int) -> float:
    """Wall time, and this process's CPU time (steadier on a shared, busy machine)."""
    wall, cpu = _median(fn, runs), _median(fn, runs, time.process_time)
    print(f"{label:<31}median {wall * 1000:5.0f} ms wall, {cpu * 1000:5.0f} ms CPU "
          f"over {runs} runs")
    return wall


def _against(label: str, took: float, target: float) -> None:
    print(f"{label:<31}{took * 1000:5.0f} ms, target {target * 1000:.0f} ms: "
          f"{took / target:.2f}x the target")


def _median_wall(argv: list[str], runs: int, env: dict[str, str]) -> float:
    def once() -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    once()  # warm the OS file cache
    return _median(once, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--datacentres", type=int, default=DATACENTRES)
    parser.add_argument("--nodes-per-dc", type=int, default=NODES_PER_DC)
    args = parser.parse_args()

    topo = big_topology(args.datacentres, args.nodes_per_dc)
    errors, _ = check_topology(topo)
    assert not errors, errors
    plan = build_plan(topo)
    routes = sum(len(m.routes) for m in plan.machines)
    size = len(render_plan(plan, "json").encode())
    print(f"topology: {args.datacentres} datacentres x {args.nodes_per_dc} nodes = "
          f"{len(plan.nodes)} nodes, {len(plan.routers)} routers, {len(plan.sessions)} BGP "
          f"sessions, {routes} expected routes, {size / 1e6:.1f} MB of JSON")
    _timed("validate (cross-field checks):", lambda: check_topology(topo), args.runs)
    _timed("build_plan:", lambda: build_plan(topo), args.runs)
    to_json = _timed("plan -> JSON (plan -o json):", lambda: render_plan(plan, "json"),
                     args.runs)
    _against("  plan -> JSON vs target:", to_json, JSON_TARGET)

    # Children see this tree's code; they may write bytecode, as an installed package has it
    # (the warm-up run writes it), else every run would compile the package from source.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT / "src")
    cli = [sys.executable, "-m", "nativek8s.core.cli.main"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(yaml.safe_dump(topo.model_dump(mode="json", exclude_defaults=True),
                                       sort_keys=False))
        whole = _median_wall([*cli, "plan", "-f", str(path), "-o", "json"], args.runs, env)
    print(f"plan -o json, whole process:   median {whole * 1000:5.0f} ms wall "
          f"(start-up, YAML, checks, plan, JSON, writing it; JSON is {to_json / whole:.0%})")

    bare = _median_wall([sys.executable, "-c", "pass"], args.runs, env)
    helps = _median_wall([*cli, "--help"], args.runs, env)
    print(f"python -c pass:                median {bare * 1000:5.0f} ms wall")
    print(f"nativek8s --help:              median {helps * 1000:5.0f} ms wall "
          f"({helps / bare:.2f}x bare python, +{(helps - bare) * 1000:.0f} ms)")
    _against("  --help over bare vs target:", helps - bare, HELP_TARGET)


if __name__ == "__main__":
    main()
