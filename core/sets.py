"""The Array API's set functions: ``isin`` and ``unique_all``/``unique_counts``/
``unique_inverse``/``unique_values``.

Computed on the host with NumPy and put back on the tensor's backend and device, as
:mod:`polytape.searching` does; the unique values are gathered from the input with
``getitem``, so gradients reach it (each value from its first occurrence).

>>> import polytape as pt
>>> pt.unique_counts(pt.constant([3, 1, 3])).counts.numpy().tolist()
[1, 2]
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .dispatch import unary_operand
from .searching import host as _host
from .searching import on_backend as _on
from .shapes import getitem, reshape
from .tensor import Tensor

__all__ = ["isin", "unique_all", "unique_counts", "unique_inverse", "unique_values"]


def isin(x1: Any, x2: Any, /, *, invert: bool = False) -> Tensor:
    """Elementwise: is ``x1``'s element among ``x2``'s (bool; negated with ``invert``)?"""
    x1, x2 = unary_operand(x1), unary_operand(x2)
    return _on(x1, np.isin(_host(x1), _host(x2), invert=bool(invert)))


class UniqueAllResult(NamedTuple):
    """``unique_all``'s result."""

    values: Tensor
    indices: Tensor
    inverse_indices: Tensor
    counts: Tensor


class UniqueCountsResult(NamedTuple):
    """``unique_counts``'s result."""

    values: Tensor
    counts: Tensor


class UniqueInverseResult(NamedTuple):
    """``unique_inverse``'s result."""

    values: Tensor
    inverse_indices: Tensor


def _unique(x: Any) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    x = unary_operand(x)
    a = _host(x).reshape(-1)
    # NaNs are distinct from each other, as the standard says (NumPy merges them by default).
    kw = {"equal_nan": False} if a.dtype.kind == "f" else {}
    values, first, inverse, counts = np.unique(a, return_index=True, return_inverse=True,
                                               return_counts=True, **kw)
    flat = reshape(x, (-1,))
    # Gathered from x, so the values are differentiable (each from its first occurrence).
    vals = getitem(flat, first.astype(np.int64)) if first.size else flat
    return (vals, _on(x, first.astype(np.int64)),
            _on(x, inverse.reshape(x.shape).astype(np.int64)), _on(x, counts.astype(np.int64)))


def unique_all(x: Any, /) -> UniqueAllResult:
    """The unique values (sorted), the index of each one's first occurrence, each element's
    index into the values (shaped like ``x``) and the counts."""
    return UniqueAllResult(*_unique(x))


def unique_counts(x: Any, /) -> UniqueCountsResult:
    """The unique values (sorted) and how often each occurs."""
    v, _, _, c = _unique(x)
    return UniqueCountsResult(v, c)


def unique_inverse(x: Any, /) -> UniqueInverseResult:
    """The unique values (sorted) and each element's index into them (shaped like ``x``)."""
    v, _, inv, _ = _unique(x)
    return UniqueInverseResult(v, inv)


def unique_values(x: Any, /) -> Tensor:
    """The unique values of ``x``, sorted, as a 1-D tensor.

    >>> import polytape as pt
    >>> pt.unique_values(pt.constant([3, 1, 3])).numpy().tolist()
    [1, 3]
    """
    return _unique(x)[0]
