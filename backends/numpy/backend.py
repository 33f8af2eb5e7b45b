"""The NumPy backend: kernels from :mod:`polytape.backends.array_module` on ``numpy``."""

from __future__ import annotations

import operator
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

    def constant_like(self, value: float, like: Any) -> Any | None:
        # A 0-stride view of one read-only element: no allocation, and kernels read one element.
        shape = like.shape
        if not shape:
            return None  # a 0-d array is as cheap to make as a view of one
        dtype = like.dtype
        key = (value, dtype)
        element = self._constants.get(key)
        if element is None:
            element = np.full((), value, dtype)
            element.flags.writeable = False
            self._constants[key] = element
        return np.ndarray(shape, dtype, element, 0, (0,) * len(shape))

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
    t = np.bitwise_xor(xb, yb)
    t = np.bitwise_and(t, mask, out=t if t.shape == shape else None)
    np.bitwise_xor(t, yb, out=t)
    return t.view(x.dtype)


def _erf():
    try:  # SciPy's erf is vectorised C; without SciPy the shared module falls back to math.erf
        from scipy.special import erf
    except ImportError:
        return None
    return erf
