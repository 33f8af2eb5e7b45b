"""recompute_grad really recomputes: the memory it holds between the passes (benchmarks/
recompute_memory.py, tracemalloc on the NumPy backend; bytes, not time)."""

from __future__ import annotations

from benchmarks.recompute_memory import measure


def test_recompute_grad_holds_a_fraction_of_the_activations():
    r = measure(batch=128, width=32, depth=16)
    # Plain: ~2 arrays per layer kept (matmul and tanh outputs); checkpointed: the output only.
    assert r["plain"]["forward_held"] > 16 * r["activation_bytes"]
    assert r["recompute_grad"]["forward_held"] < 3 * r["activation_bytes"]
    assert r["forward_held_ratio"] < 0.2
