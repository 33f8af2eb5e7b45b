"""Jacobians and forward mode: ``tape.jacobian``, ``tape.batch_jacobian``, ``ForwardAccumulator``.

Expected Jacobians are closed forms written in NumPy float64; per-op forward-mode
checks live with the other op cases (:mod:`polytape.conformance.op_cases`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import polytape as pt

from .cases import ConformanceCase
from .checks import assert_close

__all__ = ["jacobian_cases"]

CASES: list[ConformanceCase] = []


def jacobian_case(fn: Callable[[str, Any], None]) -> Callable[[str, Any], None]:
    """Register ``fn`` as a jacobian case named after it."""
    CASES.append(ConformanceCase(fn.__name__, "jacobian", fn, doc=(fn.__doc__ or "").strip()))
    return fn


X = np.array([0.5, -1.0, 2.0])
M = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])


@jacobian_case
def jacobian_elementwise(backend: str, dtype: Any) -> None:
    """The Jacobian of x * x is diag(2x); of sum(x**3) w.r.t. x is 3x**2 (shape target + source)."""
    x = pt.constant(X, dtype=dtype)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        s = pt.sum(x ** 3)
    assert_close(tape.jacobian(y, x), np.diag(2 * X), dtype, "gradient")
    assert_close(tape.jacobian(s, x), 3 * X**2, dtype, "gradient")


@jacobian_case
def jacobian_matrix(backend: str, dtype: Any) -> None:
    """The Jacobian of M @ x w.r.t. x is M; w.r.t. M it is e_i x^T stacked, shape (2, 2, 3)."""
    x = pt.constant(X, dtype=dtype)
    m = pt.constant(M, dtype=dtype)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch([x, m])
        y = pt.matmul(m, x)
    jx, jm = tape.jacobian(y, [x, m])
    assert_close(jx, M, dtype, "gradient")
    expected = np.zeros((2, 2, 3))
    for i in range(2):
        expected[i, i, :] = X
    assert_close(jm, expected, dtype, "gradient")


@jacobian_case
def jacobian_unconnected(backend: str, dtype: Any) -> None:
    """An unconnected source gives None, or zeros of shape target + source with "zero"."""
    x = pt.constant(X, dtype=dtype)
    other = pt.constant([1.0, 2.0], dtype=dtype)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch([x, other])
        y = x * 2.0
    if tape.jacobian(y, other) is not None:
        raise AssertionError("the Jacobian w.r.t. an unconnected source is not None")
    assert_close(tape.jacobian(y, other, unconnected_gradients="zero"), np.zeros((3, 2)), dtype)


@jacobian_case
def batch_jacobian(backend: str, dtype: Any) -> None:
    """batch_jacobian of y[b] = W @ x[b] (tanh) is W * (1 - tanh^2) per example."""
    xs = np.array([[0.5, -1.0, 0.25], [1.0, 0.0, -0.5]])
    w = pt.constant(M, dtype=dtype)
    x = pt.constant(xs, dtype=dtype)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = pt.tanh(pt.matmul(x, pt.transpose(w)))
    jac = tape.batch_jacobian(y, x)
    pre = xs @ M.T
    expected = np.stack([(1 - np.tanh(pre[b]) ** 2)[:, None] * M for b in range(2)])
    assert_close(jac, expected, dtype, "gradient")


@jacobian_case
def forward_accumulator(backend: str, dtype: Any) -> None:
    """``ForwardAccumulator(x, v)``: the JVP of sin(x) * x is (cos(x) x + sin(x)) v."""
    v = np.array([1.0, 0.5, -2.0])
    x = pt.constant(X, dtype=dtype)
    with pt.ForwardAccumulator(x, pt.constant(v, dtype=dtype)) as acc:
        y = pt.sin(x) * x
    expected = (np.cos(X) * X + np.sin(X)) * v
    assert_close(acc.jvp(y), expected, dtype, "gradient")


@jacobian_case
def forward_over_backward(backend: str, dtype: Any) -> None:
    """A ForwardAccumulator around a tape gives a Hessian-vector product: for
    f = sum(x**3), H v = 6 x v."""
    v = np.array([1.0, -1.0, 0.5])
    x = pt.constant(X, dtype=dtype)
    with pt.ForwardAccumulator(x, pt.constant(v, dtype=dtype)) as acc:
        with pt.GradientTape() as tape:
            tape.watch(x)
            f = pt.sum(x ** 3)
        g = tape.gradient(f, x)
    assert_close(g, 3 * X**2, dtype, "gradient")
    assert_close(acc.jvp(g), 6 * X * v, dtype, "gradient")


def jacobian_cases() -> list[ConformanceCase]:
    """Every jacobian / forward-mode case (the per-op JVP cases come from the op table)."""
    return list(CASES)
