"""In-process tests of the stand-in's command lookup and its patch merge rules (its flag parsing
is tests/support/pflag.py, tested in tests/support/test_pflag.py)."""

from __future__ import annotations

import pytest

from tests.standins import talos_cli, talos_patch
from tests.standins.talos_config import ConfigError


def test_command_resolution_skips_flags_before_the_command() -> None:
    command, called_as, rest = talos_cli.resolve(["-n", "10.0.0.1", "apply", "-f", "c.yaml"])
    assert (command.path, called_as, rest) == ("apply-config", "apply", ["-n", "10.0.0.1", "-f", "c.yaml"])
    command, _, rest = talos_cli.resolve(["gen", "--force", "config", "a", "https://a:6443"])
    assert command.path == "gen config" and rest == ["--force", "a", "https://a:6443"]


def test_strategic_merge_deletes_and_rejects_type_changes() -> None:
    base = [{"version": "v1alpha1", "machine": {"install": {"disk": "/dev/sda"}, "certSANs": ["a"]}}]
    patch = talos_patch.load_patches(["machine:\n  install:\n    $patch: delete\n"])
    assert talos_patch.apply_patches(base, patch) == [{"version": "v1alpha1", "machine": {"certSANs": ["a"]}}]
    with pytest.raises(ConfigError, match="type mismatch"):
        talos_patch.apply_patches(base, talos_patch.load_patches(['{"machine": {"certSANs": "b"}}']))


def test_json6902_patch() -> None:
    base = [{"version": "v1alpha1", "machine": {"install": {"disk": "/dev/sda"}}}]
    patch = talos_patch.load_patches(
        ['[{"op": "replace", "path": "/machine/install/disk", "value": "/dev/vda"}]']
    )
    assert talos_patch.apply_patches(base, patch)[0]["machine"]["install"]["disk"] == "/dev/vda"
    bad = talos_patch.load_patches(['[{"op": "replace", "path": "/machine/nope", "value": 1}]'])
    with pytest.raises(ConfigError, match="missing key"):
        talos_patch.apply_patches(base, bad)
