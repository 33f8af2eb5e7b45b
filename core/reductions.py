"""Reductions: ``sum``, ``mean``, ``max``/``min``, ``prod``, ``logsumexp``, ``var``/``std``,
``argmax``/``argmin``, ``cumsum``, ``softmax``/``log_softmax``.

This module defines ``sum``, ``max`` and ``min``, so it uses none of those builtins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .arguments import int_arg, normalize_axis, number, one_axis
from .dispatch import float_array, public_op, run, unary_operand
from .dtypes import accumulation_dtype, as_dtype, float32
from .elementwise import cast, conj, real, sqrt
from .errors import ShapeError
from .optable import OPS, Op
from .shapes import reshape
from .tensor import Tensor

__all__ = ["sum", "mean", "max", "min", "prod", "logsumexp", "var", "std", "argmax", "argmin",
           "cumsum", "softmax", "log_softmax"]


def _bool_as_int32(be: Any, a: Any) -> Any:
    """``a``, with bool cast to int32 (sums, products and indices of bools count)."""
    if be.canonical[a.dtype].kind == "b":
        return be.kernels["astype"](a, be.native_dtypes[as_dtype("int32")])
    return a


def _reduction(op: Op, bool_as_int: bool = False) -> Any:
    """The front end of a reduction over ``axis`` (all axes when None)."""
    def fn(x: Any, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        x = unary_operand(x)
        be = x._backend
        a = x._data
        if op.float_only:
            a = float_array(be, a)
        elif bool_as_int:
            a = _bool_as_int32(be, a)
        axes = normalize_axis(axis, len(a.shape), op.name)
        if axes is not None and len(axes) == len(a.shape) and not keepdims:
            axes = None
        return run(op, be, (x,), (a,), {"axis": axes, "keepdims": bool(keepdims)})
    return fn


def _accumulating(op: Op) -> Any:
    """The front end of ``sum``/``prod``: the standard's ``dtype=`` and accumulator rule."""
    def fn(x: Any, axis: int | Sequence[int] | None = None, keepdims: bool = False,
           dtype: Any = None) -> Tensor:
        x = unary_operand(x)
        dt = x.dtype
        if dtype is not None:
            target = as_dtype(dtype)
        else:
            target = accumulation_dtype(dt)
        if target is not dt:
            x = cast(x, target)  # recorded: a float32 -> float64 sum still has a gradient
        be = x._backend
        a = x._data
        axes = normalize_axis(axis, len(a.shape), op.name)
        if axes is not None and len(axes) == len(a.shape) and not keepdims:
            axes = None
        return run(op, be, (x,), (a,), {"axis": axes, "keepdims": bool(keepdims)})
    return fn


sum = public_op("sum", "Sum over ``axis`` (all axes when None).\n\nAs the Array API standard "
                "says, bool and integers narrower than the default integer (int32) sum in it, "
                "unsigned ones in uint32 (:func:`polytape.dtypes.accumulation_dtype`); floats "
                "keep their dtype; ``dtype=`` casts the input first.\n\n"
                ">>> import polytape as pt\n"
                ">>> pt.sum(pt.constant([1, 2], dtype=pt.int8)).dtype\npolytape.int32",
                _accumulating)
mean = public_op("mean", "Mean over ``axis`` (all axes when None); integers give float32.", _reduction)
max = public_op("max", "Maximum over ``axis``; ties share the gradient evenly (as in TensorFlow).",
                _reduction)
min = public_op("min", "Minimum over ``axis``; ties share the gradient evenly (as in TensorFlow).",
                _reduction)
prod = public_op("prod", "Product over ``axis`` (all axes when None); bool and integers "
                 "narrower than 32 bits give int32 (uint32), as :func:`sum`; ``dtype=`` casts first.\n\n"
                 "Its gradient is exact with zeros in the input (the product of the other "
                 "entries), not ``prod / x``.", _accumulating)
logsumexp = public_op("logsumexp", "``log(sum(exp(x)))`` over ``axis``, computed without "
                      "overflow; integers give float32.", _reduction)


def _variance(op: str, x: Any, axis: Any, correction: Any, keepdims: bool) -> Tensor:
    # A composition (mean, subtract, multiply, sum): exact first and second derivatives come from
    # those ops, and no backend needs a kernel. Two passes, as any numerically stable variance.
    x = unary_operand(x)
    axes = normalize_axis(axis, x.ndim, op)
    correction = number(op, "correction", correction)
    if not x.dtype.is_inexact:
        x = cast(x, float32)
    n = math.prod(x.shape[i] for i in (range(x.ndim) if axes is None else axes))
    d = x - mean(x, axis=axes, keepdims=True)
    # complex: |d|^2 = real(d conj(d)), so the variance is real (as NumPy's)
    squares = real(d * conj(d)) if d.dtype.is_complex else d * d
    return sum(squares, axis=axes, keepdims=keepdims) / (n - correction if n > correction else 0)


def var(x: Any, axis: int | Sequence[int] | None = None, correction: float = 0.0,
        keepdims: bool = False) -> Tensor:
    """Variance over ``axis`` (all axes when None), dividing by ``n - correction``.

    ``correction=0`` is the population variance (NumPy's and TensorFlow's default),
    ``correction=1`` the sample variance. Integers give float32; complex input gives the
    real variance of its parts' dtype, ``mean(|x - mean(x)|**2)``.
    """
    return _variance("var", x, axis, correction, keepdims)


def std(x: Any, axis: int | Sequence[int] | None = None, correction: float = 0.0,
        keepdims: bool = False) -> Tensor:
    """Standard deviation: the square root of :func:`var` (a composition). Its gradient is
    infinite where the variance is 0 (e.g. a single element), as in NumPy-based frameworks."""
    return sqrt(_variance("std", x, axis, correction, keepdims))


def _arg_reduction(op: Op) -> Any:
    def fn(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
        x = unary_operand(x)
        be = x._backend
        a = _bool_as_int32(be, x._data)
        ax = None
        if axis is not None:
            axes = normalize_axis(int_arg(op.name, "axis", axis), len(a.shape), op.name)
            ax = axes[0] if axes else None
        return run(op, be, (x,), (a,), {"axis": ax, "keepdims": bool(keepdims)})
    return fn


argmax = public_op("argmax", "Index (int64) of the first maximum along ``axis`` (of the "
                   "flattened tensor when None); not differentiable.", _arg_reduction)
argmin = public_op("argmin", "Index (int64) of the first minimum along ``axis`` (of the "
                   "flattened tensor when None); not differentiable.", _arg_reduction)


def cumsum(x: Any, axis: int | None = None, reverse: bool = False) -> Tensor:
    """Running sum along ``axis`` (of the flattened tensor when None, as in NumPy).

    ``reverse=True`` sums from the end (TensorFlow's ``reverse``). Bool gives int32;
    other dtypes are kept.

    >>> import polytape as pt
    >>> pt.cumsum(pt.constant([1.0, 2.0, 3.0])).numpy().tolist()
    [1.0, 3.0, 6.0]
    """
    x = unary_operand(x)
    if axis is None:
        x, ax = reshape(x, (-1,)), 0
    else:
        ax = one_axis("cumsum", axis, x.ndim)
    be = x._backend
    a = _bool_as_int32(be, x._data)
    return run(OPS["cumsum"], be, (x,), (a,), {"axis": ax, "reverse": bool(reverse)})


def _softmax_like(op: Op) -> Any:
    def fn(x: Any, axis: int | Sequence[int] | None = -1) -> Tensor:
        x = unary_operand(x)
        if x.ndim == 0:
            raise ShapeError(f"{op.name}: needs a tensor with at least one dimension, got a 0-d one")
        axes = normalize_axis(axis, x.ndim, op.name)
        if axes is None:
            axes = tuple(range(x.ndim))
        be = x._backend
        return run(op, be, (x,), (float_array(be, x._data),), {"axis": axes})
    return fn


softmax = public_op("softmax", "``exp(x) / sum(exp(x))`` along ``axis`` (the last by default), "
                    "computed without overflow; integers give float32.", _softmax_like)
log_softmax = public_op("log_softmax", "``x - logsumexp(x)`` along ``axis`` (the last by "
                        "default); integers give float32.", _softmax_like)
