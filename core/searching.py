"""The Array API's sorting and searching functions: ``argsort``, ``sort``,
``searchsorted``, ``nonzero`` (the set functions are in :mod:`polytape.sets`).

Indices and data-dependent shapes are computed on the host with NumPy (the reference
the conformance suite checks against) and put back on the tensor's backend and
device: none of them is differentiable, and reading data-dependent shapes needs the
values on the host anyway. Where values come out (``sort``, ``unique_*``'s
``values``), they are gathered from the input with ``getitem``, so gradients reach
the input. docs/array-api.md lists the deviation (a device round trip).

>>> import polytape as pt
>>> pt.sort(pt.constant([3.0, 1.0, 2.0])).numpy().tolist()
[1.0, 2.0, 3.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arguments import one_axis
from .creation import constant
from .dispatch import complex_refused, unary_operand
from .errors import InvalidArgumentError, ShapeError
from .manipulation import take_along_axis
from .tensor import Tensor

__all__ = ["argsort", "sort", "searchsorted", "nonzero"]


def host(x: Tensor) -> np.ndarray:
    """``x``'s values as a NumPy array (a device round trip off the CPU)."""
    return np.asarray(x.numpy())


def on_backend(like: Tensor, arr: np.ndarray) -> Tensor:
    """``arr`` as a tensor on ``like``'s backend and device (not connected to any tape)."""
    # ascontiguousarray makes 0-d arrays 1-d; the reshape keeps their shape.
    return constant(np.ascontiguousarray(arr).reshape(arr.shape), backend=like._backend,
                    device=like.device)


def _argsorthost(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    # Descending and stable (equal elements keep their order): sort the reversed array
    # ascending, then reverse back, as array_api_strict does.
    n = a.shape[axis]
    flipped = np.argsort(np.flip(a, axis=axis), axis=axis, kind="stable")
    return n - 1 - np.flip(flipped, axis=axis)


def _real_only(op: str, x: Tensor) -> None:
    # Complex numbers have no order (the standard leaves their sorting unspecified).
    if x.dtype.is_complex:
        raise complex_refused(op, x.dtype)


def argsort(x: Any, /, *, axis: int = -1, descending: bool = False, stable: bool = True) -> Tensor:
    """Indices (int64) that sort ``x`` along ``axis``; always stable. Not differentiable."""
    x = unary_operand(x)
    _real_only("argsort", x)
    if x.ndim == 0:
        raise ShapeError("argsort: needs at least one dimension")
    axis = one_axis("argsort", axis, x.ndim)
    return on_backend(x, _argsorthost(host(x), axis, bool(descending)).astype(np.int64))


def sort(x: Any, /, *, axis: int = -1, descending: bool = False, stable: bool = True) -> Tensor:
    """``x`` sorted along ``axis``; the gradient goes back to each element's place.

    >>> import polytape as pt
    >>> pt.sort(pt.constant([1, 3, 2]), descending=True).numpy().tolist()
    [3, 2, 1]
    """
    x = unary_operand(x)
    _real_only("sort", x)
    if x.ndim == 0:
        raise ShapeError("sort: needs at least one dimension")
    axis = one_axis("sort", axis, x.ndim)
    return take_along_axis(x, argsort(x, axis=axis, descending=descending), axis=axis)


def searchsorted(x1: Any, x2: Any, /, *, side: str = "left", sorter: Any = None) -> Tensor:
    """Where (int64) each of ``x2`` would go in the sorted 1-D ``x1`` to keep it sorted."""
    x1, x2 = unary_operand(x1), unary_operand(x2)
    _real_only("searchsorted", x1)
    _real_only("searchsorted", x2)
    if side not in ("left", "right"):
        raise InvalidArgumentError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if x1.ndim != 1:
        raise ShapeError(f"searchsorted: x1 must be 1-D, got shape {x1.shape}")
    order = None if sorter is None else np.asarray(
        sorter.numpy() if isinstance(sorter, Tensor) else sorter).astype(np.int64)
    out = np.searchsorted(host(x1), host(x2), side=side, sorter=order)
    return on_backend(x2, np.asarray(out, dtype=np.int64))


def nonzero(x: Any, /) -> tuple[Tensor, ...]:
    """The indices (int64) of the non-zero elements, one tensor per axis."""
    x = unary_operand(x)
    if x.ndim == 0:
        raise ShapeError("nonzero: a 0-d tensor has no indices; reshape it to (1,) first")
    return tuple(on_backend(x, i.astype(np.int64)) for i in np.nonzero(host(x)))
