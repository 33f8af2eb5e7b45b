"""Comparisons that report what they measured: the error, and the tolerance it met.

Every case runs inside a :class:`Measurement` (set by the pytest plugin);
:func:`assert_close` compares, remembers the comparison that came closest to
its tolerance, and raises ``AssertionError`` with the numbers when one fails.
The plugin copies the worst comparison into the test report, and from there
into the certificate and the JUnit XML.
"""

from __future__ import annotations

import contextvars
import math
from dataclasses import dataclass, field
from typing import Any

import ml_dtypes
import numpy as np

from .tolerances import Tolerance, tolerance

__all__ = ["Measurement", "assert_close", "assert_dtype", "as_float64", "round_to",
           "current_measurement", "measuring"]


@dataclass
class Measurement:
    """What a running case compared; the worst (largest error/tolerance) comparison wins."""

    backend: Any = None
    op: str | None = None
    max_error: float | None = None
    rtol: float | None = None
    atol: float | None = None
    ratio: float | None = None
    source: str = ""
    comparisons: int = 0
    notes: list[str] = field(default_factory=list)
    # Every non-table tolerance any comparison used, so the certificate can say which
    # cases an override actually loosened (not only the worst comparison's).
    sources: set[str] = field(default_factory=set)
    # The worst error in ULPs of the result's dtype any comparison measured (edge values,
    # precision cases); the certificate's ULP columns.
    max_ulp: float | None = None

    def add_ulp(self, ulps: float) -> None:
        """Record one comparison's worst error in ULPs."""
        if self.max_ulp is None or ulps > self.max_ulp or math.isnan(ulps):
            self.max_ulp = ulps

    def add(self, max_error: float, ratio: float, tol: Tolerance) -> None:
        """Record one comparison."""
        self.comparisons += 1
        if tol.source != "table":
            self.sources.add(tol.source)
        if self.ratio is None or ratio > self.ratio or (math.isnan(ratio)):
            self.max_error, self.ratio, self.rtol, self.atol, self.source = (
                max_error, ratio, tol.rtol, tol.atol, tol.source)

    def properties(self) -> list[tuple[str, Any]]:
        """``(name, value)`` pairs for a pytest report's ``user_properties``."""
        if self.ratio is None:
            return []
        return [("polytape_max_error", _finite(self.max_error)),
                ("polytape_rtol", self.rtol), ("polytape_atol", self.atol),
                ("polytape_error_ratio", _finite(self.ratio)),
                ("polytape_tolerance_source", self.source),
                ("polytape_comparisons", self.comparisons),
                ("polytape_tolerance_sources", "; ".join(sorted(self.sources)))] + (
                    [("polytape_max_ulp", _finite(self.max_ulp))] if self.max_ulp is not None
                    else [])


def _finite(x: float | None) -> Any:
    if x is None or math.isfinite(x):
        return x
    return str(x)


_current: contextvars.ContextVar[Measurement | None] = contextvars.ContextVar(
    "polytape_conformance_measurement", default=None)


def current_measurement() -> Measurement | None:
    """The measurement of the case running in this context, if any."""
    return _current.get()


class measuring:
    """Context manager: run a block with ``measurement`` as the current one."""

    def __init__(self, measurement: Measurement) -> None:
        self.measurement = measurement

    def __enter__(self) -> Measurement:
        self._token = _current.set(self.measurement)
        return self.measurement

    def __exit__(self, *exc: Any) -> None:
        _current.reset(self._token)


def as_float64(value: Any) -> np.ndarray:
    """A float64 NumPy array of ``value`` (a tensor, a native array, a number, a list);
    complex128 for complex values."""
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    arr = np.asarray(value)
    if arr.dtype.kind == "c":
        return arr.astype(np.complex128)
    if arr.dtype.kind not in "biuf":  # e.g. ml_dtypes.bfloat16 reports kind "V"
        arr = arr.astype(np.float32)
    return arr.astype(np.float64)


def round_to(values: np.ndarray, dtype: Any) -> np.ndarray:
    """``values`` rounded to ``dtype`` (a polytape dtype or name) and returned as float64
    (complex128 for a complex dtype).

    Rounding first means the backend under test and the float64 reference see
    exactly the same numbers.
    """
    name = str(dtype)
    if name.startswith("complex"):  # complex128 values whose parts are rounded to the parts' dtype
        arr = np.asarray(values, dtype=np.complex128)
        part = "float32" if name == "complex64" else "float64"
        return round_to(arr.real, part) + 1j * round_to(arr.imag, part)
    arr = np.asarray(values, dtype=np.float64)
    if name == "float64":
        return arr.copy()
    if name == "bfloat16":
        return arr.astype(ml_dtypes.bfloat16).astype(np.float64)
    return arr.astype(np.dtype(name)).astype(np.float64)


def assert_dtype(result: Any, expected: Any, what: str = "result") -> None:
    """Fail unless tensor ``result`` has the polytape dtype ``expected``."""
    got = getattr(result, "dtype", None)
    if str(got) != str(expected):
        raise AssertionError(f"{what}: dtype is {got}, expected {expected}")


def assert_close(actual: Any, expected: Any, dtype: Any = None, kind: str = "value",
                 what: str = "result", op: str | None = None,
                 tol: Tolerance | None = None, magnitude: Any = None) -> float:
    """Fail unless ``actual`` matches ``expected`` within the tolerance of ``dtype``.

    ``actual`` is a tensor, array or number; ``expected`` the reference (float64).
    ``kind`` picks the table (``"value"``, ``"gradient"``, ``"finite_difference"``);
    ``dtype`` is the dtype the backend computed in (``None``: float64). Shapes must
    match exactly; NaNs must sit at the same places. ``magnitude`` (broadcastable to
    ``expected``) is the size of the terms a result was summed from: ``rtol`` then
    applies to ``max(|expected|, magnitude)``, the usual bound for rounded sums.
    Returns the max absolute error.

    >>> assert_close([1.0, 2.5], [1.0, 2.5], "float32")
    0.0
    """
    m = current_measurement()
    if tol is None:
        op = op if op is not None else (m.op if m is not None else None)
        tol = tolerance(kind, dtype, op, m.backend if m is not None else None)
    a = as_float64(actual)
    e = as_float64(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape}, expected {e.shape}")
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    if (nan_a != nan_e).any():
        idx = np.unravel_index(int(np.argmax(nan_a != nan_e)), a.shape) if a.ndim else ()
        raise AssertionError(f"{what}: NaN mismatch at index {idx}: got {a[idx]}, "
                             f"expected {e[idx]}")
    ok = ~nan_e
    inf_e = np.isinf(e) & ok
    if (a[inf_e] != e[inf_e]).any():
        raise AssertionError(f"{what}: infinities differ from the reference")
    finite = ok & ~inf_e
    err = np.where(finite, np.abs(a - np.where(finite, e, 0.0)), 0.0)
    scale = np.abs(np.where(finite, e, 0.0))
    if magnitude is not None:
        scale = np.maximum(scale, np.abs(as_float64(magnitude)))
    allowed = tol.allowed(scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_arr = np.where(err == 0, 0.0, err / allowed)
    max_error = float(err.max()) if err.size else 0.0
    ratio = float(ratio_arr.max()) if ratio_arr.size else 0.0
    if m is not None:
        m.add(max_error, ratio, tol)
    if ratio > 1.0 or math.isnan(ratio):
        idx = np.unravel_index(int(np.argmax(ratio_arr)), a.shape) if a.ndim else ()
        raise AssertionError(
            f"{what}: max |error| {max_error:.3g} exceeds the {kind} tolerance "
            f"(rtol {tol.rtol:g}, atol {tol.atol:g}; error/tolerance {ratio:.3g}) at index "
            f"{tuple(int(i) for i in idx)}: got {a[idx]!r}, expected {e[idx]!r}")
    return max_error
