"""The CuPy backend: the shared kernels, run by ``cupy`` on CUDA GPUs.

Everything array-shaped comes from :mod:`.kernels` (the Array API table on
``array_api_compat.cupy``); this module adds only what differs from NumPy: device names
``cuda:N``, ``cupyx.scatter_add`` for accumulating index updates,
``cupyx.scipy.special.erf``, device contexts for creation, ``cupy.asnumpy``,
and stream synchronisation. bfloat16 is not offered (CuPy has no such dtype).

Importing this module does not import cupy; :class:`CupyBackend` does (or is
handed stand-in modules, which is how its CuPy-specific paths are tested
without a GPU).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from polytape import dtypes as pd
from polytape.backends.base import Backend
from polytape.backends.selected_device import selected_device
from polytape.errors import BackendUnavailableError

from .kernels import make_kernels

__all__ = ["CupyBackend", "import_cupy", "count_devices"]

NOT_INSTALLED = "cupy is not installed (pip install polytape[cupy])"
NO_DEVICE = "no CUDA device"
_CREATION = ("zeros", "ones", "full", "arange", "linspace", "eye")


def import_cupy() -> tuple[Any, Any]:
    """``(cupy, cupyx)``, or :class:`~polytape.BackendUnavailableError` saying why not."""
    try:
        import cupy
        import cupyx
        import cupyx.scipy.special  # noqa: F401  (erf)
    except ImportError:
        raise BackendUnavailableError(NOT_INSTALLED) from None
    except Exception as exc:  # a broken CUDA install can fail with anything at import
        raise BackendUnavailableError(f"cupy cannot be imported: {type(exc).__name__}: {exc}") \
            from None
    return cupy, cupyx


def count_devices(cupy: Any) -> tuple[int, str]:
    """``(number of CUDA devices, "")``, or ``(0, reason)`` when CuPy sees none."""
    try:
        n = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # CUDARuntimeError when there is no driver or no device
        return 0, f"{NO_DEVICE} ({type(exc).__name__}: {exc})"
    return (n, "") if n > 0 else (0, NO_DEVICE)


class CupyBackend(Backend):
    """Arrays are ``cupy.ndarray`` on CUDA devices ``cuda:0``, ``cuda:1``, ...

    ``CupyBackend()`` imports cupy; ``CupyBackend(cupy=..., cupyx=...)`` uses the
    given modules instead (tests pass a NumPy-backed double). ``xp`` is the standard
    namespace the shared kernels use: ``array_api_compat.cupy`` when cupy is imported
    here, else ``cupy`` itself (the NumPy 2 double is its own standard namespace).
    """

    name = "cupy"
    default_device = "cuda:0"

    def __init__(self, cupy: Any = None, cupyx: Any = None, xp: Any = None) -> None:
        if cupy is None:
            cupy, cupyx = import_cupy()
            import array_api_compat.cupy as xp  # imports cupy: only once cupy is known to work
        elif xp is None:
            xp = cupy
        self.cp = cupy
        self.native_dtypes = {
            pd.bool_: np.dtype(np.bool_), pd.int8: np.dtype(np.int8), pd.int16: np.dtype(np.int16),
            pd.int32: np.dtype(np.int32), pd.int64: np.dtype(np.int64),
            pd.uint8: np.dtype(np.uint8), pd.uint16: np.dtype(np.uint16),
            pd.uint32: np.dtype(np.uint32), pd.uint64: np.dtype(np.uint64),
            pd.float16: np.dtype(np.float16),
            pd.float32: np.dtype(np.float32), pd.float64: np.dtype(np.float64),
            pd.complex64: np.dtype(np.complex64), pd.complex128: np.dtype(np.complex128),
        }
        super().__init__()
        self.version = str(getattr(cupy, "__version__", ""))
        kernels = make_kernels(xp, cupy, cupyx)
        for name in _CREATION:
            kernels[name] = self._on_selected_device(kernels[name])
        self.kernels = kernels

    # -- availability and devices -------------------------------------------------------------
    def is_available(self) -> tuple[bool, str]:
        """``(True, "")`` with at least one CUDA device, else ``(False, "no CUDA device")``."""
        n, reason = count_devices(self.cp)
        return (True, "") if n else (False, reason)

    def devices(self) -> list[str]:
        """``cuda:0`` ... ``cuda:N-1``."""
        n, _ = count_devices(self.cp)
        return [f"cuda:{i}" for i in range(n)]

    def normalize_device(self, device: Any) -> str:
        """``"cuda"``/``"gpu"`` -> the current device ``"cuda:N"``; ``"cuda:N"`` or ``N`` as given."""
        if device is None:
            return f"cuda:{self.cp.cuda.Device().id}"
        text = str(device).strip().lower()
        kind, _, index = text.partition(":")
        if text.isdigit():
            kind, index = "cuda", text
        if kind not in ("cuda", "gpu") or (index and not index.isdigit()):
            raise BackendUnavailableError(
                f"backend 'cupy' has no device {device!r}; its devices are {self.devices()}")
        name = f"cuda:{int(index) if index else self.cp.cuda.Device().id}"
        if name not in self.devices():
            raise BackendUnavailableError(
                f"backend 'cupy' has no device {name!r}; its devices are {self.devices()}")
        return name

    def device_of(self, arr: Any) -> str:
        """``"cuda:N"`` for the device ``arr`` lives on."""
        return f"cuda:{arr.device.id}"

    def _device_id(self, device: str | None) -> int:
        if device is None:
            device = selected_device(self)
            if device is None:
                return self.cp.cuda.Device().id
        return int(self.normalize_device(device).partition(":")[2])

    def _on_selected_device(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        cuda = self.cp.cuda

        def kernel(*args: Any, **kwargs: Any) -> Any:
            chosen = selected_device(self)
            if chosen is None:
                return fn(*args, **kwargs)
            with cuda.Device(int(chosen.partition(":")[2])):
                return fn(*args, **kwargs)
        kernel.__name__ = getattr(fn, "__name__", "kernel")
        return kernel

    def constant_like(self, value: float, like: Any) -> Any:
        """``value`` in ``like``'s shape and dtype on ``like``'s device: a broadcast view of one
        element (the backward pass reads these zeros and ones, it never writes them)."""
        with like.device:
            return self.cp.broadcast_to(self.cp.full((), value, like.dtype), like.shape)

    def synchronize(self) -> None:
        """Wait until every CUDA device's queued work has finished."""
        n, _ = count_devices(self.cp)
        for i in range(n):
            self.cp.cuda.Device(i).synchronize()

    # -- arrays ---------------------------------------------------------------------------------
    def asarray(self, obj: Any, dtype: pd.DType | None = None, device: str | None = None) -> Any:
        """A ``cupy.ndarray`` holding ``obj`` as ``dtype`` on ``device`` (``None``: the selected one)."""
        native = None if dtype is None else self.native_dtype(dtype)
        cp = self.cp
        target = self._device_id(device)
        with cp.cuda.Device(target):
            if isinstance(obj, cp.ndarray) and obj.device.id != target:
                return cp.array(obj, dtype=native, copy=True)  # a peer copy onto `target`
            return cp.asarray(obj, dtype=native)

    def to_numpy(self, arr: Any) -> np.ndarray:
        """A host copy of ``arr`` (``cupy.asnumpy``)."""
        return self.cp.asnumpy(arr)

    def from_dlpack(self, obj: Any) -> Any:
        """A ``cupy.ndarray`` sharing device memory with ``obj``."""
        if isinstance(obj, np.generic):
            obj = np.asarray(obj)
        return self.cp.from_dlpack(obj)
