"""The kernel table: one function on ``array_api_strict`` arrays per polytape op name.

polytape's kernel contract (``polytape.backends.base``) fixes each kernel's
name and signature; the op names come from ``polytape.optable.OPS`` and
``polytape.optable.CREATION_KERNELS``. Arguments arrive already normalised:
elementwise binary kernels get two arrays of one dtype, reduction axes are
``None`` or a tuple of non-negative ints, dtypes are this library's dtypes.

Where the Array API spells a function differently (``acos``, ``atan2``, ``pow``,
``permute_dims``, ``cumulative_sum``) the kernel is a rename; where it has no
function at all (``erf``, ``pad``, ``einsum``, NumPy-style indexing, scatter-add)
the kernel is built from functions it has. ``arange``, ``linspace`` and ``eye``
are optional creation kernels: polytape uses them when a backend has them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import array_api_strict as xp

from .einsum import einsum
from .indexing import getitem, index_add
from .special import erf

__all__ = ["KERNELS", "make_kernels"]


def _reduction(fn: Callable[..., Any], typed: bool = False) -> Callable[..., Any]:
    """A reduction kernel; ``axis=()`` reduces nothing, ``typed`` keeps the input dtype."""
    def kernel(x: Any, axis: tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
        if axis == ():
            return x
        if typed:
            return fn(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
        return fn(x, axis=axis, keepdims=keepdims)
    return kernel


def _arg_reduction(fn: Callable[..., Any]) -> Callable[..., Any]:
    def kernel(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        return xp.astype(fn(x, axis=axis, keepdims=keepdims), xp.int64)
    return kernel


def _ordered(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A comparison that also orders bools (False < True), which the standard leaves out."""
    def kernel(x: Any, y: Any) -> Any:
        if x.dtype == xp.bool:
            x, y = xp.astype(x, xp.uint8), xp.astype(y, xp.uint8)
        return fn(x, y)
    return kernel


def _on_bools(fn: Callable[[Any, Any], Any], logical: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """``fn`` for numbers, ``logical`` for bools (NumPy's ``add``/``maximum`` of bools is ``or``)."""
    def kernel(x: Any, y: Any) -> Any:
        return logical(x, y) if x.dtype == xp.bool else fn(x, y)
    return kernel


def _sigmoid(x: Any) -> Any:
    # exp(-log(1 + exp(-x))) never overflows, unlike 1 / (1 + exp(-x)).
    return xp.exp(-xp.logaddexp(-x, 0.0))


def _softplus(x: Any) -> Any:
    return xp.logaddexp(x, 0.0)


def _relu(x: Any) -> Any:
    return xp.maximum(x, 0)


def _clip(x: Any, lo: Any = None, hi: Any = None) -> Any:
    # Bounds arrive as Python numbers inside x's range; as x's dtype they cannot widen it.
    lo = None if lo is None else _scalar(lo, x.dtype)
    hi = None if hi is None else _scalar(hi, x.dtype)
    return xp.clip(x, lo, hi)


def _scalar(value: Any, dtype: Any) -> bool | int | float:
    """``value`` as the Python scalar type the standard pairs with ``dtype``."""
    if hasattr(value, "item"):
        value = value.item()
    if dtype == xp.bool:
        return bool(value)
    if xp.isdtype(dtype, "integral"):
        return int(value)
    return float(value)


def _cumsum(x: Any, axis: int, reverse: bool = False) -> Any:
    if x.ndim == 0:
        return x
    if reverse:
        return xp.flip(xp.cumulative_sum(xp.flip(x, axis=axis), axis=axis, dtype=x.dtype), axis=axis)
    return xp.cumulative_sum(x, axis=axis, dtype=x.dtype)


def _pad(x: Any, pad_width: tuple[tuple[int, int], ...], constant_value: Any = 0) -> Any:
    """``numpy.pad`` in constant mode from ``full`` and ``concat`` (one (before, after) per axis)."""
    for axis, (before, after) in enumerate(pad_width):
        pieces = []
        for n in (before, None, after):
            if n is None:
                pieces.append(x)
            elif n:
                shape = x.shape[:axis] + (n,) + x.shape[axis + 1:]
                pieces.append(xp.full(shape, _scalar(constant_value, x.dtype), dtype=x.dtype,
                                      device=x.device))
        if len(pieces) > 1:
            x = xp.concat(pieces, axis=axis)
    return x


def make_kernels(device: Callable[[], Any] = lambda: None) -> dict[str, Callable[..., Any]]:
    """The op-name -> kernel mapping of the ``array_api_strict`` backend.

    Kernels that transform arrays keep their inputs' device (the library does that);
    kernels that *create* arrays take no device argument, so they ask ``device()`` --
    the backend passes the device the user selected (``pt.use_backend(name, device)``).
    """
    def zeros(shape: tuple[int, ...], dtype: Any) -> Any:
        return xp.zeros(tuple(shape), dtype=dtype, device=device())

    def ones(shape: tuple[int, ...], dtype: Any) -> Any:
        return xp.ones(tuple(shape), dtype=dtype, device=device())

    def full(shape: tuple[int, ...], value: Any, dtype: Any) -> Any:
        # The standard's full() wants a Python scalar; NumPy scalars and 0-d arrays are unwrapped.
        if hasattr(value, "__array_namespace__"):
            return xp.broadcast_to(xp.astype(value, dtype), tuple(shape))
        return xp.full(tuple(shape), _scalar(value, dtype), dtype=dtype, device=device())

    def arange(start: Any, stop: Any, step: Any, dtype: Any) -> Any:
        return xp.arange(start, stop, step, dtype=dtype, device=device())

    def linspace(start: Any, stop: Any, num: int, dtype: Any) -> Any:
        return xp.linspace(start, stop, num, dtype=dtype, device=device())

    def eye(n: int, m: int, dtype: Any) -> Any:
        return xp.eye(n, m, dtype=dtype, device=device())

    return {
        # elementwise, one input
        "identity": lambda x: x, "negative": xp.negative, "abs": xp.abs, "sign": xp.sign,
        "exp": xp.exp, "expm1": xp.expm1, "log": xp.log, "log1p": xp.log1p, "sqrt": xp.sqrt,
        "square": xp.square, "sin": xp.sin, "cos": xp.cos, "tan": xp.tan, "tanh": xp.tanh,
        "sinh": xp.sinh, "cosh": xp.cosh, "arcsin": xp.asin, "arccos": xp.acos,
        "arctan": xp.atan, "erf": erf, "sigmoid": _sigmoid, "relu": _relu,
        "softplus": _softplus, "floor": xp.floor, "ceil": xp.ceil, "round": xp.round,
        "logical_not": xp.logical_not,
        "clip": _clip,
        # elementwise, two inputs of one dtype
        "add": _on_bools(xp.add, xp.logical_or), "subtract": xp.subtract,
        "multiply": _on_bools(xp.multiply, xp.logical_and), "divide": xp.divide,
        "power": xp.pow, "maximum": _on_bools(xp.maximum, xp.logical_or),
        "minimum": _on_bools(xp.minimum, xp.logical_and), "arctan2": xp.atan2,
        "floor_divide": xp.floor_divide, "remainder": xp.remainder,
        "equal": xp.equal, "not_equal": xp.not_equal, "less": _ordered(xp.less),
        "less_equal": _ordered(xp.less_equal), "greater": _ordered(xp.greater),
        "greater_equal": _ordered(xp.greater_equal),
        "logical_and": xp.logical_and, "logical_or": xp.logical_or,
        "logical_xor": xp.logical_xor,
        "where": xp.where,
        # reductions
        "sum": _reduction(xp.sum, typed=True), "prod": _reduction(xp.prod, typed=True),
        "mean": _reduction(xp.mean), "max": _reduction(xp.max), "min": _reduction(xp.min),
        "argmax": _arg_reduction(xp.argmax), "argmin": _arg_reduction(xp.argmin),
        "cumsum": _cumsum,
        # linear algebra
        "matmul": xp.matmul, "einsum": einsum,
        # shapes and indexing
        "reshape": lambda x, shape: xp.reshape(x, tuple(shape)),
        "transpose": lambda x, axes: xp.permute_dims(x, tuple(axes)),
        "broadcast_to": lambda x, shape: xp.broadcast_to(x, tuple(shape)),
        "expand_dims": lambda x, axis: xp.expand_dims(x, axis=axis),
        "squeeze": lambda x, axis: xp.squeeze(x, axis=tuple(axis)) if axis else x,
        "concat": lambda *xs, axis: xp.concat(list(xs), axis=axis),
        "stack": lambda *xs, axis: xp.stack(list(xs), axis=axis),
        "tile": lambda x, reps: xp.tile(x, tuple(reps)),
        "flip": lambda x, axis: xp.flip(x, axis=axis),
        "pad": _pad,
        "getitem": getitem,
        "index_add": index_add,
        "astype": lambda x, dtype: x if x.dtype == dtype else xp.astype(x, dtype),
        # creation
        "zeros": zeros, "ones": ones, "full": full, "arange": arange, "linspace": linspace,
        "eye": eye,
    }


KERNELS = frozenset(make_kernels())
"""The op names this backend has kernels for (importing this module does not build a backend)."""
