"""Training: optimisation problems converge (least squares by every optimizer, a Dense fit).

The problems are convex with a known optimum (NumPy's least-squares solution),
so "converged" is a number, not a judgement: each run must land within a small
distance of the optimum in the dtype it trains in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import polytape as pt

from .cases import ConformanceCase

__all__ = ["training_cases"]

CASES: list[ConformanceCase] = []
TRAIN_DTYPES = ("float32", "float64")


def training(fn: Callable[[str, Any], None]) -> Callable[[str, Any], None]:
    """Register ``fn`` as a training case named after it."""
    CASES.append(ConformanceCase(fn.__name__, "training", fn, dtypes=TRAIN_DTYPES,
                                 doc=(fn.__doc__ or "").strip()))
    return fn


def _problem(dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seed 004's polynomial regression: design matrix, targets, least-squares optimum."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((20, 1))
    Y = np.poly1d([1, 2, 3])(X) + 0.2 * rng.standard_normal((20, 1))
    A = np.hstack([X**2, X, np.ones_like(X)])
    return A, Y, np.linalg.lstsq(A, Y, rcond=None)[0]


def _fit(optimizer: Any, dtype: str, steps: int) -> tuple[np.ndarray, np.ndarray]:
    A, Y, best = _problem(dtype)
    x = pt.constant(A, dtype=dtype)
    y = pt.constant(Y, dtype=dtype)
    w = pt.Variable(pt.zeros((3, 1), dtype=dtype))
    for _ in range(steps):
        with pt.GradientTape() as tape:
            loss = pt.mean(pt.square(y - x @ w))
        optimizer.apply_gradients([(tape.gradient(loss, w), w)])
    if w.dtype != pt.as_dtype(dtype):
        raise AssertionError(f"training changed the variable's dtype to {w.dtype}")
    return np.asarray(w.numpy(), dtype=np.float64), best


def _converges(name: str, steps: int, **hyper: Any) -> Callable[[str, Any], None]:
    def fn(backend: str, dtype: Any) -> None:
        got, best = _fit(getattr(pt.optimizers, name)(**hyper), str(dtype), steps)
        err = float(np.max(np.abs(got - best)))
        if not err < 2e-2:
            raise AssertionError(f"{name}({hyper}) after {steps} steps: w = {got.ravel()}, "
                                 f"least squares {best.ravel()} (max error {err:.3g})")
        return err
    fn.__doc__ = f"{name} minimises seed 004's least-squares problem to its optimum."
    return fn


for _name, _steps, _hyper in (
        ("SGD", 600, {"learning_rate": 0.05, "momentum": 0.9}),
        ("Adam", 1500, {"learning_rate": 0.05}),
        ("Nadam", 1500, {"learning_rate": 0.05}),
        ("RMSprop", 1500, {"learning_rate": 0.01})):
    CASES.append(ConformanceCase(f"{_name.lower()}_converges", "training",
                                 _converges(_name, _steps, **_hyper), dtypes=TRAIN_DTYPES,
                                 tolerance=2e-2,
                                 doc=f"{_name} reaches the least-squares optimum"))


@training
def gradient_descent_by_hand(backend: str, dtype: Any) -> float:
    """Plain gradient descent written with the tape and ``assign_sub`` reaches the optimum."""
    A, Y, best = _problem(str(dtype))
    x = pt.constant(A, dtype=dtype)
    y = pt.constant(Y, dtype=dtype)
    w = pt.Variable(pt.zeros((3, 1), dtype=dtype))
    lr = 0.05
    for _ in range(1500):
        with pt.GradientTape() as tape:
            loss = pt.mean(pt.square(y - x @ w))
        w.assign_sub(lr * tape.gradient(loss, w))
    got = np.asarray(w.numpy(), dtype=np.float64)
    err = float(np.max(np.abs(got - best)))
    if not err < 2e-2:
        raise AssertionError(f"w = {got.ravel()}, least squares {best.ravel()} (error {err:.3g})")
    return err


@training
def dense_model_fit(backend: str, dtype: Any) -> None:
    """``Sequential([Dense(1)])`` fit on noise-free y = 3x - 2 learns kernel 3 and bias -2."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((64, 1))
    Y = 3 * X - 2
    model = pt.nn.Sequential([pt.nn.Dense(1)])
    model.compile(optimizer=pt.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.fit(pt.constant(X, dtype=dtype), pt.constant(Y, dtype=dtype), epochs=60,
              batch_size=16, verbose=0)
    kernel, bias = (np.asarray(v, dtype=np.float64) for v in model.layers[0].get_weights()[:2])
    if abs(kernel.reshape(()) - 3) > 1e-2 or abs(bias.reshape(()) + 2) > 1e-2:
        raise AssertionError(f"kernel {kernel.ravel()}, bias {bias.ravel()}; expected 3 and -2")


def training_cases() -> list[ConformanceCase]:
    """Every training case."""
    return list(CASES)
