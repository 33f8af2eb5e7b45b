"""Every op's derivative rules, one declaration per op (the models: HIPS autograd's
``numpy_vjps.py`` and PyTorch's ``derivatives.yaml``).

Each rule receives ``ns`` (the namespace it computes with -- :mod:`polytape.ops` when an
outer tape records the backward pass, a backend's kernels otherwise), then the cotangent
``g`` (VJP) or tangent ``t`` (JVP), the op's output ``ans``, its inputs and its attributes.
Python operators work on both kinds of arrays; ``ns.apply_op(name, *inputs, **attrs)`` runs
any op with kernel-style arguments in either namespace.

Most ops need one rule: ``elementwise=True`` says the JVP is the VJP with ``t`` for ``g``
(broadcasting inputs get their VJPs summed back to their shapes), ``linear=True`` says the
JVP is the op itself applied to ``t``; only irregular ops spell out a JVP (see
:mod:`polytape.optable` for the flags and the facts ``float_only``/``same_dtype``).
Non-differentiable ops say so: ``defop("sign", differentiable=False)``.

To add an op, touch three places at most: declare it here; write its public function in
the ops module of its topic (:mod:`polytape.elementwise`, :mod:`polytape.reductions`,
:mod:`polytape.linalg` or :mod:`polytape.shapes`; :mod:`polytape.ops` re-exports it); and
only if the backends' array libraries have no standard function of that name, a kernel
(or a ``default_kernel`` declared here, composed from existing kernels, which serves every
backend). ``docs/architecture.md`` has the whole picture.

A few public ops are not declared here because they are compositions of the ops below,
which keeps their derivatives exact to any order with no kernel to write: ``var``/``std``
(mean, subtract, multiply, sum), ``norm`` (abs, sum, max, sqrt, where), ``tensordot``
(transpose, reshape, matmul), ``split`` and ``take``/``gather`` (getitem, whose VJP
scatter-adds with ``index_add``), and of the linalg extension ``eigvalsh`` (of ``eigh``),
``svdvals`` (of ``svd``), ``matrix_norm`` (``norm``, or ``svdvals`` for 2, -2 and
``"nuc"``), ``vector_norm``, ``matrix_power`` (matmul, inv), ``trace``/``diagonal`` (take,
sum), ``outer`` and ``cross``; see their comments where they are defined.

Complex arrays follow TensorFlow's convention (``docs/architecture.md``, *The tape*): the
gradient of a real ``L`` with respect to ``z = x + iy`` is ``dL/dx + i dL/dy``, so a
holomorphic op's VJP is ``g * conj(f'(z))``. Rules are written in real form (``g * f'(z)``)
and the tape conjugates around them (see :mod:`polytape.optable`); only ``abs``, ``real``,
``imag`` and ``conj`` (``holomorphic=False``) spell out their complex rules. Ops that order
or round (``maximum``, ``floor``, comparisons, ``clip``, ``max``...) are ``real_only``:
complex inputs raise ``DTypeError``.

Conventions at non-smooth points: ``max``/``min`` reductions split the gradient evenly
among tied extrema (TensorFlow's rule); ``maximum``/``minimum`` give ties to the first
input; ``clip`` passes the gradient where ``lo <= x <= hi``; ``relu`` and ``abs`` have
gradient 0 at 0 (``relu``'s gradient is the op ``relu_backward``, 0 at NaN too). The linalg
section at the end says how decompositions pack their results and what their rules do at
repeated eigenvalues and singular values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import DTypeError
from .optable import defop, unbroadcast

SQRT_PI_2 = 2.0 / math.sqrt(math.pi)


# -- helpers shared by several rules -------------------------------------------------------
def keep_dims(ns: Any, g: Any, shape: Any, axis: Any, keepdims: bool) -> Any:
    """``g`` reshaped as if the reduction over ``axis`` had kept its dimensions."""
    if keepdims:
        return g
    axes = range(len(shape)) if axis is None else axis
    return ns.reshape(g, tuple(1 if i in axes else s for i, s in enumerate(shape)))


def _kept(ns: Any, ans: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """A reduction's output ``ans`` broadcastable against its input ``x``."""
    return keep_dims(ns, ans, x.shape, axis, keepdims)


def _count(shape: Any, axis: Any) -> int:
    return math.prod(shape[i] for i in (range(len(shape)) if axis is None else axis))


def _spread(ns, g, shape, axis, keepdims):
    """A reduction's cotangent ``g`` broadcast back over the input's ``shape``."""
    return ns.broadcast_to(keep_dims(ns, g, shape, axis, keepdims), tuple(shape))


def _sum_vjp(ns, g, ans, x, axis=None, keepdims=False):
    return _spread(ns, g, x.shape, axis, keepdims)


def _by_partials(partials):
    """A reduction's VJP and JVP from ``partials(ns, x, ans, axis, keepdims)``, d ans / d x
    shaped like ``x``: the VJP spreads ``g`` over them, the JVP sums ``t`` weighted by them."""
    def vjp(ns, g, ans, x, axis=None, keepdims=False):
        return partials(ns, x, ans, axis, keepdims) * keep_dims(ns, g, x.shape, axis, keepdims)

    def jvp(ns, t, ans, x, axis=None, keepdims=False):
        return ns.sum(t * partials(ns, x, ans, axis, keepdims), axis=axis, keepdims=keepdims)
    return vjp, jvp


def _extremum_partials(ns, x, ans, axis, keepdims):
    # Ties share the gradient evenly, as in TensorFlow: d max / d x_i = 1/k for k maxima.
    hit = ns.equal(x, _kept(ns, ans, x, axis, keepdims))
    w = ns.where(hit, ns.ones_like(x), ns.zeros_like(x))
    return w / ns.sum(w, axis=axis, keepdims=True)


def _mT(ns: Any, x: Any) -> Any:
    n = len(x.shape)
    return ns.transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


def _matmul_vjp_x(ns, g, ans, x, y):
    if len(y.shape) == 1:
        if len(x.shape) == 1:
            return g * y
        return unbroadcast(ns, ns.expand_dims(g, len(g.shape)) * y, x.shape)
    if len(x.shape) == 1:
        gx = ns.matmul(ns.expand_dims(g, len(g.shape) - 1), _mT(ns, y))
        return unbroadcast(ns, ns.squeeze(gx, (len(gx.shape) - 2,)), x.shape)
    return unbroadcast(ns, ns.matmul(g, _mT(ns, y)), x.shape)


def _matmul_vjp_y(ns, g, ans, x, y):
    if len(x.shape) == 1:
        if len(y.shape) == 1:
            return g * x
        gy = ns.expand_dims(x, 1) * ns.expand_dims(g, len(g.shape) - 1)
        return unbroadcast(ns, gy, y.shape)
    if len(y.shape) == 1:
        gy = ns.matmul(_mT(ns, x), ns.expand_dims(g, len(g.shape)))
        return unbroadcast(ns, ns.squeeze(gy, (len(gy.shape) - 1,)), y.shape)
    return unbroadcast(ns, ns.matmul(_mT(ns, x), g), y.shape)


def _inverse(axes: Any) -> tuple[int, ...]:
    inv = [0] * len(axes)
    for i, a in enumerate(axes):
        inv[a] = i
    return tuple(inv)


def _slab(ns, g, axis, start, stop):
    return ns.getitem(g, (slice(None),) * axis + (slice(start, stop),))


def _concat_vjp(ns, g, ans, *xs, axis, argnum):
    start = sum(x.shape[axis] for x in xs[:argnum])
    return _slab(ns, g, axis, start, start + xs[argnum].shape[axis])


def _joined_jvp(name):
    # concat and stack are linear in all their inputs together: t in place of input argnum, zeros
    # in place of the others.
    def jvp(ns, t, ans, *xs, axis, argnum):
        return ns.apply_op(name, *(t if i == argnum else ns.zeros_like(x) for i, x in enumerate(xs)),
                           axis=axis)
    return jvp


def is_complex(x: Any) -> bool:
    """Whether array or tensor ``x`` is complex (any backend's dtype spells "complex")."""
    return "complex" in str(x.dtype)


def _power_vjp_y(ns, g, ans, x, y):
    # d(x**y)/dy = x**y log x, taken as 0 where x <= 0 (where x == 0 for complex x)
    if is_complex(x):
        safe = ns.where(ns.equal(x, 0), ns.ones_like(x), x)
    else:
        safe = ns.where(x > 0, x, ns.ones_like(x))
    return g * ans * ns.log(safe)


def _nonzero(ns, r):
    return ns.where(ns.equal(r, 0), ns.ones_like(r), r)


def _abs_vjp(ns, g, ans, x):
    # complex: d|z| is Re(conj(z) dz) / |z|, whose TensorFlow gradient is g z / |z| (0 at 0)
    return g * x / _nonzero(ns, ans) if is_complex(x) else g * ns.sign(x)


def _abs_jvp(ns, t, ans, x):
    return ns.real(ns.conj(x) * t) / _nonzero(ns, ans) if is_complex(x) else t * ns.sign(x)


def _prod_partials(ns, x, ans, axis, keepdims):
    # d prod / d x_i is the product of the other entries. ``ans / x_i`` breaks at zeros, so at a
    # zero entry: with one zero in the slice, the product ``rest`` of the non-zero entries; with
    # two, ``rest * x_other`` (0, written so that its derivative along the other zero is
    # ``rest``); with more, 0. Away from zeros, ``ans / x_i``. All branches are polytape ops, so
    # first and second derivatives are exact for any number of zeros.
    zero = ns.equal(x, 0.0)
    ones, zeros = ns.ones_like(x), ns.zeros_like(x)
    n_zero = ns.sum(ns.where(zero, ones, zeros), axis=axis, keepdims=True)
    safe = ns.where(zero, ones, x)
    rest = ns.prod(safe, axis=axis, keepdims=True)
    other_zero = ns.sum(ns.where(zero, x, zeros), axis=axis, keepdims=True) - x
    at_zero = ns.where(ns.equal(n_zero, 1.0), rest * ones,
                       ns.where(ns.equal(n_zero, 2.0), rest * other_zero, zeros))
    return ns.where(zero, at_zero, _kept(ns, ans, x, axis, keepdims) / safe)


def _logsumexp_partials(ns, x, ans, axis, keepdims):
    # softmax (shifted by the maximum), not exp(x - ans): ans is rounded at the scale of |x|,
    # which costs exp(x - ans) |x| * eps of relative accuracy (1e4 in float16: a factor e**4).
    axes = tuple(range(len(x.shape))) if axis is None else tuple(axis)
    if not axes:  # nothing reduced (a 0-d x): ans is x, every partial exp(0) = 1
        return ns.exp(x - _kept(ns, ans, x, axis, keepdims))
    return ns.softmax(x, axis=axes)


def _finite_or_zero(k: Any, m: Any) -> Any:
    # Shifting by an infinite maximum would give inf - inf = nan: shift by 0 there instead.
    zero = k["zeros"]((), m.dtype)
    return k["where"](k["less"](k["abs"](m), k["full"]((), float("inf"), m.dtype)), m, zero)


def _reduced_shape(shape: Any, axis: Any) -> tuple[int, ...]:
    axes = range(len(shape)) if axis is None else axis
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _logsumexp_kernel(k, x, axis=None, keepdims=False):
    if axis == ():
        return x
    m = _finite_or_zero(k, k["max"](x, axis=axis, keepdims=True))
    with np.errstate(divide="ignore"):  # log(0) = -inf is the answer for all -inf entries
        out = k["log"](k["sum"](k["exp"](x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else k["reshape"](out, _reduced_shape(tuple(x.shape), axis))


def _softmax_kernel(k, x, axis):
    e = k["exp"](x - _finite_or_zero(k, k["max"](x, axis=axis, keepdims=True)))
    return e / k["sum"](e, axis=axis, keepdims=True)


def _log_softmax_kernel(k, x, axis):
    shifted = x - _finite_or_zero(k, k["max"](x, axis=axis, keepdims=True))
    with np.errstate(divide="ignore"):
        return shifted - k["log"](k["sum"](k["exp"](shifted), axis=axis, keepdims=True))


def _relu_backward_kernel(k, g, x):
    # g where x > 0, else 0 (also at x = 0 and x = NaN, where the comparison is false)
    return k["where"](k["greater"](x, k["zeros"]((), x.dtype)), g, k["zeros"]((), g.dtype))


def _tile_vjp(ns, g, ans, x, reps):
    # The front end gives x as many dimensions as reps, so output axis i is (reps[i], shape[i]):
    # split each axis in two and sum over the repetition halves.
    shape = tuple(x.shape)
    split = tuple(d for pair in zip(reps, shape) for d in pair)
    return ns.sum(ns.reshape(g, split), axis=tuple(range(0, 2 * len(shape), 2)), keepdims=False)


def _pad_vjp(ns, g, ans, x, pad_width, constant_value=0):
    return ns.getitem(g, tuple(slice(b, b + s) for (b, _), s in zip(pad_width, x.shape)))


def _clip_mask(ns, x, lo, hi):
    # The gradient passes where lo <= x <= hi (bounds included), as in TensorFlow's clip_by_value.
    if lo is None:
        return x <= hi
    if hi is None:
        return x >= lo
    return ns.logical_and(x >= lo, x <= hi)


def _clip_vjp(ns, g, ans, x, lo=None, hi=None):  # scalar bounds lo/hi (None = unbounded)
    if lo is None and hi is None:
        return g
    return ns.where(_clip_mask(ns, x, lo, hi), g, ns.zeros_like(g))


# -- einsum (the front end canonicalises subscripts: explicit output, no ellipsis, no broadcasting)
def parse_subscripts(subscripts: str) -> tuple[list[str], str]:
    """``"ij,jk->ik"`` -> ``(["ij", "jk"], "ik")`` (canonical subscripts only)."""
    lhs, out = subscripts.split("->")
    return lhs.split(","), out


def _identity_matrix(ns: Any, like: Any, axis: int) -> Any:
    # An n x n identity (n = like.shape[axis]) with like's dtype, backend and device, built from
    # ops every namespace has (creation functions would need a device and a backend).
    n = like.shape[axis]
    index = tuple(slice(None) if i == axis else 0 for i in range(len(like.shape)))
    ones = ns.getitem(ns.ones_like(like), index)
    count = ns.cumsum(ones, axis=0)
    eq = ns.equal(ns.reshape(count, (n, 1)), ns.reshape(count, (1, n)))
    square = ns.broadcast_to(ns.reshape(ones, (n, 1)), (n, n))
    return ns.where(eq, square, ns.zeros_like(square))


def _einsum_vjp(ns, g, ans, *xs, subscripts, argnum):
    # Operand i's cotangent is the einsum of g with the other operands, producing i's subscript.
    # Two twists: a letter repeated in i's subscript (a diagonal) is renamed and tied back with
    # an identity matrix; a letter found only in i's subscript (summed away) is absent from
    # every other operand, so the gradient is computed without it and broadcast along it.
    ins, out = parse_subscripts(subscripts)
    mine = ins[argnum]
    used = set(subscripts)
    fresh = (c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used)
    x = xs[argnum]
    target, operands, subs, seen = [], [g], [out], {}
    for pos, c in enumerate(mine):
        if c in seen:
            n = next(fresh)
            target.append(n)
            operands.append(_identity_matrix(ns, x, pos))
            subs.append(c + n)
        else:
            seen[c] = pos
            target.append(c)
    for j, s in enumerate(ins):
        if j != argnum:
            operands.append(xs[j])
            subs.append(s)
    present = set("".join(subs))
    kept = [c for c in target if c in present]
    gx = ns.apply_op("einsum", *operands, subscripts=",".join(subs) + "->" + "".join(kept))
    if len(kept) != len(target):
        for pos, c in enumerate(target):
            if c not in present:
                gx = ns.expand_dims(gx, pos)
        gx = ns.broadcast_to(gx, tuple(x.shape))
    return gx


# -- elementwise, one input: the JVP is the VJP with t for g --------------------------------
defop("identity", lambda ns, g, ans, x: g, elementwise=True)
defop("negative", lambda ns, g, ans, x: -g, elementwise=True)
defop("abs", _abs_vjp, _abs_jvp, holomorphic=False)
defop("exp", lambda ns, g, ans, x: g * ans, elementwise=True, float_only=True)
# exp(x), not ans + 1: for very negative x, ans + 1 cancels to a few correct bits.
defop("expm1", lambda ns, g, ans, x: g * ns.exp(x), elementwise=True, float_only=True)
defop("log", lambda ns, g, ans, x: g / x, elementwise=True, float_only=True)
defop("log1p", lambda ns, g, ans, x: g / (x + 1), elementwise=True, float_only=True)
defop("sqrt", lambda ns, g, ans, x: g * 0.5 / ans, elementwise=True, float_only=True)
defop("square", lambda ns, g, ans, x: g * 2 * x, elementwise=True)
defop("sin", lambda ns, g, ans, x: g * ns.cos(x), elementwise=True, float_only=True)
defop("cos", lambda ns, g, ans, x: -g * ns.sin(x), elementwise=True, float_only=True)
defop("tan", lambda ns, g, ans, x: g * (1 + ans * ans), elementwise=True, float_only=True)
defop("tanh", lambda ns, g, ans, x: g * (1 - ans * ans), elementwise=True, float_only=True)
defop("sinh", lambda ns, g, ans, x: g * ns.cosh(x), elementwise=True, float_only=True)
defop("cosh", lambda ns, g, ans, x: g * ns.sinh(x), elementwise=True, float_only=True)
defop("arcsin", lambda ns, g, ans, x: g / ns.sqrt(1 - x * x), elementwise=True, float_only=True)
defop("arccos", lambda ns, g, ans, x: -g / ns.sqrt(1 - x * x), elementwise=True, float_only=True)
defop("arctan", lambda ns, g, ans, x: g / (1 + x * x), elementwise=True, float_only=True)
defop("erf", lambda ns, g, ans, x: g * SQRT_PI_2 * ns.exp(-x * x), elementwise=True, float_only=True,
      real_only=True)
defop("sigmoid", lambda ns, g, ans, x: g * ans * (1 - ans), elementwise=True, float_only=True,
      real_only=True)
defop("softplus", lambda ns, g, ans, x: g * ns.sigmoid(x), elementwise=True, float_only=True,
      real_only=True)
# relu(x) > 0 exactly where x > 0 (and neither at NaN): the rule reads the output, which the
# next op usually keeps anyway, so the tape need not keep the pre-activation.
defop("relu", lambda ns, g, ans, x: ns.relu_backward(g, ans), elementwise=True, real_only=True)
# relu's gradient as one op (PyTorch's threshold_backward): one fused kernel where a backend has
# one, instead of a comparison and a select. Linear in g; piecewise constant in x (no gradient).
defop("relu_backward", (lambda ns, gg, ans, g, x: ns.relu_backward(gg, x), None), elementwise=True,
      default_kernel=_relu_backward_kernel, real_only=True)
defop("clip", _clip_vjp, elementwise=True, real_only=True)
# Gradients flow back through a cast unchanged; the tape casts them to the input's dtype.
defop("astype", lambda ns, g, ans, x, dtype: g, elementwise=True)
defop("sign", differentiable=False)
defop("logical_not", differentiable=False)
for _name in ("floor", "ceil"):
    defop(_name, differentiable=False, real_only=True)
defop("round", differentiable=False)  # complex: each part rounded, as the standard says

# -- elementwise, two inputs (NumPy broadcasting: the VJPs are summed back to each input's shape)
defop("add", (lambda ns, g, ans, x, y: g, lambda ns, g, ans, x, y: g), elementwise=True, same_dtype=True)
defop("subtract", (lambda ns, g, ans, x, y: g, lambda ns, g, ans, x, y: -g), elementwise=True,
      same_dtype=True)
defop("multiply", (lambda ns, g, ans, x, y: g * y, lambda ns, g, ans, x, y: g * x), elementwise=True,
      same_dtype=True)
defop("divide", (lambda ns, g, ans, x, y: g / y, lambda ns, g, ans, x, y: -g * ans / y),
      elementwise=True, same_dtype=True)
defop("power", (lambda ns, g, ans, x, y: g * y * x ** (y - 1), _power_vjp_y), elementwise=True,
      same_dtype=True)
defop("maximum", (lambda ns, g, ans, x, y: ns.where(x >= y, g, ns.zeros_like(g)),  # ties: to x
                  lambda ns, g, ans, x, y: ns.where(x >= y, ns.zeros_like(g), g)),
      elementwise=True, same_dtype=True, real_only=True)
defop("minimum", (lambda ns, g, ans, x, y: ns.where(x <= y, g, ns.zeros_like(g)),
                  lambda ns, g, ans, x, y: ns.where(x <= y, ns.zeros_like(g), g)),
      elementwise=True, same_dtype=True, real_only=True)
defop("arctan2", (lambda ns, g, ans, y, x: g * x / (x * x + y * y),  # arctan2(y, x): y comes first
                  lambda ns, g, ans, y, x: -g * y / (x * x + y * y)),
      elementwise=True, same_dtype=True, float_only=True, real_only=True)
defop("where", (None, lambda ns, g, ans, c, x, y: ns.where(c, g, ns.zeros_like(g)),
                lambda ns, g, ans, c, x, y: ns.where(c, ns.zeros_like(g), g)), elementwise=True)
for _name in ("equal", "not_equal"):
    defop(_name, differentiable=False, same_dtype=True)
for _name in ("less", "less_equal", "greater", "greater_equal"):
    defop(_name, differentiable=False, same_dtype=True, real_only=True)
for _name in ("logical_and", "logical_or", "logical_xor"):
    defop(_name, differentiable=False)
for _name in ("floor_divide", "remainder"):
    defop(_name, differentiable=False, real_only=True)

# -- reductions (axis: None or a tuple of non-negative ints) --------------------------------
defop("sum", _sum_vjp, linear=True)
defop("mean", lambda ns, g, ans, x, axis=None, keepdims=False:
      _spread(ns, g, x.shape, axis, keepdims) / _count(x.shape, axis), linear=True, float_only=True)
# max/min: ties share the gradient evenly among the extrema (TensorFlow's rule).
defop("max", *_by_partials(_extremum_partials), real_only=True)
defop("min", *_by_partials(_extremum_partials), real_only=True)
defop("prod", *_by_partials(_prod_partials))
# logsumexp, softmax and log_softmax are primitives (one recorded op, rules in closed form that are
# themselves differentiable) with default kernels, so a backend need not implement them.
defop("logsumexp", *_by_partials(_logsumexp_partials), default_kernel=_logsumexp_kernel,
      float_only=True, real_only=True)
# axis: a tuple of ints >= 0
defop("softmax", default_kernel=_softmax_kernel, float_only=True, real_only=True,
      vjp=lambda ns, g, ans, x, axis: ans * (g - ns.sum(g * ans, axis=axis, keepdims=True)),
      jvp=lambda ns, t, ans, x, axis: ans * (t - ns.sum(t * ans, axis=axis, keepdims=True)))
defop("log_softmax", default_kernel=_log_softmax_kernel, float_only=True, real_only=True,
      vjp=lambda ns, g, ans, x, axis: g - ns.exp(ans) * ns.sum(g, axis=axis, keepdims=True),
      jvp=lambda ns, t, ans, x, axis: t - ns.sum(ns.exp(ans) * t, axis=axis, keepdims=True))
# axis: a non-negative int; the VJP of a running sum is the reversed running sum
defop("cumsum", lambda ns, g, ans, x, axis, reverse=False: ns.cumsum(g, axis=axis, reverse=not reverse),
      linear=True)
for _name in ("argmax", "argmin"):
    defop(_name, differentiable=False, real_only=True)

# -- linear algebra (linear in each input: the JVP is the op with t in that input's place) ------
defop("matmul", (_matmul_vjp_x, _matmul_vjp_y), linear=True)
defop("einsum", _einsum_vjp, linear=True, variadic=True)

# -- shapes, indexing ----------------------------------------------------------------------
defop("reshape", lambda ns, g, ans, x, shape: ns.reshape(g, tuple(x.shape)), linear=True)
defop("transpose", lambda ns, g, ans, x, axes: ns.transpose(g, _inverse(axes)), linear=True)
defop("broadcast_to", lambda ns, g, ans, x, shape: unbroadcast(ns, g, x.shape), linear=True)
defop("expand_dims", lambda ns, g, ans, x, axis: ns.reshape(g, tuple(x.shape)), linear=True)
defop("squeeze", lambda ns, g, ans, x, axis: ns.reshape(g, tuple(x.shape)), linear=True)
defop("tile", _tile_vjp, linear=True)
defop("flip", lambda ns, g, ans, x, axis: ns.flip(g, axis=axis), linear=True)
defop("concat", _concat_vjp, _joined_jvp("concat"), variadic=True)
defop("stack", lambda ns, g, ans, *xs, axis, argnum: ns.getitem(g, (slice(None),) * axis + (argnum,)),
      _joined_jvp("stack"), variadic=True)
defop("pad", _pad_vjp,  # pad_width: one (before, after) pair per axis; constant mode only
      lambda ns, t, ans, x, pad_width, constant_value=0: ns.apply_op("pad", t, pad_width=pad_width,
                                                                     constant_value=0))
# index_add's kernel takes (base, values, index=...) -- arrays first, as every kernel -- while the
# public op reads (base, index, values); rules pass index and values by keyword to fit both.
defop("getitem", lambda ns, g, ans, x, index: ns.index_add(ns.zeros_like(x), index=index, values=g),
      linear=True)
defop("index_add",
      (lambda ns, g, ans, base, values, index: g,
       lambda ns, g, ans, base, values, index: unbroadcast(ns, ns.getitem(g, index), values.shape)),
      (lambda ns, t, ans, base, values, index: t,
       lambda ns, t, ans, base, values, index: ns.index_add(ns.zeros_like(ans), index=index, values=t)))

# -- the Array API standard's elementwise functions (issue #15) ---------------------------------
LN2, LN10 = math.log(2.0), math.log(10.0)
defop("acosh", lambda ns, g, ans, x: g / ns.sqrt(x * x - 1), elementwise=True, float_only=True)
defop("asinh", lambda ns, g, ans, x: g / ns.sqrt(x * x + 1), elementwise=True, float_only=True)
defop("atanh", lambda ns, g, ans, x: g / (1 - x * x), elementwise=True, float_only=True)
defop("log2", lambda ns, g, ans, x: g / (x * LN2), elementwise=True, float_only=True)
defop("log10", lambda ns, g, ans, x: g / (x * LN10), elementwise=True, float_only=True)
defop("reciprocal", lambda ns, g, ans, x: -g * ans * ans, elementwise=True, float_only=True)
defop("positive", lambda ns, g, ans, x: g, elementwise=True)
# TensorFlow's rules: real(z) gets g + 0i, imag(z) gets 0 + ig, conj(z) gets conj(g). On real
# dtypes real and conj are the identity and imag is 0 (the default kernels, for backends
# without complex dtypes).
defop("real", lambda ns, g, ans, x: g, lambda ns, t, ans, x: ns.real(t), holomorphic=False,
      default_kernel=lambda k, x: x)
defop("conj", lambda ns, g, ans, x: ns.conj(g), elementwise=True, holomorphic=False,
      default_kernel=lambda k, x: x)
defop("imag", lambda ns, g, ans, x: g * 1j if is_complex(x) else ns.zeros_like(g),
      lambda ns, t, ans, x: ns.imag(t), holomorphic=False,
      default_kernel=lambda k, x: k["zeros"](tuple(x.shape), x.dtype))
# d logaddexp / dx = exp(x - ans): a softmax weight, never overflowing.
defop("logaddexp", (lambda ns, g, ans, x, y: g * ns.exp(x - ans),
                    lambda ns, g, ans, x, y: g * ns.exp(y - ans)),
      elementwise=True, same_dtype=True, float_only=True, real_only=True)
defop("hypot", (lambda ns, g, ans, x, y: g * x / ans, lambda ns, g, ans, x, y: g * y / ans),
      elementwise=True, same_dtype=True, float_only=True, real_only=True)
# copysign(x, y) = |x| sign(y): slope sign(x) sign(y) in x (0 at x = 0, as abs), none in y.
defop("copysign", (lambda ns, g, ans, x, y: g * ns.sign(x) * ns.sign(ans), None),
      elementwise=True, same_dtype=True, float_only=True, real_only=True)
for _name in ("trunc", "signbit"):
    defop(_name, differentiable=False, real_only=True)
for _name in ("isfinite", "isinf", "isnan", "bitwise_invert"):
    defop(_name, differentiable=False)
defop("nextafter", differentiable=False, same_dtype=True, real_only=True)
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
              "bitwise_right_shift"):
    defop(_name, differentiable=False, same_dtype=True)


# == the Array API linalg extension (issue #15) ==================================================
# Matrix functions work on the last two axes, batched over the rest; the front end
# (polytape.linalg) hands them float32/float64 operands with equal batch shapes, so no rule
# unbroadcasts. Decompositions are one op each whose output packs all their results into one
# array (the tape records one output per op); the front end slices the named results out with
# recorded getitems, so a rule sees every result's cotangent at once (zeros for unused ones):
#   slogdet (..., 2): [sign, logabsdet];  eigh (..., n+1, n): [eigenvalues; eigenvectors];
#   qr (..., k, m+n): [Q^T | R];  svd (..., m+1+n, p): [U; S; V] (V = Vh^T, p = k, or
#   max(m, n) with full_matrices, narrower blocks padded with zeros).
# Every rule is built from table ops (matmul, solve, inv, where, ...) so it is differentiable
# again: second derivatives come from nested tapes. Real inputs; the rules are those of
# Giles (2008), Murray (2016, Cholesky), Townsend (2016, SVD), Walter & Lehmann (2018, QR).
# Repeated eigenvalues / singular values: the pairs with equal values get F = 0 instead of
# 1/0, which is the exact gradient of gauge-invariant functions (those whose cotangent has no
# antisymmetric part inside a degenerate block: functions of the values, projectors onto whole
# eigenspaces) and is otherwise undefined, as in every library.
def _last(x: Any, k: int = 1) -> int:
    return len(x.shape) - k


def _sym(ns: Any, x: Any) -> Any:
    return (x + _mT(ns, x)) * 0.5


def _eye_like(ns: Any, x: Any) -> Any:
    """The n x n identity in x's dtype, for x of shape (..., n, n) or (..., n)."""
    lead = tuple(range(_last(x)))  # summed away first, so an empty batch still gives a row
    row = ns.sum(x, axis=lead, keepdims=False) if lead else x
    return _identity_matrix(ns, row, 0)


def _diag_of(ns: Any, x: Any) -> Any:
    """The diagonal (..., n) of square matrices x (..., n, n)."""
    return ns.sum(x * _eye_like(ns, x), axis=(_last(x),), keepdims=False)


def _diag_matrix(ns: Any, v: Any) -> Any:
    """Square matrices (..., n, n) with v (..., n) on the diagonal."""
    return ns.expand_dims(v, _last(v)) * _eye_like(ns, v)


def _strictly_lower(ns: Any, x: Any) -> Any:
    """A bool mask (n, n), True below the diagonal of x (..., n, n)."""
    eye = _eye_like(ns, x)
    count = ns.cumsum(eye, axis=0)  # row i holds 1 from column i down: the lower triangle
    return (count - eye) > 0.5


def _tril(ns: Any, x: Any, diagonal_weight: float) -> Any:
    """The strictly lower triangle of x plus ``diagonal_weight`` times its diagonal."""
    lower = ns.where(_strictly_lower(ns, x), x, ns.zeros_like(x))
    return lower + x * _eye_like(ns, x) * diagonal_weight if diagonal_weight else lower


def _solve(ns: Any, a: Any, b: Any) -> Any:
    return ns.apply_op("solve", a, b)


def _right_solve(ns: Any, b: Any, a: Any) -> Any:
    """``b a^-1`` as a solve: (a^T \\ b^T)^T."""
    return _mT(ns, _solve(ns, _mT(ns, a), _mT(ns, b)))


def _rows(ns: Any, x: Any, start: int, stop: int) -> Any:
    return _slab(ns, x, _last(x, 2), start, stop)


def _cols(ns: Any, x: Any, start: int, stop: int) -> Any:
    return _slab(ns, x, _last(x), start, stop)


def _join(ns: Any, axis: int, *xs: Any) -> Any:
    return ns.apply_op("concat", *xs, axis=axis)


def _gap_inverse(ns: Any, w: Any, squared: bool = False) -> Any:
    """F[..., i, j] = 1 / (w_j - w_i) (or 1 / (w_j^2 - w_i^2)), 0 where the two are equal."""
    row, col = ns.expand_dims(w, _last(w)), ns.expand_dims(w, _last(w) + 1)
    diff = (row - col) * (row + col) if squared else row - col
    tie = ns.equal(diff, ns.zeros_like(diff))
    return ns.where(tie, ns.zeros_like(diff), 1.0 / ns.where(tie, ns.ones_like(diff), diff))


def _inv_vjp(ns, g, ans, x):
    return -ns.matmul(ns.matmul(_mT(ns, ans), g), _mT(ns, ans))  # -A^-T g A^-T


def _det_vjp(ns, g, ans, x):
    scale = ns.expand_dims(ns.expand_dims(g * ans, _last(ans) + 1), _last(ans) + 2)
    return scale * _mT(ns, ns.apply_op("inv", x))


def _det_jvp(ns, t, ans, x):
    return ans * ns.sum(_mT(ns, ns.apply_op("inv", x)) * t, axis=(_last(x, 2), _last(x)),
                        keepdims=False)


def _slogdet_vjp(ns, g, ans, x):
    glog = _cols(ns, g, 1, 2)  # (..., 1); the sign is piecewise constant
    return ns.expand_dims(glog, _last(glog)) * _mT(ns, ns.apply_op("inv", x))


def _slogdet_jvp(ns, t, ans, x):
    d = ns.sum(_mT(ns, ns.apply_op("inv", x)) * t, axis=(_last(x),), keepdims=False)
    dlog = ns.sum(d, axis=(_last(d),), keepdims=True)
    return _join(ns, _last(ans), ns.zeros_like(dlog), dlog)


def _solve_vjp_b(ns, g, ans, a, b):
    return _solve(ns, _mT(ns, a), g)


def _solve_vjp_a(ns, g, ans, a, b):
    return -ns.matmul(_solve(ns, _mT(ns, a), g), _mT(ns, ans))


def _cholesky_vjp(ns, g, ans, x):
    # Murray (2016): A-bar = L^-T Phi(L^T L-bar) L^-1, symmetrised (A is symmetric; the kernel
    # reads one triangle), Phi = the lower triangle with half the diagonal.
    phi = _tril(ns, ns.matmul(_mT(ns, ans), g), 0.5)
    inner = _solve(ns, _mT(ns, ans), (phi + _mT(ns, phi)) * 0.5)
    return _sym(ns, _right_solve(ns, inner, ans))


def _cholesky_jvp(ns, t, ans, x):
    inner = _solve(ns, ans, _mT(ns, _solve(ns, ans, _sym(ns, t))))  # L^-1 dA L^-T
    return ns.matmul(ans, _tril(ns, inner, 0.5))


def _eigh_parts(ns, packed):
    n = packed.shape[-1]
    return ns.squeeze(_rows(ns, packed, 0, 1), (_last(packed, 2),)), _rows(ns, packed, 1, n + 1)


def _eigh_vjp(ns, g, ans, x):
    w, v = _eigh_parts(ns, ans)
    gw, gv = _eigh_parts(ns, g)
    inner = _diag_matrix(ns, gw) + _gap_inverse(ns, w) * ns.matmul(_mT(ns, v), gv)
    return _sym(ns, ns.matmul(ns.matmul(v, inner), _mT(ns, v)))


def _eigh_jvp(ns, t, ans, x):
    w, v = _eigh_parts(ns, ans)
    m = ns.matmul(ns.matmul(_mT(ns, v), _sym(ns, t)), v)
    dv = ns.matmul(v, _gap_inverse(ns, w) * m)
    return _join(ns, _last(ans, 2), ns.expand_dims(_diag_of(ns, m), _last(w)), dv)


def _qr_tall_vjp(ns, q, r, gq, gr):
    # m >= n: B = Q^T Q-bar - R-bar R^T; A-bar = (Q-bar + Q (tril(B - B^T, -1) - B)) R^-T
    b = ns.matmul(_mT(ns, q), gq) - ns.matmul(gr, _mT(ns, r))
    gc = gq + ns.matmul(q, _tril(ns, b - _mT(ns, b), 0.0) - b)
    return _right_solve(ns, gc, _mT(ns, r))


def _qr_tall_jvp(ns, q, r, t):
    # JAX's qr_jvp_rule: C = dA R^-1, M = Q^T C, Omega = tril(M, -1) - its transpose.
    c = _right_solve(ns, t, r)
    m = ns.matmul(_mT(ns, q), c)
    lower = _tril(ns, m, 0.0)
    omega = lower - _mT(ns, lower)
    return ns.matmul(q, omega - m) + c, ns.matmul(m - omega, r)


def _complement_cotangent(ns, q1, q2, g1, g2):
    # Extra orthonormal columns Q2 (complete QR, full SVD) are any basis of the complement of
    # Q1's span; polytape fixes them by rotating them no more than they must, dQ2 = -Q1 dQ1^T Q2
    # (so Q2^T dQ2 = 0). That keeps Q orthogonal and gives the exact derivative of every
    # function that does not depend on the basis (projectors Q2 Q2^T, norms). Its adjoint moves
    # Q2's cotangent onto Q1: g1 - Q2 g2^T Q1.
    return g1 - ns.matmul(q2, ns.matmul(_mT(ns, g2), q1))


def _complement_tangent(ns, q1, q2, d1):
    return -ns.matmul(q1, ns.matmul(_mT(ns, d1), q2))


def _qr_full(ns, packed, x):
    m, n = x.shape[-2], x.shape[-1]
    return _mT(ns, _cols(ns, packed, 0, m)), _cols(ns, packed, m, m + n)


def _qr_vjp(ns, g, ans, x, mode="reduced"):
    m, n = x.shape[-2], x.shape[-1]
    q, r = _qr_full(ns, ans, x)
    gq, gr = _qr_full(ns, g, x)
    if mode == "complete" and m > n:  # R's last m - n rows are zeros: no gradient
        q1, q2 = _cols(ns, q, 0, n), _cols(ns, q, n, m)
        gq = _complement_cotangent(ns, q1, q2, _cols(ns, gq, 0, n), _cols(ns, gq, n, m))
        q, r, gr = q1, _rows(ns, r, 0, n), _rows(ns, gr, 0, n)
    if m >= n:
        return _qr_tall_vjp(ns, q, r, gq, gr)
    # m < n: A = [X | Y] with X square; R = [Q^T X | Q^T Y] (Walter & Lehmann; PyTorch).
    y, gry = _cols(ns, x, m, n), _cols(ns, gr, m, n)
    gx = _qr_tall_vjp(ns, q, _cols(ns, r, 0, m), gq + ns.matmul(y, _mT(ns, gry)), _cols(ns, gr, 0, m))
    return _join(ns, _last(x), gx, ns.matmul(q, gry))


def _qr_jvp(ns, t, ans, x, mode="reduced"):
    m, n = x.shape[-2], x.shape[-1]
    q, r = _qr_full(ns, ans, x)
    if m > n and mode == "complete":
        q1, q2 = _cols(ns, q, 0, n), _cols(ns, q, n, m)
        dq1, dr1 = _qr_tall_jvp(ns, q1, _rows(ns, r, 0, n), t)
        dq = _join(ns, _last(x), dq1, _complement_tangent(ns, q1, q2, dq1))
        dr = _join(ns, _last(x, 2), dr1, ns.zeros_like(_rows(ns, r, n, m)))
    elif m >= n:
        dq, dr = _qr_tall_jvp(ns, q, r, t)
    else:
        dq, drx = _qr_tall_jvp(ns, q, _cols(ns, r, 0, m), _cols(ns, t, 0, m))
        y, dy = _cols(ns, x, m, n), _cols(ns, t, m, n)
        dr = _join(ns, _last(x), drx, ns.matmul(_mT(ns, dq), y) + ns.matmul(_mT(ns, q), dy))
    return _join(ns, _last(x), _mT(ns, dq), dr)


def _svd_blocks(ns, packed, x):
    """The packed U (m, p), S (1, p) and V (n, p) blocks, p = the packed width."""
    m, n = x.shape[-2], x.shape[-1]
    return (_rows(ns, packed, 0, m), _rows(ns, packed, m, m + 1),
            _rows(ns, packed, m + 1, m + 1 + n))


def _svd_parts(ns, packed, x):
    """U (m, k), S (..., k), V (n, k) of the reduced SVD from the packed output."""
    k = min(x.shape[-2], x.shape[-1])
    u, s, v = (_cols(ns, b, 0, k) for b in _svd_blocks(ns, packed, x))
    return u, ns.squeeze(s, (_last(s, 2),)), v


def _svd_vjp(ns, g, ans, x, full_matrices=True):
    # Townsend (2016): A-bar = U [diag(S-bar) + (J + J^T) S + S (K + K^T)] V^T
    #   + (I - U U^T) U-bar S^-1 V^T + U S^-1 V-bar^T (I - V V^T),
    # J = F o (U^T U-bar), K = F o (V^T V-bar), F_ij = 1 / (s_j^2 - s_i^2).
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n)
    u, s, v = _svd_parts(ns, ans, x)
    gu, gs, gv = _svd_parts(ns, g, x)
    if full_matrices and m != n:  # the longer side's extra singular vectors: see above
        big = 0 if m > n else 2
        full, gfull = _svd_blocks(ns, ans, x)[big], _svd_blocks(ns, g, x)[big]
        size = max(m, n)
        extra, gextra = _cols(ns, full, k, size), _cols(ns, gfull, k, size)
        if m > n:
            gu = _complement_cotangent(ns, u, extra, gu, gextra)
        else:
            gv = _complement_cotangent(ns, v, extra, gv, gextra)
    f = _gap_inverse(ns, s, squared=True)
    j = f * ns.matmul(_mT(ns, u), gu)
    kk = f * ns.matmul(_mT(ns, v), gv)
    srow = ns.expand_dims(s, _last(s))  # (..., 1, k): scales columns
    inner = _diag_matrix(ns, gs) + (j + _mT(ns, j)) * srow + _mT(ns, srow) * (kk + _mT(ns, kk))
    ga = ns.matmul(ns.matmul(u, inner), _mT(ns, v))
    if m > k:
        gu_s = gu / srow
        ga = ga + ns.matmul(gu_s - ns.matmul(u, ns.matmul(_mT(ns, u), gu_s)), _mT(ns, v))
    if n > k:
        gv_s = gv / srow
        ga = ga + ns.matmul(u, _mT(ns, gv_s - ns.matmul(v, ns.matmul(_mT(ns, v), gv_s))))
    return ga


def _svd_jvp(ns, t, ans, x, full_matrices=True):
    # JAX's svd_jvp_rule (real inputs).
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n)
    u, s, v = _svd_parts(ns, ans, x)
    f = _gap_inverse(ns, s, squared=True)
    ds = ns.matmul(ns.matmul(_mT(ns, u), t), v)
    srow = ns.expand_dims(s, _last(s))
    dss, sds = ds * srow, _mT(ns, srow) * ds
    du = ns.matmul(u, f * (dss + _mT(ns, dss)))
    dv = ns.matmul(v, f * (sds + _mT(ns, sds)))
    if m > k:
        dav = ns.matmul(t, v)
        du = du + (dav - ns.matmul(u, ns.matmul(_mT(ns, u), dav))) / srow
    if n > k:
        datu = ns.matmul(_mT(ns, t), u)
        dv = dv + (datu - ns.matmul(v, ns.matmul(_mT(ns, v), datu))) / srow
    blocks = [du, ns.expand_dims(_diag_of(ns, ds), _last(s)), dv]
    if full_matrices and m != n:
        big = 0 if m > n else 2
        full = _svd_blocks(ns, ans, x)[big]
        size = max(m, n)
        extra = _complement_tangent(ns, (u, None, v)[big], _cols(ns, full, k, size), blocks[big])
        blocks[big] = _join(ns, _last(x), blocks[big], extra)
        pad = _cols(ns, ns.zeros_like(full), k, size)  # the zero padding of the narrower blocks
        for i in range(3):
            if i != big:
                rows = _rows(ns, pad, 0, blocks[i].shape[-2])
                blocks[i] = _join(ns, _last(x), blocks[i], rows)
    return _join(ns, _last(x, 2), *blocks)


def _pinv_vjp(ns, g, ans, x, rtol=None):
    # Golub & Pereyra (1973), for inputs whose rank does not change nearby (as PyTorch):
    # A-bar = -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A), P = pinv(A).
    p, pt_ = ans, _mT(ns, ans)
    gt = _mT(ns, g)
    first = -ns.matmul(ns.matmul(pt_, g), pt_)
    left = ns.matmul(gt, ns.matmul(p, pt_))
    left = left - ns.matmul(x, ns.matmul(p, left))
    right = ns.matmul(ns.matmul(pt_, p), gt)
    right = right - ns.matmul(ns.matmul(right, p), x)
    return first + left + right


def _pinv_jvp(ns, t, ans, x, rtol=None):
    # dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P
    p, pt_ = ans, _mT(ns, ans)
    tt = _mT(ns, t)
    first = -ns.matmul(ns.matmul(p, t), p)
    mid = ns.matmul(ns.matmul(p, pt_), tt)
    mid = mid - ns.matmul(ns.matmul(mid, x), p)
    last = ns.matmul(ns.matmul(tt, pt_), p)
    last = last - ns.matmul(p, ns.matmul(x, last))
    return first + mid + last


defop("inv", _inv_vjp, lambda ns, t, ans, x: -ns.matmul(ns.matmul(ans, t), ans), float_only=True)
defop("det", _det_vjp, _det_jvp, float_only=True)
def _real_matrices(name, *rules):
    """``rules`` (a VJP and a JVP), refusing complex matrices: the decompositions' rules are
    written for real ones (their values are computed for complex matrices too, their
    derivatives are not)."""
    def checked(rule):
        def check(ns, g, ans, x, *rest, **attrs):
            if "complex" in str(x.dtype):
                raise DTypeError(f"{name}: derivatives for complex matrices are not "
                                 "implemented (the rules are written for real ones)")
            return rule(ns, g, ans, x, *rest, **attrs)
        return check
    return tuple(checked(rule) for rule in rules)


defop("slogdet", *_real_matrices("slogdet", _slogdet_vjp, _slogdet_jvp), float_only=True)
# solve(A, B) with B (..., n, k): linear in B, so B's JVP is solve itself.
defop("solve", (_solve_vjp_a, _solve_vjp_b),
      (lambda ns, t, ans, a, b: -_solve(ns, a, ns.matmul(t, ans)), lambda ns, t, ans, a, b: _solve(ns, a, t)),
      float_only=True)
# cholesky: the lower factor; upper=True transposes it
defop("cholesky", *_real_matrices("cholesky", _cholesky_vjp, _cholesky_jvp), float_only=True)
defop("eigh", *_real_matrices("eigh", _eigh_vjp, _eigh_jvp), float_only=True)
# qr's mode: "reduced" or "complete"; svd's full_matrices: bool; pinv's rtol: a float or None
defop("qr", *_real_matrices("qr", _qr_vjp, _qr_jvp), float_only=True)
defop("svd", *_real_matrices("svd", _svd_vjp, _svd_jvp), float_only=True)
defop("pinv", *_real_matrices("pinv", _pinv_vjp, _pinv_jvp), float_only=True)
defop("matrix_rank", differentiable=False, float_only=True)


# == fft (the Array API's fft extension) ===========================================================
# Attributes arrive normalised (core/fft.py): ``axes`` a tuple of distinct non-negative ints,
# ``s`` the transform's length along each of them, ``norm`` "backward", "ortho" or "forward".
# fftn/ifftn/rfftn are complex-linear, so their rules are real-form transposes and the tape
# conjugates around them (TensorFlow's convention: the VJP of fft is n * ifft of g with the
# default norm). A DFT matrix is symmetric, so each transform is its own transpose; what
# the op padded or cropped to length s is cropped or zero-padded back (``_fit``).
_DUAL_NORM = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _fit(ns, g, shape, axes):
    """``g`` cropped or zero-padded along ``axes`` to ``shape`` (the transpose of the op's
    own padding or cropping of its input to length s)."""
    crop = tuple(slice(0, shape[a]) if a in axes and g.shape[a] > shape[a] else slice(None)
                 for a in range(len(shape)))
    if any(c != slice(None) for c in crop):
        g = ns.getitem(g, crop)
    pad = tuple((0, shape[a] - g.shape[a]) if a in axes else (0, 0) for a in range(len(shape)))
    if any(after for _, after in pad):
        g = ns.apply_op("pad", g, pad_width=pad, constant_value=0)
    return g


def _transform_vjp(name):
    def vjp(ns, g, ans, x, s, axes, norm):
        return _fit(ns, ns.apply_op(name, g, s=s, axes=axes, norm=norm), tuple(x.shape), axes)
    return vjp


def _half_spectrum_axis(ns, g, axis, n):
    # rfft keeps entries 0..n//2 of the last axis: its transpose zero-pads them back to n.
    pad = tuple((0, n - g.shape[a]) if a == axis else (0, 0) for a in range(len(g.shape)))
    return ns.apply_op("pad", g, pad_width=pad, constant_value=0)


def _rfftn_vjp(ns, g, ans, x, s, axes, norm):
    full = _half_spectrum_axis(ns, g, axes[-1], s[-1])
    return _fit(ns, ns.apply_op("fftn", full, s=s, axes=axes, norm=norm), tuple(x.shape), axes)


def _irfftn_vjp(ns, g, ans, x, s, axes, norm):
    # irfftn reads its last axis as the half of a Hermitian spectrum: each entry but the first
    # (and the Nyquist one for even n) stands for two, and the imaginary parts of those
    # single ones are ignored. For real g the gradient is w * rfftn(g) in the dual norm,
    # w = (1, 2, ..., 2[, 1]), cropped or zero-padded to x's shape.
    z = ns.apply_op("rfftn", g, s=s, axes=axes, norm=_DUAL_NORM[norm])
    axis, n, k = axes[-1], s[-1], s[-1] // 2 + 1
    doubled = (n - 1) // 2
    parts = [_slab(ns, z, axis, 0, 1)]
    if doubled:
        parts.append(_slab(ns, z, axis, 1, 1 + doubled) * 2)
    if 1 + doubled < k:
        parts.append(_slab(ns, z, axis, 1 + doubled, k))
    z = ns.apply_op("concat", *parts, axis=axis) if len(parts) > 1 else parts[0]
    return _fit(ns, z, tuple(x.shape), axes)


def _no_fft_kernel(name):
    def kernel(k, *arrays, **attrs):
        raise NotImplementedError(f"{name}: this backend's array library has no fft extension")
    return kernel


defop("fftn", _transform_vjp("fftn"), linear=True, default_kernel=_no_fft_kernel("fftn"))
defop("ifftn", _transform_vjp("ifftn"), linear=True, default_kernel=_no_fft_kernel("ifftn"))
defop("rfftn", _rfftn_vjp, linear=True, real_only=True, default_kernel=_no_fft_kernel("rfftn"))
# irfftn conjugates half of its input (the Hermitian extension): real-linear, not holomorphic.
defop("irfftn", _irfftn_vjp, linear=True, holomorphic=False,
      default_kernel=_no_fft_kernel("irfftn"))


# == convolution and pooling (issue #16) =======================================================
# Layout: NHWC inputs, HWIO filters; attributes as kernels take them: strides and dilations two
# ints, padding explicit ((top, bottom), (left, right)) pairs (nn/convolution.py resolves "SAME",
# "VALID" and NCHW). conv2d is bilinear; the VJPs of conv2d, of its input transpose (TF's
# Conv2DBackpropInput) and of its filter transpose (Conv2DBackpropFilter) are each the other two
# of the three, and max pooling's are its gradient and that gradient's transpose (MaxPoolGrad,
# MaxPoolGradGrad), so derivatives of every order come from these rules.
from . import convolution_kernels as _ck  # noqa: E402  (this section stays self-contained)


def _hw(a: Any) -> tuple[int, int]:
    return int(a.shape[1]), int(a.shape[2])


def _filter_hw(w: Any) -> tuple[int, int]:
    return int(w.shape[0]), int(w.shape[1])


defop("conv2d", (
    lambda ns, g, ans, x, w, **a: ns.apply_op("conv2d_transpose", g, w, input_size=_hw(x), **a),
    lambda ns, g, ans, x, w, **a: ns.apply_op("conv2d_backprop_filter", x, g,
                                              filter_size=_filter_hw(w), **a)),
    linear=True, float_only=True, default_kernel=_ck.conv2d)
defop("conv2d_transpose", (  # (dy, w) -> the conv2d input's gradient, shape (N, *input_size, C)
    lambda ns, g, ans, dy, w, input_size, **a: ns.apply_op("conv2d", g, w, **a),
    lambda ns, g, ans, dy, w, input_size, **a: ns.apply_op("conv2d_backprop_filter", g, dy,
                                                           filter_size=_filter_hw(w), **a)),
    linear=True, float_only=True, default_kernel=_ck.conv2d_transpose)
defop("conv2d_backprop_filter", (  # (x, dy) -> the conv2d filters' gradient, (*filter_size, C, O)
    lambda ns, g, ans, x, dy, filter_size, **a: ns.apply_op("conv2d_transpose", dy, g,
                                                            input_size=_hw(x), **a),
    lambda ns, g, ans, x, dy, filter_size, **a: ns.apply_op("conv2d", x, g, **a)),
    linear=True, float_only=True, default_kernel=_ck.conv2d_backprop_filter)
# Max pooling routes the gradient (and the tangent) through each window's first maximum, as
# TensorFlow's MaxPoolGrad does; the routing is piecewise constant in x (no gradient there).
defop("max_pool2d", lambda ns, g, ans, x, **a: ns.apply_op("max_pool2d_grad", x, g, **a),
      lambda ns, t, ans, x, **a: ns.apply_op("max_pool2d_grad_grad", x, t, **a),
      float_only=True, real_only=True, default_kernel=_ck.max_pool2d)
defop("max_pool2d_grad", (None, lambda ns, gg, ans, x, g, **a:
                          ns.apply_op("max_pool2d_grad_grad", x, gg, **a)),
      linear=True, float_only=True, real_only=True, default_kernel=_ck.max_pool2d_grad)
defop("max_pool2d_grad_grad", (None, lambda ns, g, ans, x, t, **a:
                               ns.apply_op("max_pool2d_grad", x, g, **a)),
      linear=True, float_only=True, real_only=True, default_kernel=_ck.max_pool2d_grad_grad)
defop("avg_pool2d", lambda ns, g, ans, x, **a: ns.apply_op("avg_pool2d_grad", g, input_size=_hw(x),
                                                           **a),
      linear=True, float_only=True, default_kernel=_ck.avg_pool2d)
defop("avg_pool2d_grad", lambda ns, g, ans, dy, input_size, **a: ns.apply_op("avg_pool2d", g, **a),
      linear=True, float_only=True, default_kernel=_ck.avg_pool2d_grad)
