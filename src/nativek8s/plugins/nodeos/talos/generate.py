"""The lab's Talos secrets and machine configs, made by talosctl into private files.

``gen secrets`` runs once per lab (the bundle is the cluster's identity: CAs, tokens).
``gen config`` runs again only when one of its inputs changed (command line, bundle,
cluster patches); its outputs hold keys, so they are written in a private folder, made
0600 and moved into place whole.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from nativek8s.api import SECRET_MODE, Plan

from . import commands as cmd
from .disks import Disks, install_disks
from .images import installer_image
from .options import TalosOptions
from .record import ProvisionRecord
from .render import patch_files
from .talosctl import Talosctl
from .versions import TalosVersion

SECRETS_NAME = "talos-secrets.yaml"


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def ensure_secrets(talosctl: Talosctl, layout: cmd.Layout, version: TalosVersion) -> str:
    bundle = Path(layout.secrets)
    private_dir(bundle.parent)
    if bundle.exists() and bundle.stat().st_size > 0:
        bundle.chmod(SECRET_MODE)
        return "kept (generated earlier)"
    tmp = bundle.with_name(f".{bundle.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        talosctl.run(cmd.gen_secrets(layout, version, output=str(tmp)))
        tmp.chmod(SECRET_MODE)
        os.replace(tmp, bundle)
    finally:
        tmp.unlink(missing_ok=True)
    return f"generated {bundle.name}"


def write_patches(plan: Plan, folder: Path, disks: Disks | None = None) -> None:
    """The rendered patches, and nothing else (a patch left from another plan is removed)."""
    wanted = {folder / f.path: str(f.content) for f in patch_files(plan, disks)}
    for path, content in wanted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def ensure_configs(talosctl: Talosctl, plan: Plan, layout: cmd.Layout, version: TalosVersion,
                   kubernetes: str, options: TalosOptions, record: ProvisionRecord,
                   disks: Disks | None = None) -> str:
    disks = disks or install_disks(plan)
    write_patches(plan, Path(layout.patches), disks)
    first = cmd.control_planes(plan)[0]

    def gen(output: str | None = None) -> list[str]:
        return cmd.gen_config(plan, layout, version, kubernetes, disks[first.name],
                              installer_image(options, version),
                              controlplane_patch=version.multidoc, output=output)

    patches = Path(layout.patches)
    inputs = digest(" ".join(gen()), Path(layout.secrets).read_bytes(),
                    *(p.read_bytes() for p in sorted(patches.glob("*.yaml"))))
    generated, talosconfig = Path(layout.generated), Path(layout.talosconfig)
    outputs = [generated / "controlplane.yaml", generated / "worker.yaml", talosconfig]
    if record.get("config_inputs") == inputs and all(p.exists() for p in outputs):
        return "unchanged"
    tmp = generated.with_name(f".generated.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    private_dir(tmp)
    old = generated.with_name(".generated.old")
    try:
        out = tmp / "out"  # gen config makes its output folder itself
        talosctl.run(gen(str(out)))
        for made in out.iterdir():
            made.chmod(SECRET_MODE)  # they hold the cluster's keys
        os.replace(out / "talosconfig", talosconfig)
        shutil.rmtree(old, ignore_errors=True)
        if generated.exists():
            os.replace(generated, old)
        os.replace(out, generated)
        generated.chmod(0o700)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    record.set("config_inputs", inputs)
    return f"generated controlplane.yaml, worker.yaml, talosconfig (Kubernetes {kubernetes})"
