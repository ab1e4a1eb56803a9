"""Write files into an ext4 filesystem image without mounting it and without root.

Uses e2fsprogs: ``debugfs -w`` (mkdir, write, set_inode_field) for the files,
``dumpe2fs -h`` for free space, ``resize2fs`` to grow the filesystem (the image file grows
with it) and ``e2fsck`` before a resize and as a final check. debugfs reports command errors
on stderr but exits 0, so every batch is judged by its stderr.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .release import ImageError

TOOLS = ("debugfs", "dumpe2fs", "resize2fs", "e2fsck")
_BANNER = re.compile(r"^(debugfs|dumpe2fs|resize2fs|e2fsck) \d+\.\d+")
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._+@:/-]*$")  # nothing debugfs's parser would split
_TYPE = re.compile(r"Type:\s+(\S+)")
_MIB = 1 << 20


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


@dataclass(frozen=True)
class NewFile:
    """A file to put into the image."""

    target: str  # absolute path in the filesystem
    content: bytes
    mode: int = 0o644  # permission bits; the regular-file type is added
    uid: int = 0
    gid: int = 0


def _quote(host_path: Path) -> str:
    text = str(host_path)
    if '"' in text or "\n" in text:
        raise ImageError(f"cannot hand {text!r} to debugfs (quote or newline in the path)")
    return f'"{text}"'


def _check_target(path: str) -> PurePosixPath:
    if not _SAFE_PATH.match(path) or "/../" in f"{path}/" or "//" in path:
        raise ImageError(f"refusing to write {path!r} into a router image: an image path "
                         "must be absolute and contain only letters, digits and ._+@:-/")
    return PurePosixPath(path)


class Ext4Image:
    """An unmounted ext4 filesystem in a regular file."""

    def __init__(self, path: Path):
        missing = missing_tools()
        if missing:
            raise ImageError(f"router images need e2fsprogs ({', '.join(missing)} not found); "
                             "install it (Debian: apt-get install e2fsprogs)")
        self.path = path

    # --- running the tools -------------------------------------------------------------
    def _run(self, argv: list[str], *, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
        done = subprocess.run(argv, capture_output=True, timeout=300, check=False)
        if done.returncode not in ok:
            err = done.stderr.decode(errors="replace").strip() or done.stdout.decode(
                errors="replace").strip()
            raise ImageError(f"{argv[0]} failed on {self.path} (exit {done.returncode}): "
                             f"{err[-600:]}")
        return done

    def _debugfs_batch(self, commands: list[str], *, write: bool) -> str:
        """Run debugfs commands; raise on any error it reports."""
        with tempfile.NamedTemporaryFile("w", suffix=".debugfs", delete=False) as script:
            script.write("\n".join(commands) + "\n")
        try:
            argv = ["debugfs", *(["-w"] if write else []), "-f", script.name, str(self.path)]
            done = self._run(argv)
        finally:
            Path(script.name).unlink()
        errors = [line for line in done.stderr.decode(errors="replace").splitlines()
                  if line.strip() and not _BANNER.match(line)]
        if errors:
            raise ImageError(f"debugfs could not update {self.path}: " + "; ".join(errors[:5]))
        return done.stdout.decode(errors="replace")

    def _debugfs_batch_lenient(self, commands: list[str]) -> str:
        """Read-only debugfs commands whose errors (a missing path) are answers."""
        with tempfile.NamedTemporaryFile("w", suffix=".debugfs", delete=False) as script:
            script.write("\n".join(commands) + "\n")
        try:
            done = self._run(["debugfs", "-f", script.name, str(self.path)])
        finally:
            Path(script.name).unlink()
        return done.stdout.decode(errors="replace")

    # --- reading -------------------------------------------------------------------------
    def file_types(self, paths: list[str]) -> dict[str, str | None]:
        """Each path's type ('regular', 'directory', 'symlink', ...; None: absent), asked
        in one debugfs run: stdout echoes every command, then what ``stat`` found."""
        for path in paths:
            _check_target(path)
        if not paths:
            return {}
        out = self._debugfs_batch_lenient([f"stat {p}" for p in paths])
        found: dict[str, str | None] = dict.fromkeys(paths)
        current = None
        for line in out.splitlines():
            if line.startswith("debugfs: stat "):
                current = line[len("debugfs: stat "):].strip()
            elif current is not None and found.get(current) is None:
                match = _TYPE.search(line)
                if match:
                    found[current] = match.group(1)
        return found

    def file_type(self, path: str) -> str | None:
        return self.file_types([path])[path]

    def read(self, path: str) -> bytes | None:
        """A regular file's content, or None when there is no such file."""
        if self.file_type(path) != "regular":
            return None
        return self._run(["debugfs", "-R", f"cat {path}", str(self.path)]).stdout

    def _super(self) -> dict[str, str]:
        out = self._run(["dumpe2fs", "-h", str(self.path)]).stdout.decode(errors="replace")
        return {k.strip(): v.strip() for k, _, v in
                (line.partition(":") for line in out.splitlines()) if v}

    def free_bytes(self) -> tuple[int, int]:
        """(bytes free for files, leaving the root reserve alone; block size)."""
        sb = self._super()
        try:
            block = int(sb["Block size"])
            free = int(sb["Free blocks"]) - int(sb.get("Reserved block count", "0"))
        except (KeyError, ValueError):
            raise ImageError(f"{self.path} is not an ext2/3/4 filesystem image") from None
        return max(free, 0) * block, block

    # --- growing -------------------------------------------------------------------------
    def size(self) -> int:
        return self.path.stat().st_size

    def grow_to(self, size: int) -> None:
        """Grow the filesystem (and the file) to ``size`` bytes, rounded up to a MiB."""
        size = -(-size // _MIB) * _MIB
        if size <= self.size():
            return
        self._run(["e2fsck", "-f", "-p", str(self.path)], ok=(0, 1))  # resize2fs wants it
        self._run(["resize2fs", str(self.path), f"{size // 1024}K"])

    def ensure_room(self, files: list[NewFile]) -> None:
        """Grow the filesystem when ``files`` would not fit (with some slack)."""
        free, block = self.free_bytes()
        blocks = sum(-(-len(f.content) // block) + 1 for f in files) + 64
        if blocks * block > free:
            self.grow_to(self.size() + 2 * blocks * block)

    # --- writing -------------------------------------------------------------------------
    def put(self, files: list[NewFile]) -> None:
        """Write files (replacing existing ones), creating missing parent directories."""
        targets = [_check_target(f.target) for f in files]
        commands: list[str] = []
        wanted = {str(p) for t in targets for p in t.parents[:-1]} | {str(t) for t in targets}
        known = self.file_types(sorted(wanted))

        def kind(path: str) -> str | None:
            return known[path]

        for target in targets:
            for parent in reversed(target.parents[:-1]):  # "/a", "/a/b", ... not "/"
                existing = kind(str(parent))
                if existing is None:
                    commands.append(f"mkdir {parent}")
                    commands.append(f"set_inode_field {parent} mode 040755")
                    known[str(parent)] = "directory"
                elif existing != "directory":
                    raise ImageError(f"cannot write {target} into {self.path}: {parent} is a "
                                     f"{existing}, not a directory")
        with tempfile.TemporaryDirectory(prefix="nk8s-ext4-") as tmp:
            for n, (new, target) in enumerate(zip(files, targets, strict=True)):
                existing = kind(str(target))
                if existing == "directory":
                    raise ImageError(f"cannot write {target} into {self.path}: it is a directory")
                if existing is not None:
                    commands.append(f"rm {target}")
                source = Path(tmp) / f"f{n}"
                source.write_bytes(new.content)
                commands += [
                    f"write {_quote(source)} {target}",
                    f"set_inode_field {target} mode 0{0o100000 | new.mode:o}",
                    f"set_inode_field {target} uid {new.uid}",
                    f"set_inode_field {target} gid {new.gid}",
                ]
                known[str(target)] = "regular"
            self._debugfs_batch(commands, write=True)

    def check(self) -> None:
        """e2fsck, read-only: the image must be consistent after our changes."""
        self._run(["e2fsck", "-f", "-n", str(self.path)])
