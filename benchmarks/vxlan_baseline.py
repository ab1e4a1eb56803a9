"""bench_netns.py --vxlan: pod-to-pod across the reference lab's datacentres with native
routing, then with the nodes tunnelling pod traffic to each other over VXLAN (what an overlay
CNI does, so the routers only ever see node addresses): iperf3, ping, a DF-bit MTU search."""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import time
from pathlib import Path

from labrun import CLI, Undo, checked, fresh_name, reference_topology

FAR_POD = "10.244.1.10"  # node-2's pod in the reference lab


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
        out = sh("ip", "netns", "exec", ns(lab, "node-1", True), "iperf3", "-c", FAR_POD,
                 "-p", "5201", "-t", str(seconds), "-f", "g")
        line = [ln for ln in out.splitlines() if "receiver" in ln][-1]
        m = re.search(r"([\d.]+) Gbits/sec", line)
        assert m, line
        return float(m.group(1))
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait()


def latency_ms(lab: str) -> float:
    out = sh("ip", "netns", "exec", ns(lab, "node-1", True), "ping", "-c", "50", "-i", "0.01",
             "-q", FAR_POD)
    m = re.search(r"= [\d.]+/([\d.]+)/", out)
    assert m, out
    return float(m.group(1))


def path_mtu(lab: str) -> int:
    """Largest ICMP packet that crosses without fragmentation (DF set)."""
    lo, hi = 1200, 1500
    while lo < hi:
        mid = (lo + hi + 1) // 2
        ok = subprocess.run(["ip", "netns", "exec", ns(lab, "node-1", True), "ping", "-c", "1",
                             "-W", "1", "-M", "do", "-s", str(mid - 28), FAR_POD],
                            capture_output=True).returncode == 0
        lo, hi = (mid, hi) if ok else (lo, mid - 1)
    return lo


def add_vxlan(lab: str) -> None:
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


def bench_vxlan(env: dict[str, str], work: Path, undo: Undo, seconds: int, repeats: int) -> None:
    lab = fresh_name("v")
    topo = reference_topology(work / f"{lab}.yaml", lab, env)
    undo.nativek8s(lab)
    checked(f"nativek8s deploy {lab}", [*CLI, "deploy", "-f", str(topo), "--no-routes"], env)
    native = [iperf(lab, seconds) for _ in range(repeats)]
    native_lat, native_mtu = latency_ms(lab), path_mtu(lab)
    add_vxlan(lab)
    vx = [iperf(lab, seconds) for _ in range(repeats)]
    vx_lat, vx_mtu = latency_ms(lab), path_mtu(lab)
    checked(f"nativek8s destroy {lab}", [*CLI, "destroy", lab], env)
    undo.done(lab)
    n, v = statistics.median(native), statistics.median(vx)
    print(f"\npod-to-pod across datacentres, iperf3 {seconds} s ×{repeats}: native {n:.1f} "
          f"Gbit/s, VXLAN {v:.1f} Gbit/s, ratio {n / v:.2f}; latency native {native_lat:.3f} "
          f"ms, VXLAN {vx_lat:.3f} ms; path MTU native {native_mtu}, VXLAN {vx_mtu}")
