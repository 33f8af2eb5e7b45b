"""``einsum`` from ``take``, ``sum``, ``permute_dims``, ``reshape`` and ``matmul``.

The Array API standard has ``tensordot`` and ``matmul`` but no ``einsum``.
polytape gives the kernel canonical subscripts (explicit output, no ellipsis),
so the contraction is planned in three steps:

1. a letter repeated inside one operand (``"ii"``) becomes one axis: its diagonal,
   gathered with ``take`` (exact, unlike multiplying by an identity mask);
2. a letter found in one operand only and not in the output is summed away;
3. operands are contracted left to right, each pair as one batched ``matmul``
   over (letters both share and still need) x (letters only the left has) x
   (letters they share and nobody needs later); the result is permuted into
   the output's order.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from array_api_compat import device

__all__ = ["einsum"]


def einsum(xp: Any, *xs: Any, subscripts: str) -> Any:
    """``numpy.einsum(subscripts, *xs)`` for canonical subscripts like ``"ij,jk->ik"``."""
    lhs, out = subscripts.split("->")
    subs = lhs.split(",")
    dtype = xs[0].dtype
    as_bool = dtype == xp.bool
    if as_bool:  # matmul has no bool loop: count, then test for nonzero
        xs = tuple(xp.astype(x, xp.int64) for x in xs)
    operands = [_diagonals(xp, x, s) for x, s in zip(xs, subs)]
    counts = Counter(c for _, s in operands for c in s)
    operands = [_sum_letters(xp, x, s, [c for c in s if counts[c] == 1 and c not in out])
                for x, s in operands]
    x, s = operands[0]
    for i in range(1, len(operands)):
        y, t = operands[i]
        later = set(out).union(*(set(u) for _, u in operands[i + 1:]))
        x, s = _contract(xp, x, s, y, t, later)
    x, s = _sum_letters(xp, x, s, [c for c in s if c not in out])
    x = xp.permute_dims(x, tuple(s.index(c) for c in out)) if s != out else x
    return x != 0 if as_bool else x


def _diagonals(xp: Any, x: Any, sub: str) -> tuple[Any, str]:
    """``x`` with every repeated letter of ``sub`` reduced to its diagonal (that letter first)."""
    while len(set(sub)) != len(sub):
        c = next(c for c in sub if sub.count(c) > 1)
        p = sub.index(c)
        q = sub.index(c, p + 1)
        n = x.shape[p]
        rest = [i for i in range(x.ndim) if i not in (p, q)]
        moved = xp.permute_dims(x, (p, q, *rest))
        flat = xp.reshape(moved, (n * n,) + tuple(x.shape[i] for i in rest))
        x = xp.take(flat, xp.arange(n, dtype=xp.int64, device=device(x)) * (n + 1), axis=0)
        sub = c + "".join(sub[i] for i in rest)
    return x, sub


def _sum_letters(xp: Any, x: Any, sub: str, letters: list[str]) -> tuple[Any, str]:
    if not letters:
        return x, sub
    axes = tuple(sub.index(c) for c in letters)
    return xp.sum(x, axis=axes, dtype=x.dtype), "".join(c for c in sub if c not in letters)


def _contract(xp: Any, x: Any, s: str, y: Any, t: str, later: set[str]) -> tuple[Any, str]:
    """The einsum of two operands that keeps the letters in ``later``."""
    x, s = _sum_letters(xp, x, s, [c for c in s if c not in t and c not in later])
    y, t = _sum_letters(xp, y, t, [c for c in t if c not in s and c not in later])
    batch = [c for c in s if c in t and c in later]
    summed = [c for c in s if c in t and c not in later]
    left = [c for c in s if c not in t]
    right = [c for c in t if c not in s]
    size = dict(zip(s, x.shape)) | dict(zip(t, y.shape))

    def block(arr: Any, sub: str, groups: list[list[str]]) -> Any:
        order = [c for g in groups for c in g]
        arr = xp.permute_dims(arr, tuple(sub.index(c) for c in order))
        return xp.reshape(arr, tuple(math.prod(size[c] for c in g) for g in groups))

    z = xp.matmul(block(x, s, [batch, left, summed]), block(y, t, [batch, summed, right]))
    letters = batch + left + right
    return xp.reshape(z, tuple(size[c] for c in letters)), "".join(letters)
