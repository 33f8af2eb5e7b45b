"""Optimizers inside ``pt.function``: the update is traced as kernel steps, and every step of
a traced training loop leaves the variables and slots where the same loop run eagerly does.

The reference is the same optimizer run eagerly from the same initial values (whose own
update rules tests/nn/test_optimizers.py checks against NumPy float64 transcriptions).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import polytape as pt
from polytape.errors import InvalidArgumentError, ShapeError, TracingError

STEPS = 6
SHAPES = [(3,), (2, 2)]


def _initial(seed: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def _inputs(seed: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def _loss(ws: list[pt.Variable], xs: list[pt.Tensor]) -> pt.Tensor:
    # Gradients that change from step to step and differ in size between the variables
    # (so that clipping by norm does clip some of them).
    return pt.sum((ws[0] * xs[0] - 1.0) ** 2) * 3.0 + pt.sum(pt.sin(ws[1] * xs[1]) * ws[1])


OPTIMIZERS = {
    "sgd": lambda: pt.optimizers.SGD(learning_rate=0.05),
    "sgd-momentum": lambda: pt.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    "sgd-nesterov": lambda: pt.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "sgd-weight-decay": lambda: pt.optimizers.SGD(learning_rate=0.05, weight_decay=0.1),
    "adam": lambda: pt.optimizers.Adam(learning_rate=0.05),
    "adam-amsgrad": lambda: pt.optimizers.Adam(learning_rate=0.05, amsgrad=True),
    "adam-clipnorm": lambda: pt.optimizers.Adam(learning_rate=0.05, clipnorm=1.0),
    "adamw": lambda: pt.optimizers.AdamW(learning_rate=0.05, weight_decay=0.05),
    "nadam": lambda: pt.optimizers.Nadam(learning_rate=0.05),
    "nadam-schedule": lambda: pt.optimizers.Nadam(
        learning_rate=pt.optimizers.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)),
    "rmsprop": lambda: pt.optimizers.RMSprop(learning_rate=0.05),
    "rmsprop-centered-momentum": lambda: pt.optimizers.RMSprop(
        learning_rate=0.05, momentum=0.5, centered=True),
    "rmsprop-clipvalue": lambda: pt.optimizers.RMSprop(learning_rate=0.05, clipvalue=0.5),
    "adagrad": lambda: pt.optimizers.Adagrad(learning_rate=0.2),
    "adagrad-global-clipnorm": lambda: pt.optimizers.Adagrad(learning_rate=0.2,
                                                             global_clipnorm=1.5),
    "sgd-piecewise-schedule": lambda: pt.optimizers.SGD(
        learning_rate=pt.optimizers.PiecewiseConstantDecay([2, 4], [0.1, 0.05, 0.01]),
        momentum=0.5),
    "adam-inverse-time-weight-decay": lambda: pt.optimizers.Adam(
        learning_rate=pt.optimizers.InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5),
        weight_decay=0.02),
}


def _state(opt: pt.optimizers.Optimizer, ws: list[pt.Variable]) -> list[np.ndarray]:
    out = [w.numpy() for w in ws]
    for w in ws:
        out += [opt.get_slot(w, name).numpy() for name in opt.get_slot_names()]
    return out


def _run(make_optimizer, traced: bool) -> tuple[list[list[np.ndarray]], list[int], Any]:
    ws = [pt.Variable(a) for a in _initial()]
    xs = [pt.constant(a) for a in _inputs()]
    opt = make_optimizer()

    def step(x0, x1):
        with pt.GradientTape() as tape:
            loss = _loss(ws, [x0, x1])
        return opt.apply_gradients(zip(tape.gradient(loss, ws), ws))

    fn = pt.function(step) if traced else step
    states, counts = [], []
    for _ in range(STEPS):
        counts.append(int(fn(*xs)))
        states.append(_state(opt, ws))
    return states, counts, fn


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_traced_steps_equal_eager_steps(be, name):
    eager, eager_counts, _ = _run(OPTIMIZERS[name], traced=False)
    traced, traced_counts, fn = _run(OPTIMIZERS[name], traced=True)
    assert fn.tracing_count == 1
    assert traced_counts == eager_counts == list(range(1, STEPS + 1))
    for step, (got, want) in enumerate(zip(traced, eager)):
        for k, (a, b) in enumerate(zip(got, want)):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6,
                                       err_msg=f"{name}: step {step + 1}, array {k}")
    # The state really moved (and differently at every step): a frozen replay cannot pass.
    assert not np.allclose(traced[0][0], traced[-1][0])


@pytest.mark.parametrize("name", ["nadam", "adam-clipnorm", "adagrad-global-clipnorm",
                                  "sgd-weight-decay"])
def test_the_plan_replays_kernels_not_apply_gradients(be, name):
    *_, fn = _run(OPTIMIZERS[name], traced=True)
    (concrete,) = fn._concrete.values()
    kinds = [step[0] for step in concrete.steps]
    assert "effect" not in kinds
    assert kinds.count("host") == 1  # the step counter and schedule: one call per replay
    n_slots = len(OPTIMIZERS[name]().get_slot_names())
    assert kinds.count("write") == len(SHAPES) * (1 + n_slots)


def test_iterations_and_schedule_advance_on_every_replay(be):
    w = pt.Variable([1.0, 2.0])
    opt = pt.optimizers.SGD(learning_rate=lambda: 0.5 ** (int(opt._iterations) + 1))

    @pt.function
    def step():
        opt.apply_gradients([(pt.ones_like(w), w)])

    expected = np.array([1.0, 2.0], np.float32)
    for k in range(1, 5):
        step()
        expected -= np.float32(0.5 ** k)
        np.testing.assert_array_equal(w.numpy(), expected)
        assert int(opt.iterations) == k


def test_nadam_momentum_schedule_matches_its_formula_under_replay(be):
    # Keras' Nadam: u_t = beta_1 (1 - 0.5 * 0.96**t), a running product of u, step by step.
    b1, b2, lr, eps = 0.9, 0.999, 0.1, 1e-7
    w = pt.Variable([0.5], dtype=pt.float64)
    opt = pt.optimizers.Nadam(learning_rate=lr)
    g = pt.constant([0.3], dtype=pt.float64)
    step = pt.function(lambda: opt.apply_gradients([(g, w)]))
    ref_w, m, v, u_product = 0.5, 0.0, 0.0, 1.0
    for t in range(1, 7):
        step()
        u_t, u_next = b1 * (1 - 0.5 * 0.96 ** t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
        u_product *= u_t
        m = b1 * m + (1 - b1) * 0.3
        v = b2 * v + (1 - b2) * 0.09
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * 0.3 / (1 - u_product)
        ref_w -= lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(w.numpy(), [ref_w], rtol=1e-12)


def test_variables_of_two_dtypes_in_one_call(be):
    def run(traced):
        a = pt.Variable([1.0, -2.0], dtype=pt.float32)
        b = pt.Variable([0.5, 3.0, -1.0], dtype=pt.float64)
        opt = pt.optimizers.Adam(learning_rate=0.1, weight_decay=0.01)

        def step():
            with pt.GradientTape() as tape:
                loss = pt.sum(a ** 2) + pt.sum(pt.cast(b, pt.float32) ** 3)
            opt.apply_gradients(zip(tape.gradient(loss, [a, b]), [a, b]))
        fn = pt.function(step) if traced else step
        for _ in range(4):
            fn()
        return a.numpy(), b.numpy()

    for got, want in zip(run(True), run(False)):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_a_bad_pair_raises_at_trace_time_and_changes_nothing(be):
    w = pt.Variable([1.0, 2.0])
    opt = pt.optimizers.Adam()

    @pt.function
    def step(g):
        return opt.apply_gradients([(g, w)])

    with pytest.raises(ShapeError, match="shape"):
        step(pt.constant([1.0, 2.0, 3.0]))
    with pytest.raises(InvalidArgumentError, match="every gradient is None"):
        pt.function(lambda: opt.apply_gradients([(None, w)]))()
    assert w.numpy().tolist() == [1.0, 2.0] and int(opt.iterations) == 0 and opt.variables == []


def test_an_outer_tape_sees_the_same_values(be):
    # A call while a tape records replays through polytape's ops; the update itself is not
    # something the tape differentiates (as eagerly), and the values are those of eager code.
    def run(traced):
        w = pt.Variable([0.5, -1.5])
        opt = pt.optimizers.RMSprop(learning_rate=0.1, momentum=0.5)

        def step(x):
            with pt.GradientTape() as tape:
                loss = pt.sum(pt.exp(w * x))
            opt.apply_gradients([(tape.gradient(loss, w), w)])
            return loss

        fn = pt.function(step) if traced else step
        x = pt.constant([1.0, 2.0])
        fn(x)  # traced (or run) with nothing watching
        with pt.GradientTape() as outer:
            outer.watch(x)
            loss = fn(x)
        dx = outer.gradient(loss, x)
        return w.numpy(), opt.get_slot(w, "momentum").numpy(), loss.numpy(), dx.numpy()

    for got, want in zip(run(True), run(False)):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_cond_branches_cannot_apply_gradients(be):
    w = pt.Variable([1.0])
    opt = pt.optimizers.SGD(learning_rate=0.1)

    @pt.function
    def step(x):
        def update():
            opt.apply_gradients([(x, w)])
            return x
        return pt.cond(pt.sum(x) > 0, update, lambda: x)

    with pytest.raises(TracingError, match="cannot assign variables, apply gradients"):
        step(pt.constant([1.0]))


def test_an_array_a_variable_was_given_is_never_reused_in_place(be):
    # The NumPy plan compiler writes ufunc results into dead temporaries; an array a write
    # step gave a variable must stay out of that, even where the plan reads it last.
    from polytape import tracing

    w = pt.Variable(np.full((4,), 2.0, np.float32))

    @pt.function
    def step(x):
        t = pt.exp(x) * 2.0  # a temporary of the plan, owned by it...
        tracing.current().write(w, t)  # ...given to w (what a traced optimizer update does)
        return pt.sin(t)  # ...and last read here, by a ufunc that could write into it

    for k in range(3):
        x = np.full(4, 0.1 * k, np.float32)
        out = step(pt.constant(x))
        np.testing.assert_allclose(w.numpy(), np.exp(x) * 2.0, rtol=1e-6)
        np.testing.assert_allclose(out.numpy(), np.sin(np.exp(x) * 2.0), rtol=1e-6)


def test_the_clipping_cases_do_clip():
    # adam-clipnorm and adagrad-global-clipnorm above compare clipped updates only if the
    # gradients exceed their limits: the first step's do (and every later one's is computed).
    ws = [pt.Variable(a) for a in _initial()]
    xs = [pt.constant(a) for a in _inputs()]
    with pt.GradientTape() as tape:
        loss = _loss(ws, xs)
    norms = [float(np.linalg.norm(g.numpy())) for g in tape.gradient(loss, ws)]
    assert max(norms) > 1.0 and float(np.hypot(*norms)) > 1.5


def test_clipping_a_zero_gradient_by_norm_is_quiet_and_exact(be):
    w = pt.Variable([1.0, -2.0])
    opt = pt.optimizers.SGD(learning_rate=0.1, clipnorm=1.0)
    step = pt.function(lambda g: opt.apply_gradients([(g, w)]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by the zero norm
        step(pt.constant([0.0, 0.0]))
        assert w.numpy().tolist() == [1.0, -2.0]
        step(pt.constant([3.0, 4.0]))  # norm 5: scaled to norm 1
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.1 * 0.6, -2.0 - 0.1 * 0.8], rtol=1e-6)


def test_switching_weight_decay_after_tracing_is_a_clear_error(be):
    w = pt.Variable([1.0, 2.0])
    opt = pt.optimizers.SGD(learning_rate=0.1, weight_decay=0.5)
    step = pt.function(lambda: opt.apply_gradients([(pt.ones_like(w), w)]))
    step()
    np.testing.assert_allclose(w.numpy(), [1.0 - 0.05 - 0.1, 2.0 - 0.1 - 0.1], rtol=1e-6)
    opt.weight_decay = None
    with pytest.raises(InvalidArgumentError, match="weight_decay was switched on or off"):
        step()
    assert int(opt.iterations) == 1  # the refused call counted no step
