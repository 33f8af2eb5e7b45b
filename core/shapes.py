"""Shapes and indexing: ``reshape``, ``transpose``, ``broadcast_to``, ``expand_dims``,
``squeeze``, ``concat``/``stack``, ``tile``, ``pad``, ``flip``, ``split``, ``getitem``,
``index_add``, ``take``/``gather``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .arguments import int_arg, normalize_axis, number, one_axis, shape_arg
from .dispatch import operands, run, unary_operand
from .dtypes import as_dtype
from .errors import (
    ArgumentTypeError,
    BackendMismatchError,
    DTypeError,
    IndexShapeError,
    InvalidArgumentError,
    ShapeError,
)
from .optable import OPS
from .tensor import Tensor

__all__ = ["reshape", "transpose", "permute_dims", "matrix_transpose", "broadcast_to",
           "expand_dims", "squeeze", "concat", "stack", "tile", "pad", "flip", "split", "getitem",
           "index_add", "take", "gather", "normalize_index"]


def reshape(x: Any, shape: Sequence[int], *, copy: bool | None = None) -> Tensor:
    """``x`` with a new shape of the same size (one dimension may be -1).

    ``copy`` is the standard's; tensors are immutable, so whether the result shares
    memory with ``x`` cannot be observed, and every value is accepted.
    """
    x = unary_operand(x)
    new = shape_arg(shape)
    size = x.size
    if new.count(-1) > 1:
        raise ShapeError(f"reshape: at most one -1 in shape {new}")
    if -1 in new:
        rest = np.prod([s for s in new if s != -1], dtype=np.int64)
        if rest == 0 or size % rest:
            raise ShapeError(f"reshape: cannot reshape {x.shape} (size {size}) into {new}")
        new = tuple(size // int(rest) if s == -1 else s for s in new)
    if np.prod(new, dtype=np.int64) != size or any(s < 0 for s in new):
        raise ShapeError(f"reshape: cannot reshape {x.shape} (size {size}) into {new}")
    return run(OPS["reshape"], x._backend, (x,), (x._data,), {"shape": new})


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None)."""
    x = unary_operand(x)
    n = x.ndim
    perm = tuple(reversed(range(n))) if axes is None else normalize_axis(tuple(axes), n, "transpose")
    if perm is None or sorted(perm) != list(range(n)):
        raise ShapeError(f"transpose: axes {axes!r} are not a permutation of {n} axes")
    return run(OPS["transpose"], x._backend, (x,), (x._data,), {"axes": perm})


permute_dims = transpose


def matrix_transpose(x: Any, /) -> Tensor:
    """The standard's ``matrix_transpose``: swap the last two axes (``x.mT``).

    >>> import polytape as pt
    >>> pt.matrix_transpose(pt.zeros((2, 3, 4))).shape
    (2, 4, 3)
    """
    x = unary_operand(x)
    n = x.ndim
    if n < 2:
        raise ShapeError(f"matrix_transpose: needs at least 2 dimensions, got shape {x.shape}")
    return transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` broadcast to ``shape`` with NumPy's rules."""
    x = unary_operand(x)
    new = shape_arg(shape)
    try:
        np.broadcast_shapes(x.shape, new)
        ok = len(new) >= x.ndim and np.broadcast_shapes(x.shape, new) == new
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {new}")
    return run(OPS["broadcast_to"], x._backend, (x,), (x._data,), {"shape": new})


def expand_dims(x: Any, axis: int) -> Tensor:
    """``x`` with a new axis of size 1 at ``axis`` (negative counts from the end of the result).
    An ``axis`` out of range raises :class:`~polytape.errors.IndexShapeError` (a ``ShapeError``
    and the ``IndexError`` the standard asks for)."""
    x = unary_operand(x)
    n = x.ndim + 1
    axis = int_arg("expand_dims", "axis", axis)
    if not -n <= axis < n:
        raise IndexShapeError(f"expand_dims: axis {axis!r} is out of range for a result of rank {n}")
    return run(OPS["expand_dims"], x._backend, (x,), (x._data,), {"axis": int(axis) % n})


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` without the size-1 axes ``axis`` (all of them when None)."""
    x = unary_operand(x)
    shape = x.shape
    if axis is None:
        axes = tuple(i for i, s in enumerate(shape) if s == 1)
    else:
        axes = normalize_axis(axis, x.ndim, "squeeze") or ()
        bad = [a for a in axes if shape[a] != 1]
        if bad:
            raise ShapeError(f"squeeze: axis {bad[0]} of shape {shape} has size {shape[bad[0]]}, not 1")
    return run(OPS["squeeze"], x._backend, (x,), (x._data,), {"axis": axes})


def _joined(name: str, values: Sequence[Any], axis: int, extra: int) -> Tensor:
    if isinstance(values, Tensor) or not isinstance(values, (list, tuple)):
        raise DTypeError(f"{name}: expects a list or tuple of tensors, got {type(values).__name__}")
    be, ts, arrays = operands(name, values)
    ndim = len(arrays[0].shape)
    n = ndim + extra
    axis = int_arg(name, "axis", axis)
    if not -n <= axis < max(n, 1):
        raise ShapeError(f"{name}: axis {axis!r} is out of range for rank {ndim} inputs")
    axis = int(axis) % n
    shapes = [tuple(a.shape) for a in arrays]
    for s in shapes[1:]:
        same = s == shapes[0] if extra else (
            len(s) == ndim and all(d == e for i, (d, e) in enumerate(zip(s, shapes[0])) if i != axis))
        if not same:
            raise ShapeError(f"{name}: shapes {shapes} do not fit along axis {axis}")
    return run(OPS[name], be, ts, arrays, {"axis": axis})


def concat(values: Sequence[Any], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis; ``axis=None`` joins them flattened (the standard's).

    >>> import polytape as pt
    >>> pt.concat([pt.constant([[1, 2]]), pt.constant([3])], axis=None).numpy().tolist()
    [1, 2, 3]
    """
    if axis is None and isinstance(values, (list, tuple)):
        values = [reshape(v, (-1,)) for v in values]
        axis = 0
    return _joined("concat", values, axis, 0)


def stack(values: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new axis."""
    return _joined("stack", values, axis, 1)


# -- indexing -----------------------------------------------------------------------------------
def _index_part(p: Any, be: Any) -> Any:
    if p is None or p is Ellipsis or isinstance(p, slice):
        if isinstance(p, slice):
            return slice(*(int(v) if isinstance(v, (Tensor, np.integer)) else v
                           for v in (p.start, p.stop, p.step)))
        return p
    if isinstance(p, (bool, np.bool_)):
        raise DTypeError("getitem: a Python bool is not an index; use a bool tensor mask")
    if isinstance(p, (int, np.integer)):
        return int(p)
    if isinstance(p, Tensor):
        if p._backend is not be:
            raise BackendMismatchError(f"getitem: index lives on backend {p.backend!r}, the tensor on "
                             f"{be.name!r}")
        if p.dtype.kind not in "iub":
            raise DTypeError(f"getitem: index tensors must be integer or bool, got {p.dtype}")
        # A 0-d bool is a mask (NumPy's x[True] adds an axis), not the index 0 or 1.
        return p._data if p.ndim or p.dtype.kind == "b" else int(p)
    if isinstance(p, (list, np.ndarray)):
        arr = np.asarray(p)
        if arr.dtype.kind not in "iub":
            raise DTypeError(f"getitem: index arrays must be integer or bool, got {arr.dtype}")
        return be.asarray(arr, as_dtype("bool") if arr.dtype.kind == "b" else as_dtype("int64"))
    if hasattr(p, "dtype") and hasattr(p, "shape"):
        return p  # already a native array of this backend
    raise DTypeError(f"getitem: cannot index with {type(p).__name__} {p!r}; use ints, slices, "
                     "None, Ellipsis, or integer/bool arrays")


def normalize_index(index: Any, be: Any) -> Any:
    """The index with tensors and lists replaced by native arrays of backend ``be``."""
    if isinstance(index, tuple):
        return tuple(_index_part(p, be) for p in index)
    return _index_part(index, be)


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]``: basic slicing, integer arrays and boolean masks, as in NumPy."""
    x = unary_operand(x)
    be = x._backend
    idx = normalize_index(index, be)
    return run(OPS["getitem"], be, (x,), (x._data,), {"index": idx})


def index_add(base: Any, index: Any, values: Any) -> Tensor:
    """A copy of ``base`` with ``values`` added at ``index`` (repeated positions accumulate)."""
    be, (b, v), (a, va) = operands("index_add", (base, values))
    idx = normalize_index(index, be)
    return run(OPS["index_add"], be, (b, v), (a, va), {"index": idx})


def tile(x: Any, reps: int | Sequence[int]) -> Tensor:
    """``x`` repeated ``reps[i]`` times along axis ``i`` (NumPy's ``tile`` rules for mismatched
    lengths: the shorter of ``x.shape`` and ``reps`` is padded with leading 1s)."""
    x = unary_operand(x)
    if isinstance(reps, Tensor):
        reps = reps.numpy().tolist()
    if isinstance(reps, (int, np.integer)):
        reps = (reps,)
    elif not isinstance(reps, (list, tuple)):
        raise ArgumentTypeError(f"tile: reps must be an int or a sequence of ints, got {reps!r}")
    reps = tuple(int_arg("tile", "reps", r) for r in reps)
    if any(r < 0 for r in reps):
        raise ShapeError(f"tile: reps {reps} has a negative entry")
    d = max(len(reps), x.ndim)
    reps = (1,) * (d - len(reps)) + reps
    if x.ndim < d:
        x = reshape(x, (1,) * (d - x.ndim) + x.shape)
    return run(OPS["tile"], x._backend, (x,), (x._data,), {"reps": reps})


def _pad_width(op: str, pad_width: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    if isinstance(pad_width, Tensor):
        pad_width = pad_width.numpy()
    try:
        arr = np.asarray(pad_width)
    except ValueError:
        arr = np.asarray(0.5)  # ragged: reported below
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and arr.size == 0):
        raise ArgumentTypeError(f"{op}: pad_width must be ints, got {pad_width!r}")
    if arr.shape in ((), (1,), (2,), (1, 2)):
        arr = np.broadcast_to(arr.reshape(-1)[:2] if arr.size == 2 else arr.reshape(()), (ndim, 2))
    if arr.shape != (ndim, 2):
        raise ShapeError(f"{op}: pad_width {pad_width!r} does not fit a tensor of rank {ndim}: give "
                         "one int, one (before, after) pair, or one pair per axis")
    if (arr < 0).any():
        raise ShapeError(f"{op}: pad_width {pad_width!r} has a negative entry")
    return tuple((int(b), int(a)) for b, a in arr)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Tensor:
    """``x`` with ``constant_values`` added before and after each axis (NumPy's ``pad_width``:
    an int, one ``(before, after)`` pair for every axis, or one pair per axis).

    Only ``mode="constant"`` is supported. The gradient is the unpadded slice.

    >>> import polytape as pt
    >>> pt.pad(pt.constant([1.0, 2.0]), 1).numpy().tolist()
    [0.0, 1.0, 2.0, 0.0]
    """
    x = unary_operand(x)
    if mode != "constant":
        raise InvalidArgumentError(f"pad: only mode='constant' is supported, got {mode!r}")
    value = constant_values if isinstance(constant_values, (bool, np.bool_)) else \
        number("pad", "constant_values", constant_values)
    pw = _pad_width("pad", pad_width, x.ndim)
    return run(OPS["pad"], x._backend, (x,), (x._data,),
               {"pad_width": pw, "constant_value": value})


def flip(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` with the order of elements reversed along ``axis`` (every axis when None)."""
    x = unary_operand(x)
    axes = normalize_axis(axis, x.ndim, "flip")
    if axes is None:
        axes = tuple(range(x.ndim))
    return run(OPS["flip"], x._backend, (x,), (x._data,), {"axis": axes})


def split(x: Any, num_or_size_splits: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split ``x`` along ``axis`` into equal parts (an int that divides the axis) or parts of
    the given sizes (a list; one entry may be -1), as ``tf.split``. Returns a list.

    >>> import polytape as pt
    >>> [t.shape for t in pt.split(pt.zeros((5, 2)), [2, -1])]
    [(2, 2), (3, 2)]
    """
    # A composition of slices (getitem): an op returns one tensor, and slicing's VJP (a
    # scatter into zeros) is exact and twice differentiable.
    x = unary_operand(x)
    ax = one_axis("split", axis, x.ndim)
    n = x.shape[ax]
    if isinstance(num_or_size_splits, (int, np.integer)) and not isinstance(num_or_size_splits, bool):
        k = int(num_or_size_splits)
        if k <= 0 or n % k:
            raise ShapeError(f"split: axis {ax} of shape {x.shape} cannot be split into {k} equal parts")
        sizes = [n // k] * k
    else:
        sizes = [int_arg("split", "size", s) for s in num_or_size_splits]
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = n - sum(s for s in sizes if s != -1)
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ShapeError(f"split: sizes {list(num_or_size_splits)} do not add up to {n}, the size "
                             f"of axis {ax} of shape {x.shape}")
    parts, start = [], 0
    for s in sizes:
        parts.append(getitem(x, (slice(None),) * ax + (slice(start, start + s),)))
        start += s
    return parts


def _take(op: str, x: Any, indices: Any, axis: int | None) -> Tensor:
    # A composition: x[:, ..., indices] through getitem, whose VJP scatter-adds the cotangent
    # into zeros with index_add (repeated indices accumulate), exactly TensorFlow's gather rule.
    x = unary_operand(x)
    if isinstance(indices, Tensor):
        if indices.dtype.kind not in "iu":
            raise DTypeError(f"{op}: indices must be integers, got a {indices.dtype} tensor")
    elif isinstance(indices, (int, np.integer)) and not isinstance(indices, (bool, np.bool_)):
        indices = int(indices)
    else:
        arr = np.asarray(indices) if isinstance(indices, (list, tuple, np.ndarray)) else None
        if arr is not None and arr.size == 0:
            arr = arr.astype(np.int64)
        if arr is None or arr.dtype.kind not in "iu":
            raise DTypeError(f"{op}: indices must be integers, got {type(indices).__name__} "
                             f"{indices!r}")
        indices = arr
    ax = 0 if axis is None else one_axis(op, axis, x.ndim)
    n = x.size if axis is None else x.shape[ax]
    # Bounds are checked here when the indices are on the host (or when flattening would be
    # recorded before the kernel could fail), so a failing call records nothing. Indices already
    # on a device with an axis given are left to the kernel: reading them would synchronise.
    if not isinstance(indices, Tensor) or axis is None:
        host = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)
        if host.size and (host.min() < -n or host.max() >= n):
            bad = host.max() if host.max() >= n else host.min()
            raise ShapeError(f"{op}: index {int(bad)} is out of bounds for axis {ax} with size {n}")
    if axis is None:
        x = reshape(x, (-1,))
    try:
        return getitem(x, (slice(None),) * ax + (indices,))
    except (ShapeError, BackendMismatchError) as exc:
        raise type(exc)(f"{op}: {str(exc).removeprefix('getitem: ')}") from None


def take(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """Elements of ``x`` at integer ``indices`` along ``axis`` (of the flattened ``x`` when
    None), as ``numpy.take``. The gradient scatter-adds into zeros (repeats accumulate).

    >>> import polytape as pt
    >>> pt.take(pt.constant([10.0, 20.0, 30.0]), [2, 0, 2]).numpy().tolist()
    [30.0, 10.0, 30.0]
    """
    return _take("take", x, indices, axis)


def gather(params: Any, indices: Any, axis: int = 0, batch_dims: int = 0) -> Tensor:
    """TensorFlow's ``gather``: ``take(params, indices, axis)`` (``batch_dims`` must be 0)."""
    if batch_dims != 0:
        raise InvalidArgumentError("gather: batch_dims other than 0 is not supported")
    return _take("gather", params, indices, axis)
