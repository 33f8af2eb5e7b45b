"""Making tensors: ``constant`` and the creation functions (``zeros``, ``ones``, ``full``,
``arange``, ``linspace``, ``eye``, ...).

Creation is not differentiable: nothing here is recorded on a tape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import backend_selection as sel
from .arguments import int_arg, number
from .dispatch import kernel_error
from .dtypes import DType, as_dtype, default_float, float32, infer_literal_dtype
from .errors import DTypeError, InvalidArgumentError, ShapeError
from .tensor import Tensor, wrap

__all__ = ["constant", "convert_to_tensor", "zeros", "ones", "full", "zeros_like",
           "ones_like", "full_like", "to_backend", "arange", "linspace", "eye",
           "asarray", "empty", "empty_like", "from_dlpack"]


def _target(backend: Any, device: str | None) -> tuple[Any, str | None]:
    if backend is None:
        be, dev = sel._current()
        return be, (device if device is not None else dev)
    return sel.resolve(backend, device)


# Python numbers made into tensors on the current backend, converted once per (number, its
# type, dtype asked, backend, device): ``x = pt.Variable(2.0)`` right before a tape is the
# common shape of a script, and the conversion costs more than the ops after it. Only
# immutable results are kept (the NumPy backend's 0-d values are NumPy scalars), so sharing
# one between tensors and variables is safe. Float zeros (0.0 == -0.0) and NaN (never
# equal) are not cached; nor are keys past the cache's size (it is then emptied).
_literals: dict[tuple, Any] = {}
_LITERAL_CACHE_SIZE = 1024
_LITERAL_TYPES = frozenset({float, int, bool})


def constant(value: Any, dtype: Any = None, backend: Any = None, device: str | None = None) -> Tensor:
    """A tensor holding ``value`` (a Python number, nested list, NumPy array or tensor).

    Python literals follow TensorFlow: ``constant(3.0)`` is float32,
    ``constant([1, 2, 3])`` is int32; complex numbers give complex64 (the standard's
    default complex dtype; TensorFlow's is complex128); NumPy arrays keep their dtype.

    >>> import polytape as pt
    >>> pt.constant([1, 2, 3]).dtype
    polytape.int32
    """
    if backend is None and device is None and type(value) in _LITERAL_TYPES:
        be, dev = sel._current()
        key = (value, type(value), dtype, be, dev)
        try:
            arr = _literals.get(key)
        except TypeError:  # an unhashable dtype spec: no cache
            arr = key = None
        if arr is not None:
            return wrap(arr, be)
        t = _constant(value, dtype, backend, device)
        if key is not None and type(t._data) in _IMMUTABLE and cacheable_number(value):
            if len(_literals) >= _LITERAL_CACHE_SIZE:
                _literals.clear()
            _literals[key] = t._data
        return t
    return _constant(value, dtype, backend, device)


def cacheable_number(x: Any) -> bool:
    """Whether a conversion of Python number ``x`` may be cached under ``x`` as a key: not a
    float or complex zero (``0.0 == -0.0`` would share one sign) and not NaN (never equal)."""
    return x == x and (x != 0 or type(x) not in (float, complex))


# 0-d values no one can write into (NumPy scalars): what the literal cache may share.
_IMMUTABLE = frozenset({np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                        np.uint32, np.uint64, np.float16, np.float32, np.float64})


def _constant(value: Any, dtype: Any, backend: Any, device: str | None) -> Tensor:
    dt = None if dtype is None else as_dtype(dtype)
    if isinstance(value, Tensor):
        t = value
        if backend is not None or device is not None:
            t = to_backend(t, backend if backend is not None else t._backend, device)
        if dt is not None and t.dtype is not dt:
            from .elementwise import cast  # a cycle: the ops modules import this one

            t = cast(t, dt)
        return t
    be, dev = _target(backend, device)
    if isinstance(value, (np.ndarray, np.generic)):
        arr = value
        if dt is None:
            dt = _numpy_dtype(arr.dtype)
    elif isinstance(value, (bool, int, float, complex)):
        dt = dt or infer_literal_dtype(value)
        arr = value
    elif isinstance(value, (list, tuple)):
        if any(isinstance(v, Tensor) for v in _flat(value)):
            value = _materialise(value)
            dt = dt or _numpy_dtype(np.asarray(value).dtype)
        else:
            dt = dt or infer_literal_dtype(value)
        try:
            arr = np.asarray(value)
        except ValueError as exc:
            raise ShapeError(f"constant: cannot make a tensor from a ragged nested list ({exc})") from None
        if arr.dtype.kind not in "biufc":
            raise DTypeError(f"constant: cannot make a tensor of {arr.dtype} values from {value!r}")
    elif hasattr(value, "__dlpack__") or hasattr(value, "__array__"):
        arr = np.asarray(value)
        dt = dt or _numpy_dtype(arr.dtype)
    else:
        raise DTypeError(f"constant: cannot make a tensor from {type(value).__name__} {value!r}")
    return wrap(be.asarray(arr, dt, dev), be)


def _flat(value: Any):
    for v in value:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _materialise(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_materialise(v) for v in value]
    return value.numpy() if isinstance(value, Tensor) else value


def _numpy_dtype(native: np.dtype) -> DType:
    try:
        return as_dtype(native.name)
    except DTypeError:
        raise DTypeError(f"NumPy dtype {native} has no polytape equivalent") from None


def convert_to_tensor(value: Any, dtype: Any = None, backend: Any = None) -> Tensor:
    """``value`` itself if it is already a tensor (of ``dtype`` when given), else :func:`constant`."""
    if isinstance(value, Tensor) and (dtype is None or value.dtype is as_dtype(dtype)):
        return value
    return constant(value, dtype=dtype, backend=backend)


def _shape(shape: Any, op: str) -> tuple[int, ...]:
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        out = tuple(int(s) for s in shape)
    except TypeError:
        raise ShapeError(f"{op}: shape must be an int or a sequence of ints, got {shape!r}") from None
    if any(s < 0 for s in out):
        raise ShapeError(f"{op}: shape {out} has a negative dimension")
    return out


def zeros(shape: Sequence[int] | int, dtype: Any = default_float, backend: Any = None,
          device: str | None = None) -> Tensor:
    """A tensor of zeros (float32 unless ``dtype`` says otherwise)."""
    be, dev = _target(backend, device)
    dtype = default_float if dtype is None else dtype  # the standard's zeros(shape, dtype=None)
    kernel, shape, native = be.kernels["zeros"], _shape(shape, "zeros"), be.native_dtype(dtype)
    return wrap(_made_on(be, dev, lambda: kernel(shape, native)), be)


def ones(shape: Sequence[int] | int, dtype: Any = default_float, backend: Any = None,
         device: str | None = None) -> Tensor:
    """A tensor of ones (float32 unless ``dtype`` says otherwise)."""
    be, dev = _target(backend, device)
    dtype = default_float if dtype is None else dtype  # the standard's zeros(shape, dtype=None)
    kernel, shape, native = be.kernels["ones"], _shape(shape, "ones"), be.native_dtype(dtype)
    return wrap(_made_on(be, dev, lambda: kernel(shape, native)), be)


def full(shape: Sequence[int] | int, fill_value: Any, dtype: Any = None, backend: Any = None,
         device: str | None = None) -> Tensor:
    """A tensor filled with ``fill_value`` (its literal dtype unless ``dtype`` is given)."""
    dt = as_dtype(dtype) if dtype is not None else infer_literal_dtype(
        fill_value.item() if isinstance(fill_value, (np.generic, Tensor)) else fill_value)
    be, dev = _target(backend, device)
    kernel, shape, native = be.kernels["full"], _shape(shape, "full"), be.native_dtype(dt)
    return wrap(_made_on(be, dev, lambda: kernel(shape, fill_value, native)), be)


# -- device placement (creation kernels take no device; multi-device backends read the selection)
def _made_on(be: Any, device: str | None, make: Any) -> Any:
    """The array ``make()`` creates, on ``device`` of backend ``be`` (``None``: where it lands).

    ``make`` runs with ``(be, device)`` selected, so a backend whose creation kernels
    allocate on the selected device (PyTorch, CuPy) makes the array there directly;
    ``asarray`` then moves it for backends whose kernels ignore the selection.
    """
    if device is None:
        return make()
    token = sel._context.set((be, device))
    try:
        arr = make()
    finally:
        sel._context.reset(token)
    return be.asarray(arr, None, device)


def _made_like(x: Tensor, make: Any, device: str | None = None) -> Any:
    """The array ``make()`` creates, on ``device`` (by default the device of ``x``)."""
    be = x._backend
    if device is not None:
        return _made_on(be, be.normalize_device(device), make)
    dev = be.device_of(x._data)
    chosen, chosen_dev = sel._current()
    lands = (chosen_dev or be.default_device) if chosen is be else be.default_device
    return make() if lands == dev else _made_on(be, dev, make)


def _like(x: Any, dtype: Any) -> tuple[Tensor, Any]:
    x = convert_to_tensor(x)
    return x, (x.dtype if dtype is None else as_dtype(dtype))


def zeros_like(x: Any, dtype: Any = None, device: str | None = None) -> Tensor:
    """Zeros with the shape, backend and (unless given) dtype and device of ``x``."""
    x, dt = _like(x, dtype)
    be, kernel, native = x._backend, x._backend.kernels["zeros"], x._backend.native_dtype(dt)
    return wrap(_made_like(x, lambda: kernel(x.shape, native), device), be)


def ones_like(x: Any, dtype: Any = None, device: str | None = None) -> Tensor:
    """Ones with the shape, backend and (unless given) dtype and device of ``x``."""
    x, dt = _like(x, dtype)
    be, kernel, native = x._backend, x._backend.kernels["ones"], x._backend.native_dtype(dt)
    return wrap(_made_like(x, lambda: kernel(x.shape, native), device), be)


def full_like(x: Any, fill_value: Any, dtype: Any = None, device: str | None = None) -> Tensor:
    """``fill_value`` everywhere, with the shape, backend and (unless given) dtype and device
    of ``x``."""
    x, dt = _like(x, dtype)
    be, kernel, native = x._backend, x._backend.kernels["full"], x._backend.native_dtype(dt)
    return wrap(_made_like(x, lambda: kernel(x.shape, fill_value, native), device), be)


def to_backend(x: Any, backend: Any, device: str | None = None) -> Tensor:
    """``x`` on another backend (and/or device): zero-copy through DLPack where both
    sides allow it (NumPy <-> PyTorch on the CPU share memory), a copy otherwise.

    ``backend`` is a name (``"torch"``, ``"torch:cuda"``) or a backend object. With
    no device named, the array goes to the device the current selection names for
    that backend (``pt.set_backend("torch", device="cuda")``), else wherever it can
    go without a copy. The result is a new tensor that no tape connects to ``x``
    (take gradients on each backend separately). Non-tensors are made with
    :func:`constant` on the target.

    >>> import polytape as pt
    >>> t = pt.to_backend(pt.constant([1.0, 2.0], backend="numpy"), "torch")
    >>> t.backend, t.numpy().tolist()
    ('torch', [1.0, 2.0])
    """
    if not isinstance(x, Tensor):
        return constant(x, backend=backend, device=device)
    be, dev = sel.resolve(backend, device)
    if dev is None:
        chosen, chosen_dev = sel._current()
        dev = chosen_dev if chosen is be else None
    src, arr = x._backend, x._data
    if be is src:
        if dev is None or dev == x.device:
            return x
        return wrap(be.asarray(arr, None, dev), be)  # same backend, another device: it moves it
    native = _shared(be, arr, x.dtype)
    if native is None:  # no zero-copy route (a dtype DLPack lacks, another device): via the host
        return wrap(be.asarray(src.to_numpy(arr), x.dtype, dev), be)
    if dev is not None and be.device_of(native) != dev:
        native = be.asarray(native, None, dev)
    return wrap(native, be)


def _shared(be: Any, arr: Any, dtype: DType) -> Any:
    """``arr`` imported into backend ``be`` through DLPack, or ``None`` if the two sides cannot."""
    if isinstance(arr, np.generic):  # full reductions on NumPy give scalars, which lack __dlpack__
        arr = np.asarray(arr)
    try:
        native = be.from_dlpack(arr)
    except Exception:  # BufferError, TypeError, RuntimeError...: each library says "no" its own way
        return None
    return native if be.canonical.get(getattr(native, "dtype", None)) is dtype else None


# -- ranges and identities (not differentiable) --------------------------------------------------
def _created(op: str, make: Callable[[Any], Any], fallback: Callable[[], np.ndarray], dt: Any,
             backend: Any, device: str | None) -> Tensor:
    be, dev = _target(backend, device)
    try:
        native = be.native_dtype(dt)
    except DTypeError as exc:
        raise DTypeError(f"{op}: {exc}") from None
    kernel = be.kernels.get(op)
    try:
        arr = make(kernel, native) if kernel is not None else be.asarray(fallback(), dt)
    except Exception as exc:
        raise kernel_error(op, (), None, exc) from exc
    return wrap(be.asarray(arr, None, dev), be)


def _dtype_arg(op: str, dtype: Any, default: Any) -> Any:
    if dtype is None:
        return default
    try:
        return as_dtype(dtype)
    except DTypeError as exc:
        raise DTypeError(f"{op}: {exc}") from None


def arange(start: Any, stop: Any = None, step: Any = 1, *, dtype: Any = None, backend: Any = None,
           device: str | None = None) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; ``arange(n)`` is ``0 .. n-1``.

    Integers give int32 (int64 when they do not fit), any float gives float32, as
    ``tf.range`` does. Not differentiable.

    >>> import polytape as pt
    >>> pt.arange(3).numpy().tolist()
    [0, 1, 2]
    """
    if stop is None:
        start, stop = 0, start
    start, stop, step = (number("arange", n, v) for n, v in
                         (("start", start), ("stop", stop), ("step", step)))
    if step == 0:
        raise InvalidArgumentError("arange: step must not be zero")
    if any(isinstance(v, float) for v in (start, stop, step)):
        default = float32
    else:
        default = as_dtype("int32") if max(abs(start), abs(stop)) < 2**31 else as_dtype("int64")
    dt = _dtype_arg("arange", dtype, default)
    if dt.is_complex:
        raise DTypeError("arange: complex dtypes are not supported (the standard's arange is "
                         "real-valued); make a real range and cast it")
    return _created("arange", lambda k, nat: k(start, stop, step, nat),
                    lambda: np.arange(start, stop, step), dt, backend, device)


def linspace(start: Any, stop: Any, num: int, *, dtype: Any = None, endpoint: bool = True,
             backend: Any = None, device: str | None = None) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` (included unless
    ``endpoint=False``); float32 unless ``dtype`` says otherwise. Not differentiable."""
    start = number("linspace", "start", start)
    stop = number("linspace", "stop", stop)
    num = int_arg("linspace", "num", num)
    if num < 0:
        raise ShapeError(f"linspace: num must be non-negative, got {num}")
    dt = _dtype_arg("linspace", dtype, float32)
    if endpoint:
        return _created("linspace", lambda k, nat: k(start, stop, num, nat),
                        lambda: np.linspace(start, stop, num), dt, backend, device)
    return _created("linspace", lambda k, nat: k(start, stop, num + 1, nat)[:num],
                    lambda: np.linspace(start, stop, num, endpoint=False), dt, backend, device)


def eye(n_rows: int, n_cols: int | None = None, *, k: int = 0, dtype: Any = None,
        backend: Any = None, device: str | None = None) -> Tensor:
    """An ``n_rows x n_cols`` matrix with ones on diagonal ``k`` (0: the main one, > 0 above
    it) and zeros elsewhere; float32 unless ``dtype`` says otherwise. Not differentiable."""
    n = int_arg("eye", "n_rows", n_rows)
    m = n if n_cols is None else int_arg("eye", "n_cols", n_cols)
    k = int_arg("eye", "k", k)
    if n < 0 or m < 0:
        raise ShapeError(f"eye: sizes must be non-negative, got {n} x {m}")
    dt = _dtype_arg("eye", dtype, float32)
    # Diagonals outside the matrix are all zeros: clamped, so a huge k allocates nothing big.
    k = max(-n, min(k, m))

    def make(kernel: Any, nat: Any) -> Any:
        # Diagonal k of an n x m matrix is the main diagonal of a larger identity, sliced.
        if k >= 0:
            return kernel(n + k, m, nat)[k:, :]
        return kernel(n, m - k, nat)[:, -k:]

    return _created("eye", make, lambda: np.eye(n, m, k), dt, backend, device)


# -- the Array API standard's creation functions ------------------------------------------------
def asarray(obj: Any, /, *, dtype: Any = None, device: str | None = None, copy: bool | None = None,
            backend: Any = None) -> Tensor:
    """The standard's ``asarray``: :func:`constant`, returning a tensor unchanged when no
    dtype, device or backend change is asked for.

    ``copy`` is accepted for the standard's sake; tensors are immutable, so a copy cannot
    be told from the original (``copy=False`` never raises).

    >>> import polytape as pt
    >>> pt.asarray([1.0, 2.0]).dtype
    polytape.float32
    """
    return constant(obj, dtype=dtype, backend=backend, device=device)


def empty(shape: Sequence[int] | int, *, dtype: Any = None, device: str | None = None,
          backend: Any = None) -> Tensor:
    """The standard's ``empty``: zeros (uninitialised memory could leak into gradients)."""
    return zeros(shape, dtype=dtype, backend=backend, device=device)


def empty_like(x: Any, /, *, dtype: Any = None, device: str | None = None) -> Tensor:
    """The standard's ``empty_like``: :func:`zeros_like` (see :func:`empty`)."""
    return zeros_like(x, dtype=dtype, device=device)


def from_dlpack(x: Any, /, *, device: str | None = None, copy: bool | None = None,
                backend: Any = None) -> Tensor:
    """The standard's ``from_dlpack``: a tensor of ``x``'s values (``x`` has ``__dlpack__``).

    ``copy=None`` shares ``x``'s memory where the current (or given) backend can import it
    on ``device``, else copies; ``copy=False`` never copies (``BufferError`` where it would
    have to); ``copy=True`` always copies, so later writes to ``x`` cannot show through.

    >>> import numpy as np, polytape as pt
    >>> pt.from_dlpack(np.arange(3.0), backend="numpy").numpy().tolist()
    [0.0, 1.0, 2.0]
    """
    if isinstance(x, Tensor) and (backend is None or sel.resolve(backend, device)[0] is x._backend):
        out = to_backend(x, x._backend, device)
        if copy is False and out._data is not x._data:
            raise BufferError(f"from_dlpack: moving a tensor from {x.device} to {out.device} "
                              "copies; pass copy=None or True")
        # copy=True needs no copy: tensors are immutable, and an array a tensor holds is
        # never updated in place (Backend.update_in_place proves no one else holds it). A
        # Variable gives a tensor of its current values, as x.read_value() would.
        return wrap(out._data, out._backend) if type(out) is not Tensor else out
    be, dev = _target(backend, device)
    if copy is not True:
        try:
            native = be.from_dlpack(x)
        except Exception:  # each library refuses in its own way; fall back to a copy
            native = None
        if native is not None and be.canonical.get(getattr(native, "dtype", None)) is not None:
            out = wrap(native, be)
            if dev is None or out.device == dev:
                return out
            if copy is None:
                return to_backend(out, be, dev)
        if copy is False:
            raise BufferError(f"from_dlpack: backend {be.name!r} cannot import a "
                              f"{type(x).__name__} without a copy; pass copy=None or True")
    host = x.numpy() if isinstance(x, Tensor) else (
        np.from_dlpack(x) if hasattr(x, "__dlpack__") else np.asarray(x))
    return constant(np.array(host, copy=True), backend=be, device=dev)
