"""The NumPy backend's kernels: the shared Array API table on ``array_api_compat.numpy``,
plus what NumPy does differently.

:func:`ndarray_kernels` holds the kernels of any module with NumPy's own API (NumPy,
CuPy): native fancy indexing and scatter-add, ``einsum``, a vectorised ``erf``, and
bfloat16 (``ml_dtypes``), which NumPy's loops widen. :func:`make_kernels` adds NumPy's
hot-path kernels: no Python wrapper or per-call 0-d allocation where a ufunc fits
(a cached 0-d zero for the shared ``relu``/``sigmoid``/``softplus``),
NumPy scalars for 0-d results, the bit-select ``where`` and ``relu_backward``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from functools import partial
from typing import Any

import array_api_compat.numpy as compat_numpy
import ml_dtypes
import numpy as np

from polytape.backends.array_api.indexing import is_basic
from polytape.backends.array_api.kernels import BIT_SELECT_MIN_SIZE, reduction
from polytape.backends.array_api.kernels import make_kernels as array_api_kernels

from . import convolution

__all__ = ["make_kernels", "ndarray_kernels", "where", "relu_backward"]

Kernel = Callable[..., Any]


# -- any module with NumPy's API (NumPy, CuPy) ------------------------------------------------------
def _getitem(x: Any, index: Any) -> Any:
    return x[index]


def _index_add(scatter_add: Kernel, base: Any, values: Any, index: Any) -> Any:
    # Arrays first, the index (an attribute) last: the kernel calling convention.
    scalar = isinstance(base, np.generic)  # the NumPy backend's 0-d values: not assignable
    out = np.array(base) if scalar else base.copy()
    if is_basic(index):
        out[index] += values
    else:
        scatter_add(out, index, values)  # repeated positions accumulate
    return out[()] if scalar else out


def _erf(xp: Any, erf: Kernel, x: Any) -> Any:
    # Half precision is computed in float64 and rounded once, to the input's dtype. SciPy
    # would widen float16 itself, but with its Array API mode on (SCIPY_ARRAY_API=1) it
    # refuses ml_dtypes' bfloat16.
    wide = x if x.dtype in (xp.float32, xp.float64) else x.astype(xp.float64)
    return xp.asarray(erf(wide), dtype=x.dtype)


def _matmul(xp: Any, x: Any, y: Any) -> Any:
    out = xp.matmul(x, y)
    return out if out.dtype == x.dtype else out.astype(x.dtype)  # NumPy widens bfloat16


def _einsum(xp: Any, *xs: Any, subscripts: str) -> Any:
    # Subscripts arrive canonical (explicit output, no ellipsis); NumPy's einsum has no
    # bfloat16 loop, so 16-bit floats are contracted in float32 and rounded back.
    dt = xs[0].dtype
    if dt.kind not in "biufc":
        return xp.einsum(subscripts, *(x.astype(xp.float32) for x in xs)).astype(dt)
    # BLAS-backed contraction paths pay off for big or many operands, not for tiny ones.
    return xp.einsum(subscripts, *xs, optimize=len(xs) > 2 or sum(x.size for x in xs) > 4096)


def _pad(xp: Any, x: Any, pad_width: Any, constant_value: Any = 0) -> Any:
    # One call instead of the shared table's concat of fulls (and compat's full refuses bfloat16).
    return xp.pad(x, pad_width, mode="constant", constant_values=constant_value)


def _clip(xp: Any, x: Any, lo: Any = None, hi: Any = None) -> Any:
    # Bounds as arrays of x's dtype: NumPy would give float32 for a bfloat16 x and a float bound.
    lo = None if lo is None else xp.asarray(lo, dtype=x.dtype)
    hi = None if hi is None else xp.asarray(hi, dtype=x.dtype)
    out = xp.clip(x, lo, hi)
    return out if out.dtype == x.dtype else out.astype(x.dtype)  # 0-d bfloat16 widens


def ndarray_kernels(xp: Any, scatter_add: Kernel, erf: Kernel | None) -> dict[str, Kernel]:
    """The kernels a module with NumPy's own API (``numpy``, ``cupy``) runs natively.

    ``scatter_add(out, index, values)`` adds in place with repeated indices accumulating
    (``numpy.add.at``, ``cupyx.scatter_add``); ``erf`` is the library's vectorised error
    function (``None``: keep the shared table's, built from standard functions).
    """
    k: dict[str, Kernel] = {
        "getitem": _getitem, "index_add": partial(_index_add, scatter_add),
        "matmul": partial(_matmul, xp), "einsum": partial(_einsum, xp), "clip": partial(_clip, xp),
        "pad": partial(_pad, xp),
        # NumPy averages float16 in float32 unless told a dtype; the op keeps the input's.
        "mean": reduction(xp.mean, keep_dtype=True),
    }
    if erf is not None:
        k["erf"] = partial(_erf, xp, erf)
    return k


# -- NumPy's hot path ------------------------------------------------------------------------------
# Float scalar types whose Python operators give exactly the ufunc's result (same loops: the
# half type computes in float32 and rounds once, like its ufunc) and its warnings' categories.
_FLOAT_SCALARS = frozenset({np.float16, np.float32, np.float64})


def _arithmetic(ufunc: Any, op: Any, x: Any, y: Any) -> Any:
    """The ufunc, except that two float NumPy scalars of one type take the operator's fast path."""
    t = type(x)
    if t is type(y) and t in _FLOAT_SCALARS:
        return op(x, y)
    return ufunc(x, y)


# One read-only 0-d zero per dtype: relu/sigmoid/softplus (the shared table's) and
# relu_backward would otherwise have NumPy convert a Python 0 into a new 0-d array a call.
_ZEROS: dict[Any, np.ndarray] = {}


def _zero(x: Any) -> np.ndarray:
    z = _ZEROS.get(x.dtype)
    if z is None:
        z = _ZEROS[x.dtype] = np.zeros((), x.dtype)
        z.flags.writeable = False
    return z


def _astype(x: Any, dtype: Any) -> Any:
    if not isinstance(x, (np.ndarray, np.generic)):
        x = np.asarray(x)
    if x.dtype.kind == "c" and dtype.kind != "c":
        x = x.real  # TensorFlow's cast keeps the real part; NumPy would warn
    return x.astype(dtype, copy=False)  # a NumPy scalar stays a scalar


def _scalar_if_0d(out: np.ndarray) -> Any:
    # 0-d results are NumPy scalars, as NumPy's ufuncs return them (see NumpyBackend.asarray).
    return out[()] if not out.ndim else out


def _zeros(shape: Any, dtype: Any) -> Any:
    return _scalar_if_0d(np.zeros(shape, dtype))


def _ones(shape: Any, dtype: Any) -> Any:
    return _scalar_if_0d(np.ones(shape, dtype))


def _full(shape: Any, value: Any, dtype: Any) -> Any:
    return _scalar_if_0d(np.full(shape, value, dtype))


# Unsigned integer types by item size: where() selects bit patterns through them.
_BITS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def where(c: Any, x: Any, y: Any) -> Any:
    """``numpy.where`` -- but branch-free on large arrays.

    NumPy's ``where`` branches per element; with an unpredictable condition (a ReLU
    mask in a backward pass) that costs ~20 ns an element, 5-10x a plain multiply.
    Selecting bit patterns instead, ``y ^ ((x ^ y) & mask)`` on the values viewed as
    unsigned integers, gives bit-identical results (NaN payloads and -0.0 included).
    """
    if (type(c) is not np.ndarray or type(x) is not np.ndarray or type(y) is not np.ndarray
            or c.dtype != np.bool_ or x.dtype != y.dtype or x.dtype.itemsize not in _BITS
            or max(c.size, x.size, y.size) < BIT_SELECT_MIN_SIZE):
        return np.where(c, x, y)
    bits = _BITS[x.dtype.itemsize]
    shape = np.broadcast_shapes(c.shape, x.shape, y.shape)
    mask = c.astype(bits)
    np.negative(mask, out=mask)  # True -> all bits set
    xb, yb = x.view(bits), y.view(bits)
    if y.shape == shape and y.ndim and not any(y.strides) and not yb[(0,) * y.ndim]:
        # y is a broadcast zero (constant_like(0, ...)), as in every ReLU backward pass:
        # y ^ ((x ^ y) & mask) is then x & mask.
        return np.bitwise_and(xb, mask).view(x.dtype)
    t = np.bitwise_xor(xb, yb)
    t = np.bitwise_and(t, mask, out=t if t.shape == shape else None)
    np.bitwise_xor(t, yb, out=t)
    return t.view(x.dtype)


def relu_backward(g: Any, x: Any) -> Any:
    """``g`` where ``x > 0``, else 0: :func:`where`'s bit select against zero, ``g & mask``.

    The mask and the result share one buffer: a second fresh array of this size costs
    more than the three passes (it comes back from the allocator as new pages).
    """
    with np.errstate(invalid="ignore"):  # ml_dtypes warns on NaN > 0 (False, as wanted)
        positive = np.greater(x, 0)
    if (type(g) is not np.ndarray or type(positive) is not np.ndarray or g.shape != x.shape
            or g.dtype.itemsize not in _BITS or g.size < BIT_SELECT_MIN_SIZE):
        return np.where(positive, g, _zero(g))
    bits = _BITS[g.dtype.itemsize]
    mask = positive.astype(bits)
    np.negative(mask, out=mask)  # True -> all bits set
    return np.bitwise_and(g.view(bits), mask, out=mask).view(g.dtype)


def _vectorized_math_erf() -> Kernel:
    try:  # SciPy's erf is vectorised C; without SciPy, math.erf element by element
        from scipy.special import erf
    except ImportError:
        return np.vectorize(math.erf, otypes=[np.float64])
    return erf


def _widened_bfloat16(kernel: Kernel, x: Any, *args: Any, **kwargs: Any) -> Any:
    """ml_dtypes' bfloat16 has no pairwise-summing loop: a sum of 1e5 terms accumulates in
    bfloat16 and stalls (500 comes out as 4). Sum in float32, round once."""
    if x.dtype != ml_dtypes.bfloat16:
        return kernel(x, *args, **kwargs)
    return np.asarray(kernel(x.astype(np.float32), *args, **kwargs)).astype(x.dtype)


def make_kernels() -> dict[str, Kernel]:
    """The NumPy backend's op-name -> kernel mapping."""
    shared = array_api_kernels(compat_numpy, zero=_zero)
    return {
        **shared,
        **ndarray_kernels(np, scatter_add=np.add.at, erf=_vectorized_math_erf()),
        "sum": partial(_widened_bfloat16, shared["sum"]),
        "mean": partial(_widened_bfloat16, shared["mean"]),
        "add": partial(_arithmetic, np.add, operator.add),
        "subtract": partial(_arithmetic, np.subtract, operator.sub),
        "multiply": partial(_arithmetic, np.multiply, operator.mul),
        "divide": partial(_arithmetic, np.true_divide, operator.truediv),
        "power": partial(_arithmetic, np.power, operator.pow),
        "where": where, "relu_backward": relu_backward, "astype": _astype,
        "zeros": _zeros, "ones": _ones, "full": _full,
        **convolution.kernels(),  # windows as strided views, contracted by BLAS
    }
