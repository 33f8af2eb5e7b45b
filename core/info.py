"""The Array API namespace's inspection utilities: ``__array_api_version__``,
``__array_namespace_info__``, the constants ``e``/``pi``/``inf``/``nan``/``newaxis``, and
the data-type functions ``finfo``, ``iinfo``, ``isdtype``, ``can_cast``.

They make ``import polytape as xp`` usable by code written against the standard
(``xp = x.__array_namespace__()``); ``docs/array-api.md`` lists what is covered.

>>> import polytape as pt
>>> pt.isdtype(pt.float32, "real floating")
True
>>> pt.iinfo(pt.int8).max
127
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import ml_dtypes
import numpy as np

from .backend_selection import current_backend
from .dtypes import (
    DType,
    all_dtypes,
    as_dtype,
    default_complex,
    default_float,
    default_int,
    int64,
    real_of,
    result_type,
)
from .errors import DTypeError, InvalidArgumentError

__all__ = ["__array_api_version__", "__array_namespace_info__", "e", "pi", "inf", "nan",
           "newaxis", "finfo", "iinfo", "isdtype", "can_cast", "finfo_object", "iinfo_object"]

__array_api_version__ = "2024.12"

e = math.e
pi = math.pi
inf = math.inf
nan = math.nan
newaxis = None

# The standard's kind names -> the polytape dtype kinds they cover.
_KINDS = {
    "bool": "b", "signed integer": "i", "unsigned integer": "u", "integral": "iu",
    "real floating": "f", "complex floating": "c", "numeric": "iufc",
}


def _dtype_of(x: Any, fn: str) -> DType:
    # The standard's data-type functions take a dtype or an array.
    dt = getattr(x, "dtype", x)
    try:
        return as_dtype(dt)
    except DTypeError as exc:
        raise DTypeError(f"{fn}: {exc}") from None


@dataclass(frozen=True)
class finfo_object:  # noqa: N801  (the standard's name)
    """Machine limits of a floating-point dtype (what :func:`finfo` returns)."""

    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: DType


@dataclass(frozen=True)
class iinfo_object:  # noqa: N801  (the standard's name)
    """Limits of an integer dtype (what :func:`iinfo` returns)."""

    bits: int
    max: int
    min: int
    dtype: DType


def _numpy_type(dt: DType) -> Any:
    return ml_dtypes.bfloat16 if dt.name == "bfloat16" else np.dtype(dt.name)


def finfo(type: Any) -> finfo_object:  # noqa: A002  (the standard's parameter name)
    """Machine limits of floating dtype ``type`` (a dtype or a tensor). For a complex
    dtype, as the standard says, the limits of its real and imaginary parts (complex64 ->
    float32's, with ``dtype`` float32).

    >>> import polytape as pt
    >>> pt.finfo(pt.float32).bits
    32
    """
    dt = _dtype_of(type, "finfo")
    if dt.kind == "c":
        dt = real_of(dt)
    if dt.kind != "f":
        raise DTypeError(f"finfo: {dt.name} is not a floating-point dtype; use iinfo for integers")
    info = ml_dtypes.finfo(_numpy_type(dt))
    return finfo_object(dt.bits, float(info.eps), float(info.max), float(info.min),
                        float(info.smallest_normal), dt)


def iinfo(type: Any) -> iinfo_object:  # noqa: A002  (the standard's parameter name)
    """Limits of integer dtype ``type`` (a dtype or a tensor).

    >>> import polytape as pt
    >>> pt.iinfo(pt.uint8).max
    255
    """
    dt = _dtype_of(type, "iinfo")
    if dt.kind not in "iu":
        raise DTypeError(f"iinfo: {dt.name} is not an integer dtype; use finfo for floats")
    info = np.iinfo(np.dtype(dt.name))
    return iinfo_object(dt.bits, int(info.max), int(info.min), dt)


def isdtype(dtype: Any, kind: Any) -> bool:
    """Whether ``dtype`` is of ``kind``: a dtype, one of the standard's kind names
    (``"bool"``, ``"signed integer"``, ``"unsigned integer"``, ``"integral"``,
    ``"real floating"``, ``"complex floating"``, ``"numeric"``), or a tuple of those.

    >>> import polytape as pt
    >>> pt.isdtype(pt.int8, ("integral", pt.float32))
    True
    """
    if not isinstance(dtype, DType):
        raise DTypeError(f"isdtype: expected a polytape dtype, got {dtype!r}")
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        kinds = _KINDS.get(kind)
        if kinds is None:
            raise InvalidArgumentError(f"isdtype: unknown kind {kind!r}; use one of "
                                       f"{', '.join(map(repr, _KINDS))} or a dtype")
        return dtype.kind in kinds
    try:
        return dtype is as_dtype(kind)
    except DTypeError:
        raise InvalidArgumentError(f"isdtype: kind must be a dtype, a kind name or a tuple of "
                                   f"those, got {kind!r}") from None


def can_cast(from_: Any, to: Any, /) -> bool:
    """Whether ``from_`` (a dtype or a tensor) casts to ``to`` under the standard's
    promotion rules: within one kind, to a type at least as wide (and unsigned to a wider
    signed type); bool to bool only; never across kinds.

    >>> import polytape as pt
    >>> pt.can_cast(pt.int8, pt.int32), pt.can_cast(pt.int32, pt.float64)
    (True, False)
    """
    a, b = _dtype_of(from_, "can_cast"), _dtype_of(to, "can_cast")
    if a is b:
        return True
    # polytape's own table mixes kinds (bool with numbers, integers with floats, as PyTorch);
    # the standard's can_cast does not, and array_api_strict answers False there. Real floats
    # cast to complex dtypes that hold them (float32 -> complex64), never the reverse.
    if (a.kind == "b") != (b.kind == "b") or (a.kind in "iu") != (b.kind in "iu"):
        return False
    if a.kind == "c" and b.kind != "c":
        return False
    if b.kind == "c" and a.kind == "f":
        return a.name != "bfloat16" and result_type(a, b) is b
    if a.name == "bfloat16" or b.name == "bfloat16":  # an extension dtype: only to wider floats
        return b.kind == "f" and b.bits > a.bits
    try:
        return result_type(a, b) is b
    except DTypeError:  # uint64 with a signed integer: no common dtype
        return False


class _Info:
    """What ``__array_namespace_info__()`` returns: the standard's inspection API."""

    __slots__ = ()

    def capabilities(self) -> dict[str, Any]:
        """Optional features: boolean indexing and data-dependent shapes (eager backends)."""
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": 64}

    def default_device(self) -> str:
        """The device new tensors land on with the current backend selection."""
        return current_backend().default_device

    def default_dtypes(self, *, device: Any = None) -> dict[str, DType]:
        """The default dtypes: int32 is the default integer (``asarray(0)`` and TensorFlow's
        ``1`` are int32, and narrower integers sum in it); indices are int64. See
        docs/array-api.md."""
        return {"real floating": default_float, "complex floating": default_complex,
                "integral": default_int, "indexing": int64}

    def devices(self) -> list[str]:
        """The devices of the current backend."""
        return list(current_backend().devices())

    def dtypes(self, *, device: Any = None, kind: Any = None) -> dict[str, DType]:
        """The standard's dtypes the current backend has (of ``kind`` when given; see
        :func:`isdtype`); the extension dtypes float16 and bfloat16 are not listed."""
        be = current_backend()
        return {d.name: d for d in all_dtypes if d in be.native_dtypes
                and d.name not in _EXTENSION_DTYPES and (kind is None or isdtype(d, kind))}


_INFO = _Info()
# polytape's dtypes the standard does not define (``dtypes()`` lists only the standard's).
_EXTENSION_DTYPES = ("float16", "bfloat16")


def __array_namespace_info__() -> _Info:
    """The standard's inspection API (``capabilities``, ``default_device``,
    ``default_dtypes``, ``devices``, ``dtypes``).

    >>> import polytape as pt
    >>> pt.__array_namespace_info__().default_dtypes()["real floating"]
    polytape.float32
    """
    return _INFO

