"""Elementwise ops: one input (``exp``, ``sin``...), two broadcasting inputs (``add``,
``maximum``...), comparisons and logic, ``where``, ``clip`` and casts.

Most are built by :func:`polytape.dispatch.public_op` from the op table's entry (the
bodies are dispatch's hot path); the rest normalise their operands first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .arguments import number
from .creation import constant, to_backend
from .dispatch import (
    _mismatch,
    binary_function,
    binary_operands,
    complex_refused,
    float_array,
    operands,
    public_op,
    run,
    unary_function,
    unary_operand,
)
from .dtypes import as_dtype, float32, float64
from .errors import ArgumentTypeError, DTypeError
from .optable import OPS
from .tensor import Tensor, Variable, wrap

__all__ = [
    "negative", "abs", "sign", "exp", "expm1", "log", "log1p", "sqrt", "square", "sin", "cos",
    "tan", "tanh", "sinh", "cosh", "arcsin", "arccos", "arctan", "erf", "sigmoid", "relu",
    "relu_backward", "softplus", "floor", "ceil", "round", "logical_not", "identity",
    "add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "arctan2",
    "floor_divide", "remainder", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "logical_and", "logical_or", "logical_xor", "where", "clip",
    "cast", "astype", "stop_gradient", "acos", "asin", "atan", "atan2", "pow",
    "acosh", "asinh", "atanh", "log2", "log10", "reciprocal", "positive", "real", "conj", "imag",
    "trunc", "signbit", "isfinite", "isinf", "isnan", "logaddexp", "hypot", "copysign",
    "nextafter",
]


_UNARY = {  # name -> docstring; the body is dispatch.unary_function
    "negative": "Elementwise ``-x``.",
    "abs": "Elementwise absolute value.",
    "sign": "Elementwise sign (-1, 0 or 1); not differentiable.",
    "exp": "Elementwise ``e**x``.",
    "expm1": "Elementwise ``exp(x) - 1``, accurate near 0.",
    "log": "Elementwise natural logarithm.",
    "log1p": "Elementwise ``log(1 + x)``, accurate near 0.",
    "sqrt": "Elementwise square root.",
    "square": "Elementwise ``x * x``.",
    "sin": "Elementwise sine.",
    "cos": "Elementwise cosine.",
    "tan": "Elementwise tangent.",
    "tanh": "Elementwise hyperbolic tangent.",
    "sinh": "Elementwise hyperbolic sine.",
    "cosh": "Elementwise hyperbolic cosine.",
    "arcsin": "Elementwise inverse sine.",
    "arccos": "Elementwise inverse cosine.",
    "arctan": "Elementwise inverse tangent.",
    "erf": "Elementwise Gauss error function.",
    "sigmoid": "Elementwise logistic function ``1 / (1 + exp(-x))``.",
    "relu": "Elementwise ``max(x, 0)``; its gradient at 0 is 0.",
    "softplus": "Elementwise ``log(1 + exp(x))``.",
    "floor": "Elementwise floor; not differentiable.",
    "ceil": "Elementwise ceiling; not differentiable.",
    "round": "Elementwise round half to even (complex: each part); not differentiable.",
    "identity": "``x`` itself, as a new tensor (recorded, so gradients pass).",
}

_BINARY = {  # name -> docstring; the body is dispatch.binary_function
    "add": "Elementwise ``x + y`` with NumPy broadcasting.",
    "subtract": "Elementwise ``x - y`` with NumPy broadcasting.",
    "multiply": "Elementwise ``x * y`` with NumPy broadcasting.",
    "power": "Elementwise ``x ** y`` with NumPy broadcasting.",
    "maximum": "Elementwise maximum; on ties the gradient goes to ``x``.",
    "minimum": "Elementwise minimum; on ties the gradient goes to ``x``.",
    "floor_divide": "Elementwise ``x // y``; not differentiable.",
    "remainder": "Elementwise ``x % y`` (sign of ``y``); not differentiable.",
    "equal": "Elementwise ``x == y`` (bool).",
    "not_equal": "Elementwise ``x != y`` (bool).",
    "less": "Elementwise ``x < y`` (bool).",
    "less_equal": "Elementwise ``x <= y`` (bool).",
    "greater": "Elementwise ``x > y`` (bool).",
    "greater_equal": "Elementwise ``x >= y`` (bool).",
}

(negative, abs, sign, exp, expm1, log, log1p, sqrt, square, sin, cos, tan, tanh, sinh, cosh,
 arcsin, arccos, arctan, erf, sigmoid, relu, softplus, floor, ceil, round, identity) = (
    public_op(name, doc, unary_function) for name, doc in _UNARY.items())
(add, subtract, multiply, power, maximum, minimum, floor_divide, remainder, equal, not_equal, less,
 less_equal, greater, greater_equal) = (
    public_op(name, doc, binary_function) for name, doc in _BINARY.items())

relu_backward = public_op("relu_backward", """The gradient of :func:`relu`: ``g`` where ``x > 0``, else 0.

``relu``'s backward pass runs this one op (PyTorch's ``threshold_backward``); it is 0
at ``x == 0`` and where ``x`` is NaN. ``g`` and ``x`` broadcast together. It is linear
in ``g`` and has no gradient with respect to ``x``.

>>> pt.relu_backward(pt.constant([5.0, 6.0, 7.0]), pt.constant([-1.0, 0.0, 2.0])).numpy()
array([0., 0., 7.])
""", binary_function)
_arctan2 = public_op("arctan2", "", binary_function)  # the bodies of arctan2 and divide
_divide = public_op("divide", "", binary_function)


def arctan2(y: Any, x: Any) -> Tensor:
    """Elementwise angle of the point ``(x, y)``; float inputs only."""
    return _arctan2(_floating(y), _floating(x))


def divide(x: Any, y: Any) -> Tensor:
    """Elementwise true division ``x / y``.

    Integers divide to floats as in TensorFlow: int8, int16, uint8 and bool give
    float32; int32 and int64 give float64.
    """
    if isinstance(x, Tensor) and isinstance(y, Tensor) and x._data.dtype in x._backend.float_natives \
            and y._data.dtype == x._data.dtype:
        return _divide(x, y)
    be, x2, y2, a, b = binary_operands("divide", x, y)
    dt = be.canonical[a.dtype]
    if dt.kind not in "fc":
        target = be.native_dtypes[float64 if dt.bits >= 32 else float32]
        cast = be.kernels["astype"]
        a, b = cast(a, target), cast(b, target)
    return run(OPS["divide"], be, (x2, y2), (a, b))


def _floating(x: Any) -> Any:
    t = unary_operand(x)
    return t if t.dtype.is_inexact else cast(t, float32)


def _logical(op: Any) -> Any:
    def fn(x: Any, y: Any) -> Tensor:
        be, x, y, a, b = binary_operands(op.name, x, y)
        native = be.native_dtypes[as_dtype("bool")]
        cast_ = be.kernels["astype"]
        return run(op, be, (x, y), (cast_(a, native), cast_(b, native)))
    return fn


logical_and = public_op("logical_and", "Elementwise logical and (inputs cast to bool).", _logical)
logical_or = public_op("logical_or", "Elementwise logical or (inputs cast to bool).", _logical)
logical_xor = public_op("logical_xor", "Elementwise logical xor (inputs cast to bool).", _logical)


def logical_not(x: Any) -> Tensor:
    """Elementwise logical not (input cast to bool)."""
    x = unary_operand(x)
    be = x._backend
    return run(OPS["logical_not"], be, (x,),
               (be.kernels["astype"](x._data, be.native_dtypes[as_dtype("bool")]),))


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` is true, else ``y`` (all three broadcast together)."""
    be, (xi, yi), (a, b) = operands("where", (x, y))
    if not isinstance(condition, Tensor):
        condition = unary_operand(condition) if not isinstance(condition, (list, np.ndarray)) \
            else constant(condition, backend=be)
    c = condition._data
    bool_native = be.native_dtypes[as_dtype("bool")]
    if c.dtype != bool_native:
        c = be.kernels["astype"](c, bool_native)
    if condition._backend is not be:
        raise _mismatch("where", xi, condition)
    return run(OPS["where"], be, (condition, xi, yi), (c, a, b))


def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002  (Array API names)
    """``x`` limited to ``[min, max]``; either bound may be None (unbounded on that side).

    The gradient passes where ``min <= x <= max``, bounds included (TensorFlow's
    ``clip_by_value`` rule). Number bounds are attributes of one ``clip`` op; tensor
    bounds broadcast against ``x`` and are differentiable (the op is then ``maximum``
    and ``minimum``). The result has ``x``'s dtype, except that an integer ``x`` with a
    fractional bound is clipped as float32 (the weak-scalar rule).

    >>> import polytape as pt
    >>> pt.clip(pt.constant([-2.0, 0.5, 3.0]), 0.0, 1.0).numpy().tolist()
    [0.0, 0.5, 1.0]
    """
    x = unary_operand(x)
    if x.dtype.kind == "b":
        raise DTypeError("clip: cannot clip a bool tensor")
    for what, b in (("min", min), ("max", max)):
        if b is not None and not isinstance(b, (int, float, np.number, Tensor, list, tuple, np.ndarray)) \
                or isinstance(b, (bool, np.bool_)):
            raise ArgumentTypeError(
                f"clip: {what} must be a number or a tensor, got {type(b).__name__} {b!r}")
    if any(b is not None and not isinstance(b, (int, float, np.number)) for b in (min, max)):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return cast(out, x.dtype) if out.dtype is not x.dtype else out
    lo = None if min is None else number("clip", "min", min)
    hi = None if max is None else number("clip", "max", max)
    if lo is None and hi is None:
        return x
    be, a = x._backend, x._data
    kind = be.canonical[a.dtype].kind
    if kind == "c":
        raise complex_refused("clip", be.canonical[a.dtype])
    if kind != "f" and any(isinstance(b, float) and not b.is_integer() for b in (lo, hi)):
        a = float_array(be, a)
    elif kind != "f":  # integer bounds, pulled into the dtype's range so they never overflow it
        info = np.iinfo(be.canonical[a.dtype].name)
        lo, hi = (None if b is None else int(np.clip(b, info.min, info.max)) for b in (lo, hi))
    else:
        lo, hi = (None if b is None else float(b) for b in (lo, hi))
    return run(OPS["clip"], be, (x,), (a,), {"lo": lo, "hi": hi})


def cast(x: Any, dtype: Any) -> Tensor:
    """``x`` converted to ``dtype``; gradients flow back through float-to-float casts.

    >>> import polytape as pt
    >>> pt.cast(pt.constant([1.7, -1.7]), pt.int32).numpy()
    array([ 1, -1], dtype=int32)
    """
    x = unary_operand(x)
    try:
        dt = as_dtype(dtype)
        native = x._backend.native_dtype(dt)
    except DTypeError as exc:
        raise DTypeError(f"cast: {exc}") from None
    be = x._backend
    if x._data.dtype == native:
        return x
    return run(OPS["astype"], be, (x,), (x._data,), {"dtype": native})


def astype(x: Any, dtype: Any, /, *, copy: bool = True, device: str | None = None) -> Tensor:
    """The standard's ``astype``: :func:`cast`, then to ``device`` when given.

    ``copy=True`` with ``x``'s own dtype returns a tensor that does not follow later
    assignments to a :class:`~polytape.Variable` ``x``; tensors are immutable, so for
    them a copy and ``x`` itself cannot be told apart.
    """
    out = cast(x, dtype)
    if copy and out is x and isinstance(x, Variable):
        out = identity(x)
    if device is not None:
        out = to_backend(out, out._backend, device)
    return out


def stop_gradient(x: Any) -> Tensor:
    """``x``'s value with no gradient: tapes do not see through it."""
    x = unary_operand(x)
    return wrap(x._data, x._backend)


# -- the Array API standard's spellings of the ops above ----------------------------------------
acos = arccos
asin = arcsin
atan = arctan
atan2 = arctan2
pow = power  # noqa: A001  (the standard's name)


# -- the Array API standard's elementwise functions (issue #15) ----------------------------------
_UNARY_STANDARD = {
    "acosh": "Elementwise inverse hyperbolic cosine (``x >= 1``).",
    "asinh": "Elementwise inverse hyperbolic sine.",
    "atanh": "Elementwise inverse hyperbolic tangent (``-1 < x < 1``).",
    "log2": "Elementwise base-2 logarithm.",
    "log10": "Elementwise base-10 logarithm.",
    "reciprocal": "Elementwise ``1 / x``; integers give float32.",
    "positive": "Elementwise ``+x`` (a new tensor, recorded).",
    "real": "The real part (complex64 -> float32, complex128 -> float64); ``x`` itself for real "
            "dtypes.",
    "conj": "The complex conjugate; ``x`` itself for real dtypes.",
    "imag": "The imaginary part (complex64 -> float32); zeros of ``x``'s dtype for real dtypes.",
    "trunc": "Elementwise rounding toward zero; not differentiable.",
    "signbit": "Elementwise: is the sign bit set (true for -0.0)? Bool, not differentiable.",
    "isfinite": "Elementwise: is ``x`` finite? Bool, not differentiable.",
    "isinf": "Elementwise: is ``x`` infinite? Bool, not differentiable.",
    "isnan": "Elementwise: is ``x`` NaN? Bool, not differentiable.",
}
(acosh, asinh, atanh, log2, log10, reciprocal, positive, real, conj, imag, trunc, signbit,
 isfinite, isinf, isnan) = (public_op(name, doc, unary_function)
                            for name, doc in _UNARY_STANDARD.items())
_logaddexp = public_op("logaddexp", "", binary_function)
_hypot = public_op("hypot", "", binary_function)
_copysign = public_op("copysign", "", binary_function)
_nextafter = public_op("nextafter", "", binary_function)


def logaddexp(x1: Any, x2: Any, /) -> Tensor:
    """Elementwise ``log(exp(x1) + exp(x2))`` without overflow; integers give float32.

    >>> import polytape as pt
    >>> print(f"{float(pt.logaddexp(pt.constant(1000.0), pt.constant(1000.0))):.2f}")
    1000.69
    """
    return _logaddexp(_floating(x1), _floating(x2))


def hypot(x1: Any, x2: Any, /) -> Tensor:
    """Elementwise ``sqrt(x1**2 + x2**2)`` without overflow; integers give float32."""
    return _hypot(_floating(x1), _floating(x2))


def copysign(x1: Any, x2: Any, /) -> Tensor:
    """Elementwise ``|x1|`` with the sign of ``x2``. The gradient reaches ``x1`` only."""
    return _copysign(_floating(x1), _floating(x2))


def nextafter(x1: Any, x2: Any, /) -> Tensor:
    """Elementwise the next representable float after ``x1`` toward ``x2``; not differentiable."""
    return _nextafter(_floating(x1), _floating(x2))
