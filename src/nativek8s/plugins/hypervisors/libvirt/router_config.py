"""A router's configuration follows the plan after its first boot.

The router OS bakes its rendered files into the router's image, which boots once from it;
its disk is an overlay that then lives on, so a later plan change (a node added, a PodCIDR
changed) would never reach it. The lab records a digest of the files each router has; when
a deploy renders different ones, they are written into the running router through the
guest agent and the router OS's ``reload_commands`` make it apply them. The base image is
never rewritten under the overlay (media volumes are named by content).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from nativek8s.api import LabState, NativeK8sError, RenderedFile, RouterPlan

from .agent import AgentAccess

AGENT_WAIT = 300.0  # a router's first boot (packages installed) may take minutes under TCG


def state_key(router: str) -> str:
    return f"libvirt:router-config:{router}"


def live_files(rendered: list[RenderedFile], router: str) -> list[RenderedFile]:
    return sorted((f for f in rendered if f.machine == router and f.target),
                  key=lambda f: str(f.target))


def digest(files: list[RenderedFile]) -> str:
    h = hashlib.sha256()
    for f in files:
        content = f.content.encode() if isinstance(f.content, str) else f.content
        h.update(f"{f.target}\0{len(content)}\0".encode() + content)
    return h.hexdigest()[:16]


def baked(state: LabState, router: str, files: list[RenderedFile]) -> None:
    """The router was just created from an image with these files in it."""
    state.record(state_key(router), digest=digest(files))


def apply(access: AgentAccess, state: LabState, router: RouterPlan, files: list[RenderedFile],
          reload: list[list[str]], wait: float = AGENT_WAIT) -> str | None:
    """Write the files that changed since the router last had them and reload; None when
    nothing changed (no agent call at all)."""
    want = digest(files)
    if state.resources().get(state_key(router.name), {}).get("digest") == want:
        return None
    deadline = time.monotonic() + wait
    while True:
        try:
            access.run(["true"], timeout=5)
            break
        except NativeK8sError as exc:
            if time.monotonic() >= deadline:
                raise NativeK8sError(f"{exc}; its configuration changed with the plan and "
                                     f"could not be written into it") from None
            time.sleep(1)
    written = []
    for f in files:
        content = f.content.encode() if isinstance(f.content, str) else f.content
        assert f.target is not None
        access.write_file(f.target, content, mode="0600" if f.secret else "0644")
        written.append(f.target)
    for argv in reload:
        access.run(argv, timeout=60)
    state.record(state_key(router.name), digest=want)
    return f"wrote {len(written)} file(s) through the guest agent, reloaded"


def reload_commands(router_os: Any, router: RouterPlan) -> list[list[str]]:
    get = getattr(router_os, "reload_commands", None)
    return list(get(router)) if get is not None else []
