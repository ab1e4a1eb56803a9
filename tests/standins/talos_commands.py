"""Offline talosctl commands of the stand-in: ``version --client``, ``gen secrets``, ``gen config``.

Behaviour follows siderolabs/talos v1.13.9 ``cmd/talosctl/cmd/mgmt/gen/{secrets,config}.go`` and
``pkg/machinery/version``: output paths and ``Created <path>`` lines on stderr, ``--force``
checks, endpoint validation with its ``try: "https://..."`` hint, output types, stdout ``-``.
Configs follow the version contract: the 1.13 layout (``talos_config``) or, from 1.14, the
multi-document one (``talos_config14``).
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from tests.standins import talos_config as tc
from tests.standins import talos_config14 as tc14
from tests.standins import talos_patch as tp
from tests.standins import talos_sim

if TYPE_CHECKING:
    from tests.standins.talos_cli import Ctx

GO_VERSION = "go1.26.6"
_KNOWN_SHA = {"v1.13.9": "3ebd10a7"}  # `git describe --abbrev=8` of the release tag
_VERSION_CONTRACT = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:-[0-9A-Za-z.-]+)?$")


class CommandError(Exception):
    """An error talosctl would print (message worded like upstream)."""


def injected(ctx: Ctx, node: dict | None = None, state: dict | None = None) -> bool:
    """Consume an injected failure for this command (opens the sim only if configured)."""
    if state is not None:
        return talos_sim.take_failure(state, ctx.command.path, node)
    if not os.environ.get(talos_sim.SIM_ENV) or not os.path.exists(os.environ[talos_sim.SIM_ENV]):
        return False  # offline commands work without a simulation file
    with talos_sim.session() as sim:
        return talos_sim.take_failure(sim, ctx.command.path)


# --- version --------------------------------------------------------------------------------


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def long_version(tag: str) -> str:
    sha = _KNOWN_SHA.get(tag) or hashlib.sha256(tag.encode()).hexdigest()[:8]
    return (
        f"\tTag:         {tag}\n\tSHA:         {sha}\n\tBuilt:       \n"
        f"\tGo version:  {GO_VERSION}\n\tOS/Arch:     linux/{_arch()}\n"
    )


def version(ctx: Ctx) -> int:
    if injected(ctx):
        raise CommandError("error getting version: " + talos_sim.refused("127.0.0.1"))
    if not ctx["json"]:
        ctx.out.write("Client:\n")
        ctx.out.write(f"Talos {ctx.version}\n" if ctx["short"] else long_version(ctx.version))
        if ctx["client"]:
            return 0
        ctx.out.write("Server:\n")
    from tests.standins import talos_resources  # server side needs the simulated nodes

    return talos_resources.server_version(ctx)


# --- gen secrets ----------------------------------------------------------------------------


def _check_contract(value: str) -> tuple[int, int] | None:
    if not value:
        return None
    match = _VERSION_CONTRACT.match(value)
    if not match:
        raise CommandError(f'invalid talos-version: error parsing version "{value}"')
    return int(match.group(1)), int(match.group(2))


def _may_write(ctx: Ctx, path: str) -> None:
    if not ctx["force"] and os.path.exists(path):
        raise CommandError(f'file "{path}" already exists, use --force to overwrite')


def gen_secrets(ctx: Ctx) -> int:
    _check_contract(ctx["talos-version"])
    for flag in ("from-controlplane-config", "from-kubernetes-pki"):
        if ctx[flag]:
            raise talos_sim.SimError(f"talosctl stand-in: gen secrets --{flag} is not simulated")
    if injected(ctx):
        raise CommandError("failed to create secrets bundle: talosctl stand-in: injected failure")
    data = yaml.dump(tc.new_secrets_bundle(), Dumper=tc.TalosDumper, indent=4, sort_keys=False)
    target = ctx["output-file"]
    if target == "-":
        ctx.out.write(data)
        return 0
    _may_write(ctx, target)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(data)
    return 0


# --- gen config -----------------------------------------------------------------------------


def _fixed_endpoint(host: str, port: str) -> str:
    return f'"https://{host}:{port or 6443}"'


def validate_endpoint(endpoint: str) -> None:
    scheme, sep, rest = endpoint.partition("://")
    if not sep:
        scheme, rest = "", endpoint
    hostport = rest.split("/", 1)[0]
    host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    if not scheme:
        if not port:
            raise CommandError(
                f"no scheme and port specified for the cluster endpoint URL\ntry: {_fixed_endpoint(host, port)}"
            )
        raise CommandError(
            f"no scheme specified for the cluster endpoint URL\ntry: {_fixed_endpoint(host, port)}"
        )
    if scheme != "https":
        raise CommandError(
            f"the control plane endpoint URL should have scheme https://\ntry: {_fixed_endpoint(host, port)}"
        )
    if not host:
        raise CommandError(f'error validating the cluster endpoint URL: "{endpoint}" has no host')


def _output_paths(ctx: Ctx, types: list[str]) -> dict[str, str]:
    output, output_dir = ctx["output"], ctx["output-dir"]
    names = {"controlplane": "controlplane.yaml", "worker": "worker.yaml", "talosconfig": "talosconfig"}
    if output == "-":
        return {t: "-" for t in names}
    if not output and not output_dir:
        return {t: os.path.join(os.getcwd(), n) for t, n in names.items()}
    if len(types) == 1 and not output_dir:
        return {t: output for t in names}
    base = output or output_dir
    return {t: os.path.join(base, n) for t, n in names.items()}


def _gen_options(ctx: Ctx) -> dict:
    return {
        "kubernetes_version": ctx["kubernetes-version"],
        "install_disk": ctx["install-disk"],
        "install_image": ctx["install-image"],
        "dns_domain": ctx["dns-domain"],
        "additional_sans": ctx["additional-sans"],
        "registry_mirrors": ctx["registry-mirror"],
        "with_kubespan": ctx["with-kubespan"],
        "with_cluster_discovery": ctx["with-cluster-discovery"],
    }


def gen_config(ctx: Ctx) -> int:
    cluster_name, endpoint = ctx.args
    validate_endpoint(endpoint)
    if ctx["version"] != "v1alpha1":
        raise CommandError(f'unknown config version: "{ctx["version"]}"')
    types = ctx["output-types"]
    if not types:
        raise CommandError("at least one output type must be specified")
    if len(types) > 1 and ctx["output"] == "-":
        raise CommandError("can't use multiple output types with stdout")
    if ctx["output-dir"] and ctx["output"]:
        raise CommandError("can't use both output-dir and output")
    bad = [t for t in types if t not in {"controlplane", "worker", "talosconfig"}]
    if bad:
        raise CommandError(tc.multierror([f'invalid output type: "{t}"' for t in bad]))
    paths = _output_paths(ctx, types)
    contract = _check_contract(ctx["talos-version"]) or ctx.minor
    generate = tc14.generate if contract >= (1, 14) else tc.generate
    mirrors = ctx["registry-mirror"]
    for spec in mirrors:
        if "=" not in spec:
            raise CommandError(f'invalid registry mirror spec: "{spec}"')
    bundle = tc.load_secrets_bundle(ctx["with-secrets"]) if ctx["with-secrets"] else tc.new_secrets_bundle()
    try:
        common = tp.load_patches(ctx["config-patch"])
        cp_only = tp.load_patches(ctx["config-patch-control-plane"])
        worker_only = tp.load_patches(ctx["config-patch-worker"])
    except tc.ConfigError as exc:
        raise CommandError(f"error parsing config JSON patch: {exc}") from None
    if injected(ctx):
        raise CommandError("failed to generate config bundle: talosctl stand-in: injected failure")
    ctx.err.write("generating PKI and tokens\n")
    opts = _gen_options(ctx)
    rendered: dict[str, str] = {}
    for kind, extra in (("controlplane", cp_only), ("worker", worker_only)):
        if kind in types:
            docs = generate(kind, bundle, cluster_name, endpoint, opts)
            try:
                docs = tp.apply_patches(docs, common + extra)
                tp.check_documents(docs)
            except tc.ConfigError as exc:
                raise CommandError(f"failed to generate config bundle: {exc}") from None
            rendered[kind] = tc.dump_docs(docs)
    if "talosconfig" in types:
        rendered["talosconfig"] = tc.dump_docs([tc.talosconfig(bundle, cluster_name)])
    for kind in ("controlplane", "worker", "talosconfig"):
        if kind in rendered:
            _write_output(ctx, paths[kind], rendered[kind])
    return 0


def _write_output(ctx: Ctx, destination: str, data: str) -> None:
    if destination == "-":
        ctx.out.write(data)
        return
    _may_write(ctx, destination)
    Path(destination).parent.mkdir(parents=True, exist_ok=True)
    Path(destination).write_text(data, encoding="utf-8")
    os.chmod(destination, 0o644)
    ctx.err.write(f"Created {destination}\n")
