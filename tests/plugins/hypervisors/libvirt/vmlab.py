"""`scripts/vm-lab.sh`'s driver: the reference lab on libvirt with stand-in guests, deployed
and verified by nativek8s's engine (the same `deploy` and `verify` the CLI runs), on a
private libvirtd with Debian's stock QEMU settings, then torn down.

The stand-in OS plugins (routed_lab.py) are not installed plugins, so the engine is called
here with them registered instead of through the `nativek8s` command. Prints `verify`'s
lines as the CLI does; exit 0 only when every check passed, 1 when one failed, 2 when the
lab could not be deployed.

Run from the repository root: ``python -m tests.plugins.hypervisors.libvirt.vmlab``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from nativek8s.core.engine.lab import deploy, destroy, lab_verify
from nativek8s.core.engine.state import LabState
from nativek8s.core.errors import NativeK8sError
from nativek8s.core.registry import Registry, make_plugin_manager
from nativek8s.core.verify import summary
from nativek8s.plugins.hypervisors.libvirt.connection import binding
from tests.libvirt_env.daemon import PrivateLibvirtd, missing_prerequisites, reap_stale
from tests.libvirt_env.guest import find_or_build

from .routed_lab import RoutedPlugins
from .test_libvirt_routed import routed_plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true",
                        help="leave the lab and the private libvirtd running (debugging)")
    args = parser.parse_args(argv)
    reasons = missing_prerequisites()
    if reasons:
        print("vm-lab: cannot run: " + "; ".join(reasons), file=sys.stderr)
        return 2
    binding()  # quiet libvirt's own stderr printing
    started = time.monotonic()
    reap_stale()
    guest = find_or_build()
    print(f"vm-lab: stand-in guest {guest.kernel_release} ({guest.kernel.parent})")
    daemon = PrivateLibvirtd()
    daemon.start()
    print(f"vm-lab: private libvirtd in netns {daemon.netns} ({daemon.uri}), QEMU as "
          f"libvirt-qemu with dynamic ownership, started in {daemon.start_seconds:.1f} s")
    registry = Registry(make_plugin_manager(extra=[RoutedPlugins(guest)]))
    plan = routed_plan(registry, daemon.uri)
    root = Path(tempfile.mkdtemp(prefix="nk8s-vmlab-"))
    state = LabState(plan.lab, root=root)
    code = 2
    try:
        print(f"vm-lab: nativek8s deploy --hypervisor libvirt (lab {plan.lab})")
        deploy(plan, state, registry, print)
        print("vm-lab: nativek8s verify")
        results = lab_verify(state, registry, print)
        for r in results:
            print(r.line())
        print(f"verify {plan.lab}: {summary(results)}")
        code = 0 if results and all(r.ok for r in results) else 1
    except NativeK8sError as exc:
        print(f"vm-lab: {exc}", file=sys.stderr)
    finally:
        if args.keep:
            print(f"vm-lab: kept: state {root}; `virsh -c '{daemon.uri}' list`; tear it down "
                  f"with `.venv/bin/python -m tests.libvirt_env.daemon stop {daemon.netns}` "
                  f"and `rm -r {root}` (it holds the routers' secrets)")
        else:
            try:
                if state.exists():
                    destroy(state, registry, print)
            finally:
                report = daemon.stop()
                shutil.rmtree(root, ignore_errors=True)
                print(f"vm-lab: torn down in {report.seconds:.1f} s "
                      f"(leftovers: {report.leftovers or 'none'})")
    print(f"vm-lab: {'passed' if code == 0 else 'FAILED'} in {time.monotonic() - started:.1f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
