"""Every op's derivative rules, one declaration per op (the model: HIPS autograd's
``numpy_vjps.py`` and PyTorch's ``derivatives.yaml``).

Each rule receives ``ns`` (the namespace it computes with -- :mod:`polytape.ops`
when an outer tape records the backward pass, a backend's kernels otherwise),
then the cotangent ``g`` (VJP) or tangent ``t`` (JVP), the op's output ``ans``,
its inputs and its attributes. Python operators work on both kinds of arrays.

To add an op: declare it here, give it a public function in :mod:`polytape.ops`,
and a kernel of the same name in each backend (or a ``default_kernel`` here).

A few public ops are not declared here because they are compositions of the ops
below, which keeps their derivatives exact to any order with no kernel to write:
``var``/``std`` (mean, subtract, multiply, sum), ``norm`` (abs, sum, max, sqrt, where),
``tensordot`` (transpose, reshape, matmul), ``split`` and ``take``/``gather`` (getitem,
whose VJP scatter-adds with ``index_add``); see their comments in :mod:`polytape.ops`.

Conventions at non-smooth points: ``max``/``min`` reductions split the gradient
evenly among tied extrema (TensorFlow's rule); ``maximum``/``minimum`` give ties to
the first input; ``clip`` passes the gradient where ``lo <= x <= hi``; ``relu`` and
``abs`` have gradient 0 at 0 (``relu``'s gradient is the op ``relu_backward``, 0 at NaN too).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optable import defop

SQRT_PI_2 = 2.0 / math.sqrt(math.pi)


# -- helpers shared by several rules -------------------------------------------------------
def unbroadcast(ns: Any, g: Any, shape: Any) -> Any:
    """Sum ``g`` over the axes NumPy broadcasting added or stretched, back to ``shape``."""
    gshape, shape = tuple(g.shape), tuple(shape)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and gshape[lead + i] != 1)
    if axes:
        g = ns.sum(g, axis=axes, keepdims=False)
    return g if tuple(g.shape) == shape else ns.reshape(g, shape)


def keep_dims(ns: Any, g: Any, shape: Any, axis: Any, keepdims: bool) -> Any:
    """``g`` reshaped as if the reduction over ``axis`` had kept its dimensions."""
    if keepdims:
        return g
    axes = range(len(shape)) if axis is None else axis
    return ns.reshape(g, tuple(1 if i in axes else s for i, s in enumerate(shape)))


def _count(shape: Any, axis: Any) -> int:
    return math.prod(shape[i] for i in (range(len(shape)) if axis is None else axis))


def _zeros(ns: Any, g: Any) -> Any:
    return ns.zeros_like(g)


def _sum_vjp(ns, g, ans, x, axis=None, keepdims=False):
    return ns.broadcast_to(keep_dims(ns, g, x.shape, axis, keepdims), tuple(x.shape))


def _extremum_vjp(ns, g, ans, x, axis=None, keepdims=False):
    # Ties share the gradient evenly, as in TensorFlow: d max / d x_i = 1/k for k maxima.
    hit = ns.equal(x, keep_dims(ns, ans, x.shape, axis, keepdims))
    w = ns.where(hit, ns.ones_like(x), ns.zeros_like(x))
    w = w / ns.sum(w, axis=axis, keepdims=True)
    return w * keep_dims(ns, g, x.shape, axis, keepdims)


def _extremum_jvp(ns, t, ans, x, axis=None, keepdims=False):
    hit = ns.equal(x, keep_dims(ns, ans, x.shape, axis, keepdims))
    w = ns.where(hit, ns.ones_like(x), ns.zeros_like(x))
    return ns.sum(w * t, axis=axis, keepdims=keepdims) / ns.sum(w, axis=axis, keepdims=keepdims)


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


def _concat_jvp(ns, t, ans, *xs, axis, argnum):
    parts = [t if i == argnum else ns.zeros_like(x) for i, x in enumerate(xs)]
    return ns.concat(parts, axis=axis)


def _stack_jvp(ns, t, ans, *xs, axis, argnum):
    return ns.stack([t if i == argnum else ns.zeros_like(x) for i, x in enumerate(xs)], axis=axis)


def _power_vjp_y(ns, g, ans, x, y):
    safe = ns.where(x > 0, x, ns.ones_like(x))  # d(x**y)/dy = x**y log x, taken as 0 where x <= 0
    return unbroadcast(ns, g * ans * ns.log(safe), y.shape)


def _power_jvp_y(ns, t, ans, x, y):
    return t * ans * ns.log(ns.where(x > 0, x, ns.ones_like(x)))


def _where_vjp(pick_first):
    def rule(ns, g, ans, c, x, y):
        z = _zeros(ns, g)
        kept = ns.where(c, g, z) if pick_first else ns.where(c, z, g)
        return unbroadcast(ns, kept, (x if pick_first else y).shape)
    return rule


def _ops_namespace() -> Any:
    from . import ops

    return ops


def _kept(ns: Any, ans: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """A reduction's output ``ans`` broadcastable against its input ``x``."""
    return keep_dims(ns, ans, x.shape, axis, keepdims)


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


def _prod_vjp(ns, g, ans, x, axis=None, keepdims=False):
    return _prod_partials(ns, x, ans, axis, keepdims) * keep_dims(ns, g, x.shape, axis, keepdims)


def _prod_jvp(ns, t, ans, x, axis=None, keepdims=False):
    return ns.sum(t * _prod_partials(ns, x, ans, axis, keepdims), axis=axis, keepdims=keepdims)


def _logsumexp_vjp(ns, g, ans, x, axis=None, keepdims=False):
    return keep_dims(ns, g, x.shape, axis, keepdims) * ns.exp(x - _kept(ns, ans, x, axis, keepdims))


def _logsumexp_jvp(ns, t, ans, x, axis=None, keepdims=False):
    return ns.sum(t * ns.exp(x - _kept(ns, ans, x, axis, keepdims)), axis=axis, keepdims=keepdims)


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


def _clip_vjp(ns, g, ans, x, lo=None, hi=None):
    if lo is None and hi is None:
        return g
    return ns.where(_clip_mask(ns, x, lo, hi), g, _zeros(ns, g))


def _clip_jvp(ns, t, ans, x, lo=None, hi=None):
    if lo is None and hi is None:
        return t
    return ns.where(_clip_mask(ns, x, lo, hi), t, ns.zeros_like(t))


# -- einsum (the front end canonicalises subscripts: explicit output, no ellipsis, no broadcasting)
def parse_subscripts(subscripts: str) -> tuple[list[str], str]:
    """``"ij,jk->ik"`` -> ``(["ij", "jk"], "ik")`` (canonical subscripts only)."""
    lhs, out = subscripts.split("->")
    return lhs.split(","), out


def _einsum(ns: Any, subscripts: str, *xs: Any) -> Any:
    # The kernel takes the subscripts as an attribute after the arrays; the public op, first.
    if ns is _ops_namespace():
        return ns.einsum(subscripts, *xs)
    return ns.einsum(*xs, subscripts=subscripts)


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
    gx = _einsum(ns, ",".join(subs) + "->" + "".join(kept), *operands)
    if len(kept) != len(target):
        for pos, c in enumerate(target):
            if c not in present:
                gx = ns.expand_dims(gx, pos)
        gx = ns.broadcast_to(gx, tuple(x.shape))
    return gx


def _einsum_jvp(ns, t, ans, *xs, subscripts, argnum):
    return _einsum(ns, subscripts, *(t if i == argnum else x for i, x in enumerate(xs)))


# -- elementwise, one input ---------------------------------------------------------------
defop("identity", vjp=lambda ns, g, ans, x: g, jvp=lambda ns, t, ans, x: t)
defop("negative", vjp=lambda ns, g, ans, x: -g, jvp=lambda ns, t, ans, x: -t)
defop("abs", vjp=lambda ns, g, ans, x: g * ns.sign(x), jvp=lambda ns, t, ans, x: t * ns.sign(x))
defop("exp", vjp=lambda ns, g, ans, x: g * ans, jvp=lambda ns, t, ans, x: t * ans)
# exp(x), not ans + 1: for very negative x, ans + 1 cancels to a few correct bits.
defop("expm1", vjp=lambda ns, g, ans, x: g * ns.exp(x), jvp=lambda ns, t, ans, x: t * ns.exp(x))
defop("log", vjp=lambda ns, g, ans, x: g / x, jvp=lambda ns, t, ans, x: t / x)
defop("log1p", vjp=lambda ns, g, ans, x: g / (x + 1), jvp=lambda ns, t, ans, x: t / (x + 1))
defop("sqrt", vjp=lambda ns, g, ans, x: g * 0.5 / ans, jvp=lambda ns, t, ans, x: t * 0.5 / ans)
defop("square", vjp=lambda ns, g, ans, x: g * 2 * x, jvp=lambda ns, t, ans, x: t * 2 * x)
defop("sin", vjp=lambda ns, g, ans, x: g * ns.cos(x), jvp=lambda ns, t, ans, x: t * ns.cos(x))
defop("cos", vjp=lambda ns, g, ans, x: -g * ns.sin(x), jvp=lambda ns, t, ans, x: -t * ns.sin(x))
defop("tan", vjp=lambda ns, g, ans, x: g * (1 + ans * ans),
      jvp=lambda ns, t, ans, x: t * (1 + ans * ans))
defop("tanh", vjp=lambda ns, g, ans, x: g * (1 - ans * ans),
      jvp=lambda ns, t, ans, x: t * (1 - ans * ans))
defop("sinh", vjp=lambda ns, g, ans, x: g * ns.cosh(x), jvp=lambda ns, t, ans, x: t * ns.cosh(x))
defop("cosh", vjp=lambda ns, g, ans, x: g * ns.sinh(x), jvp=lambda ns, t, ans, x: t * ns.sinh(x))
defop("arcsin", vjp=lambda ns, g, ans, x: g / ns.sqrt(1 - x * x),
      jvp=lambda ns, t, ans, x: t / ns.sqrt(1 - x * x))
defop("arccos", vjp=lambda ns, g, ans, x: -g / ns.sqrt(1 - x * x),
      jvp=lambda ns, t, ans, x: -t / ns.sqrt(1 - x * x))
defop("arctan", vjp=lambda ns, g, ans, x: g / (1 + x * x),
      jvp=lambda ns, t, ans, x: t / (1 + x * x))
defop("erf", vjp=lambda ns, g, ans, x: g * SQRT_PI_2 * ns.exp(-x * x),
      jvp=lambda ns, t, ans, x: t * SQRT_PI_2 * ns.exp(-x * x))
defop("sigmoid", vjp=lambda ns, g, ans, x: g * ans * (1 - ans),
      jvp=lambda ns, t, ans, x: t * ans * (1 - ans))
defop("softplus", vjp=lambda ns, g, ans, x: g * ns.sigmoid(x),
      jvp=lambda ns, t, ans, x: t * ns.sigmoid(x))
defop("relu", vjp=lambda ns, g, ans, x: ns.relu_backward(g, x),
      jvp=lambda ns, t, ans, x: ns.relu_backward(t, x))
# relu's gradient as one op (PyTorch's threshold_backward): one fused kernel where a backend has
# one, instead of a comparison and a select. Linear in g; piecewise constant in x (no gradient).
defop("relu_backward", default_kernel=_relu_backward_kernel,
      vjp=(lambda ns, gg, ans, g, x: unbroadcast(ns, ns.relu_backward(gg, x), g.shape), None),
      jvp=(lambda ns, t, ans, g, x: ns.relu_backward(t, x), None))
defop("clip", vjp=_clip_vjp, jvp=_clip_jvp)  # scalar bounds lo/hi (None = unbounded)
for _name in ("sign", "floor", "ceil", "round", "logical_not"):
    defop(_name, differentiable=False)

# -- elementwise, two inputs (NumPy broadcasting; VJPs sum back to each input's shape) -----
defop("add", vjp=(lambda ns, g, ans, x, y: unbroadcast(ns, g, x.shape),
                  lambda ns, g, ans, x, y: unbroadcast(ns, g, y.shape)),
      jvp=(lambda ns, t, ans, x, y: t, lambda ns, t, ans, x, y: t))
defop("subtract", vjp=(lambda ns, g, ans, x, y: unbroadcast(ns, g, x.shape),
                       lambda ns, g, ans, x, y: unbroadcast(ns, -g, y.shape)),
      jvp=(lambda ns, t, ans, x, y: t, lambda ns, t, ans, x, y: -t))
defop("multiply", vjp=(lambda ns, g, ans, x, y: unbroadcast(ns, g * y, x.shape),
                       lambda ns, g, ans, x, y: unbroadcast(ns, g * x, y.shape)),
      jvp=(lambda ns, t, ans, x, y: t * y, lambda ns, t, ans, x, y: t * x))
defop("divide", vjp=(lambda ns, g, ans, x, y: unbroadcast(ns, g / y, x.shape),
                     lambda ns, g, ans, x, y: unbroadcast(ns, -g * ans / y, y.shape)),
      jvp=(lambda ns, t, ans, x, y: t / y, lambda ns, t, ans, x, y: -t * ans / y))
defop("power", vjp=(lambda ns, g, ans, x, y: unbroadcast(ns, g * y * x ** (y - 1), x.shape),
                    _power_vjp_y),
      jvp=(lambda ns, t, ans, x, y: t * y * x ** (y - 1), _power_jvp_y))
defop("maximum",  # ties go to the first input, as in TensorFlow
      vjp=(lambda ns, g, ans, x, y: unbroadcast(ns, ns.where(x >= y, g, _zeros(ns, g)), x.shape),
           lambda ns, g, ans, x, y: unbroadcast(ns, ns.where(x >= y, _zeros(ns, g), g), y.shape)),
      jvp=(lambda ns, t, ans, x, y: ns.where(x >= y, t, ns.zeros_like(t)),
           lambda ns, t, ans, x, y: ns.where(x >= y, ns.zeros_like(t), t)))
defop("minimum",
      vjp=(lambda ns, g, ans, x, y: unbroadcast(ns, ns.where(x <= y, g, _zeros(ns, g)), x.shape),
           lambda ns, g, ans, x, y: unbroadcast(ns, ns.where(x <= y, _zeros(ns, g), g), y.shape)),
      jvp=(lambda ns, t, ans, x, y: ns.where(x <= y, t, ns.zeros_like(t)),
           lambda ns, t, ans, x, y: ns.where(x <= y, ns.zeros_like(t), t)))
defop("arctan2",  # arctan2(y, x): the first input is y
      vjp=(lambda ns, g, ans, y, x: unbroadcast(ns, g * x / (x * x + y * y), y.shape),
           lambda ns, g, ans, y, x: unbroadcast(ns, -g * y / (x * x + y * y), x.shape)),
      jvp=(lambda ns, t, ans, y, x: t * x / (x * x + y * y),
           lambda ns, t, ans, y, x: -t * y / (x * x + y * y)))
for _name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
              "logical_and", "logical_or", "logical_xor", "floor_divide", "remainder"):
    defop(_name, differentiable=False)
defop("where", vjp=(None, _where_vjp(True), _where_vjp(False)),
      jvp=(None, lambda ns, t, ans, c, x, y: ns.where(c, t, ns.zeros_like(t)),
           lambda ns, t, ans, c, x, y: ns.where(c, ns.zeros_like(t), t)))

# -- reductions (axis: None or a tuple of non-negative ints) --------------------------------
defop("sum", vjp=_sum_vjp,
      jvp=lambda ns, t, ans, x, axis=None, keepdims=False: ns.sum(t, axis=axis, keepdims=keepdims))
defop("mean", vjp=lambda ns, g, ans, x, axis=None, keepdims=False:
      _sum_vjp(ns, g, ans, x, axis, keepdims) / _count(x.shape, axis),
      jvp=lambda ns, t, ans, x, axis=None, keepdims=False: ns.mean(t, axis=axis, keepdims=keepdims))
# max/min: ties share the gradient evenly among the extrema (TensorFlow's rule), see _extremum_vjp.
defop("max", vjp=_extremum_vjp, jvp=_extremum_jvp)
defop("min", vjp=_extremum_vjp, jvp=_extremum_jvp)
defop("prod", vjp=_prod_vjp, jvp=_prod_jvp)
# logsumexp, softmax and log_softmax are primitives (one recorded op, rules in closed form that are
# themselves differentiable) with default kernels, so a backend need not implement them.
defop("logsumexp", vjp=_logsumexp_vjp, jvp=_logsumexp_jvp, default_kernel=_logsumexp_kernel)
defop("softmax", default_kernel=_softmax_kernel,  # axis: a tuple of non-negative ints
      vjp=lambda ns, g, ans, x, axis: ans * (g - ns.sum(g * ans, axis=axis, keepdims=True)),
      jvp=lambda ns, t, ans, x, axis: ans * (t - ns.sum(t * ans, axis=axis, keepdims=True)))
defop("log_softmax", default_kernel=_log_softmax_kernel,
      vjp=lambda ns, g, ans, x, axis: g - ns.exp(ans) * ns.sum(g, axis=axis, keepdims=True),
      jvp=lambda ns, t, ans, x, axis: t - ns.sum(ns.exp(ans) * t, axis=axis, keepdims=True))
defop("cumsum",  # axis: a non-negative int; the VJP of a running sum is the reversed running sum
      vjp=lambda ns, g, ans, x, axis, reverse=False: ns.cumsum(g, axis=axis, reverse=not reverse),
      jvp=lambda ns, t, ans, x, axis, reverse=False: ns.cumsum(t, axis=axis, reverse=reverse))
for _name in ("argmax", "argmin"):
    defop(_name, differentiable=False)

# -- linear algebra ------------------------------------------------------------------------
defop("matmul", vjp=(_matmul_vjp_x, _matmul_vjp_y),
      jvp=(lambda ns, t, ans, x, y: ns.matmul(t, y), lambda ns, t, ans, x, y: ns.matmul(x, t)))
defop("einsum", vjp=_einsum_vjp, jvp=_einsum_jvp, variadic=True)

# -- shapes, indexing, dtype ---------------------------------------------------------------
defop("reshape", vjp=lambda ns, g, ans, x, shape: ns.reshape(g, tuple(x.shape)),
      jvp=lambda ns, t, ans, x, shape: ns.reshape(t, tuple(ans.shape)))
defop("transpose", vjp=lambda ns, g, ans, x, axes: ns.transpose(g, _inverse(axes)),
      jvp=lambda ns, t, ans, x, axes: ns.transpose(t, axes))
defop("broadcast_to", vjp=lambda ns, g, ans, x, shape: unbroadcast(ns, g, x.shape),
      jvp=lambda ns, t, ans, x, shape: ns.broadcast_to(t, shape))
defop("expand_dims", vjp=lambda ns, g, ans, x, axis: ns.reshape(g, tuple(x.shape)),
      jvp=lambda ns, t, ans, x, axis: ns.expand_dims(t, axis))
defop("squeeze", vjp=lambda ns, g, ans, x, axis: ns.reshape(g, tuple(x.shape)),
      jvp=lambda ns, t, ans, x, axis: ns.squeeze(t, axis))
defop("concat", vjp=_concat_vjp, jvp=_concat_jvp, variadic=True)
defop("stack", variadic=True,
      vjp=lambda ns, g, ans, *xs, axis, argnum: ns.getitem(g, (slice(None),) * axis + (argnum,)),
      jvp=_stack_jvp)
defop("tile", vjp=_tile_vjp, jvp=lambda ns, t, ans, x, reps: ns.tile(t, reps))
defop("pad", vjp=_pad_vjp,  # pad_width: one (before, after) pair per axis; constant mode only
      jvp=lambda ns, t, ans, x, pad_width, constant_value=0: ns.pad(t, pad_width))
defop("flip", vjp=lambda ns, g, ans, x, axis: ns.flip(g, axis=axis),
      jvp=lambda ns, t, ans, x, axis: ns.flip(t, axis=axis))
# index_add's kernel takes (base, values, index=...) -- arrays first, as every kernel -- while the
# public op reads (base, index, values); rules pass index and values by keyword to fit both.
defop("getitem",
      vjp=lambda ns, g, ans, x, index: ns.index_add(ns.zeros_like(x), index=index, values=g),
      jvp=lambda ns, t, ans, x, index: ns.getitem(t, index))
defop("index_add",
      vjp=(lambda ns, g, ans, base, values, index: g,
           lambda ns, g, ans, base, values, index:
           unbroadcast(ns, ns.getitem(g, index), values.shape)),
      jvp=(lambda ns, t, ans, base, values, index: t,
           lambda ns, t, ans, base, values, index:
           ns.index_add(ns.zeros_like(ans), index=index, values=t)))
# Gradients flow back through a cast unchanged; the tape casts them to the input's dtype.
defop("astype", vjp=lambda ns, g, ans, x, dtype: g, jvp=lambda ns, t, ans, x, dtype: t)
