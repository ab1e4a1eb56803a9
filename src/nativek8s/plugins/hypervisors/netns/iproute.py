"""iproute2 from Python: batches per namespace (one process for many commands)."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path

from nativek8s.api import NativeK8sError

NETNS_DIR = Path("/run/netns")
log = logging.getLogger(__name__)


class IpError(NativeK8sError):
    pass


def run(argv: Sequence[str], *, input: str | None = None, timeout: float = 30.0,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    log.debug("running %s", " ".join(argv))  # -vv; secrets are in files, never in argv
    try:
        proc = subprocess.run(list(argv), input=input, capture_output=True, text=True,
                              timeout=timeout)
    except FileNotFoundError:
        raise IpError(f"{argv[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise IpError(f"`{' '.join(argv[:6])}` did not finish in {timeout:.0f}s") from None
    if check and proc.returncode != 0:
        err = (proc.stderr or proc.stdout).strip().splitlines()
        raise IpError(f"`{' '.join(argv[:8])}` failed: {' / '.join(err[-3:])}")
    return proc


def batch(commands: list[str], namespace: str | None = None) -> None:
    """Run ip commands (without the leading `ip`) in one process, in a namespace or the host
    (the host only ever gets `netns add/del`)."""
    if not commands:
        return
    argv = ["ip", "-n", namespace, "-batch", "-"] if namespace else ["ip", "-batch", "-"]
    run(argv, input="\n".join(commands) + "\n")


def namespaces() -> set[str]:
    try:
        return {p.name for p in NETNS_DIR.iterdir()}
    except FileNotFoundError:
        return set()


def namespace_exists(name: str) -> bool:
    """One namespace, without listing them all (a big lab has thousands)."""
    return (NETNS_DIR / name).exists()


def links(namespace: str) -> list[dict]:
    out = run(["ip", "-n", namespace, "-j", "-d", "link", "show"]).stdout
    return json.loads(out or "[]")


def ns_exec(namespace: str, argv: Sequence[str]) -> list[str]:
    return ["ip", "netns", "exec", namespace, *argv]
