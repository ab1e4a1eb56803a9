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

from typing import TYPE_CHECKING, Any

from .contract import CHECKS, Check, check_plugin, run_check

if TYPE_CHECKING:
    import pytest

    from .pytest_contract import PluginContract

__all__ = ["CHECKS", "Check", "PluginContract", "check_plugin", "run_check"]

OPTION = "--nativek8s-plugin"


def __getattr__(name: str) -> Any:
    # pytest only where tests run: `nativek8s plugins check` works without it.
    if name == "PluginContract":
        from .pytest_contract import PluginContract

        return PluginContract
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nativek8s", "nativek8s plugin contract")
    group.addoption(OPTION, action="append", default=[], metavar="NAME",
                    help="check this installed plugin against the contract "
                         "(nativek8s.testing.suite; repeatable)")
    group.addoption("--nativek8s-no-netns", action="store_true",
                    help="skip the netns deploy + verify + destroy")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """nativek8s.testing.suite's tests, once per plugin named with --nativek8s-plugin."""
    from .pytest_contract import PluginContract

    cls = metafunc.cls
    if cls is not None and issubclass(cls, PluginContract) and not cls.plugin:
        names = metafunc.config.getoption(OPTION, default=[]) or [""]
        metafunc.parametrize("contract_plugin", names, indirect=True)
