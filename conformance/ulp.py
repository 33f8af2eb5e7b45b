"""Errors in units in the last place (ULPs), the measure of the OpenCL C conformance tests.

An error of ``k`` ULPs at a reference value ``e`` means ``|a - e| = k * ulp(e)``, where
``ulp(e)`` is the gap between the two floats of the result's dtype around ``e`` (below the
smallest normal it is the smallest subnormal, so a backend that flushes subnormals to zero
is off by many ULPs). Below float64 the reference ``e`` is a float64 value (NumPy float64,
``math``), never rounded first, so a correctly rounded result is at most 0.5 ULP away; a
float64 result is measured against mpmath at 128 bits where it has the function
(:mod:`polytape.conformance.extended_reference`), else against NumPy float64.

:data:`ULP_BOUNDS` gives each op's bound per dtype, modelled on the OpenCL C 3.0
specification's table of built-in math function accuracy (section 7.4): arithmetic and
``sqrt`` correctly rounded, ``exp``/``log`` 3 ULPs, ``sin``/``cos`` 4, ``tan``/``tanh`` 5,
``pow`` and ``erf`` 16 (the float64 value tolerances of
:mod:`~polytape.conformance.tolerances` are these bounds plus 2 ULPs). Half precision is
computed through float32 by every built-in backend, so it gets the float32 bound plus the
rounding to half (1 ULP).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["PRECISION", "ulp", "ulp_error", "ULP_BOUNDS", "ulp_bound", "ulp_table", "ulp_markdown"]

# (significand bits including the implicit one, smallest normal exponent)
PRECISION: dict[str, tuple[int, int]] = {
    "float64": (53, -1022),
    "float32": (24, -126),
    "float16": (11, -14),
    "bfloat16": (8, -126),
}


def ulp(expected: Any, dtype: str) -> np.ndarray:
    """The ULP of ``dtype`` at each (float64) value of ``expected``; NaN where it is not finite."""
    p, emin = PRECISION[str(dtype)]
    e = np.abs(np.asarray(expected, dtype=np.float64))
    finite = np.isfinite(e)
    e = np.where(finite, e, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.floor(np.log2(np.where(e > 0, e, 1.0)))
    exponent = np.maximum(np.where(e > 0, exponent, emin), emin)
    out = np.ldexp(1.0, (exponent - (p - 1)).astype(np.int64))
    return np.where(finite, out, np.nan)


def ulp_error(actual: Any, expected: Any, dtype: str) -> np.ndarray:
    """``|actual - expected| / ulp(expected)`` elementwise (0 where both are the same
    non-finite value, ``inf`` where only one of them is finite or NaN)."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    finite = np.isfinite(e) & np.isfinite(a)
    same = (a == e) | (np.isnan(a) & np.isnan(e))
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(finite, np.abs(a - np.where(finite, e, 0.0)) / ulp(np.where(finite, e, 1.0),
                                                                             dtype), np.inf)
    return np.where(same, 0.0, err)


_CORRECTLY_ROUNDED = ("add", "subtract", "multiply", "divide", "sqrt", "square", "negative",
                      "abs", "sign", "floor", "ceil", "round", "maximum", "minimum", "relu",
                      "remainder", "floor_divide", "identity", "clip", "reciprocal", "copysign",
                      "trunc", "positive", "real", "conj")
# OpenCL C 3.0, table "ULP values for single/double precision built-in math functions".
_FLOAT32 = {"exp": 3, "expm1": 3, "log": 3, "log1p": 2, "sin": 4, "cos": 4, "tan": 5,
            "sinh": 4, "cosh": 4, "tanh": 5, "arcsin": 4, "arccos": 4, "arctan": 5,
            "arctan2": 6, "power": 16, "erf": 16, "log2": 3, "log10": 3, "asinh": 4,
            "acosh": 4, "atanh": 5, "hypot": 4,
            # Not OpenCL built-ins: compositions of two or three of them (log1p(exp(-|x|)) ...).
            "sigmoid": 4, "softplus": 4, "logaddexp": 4}
_FLOAT64 = dict(_FLOAT32)

ULP_BOUNDS: dict[str, dict[str, float]] = {
    "float64": {**{op: 1.0 for op in _CORRECTLY_ROUNDED}, **_FLOAT64},
    "float32": {**{op: 1.0 for op in _CORRECTLY_ROUNDED}, **_FLOAT32},
}


def ulp_bound(op: str, dtype: str) -> float:
    """The largest error in ULPs the suite accepts for a single evaluation of ``op`` in
    ``dtype`` (measured against an unrounded float64 reference, hence the extra half ULP
    the reference's own rounding may cost)."""
    name = str(dtype)
    base = ULP_BOUNDS["float64" if name == "float64" else "float32"].get(op, 4.0)
    if name in ("float16", "bfloat16"):
        # Computed in float32, then rounded once more: the float32 error is a small
        # fraction of a half-precision ULP, the final rounding half of one.
        return 1.0 + 0.5
    return base + 0.5


# -- the certificate's ULP columns ------------------------------------------------------------------
_ULP_DTYPES = ("float16", "bfloat16", "float32", "float64")


def ulp_table(results: Any) -> dict[str, dict[str, float]]:
    """Each op's worst measured ULP error per dtype, over the case results that measured one
    (``{op: {dtype: ulps}}``, ops and dtypes in order)."""
    table: dict[str, dict[str, float]] = {}
    for r in results:
        ulps = getattr(r, "max_ulp", None)
        if ulps is None or r.dtype not in _ULP_DTYPES:
            continue
        ulps = float(ulps)
        op = r.op or r.case
        row = table.setdefault(op, {})
        if r.dtype not in row or ulps > row[r.dtype] or math.isnan(ulps):
            row[r.dtype] = ulps
    return {op: {d: table[op][d] for d in _ULP_DTYPES if d in table[op]} for op in sorted(table)}


def ulp_markdown(results: Any, reference: str | None = None) -> list[str]:
    """The certificate's section "Worst ULP error per op" (no lines when nothing measured);
    ``reference`` says what the float64 column was measured against."""
    table = ulp_table(results)
    if not table:
        return []
    lines = ["### Worst ULP error per op", "",
             "Error in units in the last place of the result's dtype against the float64 "
             "reference (bounds: docs/edge-values.md)."
             + (f" Float64 column measured against: {reference}." if reference else ""), "",
             "| op | " + " | ".join(_ULP_DTYPES) + " |", "|---|" + "---:|" * len(_ULP_DTYPES)]
    for op, row in table.items():
        cells = [f"{row[d]:.3g}" if d in row else "-" for d in _ULP_DTYPES]
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    return lines + [""]
