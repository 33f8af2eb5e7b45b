"""polytape's public ops (Array API names): ``pt.exp``, ``pt.sum``, ``pt.matmul``, ...

Each function prepares operands (one backend, one dtype, normalised attributes)
and hands them to :func:`polytape.dispatch.run`; the derivative rules live in
:mod:`polytape.derivatives`. This module is also the namespace those rules
compute with when an outer tape records a backward pass, so every name a rule
uses exists here with the kernel's signature.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import derivatives  # noqa: F401  (fills the op table)
from .creation import full_like, ones_like, zeros_like
from .dispatch import binary_operands, float_array, operands, run, unary_operand
from .dtypes import as_dtype, float32, float64
from .errors import DTypeError, ShapeError
from .optable import OPS
from .tensor import Tensor

__all__ = [
    # elementwise
    "negative", "abs", "sign", "exp", "expm1", "log", "log1p", "sqrt", "square", "sin", "cos",
    "tan", "tanh", "sinh", "cosh", "arcsin", "arccos", "arctan", "erf", "sigmoid", "relu",
    "relu_backward", "softplus", "floor", "ceil", "round", "logical_not", "identity",
    "add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "arctan2",
    "floor_divide", "remainder", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "logical_and", "logical_or", "logical_xor", "where",
    # reductions, linear algebra, shapes
    "sum", "mean", "max", "min", "matmul", "reshape", "transpose", "permute_dims",
    "broadcast_to", "expand_dims", "squeeze", "concat", "stack", "getitem", "index_add",
    "cast", "astype", "stop_gradient", "zeros_like", "ones_like", "full_like",
    # the rest of the op set: more elementwise math, reductions, linear algebra, shapes, creation
    "clip", "prod", "var", "std", "logsumexp", "argmax", "argmin", "cumsum", "softmax",
    "log_softmax", "norm", "tensordot", "einsum", "tile", "pad", "flip", "split", "take", "gather",
    "arange", "linspace", "eye",
]


def _unary(name: str, doc: str, float_only: bool = True) -> Callable[[Any], Tensor]:
    # The body is dispatch's hot path (kernel call, Tensor, recording inlined: no per-call hops).
    from .dispatch import unary_function

    fn = unary_function(OPS[name], float_only)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _binary(name: str, doc: str) -> Callable[[Any, Any], Tensor]:
    from .dispatch import binary_function

    fn = binary_function(OPS[name])
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


negative = _unary("negative", "Elementwise ``-x``.", float_only=False)
abs = _unary("abs", "Elementwise absolute value.", float_only=False)
sign = _unary("sign", "Elementwise sign (-1, 0 or 1); not differentiable.", float_only=False)
exp = _unary("exp", "Elementwise ``e**x``.")
expm1 = _unary("expm1", "Elementwise ``exp(x) - 1``, accurate near 0.")
log = _unary("log", "Elementwise natural logarithm.")
log1p = _unary("log1p", "Elementwise ``log(1 + x)``, accurate near 0.")
sqrt = _unary("sqrt", "Elementwise square root.")
square = _unary("square", "Elementwise ``x * x``.", float_only=False)
sin = _unary("sin", "Elementwise sine.")
cos = _unary("cos", "Elementwise cosine.")
tan = _unary("tan", "Elementwise tangent.")
tanh = _unary("tanh", "Elementwise hyperbolic tangent.")
sinh = _unary("sinh", "Elementwise hyperbolic sine.")
cosh = _unary("cosh", "Elementwise hyperbolic cosine.")
arcsin = _unary("arcsin", "Elementwise inverse sine.")
arccos = _unary("arccos", "Elementwise inverse cosine.")
arctan = _unary("arctan", "Elementwise inverse tangent.")
erf = _unary("erf", "Elementwise Gauss error function.")
sigmoid = _unary("sigmoid", "Elementwise logistic function ``1 / (1 + exp(-x))``.")
relu = _unary("relu", "Elementwise ``max(x, 0)``; its gradient at 0 is 0.", float_only=False)
softplus = _unary("softplus", "Elementwise ``log(1 + exp(x))``.")
floor = _unary("floor", "Elementwise floor; not differentiable.", float_only=False)
ceil = _unary("ceil", "Elementwise ceiling; not differentiable.", float_only=False)
round = _unary("round", "Elementwise round half to even; not differentiable.", float_only=False)
identity = _unary("identity", "``x`` itself, as a new tensor (recorded, so gradients pass).",
                  float_only=False)

add = _binary("add", "Elementwise ``x + y`` with NumPy broadcasting.")
subtract = _binary("subtract", "Elementwise ``x - y`` with NumPy broadcasting.")
multiply = _binary("multiply", "Elementwise ``x * y`` with NumPy broadcasting.")
power = _binary("power", "Elementwise ``x ** y`` with NumPy broadcasting.")
maximum = _binary("maximum", "Elementwise maximum; on ties the gradient goes to ``x``.")
minimum = _binary("minimum", "Elementwise minimum; on ties the gradient goes to ``x``.")
floor_divide = _binary("floor_divide", "Elementwise ``x // y``; not differentiable.")
remainder = _binary("remainder", "Elementwise ``x % y`` (sign of ``y``); not differentiable.")
equal = _binary("equal", "Elementwise ``x == y`` (bool).")
not_equal = _binary("not_equal", "Elementwise ``x != y`` (bool).")
less = _binary("less", "Elementwise ``x < y`` (bool).")
less_equal = _binary("less_equal", "Elementwise ``x <= y`` (bool).")
greater = _binary("greater", "Elementwise ``x > y`` (bool).")
greater_equal = _binary("greater_equal", "Elementwise ``x >= y`` (bool).")
relu_backward = _binary("relu_backward", """The gradient of :func:`relu`: ``g`` where ``x > 0``, else 0.

``relu``'s backward pass runs this one op (PyTorch's ``threshold_backward``); it is 0
at ``x == 0`` and where ``x`` is NaN. ``g`` and ``x`` broadcast together. It is linear
in ``g`` and has no gradient with respect to ``x``.

>>> pt.relu_backward(pt.constant([5.0, 6.0, 7.0]), pt.constant([-1.0, 0.0, 2.0])).numpy()
array([0., 0., 7.])
""")
_arctan2 = _binary("arctan2", "")
_divide = _binary("divide", "")


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
    if dt.kind != "f":
        target = be.native_dtypes[float64 if dt.bits >= 32 else float32]
        cast = be.kernels["astype"]
        a, b = cast(a, target), cast(b, target)
    return run(OPS["divide"], be, (x2, y2), (a, b))


def _floating(x: Any) -> Any:
    t = unary_operand(x)
    return t if t.dtype.is_floating else cast(t, float32)


def _logical(name: str, doc: str) -> Callable[..., Tensor]:
    op = OPS[name]

    def fn(x: Any, y: Any) -> Tensor:
        be, x, y, a, b = binary_operands(name, x, y)
        native = be.native_dtypes[as_dtype("bool")]
        cast_ = be.kernels["astype"]
        return run(op, be, (x, y), (cast_(a, native), cast_(b, native)))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


logical_and = _logical("logical_and", "Elementwise logical and (inputs cast to bool).")
logical_or = _logical("logical_or", "Elementwise logical or (inputs cast to bool).")
logical_xor = _logical("logical_xor", "Elementwise logical xor (inputs cast to bool).")


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
            else _to(condition, be)
    c = condition._data
    bool_native = be.native_dtypes[as_dtype("bool")]
    if c.dtype != bool_native:
        c = be.kernels["astype"](c, bool_native)
    if condition._backend is not be:
        from .dispatch import _mismatch

        raise _mismatch("where", xi, condition)
    return run(OPS["where"], be, (condition, xi, yi), (c, a, b))


def _to(value: Any, be: Any) -> Tensor:
    from .creation import constant

    return constant(value, backend=be)


# -- reductions ------------------------------------------------------------------------------
def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """``None`` or a tuple of distinct non-negative axes; :class:`ShapeError` when out of range."""
    if axis is None:
        return None
    bad = DTypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
    if isinstance(axis, (int, np.integer, Tensor)):
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
        if not -ndim <= a < builtins.max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor of rank {ndim}")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    if ndim == 0:
        return ()
    return tuple(out)


def _reduction(name: str, doc: str, to_float: bool = False) -> Callable[..., Tensor]:
    op = OPS[name]

    def fn(x: Any, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        x = unary_operand(x)
        be = x._backend
        a = x._data
        kind = be.canonical[a.dtype].kind
        if to_float and kind != "f":
            a = float_array(be, a)
        elif kind == "b" and name in ("sum", "prod"):
            a = be.kernels["astype"](a, be.native_dtypes[as_dtype("int32")])
        axes = normalize_axis(axis, len(a.shape), name)
        if axes is not None and len(axes) == len(a.shape) and not keepdims:
            axes = None
        return run(op, be, (x,), (a,), {"axis": axes, "keepdims": bool(keepdims)})

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


sum = _reduction("sum", "Sum over ``axis`` (all axes when None); bool sums to int32, "
                 "integers keep their dtype.")
mean = _reduction("mean", "Mean over ``axis`` (all axes when None); integers give float32.",
                  to_float=True)
max = _reduction("max", "Maximum over ``axis``; ties share the gradient evenly (as in TensorFlow).")
min = _reduction("min", "Minimum over ``axis``; ties share the gradient evenly (as in TensorFlow).")


# -- linear algebra ------------------------------------------------------------------------------
def matmul(x: Any, y: Any) -> Tensor:
    """Matrix product with NumPy's rules (1-d operands, broadcast batch dimensions)."""
    be, x, y, a, b = binary_operands("matmul", x, y)
    if not a.shape or not b.shape:
        raise ShapeError(f"matmul: operands must have at least one dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    ka = a.shape[-1]
    kb = b.shape[-2] if len(b.shape) > 1 else b.shape[0]
    if ka != kb:
        raise ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not fit "
                         f"(inner dimensions {ka} and {kb} differ)")
    return run(OPS["matmul"], be, (x, y), (a, b))


# -- shapes ----------------------------------------------------------------------------------------
def _shape_arg(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` with a new shape of the same size (one dimension may be -1)."""
    x = unary_operand(x)
    new = _shape_arg(shape)
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


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` broadcast to ``shape`` with NumPy's rules."""
    x = unary_operand(x)
    new = _shape_arg(shape)
    try:
        np.broadcast_shapes(x.shape, new)
        ok = len(new) >= x.ndim and np.broadcast_shapes(x.shape, new) == new
    except ValueError:
        ok = False
    if not ok:
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {new}")
    return run(OPS["broadcast_to"], x._backend, (x,), (x._data,), {"shape": new})


def expand_dims(x: Any, axis: int) -> Tensor:
    """``x`` with a new axis of size 1 at ``axis`` (negative counts from the end of the result)."""
    x = unary_operand(x)
    n = x.ndim + 1
    if not isinstance(axis, (int, np.integer)) or not -n <= axis < n:
        raise ShapeError(f"expand_dims: axis {axis!r} is out of range for a result of rank {n}")
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
    if not isinstance(axis, (int, np.integer)) or not -n <= axis < builtins.max(n, 1):
        raise ShapeError(f"{name}: axis {axis!r} is out of range for rank {ndim} inputs")
    axis = int(axis) % n
    shapes = [tuple(a.shape) for a in arrays]
    for s in shapes[1:]:
        same = s == shapes[0] if extra else (
            len(s) == ndim and all(d == e for i, (d, e) in enumerate(zip(s, shapes[0])) if i != axis))
        if not same:
            raise ShapeError(f"{name}: shapes {shapes} do not fit along axis {axis}")
    return run(OPS[name], be, ts, arrays, {"axis": axis})


def concat(values: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
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
            raise DTypeError(f"getitem: index lives on backend {p.backend!r}, the tensor on "
                             f"{be.name!r}")
        if p.dtype.kind not in "iub":
            raise DTypeError(f"getitem: index tensors must be integer or bool, got {p.dtype}")
        return p._data if p.ndim else int(p)
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


# -- dtypes and gradients ------------------------------------------------------------------------
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


astype = cast


def stop_gradient(x: Any) -> Tensor:
    """``x``'s value with no gradient: tapes do not see through it."""
    x = unary_operand(x)
    from .tensor import wrap

    return wrap(x._data, x._backend)


# == the rest of the op set ======================================================================
# Each function below is either a primitive (a kernel plus rules in polytape.derivatives) or, where
# that keeps the derivatives exact and twice differentiable with no kernel for backends to write,
# a composition of other polytape ops; the comment on each says which and why.

def _number(op: str, what: str, value: Any) -> Any:
    if isinstance(value, Tensor) and value.ndim == 0:
        value = value.numpy().item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DTypeError(f"{op}: {what} must be a number, got {type(value).__name__} {value!r}")
    return value


def _int_arg(op: str, what: str, value: Any) -> int:
    if isinstance(value, Tensor) and value.ndim == 0 and value.dtype.kind in "iu":
        value = int(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise DTypeError(f"{op}: {what} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def _one_axis(op: str, axis: Any, ndim: int) -> int:
    a = _int_arg(op, "axis", axis)
    if ndim == 0:
        raise ShapeError(f"{op}: axis {a} is out of range for a 0-d tensor")
    return normalize_axis(a, ndim, op)[0]


# -- elementwise ------------------------------------------------------------------------------------
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
            raise DTypeError(f"clip: {what} must be a number or a tensor, got {type(b).__name__} {b!r}")
    if any(b is not None and not isinstance(b, (int, float, np.number)) for b in (min, max)):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return cast(out, x.dtype) if out.dtype is not x.dtype else out
    lo = None if min is None else _number("clip", "min", min)
    hi = None if max is None else _number("clip", "max", max)
    if lo is None and hi is None:
        return x
    be, a = x._backend, x._data
    kind = be.canonical[a.dtype].kind
    if kind != "f" and any(isinstance(b, float) and not b.is_integer() for b in (lo, hi)):
        a = float_array(be, a)
    elif kind != "f":  # integer bounds, pulled into the dtype's range so they never overflow it
        info = np.iinfo(be.canonical[a.dtype].name)
        lo, hi = (None if b is None else int(builtins.min(builtins.max(b, info.min), info.max))
                  for b in (lo, hi))
    else:
        lo, hi = (None if b is None else float(b) for b in (lo, hi))
    return run(OPS["clip"], be, (x,), (a,), {"lo": lo, "hi": hi})


# -- reductions ---------------------------------------------------------------------------------------
prod = _reduction("prod", "Product over ``axis`` (all axes when None); bool gives int32.\n\n"
                  "Its gradient is exact with zeros in the input (the product of the other "
                  "entries), not ``prod / x``.")
logsumexp = _reduction("logsumexp", "``log(sum(exp(x)))`` over ``axis``, computed without "
                       "overflow; integers give float32.", to_float=True)


def _variance(op: str, x: Any, axis: Any, correction: Any, keepdims: bool) -> Tensor:
    # A composition (mean, subtract, multiply, sum): exact first and second derivatives come from
    # those ops, and no backend needs a kernel. Two passes, as any numerically stable variance.
    x = unary_operand(x)
    axes = normalize_axis(axis, x.ndim, op)
    correction = _number(op, "correction", correction)
    if not x.dtype.is_floating:
        x = cast(x, float32)
    n = math.prod(x.shape[i] for i in (range(x.ndim) if axes is None else axes))
    d = x - mean(x, axis=axes, keepdims=True)
    return sum(d * d, axis=axes, keepdims=keepdims) / builtins.max(n - correction, 0)


def var(x: Any, axis: int | Sequence[int] | None = None, correction: float = 0.0,
        keepdims: bool = False) -> Tensor:
    """Variance over ``axis`` (all axes when None), dividing by ``n - correction``.

    ``correction=0`` is the population variance (NumPy's and TensorFlow's default),
    ``correction=1`` the sample variance. Integers give float32.
    """
    return _variance("var", x, axis, correction, keepdims)


def std(x: Any, axis: int | Sequence[int] | None = None, correction: float = 0.0,
        keepdims: bool = False) -> Tensor:
    """Standard deviation: the square root of :func:`var` (a composition). Its gradient is
    infinite where the variance is 0 (e.g. a single element), as in NumPy-based frameworks."""
    return sqrt(_variance("std", x, axis, correction, keepdims))


def _arg_reduction(name: str, doc: str) -> Callable[..., Tensor]:
    op = OPS[name]

    def fn(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
        x = unary_operand(x)
        be, a = x._backend, x._data
        if be.canonical[a.dtype].kind == "b":
            a = be.kernels["astype"](a, be.native_dtypes[as_dtype("int32")])
        ax = None
        if axis is not None:
            ax = _int_arg(name, "axis", axis)
            axes = normalize_axis(ax, len(a.shape), name)
            ax = axes[0] if axes else None
        return run(op, be, (x,), (a,), {"axis": ax, "keepdims": bool(keepdims)})

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


argmax = _arg_reduction("argmax", "Index (int64) of the first maximum along ``axis`` (of the "
                        "flattened tensor when None); not differentiable.")
argmin = _arg_reduction("argmin", "Index (int64) of the first minimum along ``axis`` (of the "
                        "flattened tensor when None); not differentiable.")


def cumsum(x: Any, axis: int | None = None, reverse: bool = False) -> Tensor:
    """Running sum along ``axis`` (of the flattened tensor when None, as in NumPy).

    ``reverse=True`` sums from the end (TensorFlow's ``reverse``). Bool gives int32;
    other dtypes are kept.

    >>> import polytape as pt
    >>> pt.cumsum(pt.constant([1.0, 2.0, 3.0])).numpy().tolist()
    [1.0, 3.0, 6.0]
    """
    x = unary_operand(x)
    if axis is None:
        x, ax = reshape(x, (-1,)), 0
    else:
        ax = _one_axis("cumsum", axis, x.ndim)
    be, a = x._backend, x._data
    if be.canonical[a.dtype].kind == "b":
        a = be.kernels["astype"](a, be.native_dtypes[as_dtype("int32")])
    return run(OPS["cumsum"], be, (x,), (a,), {"axis": ax, "reverse": bool(reverse)})


def _softmax_like(name: str, doc: str) -> Callable[..., Tensor]:
    op = OPS[name]

    def fn(x: Any, axis: int | Sequence[int] | None = -1) -> Tensor:
        x = unary_operand(x)
        if x.ndim == 0:
            raise ShapeError(f"{name}: needs a tensor with at least one dimension, got a 0-d one")
        axes = normalize_axis(axis, x.ndim, name)
        if axes is None:
            axes = tuple(range(x.ndim))
        be = x._backend
        return run(op, be, (x,), (float_array(be, x._data),), {"axis": axes})

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


softmax = _softmax_like("softmax", "``exp(x) / sum(exp(x))`` along ``axis`` (the last by default), "
                        "computed without overflow; integers give float32.")
log_softmax = _softmax_like("log_softmax", "``x - logsumexp(x)`` along ``axis`` (the last by "
                            "default); integers give float32.")


def norm(x: Any, ord: Any = None, axis: int | Sequence[int] | None = None,  # noqa: A002
         keepdims: bool = False) -> Tensor:
    """Vector or matrix norm, as ``tf.norm`` / ``numpy.linalg.norm``.

    * ``axis`` None or one axis: a vector norm (of all entries when None).
      ``ord`` None, 2, ``"euclidean"`` or ``"fro"``: the 2-norm; 1; ``inf``; ``-inf``;
      0 (count of non-zeros, not differentiable); any other ``p > 0``:
      ``sum(|x|**p)**(1/p)``.
    * ``axis`` a pair: a matrix norm. ``ord`` None/``"fro"``/``"euclidean"``: Frobenius;
      1 / -1: largest / smallest absolute column sum; ``inf`` / ``-inf``: row sums.
      2, -2 and ``"nuc"`` need singular values and raise :class:`InvalidArgumentError`.

    The gradient of the 2-norm (and p-norms) at zero is 0, a subgradient (as in
    PyTorch), rather than TensorFlow's NaN. Integers give float32.
    """
    # A composition of abs/sum/max/sqrt/power: exact, twice differentiable, no kernel to write.
    from .errors import InvalidArgumentError

    x = unary_operand(x)
    if not x.dtype.is_floating:
        x = cast(x, float32)
    axes = normalize_axis(axis, x.ndim, "norm")
    if axes is None:
        axes = tuple(range(x.ndim))
        matrix = False
    elif len(axes) == 2:
        matrix = True
    elif len(axes) == 1:
        matrix = False
    else:
        raise ShapeError(f"norm: axis must be None, one axis or a pair of axes, got {axis!r}")
    if ord in (None, "euclidean", "fro") or (ord == 2 and not matrix):
        return _root_of_sum(x * x, 2, axes, keepdims)
    if not matrix:
        if isinstance(ord, str):
            raise InvalidArgumentError(f"norm: unknown ord {ord!r} for a vector norm")
        if ord == np.inf:
            return max(abs(x), axis=axes, keepdims=keepdims)
        if ord == -np.inf:
            return min(abs(x), axis=axes, keepdims=keepdims)
        if ord == 1:
            return sum(abs(x), axis=axes, keepdims=keepdims)
        if ord == 0:
            return sum(cast(not_equal(x, 0.0), x.dtype), axis=axes, keepdims=keepdims)
        p = _number("norm", "ord", ord)
        if p < 0:
            raise InvalidArgumentError(f"norm: ord must be positive, inf or -inf, got {ord!r}")
        return _root_of_sum(abs(x) ** p, p, axes, keepdims)
    rows, cols = axes
    if ord in (1, -1):
        inner, outer = rows, cols
    elif ord in (np.inf, -np.inf):
        inner, outer = cols, rows
    else:
        raise InvalidArgumentError(
            f"norm: matrix norm ord={ord!r} needs singular values, which polytape does not "
            "provide; use ord='fro', 1, -1, inf or -inf")
    sums = sum(abs(x), axis=inner, keepdims=True)
    pick = max if ord in (1, np.inf) else min
    out = pick(sums, axis=outer, keepdims=True)
    return out if keepdims else squeeze(out, axes)


def _root_of_sum(powers: Tensor, p: float, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    # sum(...) ** (1/p) with the gradient at 0 taken as 0: the inner `where` keeps the power's
    # derivative finite, the outer one picks the value 0 and blocks the gradient there.
    s = sum(powers, axis=axes, keepdims=keepdims)
    positive = s > 0
    safe = where(positive, s, ones_like(s))
    root = sqrt(safe) if p == 2 else safe ** (1.0 / p)
    return where(positive, root, zeros_like(s))


# -- linear algebra -------------------------------------------------------------------------------------
def tensordot(x: Any, y: Any, axes: int | Sequence[Any] = 2) -> Tensor:
    """Sum of products over axes: ``axes=N`` pairs the last N axes of ``x`` with the first N
    of ``y``; ``axes=(axes_x, axes_y)`` names the pairs. Result: free axes of ``x`` then of ``y``.

    >>> import polytape as pt
    >>> pt.tensordot(pt.ones((2, 3)), pt.ones((3, 4)), axes=1).shape
    (2, 4)
    """
    # A composition (transpose, reshape, matmul): one BLAS call, and matmul's rules are exact.
    x, y = unary_operand(x), unary_operand(y)
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if not 0 <= n <= builtins.min(x.ndim, y.ndim):
            raise ShapeError(f"tensordot: cannot contract {n} axes of shapes {x.shape} and {y.shape}")
        ax, ay = tuple(range(x.ndim - n, x.ndim)), tuple(range(n))
    else:
        try:
            ax_spec, ay_spec = axes
        except (TypeError, ValueError):
            raise DTypeError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}") \
                from None
        ax = normalize_axis(ax_spec, x.ndim, "tensordot") or ()
        ay = normalize_axis(ay_spec, y.ndim, "tensordot") or ()
        if len(ax) != len(ay):
            raise ShapeError(f"tensordot: axes {ax_spec!r} and {ay_spec!r} differ in length")
    for i, j in zip(ax, ay):
        if x.shape[i] != y.shape[j]:
            raise ShapeError(f"tensordot: axis {i} of shape {x.shape} and axis {j} of shape "
                             f"{y.shape} differ in size ({x.shape[i]} vs {y.shape[j]})")
    free_x = [i for i in range(x.ndim) if i not in ax]
    free_y = [j for j in range(y.ndim) if j not in ay]
    k = math.prod(x.shape[i] for i in ax)
    xm = _permuted(x, tuple(free_x) + ax)
    ym = _permuted(y, ay + tuple(free_y))
    xm = reshape(xm, (math.prod(x.shape[i] for i in free_x), k))
    ym = reshape(ym, (k, math.prod(y.shape[j] for j in free_y)))
    return reshape(matmul(xm, ym), tuple(x.shape[i] for i in free_x) + tuple(y.shape[j] for j in free_y))


def _permuted(x: Tensor, perm: tuple[int, ...]) -> Tensor:
    return x if perm == tuple(range(x.ndim)) else transpose(x, perm)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum(subscripts: str, *tensors: Any) -> Tensor:
    """Einstein summation, as ``numpy.einsum``: ``pt.einsum("ij,jk->ik", a, b)``.

    Supports implicit output (letters used once, in alphabetical order), ``...`` for
    leading dimensions, repeated letters (diagonals) and size-1 broadcasting.

    >>> import polytape as pt
    >>> float(pt.einsum("i,i->", pt.constant([1.0, 2.0]), pt.constant([3.0, 4.0])))
    11.0
    """
    # A primitive: its VJP is another einsum (see polytape.derivatives), so one kernel serves
    # every contraction. The front end hands the kernel canonical subscripts: explicit output,
    # no ellipsis, every letter one size (size-1 operands are broadcast by a recorded op first).
    from .errors import InvalidArgumentError

    if not isinstance(subscripts, str):
        raise DTypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    _, ts, _ = operands("einsum", tensors, promote=False)
    spec = subscripts.replace(" ", "")
    if set(spec) - set(_LETTERS + ",->.") or spec.count("->") > 1:
        raise InvalidArgumentError(f"einsum: malformed subscripts {subscripts!r}")
    lhs, arrow, out = spec.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ts):
        raise InvalidArgumentError(f"einsum: subscripts {subscripts!r} name {len(ins)} operands, "
                                   f"got {len(ts)}")
    fresh = [c for c in _LETTERS if c not in spec]
    n_ell = []
    for i, (sub, t) in enumerate(zip(ins, ts)):
        named = len(sub.replace("...", ""))
        if sub.replace("...", "", 1).count(".") or ("..." not in sub and named != t.ndim) \
                or named > t.ndim:
            raise ShapeError(f"einsum: operand {i} has shape {t.shape}, which subscript {sub!r} "
                             "does not fit")
        n_ell.append(t.ndim - named)
    width = builtins.max(n_ell, default=0)
    ell = "".join(fresh[:width])
    ins = [sub.replace("...", ell[width - k:]) for sub, k in zip(ins, n_ell)]
    if arrow:
        if out.replace("...", "", 1).count("."):
            raise InvalidArgumentError(f"einsum: malformed output subscript in {subscripts!r}")
        out = out.replace("...", ell)
        unknown = set(out) - set("".join(ins))
        if unknown or len(set(out)) != len(out):
            raise InvalidArgumentError(f"einsum: output subscript of {subscripts!r} repeats a letter "
                                       "or names one no operand has")
    else:
        counts = "".join(ins)
        out = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ell))
    sizes: dict[str, int] = {}
    for i, (sub, t) in enumerate(zip(ins, ts)):
        for c, d in zip(sub, t.shape):
            prev = sizes.get(c, 1)
            if d != prev and 1 not in (d, prev) or (sub.count(c) > 1 and d != t.shape[sub.index(c)]):
                raise ShapeError(f"einsum: letter {c!r} has sizes {prev} and {d} (operand {i}, "
                                 f"shape {t.shape}, subscripts {subscripts!r})")
            sizes[c] = builtins.max(prev, d)
    ts = tuple(t if all(d == sizes[c] for c, d in zip(sub, t.shape))
               else broadcast_to(t, tuple(sizes[c] for c in sub)) for sub, t in zip(ins, ts))
    be, ts, arrays = operands("einsum", ts)
    return run(OPS["einsum"], be, ts, arrays, {"subscripts": ",".join(ins) + "->" + out})


# -- shapes ---------------------------------------------------------------------------------------------
def tile(x: Any, reps: int | Sequence[int]) -> Tensor:
    """``x`` repeated ``reps[i]`` times along axis ``i`` (NumPy's ``tile`` rules for mismatched
    lengths: the shorter of ``x.shape`` and ``reps`` is padded with leading 1s)."""
    x = unary_operand(x)
    if isinstance(reps, Tensor):
        reps = reps.numpy().tolist()
    if isinstance(reps, (int, np.integer)):
        reps = (reps,)
    elif not isinstance(reps, (list, tuple)):
        raise DTypeError(f"tile: reps must be an int or a sequence of ints, got {reps!r}")
    reps = tuple(_int_arg("tile", "reps", r) for r in reps)
    if any(r < 0 for r in reps):
        raise ShapeError(f"tile: reps {reps} has a negative entry")
    d = builtins.max(len(reps), x.ndim)
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
        raise DTypeError(f"{op}: pad_width must be ints, got {pad_width!r}")
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
    from .errors import InvalidArgumentError

    x = unary_operand(x)
    if mode != "constant":
        raise InvalidArgumentError(f"pad: only mode='constant' is supported, got {mode!r}")
    value = constant_values if isinstance(constant_values, (bool, np.bool_)) else \
        _number("pad", "constant_values", constant_values)
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
    ax = _one_axis("split", axis, x.ndim)
    n = x.shape[ax]
    if isinstance(num_or_size_splits, (int, np.integer)) and not isinstance(num_or_size_splits, bool):
        k = int(num_or_size_splits)
        if k <= 0 or n % k:
            raise ShapeError(f"split: axis {ax} of shape {x.shape} cannot be split into {k} equal parts")
        sizes = [n // k] * k
    else:
        sizes = [_int_arg("split", "size", s) for s in num_or_size_splits]
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = n - builtins.sum(s for s in sizes if s != -1)
        if any(s < 0 for s in sizes) or builtins.sum(sizes) != n:
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
    ax = 0 if axis is None else _one_axis(op, axis, x.ndim)
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
    except ShapeError as exc:
        raise ShapeError(f"{op}: {str(exc).removeprefix('getitem: ')}") from None


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
    from .errors import InvalidArgumentError

    if batch_dims != 0:
        raise InvalidArgumentError("gather: batch_dims other than 0 is not supported")
    return _take("gather", params, indices, axis)


# -- creation -----------------------------------------------------------------------------------------
def _created(op: str, make: Callable[[Any], Any], fallback: Callable[[], np.ndarray], dt: Any,
             backend: Any, device: str | None) -> Tensor:
    from .creation import _target
    from .dispatch import kernel_error
    from .tensor import wrap

    be, dev = _target(backend, device)
    try:
        native = be.native_dtype(dt)
    except DTypeError as exc:
        raise DTypeError(f"{op}: {exc}") from None
    kernel = be.kernels.get(op)
    try:
        arr = make(kernel, native) if kernel is not None else be.asarray(fallback(), dt)
    except Exception as exc:
        raise kernel_error(op, (), None, exc) from exc
    return wrap(be.asarray(arr, None, dev), be)


def _dtype_arg(op: str, dtype: Any, default: Any) -> Any:
    if dtype is None:
        return default
    try:
        return as_dtype(dtype)
    except DTypeError as exc:
        raise DTypeError(f"{op}: {exc}") from None


def arange(start: Any, stop: Any = None, step: Any = 1, *, dtype: Any = None, backend: Any = None,
           device: str | None = None) -> Tensor:
    """Evenly spaced values in ``[start, stop)``; ``arange(n)`` is ``0 .. n-1``.

    Integers give int32 (int64 when they do not fit), any float gives float32, as
    ``tf.range`` does. Not differentiable.

    >>> import polytape as pt
    >>> pt.arange(3).numpy().tolist()
    [0, 1, 2]
    """
    from .errors import InvalidArgumentError

    if stop is None:
        start, stop = 0, start
    start, stop, step = (_number("arange", n, v) for n, v in
                         (("start", start), ("stop", stop), ("step", step)))
    if step == 0:
        raise InvalidArgumentError("arange: step must not be zero")
    if any(isinstance(v, float) for v in (start, stop, step)):
        default = float32
    else:
        default = as_dtype("int32") if builtins.max(builtins.abs(start), builtins.abs(stop)) < 2**31 \
            else as_dtype("int64")
    dt = _dtype_arg("arange", dtype, default)
    return _created("arange", lambda k, nat: k(start, stop, step, nat),
                    lambda: np.arange(start, stop, step), dt, backend, device)


def linspace(start: Any, stop: Any, num: int, *, dtype: Any = None, endpoint: bool = True,
             backend: Any = None, device: str | None = None) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` (included unless
    ``endpoint=False``); float32 unless ``dtype`` says otherwise. Not differentiable."""
    start = _number("linspace", "start", start)
    stop = _number("linspace", "stop", stop)
    num = _int_arg("linspace", "num", num)
    if num < 0:
        raise ShapeError(f"linspace: num must be non-negative, got {num}")
    dt = _dtype_arg("linspace", dtype, float32)
    if endpoint:
        return _created("linspace", lambda k, nat: k(start, stop, num, nat),
                        lambda: np.linspace(start, stop, num), dt, backend, device)
    return _created("linspace", lambda k, nat: k(start, stop, num + 1, nat)[:num],
                    lambda: np.linspace(start, stop, num, endpoint=False), dt, backend, device)


def eye(n_rows: int, n_cols: int | None = None, *, k: int = 0, dtype: Any = None,
        backend: Any = None, device: str | None = None) -> Tensor:
    """An ``n_rows x n_cols`` matrix with ones on diagonal ``k`` (0: the main one, > 0 above
    it) and zeros elsewhere; float32 unless ``dtype`` says otherwise. Not differentiable."""
    n = _int_arg("eye", "n_rows", n_rows)
    m = n if n_cols is None else _int_arg("eye", "n_cols", n_cols)
    k = _int_arg("eye", "k", k)
    if n < 0 or m < 0:
        raise ShapeError(f"eye: sizes must be non-negative, got {n} x {m}")
    dt = _dtype_arg("eye", dtype, float32)

    def make(kernel: Any, nat: Any) -> Any:
        # Diagonal k of an n x m matrix is the main diagonal of a larger identity, sliced.
        if k >= 0:
            return kernel(n + k, m, nat)[k:, :]
        return kernel(n, m - k, nat)[:, -k:]

    return _created("eye", make, lambda: np.eye(n, m, k), dt, backend, device)


# -- operators on Tensor ---------------------------------------------------------------------
def _reflected(fn: Callable[[Any, Any], Tensor]) -> Callable[[Any, Any], Tensor]:
    def r(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)
    r.__name__ = f"r{fn.__name__}"
    return r


def _install_operators() -> None:
    T = Tensor
    T.__add__, T.__radd__ = add, _reflected(add)
    T.__sub__, T.__rsub__ = subtract, _reflected(subtract)
    T.__mul__, T.__rmul__ = multiply, _reflected(multiply)
    T.__truediv__, T.__rtruediv__ = divide, _reflected(divide)
    T.__floordiv__, T.__rfloordiv__ = floor_divide, _reflected(floor_divide)
    T.__mod__, T.__rmod__ = remainder, _reflected(remainder)
    T.__pow__, T.__rpow__ = power, _reflected(power)
    T.__matmul__, T.__rmatmul__ = matmul, _reflected(matmul)
    T.__neg__ = negative
    T.__pos__ = lambda self: self
    T.__abs__ = abs
    T.__eq__, T.__ne__ = equal, not_equal
    T.__lt__, T.__le__, T.__gt__, T.__ge__ = less, less_equal, greater, greater_equal
    T.__and__, T.__or__, T.__xor__ = logical_and, logical_or, logical_xor
    T.__invert__ = logical_not
    T.__getitem__ = getitem
    # NumPy-style methods, so `x.sum()` and `x.reshape(...)` read as they do on arrays.
    T.sum, T.mean, T.max, T.min = sum, mean, max, min
    T.reshape = lambda self, *shape: reshape(self, shape[0] if len(shape) == 1 else shape)
    T.transpose = transpose
    T.T = property(lambda self: transpose(self))
    T.astype = cast
    T.prod, T.var, T.std, T.argmax, T.argmin = prod, var, std, argmax, argmin
    T.cumsum, T.clip = cumsum, clip


_install_operators()
