"""The CuPy backend's kernels: the shared Array API table on ``array_api_compat.cupy``,
plus the kernels CuPy runs natively with NumPy's API (fancy indexing, ``einsum``, ``pad``),
``cupyx.scatter_add`` for accumulating index updates and ``cupyx.scipy.special.erf``.

Importing this module does not import cupy: the backend hands the modules in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polytape.backends.array_api.kernels import make_kernels as array_api_kernels
from polytape.backends.numpy.kernels import ndarray_kernels

__all__ = ["make_kernels"]


def make_kernels(xp: Any, cupy: Any, cupyx: Any) -> dict[str, Callable[..., Any]]:
    """The op-name -> kernel mapping on the standard namespace ``xp`` (array-api-compat's
    view of ``cupy``), with ``cupy``'s own API and ``cupyx`` where they are faster."""
    return {**array_api_kernels(xp),
            **ndarray_kernels(cupy, scatter_add=cupyx.scatter_add, erf=cupyx.scipy.special.erf)}
