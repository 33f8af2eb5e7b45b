"""The NumPy backend: kernels from :mod:`polytape.backends.array_module` on ``numpy``."""

from __future__ import annotations

import math
import operator
import sys
from typing import Any

import ml_dtypes
import numpy as np

from polytape import dtypes as pd
from polytape.backends.array_module import make_kernels
from polytape.backends.base import Backend

__all__ = ["NumpyBackend"]


class NumpyBackend(Backend):
    """Arrays are ``numpy.ndarray`` on the host; bfloat16 comes from ``ml_dtypes``."""

    name = "numpy"
    default_device = "cpu"
    native_dtypes = {
        pd.bool_: np.dtype(np.bool_), pd.int8: np.dtype(np.int8), pd.int16: np.dtype(np.int16),
        pd.int32: np.dtype(np.int32), pd.int64: np.dtype(np.int64), pd.uint8: np.dtype(np.uint8),
        pd.float16: np.dtype(np.float16), pd.bfloat16: np.dtype(ml_dtypes.bfloat16),
        pd.float32: np.dtype(np.float32), pd.float64: np.dtype(np.float64),
    }

    def __init__(self) -> None:
        super().__init__()
        self.version = np.__version__
        self.kernels = make_kernels(np, erf=_erf())
        self.kernels.update(_fast_kernels())
        self._constants: dict[tuple, np.ndarray] = {}
        # -1 (never in place) where reference counts cannot be read (not CPython).
        self._exclusive_refs = self._calibrate_exclusive_refs() if _refcount is not None else -1

    def constant_like(self, value: float, like: Any) -> Any | None:
        # A 0-stride view of one read-only element: no allocation, and kernels read one element.
        shape = like.shape
        if not shape:
            return None  # a 0-d array is as cheap to make as a view of one
        dtype = like.dtype
        # -0.0 == 0 and NaN != NaN as dict keys: those are made afresh, never cached.
        cacheable = value == value and (value != 0 or math.copysign(1.0, value) > 0)
        key = (value, dtype)
        element = self._constants.get(key) if cacheable else None
        if element is None:
            element = np.full((), value, dtype)
            element.flags.writeable = False
            if cacheable:
                self._constants[key] = element
        return np.ndarray(shape, dtype, element, 0, (0,) * len(shape))

    def update_in_place(self, arr: Any, delta: Any, subtract: bool) -> bool:
        # An array that owns its memory can only be shared through references to it (views
        # keep it as their .base; tape records, tensors and exports hold it): at the baseline
        # count -- the caller's one reference, measured through this same call path -- no
        # one else can see it change.
        if (type(arr) is not np.ndarray or arr.base is not None or not arr.flags.writeable
                or _refcount(arr) > self._exclusive_refs):
            return False
        (np.subtract if subtract else np.add)(arr, delta, out=arr)
        return True

    def _calibrate_exclusive_refs(self) -> int:
        """The reference count update_in_place sees for an array only its caller's slot holds."""
        holder = _Holder()
        holder._data = np.zeros(1)
        return _probe_refs(self, holder)

    def asarray(self, obj: Any, dtype: pd.DType | None = None, device: str | None = None) -> Any:
        native = None if dtype is None else self.native_dtype(dtype)
        arr = np.asarray(obj, dtype=native)
        # 0-d values are NumPy scalars, as NumPy's own ufuncs return them: arithmetic on two
        # of them takes NumPy's scalar fast path (~15x a 0-d array's ufunc call).
        return arr[()] if arr.ndim == 0 else arr

    def to_numpy(self, arr: Any) -> np.ndarray:
        return np.asarray(arr)

    def from_dlpack(self, obj: Any) -> Any:
        return np.from_dlpack(obj)


_refcount = getattr(sys, "getrefcount", None)


class _Holder:
    """Stands in for a Variable (one slot holding the array) while calibrating."""

    __slots__ = ("_data",)


def _probe_refs(backend: NumpyBackend, holder: _Holder) -> int:
    # Mirrors Variable.assign_add's call, `backend.update_in_place(self._data, ...)`, so the
    # count includes exactly the references that call path adds on this Python version.
    return backend._count_refs(holder._data, None, True)


def _count(self: NumpyBackend, arr: Any, delta: Any, subtract: bool) -> int:
    return _refcount(arr)


NumpyBackend._count_refs = _count


def _fast_kernels() -> dict[str, Any]:
    """Hot kernels without a Python wrapper or a per-call 0-d allocation (the results are the
    shared module's, bit for bit: the same ufuncs on the same operands)."""
    zeros: dict[Any, np.ndarray] = {}

    def zero(dtype: Any) -> np.ndarray:
        z = zeros.get(dtype)
        if z is None:
            z = zeros[dtype] = np.zeros((), dtype)
            z.flags.writeable = False
        return z

    def relu(x):
        return np.maximum(x, zero(x.dtype))

    def sigmoid(x):
        return np.exp(-np.logaddexp(zero(x.dtype), -x))

    def softplus(x):
        return np.logaddexp(zero(x.dtype), x)

    def astype(x, dtype):
        if not isinstance(x, (np.ndarray, np.generic)):
            x = np.asarray(x)
        return x.astype(dtype, copy=False)  # a NumPy scalar stays a scalar

    def scalar_or(shape, make):
        # 0-d results are NumPy scalars (see NumpyBackend.asarray).
        out = make()
        return out[()] if not shape else out

    return {
        "add": _arithmetic(np.add, operator.add),
        "subtract": _arithmetic(np.subtract, operator.sub),
        "multiply": _arithmetic(np.multiply, operator.mul),
        "divide": _arithmetic(np.true_divide, operator.truediv),
        "power": _arithmetic(np.power, operator.pow),
        "relu": relu, "sigmoid": sigmoid, "softplus": softplus, "where": where,
        "relu_backward": relu_backward,
        "astype": astype,
        "zeros": lambda shape, dtype: scalar_or(shape, lambda: np.zeros(shape, dtype)),
        "ones": lambda shape, dtype: scalar_or(shape, lambda: np.ones(shape, dtype)),
        "full": lambda shape, value, dtype: scalar_or(shape, lambda: np.full(shape, value, dtype)),
    }


# Float scalar types whose Python operators give exactly the ufunc's result (same loops: the
# half type computes in float32 and rounds once, like its ufunc) and its warnings' categories.
_FLOAT_SCALARS = frozenset({np.float16, np.float32, np.float64})


def _arithmetic(ufunc: Any, op: Any) -> Any:
    """The ufunc, except that two float NumPy scalars of one type take the operator's fast path."""
    def kernel(x, y):
        t = type(x)
        if t is type(y) and t in _FLOAT_SCALARS:
            return op(x, y)
        return ufunc(x, y)
    kernel.__name__ = ufunc.__name__
    return kernel


# Unsigned integer types by item size: where() selects bit patterns through them.
_BITS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_BITWISE_WHERE_MIN = 4096


def where(c: Any, x: Any, y: Any) -> Any:
    """``numpy.where`` -- but branch-free on large arrays.

    NumPy's ``where`` branches per element; with an unpredictable condition (a ReLU
    mask in a backward pass) that costs ~20 ns an element, 5-10x a plain multiply.
    Selecting bit patterns instead, ``y ^ ((x ^ y) & mask)`` on the values viewed as
    unsigned integers, gives bit-identical results (NaN payloads and -0.0 included).
    """
    if (type(c) is not np.ndarray or type(x) is not np.ndarray or type(y) is not np.ndarray
            or c.dtype != np.bool_ or x.dtype != y.dtype or x.dtype.itemsize not in _BITS
            or max(c.size, x.size, y.size) < _BITWISE_WHERE_MIN):
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
            or g.dtype.itemsize not in _BITS or g.size < _BITWISE_WHERE_MIN):
        return np.where(positive, g, np.zeros((), g.dtype))
    bits = _BITS[g.dtype.itemsize]
    mask = positive.astype(bits)
    np.negative(mask, out=mask)  # True -> all bits set
    return np.bitwise_and(g.view(bits), mask, out=mask).view(g.dtype)


def _erf():
    try:  # SciPy's erf is vectorised C; without SciPy the shared module falls back to math.erf
        from scipy.special import erf
    except ImportError:
        return None
    return erf
