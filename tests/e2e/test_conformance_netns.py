"""`nativek8s plugins check` in full, netns deploy + verify + destroy included, for the
built-in router OS and CNI (the FRR example runs its own: examples/nativek8s-frr)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import netns_ready

pytestmark = [pytest.mark.netns]


@pytest.mark.parametrize("name", ["openwrt", "cilium"])
def test_router_and_cni_plugins_pass_with_a_netns_lab(name, tmp_path):
    reason = netns_ready()
    if reason:
        pytest.skip(reason)
    proc = subprocess.run([sys.executable, "-m", "nativek8s.core.cli.main", "plugins", "check",
                           name], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "NATIVEK8S_STATE_DIR": str(tmp_path / "state")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok   netns " in proc.stdout
    assert proc.stdout.splitlines()[-1].endswith("passes the contract")
