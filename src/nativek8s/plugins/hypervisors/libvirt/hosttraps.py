"""Host settings that silently break a libvirt lab on this machine.

Docker hosts load ``br_netfilter`` (``net.bridge.bridge-nf-call-iptables = 1``: frames
crossing a Linux bridge go through iptables' FORWARD chain) and set FORWARD's policy to
DROP. Traffic between the lab's VMs on one libvirt bridge (nodes ↔ their router, routers
on the peering network) is then dropped, unless a rule accepts it: every BGP session stays
down with nothing in any log. Reading the policy needs root; without it the check says so.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

BRIDGE_NF = Path("/proc/sys/net/bridge/bridge-nf-call-iptables")

Reader = Callable[[], str | None]


def read_bridge_nf() -> str | None:
    try:
        return BRIDGE_NF.read_text().strip()
    except OSError:
        return None  # br_netfilter not loaded: bridged frames skip iptables


def read_forward_rules() -> str | None:
    """``iptables -S FORWARD`` (the policy and the rules), or None when it cannot be read."""
    try:
        done = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True,
                              timeout=10, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def _accepted(rules: str, bridge: str) -> bool:
    """A FORWARD rule accepting what enters the bridge (``-i <bridge> ... -j ACCEPT``)."""
    for line in rules.splitlines():
        words = line.split()
        if words[:2] == ["-A", "FORWARD"] and "ACCEPT" in words[-1:]:
            if "-i" in words and words[words.index("-i") + 1] == bridge:
                return True
    return False


def bridge_filter_problem(bridges: list[str], bridge_nf: Reader = read_bridge_nf,
                          forward: Reader = read_forward_rules) -> tuple[bool | None, str]:
    """(ok, what was found): ok None when it cannot be told (no root)."""
    if bridge_nf() != "1":
        return True, "bridged frames do not go through iptables (br_netfilter off)"
    rules = forward()
    if rules is None:
        return None, ("br_netfilter is on (net.bridge.bridge-nf-call-iptables = 1) and "
                      "iptables' FORWARD chain cannot be read here (run doctor as root): if "
                      "its policy is DROP (Docker sets it), the lab's bridged traffic is "
                      "dropped")
    if "-P FORWARD DROP" not in rules.splitlines():
        return True, "br_netfilter is on, iptables' FORWARD policy accepts"
    blocked = [b for b in bridges if not _accepted(rules, b)]
    if not blocked:
        return True, "br_netfilter is on, FORWARD drops, but the lab's bridges are accepted"
    return False, (
        "br_netfilter is on (net.bridge.bridge-nf-call-iptables = 1) and iptables' FORWARD "
        "policy is DROP (Docker sets it): traffic between the lab's VMs on bridges "
        f"{', '.join(blocked)} would be dropped and no BGP session would come up; accept "
        "it (`iptables -I FORWARD -i BRIDGE -o BRIDGE -j ACCEPT` for each, or Docker's "
        "DOCKER-USER chain) or stop bridged frames going through iptables "
        "(`sysctl net.bridge.bridge-nf-call-iptables=0`)")
