"""The NumPy backend: ``numpy.ndarray`` arrays on the host, kernels from :mod:`.kernels`."""

from __future__ import annotations

import math
import sys
from typing import Any

import ml_dtypes
import numpy as np

from polytape import dtypes as pd
from polytape.backends.base import Backend

from .kernels import make_kernels

__all__ = ["NumpyBackend"]


class NumpyBackend(Backend):
    """Arrays are ``numpy.ndarray`` on the host; bfloat16 comes from ``ml_dtypes``."""

    name = "numpy"
    default_device = "cpu"
    native_dtypes = {
        pd.bool_: np.dtype(np.bool_), pd.int8: np.dtype(np.int8), pd.int16: np.dtype(np.int16),
        pd.int32: np.dtype(np.int32), pd.int64: np.dtype(np.int64), pd.uint8: np.dtype(np.uint8),
        pd.uint16: np.dtype(np.uint16), pd.uint32: np.dtype(np.uint32),
        pd.uint64: np.dtype(np.uint64), pd.float16: np.dtype(np.float16),
        pd.bfloat16: np.dtype(ml_dtypes.bfloat16),
        pd.float32: np.dtype(np.float32), pd.float64: np.dtype(np.float64),
        pd.complex64: np.dtype(np.complex64), pd.complex128: np.dtype(np.complex128),
    }

    def __init__(self) -> None:
        super().__init__()
        self.version = np.__version__
        self.kernels = make_kernels()
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
