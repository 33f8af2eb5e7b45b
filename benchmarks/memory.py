"""Peak memory of big_chain's backward pass, polytape vs the hand-written NumPy version.

:mod:`tracemalloc` sees NumPy's array allocations (NumPy reports them to it),
so it measures the NumPy backend and the hand-written code alike; PyTorch's
allocator is invisible to it, so the torch backend is not measured here.

Four numbers per implementation, in bytes above what was allocated before the
forward pass (the input itself is made before and not counted):

* ``forward_held``: held when the forward pass ends (what was saved for the backward);
* ``backward_peak``: the most held at any moment of the backward pass (saved values included);
* ``backward_working``: ``backward_peak - forward_held``, what the backward itself adds;
* ``retained``: held after the backward, less the gradient it returned (and, for
  polytape, once the user drops the forward's outputs): a non-persistent tape
  must hold nothing.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from .workloads import big_chain

__all__ = ["measure"]


def _traced() -> int:
    return tracemalloc.get_traced_memory()[0]


def _measure(forward: Callable[[], Any], backward: Callable[[Any], Any],
             drop: Callable[[Any], None]) -> dict[str, int]:
    gc.collect()
    tracemalloc.start()
    try:
        base = _traced()
        state = forward()
        held = _traced() - base
        tracemalloc.reset_peak()
        grad = backward(state)
        peak = tracemalloc.get_traced_memory()[1] - base
        drop(state)
        del state
        gc.collect()
        retained = _traced() - base - int(np.asarray(grad).nbytes)
    finally:
        tracemalloc.stop()
    return {"forward_held": held, "backward_peak": peak, "backward_working": peak - held,
            "retained": retained}


def _polytape(backend: str) -> dict[str, int]:
    import polytape as pt

    x = pt.constant(big_chain.x0(), backend=backend)

    def forward() -> dict[str, Any]:
        with pt.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _ in range(big_chain.STEPS):
                y = pt.sin(y) * 1.01
            s = pt.sum(y)
        return {"tape": tape, "s": s, "y": y}

    def backward(state: dict[str, Any]) -> Any:
        return state["tape"].gradient(state["s"], x).numpy()

    def drop(state: dict[str, Any]) -> None:
        state.pop("y")   # the user's own reference to the output
        state.pop("s")   # the tape itself stays alive: it must hold nothing any more

    return _measure(forward, backward, drop)


def _hand_written() -> dict[str, int]:
    x = big_chain.x0()
    return _measure(lambda: big_chain.manual_forward(x),
                    lambda state: big_chain.manual_backward(*state),
                    lambda state: None)


def measure(polytape_backends: list[str]) -> dict[str, Any]:
    """``{"numpy": {...}, "polytape-numpy": {...}, "ratios": {...}}`` (see the module doc)."""
    out: dict[str, Any] = {"workload": big_chain.NAME, "array_bytes": big_chain.SIZE * 4,
                           "numpy": _hand_written()}
    ratios = {}
    for be in polytape_backends:
        if be != "numpy":
            continue  # only NumPy's allocations are visible to tracemalloc
        name = f"polytape-{be}"
        out[name] = _polytape(be)
        for key in ("backward_peak", "backward_working", "forward_held"):
            ref = out["numpy"][key]
            ratios[f"{name}/numpy {key}"] = out[name][key] / ref if ref else None
    out["ratios"] = ratios
    return out
