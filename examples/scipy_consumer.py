"""SciPy, a library that accepts any Array API namespace, running on polytape tensors.

With ``SCIPY_ARRAY_API=1`` (read once, when SciPy is first imported), SciPy asks
``array_api_compat.array_namespace(x)`` for the namespace of its inputs and computes with
that namespace's functions. Given polytape tensors, that namespace is ``polytape``: SciPy's
code runs polytape ops, so a ``GradientTape`` records it and differentiates through it,
on whichever backend the tensors live (NumPy or PyTorch here)::

    python examples/scipy_consumer.py            # NumPy backend
    POLYTAPE_BACKEND=torch python examples/scipy_consumer.py

The script checks each gradient against central finite differences of the same SciPy
function on NumPy float64 arrays, and exits non-zero if one is off.
"""

from __future__ import annotations

import os

# SciPy reads it once, at its first import: set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from scipy import special, stats  # noqa: E402

import polytape as pt  # noqa: E402

__all__ = ["CONSUMERS", "tape_gradient", "finite_difference", "main"]

# SciPy functions with a generic Array API implementation (pure namespace calls), so they
# run as polytape ops. Functions that write into their inputs through array-api-extra's
# `at(x)[i].set(...)` (logsumexp, zscore...) cannot: polytape tensors are immutable.
CONSUMERS: dict[str, Callable[[Any], Any]] = {
    "scipy.special.softmax": lambda x: special.softmax(x, axis=-1),
    "scipy.stats.skew": lambda x: stats.skew(x, axis=-1),
    "scipy.stats.kurtosis": lambda x: stats.kurtosis(x, axis=-1),
    "scipy.stats.pmean": lambda x: stats.pmean(x * x + 0.5, 3.0, axis=-1),  # of positive values
}

# A fixed weighting turns each (vector-valued) result into one number to differentiate.
X = np.array([[0.3, 1.7, -0.4, 2.2], [1.1, -0.8, 0.5, 0.9]])
W = np.array([[0.7, -1.2, 0.4, 1.5], [-0.3, 0.9, 2.0, -0.6]])


def _loss(fn: Callable[[Any], Any], x: Any, xp: Any) -> Any:
    y = fn(x)
    w = xp.asarray(W[..., : y.shape[-1]] if y.ndim == 2 else W[:, 0], dtype=x.dtype)
    return xp.sum(y * w)


def tape_gradient(fn: Callable[[Any], Any], x: np.ndarray) -> np.ndarray:
    """d loss / d x through SciPy's code on polytape tensors (current backend), float64."""
    t = pt.constant(x, dtype=pt.float64)
    with pt.GradientTape() as tape:
        tape.watch(t)
        loss = _loss(fn, t, pt)
    return tape.gradient(loss, t).numpy()


def finite_difference(fn: Callable[[Any], Any], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The same gradient by central differences of SciPy's function on NumPy float64 arrays."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (float(_loss(fn, up, np)) - float(_loss(fn, down, np))) / (2 * h)
    return grad


def main() -> int:
    """Print each consumer's gradient error; 1 if one exceeds 1e-6 (relative)."""
    import array_api_compat

    t = pt.constant(X)
    print(f"backend {t.backend}: array_namespace(tensor) is polytape:",
          array_api_compat.array_namespace(t) is pt)
    ok = True
    for name, fn in CONSUMERS.items():
        g, ref = tape_gradient(fn, X), finite_difference(fn, X)
        err = float(np.max(np.abs(g - ref)) / max(1.0, float(np.max(np.abs(ref)))))
        ok = ok and err < 1e-6  # False for NaN too
        print(f"{name:24s} gradient vs finite differences: max relative error {err:.1e}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
