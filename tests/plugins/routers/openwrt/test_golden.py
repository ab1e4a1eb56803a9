"""Every file rendered for the reference lab, compared with its golden copy in
tests/data/golden/openwrt (`pytest --update-goldens` rewrites them; review the diff)."""

from __future__ import annotations

from pathlib import Path

from nativek8s.plugins.routers.openwrt.credentials import AUTHORIZED_KEYS, ROOT_PASSWORD_SCRIPT
from tests.support.golden import Golden

PER_LAB = (AUTHORIZED_KEYS, ROOT_PASSWORD_SCRIPT)  # the lab's own credentials: no golden copy


def test_reference_lab_matches_golden_files(render_lab, golden: Golden):
    lab = render_lab(None)
    rendered = {f.path: f.content for f in lab.files if f.target not in PER_LAB}
    assert len(rendered) == 5 * len(lab.plan.routers)
    golden.check_tree(Path("golden/openwrt"), rendered)
