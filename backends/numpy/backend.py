"""The NumPy backend: kernels from :mod:`polytape.backends.array_module` on ``numpy``."""

from __future__ import annotations

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

    def asarray(self, obj: Any, dtype: pd.DType | None = None, device: str | None = None) -> Any:
        native = None if dtype is None else self.native_dtype(dtype)
        return np.asarray(obj, dtype=native)

    def to_numpy(self, arr: Any) -> np.ndarray:
        return np.asarray(arr)

    def from_dlpack(self, obj: Any) -> Any:
        return np.from_dlpack(obj)


def _erf():
    try:  # SciPy's erf is vectorised C; without SciPy the shared module falls back to math.erf
        from scipy.special import erf
    except ImportError:
        return None
    return erf
