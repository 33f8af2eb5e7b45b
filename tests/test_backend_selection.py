"""Choosing backends at runtime: set_backend, use_backend, POLYTAPE_BACKEND, list_backends."""

from __future__ import annotations

import contextvars
import os
import subprocess
import sys
import threading

import pytest

import polytape as pt


def test_numpy_is_registered_through_the_entry_point():
    from importlib.metadata import entry_points

    eps = {ep.name: ep.value for ep in entry_points(group="polytape")}
    assert eps["numpy"] == "polytape.backends.numpy.plugin"
    status = {s.name: s for s in pt.list_backends()}["numpy"]
    assert status.available and status.plugin == "numpy" and "cpu" in status.devices
    assert status.version == __import__("numpy").__version__


def test_unknown_backend_lists_the_valid_names():
    names = [s.name for s in pt.list_backends()]
    with pytest.raises(pt.BackendNotFoundError, match="no backend named 'tensorflowx'") as info:
        pt.set_backend("tensorflowx")
    for n in names:
        assert n in str(info.value)
    with pytest.raises(LookupError):
        pt.constant(1.0, backend="nope")


def test_unknown_device_is_unavailable():
    with pytest.raises(pt.BackendUnavailableError, match="no device 'cuda:7'"):
        pt.set_backend("numpy", device="cuda:7")


def test_use_backend_is_context_local_and_restores():
    before = pt.current_backend()
    with pt.use_backend("numpy") as be:
        assert pt.current_backend() is be
        assert pt.constant(1.0).backend == "numpy"
    assert pt.current_backend() is before


def test_use_backend_does_not_leak_into_other_contexts():
    seen = []

    def probe():
        seen.append(pt.current_backend().name)

    with pt.use_backend("numpy"):
        ctx = contextvars.Context()
        t = threading.Thread(target=ctx.run, args=(probe,))
        t.start()
        t.join()
    assert seen == [pt.current_backend().name]


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "POLYTAPE_BACKEND"}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full, timeout=120)


def test_env_var_sets_the_initial_default():
    r = _run("import polytape as pt; print(pt.constant(1.0).backend, pt.current_backend().name)",
             POLYTAPE_BACKEND="numpy:cpu")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["numpy", "numpy"]


def test_env_var_with_unknown_backend_fails_clearly():
    r = _run("import polytape as pt; pt.constant(1.0)", POLYTAPE_BACKEND="nosuch")
    assert r.returncode != 0
    assert "BackendNotFoundError" in r.stderr and "no backend named 'nosuch'" in r.stderr


def test_set_backend_is_the_process_default():
    r = _run("import polytape as pt; pt.set_backend('numpy'); import threading\n"
             "out=[]; t=threading.Thread(target=lambda: out.append(pt.constant(1.0).backend))\n"
             "t.start(); t.join(); print(out[0])")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "numpy"


def test_import_polytape_does_not_import_torch_or_cupy():
    r = _run("import sys, polytape as pt; x = pt.constant([1.0]); "
             "print('torch' in sys.modules, 'cupy' in sys.modules)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]
