"""The backend contract: what a backend owns and the kernels it runs.

A backend knows nothing of tapes or gradients. It turns values into native
arrays, tells their dtype/device, and runs *kernels*: plain functions on native
arrays, one per op name, collected in :attr:`Backend.kernels`.

Kernel calling convention (the same on every backend, so VJP rules can run on
kernels directly):

* array arguments are native arrays; elementwise binary kernels (and ``where``'s
  two value arguments) always receive arrays of the *same* dtype: promotion and
  Python-scalar conversion happen in polytape's front end;
* ``axis`` arguments are already normalised: ``None`` or a tuple of non-negative
  ints for reductions (an empty tuple means "reduce nothing"), a non-negative int
  for ``expand_dims``/``concat``/``stack``/``argmax``/``cumsum``;
* dtype arguments are native dtypes (``backend.native_dtype(pt.float32)``);
* a kernel never mutates its inputs and returns the dtype the op table says
  (e.g. ``sum`` of int32 is int32).

The op names a backend must supply are :func:`polytape.optable.required_kernels`; their
signatures are the kernel calls of :mod:`polytape.derivatives` and ``backends/array_api/kernels.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from polytape.dtypes import DType, all_dtypes, as_dtype
from polytape.errors import BackendUnavailableError, DTypeError

__all__ = ["Backend", "registered_backend"]


class Backend:
    """Base class for backends; subclass it and fill in the names below.

    Subclasses set :attr:`name`, :attr:`version`, :attr:`default_device`,
    :attr:`kernels` (op name -> function on native arrays) and
    :attr:`native_dtypes` (canonical :class:`~polytape.dtypes.DType` -> native dtype),
    and implement :meth:`asarray`, :meth:`to_numpy`, :meth:`device_of`.
    """

    name: str = ""
    version: str = ""
    default_device: str = "cpu"
    kernels: Mapping[str, Callable[..., Any]] = {}
    native_dtypes: Mapping[DType, Any] = {}

    def __init__(self) -> None:
        # native dtype -> canonical DType; the front end asks this on every op.
        self.canonical: dict[Any, DType] = {v: k for k, v in self.native_dtypes.items()}
        # The differentiable natives: real floating and complex (tapes record only these, and
        # float_only ops compute in them as they are).
        self.float_natives = frozenset(v for k, v in self.native_dtypes.items() if k.is_inexact)
        self.complex_natives = frozenset(v for k, v in self.native_dtypes.items() if k.is_complex)

    # -- availability and devices -------------------------------------------------
    def is_available(self) -> tuple[bool, str]:
        """``(True, "")`` when the backend can run here, else ``(False, reason)``."""
        return True, ""

    def devices(self) -> list[str]:
        """Names of the devices this backend can place arrays on, e.g. ``["cpu"]``."""
        return [self.default_device]

    def normalize_device(self, device: str | None) -> str:
        """Canonical spelling of ``device`` (``None`` means :attr:`default_device`)."""
        if device is None:
            return self.default_device
        if device not in self.devices():

            raise BackendUnavailableError(
                f"backend {self.name!r} has no device {device!r}; its devices are {self.devices()}"
            )
        return device

    # -- arrays ---------------------------------------------------------------------
    def asarray(self, obj: Any, dtype: DType | None = None, device: str | None = None) -> Any:
        """A native array holding ``obj`` (NumPy array, scalar or nested list) as ``dtype``.

        A Python number converted with no ``device`` must give an array that works as an
        operand next to arrays on *any* of this backend's devices (a 0-d host array, as
        PyTorch takes anywhere): the front end converts each Python number operand once per
        (number, dtype, backend) and reuses the result.
        """
        raise NotImplementedError

    def to_numpy(self, arr: Any) -> np.ndarray:
        """A NumPy array with the values of ``arr`` (a copy when the array is not on the host)."""
        raise NotImplementedError

    def from_dlpack(self, obj: Any) -> Any:
        """A native array sharing memory with ``obj`` (anything with ``__dlpack__``)."""
        raise NotImplementedError

    def device_of(self, arr: Any) -> str:
        """The device name ``arr`` lives on."""
        return self.default_device

    def dtype_of(self, arr: Any) -> DType:
        """The canonical dtype of a native array."""
        return self.canonical[arr.dtype]

    def native_dtype(self, dtype: DType | str) -> Any:
        """The native dtype for a canonical one; :class:`DTypeError` if unsupported here."""
        dt = as_dtype(dtype)
        try:
            return self.native_dtypes[dt]
        except KeyError:

            raise DTypeError(f"backend {self.name!r} does not support dtype {dt.name}") from None

    # -- optional capabilities (the front end works without them, faster with them) --------
    def constant_like(self, value: float, like: Any) -> Any | None:
        """A *read-only* array of ``like``'s shape and dtype holding ``value`` everywhere,
        made without allocating one (e.g. a broadcast view of one shared element), or
        ``None`` when this backend has no such cheap constant (the default).

        The backward pass asks for it where its rules want zeros or ones to read (a ReLU's
        ``where(x > 0, g, 0)``); on ``None`` it allocates them with the ``zeros``/``ones``
        kernels. Only return a view if every kernel accepts it as an input (kernels never
        write to their inputs) and it lives where ``like`` lives (same device).
        """
        return None

    def update_in_place(self, arr: Any, delta: Any, subtract: bool) -> bool:
        """Add (``subtract=True``: subtract) ``delta`` into ``arr`` itself and return True --
        only when no one but the caller can observe ``arr``'s memory; else (the default)
        change nothing and return False.

        ``Variable.assign_add``/``assign_sub`` (optimizer updates) ask this first and fall
        back to a new array: tensors are immutable, so an in-place update is allowed only
        where proving nothing else holds ``arr`` (a tape record, a ``read_value`` result, a
        view, an export) is possible. ``delta`` has ``arr``'s shape and dtype.
        """
        return False

    def shape(self, arr: Any) -> tuple[int, ...]:
        """The shape of ``arr`` as a tuple of ints."""
        return tuple(arr.shape)

    def synchronize(self) -> None:
        """Wait until queued kernels have finished (a no-op on synchronous backends)."""

    def supported_dtypes(self) -> tuple[DType, ...]:
        """Canonical dtypes this backend can hold, in polytape's order."""
        return tuple(d for d in all_dtypes if d in self.native_dtypes)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.version}>"

    def __reduce__(self) -> tuple[Callable[[str], Backend], tuple[str]]:
        # A backend is one per name in a process, and its kernels (functions bound to library
        # modules, devices, caches) do not pickle: a pickled backend is its registered name.
        return registered_backend, (self.name,)


def registered_backend(name: str) -> Backend:
    """The backend registered as ``name`` in this process (what an unpickled backend is)."""
    from polytape.backend_selection import get_backend  # lazy: polytape's import imports this module

    return get_backend(name)
