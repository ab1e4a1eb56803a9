"""Behaviour behind the schema: one handler per (method, schema path template).

Handlers run after authentication, the schema's permission check and parameter
verification, holding ``state.lock``. They raise ApiError like PVE's handlers raise or die.
An endpoint the schema knows but no handler simulates answers 501 (see server.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..perms import Checker
from ..schema import ApiSchema, Endpoint
from ..state import State


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class Ctx:
    state: State
    perms: Checker
    user: str  # authenticated subject: token id (user@realm!name) or user@realm
    endpoint: Endpoint
    schema: ApiSchema
    upload: Upload | None = None
    total: int | None = None  # PVE's 'total' result attribute (task log)

    def task(self, node: str, typ: str, wid: str | int, work: Callable[..., None] | None = None,
             **kwargs: Any) -> str:
        return self.state.tasks.start(node, typ, str(wid), self.user, work, **kwargs).upid


Handler = Callable[[Ctx, dict[str, Any]], Any]
ROUTES: dict[tuple[str, str], Handler] = {}


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        ROUTES[(method, template)] = func
        return func
    return register


def load_all() -> dict[tuple[str, str], Handler]:
    from . import agent, cluster, qemu, sdn, storage  # noqa: F401  (registration side effect)
    return ROUTES
