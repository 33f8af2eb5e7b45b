"""The PyTorch bridge's kernels: op name -> function on ``torch.Tensor``s.

Each kernel follows the calling convention in :mod:`polytape.backends.base`
(same-dtype operands, normalised axes, native dtypes, inputs never mutated,
the op table's result dtype) and returns what the NumPy kernel of the same
name returns, where torch's own defaults differ:

* ``torch.sum(x, dim=())`` sums everything, so reductions treat ``axis=()``
  ("reduce nothing") and ``axis=None`` ("reduce everything") themselves;
* torch sums and multiplies int32 into int64, so reductions pass ``dtype=x.dtype``;
* ``index_add`` accumulates repeated positions (``x[i] += v`` would not);
* integer ``//`` and ``%`` by zero give 0 as in NumPy instead of raising.

torch's autograd is never engaged: the backend creates no tensor with
``requires_grad``, so torch records nothing (polytape's tape differentiates).

This module imports torch, so only the backend's factory imports it. To add an
op, write its kernel here and add one line to :data:`KERNELS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["KERNELS", "creation_kernels"]

Kernel = Callable[..., Any]


# -- helpers ----------------------------------------------------------------------------------
def _all_axes(x: torch.Tensor, axis: Any) -> tuple[int, ...]:
    return tuple(range(x.ndim)) if axis is None else axis


def _is_basic(index: Any) -> bool:
    """True when ``index`` has no integer or boolean arrays (no position can repeat)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


def _number(value: Any) -> Any:
    """A Python number for a NumPy scalar, 0-d array or tensor (torch wants plain numbers)."""
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, torch.Tensor):
        return value.item()
    return np.asarray(value).item()


# -- elementwise, one input -------------------------------------------------------------------
def relu(x: torch.Tensor) -> torch.Tensor:
    if x.dtype is torch.bool:
        return x
    return torch.relu(x)


def relu_backward(g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``g`` where ``x > 0``, else 0, in one pass: torch's own ReLU backward,
    ``threshold_backward`` (``x <= 0 ? 0 : g``), instead of a comparison and a select.

    ``threshold_backward`` passes ``g`` where ``x`` is NaN, where this op gives 0; an ``x``
    whose sum is NaN (a NaN, or infinities of both signs) takes the select instead. The
    sum costs a fraction of the comparison it replaces, but reading it back would wait
    for an accelerator, so off the CPU the select is used throughout.
    """
    if x.dtype is torch.bool or g.dtype != x.dtype or x.device.type != "cpu":
        return where(x > 0, g, g.new_zeros(()))
    if x.is_floating_point():
        total = x.sum()
        if total != total:
            return where(x > 0, g, g.new_zeros(()))
    return torch.ops.aten.threshold_backward(g, x, 0)


def softplus(x: torch.Tensor) -> torch.Tensor:
    # log(exp(0) + exp(x)) as NumPy's logaddexp computes it; F.softplus switches to x
    # above a threshold, which is off by ~1e-10 relative in float64.
    return torch.logaddexp(x, x.new_zeros(()))


def absolute(x: torch.Tensor) -> torch.Tensor:
    return x if x.dtype is torch.bool else torch.abs(x)


def sign(x: torch.Tensor) -> torch.Tensor:
    if x.dtype is torch.bool:  # NumPy has no bool loop for sign
        raise TypeError("sign is not defined for bool tensors")
    return torch.sign(x)


def _integral_identity(fn: Kernel) -> Kernel:
    """floor/ceil/round leave integers and bools as they are (NumPy does the same)."""
    def kernel(x: torch.Tensor) -> torch.Tensor:
        return fn(x) if x.is_floating_point() else x
    kernel.__name__ = fn.__name__
    return kernel


def clip(x: torch.Tensor, lo: Any = None, hi: Any = None) -> torch.Tensor:
    lo = lo if isinstance(lo, torch.Tensor) else _number(lo)
    hi = hi if isinstance(hi, torch.Tensor) else _number(hi)
    return torch.clamp(x, lo, hi)


# -- elementwise, two inputs ------------------------------------------------------------------
def _integer_by_zero_is_zero(fn: Kernel) -> Kernel:
    """NumPy's integer ``//`` and ``%`` by zero give 0 (with a warning); torch raises."""
    def kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if x.is_floating_point() or y.is_floating_point():
            return fn(x, y)
        if x.dtype is torch.bool:
            # NumPy computes bool // bool and bool % bool in int8
            x, y = x.to(torch.int8), y.to(torch.int8)
        zero = y == 0  # no `if zero.any()`: that would wait for the device
        out = fn(x, torch.where(zero, torch.ones_like(y), y))
        return torch.where(zero, torch.zeros_like(out), out)
    kernel.__name__ = fn.__name__
    return kernel


# Integer types by item size: `where` selects bit patterns through them.
_SAME_SIZE_INT = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
_BITWISE_WHERE_MIN = 4096


def where(c: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``torch.where``, but branch-free on large CPU arrays.

    On the CPU, torch's ``where`` branches per element: with an unpredictable
    condition (a ReLU mask in a backward pass) that costs ~15 ns an element, several
    times a multiply. ``y ^ ((x ^ y) & mask)`` on the bit patterns selects the same
    values exactly (NaN payloads and -0.0 included).
    """
    if (c.dtype is not torch.bool or x.dtype != y.dtype
            or max(c.numel(), x.numel(), y.numel()) < _BITWISE_WHERE_MIN
            or not c.device.type == x.device.type == y.device.type == "cpu"):
        return torch.where(c, x, y)
    bits = _SAME_SIZE_INT[x.element_size()]
    mask = c.to(bits, copy=True).neg_()  # True -> all bits set
    xb, yb = x.view(bits), y.view(bits)
    if _is_zero_bits_view(yb) and tuple(y.shape) == torch.broadcast_shapes(c.shape, x.shape, y.shape):
        # where(c, g, 0), as in every ReLU backward pass: y ^ ((x ^ y) & mask) is x & mask
        return torch.bitwise_and(xb, mask).view(x.dtype).expand(y.shape)
    return torch.bitwise_xor(torch.bitwise_and(torch.bitwise_xor(xb, yb), mask), yb).view(x.dtype)


def _is_zero_bits_view(b: torch.Tensor) -> bool:
    """True for a broadcast view of one all-zero-bits element (``constant_like(0, ...)``)."""
    return b.ndim > 0 and not any(b.stride()) and b[(0,) * b.ndim].item() == 0


def power(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if x.dtype is torch.bool:
        return torch.pow(x.to(torch.int8), y.to(torch.int8))  # NumPy: bool ** bool is int8
    return torch.pow(x, y)


# -- reductions (axis: None or a tuple of non-negative ints; () means reduce nothing) ---------
def sum_(x: torch.Tensor, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    if axis == ():
        return x
    if axis is None and not keepdims:
        return torch.sum(x, dtype=x.dtype)
    return torch.sum(x, dim=_all_axes(x, axis), keepdim=keepdims, dtype=x.dtype)


def mean(x: torch.Tensor, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    if axis == ():
        return x
    if axis is None and not keepdims:
        return torch.mean(x, dtype=x.dtype)
    return torch.mean(x, dim=_all_axes(x, axis), keepdim=keepdims, dtype=x.dtype)


def prod(x: torch.Tensor, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    if axis == ():
        return x
    if axis is None:
        out = torch.prod(x, dtype=x.dtype)
        return out.reshape((1,) * x.ndim) if keepdims else out
    out = x
    for a in axis:  # torch.prod takes one dim at a time; keepdim keeps the axis numbers valid
        out = torch.prod(out, dim=a, keepdim=True, dtype=x.dtype)
    return out if keepdims else out.squeeze(tuple(axis))


def _extremum(fn: Kernel) -> Kernel:
    def kernel(x: torch.Tensor, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        if axis == ():
            return x
        return fn(x, dim=_all_axes(x, axis), keepdim=keepdims)
    kernel.__name__ = fn.__name__
    return kernel


def _arg_extremum(fn: Kernel) -> Kernel:
    def kernel(x: torch.Tensor, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
        if isinstance(axis, tuple):
            axis = axis[0] if axis else None
        return fn(x, dim=axis, keepdim=keepdims)  # int64, first index on ties (as NumPy)
    kernel.__name__ = fn.__name__
    return kernel


def cumsum(x: torch.Tensor, axis: int, reverse: bool = False) -> torch.Tensor:
    if reverse:
        return torch.flip(torch.cumsum(torch.flip(x, (axis,)), dim=axis, dtype=x.dtype), (axis,))
    return torch.cumsum(x, dim=axis, dtype=x.dtype)


# -- linear algebra ---------------------------------------------------------------------------
def matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if x.dtype is torch.bool:  # NumPy's bool matmul is "any(x_ik and y_kj)"
        return torch.matmul(x.to(torch.int32), y.to(torch.int32)) != 0
    return torch.matmul(x, y)


def einsum(*xs: torch.Tensor, subscripts: str) -> torch.Tensor:
    # polytape hands canonical subscripts (explicit output, no ellipsis, no broadcasting).
    if xs[0].dtype is torch.bool:  # as NumPy: a sum of bool products is "any"
        return torch.einsum(subscripts, *(x.to(torch.int32) for x in xs)) != 0
    out = torch.einsum(subscripts, *xs)
    return out if out.dtype is xs[0].dtype else out.to(xs[0].dtype)  # torch sums ints in int64


# -- shapes -----------------------------------------------------------------------------------
def transpose(x: torch.Tensor, axes: Sequence[int]) -> torch.Tensor:
    return x.permute(tuple(axes))


def expand_dims(x: torch.Tensor, axis: Any) -> torch.Tensor:
    if isinstance(axis, int):
        return torch.unsqueeze(x, axis)
    for a in sorted(axis):
        x = torch.unsqueeze(x, a)
    return x


def squeeze(x: torch.Tensor, axis: Any) -> torch.Tensor:
    if axis == () or axis is None and x.ndim == 0:
        return x
    if axis is None:
        return torch.squeeze(x)
    return torch.squeeze(x, axis)


def concat(*xs: torch.Tensor, axis: int) -> torch.Tensor:
    return torch.cat(xs, dim=axis)


def stack(*xs: torch.Tensor, axis: int) -> torch.Tensor:
    return torch.stack(xs, dim=axis)


def tile(x: torch.Tensor, reps: Any) -> torch.Tensor:
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    return torch.tile(x, reps)


def flip(x: torch.Tensor, axis: Any = None) -> torch.Tensor:
    if axis is None:
        axis = tuple(range(x.ndim))
    elif isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    return torch.flip(x, tuple(axis))


def pad(x: torch.Tensor, pad_width: Any, constant_value: Any = 0) -> torch.Tensor:
    # NumPy's forms: n, (before, after), or one (before, after) per axis
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    if (widths < 0).any():
        raise ValueError(f"pad widths must be non-negative, got {pad_width!r}")
    shape = tuple(int(s + b + a) for s, (b, a) in zip(x.shape, widths))
    out = torch.full(shape, _number(constant_value), dtype=x.dtype, device=x.device)
    out[tuple(slice(int(b), int(b) + s) for s, (b, _) in zip(x.shape, widths))] = x
    return out


def reshape(x: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    return torch.reshape(x, tuple(shape))


def broadcast_to(x: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    return torch.broadcast_to(x, tuple(shape))


# -- indexing ---------------------------------------------------------------------------------
def _positive_steps(shape: Sequence[int], index: Any) -> tuple[tuple[int, ...], Any] | None:
    """torch slices cannot step backwards: ``(dims to flip, index with positive steps)``
    selecting the same elements in the same order from the flipped array, or ``None``
    when ``index`` has no negative step."""
    parts = index if isinstance(index, tuple) else (index,)
    if not any(isinstance(p, slice) and p.step is not None and p.step < 0 for p in parts):
        return None

    def consumes(p: Any) -> int:  # how many input dimensions one index part uses up
        if p is None or p is Ellipsis:
            return 0
        if isinstance(p, torch.Tensor) and p.dtype is torch.bool:
            return p.ndim
        return 1

    rest = len(shape) - sum(consumes(p) for p in parts)
    dim, flips, new = 0, [], []
    for p in parts:
        if p is Ellipsis:
            dim += rest
        elif isinstance(p, slice) and p.step is not None and p.step < 0:
            n = shape[dim]
            start, stop, step = p.indices(n)
            count = len(range(start, stop, step))
            first = n - 1 - start  # where element `start` lands once the axis is reversed
            p = slice(first, first - step * count, -step) if count else slice(0, 0)
            flips.append(dim)
        dim += consumes(p)
        new.append(p)
    return tuple(flips), tuple(new)


def getitem(x: torch.Tensor, index: Any) -> torch.Tensor:
    plan = _positive_steps(x.shape, index)
    if plan is not None:
        x, index = torch.flip(x, plan[0]), plan[1]
    return x[index]  # torch follows NumPy's basic and advanced indexing rules


def index_add(base: torch.Tensor, values: torch.Tensor, index: Any) -> torch.Tensor:
    """A copy of ``base`` with ``values`` added at ``base[index]``; repeated positions add up."""
    plan = _positive_steps(base.shape, index)
    if plan is not None:
        flipped = index_add(torch.flip(base, plan[0]), values, plan[1])
        return torch.flip(flipped, plan[0])
    if _is_basic(index):
        out = base.clone()
        out[index] += values
        return out
    # The flat position of every element `index` selects, then one index_add_ on a flat copy:
    # unlike `out[index] += values`, it accumulates positions the index names twice.
    positions = torch.arange(base.numel(), device=base.device).reshape(base.shape)[index]
    flat = base.clone(memory_format=torch.contiguous_format).reshape(-1)
    flat.index_add_(0, positions.reshape(-1), torch.broadcast_to(values, positions.shape).reshape(-1))
    return flat.reshape(base.shape)


def astype(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return x.to(dtype)


KERNELS: dict[str, Kernel] = {
    # elementwise, one input
    "negative": torch.neg, "abs": absolute, "sign": sign, "exp": torch.exp,
    "expm1": torch.expm1, "log": torch.log, "log1p": torch.log1p, "sqrt": torch.sqrt,
    "square": torch.square, "sin": torch.sin, "cos": torch.cos, "tan": torch.tan,
    "tanh": torch.tanh, "sinh": torch.sinh, "cosh": torch.cosh, "arcsin": torch.asin,
    "arccos": torch.acos, "arctan": torch.atan, "erf": torch.erf, "sigmoid": torch.sigmoid,
    "relu": relu, "relu_backward": relu_backward, "softplus": softplus,
    "floor": _integral_identity(torch.floor),
    "ceil": _integral_identity(torch.ceil), "round": _integral_identity(torch.round),
    "logical_not": torch.logical_not, "identity": lambda x: x, "clip": clip,
    # elementwise, two inputs (same dtype)
    "add": torch.add, "subtract": torch.sub, "multiply": torch.mul, "divide": torch.true_divide,
    "power": power, "maximum": torch.maximum, "minimum": torch.minimum, "arctan2": torch.atan2,
    "floor_divide": _integer_by_zero_is_zero(torch.floor_divide),
    "remainder": _integer_by_zero_is_zero(torch.remainder),
    "equal": torch.eq, "not_equal": torch.ne, "less": torch.lt, "less_equal": torch.le,
    "greater": torch.gt, "greater_equal": torch.ge, "logical_and": torch.logical_and,
    "logical_or": torch.logical_or, "logical_xor": torch.logical_xor, "where": where,
    # reductions
    "sum": sum_, "prod": prod, "mean": mean, "max": _extremum(torch.amax),
    "min": _extremum(torch.amin), "argmax": _arg_extremum(torch.argmax),
    "argmin": _arg_extremum(torch.argmin), "cumsum": cumsum,
    # linear algebra
    "matmul": matmul, "einsum": einsum,
    # shapes and indexing
    "reshape": reshape, "transpose": transpose, "broadcast_to": broadcast_to,
    "expand_dims": expand_dims, "squeeze": squeeze, "concat": concat, "stack": stack,
    "tile": tile, "flip": flip, "pad": pad, "getitem": getitem,
    "index_add": index_add, "astype": astype,
}


def creation_kernels(device: Callable[[], torch.device]) -> dict[str, Kernel]:
    """Kernels that make new arrays, on the device ``device()`` names when they run
    (the device polytape's backend selection chose for this backend)."""

    def zeros(shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
        return torch.zeros(tuple(shape), dtype=dtype, device=device())

    def ones(shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
        return torch.ones(tuple(shape), dtype=dtype, device=device())

    def full(shape: Sequence[int], value: Any, dtype: torch.dtype) -> torch.Tensor:
        value = _number(value)
        if isinstance(value, float) and not (dtype.is_floating_point or dtype is torch.bool):
            value = int(value)  # NumPy truncates a float fill value for integer arrays
        return torch.full(tuple(shape), value, dtype=dtype, device=device())

    def arange(start: Any, stop: Any = None, step: Any = 1, dtype: torch.dtype | None = None
               ) -> torch.Tensor:
        if stop is None:
            start, stop = 0, start
        return torch.arange(_number(start), _number(stop), _number(step), dtype=dtype,
                            device=device())

    def linspace(start: Any, stop: Any, num: int, dtype: torch.dtype | None = None
                 ) -> torch.Tensor:
        # Computed in float64 on the host, then cast, as NumPy does (MPS has no float64).
        out = torch.linspace(_number(start), _number(stop), int(num), dtype=torch.float64)
        return out.to(device=device(), dtype=dtype or torch.float64)

    def eye(n: int, m: int | None = None, dtype: torch.dtype | None = None) -> torch.Tensor:
        return torch.eye(int(n), int(n if m is None else m), dtype=dtype, device=device())

    return {"zeros": zeros, "ones": ones, "full": full, "arange": arange,
            "linspace": linspace, "eye": eye}
