"""What ``recompute_grad`` saves: memory held between the forward and the backward pass.

A block of ``depth`` tanh(x @ w) layers on a (batch, width) input is run under a tape
plainly and wrapped in ``pt.recompute_grad``; :mod:`tracemalloc` (which sees NumPy's
allocations, so the NumPy backend) measures what is held when the forward pass ends
(everything kept for the backward) and the peak of the backward pass. Run it with
``python -m benchmarks.recompute_memory``; ``tests/test_recompute_memory.py`` checks
that the checkpointed forward holds a small fraction of the plain one.
"""

from __future__ import annotations

import gc
import json
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import polytape as pt

__all__ = ["measure"]


def _block(w: Any, depth: int) -> Callable[[Any], Any]:
    def block(x: Any) -> Any:
        for _ in range(depth):
            x = pt.tanh(pt.matmul(x, w))
        return x
    return block


def _run(wrap: bool, batch: int, width: int, depth: int) -> dict[str, int]:
    rng = np.random.default_rng(0)
    with pt.use_backend("numpy"):
        w = pt.Variable(rng.standard_normal((width, width)) / np.sqrt(width))
        x = pt.constant(rng.standard_normal((batch, width)))
        block = _block(w, depth)
        fn = pt.recompute_grad(block) if wrap else block
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            with pt.GradientTape() as tape:
                loss = pt.sum(fn(x))
            held = tracemalloc.get_traced_memory()[0] - base
            tracemalloc.reset_peak()
            grad = tape.gradient(loss, w)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        del grad
    return {"forward_held": held, "backward_peak": peak}


def measure(batch: int = 256, width: int = 64, depth: int = 32) -> dict[str, Any]:
    """Bytes held after the forward pass and at the backward's peak, plain and checkpointed."""
    plain = _run(False, batch, width, depth)
    saved = _run(True, batch, width, depth)
    return {"shape": {"batch": batch, "width": width, "depth": depth},
            "activation_bytes": batch * width * 8, "plain": plain, "recompute_grad": saved,
            "forward_held_ratio": saved["forward_held"] / plain["forward_held"]}


if __name__ == "__main__":
    json.dump(measure(), sys.stdout, indent=2)
    sys.stdout.write("\n")
