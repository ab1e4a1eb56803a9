"""Uploads happen only when the storage lacks the file: names carry the content hash, so the
same name with the same size is the same bytes; a file of that name with another size (a
broken earlier upload) is uploaded again. Other labs reuse the shared installer ISO."""

from __future__ import annotations

import hashlib
import io
import time

from .pve_lab import Lab, make_plan, requests_matching, topology


def uploads(pve) -> list[str]:
    return requests_matching(pve, "POST", lambda p: p.endswith("/upload"))


def test_a_file_of_the_right_name_but_wrong_size_is_uploaded_again(pve, make_lab):
    lab = make_lab(pve)
    lab.deploy()
    iso = next(v for v in pve.state.nodes["pve"].storages["local"].volumes.values()
               if v.content == "iso")
    good = iso.sha256
    name = iso.volid.split("/", 1)[1]
    lab.destroy()
    api = pve.client()
    half = io.BytesIO(b"CD001 tiny")
    half.name = name
    upid = api.nodes("pve").storage("local").upload.post(content="iso", filename=half)
    while api.nodes("pve").tasks(upid).status.get()["status"] != "stopped":
        time.sleep(0.005)
    pve.api.requests.clear()
    make_lab(pve).deploy()
    assert len(uploads(pve)) == 3  # two router disks and the ISO, whose size was wrong
    assert pve.state.nodes["pve"].storages["local"].volumes[iso.volid].sha256 == good


def test_another_lab_reuses_the_installer_but_not_the_router_disks(pve, make_lab, tmp_path):
    first = make_lab(pve)
    first.deploy()
    pve.api.requests.clear()
    data = topology(pve, tmp_path / "pve.token")
    data["name"] = "other"
    second = Lab(make_plan(data, first.reg), tmp_path / "other-state", first.reg)
    second.deploy()
    assert len(uploads(pve)) == 2  # only the two routers' disks: the ISO was already there
    volumes = pve.state.nodes["pve"].storages["local"].volumes
    assert sum(v.startswith("local:import/nk8s-other-router-") for v in volumes) == 2
    image = tmp_path / "other-state" / "labs" / "other" / "backend" / "tinywrt" / "router-1.img"
    sha = hashlib.sha256(image.read_bytes()).hexdigest()
    assert f"local:import/nk8s-other-router-1-{sha[:16]}.raw" in volumes
    second.destroy()  # removes its disks, keeps the first lab's and the shared ISO
    assert sum(v.startswith("local:import/nk8s-reference-") for v in volumes) == 2
    assert sum(v.startswith("local:iso/") for v in volumes) == 1
    assert not any(v.startswith("local:import/nk8s-other-") for v in volumes)
