"""``Tensor`` (an immutable wrapper of one backend array) and ``Variable`` (a mutable one).

Arithmetic, comparison, ``@``, ``**`` and indexing operators are the functions of
:mod:`polytape.ops` (installed on the class by that module), so ``x * y`` and
``pt.multiply(x, y)`` are the same op and are recorded the same way.

Tensors and variables pickle (for ``multiprocessing`` and checkpoints) as their
backend's registered name, their device, a NumPy copy of their values and their
polytape dtype; unpickling makes them again with :func:`polytape.constant` on that
backend and device, which must therefore be available where they are unpickled.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import tracing
from .dtypes import DType, as_dtype
from .errors import ArgumentTypeError, BackendMismatchError, DTypeError, ShapeError
from .tensor_shape import TensorShape

__all__ = ["Tensor", "Variable", "VariableSlice"]


class Tensor:
    """An immutable n-dimensional array living on one backend.

    Make one with :func:`polytape.constant`; the backend keeps the array, polytape
    keeps track of how it was computed when a :class:`~polytape.GradientTape` watches.

    >>> import polytape as pt
    >>> x = pt.constant([1.0, 2.0])
    >>> (x * 2).numpy()
    array([2., 4.], dtype=float32)
    """

    # _key: the tensor's identity for tapes (0 until one records or watches it; never reused,
    # unlike id(), so a tape can forget a tensor's values and still know the tensor).
    __slots__ = ("_data", "_backend", "_key", "__weakref__")
    # NumPy must hand `ndarray * tensor` to Tensor.__rmul__ instead of looping over the tensor.
    __array_ufunc__ = None

    def __init__(self, value: Any, dtype: Any = None, backend: Any = None) -> None:
        from .creation import constant  # creation imports this module

        t = constant(value, dtype=dtype, backend=backend)
        self._data = t._data
        self._backend = t._backend
        self._key = 0

    # -- what it is -------------------------------------------------------------
    @property
    def shape(self) -> TensorShape:
        """The shape: a :class:`~polytape.TensorShape`, a tuple of ints with TensorFlow's
        ``as_list()``, ``rank`` and ``num_elements()``."""
        return tuple.__new__(TensorShape, self._data.shape)

    @property
    def dtype(self) -> DType:
        """The canonical dtype (``polytape.float32``, ...)."""
        return self._backend.canonical[self._data.dtype]

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return len(self._data.shape)

    @property
    def size(self) -> int:
        """The number of elements."""
        n = 1
        for s in self._data.shape:
            n *= s
        return n

    @property
    def backend(self) -> str:
        """The name of the backend the array lives on (``"numpy"``, ``"torch"``, ...)."""
        return self._backend.name

    @property
    def device(self) -> str:
        """The device the array lives on (``"cpu"``, ``"cuda:0"``, ...)."""
        return self._backend.device_of(self._data)

    @property
    def data(self) -> Any:
        """The backend's native array (do not mutate it)."""
        return self._data

    def numpy(self) -> Any:
        """A NumPy copy of the values; a 0-d tensor gives a NumPy scalar, as in TensorFlow."""
        if tracing.active and tracing.current() is not None:
            tracing.current().check_concrete(self, "numpy")
        arr = np.array(self._backend.to_numpy(self._data), copy=True)
        return arr[()] if arr.ndim == 0 else arr

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = np.asarray(self._backend.to_numpy(self._data))
        return arr if dtype is None else arr.astype(dtype)

    def __dlpack__(self, *, stream: Any = None, max_version: tuple[int, int] | None = None,
                   dl_device: tuple[Any, int] | None = None, copy: bool | None = None) -> Any:
        """The standard's DLPack export (2024.12): a capsule of the backend array, shared
        (``copy=None``/``False``) or copied (``copy=True``, or to reach ``dl_device``); the
        backend library raises ``BufferError`` where it cannot export as asked.

        Consumers must not write through the capsule: tensors are immutable, and tapes
        may hold this very array.
        """
        # Only the keywords the consumer set: older producers (NumPy < 2.1, torch < 2.4)
        # know none of them, and None means "not asked" in the protocol.
        kwargs = {k: v for k, v in (("stream", stream), ("max_version", max_version),
                                    ("dl_device", dl_device), ("copy", copy)) if v is not None}
        data = _exportable(self._data)
        try:
            return data.__dlpack__(**kwargs)
        except (TypeError, BufferError):
            # An older NumPy: no keywords, or a read-only array it cannot export as such
            if not isinstance(data, np.ndarray):
                raise
            return _numpy1_dlpack(data, stream, dl_device, copy)
        except RuntimeError as exc:  # torch's way of saying no (e.g. to another device)
            raise BufferError(f"__dlpack__: backend {self.backend!r} cannot export a tensor on "
                              f"{self.device} as asked ({kwargs}): {exc}") from exc

    def __dlpack_device__(self) -> tuple[Any, int]:
        """``(device type, device id)`` of the array, as DLPack's ``DLDeviceType`` numbers it."""
        return _exportable(self._data).__dlpack_device__()

    # -- Python protocols -----------------------------------------------------------
    def _scalar(self, what: str) -> Any:
        if tracing.active and tracing.current() is not None:
            tracing.current().check_concrete(self, what)
        if self.size != 1:
            raise ShapeError(f"{what}() needs a tensor with one element, got shape {self.shape}")
        return self._backend.to_numpy(self._data).reshape(()).item()

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex"))

    def __bool__(self) -> bool:
        return bool(self._scalar("bool"))

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.ndim != 0:
            raise ArgumentTypeError(f"only 0-d integer tensors can be used as an index, got "
                                    f"shape {self.shape} dtype {self.dtype}")
        return int(self._scalar("index"))

    def __len__(self) -> int:
        if not self._data.shape:
            raise TypeError("len() of a 0-d tensor")
        return int(self._data.shape[0])

    def __iter__(self) -> Iterator[Tensor]:
        if not self._data.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(int(self._data.shape[0])))

    def __hash__(self) -> int:
        # By identity, as PyTorch does: `==` is elementwise, so value hashing is impossible.
        return id(self)

    def __setitem__(self, index: Any, value: Any) -> None:
        # Tensors are immutable (as in JAX and TensorFlow): tapes keep references to them.
        raise ArgumentTypeError(
            "polytape tensors are immutable, so `x[index] = value` is not supported: make a new "
            "tensor instead (pt.where(mask, value, x), or pt.index_add(x, index, delta)), or keep "
            "the value in a pt.Variable, whose `v[index] = value` (or TensorFlow's "
            "`v[index].assign(value)`) updates it in place")

    def __format__(self, spec: str) -> str:
        if spec and self.size == 1:
            return format(self._scalar("format"), spec)
        return format(str(self), spec)

    def _numpy_text(self) -> str:
        arr = np.asarray(self._backend.to_numpy(self._data))
        return str(arr[()]) if arr.ndim == 0 else np.array2string(arr, separator=", ")

    def __repr__(self) -> str:
        return (f"<polytape.Tensor shape={self.shape} dtype={self.dtype} "
                f"backend={self.backend} numpy={self._numpy_text()}>")

    def __str__(self) -> str:
        return f"polytape.Tensor({self._numpy_text()}, shape={self.shape}, dtype={self.dtype})"

    # -- pickling -------------------------------------------------------------------------
    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _rebuild_tensor, self._portable()

    def _portable(self) -> tuple[str, str, np.ndarray, str]:
        # The backend object cannot travel (its kernels are closures); its registered name
        # and the device find the same backend again in the process that unpickles.
        values = np.array(self._backend.to_numpy(self._data), copy=True)
        return self.backend, self.device, values, self.dtype.name


_uids = itertools.count()
next_key = itertools.count(1).__next__  # tape identities (Tensor._key); 0 means none yet


class Variable(Tensor):
    """A mutable tensor: model weights, optimizer state, anything ``assign`` updates.

    Trainable variables are watched automatically by a
    :class:`~polytape.GradientTape` created with ``watch_accessed_variables=True``
    (the default) when an op reads them.

    >>> import polytape as pt
    >>> v = pt.Variable(2.0)
    >>> float(v.assign_add(1.0))
    3.0
    """

    __slots__ = ("trainable", "name", "_uid")

    def __init__(self, initial_value: Any, trainable: bool = True, name: str | None = None,
                 dtype: Any = None, backend: Any = None) -> None:
        if callable(initial_value) and not isinstance(initial_value, Tensor):
            initial_value = initial_value()
        t = _creation.constant(initial_value, dtype=dtype, backend=backend)
        self._data = t._data
        self._backend = t._backend
        self._key = next_key()
        self.trainable = bool(trainable)
        # Creation order: tapes list watched variables in it, as TensorFlow does.
        self._uid = next(_uids)
        self.name = name if name is not None else f"Variable:{self._uid}"

    def _converted(self, value: Any, op: str) -> Any:
        if isinstance(value, Tensor):
            arr, mine = value._data, self._data
            if value._backend is self._backend and (arr.dtype is mine.dtype or arr.dtype == mine.dtype) \
                    and arr.shape == mine.shape:
                return arr  # the usual update: nothing to convert, nothing to refuse
            if value.dtype is not self.dtype:
                raise DTypeError(f"{op}: variable {self.name!r} is {self.dtype}, value is "
                                 f"{value.dtype}; cast it first with pt.cast")
            if value._backend is not self._backend:
                raise BackendMismatchError(
                    f"{op}: variable {self.name!r} lives on backend {self.backend!r}, value on "
                    f"{value.backend!r}; move it with pt.to_backend(value, {self.backend!r})")
            arr = value._data
        else:
            arr = _creation.constant(value, dtype=self.dtype, backend=self._backend)._data
        if tuple(arr.shape) != tuple(self._data.shape):
            raise ShapeError(f"{op}: variable {self.name!r} has shape {self.shape}, "
                             f"value has shape {tuple(arr.shape)}")
        return arr

    def assign(self, value: Any) -> Variable:
        """Replace the value (same shape and dtype) and return the variable."""
        if tracing.active and tracing.current() is not None:  # a pt.function trace: one step
            return tracing.current().effect(Variable.assign, (self, value), {})
        self._data = self._converted(value, "assign")
        return self

    def assign_add(self, delta: Any) -> Variable:
        """Add ``delta`` to the value and return the variable.

        Tensors read from the variable before keep the value they saw: the update
        happens in place only where the backend proves nothing else holds the array
        (see ``Backend.update_in_place``), else it makes a new one.
        """
        if tracing.active and tracing.current() is not None:  # a pt.function trace: one step
            return tracing.current().effect(Variable.assign_add, (self, delta), {})
        d = self._converted(delta, "assign_add")
        if not self._backend.update_in_place(self._data, d, False):
            self._data = self._backend.kernels["add"](self._data, d)
        return self

    def assign_sub(self, delta: Any) -> Variable:
        """Subtract ``delta`` from the value and return the variable (in place when unobservable,
        as :meth:`assign_add`)."""
        if tracing.active and tracing.current() is not None:  # a pt.function trace: one step
            return tracing.current().effect(Variable.assign_sub, (self, delta), {})
        d = self._converted(delta, "assign_sub")
        if not self._backend.update_in_place(self._data, d, True):
            self._data = self._backend.kernels["subtract"](self._data, d)
        return self

    def __getitem__(self, index: Any) -> VariableSlice:
        """``v[index]``: the selected values (a read, recorded as ``x[index]`` is), as a
        :class:`VariableSlice` whose ``assign`` writes them back, as TensorFlow's
        ``v[1:3].assign(...)`` does.

        >>> import polytape as pt
        >>> v = pt.Variable([1.0, 2.0, 3.0])
        >>> v[1:].assign([5.0, 6.0]).numpy().tolist()
        [1.0, 5.0, 6.0]
        """
        out = Tensor.__getitem__(self, index)  # shapes.getitem, installed by polytape.ops
        # Same layout, so the tensor the tape recorded becomes the slice itself.
        out.__class__ = VariableSlice
        _slice_origins[id(out)] = (weakref.ref(out, _forget_origin(id(out))), self, index)
        return out

    def __setitem__(self, index: Any, value: Any) -> None:
        """``v[index] = value``: replace the selected elements (``value`` broadcasts to them).

        Like :meth:`assign`, an update, not an op: tensors read from the variable before
        keep the values they saw, later reads (recorded by watching tapes as usual) see the
        new ones, and no gradient flows to ``value`` (as in TensorFlow). Indices as in
        ``v[index]``; a position named twice takes one of the values. A bad index, value
        shape or dtype raises (ShapeError, DTypeError) and leaves the variable as it was.

        >>> import polytape as pt
        >>> v = pt.Variable([1.0, 2.0, 3.0])
        >>> v[1:] = 0.0
        >>> v.numpy().tolist()
        [1.0, 0.0, 0.0]
        """
        if tracing.active and tracing.current() is not None:  # a pt.function trace: one step
            return tracing.current().effect(Variable.__setitem__, (self, index, value), {})
        idx, current = self._selected(index)
        arr = self._converted_part(value, tuple(current.shape))
        k = self._backend.kernels
        ones = k["ones"](tuple(current.shape), self._backend.native_dtypes[as_dtype("int32")])
        hit = k["index_add"](k["zeros"](tuple(self._data.shape), ones.dtype), ones, index=idx)
        # A select, not data + (value - data[index]): that would round floats.
        placed = k["index_add"](k["zeros"](tuple(self._data.shape), self._data.dtype), arr, index=idx)
        self._data = k["where"](k["greater"](hit, k["zeros"]((), hit.dtype)), placed, self._data)

    def _update_part(self, index: Any, delta: Any, subtract: bool) -> None:
        # v[index] = v[index] +- delta. Never in place (Backend.update_in_place): the slice
        # this is called on, a view of v's array on NumPy and PyTorch for basic indices,
        # holds that array and must keep the values it was read with.
        if tracing.active and tracing.current() is not None:  # a pt.function trace: one step
            return tracing.current().effect(Variable._update_part, (self, index, delta, subtract), {})
        _, current = self._selected(index)
        d = self._converted_part(delta, tuple(current.shape))
        k = self._backend.kernels
        self.__setitem__(index, wrap(k["subtract" if subtract else "add"](current, d), self._backend))

    def _selected(self, index: Any) -> tuple[Any, Any]:
        # The native index and the current values it selects; a bad index raises polytape's
        # error (as x[index] does) before anything changes.
        from .dispatch import kernel_error  # dispatch imports this module
        from .shapes import normalize_index  # shapes imports this module

        idx = normalize_index(index, self._backend)
        try:
            return idx, self._backend.kernels["getitem"](self._data, index=idx)
        except Exception as exc:
            raise kernel_error("setitem", (self._data,), {"index": idx}, exc) from exc

    def _converted_part(self, value: Any, shape: tuple[int, ...]) -> Any:
        from .creation import constant  # creation imports this module

        if isinstance(value, Tensor):
            if value._backend is not self._backend:
                raise BackendMismatchError(
                    f"setitem: variable {self.name!r} lives on backend {self.backend!r}, value on "
                    f"{value.backend!r}; move it with pt.to_backend(value, {self.backend!r})")
            if value.dtype is not self.dtype:
                raise DTypeError(f"setitem: variable {self.name!r} is {self.dtype}, value is "
                                 f"{value.dtype}; cast it first with pt.cast")
            arr = value._data
        else:
            arr = constant(value, dtype=self.dtype, backend=self._backend)._data
        try:
            ok = np.broadcast_shapes(tuple(arr.shape), shape) == shape
        except ValueError:
            ok = False
        if not ok:
            raise ShapeError(f"setitem: a value of shape {tuple(arr.shape)} does not fit the "
                             f"selection's shape {shape}")
        return self._backend.kernels["broadcast_to"](arr, shape) if tuple(arr.shape) != shape else arr

    def read_value(self) -> Tensor:
        """The current value as an immutable tensor (recorded as a read by watching tapes)."""
        from .ops import identity  # ops imports this module

        return identity(self)

    value = read_value

    def __repr__(self) -> str:
        return (f"<polytape.Variable {self.name!r} shape={self.shape} dtype={self.dtype} "
                f"backend={self.backend} numpy={self._numpy_text()}>")

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return _rebuild_variable, (*self._portable(), self.trainable, self.name)


class VariableSlice(Tensor):
    """``v[index]`` of a :class:`Variable`: an immutable tensor of the selected values
    that can also write new ones back to them, as TensorFlow's sliced variables do.

    ``assign`` is TensorFlow's; ``assign_add``/``assign_sub`` are polytape's (TensorFlow's
    slices have only ``assign``). Each writes to the variable's *current* values at
    ``index`` and returns the variable; the slice itself keeps the values it was read with.

    >>> import polytape as pt
    >>> v = pt.Variable([[1.0, 2.0], [3.0, 4.0]])
    >>> v[:, 0].assign_add(10.0).numpy().tolist()
    [[11.0, 2.0], [13.0, 4.0]]
    """

    __slots__ = ()

    def _origin(self) -> tuple[Variable, Any]:
        _, variable, index = _slice_origins[id(self)]
        return variable, index

    def assign(self, value: Any) -> Variable:
        """``v[index] = value`` (see :meth:`Variable.__setitem__`); returns the variable."""
        variable, index = self._origin()
        variable[index] = value
        return variable

    def assign_add(self, delta: Any) -> Variable:
        """Add ``delta`` to the variable's values at ``index``; returns the variable."""
        variable, index = self._origin()
        variable._update_part(index, delta, False)
        return variable

    def assign_sub(self, delta: Any) -> Variable:
        """Subtract ``delta`` from the variable's values at ``index``; returns the variable."""
        variable, index = self._origin()
        variable._update_part(index, delta, True)
        return variable


# Which variable and index each live VariableSlice came from: a slice has a plain tensor's
# layout (so the tensor a tape recorded can become one), hence no room for them on it.
_slice_origins: dict[int, tuple[Any, Variable, Any]] = {}


def _forget_origin(key: int) -> Any:
    return lambda _ref: _slice_origins.pop(key, None)


def _rebuild_tensor(backend: str, device: str, values: np.ndarray, dtype: str) -> Tensor:
    """The tensor :meth:`Tensor.__reduce__` describes (module level, so pickle can name it)."""
    from .creation import constant  # creation imports this module

    return constant(values, dtype=dtype, backend=backend, device=device)


def _rebuild_variable(backend: str, device: str, values: np.ndarray, dtype: str,
                      trainable: bool, name: str) -> Variable:
    """The variable :meth:`Variable.__reduce__` describes."""
    return Variable(_rebuild_tensor(backend, device, values, dtype), trainable=trainable, name=name)


def _numpy1_dlpack(data: np.ndarray, stream: Any, dl_device: Any, copy: bool | None) -> Any:
    # NumPy < 2.1's __dlpack__ takes only ``stream``: the other keywords are honoured here.
    # NumPy < 2 cannot flag an export read-only, so it refuses read-only arrays (the NumPy
    # backend's): with copy=None the standard lets the producer hand over a copy.
    if dl_device is not None and tuple(dl_device) != tuple(data.__dlpack_device__()):
        raise BufferError(f"__dlpack__: NumPy arrays live on the CPU, not on device {dl_device}")
    if copy or (copy is None and not data.flags.writeable):
        data = np.array(data, copy=True)
    try:
        return data.__dlpack__() if stream is None else data.__dlpack__(stream=stream)
    except BufferError as exc:
        raise BufferError(f"__dlpack__: NumPy {np.__version__} cannot export this read-only "
                          "array without a copy (copy=False was asked)") from exc


def _exportable(data: Any) -> Any:
    # NumPy scalars (the NumPy backend's 0-d values) have no DLPack export; a 0-d view has.
    return np.asarray(data) if isinstance(data, np.generic) else data


def wrap(data: Any, backend: Any) -> Tensor:
    """A Tensor around a native array (no copy, no checks): the hot path's constructor."""
    t = _new(Tensor)
    t._data = data
    t._backend = backend
    t._key = 0
    return t


_new = object.__new__


# creation imports this module (Tensor, wrap), so it is bound here, once both exist, and
# read as a module attribute: an import inside Variable's methods costs ~1.5 us a call.
from . import creation as _creation  # noqa: E402
