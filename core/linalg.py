"""Linear algebra, and the Array API ``linalg`` extension (``polytape.linalg``).

``matmul``, ``tensordot``, ``einsum`` and ``norm`` are also top-level functions. The
extension's functions (``xp.linalg.<name>`` for ``import polytape as xp``; the names are
:data:`EXTENSION`) work on the last two axes and batch over the others:

* table ops with their own rules (:mod:`polytape.derivatives`): ``inv``, ``det``,
  ``slogdet``, ``solve``, ``cholesky``, ``eigh``, ``qr``, ``svd``, ``pinv``, and
  ``matrix_rank`` (not differentiable);
* compositions of table ops, so their derivatives are exact to any order: ``eigvalsh``
  (of ``eigh``), ``svdvals`` (of ``svd``), ``matrix_norm``, ``vector_norm``,
  ``matrix_power``, ``trace``, ``diagonal``, ``outer``, ``cross``, and the top-level
  ``matmul``, ``tensordot``, ``vecdot``, ``matrix_transpose``.

Inputs: a matrix function needs at least two dimensions (:class:`ShapeError`), square
matrices where the math does (:class:`ShapeError`); integers and bools compute in the
default float (float32), float16 and bfloat16 in float32 with results cast back (no
backend library factorises half precision). A matrix the backend's library finds singular
(``solve``, ``inv``) or not positive definite (``cholesky``) raises
:class:`InvalidArgumentError`; a nearly singular one gives large or infinite values, and so
does an exactly singular one on CuPy, which does not check. ``docs/array-api.md`` lists the
gradients' conventions (symmetric inputs, repeated eigenvalues, ``full_matrices``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import reductions
from .arguments import normalize_axis, number, one_axis
from .creation import constant, eye, ones_like, zeros_like
from .dispatch import binary_operands, operands, run, unary_operand
from .dtypes import DType, bfloat16, float16, float32, real_of, result_type
from .elementwise import abs as absolute
from .elementwise import cast, conj, not_equal, real, sqrt, where
from .errors import ArgumentTypeError, InvalidArgumentError, ShapeError
from .info import finfo
from .manipulation import broadcast_shapes, vecdot  # noqa: F401  (vecdot: in the extension)
from .optable import OPS
from .shapes import (
    broadcast_to,
    concat,
    expand_dims,
    matrix_transpose,
    reshape,
    squeeze,
    stack,
    take,
    transpose,
)
from .tensor import Tensor

__all__ = ["matmul", "tensordot", "einsum", "norm"]

# The Array API 2024.12 linalg extension: polytape.linalg.<name> for each.
EXTENSION = ("cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
             "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv",
             "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace", "vecdot",
             "vector_norm")


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



# == the Array API linalg extension ===============================================================
class EighResult(NamedTuple):
    """What :func:`eigh` returns: eigenvalues in ascending order, eigenvectors as columns."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class QRResult(NamedTuple):
    """What :func:`qr` returns: ``Q`` with orthonormal columns and upper-triangular ``R``."""

    Q: Tensor
    R: Tensor


class SlogdetResult(NamedTuple):
    """What :func:`slogdet` returns: the determinant's sign (0 if singular) and log of its
    absolute value."""

    sign: Tensor
    logabsdet: Tensor


class SVDResult(NamedTuple):
    """What :func:`svd` returns: ``x = U @ diag(S) @ Vh``, singular values descending."""

    U: Tensor
    S: Tensor
    Vh: Tensor


_HALF = (float16, bfloat16)


def _matrices(fn: str, x: Any, square: bool = True) -> tuple[Tensor, DType]:
    """``x`` as float32/float64 (or complex) matrices, and the dtype results are returned in."""
    x = unary_operand(x)
    if x.ndim < 2:
        raise ShapeError(f"linalg.{fn}: needs matrices (at least 2 dimensions), got shape {x.shape}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ShapeError(f"linalg.{fn}: needs square matrices, got shape {x.shape}")
    dt = x.dtype
    if dt.is_complex:
        return x, dt
    if not dt.is_floating:
        x = cast(x, float32)
        return x, float32
    if dt in _HALF:
        return cast(x, float32), dt
    return x, dt


def _as(t: Tensor, dt: DType) -> Tensor:
    return t if t.dtype == dt else cast(t, dt)


def _real_as(t: Tensor, dt: DType) -> Tensor:
    # A real result (eigenvalues, singular values, log|det|) packed beside complex ones: the
    # real part, in the real dtype of dt's precision.
    return real(t) if dt.is_complex else _as(t, dt)


def _op(name: str, x: Tensor, **attrs: Any) -> Tensor:
    return run(OPS[name], x._backend, (x,), (x._data,), attrs or None)


def _rtol(fn: str, rtol: Any) -> float | None:
    if rtol is None:
        return None
    if isinstance(rtol, Tensor):
        rtol = float(rtol)
    value = number(f"linalg.{fn}", "rtol", rtol)
    if value < 0:
        raise InvalidArgumentError(f"linalg.{fn}: rtol must be non-negative, got {rtol!r}")
    return float(value)


def _per_matrix_rtol(fn: str, a: Tensor, rtol: Tensor, one: Any) -> Tensor:
    """``one(matrix, rtol)`` for each matrix of ``a`` with its own entry of the array ``rtol``
    (the standard's per-matrix tolerance, broadcast against ``a``'s batch shape): the op runs
    once per matrix with a number, and the results are stacked (recorded, so pinv keeps its
    gradient)."""
    try:
        batch = broadcast_shapes(tuple(a.shape[:-2]), tuple(rtol.shape))
    except ShapeError:
        raise ShapeError(f"linalg.{fn}: rtol of shape {rtol.shape} does not broadcast against "
                         f"the batch shape {a.shape[:-2]}") from None
    values = np.broadcast_to(np.asarray(rtol.numpy(), dtype=np.float64), batch)
    if np.any(values < 0):
        raise InvalidArgumentError(f"linalg.{fn}: rtol must be non-negative, got {rtol.numpy()!r}")
    a = broadcast_to(a, batch + tuple(a.shape[-2:]))
    if not values.size:  # no matrices: the op on the empty batch gives the result's shape
        return one(a, None)
    flat = reshape(a, (-1,) + tuple(a.shape[-2:]))
    outs = stack([one(flat[i], float(r)) for i, r in enumerate(values.reshape(-1))])
    return reshape(outs, batch + tuple(outs.shape[1:]))


def inv(x: Any, /) -> Tensor:
    """The inverse of each square matrix. Gradient: ``-inv(x)^T g inv(x)^T``."""
    a, dt = _matrices("inv", x)
    return _as(_op("inv", a), dt)


def det(x: Any, /) -> Tensor:
    """The determinant of each square matrix. Gradient ``g det(x) inv(x)^T``, which needs an
    invertible ``x``."""
    a, dt = _matrices("det", x)
    return _as(_op("det", a), dt)


def slogdet(x: Any, /) -> SlogdetResult:
    """``(sign, logabsdet)`` of each square matrix's determinant; ``logabsdet`` is
    differentiable (gradient ``inv(x)^T``), the sign piecewise constant."""
    a, dt = _matrices("slogdet", x)
    packed = _op("slogdet", a)
    return SlogdetResult(_as(packed[..., 0], dt), _real_as(packed[..., 1], dt))


def solve(x1: Any, x2: Any, /) -> Tensor:
    """The solution ``X`` of ``x1 @ X = x2``, batched: ``x2`` of shape (n,) is one vector
    (the result has shape (..., n)); otherwise (..., n, k) columns. Batch dimensions
    broadcast. Differentiable in both inputs."""
    x1 = unary_operand(x1)
    a, _ = _matrices("solve", x1)
    b = x2 if isinstance(x2, Tensor) else constant(x2, backend=x1._backend)  # beside x1
    if b.ndim < 1:
        raise ShapeError(f"linalg.solve: x2 needs at least one dimension, got shape {b.shape}")
    vector = b.ndim == 1
    if b.shape[0 if vector else -2] != a.shape[-1]:
        raise ShapeError(f"linalg.solve: x1 of shape {a.shape} and x2 of shape {b.shape} do not "
                         "fit (x2 needs as many rows as x1)")
    if vector:
        b = expand_dims(b, 1)
    dt = result_type(x1.dtype, b.dtype)
    dt = dt if dt.is_floating or dt.is_complex else float32
    compute = float32 if dt in _HALF else dt
    a, b = _as(a, compute), _as(b, compute)
    batch = broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    if tuple(a.shape[:-2]) != batch:
        a = broadcast_to(a, batch + tuple(a.shape[-2:]))
    if tuple(b.shape[:-2]) != batch:
        b = broadcast_to(b, batch + tuple(b.shape[-2:]))
    be, _, _ = operands("linalg.solve", (a, b))
    out = run(OPS["solve"], be, (a, b), (a._data, b._data))
    return _as(squeeze(out, (out.ndim - 1,)) if vector else out, dt)


def cholesky(x: Any, /, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of each symmetric positive-definite matrix: lower ``L`` with
    ``x = L @ L.mT``, or upper ``U = L.mT`` (``x = U.mT @ U``) with ``upper=True``. Only the
    lower triangle of ``x`` is read; the gradient is symmetric (Murray's rule)."""
    a, dt = _matrices("cholesky", x)
    low = _as(_op("cholesky", a), dt)
    if not upper:
        return low
    return matrix_transpose(conj(low) if dt.is_complex else low)  # U = L^H


def eigh(x: Any, /) -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix; only the
    lower triangle is read. Eigenvectors are defined up to sign (and, for a repeated
    eigenvalue, up to a rotation of its eigenspace): differentiate functions that do not
    depend on that choice."""
    a, dt = _matrices("eigh", x)
    packed = _op("eigh", a)
    return EighResult(_real_as(packed[..., 0, :], dt), _as(packed[..., 1:, :], dt))


def eigvalsh(x: Any, /) -> Tensor:
    """The eigenvalues (ascending) of each symmetric matrix (a composition of :func:`eigh`)."""
    return eigh(x).eigenvalues


def qr(x: Any, /, *, mode: str = "reduced") -> QRResult:
    """The QR decomposition of each matrix (m x n, k = min(m, n)): ``mode="reduced"`` gives
    Q (m, k), R (k, n); ``"complete"`` Q (m, m), R (m, n). Differentiable for every shape
    in reduced mode; in complete mode with m > n, Q's last m - n columns have no gradient
    (a cotangent on them raises :class:`InvalidArgumentError`)."""
    if mode not in ("reduced", "complete"):
        raise InvalidArgumentError(f"linalg.qr: mode must be 'reduced' or 'complete', got {mode!r}")
    a, dt = _matrices("qr", x, square=False)
    m = a.shape[-2]
    packed = _op("qr", a, mode=mode)
    return QRResult(_as(matrix_transpose(packed[..., :, :m]), dt), _as(packed[..., :, m:], dt))


def svd(x: Any, /, *, full_matrices: bool = True) -> SVDResult:
    """The singular value decomposition ``x = U @ diag(S) @ Vh`` of each matrix (m x n,
    k = min(m, n)): U (m, m), S (k,), Vh (n, n) with ``full_matrices``, else U (m, k),
    Vh (k, n). Singular vectors are defined up to sign: differentiate functions that do not
    depend on it. With ``full_matrices`` and m != n, the extra columns of U or V have no
    gradient (a cotangent on them raises :class:`InvalidArgumentError`)."""
    a, dt = _matrices("svd", x, square=False)
    m, n = a.shape[-2], a.shape[-1]
    k = min(m, n)
    full = bool(full_matrices)
    packed = _op("svd", a, full_matrices=full)
    u = packed[..., :m, :(m if full else k)]
    s = packed[..., m, :k]
    vh = matrix_transpose(packed[..., m + 1:, :(n if full else k)])
    return SVDResult(_as(u, dt), _real_as(s, dt), _as(vh, dt))


def svdvals(x: Any, /) -> Tensor:
    """The singular values (descending) of each matrix (a composition of :func:`svd`)."""
    return svd(x, full_matrices=False).S


def pinv(x: Any, /, *, rtol: float | None = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse of each matrix; singular values at most ``rtol``
    times the largest count as zero (default ``max(m, n) * eps``; an array ``rtol`` gives
    each matrix its own, broadcast against the batch shape). The gradient assumes the rank
    does not change near ``x`` (Golub and Pereyra's formula)."""
    a, dt = _matrices("pinv", x, square=False)
    if isinstance(rtol, Tensor) and rtol.ndim:
        return _as(_per_matrix_rtol("pinv", a, rtol, lambda m, r: _op("pinv", m, rtol=r)), dt)
    return _as(_op("pinv", a, rtol=_rtol("pinv", rtol)), dt)


def matrix_rank(x: Any, /, *, rtol: float | None = None) -> Tensor:
    """The rank (int64) of each matrix: its singular values above ``rtol`` times the largest
    (default ``max(m, n) * eps``; an array ``rtol`` gives each matrix its own, as
    :func:`pinv`). Not differentiable."""
    a, dt = _matrices("matrix_rank", x, square=False)
    if isinstance(rtol, Tensor) and rtol.ndim:
        return _per_matrix_rtol("matrix_rank", a, rtol,
                                lambda m, r: _op("matrix_rank", m, rtol=r))
    tol = _rtol("matrix_rank", rtol)
    if tol is None and dt in _HALF:  # the input's rounding, not float32's, decides what is zero
        tol = max(a.shape[-2], a.shape[-1]) * float(finfo(dt).eps)
    return _op("matrix_rank", a, rtol=tol)


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Tensor:  # noqa: A002
    """A norm of each matrix: ``"fro"`` (Frobenius), ``"nuc"`` (sum of singular values), 2 / -2
    (largest / smallest singular value), 1 / -1 (largest / smallest absolute column sum),
    ``inf`` / ``-inf`` (row sums). ``keepdims`` keeps the two matrix axes as size 1. Complex
    input gives a real norm (the singular-value ones have no derivative there, as
    :func:`svd`)."""
    a, dt = _matrices("matrix_norm", x, square=False)
    nd = a.ndim
    if ord in ("fro", 1, -1, np.inf, -np.inf) and not isinstance(ord, bool):
        if dt.is_complex:  # these norms only see the entries' moduli
            a, dt = absolute(a), real_of(dt)
        out = norm(a, ord=ord, axis=(nd - 2, nd - 1), keepdims=keepdims)
    elif ord in ("nuc", 2, -2) and not isinstance(ord, bool):
        s, dt = svdvals(a), real_of(dt)
        pick = {"nuc": reductions.sum, 2: reductions.max, -2: reductions.min}[ord]
        out = pick(s, axis=-1)
        if keepdims:
            out = reshape(out, tuple(out.shape) + (1, 1))
    else:
        raise InvalidArgumentError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, "
                                   f"inf or -inf, got {ord!r}")
    return _as(out, dt)


def vector_norm(x: Any, /, *, axis: int | Sequence[int] | None = None, keepdims: bool = False,
                ord: Any = 2) -> Tensor:  # noqa: A002
    """The vector norm over ``axis`` (all axes when None; a tuple of axes is treated as one
    flattened vector): ``ord`` 2 (default), 1, ``inf``, ``-inf``, 0 (the count of non-zeros),
    or any other number p (``sum(|x|**p)**(1/p)``, negative p included). The gradient of a
    p-norm at zero is 0 (see :func:`polytape.norm`)."""
    x = unary_operand(x)
    if x.dtype.is_complex:  # a norm of complex numbers is one of their moduli (float64 for complex128)
        x = absolute(x)
    elif not x.dtype.is_floating:
        x = cast(x, float32)
    if isinstance(ord, (str, bool)) or ord is None:
        raise InvalidArgumentError(f"linalg.vector_norm: ord must be a number, inf or -inf, got {ord!r}")
    axes = normalize_axis(axis, x.ndim, "linalg.vector_norm")
    axes = tuple(range(x.ndim)) if axes is None else tuple(axes)
    keep = tuple(i for i in range(x.ndim) if i not in axes)
    flat = reshape(_permuted(x, keep + axes),
                   tuple(x.shape[i] for i in keep) + (math.prod(x.shape[i] for i in axes),))
    p = number("linalg.vector_norm", "ord", ord)
    if p < 0 and p != -np.inf:
        out = reductions.sum(absolute(flat) ** p, axis=-1) ** (1.0 / p)
    else:
        out = norm(flat, ord=ord, axis=-1)
    if keepdims:
        out = reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
    return out


def matrix_power(x: Any, n: int, /) -> Tensor:
    """``x`` multiplied by itself ``n`` times (the identity for 0, powers of ``inv(x)`` for
    negative ``n``), by repeated squaring."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ArgumentTypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    a = unary_operand(x)
    _matrices("matrix_power", a)  # the checks; integer powers of integer matrices stay integers
    n = int(n)
    if n == 0:
        ident = eye(a.shape[-1], dtype=a.dtype, backend=a.backend, device=a.device)
        return broadcast_to(ident, tuple(a.shape))
    if n < 0:
        a, n = inv(a), -n
    out = None
    while n:
        if n & 1:
            out = a if out is None else matmul(out, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return out


def diagonal(x: Any, /, *, offset: int = 0) -> Tensor:
    """The diagonal ``offset`` (0 the main one, > 0 above it) of each matrix, as (..., L)."""
    x = unary_operand(x)
    if x.ndim < 2:
        raise ShapeError(f"linalg.diagonal: needs at least 2 dimensions, got shape {x.shape}")
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)):
        raise ArgumentTypeError(f"linalg.diagonal: offset must be an int, got {type(offset).__name__}")
    m, n = x.shape[-2], x.shape[-1]
    first_row = max(0, -int(offset))
    length = max(0, min(m - first_row, n - first_row - int(offset)))
    flat = reshape(x, tuple(x.shape[:-2]) + (m * n,))
    if length == 0:
        return flat[..., :0]
    index = [(first_row + i) * n + first_row + i + int(offset) for i in range(length)]
    return take(flat, index, axis=flat.ndim - 1)


def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Tensor:
    """The sum of diagonal ``offset`` of each matrix; ``dtype`` as :func:`polytape.sum`
    (integers narrower than 32 bits sum in int32, unsigned ones in uint32)."""
    return reductions.sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


def outer(x1: Any, x2: Any, /) -> Tensor:
    """The outer product of two vectors: (n,) and (m,) give (n, m)."""
    x1, x2 = unary_operand(x1), unary_operand(x2)
    if x1.ndim != 1 or x2.ndim != 1:
        raise ShapeError(f"linalg.outer: needs two vectors, got shapes {x1.shape} and {x2.shape}")
    return expand_dims(x1, 1) * expand_dims(x2, 0)


def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``axis`` (the other axes broadcast)."""
    x1, x2 = unary_operand(x1), unary_operand(x2)
    shape = broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    ax = one_axis("linalg.cross", axis, len(shape))
    if shape[ax] != 3 or x1.shape[ax - len(shape) + x1.ndim] != 3 \
            or x2.shape[ax - len(shape) + x2.ndim] != 3:
        raise ShapeError(f"linalg.cross: needs size 3 along axis {axis}, got shapes {x1.shape} "
                         f"and {x2.shape}")
    x1, x2 = broadcast_to(x1, shape), broadcast_to(x2, shape)

    def part(t: Tensor, i: int) -> Tensor:
        return t[(slice(None),) * ax + (slice(i, i + 1),)]

    a, b = [part(x1, i) for i in range(3)], [part(x2, i) for i in range(3)]
    return concat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                   a[0] * b[1] - a[1] * b[0]], axis=ax)
