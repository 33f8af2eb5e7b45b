"""The namespace a derivative rule computes with on the fast path: a backend's kernels.

When nothing records the backward pass, rules run straight on native arrays
through a :class:`KernelNamespace`; when an outer tape records it, they run on
tensors through :mod:`polytape.ops`. Both offer the same names and signatures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polytape.backends.base import Backend

from .dispatch import kernel_error
from .errors import PolytapeError
from .optable import OPS

__all__ = ["KernelNamespace", "kernel_namespace"]

_SCALARS = (float, int, bool)


class KernelNamespace:
    """Attribute access to one backend's kernels, plus ``zeros_like``/``ones_like``."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        kernels = backend.kernels
        for name, fn in kernels.items():
            setattr(self, name, fn)
        for name, op in OPS.items():  # operands of one dtype: Python numbers are converted first
            if op.same_dtype and name in kernels:
                setattr(self, name, _weak_scalars(kernels[name], backend))
        self.where = _where(kernels["where"], backend)
        self._zeros = kernels["zeros"]
        self._ones = kernels["ones"]
        # Rules read the zeros and ones they ask for, never write them: a backend that can
        # hand out a read-only constant view (Backend.constant_like) saves an allocation.
        has_views = type(backend).constant_like is not Backend.constant_like
        self._constant_like = backend.constant_like if has_views else None

    def zeros_like(self, x: Any) -> Any:
        """Zeros of ``x``'s shape and dtype (possibly a read-only view: rules only read them)."""
        return self._filled(0, self._zeros, x)

    def ones_like(self, x: Any) -> Any:
        """Ones of ``x``'s shape and dtype (possibly a read-only view: rules only read them)."""
        return self._filled(1, self._ones, x)

    def _filled(self, value: int, make: Callable[..., Any], x: Any) -> Any:
        if self._constant_like is not None:
            view = self._constant_like(value, x)
            if view is not None:
                return view
        return make(tuple(x.shape), x.dtype)

    def apply_op(self, name: str, *arrays: Any, **attrs: Any) -> Any:
        """Op ``name``'s kernel on ``arrays`` and ``attrs`` (as :func:`polytape.ops.apply_op`);
        a kernel's complaint about its input (a singular matrix met by a rule) is translated as
        in a forward call."""
        try:
            return self.backend.kernels[name](*arrays, **attrs)
        except PolytapeError:
            raise
        except Exception as exc:
            raise kernel_error(name, arrays, attrs, exc) from exc


def _weak_scalars(kernel: Callable[..., Any], be: Any) -> Callable[[Any, Any], Any]:
    def fn(x: Any, y: Any) -> Any:
        if type(x) in _SCALARS:
            x = be.asarray(x, be.canonical[y.dtype])
        elif type(y) in _SCALARS:
            y = be.asarray(y, be.canonical[x.dtype])
        return kernel(x, y)
    return fn


def _where(kernel: Callable[..., Any], be: Any) -> Callable[[Any, Any, Any], Any]:
    def fn(c: Any, x: Any, y: Any) -> Any:
        if type(x) in _SCALARS:
            x = be.asarray(x, be.canonical[y.dtype])
        if type(y) in _SCALARS:
            y = be.asarray(y, be.canonical[x.dtype])
        return kernel(c, x, y)
    return fn


# id(backend) -> (backend, the kernels mapping the namespace was built from, namespace); the
# entry holds both objects, so comparing them with `is` cannot be fooled by a recycled id.
_cache: dict[int, tuple[Any, Any, KernelNamespace]] = {}


# (backend, its kernels, namespace) of the last lookup: one tuple, replaced whole, so a thread
# never sees a half-updated entry.
_last: tuple[Any, Any, Any] = (None, None, None)


def kernel_namespace(backend: Any) -> KernelNamespace:
    """The (cached) :class:`KernelNamespace` of ``backend``."""
    global _last
    last = _last
    if last[0] is backend and last[1] is backend.kernels:
        return last[2]
    ns = _kernel_namespace(backend)
    _last = (backend, backend.kernels, ns)
    return ns


def _kernel_namespace(backend: Any) -> KernelNamespace:
    hit = _cache.get(id(backend))
    if hit is None or hit[0] is not backend or hit[1] is not backend.kernels:
        hit = _cache[id(backend)] = (backend, backend.kernels, KernelNamespace(backend))
    return hit[2]
