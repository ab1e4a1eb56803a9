"""Commands that get into one machine: exec, console."""

from __future__ import annotations

COMMANDS: tuple = ()
