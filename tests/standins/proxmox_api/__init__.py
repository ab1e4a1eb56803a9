"""Stand-in for the Proxmox VE 9.1 REST API (``/api2/json``), for testing the proxmox plugin.

It is a real HTTPS server on 127.0.0.1 (self-signed certificate made at runtime; plain HTTP
with ``tls=False``) that a real ``proxmoxer.ProxmoxAPI`` talks to with API-token auth. Every
request is matched against the upstream API schema (``../shared/upstream/proxmox/
apischema.9.1.3.json``): unknown paths answer 501, parameters are verified like
PVE::JSONSchema does (400 with per-parameter errors), the schema's permission checks run
against the token's ACL (403). Behind that, an in-memory cluster simulates what a lab
deployer uses: nodes, storages and volumes (upload, download-url), VMs (create with
``import-from``, config, power, destroy), SDN zones/vnets/subnets with apply, and worker
tasks (UPIDs, status, log) with injectable delays and failures.

    with ProxmoxStandin() as pve:
        api = pve.client()                      # proxmoxer, lab token, verifies pve.ca_file
        upid = api.nodes("pve").qemu.post(vmid=100, ...)
        pve.state.tasks.fail_next("qmstart", "bridge 'x' does not exist")
"""

from .errors import ApiError
from .perms import LAB_PRIVILEGES, ROLES
from .schema import ApiSchema, missing_reason, schema_path
from .server import ProxmoxStandin
from .state import State, Token

__all__ = ["LAB_PRIVILEGES", "ROLES", "ApiError", "ApiSchema", "ProxmoxStandin", "State",
           "Token", "missing_reason", "schema_path"]
