"""Group "precision": long sums and dot products against an exact reference.

The error of a sum of ``n`` rounded terms grows with ``n``; the bound used here is the one
pairwise (cascade) summation guarantees, ``(ceil(log2 n) + 2) * eps * sum(|terms|)`` with
``eps`` the dtype's unit roundoff, which every built-in backend's ``sum`` and BLAS dot meet
and which a float64 kernel accumulating in float32, or a half-precision sum accumulating in
half precision, exceeds by orders of magnitude. The reference is :func:`math.fsum`
(correctly rounded) of the dtype-rounded terms (products of float32 numbers are exact in
float64; float64 products are rounded once each, which the bound covers).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import polytape as pt

from .cases import FLOAT_DTYPES, ConformanceCase
from .checks import as_float64, assert_dtype, current_measurement, round_to
from .tolerances import Tolerance
from .ulp import PRECISION, ulp

__all__ = ["precision_cases", "summation_bound", "LONG"]

LONG = 100_000


def summation_bound(n: int, dtype: str, magnitude: float) -> float:
    """The largest error accepted for a sum of ``n`` terms of total size ``magnitude``."""
    eps = 2.0 ** -PRECISION[str(dtype)][0]
    return (math.ceil(math.log2(max(n, 2))) + 2) * eps * magnitude


def _check(op: str, got: Any, exact: float, n: int, dtype: str, magnitude: float) -> None:
    value = float(as_float64(got).reshape(()))
    err = abs(value - exact)
    bound = summation_bound(n, dtype, magnitude)
    m = current_measurement()
    if m is not None:
        m.add(err, err / bound, Tolerance(0.0, bound, f"{n}-term summation bound"))
        m.add_ulp(err / float(ulp(exact, dtype)))
    if not err <= bound:
        raise AssertionError(f"{op} of {n} terms in {dtype}: error {err:.3g} against the exact "
                             f"sum {exact!r} exceeds the {n}-term bound {bound:.3g} (got {value!r})")


def _terms(dtype: str, signed: bool, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0 if signed else 0.0, 1.0, LONG)
    return round_to(x * (0.01 if dtype in ("float16", "bfloat16") else 1.0), dtype)


def _sum_case() -> ConformanceCase:
    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        for signed in (False, True):
            x = _terms(dtype, signed, 1 + signed)
            got = pt.sum(pt.constant(x, dtype=dtype))
            assert_dtype(got, dtype, "sum")
            exact = math.fsum(x.tolist())
            _check("sum", got, exact, LONG, dtype, math.fsum(np.abs(x).tolist()))

    return ConformanceCase("sum", "precision", fn, dtypes=FLOAT_DTYPES, op="sum",
                           doc=f"sum of {LONG} terms against math.fsum")


def _dot_case() -> ConformanceCase:
    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        x, y = _terms(dtype, True, 3), _terms(dtype, False, 4)
        got = pt.matmul(pt.constant(x[None, :], dtype=dtype), pt.constant(y[:, None], dtype=dtype))
        assert_dtype(got, dtype, "matmul")
        products = x * y  # exact for float32 and half-precision terms
        _check("matmul", got, math.fsum(products.tolist()), LONG, dtype,
               math.fsum(np.abs(products).tolist()))

    return ConformanceCase("matmul", "precision", fn, dtypes=("float32", "float64"), op="matmul",
                           doc=f"a dot product of {LONG} terms against math.fsum")


def _mean_case() -> ConformanceCase:
    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        x = _terms(dtype, False, 5)
        got = pt.mean(pt.constant(x, dtype=dtype))
        assert_dtype(got, dtype, "mean")
        _check("mean", got, math.fsum(x.tolist()) / LONG, LONG, dtype,
               math.fsum(x.tolist()) / LONG)

    return ConformanceCase("mean", "precision", fn, dtypes=FLOAT_DTYPES, op="mean",
                           doc=f"mean of {LONG} terms against math.fsum")


def precision_cases() -> list[ConformanceCase]:
    """Long reductions: sum, mean and a dot product."""
    return [_sum_case(), _mean_case(), _dot_case()]
