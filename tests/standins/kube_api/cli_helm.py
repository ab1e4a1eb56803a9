"""Stand-in for the helm v3 CLI (v3.19.5): `version`, `upgrade [--install]`, `repo add`,
`repo update`, with exactly the flags helm declares for them (cmd/helm/*.go of v3.19.5:
upgrade.go, flags.go, repo_add.go, version.go; pkg/cli/environment.go for globals).
Errors are printed as `Error: ...` with exit code 1, as helm's main does.

Only the Cilium chart is known (versions of the minors with an upstream CRD snapshot); installing it
talks to the Kubernetes API named by the kubeconfig (see cli_chart.py).
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.support.pflag import (
    ARRAY,
    BOOL,
    DURATION,
    FLOAT,
    INT,
    MAP,
    SLICE,
    STRING,
    Flag,
    FlagError,
    FlagSet,
    command_words,
)

from . import cli_chart as chart
from .cli_kube import Kube, KubeError, record, should_fail

VERSION, COMMIT = "v3.19.5", "4a19a5b6fb912c5c28a779e73f2e0880d9e239a4"

GLOBAL = [Flag("namespace", STRING, "", "n"), Flag("kubeconfig", STRING, ""),
          Flag("kube-context", STRING, ""), Flag("kube-token", STRING, ""),
          Flag("kube-as-user", STRING, ""), Flag("kube-as-group", ARRAY, []),
          Flag("kube-apiserver", STRING, ""), Flag("kube-ca-file", STRING, ""),
          Flag("kube-tls-server-name", STRING, ""), Flag("kube-insecure-skip-tls-verify", BOOL, False),
          Flag("debug", BOOL, False), Flag("registry-config", STRING, ""),
          Flag("repository-config", STRING, ""), Flag("repository-cache", STRING, ""),
          Flag("burst-limit", INT, 100), Flag("qps", FLOAT, 0.0)]

CHART_PATH = [Flag("version", STRING, ""), Flag("verify", BOOL, False), Flag("keyring", STRING, ""),
              Flag("repo", STRING, ""), Flag("username", STRING, ""), Flag("password", STRING, ""),
              Flag("cert-file", STRING, ""), Flag("key-file", STRING, ""),
              Flag("insecure-skip-tls-verify", BOOL, False), Flag("plain-http", BOOL, False),
              Flag("ca-file", STRING, ""), Flag("pass-credentials", BOOL, False)]
VALUES = [Flag("values", SLICE, [], "f"), Flag("set", ARRAY, []), Flag("set-string", ARRAY, []),
          Flag("set-file", ARRAY, []), Flag("set-json", ARRAY, []), Flag("set-literal", ARRAY, [])]
UPGRADE = [Flag("create-namespace", BOOL, False), Flag("install", BOOL, False, "i"),
           Flag("devel", BOOL, False), Flag("dry-run", STRING, "", no_opt_default="client"),
           Flag("hide-secret", BOOL, False), Flag("recreate-pods", BOOL, False),
           Flag("force", BOOL, False), Flag("no-hooks", BOOL, False),
           Flag("disable-openapi-validation", BOOL, False), Flag("skip-crds", BOOL, False),
           Flag("timeout", DURATION, 300.0), Flag("reset-values", BOOL, False),
           Flag("reuse-values", BOOL, False), Flag("reset-then-reuse-values", BOOL, False),
           Flag("wait", BOOL, False), Flag("wait-for-jobs", BOOL, False), Flag("atomic", BOOL, False),
           Flag("history-max", INT, 10), Flag("cleanup-on-fail", BOOL, False),
           Flag("render-subchart-notes", BOOL, False), Flag("hide-notes", BOOL, False),
           Flag("skip-schema-validation", BOOL, False), Flag("labels", MAP, {}, "l"),
           Flag("description", STRING, ""), Flag("dependency-update", BOOL, False),
           Flag("enable-dns", BOOL, False), Flag("take-ownership", BOOL, False),
           Flag("output", STRING, "table", "o"), Flag("post-renderer", STRING, ""),
           Flag("post-renderer-args", ARRAY, [])]
REPO_ADD = [Flag("username", STRING, ""), Flag("password", STRING, ""),
            Flag("password-stdin", BOOL, False), Flag("force-update", BOOL, False),
            Flag("no-update", BOOL, False), Flag("cert-file", STRING, ""),
            Flag("key-file", STRING, ""), Flag("ca-file", STRING, ""),
            Flag("insecure-skip-tls-verify", BOOL, False), Flag("allow-deprecated-repos", BOOL, False),
            Flag("pass-credentials", BOOL, False), Flag("timeout", DURATION, 120.0)]
VERSION_FLAGS = [Flag("short", BOOL, False), Flag("template", STRING, ""),
                 Flag("client", BOOL, True, "c")]
COMMANDS = {("version",): VERSION_FLAGS, ("upgrade",): UPGRADE + CHART_PATH + VALUES,
            ("repo", "add"): REPO_ADD,
            ("repo", "update"): [Flag("fail-on-repo-update-fail", BOOL, False)]}
USAGE = {("upgrade",): "helm upgrade [RELEASE] [CHART] [flags]",
         ("repo", "add"): "helm repo add [NAME] [URL] [flags]",
         ("repo", "update"): "helm repo update [REPO1 [REPO2 ...]] [flags]",
         ("version",): "helm version [flags]"}


class Fail(Exception):
    pass


def repo_file(explicit: str) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("HELM_REPOSITORY_CONFIG"):
        return Path(os.environ["HELM_REPOSITORY_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "helm" / "repositories.yaml"


def _repos(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return (yaml.safe_load(path.read_text()) or {}).get("repositories") or []


def split_command(argv: list[str]) -> tuple[tuple[str, ...], list[str]]:
    words = command_words(argv, GLOBAL + [f for flags in COMMANDS.values() for f in flags])
    for command in sorted(COMMANDS, key=len, reverse=True):
        if tuple(words[:len(command)]) == command:
            rest = list(argv)
            for word in command:
                rest.remove(word)
            return command, rest
    if words[:1] == ["repo"]:
        raise Fail(f'unknown command "{words[1] if len(words) > 1 else ""}" for "helm repo"')
    raise Fail(f'unknown command "{words[0] if words else ""}" for "helm"\n'
               "Run 'helm --help' for usage.")


def main(argv: list[str]) -> int:
    record("helm", argv)
    try:
        command, rest = split_command(argv)
        opts = FlagSet(GLOBAL + COMMANDS[command]).parse(rest)
        if opts["help"]:
            print(f"Usage:\n  {USAGE[command]}")
            return 0
        if should_fail("helm", command[-1]) or (command == ("upgrade",) and should_fail("helm", "install")):
            raise Fail("injected failure (NK8S_STANDIN_FAIL)")
        if command == ("version",):
            return cmd_version(opts)
        if command == ("repo", "add"):
            return cmd_repo_add(opts)
        if command == ("repo", "update"):
            return cmd_repo_update(opts)
        return cmd_upgrade(opts)
    except (Fail, FlagError, chart.ChartError, KubeError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1


def _args(opts: Any, count: int, command: tuple[str, ...]) -> list[str]:
    if len(opts.args) != count:
        plural = "argument" if count == 1 else "arguments"
        raise Fail(f'"helm {" ".join(command)}" requires {count} {plural}\n\nUsage:  {USAGE[command]}')
    return opts.args


def cmd_version(opts: Any) -> int:
    if opts.args:
        raise Fail(f'"helm version" accepts no arguments\n\nUsage:  {USAGE[("version",)]}')
    if opts["short"]:
        print(f"{VERSION}+g{COMMIT[:7]}")
    else:
        print(f'version.BuildInfo{{Version:"{VERSION}", GitCommit:"{COMMIT}", '
              'GitTreeState:"clean", GoVersion:"go1.24.11"}')
    return 0


def cmd_repo_add(opts: Any) -> int:
    name, url = _args(opts, 2, ("repo", "add"))
    if "/" in name:
        raise Fail(f"repository name ({name}) contains '/', please specify a different name without '/'")
    if not url.startswith(("http://", "https://", "oci://")):
        raise Fail(f"could not find protocol handler for: {url.split(':', 1)[0] if ':' in url else ''}")
    path = repo_file(opts["repository-config"])
    repos = _repos(path)
    existing = next((r for r in repos if r["name"] == name), None)
    if existing and not opts["force-update"]:
        if existing["url"] == url:
            print(f'"{name}" already exists with the same configuration, skipping')
            return 0
        raise Fail(f"repository name ({name}) already exists, please specify a different name")
    repos = [r for r in repos if r["name"] != name] + [{
        "name": name, "url": url, "username": "", "password": "", "certFile": "", "keyFile": "",
        "caFile": "", "insecure_skip_tls_verify": False, "pass_credentials_all": False}]
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"apiVersion": "", "generated": datetime.datetime.now(datetime.UTC).isoformat(),
           "repositories": repos}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        yaml.safe_dump(doc, handle, sort_keys=False)
    print(f'"{name}" has been added to your repositories')
    return 0


def cmd_repo_update(opts: Any) -> int:
    repos = _repos(repo_file(opts["repository-config"]))
    if not repos:
        raise Fail("no repositories found. You must add one before updating")
    print("Hang tight while we grab the latest from your chart repositories...")
    for repo in repos:
        print(f'...Successfully got an update from the "{repo["name"]}" chart repository')
    print("Update Complete. ⎈Happy Helming!⎈")
    return 0


def _chart_ok(ref: str, opts: Any) -> None:
    if opts["repo"]:
        if ref != "cilium":
            raise Fail(f'chart "{ref}" not found in {opts["repo"]} repository')
        return
    if "/" in ref and not ref.startswith((".", "/")):
        repo, name = ref.split("/", 1)
        if repo not in {r["name"] for r in _repos(repo_file(opts["repository-config"]))}:
            raise Fail(f"repo {repo} not found")
        if name != "cilium":
            raise Fail(f'chart "{name}" matching {opts["version"]} not found in {repo} index. '
                       "(try 'helm repo update'): no chart name found")
        return
    raise Fail(f"path \"{ref}\" not found" if not Path(ref).exists() else
               f"stand-in knows only the cilium chart, not {ref}")


def cmd_upgrade(opts: Any) -> int:
    release, ref = _args(opts, 2, ("upgrade",))
    _chart_ok(ref, opts)
    version = chart.resolve_version(opts["version"])
    values = chart.load_values(opts["values"], opts["set"], opts["set-string"])
    if not opts["skip-schema-validation"]:
        chart.validate_values(version, values)
    kube = Kube(opts["kubeconfig"], opts["kube-context"])
    namespace = opts["namespace"] or kube.namespace
    history = chart.releases(kube, namespace, release)
    installing = not history
    if installing and not opts["install"]:
        raise Fail(f'UPGRADE FAILED: "{release}" has no deployed releases')
    if installing:
        print(f'Release "{release}" does not exist. Installing it now.')
        chart.ensure_namespace(kube, namespace, opts["create-namespace"])
    if opts["dry-run"]:
        return 0
    revision = 1 if installing else int(history[-1]["metadata"]["labels"]["version"]) + 1
    chart.apply_objects(kube, namespace, version, values, "helm")
    ready = not (opts["wait"] or opts["atomic"]) or chart.wait_ready(kube, namespace, opts["timeout"])
    info = chart.record_release(kube, namespace, release, revision, version, values,
                                "deployed" if ready else "failed")
    if not ready:
        raise Fail("context deadline exceeded" if installing else
                   "UPGRADE FAILED: context deadline exceeded")
    if not installing:
        print(f'Release "{release}" has been upgraded. Happy Helming!')
    if opts["output"] == "json":
        print(json.dumps(info))
        return 0
    print(f"NAME: {release}\nLAST DEPLOYED: {datetime.datetime.now().strftime('%a %b %e %H:%M:%S %Y')}"
          f"\nNAMESPACE: {namespace}\nSTATUS: deployed\nREVISION: {revision}\nTEST SUITE: None")
    if not opts["hide-notes"]:
        print("NOTES:\n" + info["info"]["notes"], end="")
    return 0
