"""netns backend against issue #17's targets, with its baseline measured in the same run.

Run as root from the project root (it measures this tree's src/):

    .venv/bin/python benchmarks/bench_netns.py [--rounds 10] [--big 50x20] [--fabric] [--vxlan]

Sections, in this order:
- reference lab: --rounds rounds (after --warmup untimed ones) alternating the hand-built
  prototype (benchmarks/prototype_lab.sh `up`, which exits at its first cross-datacentre pod
  ping, then `down`) with `nativek8s deploy` (which includes its verify) then `destroy`.
  Each is timed as a whole process: wall, and CPU of it and of the children it waited for
  (daemons left running are in neither side's CPU). Targets: deploy wall ≤ 1.2× the
  prototype's, max/min of deploy wall ≤ 1.3, deploy CPU ≤ 2× the prototype's.
- big lab (--big DCSxNODES, default 50x20, `off` to skip) with BIRD node speakers: deploy to
  verified, its verify part, a second `verify`, the memory (RSS, PSS) of every process in
  the lab's namespaces, destroy. Targets: ≤ 60 s to verified (whole deploy process), ≤ 1.5
  GiB PSS. The 50x20 lab loads both cores for a minute or more.
- --fabric (off by default: ~1 min): 10x10 with GoBGP, then with BIRD, node speakers.
- --vxlan (off by default: ~30 s): pod-to-pod throughput, latency and path MTU across the
  reference lab, native routing against a VXLAN overlay added by hand.
The `--help` and `plan -o json` targets of the issue are in benchmarks/bench_plan.py.

Every figure is printed against its target, then a summary table; nothing here is a
pass/fail threshold (the exit status only says whether the benchmark could run). Each lab
has a fresh name and a private state folder, and is removed even on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from labrun import (
    CLI,
    PROTOTYPE,
    ROOT,
    Failed,
    Run,
    Undo,
    checked,
    fresh_name,
    grid_topology,
    lab_memory,
    reference_topology,
    run,
    spread,
)

# Deploy's line "  1.32s verified in 0.97s: 36 passed, 0 failed" (core/engine/lab.py):
# seconds since deploy started (after its imports), then the verify part.
VERIFIED = re.compile(r"([\d.]+)s verified in ([\d.]+)s: (\d+ passed, \d+ failed[^\n]*)")
VERIFY_SUMMARY = re.compile(r"^verify \S+: (\d+ passed, \d+ failed[^\n]*)", re.M)
FIRST_PING = re.compile(r"first ping across datacentres after (-?[\d.]+) s")
GIB = 1024 * 1024  # KiB


@dataclass(frozen=True)
class Figure:
    """One of the issue's figures, for the summary table."""

    name: str
    value: float | None  # None: not measured (its command failed)
    target: float
    unit: str = ""

    def row(self) -> str:
        shown = "failed" if self.value is None else f"{self.value:.2f}{self.unit}"
        met = "met" if self.value is not None and self.value <= self.target else "NOT MET"
        target = f"≤ {self.target:g}{self.unit}"
        return f"{self.name:<46}{shown:>12}   {target:<12}{met}"


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), platform.processor())
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, "
            f"Linux {platform.release()}, load average {load}")


def versions(env: dict[str, str]) -> str:
    bird = run(["bird", "--version"], env).out.strip()
    gobgp = run(["gobgpd", "--version"], env).out.strip()
    return f"{bird}, {gobgp}"


def verified(deploy: Run) -> tuple[float, float, str]:
    """(s from deploy's start to verified, s of verify, check counts) from deploy's output."""
    m = VERIFIED.search(deploy.out)
    if not m:
        raise Failed("reading deploy's 'verified in' line", deploy)
    return float(m.group(1)), float(m.group(2)), m.group(3)


def ratio_line(what: str, mine: list[float], base_what: str, base: list[float],
               target: float) -> float:
    ratio = statistics.median(mine) / statistics.median(base)
    per_round = [a / b for a, b in zip(mine, base, strict=True)]
    print(f"{what}: median {spread(mine)}, {base_what} {spread(base)}: ratio {ratio:.2f} "
          f"(target ≤ {target:g}); round by round {min(per_round):.2f}–{max(per_round):.2f}")
    return ratio


@dataclass(frozen=True)
class Round:
    up: Run  # prototype_lab.sh up: start to first cross-datacentre ping
    ping: float  # the prototype's own clock at that ping
    down: Run
    deploy: Run  # nativek8s deploy, its verify included
    verified_at: float  # deploy's own clock when verified
    verify: float  # of which verify
    checks: str
    destroy: Run


def one_round(env: dict[str, str], work: Path, undo: Undo, template: str) -> Round:
    proto = fresh_name("p")
    undo.prototype(proto)
    up = checked(f"prototype_lab.sh up {proto}", [*PROTOTYPE, "up", proto], env)
    down = checked(f"prototype_lab.sh down {proto}", [*PROTOTYPE, "down", proto], env)
    undo.done(proto)
    first = FIRST_PING.search(up.out)
    if not first:
        raise Failed("reading the prototype's first-ping line", up)
    lab = fresh_name("r")
    topo = work / f"{lab}.yaml"
    topo.write_text(re.sub(r"^name: \S+", f"name: {lab}", template, count=1, flags=re.M))
    undo.nativek8s(lab)
    deploy = checked(f"nativek8s deploy {lab}", [*CLI, "deploy", "-f", str(topo), "--no-routes"],
                     env)
    destroy = checked(f"nativek8s destroy {lab}", [*CLI, "destroy", lab], env)
    undo.done(lab)
    return Round(up, float(first.group(1)), down, deploy, *verified(deploy), destroy)


def bench_reference(env: dict[str, str], work: Path, undo: Undo, rounds: int,
                    warmup: int) -> list[Figure]:
    print(f"\nreference lab (2 datacentres × 1 node): {rounds} rounds after {warmup} warm-up, "
          f"each prototype up, down, then nativek8s deploy, destroy")
    template = reference_topology(work / "reference.yaml", "reference", env).read_text()
    measured: list[Round] = []
    for i in range(warmup + rounds):
        r = one_round(env, work, undo, template)
        label = f"warm-up {i + 1}" if i < warmup else f"round {i - warmup + 1}/{rounds}"
        print(f"  {label}: prototype up {r.up.wall:.2f} s (CPU {r.up.cpu:.2f}, first ping at "
              f"{r.ping:.2f}), down {r.down.wall:.2f}; deploy {r.deploy.wall:.2f} s (CPU "
              f"{r.deploy.cpu:.2f}, verified at {r.verified_at:.2f} after {r.verify:.2f} of "
              f"verify), destroy {r.destroy.wall:.2f} (CPU {r.destroy.cpu:.2f})")
        if i >= warmup:
            measured.append(r)
    walls = [r.deploy.wall for r in measured]
    wall_ratio = ratio_line("reference deploy→verified, whole process", walls,
                            "prototype start→first ping, whole process",
                            [r.up.wall for r in measured], 1.2)
    own_at, ping = [r.verified_at for r in measured], [r.ping for r in measured]
    print("  own clocks (deploy's from after its start-up, the script's from after bash's): "
          f"deploy verified at {spread(own_at)}, of which verify "
          f"{spread([r.verify for r in measured])}; prototype first ping at {spread(ping)}: "
          f"ratio {statistics.median(own_at) / statistics.median(ping):.2f}")
    steady = max(walls) / min(walls)
    print(f"reference deploy steadiness: max/min {steady:.2f} over {rounds} rounds "
          f"(target ≤ 1.3)")
    cpu_ratio = ratio_line("reference deploy CPU", [r.deploy.cpu for r in measured],
                           "prototype CPU", [r.up.cpu for r in measured], 2)
    print(f"reference destroy: median {spread([r.destroy.wall for r in measured])}, CPU "
          f"{spread([r.destroy.cpu for r in measured])}; prototype down "
          f"{spread([r.down.wall for r in measured])}, CPU "
          f"{spread([r.down.cpu for r in measured])}")
    kinds = sorted({r.checks for r in measured})
    print(f"reference checks: {'; '.join(kinds)}"
          + (" (every round)" if len(kinds) == 1 else " (differs between rounds)"))
    return [Figure("reference deploy / prototype, wall", wall_ratio, 1.2),
            Figure("reference deploy steadiness, max/min", steady, 1.3),
            Figure("reference deploy / prototype, CPU", cpu_ratio, 2)]


def bench_big(env: dict[str, str], work: Path, undo: Undo, dcs: int, nodes: int,
              speaker: str, targets: bool) -> list[Figure]:
    what = f"{dcs}×{nodes} lab, {speaker} node speakers"
    print(f"\n{what}: {dcs * nodes} nodes, {dcs} routers")
    lab = fresh_name("g")
    topo = grid_topology(work / f"{lab}.yaml", lab, dcs, nodes)
    undo.nativek8s(lab)
    deploy = run([*CLI, "deploy", "-f", str(topo), "--no-routes", "-O",
                  f"netns.speaker={speaker}"], env)
    own = VERIFIED.search(deploy.out)
    if deploy.rc != 0 or not own:
        print(f"{what}: deploy failed (exit {deploy.rc}) after {deploy.wall:.2f} s:\n"
              f"{deploy.tail()}")
    else:
        print(f"{what} deploy→verified: {deploy.wall:.2f} s whole process (CPU "
              f"{deploy.cpu:.2f} s), verified at {own.group(1)} s of deploy's own clock after "
              f"{own.group(2)} s of verify; {own.group(3)}" + (" (target ≤ 60 s)" * targets))
    # Above ten datacentres verify probes a sample of the pod pairs, and says which.
    for line in {ln.strip() for ln in deploy.out.splitlines() if "pod-to-pod probes:" in ln}:
        print(f"  {line}")
    verify = run([*CLI, "verify", lab], env)
    counts = VERIFY_SUMMARY.search(verify.out)
    print(f"{what} second verify: {verify.wall:.2f} s (CPU {verify.cpu:.2f} s), exit "
          f"{verify.rc}: {counts.group(1) if counts else verify.tail(3)}")
    mem = lab_memory(lab)
    top = sorted(mem.by_name.items(), key=lambda kv: -kv[1][1])[:4]
    print(f"{what} memory: {mem.processes} processes, RSS {mem.rss_kib / 1024:.0f} MiB, PSS "
          f"{mem.pss_kib / 1024:.0f} MiB = {mem.pss_kib / GIB:.2f} GiB"
          + (" (target PSS ≤ 1.5 GiB)" * targets) + "; PSS by process: "
          + ", ".join(f"{name} ×{n} {pss / 1024:.0f} MiB" for name, (n, pss) in top))
    destroy = checked(f"nativek8s destroy {lab}", [*CLI, "destroy", lab], env)
    undo.done(lab)
    print(f"{what} destroy: {destroy.wall:.2f} s (CPU {destroy.cpu:.2f} s); "
          f"{destroy.out.strip().splitlines()[-1]}")
    if not targets:
        return []
    ok = deploy.rc == 0 and own is not None
    return [Figure(f"{dcs}×{nodes} deploy→verified, whole process", deploy.wall if ok else None,
                   60, " s"),
            Figure(f"{dcs}×{nodes} lab PSS", mem.pss_kib / GIB if mem.processes else None, 1.5,
                   " GiB")]


def grid(text: str) -> tuple[int, int] | None:
    if text == "off":
        return None
    m = re.fullmatch(r"(\d+)x(\d+)", text)
    if not m or not (1 <= int(m.group(1)) <= 254 and 1 <= int(m.group(2)) <= 200):
        raise argparse.ArgumentTypeError(f"{text!r}: expected DCSxNODES (1–254 datacentres of "
                                         f"1–200 nodes), e.g. 50x20, or off")
    return int(m.group(1)), int(m.group(2))


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so the labs are removed either way."""
    raise KeyboardInterrupt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10, help="reference rounds (0: skip)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed reference rounds first")
    ap.add_argument("--big", type=grid, default=(50, 20), help="DCSxNODES, or off")
    ap.add_argument("--fabric", action="store_true", help="also 10x10, GoBGP then BIRD")
    ap.add_argument("--vxlan", action="store_true", help="also native routing vs VXLAN")
    ap.add_argument("--iperf-seconds", type=int, default=3)
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_netns.py: run as root (it creates network namespaces)", file=sys.stderr)
        return 2
    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="nk8s-bench-"))
    # Children run this tree's code, and may write bytecode as an installed package has it.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                      env.get("PYTHONPATH")]))
    env["NATIVEK8S_STATE_DIR"] = str(work / "state")
    print(f"versions: {versions(env)}; state in {work}")
    undo = Undo(env)
    signal.signal(signal.SIGTERM, _interrupt)
    figures: list[Figure] = []
    status = 0
    try:
        if args.rounds:
            figures += bench_reference(env, work, undo, args.rounds, args.warmup)
        if args.big:
            dcs, nodes = args.big
            figures += bench_big(env, work, undo, dcs, nodes, "bird", targets=True)
        if args.fabric:
            for speaker in ("gobgp", "bird"):
                bench_big(env, work, undo, 10, 10, speaker, targets=False)
        if args.vxlan:
            from vxlan_baseline import bench_vxlan
            bench_vxlan(env, work, undo, args.iperf_seconds, 3)
    except Failed as exc:
        print(f"\nbench_netns.py: {exc}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        print("\nbench_netns.py: interrupted; removing the labs", file=sys.stderr)
        status = 130
    finally:
        clean = undo.all()
    if figures:
        print(f"\nsummary (load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
        print(f"{'figure':<46}{'measured':>12}   {'target':<12}")
        for figure in figures:
            print(figure.row())
    if clean:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"some labs could not be removed; their state is kept in {work}: "
              f"NATIVEK8S_STATE_DIR={work / 'state'} nativek8s destroy NAME", file=sys.stderr)
        status = status or 1
    return status


if __name__ == "__main__":
    sys.exit(main())
