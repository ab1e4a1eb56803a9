"""Command tree and dispatch of the talosctl stand-in.

Stands in for ``talosctl`` (siderolabs/talos ``cmd/talosctl``, v1.13.x and v1.14.x) for the
commands nativek8s uses: ``version``, ``gen secrets``, ``gen config``, ``apply-config``,
``bootstrap``, ``kubeconfig`` and ``get machinestatus``. Flags are exactly those of the
upstream CLI reference for the emulated version (``NK8S_TALOSCTL_VERSION``); other real
commands exit 1 saying they are not simulated; unknown commands and flags fail as cobra does.
Errors are printed as talosctl prints them (root command has SilenceErrors, so there is no
``Error:`` prefix), followed by the usage when they concern flags, arguments or commands.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from tests.standins import talos_api as api
from tests.standins import talos_commands as cmds
from tests.standins import talos_flagsets as fs
from tests.standins import talos_resources as res
from tests.standins import talos_sim
from tests.support.pflag import Flag, FlagError, Parsed, parse, usage


class UsageError(Exception):
    """A command-line error that is not the flags' (unknown command, wrong arguments); talosctl
    prints it followed by the command's usage, as it does pflag's errors."""

DEFAULT_VERSION = "v1.13.9"
VERSION_ENV = "NK8S_TALOSCTL_VERSION"

# Every top-level command of talosctl 1.13 (CLI reference), to tell "not simulated" from unknown.
REAL_COMMANDS = set(
    "apply-config bootstrap cgroups cluster completion config conformance containers copy dashboard "
    "debug dmesg edit etcd events gen get health image inject inspect kubeconfig list logs "
    "machineconfig memory meta mounts netstat patch pcap processes read reboot reset restart "
    "rollback rotate-ca service shutdown stats support time upgrade upgrade-k8s usage validate "
    "version wipe".split()
)


def client_version() -> str:
    return os.environ.get(VERSION_ENV, DEFAULT_VERSION)


def minor_of(version: str) -> tuple[int, int]:
    core = version.lstrip("v").split("-")[0].split(".")
    try:
        return int(core[0]), int(core[1])
    except (IndexError, ValueError):
        raise talos_sim.SimError(
            f"talosctl stand-in: {VERSION_ENV}={version!r} is not a version like v1.13.9"
        ) from None


# --- command tree -------------------------------------------------------------------------


def _no_args(path: str) -> Callable[[list[str]], str | None]:
    return lambda a: f'unknown command "{a[0]}" for "talosctl {path}"' if a else None


def _exact(n: int) -> Callable[[list[str]], str | None]:
    return lambda a: None if len(a) == n else f"accepts {n} arg(s), received {len(a)}"


def _at_most(n: int) -> Callable[[list[str]], str | None]:
    return lambda a: None if len(a) <= n else f"accepts at most {n} arg(s), received {len(a)}"


def _between(lo: int, hi: int) -> Callable[[list[str]], str | None]:
    return lambda a: (
        None if lo <= len(a) <= hi else f"accepts between {lo} and {hi} arg(s), received {len(a)}"
    )


@dataclass
class Command:
    path: str
    use: str
    args: Callable[[list[str]], str | None]
    run: Callable[[Ctx], int]
    persistent: Callable[[], list[Flag]]
    aliases: tuple[str, ...] = ()


COMMANDS = [
    Command("version", "version [flags]", _no_args("version"), cmds.version, fs.talos_persistent),
    Command("gen secrets", "secrets [flags]", _no_args("gen secrets"), cmds.gen_secrets, fs.gen_persistent),
    Command(
        "gen config",
        "config <cluster name> <cluster endpoint> [flags]",
        _exact(2),
        cmds.gen_config,
        fs.gen_persistent,
    ),
    Command(
        "apply-config", "apply-config [flags]", _at_most(1), api.apply_config, fs.talos_persistent, ("apply",)
    ),
    Command("bootstrap", "bootstrap [flags]", _no_args("bootstrap"), api.bootstrap, fs.talos_persistent),
    Command(
        "kubeconfig", "kubeconfig [local-path] [flags]", _at_most(1), res.kubeconfig, fs.talos_persistent
    ),
    Command("get", "get <type> [<id>] [flags]", _between(1, 2), res.get, fs.talos_persistent, ("g",)),
]


@dataclass
class Ctx:
    command: Command
    called_as: str
    flags: Parsed
    version: str
    minor: tuple[int, int]
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    @property
    def args(self) -> list[str]:
        return self.flags.args

    def __getitem__(self, name: str) -> Any:
        return self.flags[name]


def _lookup(prefix: str, name: str) -> Command | None:
    for command in COMMANDS:
        parent, _, leaf = command.path.rpartition(" ")
        if parent == prefix and (name == leaf or name in command.aliases):
            return command
    return None


def _strip_first(argv: list[str], name: str) -> list[str]:
    index = argv.index(name)
    return argv[:index] + argv[index + 1 :]


def _first_word(argv: list[str]) -> str | None:
    """cobra's stripFlags: the first token that is neither a flag nor (probably) its value."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            return None
        if token.startswith("--") and "=" not in token and token not in {"--help", "--force"}:
            i += 2
        elif token.startswith("-") and len(token) == 2 and token not in {"-h", "-f"}:
            i += 2
        elif token.startswith("-"):
            i += 1
        else:
            return token
    return None


def resolve(argv: list[str]) -> tuple[Command, str, list[str]]:
    prefix, rest = "", list(argv)
    while True:
        word = _first_word(rest)
        if word is None:
            raise UsageError(
                "__help__" if not prefix else f'talosctl stand-in: "{prefix}" needs a subcommand'
            )
        command = _lookup(prefix, word)
        if command is not None:
            return command, word, _strip_first(rest, word)
        if prefix == "" and word == "gen":
            prefix, rest = "gen", _strip_first(rest, word)
            continue
        where = f"talosctl {prefix}".strip()
        if prefix == "" and word in REAL_COMMANDS:
            raise talos_sim.SimError(f'talosctl stand-in: command "{word}" is not simulated')
        if prefix == "gen" and word in {"ca", "crt", "csr", "key", "keypair", "secureboot"}:
            raise talos_sim.SimError(f'talosctl stand-in: command "gen {word}" is not simulated')
        raise UsageError(f'unknown command "{word}" for "{where}"')


def run(argv: list[str], out: TextIO, err: TextIO) -> int:
    version = client_version()
    try:
        minor = minor_of(version)
        command, called_as, rest = resolve(argv)
    except UsageError as exc:
        if str(exc) == "__help__":
            out.write("A CLI for out-of-band management of Kubernetes nodes created by Talos\n")
            return 0
        err.write(
            f'{exc}\n\nUsage:\n  talosctl [command]\n\nUse "talosctl [command] --help" for more information about a command.\n'
        )
        return 1
    except talos_sim.SimError as exc:
        err.write(f"{exc}\n")
        return 1
    v14 = minor >= (1, 14)
    k8s = "1.37.0-rc.0" if v14 else "1.36.3"
    installer = (
        f"factory.talos.dev/metal-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:{version}"
        if v14
        else f"ghcr.io/siderolabs/installer:{version}"
    )
    local = fs.flags(command.path, v14, k8s, installer)
    inherited = command.persistent()
    text_usage = usage(f"talosctl {command.path}", command.use, local, inherited)
    try:
        parsed = parse(local + inherited, rest)
        if parsed["help"]:
            out.write(text_usage)
            return 0
        problem = command.args(parsed.args)
        if problem:
            raise UsageError(problem)
        ctx = Ctx(command, called_as, parsed, version, minor, out, err)
        return command.run(ctx)
    except (UsageError, FlagError) as exc:
        err.write(f"{exc}\n\n{text_usage}\n")
        return 1
    except (cmds.CommandError, talos_sim.SimError) as exc:
        message = str(exc)
        err.write(message if message.endswith("\n") else message + "\n")
        if any(word in message for word in ("arg(s)", "flag", "command")):
            err.write(f"\n{text_usage}\n")
        return 1


def main(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    code = 1
    try:
        code = run(argv, out or sys.stdout, err or sys.stderr)
    finally:
        talos_sim.record_call(argv, code)
    return code
