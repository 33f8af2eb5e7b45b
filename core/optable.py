"""The op table: every op polytape knows, declared once with its derivative rules.

An :class:`Op` carries its name (which is also its kernel's name on every
backend), one VJP rule per differentiable input, one JVP rule, and optionally a
``default_kernel`` composed from other kernels so a backend need not supply it.
The declarations themselves live in :mod:`polytape.derivatives`.

Rules take a *namespace* first: ``polytape.ops`` when an outer tape must record
the backward pass (higher-order derivatives), or a backend's raw kernels when
nothing records it (the fast path). One rule serves both::

    defop("sin", vjp=lambda ns, g, ans, x: g * ns.cos(x),
                 jvp=lambda ns, t, ans, x: t * ns.cos(x))

Python operators (``+ - * / ** > ==``) work the same on polytape tensors and
on native arrays, so rules may use them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Op", "OPS", "defop", "required_kernels", "CREATION_KERNELS"]

VJP = Callable[..., Any]


class Op:
    """One entry of the op table.

    ``vjps[i](ns, g, ans, *inputs, **attrs)`` is the cotangent of input ``i``
    (``None`` for an input that has no gradient); ``jvps[i](ns, t, ans, *inputs,
    **attrs)`` is input ``i``'s contribution to the output tangent when that
    input has tangent ``t`` (contributions of several inputs add up). ``differentiable=False`` ops are
    never recorded: their gradients are ``None``. A ``variadic`` op (concat,
    stack) has one rule called with ``argnum=i`` for each input.
    """

    __slots__ = ("name", "vjps", "jvps", "default_kernel", "differentiable", "variadic", "doc")

    def __init__(self, name: str, vjps: tuple[VJP | None, ...], jvps: tuple[VJP | None, ...],
                 default_kernel: Callable[..., Any] | None, differentiable: bool,
                 variadic: bool = False, doc: str = "") -> None:
        self.name = name
        self.variadic = variadic
        self.vjps = vjps
        self.jvps = jvps
        self.default_kernel = default_kernel
        self.differentiable = differentiable
        self.doc = doc

    def __repr__(self) -> str:
        return f"<Op {self.name}>"


OPS: dict[str, Op] = {}

# Kernels a backend supplies that are not ops (they make arrays, they do not transform them).
CREATION_KERNELS = frozenset({"zeros", "ones", "full", "astype"})


def defop(name: str, vjp: VJP | Sequence[VJP | None] | None = None,
          jvp: VJP | Sequence[VJP | None] | None = None,
          *, default_kernel: Callable[..., Any] | None = None,
          differentiable: bool = True, variadic: bool = False, doc: str = "") -> Op:
    """Declare (or redeclare) op ``name`` and return it.

    ``vjp`` and ``jvp`` are one rule (single-input ops) or a sequence with one
    rule per input. A differentiable op declared without ``vjp`` is an error.
    """
    if vjp is None:
        vjps: tuple[VJP | None, ...] = ()
        if differentiable:
            raise ValueError(f"op {name!r} needs a vjp rule or differentiable=False")
    elif callable(vjp):
        vjps = (vjp,)
    else:
        vjps = tuple(vjp)
    jvps = () if jvp is None else ((jvp,) if callable(jvp) else tuple(jvp))
    op = Op(name, vjps, jvps, default_kernel, differentiable, variadic, doc)
    OPS[name] = op
    return op


def required_kernels() -> frozenset[str]:
    """Kernel names every backend must provide: ops without a default kernel, plus creation."""
    return frozenset(n for n, op in OPS.items() if op.default_kernel is None) | CREATION_KERNELS
