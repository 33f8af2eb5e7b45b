"""The PyTorch bridge's kernels: the shared Array API table on ``array_api_compat.torch``,
plus what torch does differently from NumPy (the reference backend).

array-api-compat already fixes torch's reductions (``axis=()``, several axes for
``prod``, ``keepdims`` with ``axis=None``) and its ``cumulative_sum``/``flip``/``squeeze``
spellings, so those kernels come from the shared table. What stays here:

* binary arithmetic and comparisons are torch's own functions: compat's wrappers fix
  mixed-dtype promotion, which kernels never see (same-dtype operands), at a Python
  call each;
* NumPy semantics torch lacks: bools in ``abs``/``sign``/``power``/``matmul``/``einsum``,
  integer ``//`` and ``%`` by zero giving 0, ``index_add`` accumulating repeated
  positions, slices with negative steps;
* fused kernels: the bit-select ``where`` and ``threshold_backward`` for ``relu_backward``
  on the CPU; torch's native ``erf``, ``sigmoid``, ``relu`` and ``einsum``;
* IEEE 754 edge values torch gets wrong: ``sign(nan)``, ``sinh``/``cosh`` near overflow,
  ``sigmoid`` and half-precision ``erf`` in the subnormal range.

torch's autograd is never engaged: the backend creates no tensor with
``requires_grad``, so torch records nothing (polytape's tape differentiates).
This module imports torch, so only the backend's factory imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import array_api_compat.torch as compat_torch
import torch

from polytape.backends.array_api.indexing import is_basic
from polytape.backends.array_api.kernels import BIT_SELECT_MIN_SIZE
from polytape.backends.array_api.kernels import make_kernels as array_api_kernels

from . import convolution

__all__ = ["make_kernels", "where", "relu_backward", "getitem", "index_add"]

Kernel = Callable[..., Any]


# -- elementwise, one input -------------------------------------------------------------------
def _relu(x: torch.Tensor) -> torch.Tensor:
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
        total = x.sum().item()  # a Python float: comparing it costs no tensor op
        if total != total:
            return where(x > 0, g, g.new_zeros(()))
    return torch.ops.aten.threshold_backward(g, x, 0)


def _abs(x: torch.Tensor) -> torch.Tensor:
    return x if x.dtype is torch.bool else torch.abs(x)


def _sign(x: torch.Tensor) -> torch.Tensor:
    if x.dtype is torch.bool:  # NumPy has no bool loop for sign
        raise TypeError("sign is not defined for bool tensors")
    if x.is_complex():  # the standard's sign of z is z / |z| (torch.sgn; torch.sign refuses)
        return torch.sgn(x)
    if x.is_floating_point():  # torch.sign(nan) is 0; the Array API (and NumPy) say NaN
        return torch.where(torch.isnan(x), x, torch.sign(x))
    return torch.sign(x)


def _log1p(x: torch.Tensor) -> torch.Tensor:
    # torch's complex log1p gives NaN + NaN j for infinite parts; the standard (C99) gives
    # log's +inf + NaN j there, and log(1 + z) loses nothing when z is not finite.
    if not x.is_complex():
        return torch.log1p(x)
    return torch.where(torch.isfinite(x), torch.log1p(x), torch.log(1 + x))


def _arccos(x: torch.Tensor) -> torch.Tensor:
    # torch's acos(+-0 + 0j) is pi/2 + 0j; the standard's (C99's) imaginary part is -imag(z)
    # there (acos(conj(z)) = conj(acos(z))).
    out = torch.acos(x)
    if not x.is_complex():
        return out
    zero = (x.real == 0) & (x.imag == 0)
    return torch.where(zero, torch.complex(out.real, -x.imag), out)


# Half precision goes through float32 (as torch's CPU loops do), so a result that overflows
# float32's intermediate exp(x) still fits.
_HALF = (torch.float16, torch.bfloat16)
# Beyond these |x|, exp(-|x|) is below half an ULP of exp(|x|): sinh and cosh are exp(|x|)/2.
_HYPERBOLIC_TAIL = {torch.float64: 40.0, torch.float32: 20.0}


def _hyperbolic(fn: Kernel, odd: bool, x: torch.Tensor) -> torch.Tensor:
    """torch's sinh/cosh overflow where the result still fits (sinh(89.0) in float32 is
    2.2e38, torch gives inf): the tail is exp(|x|/2) * (exp(|x|/2) / 2) instead."""
    if not x.is_floating_point():
        return fn(x)
    if x.dtype in _HALF:
        return _hyperbolic(fn, odd, x.float()).to(x.dtype)
    ax = torch.abs(x)
    half = torch.exp(ax * 0.5)
    tail = half * (half * 0.5)
    if odd:
        tail = torch.copysign(tail, x)
    return torch.where(ax > _HYPERBOLIC_TAIL.get(x.dtype, 20.0), tail, fn(x))


def _sigmoid(x: torch.Tensor) -> torch.Tensor:
    """torch.sigmoid underflows to 0 where the result is a subnormal (sigmoid(-100.0) in
    float32 is 3.7e-44): far left, sigmoid(x) is exp(x) to within rounding."""
    return torch.where(x < -40.0, torch.exp(x), torch.sigmoid(x))


def _erf(x: torch.Tensor) -> torch.Tensor:
    """torch's half-precision erf flushes tiny and subnormal inputs to 0; near 0 erf(x) is
    2x/sqrt(pi) to within rounding, computed in float32."""
    if x.dtype in _HALF:
        y = x.float()
        return torch.where(torch.abs(y) < 1e-4, y * 1.1283791670955126, torch.erf(y)).to(x.dtype)
    return torch.erf(x)


# -- elementwise, two inputs ------------------------------------------------------------------
def _integer_by_zero_is_zero(fn: Kernel, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """NumPy's integer ``//`` and ``%`` by zero give 0 (with a warning); torch raises."""
    if x.is_floating_point() or y.is_floating_point():
        return fn(x, y)
    if x.dtype is torch.bool:
        # NumPy computes bool // bool and bool % bool in int8
        x, y = x.to(torch.int8), y.to(torch.int8)
    zero = y == 0  # no `if zero.any()`: that would wait for the device
    out = fn(x, torch.where(zero, torch.ones_like(y), y))
    return torch.where(zero, torch.zeros_like(out), out)


def _remainder(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``x % y``; a zero result takes ``y``'s sign, as NumPy's and the standard's do (torch's
    keeps ``x``'s: ``-0.0 % 5.0`` is ``-0.0`` there)."""
    out = _integer_by_zero_is_zero(torch.remainder, x, y)
    if not out.is_floating_point():
        return out
    return torch.where(out == 0, torch.copysign(out, y.to(out.dtype)), out)


# Integer types by item size: `where` selects bit patterns through them.
_SAME_SIZE_INT = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def where(c: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``torch.where``, but branch-free on large CPU arrays.

    On the CPU, torch's ``where`` branches per element: with an unpredictable
    condition (a ReLU mask in a backward pass) that costs ~15 ns an element, several
    times a multiply. ``y ^ ((x ^ y) & mask)`` on the bit patterns selects the same
    values exactly (NaN payloads and -0.0 included).
    """
    if (c.dtype is not torch.bool or x.dtype != y.dtype
            or x.element_size() not in _SAME_SIZE_INT  # complex128: no 16-byte integer
            or max(c.numel(), x.numel(), y.numel()) < BIT_SELECT_MIN_SIZE
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


def _power(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if x.dtype is torch.bool:
        return torch.pow(x.to(torch.int8), y.to(torch.int8))  # NumPy: bool ** bool is int8
    return torch.pow(x, y)


# -- linear algebra ---------------------------------------------------------------------------
def _matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if x.dtype is torch.bool:  # NumPy's bool matmul is "any(x_ik and y_kj)"
        return torch.matmul(x.to(torch.int32), y.to(torch.int32)) != 0
    return torch.matmul(x, y)


def _einsum(*xs: torch.Tensor, subscripts: str) -> torch.Tensor:
    # polytape hands canonical subscripts (explicit output, no ellipsis, no broadcasting).
    if xs[0].dtype is torch.bool:  # as NumPy: a sum of bool products is "any"
        return torch.einsum(subscripts, *(x.to(torch.int32) for x in xs)) != 0
    out = torch.einsum(subscripts, *xs)
    return out if out.dtype is xs[0].dtype else out.to(xs[0].dtype)  # torch sums ints in int64


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


def _empty_masks_as_indices(index: Any) -> Any:
    """NumPy reads a boolean mask as the integer arrays of its nonzero positions, so an empty
    mask selects nothing along any axis length; torch insists on matching lengths."""
    parts = index if isinstance(index, tuple) else (index,)
    if not any(isinstance(p, torch.Tensor) and p.dtype is torch.bool and p.ndim and not p.numel()
               for p in parts):
        return index
    out: list[Any] = []
    for p in parts:
        empty = isinstance(p, torch.Tensor) and p.dtype is torch.bool and p.ndim and not p.numel()
        out.extend(torch.nonzero(p, as_tuple=True) if empty else (p,))
    return tuple(out)


def getitem(x: torch.Tensor, index: Any) -> torch.Tensor:
    """``x[index]`` with NumPy's rules, negative slice steps included (torch refuses those)."""
    index = _empty_masks_as_indices(index)
    plan = _positive_steps(x.shape, index)
    if plan is not None:
        x, index = torch.flip(x, plan[0]), plan[1]
    return x[index]  # torch follows NumPy's basic and advanced indexing rules


def index_add(base: torch.Tensor, values: torch.Tensor, index: Any) -> torch.Tensor:
    """A copy of ``base`` with ``values`` added at ``base[index]``; repeated positions add up."""
    index = _empty_masks_as_indices(index)
    plan = _positive_steps(base.shape, index)
    if plan is not None:
        flipped = index_add(torch.flip(base, plan[0]), values, plan[1])
        return torch.flip(flipped, plan[0])
    if is_basic(index):
        out = base.clone()
        out[index] += values
        return out
    # The flat position of every element `index` selects, then one index_add_ on a flat copy:
    # unlike `out[index] += values`, it accumulates positions the index names twice.
    positions = torch.arange(base.numel(), device=base.device).reshape(base.shape)[index]
    flat = base.clone(memory_format=torch.contiguous_format).reshape(-1)
    flat.index_add_(0, positions.reshape(-1), torch.broadcast_to(values, positions.shape).reshape(-1))
    return flat.reshape(base.shape)


def _sum(x: torch.Tensor, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """The shared table's ``sum`` (input dtype kept, ``axis=()`` reduces nothing) in one call
    to ``torch.sum``: every backward pass sums gradients back to their inputs' shapes, and
    the table's two Python layers over it cost as much as a small sum."""
    if axis is None:
        out = torch.sum(x, dtype=x.dtype)
        return out.reshape((1,) * x.ndim) if keepdims else out
    if axis == ():
        return x
    return torch.sum(x, axis, dtype=x.dtype, keepdim=keepdims)


def _zero(x: torch.Tensor) -> torch.Tensor:
    # softplus's 0 as a tensor on x's device: torch.logaddexp takes no Python number.
    return x.new_zeros(())


def _linspace(device: Callable[[], torch.device], start: Any, stop: Any, num: int,
              dtype: torch.dtype | None = None) -> torch.Tensor:
    # Computed in float64 on the host, then cast, as NumPy does (MPS has no float64).
    out = torch.linspace(float(start), float(stop), int(num), dtype=torch.float64)
    return out.to(device=device(), dtype=dtype or torch.float64)


# polytape's op name -> torch's function, where it is the kernel as it stands.
_NATIVE = {
    "add": torch.add, "subtract": torch.sub, "multiply": torch.mul, "divide": torch.true_divide,
    "maximum": torch.maximum, "minimum": torch.minimum, "arctan2": torch.atan2,
    "equal": torch.eq, "not_equal": torch.ne, "less": torch.lt, "less_equal": torch.le,
    "greater": torch.gt, "greater_equal": torch.ge, "logical_and": torch.logical_and,
    "logical_or": torch.logical_or, "logical_xor": torch.logical_xor,
    "erf": _erf, "sigmoid": _sigmoid,
    "sinh": partial(_hyperbolic, torch.sinh, True), "cosh": partial(_hyperbolic, torch.cosh, False),
}


def make_kernels(device: Callable[[], torch.device]) -> dict[str, Kernel]:
    """The torch backend's op-name -> kernel mapping; creation kernels put their tensors on
    ``device()`` (the device polytape's backend selection chose for this backend)."""
    return {
        **array_api_kernels(compat_torch, device=device, zero=_zero), **_NATIVE,
        "sum": _sum, "relu": _relu, "relu_backward": relu_backward, "abs": _abs, "sign": _sign,
        "power": _power, "where": where, "matmul": _matmul, "einsum": _einsum,
        "floor_divide": partial(_integer_by_zero_is_zero, torch.floor_divide),
        "remainder": _remainder, "log1p": _log1p, "arccos": _arccos,
        "getitem": getitem, "index_add": index_add, "linspace": partial(_linspace, device),
        **convolution.kernels(),  # torch's own convolutions and pooling, NHWC views
    }
