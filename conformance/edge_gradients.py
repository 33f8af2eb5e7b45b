"""Group "edge gradients": derivatives at the inputs random samples never reach.

The gradient cases draw their inputs from moderate ranges, so a VJP rule or kernel that is
wrong at an edge -- ``relu``'s slope at 0, a ``sin`` derivative without argument
reduction, an ``exp`` derivative that overflows early or flushes subnormals, ``sqrt``'s
infinite slope at +0, a softmax gradient without the max-shift -- would certify. Here each
differentiable elementwise op is differentiated, by the tape (VJP, cotangent 1) and by
``ForwardAccumulator`` (JVP, tangent 1), at +-0, subnormals, the smallest normal, .5 ties,
large arguments of periodic functions, inputs near overflow and the largest finite
numbers, wherever its derivative is defined. The expected derivative is the float64
derivative formula on the same dtype-rounded input (IEEE 754 arithmetic decides the
infinities: ``1 / +0.0`` is ``+inf``); the comparison is :func:`check_edges`'s (NaN and
infinities where the reference has them, ULPs of the result's dtype; either zero sign)
with the op's ULP bound plus 2 for the rule's own multiply and subtractions. Derivatives
computed as ``1 - ans**2`` (``tanh``) or ``ans * (1 - ans)`` (``sigmoid``) cancel where
the derivative is tiny, so their error is measured at the derivative's largest value.

The reductions ``logsumexp``, ``softmax`` and ``log_softmax`` are differentiated over rows
whose ``exp`` overflows or underflows without the max-shift, and ``max`` over rows with
ties (polytape splits the gradient evenly among tied maxima, as TensorFlow).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import polytape as pt

from .cases import FLOAT_DTYPES, ConformanceCase
from .checks import assert_dtype
from .edge_values import check_edges, large_arguments, largest_finite, near_overflow, rounded_to
from .ulp import PRECISION, ulp_bound

__all__ = ["DERIVATIVES", "edge_gradient_cases"]


def _sigmoid_slope(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return e / (1 + e) ** 2


# op -> (d op / dx in float64, which extra inputs: "periodic", "overflow", "positive"
# (x > -0), "unit" (|x| < 1), "above_minus_one"; the error floor for cancelling rules).
DERIVATIVES: dict[str, tuple[Callable[[np.ndarray], np.ndarray], tuple[str, ...], float]] = {
    "negative": (lambda x: -np.ones_like(x), (), 0.0),
    "abs": (lambda x: np.sign(x), (), 0.0),  # 0 at +-0: polytape's convention
    "relu": (lambda x: (x > 0).astype(np.float64), (), 0.0),  # 0 at +-0 (PyTorch, TF)
    "square": (lambda x: 2 * x, ("overflow",), 0.0),
    "exp": (np.exp, ("overflow",), 0.0),
    "expm1": (np.exp, ("overflow",), 0.0),
    "log": (lambda x: 1 / x, ("positive",), 0.0),
    "log1p": (lambda x: 1 / (1 + x), ("above_minus_one",), 0.0),
    "sqrt": (lambda x: 0.5 / np.sqrt(x), ("positive",), 0.0),
    "sin": (np.cos, ("periodic",), 0.0),
    "cos": (lambda x: -np.sin(x), ("periodic",), 0.0),
    "sinh": (np.cosh, ("overflow",), 0.0),
    "cosh": (np.sinh, ("overflow",), 0.0),
    "tanh": (lambda x: 1 / np.cosh(x) ** 2, ("overflow",), 1.0),
    "arctan": (lambda x: 1 / (1 + x * x), (), 0.0),
    "arcsin": (lambda x: 1 / np.sqrt((1 - x) * (1 + x)), ("unit",), 0.0),
    "arccos": (lambda x: -1 / np.sqrt((1 - x) * (1 + x)), ("unit",), 0.0),
    "erf": (lambda x: 2 / math.sqrt(math.pi) * np.exp(-x * x), (), 0.0),
    "sigmoid": (_sigmoid_slope, ("overflow",), 0.25),
    "softplus": (lambda x: np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                                    np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))),
                 ("overflow",), 0.0),
}


def _inputs(extra: tuple[str, ...], dtype: str) -> np.ndarray:
    """Finite edge inputs: signed zeros, subnormals, the smallest normal, .5 ties, ones, the
    largest finite numbers, and the op's large or near-overflow arguments."""
    p, emin = PRECISION[dtype]
    denorm, tiny, big = 2.0 ** (emin - p + 1), 2.0 ** emin, largest_finite(dtype)
    vals = [0.0, -0.0, denorm, -denorm, 3 * denorm, tiny, -tiny, 0.5, -0.5, 1.5, -1.5, 2.5,
            -2.5, 1.0, -1.0, 3.0]
    if "periodic" in extra:
        vals += large_arguments(dtype) + [big, -big]
    if "overflow" in extra:
        vals += near_overflow(dtype)
    if not {"unit", "positive", "above_minus_one", "overflow"} & set(extra):
        vals += [big, -big]
    x = rounded_to(np.asarray(vals), dtype)
    if "positive" in extra:  # the derivative at -0.0 of a function defined on x >= 0 is not
        x = x[(x > 0) | ((x == 0) & ~np.signbit(x))]
    if "unit" in extra:
        x = x[np.abs(x) < 1]
    if "above_minus_one" in extra:
        x = x[x > -1]
    return x


def _derivative_case(op: str) -> ConformanceCase:
    derivative, extra, floor = DERIVATIVES[op]

    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        x = _inputs(extra, dtype)
        with np.errstate(all="ignore"):
            expected = np.asarray(derivative(x), np.float64)
        bound = ulp_bound(op, dtype) + 2.0
        xt = pt.constant(x, dtype=dtype)
        with np.errstate(all="ignore"), pt.GradientTape() as tape:  # overflow is the point
            tape.watch(xt)
            y = getattr(pt, op)(xt)
        with np.errstate(all="ignore"):
            g = tape.gradient(y, xt, output_gradients=pt.ones_like(y))
        assert_dtype(g, dtype, f"{op} edge gradient")
        check_edges(f"d {op}/dx (VJP)", g, expected, [x], dtype, dtype, bound=bound, floor=floor,
                    record_ulp=False, signed_zeros=False)
        with np.errstate(all="ignore"), pt.ForwardAccumulator(xt, pt.ones_like(xt)) as acc:
            y = getattr(pt, op)(xt)
        t = acc.jvp(y)
        assert_dtype(t, dtype, f"{op} edge JVP")
        check_edges(f"d {op}/dx (JVP)", t, expected, [x], dtype, dtype, bound=bound, floor=floor,
                    record_ulp=False, signed_zeros=False)

    return ConformanceCase(op, "edge gradients", fn, dtypes=FLOAT_DTYPES, op=op,
                           doc=f"d {op}/dx at signed zeros, subnormals, extremes, large arguments")


def _rows(dtype: str) -> np.ndarray:
    hot = {"float64": 1000.0, "float32": 1000.0, "float16": 1e4, "bfloat16": 1e4}[dtype]
    step = {"float64": 0.5, "float32": 0.5, "float16": 8.0, "bfloat16": 64.0}[dtype]
    return rounded_to(np.asarray([
        [hot, hot + step, hot - step, hot],       # exp overflows without the max-shift
        [-hot, -hot - step, -hot, -hot],          # exp underflows to 0 without it
        [0.5, -0.5, 0.25, 1.0],
        [2.0, 2.0, -1.0, 2.0],                    # ties
    ]), dtype)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _max_slope(z: np.ndarray) -> np.ndarray:
    ties = (z == z.max(axis=1, keepdims=True)).astype(np.float64)
    return ties / ties.sum(axis=1, keepdims=True)


# op -> (the VJP of sum(u * op(x)) for cotangent u, in float64; cotangent shape is per row)
_ROW_VJPS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "logsumexp": lambda z, u: u[:, None] * _softmax(z),
    "max": lambda z, u: u[:, None] * _max_slope(z),
    "softmax": lambda z, u: _softmax(z) * (u - np.sum(u * _softmax(z), axis=1, keepdims=True)),
    "log_softmax": lambda z, u: u - _softmax(z) * np.sum(u, axis=1, keepdims=True),
}


def _row_case(op: str) -> ConformanceCase:
    vjp = _ROW_VJPS[op]

    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        z = _rows(dtype)
        per_row = op in ("logsumexp", "max")
        u = rounded_to(np.asarray([1.0, -0.5, 2.0, 1.0]) if per_row else
                     np.tile(np.asarray([[1.0, -0.5, 2.0, 0.25]]), (len(z), 1)), dtype)
        expected = vjp(z, u)
        zt = pt.constant(z, dtype=dtype)
        with np.errstate(all="ignore"), pt.GradientTape() as tape:
            tape.watch(zt)
            y = getattr(pt, op)(zt, axis=1)
        with np.errstate(all="ignore"):
            g = tape.gradient(y, zt, output_gradients=pt.constant(u, dtype=dtype))
        assert_dtype(g, dtype, f"{op} edge gradient")
        # A row's gradient sums four terms: a few ULPs of the largest term per element.
        check_edges(f"d {op}/dx (VJP)", g, expected, [z], dtype, dtype,
                    bound=ulp_bound(op, dtype) + 6.0, floor=2.0, record_ulp=False, signed_zeros=False)

    return ConformanceCase(op, "edge gradients", fn, dtypes=FLOAT_DTYPES, op=op,
                           doc=f"gradient of {op} over rows whose exp overflows, and ties")


def edge_gradient_cases() -> list[ConformanceCase]:
    """One case per differentiable elementwise op, and the softmax family and max."""
    from polytape.optable import OPS

    return ([_derivative_case(op) for op in DERIVATIVES if op in OPS]
            + [_row_case(op) for op in _ROW_VJPS if op in OPS])
