"""Bitwise ops on integer (and, for and/or/xor/invert, bool) tensors: the Array API's
``bitwise_and``, ``bitwise_or``, ``bitwise_xor``, ``bitwise_invert``,
``bitwise_left_shift`` and ``bitwise_right_shift``. None is differentiable.

The operators ``& | ^ ~ << >>`` on tensors use them when an operand is an integer
tensor; on bool (and, as before, float) tensors ``& | ^ ~`` stay logical.

>>> import polytape as pt
>>> (pt.constant([12, 10]) & 6).numpy().tolist()
[4, 2]
>>> (pt.constant([True, False]) & True).numpy().tolist()
[True, False]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import derivatives  # noqa: F401  (fills the op table, which public_op reads)
from .dispatch import binary_function, public_op, unary_function, unary_operand
from .elementwise import logical_and, logical_not, logical_or, logical_xor
from .errors import DTypeError
from .tensor import Tensor

__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_invert", "bitwise_left_shift",
           "bitwise_right_shift"]


def _checked(name: str, kinds: str, doc: str) -> Callable[[Any, Any], Tensor]:
    body = public_op(name, doc, binary_function)
    what = "integer or bool" if "b" in kinds else "integer"

    def fn(x1: Any, x2: Any, /) -> Tensor:
        for v in (x1, x2):
            bad = v.dtype.name if isinstance(v, Tensor) and v.dtype.kind not in kinds else (
                "float" if isinstance(v, float) else None)
            if bad is not None:
                raise DTypeError(f"{name}: needs {what} tensors, got {bad}")
        return body(x1, x2)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


bitwise_and = _checked("bitwise_and", "iub", "Elementwise bitwise and of integer or bool tensors.")
bitwise_or = _checked("bitwise_or", "iub", "Elementwise bitwise or of integer or bool tensors.")
bitwise_xor = _checked("bitwise_xor", "iub", "Elementwise bitwise xor of integer or bool tensors.")
bitwise_left_shift = _checked(
    "bitwise_left_shift", "iu", "Elementwise ``x1 << x2`` on integer tensors (``x2 >= 0``).")
bitwise_right_shift = _checked(
    "bitwise_right_shift", "iu",
    "Elementwise ``x1 >> x2`` on integer tensors (``x2 >= 0``; arithmetic for signed types).")
_invert = public_op("bitwise_invert", "", unary_function)


def bitwise_invert(x: Any, /) -> Tensor:
    """Elementwise bitwise not of an integer or bool tensor (``~x``)."""
    x = unary_operand(x)
    if x.dtype.kind not in "iub":
        raise DTypeError(f"bitwise_invert: needs an integer or bool tensor, got {x.dtype.name}")
    return _invert(x)


# -- operators ------------------------------------------------------------------------------------
def _integral(v: Any) -> bool:
    return isinstance(v, Tensor) and v.dtype.kind in "iu"


def bitwise_or_logical(bitwise: Callable[[Any, Any], Tensor],
                       logical: Callable[[Any, Any], Tensor]) -> Callable[[Any, Any], Tensor]:
    """An operator (``&``...): bitwise when an operand is an integer tensor, else logical."""
    def op(x: Any, y: Any) -> Tensor:
        return bitwise(x, y) if _integral(x) or _integral(y) else logical(x, y)
    return op


def invert(x: Any) -> Tensor:
    """``~x``: bitwise on integer tensors, logical not otherwise."""
    return bitwise_invert(x) if _integral(x) else logical_not(x)


and_ = bitwise_or_logical(bitwise_and, logical_and)
or_ = bitwise_or_logical(bitwise_or, logical_or)
xor = bitwise_or_logical(bitwise_xor, logical_xor)
