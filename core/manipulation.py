"""The Array API's manipulation, scan and utility functions that are compositions of table
ops: ``moveaxis``, ``roll``, ``repeat``, ``unstack``, ``take_along_axis``,
``broadcast_arrays``/``broadcast_shapes``, ``meshgrid``, ``tril``/``triu``, ``diff``,
``cumulative_sum``/``cumulative_prod``, ``vecdot``, ``all``/``any``/``count_nonzero``.

Being compositions (slices, ``concat``, ``getitem``, ``where``, ``prod``...), their
gradients come from those ops' rules, exact to any order, with no kernel to write.
Index arrays built from data (``repeat`` with tensor repeats, ``take_along_axis``)
are read on the host; docs/array-api.md lists that deviation. This module defines
``all`` and ``any`` and imports polytape's ``sum``, so it uses none of those builtins.

>>> import polytape as pt
>>> pt.roll(pt.constant([1, 2, 3, 4]), 1).numpy().tolist()
[4, 1, 2, 3]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .arguments import int_arg, normalize_axis, one_axis
from .creation import constant, full, ones_like, zeros_like
from .dispatch import unary_operand
from .dtypes import DType, accumulation_dtype, as_dtype, int64
from .elementwise import cast, conj, equal, greater, multiply, not_equal, subtract, where
from .errors import DTypeError, ShapeError
from .reductions import cumsum, prod, sum
from .shapes import broadcast_to, concat, expand_dims, getitem, reshape, take, transpose
from .tensor import Tensor

__all__ = ["moveaxis", "roll", "repeat", "unstack", "take_along_axis", "broadcast_arrays",
           "broadcast_shapes", "meshgrid", "tril", "triu", "diff", "cumulative_sum",
           "cumulative_prod", "vecdot", "all", "any", "count_nonzero"]


def _along(axis: int, index: Any) -> tuple:
    return (slice(None),) * axis + (index,)


def moveaxis(x: Any, source: int | Sequence[int], destination: int | Sequence[int], /) -> Tensor:
    """``x`` with axes ``source`` moved to positions ``destination`` (the others keep order).

    >>> import polytape as pt
    >>> pt.moveaxis(pt.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    x = unary_operand(x)
    src = normalize_axis(source, x.ndim, "moveaxis") or ()
    dst = normalize_axis(destination, x.ndim, "moveaxis") or ()
    if len(src) != len(dst):
        raise ShapeError(f"moveaxis: source {source!r} and destination {destination!r} differ in length")
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, tuple(order))


def roll(x: Any, /, shift: int | Sequence[int], *, axis: int | Sequence[int] | None = None) -> Tensor:
    """Elements shifted by ``shift`` along ``axis`` (of the flattened tensor when None), wrapping."""
    x = unary_operand(x)
    if axis is None:
        return reshape(roll(reshape(x, (-1,)), shift, axis=0), x.shape)
    shifts = (shift,) if isinstance(shift, (int, np.integer)) else tuple(shift)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(shifts) != len(axes):
        raise ShapeError(f"roll: shift {shift!r} and axis {axis!r} differ in length")
    for s, a in zip(shifts, axes):
        a = one_axis("roll", a, x.ndim)
        n = x.shape[a]
        k = int_arg("roll", "shift", s) % n if n else 0
        if k:
            x = concat([getitem(x, _along(a, slice(n - k, n))), getitem(x, _along(a, slice(0, n - k)))],
                       axis=a)
    return x


def _host_ints(op: str, what: str, v: Any) -> np.ndarray:
    arr = np.asarray(v.numpy() if isinstance(v, Tensor) else v)
    if arr.dtype.kind not in "iu" and arr.size:
        raise DTypeError(f"{op}: {what} must be integers, got {arr.dtype}")
    return arr.astype(np.int64)


def repeat(x: Any, repeats: int | Any, /, *, axis: int | None = None) -> Tensor:
    """Each element repeated ``repeats`` times along ``axis`` (of the flattened tensor when
    None); ``repeats`` is an int or one count per element.

    >>> import polytape as pt
    >>> pt.repeat(pt.constant([1, 2]), pt.constant([2, 1])).numpy().tolist()
    [1, 1, 2]
    """
    x = unary_operand(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = one_axis("repeat", axis, x.ndim)
    counts = _host_ints("repeat", "repeats", repeats)
    if (counts < 0).any():
        raise ShapeError("repeat: repeats must not be negative")
    n = x.shape[axis]
    if counts.ndim and counts.shape not in ((n,), (1,)):  # one count broadcasts, as in NumPy
        raise ShapeError(f"repeat: {counts.shape[0]} repeats for an axis of size {n}")
    return take(x, np.repeat(np.arange(n, dtype=np.int64), counts), axis=axis)


def unstack(x: Any, /, *, axis: int = 0) -> tuple[Tensor, ...]:
    """The slices of ``x`` along ``axis``, as a tuple (the inverse of ``stack``)."""
    x = unary_operand(x)
    axis = one_axis("unstack", axis, x.ndim)
    return tuple(getitem(x, _along(axis, i)) for i in range(x.shape[axis]))


def take_along_axis(x: Any, indices: Any, /, *, axis: int = -1) -> Tensor:
    """``x``'s elements at ``indices`` along ``axis`` (indices shaped like ``x`` except along
    ``axis``; other axes broadcast). Differentiable in ``x`` (a ``getitem``).

    >>> import polytape as pt
    >>> x = pt.constant([[10, 30, 20]])
    >>> pt.take_along_axis(x, pt.argsort(x, axis=1), axis=1).numpy().tolist()
    [[10, 20, 30]]
    """
    x = unary_operand(x)
    axis = one_axis("take_along_axis", axis, x.ndim)
    idx = _host_ints("take_along_axis", "indices", indices)
    if idx.ndim != x.ndim:
        raise ShapeError(f"take_along_axis: indices have {idx.ndim} dimensions, x has {x.ndim}")
    n = x.shape[axis]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise ShapeError(f"take_along_axis: an index is out of range for axis {axis} of size {n}")
    idx = np.where(idx < 0, idx + n, idx)
    grids = np.ogrid[tuple(slice(0, s) for s in idx.shape)]
    parts = tuple(idx if d == axis else np.broadcast_to(g, idx.shape) if x.shape[d] == idx.shape[d]
                  else np.zeros(idx.shape, np.int64) if x.shape[d] == 1
                  else _bad_broadcast(x.shape, idx.shape) for d, g in enumerate(grids))
    return getitem(x, parts)


def _bad_broadcast(xs: tuple, ids: tuple) -> Any:
    raise ShapeError(f"take_along_axis: indices of shape {ids} do not fit x of shape {xs}")


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The shape ``shapes`` broadcast to (NumPy's rules); :class:`ShapeError` if they do not."""
    try:
        return tuple(int(s) for s in np.broadcast_shapes(*(tuple(s) for s in shapes)))
    except ValueError:
        raise ShapeError(f"broadcast_shapes: shapes {list(shapes)} do not broadcast") from None


def broadcast_arrays(*arrays: Any) -> list[Tensor]:
    """The tensors broadcast to one shape (each a differentiable ``broadcast_to``)."""
    ts = [unary_operand(a) for a in arrays]
    shape = broadcast_shapes(*(t.shape for t in ts))
    return [t if t.shape == shape else broadcast_to(t, shape) for t in ts]


def meshgrid(*arrays: Any, indexing: str = "xy") -> list[Tensor]:
    """Coordinate grids from 1-D tensors; ``indexing="xy"`` (Cartesian) or ``"ij"`` (matrix)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    ts = [unary_operand(a) for a in arrays]
    if [t for t in ts if t.ndim != 1]:  # (this module defines `any`)
        raise ShapeError("meshgrid: every input must be 1-D")
    shape = [t.shape[0] for t in ts]
    if indexing == "xy" and len(ts) > 1:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(ts):
        pos = (1 - i if i < 2 else i) if indexing == "xy" and len(ts) > 1 else i
        view = [1] * len(ts)
        view[pos] = t.shape[0]
        out.append(broadcast_to(reshape(t, tuple(view)), tuple(shape)))
    return out


def _triangle(op: str, x: Any, k: int, lower: bool) -> Tensor:
    x = unary_operand(x)
    if x.ndim < 2:
        raise ShapeError(f"{op}: needs at least 2 dimensions, got shape {x.shape}")
    m, n = x.shape[-2:]
    k = int_arg(op, "k", k)
    mask = np.tril(np.ones((m, n), bool), k) if lower else np.triu(np.ones((m, n), bool), k)
    return where(constant(mask, backend=x._backend, device=x.device), x, zeros_like(x))


def tril(x: Any, /, *, k: int = 0) -> Tensor:
    """``x`` with the elements above diagonal ``k`` of its last two axes set to 0."""
    return _triangle("tril", x, k, True)


def triu(x: Any, /, *, k: int = 0) -> Tensor:
    """``x`` with the elements below diagonal ``k`` of its last two axes set to 0."""
    return _triangle("triu", x, k, False)


def diff(x: Any, /, *, axis: int = -1, n: int = 1, prepend: Any = None, append: Any = None) -> Tensor:
    """The ``n``-th forward difference along ``axis``, after joining ``prepend``/``append``.

    >>> import polytape as pt
    >>> pt.diff(pt.constant([1, 4, 9, 16])).numpy().tolist()
    [3, 5, 7]
    """
    x = unary_operand(x)
    axis = one_axis("diff", axis, x.ndim)
    n = int_arg("diff", "n", n)
    if n < 0:
        raise ValueError(f"diff: n must not be negative, got {n}")
    parts = [p for p in (prepend, x, append) if p is not None]
    if len(parts) > 1:
        x = concat(parts, axis=axis)
    for _ in range(n):
        m = x.shape[axis]
        hi, lo = getitem(x, _along(axis, slice(1, m))), getitem(x, _along(axis, slice(0, max(m - 1, 0))))
        x = not_equal(hi, lo) if x.dtype.kind == "b" else subtract(hi, lo)
    return x


def _accumulator(x: Tensor, dtype: Any) -> DType:
    if dtype is not None:
        return as_dtype(dtype)
    return accumulation_dtype(x.dtype)


def _scan_axis(op: str, x: Tensor, axis: int | None) -> int:
    if axis is None:
        if x.ndim != 1:
            raise ShapeError(f"{op}: axis is required for a {x.ndim}-d tensor")
        return 0
    return one_axis(op, axis, x.ndim)


def cumulative_sum(x: Any, /, *, axis: int | None = None, dtype: Any = None,
                   include_initial: bool = False) -> Tensor:
    """Running sum along ``axis`` (the standard's: narrower integers and bool in int32,
    unsigned ones in uint32, as :func:`polytape.sum`;
    ``include_initial`` puts a 0 first)."""
    x = unary_operand(x)
    axis = _scan_axis("cumulative_sum", x, axis)
    x = cast(x, _accumulator(x, dtype))
    out = cumsum(x, axis=axis) if x.ndim else x
    return _with_initial(out, axis, 0) if include_initial else out


def cumulative_prod(x: Any, /, *, axis: int | None = None, dtype: Any = None,
                    include_initial: bool = False) -> Tensor:
    """Running product along ``axis`` (dtypes as :func:`cumulative_sum`; a 1 first with
    ``include_initial``).

    Computed as products of lower-triangular slabs (``prod`` of ``where(j <= i, x_j, 1)``),
    O(n^2) along the axis, so its gradient is ``prod``'s: exact with zeros in the input.
    """
    x = unary_operand(x)
    axis = _scan_axis("cumulative_prod", x, axis)
    x = cast(x, _accumulator(x, dtype))
    n = x.shape[axis] if x.ndim else 0
    out = x
    if n:
        last = moveaxis(x, axis, -1)
        grid = broadcast_to(expand_dims(last, -2), last.shape[:-1] + (n, n))
        mask = constant(np.tril(np.ones((n, n), bool)), backend=x._backend, device=x.device)
        out = moveaxis(prod(where(mask, grid, ones_like(grid)), axis=-1, dtype=x.dtype), -1, axis)
    return _with_initial(out, axis, 1) if include_initial else out


def _with_initial(out: Tensor, axis: int, fill: int) -> Tensor:
    # The standard's include_initial: the empty sum (0) or product (1) first along axis.
    shape = out.shape[:axis] + (1,) + out.shape[axis + 1:]
    first = full(shape, fill, dtype=out.dtype, backend=out._backend, device=out.device)
    return concat([first, out], axis=axis)


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Tensor:
    """The dot product of ``x1`` and ``x2`` along ``axis`` (other axes broadcast); complex
    ``x1`` is conjugated, as the standard says (``sum(conj(x1) * x2)``)."""
    x1, x2 = unary_operand(x1), unary_operand(x2)
    shape = broadcast_shapes(x1.shape, x2.shape)
    a = one_axis("vecdot", axis, len(shape))
    if x1.shape[a - len(shape) + x1.ndim] != x2.shape[a - len(shape) + x2.ndim]:
        raise ShapeError(f"vecdot: shapes {x1.shape} and {x2.shape} differ along axis {axis}")
    products = multiply(conj(x1) if x1.dtype.is_complex else x1, x2)
    return sum(products, axis=a, dtype=products.dtype)  # the operands' dtype, as matmul's


def _nonzero_count(x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = unary_operand(x)
    # a count is an index: int64 (the "indexing" default), not the int32 a sum of bools gives
    return sum(not_equal(x, False if x.dtype.kind == "b" else 0), axis=axis, keepdims=keepdims,
               dtype=int64)


def count_nonzero(x: Any, /, *, axis: int | Sequence[int] | None = None,
                  keepdims: bool = False) -> Tensor:
    """The number (int64) of non-zero elements along ``axis`` (all axes when None)."""
    return _nonzero_count(x, axis, keepdims)


def any(x: Any, /, *, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether any element along ``axis`` is non-zero (NaN counts as non-zero)."""
    return greater(_nonzero_count(x, axis, keepdims), 0)


def all(x: Any, /, *, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether every element along ``axis`` is non-zero; true over no elements."""
    x = unary_operand(x)
    axes = normalize_axis(axis, x.ndim, "all")
    count = math.prod(x.shape[i] for i in (range(x.ndim) if axes is None else axes))
    return equal(_nonzero_count(x, axis, keepdims), count)

