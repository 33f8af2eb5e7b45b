""":class:`ArrayAPIBackend`: any namespace that implements the Python Array API standard,
as a polytape backend.

Given a namespace ``xp`` it provides everything :class:`~polytape.backends.base.Backend`
asks for: the dtype table (the standard's dtypes the namespace reports), the devices
(``xp.__array_namespace_info__().devices()``), ``asarray``/``to_numpy``/``from_dlpack``
through the standard's ``asarray`` and DLPack, and the kernels of
:func:`polytape.backends.array_api.kernels.make_kernels`. A subclass sets ``name`` and
``namespace`` and overrides only what its library does differently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from array_api_compat import array_namespace
from array_api_compat import device as device_of

from polytape import dtypes as pd
from polytape.backends.base import Backend
from polytape.backends.selected_device import selected_device
from polytape.errors import DTypeError

from .kernels import make_kernels

__all__ = ["ArrayAPIBackend", "standard_dtypes"]


def standard_dtypes(xp: Any) -> dict[pd.DType, Any]:
    """polytape dtype -> ``xp``'s dtype, for each polytape dtype the namespace reports."""
    have = xp.__array_namespace_info__().dtypes()
    return {dt: have[dt.name] for dt in pd.all_dtypes if dt.name in have}


def _device_name(dev: Any) -> str:
    return dev if isinstance(dev, str) else str(dev)


class ArrayAPIBackend(Backend):
    """A backend over the standard namespace ``namespace`` (a class attribute, or the
    first argument): ``ArrayAPIBackend(array_api_strict, name="strict")`` is a backend.

    Subclasses may set :attr:`native_dtypes` (say, to add a dtype the standard lacks)
    and :attr:`device_map` (polytape's device names -> the library's device objects);
    left empty, both come from the namespace's inspection API.
    """

    namespace: Any = None
    device_map: Mapping[str, Any] = {}

    def __init__(self, namespace: Any = None, name: str | None = None) -> None:
        xp = self.namespace if namespace is None else namespace
        if xp is None:
            raise TypeError(f"{type(self).__name__} needs a namespace (a class attribute or argument)")
        self.xp = xp
        if name is not None:
            self.name = name
        if not self.native_dtypes:
            self.native_dtypes = standard_dtypes(xp)
        super().__init__()
        self.version = str(getattr(xp, "__version__", ""))
        devices = dict(self.device_map) or {
            _device_name(d): d for d in xp.__array_namespace_info__().devices()}
        self._devices = devices
        self._device_names = {d: n for n, d in devices.items()}
        if self.default_device not in devices:
            self.default_device = next(iter(devices))
        self.kernels = make_kernels(xp, device=self._creation_device)

    def devices(self) -> list[str]:
        """The names of :attr:`device_map` (by default, of the namespace's devices)."""
        return list(self._devices)

    def _creation_device(self) -> Any:
        """Where new arrays go: the device selected for this backend, else the default."""
        return self._devices[selected_device(self) or self.default_device]

    def asarray(self, obj: Any, dtype: pd.DType | None = None, device: str | None = None) -> Any:
        """An ``xp`` array holding ``obj``, cast to ``dtype`` and moved to ``device`` when given."""
        native = None if dtype is None else self.native_dtype(dtype)
        target = None if device is None else self._devices[self.normalize_device(device)]
        if self._is_native(obj):
            out = obj if native is None or obj.dtype == native else self.xp.astype(obj, native)
            return out if target is None else self._moved(out, target)
        host = np.asarray(obj, dtype=None if dtype is None else np.dtype(dtype.name))
        if dtype is None:
            self._check_host_dtype(host.dtype)
        return self.xp.asarray(host, device=self._creation_device() if target is None else target)

    def _moved(self, arr: Any, target: Any) -> Any:
        # asarray(device=) rather than to_device: array-api-strict's to_device fails on NumPy < 2.
        return arr if device_of(arr) == target else self.xp.asarray(arr, device=target)

    def _is_native(self, obj: Any) -> bool:
        if isinstance(obj, (list, tuple, int, float, bool, np.generic)):
            return False
        try:
            return array_namespace(obj) is self.xp
        except TypeError:
            return False

    def _check_host_dtype(self, dtype: np.dtype) -> None:
        try:
            self.native_dtype(dtype.name)
        except DTypeError:
            raise
        except Exception:
            raise DTypeError(f"backend {self.name!r} cannot hold NumPy dtype {dtype}") from None

    def to_numpy(self, arr: Any) -> np.ndarray:
        """The values on the host, through DLPack (the standard's interchange protocol)."""
        if not hasattr(arr, "__dlpack__"):  # a NumPy scalar, as NumPy's own functions return
            return np.asarray(arr)
        host = self._devices.get("cpu")
        if host is not None and device_of(arr) != host:
            arr = self._moved(arr, host)
        try:
            return np.from_dlpack(arr)
        except BufferError:  # a read-only view, which DLPack before NumPy 2 cannot signal: a copy
            return np.from_dlpack(self.xp.asarray(arr, copy=True))

    def from_dlpack(self, obj: Any) -> Any:
        """An ``xp`` array sharing memory with ``obj`` where the library allows it."""
        return self.xp.from_dlpack(obj)

    def device_of(self, arr: Any) -> str:
        """The name of the device ``arr`` lives on."""
        return self._device_names[device_of(arr)]
