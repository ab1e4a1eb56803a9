"""Lab secrets: one file each, mode 0600, created once and never logged."""

from __future__ import annotations

import os
import secrets as _random
from pathlib import Path

from .errors import UsageError

SECRET_MODE = 0o600


def write_private(path: Path, data: str | bytes) -> None:
    """Write a file that only its owner can read, without a window where it is readable."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    raw = data.encode() if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, SECRET_MODE)
    try:
        os.write(fd, raw)
        os.fchmod(fd, SECRET_MODE)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class SecretStore:
    """Named secrets of one lab under ``<lab state>/secrets``.

    Values are returned to the code that needs them; they never enter the plan, argv,
    logs or exception messages.
    """

    def __init__(self, directory: Path, overrides: dict[str, Path] | None = None):
        self.directory = directory
        self.overrides = overrides or {}  # secret name → user-provided file

    def path(self, name: str) -> Path:
        return self.overrides.get(name) or self.directory / name

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def get(self, name: str, *, generate: bool = True, nbytes: int = 18) -> str:
        """The secret's value; generated (URL-safe text) the first time if allowed."""
        path = self.path(name)
        if name in self.overrides:
            try:
                value = path.read_text().strip()
            except OSError as exc:
                raise UsageError(f"secret {name}: cannot read {path}: {exc.strerror}") from None
            if not value:
                raise UsageError(f"secret {name}: {path} is empty; put the password in it")
            return value
        if not path.exists():
            if not generate:
                raise UsageError(f"secret {name} does not exist yet in {self.directory}")
            write_private(path, _random.token_urlsafe(nbytes))
        return path.read_text().strip()

    def put(self, name: str, value: str | bytes) -> Path:
        path = self.directory / name
        write_private(path, value)
        return path
