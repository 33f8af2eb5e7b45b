"""A real Array API consumer: SciPy runs on polytape tensors under a GradientTape.

SciPy's Array API dispatch (``SCIPY_ARRAY_API=1``, set in tests/conftest.py before anything
imports SciPy) computes with the namespace of its inputs, here ``polytape``; the tape
records those ops. The reference gradients are central differences of the very same SciPy
functions on NumPy float64 arrays.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import array_api_compat
import numpy as np
import pytest

import polytape as pt

scipy = pytest.importorskip("scipy", reason="SciPy (the consumer under test) is not installed; "
                            "the test extra installs it on Python >= 3.11")
from scipy import special, stats  # noqa: E402

if type(special.softmax(pt.constant([1.0, 2.0]))) is not pt.Tensor:
    pytest.skip(f"SciPy {scipy.__version__} does not dispatch softmax on Array API namespaces "
                "(needs SciPy >= 1.16, imported with SCIPY_ARRAY_API=1)", allow_module_level=True)

X = np.array([[0.3, 1.7, -0.4, 2.2], [1.1, -0.8, 0.5, 0.9]])
W = np.array([[0.7, -1.2, 0.4, 1.5], [-0.3, 0.9, 2.0, -0.6]])

CONSUMERS: dict[str, Callable[[Any], Any]] = {
    "softmax": lambda x: special.softmax(x, axis=-1),
    "skew": lambda x: stats.skew(x, axis=-1),
    "kurtosis": lambda x: stats.kurtosis(x, axis=-1),
    "pmean": lambda x: stats.pmean(x * x + 0.5, 3.0, axis=-1),
}


def _weighted(y: Any, xp: Any) -> Any:
    w = W if y.ndim == 2 else W[:, 0]
    return xp.sum(y * xp.asarray(w, dtype=y.dtype))


def test_array_namespace_of_a_tensor_is_polytape(backend: str) -> None:
    t = pt.constant([1.0, 2.0])
    assert array_api_compat.array_namespace(t) is pt
    assert t.__array_namespace__() is pt


@pytest.mark.parametrize("name", sorted(CONSUMERS))
def test_scipy_function_runs_on_tensors_and_differentiates(
        backend: str, name: str, central_difference: Callable[..., np.ndarray]) -> None:
    fn = CONSUMERS[name]
    x = pt.constant(X, dtype=pt.float64)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        loss = _weighted(y, pt)
    # SciPy computed with polytape ops on this backend (not through a NumPy round trip).
    assert type(y) is pt.Tensor and y.backend == backend and y.dtype is pt.float64
    np.testing.assert_allclose(y.numpy(), fn(X), rtol=1e-12)
    grad = tape.gradient(loss, x)
    ref = central_difference(lambda a: float(_weighted(fn(a), np)), X)
    np.testing.assert_allclose(grad.numpy(), ref, rtol=1e-6, atol=1e-8)


def test_the_example_script_passes(backend: str) -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / "scipy_consumer.py"
    spec = importlib.util.spec_from_file_location("scipy_consumer_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main() == 0
