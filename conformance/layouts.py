"""Group "layouts": ops on inputs that are not fresh C-contiguous arrays.

Every elementwise op on transposed, strided-slice, negative-stride (flipped) and broadcast
views, and on 0-d and 0-size inputs; reductions over every axis subset of a rank-3
transposed input, with and without ``keepdims``; ``transpose`` with every permutation of
rank 4 (an inverse-permutation bug passes on involutions only); batched ``matmul`` with
broadcast batch dimensions. The views are made with polytape's own ``transpose``,
``flip``, slicing and ``broadcast_to``, which a backend may implement as views of one
buffer (NumPy and PyTorch do): a kernel that reads memory linearly fails here.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

import polytape as pt

from .cases import ConformanceCase
from .checks import assert_close, assert_dtype, round_to
from .edge_values import BINARY, UNARY

__all__ = ["layout_cases", "LAYOUT_DTYPES"]

LAYOUT_DTYPES = ("float32", "float64")
_REDUCTIONS = {
    "sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
    "logsumexp": lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)),
}


def _views(a: np.ndarray, dtype: str) -> list[tuple[str, Any, np.ndarray]]:
    """``(label, polytape view, the same values as NumPy)`` of a (3, 4, 5) array."""
    x = pt.constant(a, dtype=dtype)
    row = pt.constant(a[:1], dtype=dtype)
    return [
        ("transposed", pt.transpose(x), a.T),
        ("permuted", pt.transpose(x, (1, 0, 2)), a.transpose(1, 0, 2)),
        ("strided slice", x[:, ::2, 1:], a[:, ::2, 1:]),
        ("negative strides", pt.flip(x, axis=(0, 2)), a[::-1, :, ::-1]),
        ("broadcast view", pt.broadcast_to(row, (3, 4, 5)), np.broadcast_to(a[:1], (3, 4, 5))),
        ("0-d", pt.constant(a[0, 0, 0], dtype=dtype), a[0, 0, 0]),
        ("0-size", pt.constant(a[:0], dtype=dtype), a[:0]),
    ]


def _sample(seed: int, dtype: str) -> np.ndarray:
    # In (0.2, 0.9): inside every unary op's domain (arcsin, log, sqrt, ...).
    return round_to(np.random.default_rng(seed).uniform(0.2, 0.9, (3, 4, 5)), dtype)


def _unary_case(op: str) -> ConformanceCase:
    ref = UNARY[op][0]

    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        for label, view, a in _views(_sample(1, dtype), dtype):
            got = getattr(pt, op)(view)
            assert_dtype(got, dtype, f"{op} on a {label} input")
            assert_close(got, np.asarray(ref(np.asarray(a, np.float64))), dtype, "value",
                         f"{op} on a {label} input")

    return ConformanceCase(op, "layouts", fn, dtypes=LAYOUT_DTYPES, op=op,
                           doc=f"{op} on transposed, strided, flipped, broadcast, 0-d, 0-size inputs")


def _binary_case(op: str) -> ConformanceCase:
    ref = BINARY[op]

    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        xs, ys = _views(_sample(2, dtype), dtype), _views(_sample(3, dtype), dtype)
        # Pairs of different layouts where the shapes agree (0-d broadcasts against any).
        for i, j in ((0, 0), (1, 1), (2, 2), (3, 4), (4, 3), (5, 3), (3, 5), (6, 6)):
            (lx, x, a), (ly, y, b) = xs[i], ys[j]
            got = getattr(pt, op)(x, y)
            expected = np.asarray(ref(np.asarray(a, np.float64), np.asarray(b, np.float64)))
            assert_close(got, expected, dtype, "value", f"{op} on {lx} and {ly} inputs")

    return ConformanceCase(op, "layouts", fn, dtypes=LAYOUT_DTYPES, op=op,
                           doc=f"{op} on pairs of non-contiguous inputs")


def _reduction_case(op: str) -> ConformanceCase:
    ref = _REDUCTIONS[op]

    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        a = _sample(4, dtype)
        x = pt.transpose(pt.constant(a, dtype=dtype), (2, 0, 1))
        at = a.transpose(2, 0, 1)
        for r in range(1, 4):
            for axes in itertools.combinations(range(3), r):
                for keepdims in (False, True):
                    got = getattr(pt, op)(x, axis=axes, keepdims=keepdims)
                    assert_close(got, ref(at, axis=axes, keepdims=keepdims), dtype, "value",
                                 f"{op}(axis={axes}, keepdims={keepdims}) of a transposed input")

    return ConformanceCase(op, "layouts", fn, dtypes=LAYOUT_DTYPES, op=op,
                           doc=f"{op} over every axis subset of a transposed input, keepdims or not")


def _transpose_case() -> ConformanceCase:
    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        a = round_to(np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5), dtype)
        x = pt.constant(a, dtype=dtype)
        for perm in itertools.permutations(range(4)):
            assert_close(pt.transpose(x, perm), a.transpose(perm), dtype, "value",
                         f"transpose(axes={perm})")
            # A transposed input transposed again: the second kernel sees strides.
            assert_close(pt.transpose(pt.transpose(x, perm), (3, 1, 0, 2)),
                         a.transpose(perm).transpose(3, 1, 0, 2), dtype, "value",
                         f"transpose(transpose(x, {perm}), (3, 1, 0, 2))")

    return ConformanceCase("transpose", "layouts", fn, dtypes=LAYOUT_DTYPES, op="transpose",
                           doc="every permutation of rank 4, also of a transposed input")


def _matmul_case() -> ConformanceCase:
    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        rng = np.random.default_rng(5)
        for xs, ys in (((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)),
                       ((1, 3, 4), (6, 4, 2))):
            a, b = (round_to(rng.standard_normal(s), dtype) for s in (xs, ys))
            got = pt.matmul(pt.constant(a, dtype=dtype), pt.constant(b, dtype=dtype))
            assert_close(got, np.matmul(a, b), dtype, "value", f"matmul {xs} @ {ys}",
                         op="matmul", magnitude=np.matmul(np.abs(a), np.abs(b)))
        a = round_to(rng.standard_normal((3, 4, 5)), dtype)
        x = pt.constant(a, dtype=dtype)
        got = pt.matmul(pt.transpose(x, (0, 2, 1)), x)  # a transposed batch operand
        assert_close(got, np.matmul(a.transpose(0, 2, 1), a), dtype, "value",
                     "matmul of a transposed batch", op="matmul",
                     magnitude=np.matmul(np.abs(a.transpose(0, 2, 1)), np.abs(a)))

    return ConformanceCase("matmul", "layouts", fn, dtypes=LAYOUT_DTYPES, op="matmul",
                           doc="batched matmul with broadcast batch dimensions, vectors, views")


def layout_cases() -> list[ConformanceCase]:
    """The layout cases of the ops the op table has."""
    from polytape.optable import OPS  # complete only once plugins have loaded

    cases = [_unary_case(op) for op in UNARY if op in OPS]
    cases += [_binary_case(op) for op in BINARY if op in OPS]
    cases += [_reduction_case(op) for op in _REDUCTIONS if op in OPS]
    cases += [_transpose_case(), _matmul_case()]
    return cases
