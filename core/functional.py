"""Second derivatives of functions, built on forward-over-backward differentiation.

A :class:`~polytape.ForwardAccumulator` around a :class:`~polytape.GradientTape`
differentiates the tape's backward pass once more: the tangent of the gradient
along ``v`` is the Hessian-vector product ``H v``, at the cost of about two gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import nest, ops
from .control_flow import vectorized_map
from .creation import constant, zeros
from .errors import InvalidArgumentError
from .forward import ForwardAccumulator
from .tape import GradientTape
from .tensor import Tensor

__all__ = ["hessian_vector_product", "hessian"]


def _tensors(x: Any, what: str) -> list[Tensor]:
    flat = [t if isinstance(t, Tensor) else constant(t) for t in nest.flatten(x)]
    for t in flat:
        if not t.dtype.is_inexact:
            raise InvalidArgumentError(f"{what}: needs floating-point inputs, got {t.dtype}")
    return flat


def hessian_vector_product(f: Callable[..., Any], x: Any, v: Any) -> Any:
    """``H v``: the Hessian of the scalar ``f(x)`` (the sum of its output) times ``v``.

    ``x`` is a tensor or a nested list/tuple/dict of tensors (``f`` receives the same
    structure) and ``v`` has its structure; so does the result. Sources ``f`` does not
    depend on give zeros.

    >>> import polytape as pt
    >>> hvp = pt.hessian_vector_product(lambda x: pt.sum(x ** 3), pt.constant([1.0, 2.0]),
    ...                                 pt.constant([1.0, 0.0]))
    >>> hvp.numpy().tolist()
    [6.0, 0.0]
    """
    xs = _tensors(x, "hessian_vector_product")
    vs = nest.flatten(v)
    if len(vs) != len(xs):
        raise InvalidArgumentError(f"hessian_vector_product: {len(xs)} inputs but {len(vs)} "
                                   "directions; give v the structure of x")
    arg = nest.pack_as(x, xs)
    with ForwardAccumulator(xs, vs) as acc:
        with GradientTape() as tape:
            tape.watch(xs)
            y = f(arg)
        grads = tape.gradient(y, xs, unconnected_gradients="zero")
    return nest.pack_as(x, acc.jvp(grads, unconnected_gradients="zero"))


def hessian(f: Callable[[Tensor], Any], x: Any) -> Tensor:
    """The Hessian of the scalar ``f(x)`` (the sum of its output) for one tensor ``x``:
    shape ``x.shape + x.shape``, one Hessian-vector product per entry of ``x``, all run at
    once by :func:`~polytape.vectorized_map` (one batched pass when nothing records).

    >>> import polytape as pt
    >>> pt.hessian(lambda x: pt.sum(x * x), pt.constant([1.0, 2.0])).numpy().tolist()
    [[2.0, 0.0], [0.0, 2.0]]
    """
    if not isinstance(x, Tensor):
        x = constant(x)
    if not x.dtype.is_floating:
        raise InvalidArgumentError(f"hessian: needs a floating-point input, got {x.dtype}")
    n = x.size
    if n == 0:
        return zeros(x.shape + x.shape, x.dtype, backend=x._backend)
    basis = constant(np.eye(n).reshape((n, *x.shape)), dtype=x.dtype, backend=x._backend)
    # All n Hessian-vector products H e_k in one batched pass (vectorized_map).
    rows = vectorized_map(lambda v: ops.reshape(hessian_vector_product(f, x, v), (n,)), basis)
    # Row k is H e_k, i.e. column k; the Hessian of a smooth f is symmetric, and transposing keeps
    # the convention H[i, j] = d2f / dx_i dx_j even where rounding breaks the symmetry.
    return ops.reshape(ops.transpose(rows), x.shape + x.shape)
