"""Property-based checks (hypothesis) of broadcasting and reductions: values against NumPy,
gradients against closed forms written here with NumPy."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import polytape as pt

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` back to ``shape`` (what broadcasting stretched, the gradient adds up)."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True).reshape(shape)


# op -> (polytape function, value, d/dx, d/dy) on NumPy arrays
BINARY = {
    "add": (pt.add, np.add, lambda x, y: np.ones_like(x + y), lambda x, y: np.ones_like(x + y)),
    "subtract": (pt.subtract, np.subtract, lambda x, y: np.ones_like(x + y),
                 lambda x, y: -np.ones_like(x + y)),
    "multiply": (pt.multiply, np.multiply, lambda x, y: y + 0 * x, lambda x, y: x + 0 * y),
    "divide": (pt.divide, np.divide, lambda x, y: 1 / y + 0 * x, lambda x, y: -x / y ** 2),
    "maximum": (pt.maximum, np.maximum, lambda x, y: (x >= y) * 1.0, lambda x, y: (x < y) * 1.0),
    "arctan2": (pt.arctan2, np.arctan2, lambda x, y: y / (x * x + y * y),
                lambda x, y: -x / (x * x + y * y)),
}


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       op=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2 ** 16))
def test_broadcasting_binary_ops(backend: str, shapes, op: str, seed: int) -> None:
    fn, value, dx, dy = BINARY[op]
    (xs, ys), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    x = rng.choice([-1.0, 1.0], xs) * rng.uniform(0.5, 2.0, xs)
    y = rng.choice([-1.0, 1.0], ys) * rng.uniform(0.5, 2.0, ys)
    u = rng.standard_normal(out_shape)
    tx, ty = pt.constant(x), pt.constant(y)
    with pt.GradientTape() as tape:
        tape.watch([tx, ty])
        out = fn(tx, ty)
    gx, gy = tape.gradient(out, [tx, ty], output_gradients=pt.constant(u))
    assert out.shape == out_shape
    np.testing.assert_allclose(out.numpy(), value(x, y), rtol=1e-12)
    assert gx.shape == xs and gy.shape == ys
    np.testing.assert_allclose(gx.numpy(), unbroadcast(u * dx(x, y), xs), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gy.numpy(), unbroadcast(u * dy(x, y), ys), rtol=1e-10, atol=1e-12)


def _softmax(x: np.ndarray, axis) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# op -> (polytape function, value, gradient given (x, reduced axes, count)) on NumPy arrays
REDUCTIONS = {
    "sum": (pt.sum, np.sum, lambda x, ax, n: np.ones_like(x)),
    "mean": (pt.mean, np.mean, lambda x, ax, n: np.ones_like(x) / n),
    "max": (pt.max, np.max, lambda x, ax, n: (x == x.max(axis=ax, keepdims=True)) * 1.0),
    "min": (pt.min, np.min, lambda x, ax, n: (x == x.min(axis=ax, keepdims=True)) * 1.0),
    "prod": (pt.prod, np.prod, lambda x, ax, n: x.prod(axis=ax, keepdims=True) / x),
    "logsumexp": (pt.logsumexp, lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis,
                                                                        keepdims=keepdims)),
                  lambda x, ax, n: _softmax(x, ax)),
    "var": (pt.var, np.var, lambda x, ax, n: 2 * (x - x.mean(axis=ax, keepdims=True)) / n),
}


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), data=st.data(),
       op=st.sampled_from(sorted(REDUCTIONS)), keepdims=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_reductions_over_any_axes(backend: str, shape, data, op: str, keepdims: bool,
                                  seed: int) -> None:
    fn, value, grad = REDUCTIONS[op]
    axis = data.draw(st.none() | st.lists(st.integers(0, max(len(shape) - 1, 0)), unique=True,
                                          max_size=len(shape)).map(tuple))
    if axis is not None and len(shape) == 0:
        axis = ()
    rng = np.random.default_rng(seed)
    x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)  # distinct, non-zero
    ax = tuple(range(len(shape))) if axis is None else axis
    n = int(np.prod([shape[i] for i in ax]))
    want = np.asarray(value(x, axis=ax, keepdims=keepdims))
    u = rng.standard_normal(want.shape)
    tx = pt.constant(x)
    with pt.GradientTape() as tape:
        tape.watch(tx)
        out = fn(tx, axis=axis, keepdims=keepdims)
    g = tape.gradient(out, tx, output_gradients=pt.constant(u))
    assert out.shape == want.shape
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    u_kept = u.reshape([1 if i in ax else s for i, s in enumerate(shape)])
    np.testing.assert_allclose(g.numpy(), grad(x, ax, n) * u_kept, rtol=1e-10, atol=1e-12)
