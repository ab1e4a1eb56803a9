"""Every file rendered for the reference lab, compared with its golden copy.

Regenerate after an intended change with `NK8S_UPDATE_GOLDEN=1 pytest tests/plugins/routers/openwrt`
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

from nativek8s.plugins.routers.openwrt.credentials import AUTHORIZED_KEYS, ROOT_PASSWORD_SCRIPT

GOLDEN = Path(__file__).parents[3] / "data" / "golden" / "openwrt"
PER_LAB = (AUTHORIZED_KEYS, ROOT_PASSWORD_SCRIPT)  # the lab's own credentials: no golden copy
UPDATE = os.environ.get("NK8S_UPDATE_GOLDEN") == "1"


def test_reference_lab_matches_golden_files(render_lab):
    lab = render_lab(None)
    rendered = {f.path: f.content for f in lab.files if f.target not in PER_LAB}
    assert len(rendered) == 5 * len(lab.plan.routers)
    if UPDATE:
        for path, content in rendered.items():
            (GOLDEN / path).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / path).write_text(content)
    on_disk = {str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*") if p.is_file()}
    assert on_disk == set(rendered), "golden files and rendered files differ in names"
    for path, content in rendered.items():
        assert content == (GOLDEN / path).read_text(), f"{path} differs from its golden file"
