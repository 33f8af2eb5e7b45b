"""Forward mode: ``ForwardAccumulator`` with TensorFlow's semantics, and the second-derivative
helpers built on it (``hessian_vector_product``, ``hessian``)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import polytape as pt
from polytape import dispatch


def _np(t: pt.Tensor) -> np.ndarray:
    return np.asarray(t.numpy(), dtype=np.float64)


# -- the acceptance examples -------------------------------------------------------------------------
def test_hvp_of_sum_of_cubes(backend: str) -> None:
    hvp = pt.hessian_vector_product(lambda x: pt.sum(x ** 3), pt.constant([1.0, 2.0]),
                                    pt.constant([1.0, 0.0]))
    assert hvp.backend == backend
    np.testing.assert_allclose(_np(hvp), [6.0, 0.0])  # H = diag(6 x)


def test_hessian_of_quadratic_form_is_a_plus_a_transpose(backend: str) -> None:
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 4))
    A = pt.constant(a)
    h = pt.hessian(lambda x: pt.sum(x * pt.matmul(A, x)), pt.constant(rng.standard_normal(4)))
    assert h.shape == (4, 4)
    np.testing.assert_allclose(_np(h), a + a.T, atol=1e-12)


def test_hvp_matches_nested_tapes_on_a_small_network(backend: str) -> None:
    rng = np.random.default_rng(4)
    w = pt.constant(rng.standard_normal((3, 4)))
    inputs = pt.constant(rng.standard_normal((5, 3)))
    labels = np.eye(4)[rng.integers(0, 4, 5)]

    def loss(w: pt.Tensor) -> pt.Tensor:
        logits = pt.tanh(pt.matmul(inputs, w))
        return -pt.sum(pt.constant(labels) * pt.log_softmax(logits)) + pt.logsumexp(w) + pt.norm(w)

    v = pt.constant(rng.standard_normal((3, 4)))
    hvp = pt.hessian_vector_product(loss, w, v)
    with pt.GradientTape() as outer:
        outer.watch(w)
        with pt.GradientTape() as inner:
            inner.watch(w)
            y = loss(w)
        g = inner.gradient(y, w)
        gv = pt.sum(g * v)
    np.testing.assert_allclose(_np(hvp), _np(outer.gradient(gv, w)), rtol=1e-10, atol=1e-12)


def test_hvp_of_a_structure_keeps_it(backend: str) -> None:
    x = {"a": pt.constant([1.0, 2.0]), "b": pt.constant(3.0)}
    v = {"a": pt.constant([1.0, 1.0]), "b": pt.constant(2.0)}
    out = pt.hessian_vector_product(lambda p: pt.sum(p["a"] ** 2) * p["b"], x, v)
    # f = b * |a|^2: H v = (2 b v_a + 2 a v_b, 2 a . v_a)
    np.testing.assert_allclose(_np(out["a"]), [2 * 3 * 1 + 2 * 1 * 2, 2 * 3 * 1 + 2 * 2 * 2])
    np.testing.assert_allclose(_np(out["b"]), 2 * (1 + 2))


# -- TensorFlow's semantics -----------------------------------------------------------------------------
def test_jvp_is_a_lookup_valid_after_exit(backend: str) -> None:
    x = pt.constant([0.5, 1.0], dtype="float64")
    with pt.ForwardAccumulator(x, pt.constant([2.0, -1.0], dtype="float64")) as acc:
        y = pt.sin(x) * x
        inside = acc.jvp(y)
    z = pt.exp(x)  # after exit: not seen
    want = np.array([2.0, -1.0]) * (np.cos([0.5, 1.0]) * [0.5, 1.0] + np.sin([0.5, 1.0]))
    np.testing.assert_allclose(_np(acc.jvp(y)), want)
    np.testing.assert_allclose(_np(inside), want)
    np.testing.assert_allclose(_np(acc.jvp(x)), [2.0, -1.0])  # a primal's own tangent
    assert acc.jvp(z) is None
    np.testing.assert_array_equal(_np(acc.jvp(z, unconnected_gradients="zero")), [0.0, 0.0])
    assert acc.jvp([y, z])[1] is None


def test_duplicate_primal_is_an_error() -> None:
    x = pt.constant(1.0)
    with pytest.raises(ValueError, match="more than once"):
        pt.ForwardAccumulator([x, x], [pt.constant(1.0), pt.constant(2.0)])


def test_bad_constructions_raise() -> None:
    x = pt.constant([1.0, 2.0])
    with pytest.raises(pt.InvalidArgumentError, match="tangents"):
        pt.ForwardAccumulator([x], [])
    with pytest.raises(pt.ShapeError, match="tangent of shape"):
        pt.ForwardAccumulator(x, pt.constant([1.0, 2.0, 3.0]))
    with pytest.raises(pt.InvalidArgumentError):
        pt.ForwardAccumulator(1.0, 1.0)
    acc = pt.ForwardAccumulator(x, [1.0, 1.0])
    with pytest.raises(ValueError, match="unconnected_gradients"):
        acc.jvp(x, unconnected_gradients="maybe")


def test_entering_twice_is_an_error_and_reentry_resumes() -> None:
    before = dispatch._recording
    x = pt.constant(2.0)
    acc = pt.ForwardAccumulator(x, pt.constant(1.0))
    with acc:
        with pytest.raises(ValueError, match="already active"):
            acc.__enter__()
        y = x * x
    assert dispatch._recording == before
    outside = x * x
    with acc:
        z = y * x
    assert acc.jvp(outside) is None
    assert float(acc.jvp(y)) == 4.0
    assert float(acc.jvp(z)) == 3 * 4.0  # d(x^3) = 3 x^2, through y's recorded tangent
    assert dispatch._recording == before


def test_tangents_take_the_primal_dtype_and_follow_promotion(backend: str) -> None:
    x = pt.constant([1.0, 2.0], dtype="float32")
    with pt.ForwardAccumulator(x, [1.0, 1.0]) as acc:
        y = x * pt.constant([3.0, 3.0], dtype="float64")
        k = pt.cast(x, "int32") * 2  # integer: no tangent
    assert acc.jvp(x).dtype == pt.float32
    assert acc.jvp(y).dtype == pt.float64
    np.testing.assert_allclose(_np(acc.jvp(y)), [3.0, 3.0])
    assert acc.jvp(k) is None


def test_integer_primals_carry_no_tangent() -> None:
    i = pt.constant([1, 2])
    with pt.ForwardAccumulator(i, [1, 1]) as acc:
        y = pt.cast(i, "float32") * 2.0
    assert acc.jvp(i) is None and acc.jvp(y) is None


def test_variables_as_primals(backend: str) -> None:
    v = pt.Variable([1.0, 3.0])
    with pt.ForwardAccumulator(v, pt.constant([1.0, 0.5])) as acc:
        y = v * v
        v.assign([2.0, 2.0])
        z = pt.sum(v)
    np.testing.assert_allclose(_np(acc.jvp(y)), [2.0, 3.0])  # 2 v t with the value the op saw
    np.testing.assert_allclose(_np(acc.jvp(z)), 1.5)


def test_structures_in_and_out() -> None:
    p = {"w": pt.constant([1.0, 2.0]), "b": pt.constant(0.5)}
    t = {"w": pt.constant([1.0, 1.0]), "b": pt.constant(2.0)}
    with pt.ForwardAccumulator(p, t) as acc:
        out = {"s": pt.sum(p["w"]) + p["b"], "p": p["w"] * p["b"]}
    j = acc.jvp(out)
    assert set(j) == {"s", "p"}
    np.testing.assert_allclose(_np(j["s"]), 4.0)
    np.testing.assert_allclose(_np(j["p"]), [1 * 0.5 + 1 * 2, 1 * 0.5 + 2 * 2])


# -- nesting --------------------------------------------------------------------------------------------
def test_nested_accumulators_outer_sees_inner_not_the_reverse(backend: str) -> None:
    x = pt.constant(0.7, dtype="float64")
    with pt.ForwardAccumulator(x, pt.constant(2.0, dtype="float64")) as outer:
        with pt.ForwardAccumulator(x, pt.constant(3.0, dtype="float64")) as inner:
            y = pt.sin(x)
        inner_t = inner.jvp(y)
    outer_t = outer.jvp(y)
    np.testing.assert_allclose(_np(inner_t), 3 * np.cos(0.7))
    np.testing.assert_allclose(_np(outer_t), 2 * np.cos(0.7))
    np.testing.assert_allclose(_np(outer.jvp(inner_t)), -2 * 3 * np.sin(0.7))  # second derivative
    assert inner.jvp(outer_t) is None  # the inner one never sees the outer one's work


def test_forward_over_backward(backend: str) -> None:
    x = pt.constant([0.3, -0.4], dtype="float64")
    v = pt.constant([1.0, 2.0], dtype="float64")
    with pt.ForwardAccumulator(x, v) as acc:
        with pt.GradientTape() as tape:
            tape.watch(x)
            y = pt.sum(pt.exp(x) * pt.sin(x))
        g = tape.gradient(y, x)  # the backward pass runs inside the accumulator: it is seen
    a = np.array([0.3, -0.4])
    hessian_diag = 2 * np.exp(a) * np.cos(a)  # d2/dx2 of e^x sin x
    np.testing.assert_allclose(_np(acc.jvp(g)), hessian_diag * [1.0, 2.0])


def test_backward_over_forward(backend: str) -> None:
    x = pt.constant([0.3, -0.4], dtype="float64")
    with pt.GradientTape() as tape:
        tape.watch(x)
        with pt.ForwardAccumulator(x, pt.constant([1.0, 2.0], dtype="float64")) as acc:
            y = pt.sum(x ** 3)
        jvp = acc.jvp(y)  # 3 x^2 . v, computed while the tape recorded
    np.testing.assert_allclose(_np(tape.gradient(jvp, x)), 6 * np.array([0.3, -0.4]) * [1.0, 2.0])


def test_a_tape_inside_an_accumulator_does_not_record_its_tangents(backend: str) -> None:
    x = pt.constant([0.3, -0.4], dtype="float64")
    with pt.ForwardAccumulator(x, pt.ones_like(x)) as acc:
        with pt.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = pt.sin(x)
    assert acc.jvp(y) is not None
    assert tape.gradient(acc.jvp(y), x) is None  # strict nesting: the tape is inside
    np.testing.assert_allclose(_np(tape.gradient(y, x)), np.cos([0.3, -0.4]))


def test_custom_gradient_is_used_in_forward_mode(backend: str) -> None:
    @pt.custom_gradient
    def scaled_identity(x: pt.Tensor):  # the value is x, the declared gradient 3 dy
        return pt.identity(x), lambda dy: 3.0 * dy

    x = pt.constant([1.0, 2.0])
    with pt.ForwardAccumulator(x, pt.constant([1.0, -1.0])) as acc:
        y = scaled_identity(x) * 2.0
    np.testing.assert_allclose(_np(acc.jvp(y)), [6.0, -6.0])


def test_accumulators_are_per_thread() -> None:
    x = pt.constant(2.0)
    seen = {}

    def other() -> None:
        seen["y"] = x * x  # runs while the main thread's accumulator is active

    with pt.ForwardAccumulator(x, pt.constant(1.0)) as acc:
        t = threading.Thread(target=other)
        t.start()
        t.join()
        mine = x * x
    assert acc.jvp(seen["y"]) is None
    assert float(acc.jvp(mine)) == 4.0
