"""The workloads, one module each, in the order the table lists them.

A workload module defines ``NAME``, ``DESCRIPTION``, ``RTOL`` (how closely every
implementation's result must match the hand-written NumPy one before it is
timed) and one builder per kind of implementation -- ``polytape(backend)``,
``torch()``, ``autograd()``, ``tensorflow()``, ``numpy()`` -- each returning a
zero-argument function that runs the workload once and returns its result.
A module may also define ``variant(impl)``: a note on how that implementation
does the work when there is a choice (which optimizer, which HVP method).
"""

from __future__ import annotations

from types import ModuleType

from . import (
    big_chain,
    chain100,
    conv2d_step,
    hvp,
    jacobian,
    mlp_step,
    poly1000,
    scalar_grad,
    scalar_grad_new_variable,
    sgd_poly1000,
)

__all__ = ["WORKLOADS", "by_name"]

WORKLOADS: tuple[ModuleType, ...] = (scalar_grad, chain100, mlp_step, poly1000, big_chain,
                                     jacobian, hvp, conv2d_step, scalar_grad_new_variable,
                                     sgd_poly1000)


def by_name(name: str) -> ModuleType:
    """The workload module called ``name`` (``ValueError`` listing the names otherwise)."""
    for w in WORKLOADS:
        if w.NAME == name:
            return w
    raise ValueError(f"no workload {name!r}; the workloads are "
                     f"{', '.join(w.NAME for w in WORKLOADS)}")
