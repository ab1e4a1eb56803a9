"""netns backend benchmarks: deploy→verified, destroy, a 10×10 lab, native vs VXLAN.

Run as root:  .venv/bin/python benchmarks/bench_netns.py [--runs 5] [--skip-big] [--skip-vxlan]

Everything is measured in this one run and printed as medians and ratios; nothing here is
a pass/fail threshold. Each lab gets its own state folder and is destroyed at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "nativek8s.core.cli.main"]


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def cli(env: dict, *args: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"nativek8s {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return took


def topology(path: Path, name: str, dcs: int, nodes: int) -> Path:
    lines = [f"name: {name}", "datacentres:"]
    for d in range(1, dcs + 1):
        lines += [f"  dc{d}:", f"    lan: 10.{d}.0.0/24", "    nodes:"]
        for k in range(1, nodes + 1):
            role = "controlplane" if d == 1 and k == 1 else "worker"
            lines.append(f"      n{d}-{k}: {{role: {role}}}")
    path.write_text("\n".join(lines) + "\n")
    return path


def lab_pss_kib(name: str, state: str) -> int:
    """Summed proportional memory of every process of the lab (BIRD, speakers, agent)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if state not in cmd and f"nk.{name}." not in cmd:
                continue
            rollup = (entry / "smaps_rollup").read_text()
        except OSError:
            continue
        m = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
        total += int(m.group(1)) if m else 0
    return total


def bench_reference(env: dict, work: Path, runs: int) -> None:
    deploy_times, verify_times, destroy_times = [], [], []
    for _ in range(runs):
        name = "b" + secrets.token_hex(3)
        topo = topology(work / f"{name}.yaml", name, 2, 1)
        t_deploy = cli(env, "deploy", "-f", str(topo), "--no-routes")
        t_verify = cli(env, "verify", name)
        deploy_times.append(t_deploy + t_verify)
        verify_times.append(t_verify)
        destroy_times.append(cli(env, "destroy", name))
    print(f"reference lab ({runs} runs): deploy+verify median "
          f"{statistics.median(deploy_times):.2f}s (verify alone "
          f"{statistics.median(verify_times):.2f}s), destroy median "
          f"{statistics.median(destroy_times):.2f}s")


def bench_big(env: dict, work: Path, dcs: int, nodes: int, state: str, speaker: str) -> None:
    name = "big" + secrets.token_hex(2)
    topo = topology(work / f"{name}.yaml", name, dcs, nodes)
    t = cli(env, "deploy", "-f", str(topo), "--no-routes", "--speaker", speaker)
    t_verify = cli(env, "verify", name)
    pss = lab_pss_kib(name, state)
    t_destroy = cli(env, "destroy", name)
    print(f"{dcs}×{nodes} lab, {speaker} nodes: deploy→verified {t + t_verify:.2f}s (deploy incl. its verify "
          f"{t:.2f}s, second verify {t_verify:.2f}s), lab processes' memory {pss / 1024:.0f} MiB "
          f"PSS, destroy {t_destroy:.2f}s")


def ns(lab: str, node: str, pod: bool = False) -> str:
    return f"nk.{lab}.{node}" + (".pod" if pod else "")


def sh(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def iperf(lab: str, seconds: int) -> float:
    server = subprocess.Popen(["ip", "netns", "exec", ns(lab, "node-2", True), "iperf3", "-s",
                               "-1", "-p", "5201"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(0.3)
        out = sh("ip", "netns", "exec", ns(lab, "node-1", True), "iperf3", "-c", "10.244.1.10",
                 "-p", "5201", "-t", str(seconds), "-f", "g")
        line = [ln for ln in out.splitlines() if "receiver" in ln][-1]
        return float(re.search(r"([\d.]+) Gbits/sec", line).group(1))
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait()


def latency_ms(lab: str) -> float:
    out = sh("ip", "netns", "exec", ns(lab, "node-1", True), "ping", "-c", "50", "-i", "0.01",
             "-q", "10.244.1.10")
    return float(re.search(r"= [\d.]+/([\d.]+)/", out).group(1))


def path_mtu(lab: str) -> int:
    """Largest ICMP packet that crosses without fragmentation (DF set)."""
    lo, hi = 1200, 1500
    while lo < hi:
        mid = (lo + hi + 1) // 2
        ok = subprocess.run(["ip", "netns", "exec", ns(lab, "node-1", True), "ping", "-c", "1",
                             "-W", "1", "-M", "do", "-s", str(mid - 28), "10.244.1.10"],
                            capture_output=True).returncode == 0
        lo, hi = (mid, hi) if ok else (lo, mid - 1)
    return lo


def add_vxlan(lab: str) -> None:
    """Baseline: nodes tunnel pod traffic to each other over VXLAN (what an overlay CNI
    does), so the routers only ever see node addresses."""
    ends = {"node-1": ("10.1.0.10", "10.2.0.10", "10.99.0.1", "10.99.0.2", "10.244.1.0/24"),
            "node-2": ("10.2.0.10", "10.1.0.10", "10.99.0.2", "10.99.0.1", "10.244.0.0/24")}
    for node, (local, remote, mine, peer, far_pods) in ends.items():
        batch = "\n".join([
            f"link add vxlan0 type vxlan id 42 local {local} remote {remote} dstport 4789",
            f"addr add {mine}/24 dev vxlan0", "link set vxlan0 up",
            f"route replace {far_pods} via {peer} dev vxlan0"]) + "\n"
        subprocess.run(["ip", "-n", ns(lab, node), "-batch", "-"], input=batch, text=True,
                       check=True)
    # Pods learn the smaller MTU as Cilium's overlay mode would tell them.
    for node in ends:
        subprocess.run(["ip", "-n", ns(lab, node, True), "route", "replace", "default", "via",
                        "169.254.1.1", "dev", "eth0", "mtu", "1450"], check=True)


def bench_vxlan(env: dict, work: Path, seconds: int, repeats: int) -> None:
    name = "vx" + secrets.token_hex(2)
    topo = topology(work / f"{name}.yaml", name, 2, 1)
    topo.write_text(topo.read_text().replace("n1-1", "node-1").replace("n2-1", "node-2"))
    cli(env, "deploy", "-f", str(topo), "--no-routes")
    try:
        native = [iperf(name, seconds) for _ in range(repeats)]
        native_lat, native_mtu = latency_ms(name), path_mtu(name)
        add_vxlan(name)
        vx = [iperf(name, seconds) for _ in range(repeats)]
        vx_lat, vx_mtu = latency_ms(name), path_mtu(name)
    finally:
        cli(env, "destroy", name)
    n, v = statistics.median(native), statistics.median(vx)
    print(f"pod-to-pod across datacentres, iperf3 {seconds}s ×{repeats}: native {n:.1f} Gbit/s, "
          f"VXLAN {v:.1f} Gbit/s, ratio {n / v:.2f}×; latency native {native_lat:.3f} ms, "
          f"VXLAN {vx_lat:.3f} ms; path MTU native {native_mtu}, VXLAN {vx_mtu}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-vxlan", action="store_true")
    ap.add_argument("--iperf-seconds", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="nk8s-bench-") as tmp:
        work = Path(tmp)
        state = str(work / "state")
        env = {**os.environ, "NATIVEK8S_STATE_DIR": state}
        bench_reference(env, work, args.runs)
        if not args.skip_big:
            for speaker in ("gobgp", "bird"):
                bench_big(env, work, 10, 10, state, speaker)
        if not args.skip_vxlan:
            bench_vxlan(env, work, args.iperf_seconds, 3)


if __name__ == "__main__":
    main()
