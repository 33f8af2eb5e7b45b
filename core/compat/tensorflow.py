"""A namespace shaped like ``tensorflow``, so GradientTape code moves over by changing one line::

    import polytape.compat.tensorflow as tf     # instead of: import tensorflow as tf

It covers the eager subset that GradientTape tutorials use: tensors and
variables, the tape, ``custom_gradient``, the common ``tf.*``/``tf.math``/
``tf.nn``/``tf.random``/``tf.linalg`` functions with TensorFlow's signatures and
defaults (``tf.argmax`` reduces axis 0, ``tf.reduce_mean`` keeps integer dtypes,
...), and ``tf.keras`` (``Sequential``, ``layers.Dense``, optimizers, losses,
metrics). Everything runs on the current polytape backend.

What differs from TensorFlow, on purpose:

* ``tf.gradients`` raises TensorFlow 2's eager error (polytape has no graph mode);
  ``tf.function`` is accepted and runs the function eagerly;
* a name, attribute or argument polytape does not provide raises
  :class:`~polytape.NotProvidedError` (an ``AttributeError`` and a ``TypeError``) whose
  message starts "polytape does not provide" (e.g. ``tf.data``), rather than some
  unrelated failure later; ``docs/tensorflow-compat.md`` lists what is covered;
* ``tf.random`` calls with ``seed=`` return the same numbers on every call
  (see :mod:`polytape.random`); ``tf.random.set_seed`` works as in TensorFlow;
* tensors print as ``polytape.Tensor(...)``; ``Tensor.shape`` is a
  :class:`~polytape.TensorShape` (a tuple with ``as_list()``, ``rank``,
  ``num_elements()``, equal to lists and tuples) whose ``repr`` is a tuple's;
* ``tf.cond``, ``tf.while_loop``, ``tf.map_fn``, ``tf.foldl``/``tf.foldr``, ``tf.scan``
  and ``tf.vectorized_map`` run as Python loops and branches (eager, differentiable
  through the tape; ``parallel_iterations``, ``swap_memory`` and shape invariants are
  accepted and ignored).

Dtypes follow TensorFlow's strictness in this namespace's functions (see
:mod:`polytape.compat.dtype_strictness`): ``tf.add(float32, int32)``, ``tf.matmul`` of a
float64 array and a float32 variable and ``tf.sin(int32)`` raise ``InvalidArgumentError``
(a ``ValueError``) with TensorFlow's wording, while Python numbers stay weak
(``tf.add(x_float32, 2)`` is float32). Two places keep polytape's own Array API
promotion, which this namespace cannot change: Python operators on tensors (``a + b``
promotes where TensorFlow raises) and ``polytape``'s own functions (``import polytape as
pt``). Cast with ``tf.cast`` where TensorFlow code would have to.

>>> import polytape.compat.tensorflow as tf
>>> x = tf.Variable(3.0)
>>> with tf.GradientTape() as tape:
...     y = x * x
>>> float(tape.gradient(y, x))
6.0
"""

from __future__ import annotations

import builtins
import functools
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import polytape as pt
from polytape import nn as _nn
from polytape import optimizers as _optimizers
from polytape import random as _random
from polytape.compat import devices as _devices
from polytape.compat.dtype_strictness import check_same_dtype, float_only, strict_binary
from polytape.errors import (
    InvalidArgumentError,
    NotProvidedError,
    PolytapeError,
    ShapeError,
    unsupported,
)
from polytape.nn import convolution as _conv

__version__ = pt.__version__
"""polytape's version (this namespace imitates TensorFlow 2's eager API)."""

_HERE = __name__
# Names below mirror TensorFlow's, so several shadow builtins on purpose (print, range,
# abs, pow, round, bool) and parameters are called `input` as in TensorFlow.


def _missing(path: str) -> NotProvidedError:
    # One error for every missing name (an AttributeError, so hasattr() is False); missing
    # arguments raise the same class (polytape.errors.unsupported).
    return NotProvidedError(
        f"polytape does not provide tf.{path}: polytape.compat.tensorflow covers the eager "
        "subset listed in docs/tensorflow-compat.md; use polytape's own API "
        "(import polytape as pt) for the rest")


def _namespace(path: str, doc: str, members: dict[str, Any]) -> types.ModuleType:
    """A module object ``tf.<path>`` whose unknown names raise :func:`_missing`'s error."""
    mod = types.ModuleType(f"{_HERE}.{path}", doc)
    mod.__dict__.update(members)

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise _missing(f"{path}.{name}")

    mod.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[mod.__name__] = mod
    return mod


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise _missing(name)


# -- dtypes ----------------------------------------------------------------------------------
DType = pt.DType
float16, bfloat16, float32, float64 = pt.float16, pt.bfloat16, pt.float32, pt.float64
int8, int16, int32, int64, uint8 = pt.int8, pt.int16, pt.int32, pt.int64, pt.uint8
bool = pt.bool_
as_dtype = pt.as_dtype
newaxis = None

# -- tensors, variables, the tape -----------------------------------------------------------------
Tensor = pt.Tensor
TensorShape = pt.TensorShape
Variable = pt.Variable
GradientTape = pt.GradientTape
UnconnectedGradients = pt.UnconnectedGradients
custom_gradient = pt.custom_gradient
Module = pt.Module
recompute_grad = pt.recompute_grad
device = _devices.device
# Control flow runs eagerly (Python loops over recorded ops): see polytape.control_flow.
cond, while_loop, map_fn = pt.cond, pt.while_loop, pt.map_fn
foldl, foldr, scan, vectorized_map = pt.foldl, pt.foldr, pt.scan, pt.vectorized_map


def constant(value: Any, dtype: Any = None, shape: Sequence[int] | None = None,
             name: str | None = None) -> Tensor:
    """A tensor holding ``value``; with ``shape``, a scalar is filled into that shape and
    anything else is reshaped to it (as ``tf.constant`` does)."""
    t = pt.constant(value, dtype=dtype)
    if shape is not None:
        shape = tuple(shape)
        t = pt.broadcast_to(t, shape) if t.ndim == 0 else pt.reshape(t, shape)
    return t


def convert_to_tensor(value: Any, dtype: Any = None, dtype_hint: Any = None,
                      name: str | None = None) -> Tensor:
    """``value`` as a tensor (``dtype_hint`` is used only when ``value`` is not a tensor).

    A variable gives a snapshot of its value (a recorded read, so gradients flow to the
    variable), as in TensorFlow: a later ``assign`` does not change the tensor.
    """
    if isinstance(value, Variable):
        if dtype is not None and pt.as_dtype(dtype) is not value.dtype:
            raise InvalidArgumentError(
                f"Tensor conversion requested dtype {pt.as_dtype(dtype)} for variable "
                f"{value.name!r} of dtype {value.dtype}")
        return value.read_value()
    if dtype is None and dtype_hint is not None and not isinstance(value, Tensor):
        return pt.constant(value, dtype=dtype_hint)
    return pt.convert_to_tensor(value, dtype=dtype)


def is_tensor(x: Any) -> builtins.bool:
    """True for polytape tensors and variables."""
    return isinstance(x, Tensor)


def stop_gradient(input: Any, name: str | None = None) -> Tensor:
    """``input``'s value, with no gradient flowing through it."""
    return pt.stop_gradient(input)


def identity(input: Any, name: str | None = None) -> Tensor:
    """A copy of ``input`` that gradients flow through."""
    return pt.identity(input)


def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    """``x`` converted to ``dtype``."""
    return pt.cast(x, dtype)


def gradients(ys: Any, xs: Any, *args: Any, **kwargs: Any) -> Any:
    """TensorFlow 1's symbolic gradients: like TensorFlow 2 in eager mode, this raises."""
    raise RuntimeError("tf.gradients is not supported when eager execution is enabled. "
                       "Use tf.GradientTape instead.")


def executing_eagerly() -> builtins.bool:
    """Always True: polytape runs every op eagerly."""
    return True


def function(func: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    """``tf.function`` as a no-op decorator: the function runs eagerly, op by op."""
    if func is None:
        return lambda f: f
    return func


def print(*inputs: Any, sep: str = " ", end: str = "\n", output_stream: Any = None,
          summarize: int | None = None, name: str | None = None) -> None:
    """Print tensors by value (NumPy formatting) and anything else as ``str``."""
    text = sep.join(str(v.numpy()) if isinstance(v, Tensor) else str(v) for v in inputs)
    stream = output_stream if output_stream is not None and hasattr(output_stream, "write") \
        else sys.stdout
    stream.write(text + end)


# -- element-wise math ----------------------------------------------------------------------------
def _named(fn: Callable[..., Tensor], doc: str | None = None) -> Callable[..., Tensor]:
    @functools.wraps(fn)
    def wrapper(*args: Any, name: str | None = None, **kwargs: Any) -> Tensor:
        return fn(*args, **kwargs)
    if doc:
        wrapper.__doc__ = doc
    return wrapper


def _binary(fn: Callable[..., Tensor], op: str) -> Callable[..., Tensor]:
    # TensorFlow's dtype strictness (see polytape.compat.dtype_strictness), then the op.
    return _named(strict_binary(fn, op))


def _float_math(fn: Callable[..., Tensor], op: str) -> Callable[..., Tensor]:
    return _named(float_only(fn, op))


add = _binary(pt.add, "AddV2")
subtract = _binary(pt.subtract, "Sub")
multiply = _binary(pt.multiply, "Mul")
divide = _binary(pt.divide, "RealDiv")
truediv = realdiv = divide
floordiv = _binary(pt.floor_divide, "FloorDiv")
floormod = mod = _binary(pt.remainder, "FloorMod")
pow = _binary(pt.power, "Pow")
maximum = _binary(pt.maximum, "Maximum")
minimum = _binary(pt.minimum, "Minimum")
negative = _named(pt.negative)
abs = _named(pt.abs)
sign = _named(pt.sign)
exp = _float_math(pt.exp, "Exp")
expm1 = _float_math(pt.expm1, "Expm1")
log = _float_math(pt.log, "Log")
log1p = _float_math(pt.log1p, "Log1p")
sqrt = _float_math(pt.sqrt, "Sqrt")
square = _named(pt.square)
sin, cos, tan = _float_math(pt.sin, "Sin"), _float_math(pt.cos, "Cos"), _float_math(pt.tan, "Tan")
sinh, cosh = _float_math(pt.sinh, "Sinh"), _float_math(pt.cosh, "Cosh")
tanh = _float_math(pt.tanh, "Tanh")
asin, acos = _float_math(pt.arcsin, "Asin"), _float_math(pt.arccos, "Acos")
atan = _float_math(pt.arctan, "Atan")
atan2 = _binary(pt.arctan2, "Atan2")
erf = _float_math(pt.erf, "Erf")
sigmoid = _float_math(pt.sigmoid, "Sigmoid")
softplus = _float_math(pt.softplus, "Softplus")
floor, ceil, round = _named(pt.floor), _named(pt.ceil), _named(pt.round)
equal, not_equal = _binary(pt.equal, "Equal"), _binary(pt.not_equal, "NotEqual")
less, less_equal = _binary(pt.less, "Less"), _binary(pt.less_equal, "LessEqual")
greater, greater_equal = _binary(pt.greater, "Greater"), _binary(pt.greater_equal, "GreaterEqual")
logical_and, logical_or = _named(pt.logical_and), _named(pt.logical_or)
logical_xor, logical_not = _named(pt.logical_xor), _named(pt.logical_not)


def reciprocal(x: Any, name: str | None = None) -> Tensor:
    """``1 / x``."""
    return 1.0 / pt.convert_to_tensor(x)


def rsqrt(x: Any, name: str | None = None) -> Tensor:
    """``1 / sqrt(x)``."""
    return 1.0 / sqrt(x)


def squared_difference(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``(x - y) ** 2``."""
    return pt.square(subtract(x, y))


def scalar_mul(scalar: Any, x: Any, name: str | None = None) -> Tensor:
    """``scalar * x``."""
    return pt.multiply(scalar, x)


def add_n(inputs: Sequence[Any], name: str | None = None) -> Tensor:
    """The element-wise sum of a list of same-shape tensors."""
    if not inputs:
        raise InvalidArgumentError("tf.add_n needs at least one tensor")
    inputs = check_same_dtype("AddN", list(inputs))
    total = pt.convert_to_tensor(inputs[0])
    for t in inputs[1:]:
        total = total + t
    return total


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: str | None = None) -> Tensor:
    """``t * clip_norm / max(l2norm(t), clip_norm)``: ``t`` with its L2 norm (over ``axes``)
    at most ``clip_norm``."""
    t = pt.convert_to_tensor(t)
    norm = pt.sqrt(pt.sum(pt.square(t), axis=axes, keepdims=True))
    return t * clip_norm / pt.maximum(norm, clip_norm)


def global_norm(t_list: Sequence[Any], name: str | None = None) -> Tensor:
    """``sqrt(sum of the squares of every entry of every tensor)`` (None entries skipped)."""
    parts = [pt.sum(pt.square(t)) for t in t_list if t is not None]
    if not parts:
        raise InvalidArgumentError("tf.linalg.global_norm: t_list has no tensors")
    return pt.sqrt(add_n(parts))


def clip_by_global_norm(t_list: Sequence[Any], clip_norm: Any, use_norm: Any = None,
                        name: str | None = None) -> tuple[list[Any], Tensor]:
    """``(clipped, global_norm)``: every tensor scaled by ``clip_norm / max(global_norm,
    clip_norm)``, as TensorFlow computes it (None entries stay None)."""
    if isinstance(t_list, Tensor) or not isinstance(t_list, (list, tuple)):
        raise InvalidArgumentError("tf.clip_by_global_norm: t_list should be a sequence")
    norm = global_norm(t_list) if use_norm is None else pt.convert_to_tensor(use_norm)
    scale = clip_norm * pt.minimum(1.0 / norm, 1.0 / pt.convert_to_tensor(clip_norm,
                                                                          dtype=norm.dtype))
    return [None if t is None else t * pt.cast(scale, pt.convert_to_tensor(t).dtype)
            for t in t_list], norm


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any,
                  name: str | None = None) -> Tensor:
    """``t`` limited to ``[clip_value_min, clip_value_max]`` (gradient 0 outside)."""
    return pt.clip(t, clip_value_min, clip_value_max)


# -- reductions -------------------------------------------------------------------------------
def _reduction(fn: Callable[..., Tensor], doc: str) -> Callable[..., Tensor]:
    def reduce(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
               name: str | None = None) -> Tensor:
        return fn(input_tensor, axis=axis, keepdims=keepdims)
    reduce.__doc__ = doc
    return reduce


def _same_dtype(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    # TensorFlow's sum and product keep the input's dtype (int32 stays int32), where the
    # Array API standard, which polytape's own namespace follows, widens integers to int64.
    def reduce(x: Any, axis: Any, keepdims: builtins.bool) -> Tensor:
        x = pt.convert_to_tensor(x)
        return fn(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    return reduce


reduce_sum = _reduction(_same_dtype(pt.sum), "Sum over ``axis`` (all axes when None), in the input's dtype.")
reduce_max = _reduction(pt.max, "Maximum over ``axis`` (all axes when None).")
reduce_min = _reduction(pt.min, "Minimum over ``axis`` (all axes when None).")
reduce_prod = _reduction(_same_dtype(pt.prod),
                         "Product over ``axis`` (all axes when None), in the input's dtype.")
reduce_logsumexp = _reduction(lambda x, axis, keepdims: pt.logsumexp(x, axis=axis, keepdims=keepdims),
                              "``log(sum(exp(x)))`` over ``axis``, without overflow.")
reduce_variance = _reduction(lambda x, axis, keepdims: pt.var(x, axis=axis, keepdims=keepdims),
                             "Variance over ``axis`` (divides by n).")
reduce_std = _reduction(lambda x, axis, keepdims: pt.std(x, axis=axis, keepdims=keepdims),
                        "Standard deviation over ``axis`` (divides by n).")


def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
                name: str | None = None) -> Tensor:
    """Mean over ``axis``; integer tensors give integers (truncated), as in TensorFlow."""
    x = pt.convert_to_tensor(input_tensor)
    m = pt.mean(x, axis=axis, keepdims=keepdims)
    return pt.cast(m, x.dtype) if not x.dtype.is_floating else m


def reduce_any(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
               name: str | None = None) -> Tensor:
    """Logical or over ``axis``."""
    x = pt.cast(input_tensor, pt.int32)
    return pt.cast(pt.max(x, axis=axis, keepdims=keepdims), pt.bool_)


def reduce_all(input_tensor: Any, axis: Any = None, keepdims: builtins.bool = False,
               name: str | None = None) -> Tensor:
    """Logical and over ``axis``."""
    x = pt.cast(input_tensor, pt.int32)
    return pt.cast(pt.min(x, axis=axis, keepdims=keepdims), pt.bool_)


def argmax(input: Any, axis: Any = None, output_type: Any = int64,
           name: str | None = None) -> Tensor:
    """Index of the maximum along ``axis`` (axis 0 when None, as in TensorFlow)."""
    return pt.cast(pt.argmax(input, axis=0 if axis is None else int(axis)), output_type)


def argmin(input: Any, axis: Any = None, output_type: Any = int64,
           name: str | None = None) -> Tensor:
    """Index of the minimum along ``axis`` (axis 0 when None, as in TensorFlow)."""
    return pt.cast(pt.argmin(input, axis=0 if axis is None else int(axis)), output_type)


def cumsum(x: Any, axis: int = 0, exclusive: builtins.bool = False, reverse: builtins.bool = False,
           name: str | None = None) -> Tensor:
    """Running sum along ``axis`` (axis 0 by default, as in TensorFlow)."""
    if exclusive:
        raise InvalidArgumentError("tf.cumsum(exclusive=True) is not supported by polytape")
    return pt.cumsum(x, axis=axis, reverse=reverse)


# -- linear algebra ---------------------------------------------------------------------------
def _swap_last(x: Tensor) -> Tensor:
    n = x.ndim
    return pt.transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


def matmul(a: Any, b: Any, transpose_a: builtins.bool = False, transpose_b: builtins.bool = False,
           adjoint_a: builtins.bool = False, adjoint_b: builtins.bool = False,
           a_is_sparse: builtins.bool = False, b_is_sparse: builtins.bool = False,
           output_type: Any = None, name: str | None = None) -> Tensor:
    """Matrix product; ``transpose_a``/``transpose_b`` (or the adjoints, equal for real
    tensors) swap the last two axes of an operand first."""
    a, b = check_same_dtype("MatMul", (a, b))
    a, b = pt.convert_to_tensor(a), pt.convert_to_tensor(b)
    if transpose_a or adjoint_a:
        a = _swap_last(a)
    if transpose_b or adjoint_b:
        b = _swap_last(b)
    out = pt.matmul(a, b)
    return out if output_type is None else pt.cast(out, output_type)


def tensordot(a: Any, b: Any, axes: Any, name: str | None = None) -> Tensor:
    """Sum of products over ``axes`` (an int or a pair of axis lists)."""
    return pt.tensordot(a, b, axes)


def einsum(equation: str, *inputs: Any, **kwargs: Any) -> Tensor:
    """Einstein summation: ``tf.einsum("ij,jk->ik", a, b)``."""
    kwargs.pop("name", None)
    if kwargs:
        raise InvalidArgumentError(f"tf.einsum: unsupported arguments {sorted(kwargs)}")
    return pt.einsum(equation, *inputs)


def norm(tensor: Any, ord: Any = "euclidean", axis: Any = None,
         keepdims: Any = None, name: str | None = None) -> Tensor:
    """The vector (or, with two axes, matrix) norm; ``"euclidean"`` is the 2-norm of the
    flattened tensor when ``axis`` is None."""
    return pt.norm(tensor, ord=None if ord == "euclidean" else ord, axis=axis,
                   keepdims=builtins.bool(keepdims))


# -- shapes -----------------------------------------------------------------------------------
def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    """``tensor`` with a new shape (one entry may be -1)."""
    return pt.reshape(tensor, shape)


def transpose(a: Any, perm: Sequence[int] | None = None, conjugate: builtins.bool = False,
              name: str | None = None) -> Tensor:
    """Permute the axes (reverse them when ``perm`` is None)."""
    return pt.transpose(a, perm)


def concat(values: Sequence[Any], axis: int, name: str | None = None) -> Tensor:
    """Join tensors along an existing axis."""
    return pt.concat(list(values), axis=axis)


def stack(values: Sequence[Any], axis: int = 0, name: str | None = None) -> Tensor:
    """Join same-shape tensors along a new axis."""
    return pt.stack(list(values), axis=axis)


def unstack(value: Any, num: int | None = None, axis: int = 0, name: str | None = None) -> list[Tensor]:
    """The slices of ``value`` along ``axis``, as a list."""
    t = pt.convert_to_tensor(value)
    n = t.shape[axis]
    if num is not None and num != n:
        raise ShapeError(f"tf.unstack: num={num} but axis {axis} has size {n}")
    return [pt.squeeze(part, axis) for part in pt.split(t, n, axis=axis)] if n else []


def split(value: Any, num_or_size_splits: Any, axis: int = 0, num: int | None = None,
          name: str | None = None) -> list[Tensor]:
    """Split into equal parts (an int) or parts of the given sizes."""
    return pt.split(value, num_or_size_splits, axis=axis)


def squeeze(input: Any, axis: Any = None, name: str | None = None) -> Tensor:
    """Remove size-1 axes (``axis``, or all of them)."""
    return pt.squeeze(input, axis)


def expand_dims(input: Any, axis: int, name: str | None = None) -> Tensor:
    """Insert a size-1 axis at ``axis``."""
    return pt.expand_dims(input, axis)


def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:
    """Repeat ``input`` ``multiples[i]`` times along axis ``i``."""
    return pt.tile(input, multiples)


def broadcast_to(input: Any, shape: Any, name: str | None = None) -> Tensor:
    """``input`` broadcast to ``shape``."""
    return pt.broadcast_to(input, shape)


def reverse(tensor: Any, axis: Sequence[int], name: str | None = None) -> Tensor:
    """``tensor`` with the order of elements reversed along each axis in ``axis``."""
    return pt.flip(tensor, axis=tuple(axis))


def pad(tensor: Any, paddings: Any, mode: str = "CONSTANT", constant_values: Any = 0,
        name: str | None = None) -> Tensor:
    """Pad with ``constant_values`` (only ``mode="CONSTANT"``)."""
    if str(mode).upper() != "CONSTANT":
        raise InvalidArgumentError(f"tf.pad: polytape supports mode='CONSTANT' only, got {mode!r}")
    return pt.pad(tensor, paddings, constant_values=constant_values)


def gather(params: Any, indices: Any, validate_indices: Any = None, axis: Any = None,
           batch_dims: int = 0, name: str | None = None) -> Tensor:
    """Slices of ``params`` at ``indices`` along ``axis`` (0 by default)."""
    return pt.gather(params, indices, axis=0 if axis is None else axis, batch_dims=batch_dims)


def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    """``x`` where ``condition`` holds, else ``y``; with neither, the int64 coordinates of
    the true entries (shape ``(count, rank)``)."""
    if x is None and y is None:
        c = pt.convert_to_tensor(condition)
        coords = np.argwhere(np.asarray(c.numpy()).astype(np.bool_))
        return pt.constant(coords.astype(np.int64), backend=c.backend)
    if x is None or y is None:
        raise InvalidArgumentError("tf.where: give both x and y, or neither")
    return pt.where(condition, x, y)


def one_hot(indices: Any, depth: int, on_value: Any = None, off_value: Any = None,
            axis: int | None = None, dtype: Any = None, name: str | None = None) -> Tensor:
    """A one-hot encoding of ``indices`` along a new last axis (``depth`` classes)."""
    if axis not in (None, -1):
        raise InvalidArgumentError("tf.one_hot: polytape supports only the last axis (axis=-1)")
    idx = pt.cast(pt.convert_to_tensor(indices), pt.int32)
    classes = pt.constant(np.arange(depth, dtype=np.int32), backend=idx.backend)
    hit = pt.equal(pt.expand_dims(idx, -1), classes)
    dt = pt.as_dtype(dtype) if dtype is not None else float32
    on = pt.constant(1 if on_value is None else on_value, dtype=dt, backend=idx.backend)
    off = pt.constant(0 if off_value is None else off_value, dtype=dt, backend=idx.backend)
    return pt.where(hit, on, off)


def shape(input: Any, out_type: Any = int32, name: str | None = None) -> Tensor:
    """The shape of ``input`` as a 1-d integer tensor."""
    t = pt.convert_to_tensor(input)
    return pt.constant(np.asarray(t.shape, dtype=np.int64), dtype=out_type, backend=t.backend)


def size(input: Any, out_type: Any = int32, name: str | None = None) -> Tensor:
    """The number of elements of ``input``, as a scalar tensor."""
    t = pt.convert_to_tensor(input)
    return pt.constant(t.size, dtype=out_type, backend=t.backend)


def rank(input: Any, name: str | None = None) -> Tensor:
    """The number of dimensions of ``input``, as an int32 scalar."""
    t = pt.convert_to_tensor(input)
    return pt.constant(t.ndim, dtype=int32, backend=t.backend)


# -- creation ---------------------------------------------------------------------------------------
def zeros(shape: Any, dtype: Any = float32, name: str | None = None) -> Tensor:
    """Zeros of ``shape`` (float32 by default)."""
    return pt.zeros(shape, dtype)


def ones(shape: Any, dtype: Any = float32, name: str | None = None) -> Tensor:
    """Ones of ``shape`` (float32 by default)."""
    return pt.ones(shape, dtype)


def zeros_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    """Zeros with ``input``'s shape (and dtype unless given)."""
    return pt.zeros_like(input, dtype)


def ones_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    """Ones with ``input``'s shape (and dtype unless given)."""
    return pt.ones_like(input, dtype)


def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    """A tensor of shape ``dims`` filled with ``value``."""
    return pt.full(dims, value)


def eye(num_rows: int, num_columns: int | None = None, batch_shape: Any = None,
        dtype: Any = float32, name: str | None = None) -> Tensor:
    """An identity matrix (float32 by default)."""
    if batch_shape is not None:
        raise InvalidArgumentError("tf.eye: batch_shape is not supported by polytape")
    return pt.eye(num_rows, num_columns, dtype=dtype)


# tf.range infers its dtype from its arguments' dtypes, the widest in this order.
_RANGE_DTYPES = ("int32", "int64", "float16", "bfloat16", "float32", "float64")


def _range_dtype(v: Any) -> DType:
    if isinstance(v, Tensor):
        return v.dtype
    if isinstance(v, (builtins.bool, np.bool_)):
        raise InvalidArgumentError(f"tf.range: arguments must be numbers, got {v!r}")
    if isinstance(v, np.generic):
        return pt.as_dtype(v.dtype)
    return int32 if isinstance(v, int) else float32


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None,
          name: str | None = "range") -> Tensor:
    """``start, start + delta, ...`` below ``limit`` (``range(n)`` is ``0 .. n-1``).

    As in TensorFlow, the dtype is the widest of the arguments' (Python ints int32,
    floats float32, tensors their own), and the length ``ceil((limit - start) / delta)``
    and the values ``start + i * delta`` are computed in that dtype: a float32 step of 0.1
    from 0 to 80 gives 800 elements, not float64's 801.
    """
    if limit is None:
        start, limit = 0, start
    args = (start, limit, delta)
    if dtype is None:
        dtype = builtins.max((_range_dtype(v) for v in args),
                             key=lambda d: _RANGE_DTYPES.index(d.name)
                             if d.name in _RANGE_DTYPES else -1)
    dt = pt.as_dtype(dtype)
    backend = next((v.backend for v in args if isinstance(v, Tensor)), None)
    native = np.float32 if dt.name == "bfloat16" else np.dtype(dt.name)
    s, lim, d = (np.asarray(v.numpy() if isinstance(v, Tensor) else v).astype(native)[()]
                 for v in args)
    if d == 0:
        raise InvalidArgumentError("Requires delta != 0: 0")
    if (d > 0 and s > lim) or (d < 0 and s < lim):
        n = 0
    elif dt.is_floating:
        n = int(np.ceil(np.abs((lim - s) / d)))
    else:
        n = int((abs(int(lim) - int(s)) + abs(int(d)) - 1) // abs(int(d)))
    values = (s + np.arange(n).astype(native) * d).astype(native)
    return pt.constant(values, dtype=dt, backend=backend)


def linspace(start: Any, stop: Any, num: int, name: str | None = None, axis: int = 0) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive (float32)."""
    return pt.linspace(float(start), float(stop), int(num), dtype=float32)


# -- sub-namespaces ---------------------------------------------------------------------------
def _nn_softmax(logits: Any, axis: Any = None, name: str | None = None) -> Tensor:
    """``softmax`` along ``axis`` (the last when None), without overflow."""
    return _nn.activations.softmax(logits, axis=-1 if axis is None else axis)


def _nn_log_softmax(logits: Any, axis: Any = None, name: str | None = None) -> Tensor:
    """``log_softmax`` along ``axis`` (the last when None), without overflow."""
    return _nn.activations.log_softmax(logits, axis=-1 if axis is None else axis)


def _nn_leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    """``features`` where positive, else ``alpha * features``."""
    return _nn.activations.leaky_relu(features, alpha)


def _nn_gelu(features: Any, approximate: builtins.bool = False, name: str | None = None) -> Tensor:
    """Gaussian error linear unit."""
    return _nn.activations.gelu(features, approximate)


def _nn_relu6(features: Any, name: str | None = None) -> Tensor:
    """``min(max(features, 0), 6)``."""
    return pt.clip(features, 0.0, 6.0)


def _sigmoid_xent(labels: Any = None, logits: Any = None, name: str | None = None) -> Tensor:
    """Element-wise logistic loss from logits, computed without overflow."""
    z = pt.convert_to_tensor(logits)
    t = pt.cast(pt.convert_to_tensor(labels), z.dtype)
    return pt.relu(z) - z * t + pt.log1p(pt.exp(-pt.abs(z)))


def _softmax_xent(labels: Any = None, logits: Any = None, axis: int = -1,
                  name: str | None = None) -> Tensor:
    """Cross-entropy between label distributions and ``softmax(logits)``, per example."""
    return _nn.losses.categorical_crossentropy(labels, logits, from_logits=True, axis=axis)


def _sparse_softmax_xent(labels: Any = None, logits: Any = None, name: str | None = None) -> Tensor:
    """Cross-entropy between integer labels and ``softmax(logits)``, per example."""
    return _nn.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)


def _l2_loss(t: Any, name: str | None = None) -> Tensor:
    """``sum(t ** 2) / 2``."""
    return pt.sum(pt.square(t)) / 2.0


def _moments(x: Any, axes: Sequence[int], shift: Any = None, keepdims: builtins.bool = False,
             name: str | None = None) -> tuple[Tensor, Tensor]:
    """``(mean, variance)`` over ``axes``."""
    axes = tuple(axes)
    return pt.mean(x, axis=axes, keepdims=keepdims), pt.var(x, axis=axes, keepdims=keepdims)


def _bias_add(value: Any, bias: Any, data_format: Any = None, name: str | None = None) -> Tensor:
    """``value + bias`` (bias along the last axis)."""
    return pt.add(value, bias)


nn = _namespace("nn", "``tf.nn``: activations and losses computed from logits.", {
    "relu": _named(pt.relu), "relu6": _nn_relu6, "sigmoid": sigmoid, "tanh": tanh,
    "softplus": softplus, "softsign": _named(_nn.activations.softsign),
    "elu": _named(_nn.activations.elu), "selu": _named(_nn.activations.selu),
    "gelu": _nn_gelu, "silu": _named(_nn.activations.silu), "swish": _named(_nn.activations.silu),
    "leaky_relu": _nn_leaky_relu, "softmax": _nn_softmax, "log_softmax": _nn_log_softmax,
    "sigmoid_cross_entropy_with_logits": _sigmoid_xent,
    "softmax_cross_entropy_with_logits": _softmax_xent,
    "sparse_softmax_cross_entropy_with_logits": _sparse_softmax_xent,
    "l2_loss": _l2_loss, "moments": _moments, "bias_add": _bias_add,
    "conv1d": _conv.conv1d, "conv2d": _conv.conv2d, "conv2d_transpose": _conv.conv2d_transpose,
    "max_pool2d": _conv.max_pool2d, "avg_pool2d": _conv.avg_pool2d,
    "batch_normalization": _conv.batch_normalization,
    "embedding_lookup": _conv.embedding_lookup,
})
repeat = _conv.repeat

_MATH_NAMES = (
    "add", "subtract", "multiply", "divide", "truediv", "realdiv", "floordiv", "floormod",
    "pow", "maximum", "minimum", "negative", "abs", "sign", "exp", "expm1", "log", "log1p",
    "sqrt", "rsqrt", "square", "squared_difference", "reciprocal", "scalar_mul", "add_n",
    "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan", "atan2", "erf",
    "sigmoid", "softplus", "floor", "ceil", "round", "equal", "not_equal", "less",
    "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor",
    "logical_not", "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
    "reduce_logsumexp", "reduce_variance", "reduce_std", "reduce_any", "reduce_all",
    "argmax", "argmin", "cumsum",
)
math = _namespace("math", "``tf.math``: element-wise math and reductions.", {
    **{n: globals()[n] for n in _MATH_NAMES}, "mod": mod,
})

def _matvec(a: Any, b: Any, transpose_a: builtins.bool = False, adjoint_a: builtins.bool = False,
            a_is_sparse: builtins.bool = False, b_is_sparse: builtins.bool = False,
            name: str | None = None) -> Tensor:
    """Matrix times vector over the last axes: ``(..., m, n) x (..., n) -> (..., m)``."""
    out = matmul(a, pt.expand_dims(b, -1), transpose_a=transpose_a, adjoint_a=adjoint_a)
    return pt.squeeze(out, -1)


def _adjoint(x: Tensor) -> Tensor:
    return _swap_last(pt.conj(x) if pt.isdtype(x.dtype, "complex floating") else x)


def _linalg_inv(input: Any, adjoint: builtins.bool = False, name: str | None = None) -> Tensor:  # noqa: A002
    """Inverse of each square matrix (of its adjoint with ``adjoint=True``)."""
    x = pt.linalg.inv(input)
    return _adjoint(x) if adjoint else x


def _linalg_solve(matrix: Any, rhs: Any, adjoint: builtins.bool = False,
                  name: str | None = None) -> Tensor:
    """``X`` with ``matrix @ X == rhs``; ``rhs`` is ``(..., M, K)`` as in TensorFlow."""
    matrix, rhs = check_same_dtype("MatrixSolve", (matrix, rhs))
    matrix, rhs = pt.convert_to_tensor(matrix), pt.convert_to_tensor(rhs)
    if rhs.ndim < 2:
        raise InvalidArgumentError(
            f"tf.linalg.solve: rhs must have rank >= 2 (..., M, K), got shape {tuple(rhs.shape)}")
    return pt.linalg.solve(_adjoint(matrix) if adjoint else matrix, rhs)


def _linalg_svd(tensor: Any, full_matrices: builtins.bool = False, compute_uv: builtins.bool = True,
                name: str | None = None) -> Any:
    """TensorFlow's order and convention: ``s, u, v`` with ``tensor = u @ diag(s) @ adjoint(v)``
    (``s`` alone with ``compute_uv=False``)."""
    if not compute_uv:
        return pt.linalg.svdvals(tensor)
    u, s, vh = pt.linalg.svd(tensor, full_matrices=full_matrices)
    return s, u, _adjoint(vh)


def _linalg_qr(input: Any, full_matrices: builtins.bool = False, name: str | None = None) -> Any:  # noqa: A002
    """``q, r`` of each matrix (``full_matrices=True`` is the standard's ``mode="complete"``)."""
    return tuple(pt.linalg.qr(input, mode="complete" if full_matrices else "reduced"))


def _linalg_pinv(a: Any, rcond: Any = None, validate_args: builtins.bool = False,
                 name: str | None = None) -> Tensor:
    """Moore-Penrose pseudo-inverse; singular values below ``rcond * max(s)`` are dropped
    (TensorFlow's default ``rcond``: ``10 * max(M, N) * eps``)."""
    a = pt.convert_to_tensor(a)
    if rcond is None:
        rcond = 10.0 * max(a.shape[-2:]) * float(pt.finfo(a.dtype).eps)
    return pt.linalg.pinv(a, rtol=rcond)


def _linalg_diag(diagonal: Any, name: str | None = None, k: int = 0, **kwargs: Any) -> Tensor:
    """A batch of square matrices with ``diagonal``'s last axis on their main diagonal."""
    unsupported({**kwargs, **({"k": k} if k else {})}, "tf.linalg.diag")
    d = pt.convert_to_tensor(diagonal)
    return pt.expand_dims(d, -1) * pt.eye(d.shape[-1], dtype=d.dtype)


def _only_input(fn: Any, doc: str) -> Any:
    def wrapper(input: Any, name: str | None = None) -> Any:  # noqa: A002
        out = fn(input)
        return tuple(out) if isinstance(out, tuple) else out
    wrapper.__doc__ = doc
    return wrapper


linalg = _namespace("linalg", "``tf.linalg``: matrix products, norms and decompositions.", {
    "matmul": matmul, "tensordot": tensordot, "einsum": einsum, "norm": norm, "eye": eye,
    "matrix_transpose": lambda a, name=None: _swap_last(pt.convert_to_tensor(a)),
    "adjoint": lambda matrix, name=None: _adjoint(pt.convert_to_tensor(matrix)),
    "matvec": _matvec, "global_norm": global_norm,
    "inv": _linalg_inv, "solve": _linalg_solve, "svd": _linalg_svd, "qr": _linalg_qr,
    "pinv": _linalg_pinv,
    "det": _only_input(pt.linalg.det, "Determinant of each square matrix."),
    "slogdet": _only_input(pt.linalg.slogdet,
                           "``sign, log_abs_determinant`` of each square matrix."),
    "cholesky": _only_input(pt.linalg.cholesky, "Lower Cholesky factor of each SPD matrix."),
    "eigh": _only_input(pt.linalg.eigh, "``e, v``: ascending eigenvalues and eigenvectors."),
    "eigvalsh": _only_input(pt.linalg.eigvalsh, "Ascending eigenvalues of each symmetric matrix."),
    "diag": _linalg_diag,
    "trace": lambda x, name=None: pt.linalg.trace(x),
    "diag_part": lambda input, name=None, k=0: pt.linalg.diagonal(input, offset=k),
})

errors = _namespace("errors", "``tf.errors``: the exception types TensorFlow code catches.", {
    "InvalidArgumentError": InvalidArgumentError, "OpError": PolytapeError,
})


def _random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = float32,
                   seed: int | None = None, name: str | None = None) -> Tensor:
    """Normal samples (see :func:`polytape.random.normal`)."""
    return _random.normal(shape, mean, stddev, dtype=dtype, seed=seed)


def _random_uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = float32,
                    seed: int | None = None, name: str | None = None) -> Tensor:
    """Uniform samples on ``[minval, maxval)`` (see :func:`polytape.random.uniform`)."""
    return _random.uniform(shape, minval, maxval, dtype=dtype, seed=seed)


def _random_truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0,
                             dtype: Any = float32, seed: int | None = None,
                             name: str | None = None) -> Tensor:
    """Normal samples within two standard deviations (see :func:`polytape.random.truncated_normal`)."""
    return _random.truncated_normal(shape, mean, stddev, dtype=dtype, seed=seed)


def _random_shuffle(value: Any, seed: int | None = None, name: str | None = None) -> Tensor:
    """``value`` with its first axis randomly permuted."""
    return _random.shuffle(value, seed=seed)


random = _namespace("random", "``tf.random``: seeded random tensors, identical on every backend.", {
    "normal": _random_normal, "uniform": _random_uniform,
    "truncated_normal": _random_truncated_normal, "shuffle": _random_shuffle,
    "set_seed": _random.set_seed,
})

dtypes = _namespace("dtypes", "``tf.dtypes``: the dtype objects.", {
    "DType": DType, "as_dtype": as_dtype, "cast": cast, "float16": float16, "bfloat16": bfloat16,
    "float32": float32, "float64": float64, "int8": int8, "int16": int16, "int32": int32,
    "int64": int64, "uint8": uint8, "bool": bool,
})

autodiff = _namespace(
    "autodiff", "``tf.autodiff``: forward-mode differentiation (``ForwardAccumulator``).",
    {"ForwardAccumulator": pt.ForwardAccumulator})

# -- keras --------------------------------------------------------------------------------------------
_losses = _nn.losses
_metrics = _nn.metrics
_keras_layers = _namespace("keras.layers", "``tf.keras.layers``.", {
    "Layer": _nn.Layer, "Dense": _nn.Dense, "Activation": _nn.Activation,
    "Flatten": _nn.Flatten, "Dropout": _nn.Dropout, "InputLayer": _nn.InputLayer,
    "Input": _nn.Input, "Conv2D": _nn.Conv2D, "MaxPooling2D": _nn.MaxPooling2D,
    "AveragePooling2D": _nn.AveragePooling2D, "MaxPool2D": _nn.MaxPooling2D,
    "AvgPool2D": _nn.AveragePooling2D, "BatchNormalization": _nn.BatchNormalization,
    "LayerNormalization": _nn.LayerNormalization, "Embedding": _nn.Embedding,
})
_keras_optimizers = _namespace("keras.optimizers", "``tf.keras.optimizers``.", {
    "Optimizer": _optimizers.Optimizer, "SGD": _optimizers.SGD, "Adam": _optimizers.Adam,
    "AdamW": _optimizers.AdamW, "Nadam": _optimizers.Nadam, "RMSprop": _optimizers.RMSprop,
    "Adagrad": _optimizers.Adagrad, "get": _optimizers.get,
    "schedules": _namespace("keras.optimizers.schedules", "Learning-rate schedules.",
                            dict(vars(_optimizers.schedules))),
})
_keras_losses = _namespace("keras.losses", "``tf.keras.losses``.", {
    "Loss": _losses.Loss, "MeanSquaredError": _losses.MeanSquaredError,
    "MeanAbsoluteError": _losses.MeanAbsoluteError, "Huber": _losses.Huber,
    "BinaryCrossentropy": _losses.BinaryCrossentropy,
    "CategoricalCrossentropy": _losses.CategoricalCrossentropy,
    "SparseCategoricalCrossentropy": _losses.SparseCategoricalCrossentropy,
    "mean_squared_error": _losses.mean_squared_error, "mse": _losses.mse,
    "MSE": _losses.mse, "mean_absolute_error": _losses.mean_absolute_error,
    "mae": _losses.mae, "MAE": _losses.mae, "huber": _losses.huber,
    "binary_crossentropy": _losses.binary_crossentropy,
    "categorical_crossentropy": _losses.categorical_crossentropy,
    "sparse_categorical_crossentropy": _losses.sparse_categorical_crossentropy,
    "get": _losses.get,
})
_keras_metrics = _namespace("keras.metrics", "``tf.keras.metrics``.", {
    "Metric": _metrics.Metric, "Mean": _metrics.Mean, "Accuracy": _metrics.Accuracy,
    "BinaryAccuracy": _metrics.BinaryAccuracy,
    "CategoricalAccuracy": _metrics.CategoricalAccuracy,
    "SparseCategoricalAccuracy": _metrics.SparseCategoricalAccuracy,
    "MeanSquaredError": _metrics.MeanSquaredError,
    "MeanAbsoluteError": _metrics.MeanAbsoluteError, "get": _metrics.get,
    "binary_accuracy": _metrics.binary_accuracy,
    "categorical_accuracy": _metrics.categorical_accuracy,
    "sparse_categorical_accuracy": _metrics.sparse_categorical_accuracy,
})
_keras_activations = _namespace("keras.activations", "``tf.keras.activations``.", {
    n: getattr(_nn.activations, n) for n in _nn.activations.__all__})
_keras_initializers = _namespace("keras.initializers", "``tf.keras.initializers``.", {
    n: getattr(_nn.initializers, n) for n in _nn.initializers.__all__ if n != "compute_fans"})
_keras_callbacks = _namespace("keras.callbacks", "``tf.keras.callbacks``.", {
    "Callback": _nn.Callback, "History": _nn.History,
    "EarlyStopping": _nn.training_callbacks.EarlyStopping,
    "ModelCheckpoint": _nn.training_callbacks.ModelCheckpoint,
    "LearningRateScheduler": _nn.training_callbacks.LearningRateScheduler})
_keras_regularizers = _namespace("keras.regularizers", "``tf.keras.regularizers``.", {
    n: getattr(_nn.regularizers, n) for n in _nn.regularizers.__all__})
_keras_models = _namespace("keras.models", "``tf.keras.models``.", {
    "Sequential": _nn.Sequential, "Model": _nn.Model, "load_model": _nn.models.load_model})
compat = _namespace("compat", "``tf.compat``: the TensorFlow 1 names polytape provides.", {
    "v1": _namespace("compat.v1", "``tf.compat.v1``.", {
        "nn": _namespace("compat.v1.nn", "``tf.compat.v1.nn``.", {
            "fused_batch_norm": _conv.fused_batch_norm})})})
config = _namespace("config", "``tf.config``: the current backend's devices.", {
    "list_physical_devices": _devices.list_physical_devices,
    "list_logical_devices": _devices.list_logical_devices,
    "set_soft_device_placement": _devices.set_soft_device_placement,
    "get_soft_device_placement": _devices.get_soft_device_placement,
    "run_functions_eagerly": _devices._accepted,
    "functions_run_eagerly": lambda: True,
    "set_visible_devices": _devices._accepted,
    "experimental": _namespace("config.experimental", "``tf.config.experimental``.", {
        "set_memory_growth": _devices._accepted,
        "list_physical_devices": _devices.list_physical_devices}),
})

keras = _namespace("keras", "``tf.keras``: Sequential models, layers, optimizers, losses, metrics.", {
    "Sequential": _nn.Sequential, "Model": _nn.Model, "Input": _nn.Input,
    "layers": _keras_layers, "optimizers": _keras_optimizers, "losses": _keras_losses,
    "metrics": _keras_metrics, "activations": _keras_activations,
    "initializers": _keras_initializers, "callbacks": _keras_callbacks,
    "regularizers": _keras_regularizers, "models": _keras_models,
})
