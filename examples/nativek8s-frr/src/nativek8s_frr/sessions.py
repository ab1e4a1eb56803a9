"""Reading bgpd's state: `vtysh -c 'show bgp neighbors json'` parsed into the sessions
verify and status compare with the plan."""

from __future__ import annotations

import json
from typing import Any

from nativek8s.api import BgpSessionState, MachineAccess, NativeK8sError


def vtysh_argv(control_socket: str | None, command: str) -> list[str]:
    """vtysh for the router's FRR: its own socket folder when it has one (netns)."""
    argv = ["vtysh"]
    if control_socket:
        argv += ["--vty_socket", control_socket]
    return [*argv, "-c", command]


def _json(access: MachineAccess, command: str) -> dict[str, Any]:
    out = access.run(vtysh_argv(access.bgp_control_socket, command))
    try:
        doc = json.loads(out or "{}")
    except json.JSONDecodeError:
        raise NativeK8sError(f"{access.machine}: vtysh answered `{command}` with no JSON: "
                             f"{out.strip()[:200]}") from None
    return doc if isinstance(doc, dict) else {}


def session_states(access: MachineAccess) -> list[BgpSessionState]:
    """Every neighbour; for those whose routes bgpd keeps as received (soft-reconfiguration
    inbound: the nodes), what the import policy filtered."""
    neighbors = _json(access, "show bgp neighbors json")
    out = []
    for address, n in sorted(neighbors.items()):
        if not isinstance(n, dict):
            continue
        family = n.get("addressFamilyInfo", {}).get("ipv4Unicast", {})
        received = None
        if n.get("bgpState") == "Established" and family.get("inboundSoftConfigPermit"):
            received = _json(access, f"show bgp ipv4 unicast neighbors {address} "
                                     "received-routes json")
        out.append(session_state(address, n, received))
    return out


def session_state(address: str, n: dict[str, Any],
                  received: dict[str, Any] | None = None) -> BgpSessionState:
    """One neighbour of `show bgp neighbors json`, with its `received-routes json` if any
    (totalPrefixCounter: what the peer sent; filteredPrefixCounter: what policy refused)."""
    family = n.get("addressFamilyInfo", {}).get("ipv4Unicast", {})
    up = n.get("bgpState") == "Established"
    uptime_ms = n.get("bgpTimerUpMsec")
    accepted = family.get("acceptedPrefixCounter")
    if received is not None:
        sent = received.get("totalPrefixCounter")
    elif not family.get("inboundPathPolicyConfig"):
        sent = accepted  # no import policy (iBGP): what it sent is what was accepted
    else:
        sent = None
    return BgpSessionState(
        name=n.get("nbrDesc") or address, peer=address, state=n.get("bgpState", "?"),
        info="" if up else n.get("lastResetDueTo", ""),
        refused=int((received or {}).get("filteredPrefixCounter", 0)) if up else 0,
        local_as=n.get("localAs"), peer_as=n.get("remoteAs"),
        since=n.get("bgpTimerUpString", "") if up else "",
        uptime_seconds=uptime_ms / 1000 if up and uptime_ms is not None else None,
        received=sent if up else None,
        accepted=accepted if up else None,
    )
