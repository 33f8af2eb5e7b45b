"""``python -m benchmarks [--quick] [--only NAME ...] [--output FILE]``: run, print, write JSON."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import harness, machine, memory, report, targets
from .implementations import FLOOR, Implementation, discover
from .workloads import WORKLOADS, by_name

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"
FULL = {"repetitions": 31, "sample_s": 0.05, "warmup": 2, "settle_s": 0.05}
QUICK = {"repetitions": 3, "sample_s": 0.005, "warmup": 1, "settle_s": 0.0}


def _as_numpy(result: Any) -> np.ndarray:
    if hasattr(result, "detach"):          # a torch tensor
        result = result.detach().cpu()
    if hasattr(result, "numpy"):           # polytape, torch and TensorFlow tensors
        result = result.numpy()
    return np.asarray(result, dtype=np.float64)


def _mismatch(got: np.ndarray, ref: np.ndarray, rtol: float) -> str | None:
    if got.size != ref.size:
        return f"result has shape {got.shape}, the hand-written one {ref.shape}"
    got = got.reshape(ref.shape)
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    err = float(np.max(np.abs(got - ref))) if ref.size else 0.0
    if not np.isfinite(err) or err > rtol * max(scale, 1e-30):
        return f"result differs from the hand-written NumPy one (max abs error {err:.3g}, " \
               f"allowed {rtol * scale:.3g})"
    return None


def _build(workload: Any, impl: Implementation) -> Any:
    builder = getattr(workload, impl.kind)
    return builder(impl.backend) if impl.is_polytape else builder()


def run_workload(workload: Any, impls: list[Implementation], settings: dict[str, Any]) -> dict:
    """Check every implementation against the floor, then time them interleaved."""
    fns, errors, unavailable, variants = {}, {}, {}, {}
    reference = None
    floor_first = sorted(impls, key=lambda i: i.name != FLOOR)
    for impl in floor_first:
        if not impl.available:
            unavailable[impl.name] = impl.reason
            continue
        if not hasattr(workload, impl.kind):
            unavailable[impl.name] = f"{workload.NAME} has no {impl.kind} variant"
            continue
        try:
            fn = _build(workload, impl)
            got = _as_numpy(fn())
        except Exception as exc:  # one broken implementation must not stop the others
            errors[impl.name] = f"{type(exc).__name__}: {exc}"
            continue
        if impl.name == FLOOR:
            reference = got
        elif reference is not None:
            problem = _mismatch(got, reference, workload.RTOL)
            if problem:
                errors[impl.name] = problem
                continue
        fns[impl.name] = fn
        if hasattr(workload, "variant"):
            variants[impl.name] = workload.variant(impl)
    order = [i.name for i in impls if i.name in fns]
    timings = harness.interleaved({n: fns[n] for n in order}, settings["repetitions"],
                                  settings["sample_s"], settings["warmup"], settings["settle_s"])
    medians = {n: t["median_s"] for n, t in timings.items()}
    ratios = {}
    for p in (n for n in order if n.startswith("polytape-")):
        for peer in (n for n in order if not n.startswith("polytape-")):
            if p.startswith("polytape-torch") and peer != "torch":
                continue  # the torch backend is compared with native torch only
            ratios[f"{p}/{peer}"] = medians[p] / medians[peer]
    return {"description": workload.DESCRIPTION, "medians_s": medians,
            "min_s": {n: t["min_s"] for n, t in timings.items()},
            "calls_per_sample": {n: t["number"] for n, t in timings.items()},
            "samples_s": {n: t["samples_s"] for n, t in timings.items()},
            "ratios": ratios, "variants": variants, "errors": errors, "unavailable": unavailable}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repetitions (a smoke run)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this workload (repeatable): "
                             + ", ".join(w.NAME for w in WORKLOADS))
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"where to write the JSON results (default {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    try:
        selected = [by_name(n) for n in args.only] if args.only else list(WORKLOADS)
    except ValueError as exc:
        parser.error(str(exc))
    settings = QUICK if args.quick else FULL
    started = time.perf_counter()

    impls = discover()
    results: dict[str, Any] = {
        "schema": 1,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "options": {"quick": args.quick, "only": args.only, **settings},
        "machine": machine.describe(),
        "implementations": {i.name: {"available": i.available, "version": i.version,
                                     "reason": i.reason} for i in impls},
        "workloads": {},
        "memory": None,
    }
    for w in selected:
        print(f"running {w.NAME} ...", file=sys.stderr, flush=True)
        results["workloads"][w.NAME] = run_workload(w, impls, settings)
    if any(w.NAME == "big_chain" for w in selected):
        print("measuring memory ...", file=sys.stderr, flush=True)
        results["memory"] = memory.measure([i.backend for i in impls
                                            if i.kind == "polytape" and i.available])
    results["targets"] = targets.evaluate(results["workloads"], results["memory"])
    results["seconds"] = time.perf_counter() - started

    print(report.format_report(results))
    print(f"\n(total {results['seconds']:.0f} s; results written to {args.output})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
