"""The seed examples: every example of the seed documents, with the values real TensorFlow
prints (where a seed's own text disagrees, TensorFlow is right).

Each case is the seed's code written with ``import polytape as pt`` in place of
``import tensorflow as tf``. The seeds compute in float32 (TensorFlow's literal
dtype), so these cases are dtype-independent: they run once per backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import polytape as pt
import polytape.compat.tensorflow as tf
from polytape import nn

from .cases import ConformanceCase
from .checks import assert_close, assert_dtype

__all__ = ["seed_cases"]

CASES: list[ConformanceCase] = []
F32 = "float32"


def seed(fn: Callable[[str, Any], None]) -> Callable[[str, Any], None]:
    """Register ``fn`` as a seed case named after it."""
    CASES.append(ConformanceCase(fn.__name__, "seeds", fn, dtypes=None,
                                 doc=(fn.__doc__ or "").strip()))
    return fn


def _func(x: Any) -> Any:
    return x**2 + 5*x + 3


@seed
def s000_quadratic(backend: str, dtype: Any) -> None:
    """Seed 000: y = x**2 + 5x + 3 at x = 2 is 17.0 (the seed's 15.0 is wrong), dy/dx 9.0."""
    x = pt.Variable(2.0)
    with pt.GradientTape() as tape:
        y = _func(x)
    grad = tape.gradient(y, x)
    assert_dtype(y, F32, "y")
    assert_close(y.numpy(), 17.0, F32, what="function value")
    assert_close(grad.numpy(), 9.0, F32, what="gradient")


@seed
def s000_manual_vs_tape(backend: str, dtype: Any) -> None:
    """Seed 000: the manual gradient 2x + 5 and the tape's agree at x = 2 (9.0 and 9.0)."""
    x = pt.Variable(2.0)
    with pt.GradientTape() as tape:
        _func(x)
    manual_grad = 2*x + 5
    with pt.GradientTape() as tape:
        y = _func(x)
    auto_grad = tape.gradient(y, x)
    assert_close(manual_grad.numpy(), 9.0, F32, what="manual gradient")
    assert_close(auto_grad.numpy(), 9.0, F32, what="automatic gradient")


@seed
def s000_watch_constant(backend: str, dtype: Any) -> None:
    """Seed 000: tape.watch on a constant 3.0, y = x**2: value 9.0, gradient 6.0."""
    x = pt.constant(3.0)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = x ** 2
    dy_dx = tape.gradient(y, x)
    assert_close(y.numpy(), 9.0, F32)
    assert_close(dy_dx.numpy(), 6.0, F32)


@seed
def s000_custom_gradient(backend: str, dtype: Any) -> None:
    """Seed 000: @custom_gradient square with grad 2*x*dy at 3: value 9.0, gradient 6.0."""

    def custom_function(x):
        return pt.square(x)

    @pt.custom_gradient
    def custom_function_with_gradient(x):
        y = custom_function(x)

        def grad(dy):
            return 2 * x * dy
        return y, grad

    x = pt.constant(3.0)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = custom_function_with_gradient(x)
    grad = tape.gradient(y, x)
    assert_close(y.numpy(), 9.0, F32)
    assert_close(grad.numpy(), 6.0, F32)


@seed
def s000_dense_fit(backend: str, dtype: Any) -> None:
    """Seed 000: Sequential([Dense(1)]) with sgd/mse, fit 10 epochs on y = 3X + noise:
    the loss falls and the 1x1 kernel moves towards 3."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 1)).astype(np.float32)
    y = (3 * X + rng.standard_normal((100, 1))).astype(np.float32)
    model = nn.Sequential([nn.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    Xt, yt = pt.constant(X), pt.constant(y)
    before_loss = _evaluate(model, Xt, yt)  # predict() builds the weights of a lazy model
    kernel0 = float(np.asarray(model.layers[0].get_weights()[0]).reshape(()))
    model.fit(Xt, yt, epochs=10, verbose=0)
    weights = model.layers[0].get_weights()[0]
    if np.shape(weights) != (1, 1):
        raise AssertionError(f"the Dense(1) kernel has shape {np.shape(weights)}, expected (1, 1)")
    kernel = float(np.asarray(weights).reshape(()))
    after_loss = _evaluate(model, Xt, yt)
    if not after_loss < before_loss:
        raise AssertionError(f"the loss did not fall: {before_loss} -> {after_loss}")
    if not abs(kernel - 3.0) < abs(kernel0 - 3.0):
        raise AssertionError(f"the kernel did not move towards 3: {kernel0} -> {kernel}")


def _evaluate(model: Any, X: Any, y: Any) -> float:
    pred = np.asarray(model.predict(X), dtype=np.float64)
    return float(np.mean((pred - np.asarray(y, dtype=np.float64)) ** 2))


@seed
def s001_watch_without_with(backend: str, dtype: Any) -> None:
    """Seed 001: tape.watch on a GradientTape never entered (TensorFlow: AttributeError;
    the seed claims 2.0). polytape raises a clear error telling the user to use `with`."""
    x = pt.constant(3.0)
    tape = pt.GradientTape()
    try:
        tape.watch(x)
    except pt.PolytapeError as exc:
        if "with" not in str(exc):
            raise AssertionError(f"the error does not tell the user to use `with`: {exc}") from exc
    else:
        raise AssertionError("watch() on a tape that was never entered did not raise")


@seed
def s001_watch_inside_with(backend: str, dtype: Any) -> None:
    """Seed 001 inside `with`: z = x * y with x = 3, y = 2: dz/dx = 2.0."""
    x = pt.constant(3.0)
    y = pt.constant(2.0)
    with pt.GradientTape() as tape:
        tape.watch(x)
        z = x * y
    gradient = tape.gradient(z, x)
    assert_close(gradient.numpy(), 2.0, F32)


@seed
def s001_variable(backend: str, dtype: Any) -> None:
    """Seed 001: w = Variable(5.0), y = w * w: dy/dw = 10.0."""
    w = pt.Variable(5.0)
    with pt.GradientTape() as tape:
        tape.watch(w)
        y = w * w
    grad = tape.gradient(y, w)
    assert_close(grad.numpy(), 10.0, F32)


@seed
def s001_nested(backend: str, dtype: Any) -> None:
    """Seed 001: nested tapes on y = x*x*x at 3: dy/dx 27.0, d2y/dx2 18.0."""
    x = pt.Variable(3.0)
    with pt.GradientTape() as t1:
        with pt.GradientTape() as t2:
            y = x * x * x
        dy_dx = t2.gradient(y, x)
        d2y_dx2 = t1.gradient(dy_dx, x)
    assert_close(dy_dx.numpy(), 27.0, F32)
    assert_close(d2y_dx2.numpy(), 18.0, F32)


@seed
def s002_watch_list(backend: str, dtype: Any) -> None:
    """Seed 002: watch([a, b, c]), y = a*b + c with 3, 2, 1: [2.0, 3.0, 1.0]."""
    a = pt.constant(3.0)
    b = pt.constant(2.0)
    c = pt.constant(1.0)
    with pt.GradientTape() as tape:
        tape.watch([a, b, c])
        y = a * b + c
    gradients = tape.gradient(y, [a, b, c])
    assert_close([g.numpy() for g in gradients], [2.0, 3.0, 1.0], F32)


@seed
def s002_tf_gradients(backend: str, dtype: Any) -> None:
    """Seed 002: tf.gradients is TF 1 graph mode; TF 2 eager raises RuntimeError, and so
    does polytape.compat.tensorflow unless it traces, where it gives [2.0, 3.0, 1.0]."""
    a, b, c = tf.constant(3.0), tf.constant(2.0), tf.constant(1.0)
    y = a * b + c
    try:
        result = tf.gradients(y, [a, b, c])
    except RuntimeError as exc:
        if "GradientTape" not in str(exc):
            raise AssertionError(f"the error does not point to GradientTape: {exc}") from exc
        return
    assert_close([np.asarray(g) for g in result], [2.0, 3.0, 1.0], F32)


@seed
def s003_unwatched_constant(backend: str, dtype: Any) -> None:
    """Seed 003: x = constant([2.0]), no watch: the gradient of x**2 is None."""
    x = pt.constant([2.0])
    with pt.GradientTape(persistent=False, watch_accessed_variables=True) as grad:
        f = x ** 2
    if grad.gradient(f, x) is not None:
        raise AssertionError("an unwatched constant got a gradient")


@seed
def s003_variable(backend: str, dtype: Any) -> None:
    """Seed 003: x = Variable(constant([2.0])): the gradient of x**2 is [4.0]."""
    x = pt.Variable(pt.constant([2.0]))
    with pt.GradientTape(persistent=False, watch_accessed_variables=True) as grad:
        f = x ** 2
    assert_close(grad.gradient(f, x).numpy(), [4.0], F32)


@seed
def s003_watch_constant(backend: str, dtype: Any) -> None:
    """Seed 003: watch(constant([2.0])): the gradient of x**2 is [4.0]."""
    x = pt.constant([2.0])
    with pt.GradientTape(persistent=False, watch_accessed_variables=True) as grad:
        grad.watch(x)
        f = x ** 2
    assert_close(grad.gradient(f, x).numpy(), [4.0], F32)


@seed
def s003_persistent(backend: str, dtype: Any) -> None:
    """Seed 003: a persistent tape gives d(x**2) = [4.0] and d(x**3) = [12.0] at [2.0]."""
    x = pt.Variable(pt.constant([2.0]))
    with pt.GradientTape(persistent=True, watch_accessed_variables=True) as grad:
        f = x ** 2
        h = x ** 3
    assert_close(grad.gradient(f, x).numpy(), [4.0], F32)
    assert_close(grad.gradient(h, x).numpy(), [12.0], F32)


@seed
def s003_second_call(backend: str, dtype: Any) -> None:
    """Seed 003 with persistent=False: the second gradient() raises RuntimeError
    ("A non-persistent GradientTape can only be used to compute one set of gradients")."""
    x = pt.Variable(pt.constant([2.0]))
    with pt.GradientTape(persistent=False) as grad:
        f = x ** 2
        h = x ** 3
    grad.gradient(f, x)
    try:
        grad.gradient(h, x)
    except RuntimeError as exc:
        if "non-persistent" not in str(exc).lower():
            raise AssertionError(f"unexpected message: {exc}") from exc
    else:
        raise AssertionError("a second gradient() on a non-persistent tape did not raise")


@seed
def s004_int_tensors(backend: str, dtype: Any) -> None:
    """Seed 004: constant([1, 2, 3]) and Variable([1, 2, 3]) are int32 of shape (3,)."""
    for t in (pt.constant([1, 2, 3]), pt.Variable([1, 2, 3])):
        assert_dtype(t, "int32", type(t).__name__)
        if t.shape != (3,):
            raise AssertionError(f"{type(t).__name__} has shape {t.shape}, expected (3,)")
        assert_close(t.numpy(), [1, 2, 3], "int32")
        assert_close((t + t).numpy(), [2, 4, 6], "int32", what="x + x")
        assert_close((2 * t).numpy(), [2, 4, 6], "int32", what="2 * x")


@seed
def s004_variable_square(backend: str, dtype: Any) -> None:
    """Seed 004: x = Variable(3.6), y = x*x: dy/dx = 7.2."""
    x = pt.Variable(3.6)
    with pt.GradientTape() as tape:
        y = x * x
    assert_close(tape.gradient(y, x).numpy(), 7.2, F32)


@seed
def s004_polynomial_value(backend: str, dtype: Any) -> None:
    """Seed 004: np.poly1d([1, 2, 3])(1.5) = 8.25, computed with polytape ops."""
    x = pt.constant(1.5)
    coeffs = pt.constant([1.0, 2.0, 3.0])
    powers = pt.stack([x * x, x, pt.ones_like(x)])
    assert_close(pt.sum(coeffs * powers).numpy(), 8.25, F32)
    assert_close(np.poly1d([1, 2, 3])(1.5), 8.25, "float64")


def _nadam(learning_rate: float) -> Any:
    return pt.optimizers.Nadam(learning_rate=learning_rate)


@seed
def s004_polynomial_regression(backend: str, dtype: Any) -> None:
    """Seed 004: recover x^2 + 2x + 3 from 20 noisy samples with Nadam(0.01), 1000 steps:
    w ends near [1, 2, 3] and the squared error near the least-squares one (TensorFlow:
    [0.943, 2.120, 2.984])."""
    rng = np.random.default_rng(42)
    polyfunc = np.poly1d([1, 2, 3])
    X = rng.standard_normal((20, 1))
    Y = polyfunc(X) + 0.2 * rng.standard_normal((20, 1))
    w0 = pt.constant(rng.standard_normal((3, 1)), dtype="float32")
    w = pt.Variable(w0)
    A = np.hstack([X**2, X, np.ones_like(X)])
    x = pt.constant(A, dtype="float32")
    y = pt.constant(Y, dtype="float32")
    optimizer = _nadam(0.01)
    for _ in range(1000):
        with pt.GradientTape() as tape:
            y_pred = x @ w
            mse = pt.sum(pt.square(y - y_pred))
        grad = tape.gradient(mse, w)
        optimizer.apply_gradients([(grad, w)])
    lstsq = np.linalg.lstsq(A, Y, rcond=None)[0]
    got = np.asarray(w.numpy(), dtype=np.float64)

    def sse(v: np.ndarray) -> float:
        return float(np.sum((Y - A @ v.reshape(3, 1)) ** 2))
    start = sse(np.asarray(w0, dtype=np.float64))
    # Converged: 99% of the way from the start to the least-squares error, and w near [1, 2, 3].
    if sse(got) - sse(lstsq) > 0.01 * (start - sse(lstsq)):
        raise AssertionError(f"squared error {sse(got):.4g} after 1000 steps; started at "
                             f"{start:.4g}, least squares {sse(lstsq):.4g}")
    if np.max(np.abs(got.ravel() - [1, 2, 3])) > 0.35:
        raise AssertionError(f"w = {got.ravel()} is not near [1, 2, 3] (least squares "
                             f"{lstsq.ravel()})")


@seed
def s004_puzzle(backend: str, dtype: Any) -> None:
    """Seed 004: A + B = 9, C - D = 1, A + C = 8, B - D = 2 by Nadam(0.1), 1000 steps:
    the squared error ends near 0 (TensorFlow: ~1e-12)."""
    rng = np.random.default_rng(7)
    A, B, C, D = (pt.Variable(float(rng.random())) for _ in range(4))
    optimizer = _nadam(0.1)
    for _ in range(1000):
        with pt.GradientTape() as tape:
            y1 = A + B - 9
            y2 = C - D - 1
            y3 = A + C - 8
            y4 = B - D - 2
            sqerr = y1*y1 + y2*y2 + y3*y3 + y4*y4
        gradA, gradB, gradC, gradD = tape.gradient(sqerr, [A, B, C, D])
        optimizer.apply_gradients([(gradA, A), (gradB, B), (gradC, C), (gradD, D)])
    a, b, c, d = (float(v) for v in (A, B, C, D))
    residual = (a + b - 9) ** 2 + (c - d - 1) ** 2 + (a + c - 8) ** 2 + (b - d - 2) ** 2
    if residual > 1e-4:
        raise AssertionError(f"squared error {residual:.3g} after 1000 steps "
                             f"(A={a:.4f} B={b:.4f} C={c:.4f} D={d:.4f})")


def seed_cases() -> list[ConformanceCase]:
    """Every seed case."""
    return list(CASES)
