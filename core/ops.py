"""polytape's public ops (Array API names): ``pt.exp``, ``pt.sum``, ``pt.matmul``, ...

Each function prepares operands (one backend, one dtype, normalised attributes)
and hands them to :func:`polytape.dispatch.run`; the derivative rules live in
:mod:`polytape.derivatives`. This module is also the namespace those rules
compute with when an outer tape records a backward pass, so every name a rule
uses exists here with the kernel's signature.
"""

from __future__ import annotations

import builtins
from typing import Any, Callable, Sequence

import numpy as np

from . import derivatives  # noqa: F401  (fills the op table)
from .creation import full_like, ones_like, zeros_like
from .dispatch import binary_operands, float_array, operands, run, unary_operand
from .dtypes import as_dtype, float32, float64
from .errors import DTypeError, ShapeError
from .optable import OPS
from .tensor import Tensor, Variable

__all__ = [
    # elementwise
    "negative", "abs", "sign", "exp", "expm1", "log", "log1p", "sqrt", "square", "sin", "cos",
    "tan", "tanh", "sinh", "cosh", "arcsin", "arccos", "arctan", "erf", "sigmoid", "relu",
    "softplus", "floor", "ceil", "round", "logical_not", "identity",
    "add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "arctan2",
    "floor_divide", "remainder", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "logical_and", "logical_or", "logical_xor", "where",
    # reductions, linear algebra, shapes
    "sum", "mean", "max", "min", "matmul", "reshape", "transpose", "permute_dims",
    "broadcast_to", "expand_dims", "squeeze", "concat", "stack", "getitem", "index_add",
    "cast", "astype", "stop_gradient", "zeros_like", "ones_like", "full_like",
]


def _unary(name: str, doc: str, float_only: bool = True) -> Callable[[Any], Tensor]:
    op = OPS[name]

    def fn(x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = unary_operand(x)
        be = x._backend
        a = x._data
        if float_only and a.dtype not in be.float_natives:
            a = float_array(be, a)
        return run(op, be, (x,), (a,))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _binary(name: str, doc: str) -> Callable[[Any, Any], Tensor]:
    op = OPS[name]

    def fn(x: Any, y: Any) -> Tensor:
        be, x, y, a, b = binary_operands(name, x, y)
        return run(op, be, (x, y), (a, b))

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
    axes = (axis,) if isinstance(axis, (int, np.integer, Tensor)) else tuple(axis)
    out = []
    for a in axes:
        try:
            a = int(a)
        except TypeError:
            raise DTypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}") from None
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
    dt = as_dtype(dtype)
    be = x._backend
    native = be.native_dtype(dt)
    if x._data.dtype == native:
        return x
    return run(OPS["astype"], be, (x,), (x._data,), {"dtype": native})


astype = cast


def stop_gradient(x: Any) -> Tensor:
    """``x``'s value with no gradient: tapes do not see through it."""
    x = unary_operand(x)
    from .tensor import wrap

    return wrap(x._data, x._backend)


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


_install_operators()
