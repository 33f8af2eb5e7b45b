"""Optimizers, step by step, against their update rules written out in NumPy float64.

Each reference below is Keras 3's formula transcribed independently (plain NumPy,
float64, no polytape), with Keras' documented defaults spelled out as numbers.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import polytape as pt

STEPS = 5
SHAPES = [(3,), (2, 2)]


def _gradients(seed: int = 0) -> list[list[np.ndarray]]:
    """A different gradient for each variable at each step."""
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]


def _initial(seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES]


# -- the references (one variable; state in a dict) --------------------------------------------
def ref_sgd(lr=0.01, momentum=0.0, nesterov=False):
    def step(w, g, s, t):
        if momentum == 0:
            return w - lr * g
        m = s.get("m", np.zeros_like(w))
        m = momentum * m - lr * g
        s["m"] = m
        return w + (momentum * m - lr * g if nesterov else m)
    return step


def ref_adam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=None):
    def step(w, g, s, t):
        if wd:
            w = w - w * wd * lr
        m = s.get("m", np.zeros_like(w)) * b1 + (1 - b1) * g
        v = s.get("v", np.zeros_like(w)) * b2 + (1 - b2) * g * g
        s["m"], s["v"] = m, v
        if amsgrad:
            v = np.maximum(s.get("vhat", np.zeros_like(w)), v)
            s["vhat"] = v
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return w - alpha * m / (np.sqrt(v) + eps)
    return step


def ref_nadam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
    # u_product advances once per apply_gradients call; `shared` holds it across variables.
    shared = {"u_product": 1.0, "t": 0}

    def step(w, g, s, t):
        if shared["t"] != t:
            shared["t"] = t
            shared["u_product"] *= b1 * (1 - 0.5 * 0.96 ** t)
        u_t = b1 * (1 - 0.5 * 0.96 ** t)
        u_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        up = shared["u_product"]
        m = s.get("m", np.zeros_like(w)) * b1 + (1 - b1) * g
        v = s.get("v", np.zeros_like(w)) * b2 + (1 - b2) * g * g
        s["m"], s["v"] = m, v
        m_hat = u_next * m / (1 - up * u_next) + (1 - u_t) * g / (1 - up)
        v_hat = v / (1 - b2 ** t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return step


def ref_rmsprop(lr=0.001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def step(w, g, s, t):
        v = rho * s.get("v", np.zeros_like(w)) + (1 - rho) * g * g
        s["v"] = v
        if centered:
            a = rho * s.get("a", np.zeros_like(w)) + (1 - rho) * g
            s["a"] = a
            denom = np.sqrt(v - a * a + eps)
        else:
            denom = np.sqrt(v + eps)
        inc = lr * g / denom
        if momentum > 0:
            p = momentum * s.get("p", np.zeros_like(w)) + inc
            s["p"] = p
            inc = p
        return w - inc
    return step


def ref_adagrad(lr=0.001, init=0.1, eps=1e-7):
    def step(w, g, s, t):
        acc = s.get("acc", np.full_like(w, init)) + g * g
        s["acc"] = acc
        return w - lr * g / np.sqrt(acc + eps)
    return step


CASES = {
    "sgd-defaults": (lambda: pt.optimizers.SGD(), lambda: ref_sgd()),
    "sgd-momentum": (lambda: pt.optimizers.SGD(0.1, momentum=0.9),
                     lambda: ref_sgd(0.1, 0.9)),
    "sgd-nesterov": (lambda: pt.optimizers.SGD(0.1, momentum=0.8, nesterov=True),
                     lambda: ref_sgd(0.1, 0.8, True)),
    "adam-defaults": (lambda: pt.optimizers.Adam(), lambda: ref_adam()),
    "adam-amsgrad": (lambda: pt.optimizers.Adam(0.05, beta_1=0.8, amsgrad=True),
                     lambda: ref_adam(0.05, b1=0.8, amsgrad=True)),
    "adamw-defaults": (lambda: pt.optimizers.AdamW(), lambda: ref_adam(wd=0.004)),
    "nadam-defaults": (lambda: pt.optimizers.Nadam(), lambda: ref_nadam()),
    "nadam-lr0.1": (lambda: pt.optimizers.Nadam(learning_rate=0.1, beta_2=0.99),
                    lambda: ref_nadam(0.1, b2=0.99)),
    "rmsprop-defaults": (lambda: pt.optimizers.RMSprop(), lambda: ref_rmsprop()),
    "rmsprop-centered-momentum": (
        lambda: pt.optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True),
        lambda: ref_rmsprop(0.01, 0.8, 0.5, centered=True)),
    "adagrad-defaults": (lambda: pt.optimizers.Adagrad(), lambda: ref_adagrad()),
    "adagrad-init": (lambda: pt.optimizers.Adagrad(0.1, initial_accumulator_value=0.5),
                     lambda: ref_adagrad(0.1, 0.5)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_each_step_matches_the_formula(backend, case, dtype):
    make_opt, make_ref = CASES[case]
    opt = make_opt()
    if case.startswith("nadam"):
        refs = [make_ref()] * len(SHAPES)  # one u_product for all variables, as in Keras
    else:
        refs = [make_ref() for _ in SHAPES]
    states = [{} for _ in SHAPES]
    expected = _initial()
    variables = [pt.Variable(w.astype(dtype)) for w in expected]
    rtol, atol = (1e-5, 1e-6) if dtype == "float32" else (1e-12, 1e-13)
    for t, grads in enumerate(_gradients(), start=1):
        opt.apply_gradients([(pt.constant(g.astype(dtype)), v) for g, v in zip(grads, variables)])
        expected = [ref(w, g, s, t) for ref, w, g, s in zip(refs, expected, grads, states)]
        for v, e in zip(variables, expected):
            assert v.dtype == pt.as_dtype(dtype)
            np.testing.assert_allclose(v.numpy(), e, rtol=rtol, atol=atol, err_msg=f"step {t}")
    assert int(opt.iterations) == STEPS


def test_slots_live_on_the_variables_backend(backend):
    w = pt.Variable(np.ones((2, 3), np.float32), name="w")
    opt = pt.optimizers.Adam(amsgrad=True)
    opt.apply_gradients([(pt.ones((2, 3)), w)])
    assert sorted(opt.get_slot_names()) == ["momentum", "velocity", "velocity_hat"]
    for name in opt.get_slot_names():
        slot = opt.get_slot(w, name)
        assert slot.backend == backend and slot.device == w.device
        assert slot.shape == w.shape and slot.dtype == w.dtype
        assert not slot.trainable
    # The first moment after one step is (1 - beta_1) * g.
    np.testing.assert_allclose(opt.get_slot(w, "momentum").numpy(), np.full((2, 3), 0.1), rtol=1e-6)
    assert len(opt.variables) == 3
    with pytest.raises(ValueError, match="no slot"):
        opt.get_slot(w, "accumulator")


def test_learning_rate_and_iterations_are_tensors():
    opt = pt.optimizers.SGD(learning_rate=0.25)
    assert float(opt.learning_rate) == 0.25 and int(opt.iterations) == 0
    opt.learning_rate = 0.5
    w = pt.Variable(1.0)
    assert opt.apply_gradients([(pt.constant(2.0), w)]) == 1
    assert float(w) == 1.0 - 0.5 * 2.0


def test_update_replaces_the_array_a_tape_may_still_hold(backend):
    # The tape keeps the array `w` had when `y` was computed; an in-place update would
    # corrupt the later gradient (2 * old w).
    w = pt.Variable([1.0, 2.0])
    opt = pt.optimizers.SGD(learning_rate=0.5, momentum=0.5)
    with pt.GradientTape(persistent=True) as tape:
        y = pt.sum(w * w)
        opt.apply_gradients([(pt.constant([1.0, 1.0]), w)])  # inside the block: not recorded
    np.testing.assert_allclose(w.numpy(), [0.5, 1.5])
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), [2.0, 4.0])


def test_none_gradient_is_skipped_with_a_warning_naming_the_variable(backend):
    a = pt.Variable([1.0], name="used")
    b = pt.Variable([5.0], name="unused")
    opt = pt.optimizers.SGD(learning_rate=0.1)
    with pytest.warns(UserWarning, match="unused"):
        opt.apply_gradients([(pt.constant([2.0]), a), (None, b)])
    np.testing.assert_allclose(a.numpy(), [0.8], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [5.0])
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply_gradients([(None, a), (None, b)])
    assert int(opt.iterations) == 1


def test_a_bad_pair_changes_nothing(backend):
    a = pt.Variable([1.0, 2.0])
    b = pt.Variable([3.0])
    opt = pt.optimizers.Adam(learning_rate=0.1)
    opt.apply_gradients([(pt.constant([1.0, 1.0]), a), (pt.constant([1.0]), b)])
    before = (a.numpy().copy(), b.numpy().copy(), opt.get_slot(a, "momentum").numpy().copy())
    with pytest.raises(pt.ShapeError, match="shape"):
        opt.apply_gradients([(pt.constant([1.0, 1.0]), a), (pt.constant([1.0, 2.0]), b)])
    with pytest.raises(pt.DTypeError):
        opt.apply_gradients([(pt.constant([1.0, 1.0]), a), (pt.constant([1]), pt.Variable([1]))])
    with pytest.raises(ValueError, match="pairs"):
        opt.apply_gradients([a])
    np.testing.assert_array_equal(a.numpy(), before[0])
    np.testing.assert_array_equal(b.numpy(), before[1])
    np.testing.assert_array_equal(opt.get_slot(a, "momentum").numpy(), before[2])
    assert int(opt.iterations) == 1


def test_gradient_on_another_backend_is_a_mismatch():
    names = [s.name for s in pt.list_backends() if s.available]
    if len(names) < 2:
        pytest.skip("needs two available backends")
    w = pt.Variable([1.0], backend=names[0])
    g = pt.constant([1.0], backend=names[1])
    with pytest.raises(pt.BackendMismatchError, match="to_backend"):
        pt.optimizers.SGD().apply_gradients([(g, w)])
    np.testing.assert_array_equal(w.numpy(), [1.0])


def test_minimize_with_a_callable_and_with_a_tape(backend):
    v = pt.Variable(10.0)
    opt = pt.optimizers.SGD(learning_rate=0.1)
    opt.minimize(lambda: v * v / 2.0, [v])        # gradient v = 10
    assert float(v) == pytest.approx(9.0)
    with pt.GradientTape() as tape:
        loss = v * v / 2.0
    opt.minimize(loss, [v], tape=tape)             # gradient 9
    assert float(v) == pytest.approx(9.0 - 0.9)
    with pytest.raises(ValueError, match="tape"):
        opt.minimize(v * 2.0, [v])
    # var_list may be a callable, as in Keras.
    opt.minimize(lambda: v * 3.0, lambda: [v])
    assert float(v) == pytest.approx(8.1 - 0.3)


def test_exponential_decay_schedule_drives_the_learning_rate(backend):
    s = pt.optimizers.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    stair = pt.optimizers.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5, staircase=True)
    for step in range(6):
        assert s(step) == pytest.approx(0.1 * 0.5 ** (step / 2))
        assert stair(step) == pytest.approx(0.1 * 0.5 ** (step // 2))
    # SGD with the schedule: step k (from 0) uses lr(k).
    w = pt.Variable(0.0, dtype=pt.float64)
    opt = pt.optimizers.SGD(learning_rate=s)
    for _ in range(4):
        opt.apply_gradients([(pt.constant(1.0, dtype=pt.float64), w)])
    assert float(w) == pytest.approx(-sum(0.1 * 0.5 ** (k / 2) for k in range(4)), rel=1e-12)
    assert float(opt.learning_rate) == pytest.approx(0.1 * 0.5 ** 2, rel=1e-6)
    with pytest.raises(TypeError):
        opt.learning_rate = 0.3


def test_other_schedules():
    inv = pt.optimizers.InverseTimeDecay(1.0, decay_steps=10, decay_rate=0.5)
    assert inv(20) == pytest.approx(1.0 / (1.0 + 0.5 * 2.0))
    pw = pt.optimizers.schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [pw(0), pw(10), pw(11), pw(20), pw(21)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    with pytest.raises(ValueError):
        pt.optimizers.PiecewiseConstantDecay([1], [1.0])


def test_gradient_clipping(backend):
    g = np.array([3.0, 4.0])          # norm 5
    w = pt.Variable(np.zeros(2))
    pt.optimizers.SGD(learning_rate=1.0, clipnorm=1.0).apply_gradients([(pt.constant(g), w)])
    np.testing.assert_allclose(w.numpy(), -g / 5.0, rtol=1e-12)
    w = pt.Variable(np.zeros(2))
    pt.optimizers.SGD(learning_rate=1.0, clipvalue=3.5).apply_gradients([(pt.constant(g), w)])
    np.testing.assert_allclose(w.numpy(), [-3.0, -3.5])
    w1, w2 = pt.Variable(np.zeros(2)), pt.Variable(np.zeros(1))
    g2 = np.array([12.0])             # global norm 13
    pt.optimizers.SGD(learning_rate=1.0, global_clipnorm=2.6).apply_gradients(
        [(pt.constant(g), w1), (pt.constant(g2), w2)])
    np.testing.assert_allclose(w1.numpy(), -g * 0.2, rtol=1e-12)
    np.testing.assert_allclose(w2.numpy(), -g2 * 0.2, rtol=1e-12)
    with pytest.raises(ValueError, match="at most one"):
        pt.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_bad_hyperparameters_raise():
    with pytest.raises(pt.NotProvidedError, match=r"does not provide Adam\(lr=.*learning_rate"):
        pt.optimizers.Adam(lr=0.01)  # an argument polytape does not take: one consistent error
    with pytest.raises(ValueError, match="momentum"):
        pt.optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError):
        pt.optimizers.SGD(learning_rate=-1.0)
    with pytest.raises(ValueError, match="unknown optimizer"):
        pt.optimizers.get("lbfgs")
    assert isinstance(pt.optimizers.get("NADAM"), pt.optimizers.Nadam)


def test_no_warning_when_every_gradient_exists(backend):
    w = pt.Variable([1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pt.optimizers.RMSprop().apply_gradients([(pt.constant([1.0]), w)])
