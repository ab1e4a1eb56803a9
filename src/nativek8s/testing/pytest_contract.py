"""The contract's checks as pytest tests: :class:`PluginContract` (imported from
:mod:`nativek8s.testing`)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from . import OPTION
from .contract import CHECKS, Check, run_check


def _contract_test(check: Check):  # type: ignore[no-untyped-def]
    def test(self: PluginContract, contract_plugin: str, tmp_path: Path,
             request: pytest.FixtureRequest) -> None:
        from ..core.registry import registry

        name = contract_plugin
        if not name:
            pytest.skip(f"no plugin named: set `plugin` on the class or give {OPTION} NAME")
        netns = self.netns and not request.config.getoption("--nativek8s-no-netns",
                                                             default=False)
        if check.name == "netns" and not netns:
            pytest.skip("netns lifecycle not asked for")
        outcome = run_check(check, registry(), name, tmp_path)
        if outcome.skipped:
            pytest.skip(outcome.skipped)
        if outcome.failures:
            pytest.fail(f"{name}: {check.what}:\n  " + "\n  ".join(outcome.failures),
                        pytrace=False)

    test.__name__ = f"test_{check.name.replace('-', '_')}"
    test.__doc__ = check.what
    return test


class PluginContract:
    """Subclass with ``plugin = "<name>"``: the contract's checks as tests."""

    plugin: ClassVar[str] = ""
    netns: ClassVar[bool] = True

    @pytest.fixture
    def contract_plugin(self, request: pytest.FixtureRequest) -> str:
        """The plugin under check: the class's, or one of --nativek8s-plugin."""
        return str(getattr(request, "param", "") or self.plugin)


for _check in CHECKS:
    setattr(PluginContract, f"test_{_check.name.replace('-', '_')}", _contract_test(_check))
