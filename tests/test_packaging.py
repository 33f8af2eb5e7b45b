"""The distribution: one package `polytape` mapped from the repo's folders, built as a wheel."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_subpackages_import_from_their_folders():
    import polytape
    import polytape.backends
    import polytape.conformance
    import polytape.plugins

    assert pathlib.Path(polytape.__file__).parent == ROOT / "core"
    assert pathlib.Path(polytape.backends.__file__).parent == ROOT / "backends"
    assert pathlib.Path(polytape.plugins.__file__).parent == ROOT / "plugins"
    assert pathlib.Path(polytape.conformance.__file__).parent == ROOT / "conformance"


@pytest.mark.slow
def test_wheel_contains_every_package_and_the_entry_points(tmp_path):
    # No isolated build environment, so a build constraint (PIP_BUILD_CONSTRAINT, which CI's
    # oldest-dependencies run sets) has nothing to apply to and pip refuses it.
    env = {k: v for k, v in os.environ.items() if k != "PIP_BUILD_CONSTRAINT"}
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    wheel = next(tmp_path.glob("polytape-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for path in ("polytape/__init__.py", "polytape/tape.py", "polytape/backends/base.py",
                 "polytape/backends/numpy/plugin.py", "polytape/plugins/hookspecs.py",
                 "polytape/conformance/__init__.py"):
        assert path in names, path
    assert not any(n.startswith(("core/", "tests/")) for n in names)
    ep = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(ep).decode()
    assert "[polytape]" in text and "numpy = polytape.backends.numpy.plugin" in text
    assert "polytape = polytape.cli:main" in text
