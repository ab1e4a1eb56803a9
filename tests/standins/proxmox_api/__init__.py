"""Stand-in for the Proxmox VE 9.1 REST API (``/api2/json``), for testing the proxmox plugin.

A real HTTPS server on 127.0.0.1 (self-signed certificate made at runtime, ``ca_file``; plain
HTTP with ``tls=False``, which proxmoxer cannot use) that a real ``proxmoxer.ProxmoxAPI``
talks to with API-token auth. Every request is matched against the upstream API schema
(``proxmox/apischema.9.1.3.json``, found by tests.upstream): unknown paths answer 501, parameters
are verified as PVE::JSONSchema does (400 with per-parameter errors), the schema's
permission checks run against the caller's ACL (403), and answers are checked against the
schema's ``returns``. Behind that, an in-memory cluster simulates what a lab deployer uses:
nodes, storages and volumes (upload, download-url), VMs (create with ``import-from``,
config, power, destroy, guest agent with exec), SDN zones/vnets/subnets with apply, and worker tasks
(UPIDs, status, log).

    with ProxmoxStandin() as pve:                # or the ``proxmox_standin`` fixture
        api = pve.client()                       # proxmoxer with the lab token, verifies TLS
        pve.host, pve.base_url, pve.ca_file      # 127.0.0.1:PORT, https://.../api2/json
        pve.token.userid, .tokenid, .secret      # nativek8s@pve, lab, <random>
        pve.token.acl.grant("/vms/100", "PVEVMAdmin"); pve.token.acl.revoke("/", "SDN.Use")
        pve.add_token("root@pam", "full", ["Administrator"])
        pve.state.tasks.delay = 0.2              # or .delays["qmcreate"] = 1.0
        pve.state.tasks.fail_next("qmstart", "bridge 'x' does not exist", log=["..."])
        pve.state.tasks.hold("qmcreate"); pve.state.tasks.release("qmcreate")
        pve.api.fail_next("POST", "/nodes/{node}/qemu", status=500, message="...")
        pve.state.vms[100].guest_interfaces = [...]   # what the guest agent reports
        pve.state.vms[100].guest = NamespaceGuest("ns")  # what agent/exec runs (guest.py)
        pve.state.guest_for = lambda vm: ...          # a guest for each VM as it starts
        pve.settle()                             # finish due tasks without an API call
"""

from .errors import ApiError
from .perms import LAB_PRIVILEGES, ROLES
from .schema import ApiSchema, missing_reason, require_schema, schema_path
from .server import ProxmoxStandin
from .state import State, Token

__all__ = ["LAB_PRIVILEGES", "ROLES", "ApiError", "ApiSchema", "ProxmoxStandin", "State",
           "Token", "missing_reason", "require_schema", "schema_path"]
