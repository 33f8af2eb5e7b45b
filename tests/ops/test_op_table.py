"""The op table, checked op by op from one table of cases.

``CASES`` maps every op of :data:`polytape.optable.OPS` (and the composite ops built
from them) to ways of calling it, a NumPy float64 reference, and sample inputs over
several shapes. From it:

* coverage: every op polytape declares has a VJP and JVP rule (if differentiable) and
  an entry here -- adding an op without a case fails;
* values: every op in every dtype it accepts vs the NumPy float64 reference;
* gradients, in float64 on random inputs: the VJP vs central finite differences
  (``<u, J v>`` from the VJP of ``u`` vs the difference quotient along ``v``), the JVP
  vs the VJP, second order (VJP of VJP through nested tapes) vs finite differences of
  the gradient, and ``jacobian``/``batch_jacobian``. On backends other than NumPy the
  gradients are compared with the NumPy backend's instead of finite differences.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ml_dtypes
import numpy as np
import pytest

import polytape as pt
from polytape.conformance.recipes import RECIPES
from polytape.optable import OPS

# -- dtypes and tolerances ------------------------------------------------------------------------
FLOATS = ("float16", "bfloat16", "float32", "float64")
INTS = ("int8", "int16", "int32", "int64", "uint8")
NUMERIC = FLOATS + INTS
ALL = NUMERIC + ("bool",)
SIGNED = FLOATS + INTS[:4]

# (rtol, atol) of one op's result against the float64 reference, by result dtype; atol is
# relative to the largest reference magnitude (at least 1).
TOL = {"float16": (4e-3, 4e-3), "bfloat16": (3e-2, 3e-2), "float32": (2e-6, 2e-6),
       "float64": (1e-12, 1e-12)}


def _np_dtype(name: str) -> np.dtype:
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


# -- sample inputs ----------------------------------------------------------------------------------
def _away(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 2.0, shape)


def _with_zeros(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    x = rng.uniform(-2.0, 2.0, shape)
    x.reshape(-1)[::3] = 0.0  # one zero in each row of 3, two in 4 entries
    return x


DOMAINS: dict[str, Callable[[np.random.Generator, tuple], np.ndarray]] = {
    "real": lambda rng, s: rng.uniform(-2.0, 2.0, s),
    "pos": lambda rng, s: rng.uniform(0.5, 2.0, s),
    "unit": lambda rng, s: rng.uniform(-0.8, 0.8, s),
    "tan": lambda rng, s: rng.uniform(-1.2, 1.2, s),
    "away": _away,
    "zeros": _with_zeros,
    "exponent": lambda rng, s: rng.uniform(0.0, 3.0, s),
}
INT_DOMAINS = {"real": (-3, 3), "pos": (1, 4), "unit": (-1, 1), "tan": (-1, 1), "away": (1, 3),
               "zeros": (-2, 2), "exponent": (0, 3)}


def sample(domain: str, shape: tuple, rng: np.random.Generator, dtype: str = "float64") -> np.ndarray:
    """Random inputs of ``dtype`` in the case's domain (integers and bools drawn as such)."""
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype in INTS:
        lo, hi = INT_DOMAINS[domain]
        if dtype == "uint8":
            lo = max(lo, 0)
        x = rng.integers(lo, hi + 1, shape)
        if domain == "away":
            x = x * (1 if dtype == "uint8" else rng.choice([-1, 1], size=shape))
        return x.astype(dtype)
    return DOMAINS[domain](rng, shape).astype(_np_dtype(dtype))


# -- the table ---------------------------------------------------------------------------------------
@dataclass
class Case:
    """One way to call an op: ``fn(*tensors)`` vs ``ref(*float64 arrays)`` on ``shapes``."""

    op: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    shapes: list[tuple[tuple[int, ...], ...]]
    domains: tuple[str, ...] = ("real",)
    dtypes: tuple[str, ...] = FLOATS
    out: str = "same"          # result dtype: same, float, bool, index, divide, sum, mean
    smooth: bool = True        # check second derivatives
    batch: bool = False        # per-example: check batch_jacobian
    in_dtype: str = "float64"  # dtype of the gradient checks
    fd_eps: float = 1e-6
    grad_rtol: float = 0.0     # gradient tolerance when the default does not fit (float32 results)
    name: str = ""
    ids: list[str] = field(default_factory=list)

    def domain(self, i: int) -> str:
        return self.domains[min(i, len(self.domains) - 1)]


UNARY = [((),), ((4,),), ((2, 3),), ((0,),)]
BINARY = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((4,), ()), ((0, 3), (3,))]
CASES: list[Case] = []


def case(op: str, fn: Callable, ref: Callable, shapes: list, name: str = "", **kw: Any) -> None:
    CASES.append(Case(op, fn, ref, shapes, name=name or op, **kw))


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(x: np.ndarray, axis: Any) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# elementwise, one input -------------------------------------------------------------------------
for _op, _ref, _dom, _dt, _out in [
    ("identity", lambda x: x, "real", ALL, "same"),
    ("negative", np.negative, "real", SIGNED, "same"),
    ("abs", np.abs, "away", NUMERIC, "same"),
    ("exp", np.exp, "real", NUMERIC, "float"),
    ("expm1", np.expm1, "real", NUMERIC, "float"),
    ("log", np.log, "pos", NUMERIC, "float"),
    ("log1p", np.log1p, "pos", NUMERIC, "float"),
    ("sqrt", np.sqrt, "pos", NUMERIC, "float"),
    ("square", np.square, "real", NUMERIC, "same"),
    ("sin", np.sin, "real", NUMERIC, "float"),
    ("cos", np.cos, "real", NUMERIC, "float"),
    ("tan", np.tan, "tan", NUMERIC, "float"),
    ("tanh", np.tanh, "real", NUMERIC, "float"),
    ("sinh", np.sinh, "real", NUMERIC, "float"),
    ("cosh", np.cosh, "real", NUMERIC, "float"),
    ("arcsin", np.arcsin, "unit", NUMERIC, "float"),
    ("arccos", np.arccos, "unit", NUMERIC, "float"),
    ("arctan", np.arctan, "real", NUMERIC, "float"),
    ("erf", _erf, "real", NUMERIC, "float"),
    ("sigmoid", lambda x: 1.0 / (1.0 + np.exp(-x)), "real", NUMERIC, "float"),
    ("softplus", _softplus, "real", NUMERIC, "float"),
    ("relu", lambda x: np.maximum(x, 0), "away", NUMERIC, "same"),
]:
    case(_op, getattr(pt, _op), _ref, UNARY, domains=(_dom,), dtypes=_dt, out=_out, batch=True)
for _op, _ref, _dom, _dt in [("sign", np.sign, "away", SIGNED), ("floor", np.floor, "real", NUMERIC),
                             ("ceil", np.ceil, "real", NUMERIC), ("round", np.round, "real", NUMERIC)]:
    case(_op, getattr(pt, _op), _ref, UNARY, domains=(_dom,), dtypes=_dt)
case("logical_not", pt.logical_not, np.logical_not, UNARY, dtypes=ALL, out="bool")
# relu's gradient: linear in g, a step in x (x kept away from 0, where it jumps)
case("relu_backward", pt.relu_backward, lambda g, x: np.where(x > 0, g, 0), BINARY,
     domains=("real", "away"), dtypes=NUMERIC)
case("clip", lambda x: pt.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), UNARY,
     name="clip-both", dtypes=FLOATS, batch=True)
case("clip", lambda x: pt.clip(x, -1, 2), lambda x: np.clip(x, -1, 2), UNARY,
     name="clip-int-bounds", dtypes=SIGNED)
case("clip", lambda x: pt.clip(x, min=0.25), lambda x: np.maximum(x, 0.25), UNARY, name="clip-min")
case("clip", lambda x: pt.clip(x, max=0.25), lambda x: np.minimum(x, 0.25), UNARY, name="clip-max")
case("clip-composite", lambda x, lo, hi: pt.clip(x, lo, hi - 0.5), lambda x, lo, hi: np.clip(x, lo, hi - 0.5),
     [((3,), (3,), (3,)), ((2, 3), (3,), ())], name="clip-tensor-bounds")

# elementwise, two inputs -------------------------------------------------------------------------
for _op, _ref, _doms, _dt, _out in [
    ("add", np.add, ("real",), NUMERIC, "same"),
    ("subtract", np.subtract, ("real",), SIGNED, "same"),
    ("multiply", np.multiply, ("real",), NUMERIC, "same"),
    ("divide", np.divide, ("real", "away"), NUMERIC, "divide"),
    ("power", np.power, ("pos", "real"), FLOATS, "same"),
    ("maximum", np.maximum, ("real",), NUMERIC, "same"),
    ("minimum", np.minimum, ("real",), NUMERIC, "same"),
    ("arctan2", np.arctan2, ("real",), NUMERIC, "float"),
]:
    case(_op, getattr(pt, _op), _ref, BINARY, domains=_doms, dtypes=_dt, out=_out)
case("power", pt.power, np.power, [((3,), (3,)), ((2, 3), ())], name="power-int",
     domains=("pos", "exponent"), dtypes=("int8", "int16", "int32", "int64"))
for _op in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
    case(_op, getattr(pt, _op), getattr(np, _op), BINARY, dtypes=ALL, out="bool")
for _op in ("logical_and", "logical_or", "logical_xor"):
    case(_op, getattr(pt, _op), getattr(np, _op), BINARY, dtypes=ALL, out="bool")
for _op in ("floor_divide", "remainder"):
    case(_op, getattr(pt, _op), getattr(np, _op), BINARY, domains=("real", "away"), dtypes=NUMERIC)


def _alternating(*arrays: Any) -> np.ndarray:
    shape = np.broadcast_shapes(*(tuple(np.shape(a)) for a in arrays))
    return (np.arange(math.prod(shape)) % 2 == 0).reshape(shape)


case("where", lambda x, y: pt.where(_alternating(x, y), x, y),
     lambda x, y: np.where(_alternating(x, y), x, y), BINARY, dtypes=ALL)

# reductions -------------------------------------------------------------------------------------------
REDUCE = [((),), ((5,),), ((2, 3),)]


def reductions(op: str, fn: Callable, ref: Callable, dom: str = "real", dtypes: tuple = FLOATS,
               out: str = "same", empty: bool = False, scalar: bool = True, tag: str = "",
               **kw: Any) -> None:
    op_tag = op + tag
    case(op, fn, ref, REDUCE[0 if scalar else 1:] + ([((0,),)] if empty else []), name=f"{op_tag}-all",
         domains=(dom,),
         dtypes=dtypes, out=out, **kw)
    case(op, lambda x: fn(x, axis=1), lambda x: ref(x, axis=1),
         [((2, 3),), ((3, 4),)] + ([((3, 0),)] if empty else []), name=f"{op_tag}-axis1", domains=(dom,),
         dtypes=dtypes, out=out, batch=True, **kw)
    case(op, lambda x: fn(x, axis=(0, 2), keepdims=True), lambda x: ref(x, axis=(0, 2), keepdims=True),
         [((2, 3, 2),)], name=f"{op_tag}-axes-keepdims", domains=(dom,), dtypes=dtypes, out=out, **kw)
    case(op, lambda x: fn(x, axis=-1, keepdims=True), lambda x: ref(x, axis=-1, keepdims=True),
         [((4,),), ((2, 3),)], name=f"{op_tag}-last-keepdims", domains=(dom,), dtypes=dtypes, out=out, **kw)


reductions("sum", pt.sum, np.sum, dtypes=ALL, out="accumulate", empty=True)
reductions("mean", pt.mean, np.mean, dtypes=ALL, out="mean")
reductions("max", pt.max, np.max, dtypes=ALL)
reductions("min", pt.min, np.min, dtypes=ALL)
reductions("prod", pt.prod, np.prod, dtypes=ALL, out="accumulate", empty=True)
reductions("prod", pt.prod, np.prod, dom="zeros", dtypes=FLOATS, tag="-zeros")
reductions("logsumexp", pt.logsumexp, _logsumexp, dtypes=NUMERIC, out="float")
reductions("var", pt.var, np.var, dtypes=NUMERIC, out="float")
case("var", lambda x: pt.var(x, axis=1, correction=1), lambda x: np.var(x, axis=1, ddof=1),
     [((2, 3),)], name="var-correction", dtypes=NUMERIC, out="float")
reductions("std", pt.std, np.std, dtypes=NUMERIC, out="float", scalar=False)  # sqrt'(0) = inf
for _op in ("argmax", "argmin"):
    _np = getattr(np, _op)
    case(_op, getattr(pt, _op), _np, [((5,),), ((2, 3),)], name=f"{_op}-all", dtypes=ALL, out="index")
    case(_op, lambda x, _f=getattr(pt, _op): _f(x, axis=1), lambda x, _f=_np: _f(x, axis=1),
         [((2, 3),)], name=f"{_op}-axis1", dtypes=ALL, out="index")
    case(_op, lambda x, _f=getattr(pt, _op): _f(x, axis=0, keepdims=True),
         lambda x, _f=_np: _f(x, axis=0, keepdims=True), [((2, 3),)], name=f"{_op}-keepdims",
         dtypes=ALL, out="index")
case("cumsum", pt.cumsum, np.cumsum, [((5,),), ((2, 3),), ((0,),)], name="cumsum-flat", dtypes=ALL,
     out="sum")
case("cumsum", lambda x: pt.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1), [((2, 3),)],
     name="cumsum-axis1", dtypes=NUMERIC, batch=True)
case("cumsum", lambda x: pt.cumsum(x, axis=0, reverse=True),
     lambda x: np.flip(np.cumsum(np.flip(x, 0), axis=0), 0), [((4,),), ((3, 2),)],
     name="cumsum-reverse", dtypes=NUMERIC)
for _op, _ref in [("softmax", _softmax),
                  ("log_softmax", lambda x, axis: np.log(_softmax(x, axis)))]:
    _fn = getattr(pt, _op)
    case(_op, _fn, lambda x, _r=_ref: _r(x, -1), [((4,),), ((2, 3),)], name=f"{_op}-last",
         dtypes=NUMERIC, out="float", batch=True)
    case(_op, lambda x, _f=_fn: _f(x, axis=0), lambda x, _r=_ref: _r(x, 0), [((3, 2),)],
         name=f"{_op}-axis0", dtypes=FLOATS)
    case(_op, lambda x, _f=_fn: _f(x, axis=(1, 2)), lambda x, _r=_ref: _r(x, (1, 2)), [((2, 2, 3),)],
         name=f"{_op}-axes", dtypes=FLOATS, batch=True)

# norms (a composite)
case("norm", pt.norm, lambda x: np.linalg.norm(x.reshape(-1)), [((5,),), ((2, 3),)], name="norm-2",
     dtypes=NUMERIC, out="float")
case("norm", lambda x: pt.norm(x, ord=1, axis=1), lambda x: np.linalg.norm(x, 1, axis=1),
     [((2, 3),)], name="norm-1", domains=("away",), batch=True)
case("norm", lambda x: pt.norm(x, ord=np.inf, axis=0), lambda x: np.linalg.norm(x, np.inf, axis=0),
     [((3, 2),)], name="norm-inf")
case("norm", lambda x: pt.norm(x, ord=-np.inf), lambda x: np.min(np.abs(x)), [((4,),)],
     name="norm-minus-inf")
case("norm", lambda x: pt.norm(x, ord=3, axis=-1, keepdims=True),
     lambda x: np.linalg.norm(x, 3, axis=-1, keepdims=True), [((2, 3),)], name="norm-3",
     domains=("away",))
case("norm", lambda x: pt.norm(x, ord="fro", axis=(0, 1)), lambda x: np.linalg.norm(x, "fro"),
     [((2, 3),)], name="norm-fro")
case("norm", lambda x: pt.norm(x, ord=1, axis=(0, 1)), lambda x: np.linalg.norm(x, 1),
     [((2, 3),)], name="norm-matrix-1", domains=("away",))
case("norm", lambda x: pt.norm(x, ord=np.inf, axis=(1, 2), keepdims=True),
     lambda x: np.linalg.norm(x, np.inf, axis=(1, 2), keepdims=True), [((2, 2, 3),)],
     name="norm-matrix-inf", domains=("away",))

# linear algebra -------------------------------------------------------------------------------------------
case("matmul", pt.matmul, np.matmul,
     [((2, 3), (3, 4)), ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 2, 3), (3, 4)),
      ((2, 1, 2, 3), (3, 3, 2)), ((0, 3), (3, 2))], dtypes=NUMERIC)
case("matmul", lambda x: pt.matmul(x, pt.constant(np.linspace(-1, 1, 12).reshape(3, 4), dtype=x.dtype)),
     lambda x: x @ np.linspace(-1, 1, 12).reshape(3, 4), [((2, 3),)], name="matmul-rows",
     batch=True, dtypes=("float32", "float64"))
for _subs, _shapes in [
    ("ij,jk->ik", [((2, 3), (3, 4))]), ("ij,jk", [((2, 3), (3, 2))]), ("ii->i", [((3, 3),)]),
    ("ii", [((3, 3),)]), ("iik->k", [((2, 2, 3),)]), ("ij->", [((2, 3),)]), ("i->", [((4,),)]),
    ("bij,bjk->bik", [((2, 2, 3), (2, 3, 2))]), ("...ij,jk->...ik", [((2, 3, 4), (4, 2)), ((3, 4), (4, 2))]),
    ("ij,ij->i", [((2, 3), (1, 3))]), ("i,j->ij", [((2,), (3,))]), ("ijk->kj", [((2, 3, 2),)]),
    ("i,i,i->", [((3,), (3,), (3,))]), ("ij,jk,kl->il", [((2, 3), (3, 2), (2, 2))]),
    ("ab,b->a", [((2, 3), (3,))]), ("ii,i->i", [((3, 3), (3,))]),
]:
    case("einsum", lambda *xs, _s=_subs: pt.einsum(_s, *xs), lambda *xs, _s=_subs: np.einsum(_s, *xs),
         _shapes, name=f"einsum-{_subs}", dtypes=NUMERIC)
for _axes, _shapes in [(1, [((2, 3), (3, 4))]), (2, [((2, 3, 4), (3, 4, 2))]), (0, [((2,), (3,))]),
                       (([1, 0], [0, 1]), [((3, 2), (2, 3))])]:
    case("tensordot", lambda x, y, _a=_axes: pt.tensordot(x, y, axes=_a),
         lambda x, y, _a=_axes: np.tensordot(x, y, axes=_a), _shapes, name=f"tensordot-{_axes}",
         dtypes=NUMERIC)

# shapes and indexing ------------------------------------------------------------------------------------
case("reshape", lambda x: pt.reshape(x, (-1,)), lambda x: x.reshape(-1),
     [((2, 3),), ((),), ((0, 3),)], name="reshape-flat", dtypes=ALL)
case("reshape", lambda x: pt.reshape(x, (3, 1, 2)), lambda x: x.reshape(3, 1, 2), [((2, 3),), ((6,),)],
     dtypes=ALL)
case("transpose", lambda x: pt.transpose(x, (2, 0, 1)), lambda x: np.transpose(x, (2, 0, 1)),
     [((2, 3, 4),)], dtypes=ALL)
case("transpose", pt.transpose, np.transpose, [((2, 3),), ((),), ((0, 2),)], name="transpose-reverse")
case("transpose", lambda x: pt.permute_dims(x, (1, 0)), lambda x: x.T, [((3, 2),)], name="permute_dims")
case("broadcast_to", lambda x: pt.broadcast_to(x, (2, 3)), lambda x: np.broadcast_to(x, (2, 3)),
     [((3,),), ((2, 1),), ((),), ((1, 3),)], dtypes=ALL)
case("expand_dims", lambda x: pt.expand_dims(x, 0), lambda x: np.expand_dims(x, 0), UNARY, dtypes=ALL)
case("expand_dims", lambda x: pt.expand_dims(x, -1), lambda x: np.expand_dims(x, -1), [((2, 3),)],
     name="expand_dims-last")
case("squeeze", pt.squeeze, np.squeeze, [((1, 3, 1),), ((1,),)], dtypes=ALL)
case("squeeze", lambda x: pt.squeeze(x, 0), lambda x: np.squeeze(x, 0), [((1, 3, 1),)],
     name="squeeze-axis")
case("concat", lambda *xs: pt.concat(xs, axis=0), lambda *xs: np.concatenate(xs, 0),
     [((2, 3), (1, 3)), ((0, 3), (2, 3)), ((2,), (3,), (1,))], dtypes=ALL)
case("concat", lambda x, y: pt.concat([x, y], axis=-1), lambda x, y: np.concatenate([x, y], -1),
     [((2, 1), (2, 2))], name="concat-last")
case("stack", lambda *xs: pt.stack(xs), lambda *xs: np.stack(xs), [((3,), (3,)), ((), (), ())],
     dtypes=ALL)
case("stack", lambda x, y: pt.stack([x, y], axis=1), lambda x, y: np.stack([x, y], 1),
     [((2, 3), (2, 3))], name="stack-axis1")
case("tile", lambda x: pt.tile(x, 2), lambda x: np.tile(x, 2), [((3,),), ((),), ((2, 2),)], dtypes=ALL)
case("tile", lambda x: pt.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)), [((2, 2),), ((3,),)],
     name="tile-longer-reps")
case("pad", lambda x: pt.pad(x, 1), lambda x: np.pad(x, 1), [((3,),), ((2, 2),)], dtypes=ALL)
case("pad", lambda x: pt.pad(x, ((1, 0), (0, 2)), constant_values=5.0),
     lambda x: np.pad(x, ((1, 0), (0, 2)), constant_values=5.0), [((2, 3),)], name="pad-value",
     dtypes=NUMERIC)
case("flip", pt.flip, np.flip, [((3,),), ((2, 3),), ((),)], dtypes=ALL)
case("flip", lambda x: pt.flip(x, axis=1), lambda x: np.flip(x, 1), [((2, 3),)], name="flip-axis1")


def _split_join(x: Any, spec: Any, axis: int) -> Any:
    parts = pt.split(x, spec, axis=axis)
    return pt.concat([p * (i + 1) for i, p in enumerate(parts)], axis=axis)


def _np_split_join(x: np.ndarray, spec: Any, axis: int) -> np.ndarray:
    sections = spec if isinstance(spec, int) else list(np.cumsum(spec)[:-1])
    parts = np.split(x, sections, axis=axis)
    return np.concatenate([p * (i + 1) for i, p in enumerate(parts)], axis=axis)


case("split", lambda x: _split_join(x, 3, 0), lambda x: _np_split_join(x, 3, 0), [((6,),), ((3, 2),)],
     name="split-equal", dtypes=NUMERIC)
case("split", lambda x: _split_join(x, [1, -1], 1), lambda x: _np_split_join(x, [1, 2], 1), [((2, 3),)],
     name="split-sizes")

_MASK = np.array([[True, False, True], [False, False, True]])
for _name, _index in [
    ("basic", (slice(1, None), slice(None, None, 2))), ("int", 1), ("negative-step", slice(None, None, -1)),
    ("newaxis", (Ellipsis, None)), ("int-array", ([0, 0, 1],)), ("int-arrays", ([0, 1], [1, 2])),
    ("mixed", (slice(None), [2, 0, 2])),
]:
    case("getitem", lambda x, _i=_index: x[_i], lambda x, _i=_index: x[_i], [((2, 3),)],
         name=f"getitem-{_name}", dtypes=ALL)
case("getitem", lambda x: x[_MASK], lambda x: x[_MASK], [((2, 3),)], name="getitem-mask", dtypes=ALL)
case("getitem", lambda x: x[pt.constant(_MASK)], lambda x: x[_MASK], [((2, 3),)],
     name="getitem-mask-tensor")
case("take", lambda x: pt.take(x, [2, 0, 2]), lambda x: np.take(x, [2, 0, 2]), [((4,),), ((2, 3),)],
     dtypes=ALL)
case("take", lambda x: pt.take(x, [[0, 1], [1, 1]], axis=1), lambda x: np.take(x, [[0, 1], [1, 1]], 1),
     [((2, 3),)], name="take-axis1")
case("gather", lambda x: pt.gather(x, pt.constant([1, 0, 1]), axis=0),
     lambda x: np.take(x, [1, 0, 1], 0), [((2, 3),)], dtypes=NUMERIC)


def _np_index_add(base: np.ndarray, index: Any, values: np.ndarray) -> np.ndarray:
    out = base.astype(np.float64)
    np.add.at(out, index, values)
    return out


for _name, _index, _shapes in [("slice", (slice(0, 2),), [((3, 2), (2, 2)), ((3, 2), (2,))]),
                               ("repeats", ([0, 2, 0],), [((3, 2), (3, 2))])]:
    case("index_add", lambda b, v, _i=_index: pt.index_add(b, _i, v),
         lambda b, v, _i=_index: _np_index_add(b, tuple(np.asarray(p) if isinstance(p, list) else p
                                                      for p in _i), v),
         _shapes, name=f"index_add-{_name}", dtypes=("float16", "float32", "float64"))
case("astype", lambda x: pt.cast(x, pt.float64), lambda x: x, [((3,),), ((2, 3),)],
     in_dtype="float32", fd_eps=1.0, dtypes=NUMERIC, out="float64")
case("astype", lambda x: pt.cast(x, "float32"), lambda x: x.astype(np.float32), [((3,),)],
     name="astype-to-float32", dtypes=NUMERIC, out="float32", fd_eps=1.0, grad_rtol=1e-5)


# -- the Array API standard's elementwise functions (issue #15) -----------------------------------
DOMAINS["gt1"] = lambda rng, s: rng.uniform(1.2, 3.0, s)
INT_DOMAINS["gt1"] = (2, 4)
for _op, _ref, _dom, _dt, _out in [
    ("acosh", np.arccosh, "gt1", NUMERIC, "float"),
    ("asinh", np.arcsinh, "real", NUMERIC, "float"),
    ("atanh", np.arctanh, "unit", FLOATS, "float"),
    ("log2", np.log2, "pos", NUMERIC, "float"),
    ("log10", np.log10, "pos", NUMERIC, "float"),
    ("reciprocal", np.reciprocal, "away", FLOATS, "float"),
    ("positive", np.positive, "real", NUMERIC, "same"),
    ("real", np.real, "real", NUMERIC, "same"),
    ("conj", np.conj, "real", NUMERIC, "same"),
    ("imag", np.zeros_like, "real", NUMERIC, "same"),
]:
    case(_op, getattr(pt, _op), _ref, UNARY, domains=(_dom,), dtypes=_dt, out=_out, batch=True)
case("trunc", pt.trunc, np.trunc, UNARY, dtypes=FLOATS)
for _op in ("signbit", "isfinite", "isinf", "isnan"):
    case(_op, getattr(pt, _op), getattr(np, _op), UNARY, dtypes=FLOATS, out="bool")
for _op, _ref, _doms in [("logaddexp", np.logaddexp, ("real",)), ("hypot", np.hypot, ("away",))]:
    case(_op, getattr(pt, _op), _ref, BINARY, domains=_doms, dtypes=NUMERIC, out="float")
case("copysign", pt.copysign, np.copysign, BINARY, domains=("away",), dtypes=FLOATS)
case("nextafter", pt.nextafter, np.nextafter, BINARY, dtypes=("float32", "float64"))
_BITWISE_INTS = INTS


def _on_int64(fn: Callable) -> Callable:
    # References get float64 inputs; bitwise ufuncs need integers (the sampled values are small).
    return lambda *xs: fn(*(x.astype(np.int64) for x in xs))


for _op in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    case(_op, getattr(pt, _op), _on_int64(getattr(np, _op)), BINARY,
         dtypes=_BITWISE_INTS + ("bool",), in_dtype="int32")
# int64's invert is the signed types' invert on small values (not uint8's or bool's)
case("bitwise_invert", pt.bitwise_invert, _on_int64(np.invert), UNARY, dtypes=INTS[:4],
     in_dtype="int32")
for _op, _ref in [("bitwise_left_shift", np.left_shift), ("bitwise_right_shift", np.right_shift)]:
    case(_op, getattr(pt, _op), _on_int64(_ref), BINARY, domains=("real", "exponent"),
         dtypes=_BITWISE_INTS, in_dtype="int32")


# -- the linalg extension (issue #15) ---------------------------------------------------------------------
# The table ops through the conformance recipes' calls: well-conditioned inputs (shifted, X X^T + nI,
# spaced eigenvalues and singular values) and sign-invariant outputs (squares of eigenvectors,
# singular vectors and Q), so finite differences see one smooth function.
_DOUBLE = ("float32", "float64")
for _op, _shapes, _attrs in [
    ("inv", [((3, 3),), ((2, 3, 3),)], {}),
    ("det", [((3, 3),), ((2, 3, 3),)], {}),
    ("slogdet", [((3, 3),), ((2, 4, 4),)], {}),
    ("solve", [((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((2, 1, 3, 3), (3, 3, 2))], {}),
    ("cholesky", [((3, 3),), ((2, 3, 3),)], {}),
    ("cholesky", [((3, 3),)], {"upper": True}),
    ("eigh", [((3, 3),), ((2, 4, 4),)], {}),
    ("qr", [((4, 3),), ((2, 3, 5),), ((3, 3),)], {}),
    ("qr", [((4, 3),)], {"mode": "complete"}),
    ("svd", [((4, 3),), ((2, 3, 5),)], {"full_matrices": False}),
    # full_matrices: one extra column (a sign to choose); with more, their squares depend on a basis
    ("svd", [((4, 3),), ((3, 4),)], {"full_matrices": True}),
    ("pinv", [((4, 3),), ((2, 3, 5),)], {}),
]:
    _r = RECIPES[_op]
    case(_op, lambda *xs, _r=_r, _a=_attrs: _r.invoke(*xs, **_a),
         lambda *xs, _r=_r, _a=_attrs: _r.reference(*xs, **_a), _shapes,
         name="-".join([_op, *(f"{k}={v}" for k, v in _attrs.items())]), dtypes=_DOUBLE)
case("matrix_rank", pt.linalg.matrix_rank, np.linalg.matrix_rank, [((4, 3),), ((2, 3, 5),)],
     dtypes=_DOUBLE, out="index")


def _spaced(x: Any) -> Any:
    # x plus a diagonal 6, 3 (rectangular too): singular values well apart
    d = np.zeros(x.shape[-2:])
    d[0, 0], d[1, 1] = 6.0, 3.0
    return x + (pt.constant(d, dtype=x.dtype) if isinstance(x, pt.Tensor) else d)


def _sym(x: Any) -> Any:
    return (x + np.swapaxes(x, -1, -2)) / 2 + np.diag([0.0, 5.0, 10.0])


# Compositions (no rules of their own): their derivatives come from the ops above.
case("eigvalsh", lambda x: pt.linalg.eigvalsh((x + pt.matrix_transpose(x)) / 2
                                              + pt.constant(np.diag([0.0, 5.0, 10.0]), dtype=x.dtype)),
     lambda x: np.linalg.eigvalsh(_sym(x)), [((3, 3),), ((2, 3, 3),)], dtypes=_DOUBLE)
case("svdvals", lambda x: pt.linalg.svdvals(_spaced(x)),
     lambda x: np.linalg.svd(_spaced(x), compute_uv=False), [((3, 2),), ((2, 2, 4),)], dtypes=_DOUBLE)
for _ord in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
    case("matrix_norm", lambda x, _o=_ord: pt.linalg.matrix_norm(_spaced(x), ord=_o),
         lambda x, _o=_ord: np.linalg.norm(_spaced(x), ord=_o, axis=(-2, -1)), [((3, 2),), ((2, 2, 4),)],
         name=f"matrix_norm-{_ord}", dtypes=_DOUBLE, domains=("away",))
case("matrix_norm", lambda x: pt.linalg.matrix_norm(_spaced(x), ord=2, keepdims=True),
     lambda x: np.linalg.norm(_spaced(x), ord=2, axis=(-2, -1), keepdims=True), [((2, 3, 2),)],
     name="matrix_norm-keepdims", dtypes=_DOUBLE)
for _ord in (2, 1, 3, 0.5, -1.5, np.inf, -np.inf):
    case("vector_norm", lambda x, _o=_ord: pt.linalg.vector_norm(x, ord=_o, axis=(0, 2), keepdims=True),
         lambda x, _o=_ord: np.linalg.norm(np.moveaxis(x, 1, 0).reshape(3, -1), ord=_o, axis=1)
         .reshape(1, 3, 1), [((2, 3, 2),)], name=f"vector_norm-{_ord}", dtypes=_DOUBLE, domains=("away",))
case("vector_norm", pt.linalg.vector_norm, lambda x: np.linalg.norm(x.reshape(-1)), [((2, 3),)],
     name="vector_norm-all", dtypes=("int32",) + _DOUBLE, domains=("away",), out="float")
case("vector_norm", lambda x: pt.linalg.vector_norm(x, ord=0, axis=-1), lambda x: np.sum(x != 0, axis=-1),
     [((2, 3),)], name="vector_norm-0", dtypes=_DOUBLE, domains=("zeros",), smooth=False)
for _n in (0, 1, 3, -2):
    case("matrix_power", lambda x, _n=_n: pt.linalg.matrix_power(_spaced(x), _n),
         lambda x, _n=_n: np.linalg.matrix_power(_spaced(x), _n), [((2, 2),), ((2, 2, 2),)],
         name=f"matrix_power-{_n}", dtypes=_DOUBLE)
case("trace", lambda x: pt.linalg.trace(x, offset=1), lambda x: np.trace(x, 1, axis1=-2, axis2=-1),
     [((3, 3),), ((2, 3, 4),)], dtypes=_DOUBLE)
case("diagonal", lambda x: pt.linalg.diagonal(x, offset=-1),
     lambda x: np.diagonal(x, -1, axis1=-2, axis2=-1), [((3, 3),), ((2, 4, 3),)], dtypes=("int32",) + _DOUBLE)
case("outer", pt.linalg.outer, np.outer, [((3,), (2,))], dtypes=("int32",) + _DOUBLE)
case("cross", pt.linalg.cross, np.cross, [((3,), (3,)), ((2, 3), (3,))], dtypes=_DOUBLE)
case("cross", lambda a, b: pt.linalg.cross(a, b, axis=0), lambda a, b: np.cross(a, b, axis=0),
     [((3, 2), (3, 1))], name="cross-axis0", dtypes=_DOUBLE)


# -- fft: a real-valued result of each transform (complex ones are tested in tests/ops/test_fft.py)
_W = 0.3 - 0.7j
case("fftn", lambda x: pt.real(pt.fft.fftn(x) * _W), lambda x: np.real(np.fft.fftn(x) * _W),
     [((5,),), ((2, 3),)], dtypes=("float32", "float64"))
case("ifftn", lambda x: pt.imag(pt.fft.ifft(x, axis=0, norm="ortho") * _W),
     lambda x: np.imag(np.fft.ifft(x, axis=0, norm="ortho") * _W), [((4,),), ((3, 2),)],
     dtypes=("float32", "float64"))
case("rfftn", lambda x: pt.real(pt.fft.rfft(x, n=6) * _W),
     lambda x: np.real(np.fft.rfft(x, n=6) * _W), [((4,),), ((2, 5),)], dtypes=("float32", "float64"))
case("irfftn", lambda x: pt.fft.irfft(pt.fft.rfft(x) * _W, n=5),
     lambda x: np.fft.irfft(np.fft.rfft(x) * _W, n=5), [((4,),), ((2, 6),)],
     dtypes=("float32", "float64"))


# -- convolution and pooling (issue #16): the conformance recipes' calls and float64 references ----
# (their half-precision values are checked by the conformance suite, per backend's dtypes)
for _op in ("conv2d", "conv2d_transpose", "conv2d_backprop_filter", "max_pool2d",
            "max_pool2d_grad", "max_pool2d_grad_grad", "avg_pool2d", "avg_pool2d_grad"):
    for _s in RECIPES[_op].samples[:2]:
        case(_op, lambda *ts, _r=RECIPES[_op], _a=_s.attrs: _r.invoke(*ts, **_a),
             lambda *xs, _r=RECIPES[_op], _a=_s.attrs: _r.reference(*xs, **_a),
             [tuple(a.shape for a in _s.args)], name=f"{_op}-{_s.label}",
             dtypes=("float32", "float64"))


# -- coverage ------------------------------------------------------------------------------------------
def _declared_by_polytape(op: Any) -> bool:
    rules = [f for f in (*op.vjps, *op.jvps, op.default_kernel) if f is not None]
    return all(getattr(f, "__module__", "").startswith("polytape") for f in rules)


def test_every_op_has_rules_and_a_case() -> None:
    covered = {c.op for c in CASES}
    problems = []
    for name, op in sorted(OPS.items()):
        if not _declared_by_polytape(op):
            continue  # a plugin's op: its own plugin tests it
        if name not in covered:
            problems.append(f"{name}: no entry in the finite-difference table (CASES)")
        if not op.differentiable:
            continue
        if not any(r is not None for r in op.vjps):
            problems.append(f"{name}: no VJP rule")
        for i, v in enumerate(op.vjps):
            if v is not None and (i >= len(op.jvps) or op.jvps[i] is None):
                problems.append(f"{name}: input {i} has a VJP rule but no JVP rule")
    assert not problems, "\n".join(problems)


def test_table_calls_the_op_it_names(backend: str) -> None:
    """Each case really runs its op's kernel (a typo in the table would otherwise cover nothing)."""
    be = pt.get_backend(backend)
    seen: set[str] = set()

    def spy(name: str, kernel: Callable) -> Callable:
        def counted(*args: Any, **kw: Any) -> Any:
            seen.add(name)
            return kernel(*args, **kw)
        return counted

    original = be.kernels
    missing = []
    try:
        be.kernels = {name: spy(name, k) for name, k in original.items()}
        for c in CASES:
            seen.clear()
            rng = np.random.default_rng(0)
            c.fn(*(pt.constant(sample(c.domain(i), s, rng), dtype=c.in_dtype)
                   for i, s in enumerate(c.shapes[0])))
            if c.op in OPS and c.op not in seen:
                missing.append(c.name)
    finally:
        be.kernels = original
    assert not missing, f"cases that never run their op: {missing}"


# -- values in every dtype ---------------------------------------------------------------------------------
def _expected_dtype(c: Case, dtype: str) -> str:
    kind = np.dtype(_np_dtype(dtype)).kind if dtype != "bfloat16" else "f"
    rule = c.out
    if rule == "same":
        return dtype
    if rule == "bool":
        return "bool"
    if rule == "index":
        return "int64"
    if rule in ("float64", "float32"):
        return rule
    if rule == "float":
        return dtype if kind == "f" else "float32"
    if rule == "mean":
        return dtype if kind == "f" else "float32"
    if rule == "accumulate":  # the Array API's: narrower integers and bool give the default
        if dtype in ("uint8", "uint16"):  # integer (int32), unsigned ones uint32
            return "uint32"
        return "int32" if dtype in ("bool", "int8", "int16") else dtype
    if rule == "sum":
        return "int32" if dtype == "bool" else dtype
    if rule == "divide":
        if kind == "f":
            return dtype
        return "float64" if dtype in ("int32", "int64") else "float32"
    raise AssertionError(rule)


def _seed(*parts: Any) -> int:
    return zlib.crc32(repr(parts).encode())


@pytest.mark.parametrize("c", [pytest.param(c, id=c.name) for c in CASES])
def test_values_in_every_dtype(backend: str, c: Case) -> None:
    failures = []
    for dtype in c.dtypes:
        try:
            _check_values(c, dtype)
        except AssertionError as exc:
            failures.append(f"{dtype}: {exc}")
    assert not failures, "\n".join(failures)


def _check_values(c: Case, dtype: str) -> None:
    rng = np.random.default_rng(_seed(c.name, dtype))
    want_dtype = _expected_dtype(c, dtype)
    for shapes in c.shapes:
        inputs = [sample(c.domain(i), s, rng, dtype) for i, s in enumerate(shapes)]
        out = c.fn(*(pt.constant(a) for a in inputs))
        assert out.dtype == pt.as_dtype(want_dtype), (shapes, out.dtype, want_dtype)
        with np.errstate(all="ignore"):
            ref = np.asarray(c.ref(*(a.astype(np.float64) for a in inputs)), dtype=np.float64)
        got = np.asarray(out.numpy()).astype(np.float64)
        assert got.shape == ref.shape, (shapes, got.shape, ref.shape)
        if want_dtype in TOL:
            rtol, atol = TOL[want_dtype]
            scale = max(1.0, float(np.max(np.abs(ref)))) if ref.size else 1.0
            np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol * scale, err_msg=str(shapes))
        else:
            np.testing.assert_array_equal(got, ref.astype(_np_dtype(want_dtype)), err_msg=str(shapes))


# -- gradients -------------------------------------------------------------------------------------------
DIFF = [c for c in CASES if c.op not in OPS or OPS[c.op].differentiable]
GRAD_PARAMS = [pytest.param(c, k, id=f"{c.name}-{'x'.join(map(str, c.shapes[k]))}".replace(" ", ""))
               for c in DIFF for k in range(len(c.shapes))]


def _problem(c: Case, k: int) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Inputs, input directions ``v`` and output weights ``u`` for shape set ``k`` (float64)."""
    rng = np.random.default_rng(_seed(c.name, k))
    xs = [sample(c.domain(i), s, rng) for i, s in enumerate(c.shapes[k])]
    if c.in_dtype != "float64":
        xs = [x.astype(c.in_dtype).astype(np.float64) for x in xs]
    vs = [rng.standard_normal(x.shape) for x in xs]
    out_shape = np.shape(c.ref(*xs))
    u = rng.standard_normal(out_shape)
    return xs, vs, u


def _tensors(c: Case, arrays: list[np.ndarray], backend: str) -> list[Any]:
    return [pt.constant(a, dtype=c.in_dtype, backend=backend) for a in arrays]


def _vjp(c: Case, xs: list[np.ndarray], u: np.ndarray, backend: str) -> list[np.ndarray]:
    with pt.use_backend(backend):
        ts = _tensors(c, xs, backend)
        with pt.GradientTape() as tape:
            tape.watch(ts)
            out = c.fn(*ts)
        seed = pt.constant(u, dtype=out.dtype, backend=backend)
        grads = tape.gradient(out, ts, output_gradients=seed, unconnected_gradients="zero")
        for g, t in zip(grads, ts):
            assert g.shape == t.shape and g.dtype == t.dtype
        return [np.asarray(g.numpy(), dtype=np.float64) for g in grads]


def _jvp(c: Case, xs: list[np.ndarray], vs: list[np.ndarray], backend: str) -> np.ndarray:
    with pt.use_backend(backend):
        ts = _tensors(c, xs, backend)
        tangents = [pt.constant(v, dtype=c.in_dtype, backend=backend) for v in vs]
        with pt.ForwardAccumulator(ts, tangents) as acc:
            out = c.fn(*ts)
        jv = acc.jvp(out, unconnected_gradients="zero")
        assert jv.shape == out.shape and jv.dtype == out.dtype
        return np.asarray(jv.numpy(), dtype=np.float64)


def _value(c: Case, xs: list[np.ndarray], backend: str = "numpy") -> np.ndarray:
    with pt.use_backend(backend):
        return np.asarray(c.fn(*_tensors(c, xs, backend)).numpy(), dtype=np.float64)


def _finite_difference(c: Case, xs: list[np.ndarray], vs: list[np.ndarray], u: np.ndarray) -> float:
    eps = c.fd_eps
    plus = _value(c, [x + eps * v for x, v in zip(xs, vs)])
    minus = _value(c, [x - eps * v for x, v in zip(xs, vs)])
    return float(np.sum(u * (plus - minus)) / (2 * eps))


def _inner(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return float(sum(np.sum(x * y) for x, y in zip(a, b)))


def _close(got: float, want: float, scale: float, rtol: float) -> None:
    assert abs(got - want) <= rtol * (abs(want) + scale), (got, want)


def _rtol(c: Case, default: float) -> float:
    if c.grad_rtol:
        return c.grad_rtol
    return default if c.in_dtype == "float64" else 1e-5


def _scale(xs: list[np.ndarray], vs: list[np.ndarray], u: np.ndarray) -> float:
    return 1.0 + float(np.sum(np.abs(u))) * (1.0 + sum(float(np.sum(np.abs(v))) for v in vs))


@pytest.mark.parametrize(("c", "k"), GRAD_PARAMS)
def test_vjp_matches_finite_differences(backend: str, c: Case, k: int) -> None:
    xs, vs, u = _problem(c, k)
    got = _inner(_vjp(c, xs, u, backend), vs)
    if backend == "numpy":
        _close(got, _finite_difference(c, xs, vs, u), _scale(xs, vs, u), _rtol(c, 1e-6))
    else:
        _close(got, _inner(_vjp(c, xs, u, "numpy"), vs), _scale(xs, vs, u), 1e-10)


@pytest.mark.parametrize(("c", "k"), GRAD_PARAMS)
def test_jvp_matches_vjp(backend: str, c: Case, k: int) -> None:
    xs, vs, u = _problem(c, k)
    forward = float(np.sum(u * _jvp(c, xs, vs, backend)))
    reverse = _inner(_vjp(c, xs, u, backend), vs)
    _close(forward, reverse, _scale(xs, vs, u), _rtol(c, 1e-10))


def _gradient_along(c: Case, xs: list[np.ndarray], u: np.ndarray, w: list[np.ndarray]) -> float:
    return _inner(_vjp(c, xs, u, "numpy"), w)


def _second_order(c: Case, xs: list[np.ndarray], u: np.ndarray, ws: list[np.ndarray],
                  vs: list[np.ndarray], backend: str) -> float:
    """``v . d/dx <grad <u, f(x)>, w>`` through two nested tapes."""
    with pt.use_backend(backend):
        ts = _tensors(c, xs, backend)
        with pt.GradientTape() as outer:
            outer.watch(ts)
            with pt.GradientTape() as inner:
                inner.watch(ts)
                out = c.fn(*ts)
            seed = pt.constant(u, dtype=out.dtype, backend=backend)
            grads = inner.gradient(out, ts, output_gradients=seed, unconnected_gradients="zero")
            s = pt.constant(0.0, dtype=c.in_dtype, backend=backend)
            for g, w in zip(grads, ws):
                s = s + pt.sum(g * pt.constant(w, dtype=g.dtype, backend=backend))
        hs = outer.gradient(s, ts, unconnected_gradients="zero")
        return _inner([np.asarray(h.numpy(), dtype=np.float64) for h in hs], vs)


SMOOTH_PARAMS = [p for p in GRAD_PARAMS if p.values[0].smooth and p.values[0].in_dtype == "float64"]


@pytest.mark.parametrize(("c", "k"), SMOOTH_PARAMS)
def test_second_order_matches_finite_differences(backend: str, c: Case, k: int) -> None:
    xs, vs, u = _problem(c, k)
    rng = np.random.default_rng(_seed(c.name, k, "w"))
    ws = [rng.standard_normal(x.shape) for x in xs]
    got = _second_order(c, xs, u, ws, vs, backend)
    if backend == "numpy":
        eps = 1e-5
        fd = (_gradient_along(c, [x + eps * v for x, v in zip(xs, vs)], u, ws)
              - _gradient_along(c, [x - eps * v for x, v in zip(xs, vs)], u, ws)) / (2 * eps)
        _close(got, fd, _scale(xs, vs, u) * (1.0 + sum(float(np.sum(np.abs(w))) for w in ws)), 1e-6)
    else:
        _close(got, _second_order(c, xs, u, ws, vs, "numpy"), _scale(xs, vs, u), 1e-10)


@pytest.fixture
def release_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Records release every value their rules do not read, however small (by default
    arrays under 4 KiB are kept, so the small arrays of these cases would never be)."""
    from polytape import dispatch, saved

    monkeypatch.setattr(dispatch, "RELEASE_MIN_BYTES", 0)
    monkeypatch.setattr(saved, "RELEASE_MIN_BYTES", 0)


@pytest.mark.parametrize(("c", "k"), GRAD_PARAMS)
def test_released_values_give_the_same_gradients(backend: str, c: Case, k: int,
                                                 release_everything: None) -> None:
    # The rules that run on stand-ins read only their shapes: any other read would fail or
    # change the numbers. Compared with the unreleased NumPy VJP (checked against finite
    # differences above).
    xs, vs, u = _problem(c, k)
    got = _inner(_vjp(c, xs, u, backend), vs)
    with pytest.MonkeyPatch.context() as undo:
        from polytape import dispatch
        undo.setattr(dispatch, "RELEASE_MIN_BYTES", 1 << 62)
        want = _inner(_vjp(c, xs, u, "numpy"), vs)
    _close(got, want, _scale(xs, vs, u), 1e-10 if c.in_dtype == "float64" else 1e-5)


@pytest.mark.parametrize(("c", "k"), SMOOTH_PARAMS)
def test_released_values_give_the_same_second_order(backend: str, c: Case, k: int,
                                                    release_everything: None) -> None:
    xs, vs, u = _problem(c, k)
    rng = np.random.default_rng(_seed(c.name, k, "w"))
    ws = [rng.standard_normal(x.shape) for x in xs]
    got = _second_order(c, xs, u, ws, vs, backend)
    with pytest.MonkeyPatch.context() as undo:
        from polytape import dispatch
        undo.setattr(dispatch, "RELEASE_MIN_BYTES", 1 << 62)
        want = _second_order(c, xs, u, ws, vs, "numpy")
    _close(got, want, _scale(xs, vs, u), 1e-10)


NONDIFF = [pytest.param(c, id=c.name) for c in CASES if c.op in OPS and not OPS[c.op].differentiable]


@pytest.mark.parametrize("c", NONDIFF)
def test_nondifferentiable_ops_give_none(backend: str, c: Case) -> None:
    rng = np.random.default_rng(_seed(c.name))
    # in_dtype: integer-only ops (bitwise) take integer inputs; the others float64
    ts = [pt.constant(sample(c.domain(i), s, rng, c.in_dtype)) for i, s in enumerate(c.shapes[0])]
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(ts)
        with pt.ForwardAccumulator(ts, [pt.ones_like(t) for t in ts]) as acc:
            out = c.fn(*ts)
    assert tape.gradient(out, ts) == [None] * len(ts)
    zeros = tape.gradient(out, ts, unconnected_gradients="zero")
    assert all(np.all(z.numpy() == 0) and z.shape == t.shape for z, t in zip(zeros, ts))
    assert acc.jvp(out) is None
    assert not tape._records  # never recorded


# -- jacobian and batch_jacobian ----------------------------------------------------------------------------
JAC_PARAMS = [p for p in GRAD_PARAMS
              if 0 < math.prod(np.shape(p.values[0].ref(*_problem(p.values[0], p.values[1])[0]))) <= 24]


@pytest.mark.parametrize(("c", "k"), JAC_PARAMS)
def test_jacobian_matches_finite_differences(backend: str, c: Case, k: int) -> None:
    xs, vs, u = _problem(c, k)
    ts = _tensors(c, xs, backend)
    with pt.GradientTape() as tape:
        tape.watch(ts)
        out = c.fn(*ts)
    jacs = tape.jacobian(out, ts, unconnected_gradients="zero")
    got = 0.0
    for j, x, v in zip(jacs, xs, vs):
        assert j.shape == out.shape + x.shape
        jm = np.asarray(j.numpy(), dtype=np.float64).reshape(u.size, x.size)
        got += float(u.reshape(-1) @ jm @ v.reshape(-1))
    want = _finite_difference(c, xs, vs, u) if backend == "numpy" else \
        _inner(_vjp(c, xs, u, "numpy"), vs)
    _close(got, want, _scale(xs, vs, u), _rtol(c, 1e-6))


BATCH_PARAMS = [pytest.param(c, k, id=f"{c.name}-{k}") for c in DIFF if c.batch
                for k, shapes in enumerate(c.shapes) if len(shapes) == 1 and len(shapes[0]) == 2
                and shapes[0][0] > 1 and math.prod(shapes[0]) > 0]


@pytest.mark.parametrize(("c", "k"), BATCH_PARAMS)
def test_batch_jacobian_is_the_per_example_block(backend: str, c: Case, k: int) -> None:
    xs, _, _ = _problem(c, k)
    (x,) = _tensors(c, xs, backend)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        out = c.fn(x)
    if out.ndim < 2:  # TensorFlow rejects a target without an example axis, and so do we
        with pytest.raises(ValueError, match="must have rank at least 2"):
            tape.batch_jacobian(out, x)
        return
    full = np.asarray(tape.jacobian(out, x).numpy())
    batch = np.asarray(tape.batch_jacobian(out, x).numpy())
    b = x.shape[0]
    assert batch.shape == (b,) + out.shape[1:] + x.shape[1:]
    blocks = full.reshape(b, -1, b, math.prod(x.shape[1:]))
    for i in range(b):
        np.testing.assert_allclose(batch[i].reshape(blocks.shape[1], -1), blocks[i, :, i, :], atol=1e-12)


@pytest.mark.parametrize(("c", "k"), JAC_PARAMS)
def test_vectorized_jacobian_is_one_batched_pass(backend: str, c: Case, k: int) -> None:
    # Every differentiable op has a batching rule for its backward pass (core/vectorize.py):
    # the vectorized Jacobian equals the row-by-row loop and never fell back to replaying
    # the plan once per row.
    from polytape import vectorize

    xs, _, _ = _problem(c, k)
    ts = _tensors(c, xs, backend)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(ts)
        out = c.fn(*ts)
    vectorize.fallbacks.clear()
    fast = tape.jacobian(out, ts, unconnected_gradients="zero")
    assert list(vectorize.fallbacks) == []
    slow = tape.jacobian(out, ts, unconnected_gradients="zero", experimental_use_pfor=False)
    for a, b in zip(fast, slow):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(np.asarray(a.numpy(), dtype=np.float64),
                                   np.asarray(b.numpy(), dtype=np.float64), rtol=1e-12, atol=1e-13)


# Convolutions of a batched input by a batched filter have no batching rule: each example
# has its own filter, which no one convolution call expresses (a plan with one replays
# once per example, still with the right values).
NOT_BATCHED_FORWARD = {"conv2d", "conv2d_transpose", "conv2d_backprop_filter"}
MAP_PARAMS = [p for p in GRAD_PARAMS if all(math.prod(s) > 0 for s in p.values[0].shapes[p.values[1]])]


@pytest.mark.parametrize(("c", "k"), MAP_PARAMS)
def test_vectorized_map_runs_every_op_batched(backend: str, c: Case, k: int) -> None:
    # The forward plans (vectorized_map, hessian's Hessian-vector products): every op has
    # a batching rule, and the batched run equals the op on each example.
    from polytape import vectorize

    xs, _, _ = _problem(c, k)
    rng = np.random.default_rng(_seed(c.name, k, "batch"))
    batch = [np.stack([x, sample(c.domain(i), x.shape, rng), sample(c.domain(i), x.shape, rng)])
             for i, x in enumerate(xs)]
    vectorize.fallbacks.clear()
    got = pt.vectorized_map(lambda e: c.fn(*e), _tensors(c, batch, backend))
    if c.op in NOT_BATCHED_FORWARD:
        assert list(vectorize.fallbacks) == ["a convolution with both operands batched"
                                             if c.op != "conv2d_backprop_filter" else
                                             "conv2d_backprop_filter with both operands batched"]
    else:
        assert list(vectorize.fallbacks) == []
    for i in range(3):
        want = c.fn(*_tensors(c, [b[i] for b in batch], backend))
        assert got[i].shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(np.asarray(got[i].numpy()), np.asarray(want.numpy()),
                                   rtol=1e-10, atol=1e-12)
