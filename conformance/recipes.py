"""Sample inputs for every op in the op table, and the NumPy reference each is checked against.

One line per op. ``recipe(name, reference, samples, ...)`` says: call ``pt.<name>``
(or ``call``) on these samples, and compare with ``reference`` -- a NumPy
function of the same arguments, run in float64 (integers and bools in their own
dtype). For example::

    recipe("exp", np.exp, unary(-2, 2))
    recipe("log", np.log, unary(0.2, 3))
    recipe("add", np.add, binary(), kinds="fiu")

Ops with no recipe that share their name with a NumPy ufunc (a plugin's
``hypot``, say) get a generic elementwise recipe on inputs in (0.1, 0.9); any
other op without a recipe is reported by the suite as a failing "missing
recipe" case, so a new op cannot slip through unchecked.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import polytape as pt
from polytape.plugins import apply_op

from .checks import round_to

__all__ = ["Arg", "Sample", "Recipe", "RECIPES", "recipe", "recipe_for", "op_samples", "unary", "binary",
           "reductions", "samples", "dtype_names", "draw", "public_attribute"]

KIND_DTYPES = {
    "f": ("float16", "bfloat16", "float32", "float64"),
    "i": ("int8", "int16", "int32", "int64"),
    "u": ("uint8", "uint16", "uint32", "uint64"),
    "b": ("bool",),
    "c": ("complex64", "complex128"),
}


def dtype_names(kinds: str) -> tuple[str, ...]:
    """The dtype names of the kinds in ``kinds`` (``"f"`` floats, ``"i"`` signed ints,
    ``"u"`` unsigned ints, ``"b"`` bool, ``"c"`` complex), in polytape's order."""
    order = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
             "float16", "bfloat16", "float32", "float64", "complex64", "complex128")
    wanted = {d for k in kinds for d in KIND_DTYPES[k]}
    return tuple(d for d in order if d in wanted)


@dataclass(frozen=True)
class Arg:
    """How to draw one tensor argument of a sample.

    Floats are uniform in ``[low, high]``; ``gap > 0`` keeps them at least ``gap``
    away from 0 (a kink or a pole). Integers come from ``ints`` (inclusive range),
    bools are fair coin flips. ``role="mask"`` makes a bool argument whatever the
    dtype under test (``where``'s condition); ``differentiable=False`` leaves the
    argument out of gradient checks.
    """

    shape: tuple[int, ...]
    low: float = -2.0
    high: float = 2.0
    gap: float = 0.0
    ints: tuple[int, int] = (-4, 4)
    role: str = "data"
    differentiable: bool = True


@dataclass(frozen=True)
class Sample:
    """One call of an op: a label for messages, the tensor arguments, the attributes."""

    label: str
    args: tuple[Arg, ...]
    attrs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Recipe:
    """How the suite exercises op ``op``.

    ``reference(*arrays, **attrs)`` is the NumPy reference; ``call(*tensors,
    **attrs)`` runs the op (default: the public function ``polytape.<op>``).
    ``kinds`` are the dtype kinds the op accepts; ``out`` the result dtype:
    ``"same"``, ``"bool"``, a dtype name, or a function ``(dtype, attrs) -> name``.
    ``magnitude(*arrays, **attrs)`` bounds the size of the terms a result sums
    (``sum(|x|)`` for ``sum``), so rounding error is judged against it.
    ``exact`` ops (reshape, floor, ...) must reproduce the reference exactly.
    ``smooth`` replaces the reference for finite differences when the reference is
    a rounding (casts). ``grad=False`` skips gradient checks for a differentiable op.
    """

    op: str
    reference: Callable[..., Any]
    samples: tuple[Sample, ...]
    call: Callable[..., Any] | None = None
    kinds: str = "f"
    out: Any = "same"
    exact: bool = False
    grad: bool = True
    second_order: bool = True
    magnitude: Callable[..., Any] | None = None
    generic: bool = False
    smooth: Callable[..., Any] | None = None

    @property
    def differentiable_reference(self) -> Callable[..., Any]:
        """The function finite differences are taken of: ``smooth`` where the reference
        rounds (a cast's derivative is the identity), else the reference itself."""
        return self.smooth if self.smooth is not None else self.reference

    def invoke(self, *tensors: Any, **attrs: Any) -> Any:
        """Run the op under test on polytape tensors."""
        fn = self.call if self.call is not None else public_function(self.op)
        return fn(*tensors, **attrs)

    def out_dtype(self, dtype: str, attrs: dict) -> str:
        """The dtype polytape documents for this op's result."""
        if callable(self.out):
            return str(self.out(dtype, attrs))
        return dtype if self.out == "same" else str(self.out)


RECIPES: dict[str, Recipe] = {}


def recipe(op: str, reference: Callable[..., Any], sample_list: Any, **options: Any) -> Recipe:
    """Add (or replace) the recipe of ``op``; see :class:`Recipe` for ``options``."""
    r = Recipe(op, reference, tuple(sample_list), **options)
    RECIPES[op] = r
    return r


def public_attribute(name: str) -> Any:
    """``polytape.<name>``, where ``name`` may be dotted (``"linalg.matrix_norm"``), or None."""
    obj: Any = pt
    for part in name.split("."):
        obj = getattr(obj, part, None)
    return obj


def public_function(op: str) -> Callable[..., Any]:
    """``polytape.<op>`` (``op`` may be dotted: ``"linalg.svdvals"``), or for an op without one
    (a plugin's), a call through :func:`polytape.plugins.apply_op`."""
    fn = public_attribute(op)
    if callable(fn):
        return fn

    def call(*tensors: Any, **attrs: Any) -> Any:
        return apply_op(op, *tensors, **attrs)
    return call


def recipe_for(op: str) -> Recipe | None:
    """The recipe of ``op``: its own, the generic elementwise one, or ``None`` (missing)."""
    r = RECIPES.get(op)
    if r is not None:
        return r
    ufunc = getattr(np, op, None)
    if isinstance(ufunc, np.ufunc) and ufunc.nout == 1 and ufunc.nin in (1, 2):
        domain = unary(0.1, 0.9) if ufunc.nin == 1 else binary(0.1, 0.9)
        return Recipe(op, ufunc, domain, generic=True)
    return None


# -- drawing samples -------------------------------------------------------------------------
def op_samples() -> Iterator[tuple[str, Sample, str]]:
    """``(op, sample, dtype)`` for every sample of every op of the table that has a recipe,
    in op-name order, with one dtype the recipe takes (float64, else int32, else bool): the
    cases tests run each op on, under ``pt.function`` say."""
    from polytape.optable import OPS

    for name in sorted(OPS):
        r = RECIPES.get(name)
        if r is None:
            continue
        dtype = "float64" if "f" in r.kinds else ("int32" if "i" in r.kinds else "bool")
        for sample in r.samples:
            yield name, sample, dtype


def draw(op: str, sample: Sample, dtype: str) -> list[np.ndarray]:
    """The argument values of ``sample`` in ``dtype``: float64 arrays holding values
    exactly representable in ``dtype`` (bool and integer arrays for those dtypes; for a
    complex dtype, complex128 arrays whose real and imaginary parts are each drawn so).

    The same op, sample and dtype always give the same numbers.
    """
    rng = np.random.default_rng(zlib.crc32(f"{op}/{sample.label}".encode()))
    out = []
    for arg in sample.args:
        kind = "b" if arg.role == "mask" else _kind(dtype)
        if kind == "b":
            out.append(rng.random(arg.shape) < 0.5)
        elif kind in "iu":
            lo, hi = arg.ints
            if kind == "u":
                lo = max(lo, 0)
            vals = rng.integers(lo, hi + 1, size=arg.shape)
            if arg.gap > 0:
                vals = np.where(vals == 0, 1, vals)
            out.append(vals.astype(np.dtype(dtype)))
        elif kind == "c":  # a real part as the float draw, an imaginary part in a quarter of it
            re = _draw_real(rng, arg)
            im = rng.uniform(-0.25, 0.25, size=arg.shape) * max(abs(arg.low), abs(arg.high))
            out.append(round_to(re + 1j * im, dtype))
        else:
            out.append(round_to(_draw_real(rng, arg), dtype))
    return out


def _draw_real(rng: np.random.Generator, arg: Arg) -> np.ndarray:
    if arg.gap > 0:
        mag = rng.uniform(arg.gap, max(abs(arg.low), abs(arg.high)), size=arg.shape)
        sign = np.where(rng.random(arg.shape) < 0.5, -1.0, 1.0)
        vals = np.clip(sign * mag, arg.low, arg.high)
        vals = np.where(np.abs(vals) < arg.gap, arg.gap, vals)
    else:
        vals = rng.uniform(arg.low, arg.high, size=arg.shape)
    return np.asarray(vals, dtype=np.float64)


def _kind(dtype: str) -> str:
    if dtype == "bool":
        return "b"
    if dtype.startswith("uint"):
        return "u"
    if dtype.startswith("int"):
        return "i"
    if dtype.startswith("complex"):
        return "c"
    return "f"


# -- sample builders -----------------------------------------------------------------------------
UNARY_SHAPES = (("scalar", ()), ("vector", (5,)), ("matrix", (2, 3)), ("empty", (0, 3)))
BINARY_SHAPES = (("same_shape", (2, 3), (2, 3)), ("row_broadcast", (2, 3), (3,)),
                 ("scalar_broadcast", (), (4,)), ("outer_broadcast", (2, 1), (1, 3)),
                 ("empty", (0, 3), (3,)))


def unary(low: float = -2.0, high: float = 2.0, gap: float = 0.0, **arg: Any) -> tuple[Sample, ...]:
    """Samples for an elementwise one-input op: a scalar, a vector, a matrix, an empty array."""
    return tuple(Sample(label, (Arg(shape, low, high, gap, **arg),)) for label, shape in UNARY_SHAPES)


def binary(low: float = -2.0, high: float = 2.0, gap: float = 0.0, *, y: dict | None = None,
           **arg: Any) -> tuple[Sample, ...]:
    """Samples for an elementwise two-input op, with NumPy broadcasting and an empty array.

    ``y`` overrides :class:`Arg` fields for the second input (e.g. a divisor's ``gap``).
    """
    second = {"low": low, "high": high, "gap": gap, **arg, **(y or {})}
    return tuple(Sample(label, (Arg(a, low, high, gap, **arg), Arg(b, **second)))
                 for label, a, b in BINARY_SHAPES)


def reductions(empty: bool = True, **arg: Any) -> tuple[Sample, ...]:
    """Samples for a reduction ``f(x, axis=None, keepdims=False)``."""
    out = [
        Sample("all", (Arg((3, 4), **arg),), {}),
        Sample("axis0", (Arg((3, 4), **arg),), {"axis": 0}),
        Sample("axis1_keepdims", (Arg((3, 4), **arg),), {"axis": 1, "keepdims": True}),
        Sample("axes_0_2", (Arg((2, 3, 4), **arg),), {"axis": (0, 2)}),
        Sample("negative_axis", (Arg((3, 4), **arg),), {"axis": -1}),
        Sample("scalar", (Arg((), **arg),), {}),
        Sample("all_keepdims", (Arg((2, 3), **arg),), {"keepdims": True}),
    ]
    if empty:
        out.append(Sample("empty_rows", (Arg((0, 3), **arg),), {"axis": 1}))
    return tuple(out)


def samples(*specs: tuple) -> tuple[Sample, ...]:
    """Samples from ``(label, shapes, attrs)`` triples (shapes: a tuple of argument shapes)."""
    return tuple(Sample(label, tuple(Arg(s) for s in shapes), dict(attrs))
                 for label, shapes, attrs in specs)


# -- references that NumPy spells differently ----------------------------------------------------
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sum_magnitude(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.sum(np.abs(x).astype(np.float64), axis=axis, keepdims=keepdims)


def _mean_magnitude(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.mean(np.abs(x).astype(np.float64), axis=axis, keepdims=keepdims)


def _accumulator(dtype: Any) -> Any:
    # sum/prod accumulate bool and signed integers narrower than the Array API's default integer
    # (int32) in it, unsigned ones in uint32 (the unsigned integer of its width).
    name = str(np.dtype(dtype)) if not isinstance(dtype, str) else dtype
    if name in ("uint8", "uint16"):
        return "uint32"
    return "int32" if name in ("bool", "int8", "int16") else dtype


def _where(c: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(c, x, y)


def _cast_reference(x: np.ndarray, dtype: str) -> np.ndarray:
    if dtype in KIND_DTYPES["f"]:
        return round_to(x.astype(np.float64), dtype)
    return x.astype(np.dtype(dtype))


_ALL = "fiubc"
_ORDERED = "fiub"  # ops that order values (complex inputs raise DTypeError, tested in tests/ops/)


def _parts(dtype: str, attrs: dict) -> str:
    """The result dtype of abs/real/imag: a complex dtype's parts' real dtype."""
    return {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)

# -- the table: elementwise, one input ---------------------------------------------------------------
recipe("negative", np.negative, unary(), kinds="fic")
recipe("abs", np.abs, unary(gap=0.1), kinds="fic", out=_parts)
recipe("sign", np.sign, unary(gap=0.1), kinds="fi", exact=True)
recipe("exp", np.exp, unary(-2, 2), kinds="fc")
recipe("expm1", np.expm1, unary(-2, 2), kinds="fc")
recipe("log", np.log, unary(0.2, 3), kinds="fc")
recipe("log1p", np.log1p, unary(-0.5, 2), kinds="fc")
recipe("sqrt", np.sqrt, unary(0.2, 3), kinds="fc")
recipe("square", np.square, unary(), kinds="fic")
recipe("sin", np.sin, unary(-3, 3), kinds="fc")
recipe("cos", np.cos, unary(-3, 3), kinds="fc")
recipe("tan", np.tan, unary(-1.2, 1.2), kinds="fc")
recipe("tanh", np.tanh, unary(), kinds="fc")
recipe("sinh", np.sinh, unary(), kinds="fc")
recipe("cosh", np.cosh, unary(), kinds="fc")
recipe("arcsin", np.arcsin, unary(-0.9, 0.9), kinds="fc")
recipe("arccos", np.arccos, unary(-0.9, 0.9), kinds="fc")
recipe("arctan", np.arctan, unary(-3, 3), kinds="fc")
recipe("erf", _erf, unary())
recipe("sigmoid", lambda x: 1.0 / (1.0 + np.exp(-x)), unary(-4, 4))
recipe("softplus", lambda x: np.log1p(np.exp(x)), unary(-4, 4))
recipe("relu", lambda x: np.maximum(x, 0), unary(gap=0.1), kinds="fi")
recipe("relu_backward", lambda g, x: np.where(x > 0, g, 0),  # no gradient in x (a step function)
       binary(y={"gap": 0.1, "differentiable": False}), kinds="fi")
recipe("floor", np.floor, unary(-3, 3), exact=True)
recipe("ceil", np.ceil, unary(-3, 3), exact=True)
recipe("round", np.round, unary(-3, 3), exact=True)
recipe("identity", lambda x: x, unary(), kinds=_ALL, exact=True)
recipe("logical_not", np.logical_not, unary(), kinds="b", out="bool")

# -- elementwise, two inputs (NumPy broadcasting) ------------------------------------------------------
recipe("add", np.add, binary(), kinds="fiuc")
recipe("subtract", np.subtract, binary(), kinds="fic")
recipe("multiply", np.multiply, binary(), kinds="fiuc")
recipe("divide", np.divide, binary(y={"gap": 0.5}), kinds="fc")
recipe("power", np.power, binary(0.5, 2.0, y={"low": -2.0, "high": 2.0}, ints=(0, 3)), kinds="fiuc")
recipe("maximum", np.maximum, binary(), kinds="fiu")
recipe("minimum", np.minimum, binary(), kinds="fiu")
recipe("arctan2", np.arctan2, binary(y={"gap": 0.3}))
recipe("floor_divide", np.floor_divide, binary(y={"gap": 0.5}), kinds="fi", exact=True)
recipe("remainder", np.remainder, binary(y={"gap": 0.5}), kinds="fi")
for _cmp in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
    recipe(_cmp, getattr(np, _cmp), binary(ints=(-1, 1)),
           kinds=_ALL if _cmp.endswith("equal") and "_" not in _cmp else _ORDERED, out="bool")
for _logic in ("logical_and", "logical_or", "logical_xor"):
    recipe(_logic, getattr(np, _logic), binary(), kinds="b", out="bool")
recipe("where", _where, (
    Sample("same_shape", (Arg((2, 3), role="mask"), Arg((2, 3)), Arg((2, 3)))),
    Sample("broadcast", (Arg((2, 1), role="mask"), Arg((3,)), Arg((2, 3)))),
    Sample("scalar_branch", (Arg((4,), role="mask"), Arg(()), Arg((4,)))),
), kinds=_ALL)

# -- reductions ----------------------------------------------------------------------------------------
recipe("sum", lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims,
                                                          dtype=_accumulator(x.dtype)),
       reductions(), kinds="fiuc", magnitude=_sum_magnitude,
       out=lambda dtype, attrs: _accumulator(dtype))
recipe("mean", lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims),
       reductions(empty=False), magnitude=_mean_magnitude, kinds="fc")
recipe("max", lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),
       reductions(), kinds="fiu")
recipe("min", lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims),
       reductions(), kinds="fiu")

# -- linear algebra --------------------------------------------------------------------------------------
recipe("matmul", np.matmul, samples(
    ("matrix", ((2, 3), (3, 4)), {}), ("vector_matrix", ((3,), (3, 4)), {}),
    ("matrix_vector", ((2, 3), (3,)), {}), ("vector_vector", ((3,), (3,)), {}),
    ("batched", ((2, 2, 3), (3, 4)), {}), ("batch_broadcast", ((2, 1, 2, 3), (3, 3, 2)), {}),
    ("empty", ((0, 3), (3, 2)), {}),
), magnitude=lambda x, y: np.matmul(np.abs(x), np.abs(y)), kinds="fc")

# -- shapes, indexing, dtype ---------------------------------------------------------------------------
recipe("reshape", lambda x, shape: np.reshape(x, shape), samples(
    ("matrix", ((2, 3),), {"shape": (3, 2)}), ("inferred", ((6,),), {"shape": (2, -1)}),
    ("scalar", ((),), {"shape": (1, 1)}), ("empty", ((0, 3),), {"shape": (3, 0)}),
), kinds=_ALL, exact=True)
recipe("transpose", lambda x, axes=None: np.transpose(x, axes), samples(
    ("reverse", ((2, 3),), {}), ("permute", ((2, 3, 4),), {"axes": (1, 0, 2)}),
    ("negative_axes", ((2, 3, 4),), {"axes": (-1, 0, 1)}),
), kinds=_ALL, exact=True)
recipe("broadcast_to", lambda x, shape: np.broadcast_to(x, shape), samples(
    ("prepend", ((3,),), {"shape": (2, 3)}), ("stretch", ((2, 1),), {"shape": (2, 4)}),
    ("scalar", ((),), {"shape": (3,)}),
), kinds=_ALL, exact=True)
recipe("expand_dims", lambda x, axis: np.expand_dims(x, axis), samples(
    ("front", ((2, 3),), {"axis": 0}), ("back", ((2, 3),), {"axis": -1}),
    ("scalar", ((),), {"axis": 0}),
), kinds=_ALL, exact=True)
recipe("squeeze", lambda x, axis=None: np.squeeze(x, axis), samples(
    ("all", ((1, 3, 1),), {}), ("one", ((1, 3, 1),), {"axis": 0}),
    ("negative", ((2, 1),), {"axis": -1}),
), kinds=_ALL, exact=True)
recipe("concat", lambda *xs, axis=0: np.concatenate(xs, axis=axis), samples(
    ("rows", ((2, 3), (4, 3)), {"axis": 0}), ("columns", ((2, 3), (2, 1)), {"axis": 1}),
    ("three", ((1, 2), (1, 2), (1, 2)), {"axis": -1}), ("empty", ((0, 3), (2, 3)), {"axis": 0}),
), call=lambda *ts, axis=0: pt.concat(list(ts), axis=axis), kinds=_ALL, exact=True)
recipe("stack", lambda *xs, axis=0: np.stack(xs, axis=axis), samples(
    ("front", ((2, 3), (2, 3)), {"axis": 0}), ("back", ((2, 3), (2, 3)), {"axis": -1}),
    ("scalars", ((), (), ()), {"axis": 0}),
), call=lambda *ts, axis=0: pt.stack(list(ts), axis=axis), kinds=_ALL, exact=True)
recipe("getitem", lambda x, index: x[index], samples(
    ("int", ((4, 5),), {"index": 1}), ("negative_int", ((4, 5),), {"index": -1}),
    ("slice", ((4, 5),), {"index": (slice(1, 3),)}),
    ("column", ((4, 5),), {"index": (slice(None), 2)}),
    ("strided_newaxis", ((4, 5),), {"index": (Ellipsis, None, slice(None, None, 2))}),
    ("int_array_repeats", ((4, 5),), {"index": [0, 2, 2]}),
    ("int_arrays", ((4, 5),), {"index": (np.array([0, 3]), np.array([1, 4]))}),
    ("bool_mask", ((4, 5),), {"index": np.array([True, False, True, False])}),
), kinds=_ALL, exact=True)


def _index_add_reference(base: np.ndarray, values: np.ndarray, index: Any) -> np.ndarray:
    out = base.copy()
    np.add.at(out, index, values)
    return out


recipe("index_add", _index_add_reference, samples(
    ("repeated_rows", ((4, 3), (3, 3)), {"index": [0, 2, 0]}),
    ("slice", ((4, 3), (2, 3)), {"index": slice(1, 3)}),
    ("broadcast_values", ((4, 3), (3,)), {"index": 1}),
), call=lambda base, values, index: pt.index_add(base, index, values), kinds="fic")
recipe("astype", lambda x, dtype: _cast_reference(x, dtype),
       tuple(Sample(f"to_{t}", (Arg((2, 3)),), {"dtype": t}) for t in
             ("float32", "float64", "float16", "int32")),
       call=lambda x, dtype: pt.cast(x, dtype), kinds="fi",
       out=lambda dtype, attrs: attrs["dtype"], smooth=lambda x, dtype: x)

# -- more reductions, scans, normalisations --------------------------------------------------------
recipe("prod", lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims,
                                                            dtype=_accumulator(x.dtype)),
       reductions(low=0.5, high=1.5, ints=(-1, 1)), kinds="fiuc",
       out=lambda dtype, attrs: _accumulator(dtype))
recipe("logsumexp", lambda x, axis=None, keepdims=False:
       np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)), reductions(empty=False))
recipe("argmax", lambda x, axis=None, keepdims=False: _arg_reduce(np.argmax, x, axis, keepdims),
       samples(("all", ((3, 4),), {}), ("axis0", ((3, 4),), {"axis": 0}),
               ("axis1_keepdims", ((3, 4),), {"axis": 1, "keepdims": True}),
               ("negative_axis", ((2, 3, 4),), {"axis": -1})), kinds="fiu", out="int64")
recipe("argmin", lambda x, axis=None, keepdims=False: _arg_reduce(np.argmin, x, axis, keepdims),
       samples(("all", ((3, 4),), {}), ("axis0", ((3, 4),), {"axis": 0}),
               ("axis1_keepdims", ((3, 4),), {"axis": 1, "keepdims": True}),
               ("negative_axis", ((2, 3, 4),), {"axis": -1})), kinds="fiu", out="int64")
recipe("cumsum", lambda x, axis=None, reverse=False: _cumsum(x, axis, reverse), samples(
    ("flat", ((2, 3),), {}), ("axis0", ((3, 4),), {"axis": 0}),
    ("axis1_reverse", ((3, 4),), {"axis": 1, "reverse": True}), ("empty", ((0, 3),), {"axis": 1}),
), kinds="fiuc", magnitude=lambda x, axis=None, reverse=False: _cumsum(np.abs(x), axis, reverse))
recipe("softmax", lambda x, axis=-1: np.exp(x - _lse(x, axis)), samples(
    ("last", ((3, 4),), {}), ("first", ((3, 4),), {"axis": 0}), ("both", ((2, 3),), {"axis": (0, 1)}),
    ("vector", ((5,),), {}),
))
recipe("log_softmax", lambda x, axis=-1: x - _lse(x, axis), samples(
    ("last", ((3, 4),), {}), ("first", ((3, 4),), {"axis": 0}), ("both", ((2, 3),), {"axis": (0, 1)}),
    ("vector", ((5,),), {}),
))
recipe("clip", lambda x, min=None, max=None: np.clip(x, min, max), (
    Sample("both", (Arg((3, 4)),), {"min": -0.5, "max": 1.0}),
    Sample("lower", (Arg((5,)),), {"min": 0.25}),
    Sample("upper", (Arg((2, 3)),), {"max": -0.75}),
    Sample("scalar", (Arg(()),), {"min": -1.0, "max": 1.0}),
), kinds="fi", out=lambda dtype, attrs: dtype if dtype in KIND_DTYPES["f"] or all(
    float(b).is_integer() for b in attrs.values()) else "float32")

# -- contractions ---------------------------------------------------------------------------------
recipe("einsum", lambda *xs, subscripts: np.einsum(subscripts, *xs), samples(
    ("matmul", ((2, 3), (3, 4)), {"subscripts": "ij,jk->ik"}),
    ("dot", ((3,), (3,)), {"subscripts": "i,i->"}),
    ("batched", ((2, 2, 3), (2, 3, 2)), {"subscripts": "bij,bjk->bik"}),
    ("transpose", ((2, 3),), {"subscripts": "ij->ji"}),
    ("diagonal", ((3, 3),), {"subscripts": "ii->i"}),
    ("outer", ((2,), (3,)), {"subscripts": "i,j->ij"}),
    ("ellipsis_implicit", ((2, 2, 3), (3, 4)), {"subscripts": "...ij,jk"}),
), call=lambda *ts, subscripts: pt.einsum(subscripts, *ts), kinds="fc",
   magnitude=lambda *xs, subscripts: np.einsum(subscripts, *(np.abs(x) for x in xs)))
recipe("tensordot", lambda x, y, axes=2: np.tensordot(x, y, axes), samples(
    ("last_first", ((2, 3, 4), (3, 4, 2)), {"axes": 2}), ("one", ((2, 3), (3, 2)), {"axes": 1}),
    ("pairs", ((2, 3, 4), (4, 2, 3)), {"axes": ((1, 2), (2, 0))}),
), magnitude=lambda x, y, axes=2: np.tensordot(np.abs(x), np.abs(y), axes), kinds="fc")

# -- reorderings and repeats -----------------------------------------------------------------------
recipe("flip", lambda x, axis=None: np.flip(x, axis), samples(
    ("all", ((2, 3),), {}), ("axis0", ((3, 2),), {"axis": 0}), ("two", ((2, 3, 2),), {"axis": (0, 2)}),
    ("vector", ((5,),), {"axis": -1}),
), kinds=_ALL, exact=True)
recipe("tile", lambda x, reps: np.tile(x, reps), samples(
    ("rows", ((2, 3),), {"reps": (2, 1)}), ("both", ((2, 2),), {"reps": (2, 3)}),
    ("longer_reps", ((3,),), {"reps": (2, 2)}), ("int_reps", ((2, 3),), {"reps": 2}),
), kinds=_ALL, exact=True)
recipe("pad", lambda x, pad_width, constant_values=0: np.pad(x, pad_width,
                                                             constant_values=constant_values),
       samples(("int", ((2, 3),), {"pad_width": 1}),
               ("pairs", ((2, 3),), {"pad_width": ((1, 0), (0, 2))}),
               ("value", ((3,),), {"pad_width": ((2, 1),), "constant_values": 1.5})),
       kinds="fic", exact=True)

# -- the Array API standard's elementwise functions (issue #15) ---------------------------------------
recipe("acosh", np.arccosh, unary(1.2, 3.0), kinds="fc")
recipe("asinh", np.arcsinh, unary(), kinds="fc")
recipe("atanh", np.arctanh, unary(-0.8, 0.8), kinds="fc")
recipe("log2", np.log2, unary(0.2, 3), kinds="fc")
recipe("log10", np.log10, unary(0.2, 3), kinds="fc")
recipe("reciprocal", np.reciprocal, unary(gap=0.5), kinds="fc")
recipe("positive", np.positive, unary(), kinds="fic")
recipe("real", np.real, unary(), kinds="fic", out=_parts)
recipe("conj", np.conj, unary(), kinds="fic")
recipe("imag", np.imag, unary(), kinds="fic", out=_parts)
recipe("trunc", np.trunc, unary(-3, 3), exact=True)
for _pred in ("signbit", "isfinite", "isinf", "isnan"):
    recipe(_pred, getattr(np, _pred), unary(gap=0.1), out="bool",
           kinds="f" if _pred == "signbit" else "fc")
recipe("logaddexp", np.logaddexp, binary())
recipe("hypot", np.hypot, binary(gap=0.3))
recipe("copysign", np.copysign, binary(gap=0.3, y={"differentiable": False}))
# The float64 reference moves by a float64 ulp: within every dtype's tolerance of the result,
# which moves by one ulp of its own dtype (exactness is tested in tests/ops/).
recipe("nextafter", np.nextafter, binary(), grad=False)
for _bit, _ref in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or),
                   ("bitwise_xor", np.bitwise_xor)):
    recipe(_bit, _ref, binary(), kinds="iub", exact=True)
recipe("bitwise_invert", np.invert, unary(), kinds="iub", exact=True)
recipe("bitwise_left_shift", np.left_shift, binary(y={"ints": (0, 3)}), kinds="iu", exact=True)
recipe("bitwise_right_shift", np.right_shift, binary(y={"ints": (0, 3)}), kinds="iu", exact=True)


# -- compositions with public functions (not table ops, but users call them) ------------------------
recipe("var", lambda x, axis=None, correction=0.0, keepdims=False:
       np.var(x, axis=axis, ddof=correction, keepdims=keepdims), (
           *reductions(empty=False),
           Sample("bessel", (Arg((3, 4)),), {"axis": 1, "correction": 1.0})),
       magnitude=lambda x, axis=None, correction=0.0, keepdims=False:
       np.mean(np.abs(x) ** 2, axis=axis, keepdims=keepdims), kinds="fc", out=_parts)
recipe("std", lambda x, axis=None, correction=0.0, keepdims=False:
       np.std(x, axis=axis, ddof=correction, keepdims=keepdims), (
           Sample("all", (Arg((3, 4)),), {}), Sample("axis0", (Arg((3, 4)),), {"axis": 0}),
           Sample("bessel", (Arg((3, 4)),), {"axis": 1, "correction": 1.0})),
       magnitude=lambda x, axis=None, correction=0.0, keepdims=False:
       np.sqrt(np.mean(np.abs(x) ** 2, axis=axis, keepdims=keepdims)), kinds="fc", out=_parts)
recipe("norm", lambda x, ord=None, axis=None, keepdims=False:
       np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims), (
           Sample("vector_2", (Arg((5,), gap=0.1),), {}),
           Sample("vector_1", (Arg((5,), gap=0.1),), {"ord": 1}),
           Sample("matrix_fro", (Arg((3, 4), gap=0.1),), {}),
           Sample("rows", (Arg((3, 4), gap=0.1),), {"axis": 1}),
       ), magnitude=lambda x, ord=None, axis=None, keepdims=False:
       np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims)))
recipe("take", lambda x, indices, axis=None: np.take(x, indices, axis=axis), samples(
    ("flat", ((3, 4),), {"indices": [0, 5, 11, 5]}),
    ("rows", ((3, 4),), {"indices": [2, 0, 2], "axis": 0}),
    ("columns", ((3, 4),), {"indices": [[1, 3], [0, 0]], "axis": 1}),
), kinds=_ALL, exact=True)
recipe("split", lambda x, num_or_size_splits, axis=0:
       np.concatenate(np.split(x, _split_points(num_or_size_splits, x.shape[axis]), axis=axis),
                      axis=axis) * _split_weights(x.shape, num_or_size_splits, axis), samples(
    ("equal", ((4, 3),), {"num_or_size_splits": 2}),
    ("sizes", ((2, 5),), {"num_or_size_splits": [1, 3, 1], "axis": 1}),
), call=lambda x, num_or_size_splits, axis=0: _weighted_split(x, num_or_size_splits, axis),
   kinds="fc")


def _arg_reduce(fn: Callable[..., Any], x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    return np.asarray(fn(x, axis=axis, keepdims=keepdims), dtype=np.int64)


def _cumsum(x: np.ndarray, axis: Any, reverse: bool) -> np.ndarray:
    if axis is None:
        x, axis = x.reshape(-1), 0
    if reverse:
        return np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
    return np.cumsum(x, axis=axis, dtype=x.dtype)


def _lse(x: np.ndarray, axis: Any) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    return m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _split_points(spec: Any, n: int) -> Any:
    if isinstance(spec, int):
        return spec
    return list(np.cumsum(spec)[:-1])


def _split_weights(shape: tuple, spec: Any, axis: int) -> np.ndarray:
    # Each part is scaled by (its position + 1) before rejoining, so a part returned in the
    # wrong place or with the wrong size changes the result (and the gradient).
    n = shape[axis]
    sizes = [n // spec] * spec if isinstance(spec, int) else list(spec)
    w = np.concatenate([np.full(s, i + 1.0) for i, s in enumerate(sizes)])
    view = [1] * len(shape)
    view[axis] = n
    return w.reshape(view)


def _weighted_split(x: Any, spec: Any, axis: int) -> Any:
    parts = pt.split(x, spec, axis=axis)
    return pt.concat([p * float(i + 1) for i, p in enumerate(parts)], axis=axis)


# -- the linalg extension (issue #15) ---------------------------------------------------------------
# Each call turns unconstrained uniform inputs into well-conditioned ones the op needs (a shift
# by a multiple of the identity, X X^T + nI for Cholesky, widely spaced eigenvalues and singular
# values), so finite differences of the NumPy reference see the same smooth function. Outputs
# defined only up to sign (eigenvectors, singular vectors, Q) are checked through their squares,
# which every correct implementation agrees on, values and derivatives alike.
def _shift(x: Any, diagonal: Any) -> Any:
    """``x`` plus ``diag(diagonal)`` on its last two axes (rectangular ``x`` too)."""
    m, n = x.shape[-2], x.shape[-1]
    d = np.zeros((m, n))
    k = min(m, n)
    d[range(k), range(k)] = np.asarray(diagonal, dtype=np.float64)[:k]
    return x + (pt.constant(d, dtype=x.dtype) if isinstance(x, pt.Tensor) else d)


def _mT(x: Any) -> Any:
    return pt.matrix_transpose(x) if isinstance(x, pt.Tensor) else np.swapaxes(x, -1, -2)


def _spd(x: Any) -> Any:
    n = x.shape[-1]
    return _shift((x @ _mT(x)) if not isinstance(x, pt.Tensor) else pt.matmul(x, _mT(x)), [n] * n)


def _symmetric(x: Any) -> Any:
    n = x.shape[-1]
    return _shift((x + _mT(x)) * 0.5, [4.0 * i for i in range(n)])


def _spaced(x: Any) -> Any:
    k = min(x.shape[-2], x.shape[-1])
    return _shift(x, [4.0 * (k - i) for i in range(k)])


def _flat(parts: list, batch: tuple) -> Any:
    # One array from several results: each flattened past the batch axes, then joined.
    if isinstance(parts[0], pt.Tensor):
        return pt.concat([pt.reshape(p, batch + (-1,)) for p in parts], axis=-1)
    return np.concatenate([np.reshape(p, batch + (-1,)) for p in parts], axis=-1)


def _eigh_invariants(x: Any) -> Any:
    a = _symmetric(x)
    w, v = pt.linalg.eigh(a) if isinstance(a, pt.Tensor) else np.linalg.eigh(a)
    return _flat([w, v * v], tuple(x.shape[:-2]))


def _qr_invariants(x: Any, mode: str = "reduced") -> Any:
    q, r = pt.linalg.qr(x, mode=mode) if isinstance(x, pt.Tensor) else np.linalg.qr(x, mode=mode)
    return _flat([q * q, r * r], tuple(x.shape[:-2]))


def _svd_invariants(x: Any, full_matrices: bool = True) -> Any:
    a = _spaced(x)
    if isinstance(a, pt.Tensor):
        u, s, vh = pt.linalg.svd(a, full_matrices=full_matrices)
    else:
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return _flat([u * u, s, vh * vh], tuple(x.shape[:-2]))


def _slogdet_pair(x: Any) -> Any:
    a = _shift(x, [2.0, -2.0, 2.0, -2.0])
    if isinstance(a, pt.Tensor):
        sign, logabs = pt.linalg.slogdet(a)
        return pt.stack([sign, logabs], axis=-1)
    return np.stack(np.linalg.slogdet(a), axis=-1)


def numpy_solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The standard's ``linalg.solve`` in NumPy, on NumPy 1.x too (which reads a ``b`` of one
    dimension less than ``a`` as a stack of vectors): ``b`` of shape (n,) is one vector, any
    other ``b`` holds columns, and batch dimensions broadcast."""
    if b.ndim == 1:
        return numpy_solve(a, b[:, None])[..., 0]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return np.linalg.solve(np.broadcast_to(a, batch + a.shape[-2:]),
                           np.broadcast_to(b, batch + b.shape[-2:]))


def _solve_shifted(a: Any, b: Any) -> Any:
    a = _shift(a, [4.0] * a.shape[-1])
    return pt.linalg.solve(a, b) if isinstance(a, pt.Tensor) else numpy_solve(a, b)


def _rank_of_product(a: Any, b: Any) -> Any:
    # a (..., m, k) @ b (..., k, n) has rank k <= min(m, n) (spaced singular values keep each
    # factor well away from a lower rank, even in bfloat16).
    a, b = _spaced(a), _spaced(b)
    if isinstance(a, pt.Tensor):
        return pt.linalg.matrix_rank(pt.matmul(a, b))
    return np.asarray(np.linalg.matrix_rank(a @ b), dtype=np.int64)


recipe("inv", lambda x: np.linalg.inv(_shift(x, [4.0] * x.shape[-1])), samples(
    ("matrix", ((3, 3),), {}), ("batch", ((2, 3, 3),), {})),
    call=lambda x: pt.linalg.inv(_shift(x, [4.0] * x.shape[-1])))
recipe("det", lambda x: np.linalg.det(_shift(x, [2.0] * x.shape[-1])), samples(
    ("matrix", ((3, 3),), {}), ("batch", ((2, 3, 3),), {})),
    call=lambda x: pt.linalg.det(_shift(x, [2.0] * x.shape[-1])))
recipe("slogdet", _slogdet_pair, samples(("matrix", ((3, 3),), {}), ("batch", ((2, 4, 4),), {})),
       call=_slogdet_pair)
recipe("solve", _solve_shifted, samples(
    ("columns", ((3, 3), (3, 2)), {}), ("vector", ((2, 3, 3), (3,)), {}),
    ("broadcast_batch", ((2, 1, 3, 3), (3, 3, 2)), {})), call=_solve_shifted)
recipe("cholesky", lambda x, upper=False: _mT(np.linalg.cholesky(_spd(x))) if upper
       else np.linalg.cholesky(_spd(x)), samples(
    ("matrix", ((3, 3),), {}), ("batch", ((2, 3, 3),), {}), ("upper", ((3, 3),), {"upper": True})),
    call=lambda x, upper=False: pt.linalg.cholesky(_spd(x), upper=upper))
recipe("eigh", _eigh_invariants, samples(("matrix", ((3, 3),), {}), ("batch", ((2, 4, 4),), {})),
       call=_eigh_invariants)
recipe("qr", _qr_invariants, samples(
    ("tall", ((4, 3),), {}), ("wide_batch", ((2, 3, 5),), {}), ("square", ((3, 3),), {}),
    ("complete", ((4, 3),), {"mode": "complete"})), call=_qr_invariants)
recipe("svd", _svd_invariants, samples(
    ("tall", ((4, 3),), {"full_matrices": False}), ("wide_batch", ((2, 3, 5),), {"full_matrices": False}),
    ("full_tall", ((4, 3),), {}), ("full_square", ((3, 3),), {})), call=_svd_invariants)
recipe("pinv", lambda x: np.linalg.pinv(_spaced(x)), samples(
    ("tall", ((4, 3),), {}), ("wide_batch", ((2, 3, 5),), {})),
    call=lambda x: pt.linalg.pinv(_spaced(x)))
recipe("matrix_rank", _rank_of_product, samples(
    ("rank_2", ((4, 2), (2, 3)), {}), ("full_rank_batch", ((2, 4, 3), (3, 3)), {})),
    call=_rank_of_product, out="int64", grad=False)


# The extension's compositions (no rules of their own), under their dotted public names.
def _svdvals(x: Any) -> Any:
    a = _spaced(x)
    return pt.linalg.svdvals(a) if isinstance(a, pt.Tensor) else np.linalg.svd(a, compute_uv=False)


def _eigvalsh(x: Any) -> Any:
    a = _symmetric(x)
    return pt.linalg.eigvalsh(a) if isinstance(a, pt.Tensor) else np.linalg.eigvalsh(a)


def _matrix_norm(x: Any, ord: Any = "fro", keepdims: bool = False) -> Any:  # noqa: A002
    a = _spaced(x)
    if isinstance(a, pt.Tensor):
        return pt.linalg.matrix_norm(a, ord=ord, keepdims=keepdims)
    return np.linalg.norm(a, ord=ord, axis=(-2, -1), keepdims=keepdims)


def _vector_norm(x: Any, ord: Any = 2, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    if isinstance(x, pt.Tensor):
        return pt.linalg.vector_norm(x, ord=ord, axis=axis, keepdims=keepdims)
    axes = tuple(range(x.ndim)) if axis is None else axis
    rest = tuple(i for i in range(x.ndim) if i not in axes)
    flat = np.transpose(x, rest + axes).reshape(tuple(x.shape[i] for i in rest) + (-1,))
    out = np.linalg.norm(flat, ord=ord, axis=-1)
    return out.reshape(tuple(1 if i in axes else n for i, n in enumerate(x.shape))) if keepdims else out


def _matrix_power(x: Any, n: int) -> Any:
    a = _spaced(x)
    return pt.linalg.matrix_power(a, n) if isinstance(a, pt.Tensor) else np.linalg.matrix_power(a, n)


recipe("linalg.svdvals", _svdvals, samples(("tall", ((4, 3),), {}), ("wide_batch", ((2, 2, 4),), {})),
       call=_svdvals)
recipe("linalg.eigvalsh", _eigvalsh, samples(("matrix", ((3, 3),), {}), ("batch", ((2, 4, 4),), {})),
       call=_eigvalsh)
recipe("linalg.matrix_norm", _matrix_norm, (
    *(Sample(f"ord_{o}", (Arg((3, 4), gap=0.1),), {"ord": o}) for o in ("fro", "nuc", 1, -1, 2, -2)),
    Sample("inf_batch_keepdims", (Arg((2, 3, 2), gap=0.1),), {"ord": math.inf, "keepdims": True}),
    Sample("minus_inf", (Arg((3, 2), gap=0.1),), {"ord": -math.inf})), call=_matrix_norm,
    magnitude=lambda x, ord="fro", keepdims=False: np.linalg.norm(_spaced(x), "fro", (-2, -1), keepdims))
recipe("linalg.vector_norm", _vector_norm, (
    Sample("all", (Arg((2, 3), gap=0.1),), {}),
    Sample("axes_keepdims", (Arg((2, 3, 2), gap=0.1),), {"axis": (0, 2), "keepdims": True, "ord": 3}),
    Sample("ord_1", (Arg((4,), gap=0.1),), {"ord": 1}),
    Sample("ord_inf", (Arg((2, 3), gap=0.1),), {"ord": math.inf, "axis": (1,)}),
    Sample("negative_p", (Arg((2, 3), gap=0.3),), {"ord": -1.5, "axis": (1,)})), call=_vector_norm,
    magnitude=lambda x, ord=2, axis=None, keepdims=False: _vector_norm(np.abs(x), 1, axis, keepdims))
recipe("linalg.matrix_power", _matrix_power, samples(
    ("cube", ((3, 3),), {"n": 3}), ("inverse_square_batch", ((2, 2, 2),), {"n": -2}),
    ("identity", ((2, 2),), {"n": 0})), call=_matrix_power)
recipe("linalg.trace", lambda x, offset=0: np.trace(x, offset, axis1=-2, axis2=-1), samples(
    ("matrix", ((3, 3),), {}), ("offset_batch", ((2, 3, 4),), {"offset": 1})), kinds="fi",
    out=lambda dtype, attrs: _accumulator(dtype))  # the standard's sum rule
recipe("linalg.diagonal", lambda x, offset=0: np.diagonal(x, offset, axis1=-2, axis2=-1), samples(
    ("matrix", ((3, 3),), {}), ("below_batch", ((2, 4, 3),), {"offset": -1})), kinds="fi", exact=True)
recipe("linalg.outer", np.outer, samples(("vectors", ((3,), (2,)), {})), kinds="fi")
recipe("linalg.cross", lambda x, y, axis=-1: np.cross(x, y, axis=axis), samples(
    ("vectors", ((3,), (3,)), {}), ("broadcast_axis0", ((3, 2), (3, 1)), {"axis": 0})))


# -- fft (the transforms are table ops; pt.fft's one-dimensional functions call them) ------------
def _fft_magnitude(x: np.ndarray, **attrs: Any) -> float:
    # |X_k| <= sum |x| (unnormalised): the size of the terms each output sums
    return float(np.sum(np.abs(x)))


_FFT_SAMPLES = samples(
    ("vector", ((8,),), {}), ("matrix", ((3, 4),), {}), ("axis0", ((3, 4),), {"axes": (0,)}),
    ("padded", ((3, 4),), {"s": (6,), "axes": (1,)}), ("cropped", ((3, 5),), {"s": (2, 3), "axes": (0, 1)}),
    ("ortho", ((5,),), {"norm": "ortho"}), ("forward", ((2, 3),), {"norm": "forward"}),
)
_COMPLEX_OF = {"float64": "complex128", "complex128": "complex128"}
for _fft_op in ("fftn", "ifftn", "rfftn"):
    recipe(_fft_op, getattr(np.fft, _fft_op), _FFT_SAMPLES,
           call=lambda x, _f=_fft_op, **kw: getattr(pt.fft, _f)(x, **kw),
           kinds="f" if _fft_op == "rfftn" else "fc", magnitude=_fft_magnitude,
           out=lambda dtype, attrs: _COMPLEX_OF.get(dtype, "complex64"))
recipe("irfftn", np.fft.irfftn, samples(
    ("even", ((5,),), {}), ("odd", ((5,),), {"s": (9,), "axes": (0,)}), ("matrix", ((3, 4),), {}),
    ("axis0", ((4, 3),), {"axes": (0,)}), ("cropped", ((3, 6),), {"s": (2, 6), "axes": (0, 1)}),
    ("ortho", ((4,),), {"norm": "ortho"}), ("forward", ((2, 3),), {"norm": "forward"}),
), call=lambda x, **kw: pt.fft.irfftn(x, **kw), kinds="c", out=_parts,
   magnitude=lambda x, **kw: 2 * _fft_magnitude(x))


# == convolution and pooling (issue #16): NHWC, HWIO filters; the public functions of pt.nn take
# TensorFlow's padding ("SAME", "VALID", explicit pairs) and data_format, the gradient ops explicit
# ((top, bottom), (left, right)) pads. The references are direct float64 loops over the window.
def _same_pads(size: Any, ksize: Any, strides: Any, dilations: Any) -> tuple:
    # TensorFlow's SAME: out = ceil(n / s); the odd padding element goes after.
    pads = []
    for n, k, s, d in zip(size, ksize, strides, dilations):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _explicit_pads(padding: Any, size: Any, ksize: Any, strides: Any, dilations: Any) -> tuple:
    if padding == "VALID":
        return (0, 0), (0, 0)
    if padding == "SAME":
        return _same_pads(size, ksize, strides, dilations)
    return tuple(tuple(p) for p in padding[1:3])  # NHWC pairs


def _out_hw(size: Any, pads: Any, ksize: Any, strides: Any, dilations: Any) -> tuple:
    return tuple((n + p[0] + p[1] - (k - 1) * d - 1) // s + 1
                 for n, p, k, s, d in zip(size, pads, ksize, strides, dilations))


def _window(i: int, j: int, strides: Any, dilations: Any, out: Any) -> tuple:
    return (slice(None), slice(i * dilations[0], i * dilations[0] + strides[0] * (out[0] - 1) + 1,
                               strides[0]),
            slice(j * dilations[1], j * dilations[1] + strides[1] * (out[1] - 1) + 1, strides[1]))


def _conv_ref(x: np.ndarray, w: np.ndarray, strides: Any, padding: Any, dilations: Any) -> np.ndarray:
    kh, kw = w.shape[:2]
    out = _out_hw(x.shape[1:3], padding, (kh, kw), strides, dilations)
    xp = np.pad(x.astype(np.float64), ((0, 0), *padding, (0, 0)))
    y = np.zeros((x.shape[0], *out, w.shape[3]))
    for i in range(kh):
        for j in range(kw):
            y += np.einsum("nhwc,co->nhwo", xp[_window(i, j, strides, dilations, out)], w[i, j])
    return y


def _conv_transpose_ref(dy: np.ndarray, w: np.ndarray, input_size: Any, strides: Any,
                        padding: Any, dilations: Any) -> np.ndarray:
    (top, bottom), (left, right) = padding
    acc = np.zeros((dy.shape[0], input_size[0] + top + bottom, input_size[1] + left + right,
                    w.shape[2]))
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            acc[_window(i, j, strides, dilations, dy.shape[1:3])] += np.einsum(
                "nhwo,co->nhwc", dy, w[i, j])
    return acc[:, top:top + input_size[0], left:left + input_size[1]]


def _conv_filter_ref(x: np.ndarray, dy: np.ndarray, filter_size: Any, strides: Any,
                     padding: Any, dilations: Any) -> np.ndarray:
    xp = np.pad(x.astype(np.float64), ((0, 0), *padding, (0, 0)))
    return np.stack([np.stack([np.einsum("nhwc,nhwo->co", xp[_window(i, j, strides, dilations,
                                                                      dy.shape[1:3])], dy)
                               for j in range(filter_size[1])]) for i in range(filter_size[0])])


def _nhwc(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A reference on NHWC arrays as one taking and giving ``data_format``'s layout."""
    def ref(*xs: np.ndarray, data_format: str = "NHWC", **attrs: Any) -> np.ndarray:
        if data_format == "NCHW":
            xs = tuple(np.transpose(x, (0, 2, 3, 1)) if x.ndim == 4 and i == 0 else x
                       for i, x in enumerate(xs))
            return np.transpose(fn(*xs, **attrs), (0, 3, 1, 2))
        return fn(*xs, **attrs)
    return ref


@_nhwc
def _conv2d_public_ref(x: np.ndarray, w: np.ndarray, strides: Any = 1, padding: Any = "VALID",
                       dilations: Any = 1) -> np.ndarray:
    st, dl = (strides,) * 2 if isinstance(strides, int) else strides, \
        (dilations,) * 2 if isinstance(dilations, int) else dilations
    return _conv_ref(x, w, st, _explicit_pads(padding, x.shape[1:3], w.shape[:2], st, dl), dl)


def _conv2d_magnitude(x: np.ndarray, w: np.ndarray, **attrs: Any) -> np.ndarray:
    return _conv2d_public_ref(np.abs(x), np.abs(w), **attrs)


def _pool_windows(x: np.ndarray, ksize: Any, strides: Any, padding: Any, fill: float) -> np.ndarray:
    """``(N, oh, ow, kh * kw, C)`` windows of the padded float64 ``x``."""
    out = _out_hw(x.shape[1:3], padding, ksize, strides, (1, 1))
    xp = np.pad(x.astype(np.float64), ((0, 0), *padding, (0, 0)), constant_values=fill)
    return np.stack([xp[_window(i, j, strides, (1, 1), out)]
                     for i in range(ksize[0]) for j in range(ksize[1])], axis=3)


def _pool_counts(size: Any, ksize: Any, strides: Any, padding: Any) -> np.ndarray:
    return _pool_windows(np.ones((1, *size, 1)), ksize, strides, padding, 0.0).sum(axis=3)


@_nhwc
def _max_pool_public_ref(x: np.ndarray, ksize: Any, strides: Any, padding: Any) -> np.ndarray:
    k, st = (ksize,) * 2 if isinstance(ksize, int) else ksize, \
        (strides,) * 2 if isinstance(strides, int) else strides
    pads = _explicit_pads(padding, x.shape[1:3], k, st, (1, 1))
    return _pool_windows(x, k, st, pads, -np.inf).max(axis=3)


@_nhwc
def _avg_pool_public_ref(x: np.ndarray, ksize: Any, strides: Any, padding: Any) -> np.ndarray:
    k, st = (ksize,) * 2 if isinstance(ksize, int) else ksize, \
        (strides,) * 2 if isinstance(strides, int) else strides
    pads = _explicit_pads(padding, x.shape[1:3], k, st, (1, 1))
    return _pool_windows(x, k, st, pads, 0.0).sum(axis=3) / _pool_counts(x.shape[1:3], k, st, pads)


def _first_max_mask(x: np.ndarray, ksize: Any, strides: Any, padding: Any) -> np.ndarray:
    win = _pool_windows(x, ksize, strides, padding, -np.inf)
    first = np.argmax(win, axis=3)  # the first maximum, as TensorFlow's MaxPoolGrad picks
    return np.arange(win.shape[3])[None, None, None, :, None] == first[:, :, :, None, :]


def _max_pool_grad_ref(x: np.ndarray, g: np.ndarray, ksize: Any, strides: Any,
                       padding: Any) -> np.ndarray:
    (top, bottom), (left, right) = padding
    routed = np.where(_first_max_mask(x, ksize, strides, padding), g[:, :, :, None, :], 0.0)
    acc = np.zeros((x.shape[0], x.shape[1] + top + bottom, x.shape[2] + left + right, x.shape[3]))
    for p, (i, j) in enumerate((i, j) for i in range(ksize[0]) for j in range(ksize[1])):
        acc[_window(i, j, strides, (1, 1), g.shape[1:3])] += routed[:, :, :, p]
    return acc[:, top:top + x.shape[1], left:left + x.shape[2]]


def _max_pool_grad_grad_ref(x: np.ndarray, t: np.ndarray, ksize: Any, strides: Any,
                            padding: Any) -> np.ndarray:
    tw = _pool_windows(t, ksize, strides, padding, 0.0)
    return np.where(_first_max_mask(x, ksize, strides, padding), tw, 0.0).sum(axis=3)


def _avg_pool_grad_ref(g: np.ndarray, input_size: Any, ksize: Any, strides: Any,
                       padding: Any) -> np.ndarray:
    (top, bottom), (left, right) = padding
    share = g / _pool_counts(input_size, ksize, strides, padding)
    acc = np.zeros((g.shape[0], input_size[0] + top + bottom, input_size[1] + left + right,
                    g.shape[3]))
    for i in range(ksize[0]):
        for j in range(ksize[1]):
            acc[_window(i, j, strides, (1, 1), g.shape[1:3])] += share
    return acc[:, top:top + input_size[0], left:left + input_size[1]]


def _geometry(strides: Any = (1, 1), padding: Any = ((0, 0), (0, 0)),
              dilations: Any = (1, 1)) -> dict:
    return {"strides": strides, "padding": padding, "dilations": dilations}


recipe("conv2d", _conv2d_public_ref, samples(
    ("valid", ((2, 5, 4, 3), (3, 2, 3, 2)), {"padding": "VALID"}),
    ("same_stride2_odd", ((1, 7, 5, 2), (3, 3, 2, 3)), {"strides": 2, "padding": "SAME"}),
    ("same_even_kernel", ((2, 4, 4, 1), (2, 2, 1, 2)), {"padding": "SAME"}),
    ("dilated", ((1, 6, 7, 2), (2, 3, 2, 2)), {"padding": "SAME", "dilations": 2}),
    ("strided_dilated_valid", ((1, 8, 7, 1), (2, 2, 1, 3)),
     {"strides": (2, 3), "padding": "VALID", "dilations": (2, 1)}),
    ("explicit", ((1, 4, 5, 2), (2, 3, 2, 2)),
     {"padding": [[0, 0], [1, 0], [2, 1], [0, 0]], "strides": (1, 2)}),
    ("nchw", ((2, 2, 5, 4), (3, 3, 2, 2)), {"padding": "SAME", "data_format": "NCHW"}),
), call=lambda x, w, **attrs: pt.nn.convolution.conv2d(x, w, **attrs), magnitude=_conv2d_magnitude)
recipe("conv2d_transpose", _conv_transpose_ref, (
    Sample("same_stride2", (Arg((2, 3, 2, 3)), Arg((3, 3, 2, 3))),
           {"input_size": (5, 4), **_geometry((2, 2), ((1, 1), (1, 1)))}),
    Sample("valid", (Arg((1, 3, 3, 2)), Arg((2, 2, 3, 2))), {"input_size": (4, 4), **_geometry()}),
    Sample("asymmetric_dilated", (Arg((1, 4, 3, 2)), Arg((2, 3, 2, 2))),
           {"input_size": (4, 6), **_geometry((1, 2), ((0, 1), (2, 1)), (1, 2))}),
), call=lambda dy, w, **attrs: apply_op("conv2d_transpose", dy, w, **attrs),
   magnitude=lambda dy, w, **attrs: _conv_transpose_ref(np.abs(dy), np.abs(w), **attrs))
recipe("conv2d_backprop_filter", _conv_filter_ref, (
    Sample("same_stride2", (Arg((2, 5, 4, 2)), Arg((2, 3, 2, 3))),
           {"filter_size": (3, 3), **_geometry((2, 2), ((1, 1), (1, 1)))}),
    Sample("asymmetric_dilated", (Arg((1, 4, 6, 2)), Arg((1, 4, 3, 2))),
           {"filter_size": (2, 3), **_geometry((1, 2), ((0, 1), (2, 1)), (1, 2))}),
), call=lambda x, dy, **attrs: apply_op("conv2d_backprop_filter", x, dy, **attrs),
   magnitude=lambda x, dy, **attrs: _conv_filter_ref(np.abs(x), np.abs(dy), **attrs))
recipe("max_pool2d", _max_pool_public_ref, samples(
    ("valid", ((2, 4, 6, 3),), {"ksize": 2, "strides": 2, "padding": "VALID"}),
    ("same_overlapping_odd", ((1, 5, 7, 2),), {"ksize": 3, "strides": 2, "padding": "SAME"}),
    ("rectangular", ((1, 5, 5, 2),), {"ksize": (2, 3), "strides": (1, 2), "padding": "SAME"}),
    ("explicit", ((1, 4, 5, 2),), {"ksize": 2, "strides": 2,
                                   "padding": [[0, 0], [1, 0], [0, 1], [0, 0]]}),
    ("nchw", ((1, 2, 5, 4),), {"ksize": 2, "strides": 1, "padding": "SAME",
                               "data_format": "NCHW"}),
), call=lambda x, **attrs: pt.nn.convolution.max_pool2d(x, **attrs))
recipe("avg_pool2d", _avg_pool_public_ref, samples(
    ("valid", ((2, 4, 6, 3),), {"ksize": 2, "strides": 2, "padding": "VALID"}),
    ("same_overlapping_odd", ((1, 5, 7, 2),), {"ksize": 3, "strides": 2, "padding": "SAME"}),
    ("rectangular", ((1, 5, 5, 2),), {"ksize": (2, 3), "strides": (1, 2), "padding": "SAME"}),
    ("nchw", ((1, 2, 5, 4),), {"ksize": 3, "strides": 1, "padding": "SAME",
                               "data_format": "NCHW"}),
), call=lambda x, **attrs: pt.nn.convolution.avg_pool2d(x, **attrs),
   magnitude=lambda x, **attrs: _avg_pool_public_ref(np.abs(x), **attrs))
_POOL_GEOMETRY = {"ksize": (3, 3), "strides": (2, 2), "padding": ((1, 1), (1, 1))}
recipe("max_pool2d_grad", _max_pool_grad_ref, (  # no gradient in x (it only routes g)
    Sample("same_overlapping", (Arg((1, 5, 5, 2), differentiable=False), Arg((1, 3, 3, 2))),
           _POOL_GEOMETRY),
    Sample("valid", (Arg((2, 4, 4, 1), differentiable=False), Arg((2, 2, 2, 1))),
           {"ksize": (2, 2), "strides": (2, 2), "padding": ((0, 0), (0, 0))}),
), call=lambda x, g, **attrs: apply_op("max_pool2d_grad", x, g, **attrs),
   magnitude=lambda x, g, **attrs: _max_pool_grad_ref(x, np.abs(g), **attrs))
recipe("max_pool2d_grad_grad", _max_pool_grad_grad_ref, (
    Sample("same_overlapping", (Arg((1, 5, 5, 2), differentiable=False), Arg((1, 5, 5, 2))),
           _POOL_GEOMETRY),
), call=lambda x, t, **attrs: apply_op("max_pool2d_grad_grad", x, t, **attrs))
recipe("avg_pool2d_grad", _avg_pool_grad_ref, (
    Sample("same_overlapping", (Arg((1, 3, 3, 2)),), {"input_size": (5, 5), **_POOL_GEOMETRY}),
    Sample("asymmetric", (Arg((2, 2, 2, 1)),),
           {"input_size": (4, 4), "ksize": (2, 3), "strides": (2, 2),
            "padding": ((0, 1), (1, 1))}),
), call=lambda g, **attrs: apply_op("avg_pool2d_grad", g, **attrs),
   magnitude=lambda g, **attrs: _avg_pool_grad_ref(np.abs(g), **attrs))
