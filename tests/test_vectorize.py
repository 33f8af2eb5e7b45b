"""Vectorized Jacobians: one batched backward pass equals the row-by-row loop (and NumPy
float64 closed forms); plans no batching rule covers fall back to one replay per row."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt


def _rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


FUNCTIONS = {
    "tanh(W @ x)": lambda x, w: pt.tanh(w @ x),
    "x @ W, softmax": lambda x, w: pt.softmax(pt.reshape(x, (1, 3)) @ w, axis=-1),
    "reductions": lambda x, w: pt.stack([pt.sum(x * x), pt.max(pt.sin(x)), pt.mean(w @ x)]),
    "broadcast and transpose": lambda x, w: pt.transpose(w * x + pt.exp(x)[:, None]) ** 2,
    "logsumexp over an axis": lambda x, w: pt.logsumexp(w * x, axis=1),
    "getitem (loop fallback)": lambda x, w: x[1:] * pt.sum(w[0]),
    "vector dot": lambda x, w: pt.reshape(pt.matmul(x, x) * x, (3,)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_vectorized_jacobian_equals_the_loop(be, name):
    f = FUNCTIONS[name]
    x = pt.constant(_rand(3), dtype=pt.float64)
    w = pt.constant(_rand(3, 3, seed=1), dtype=pt.float64)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch([x, w])
        y = f(x, w)
    fast = tape.jacobian(y, [x, w])
    slow = tape.jacobian(y, [x, w], experimental_use_pfor=False)
    for a, b in zip(fast, slow):
        if b is None:  # w unused
            assert a is None
            continue
        assert a.shape == b.shape
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)


def test_vectorized_jacobian_matches_the_closed_form(be):
    wn, xn = _rand(5, 4), _rand(4, seed=2)
    w, x = pt.constant(wn, dtype=pt.float64), pt.constant(xn, dtype=pt.float64)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = pt.tanh(w @ x)
    yn = np.tanh(wn @ xn)
    np.testing.assert_allclose(tape.jacobian(y, x).numpy(), (1 - yn**2)[:, None] * wn, rtol=1e-12)


def test_unconnected_sources(be):
    x, z = pt.constant([1.0, 2.0]), pt.constant([3.0])
    with pt.GradientTape(persistent=True) as tape:
        tape.watch([x, z])
        y = x * 2.0
    assert tape.jacobian(y, z) is None
    assert tape.jacobian(y, z, unconnected_gradients="zero").numpy().tolist() == [[0.0], [0.0]]
    assert tape.jacobian(y, x).numpy().tolist() == [[2.0, 0.0], [0.0, 2.0]]


def test_vectorized_batch_jacobian_equals_the_loop(be):
    x = pt.constant(_rand(4, 3), dtype=pt.float64)
    w = pt.constant(_rand(3, 2, seed=3), dtype=pt.float64)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = pt.tanh(x @ w) * pt.sum(x * x, axis=1, keepdims=True)
    fast = tape.batch_jacobian(y, x)
    slow = tape.batch_jacobian(y, x, experimental_use_pfor=False)
    assert fast.shape == (4, 2, 3)
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=1e-12)


def test_jacobian_under_an_outer_tape_stays_differentiable(be):
    x = pt.constant([0.5, -1.0], dtype=pt.float64)
    with pt.GradientTape() as outer:
        outer.watch(x)
        with pt.GradientTape() as inner:
            inner.watch(x)
            y = pt.sin(x) * x
        j = inner.jacobian(y, x)          # recorded by the outer tape (row by row)
        s = pt.sum(j)
    xn = x.numpy()
    # d/dx_i of sum_j J_ij = d/dx_i (cos x_i x_i + sin x_i) = -sin x_i x_i + 2 cos x_i
    np.testing.assert_allclose(outer.gradient(s, x).numpy(), -np.sin(xn) * xn + 2 * np.cos(xn),
                               rtol=1e-12)


@pytest.mark.parametrize("fn", [
    lambda r: pt.sum(r * r),
    lambda r: (pt.softmax(r, axis=0), pt.max(r)),
    lambda r: pt.reshape(r, (2, 2)) @ pt.constant([[1.0, 2.0], [3.0, 4.0]], dtype=pt.float64),
    lambda r: {"first": r[0] * 2.0, "rest": pt.exp(r[1:])},
    lambda r: pt.cond(pt.sum(r) > 0, lambda: r, lambda: -r),  # a traced cond: both branches
])
def test_vectorized_map_equals_map_fn(be, fn):
    elems = pt.constant(_rand(5, 4), dtype=pt.float64)
    fast, slow = pt.vectorized_map(fn, elems), pt.map_fn(fn, elems)
    for a, b in zip(_leaves(fast), _leaves(slow)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def _leaves(x):
    from polytape import nest
    return nest.flatten(x)


def test_vectorized_map_falls_back_to_a_loop_for_value_dependent_python(be):
    def fn(r):
        return r * 2.0 if float(pt.sum(r)) > 0 else r * 0.0  # Python branching on a value

    elems = pt.constant([[1.0, 2.0], [-3.0, -4.0]], dtype=pt.float64)
    assert pt.vectorized_map(fn, elems).numpy().tolist() == [[2.0, 4.0], [0.0, 0.0]]
    with pytest.raises(pt.TracingError):
        pt.vectorized_map(fn, elems, fallback_to_while_loop=False)


def test_hessian_is_batched_and_exact(be):
    xn = _rand(4, seed=5)
    x = pt.constant(xn, dtype=pt.float64)
    h = pt.hessian(lambda z: pt.sum(pt.sin(z) * z * z) + 0.5 * pt.sum(z) ** 2, x)
    d = 2 * np.sin(xn) + 4 * xn * np.cos(xn) - xn ** 2 * np.sin(xn)
    np.testing.assert_allclose(h.numpy(), np.diag(d) + np.ones((4, 4)), rtol=1e-12)


# -- inside pt.function: the batched pass is part of the plan ------------------------------------
def _op_steps(fn, *args):
    return [s[1].name for s in fn.get_concrete_function(*args).steps if s[0] == "op"]


def _traced_jacobian(w, batch=False, pfor=True):
    @pt.function
    def jac(x):
        with pt.GradientTape() as tape:
            tape.watch(x)
            y = pt.tanh(x @ w) * pt.sum(x, axis=-1, keepdims=True)
        if batch:
            return tape.batch_jacobian(y, x, experimental_use_pfor=pfor)
        return tape.jacobian(y, x, experimental_use_pfor=pfor)
    return jac


def _eager_jacobian(w, x, batch=False):
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = pt.tanh(x @ w) * pt.sum(x, axis=-1, keepdims=True)
    return tape.batch_jacobian(y, x) if batch else tape.jacobian(y, x)


@pytest.mark.parametrize("batch", [False, True], ids=["jacobian", "batch_jacobian"])
def test_traced_jacobian_equals_the_eager_one(be, batch):
    from polytape import vectorize

    w = pt.constant(_rand(3, 5, seed=7), dtype=pt.float64)
    jac = _traced_jacobian(w, batch)
    vectorize.fallbacks.clear()
    for seed in (1, 2):  # the trace, then a replay on new values
        x = pt.constant(_rand(2, 3, seed=seed), dtype=pt.float64)
        got, want = jac(x), _eager_jacobian(w, x, batch)
        assert got.shape == want.shape
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
    assert jac.tracing_count == 1 and list(vectorize.fallbacks) == []


def test_traced_jacobian_is_one_backward_pass_whatever_its_size(be):
    # The plan of a traced jacobian has the forward pass and one batched backward pass: as
    # many steps for 2 output rows as for 12, where the row-by-row loop grows with them.
    w = pt.constant(_rand(3, 5, seed=7), dtype=pt.float64)
    small, large = pt.zeros((2, 3), pt.float64), pt.zeros((12, 3), pt.float64)
    fast = _op_steps(_traced_jacobian(w), small)
    assert _op_steps(_traced_jacobian(w), large) == fast
    loop_small = _op_steps(_traced_jacobian(w, pfor=False), small)
    loop_large = _op_steps(_traced_jacobian(w, pfor=False), large)
    assert len(loop_large) > 5 * len(loop_small) > 5 * len(fast) / 2
    # the forward pass (matmul, tanh, sum, multiply), one backward pass, and assembling
    assert fast[:4] == ["matmul", "tanh", "sum", "multiply"] and len(fast) <= 24


def test_traced_jacobian_of_a_variable_reads_it_on_every_call(be):
    v = pt.Variable(_rand(3, seed=4), dtype=pt.float64)

    @pt.function
    def jac(x):
        with pt.GradientTape() as tape:
            y = pt.sin(v * x) * pt.sum(v)
        return tape.jacobian(y, v)

    x = pt.constant(_rand(3, seed=5), dtype=pt.float64)
    for _ in range(2):
        with pt.GradientTape() as tape:
            y = pt.sin(v * x) * pt.sum(v)
        np.testing.assert_allclose(jac(x).numpy(), tape.jacobian(y, v).numpy(), rtol=1e-12)
        v.assign(v * 2.0)


def test_traced_hessian_is_batched_and_exact(be):
    from polytape import vectorize

    @pt.function
    def hess(x):
        return pt.hessian(lambda z: pt.sum(pt.sin(z) * z * z), x)

    vectorize.fallbacks.clear()
    for seed in (5, 6):
        xn = _rand(4, seed=seed)
        d = 2 * np.sin(xn) + 4 * xn * np.cos(xn) - xn ** 2 * np.sin(xn)
        np.testing.assert_allclose(hess(pt.constant(xn, dtype=pt.float64)).numpy(), np.diag(d),
                                   rtol=1e-12, atol=1e-14)
    assert hess.tracing_count == 1 and list(vectorize.fallbacks) == []
    # one batched Hessian-vector product: as many steps for 4 entries as for 9
    assert _op_steps(hess, pt.zeros((4,), pt.float64)) == _op_steps(hess, pt.zeros((9,), pt.float64))


def test_traced_vectorized_map_without_a_batching_rule_replays_per_example(be):
    # A convolution of batched inputs by batched filters has no rule: inside a trace, the
    # per-example replay is recorded op by op, and gives the same values.
    from polytape import vectorize
    from polytape.nn.convolution import conv2d

    def fn(e):
        x, w = e
        return conv2d(x, w, strides=1, padding="VALID") * 2.0

    xs = pt.constant(_rand(3, 1, 4, 4, 2, seed=8), dtype=pt.float64)
    ws = pt.constant(_rand(3, 2, 2, 2, 3, seed=9), dtype=pt.float64)
    traced = pt.function(lambda a, b: pt.vectorized_map(fn, (a, b)))
    vectorize.fallbacks.clear()
    got = traced(xs, ws)
    assert list(vectorize.fallbacks) == ["a convolution with both operands batched"]
    np.testing.assert_allclose(got.numpy(), pt.map_fn(fn, (xs, ws)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(traced(xs * 2.0, ws).numpy(),
                               pt.map_fn(fn, (xs * 2.0, ws)).numpy(), rtol=1e-12)
