"""Checking and normalising the non-tensor arguments of ops: axes, ints, numbers, shapes.

Shared by the ops modules and :mod:`polytape.creation`. An argument of the wrong Python
type is an :class:`~polytape.errors.ArgumentTypeError` (a ``TypeError``, as NumPy and
TensorFlow raise there, but not a :class:`~polytape.errors.DTypeError`: it is not about a
tensor's dtype); a value out of range is a :class:`~polytape.errors.ShapeError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ArgumentTypeError, ShapeError
from .tensor import Tensor

__all__ = ["normalize_axis", "one_axis", "int_arg", "number", "shape_arg"]


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """``None`` or a tuple of distinct non-negative axes: :class:`ShapeError` when out of range
    or repeated, :class:`ArgumentTypeError` when not ints."""
    if axis is None:
        return None
    bad = ArgumentTypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
    if isinstance(axis, Tensor) and axis.ndim == 1 and axis.dtype.kind in "iu":
        axes = tuple(int(a) for a in axis.numpy())  # TensorFlow code passes axes as tensors
    elif isinstance(axis, (int, np.integer, Tensor)):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise bad
    out = []
    for a in axes:
        if isinstance(a, Tensor) and a.ndim == 0 and a.dtype.kind in "iu":
            a = int(a)
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise bad
        a = int(a)
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor of rank {ndim}")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    if ndim == 0:
        return ()
    return tuple(out)


def number(op: str, what: str, value: Any) -> Any:
    """``value`` as a Python int or float (0-d tensors and NumPy scalars are unwrapped)."""
    if isinstance(value, Tensor) and value.ndim == 0:
        value = value.numpy().item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentTypeError(f"{op}: {what} must be a number, got {type(value).__name__} {value!r}")
    return value


def int_arg(op: str, what: str, value: Any) -> int:
    """``value`` as a Python int (bools are not ints here)."""
    if isinstance(value, Tensor) and value.ndim == 0 and value.dtype.kind in "iu":
        value = int(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ArgumentTypeError(f"{op}: {what} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def one_axis(op: str, axis: Any, ndim: int) -> int:
    """One axis of a tensor of rank ``ndim``, made non-negative."""
    a = int_arg(op, "axis", axis)
    if ndim == 0:
        raise ShapeError(f"{op}: axis {a} is out of range for a 0-d tensor")
    return normalize_axis(a, ndim, op)[0]


def shape_arg(shape: Any) -> tuple[int, ...]:
    """A shape given as an int, a sequence or a tensor, as a tuple of ints."""
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)
