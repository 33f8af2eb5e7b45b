"""A backend pickles as its registered name, so a pickle never carries its kernels and
unpickles to the very backend object of this process."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

import polytape as pt


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_a_backend_round_trips_through_pickle_as_its_registered_name(name):
    if name == "torch":
        pytest.importorskip("torch")
    backend = pt.get_backend(name)
    data = pickle.dumps(backend)
    assert pickle.loads(data) is backend
    assert len(data) < 200, "the pickle should hold the backend's name, not its kernels"


def test_a_backend_unpickled_in_a_fresh_process_is_that_process_backend(tmp_path):
    path = tmp_path / "backend.pickle"
    path.write_bytes(pickle.dumps(pt.get_backend("numpy")))
    code = ("import pickle, polytape as pt\n"
            f"b = pickle.loads(open({str(path)!r}, 'rb').read())\n"
            "print(b is pt.get_backend('numpy'), b.name)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "numpy"]
