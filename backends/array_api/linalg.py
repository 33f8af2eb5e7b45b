"""Kernels of the Array API ``linalg`` extension, from ``xp.linalg``.

polytape's decompositions are one op each with one output array that packs every result
(the layout is documented where the ops are declared, :mod:`polytape.derivatives`), so
these kernels call the standard's function and pack what it returns:

* ``slogdet`` (..., 2): ``[sign, logabsdet]``;
* ``eigh`` (..., n+1, n): the eigenvalues as a first row above the eigenvectors;
* ``qr`` (..., k, m+n): ``[Q^T | R]``;
* ``svd`` (..., m+1+n, p): ``U`` above ``S`` above ``V = Vh^T``, each ``p`` columns wide
  (``p = min(m, n)``, or ``max(m, n)`` with ``full_matrices``; narrower blocks padded with 0).

A library's own linear-algebra error (NumPy's and PyTorch's ``LinAlgError``: a singular
matrix, one that is not positive definite) is raised as a ``ValueError``, which polytape
reports as :class:`polytape.InvalidArgumentError` whatever the backend.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from array_api_compat import device as device_of

__all__ = ["linalg_kernels"]


def _checked(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        # numpy.linalg.LinAlgError is a ValueError, torch's (torch._C._LinAlgError) a RuntimeError
        if any(c.__name__.endswith("LinAlgError") for c in type(exc).__mro__):
            raise ValueError(str(exc)) from exc
        raise


def _pad_columns(xp: Any, a: Any, width: int) -> Any:
    missing = width - a.shape[-1]
    if missing <= 0:
        return a
    zeros = xp.zeros(a.shape[:-1] + (missing,), dtype=a.dtype, device=device_of(a))
    return xp.concat([a, zeros], axis=-1)


def _slogdet(xp: Any, x: Any) -> Any:
    sign, logabsdet = _checked(xp.linalg.slogdet, x)
    return xp.stack([sign, logabsdet], axis=-1)


def _eigh(xp: Any, x: Any) -> Any:
    w, v = _checked(xp.linalg.eigh, x)
    return xp.concat([xp.expand_dims(w, axis=-2), v], axis=-2)


def _qr(xp: Any, x: Any, mode: str = "reduced") -> Any:
    q, r = _checked(xp.linalg.qr, x, mode=mode)
    return xp.concat([xp.matrix_transpose(q), r], axis=-1)


def _svd(xp: Any, x: Any, full_matrices: bool = True) -> Any:
    u, s, vh = _checked(xp.linalg.svd, x, full_matrices=full_matrices)
    m, n = x.shape[-2], x.shape[-1]
    width = max(m, n) if full_matrices else min(m, n)
    parts = (u, xp.expand_dims(s, axis=-2), xp.matrix_transpose(vh))
    return xp.concat([_pad_columns(xp, p, width) for p in parts], axis=-2)


def _pinv(xp: Any, x: Any, rtol: Any = None) -> Any:
    return _checked(xp.linalg.pinv, x, rtol=rtol)


def _matrix_rank(xp: Any, x: Any, rtol: Any = None) -> Any:
    out = _checked(xp.linalg.matrix_rank, x, rtol=rtol)
    return out if out.dtype == xp.int64 else xp.astype(out, xp.int64)


def linalg_kernels(xp: Any) -> dict[str, Callable[..., Any]]:
    """The linalg op kernels for namespace ``xp`` (empty if it has no ``linalg`` extension:
    such a backend lacks these ops, and the registry names them when it checks the backend)."""
    la = getattr(xp, "linalg", None)
    if la is None:
        return {}
    return {
        "inv": partial(_checked, la.inv), "det": partial(_checked, la.det),
        "solve": partial(_checked, la.solve), "cholesky": partial(_checked, la.cholesky),
        "slogdet": partial(_slogdet, xp), "eigh": partial(_eigh, xp), "qr": partial(_qr, xp),
        "svd": partial(_svd, xp), "pinv": partial(_pinv, xp),
        "matrix_rank": partial(_matrix_rank, xp),
    }
