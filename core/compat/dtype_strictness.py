"""TensorFlow's dtype strictness, for the functions of ``polytape.compat.tensorflow`` only.

TensorFlow never promotes between tensor dtypes: ``tf.add(float32, int32)`` and
``tf.matmul(float64 array, float32 variable)`` raise ``InvalidArgumentError``, and
float-only kernels (``tf.sin``, ``tf.exp``...) reject integer tensors. polytape's own
namespace follows the Array API's promotion instead, so the checks live here and wrap
the compat functions, leaving ``import polytape as pt`` unchanged.

What counts as *strong* (its dtype is fixed): tensors, variables and NumPy arrays.
Python numbers, lists of them and NumPy scalars are *weak*: they take the strong
operand's dtype, as they do in TensorFlow -- except that a non-integral float cannot
become an integer (TensorFlow raises there too).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import polytape as pt
from polytape.errors import InvalidArgumentError

__all__ = ["strict_binary", "float_only", "check_same_dtype"]


def _strong_dtype(x: Any) -> Any:
    """The dtype ``x`` keeps when converted (None for weak values)."""
    if isinstance(x, pt.Tensor):
        return x.dtype
    if isinstance(x, np.ndarray) and x.ndim > 0:
        return pt.as_dtype(x.dtype)
    return None


def _has_fraction(x: Any) -> bool:
    values = np.asarray(x, dtype=object).reshape(-1)
    return any(isinstance(v, (float, np.floating)) and not float(v).is_integer() for v in values)


def check_same_dtype(op: str, values: Sequence[Any]) -> list[Any]:
    """``values`` with the weak ones converted to the strong dtype; TensorFlow's
    ``InvalidArgumentError`` when ``values`` mix strong dtypes.

    The first strong value's dtype is the op's, as in TensorFlow's eager type inference;
    its wording: "cannot compute AddV2 as input #1(zero-based) was expected to be a float
    tensor but is a int32 tensor".
    """
    expected = strong = None
    for v in values:
        dt = _strong_dtype(v)
        if dt is not None:
            expected, strong = dt, v
            break
    if expected is None:
        return list(values)
    backend = strong.backend if isinstance(strong, pt.Tensor) else None
    out = []
    for i, v in enumerate(values):
        dt = _strong_dtype(v)
        if dt is not None and dt is not expected:
            raise InvalidArgumentError(
                f"cannot compute {op} as input #{i}(zero-based) was expected to be a "
                f"{_tf_name(expected)} tensor but is a {_tf_name(dt)} tensor [Op:{op}] "
                "(polytape.compat.tensorflow does not promote between tensor dtypes, as "
                "TensorFlow does not: cast one operand first with tf.cast)")
        if dt is None and not expected.is_floating and v is not None and _has_fraction(v):
            raise InvalidArgumentError(
                f"cannot compute {op} as input #{i}(zero-based) was expected to be a "
                f"{_tf_name(expected)} tensor but is a float tensor [Op:{op}]")
        if dt is None and v is not None and type(v) not in (int, float):
            v = pt.constant(v, dtype=expected, backend=backend)  # NumPy scalars, lists: weak
        out.append(v)
    return out


def _tf_name(dt: Any) -> str:
    # TensorFlow's messages call float32 "float" and float64 "double".
    return {"float32": "float", "float64": "double", "float16": "half"}.get(dt.name, dt.name)


def strict_binary(fn: Callable[..., Any], op: str, arity: int = 2) -> Callable[..., Any]:
    """``fn`` whose first ``arity`` arguments must share a dtype (weak values excepted)."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        args = (*check_same_dtype(op, args[:arity]), *args[arity:])
        return fn(*args, **kwargs)
    return wrapper


def float_only(fn: Callable[..., Any], op: str) -> Callable[..., Any]:
    """``fn`` that rejects integer and bool inputs, as TensorFlow's float-only kernels do."""
    @functools.wraps(fn)
    def wrapper(x: Any, *args: Any, **kwargs: Any) -> Any:
        dt = x.dtype if isinstance(x, pt.Tensor) else pt.convert_to_tensor(x).dtype
        if not dt.is_floating:
            raise InvalidArgumentError(
                f"Value for attr 'T' of {dt.name} is not in the list of allowed values: "
                f"bfloat16, half, float, double [Op:{op}] (cast integers first with tf.cast)")
        return fn(x, *args, **kwargs)
    return wrapper
