"""Errors every command reports the same way: what, where, and what to do."""

from __future__ import annotations

from dataclasses import dataclass

# Exit codes shared by every command.
EXIT_OK = 0
EXIT_FAILED = 1  # the work failed (deploy step, verify check)
EXIT_USAGE = 2  # bad input: nothing was created


class NativeK8sError(Exception):
    """An error the user can act on; its message says what to do."""

    exit_code = EXIT_FAILED


class UsageError(NativeK8sError):
    """Bad input (flags, files, names); nothing was created."""

    exit_code = EXIT_USAGE


class CommandFailed(NativeK8sError):
    """A command run inside a machine (MachineAccess.run) ended badly: ``exit_status`` is
    its own exit code (None when it was killed or never ran), ``output`` what it printed.
    ``nativek8s exec`` exits with that code, as a shell would."""

    def __init__(self, message: str, exit_status: int | None = None, output: str = ""):
        super().__init__(message)
        self.exit_status, self.output = exit_status, output


class PluginError(NativeK8sError):
    """A plugin is broken or two plugins clash: a packaging problem, not bad input."""


@dataclass(frozen=True, order=True)
class Problem:
    """One finding about a topology, located by its YAML path."""

    path: str  # dotted YAML path, e.g. "datacentres.dc1.lan"; "" for the document
    message: str  # what is wrong and what to do
    line: int | None = None  # 1-based line in the file, when known
    warning: bool = False  # worth saying, but the topology stays valid

    def render(self, source: str | None) -> str:
        where = source or "topology"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.path or '(document)'}: {self.message}"


class TopologyError(UsageError):
    """The topology is invalid; carries every problem found at once."""

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.path, p.message))
        self.source = source
        lines = [p.render(source) for p in self.problems]
        count = len(lines)
        head = f"{count} problem{'s' if count != 1 else ''} in {source or 'the topology'}:"
        super().__init__("\n".join([head, *("  " + line for line in lines)]))
