"""A sample third-party plugin package (src/nk8s_sample), written only against
nativek8s.api: built and installed by pip, type-checked by mypy --strict, and run by the
tests. :func:`install` builds it once into a folder for PYTHONPATH."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIST, VERSION, ENTRY_POINT = "nk8s-sample-bgp", "1.0.0", "sample-bgp"


def install(root: Path) -> Path:
    """Build the package with pip (PEP 517, flit_core) and install it into root/site."""
    source = root / "source"
    source.mkdir(parents=True)
    shutil.copy(HERE / "pyproject.toml", source)
    shutil.copytree(HERE / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__"))
    target = root / "site"
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("flit_core") else []
    proc = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q",
                           "install", "--no-deps", *isolation, "--target", str(target),
                           str(source)], check=False, capture_output=True, text=True,
                          timeout=300, cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return target
