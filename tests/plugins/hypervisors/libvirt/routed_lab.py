"""A lab that routes, on libvirt, with stand-in guests (tests/libvirt_env: Debian's kernel,
busybox, and Debian's real bird, birdc, qemu-ga and ip).

Three plugins stand in for openwrt, talos and cilium where only a real OS could run:

- ``routed-router``: openwrt's own rendering and BGP reading (``render``, ``bgp_daemon``,
  ``bgp_sessions``: the router VM runs openwrt's rendered ``bird.conf`` unchanged); the
  stand-in guest as its VM.
- ``routed-node``: the stand-in guest as node VM. Its deploy steps do, through the guest
  agent, what the OS images do at first boot: routers get their rendered BIRD
  configuration and forwarding; nodes a default route, a pod (a network namespace behind a
  veth, holding the plan's probe address and a tiny HTTP server answering the client's
  address) and BIRD as speaker with the CNI's intent.
- ``routed-cni``: cilium's BGP intent (``bgp_intent``); ``cluster_checks`` checks the node
  speakers' sessions and pod-to-pod traffic (ping, TCP with the source kept, the
  traceroute path) inside the node VMs, as cilium's checks do through Kubernetes.

The engine runs as for a real lab: ``deploy``/``verify`` check the routers inside their VMs
through libvirt's observer (the product's code) and the nodes and pods through the CNI.
"""

from __future__ import annotations

import re
import time
from functools import partial
from typing import Any

from nativek8s.api import (
    CNI as CNIBase,
)
from nativek8s.api import (
    NODE_PORTS,
    BootMedia,
    CheckResult,
    CNISpec,
    Machine,
    NativeK8sError,
    NodeOS,
    NodeOSSpec,
    NodePlan,
    Plan,
    ProbeResult,
    RouterOS,
    RouterOSSpec,
    Step,
    hookimpl,
    management_of,
)
from nativek8s.core.verify import bgp_of, check_dataplane, observed_via
from nativek8s.plugins.cni.cilium.cilium import Cilium
from nativek8s.plugins.hypervisors.netns.speakers import bird_config
from nativek8s.plugins.routers.openwrt.openwrt import Openwrt
from nativek8s.shared.bird import session_states
from tests.libvirt_env.console import kernel_cmdline

ROUTER, NODE, CNI = "routed-router", "routed-node", "routed-cni"
POD_PORT = 8080
AGENT_WAIT = 240.0  # a hang guard for slow machines, not a performance check
BIRD_CONF = "/etc/bird.conf"
VIA_NODES = "inside the node VMs, through the QEMU guest agent (stand-in CNI)"


def _media(ctx: Any, guest: Any, machine: Machine) -> BootMedia:
    addrs = {i.mac: str(i.address) for i in machine.interfaces if i.address is not None}
    mgmt = management_of(ctx.plugins, ctx.plan)
    if mgmt is not None and machine.name in mgmt.routers:
        # The fixed WAN address libvirt's DHCP host entry hands out (no DHCP client here).
        addrs[machine.interface("wan").mac] = str(mgmt.routers[machine.name])
    return BootMedia(kernel=guest.kernel, initrd=guest.initrd, cmdline=kernel_cmdline(addrs))


class RoutedRouter(RouterOS):
    name = ROUTER

    def __init__(self, guest: Any):
        self.guest, self.openwrt = guest, Openwrt()

    def render(self, ctx: Any) -> list:
        return list(self.openwrt.render(ctx))

    def bgp_daemon(self, router: Any) -> Any:
        return self.openwrt.bgp_daemon(router)

    def bgp_sessions(self, router: Any, access: Any) -> list:
        return self.openwrt.bgp_sessions(router, access)

    def reload_commands(self, router: Any) -> list[list[str]]:
        # The stand-in runs no OpenWrt services: only BIRD re-reads its file.
        return [["sh", "-c", "if pidof bird >/dev/null; then birdc configure; "
                 f"else bird -c {BIRD_CONF} </dev/null >/dev/null 2>&1; fi"]]

    def boot_media(self, ctx: Any, router: Any, kernel_boot: bool = True) -> BootMedia:
        return _media(ctx, self.guest, router)

    def planned_boot_media(self, ctx: Any, router: Any, kernel_boot: bool = True) -> BootMedia:
        return _media(ctx, self.guest, router)


def access_of(ctx: Any, machine: str) -> Any:
    return ctx.plugins.hypervisors["libvirt"].observer(ctx).access(machine)


def wait_for_agent(access: Any, deadline_s: float = AGENT_WAIT) -> float:
    started = time.monotonic()
    while True:
        try:
            access.run(["true"], timeout=5)
            return time.monotonic() - started
        except NativeK8sError:
            if time.monotonic() - started > deadline_s:
                raise
            time.sleep(0.5)


def sh(access: Any, script: str, timeout: float = 20.0) -> str:
    return access.run(["sh", "-c", script], timeout=timeout)


def start_bird(access: Any, config: str) -> None:
    """Write BIRD's configuration; start BIRD, or make the running one re-read it."""
    access.write_file(BIRD_CONF, config.encode())
    sh(access, f"if pidof bird >/dev/null; then birdc configure; "
               f"else bird -c {BIRD_CONF} </dev/null >/dev/null 2>&1; fi")


def _router_setup(ctx: Any, router: Machine) -> str:
    access = access_of(ctx, router.name)
    waited = wait_for_agent(access)
    target = ctx.plugins.router.bgp_daemon(router).config_target
    conf = next(f for f in ctx.rendered[ROUTER]
                if f.machine == router.name and f.target == target)
    sh(access, "echo 1 > /proc/sys/net/ipv4/ip_forward")
    content = conf.content if isinstance(conf.content, str) else conf.content.decode()
    start_bird(access, content)
    return f"agent after {waited:.1f} s, bird.conf from openwrt"


# Busybox's sh runs its own applets first whatever PATH says: iproute2's ip by its path.
POD_SCRIPT = """
set -e
[ -e /run/netns/pod ] || {{
  /usr/sbin/ip netns add pod
  /usr/sbin/ip link add veth-pod type veth peer name eth0 netns pod
  /usr/sbin/ip addr add {node}/32 dev veth-pod
  /usr/sbin/ip link set veth-pod up
  /usr/sbin/ip route add {pod}/32 dev veth-pod
  /usr/sbin/ip -n pod link set lo up
  /usr/sbin/ip -n pod addr add {pod}/32 dev eth0
  /usr/sbin/ip -n pod link set eth0 up
  /usr/sbin/ip -n pod route add {node}/32 dev eth0
  /usr/sbin/ip -n pod route add default via {node} dev eth0
  mkdir -p /run/www/cgi-bin
  printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' \\
    > /run/www/cgi-bin/addr
  chmod 755 /run/www/cgi-bin/addr
  # Daemons must not keep the agent's output pipes open (guest-exec waits for them).
  /usr/sbin/ip netns exec pod httpd -p {pod}:{port} -h /run/www </dev/null >/dev/null 2>&1
  # What Talos and Kubernetes would listen on: the host's management path reaches them.
  for port in {node_ports}; do httpd -p {node}:$port -h /run/www </dev/null >/dev/null 2>&1; done
}}
echo 1 > /proc/sys/net/ipv4/ip_forward
/usr/sbin/ip route replace default via {gateway}
"""


def _node_setup(ctx: Any, node: NodePlan) -> str:
    access = access_of(ctx, node.name)
    waited = wait_for_agent(access)
    sh(access, POD_SCRIPT.format(node=node.address.ip, pod=node.probe_pod, port=POD_PORT,
                                 gateway=node.gateway,
                                 node_ports=" ".join(map(str, NODE_PORTS))))
    intent = next(i for i in ctx.plugins.cni.bgp_intent(ctx.plan) if i.node == node.name)
    start_bird(access, bird_config(intent, ctx.secrets))
    return f"agent after {waited:.1f} s, pod {node.probe_pod}, BIRD speaker"


class RoutedNode(NodeOS):
    name = NODE

    def __init__(self, guest: Any):
        self.guest = guest

    def render(self, ctx: Any) -> list:
        return []

    def boot_media(self, ctx: Any, node: Any, kernel_boot: bool = True) -> BootMedia:
        return _media(ctx, self.guest, node)

    def planned_boot_media(self, ctx: Any, node: Any, kernel_boot: bool = True) -> BootMedia:
        return _media(ctx, self.guest, node)

    def deploy_steps(self, ctx: Any) -> list[Step]:
        steps = [Step(f"guest:{r.name}", "BIRD from openwrt's bird.conf",
                      partial(_router_setup, ctx, r), machine=r.name) for r in ctx.plan.routers]
        steps += [Step(f"guest:{n.name}", "pod and BGP speaker", partial(_node_setup, ctx, n),
                       machine=n.name) for n in ctx.plan.nodes]
        return steps


_HOP = re.compile(r"^\s*\d+\s+(\d+\.\d+\.\d+\.\d+)")


class NodeAgentObserver:
    """The node half of core's Observer, inside the node VMs through the guest agent."""

    def __init__(self, ctx: Any):
        self.ctx = ctx

    def _pod(self, node: NodePlan, *argv: str, timeout: float = 15.0) -> str:
        return access_of(self.ctx, node.name).run(["ip", "netns", "exec", "pod", *argv],
                                                  timeout=timeout)

    def node_bgp_sessions(self, node: NodePlan) -> list:
        return session_states(access_of(self.ctx, node.name))

    def ping(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        try:
            out = self._pod(src, "ping", "-c", "3", "-W", "2", str(dst.probe_pod))
        except NativeK8sError as exc:
            return ProbeResult(False, str(exc))
        return ProbeResult(True, out.strip().splitlines()[-2] if out.strip() else "replies")

    def client_address(self, src: NodePlan, dst: NodePlan) -> ProbeResult:
        # HTTP by hand: busybox-static's wget crashes in glibc's static resolver here.
        request = (f"printf 'GET /cgi-bin/addr HTTP/1.0\\r\\n\\r\\n' "
                   f"| nc -w 5 {dst.probe_pod} {POD_PORT}")
        try:
            answer = self._pod(src, "sh", "-c", request).strip()
        except NativeK8sError as exc:
            return ProbeResult(False, str(exc))
        if not answer.startswith("HTTP/1.") or " 200 " not in answer.splitlines()[0]:
            return ProbeResult(False, f"no HTTP answer: {answer[:200]!r}")
        seen = answer.splitlines()[-1].strip()
        return ProbeResult(True, f"answered, client {seen}", seen)

    def trace(self, src: NodePlan, dst: NodePlan) -> list[str]:
        try:
            out = self._pod(src, "traceroute", "-n", "-q", "1", "-w", "2", "-m", "8",
                            str(dst.probe_pod), timeout=40)
        except NativeK8sError:
            return []
        return [m.group(1) for ln in out.splitlines() if (m := _HOP.match(ln))]


class RoutedCNI(CNIBase):
    name = CNI

    def __init__(self) -> None:
        self.cilium = Cilium()

    def render(self, ctx: Any) -> list:
        return []

    def bgp_intent(self, plan: Plan) -> list:
        return self.cilium.bgp_intent(plan)

    def deploy_steps(self, ctx: Any) -> list:
        return []

    def cluster_checks(self, ctx: Any) -> list[CheckResult]:
        obs = NodeAgentObserver(ctx)
        results = [r for n in ctx.plan.nodes for r in bgp_of(ctx.plan, obs, None, n)]
        return observed_via(results + check_dataplane(ctx.plan, obs), VIA_NODES)


class RoutedPlugins:
    """A pluggy plugin registering the three for one stand-in guest."""

    def __init__(self, guest: Any):
        self.guest = guest

    @hookimpl
    def nativek8s_router_oses(self) -> list[RouterOSSpec]:
        return [RouterOSSpec(name=ROUTER, factory=lambda: RoutedRouter(self.guest))]

    @hookimpl
    def nativek8s_node_oses(self) -> list[NodeOSSpec]:
        return [NodeOSSpec(name=NODE, factory=lambda: RoutedNode(self.guest))]

    @hookimpl
    def nativek8s_cnis(self) -> list[CNISpec]:
        return [CNISpec(name=CNI, factory=RoutedCNI)]


def shell(ctx: Any, machine: str, script: str) -> str:
    """Run a shell script inside a machine's VM (for tests)."""
    return sh(access_of(ctx, machine), script)


__all__ = ["CNI", "NODE", "ROUTER", "RoutedPlugins", "access_of", "shell", "start_bird"]
