"""In-memory cluster state of the stand-in: nodes, storages, volumes, VMs, SDN, tokens.

Tests read and change it directly (under ``state.lock``) to assert on effects and to inject
faults. Names and ID shapes follow PVE: volume IDs ``local:import/x.qcow2`` and
``local-lvm:vm-100-disk-0``, config errors ``Configuration file 'nodes/pve/qemu-server/
100.conf' does not exist``.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import die
from .guest import Guest, GuestProcess
from .perms import LAB_PRIVILEGES, Acl
from .tasks import TaskRegistry

GIB = 1024**3


@dataclass
class Volume:
    volid: str
    content: str  # images | iso | import | vztmpl | backup | snippets | rootdir
    format: str  # raw | qcow2 | vmdk | iso | ...
    size: int  # virtual size in bytes, as PVE reports it
    vmid: int | None = None
    used: int | None = None  # bytes on disk (file size)
    sha256: str | None = None  # of the uploaded/downloaded bytes; not exposed by PVE
    ctime: int = field(default_factory=lambda: int(time.time()))

    @property
    def storage(self) -> str:
        return self.volid.split(":", 1)[0]

    def listing(self) -> dict[str, Any]:
        out: dict[str, Any] = {"volid": self.volid, "content": self.content,
                               "format": self.format, "size": self.size, "ctime": self.ctime}
        if self.vmid is not None:
            out["vmid"] = self.vmid
        if self.used is not None:
            out["used"] = self.used
        return out


@dataclass
class Storage:
    id: str
    type: str  # dir (file based, has a path) | lvmthin
    content: set[str]
    total: int = 100 * GIB
    path: str | None = None
    shared: bool = False
    enabled: bool = True
    volumes: dict[str, Volume] = field(default_factory=dict)

    @property
    def used(self) -> int:
        return sum(v.used if v.used is not None else v.size for v in self.volumes.values())


@dataclass
class Node:
    name: str
    storages: dict[str, Storage]
    bridges: set[str] = field(default_factory=lambda: {"vmbr0"})
    # bridge → its ports, as /etc/network/interfaces says (vmbr0 on the NIC, as PVE installs)
    bridge_ports: dict[str, str] = field(default_factory=lambda: {"vmbr0": "eno1"})
    status: str = "online"
    maxcpu: int = 8
    maxmem: int = 32 * GIB
    mem: int = 2 * GIB  # in use


@dataclass
class Vm:
    vmid: int
    node: str
    config: dict[str, Any]
    status: str = "stopped"
    started: float | None = None
    # What the guest agent reports (network-get-interfaces); None = agent not responding.
    guest_interfaces: list[dict[str, Any]] | None = None
    # What runs the agent's guest-exec (guest.py); setting one also makes the agent answer.
    guest: Guest | None = None
    exec_procs: dict[int, GuestProcess] = field(default_factory=dict)  # guest pid → process

    @property
    def agent_running(self) -> bool:
        return self.guest is not None or self.guest_interfaces is not None

    @property
    def lock(self) -> str | None:
        return self.config.get("lock")


@dataclass
class Sdn:
    zones: dict[str, dict[str, Any]] = field(default_factory=dict)
    vnets: dict[str, dict[str, Any]] = field(default_factory=dict)
    subnets: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Token:
    userid: str  # user@realm
    tokenid: str
    secret: str
    acl: Acl = field(default_factory=Acl)
    expire: int | None = None  # epoch seconds; an expired token fails authentication

    @property
    def full_id(self) -> str:
        return f"{self.userid}!{self.tokenid}"

    @property
    def header(self) -> str:
        """The Authorization header value proxmoxer sends for this token."""
        return f"PVEAPIToken={self.full_id}={self.secret}"


def default_storages() -> dict[str, Storage]:
    return {
        "local": Storage("local", "dir", {"iso", "vztmpl", "backup", "import"},
                         path="/var/lib/vz"),
        "local-lvm": Storage("local-lvm", "lvmthin", {"images", "rootdir"}),
    }


def config_digest(config: dict[str, Any]) -> str:
    text = "".join(f"{k}: {v}\n" for k, v in sorted(config.items()) if k != "digest")
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 (PVE's config digest is SHA-1)


class State:
    def __init__(self, nodes: tuple[str, ...] = ("pve",)) -> None:
        self.lock = threading.RLock()
        self.nodes: dict[str, Node] = {n: Node(n, default_storages()) for n in nodes}
        self.vms: dict[int, Vm] = {}
        self.sdn = Sdn()
        self.sdn_running = Sdn()
        self.ipams = {"pve"}
        self.tokens: dict[str, Token] = {}
        self.passwords: dict[str, str] = {}  # userid -> password, for /access/ticket
        self.user_acls: dict[str, Acl] = {}  # ACLs of ticket users other than root@pam
        self.tickets: dict[str, tuple[str, str]] = {}  # ticket -> (userid, csrf token)
        self.tasks = TaskRegistry()
        self.version = {"version": "9.1.3", "release": "9.1", "repoid": "0b1e6c4d"}
        self.cluster_name: str | None = None
        # Gives a VM that starts without a guest model one (tests: by VM name), so VMs a
        # deploy creates answer guest-exec from the moment they run.
        self.guest_for: Callable[[Vm], Guest | None] | None = None

    # -- auth --------------------------------------------------------------------------
    def add_token(self, userid: str = "nativek8s@pve", tokenid: str = "lab",
                  privileges: frozenset[str] | set[str] | None = LAB_PRIVILEGES,
                  path: str = "/") -> Token:
        token = Token(userid, tokenid, secrets.token_hex(16))
        if privileges:
            token.acl.grant(path, *sorted(privileges))
        self.tokens[token.full_id] = token
        return token

    def verify_token(self, value: str) -> str | None:
        """``user@realm!tokenid=secret`` -> token id, or None (PVE logs the reason only)."""
        full_id, sep, secret = value.partition("=")
        token = self.tokens.get(full_id)
        if not sep or token is None or not secrets.compare_digest(token.secret, secret):
            return None
        if token.expire is not None and token.expire <= time.time():
            return None
        return full_id

    def acl_of(self, subject: str) -> Acl:
        token = self.tokens.get(subject)
        if token is not None:
            return token.acl
        if subject == "root@pam":  # root@pam holds every privilege everywhere
            acl = Acl()
            acl.grant("/", "Administrator")
            return acl
        return self.user_acls.setdefault(subject, Acl()) if subject else Acl()

    # -- lookups -------------------------------------------------------------------------
    def node(self, name: str) -> Node:
        if name not in self.nodes:
            raise die(f"hostname lookup '{name}' failed - failed to get address info for: "
                      f"{name}: Name or service not known")
        return self.nodes[name]

    def vm(self, node: str, vmid: int) -> Vm:
        vm = self.vms.get(vmid)
        if vm is None or vm.node != node:
            raise die(f"Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist")
        return vm

    def storage(self, node: str, storeid: str) -> Storage:
        storage = self.node(node).storages.get(storeid)
        if storage is None:
            raise die(f"storage '{storeid}' does not exist")
        return storage

    def volume(self, node: str, volid: str) -> Volume | None:
        storeid = volid.split(":", 1)[0]
        storage = self.nodes[node].storages.get(storeid) if node in self.nodes else None
        return storage.volumes.get(volid) if storage else None

    def alloc_disk(self, node: str, storeid: str, vmid: int, size: int, fmt: str | None = None,
                   sha256: str | None = None) -> Volume:
        storage = self.storage(node, storeid)
        index = 0
        while any(f"vm-{vmid}-disk-{index}" in v for v in storage.volumes):
            index += 1
        if storage.type == "dir":
            fmt = fmt or "qcow2"
            volid = f"{storeid}:{vmid}/vm-{vmid}-disk-{index}.{fmt}"
        else:
            fmt = "raw"
            volid = f"{storeid}:vm-{vmid}-disk-{index}"
        vol = Volume(volid, "images", fmt, size, vmid=vmid, sha256=sha256)
        storage.volumes[volid] = vol
        return vol

    def copy_sdn(self) -> Sdn:
        return copy.deepcopy(self.sdn)
