"""Per-lab state on disk: the plan, what was created, secrets, rendered files, logs.

Every command after `deploy` works from this alone, without the topology file. Writes are
atomic (write then rename) so an interrupted run never leaves a half-written file.
"""

from __future__ import annotations

import bisect
import json
import shutil
import threading
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ...shared.files import write_atomic
from ..errors import UsageError
from ..kinds import RenderedFile
from ..paths import lab_dir, state_root
from ..plan import MD5_SECRET, Plan
from ..secrets import SecretStore, write_private


def _atomic_write(path: Path, data: str | bytes) -> None:
    write_atomic(path, data)


class DamagedState(UsageError):
    """A file of the lab's state cannot be read; the message names it and the way out."""

    def __init__(self, lab: str, path: Path, why: str):
        self.path, self.why = path, why
        super().__init__(
            f"lab {lab!r}: its state file {path} is damaged ({why}); `nativek8s destroy {lab}` "
            "still removes what the lab made (from the marks the backend put on it), then "
            "deploy again")


def _damaged(lab: str, path: Path, why: str) -> DamagedState:
    return DamagedState(lab, path, why)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where + ': ' if where else ''}{err['msg']}{more}"


class LabState:
    """The state folder of one lab."""

    def __init__(self, lab: str, root: Path | None = None):
        self.lab = lab
        self._lock = threading.Lock()  # steps record resources from several threads
        # resources.json as last read or written, and the file's (inode, mtime, size) then:
        # a lab of a thousand machines asks for it thousands of times a run.
        self._cache: tuple[tuple[int, int, int], dict[str, dict[str, Any]]] | None = None
        self._keys: list[str] = []  # the cached resources' keys, sorted: found by prefix
        self.dir = (root / "labs" / lab) if root else lab_dir(lab)

    # --- layout -------------------------------------------------------------------------
    @property
    def plan_file(self) -> Path:
        return self.dir / "plan.json"

    @property
    def resources_file(self) -> Path:
        return self.dir / "resources.json"

    @property
    def logs(self) -> Path:
        return self.dir / "logs"

    @property
    def rendered(self) -> Path:
        return self.dir / "rendered"

    @property
    def kubeconfig(self) -> Path:
        """The cluster's kubeconfig (mode 0600): the node OS writes it, the CNI uses it."""
        return self.dir / "kubeconfig"

    def backend_dir(self, plugin: str) -> Path:
        """A private folder for one plugin's files (configs, pid files)."""
        path = self.dir / "backend" / plugin
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def secrets(self, plan: Plan | None = None) -> SecretStore:
        plan = plan or self.load_plan()
        overrides = {}
        if plan.md5_password_file:
            overrides[MD5_SECRET] = Path(plan.md5_password_file).expanduser()
        return SecretStore(self.dir / "secrets", overrides)

    # --- plan ---------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.plan_file.exists()

    def save_plan(self, plan: Plan) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _atomic_write(self.plan_file, plan.model_dump_json(indent=1))

    def load_plan(self) -> Plan:
        try:
            text = self.plan_file.read_text()
        except FileNotFoundError:
            raise UsageError(f"lab {self.lab!r} has no state in {self.dir}; deploy it first "
                             f"(`nativek8s deploy`)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise _damaged(self.lab, self.plan_file, str(exc)) from None
        if not text.strip():
            raise _damaged(self.lab, self.plan_file, "it is empty")
        try:
            plan = Plan.model_validate_json(text)
        except ValidationError as exc:
            raise _damaged(self.lab, self.plan_file, _first_error(exc)) from None
        if plan.lab != self.lab:
            raise _damaged(self.lab, self.plan_file, f"it holds the plan of lab {plan.lab!r}")
        return plan

    # --- resources ----------------------------------------------------------------------
    def resources(self, prefix: str = "") -> dict[str, dict[str, Any]]:
        """Resource key → record (those whose key starts with ``prefix``). Recorded *before*
        a resource is created, so a crash in between still lets destroy find it. The mapping
        is a copy; its records are shared: change them through ``record`` and ``forget``
        only."""
        with self._lock:
            data = self._load()
            if not prefix:
                return dict(data)
            keys = self._keys
            start = bisect.bisect_left(keys, prefix)
            end = bisect.bisect_left(keys, prefix + "\U0010ffff", start)
            return {k: data[k] for k in keys[start:end]}

    def resource(self, key: str) -> dict[str, Any]:
        """One resource's record ({} when none), without copying them all."""
        with self._lock:
            return self._load().get(key, {})

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            st = self.resources_file.stat()
        except FileNotFoundError:
            return {}
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._cache is not None and self._cache[0] == stamp:
            return self._cache[1]
        try:
            data = json.loads(self.resources_file.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise _damaged(self.lab, self.resources_file, f"not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise _damaged(self.lab, self.resources_file,
                           f"it holds {type(data).__name__} {json.dumps(data)[:40]}, "
                           "not a mapping of resources")
        bad = [k for k, v in data.items() if not isinstance(v, dict)]
        if bad:
            raise _damaged(self.lab, self.resources_file,
                           f"the record of {bad[0]!r} is not a mapping")
        self._cache, self._keys = (stamp, data), sorted(data)
        return data

    def _store(self, res: dict[str, dict[str, Any]]) -> None:
        # One resource a line, written by the C encoder (indent= would use the pure-Python
        # one, ten times slower): a big lab rewrites this file a few thousand times a run.
        lines = [f"{json.dumps(k)}: {json.dumps(res[k], sort_keys=True)}" for k in sorted(res)]
        text = "{\n" + ",\n".join(lines) + "\n}\n" if lines else "{}\n"
        _atomic_write(self.resources_file, text)
        st = self.resources_file.stat()
        self._cache, self._keys = ((st.st_ino, st.st_mtime_ns, st.st_size), res), sorted(res)

    def record(self, key: str, **fields: Any) -> None:
        with self._lock:
            res = dict(self._load())
            merged = {**res.get(key, {}), **fields}
            if res.get(key) == merged:
                return
            res[key] = merged
            self._store(res)

    def forget(self, *keys: str) -> None:
        with self._lock:
            res = dict(self._load())
            if not any(k in res for k in keys):
                return
            for key in keys:
                res.pop(key, None)
            self._store(res)

    # --- rendered files -----------------------------------------------------------------
    def save_rendered(self, plugin: str, files: list[RenderedFile]) -> None:
        base = self.rendered / plugin
        for f in files:
            path = base / f.path
            if f.secret:
                write_private(path, f.content)
            else:
                _atomic_write(path, f.content)

    def remove(self) -> None:
        """Forget the lab entirely (after destroy)."""
        shutil.rmtree(self.dir, ignore_errors=True)


def known_labs(root: Path | None = None) -> list[str]:
    base = (root or state_root()) / "labs"
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / "plan.json").exists())

