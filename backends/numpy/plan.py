"""The NumPy backend's ``pt.function`` compiler: elementwise results go into dead temporaries.

A replayed plan allocates one array per op, as eager code does; for large arrays the
allocation (and the page faults of fresh memory) costs as much as the arithmetic. When an
elementwise op's input is a temporary of the plan that nothing reads afterwards, has the
result's dtype and shape, and cannot be seen through a view, the ufunc writes its result
into that input (``np.sin(a, out=a)``) instead. An array a variable was given (a write
step) or an effect saw is never reused.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["compile_plan"]


def _ufunc_of(kernel: Any) -> np.ufunc | None:
    """The ufunc a kernel calls on arrays (itself, or the one its partial binds), if any."""
    if isinstance(kernel, np.ufunc):
        return kernel
    if isinstance(kernel, functools.partial) and kernel.args and isinstance(kernel.args[0], np.ufunc):
        return kernel.args[0]
    return None


def compile_plan(plan: Any) -> Callable | None:
    """``plan`` compiled with in-place ufuncs where safe; None when there is nothing to reuse."""
    last_use = plan.last_use()
    owned: set[int] = set()    # slots holding memory only this plan's locals reference
    escaped: set[int] = set()  # slots a non-ufunc step or an effect has seen (views, captures)
    rewrite: dict[int, tuple[Callable, int | None]] = {}
    for i, step in enumerate(plan.steps):
        kind = step[0]
        if kind == "effect":
            escaped.update(ref[1] for ref in step[3] if ref[0] == "s")
            continue
        if kind == "write":  # the variable now holds the array: never an out= again
            if step[2][0] == "s":
                escaped.add(step[2][1])
            continue
        if kind != "op":
            continue
        _, op, be, refs, attrs, out = step
        ufunc = _ufunc_of(be.kernels[op.name])
        if ufunc is None or attrs or ufunc.nout != 1:
            escaped.update(ref[1] for ref in refs if ref[0] == "s")  # its result may be a view
            continue
        info = plan.info.get(out)
        if info is None or info[0] is not np.ndarray:
            continue  # 0-d results are NumPy scalars: no buffer to reuse
        owned.add(out)  # a ufunc's result is fresh memory (or, below, a dead input's)
        for k, ref in enumerate(refs):
            slot = ref[1] if ref[0] == "s" else None
            if (slot in owned and slot not in escaped and last_use.get(slot) == i
                    and plan.info.get(slot) == info):
                rewrite[i] = (ufunc, k)
                owned.discard(slot)
                break
    return plan.compile(rewrite) if rewrite else None
