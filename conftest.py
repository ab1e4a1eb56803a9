"""Repository-wide pytest hooks: every collected test gets its suite marker (tests/suites.py).

`--suite-map FILE` writes each test's suite markers as JSON (the meta-test's view)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.suites import MARK_PREFIX, SUITES, suite_of

ROOT = Path(__file__).parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--suite-map", metavar="FILE", default=None,
                     help="write every collected test's suite markers to FILE (JSON)")


def pytest_configure(config: pytest.Config) -> None:
    # Also registered here: a run from elsewhere (pytest --pyargs) reads no pyproject.
    for name, what in SUITES.items():
        config.addinivalue_line("markers", f"{MARK_PREFIX}{name}: {what}")


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seen: dict[str, list[str]] = {}
    for item in items:
        path = Path(str(item.path)).resolve().relative_to(ROOT).as_posix()
        markers = {m.name for m in item.iter_markers()}
        suite = suite_of(path, markers)
        if not any(m.startswith(MARK_PREFIX) for m in markers):
            item.add_marker(getattr(pytest.mark, MARK_PREFIX + suite))
        seen[item.nodeid] = sorted(m.name for m in item.iter_markers()
                                   if m.name.startswith(MARK_PREFIX))
    out = config.getoption("--suite-map")
    if out:
        Path(out).write_text(json.dumps(seen, indent=1, sort_keys=True))
