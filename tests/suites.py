"""Test suites: every test belongs to exactly one, as a `suite_<name>` marker, so CI runs one
job per suite and a person reproduces one cell with `./scripts/test.sh --suite NAME`.

A test is in the suite its own `@pytest.mark.suite_<name>` says, else the first rule below
matching its path, else `netns` if it is marked `netns` (needs root), else `core`.
"""

from __future__ import annotations

SUITES = {
    "core": "unit and in-process tests: no root, no services",
    "netns": "network-namespace labs with real BIRD and GoBGP (root)",
    "libvirt": "libvirt: the test driver, and tier 2 with a private libvirtd (root)",
    "standins": "Proxmox, Kubernetes, Talos and helm stand-ins (real HTTP servers, CLIs)",
    "frr": "the FRR example plugin and the conformance kit (FRR in namespaces: root)",
}

RULES = (  # (path prefix from the repository root, suite): first match wins
    ("examples/nativek8s-frr/", "frr"),
    ("tests/e2e/test_frr_lab.py", "frr"),
    ("tests/core/test_conformance.py", "frr"),
    ("tests/e2e/test_conformance_netns.py", "frr"),
    ("tests/libvirt_env/", "libvirt"),
    ("tests/plugins/hypervisors/libvirt/", "libvirt"),
    ("tests/standins/", "standins"),
    ("tests/plugins/hypervisors/proxmox/", "standins"),
    ("tests/plugins/cni/cilium/", "standins"),
    ("tests/plugins/nodeos/talos/", "standins"),
    ("tests/e2e/", "netns"),
)

MARK_PREFIX = "suite_"


def suite_of(path: str, markers: set[str]) -> str:
    """The suite of a test at `path` (relative to the repository root) with these markers."""
    own = sorted(m.removeprefix(MARK_PREFIX) for m in markers if m.startswith(MARK_PREFIX))
    if own:
        return own[0]  # the meta-test fails a test that names several
    for prefix, suite in RULES:
        if path.startswith(prefix):
            return suite
    return "netns" if "netns" in markers else "core"
