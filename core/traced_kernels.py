"""Kernel calls that run now and become op steps of the running ``pt.function`` trace.

Library code that updates state on raw kernels, outside any tape (an optimizer's update
rule), computes with a :class:`~polytape.namespaces.KernelNamespace` eagerly. Inside a
trace it computes with a :class:`TracedKernels` of the same backend instead: the same
names and calling convention, but each call also hands its op to the trace (never to a
tape or an accumulator, as the eager kernels never are), so the plan replays the update
as kernels. Operands are tensors (traced results, variables, which the trace reads),
native arrays (constants of the plan) or Python numbers (converted to the other
operand's dtype, as the eager namespace converts them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import dispatch
from .optable import OPS
from .tensor import Tensor, wrap

__all__ = ["TracedKernels"]

_SCALARS = (float, int, bool, complex)


class TracedKernels:
    """``backend``'s kernels as ops of ``trace``: ``ns.add(x, y)`` returns a tensor the trace
    knows. Only ops of the op table are available (their kernels are what a plan calls)."""

    def __init__(self, trace: Any, backend: Any) -> None:
        self.trace = trace
        self.backend = backend

    def __getattr__(self, name: str) -> Callable[..., Tensor]:
        op = OPS.get(name)
        if op is None or name not in self.backend.kernels:
            raise AttributeError(f"TracedKernels has no op {name!r}")
        fn = self._op_function(op)
        setattr(self, name, fn)  # looked up once per namespace
        return fn

    def _op_function(self, op: Any) -> Callable[..., Tensor]:
        trace, be = self.trace, self.backend
        kernel = be.kernels[op.name]

        def fn(*xs: Any, **attrs: Any) -> Tensor:
            arrays = [x._data if isinstance(x, Tensor) else x for x in xs]
            inputs = list(xs)
            if any(type(x) in _SCALARS for x in xs):
                # A Python number takes the dtype of the array beside it (the weak-scalar
                # rule of the eager namespace), and is a constant of the plan.
                k = next(i for i, x in enumerate(xs) if type(x) not in _SCALARS)
                for i, x in enumerate(xs):
                    if type(x) in _SCALARS:
                        arrays[k], arrays[i] = dispatch.with_scalar(be, arrays[k], x)
                        inputs[i] = arrays[i]
            out = wrap(kernel(*arrays, **attrs), be)
            trace.op(op, tuple(inputs), tuple(arrays), out, attrs or None)
            return out
        fn.__name__ = op.name
        return fn
