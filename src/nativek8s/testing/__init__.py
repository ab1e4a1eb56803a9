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
to fix. ``nativek8s plugins check NAME`` runs the same checks from the command line, and
without writing a test file::

    pytest -p nativek8s.testing --pyargs nativek8s.testing.suite --nativek8s-plugin frr
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from .contract import CHECKS, Check, check_plugin, run_check

__all__ = ["CHECKS", "PluginContract", "check_plugin", "run_check"]


OPTION = "--nativek8s-plugin"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nativek8s", "nativek8s plugin contract")
    group.addoption(OPTION, action="append", default=[], metavar="NAME",
                    help="check this installed plugin against the contract "
                         "(nativek8s.testing.suite; repeatable)")
    group.addoption("--nativek8s-no-netns", action="store_true",
                    help="skip the netns deploy + verify + destroy")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """nativek8s.testing.suite's tests, once per plugin named with --nativek8s-plugin."""
    cls = metafunc.cls
    if cls is not None and issubclass(cls, PluginContract) and not cls.plugin:
        names = metafunc.config.getoption(OPTION, default=[]) or [""]
        metafunc.parametrize("contract_plugin", names, indirect=True)


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
