"""Kernels shared by every backend whose array module speaks NumPy's API (NumPy, CuPy).

:func:`make_kernels` builds the op-name -> kernel mapping from the module ``xp``;
a backend passes its own module and overrides only what differs (CuPy's
scatter-add, device placement).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["make_kernels"]


def make_kernels(xp: Any, scatter_add: Callable[[Any, Any, Any], None] | None = None,
                 erf: Callable[[Any], Any] | None = None) -> dict[str, Callable[..., Any]]:
    """Return the kernels of the op table written with the NumPy-compatible module ``xp``.

    ``scatter_add(out, index, values)`` adds in place with repeated indices
    accumulating (``numpy.add.at``; CuPy passes ``cupyx.scatter_add``).
    ``erf`` is the error function (SciPy/CuPy's ``special.erf``); when absent a
    vectorised ``math.erf`` is used.
    """
    scatter_add = scatter_add or xp.add.at

    def sigmoid(x):
        # exp(-log(1 + exp(-x))) never overflows, unlike 1 / (1 + exp(-x)).
        return xp.exp(-xp.logaddexp(xp.zeros((), x.dtype), -x))

    def softplus(x):
        return xp.logaddexp(xp.zeros((), x.dtype), x)

    def relu(x):
        return xp.maximum(x, xp.zeros((), x.dtype))

    def divide(x, y):
        return xp.true_divide(x, y)

    def power(x, y):
        return xp.power(x, y)

    def reduction(fn):
        def kernel(x, axis=None, keepdims=False):
            if axis == ():
                return x
            return fn(x, axis=axis, keepdims=keepdims)
        return kernel

    def typed_reduction(fn):
        def kernel(x, axis=None, keepdims=False):
            if axis == ():
                return x
            return fn(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
        return kernel

    def arg_reduction(fn):
        def kernel(x, axis=None, keepdims=False):
            out = fn(x, axis=axis, keepdims=keepdims)
            return xp.asarray(out, dtype=xp.int64)
        return kernel

    def index_add(base, values, index):
        # Arrays first, the index (an attribute) last: the kernel calling convention.
        out = base.copy()
        if _is_basic(index):
            out[index] += values
        else:
            scatter_add(out, index, values)
        return out

    def erf_kernel(x):
        # SciPy's erf computes half-precision inputs in float64; the op keeps the input's dtype.
        out = erf(x) if erf is not None else _np_vectorized_erf(xp)(x)
        return xp.asarray(out, dtype=x.dtype)

    def matmul(x, y):
        out = xp.matmul(x, y)
        return out if out.dtype == x.dtype else out.astype(x.dtype)  # NumPy widens bfloat16

    def einsum(*xs, subscripts):
        # Subscripts arrive canonical (explicit output, no ellipsis); NumPy's einsum has no
        # bfloat16 loop, so 16-bit floats are contracted in float32 and rounded back.
        dt = xs[0].dtype
        if dt.kind not in "biuf":
            return xp.einsum(subscripts, *(x.astype(xp.float32) for x in xs)).astype(dt)
        # BLAS-backed contraction paths pay off for big or many operands, not for tiny ones.
        return xp.einsum(subscripts, *xs, optimize=len(xs) > 2 or sum(x.size for x in xs) > 4096)

    def astype(x, dtype):
        return xp.asarray(x).astype(dtype, copy=False)

    def cumsum(x, axis, reverse=False):
        if reverse:
            return xp.flip(xp.cumsum(xp.flip(x, axis), axis=axis, dtype=x.dtype), axis)
        return xp.cumsum(x, axis=axis, dtype=x.dtype)

    def pad(x, pad_width, constant_value=0):
        return xp.pad(x, pad_width, mode="constant", constant_values=constant_value)

    def clip(x, lo=None, hi=None):
        # Bounds are Python numbers already in x's range; as arrays of x's dtype they cannot
        # widen the result (NumPy would give float32 for a bfloat16 x and a float bound).
        lo = None if lo is None else xp.asarray(lo, dtype=x.dtype)
        hi = None if hi is None else xp.asarray(hi, dtype=x.dtype)
        out = xp.clip(x, lo, hi)
        return out if out.dtype == x.dtype else out.astype(x.dtype)  # 0-d bfloat16 widens

    k: dict[str, Callable[..., Any]] = {
        # elementwise unary
        "negative": xp.negative, "abs": xp.abs, "sign": xp.sign, "exp": xp.exp,
        "expm1": xp.expm1, "log": xp.log, "log1p": xp.log1p, "sqrt": xp.sqrt,
        "square": xp.square, "sin": xp.sin, "cos": xp.cos, "tan": xp.tan, "tanh": xp.tanh,
        "sinh": xp.sinh, "cosh": xp.cosh, "arcsin": xp.arcsin, "arccos": xp.arccos,
        "arctan": xp.arctan, "erf": erf_kernel, "sigmoid": sigmoid, "relu": relu,
        "softplus": softplus, "floor": xp.floor, "ceil": xp.ceil, "round": xp.round,
        "logical_not": xp.logical_not, "identity": lambda x: x,
        "clip": clip,
        # elementwise binary (same-dtype operands)
        "add": xp.add, "subtract": xp.subtract, "multiply": xp.multiply, "divide": divide,
        "power": power, "maximum": xp.maximum, "minimum": xp.minimum, "arctan2": xp.arctan2,
        "floor_divide": xp.floor_divide, "remainder": xp.remainder,
        "equal": xp.equal, "not_equal": xp.not_equal, "less": xp.less,
        "less_equal": xp.less_equal, "greater": xp.greater, "greater_equal": xp.greater_equal,
        "logical_and": xp.logical_and, "logical_or": xp.logical_or,
        "logical_xor": xp.logical_xor,
        "where": xp.where,
        # reductions
        "sum": typed_reduction(xp.sum), "prod": typed_reduction(xp.prod),
        "mean": typed_reduction(xp.mean), "max": reduction(xp.max), "min": reduction(xp.min),
        "argmax": arg_reduction(xp.argmax), "argmin": arg_reduction(xp.argmin),
        "cumsum": cumsum,
        # linear algebra
        "matmul": matmul, "einsum": einsum,
        # shapes and indexing
        "reshape": lambda x, shape: xp.reshape(x, shape),
        "transpose": lambda x, axes: xp.transpose(x, axes),
        "broadcast_to": lambda x, shape: xp.broadcast_to(x, shape),
        "expand_dims": lambda x, axis: xp.expand_dims(x, axis),
        "squeeze": lambda x, axis: xp.squeeze(x, axis),
        "concat": lambda *xs, axis: xp.concatenate(xs, axis=axis),
        "stack": lambda *xs, axis: xp.stack(xs, axis=axis),
        "tile": lambda x, reps: xp.tile(x, reps),
        "flip": lambda x, axis: xp.flip(x, axis),
        "pad": pad,
        "getitem": lambda x, index: x[index],
        "index_add": index_add,
        "astype": astype,
        # creation
        "zeros": lambda shape, dtype: xp.zeros(shape, dtype),
        "ones": lambda shape, dtype: xp.ones(shape, dtype),
        "full": lambda shape, value, dtype: xp.full(shape, value, dtype),
        "arange": lambda start, stop, step, dtype: xp.arange(start, stop, step, dtype=dtype),
        "linspace": lambda start, stop, num, dtype: xp.linspace(start, stop, num, dtype=dtype),
        "eye": lambda n, m, dtype: xp.eye(n, m, dtype=dtype),
    }
    return k


def _is_basic(index: Any) -> bool:
    """True when ``index`` has no integer or boolean arrays (no repeated positions)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


def _np_vectorized_erf(xp: Any) -> Callable[[Any], Any]:
    import numpy as np

    return np.vectorize(math.erf, otypes=[np.float64])
