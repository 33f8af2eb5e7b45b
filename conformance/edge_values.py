"""Group "edge values": every elementwise op and the reductions/softmax family on the inputs
random samples never reach -- NaN, +-inf, +-0.0, subnormals, the largest and smallest
finite numbers, exact .5 ties, poles, branch cuts, large arguments of periodic functions and
inputs near overflow.

Expected results are the NumPy float64 reference on the same (dtype-rounded) inputs, which
follows IEEE 754 and the Array API standard's special-case tables for these functions;
where a reference must differ from the naive NumPy formula (``softplus``, ``sigmoid``, the
softmax family are computed stably, as polytape documents), the reference here says so.
A result must have:

* NaN exactly where the reference has NaN, the same infinities;
* the sign of a zero the reference gives (``sin(-0.0)`` is ``-0.0``), except for ops where
  the standard leaves it implementation-defined (:data:`ANY_ZERO_SIGN`);
* every finite value within the op's ULP bound (:func:`polytape.conformance.ulp.ulp_bound`)
  of the unrounded float64 reference -- in float64, of the exact value (mpmath at 128 bits,
  :mod:`polytape.conformance.extended_reference`) where mpmath has the function.

Polytape's documented choices (docs/edge-values.md): ``floor_divide`` and
``remainder`` are checked on finite operands only (NumPy and PyTorch disagree on
``inf // 1``; the standard leaves it open), and ``erf`` is odd at zero (``erf(-0.0)`` is
``-0.0``, as C's ``erf``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import polytape as pt

from .cases import FLOAT_DTYPES, ConformanceCase
from .checks import as_float64, assert_dtype, current_measurement, round_to
from .extended_reference import float64_ulp_errors
from .tolerances import Tolerance
from .ulp import PRECISION, ulp, ulp_bound, ulp_error

__all__ = ["edge_value_cases", "special_values", "UNARY", "BINARY", "REDUCTIONS",
           "ANY_ZERO_SIGN", "check_edges", "largest_finite", "large_arguments", "near_overflow",
           "rounded_to"]

# max(-0.0, +0.0) and relu(-0.0) may return either zero (IEEE 754 maxNum, Array API).
# sign(-0.0): NumPy gives +0.0 in float32, -0.0 in bfloat16; either is a zero.
ANY_ZERO_SIGN = frozenset({"sign", "maximum", "minimum", "relu", "sum", "mean", "logsumexp",
                           "softmax", "log_softmax", "cumsum", "floor_divide", "remainder",
                           "prod", "clip"})


def largest_finite(dtype: str) -> float:
    """The largest finite number of ``dtype``."""
    p, emin = PRECISION[dtype]
    return float((2 - 2.0 ** (1 - p)) * 2.0 ** (-emin + 1))


def special_values(dtype: str) -> np.ndarray:
    """The special inputs every elementwise op sees in ``dtype`` (exactly representable)."""
    p, emin = PRECISION[dtype]
    tiny = 2.0 ** emin
    denorm = 2.0 ** (emin - p + 1)
    big = largest_finite(dtype)
    vals = [math.nan, math.inf, -math.inf, 0.0, -0.0, denorm, -denorm, 3 * denorm, tiny, -tiny,
            big, -big, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, 2.0, -3.0,
            1e-3, -0.75, 10.0]
    return np.asarray(vals, dtype=np.float64)


def large_arguments(dtype: str) -> list[float]:
    """Arguments of periodic functions far from 0, up to the dtype's range (NumPy float64's
    ``sin`` reduces them exactly)."""
    return {"float64": [100.0, 1e5, 1e10, 1e22, 1e300, -1e16, 2.0 ** 60],
            "float32": [100.0, 1e5, 1e10, 3e38, -1e16],
            "float16": [100.0, 1000.0, 6e4, -3e4],
            "bfloat16": [100.0, 1e5, 1e10, 3e38]}[dtype]


def near_overflow(dtype: str) -> list[float]:
    """Arguments of exp-like functions around where the result over- and underflows."""
    return {"float64": [700.0, 709.0, 710.0, -740.0, -745.0, -746.0, 50.0, -50.0, 40.0],
            "float32": [88.0, 89.0, -100.0, -104.0, -110.0, 40.0, -40.0, 20.0],
            "float16": [10.0, 11.0, 12.0, -15.0, -18.0, 8.0, -8.0],
            "bfloat16": [88.0, 89.0, -100.0, -120.0, -140.0, 40.0, -40.0]}[dtype]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # Both halves computed where exp cannot overflow: 1/(1+exp(-x)) for x >= 0, else
    # exp(x)/(1+exp(x)), so sigmoid(-800) is a subnormal-or-zero, never NaN.
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _unary(ref: Callable[..., Any], *extra: str) -> tuple[Callable[..., Any], tuple[str, ...]]:
    return ref, extra


# op -> (float64 reference, which extra input sets: "periodic", "overflow", "domain").
UNARY: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "negative": _unary(np.negative),
    "abs": _unary(np.abs),
    "sign": _unary(np.sign),
    "exp": _unary(np.exp, "overflow"),
    "expm1": _unary(np.expm1, "overflow"),
    "log": _unary(np.log, "domain"),
    "log1p": _unary(np.log1p, "domain"),
    "sqrt": _unary(np.sqrt, "domain"),
    "square": _unary(np.square),
    "sin": _unary(np.sin, "periodic"),
    "cos": _unary(np.cos, "periodic"),
    "tan": _unary(np.tan, "periodic"),
    "tanh": _unary(np.tanh, "overflow"),
    "sinh": _unary(np.sinh, "overflow"),
    "cosh": _unary(np.cosh, "overflow"),
    "arcsin": _unary(np.arcsin, "domain"),
    "arccos": _unary(np.arccos, "domain"),
    "arctan": _unary(np.arctan),
    "erf": _unary(_erf),
    "sigmoid": _unary(_sigmoid, "overflow"),
    "softplus": _unary(lambda x: np.logaddexp(0.0, x), "overflow"),
    "relu": _unary(lambda x: np.where(np.isnan(x), x, np.maximum(x, 0.0))),
    "floor": _unary(np.floor),
    "ceil": _unary(np.ceil),
    "round": _unary(np.round),  # half to even: round(2.5) is 2, round(-0.5) is -0.0
}

# Points at poles, branch cuts and domain edges, per op (beyond the shared special values).
_DOMAIN = {"log": [1e-300, 1.0 + 2.0 ** -40, -2.0], "log1p": [-1.0, -1.5, -0.999999, 1e-20],
           "sqrt": [-1.0, -1e-300, 4.0, 2.0],
           "arcsin": [1.0, -1.0, 1.0000001, -1.0000001, 0.99999], "arccos": [1.0, -1.0, 1.0000001,
                                                                             -1.0000001, 0.99999]}

_BINARY_EXTRA = [1.0, -1.0, 2.0, 0.5, -0.5, 3.0, -7.0]

BINARY: dict[str, Callable[..., Any]] = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
    "power": np.power, "maximum": np.maximum, "minimum": np.minimum, "arctan2": np.arctan2,
    "floor_divide": np.floor_divide, "remainder": np.remainder,
    "equal": np.equal, "not_equal": np.not_equal, "less": np.less,
    "less_equal": np.less_equal, "greater": np.greater, "greater_equal": np.greater_equal,
    # relu's VJP kernel: g where x > 0, else 0 -- also at x = +-0.0 and x = NaN.
    "relu_backward": lambda g, x: np.where(x > 0, g, 0.0),
}
_FINITE_ONLY = frozenset({"floor_divide", "remainder"})
_COMPARISONS = frozenset({"equal", "not_equal", "less", "less_equal", "greater", "greater_equal"})


def _lse(x: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _rows(dtype: str) -> np.ndarray:
    """Rows for reductions: NaN, infinities of both signs, near-overflow, all equal, -inf."""
    big = largest_finite(dtype)
    hot = {"float64": 1000.0, "float32": 1000.0, "float16": 1e4, "bfloat16": 1e4}[dtype]
    half_step = {"float64": 0.5, "float32": 0.5, "float16": 8.0, "bfloat16": 64.0}[dtype]
    inf, nan = math.inf, math.nan
    return np.asarray([
        [1.0, nan, 2.0, 3.0],
        [inf, 1.0, 2.0, 3.0],
        [-inf, 1.0, 2.0, 3.0],
        [inf, -inf, 1.0, 0.0],
        [hot, hot + half_step, hot - half_step, hot],      # exp(x) overflows without max-shift
        [-hot, -hot - half_step, -hot, -hot],              # exp(x) underflows to 0 without it
        [big, big, 1.0, 1.0],                              # the sum overflows
        [-0.0, -0.0, -0.0, -0.0],
        [0.5, -0.5, 0.25, 1.0],
    ])


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    # polytape's documented shift: by the row's maximum where it is finite, else by 0, so a
    # row holding +inf gives NaN at the +inf and 0 elsewhere (softmax), never a NaN row.
    m = np.max(x, axis=axis, keepdims=True)
    return x - np.where(np.isfinite(m), m, 0.0)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(_shifted(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    z = _shifted(x, axis)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


REDUCTIONS: dict[str, tuple[Callable[..., Any], dict]] = {
    "sum": (lambda x, axis: np.sum(x, axis=axis), {"axis": 1}),
    "max": (lambda x, axis: np.max(x, axis=axis), {"axis": 1}),
    "min": (lambda x, axis: np.min(x, axis=axis), {"axis": 1}),
    "prod": (lambda x, axis: np.prod(x, axis=axis), {"axis": 1}),
    "logsumexp": (lambda x, axis: _lse(x, axis)[:, 0], {"axis": 1}),
    "softmax": (_softmax, {"axis": 1}),
    "log_softmax": (_log_softmax, {"axis": 1}),
    "cumsum": (lambda x, axis: np.cumsum(x, axis=axis), {"axis": 1}),
}


def rounded_to(values: Any, dtype: str) -> np.ndarray:
    """``values`` rounded to ``dtype`` as float64 (overflowing to +-inf where they must)."""
    with np.errstate(over="ignore"):  # 1e300 in float32 is meant to become inf
        return round_to(np.asarray(values, dtype=np.float64), dtype)


# -- comparing ---------------------------------------------------------------------------------------
def check_edges(op: str, result: Any, expected: np.ndarray, inputs: list[np.ndarray], dtype: str,
                out_dtype: str, bound: float | None = None, floor: float = 0.0,
                record_ulp: bool = True, signed_zeros: bool = True) -> float:
    """Compare ``result`` with the float64 ``expected`` (NaN, infinities, zero signs, ULPs).

    ``floor`` > 0 measures ULPs at ``max(|expected|, floor)``: for results that are
    differences of O(1) terms (``log_softmax``), whose error is absolute.
    Returns the worst error in ULPs of ``out_dtype`` and records it in the running case's
    measurement (its ULP column too, unless ``record_ulp`` is false: a derivative's error
    is not the op's); fails naming the first offending input. ``signed_zeros=False``
    accepts either zero where the reference has one.
    """
    a = as_float64(result)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"{op} edge values: shape {a.shape}, expected {e.shape}")

    def where(mask: np.ndarray, what: str) -> AssertionError:
        i = int(np.argmax(mask.ravel()))
        args = ", ".join(repr(float(np.broadcast_to(x, e.shape).ravel()[i])) for x in inputs)
        return AssertionError(f"{op}({args}) in {dtype}: {what}: got "
                              f"{float(a.ravel()[i])!r}, expected {float(e.ravel()[i])!r}")

    if out_dtype not in FLOAT_DTYPES:
        bad = a != e
        if bad.any():
            raise where(bad, "wrong result")
        return 0.0
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    if (nan_a != nan_e).any():
        raise where(nan_a != nan_e, "NaN where the reference has none" if nan_a[nan_a != nan_e]
                    .any() else "no NaN where the reference (IEEE 754 / Array API) has one")
    rounded = rounded_to(e, out_dtype)
    inf_e = np.isinf(rounded)
    if (a[inf_e] != rounded[inf_e]).any() or (np.isinf(a) & ~inf_e & ~nan_e).any():
        raise where((np.isinf(a) | inf_e) & (a != rounded), "infinity mismatch")
    if signed_zeros and op not in ANY_ZERO_SIGN:
        zero = (rounded == 0) & (a == 0)
        bad = zero & (np.signbit(a) != np.signbit(rounded))
        if bad.any():
            raise where(bad, "wrong sign of zero")
    finite = np.isfinite(e) & ~inf_e
    if floor > 0:
        scale = np.maximum(np.abs(np.where(finite, e, 0.0)), floor)
        with np.errstate(invalid="ignore"):
            errs = np.where(finite, np.abs(a - np.where(finite, e, 0.0)) / ulp(scale, out_dtype),
                            0.0)
    else:
        errs = np.where(finite, ulp_error(a, e, out_dtype), 0.0)
        if out_dtype == "float64" and bound is None:
            # Finite float64 results: against the exact value where mpmath has the function.
            precise = float64_ulp_errors(op, inputs, a, e)
            if precise is not None:
                errs = np.where(finite & ~np.isnan(precise), precise, errs)
    worst = float(errs.max()) if errs.size else 0.0
    limit = bound if bound is not None else ulp_bound(op, out_dtype)
    m = current_measurement()
    if m is not None:
        m.add(worst, worst / limit, Tolerance(0.0, limit, f"{limit:g} ULP"))
        if record_ulp:
            m.add_ulp(worst)
    if worst > limit:
        raise where(errs > limit, f"{worst:.3g} ULPs from the reference (bound {limit:g})")
    return worst


# -- cases ---------------------------------------------------------------------------------------------
def _unary_inputs(op: str, extra: tuple[str, ...], dtype: str) -> np.ndarray:
    vals = list(special_values(dtype))
    if "periodic" in extra:
        vals += large_arguments(dtype) + [math.pi / 2, math.pi, -math.pi / 2, 3 * math.pi / 4]
    if "overflow" in extra:
        vals += near_overflow(dtype)
    if "domain" in extra:
        vals += _DOMAIN.get(op, [])
    return rounded_to(np.asarray(vals), dtype)


def _unary_case(op: str) -> ConformanceCase:
    ref, extra = UNARY[op]

    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        x = _unary_inputs(op, extra, dtype)
        with np.errstate(all="ignore"):
            expected = np.asarray(ref(x), dtype=np.float64)
            result = getattr(pt, op)(pt.constant(x, dtype=dtype))
        assert_dtype(result, dtype, f"{op} edge values")
        check_edges(op, result, expected, [x], dtype, dtype)

    return ConformanceCase(op, "edge values", fn, dtypes=FLOAT_DTYPES, op=op,
                           doc=f"{op} at NaN, infinities, signed zeros, subnormals, extremes")


def _binary_case(op: str) -> ConformanceCase:
    ref = BINARY[op]
    out_bool = op in _COMPARISONS

    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        v = rounded_to(np.concatenate([special_values(dtype), _BINARY_EXTRA]), dtype)
        if op in _FINITE_ONLY:
            v = v[np.isfinite(v) & (np.abs(v) < 1e4)]
        x, y = (a.ravel() for a in np.meshgrid(v, v, indexing="ij"))
        if op in _FINITE_ONLY:
            keep = y != 0  # the standard leaves x // 0 and x % 0 to the implementation's NaN/inf
            x, y = x[keep], y[keep]
        with np.errstate(all="ignore"):
            expected = np.asarray(ref(x, y))
            result = getattr(pt, op)(pt.constant(x, dtype=dtype), pt.constant(y, dtype=dtype))
        out = "bool" if out_bool else dtype
        assert_dtype(result, out, f"{op} edge values")
        check_edges(op, result, expected.astype(np.float64), [x, y], dtype, out)

    return ConformanceCase(op, "edge values", fn, dtypes=FLOAT_DTYPES, op=op,
                           doc=f"{op} on every pair of special values")


def _reduction_case(op: str) -> ConformanceCase:
    ref, attrs = REDUCTIONS[op]

    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        x = rounded_to(_rows(dtype), dtype)
        with np.errstate(all="ignore"):
            expected = np.asarray(ref(x, **attrs), dtype=np.float64)
            result = getattr(pt, op)(pt.constant(x, dtype=dtype), **attrs)
        assert_dtype(result, dtype, f"{op} edge values")
        # A reduction rounds once per term: allow a few ULPs per row of four.
        check_edges(op, result, expected, [x[:, 0]] if expected.ndim == 1 else [x], dtype,
                    dtype, bound=ulp_bound(op, dtype) + 4.0,
                    floor=1.0 if op in ("log_softmax", "logsumexp") else 0.0)

    return ConformanceCase(op, "edge values", fn, dtypes=FLOAT_DTYPES, op=op,
                           doc=f"{op} over rows holding NaN, infinities and near-overflow values")


def edge_value_cases() -> list[ConformanceCase]:
    """One case per op with edge values, for the ops the op table has."""
    from polytape.optable import OPS  # the table is complete only after plugins loaded

    cases = [_unary_case(op) for op in UNARY if op in OPS]
    cases += [_binary_case(op) for op in BINARY if op in OPS]
    cases += [_reduction_case(op) for op in REDUCTIONS if op in OPS]
    return cases
