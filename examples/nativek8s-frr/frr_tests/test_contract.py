"""The plugin contract, from the plugin's own suite: nativek8s's conformance kit (as root it
also deploys, verifies and destroys a netns lab with FRR routers)."""

from __future__ import annotations

from nativek8s.testing import PluginContract


class TestFrrContract(PluginContract):
    plugin = "frr"
    netns = True
