"""Backends from any namespace that implements the Python Array API standard.

``kernels.py`` is the one kernel table every backend starts from (:func:`make_kernels`),
``backend.py`` the generic :class:`ArrayAPIBackend` that makes a standard namespace a
polytape backend; ``indexing.py``, ``einsum.py`` and ``special.py`` build NumPy-style
indexing, ``einsum`` and ``erf`` from standard functions, for libraries without them.
"""

from .backend import ArrayAPIBackend
from .kernels import make_kernels

__all__ = ["ArrayAPIBackend", "make_kernels"]
