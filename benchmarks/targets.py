"""The performance targets (docs/architecture.md, *Performance budget*), each a ratio of two
medians measured in the same run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TARGETS", "evaluate"]


@dataclass(frozen=True)
class Target:
    """``numerator / denominator`` (median times of one workload) must be at most ``limit``."""

    text: str
    workload: str
    numerator: str
    denominator: str
    limit: float


TARGETS = (
    Target("chain100: NumPy backend at most PyTorch autograd's time",
           "chain100", "polytape-numpy", "torch", 1.0),
    Target("chain100: at least 5x faster than TensorFlow eager",
           "chain100", "polytape-numpy", "tensorflow", 0.2),
    Target("scalar_grad: at most half of PyTorch's time",
           "scalar_grad", "polytape-numpy", "torch", 0.5),
    Target("mlp_step: NumPy backend at most 1.15x hand-written NumPy",
           "mlp_step", "polytape-numpy", "numpy", 1.15),
    Target("mlp_step: torch backend at most 1.2x native PyTorch",
           "mlp_step", "polytape-torch", "torch", 1.2),
    Target("poly1000: at most PyTorch's time",
           "poly1000", "polytape-numpy", "torch", 1.0),
    Target("conv2d_step: NumPy backend at most 1.3x hand-written NumPy",
           "conv2d_step", "polytape-numpy", "numpy", 1.3),
    # Issue 17: pt.function near the NumPy floor, at or below tf.function and jax.jit.
    Target("chain100 under pt.function: at most 1.5x hand-written NumPy",
           "chain100", "polytape-numpy-fn", "numpy", 1.5),
    Target("scalar_grad under pt.function: at most 3x hand-written NumPy",
           "scalar_grad", "polytape-numpy-fn", "numpy", 3.0),
    Target("poly1000 under pt.function: at most 2x hand-written NumPy",
           "poly1000", "polytape-numpy-fn", "numpy", 2.0),
    Target("mlp_step under pt.function: at most 1.05x hand-written NumPy",
           "mlp_step", "polytape-numpy-fn", "numpy", 1.05),
    Target("chain100 under pt.function: at most tf.function's time",
           "chain100", "polytape-numpy-fn", "tf.function", 1.0),
    Target("chain100 under pt.function: at most jax.jit's time",
           "chain100", "polytape-numpy-fn", "jax.jit", 1.0),
    Target("scalar_grad under pt.function: at most tf.function's time",
           "scalar_grad", "polytape-numpy-fn", "tf.function", 1.0),
    Target("scalar_grad under pt.function: at most jax.jit's time",
           "scalar_grad", "polytape-numpy-fn", "jax.jit", 1.0),
    Target("jacobian (vectorized): NumPy backend at most half of PyTorch's (vectorize=True)",
           "jacobian", "polytape-numpy", "torch", 0.5),
    Target("hvp: NumPy backend at most PyTorch's time",
           "hvp", "polytape-numpy", "torch", 1.0),
    # Eager, in the shapes real loops take.
    Target("scalar_grad_new_variable: creating the Variable included, at most half of PyTorch's",
           "scalar_grad_new_variable", "polytape-numpy", "torch", 0.5),
    Target("sgd_poly1000: 1000 steps of assign_sub(lr * grad) at most PyTorch's time",
           "sgd_poly1000", "polytape-numpy", "torch", 1.0),
    # The torch bridge costs at most a tenth over native PyTorch, whatever the workload.
    *(Target(f"{w}: torch backend within 1.1x native PyTorch", w, "polytape-torch", "torch", 1.1)
      for w in ("scalar_grad", "chain100", "mlp_step", "poly1000", "big_chain", "jacobian", "hvp",
                "scalar_grad_new_variable", "sgd_poly1000")),
)
# big_chain's backward pass: its peak with the saved values, and its own allocations.
MEMORY_LIMITS = {"backward_peak": 1.2, "backward_working": 1.5}


def evaluate(workloads: dict[str, Any], memory: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One entry per target: the measured ratio, the limit, whether it holds (None: not measured)."""
    out = []
    for t in TARGETS:
        entry: dict[str, Any] = {"target": t.text, "ratio": None, "limit": t.limit, "holds": None,
                                 "ratio_of": f"{t.numerator} / {t.denominator}"}
        w = workloads.get(t.workload)
        if w is None:
            entry["note"] = f"{t.workload} was not run"
        else:
            medians = w["medians_s"]
            missing = [n for n in (t.numerator, t.denominator) if n not in medians]
            if missing:
                entry["note"] = ", ".join(
                    f"{n} {'unavailable' if n in w['unavailable'] else 'failed'}" for n in missing)
                entry["why"] = {n: w["unavailable"].get(n) or w["errors"].get(n) or "not run"
                                for n in missing}
            else:
                r = medians[t.numerator] / medians[t.denominator]
                entry.update(ratio=r, holds=r <= t.limit)
        out.append(entry)
    # The strict reading: the most memory held at any moment of the backward pass, what the
    # forward saved for it included. The second row is the backward's own allocations.
    for key, text in (("backward_peak", "memory: big_chain backward peak (saved values included) "
                                        "at most 1.2x hand-written"),
                      ("backward_working", "memory: big_chain backward's own allocations "
                                           "at most 1.5x hand-written")):
        limit = MEMORY_LIMITS[key]
        entry = {"target": text, "ratio": None, "limit": limit, "holds": None,
                 "ratio_of": f"polytape-numpy / numpy {key}"}
        if memory is None:
            entry["note"] = "big_chain was not run"
        else:
            r = memory["ratios"].get(f"polytape-numpy/numpy {key}")
            entry.update(ratio=r, holds=None if r is None else r <= limit)
        out.append(entry)
    if memory is not None and "polytape-numpy" in memory:
        retained = memory["polytape-numpy"]["retained"]
        out.append({"target": "memory: a non-persistent tape holds nothing after gradient",
                    "ratio": None, "limit": None, "retained_bytes": retained,
                    "ratio_of": "bytes still held (beyond the gradient)",
                    "holds": retained < memory["array_bytes"] // 2})
    return out
