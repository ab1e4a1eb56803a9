"""What provisioning has done so far, kept in the lab's state (no secrets in it): which
configuration each node got, and whether (and when) the cluster was bootstrapped."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from nativek8s.api import NativeK8sError
from nativek8s.shared.files import write_atomic


class ProvisionRecord:
    """A small JSON file, rewritten atomically; safe to use from parallel steps."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise NativeK8sError(
                f"{self.path} is damaged ({exc}); delete it and run again: the nodes are "
                "checked again, and a bootstrapped cluster is recognised, not bootstrapped "
                "twice") from None
        if not isinstance(data, dict):
            raise NativeK8sError(f"{self.path} is damaged (not a JSON object); delete it and "
                                 "run again")
        return data

    def get(self, key: str, default: Any = None) -> Any:
        return self.load().get(key, default)

    def set(self, key: str, value: Any) -> None:
        with self._lock:
            data = self.load()
            data[key] = value
            write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True))
