"""Golden files: expected output kept in tests/data, compared byte for byte.

One switch rewrites them all after a deliberate change: ``pytest --update-goldens`` (then review
``git diff tests/data``). Without it a test fails naming the file that differs, or the names
that are missing or left over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
OPTION = "--update-goldens"
HINT = f"after a deliberate change, rerun with `pytest {OPTION}` and review `git diff tests/data`"


def _name(path: Path) -> str:
    return str(path.relative_to(DATA)) if path.is_relative_to(DATA) else str(path)


@dataclass(frozen=True)
class Golden:
    """Compares rendered text with golden files under ``DATA``, or rewrites them (``update``)."""

    update: bool

    def check(self, path: Path, actual: str) -> None:
        """One golden file (a path under tests/data, or absolute)."""
        path = DATA / path
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual)
            return
        assert path.exists(), f"no golden file {_name(path)}; {HINT}"
        assert actual == path.read_text(), f"{_name(path)} differs from its golden file; {HINT}"

    def check_tree(self, folder: Path, files: Mapping[str, str]) -> None:
        """A folder of golden files: the same names as ``files`` (relative paths), same contents."""
        folder = DATA / folder
        on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} \
            if folder.exists() else set()
        if self.update:
            for stale in on_disk - set(files):
                (folder / stale).unlink()
            for name, text in files.items():
                self.check(folder / name, text)
            return
        assert on_disk == set(files), (
            f"golden files in {_name(folder)} and rendered files differ in names: "
            f"missing {sorted(set(files) - on_disk)}, left over {sorted(on_disk - set(files))}; {HINT}")
        for name, text in files.items():
            self.check(folder / name, text)
