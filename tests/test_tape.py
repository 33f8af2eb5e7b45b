"""GradientTape semantics (docs/architecture.md, *The tape*), one test per rule, on every backend."""

from __future__ import annotations

import gc
import threading
import warnings
import weakref

import numpy as np
import pytest

import polytape as pt


def val(t):
    return np.asarray(t.numpy(), dtype=np.float64)


# -- what gets recorded ------------------------------------------------------------------------
def test_unwatched_constant_gives_none(backend):
    x = pt.constant([2.0])
    with pt.GradientTape() as tape:
        f = x**2
    assert tape.gradient(f, x) is None


def test_watched_constant_and_variable_give_gradient(backend):
    x = pt.constant([2.0])
    with pt.GradientTape() as tape:
        tape.watch(x)
        f = x**2
    np.testing.assert_allclose(val(tape.gradient(f, x)), [4.0])
    v = pt.Variable([2.0])
    with pt.GradientTape() as tape:
        f = v**2
    np.testing.assert_allclose(val(tape.gradient(f, v)), [4.0])


def test_ops_outside_the_context_are_not_recorded(backend):
    x = pt.Variable(3.0)
    tape = pt.GradientTape()
    with tape:
        pass
    y = x * x
    assert tape.gradient(y, x) is None


def test_non_trainable_variable_is_not_watched(backend):
    v = pt.Variable(3.0, trainable=False)
    with pt.GradientTape() as tape:
        y = v * v
    assert tape.gradient(y, v) is None
    assert tape.watched_variables() == ()
    with pt.GradientTape() as tape:
        tape.watch(v)
        y = v * v
    assert float(tape.gradient(y, v)) == 6.0


def test_watch_accessed_variables_false_watches_only_what_is_given(backend):
    a, b = pt.Variable(2.0), pt.Variable(5.0)
    with pt.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(a)
        y = a * b
    ga, gb = tape.gradient(y, [a, b])
    assert float(ga) == 5.0 and gb is None
    assert tape.watched_variables() == (a,)


def test_watched_variables_in_order_of_creation(backend):
    # TensorFlow 2.21 lists ['a:0', 'b:0', 'c:0'] for this program: creation order.
    a, b, c = pt.Variable(1.0), pt.Variable(2.0), pt.Variable(3.0)
    with pt.GradientTape() as tape:
        _ = c * b + a
        _ = a * b
    assert tape.watched_variables() == (a, b, c)


def test_watching_is_by_identity_not_value(backend):
    x = pt.constant(3.0)
    twin = pt.constant(3.0)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * twin
    assert float(tape.gradient(y, x)) == 3.0
    assert tape.gradient(y, twin) is None


def test_watching_is_per_tape(backend):
    x = pt.constant(2.0)
    with pt.GradientTape() as t1, pt.GradientTape() as t2:
        t2.watch(x)
        y = x * x * x
    assert t1.gradient(y, x) is None
    assert float(t2.gradient(y, x)) == 12.0


def test_watch_nested_structure(backend):
    a, b, c = pt.constant(3.0), pt.constant(2.0), pt.constant(1.0)
    with pt.GradientTape() as tape:
        tape.watch([a, (b, {"k": c})])
        y = a * b + c
    assert [float(g) for g in tape.gradient(y, [a, b, c])] == [2.0, 3.0, 1.0]


def test_watch_rejects_non_tensor_and_leaves_tape_unchanged(backend):
    x = pt.constant(1.0)
    with pt.GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(ValueError, match="watch"):
            tape.watch([x, 3.0])
        with pytest.raises(pt.InvalidArgumentError):
            tape.watch(np.ones(2))
        y = x * 2.0
    assert float(tape.gradient(y, x)) == 2.0


def test_watch_int_tensor_warns_and_gradient_is_none(backend):
    i = pt.constant([1, 2])
    with pt.GradientTape() as tape:
        with pytest.warns(UserWarning, match="int32"):
            tape.watch(i)
        y = i * 2
    assert tape.gradient(y, i) is None


def test_watch_on_never_entered_tape_says_use_with(backend):
    tape = pt.GradientTape()
    with pytest.raises(pt.TapeError, match=r"with pt\.GradientTape\(\) as tape"):
        tape.watch(pt.constant(3.0))
    with pytest.raises(RuntimeError):  # TapeError is a RuntimeError
        tape.watch(pt.constant(3.0))


# -- gradient(): structures, targets, seeds ------------------------------------------------------
def test_gradient_returns_the_structure_of_sources(backend):
    a, b = pt.Variable(2.0), pt.Variable(3.0)
    with pt.GradientTape(persistent=True) as tape:
        y = a * b
    assert float(tape.gradient(y, a)) == 3.0
    g = tape.gradient(y, (a, b))
    assert isinstance(g, tuple) and [float(v) for v in g] == [3.0, 2.0]
    g = tape.gradient(y, {"b": b, "a": a})
    assert set(g) == {"a", "b"} and float(g["a"]) == 3.0 and float(g["b"]) == 2.0
    g = tape.gradient(y, [a, {"x": [b, a]}])
    assert float(g[0]) == 3.0 and float(g[1]["x"][0]) == 2.0 and float(g[1]["x"][1]) == 3.0


def test_repeated_sources_each_get_the_gradient(backend):
    x = pt.Variable(4.0)
    with pt.GradientTape() as tape:
        y = x * x
    assert [float(g) for g in tape.gradient(y, [x, x])] == [8.0, 8.0]


def test_several_and_non_scalar_targets_give_gradient_of_sum(backend):
    x = pt.Variable([1.0, 2.0, 3.0])
    with pt.GradientTape(persistent=True) as tape:
        y1 = x * x          # non-scalar
        y2 = pt.sum(3.0 * x)
    np.testing.assert_allclose(val(tape.gradient(y1, x)), [2.0, 4.0, 6.0])
    np.testing.assert_allclose(val(tape.gradient([y1, y2], x)), [5.0, 7.0, 9.0])


def test_output_gradients_give_a_vjp(backend):
    x = pt.Variable([1.0, 2.0])
    w = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    with pt.GradientTape() as tape:
        y = pt.matmul(pt.constant(w), x)
    u = np.array([0.5, -1.0], dtype=np.float32)
    np.testing.assert_allclose(val(tape.gradient(y, x, output_gradients=pt.constant(u))), u @ w)


def test_output_gradients_of_wrong_shape_is_a_shape_error(backend):
    x = pt.Variable([1.0, 2.0])
    with pt.GradientTape() as tape:
        y = x * x
    with pytest.raises(pt.ShapeError, match="output_gradients"):
        tape.gradient(y, x, output_gradients=pt.constant([1.0, 2.0, 3.0]))


def test_gradient_with_respect_to_the_target_itself_is_ones(backend):
    x = pt.constant([1.0, 2.0])
    with pt.GradientTape() as tape:
        tape.watch(x)
    np.testing.assert_allclose(val(tape.gradient(x, x)), [1.0, 1.0])


def test_gradient_with_respect_to_an_intermediate(backend):
    x = pt.Variable(3.0)
    with pt.GradientTape() as tape:
        h = x * x
        y = h * 2.0 + h
    assert tape.gradient(y, [h, x])[0].numpy() == 3.0


# -- unconnected and integer ----------------------------------------------------------------------
def test_unconnected_none_and_zero(backend):
    x, z = pt.Variable([1.0, 2.0]), pt.Variable([5.0, 6.0, 7.0])
    with pt.GradientTape(persistent=True) as tape:
        y = pt.sum(x * x)
    assert tape.gradient(y, z) is None
    assert tape.gradient(y, z, unconnected_gradients="none") is None
    g = tape.gradient(y, z, unconnected_gradients=pt.UnconnectedGradients.ZERO)
    assert g.shape == (3,) and g.dtype == pt.float32 and not val(g).any()


def test_invalid_unconnected_gradients_is_value_error_and_tape_still_usable(backend):
    x = pt.Variable(2.0)
    with pt.GradientTape() as tape:
        y = x * x
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(y, x, unconnected_gradients="zeros")
    assert float(tape.gradient(y, x)) == 4.0  # the non-persistent tape was not consumed


def test_integer_sources_and_targets_give_none(backend):
    i = pt.Variable([1, 2, 3])
    f = pt.Variable([1.0, 2.0, 3.0])
    with pt.GradientTape(persistent=True) as tape:
        yi = i * 2
        yf = pt.sum(f * pt.cast(i, pt.float32))
        k = pt.cast(f, pt.int32)           # float -> int -> float cuts the gradient
        back = pt.sum(pt.cast(k, pt.float32))
    assert tape.gradient(yi, i) is None
    assert tape.gradient(yf, i) is None
    np.testing.assert_allclose(val(tape.gradient(yf, f)), [1.0, 2.0, 3.0])
    assert tape.gradient(k, f) is None
    assert tape.gradient(back, f) is None


def test_float_to_float_cast_passes_gradient_in_source_dtype(backend):
    x = pt.Variable([1.0, 2.0], dtype=pt.float64)
    with pt.GradientTape() as tape:
        y = pt.sum(pt.cast(x, pt.float32) ** 2)
    g = tape.gradient(y, x)
    assert g.dtype == pt.float64
    np.testing.assert_allclose(val(g), [2.0, 4.0])


# -- life cycle ------------------------------------------------------------------------------------
def test_non_persistent_tape_second_call_raises(backend):
    x = pt.Variable(2.0)
    with pt.GradientTape() as tape:
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used to "
                                           "compute one set of gradients.*persistent=True"):
        tape.gradient(y, x)
    with pytest.raises(pt.TapeError):
        tape.jacobian(y, x)


def test_non_persistent_tape_releases_its_records(backend):
    x = pt.Variable([1.0, 2.0, 3.0])
    with pt.GradientTape() as tape:
        h = pt.exp(x)
        y = pt.sum(h * h)
    ref = weakref.ref(h)
    del h
    gc.collect()
    assert ref() is not None  # the tape keeps the intermediate alive until gradient()
    tape.gradient(y, x)
    gc.collect()
    assert ref() is None


def test_persistent_tape_answers_many_calls(backend):
    x = pt.Variable(2.0)
    with pt.GradientTape(persistent=True) as tape:
        f = x**2
        h = x**3
    assert float(tape.gradient(f, x)) == 4.0
    assert float(tape.gradient(h, x)) == 12.0
    assert float(tape.gradient(f, x)) == 4.0


def test_reentering_an_active_tape_is_a_value_error(backend):
    tape = pt.GradientTape()
    with tape:
        with pytest.raises(ValueError, match="already recording"):
            tape.__enter__()


def test_reentering_a_finished_tape_resumes_recording(backend):
    x = pt.Variable(3.0)
    tape = pt.GradientTape(persistent=True)
    with tape:
        a = x * x
    b = a * x  # not recorded
    with tape:
        c = a * x
    assert tape.gradient(b, x) is None
    assert float(tape.gradient(c, x)) == 27.0


def test_stop_recording(backend):
    x = pt.Variable(2.0)
    with pt.GradientTape(persistent=True) as tape:
        y = x * x
        with tape.stop_recording():
            z = x * x
        w = y + z
    assert float(tape.gradient(w, x)) == 4.0
    assert tape.gradient(z, x) is None
    with pytest.raises(RuntimeError, match="not recording"):
        with tape.stop_recording():
            pass


def test_stop_recording_affects_only_its_tape(backend):
    x = pt.Variable(2.0)
    with pt.GradientTape() as outer, pt.GradientTape() as inner:
        with inner.stop_recording():
            y = x * x
    assert inner.gradient(y, x) is None
    assert float(outer.gradient(y, x)) == 4.0


def test_reset(backend):
    x = pt.Variable(2.0)
    with pt.GradientTape() as tape:
        y = x * x
        tape.reset()
        z = x * x * x
    assert tape.watched_variables() == (x,)
    assert float(tape.gradient(z, x)) == 12.0
    with pt.GradientTape(persistent=True) as tape:
        y = x * x
        tape.reset()
    assert tape.gradient(y, x) is None


def test_gradient_inside_context_non_persistent_stops_recording(backend):
    x = pt.Variable(3.0)
    with pt.GradientTape() as tape:
        y = x * x
        g = tape.gradient(y, x)
        z = y * 2.0  # no longer recorded: no error at exit either
    assert float(g) == 6.0
    assert float(z) == 18.0


def test_gradient_inside_persistent_context_records_and_warns_once(backend):
    x = pt.Variable(3.0)
    with pt.GradientTape(persistent=True) as tape:
        y = x * x * x
        with pytest.warns(UserWarning, match="persistent"):
            g = tape.gradient(y, x)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            g2 = tape.gradient(g, x)  # the backward pass was recorded: 2nd derivative
    assert float(g) == 27.0 and float(g2) == 18.0


# -- higher order ------------------------------------------------------------------------------------
def test_nested_tapes_to_third_order(backend):
    x = pt.Variable(2.0)
    with pt.GradientTape() as t3:
        with pt.GradientTape() as t2:
            with pt.GradientTape() as t1:
                y = x**4 + pt.sin(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    np.testing.assert_allclose(float(d1), 4 * 8 + np.cos(2.0), rtol=1e-6)
    np.testing.assert_allclose(float(d2), 12 * 4 - np.sin(2.0), rtol=1e-6)
    np.testing.assert_allclose(float(d3), 24 * 2 - np.cos(2.0), rtol=1e-6)


def test_second_order_through_matmul_and_broadcast(backend):
    x = pt.Variable(np.array([0.5, -1.0, 2.0]), dtype=pt.float64)
    a = pt.constant(np.arange(9.0).reshape(3, 3))
    with pt.GradientTape() as outer:
        with pt.GradientTape() as inner:
            y = pt.sum(pt.matmul(a, x) ** 2 * pt.constant([[1.0], [2.0]]))
        g = inner.gradient(y, x)
    h = outer.jacobian(g, x)
    an = np.arange(9.0).reshape(3, 3)
    np.testing.assert_allclose(val(h), 2 * 3 * an.T @ an, rtol=1e-10)


# -- jacobians -----------------------------------------------------------------------------------------
def test_jacobian_values_and_shapes(backend):
    x = pt.constant([[1.0, 2.0], [3.0, 4.0]])
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = pt.sum(x * x, axis=1)
        z = pt.constant([1.0, 2.0, 3.0])
    j = tape.jacobian(y, x)
    assert j.shape == (2, 2, 2)
    expected = np.zeros((2, 2, 2))
    xn = np.array([[1.0, 2.0], [3.0, 4.0]])
    for i in range(2):
        expected[i, i] = 2 * xn[i]
    np.testing.assert_allclose(val(j), expected)
    assert tape.jacobian(z, x) is None
    jz = tape.jacobian(z, x, unconnected_gradients="zero")
    assert jz.shape == (3, 2, 2) and not val(jz).any()
    js = tape.jacobian(y, {"a": x})
    assert js["a"].shape == (2, 2, 2)


def test_batch_jacobian(backend):
    x = pt.constant(np.arange(6.0).reshape(3, 2), dtype=pt.float32)
    w = pt.constant([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]])
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = pt.matmul(x, w) * pt.sum(x, axis=1, keepdims=True)
    bj = tape.batch_jacobian(y, x)
    assert bj.shape == (3, 3, 2)
    xn, wn = np.arange(6.0).reshape(3, 2), val(w)
    for b in range(3):
        s = xn[b].sum()
        expected = wn.T * s + np.outer(xn[b] @ wn, np.ones(2))
        np.testing.assert_allclose(val(bj[b]), expected, rtol=1e-6)
    full = tape.jacobian(y, x)
    np.testing.assert_allclose(val(full)[[0, 1, 2], :, [0, 1, 2], :], val(bj), rtol=1e-6)


def test_batch_jacobian_rank_and_batch_errors(backend):
    x = pt.constant([[1.0, 2.0], [3.0, 4.0]])
    s = pt.constant(2.0)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch([x, s])
        y = x * s
        q = pt.sum(x)
        wrong = pt.concat([y, y], axis=0)
    with pytest.raises(ValueError, match="must have rank at least 2"):
        tape.batch_jacobian(q, x)
    with pytest.raises(ValueError, match="Need first dimension of target shape"):
        tape.batch_jacobian(wrong, x)
    assert tape.batch_jacobian(y, x).shape == (2, 2, 2)  # the tape survived the errors


# -- threads ------------------------------------------------------------------------------------------
def test_tape_stack_is_per_thread(backend):
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def work(name: str, value: float, power: int) -> None:
        try:
            with pt.use_backend(backend):
                x = pt.Variable(value)
                with pt.GradientTape() as tape:
                    barrier.wait()
                    y = x
                    for _ in range(power - 1):
                        y = y * x
                    barrier.wait()
                results[name] = (float(tape.gradient(y, x)), tape.watched_variables() == (x,))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=("a", 2.0, 3)),
               threading.Thread(target=work, args=("b", 3.0, 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == {"a": (12.0, True), "b": (6.0, True)}


# -- custom gradients and stop_gradient -----------------------------------------------------------------
def test_custom_gradient(backend):
    @pt.custom_gradient
    def clipped_identity(x):
        return pt.identity(x), lambda dy: pt.minimum(dy, 0.5)

    x = pt.constant([1.0, 2.0])
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = clipped_identity(x) * pt.constant([0.25, 3.0])
    np.testing.assert_allclose(val(tape.gradient(y, x)), [0.25, 0.5])


def test_custom_gradient_seed_example(backend):
    @pt.custom_gradient
    def custom_function_with_gradient(x):
        y = pt.square(x)

        def grad(dy):
            return 2 * x * dy
        return y, grad

    x = pt.constant(3.0)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = custom_function_with_gradient(x)
    assert float(y) == 9.0 and float(tape.gradient(y, x)) == 6.0


def test_custom_gradient_is_differentiable_twice(backend):
    @pt.custom_gradient
    def cube(x):
        return x * x * x, lambda dy: 3 * x * x * dy

    x = pt.Variable(2.0)
    with pt.GradientTape() as outer:
        with pt.GradientTape() as inner:
            y = cube(x)
        g = inner.gradient(y, x)
    assert float(g) == 12.0 and float(outer.gradient(g, x)) == 12.0


def test_custom_gradient_with_variables(backend):
    w = pt.Variable(3.0)

    @pt.custom_gradient
    def scale(x):
        def grad(dy, variables=None):
            return dy * w, [dy * x * 10.0]
        return x * w, grad

    x = pt.constant(2.0)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = scale(x)
    gx, gw = tape.gradient(y, [x, w])
    assert float(gx) == 3.0 and float(gw) == 20.0


def test_custom_gradient_errors(backend):
    w = pt.Variable(3.0)

    @pt.custom_gradient
    def uses_variable(x):
        return x * w, lambda dy: dy

    @pt.custom_gradient
    def two_grads(x):
        return x * 2.0, lambda dy: (dy, dy)

    x = pt.constant(1.0)
    with pt.GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(ValueError, match="variables"):
            uses_variable(x)
        y = two_grads(x)
    with pytest.raises(ValueError, match="expected to return 1 gradients, but returned 2"):
        tape.gradient(y, x)


def test_stop_gradient(backend):
    x = pt.Variable(3.0)
    with pt.GradientTape() as tape:
        y = x * pt.stop_gradient(x)
    assert float(tape.gradient(y, x)) == 3.0
