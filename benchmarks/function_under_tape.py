"""What a ``pt.function`` call costs under an outer tape: ``tape.gradient`` of a traced
function called inside ``with GradientTape()``, against the same code run eagerly and
against replaying the plan op by op through polytape's dispatch (every op recorded on the
tape: what such a call did before it was recorded as one op).

Workloads: chain100's ``y = sin(y) * 1.01`` (100 steps on 10 float32s: per-op overhead)
and a training step's shape: an MLP loss whose weights are variables read inside the
function, differentiated with respect to those variables only. Timed with the
interleaved harness; run ``python -m benchmarks.function_under_tape [--quick] [--backend
numpy torch]`` and read the ratios (time / eager time).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

import numpy as np

import polytape as pt

from . import harness

__all__ = ["variants", "main"]


def _chain(y: Any) -> Any:
    for _ in range(100):
        y = pt.sin(y) * 1.01
    return pt.sum(y)


def _mlp(w1: Any, w2: Any) -> Callable[[Any], Any]:
    def loss(x: Any) -> Any:
        h = pt.tanh(x @ w1)
        return pt.mean((h @ w2) ** 2)
    return loss


def variants(backend: str, workload: str) -> dict[str, Callable[[], Any]]:
    """``{variant: run}``: each ``run`` returns the gradients of one workload call."""
    rng = np.random.default_rng(0)
    with pt.use_backend(backend):
        if workload == "chain100":
            x = pt.constant(np.linspace(0.1, 1.0, 10, dtype=np.float32))
            body, sources = _chain, [x]
        else:
            x = pt.constant(rng.standard_normal((32, 64)).astype(np.float32))
            w1 = pt.Variable(rng.standard_normal((64, 64)).astype(np.float32) / 8)
            w2 = pt.Variable(rng.standard_normal((64, 8)).astype(np.float32) / 8)
            body, sources = _mlp(w1, w2), [w1, w2]
    traced = pt.function(body)
    traced(x)
    concrete = traced.get_concrete_function(x)

    def run(call: Callable[[Any], Any]) -> Callable[[], Any]:
        def go() -> Any:
            with pt.GradientTape() as tape:
                if workload == "chain100":
                    tape.watch(x)  # the MLP: gradients of the variables only, as in training
                y = call(x)
            return tape.gradient(y, sources)
        return go

    return {"eager": run(body), "one op": run(traced),
            "op by op": run(lambda t: concrete.run_recorded([t]))}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Time every variant per backend and workload; print and return time ratios to eager."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.function_under_tape")
    parser.add_argument("--quick", action="store_true", help="few short samples (smoke test)")
    parser.add_argument("--backend", nargs="*", default=["numpy", "torch"])
    args = parser.parse_args(argv)
    settings = ({"repetitions": 3, "sample_s": 0.005, "warmup": 1} if args.quick
                else {"repetitions": 21, "sample_s": 0.05, "warmup": 2, "settle_s": 0.02})
    results: dict[str, Any] = {}
    fns: dict[str, Callable[[], Any]] = {}
    available = {s.name for s in pt.list_backends() if s.available}
    for backend in args.backend:
        if backend not in available:
            continue
        for workload in ("chain100", "mlp"):
            vs = variants(backend, workload)
            ref = [g.numpy() for g in vs["eager"]()]
            for name, fn in vs.items():
                for got, want in zip(fn(), ref):
                    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-6)
                fns[f"{backend}/{workload}/{name}"] = fn
    timings = harness.interleaved(fns, **settings)  # every variant interleaved, in one run
    for key, t in timings.items():
        backend, workload, name = key.split("/")
        eager = timings[f"{backend}/{workload}/eager"]["median_s"]
        results.setdefault(f"{backend}/{workload}", {})[name] = {
            "median_us": t["median_s"] * 1e6, "ratio_to_eager": t["median_s"] / eager}
    for key, row in results.items():
        cells = ", ".join(f"{n} {r['median_us']:.0f} us ({r['ratio_to_eager']:.2f}x eager)"
                          for n, r in row.items())
        print(f"{key}: {cells}")
    return results


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
