"""The contract's tests for plugins named on the command line:
``pytest -p nativek8s.testing --pyargs nativek8s.testing.suite --nativek8s-plugin NAME``."""

from __future__ import annotations

from .pytest_contract import PluginContract


class TestContract(PluginContract):
    """Every check, for each --nativek8s-plugin NAME."""
