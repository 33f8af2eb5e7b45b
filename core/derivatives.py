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
scatter-adds with ``index_add``); see their comments where they are defined.

Conventions at non-smooth points: ``max``/``min`` reductions split the gradient evenly
among tied extrema (TensorFlow's rule); ``maximum``/``minimum`` give ties to the first
input; ``clip`` passes the gradient where ``lo <= x <= hi``; ``relu`` and ``abs`` have
gradient 0 at 0 (``relu``'s gradient is the op ``relu_backward``, 0 at NaN too).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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


def _sum_vjp(ns, g, ans, x, axis=None, keepdims=False):
    return ns.broadcast_to(keep_dims(ns, g, x.shape, axis, keepdims), tuple(x.shape))


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


def _power_vjp_y(ns, g, ans, x, y):
    safe = ns.where(x > 0, x, ns.ones_like(x))  # d(x**y)/dy = x**y log x, taken as 0 where x <= 0
    return g * ans * ns.log(safe)


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
    return ns.exp(x - _kept(ns, ans, x, axis, keepdims))


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
defop("abs", lambda ns, g, ans, x: g * ns.sign(x), elementwise=True)
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
defop("erf", lambda ns, g, ans, x: g * SQRT_PI_2 * ns.exp(-x * x), elementwise=True, float_only=True)
defop("sigmoid", lambda ns, g, ans, x: g * ans * (1 - ans), elementwise=True, float_only=True)
defop("softplus", lambda ns, g, ans, x: g * ns.sigmoid(x), elementwise=True, float_only=True)
defop("relu", lambda ns, g, ans, x: ns.relu_backward(g, x), elementwise=True)
# relu's gradient as one op (PyTorch's threshold_backward): one fused kernel where a backend has
# one, instead of a comparison and a select. Linear in g; piecewise constant in x (no gradient).
defop("relu_backward", (lambda ns, gg, ans, g, x: ns.relu_backward(gg, x), None), elementwise=True,
      default_kernel=_relu_backward_kernel)
defop("clip", _clip_vjp, elementwise=True)
# Gradients flow back through a cast unchanged; the tape casts them to the input's dtype.
defop("astype", lambda ns, g, ans, x, dtype: g, elementwise=True)
for _name in ("sign", "floor", "ceil", "round", "logical_not"):
    defop(_name, differentiable=False)

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
      elementwise=True, same_dtype=True)
defop("minimum", (lambda ns, g, ans, x, y: ns.where(x <= y, g, ns.zeros_like(g)),
                  lambda ns, g, ans, x, y: ns.where(x <= y, ns.zeros_like(g), g)),
      elementwise=True, same_dtype=True)
defop("arctan2", (lambda ns, g, ans, y, x: g * x / (x * x + y * y),  # arctan2(y, x): y comes first
                  lambda ns, g, ans, y, x: -g * y / (x * x + y * y)),
      elementwise=True, same_dtype=True, float_only=True)
defop("where", (None, lambda ns, g, ans, c, x, y: ns.where(c, g, ns.zeros_like(g)),
                lambda ns, g, ans, c, x, y: ns.where(c, ns.zeros_like(g), g)), elementwise=True)
for _name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
    defop(_name, differentiable=False, same_dtype=True)
for _name in ("logical_and", "logical_or", "logical_xor", "floor_divide", "remainder"):
    defop(_name, differentiable=False)

# -- reductions (axis: None or a tuple of non-negative ints) --------------------------------
defop("sum", _sum_vjp, linear=True)
defop("mean", lambda ns, g, ans, x, axis=None, keepdims=False:
      _sum_vjp(ns, g, ans, x, axis, keepdims) / _count(x.shape, axis), linear=True, float_only=True)
# max/min: ties share the gradient evenly among the extrema (TensorFlow's rule).
defop("max", *_by_partials(_extremum_partials))
defop("min", *_by_partials(_extremum_partials))
defop("prod", *_by_partials(_prod_partials))
# logsumexp, softmax and log_softmax are primitives (one recorded op, rules in closed form that are
# themselves differentiable) with default kernels, so a backend need not implement them.
defop("logsumexp", *_by_partials(_logsumexp_partials), default_kernel=_logsumexp_kernel,
      float_only=True)
defop("softmax", default_kernel=_softmax_kernel, float_only=True,  # axis: a tuple of ints >= 0
      vjp=lambda ns, g, ans, x, axis: ans * (g - ns.sum(g * ans, axis=axis, keepdims=True)),
      jvp=lambda ns, t, ans, x, axis: ans * (t - ns.sum(t * ans, axis=axis, keepdims=True)))
defop("log_softmax", default_kernel=_log_softmax_kernel, float_only=True,
      vjp=lambda ns, g, ans, x, axis: g - ns.exp(ans) * ns.sum(g, axis=axis, keepdims=True),
      jvp=lambda ns, t, ans, x, axis: t - ns.sum(ns.exp(ans) * t, axis=axis, keepdims=True))
# axis: a non-negative int; the VJP of a running sum is the reversed running sum
defop("cumsum", lambda ns, g, ans, x, axis, reverse=False: ns.cumsum(g, axis=axis, reverse=not reverse),
      linear=True)
for _name in ("argmax", "argmin"):
    defop(_name, differentiable=False)

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
# real/conj are the identity and imag is 0 on real dtypes (complex dtypes are not there yet).
defop("real", lambda ns, g, ans, x: g, elementwise=True, default_kernel=lambda k, x: x)
defop("conj", lambda ns, g, ans, x: g, elementwise=True, default_kernel=lambda k, x: x)
defop("imag", lambda ns, g, ans, x: ns.zeros_like(g), elementwise=True,
      default_kernel=lambda k, x: k["zeros"](tuple(x.shape), x.dtype))
# d logaddexp / dx = exp(x - ans): a softmax weight, never overflowing.
defop("logaddexp", (lambda ns, g, ans, x, y: g * ns.exp(x - ans),
                    lambda ns, g, ans, x, y: g * ns.exp(y - ans)),
      elementwise=True, same_dtype=True, float_only=True)
defop("hypot", (lambda ns, g, ans, x, y: g * x / ans, lambda ns, g, ans, x, y: g * y / ans),
      elementwise=True, same_dtype=True, float_only=True)
# copysign(x, y) = |x| sign(y): slope sign(x) sign(y) in x (0 at x = 0, as abs), none in y.
defop("copysign", (lambda ns, g, ans, x, y: g * ns.sign(x) * ns.sign(ans), None),
      elementwise=True, same_dtype=True, float_only=True)
for _name in ("trunc", "signbit", "isfinite", "isinf", "isnan", "bitwise_invert"):
    defop(_name, differentiable=False)
for _name in ("nextafter", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
              "bitwise_right_shift"):
    defop(_name, differentiable=False, same_dtype=True)

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
      float_only=True, default_kernel=_ck.max_pool2d)
defop("max_pool2d_grad", (None, lambda ns, gg, ans, x, g, **a:
                          ns.apply_op("max_pool2d_grad_grad", x, gg, **a)),
      linear=True, float_only=True, default_kernel=_ck.max_pool2d_grad)
defop("max_pool2d_grad_grad", (None, lambda ns, g, ans, x, t, **a:
                               ns.apply_op("max_pool2d_grad", x, g, **a)),
      linear=True, float_only=True, default_kernel=_ck.max_pool2d_grad_grad)
defop("avg_pool2d", lambda ns, g, ans, x, **a: ns.apply_op("avg_pool2d_grad", g, input_size=_hw(x),
                                                           **a),
      linear=True, float_only=True, default_kernel=_ck.avg_pool2d)
defop("avg_pool2d_grad", lambda ns, g, ans, dy, input_size, **a: ns.apply_op("avg_pool2d", g, **a),
      linear=True, float_only=True, default_kernel=_ck.avg_pool2d_grad)
