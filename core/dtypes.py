"""Canonical dtypes and the type-promotion rules every backend obeys.

polytape decides result dtypes in the front end, so the same inputs give the
same dtype on NumPy, CuPy and PyTorch even though their native rules differ.

Rules (the Python Array API standard's table, extended where it is silent):

* within a kind, the wider type wins; ``bfloat16 + float16 -> float32``;
* a signed with an unsigned integer gives the narrowest signed type holding both
  (``int8 + uint8 -> int16``, ``int32 + uint32 -> int64``); ``uint64`` with a signed
  integer has no such type: the standard leaves it undefined, NumPy answers float64
  (inexact) and TensorFlow refuses; polytape raises :class:`DTypeError` (cast one first);
* a real float with a complex dtype gives the complex dtype wide enough for both
  (``float64 + complex64 -> complex128``; float16/bfloat16 + complex64 -> complex64);
* ``bool`` mixed with a number takes the number's dtype (as PyTorch does);
* an integer mixed with a float or complex takes that dtype (as JAX and PyTorch do);
* Python scalars are *weak*: ``float32_tensor * 2.0`` stays float32; a float
  scalar with an integer tensor gives the default float, ``float32``; a complex
  scalar gives the complex dtype of the tensor's precision (``float64 -> complex128``,
  integers and narrower floats ``complex64``).

>>> import polytape as pt
>>> pt.result_type(pt.int8, pt.uint8)
polytape.int16
"""

from __future__ import annotations

from typing import Any

from .errors import DTypeError

__all__ = [
    "DType", "bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "bfloat16", "float32", "float64", "complex64", "complex128", "as_dtype",
    "result_type", "all_dtypes", "default_float", "default_int", "default_complex",
    "is_floating", "is_integer", "is_complex", "complex_of", "real_of", "accumulation_dtype",
]


class DType:
    """One canonical dtype: a name, a kind (``b``, ``i``, ``u``, ``f``, ``c``) and a size in bits."""

    __slots__ = ("name", "kind", "bits", "_rank")

    def __init__(self, name: str, kind: str, bits: int, rank: int) -> None:
        self.name = name
        self.kind = kind
        self.bits = bits
        self._rank = rank

    @property
    def is_floating(self) -> bool:
        """True for float16, bfloat16, float32 and float64."""
        return self.kind == "f"

    @property
    def is_complex(self) -> bool:
        """True for complex64 and complex128."""
        return self.kind == "c"

    @property
    def is_inexact(self) -> bool:
        """True for real floating and complex dtypes: the dtypes that carry gradients."""
        return self.kind in "fc"

    @property
    def is_integer(self) -> bool:
        """True for signed and unsigned integers (not bool)."""
        return self.kind in "iu"

    def __repr__(self) -> str:
        return f"polytape.{self.name}"

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return other is self
        try:
            return as_dtype(other) is self
        except DTypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self) -> tuple:
        return (as_dtype, (self.name,))


bool_ = DType("bool", "b", 8, 0)
int8 = DType("int8", "i", 8, 1)
int16 = DType("int16", "i", 16, 2)
int32 = DType("int32", "i", 32, 3)
int64 = DType("int64", "i", 64, 4)
uint8 = DType("uint8", "u", 8, 1)
uint16 = DType("uint16", "u", 16, 2)
uint32 = DType("uint32", "u", 32, 3)
uint64 = DType("uint64", "u", 64, 4)
float16 = DType("float16", "f", 16, 1)
bfloat16 = DType("bfloat16", "f", 16, 1)
float32 = DType("float32", "f", 32, 2)
float64 = DType("float64", "f", 64, 3)
complex64 = DType("complex64", "c", 64, 1)
complex128 = DType("complex128", "c", 128, 2)

all_dtypes: tuple[DType, ...] = (
    bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, bfloat16,
    float32, float64, complex64, complex128,
)
default_float = float32
default_int = int32
# The standard pairs the default complex dtype with the default real one (float32 -> complex64).
default_complex = complex64

_BY_NAME = {d.name: d for d in all_dtypes}
_BY_NAME.update({"bool_": bool_, "half": float16, "float": float32, "double": float64})
_SIGNED = (int8, int16, int32, int64)
_UNSIGNED_MAX = {8: 2**8 - 1, 16: 2**16 - 1, 32: 2**32 - 1, 64: 2**64 - 1}


def complex_of(dtype: DType) -> DType:
    """The complex dtype with ``dtype``'s precision: float64 -> complex128, else complex64."""
    if dtype.kind == "c":
        return dtype
    return complex128 if dtype.kind == "f" and dtype.bits == 64 else complex64


def real_of(dtype: DType) -> DType:
    """The real dtype of a complex dtype's parts (complex64 -> float32); others unchanged."""
    if dtype.kind != "c":
        return dtype
    return float64 if dtype is complex128 else float32


def accumulation_dtype(dtype: DType) -> DType:
    """The dtype ``sum``/``prod``/``cumulative_sum``/``cumulative_prod``/``trace`` return for
    ``dtype`` input without ``dtype=``: the Array API's rule. Bool and signed integers narrower
    than the default integer (int32, what ``asarray(0)`` gives) accumulate in it, unsigned ones
    in the unsigned integer of its width (uint32); wider integers and floats keep their dtype.

    >>> import polytape as pt
    >>> pt.dtypes.accumulation_dtype(pt.int8), pt.dtypes.accumulation_dtype(pt.uint16)
    (polytape.int32, polytape.uint32)
    """
    if dtype.kind == "b" or (dtype.kind == "i" and dtype.bits < default_int.bits):
        return default_int
    if dtype.kind == "u" and dtype.bits < default_int.bits:
        return _BY_NAME[f"uint{default_int.bits}"]
    return dtype


def is_complex(dtype: Any) -> bool:
    """True when ``dtype`` is complex64 or complex128."""
    return as_dtype(dtype).kind == "c"


def as_dtype(spec: Any) -> DType:
    """Return the canonical :class:`DType` for a DType, a name, a NumPy/torch dtype or a Python type.

    >>> as_dtype("float32") is float32
    True

    Raises :class:`DTypeError` for anything polytape does not support.
    """
    if isinstance(spec, DType):
        return spec
    if spec is float:
        return float32
    if spec is int:
        return int32
    if spec is bool:
        return bool_
    if spec is complex:
        return default_complex
    name = getattr(spec, "name", None) if not isinstance(spec, str) else spec
    if not isinstance(name, str):
        name = str(spec)
    name = name.replace("torch.", "")
    found = _BY_NAME.get(name)
    if found is None:
        raise DTypeError(
            f"unknown dtype {spec!r}; polytape supports: {', '.join(d.name for d in all_dtypes)}"
        )
    return found


def _promote(a: DType, b: DType) -> DType | None:
    if a is b:
        return a
    if a.kind == "b":
        return b
    if b.kind == "b":
        return a
    if a.kind == "c" or b.kind == "c":
        if a.kind == "c" and b.kind == "c":
            return a if a.bits > b.bits else b
        cx, other = (a, b) if a.kind == "c" else (b, a)
        return complex128 if cx is complex128 or (other.kind == "f" and other.bits == 64) \
            else complex64
    if a.kind == "f" and b.kind == "f":
        if a.bits == b.bits:  # float16 with bfloat16: neither holds the other
            return float32
        return a if a.bits > b.bits else b
    if a.kind == "f":
        return a
    if b.kind == "f":
        return b
    if a.kind == b.kind:
        return a if a.bits > b.bits else b
    signed, unsigned = (a, b) if a.kind == "i" else (b, a)
    if signed.bits > unsigned.bits:
        return signed
    if unsigned.bits == 64:
        return None  # no signed type holds uint64: see the module docstring
    return {8: int16, 16: int32, 32: int64}[unsigned.bits]


class _PromotionTable(dict):
    """``(dtype, dtype) -> dtype``; a pair without a result raises :class:`DTypeError`."""

    def __missing__(self, key: tuple) -> DType:
        a, b = key
        if isinstance(a, DType) and isinstance(b, DType):
            raise DTypeError(
                f"no dtype holds both {a.name} and {b.name} exactly (the Array API leaves "
                f"uint64 with a signed integer undefined); cast one of them first, e.g. "
                f"pt.astype(x, pt.int64) or pt.astype(x, pt.float64)")
        raise KeyError(key)


_TABLE = _PromotionTable({(a, b): r for a in all_dtypes for b in all_dtypes
                          if (r := _promote(a, b)) is not None})


def result_type(*dtypes: Any) -> DType:
    """Promote dtypes pairwise with polytape's table (see the module docstring).

    As the Array API's ``result_type``, arguments may also be tensors (their dtypes)
    and Python scalars, which are weak (they never widen a tensor's dtype).
    """
    scalars = [d for d in dtypes if type(d) in (bool, int, float, complex)]
    dtypes = tuple(getattr(d, "dtype", d) for d in dtypes
                   if type(d) not in (bool, int, float, complex))
    if not dtypes:
        raise DTypeError("result_type needs at least one dtype or tensor")
    out = as_dtype(dtypes[0])
    for d in dtypes[1:]:
        out = _TABLE[out, as_dtype(d)]
    for v in scalars:
        out = weak_result_type(out, v)
    return out


def weak_result_type(dtype: DType, scalar: Any) -> DType:
    """The dtype of ``tensor op scalar`` when the scalar is a Python bool, int, float or complex."""
    if type(scalar) is bool:
        return dtype
    if type(scalar) is int or (isinstance(scalar, int) and not isinstance(scalar, bool)):
        out = default_int if dtype.kind == "b" else dtype
        if out.kind in "iu":
            lo, hi = (0, _UNSIGNED_MAX[out.bits]) if out.kind == "u" else \
                (-(2 ** (out.bits - 1)), 2 ** (out.bits - 1) - 1)
            if not lo <= scalar <= hi:
                # NumPy raises here and PyTorch wraps around; polytape says so on every backend.
                raise DTypeError(f"the Python int {scalar} does not fit the tensor's dtype {out.name}; "
                                 "cast the tensor to a wider dtype first")
        return out
    if isinstance(scalar, float):
        return dtype if dtype.kind in "fc" else default_float
    if isinstance(scalar, complex):
        return complex_of(dtype)
    raise DTypeError(f"cannot use a {type(scalar).__name__} ({scalar!r}) as a number")


def is_floating(dtype: DType) -> bool:
    """True when ``dtype`` is a floating-point dtype."""
    return as_dtype(dtype).kind == "f"


def is_inexact(dtype: DType) -> bool:
    """True when ``dtype`` is a real floating or complex dtype (one that carries gradients)."""
    return as_dtype(dtype).kind in "fc"


def is_integer(dtype: DType) -> bool:
    """True when ``dtype`` is a signed or unsigned integer dtype."""
    return as_dtype(dtype).kind in "iu"


def infer_literal_dtype(value: Any) -> DType:
    """TensorFlow's rule for literals: floats are float32, ints int32 (int64 if too big), bools
    bool; complex numbers are complex64, the standard's default complex dtype beside float32
    (TensorFlow makes them complex128)."""
    kind = _literal_kind(value)
    if kind == "b":
        return bool_
    if kind == "c":
        return default_complex
    if kind == "f":
        return float32
    if kind == "i":
        return int32 if _fits_int32(value) else int64
    raise DTypeError(f"cannot make a tensor from {type(value).__name__} {value!r}")


def _literal_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "b"
    if isinstance(value, int):
        return "i"
    if isinstance(value, float):
        return "f"
    if isinstance(value, complex):
        return "c"
    if isinstance(value, (list, tuple)):
        kinds = {_literal_kind(v) for v in value}
        if not kinds:
            return "f"
        for k in ("c", "f", "i", "b"):
            if k in kinds:
                return k
    raise DTypeError(f"cannot make a tensor from {type(value).__name__} {value!r}")


def _fits_int32(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_fits_int32(v) for v in value)
    return -(2**31) <= int(value) < 2**31
