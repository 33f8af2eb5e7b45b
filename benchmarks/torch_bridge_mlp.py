"""One MLP training step on polytape's torch backend vs the same step in native torch autograd.

The step: batch 256, layers 784-512-512-10, float32, ReLU, softmax cross-entropy
written with ops (max-shifted log-sum-exp), plain SGD (``assign_sub`` on
polytape, an in-place update under ``torch.no_grad`` on torch). Both sides run
the same math with the same weights in the same process, their repetitions
interleaved; the script checks they agree, then prints the median step times
and the ratio polytape / torch (the target: at most 1.2).

Run from the repository root::

    python benchmarks/torch_bridge_mlp.py [--steps 40] [--device cpu] [--threads N] [--profile]

``--profile`` adds where polytape's step spends its time (cProfile, top entries).
This is a benchmark, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time

import numpy as np
import torch

import polytape as pt

BATCH, SIZES, LR = 256, (784, 512, 512, 10), 0.01
TARGET = 1.2


def make_data(seed: int = 0) -> dict[str, np.ndarray]:
    """Weights (He-scaled), a batch of inputs and one-hot labels, as float32 NumPy arrays."""
    rng = np.random.default_rng(seed)
    data: dict[str, np.ndarray] = {}
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        data[f"w{i}"] = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32)
        data[f"b{i}"] = np.zeros(n_out, dtype=np.float32)
    data["x"] = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    labels = rng.integers(0, SIZES[-1], BATCH)
    data["y"] = np.eye(SIZES[-1], dtype=np.float32)[labels]
    return data


class PolytapeStep:
    """The step on polytape's torch backend (torch ops as kernels, polytape's tape)."""

    def __init__(self, data: dict[str, np.ndarray], device: str) -> None:
        with pt.use_backend("torch", device=device):
            self.params = [pt.Variable(data[k]) for k in sorted(data) if k[0] in "wb"]
            self.x = pt.constant(data["x"])
            self.y = pt.constant(data["y"])
        self.backend = pt.get_backend("torch")

    def loss(self) -> pt.Tensor:
        w0, w1, w2 = self.params[3:]
        b0, b1, b2 = self.params[:3]
        h = pt.relu(self.x @ w0 + b0)
        h = pt.relu(h @ w1 + b1)
        logits = h @ w2 + b2
        z = logits - pt.stop_gradient(pt.max(logits, axis=1, keepdims=True))
        log_sum_exp = pt.log(pt.sum(pt.exp(z), axis=1))
        return pt.mean(log_sum_exp - pt.sum(self.y * z, axis=1))

    def __call__(self) -> pt.Tensor:
        with pt.GradientTape() as tape:
            loss = self.loss()
        grads = tape.gradient(loss, self.params)
        for p, g in zip(self.params, grads):
            p.assign_sub(LR * g)
        self.backend.synchronize()
        return loss


class TorchStep:
    """The same step in native torch autograd."""

    def __init__(self, data: dict[str, np.ndarray], device: str) -> None:
        dev = torch.device(device)
        self.params = [torch.tensor(data[k], device=dev, requires_grad=True)
                       for k in sorted(data) if k[0] in "wb"]
        self.x = torch.tensor(data["x"], device=dev)
        self.y = torch.tensor(data["y"], device=dev)
        self.device = dev

    def loss(self) -> torch.Tensor:
        w0, w1, w2 = self.params[3:]
        b0, b1, b2 = self.params[:3]
        h = torch.relu(self.x @ w0 + b0)
        h = torch.relu(h @ w1 + b1)
        logits = h @ w2 + b2
        z = logits - torch.amax(logits, dim=1, keepdim=True).detach()
        log_sum_exp = torch.log(torch.sum(torch.exp(z), dim=1))
        return torch.mean(log_sum_exp - torch.sum(self.y * z, dim=1))

    def __call__(self) -> torch.Tensor:
        loss = self.loss()
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p -= LR * p.grad
                p.grad = None
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return loss


def check_agreement(device: str) -> float:
    """Three steps from the same start on both sides; the largest relative weight difference."""
    data = make_data(1)
    ours, theirs = PolytapeStep(data, device), TorchStep(data, device)
    for _ in range(3):
        ours()
        theirs()
    worst = 0.0
    for p, q in zip(ours.params, theirs.params):
        a, b = p.numpy(), q.detach().cpu().numpy()
        worst = max(worst, float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-12)))
    return worst


def time_steps(steps: int, device: str) -> dict[str, list[float]]:
    """Per-step wall times of both implementations, repetitions interleaved."""
    data = make_data(0)
    runners = {"polytape-torch": PolytapeStep(data, device), "torch": TorchStep(data, device)}
    times: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(5):  # warm-up: allocator, thread pool, first-call paths
        for run in runners.values():
            run()
    for _ in range(steps):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def profile_polytape(device: str, steps: int = 20, top: int = 18) -> str:
    """cProfile's view of polytape's step, sorted by internal time."""
    step = PolytapeStep(make_data(0), device)
    step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="timed steps per implementation")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda, mps, ...)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--profile", action="store_true", help="also profile polytape's step")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}; "
          f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, float32")
    print(f"agreement after 3 SGD steps: max relative weight difference "
          f"{check_agreement(args.device):.2e}")
    times = time_steps(args.steps, args.device)
    medians = {k: statistics.median(v) for k, v in times.items()}
    for name, med in medians.items():
        print(f"{name:>15}: median {med * 1e3:8.3f} ms  (min {min(times[name]) * 1e3:.3f} ms, "
              f"{len(times[name])} steps)")
    ratio = medians["polytape-torch"] / medians["torch"]
    verdict = "meets" if ratio <= TARGET else "misses"
    print(f"ratio polytape-torch / torch: {ratio:.3f}  ({verdict} the target of {TARGET})")
    if args.profile:
        print(profile_polytape(args.device))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
