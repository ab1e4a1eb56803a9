"""Tests of the Proxmox VE API stand-in, driven through the real proxmoxer client."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest

proxmoxer = pytest.importorskip("proxmoxer")
requests = pytest.importorskip("requests")

from proxmoxer import ResourceException  # noqa: E402

from tests.standins.proxmox_api import ApiSchema, ProxmoxStandin, require_schema  # noqa: E402
from tests.standins.proxmox_api.fixture import proxmox_standin  # noqa: E402,F401
from tests.standins.proxmox_api.handlers import load_all  # noqa: E402
from tests.standins.proxmox_api.validate import perl_pattern  # noqa: E402
from tests.support.http_site import Site, serve  # noqa: E402 - after importorskip

GIB = 1024**3


def qcow2_image(virtual_size: int, payload: bytes = b"") -> bytes:
    """A minimal qcow2 v3 header (magic, version, no backing file, virtual size)."""
    header = b"QFI\xfb" + struct.pack(">IQIIQ", 3, 0, 0, 16, virtual_size)
    return header + b"\0" * (104 - len(header)) + payload


def named(data: bytes, name: str) -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name  # proxmoxer sends the file object's name as the multipart file name
    return f


def wait_task(api: Any, upid: str, node: str = "pve") -> dict[str, Any]:
    for _ in range(2000):
        status = api.nodes(node).tasks(upid).status.get()
        if status["status"] == "stopped":
            return status
        time.sleep(0.005)
    raise AssertionError(f"task {upid} never stopped")


def error_of(call: Any) -> ResourceException:
    with pytest.raises(ResourceException) as info:
        call()
    return info.value


@pytest.fixture
def api(proxmox_standin: ProxmoxStandin) -> Any:  # noqa: F811
    return proxmox_standin.client()


def upload_image(api: Any, data: bytes, name: str = "talos-v1.13.qcow2") -> str:
    upid = api.nodes("pve").storage("local").upload.post(content="import",
                                                         filename=named(data, name))
    assert wait_task(api, upid)["exitstatus"] == "OK"
    return f"local:import/{name}"


def test_schema_patterns_compile_and_routes_exist() -> None:
    schema = ApiSchema.load(require_schema())
    for endpoint in schema.endpoints():
        for prop in endpoint.properties.values():
            if "pattern" in prop:
                re.compile("^" + perl_pattern(prop["pattern"]) + "$")
    missing = [key for key in load_all() if key[1] not in schema.by_template
               or key[0] not in schema.by_template[key[1]].endpoints]
    assert missing == []


def test_create_vm_from_imported_disk(proxmox_standin: ProxmoxStandin, api: Any) -> None:  # noqa: F811
    image = qcow2_image(2 * GIB, b"talos")
    volid = upload_image(api, image)
    listing = api.nodes("pve").storage("local").content.get(content="import")
    assert [(v["volid"], v["format"], v["size"]) for v in listing] == [(volid, "qcow2", 2 * GIB)]
    vmid = int(api.cluster.nextid.get())
    assert vmid == 100

    upid = api.nodes("pve").qemu.post(
        vmid=vmid, name="dc1-cp1", memory="2048", cores=2, ostype="l26", agent="enabled=1",
        tags="nativek8s;dc1", serial0="socket", scsihw="virtio-scsi-single",
        net0="virtio,bridge=vmbr0", scsi0=f"local-lvm:0,import-from={volid},iothread=1",
        boot="order=scsi0")
    assert re.fullmatch(r"UPID:pve:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmcreate:100:"
                        r"nativek8s@pve!lab:", upid)
    assert wait_task(api, upid)["exitstatus"] == "OK"

    config = api.nodes("pve").qemu(vmid).config.get()
    assert config["scsi0"] == "local-lvm:vm-100-disk-0,iothread=1,size=2G"
    assert re.fullmatch(r"virtio=BC:24:11(:[0-9A-F]{2}){3},bridge=vmbr0", config["net0"])
    assert (config["name"], config["serial0"], config["boot"]) == \
        ("dc1-cp1", "socket", "order=scsi0")
    disk = proxmox_standin.state.volume("pve", "local-lvm:vm-100-disk-0")
    assert disk is not None and disk.sha256 == hashlib.sha256(image).hexdigest()

    assert wait_task(api, api.nodes("pve").qemu(vmid).status.start.post())["exitstatus"] == "OK"
    assert api.nodes("pve").qemu(vmid).status.current.get()["status"] == "running"
    [resource] = api.cluster.resources.get(type="vm")
    assert (resource["vmid"], resource["status"], resource["name"]) == (100, "running", "dc1-cp1")

    err = error_of(lambda: api.nodes("pve").qemu(vmid).delete(purge=1))
    assert (err.status_code, err.content) == (500, "VM 100 is running - destroy failed")
    wait_task(api, api.nodes("pve").qemu(vmid).status.stop.post())
    assert wait_task(api, api.nodes("pve").qemu(vmid).delete(purge=1))["exitstatus"] == "OK"
    assert api.nodes("pve").qemu.get() == []
    assert api.nodes("pve").storage("local-lvm").content.get() == []


def test_unknown_path_and_method_are_not_implemented(api: Any) -> None:
    err = error_of(lambda: api.nodes("pve").qemu(100).frobnicate.get())
    assert (err.status_code, err.content) == (501, "Method 'GET /nodes/pve/qemu/100/frobnicate' "
                                                   "not implemented")
    err = error_of(lambda: api.version.delete())
    assert (err.status_code, err.content) == (501, "Method 'DELETE /version' not implemented")


def test_unknown_parameter_is_rejected(api: Any) -> None:
    err = error_of(lambda: api.nodes("pve").qemu.post(vmid=100, memroy="2048"))
    assert (err.status_code, err.content) == (400, "Parameter verification failed.")
    assert err.errors == {"memroy": "property is not defined in schema and the schema does not "
                                    "allow additional properties"}


def test_type_format_enum_and_range_errors(api: Any) -> None:
    err = error_of(lambda: api.nodes("pve").qemu.post(
        vmid="abc", cores=0, ostype="linux", onboot=True, net0="virtio,bridge=vmbr0,mtu=x",
        name="bad_name", net40="virtio"))
    assert err.status_code == 400
    assert err.errors == {
        "vmid": "type check ('integer') failed - got 'abc'",
        "cores": "value must have a minimum value of 1",
        "ostype": "value 'linux' does not have a value in the enumeration 'other, wxp, w2k, "
                  "w2k3, w2k8, wvista, win7, win8, win10, win11, l24, l26, solaris'",
        "onboot": "type check ('boolean') failed - got 'True'",  # proxmoxer sends True as text
        "net0": "invalid format - format error\nnet0.mtu: type check ('integer') failed - "
                "got 'x'\n",
        "name": "invalid format - value does not look like a valid DNS name\n",
        "net40": "property is not defined in schema and the schema does not allow additional "
                 "properties",
    }
    err = error_of(lambda: api.nodes("pve").qemu.post(name="vm1"))
    assert err.errors == {"vmid": "property is missing and it is not optional"}
    err = error_of(lambda: api.cluster.sdn.vnets.post(vnet="x", zone="lab"))
    assert err.errors == {"vnet": "invalid format - vnet ID 'x' contains illegal characters\n"}


def test_no_api_token_may_set_args(proxmox_standin: ProxmoxStandin, api: Any) -> None:  # noqa: F811
    err = error_of(lambda: api.nodes("pve").qemu.post(vmid=100, args="-kernel /tmp/vmlinuz"))
    assert (err.status_code, err.content) == (500, "only root can set 'args' config")
    assert proxmox_standin.state.vms == {}
    root_token = proxmox_standin.add_token("root@pam", "full", ["Administrator"])
    err = error_of(lambda: proxmox_standin.client(root_token).nodes("pve").qemu.post(
        vmid=100, args="-kernel /tmp/vmlinuz"))
    assert (err.status_code, err.content) == (500, "only root can set 'args' config")
    root = proxmoxer.ProxmoxAPI(proxmox_standin.host, user="root@pam",
                                password=proxmox_standin.root_password,
                                verify_ssl=str(proxmox_standin.ca_file))
    upid = root.nodes("pve").qemu.post(vmid=100, args="-kernel /tmp/vmlinuz")
    assert wait_task(root, upid)["exitstatus"] == "OK"
    assert root.nodes("pve").qemu(100).config.get()["args"] == "-kernel /tmp/vmlinuz"
    err = error_of(lambda: api.nodes("pve").qemu(100).config.put(args="-append x"))
    assert (err.status_code, err.content) == (500, "only root can set 'args' config")


def test_bad_or_missing_token_is_unauthorized(proxmox_standin: ProxmoxStandin) -> None:  # noqa: F811
    token = proxmox_standin.token
    bad = proxmoxer.ProxmoxAPI(proxmox_standin.host, user=token.userid,
                               token_name=token.tokenid, token_value="0" * 32,
                               verify_ssl=str(proxmox_standin.ca_file))
    err = error_of(lambda: bad.version.get())
    assert (err.status_code, err.content) == (401, "Authentication failed!")
    resp = requests.get(f"{proxmox_standin.base_url}/version",
                        verify=str(proxmox_standin.ca_file))
    assert (resp.status_code, resp.reason) == (401, "No ticket")


def test_missing_privilege_is_forbidden(proxmox_standin: ProxmoxStandin) -> None:  # noqa: F811
    token = proxmox_standin.add_token(tokenid="audit", privileges=["PVEAuditor"])
    api = proxmox_standin.client(token)
    err = error_of(lambda: api.nodes("pve").qemu.post(vmid=100, memory="1024"))
    assert (err.status_code, err.content) == (403, "Permission check failed")
    err = error_of(lambda: api.cluster.sdn.zones.post(zone="lab", type="simple"))
    assert (err.status_code, err.content) == (403, "Permission check failed (/sdn/zones, "
                                                   "SDN.Allocate)")
    perms = api.access.permissions.get(path="/vms/100")
    assert "VM.Audit" in perms["/vms/100"] and "VM.Allocate" not in perms["/vms/100"]

    # privileges can be narrowed per path: the deepest ACL path wins
    token.acl.grant("/vms/100", "PVEVMAdmin")
    token.acl.grant("/storage/local-lvm", "Datastore.AllocateSpace")
    token.acl.grant("/sdn/zones/localnetwork/vmbr0", "SDN.Use")
    upid = api.nodes("pve").qemu.post(vmid=100, memory="1024", scsi0="local-lvm:1",
                                      net0="virtio,bridge=vmbr0")
    assert wait_task(api, upid)["exitstatus"] == "OK"
    err = error_of(lambda: api.nodes("pve").qemu.post(vmid=101, memory="1024"))
    assert err.status_code == 403


def test_task_failure_shows_in_status_and_log(proxmox_standin: ProxmoxStandin, api: Any) -> None:  # noqa: F811
    wait_task(api, api.nodes("pve").qemu.post(vmid=100, net0="virtio,bridge=lab1"))
    status = wait_task(api, api.nodes("pve").qemu(100).status.start.post())
    assert status["exitstatus"] == "bridge 'lab1' does not exist"

    proxmox_standin.state.tasks.fail_next("qmstop", "timeout waiting on systemd",
                                          log=["trying to acquire lock..."])
    upid = api.nodes("pve").qemu(100).status.stop.post()
    assert wait_task(api, upid)["exitstatus"] == "timeout waiting on systemd"
    lines = [line["t"] for line in api.nodes("pve").tasks(upid).log.get()]
    assert lines == ["trying to acquire lock...", "TASK ERROR: timeout waiting on systemd"]

    proxmox_standin.state.tasks.hold("qmstart")
    upid = api.nodes("pve").qemu(100).status.start.post()
    assert api.nodes("pve").tasks(upid).status.get()["status"] == "running"
    proxmox_standin.state.tasks.release("qmstart")
    assert wait_task(api, upid)["exitstatus"] == "bridge 'lab1' does not exist"

    err = error_of(lambda: api.nodes("pve").qemu.post(vmid=100))
    assert (err.status_code, err.content) == (500, "unable to create VM 100 - VM 100 already "
                                                   "exists on node 'pve'")
    err = error_of(lambda: api.cluster.nextid.get(vmid=100))
    assert err.errors == {"vmid": "VM 100 already exists"}


def test_request_faults_token_expiry_and_cdrom(proxmox_standin: ProxmoxStandin,  # noqa: F811
                                               api: Any) -> None:
    proxmox_standin.api.fail_next("POST", "/nodes/{node}/qemu")
    err = error_of(lambda: api.nodes("pve").qemu.post(vmid=100))
    assert (err.status_code, err.content) == (500, "cluster not ready - no quorum?")
    assert proxmox_standin.state.vms == {}

    upid = api.nodes("pve").qemu.post(vmid=100, cdrom="local:iso/talos-amd64.iso")
    assert wait_task(api, upid)["exitstatus"] == \
        "unable to create VM 100 - volume 'local:iso/talos-amd64.iso' does not exist"
    assert proxmox_standin.state.vms == {}
    upid = api.nodes("pve").storage("local").upload.post(
        content="iso", filename=named(b"iso9660", "talos-amd64.iso"))
    wait_task(api, upid)
    wait_task(api, api.nodes("pve").qemu.post(vmid=100, cdrom="local:iso/talos-amd64.iso"))
    assert api.nodes("pve").qemu(100).config.get()["ide2"] == \
        "local:iso/talos-amd64.iso,media=cdrom"

    proxmox_standin.token.expire = int(time.time()) - 1
    err = error_of(lambda: api.version.get())
    assert (err.status_code, err.content) == (401, "Authentication failed!")


def test_sdn_zone_vnet_subnet_and_apply(proxmox_standin: ProxmoxStandin, api: Any) -> None:  # noqa: F811
    sdn = api.cluster.sdn
    err = error_of(lambda: sdn.zones.post(zone="lab", type="vxlan"))
    assert (err.status_code, err.content) == (
        500, "create sdn zone object failed: 400 Parameter verification failed.")
    sdn.zones.post(zone="lab", type="vxlan", peers="10.0.0.1,10.0.0.2", mtu=1450)
    err = error_of(lambda: sdn.zones.post(zone="lab", type="simple"))
    assert err.content == "create sdn zone object failed: sdn zone object ID 'lab' already defined"

    err = error_of(lambda: sdn.vnets.post(vnet="dc1pods01", zone="lab", tag=100))
    assert err.errors == {"vnet": "invalid format - vnet ID 'dc1pods01' can't be more length "
                                  "than 8 characters\n"}
    err = error_of(lambda: sdn.vnets.post(vnet="dc1pods", zone="lab"))
    assert err.content == "create sdn vnet object failed: 400 Parameter verification failed."
    sdn.vnets.post(vnet="dc1pods", zone="lab", tag=100)
    sdn.vnets("dc1pods").subnets.post(subnet="10.10.0.0/24", type="subnet", gateway="10.10.0.1")
    err = error_of(lambda: sdn.vnets("dc1pods").subnets.post(subnet="10.11.0.0/24",
                                                             type="subnet", gateway="10.10.0.1"))
    assert "create sdn subnet object failed" in err.content

    [pending] = sdn.vnets.get(pending=1)
    assert (pending["vnet"], pending["state"], pending["pending"]["tag"]) == ("dc1pods", "new", 100)
    assert sdn.vnets.get(running=1) == []

    wait_task(api, api.nodes("pve").qemu.post(vmid=100, net0="virtio,bridge=dc1pods"))
    assert wait_task(api, api.nodes("pve").qemu(100).status.start.post())["exitstatus"] \
        == "bridge 'dc1pods' does not exist"
    upid = sdn.put()
    assert ":reloadnetworkall::" in upid and wait_task(api, upid)["exitstatus"] == "OK"
    assert [v["vnet"] for v in sdn.vnets.get(running=1)] == ["dc1pods"]
    assert "state" not in sdn.vnets.get(pending=1)[0]
    assert [s["subnet"] for s in sdn.vnets("dc1pods").subnets.get()] == ["lab-10.10.0.0-24"]
    assert wait_task(api, api.nodes("pve").qemu(100).status.start.post())["exitstatus"] == "OK"


def test_upload_checks(proxmox_standin: ProxmoxStandin, api: Any) -> None:  # noqa: F811
    storage = api.nodes("pve").storage
    err = error_of(lambda: storage("local").upload.post(content="import",
                                                        filename=named(b"x", "talos.img")))
    assert err.errors == {"filename": "invalid filename or wrong extension"}
    err = error_of(lambda: storage("local-lvm").upload.post(content="iso",
                                                            filename=named(b"x", "a.iso")))
    assert (err.status_code, err.content) == (500, "can't upload to storage type 'lvmthin'")
    upid = storage("local").upload.post(content="import", filename=named(b"not qcow2", "x.qcow2"))
    assert wait_task(api, upid)["exitstatus"] == "failed to query file information with qemu-img"
    upid = storage("local").upload.post(content="iso", filename=named(b"iso", "a.iso"),
                                        **{"checksum-algorithm": "sha256", "checksum": "00"})
    assert wait_task(api, upid)["exitstatus"].startswith("checksum mismatch: got '")
    assert proxmox_standin.state.nodes["pve"].storages["local"].volumes == {}


@pytest.fixture
def image_server() -> Iterator[tuple[str, bytes]]:
    payload = qcow2_image(GIB)
    with serve(Site(files={"/talos.qcow2": payload})) as site:
        yield f"{site.base}/talos.qcow2", payload


def test_download_url_fetches_from_loopback(proxmox_standin: ProxmoxStandin, api: Any,  # noqa: F811
                                            image_server: tuple[str, bytes]) -> None:
    url, payload = image_server
    storage = api.nodes("pve").storage("local")
    digest = hashlib.sha256(payload).hexdigest()
    upid = storage("download-url").post(url=url, content="import", filename="talos.qcow2",
                                        **{"checksum-algorithm": "sha256", "checksum": digest})
    assert wait_task(api, upid)["exitstatus"] == "OK"
    vol = proxmox_standin.state.volume("pve", "local:import/talos.qcow2")
    assert vol is not None and (vol.size, vol.sha256) == (GIB, digest)
    upid = storage("download-url").post(url="https://factory.talos.dev/x.qcow2",
                                        content="import", filename="y.qcow2")
    assert "only fetches from loopback" in wait_task(api, upid)["exitstatus"]


def test_answers_match_the_schema_returns(proxmox_standin: ProxmoxStandin,  # noqa: F811
                                          api: Any) -> None:
    """The stand-in checks every answer against the schema's 'returns' (500 if not)."""
    node = api.nodes("pve")
    volid = upload_image(api, qcow2_image(GIB), "a.qcow2")
    wait_task(api, node.qemu.post(vmid=100, scsi0=f"local-lvm:0,import-from={volid}",
                                  net0="virtio,bridge=vmbr0", agent=1, ipconfig0="ip=dhcp"))
    wait_task(api, node.qemu(100).status.start.post())
    err = error_of(lambda: node.qemu(100).agent.ping.post())
    assert err.content == "QEMU guest agent is not running"
    proxmox_standin.state.vms[100].guest_interfaces = [
        {"name": "eth0", "ip-addresses": [{"ip-address": "10.0.0.5", "prefix": 24,
                                           "ip-address-type": "ipv4"}]}]
    api.cluster.sdn.zones.post(zone="lab", type="simple", ipam="pve")
    api.cluster.sdn.vnets.post(vnet="v1", zone="lab")
    api.cluster.sdn.vnets("v1").subnets.post(subnet="10.1.0.0/24", type="subnet", snat=1)
    answers = [
        api.cluster.status.get(), api.cluster.resources.get(), node.tasks.get(),
        node.network.get(type="bridge"), node.storage.get(content="images"),
        node.storage("local").status.get(), node.storage("local").content(volid).get(),
        api.cluster.sdn.zones.get(pending=1), api.cluster.sdn.vnets("v1").get(pending=1),
        api.cluster.sdn.vnets("v1").subnets.get(), node.qemu.get(),
        node.qemu(100)("agent")("network-get-interfaces").get(),
        node.qemu(100).config.put(cores=4, delete="agent"), api.access.permissions.get(),
    ]
    assert all(answer is not None for answer in answers[:-2]) and answers[-2] is None
    assert ("GET", "/nodes/pve/qemu/100/agent/network-get-interfaces", 200) \
        in proxmox_standin.api.requests


def test_plain_http_with_json_body() -> None:
    require_schema()
    with ProxmoxStandin(tls=False) as pve:
        headers = {"Authorization": pve.token.header}
        assert pve.base_url.startswith("http://127.0.0.1:")
        resp = requests.get(f"{pve.base_url}/version", headers=headers, timeout=5)
        assert resp.json()["data"]["release"] == "9.1"
        resp = requests.post(f"{pve.base_url}/nodes/pve/qemu", headers=headers, timeout=5,
                             json={"vmid": 100, "cores": "two", "onboot": True})
        assert (resp.status_code, resp.reason) == (400, "Parameter verification failed.")
        assert resp.json() == {"data": None, "message": "Parameter verification failed.\n",
                               "errors": {"cores": "type check ('integer') failed - got 'two'"}}
