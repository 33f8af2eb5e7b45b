"""The PyTorch bridge: ``torch.Tensor`` arrays on any device torch has, torch ops as kernels.

polytape's tape does the differentiation; torch's autograd stays out of it:
every tensor this backend makes or accepts has ``requires_grad=False`` (foreign
tensors are detached), so torch never builds a graph. Importing this module
imports torch, which is why only the plugin's factory imports it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np
import torch

from polytape import dtypes as pd
from polytape.backends.base import Backend
from polytape.backends.selected_device import selected_device
from polytape.errors import BackendUnavailableError, DTypeError

from .kernels import make_kernels
from .unsigned import unsigned_retry

__all__ = ["TorchBackend"]

_NATIVE = {
    pd.bool_: torch.bool, pd.int8: torch.int8, pd.int16: torch.int16, pd.int32: torch.int32,
    pd.int64: torch.int64, pd.uint8: torch.uint8, pd.float16: torch.float16,
    pd.bfloat16: torch.bfloat16, pd.float32: torch.float32, pd.float64: torch.float64,
    pd.uint16: torch.uint16, pd.uint32: torch.uint32, pd.uint64: torch.uint64,
    pd.complex64: torch.complex64, pd.complex128: torch.complex128,
}
_NUMPY = {
    torch.bool: np.dtype(np.bool_), torch.int8: np.dtype(np.int8), torch.int16: np.dtype(np.int16),
    torch.int32: np.dtype(np.int32), torch.int64: np.dtype(np.int64),
    torch.uint8: np.dtype(np.uint8), torch.float16: np.dtype(np.float16),
    torch.bfloat16: np.dtype(ml_dtypes.bfloat16), torch.float32: np.dtype(np.float32),
    torch.float64: np.dtype(np.float64),
    torch.uint16: np.dtype(np.uint16), torch.uint32: np.dtype(np.uint32),
    torch.uint64: np.dtype(np.uint64), torch.complex64: np.dtype(np.complex64),
    torch.complex128: np.dtype(np.complex128),
}
_BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
_CPU = torch.device("cpu")
# torch reports unsupported dtypes as RuntimeErrors; NumPy (the reference) raises TypeError.
_DTYPE_PROBLEM = re.compile(r"not implemented for '|bool tensor|can't be cast to the desired "
                            r"output type|[Uu]nsupported dtype|does not support")


class TorchBackend(Backend):
    """Arrays are ``torch.Tensor``s on ``cpu``, ``cuda:N``, ``mps:0`` or any device torch knows.

    >>> import polytape as pt
    >>> x = pt.constant([1.0, 2.0], backend="torch")
    >>> x.backend, x.device, type(x.data).__name__
    ('torch', 'cpu', 'Tensor')
    """

    name = "torch"
    # Known gaps, each with its reason (docs/edge-values.md).
    conformance_expected_failures = {
        f"test_edge_values[remainder-torch*-{dtype}]":
            "torch's fmod and remainder compute x - trunc(x / y) * y, NaN once x / y overflows "
            "(1.0 % 5e-324, 1e300 % 3.0); the exact result needs an fmod torch does not have"
        for dtype in ("bfloat16", "float32", "float64")}
    default_device = "cpu"
    native_dtypes = _NATIVE

    def __init__(self) -> None:
        super().__init__()
        self.version = torch.__version__
        self._torch_devices: dict[str, torch.device] = {"cpu": _CPU}
        self._device_names: dict[torch.device, str] = {_CPU: "cpu"}
        self._default = _CPU
        kernels = make_kernels(self._creation_device)
        self.kernels = {name: _numpy_error_types(name, fn) for name, fn in kernels.items()}
        self._constants: dict[tuple, torch.Tensor] = {}  # (value, dtype, device) -> 0-d element

    # -- availability and devices -------------------------------------------------------------
    def is_available(self) -> tuple[bool, str]:
        """Always ``(True, "")`` once torch imports (the CPU is always there)."""
        return True, ""

    def devices(self) -> list[str]:
        """``cpu``, then every CUDA device, then ``mps:0`` and ``xpu:N`` when torch has them."""
        out = ["cpu"]
        if torch.cuda.is_available():
            out += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            out.append("mps:0")
        xpu = getattr(torch, "xpu", None)
        if xpu is not None and xpu.is_available():
            out += [f"xpu:{i}" for i in range(xpu.device_count())]
        return out

    def normalize_device(self, device: Any) -> str:
        """``"cuda"`` -> ``"cuda:0"`` (the current CUDA device), ``"cpu:0"`` -> ``"cpu"``, ...

        Raises :class:`~polytape.BackendUnavailableError` naming the devices torch
        has when ``device`` is not one of them.
        """
        if device is None:
            return self.default_device
        try:
            dev = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise BackendUnavailableError(
                f"backend 'torch' has no device {device!r} ({exc}); its devices are "
                f"{self.devices()}") from None
        if dev.type == "cpu":
            return "cpu"
        if dev.index is None:
            module = getattr(torch, dev.type, None)
            current = getattr(module, "current_device", None)
            index = 0
            if callable(current) and _has_devices(dev.type):
                index = current()
            dev = torch.device(dev.type, index) if dev.type != "meta" else dev
        name = str(dev)
        problem = _device_problem(dev)
        if problem:
            raise BackendUnavailableError(
                f"backend 'torch' cannot use device {name!r}: {problem}; its devices are "
                f"{self.devices()}")
        return name

    def device_of(self, arr: Any) -> str:
        """The canonical name of the device ``arr`` lives on (``"cpu"``, ``"cuda:0"``, ...)."""
        dev = getattr(arr, "device", None)
        if not isinstance(dev, torch.device):
            return "cpu"
        name = self._device_names.get(dev)
        if name is None:
            name = self._device_names[dev] = "cpu" if dev.type == "cpu" else str(dev)
        return name

    def _torch_device(self, name: str) -> torch.device:
        dev = self._torch_devices.get(name)
        if dev is None:
            dev = self._torch_devices[name] = torch.device(self.normalize_device(name))
        return dev

    def _creation_device(self) -> torch.device:
        chosen = selected_device(self)
        return self._default if chosen is None else self._torch_device(chosen)

    def constant_like(self, value: float, like: Any) -> Any:
        """``value`` in ``like``'s shape, dtype and device, as a broadcast view of one element.

        torch refuses in-place writes to a view whose elements share memory, and kernels never
        write their inputs, so such views share one cached element per (value, dtype, device)
        (``torch.full`` costs more than the op reading it). A result of one element or none,
        which torch would let anyone write, gets an element of its own.
        """
        if like.numel() <= 1:
            one = torch.full((), value, dtype=like.dtype, device=like.device)
            return one.expand(like.shape) if like.ndim else one
        cacheable = value == value and (value != 0 or math.copysign(1.0, value) > 0)
        key = (value, like.dtype, like.device)
        one = self._constants.get(key) if cacheable else None
        if one is None:
            one = torch.full((), value, dtype=like.dtype, device=like.device)
            if cacheable:
                self._constants[key] = one
        return one.expand(like.shape)

    def synchronize(self) -> None:
        """Wait for queued work on every CUDA/MPS device torch has started."""
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            for i in range(torch.cuda.device_count()):
                torch.cuda.synchronize(i)
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            torch.mps.synchronize()

    # -- arrays ---------------------------------------------------------------------------------
    def asarray(self, obj: Any, dtype: pd.DType | None = None, device: str | None = None) -> Any:
        """A tensor holding ``obj`` as ``dtype`` on ``device`` (``None``: the selected device).

        Tensors, NumPy arrays and NumPy scalars are shared, not copied, when dtype
        and device already match (as ``np.asarray`` does on the NumPy backend).
        A Python number with no device named becomes a CPU 0-d tensor: torch takes
        those as plain numbers next to tensors on any device (no copy to the device),
        so one converted number serves every device (the front end caches them).
        """
        native = None if dtype is None else self.native_dtype(dtype)
        if isinstance(obj, torch.Tensor):
            t = obj.detach() if obj.requires_grad else obj
            target = None if device is None else self._torch_device(device)
            if (native is not None and t.dtype != native) or (target is not None and t.device != target):
                t = t.to(device=target, dtype=native)
            return t
        if hasattr(obj, "__dlpack__") and not isinstance(obj, (np.ndarray, np.generic)):
            try:  # a CuPy or JAX array, say: share it rather than copy through the host
                shared = self.from_dlpack(obj)
            except Exception:
                shared = None  # not exportable (a bfloat16 NumPy scalar inside, ...): convert below
            if shared is not None:
                return self.asarray(shared, dtype, device)
        number = type(obj) in (bool, int, float, complex)
        if device is not None:
            dev = self._torch_device(device)
        else:
            dev = _CPU if number else self._creation_device()
        if native is None and number:
            native = _NATIVE[pd.infer_literal_dtype(obj)]
        arr = np.asarray(obj) if native is None else np.asarray(obj, dtype=_NUMPY[native])
        if arr.dtype.kind not in "biufc" and arr.dtype != _BFLOAT16:
            raise DTypeError(f"torch backend: cannot make a tensor of {arr.dtype} values")
        t = _from_numpy(arr)
        if dev != _CPU:
            t = t.to(dev)
        return t

    def to_numpy(self, arr: Any) -> np.ndarray:
        """The values of ``arr`` as a NumPy array (shared on the CPU, copied from a device)."""
        if not isinstance(arr, torch.Tensor):
            return np.asarray(arr)
        t = arr.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        if t.dtype is torch.bfloat16:  # NumPy's bfloat16 is ml_dtypes'; share the bits
            return t.view(torch.int16).numpy().view(_BFLOAT16)
        return t.numpy()

    def from_dlpack(self, obj: Any) -> Any:
        """A tensor sharing memory with ``obj`` (anything with ``__dlpack__``)."""
        if isinstance(obj, torch.Tensor):
            return obj.detach()
        if isinstance(obj, np.generic):  # NumPy scalars (full reductions) do not export DLPack
            obj = np.asarray(obj)
        return torch.from_dlpack(obj)


def _from_numpy(arr: np.ndarray) -> torch.Tensor:
    """A CPU tensor sharing ``arr``'s memory when torch can, else a copy."""
    if arr.dtype == _BFLOAT16:
        return _from_numpy(arr.view(np.int16)).view(torch.bfloat16)
    if arr.flags.writeable and arr.dtype.isnative and all(s >= 0 for s in arr.strides):
        return torch.from_numpy(arr)
    return torch.from_numpy(np.array(arr, dtype=arr.dtype.newbyteorder("=")))


def _has_devices(kind: str) -> bool:
    module = getattr(torch, kind, None)
    available = getattr(module, "is_available", None)
    return bool(callable(available) and available())


def _device_problem(dev: torch.device) -> str:
    """Why torch cannot place a tensor on ``dev``, or ``""``."""
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            return f"torch {torch.__version__} sees no CUDA device"
        if dev.index >= torch.cuda.device_count():
            return f"torch sees {torch.cuda.device_count()} CUDA device(s)"
        return ""
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        return "" if mps is not None and mps.is_available() else "MPS is not available"
    try:  # any other device type torch knows (xpu, meta, privateuse1 backends, ...)
        torch.empty(0, device=dev)
    except Exception as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ""


def _numpy_error_types(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, raising TypeError (as NumPy does) where torch reports a dtype problem as
    RuntimeError; a refused uint16/32/64 input is computed another way (:mod:`.unsigned`)."""
    def kernel(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RuntimeError as exc:
            if _DTYPE_PROBLEM.search(str(exc)) or "could not infer output dtype" in str(exc):
                done, out = unsigned_retry(name, fn, args, kwargs)
                if done:
                    return out
                raise TypeError(str(exc)) from exc
            raise
    kernel.__name__ = kernel.__qualname__ = name
    kernel.__doc__ = getattr(fn, "__doc__", None)
    kernel.__wrapped__ = fn
    return kernel
