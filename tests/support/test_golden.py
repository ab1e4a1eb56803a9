"""The golden-file fixture: compares, names what differs, rewrites only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.golden import Golden


def test_a_tree_matches_or_names_the_difference(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.conf").write_text("one\n")
    Golden(update=False).check_tree(tmp_path, {"a/x.conf": "one\n"})
    with pytest.raises(AssertionError, match=r"a/x.conf differs from its golden file; .*--update-goldens"):
        Golden(update=False).check_tree(tmp_path, {"a/x.conf": "two\n"})
    with pytest.raises(AssertionError, match=r"missing \['b'\], left over \['a/x.conf'\]"):
        Golden(update=False).check_tree(tmp_path, {"b": "one\n"})
    assert (tmp_path / "a" / "x.conf").read_text() == "one\n"  # comparing never writes


def test_update_rewrites_and_removes_what_is_no_longer_rendered(tmp_path: Path) -> None:
    (tmp_path / "old").write_text("stale\n")
    Golden(update=True).check_tree(tmp_path, {"new/y": "fresh\n"})
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == ["new/y"]
    Golden(update=False).check_tree(tmp_path, {"new/y": "fresh\n"})


def test_a_missing_single_file_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="no golden file .*--update-goldens"):
        Golden(update=False).check(tmp_path / "none.json", "{}")
