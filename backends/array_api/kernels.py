"""One kernel table for every backend, written against the Python Array API standard.

:func:`make_kernels` builds the op-name -> kernel mapping of polytape's op table from a
standard namespace ``xp``: ``array_api_compat.numpy``, ``.torch`` or ``.cupy`` for the
built-in backends (array-api-compat supplies what those libraries lack or spell
differently, and fixes torch's reductions), or a library that implements the standard
itself (``array_api_strict``). Where the standard has a function the kernel is that
function, bound to ``xp``; where it has none (``erf``, ``pad``, ``einsum``, NumPy-style
indexing, scatter-add) the kernel is built from functions it has (:mod:`.special`,
:mod:`.einsum`, :mod:`.indexing`); the ``linalg`` extension's kernels are in :mod:`.linalg`.

A backend uses this table as it is and replaces only its real differences: a fused or
native kernel (NumPy's bit-select ``where``, torch's ``threshold_backward``), a dtype
the standard lacks (bfloat16), or semantics NumPy (the reference) has and the library
does not. Kernels are module-level functions bound with :func:`functools.partial`, so
the table holds no closures.

The calling convention (``polytape.backends.base``) makes kernels simple: binary
operands share one dtype, axes are normalised, dtypes are the namespace's own.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from array_api_compat import device as device_of
from array_api_compat import is_array_api_obj

from . import einsum as _einsum
from . import indexing, special
from .linalg import linalg_kernels

__all__ = ["make_kernels", "reduction", "BIT_SELECT_MIN_SIZE"]

Kernel = Callable[..., Any]

# Below this many elements a fused bit-select ``where`` (NumPy's, torch's) is not worth its
# extra passes: the library's own branching select is as fast on arrays that fit in L1.
BIT_SELECT_MIN_SIZE = 4096


def _no_device() -> None:
    return None


# -- elementwise -------------------------------------------------------------------------------
def _identity(x: Any) -> Any:
    return x


def _zero_like(xp: Any, x: Any) -> Any:
    # A 0-d array of x's dtype on x's device, not a Python 0: NumPy < 2 would promote a 0-d
    # x next to a Python number to float64/int64, and standards before 2024.12 take no numbers.
    return xp.zeros((), dtype=x.dtype, device=device_of(x))


def _sigmoid(xp: Any, zero: Callable[[Any], Any], x: Any) -> Any:
    # exp(-log(1 + exp(-x))) never overflows, unlike 1 / (1 + exp(-x)).
    return xp.exp(-xp.logaddexp(zero(x), -x))


def _softplus(xp: Any, zero: Callable[[Any], Any], x: Any) -> Any:
    return xp.logaddexp(zero(x), x)


def _relu(xp: Any, zero: Callable[[Any], Any], x: Any) -> Any:
    return xp.maximum(x, zero(x))


def _scalar(value: Any, dtype: Any, xp: Any) -> bool | int | float:
    """``value`` as the Python scalar type the standard pairs with ``dtype``."""
    if hasattr(value, "item"):
        value = value.item()
    if dtype == xp.bool:
        return bool(value)
    if xp.isdtype(dtype, "integral"):
        return int(value)  # truncates a float fill value, as NumPy does for integer arrays
    if xp.isdtype(dtype, "complex floating"):
        return complex(value)
    return float(value)


def _clip(xp: Any, x: Any, lo: Any = None, hi: Any = None) -> Any:
    # Bounds arrive as Python numbers inside x's range; as x's dtype they cannot widen it.
    lo = None if lo is None else _scalar(lo, x.dtype, xp)
    hi = None if hi is None else _scalar(hi, x.dtype, xp)
    return xp.clip(x, lo, hi)


def _bools_as(xp: Any, logical: Kernel, fn: Kernel, x: Any, y: Any) -> Any:
    # NumPy's add/multiply/maximum/minimum of bools are or/and; the standard leaves them out.
    return logical(x, y) if x.dtype == xp.bool else fn(x, y)


def _bools_ordered(xp: Any, fn: Kernel, x: Any, y: Any) -> Any:
    # NumPy orders bools (False < True); the standard leaves their comparison out.
    if x.dtype == xp.bool:
        x, y = xp.astype(x, xp.uint8), xp.astype(y, xp.uint8)
    return fn(x, y)


def _takes_bools(fn: Kernel, xp: Any) -> bool:
    """Whether ``fn`` computes on two bool arrays (and gives bools), probed once."""
    t = xp.asarray([False, True])
    try:
        return fn(t, t).dtype == xp.bool
    except Exception:  # TypeError on array-api-strict; any refusal means "compose it"
        return False


# -- reductions (axis: None or a tuple of non-negative ints; () means reduce nothing) -----------
def _reduce(fn: Kernel, keep_dtype: bool, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    if axis == ():  # libraries disagree on axis=() (torch reduces everything, compat copies)
        return x
    if keep_dtype:  # the op table keeps the input's dtype (sum of int32 is int32); libraries widen
        return fn(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    return fn(x, axis=axis, keepdims=keepdims)


def reduction(fn: Kernel, keep_dtype: bool = False) -> Kernel:
    """A reduction kernel from ``fn(x, axis=, keepdims=[, dtype=])``: ``axis=()`` reduces
    nothing; ``keep_dtype`` computes in (and returns) the input's dtype."""
    return partial(_reduce, fn, keep_dtype)


def _arg_reduce(xp: Any, fn: Kernel, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    if isinstance(axis, tuple):
        axis = axis[0] if axis else None
    out = fn(x, axis=axis, keepdims=keepdims)
    return out if out.dtype == xp.int64 else xp.astype(out, xp.int64)


def _cumsum(xp: Any, x: Any, axis: int, reverse: bool = False) -> Any:
    if x.ndim == 0:
        return x
    if reverse:
        flipped = xp.cumulative_sum(xp.flip(x, axis=axis), axis=axis, dtype=x.dtype)
        return xp.flip(flipped, axis=axis)
    return xp.cumulative_sum(x, axis=axis, dtype=x.dtype)


# -- shapes --------------------------------------------------------------------------------------
def _expand_dims(xp: Any, x: Any, axis: int) -> Any:
    return xp.expand_dims(x, axis=axis)


def _squeeze(xp: Any, x: Any, axis: Any = None) -> Any:
    if axis is None:
        axis = tuple(i for i, n in enumerate(x.shape) if n == 1)
    return xp.squeeze(x, axis=tuple(axis) if not isinstance(axis, int) else axis) if axis != () else x


def _concat(xp: Any, *xs: Any, axis: int) -> Any:
    return xp.concat(xs, axis=axis)


def _stack(xp: Any, *xs: Any, axis: int) -> Any:
    return xp.stack(xs, axis=axis)


def _tile(xp: Any, x: Any, reps: Any) -> Any:
    return xp.tile(x, (int(reps),) if isinstance(reps, int) else tuple(int(r) for r in reps))


def _flip(xp: Any, x: Any, axis: Any = None) -> Any:
    return xp.flip(x, axis=axis)


def _pad(xp: Any, x: Any, pad_width: Any, constant_value: Any = 0) -> Any:
    """``numpy.pad`` in constant mode from ``full`` and ``concat`` (one (before, after) per axis)."""
    fill = _scalar(constant_value, x.dtype, xp)
    for axis, (before, after) in enumerate(pad_width):
        pieces = []
        for n in (before, None, after):
            if n is None:
                pieces.append(x)
            elif n:
                shape = x.shape[:axis] + (n,) + x.shape[axis + 1:]
                pieces.append(xp.full(shape, fill, dtype=x.dtype, device=device_of(x)))
        if len(pieces) > 1:
            x = xp.concat(pieces, axis=axis)
    return x


def _astype(xp: Any, complexes: Any, x: Any, dtype: Any) -> Any:
    if x.dtype == dtype:
        return x
    if x.dtype in complexes and dtype not in complexes:
        # complex -> real keeps the real part (TensorFlow's cast); the standard leaves it
        # unspecified and NumPy warns, so the real part is taken explicitly.
        x = xp.real(x)
    return xp.astype(x, dtype)


def _complex_dtypes(xp: Any) -> frozenset:
    # The dtypes arrays report (array-api-compat's NumPy names are scalar types, not dtypes).
    return frozenset(xp.empty((0,), dtype=getattr(xp, n)).dtype
                     for n in ("complex64", "complex128") if hasattr(xp, n))


def _real(xp: Any, complexes: Any, x: Any) -> Any:
    return xp.real(x) if x.dtype in complexes else x


def _imag(xp: Any, complexes: Any, x: Any) -> Any:
    if x.dtype in complexes:
        return xp.imag(x)
    return xp.zeros(x.shape, dtype=x.dtype, device=device_of(x))


def _conj(xp: Any, complexes: Any, x: Any) -> Any:
    return xp.conj(x) if x.dtype in complexes else x


def _tanh(xp: Any, complexes: Any, x: Any) -> Any:
    # tanh(+-inf + y j), y finite, is +-1 + 0j with the sign of y (the standard); NumPy's (C's)
    # takes the zero's sign from sin(2y) instead. conj flips just that sign.
    out = xp.tanh(x)
    if x.dtype not in complexes:
        return out
    im = xp.imag(x)
    flip = (xp.isinf(xp.real(x)) & xp.isfinite(im)
            & (xp.signbit(xp.imag(out)) != xp.signbit(im)))
    return xp.where(flip, xp.conj(out), out)


def _round(xp: Any, complexes: Any, x: Any) -> Any:
    # The standard rounds a complex number's parts separately; PyTorch's round refuses complex.
    if x.dtype not in complexes:
        return xp.round(x)
    return xp.astype(xp.round(xp.real(x)), x.dtype) + xp.astype(xp.round(xp.imag(x)), x.dtype) * 1j


# -- fft (attributes normalised by the front end: s and axes tuples, a norm name) -------------
def _fft(fn: Kernel, x: Any, s: Any, axes: Any, norm: str) -> Any:
    return fn(x, s=s, axes=axes, norm=norm)


def _fft_kernels(xp: Any) -> dict[str, Kernel]:
    fft = getattr(xp, "fft", None)
    if fft is None:  # a namespace without the extension: the op table's defaults say so
        return {}
    return {name: partial(_fft, getattr(fft, name)) for name in ("fftn", "ifftn", "rfftn", "irfftn")}


# -- creation: no device argument, so they ask ``device()`` (the backend's selected device) ------
def _zeros(xp: Any, device: Callable[[], Any], shape: Any, dtype: Any) -> Any:
    return xp.zeros(tuple(shape), dtype=dtype, device=device())


def _ones(xp: Any, device: Callable[[], Any], shape: Any, dtype: Any) -> Any:
    return xp.ones(tuple(shape), dtype=dtype, device=device())


def _full(xp: Any, device: Callable[[], Any], shape: Any, value: Any, dtype: Any) -> Any:
    if is_array_api_obj(value):  # a 0-d array: keep it where it is
        return xp.broadcast_to(xp.astype(value, dtype), tuple(shape))
    return xp.full(tuple(shape), _scalar(value, dtype, xp), dtype=dtype, device=device())


def _arange(xp: Any, device: Callable[[], Any], start: Any, stop: Any = None, step: Any = 1,
            dtype: Any = None) -> Any:
    return xp.arange(start, stop, step, dtype=dtype, device=device())


def _linspace(xp: Any, device: Callable[[], Any], start: Any, stop: Any, num: int,
              dtype: Any = None) -> Any:
    return xp.linspace(start, stop, int(num), dtype=dtype, device=device())


def _eye(xp: Any, device: Callable[[], Any], n: int, m: int | None = None, dtype: Any = None) -> Any:
    return xp.eye(int(n), None if m is None else int(m), dtype=dtype, device=device())


_SAME_NAME_UNARY = ("negative", "abs", "sign", "exp", "expm1", "log", "log1p", "sqrt", "square",
                    "sin", "cos", "tan", "sinh", "cosh", "floor", "ceil",
                    "logical_not")
_SAME_NAME_OTHER = ("subtract", "divide", "floor_divide", "remainder", "equal", "not_equal",
                    "logical_and", "logical_or", "logical_xor", "where", "matmul", "reshape",
                    "broadcast_to")
# The standard's elementwise functions added for issue #15, kernels of the same name.
_STANDARD_ELEMENTWISE = ("acosh", "asinh", "atanh", "log2", "log10", "logaddexp", "hypot",
                         "copysign", "reciprocal", "positive", "trunc", "signbit", "isfinite",
                         "isinf", "isnan", "nextafter", "bitwise_and", "bitwise_or", "bitwise_xor",
                         "bitwise_invert", "bitwise_left_shift", "bitwise_right_shift")
# polytape's op name -> the standard's name for the same function.
_RENAMED = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2",
            "power": "pow", "transpose": "permute_dims"}
# Ops NumPy defines on bools as logical ones (``True + True`` is ``True``).
_BOOL_AS_LOGICAL = {"add": "logical_or", "maximum": "logical_or",
                    "multiply": "logical_and", "minimum": "logical_and"}
_ORDERED = ("less", "less_equal", "greater", "greater_equal")


def make_kernels(xp: Any, device: Callable[[], Any] | None = None,
                 zero: Callable[[Any], Any] | None = None) -> dict[str, Kernel]:
    """The op-name -> kernel mapping for the standard namespace ``xp``.

    ``device()`` names where creation kernels (``zeros``, ``full``, ``arange``...) put
    their arrays: they take no device argument, so a multi-device backend passes a
    function returning the device the user selected (``None``: the library's default).
    Every other kernel keeps its inputs' device.

    ``zero(x)`` is the 0 that ``relu``, ``sigmoid`` and ``softplus`` take next to their
    input ``x``: by default a new 0-d array of ``x``'s dtype and device; a backend with a
    cheaper one (NumPy's cached read-only zeros) passes its own.
    """
    device = device or _no_device
    zero = zero or partial(_zero_like, xp)
    complexes = _complex_dtypes(xp)
    k: dict[str, Kernel] = {name: getattr(xp, name) for name in _SAME_NAME_UNARY + _SAME_NAME_OTHER}
    k.update({op: getattr(xp, name) for op, name in _RENAMED.items()})
    k.update({name: getattr(xp, name) for name in _STANDARD_ELEMENTWISE})
    for op, logical in _BOOL_AS_LOGICAL.items():
        fn = getattr(xp, op)
        k[op] = fn if _takes_bools(fn, xp) else partial(_bools_as, xp, getattr(xp, logical), fn)
    for op in _ORDERED:
        fn = getattr(xp, op)
        k[op] = fn if _takes_bools(fn, xp) else partial(_bools_ordered, xp, fn)
    k.update({
        "identity": _identity, "sigmoid": partial(_sigmoid, xp, zero),
        "softplus": partial(_softplus, xp, zero), "relu": partial(_relu, xp, zero),
        "clip": partial(_clip, xp), "erf": partial(special.erf, xp),
        "sum": reduction(xp.sum, keep_dtype=True), "prod": reduction(xp.prod, keep_dtype=True),
        "mean": reduction(xp.mean), "max": reduction(xp.max), "min": reduction(xp.min),
        "argmax": partial(_arg_reduce, xp, xp.argmax), "argmin": partial(_arg_reduce, xp, xp.argmin),
        "cumsum": partial(_cumsum, xp),
        "einsum": partial(_einsum.einsum, xp),
        "expand_dims": partial(_expand_dims, xp), "squeeze": partial(_squeeze, xp),
        "concat": partial(_concat, xp), "stack": partial(_stack, xp), "tile": partial(_tile, xp),
        "flip": partial(_flip, xp), "pad": partial(_pad, xp),
        "getitem": partial(indexing.getitem, xp), "index_add": partial(indexing.index_add, xp),
        "astype": partial(_astype, xp, complexes),
        "real": partial(_real, xp, complexes), "imag": partial(_imag, xp, complexes),
        "conj": partial(_conj, xp, complexes), "round": partial(_round, xp, complexes),
        "tanh": partial(_tanh, xp, complexes),
        "zeros": partial(_zeros, xp, device), "ones": partial(_ones, xp, device),
        "full": partial(_full, xp, device), "arange": partial(_arange, xp, device),
        "linspace": partial(_linspace, xp, device), "eye": partial(_eye, xp, device),
    })
    k.update(linalg_kernels(xp))
    k.update(_fft_kernels(xp))
    return k

