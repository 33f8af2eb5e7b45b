"""A float64 reference more precise than float64: mpmath at 128 bits.

The edge-value group measures each float64 result's error in ULPs. Against a NumPy float64
reference a kernel that calls the same libm (the NumPy backend itself) reads 0 ULPs, and a
correctly rounded result may read 1 where the reference is the one off by half an ULP. With
mpmath (an optional dependency: ``pip install polytape[ulp]``, in the ``test`` extra) the
float64 ULP errors of the elementwise functions below are measured against the exact value
rounded to 128 bits, and the error itself is computed in that precision, so a correctly
rounded result reads at most 0.5 ULP.

NaN, infinities and signed zeros still follow the NumPy float64 reference (IEEE 754, the
Array API special cases); only finite results are re-measured. Without mpmath the float64
column falls back to NumPy float64, and the certificate says so (:func:`describe`).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .ulp import ulp

__all__ = ["PRECISION_BITS", "available", "describe", "mp_functions", "float64_ulp_errors"]

PRECISION_BITS = 128


def _mpmath() -> Any:
    try:
        return importlib.import_module("mpmath")
    except ImportError:
        return None


def available() -> bool:
    """True when mpmath can be imported."""
    return _mpmath() is not None


def describe() -> str:
    """One sentence for the certificate: what the float64 ULP column was measured against."""
    mp = _mpmath()
    if mp is None:
        return ("NumPy float64 (mpmath is not installed: float64 ULP errors of kernels that "
                "call NumPy's own libm read 0; pip install 'polytape[ulp]')")
    return (f"mpmath {mp.__version__} at {PRECISION_BITS} bits for the float64 elementwise "
            f"functions ({', '.join(sorted(mp_functions()))}); NumPy float64 elsewhere")


def mp_functions() -> dict[str, Callable[..., Any]]:
    """op -> its function of mpmath numbers (empty without mpmath)."""
    mp = _mpmath()
    if mp is None:
        return {}
    return {
        "exp": mp.exp, "expm1": mp.expm1, "log": mp.log, "log1p": mp.log1p, "sqrt": mp.sqrt,
        "sin": mp.sin, "cos": mp.cos, "tan": mp.tan, "sinh": mp.sinh, "cosh": mp.cosh,
        "tanh": mp.tanh, "arcsin": mp.asin, "arccos": mp.acos, "arctan": mp.atan, "erf": mp.erf,
        "square": lambda x: x * x,
        "sigmoid": lambda x: 1 / (1 + mp.exp(-x)),
        "softplus": lambda x: mp.log1p(mp.exp(x)),
        "add": lambda x, y: x + y, "subtract": lambda x, y: x - y,
        "multiply": lambda x, y: x * y, "divide": lambda x, y: x / y,
        "power": mp.power, "arctan2": mp.atan2,
    }


def float64_ulp_errors(op: str, inputs: list[np.ndarray], actual: np.ndarray,
                       expected: np.ndarray) -> np.ndarray | None:
    """The error of each float64 ``actual`` in ULPs of the exact value of ``op`` at
    ``inputs`` (rounded to :data:`PRECISION_BITS` bits), where both ``actual`` and the
    float64 ``expected`` are finite and every input is finite and nonzero; NaN elsewhere.
    ``None`` when mpmath or an mpmath function for ``op`` is missing."""
    fn = mp_functions().get(op)
    if fn is None:
        return None
    mp = _mpmath()
    shape = np.shape(expected)
    a = np.asarray(actual, np.float64).ravel()
    e = np.asarray(expected, np.float64).ravel()
    xs = [np.broadcast_to(np.asarray(x, np.float64), shape).ravel() for x in inputs]
    out = np.full(e.shape, np.nan)
    # Zero and non-finite operands are IEEE special cases (atan2(-0.0, -1.0) is -pi; mpmath
    # has no signed zero): the float64 reference decides them.
    regular = np.isfinite(e) & np.isfinite(a)
    for x in xs:
        regular &= np.isfinite(x) & (x != 0)
    with mp.workprec(PRECISION_BITS):
        for i in np.flatnonzero(regular):
            try:
                exact = fn(*(mp.mpf(float(x[i])) for x in xs))
            except (ValueError, ZeroDivisionError):
                continue
            if isinstance(exact, mp.mpc) or not mp.isfinite(exact):
                continue
            err = abs(mp.mpf(float(a[i])) - exact)
            gap = float(ulp(float(exact), "float64"))
            out[i] = float(err / gap) if math.isfinite(gap) else math.nan
    return out.reshape(shape)
