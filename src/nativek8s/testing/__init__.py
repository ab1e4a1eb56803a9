"""nativek8s's plugin conformance kit, as a pytest plugin.

In a plugin's own test suite::

    # conftest.py
    pytest_plugins = ["nativek8s.testing"]

    # test_contract.py
    from nativek8s.testing import PluginContract

    class TestFrrContract(PluginContract):
        plugin = "frr"          # the installed plugin's name
        netns = True            # also deploy + verify + destroy on netns (root)

Each check of :mod:`nativek8s.testing.contract` becomes one test; a failing one lists what
to fix. ``nativek8s plugins check NAME`` runs the same checks from the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from .contract import CHECKS, Check, check_plugin, run_check

__all__ = ["CHECKS", "PluginContract", "check_plugin", "run_check"]


def _contract_test(check: Check):  # type: ignore[no-untyped-def]
    def test(self: PluginContract, tmp_path: Path) -> None:
        from ..core.registry import registry

        if check.name == "netns" and not self.netns:
            pytest.skip("netns lifecycle not asked for (netns = False)")
        outcome = run_check(check, registry(), self.plugin, tmp_path)
        if outcome.skipped:
            pytest.skip(outcome.skipped)
        if outcome.failures:
            pytest.fail(f"{self.plugin}: {check.what}:\n  " + "\n  ".join(outcome.failures),
                        pytrace=False)

    test.__name__ = f"test_{check.name.replace('-', '_')}"
    test.__doc__ = check.what
    return test


class PluginContract:
    """Subclass with ``plugin = "<name>"``: the contract's checks as tests."""

    plugin: ClassVar[str] = ""
    netns: ClassVar[bool] = True


for _check in CHECKS:
    setattr(PluginContract, f"test_{_check.name.replace('-', '_')}", _contract_test(_check))
