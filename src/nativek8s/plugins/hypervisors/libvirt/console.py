"""`nativek8s console` on libvirt: `virsh console` on the domain's pty serial port (its
output is also logged to the console log file, see xml/domain.py)."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

from nativek8s.api import Plan, UsageError

from .connection import Connections, is_test_driver, lookup
from .domains import state_of
from .options import options_of
from .specs import console_log, machine_uri


def attach_command(plan: Plan, conns: Connections, state_dir: Path, machine: str) -> list[str]:
    m = plan.machine(machine)
    uri = machine_uri(plan, m)
    log = console_log(plan, options_of(plan, m.datacentre), m, state_dir)
    conn = conns.get(uri)
    state, _ = state_of(conn, m.resource_name)
    dom = lookup(conn.lookupByName, m.resource_name)
    if dom is None or state != "running":
        raise UsageError(f"{machine} ({m.resource_name}) is {state}: there is no console to "
                         f"attach to; what it printed is in {log}; `nativek8s deploy` starts it")
    serial = ET.fromstring(dom.XMLDesc(0)).find("devices/serial")
    if serial is None or serial.get("type") != "pty":
        kind = "none" if serial is None else serial.get("type")
        raise UsageError(f"{m.resource_name}'s serial port is {kind!r}, not a pty (defined "
                         "by an older nativek8s): `nativek8s deploy` redefines it, and it takes "
                         f"effect when the machine next starts; its console log is {log}")
    if is_test_driver(uri):
        raise UsageError(f"libvirt's test driver ({uri}) has no consoles to attach to")
    if shutil.which("virsh") is None:
        raise UsageError("`virsh` is not installed (Debian: apt-get install libvirt-clients); "
                         f"the console log is {log}")
    return ["virsh", "-c", uri, "console", m.resource_name]
