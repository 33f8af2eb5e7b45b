"""Linear algebra: ``matmul``, ``tensordot``, ``einsum``, ``norm``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import reductions
from .arguments import normalize_axis, number
from .creation import ones_like, zeros_like
from .dispatch import binary_operands, operands, run, unary_operand
from .dtypes import float32
from .elementwise import abs as absolute
from .elementwise import cast, not_equal, sqrt, where
from .errors import ArgumentTypeError, InvalidArgumentError, ShapeError
from .optable import OPS
from .shapes import broadcast_to, reshape, squeeze, transpose
from .tensor import Tensor

__all__ = ["matmul", "tensordot", "einsum", "norm"]


def matmul(x: Any, y: Any) -> Tensor:
    """Matrix product with NumPy's rules (1-d operands, broadcast batch dimensions)."""
    be, x, y, a, b = binary_operands("matmul", x, y)
    if not a.shape or not b.shape:
        raise ShapeError(f"matmul: operands must have at least one dimension, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    ka = a.shape[-1]
    kb = b.shape[-2] if len(b.shape) > 1 else b.shape[0]
    if ka != kb:
        raise ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not fit "
                         f"(inner dimensions {ka} and {kb} differ)")
    return run(OPS["matmul"], be, (x, y), (a, b))


def tensordot(x: Any, y: Any, axes: int | Sequence[Any] = 2) -> Tensor:
    """Sum of products over axes: ``axes=N`` pairs the last N axes of ``x`` with the first N
    of ``y``; ``axes=(axes_x, axes_y)`` names the pairs. Result: free axes of ``x`` then of ``y``.

    >>> import polytape as pt
    >>> pt.tensordot(pt.ones((2, 3)), pt.ones((3, 4)), axes=1).shape
    (2, 4)
    """
    # A composition (transpose, reshape, matmul): one BLAS call, and matmul's rules are exact.
    x, y = unary_operand(x), unary_operand(y)
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if not 0 <= n <= min(x.ndim, y.ndim):
            raise ShapeError(f"tensordot: cannot contract {n} axes of shapes {x.shape} and {y.shape}")
        ax, ay = tuple(range(x.ndim - n, x.ndim)), tuple(range(n))
    else:
        try:
            ax_spec, ay_spec = axes
        except (TypeError, ValueError):
            raise ArgumentTypeError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}") \
                from None
        ax = normalize_axis(ax_spec, x.ndim, "tensordot") or ()
        ay = normalize_axis(ay_spec, y.ndim, "tensordot") or ()
        if len(ax) != len(ay):
            raise ShapeError(f"tensordot: axes {ax_spec!r} and {ay_spec!r} differ in length")
    for i, j in zip(ax, ay):
        if x.shape[i] != y.shape[j]:
            raise ShapeError(f"tensordot: axis {i} of shape {x.shape} and axis {j} of shape "
                             f"{y.shape} differ in size ({x.shape[i]} vs {y.shape[j]})")
    free_x = [i for i in range(x.ndim) if i not in ax]
    free_y = [j for j in range(y.ndim) if j not in ay]
    k = math.prod(x.shape[i] for i in ax)
    xm = _permuted(x, tuple(free_x) + ax)
    ym = _permuted(y, ay + tuple(free_y))
    xm = reshape(xm, (math.prod(x.shape[i] for i in free_x), k))
    ym = reshape(ym, (k, math.prod(y.shape[j] for j in free_y)))
    return reshape(matmul(xm, ym), tuple(x.shape[i] for i in free_x) + tuple(y.shape[j] for j in free_y))


def _permuted(x: Tensor, perm: tuple[int, ...]) -> Tensor:
    return x if perm == tuple(range(x.ndim)) else transpose(x, perm)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum(subscripts: str, *tensors: Any) -> Tensor:
    """Einstein summation, as ``numpy.einsum``: ``pt.einsum("ij,jk->ik", a, b)``.

    Supports implicit output (letters used once, in alphabetical order), ``...`` for
    leading dimensions, repeated letters (diagonals) and size-1 broadcasting.

    >>> import polytape as pt
    >>> float(pt.einsum("i,i->", pt.constant([1.0, 2.0]), pt.constant([3.0, 4.0])))
    11.0
    """
    # A primitive: its VJP is another einsum (see polytape.derivatives), so one kernel serves
    # every contraction. The front end hands the kernel canonical subscripts: explicit output,
    # no ellipsis, every letter one size (size-1 operands are broadcast by a recorded op first).
    if not isinstance(subscripts, str):
        raise ArgumentTypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    _, ts, _ = operands("einsum", tensors, promote=False)
    spec = subscripts.replace(" ", "")
    if set(spec) - set(_LETTERS + ",->.") or spec.count("->") > 1:
        raise InvalidArgumentError(f"einsum: malformed subscripts {subscripts!r}")
    lhs, arrow, out = spec.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ts):
        raise InvalidArgumentError(f"einsum: subscripts {subscripts!r} name {len(ins)} operands, "
                                   f"got {len(ts)}")
    fresh = [c for c in _LETTERS if c not in spec]
    n_ell = []
    for i, (sub, t) in enumerate(zip(ins, ts)):
        named = len(sub.replace("...", ""))
        if sub.replace("...", "", 1).count(".") or ("..." not in sub and named != t.ndim) \
                or named > t.ndim:
            raise ShapeError(f"einsum: operand {i} has shape {t.shape}, which subscript {sub!r} "
                             "does not fit")
        n_ell.append(t.ndim - named)
    width = max(n_ell, default=0)
    ell = "".join(fresh[:width])
    ins = [sub.replace("...", ell[width - k:]) for sub, k in zip(ins, n_ell)]
    if arrow:
        if out.replace("...", "", 1).count("."):
            raise InvalidArgumentError(f"einsum: malformed output subscript in {subscripts!r}")
        out = out.replace("...", ell)
        unknown = set(out) - set("".join(ins))
        if unknown or len(set(out)) != len(out):
            raise InvalidArgumentError(f"einsum: output subscript of {subscripts!r} repeats a letter "
                                       "or names one no operand has")
    else:
        counts = "".join(ins)
        out = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ell))
    sizes: dict[str, int] = {}
    for i, (sub, t) in enumerate(zip(ins, ts)):
        for c, d in zip(sub, t.shape):
            prev = sizes.get(c, 1)
            if d != prev and 1 not in (d, prev) or (sub.count(c) > 1 and d != t.shape[sub.index(c)]):
                raise ShapeError(f"einsum: letter {c!r} has sizes {prev} and {d} (operand {i}, "
                                 f"shape {t.shape}, subscripts {subscripts!r})")
            sizes[c] = max(prev, d)
    ts = tuple(t if all(d == sizes[c] for c, d in zip(sub, t.shape))
               else broadcast_to(t, tuple(sizes[c] for c in sub)) for sub, t in zip(ins, ts))
    be, ts, arrays = operands("einsum", ts)
    return run(OPS["einsum"], be, ts, arrays, {"subscripts": ",".join(ins) + "->" + out})


def norm(x: Any, ord: Any = None, axis: int | Sequence[int] | None = None,  # noqa: A002
         keepdims: bool = False) -> Tensor:
    """Vector or matrix norm, as ``tf.norm`` / ``numpy.linalg.norm``.

    * ``axis`` None or one axis: a vector norm (of all entries when None).
      ``ord`` None, 2, ``"euclidean"`` or ``"fro"``: the 2-norm; 1; ``inf``; ``-inf``;
      0 (count of non-zeros, not differentiable); any other ``p > 0``:
      ``sum(|x|**p)**(1/p)``.
    * ``axis`` a pair: a matrix norm. ``ord`` None/``"fro"``/``"euclidean"``: Frobenius;
      1 / -1: largest / smallest absolute column sum; ``inf`` / ``-inf``: row sums.
      2, -2 and ``"nuc"`` need singular values and raise :class:`InvalidArgumentError`.

    The gradient of the 2-norm (and p-norms) at zero is 0, a subgradient (as in
    PyTorch), rather than TensorFlow's NaN. Integers give float32.
    """
    # A composition of abs/sum/max/sqrt/power: exact, twice differentiable, no kernel to write.
    x = unary_operand(x)
    if not x.dtype.is_inexact:
        x = cast(x, float32)
    axes = normalize_axis(axis, x.ndim, "norm")
    if axes is None:
        axes = tuple(range(x.ndim))
        matrix = False
    elif len(axes) == 2:
        matrix = True
    elif len(axes) == 1:
        matrix = False
    else:
        raise ShapeError(f"norm: axis must be None, one axis or a pair of axes, got {axis!r}")
    if ord in (None, "euclidean", "fro") or (ord == 2 and not matrix):
        return _root_of_sum(x * x, 2, axes, keepdims)
    if not matrix:
        if isinstance(ord, str):
            raise InvalidArgumentError(f"norm: unknown ord {ord!r} for a vector norm")
        if ord == np.inf:
            return reductions.max(absolute(x), axis=axes, keepdims=keepdims)
        if ord == -np.inf:
            return reductions.min(absolute(x), axis=axes, keepdims=keepdims)
        if ord == 1:
            return reductions.sum(absolute(x), axis=axes, keepdims=keepdims)
        if ord == 0:
            return reductions.sum(cast(not_equal(x, 0.0), x.dtype), axis=axes, keepdims=keepdims)
        p = number("norm", "ord", ord)
        if p < 0:
            raise InvalidArgumentError(f"norm: ord must be positive, inf or -inf, got {ord!r}")
        return _root_of_sum(absolute(x) ** p, p, axes, keepdims)
    rows, cols = axes
    if ord in (1, -1):
        inner, outer = rows, cols
    elif ord in (np.inf, -np.inf):
        inner, outer = cols, rows
    else:
        raise InvalidArgumentError(
            f"norm: matrix norm ord={ord!r} needs singular values, which polytape does not "
            "provide; use ord='fro', 1, -1, inf or -inf")
    sums = reductions.sum(absolute(x), axis=inner, keepdims=True)
    pick = reductions.max if ord in (1, np.inf) else reductions.min
    out = pick(sums, axis=outer, keepdims=True)
    return out if keepdims else squeeze(out, axes)


def _root_of_sum(powers: Tensor, p: float, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    # sum(...) ** (1/p) with the gradient at 0 taken as 0: the inner `where` keeps the power's
    # derivative finite, the outer one picks the value 0 and blocks the gradient there.
    s = reductions.sum(powers, axis=axes, keepdims=keepdims)
    positive = s > 0
    safe = where(positive, s, ones_like(s))
    root = sqrt(safe) if p == 2 else safe ** (1.0 / p)
    return where(positive, root, zeros_like(s))
