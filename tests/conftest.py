"""Shared fixtures: every test that takes ``backend`` runs once per available backend."""

from __future__ import annotations

import os

# SciPy reads it once, at its first import (which any test may trigger): the SciPy consumer
# tests (tests/test_scipy_consumer.py) need SciPy's Array API dispatch on.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import polytape as pt  # noqa: E402

AVAILABLE = [s.name for s in pt.list_backends() if s.available]


@pytest.fixture(params=AVAILABLE)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of a backend that is current (``pt.use_backend``) for the whole test."""
    with pt.use_backend(request.param):
        yield request.param


# The built-in backends that run here (not plugins): what traced functions and vectorized
# derivatives are compared on.
BUILT_IN = [b for b in ("numpy", "torch") if b in AVAILABLE]


@pytest.fixture(params=BUILT_IN)
def be(request: pytest.FixtureRequest) -> str:
    """The name of a built-in backend that is current for the whole test."""
    with pt.use_backend(request.param):
        yield request.param


def _central_difference(f: Callable[[np.ndarray], float], x: object, h: float = 1e-6) -> np.ndarray:
    x = np.asarray(x)
    x = x.astype(np.complex128 if np.iscomplexobj(x) else np.float64)
    grad = np.zeros_like(x)
    # a complex x moves along its real and its imaginary part: dL/dx + i dL/dy
    directions = (1.0, 1j) if np.iscomplexobj(x) else (1.0,)
    for i in np.ndindex(x.shape):
        for d in directions:
            up, down = x.copy(), x.copy()
            up[i] += d * h
            down[i] -= d * h
            grad[i] += d * (f(up) - f(down)) / (2 * h)
    return grad


@pytest.fixture
def central_difference() -> Callable[..., np.ndarray]:
    """``central_difference(f, x, h=1e-6)``: the float64 gradient of real scalar ``f`` at
    ``x``; at a complex ``x``, TensorFlow's complex gradient ``dL/dx + i dL/dy``."""
    return _central_difference


# -- requires_gpu: these tests run wherever CuPy sees a CUDA device and are skipped elsewhere -----
def _gpu_skip_reason() -> str:
    """Why ``requires_gpu`` tests cannot run here, or ``""`` when CuPy sees a CUDA device."""
    try:
        import cupy
    except ImportError:
        return 'cupy is not installed (on a CUDA machine: pip install -e ".[test,cupy]")'
    except Exception as exc:  # a broken CUDA install fails at import with anything
        return f"cupy cannot be imported: {type(exc).__name__}: {exc}"
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return f"cupy sees no CUDA device ({type(exc).__name__}: {exc})"
    return "" if n > 0 else "cupy sees no CUDA device"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``@pytest.mark.requires_gpu`` tests, with the reason, only when there is no GPU."""
    gpu_tests = [item for item in items if item.get_closest_marker("requires_gpu")]
    if not gpu_tests:
        return
    reason = _gpu_skip_reason()
    if reason:
        for item in gpu_tests:
            item.add_marker(pytest.mark.skip(reason=f"requires_gpu: {reason}"))
# -- end of requires_gpu ------------------------------------------------------------------------
