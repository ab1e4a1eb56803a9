"""Privileges, roles, ACLs and the evaluation of schema ``permissions`` (PVE 9.1 semantics).

Facts from pve-access-control: the privilege groups behind the built-in roles (PVEVMAdmin,
PVEAuditor, ...), ACL inheritance (the deepest ACL path that names the subject wins, and
only propagates to sub-paths when ``propagate`` is set), ``check``/``check_any`` messages,
and ``exec_api2_perm_check`` for ``perm``/``and``/``or`` tests. The ACL belongs to the
subject itself (an API token with privilege separation, or a user).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import perm_error

_GROUPS: dict[str, dict[str, list[str]]] = {
    "VM": {
        "root": [],
        "admin": ["VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network",
                  "VM.Config.HWType", "VM.Config.Options", "VM.Allocate", "VM.Clone",
                  "VM.GuestAgent.Unrestricted", "VM.Migrate", "VM.Replicate", "VM.Snapshot",
                  "VM.Snapshot.Rollback"],
        "user": ["VM.Config.CDROM", "VM.Config.Cloudinit", "VM.Console", "VM.Backup",
                 "VM.GuestAgent.FileRead", "VM.GuestAgent.FileSystemMgmt",
                 "VM.GuestAgent.FileWrite", "VM.PowerMgmt"],
        "audit": ["VM.Audit", "VM.GuestAgent.Audit"],
    },
    "Sys": {"root": ["Sys.PowerMgmt", "Sys.Modify", "Sys.Incoming", "Sys.AccessNetwork"],
            "admin": ["Sys.Console", "Sys.Syslog"], "user": [], "audit": ["Sys.Audit"]},
    "Datastore": {"root": [], "admin": ["Datastore.Allocate", "Datastore.AllocateTemplate"],
                  "user": ["Datastore.AllocateSpace"], "audit": ["Datastore.Audit"]},
    "SDN": {"root": [], "admin": ["SDN.Allocate", "SDN.Audit"], "user": ["SDN.Use"],
            "audit": ["SDN.Audit"]},
    "User": {"root": ["Realm.Allocate"],
             "admin": ["User.Modify", "Group.Allocate", "Realm.AllocateUser"],
             "user": [], "audit": []},
    "Pool": {"root": [], "admin": ["Pool.Allocate"], "user": ["Pool.Audit"],
             "audit": ["Pool.Audit"]},
    "Mapping": {"root": [], "admin": ["Mapping.Modify"], "user": ["Mapping.Use"],
                "audit": ["Mapping.Audit"]},
}


def _build_roles() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    valid = {"Permissions.Modify"}
    roles: dict[str, set[str]] = {"NoAccess": set(), "PVEAdmin": set(), "PVEAuditor": set()}
    for cat, groups in _GROUPS.items():
        for level in ("root", "admin", "user", "audit"):
            valid.update(groups[level])
        admin = groups["admin"] + groups["user"] + groups["audit"]
        roles.setdefault(f"PVE{cat}Admin", set()).update(admin)
        roles["PVEAdmin"].update(admin)
        if groups["user"]:
            roles[f"PVE{cat}User"] = set(groups["user"] + groups["audit"])
        roles["PVEAuditor"].update(groups["audit"])
    roles["Administrator"] = set(valid)
    return frozenset(valid), {k: frozenset(v) for k, v in roles.items()}


VALID_PRIVS, ROLES = _build_roles()

# What a lab deployer needs: VMs, storage, SDN, and fetching images (download-url).
LAB_PRIVILEGES = frozenset(
    ROLES["PVEVMAdmin"] | ROLES["PVEDatastoreAdmin"] | ROLES["PVESDNAdmin"]
    | {"Sys.Audit", "Sys.AccessNetwork"}
)


def normalize_path(path: str) -> str:
    path = "/" + "/".join(p for p in path.split("/") if p)
    return path


@dataclass
class AclEntry:
    path: str
    privs: frozenset[str]
    propagate: bool = True


@dataclass
class Acl:
    """ACL entries of one subject; ``grant`` accepts role names or privilege names."""

    entries: dict[str, AclEntry] = field(default_factory=dict)

    def grant(self, path: str, *roles_or_privs: str, propagate: bool = True) -> None:
        privs: set[str] = set()
        for name in roles_or_privs:
            if name in ROLES:
                privs |= ROLES[name]
            elif name in VALID_PRIVS:
                privs.add(name)
            else:
                raise ValueError(f"unknown role or privilege '{name}'")
        path = normalize_path(path)
        old = self.entries.get(path)
        if old is not None and old.propagate == propagate:
            privs |= old.privs
        self.entries[path] = AclEntry(path, frozenset(privs), propagate)

    def revoke(self, path: str, *privs: str) -> None:
        path = normalize_path(path)
        entry = self.entries.get(path)
        if entry is not None:
            self.entries[path] = AclEntry(path, entry.privs - set(privs), entry.propagate)

    def permissions(self, path: str) -> dict[str, bool]:
        """Privilege -> propagate flag at ``path`` (RPCEnvironment::permissions)."""
        path = normalize_path(path)
        comps = [c for c in path.split("/") if c]
        result: dict[str, bool] = {}
        for depth in range(len(comps) + 1):
            node = "/" + "/".join(comps[:depth])
            entry = self.entries.get(node)
            if entry is None:
                continue
            if node == path or entry.propagate:
                result = {p: entry.propagate for p in entry.privs}
        return result

    def has(self, path: str, priv: str) -> bool:
        return priv in self.permissions(path)

    def effective(self) -> dict[str, dict[str, int]]:
        """get_effective_permissions: default top-level paths plus every ACL path."""
        paths = {"/", "/access", "/access/groups", "/nodes", "/pool", "/sdn", "/storage", "/vms"}
        paths |= set(self.entries)
        out = {}
        for path in sorted(paths):
            perms = self.permissions(path)
            if perms:
                out[path] = {p: int(v) for p, v in sorted(perms.items())}
        return out


def template_replace(template: str, params: dict[str, Any]) -> str:
    return re.sub(r"\{(\w[\w-]*)\}", lambda m: str(params.get(m.group(1), "")), template)


class Checker:
    """Permission checks for one authenticated subject (``root@pam`` passes everything)."""

    def __init__(self, subject: str, acl: Acl) -> None:
        self.subject = subject
        self.acl = acl

    @property
    def is_root(self) -> bool:
        return self.subject == "root@pam"

    def check(self, path: str, privs: list[str] | tuple[str, ...], noerr: bool = False) -> bool:
        if self.is_root:
            return True
        for priv in privs:
            if not self.acl.has(path, priv):
                if noerr:
                    return False
                raise perm_error(f"{normalize_path(path)}, {priv}")
        return True

    def check_any(self, path: str, privs: list[str] | tuple[str, ...], noerr: bool = False) -> bool:
        if self.is_root or any(self.acl.has(path, p) for p in privs):
            return True
        if noerr:
            return False
        raise perm_error(f"{normalize_path(path)}, {'|'.join(privs)}")

    def check_api2(self, perms: dict[str, Any] | None, params: dict[str, Any]) -> None:
        """RPCEnvironment::check_api2_permissions."""
        if self.is_root:
            return
        if perms is None:
            raise perm_error("user != root@pam")
        if perms.get("user") in ("all", "world"):
            return
        if "check" in perms:
            self._exec(perms["check"], params, noerr=False)
            return
        raise perm_error()

    def _exec(self, check: list[Any], params: dict[str, Any], noerr: bool) -> bool:
        test = check[0]
        if test == "and":
            for sub in check[1:]:
                self._exec(sub, params, noerr=False)
            return True
        if test == "or":
            if any(self._exec(sub, params, noerr=True) for sub in check[1:]):
                return True
            if noerr:
                return False
            raise perm_error()
        if test == "perm":
            template, privs = check[1], check[2]
            options = dict(zip(check[3::2], check[4::2], strict=False))
            need = options.get("require_param")
            if need and params.get(need) is None:
                if noerr:
                    return False
                raise perm_error()
            path = template_replace(template, params)
            if options.get("any"):
                return self.check_any(path, privs, noerr)
            return self.check(path, privs, noerr)
        if test == "perm-modify":
            path = template_replace(check[1], params)
            return self.check_any(path, ["Permissions.Modify"], noerr)
        # userid-group / userid-param need the user database, which the stand-in lacks.
        if noerr:
            return False
        raise perm_error()
