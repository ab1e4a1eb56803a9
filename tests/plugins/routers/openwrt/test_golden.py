"""Every file rendered for the reference lab, compared with its golden copy in
tests/data/golden/openwrt (`pytest --update-goldens` rewrites them; review the diff)."""

from __future__ import annotations

from pathlib import Path

from tests.support.golden import Golden


def test_reference_lab_matches_golden_files(render_lab, golden: Golden):
    lab = render_lab(None)
    rendered = {f.path: f.content for f in lab.files}
    assert len(rendered) == 4 * len(lab.plan.routers)
    golden.check_tree(Path("golden/openwrt"), rendered)
