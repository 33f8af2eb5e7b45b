"""The torch backend's pt.function compiler (backends/torch/plan.py): every op of the table,
traced, gives through the TorchScript graph exactly what the plain replay gives, forward and
backward; plans it cannot take fall back to the plain replay."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt

torch = pytest.importorskip("torch")
plan_module = pytest.importorskip("polytape.backends.torch.plan")


@pytest.fixture
def every_plan(monkeypatch):
    """Compile plans of any length (the default leaves short ones to the plain replay)."""
    monkeypatch.setattr(plan_module, "MIN_OPS", 1)


def _recipe_cases():
    from polytape.conformance.recipes import op_samples

    for name, sample, dtype in op_samples():
        yield pytest.param(name, sample, dtype, id=f"{name}-{sample.label}")


def _flat(x):
    from polytape import nest
    return nest.flatten(x)


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name,sample,dtype", list(_recipe_cases()))
def test_every_op_gives_through_the_graph_what_the_plain_replay_gives(every_plan, name, sample,
                                                                       dtype):
    from polytape.conformance.recipes import RECIPES, draw

    recipe = RECIPES[name]
    arrays = draw(name, sample, dtype)

    def tensors(flip):
        return [pt.constant(np.flip(a) if flip and a.dtype.kind == "f" else a,
                            dtype=dtype if a.dtype.kind == "f" else None, backend="torch")
                for a in arrays]

    def call(*ts):
        return recipe.invoke(*ts, **sample.attrs)

    traced = pt.function(call)
    try:
        call(*tensors(False))
    except pt.PolytapeError:
        pytest.skip("the sample is an error case")
    concrete = traced.get_concrete_function(*tensors(False))
    plain = concrete.plan.compile()
    for flip in (False, True, True):  # the first call traces the graph, later ones run it
        args = [t._data for t in tensors(flip)]
        got, want = concrete.replay(*args), plain(*args)
        assert len(got) == len(want)
        for a, b in zip(got, want):
            _same(pt.constant(a, backend="torch").numpy(), pt.constant(b, backend="torch").numpy())
        eager = call(*tensors(flip))
        for a, b in zip(_flat(traced(*tensors(flip))), _flat(eager)):
            _same(a.numpy(), b.numpy())


@pytest.mark.parametrize("name,sample,dtype", [c for c in _recipe_cases() if c.values[2] == "float64"])
def test_every_op_differentiates_through_compiled_forward_and_backward_plans(every_plan, name,
                                                                             sample, dtype):
    from polytape.conformance.recipes import RECIPES, draw
    from polytape.optable import OPS

    recipe = RECIPES[name]
    if not (OPS[name].differentiable and recipe.grad):
        pytest.skip("not differentiable")
    arrays = draw(name, sample, dtype)

    def call(*ts):
        return recipe.invoke(*ts, **sample.attrs)

    def tensors():
        return [pt.constant(a, dtype=dtype if a.dtype.kind == "f" else None, backend="torch")
                for a in arrays]

    def gradients(fn):
        ts = tensors()
        with pt.GradientTape() as tape:
            tape.watch([t for t in ts if t.dtype.is_floating])
            y = fn(*ts)
        return tape.gradient([t for t in _flat(y) if t.dtype.is_floating], ts)

    traced = pt.function(call)
    try:
        eager = gradients(call)
    except pt.PolytapeError:
        pytest.skip("the sample is an error case")
    traced(*tensors())
    for _ in range(2):  # traces the forward and backward plans' graphs, then runs them
        replayed = gradients(traced)
        for a, b in zip(replayed, eager):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-300)


def test_most_op_cases_run_as_graphs(every_plan):
    """The cases above exercise the graph, not only the fallback: most single-op plans of
    the table become graphs."""
    from polytape.conformance.recipes import RECIPES, draw

    graphs = total = 0
    for case in _recipe_cases():
        name, sample, dtype = case.values
        arrays = draw(name, sample, dtype)
        ts = [pt.constant(a, dtype=dtype if a.dtype.kind == "f" else None, backend="torch")
              for a in arrays]
        traced = pt.function(lambda *ts, r=RECIPES[name], s=sample: r.invoke(*ts, **s.attrs))
        try:
            concrete = traced.get_concrete_function(*ts)
            concrete.replay(*[t._data for t in ts])
        except pt.PolytapeError:
            continue
        total += 1
        replay = concrete.replay
        graphs += isinstance(replay, plan_module._TracedReplay) and replay._graph is not None
    assert graphs > 0.6 * total, (graphs, total)


def _step_plan(n_ops):
    @pt.function
    def f(x):
        for _ in range(n_ops):
            x = pt.sin(x) * 1.5
        return x
    return f


def test_a_long_plan_runs_as_a_graph_and_a_short_one_as_the_plain_replay():
    x = pt.constant([0.1, 0.2, 0.3], dtype=pt.float32, backend="torch")
    long, short = _step_plan(plan_module.MIN_OPS), _step_plan(2)
    for f in (long, short):
        for _ in range(3):
            out = f(x)
    assert isinstance(long.get_concrete_function(x).replay, plan_module._TracedReplay)
    assert long.get_concrete_function(x).replay._graph is not None
    assert not isinstance(short.get_concrete_function(x).replay, plan_module._TracedReplay)
    want = np.array([0.1, 0.2, 0.3], np.float32)
    for _ in range(plan_module.MIN_OPS):
        want = np.sin(want) * np.float32(1.5)
    np.testing.assert_allclose(long(x).numpy(), want, rtol=1e-5)
    short_want = np.sin(np.sin(np.array([0.1, 0.2, 0.3], np.float32)) * 1.5) * 1.5
    np.testing.assert_allclose(out.numpy(), short_want, rtol=1e-5)


def test_relu_backward_in_a_graph_gives_zero_at_nan(every_plan):
    g = pt.constant([1.0, 2.0, 3.0, 4.0], backend="torch")

    from polytape.plugins import apply_op

    @pt.function
    def h(g, x):
        return apply_op("relu_backward", g * 1.0, x * 1.0)

    for xs in ([1.0, -1.0, float("nan"), 0.0], [float("nan"), 2.0, -0.0, float("inf")]):
        x = pt.constant(xs, backend="torch")
        for _ in range(2):
            out = h(g, x)
        want = np.where(np.array(xs) > 0, [1.0, 2.0, 3.0, 4.0], 0.0)
        np.testing.assert_array_equal(out.numpy(), want.astype(np.float32))
    assert h.get_concrete_function(g, x).replay._graph is not None


def test_a_training_step_with_reads_host_steps_and_writes_updates_as_the_plain_replay(every_plan):
    rng = np.random.default_rng(0)
    xn, yn, w0 = (rng.standard_normal(s).astype(np.float32) for s in ((8, 3), (8, 1), (3, 1)))

    def fit(compiled):
        x, y = pt.constant(xn, backend="torch"), pt.constant(yn, backend="torch")
        w = pt.Variable(pt.constant(w0, backend="torch"))
        opt = pt.optimizers.Nadam(learning_rate=0.01)

        @pt.function
        def step(x, y):
            with pt.GradientTape() as tape:
                loss = pt.sum(pt.square(y - x @ w))
            opt.apply_gradients([(tape.gradient(loss, w), w)])
            return loss

        losses = [step(x, y).numpy() for _ in range(5)]
        replay = step.get_concrete_function(x, y).replay
        assert isinstance(replay, plan_module._TracedReplay) == compiled
        return losses, w.numpy()

    plan_module_min = plan_module.MIN_OPS
    got = fit(True)
    plan_module.MIN_OPS = 10 ** 9
    try:
        want = fit(False)
    finally:
        plan_module.MIN_OPS = plan_module_min
    for a, b in zip(got[0], want[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(got[1], want[1])


def test_a_plan_with_an_effect_keeps_the_plain_replay(every_plan):
    v = pt.Variable(pt.constant([1.0, 2.0], backend="torch"))

    @pt.function
    def f(x):
        v.assign_add(x)
        return pt.sin(v) * 2.0

    x = pt.constant([0.5, 0.5], backend="torch")
    for _ in range(3):
        out = f(x)
    assert not isinstance(f.get_concrete_function(x).replay, plan_module._TracedReplay)
    np.testing.assert_allclose(out.numpy(), np.sin([2.5, 3.5]) * 2.0, rtol=1e-6)
    np.testing.assert_allclose(v.numpy(), [2.5, 3.5])
