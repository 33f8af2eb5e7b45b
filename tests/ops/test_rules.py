"""The derivative conventions the table's random inputs cannot reach: ties, kinks, zeros,
repeated indices, overflow -- each checked against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt


def grad(f, x, **kw):
    x = pt.constant(x, dtype="float64")
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x, **kw).numpy()


def jvp(f, x, t):
    x = pt.constant(x, dtype="float64")
    with pt.ForwardAccumulator(x, pt.constant(t, dtype="float64")) as acc:
        y = f(x)
    return acc.jvp(y).numpy()


# -- ties and kinks ------------------------------------------------------------------------------
def test_max_and_min_split_the_gradient_evenly_among_ties(backend: str) -> None:
    # TensorFlow's rule: each of k tied extrema gets 1/k.
    np.testing.assert_allclose(grad(pt.max, [1.0, 3.0, 3.0, 2.0]), [0, 0.5, 0.5, 0])
    np.testing.assert_allclose(grad(pt.min, [1.0, 1.0, 1.0, 2.0]), [1 / 3, 1 / 3, 1 / 3, 0])
    np.testing.assert_allclose(grad(lambda x: pt.max(x, axis=1), [[3.0, 3.0], [1.0, 2.0]]),
                               [[0.5, 0.5], [0, 1]])
    # the JVP agrees: the average of the tied entries' tangents
    np.testing.assert_allclose(jvp(pt.max, [1.0, 3.0, 3.0, 2.0], [1.0, 2.0, 3.0, 4.0]), 2.5)


def test_maximum_and_minimum_give_ties_to_the_first_input(backend: str) -> None:
    x, y = pt.constant([1.0, 2.0], dtype="float64"), pt.constant([1.0, 0.0], dtype="float64")
    for fn in (pt.maximum, pt.minimum):
        with pt.GradientTape() as tape:
            tape.watch([x, y])
            out = fn(x, y)
        gx, gy = tape.gradient(out, [x, y])
        assert gx.numpy()[0] == 1.0 and gy.numpy()[0] == 0.0


def test_clip_passes_the_gradient_inside_the_closed_interval(backend: str) -> None:
    np.testing.assert_array_equal(grad(lambda x: pt.clip(x, 0.0, 1.0), [-1.0, 0.0, 0.5, 1.0, 2.0]),
                                  [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(jvp(lambda x: pt.clip(x, 0.0, 1.0), [-1.0, 0.0, 2.0], [5.0, 5.0, 5.0]),
                                  [0, 5, 0])


def test_relu_and_abs_have_zero_gradient_at_zero(backend: str) -> None:
    np.testing.assert_array_equal(grad(pt.relu, [-1.0, 0.0, 2.0]), [0, 0, 1])
    np.testing.assert_array_equal(grad(pt.abs, [-1.0, 0.0, 2.0]), [-1, 0, 1])


def test_norm_gradient_at_zero_is_zero_not_nan(backend: str) -> None:
    np.testing.assert_array_equal(grad(pt.norm, [0.0, 0.0]), [0.0, 0.0])
    np.testing.assert_array_equal(grad(lambda x: pt.norm(x, ord=3), [0.0, 0.0]), [0.0, 0.0])
    np.testing.assert_allclose(grad(pt.norm, [3.0, 4.0]), [0.6, 0.8])


# -- zeros, repeats, structure ---------------------------------------------------------------------
def test_prod_gradient_is_exact_with_zeros(backend: str) -> None:
    np.testing.assert_array_equal(grad(pt.prod, [2.0, 0.0, 3.0]), [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(grad(pt.prod, [0.0, 0.0, 3.0]), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad(lambda x: pt.prod(x, axis=1), [[2.0, 0.0], [3.0, 4.0]]),
                                  [[0.0, 2.0], [4.0, 3.0]])
    # second derivatives too: d2 (x0 x1 x2) / dx_i dx_j is the remaining entry
    h = pt.hessian(pt.prod, pt.constant([0.0, 0.0, 3.0], dtype="float64")).numpy()
    np.testing.assert_array_equal(h, [[0, 3, 0], [3, 0, 0], [0, 0, 0]])
    h = pt.hessian(pt.prod, pt.constant([2.0, 0.0, 3.0], dtype="float64")).numpy()
    np.testing.assert_array_equal(h, [[0, 3, 0], [3, 0, 2], [0, 2, 0]])


def test_gather_and_indexing_accumulate_repeated_indices(backend: str) -> None:
    np.testing.assert_array_equal(grad(lambda x: pt.sum(pt.take(x, [0, 0, 2])), [1.0, 2.0, 3.0]),
                                  [2, 0, 1])
    np.testing.assert_array_equal(
        grad(lambda x: pt.sum(pt.gather(x, pt.constant([1, 1, 1]), axis=0)), [[1.0, 2.0], [3.0, 4.0]]),
        [[0, 0], [3, 3]])
    np.testing.assert_array_equal(grad(lambda x: pt.sum(x[[2, 2]] * 5.0), [1.0, 2.0, 3.0]), [0, 0, 10])
    mask = pt.constant([True, False, True])
    np.testing.assert_array_equal(grad(lambda x: pt.sum(x[mask] ** 2), [1.0, 2.0, 3.0]), [2, 0, 6])


def test_split_pieces_send_their_gradients_back(backend: str) -> None:
    def f(x):
        a, b, c = pt.split(x, [1, 2, -1])
        return pt.sum(a) + 2 * pt.sum(b) + 3 * pt.sum(c)

    np.testing.assert_array_equal(grad(f, [1.0, 1.0, 1.0, 1.0, 1.0]), [1, 2, 2, 3, 3])


def test_cumsum_gradient_is_the_reversed_running_sum(backend: str) -> None:
    u = np.array([1.0, 2.0, 3.0])
    x = pt.constant([5.0, 6.0, 7.0], dtype="float64")
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = pt.cumsum(x)
    np.testing.assert_array_equal(tape.gradient(y, x, output_gradients=pt.constant(u)).numpy(),
                                  [6.0, 5.0, 3.0])


def test_einsum_forms(backend: str) -> None:
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(12.0).reshape(3, 4)
    assert pt.einsum("ij,jk", pt.constant(a), pt.constant(b)).shape == (2, 4)
    np.testing.assert_allclose(pt.einsum("ba", pt.constant(a)).numpy(), a.T)  # implicit: sorted
    np.testing.assert_allclose(pt.einsum("...j,j->...", pt.constant(a), pt.constant([1.0, 2.0, 3.0]))
                               .numpy(), a @ [1.0, 2.0, 3.0])
    np.testing.assert_allclose(pt.einsum("ij,kj->ik", pt.constant(a), pt.constant(a[:1])).numpy(),
                               a @ a[:1].T)  # same letter sizes
    # the gradient of a trace is the identity; of a diagonal, the identity weighted by u
    np.testing.assert_array_equal(grad(lambda x: pt.einsum("ii", x), np.ones((3, 3))), np.eye(3))
    # a size-1 operand broadcast along a letter gets the summed gradient
    np.testing.assert_array_equal(grad(lambda x: pt.sum(pt.einsum("ij,ij->ij", x, pt.ones((4, 3),
                                                                                          "float64"))),
                                       np.ones((1, 3))), np.full((1, 3), 4.0))


def test_var_and_std_with_correction(backend: str) -> None:
    x = [1.0, 2.0, 4.0]
    assert float(pt.var(pt.constant(x, "float64"), correction=1)) == pytest.approx(np.var(x, ddof=1))
    np.testing.assert_allclose(grad(lambda t: pt.var(t, correction=1), x),
                               2 * (np.array(x) - np.mean(x)) / 2)
    np.testing.assert_allclose(grad(pt.std, x), (np.array(x) - np.mean(x)) / (3 * np.std(x)))


# -- numerical stability ------------------------------------------------------------------------------
def test_softmax_family_does_not_overflow(backend: str) -> None:
    big = pt.constant([1000.0, 1000.0, -1000.0], dtype="float64")
    np.testing.assert_allclose(pt.softmax(big).numpy(), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(pt.log_softmax(big).numpy()[:2], [-np.log(2)] * 2)
    np.testing.assert_allclose(float(pt.logsumexp(big)), 1000 + np.log(2))
    assert float(pt.logsumexp(pt.constant([-np.inf, -np.inf]))) == -np.inf
    np.testing.assert_allclose(grad(pt.logsumexp, [1000.0, 1000.0]), [0.5, 0.5])
    np.testing.assert_allclose(pt.softplus(pt.constant([1000.0], "float64")).numpy(), [1000.0])


# -- creation ------------------------------------------------------------------------------------------
def test_creation_ops(backend: str) -> None:
    assert pt.arange(5).dtype == pt.int32 and pt.arange(5).backend == backend
    np.testing.assert_array_equal(pt.arange(5).numpy(), np.arange(5))
    np.testing.assert_array_equal(pt.arange(2, 11, 3).numpy(), [2, 5, 8])
    np.testing.assert_allclose(pt.arange(0.0, 1.0, 0.25).numpy(), [0, 0.25, 0.5, 0.75])
    assert pt.arange(0.0, 1.0, 0.25).dtype == pt.float32
    assert pt.arange(3, dtype="float64").dtype == pt.float64
    np.testing.assert_array_equal(pt.arange(5, 0, -2).numpy(), [5, 3, 1])
    np.testing.assert_allclose(pt.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    assert pt.linspace(0, 1, 5).dtype == pt.float32
    np.testing.assert_allclose(pt.linspace(0, 1, 4, endpoint=False, dtype="float64").numpy(),
                               [0, 0.25, 0.5, 0.75])
    assert pt.linspace(0, 1, 0).shape == (0,)
    for n, m, k in [(3, None, 0), (2, 4, 1), (4, 2, -1), (3, 3, 5), (0, 2, 0)]:
        np.testing.assert_array_equal(pt.eye(n, m, k=k).numpy(), np.eye(n, m, k))
        assert pt.eye(n, m, k=k).dtype == pt.float32
    assert pt.eye(2, dtype="int8").dtype == pt.int8
    x = pt.constant([[1.0, 2.0]], dtype="float64")
    for like, value in [(pt.zeros_like, 0), (pt.ones_like, 1)]:
        out = like(x)
        assert out.shape == (1, 2) and out.dtype == pt.float64 and np.all(out.numpy() == value)
    np.testing.assert_array_equal(pt.full_like(x, 7, dtype="int32").numpy(), [[7, 7]])
    np.testing.assert_array_equal(pt.full((2,), 3.5).numpy(), [3.5, 3.5])


def test_tensor_methods_are_the_ops() -> None:
    x = pt.constant([[1.0, 5.0], [3.0, 2.0]])
    assert float(x.prod()) == 30.0
    np.testing.assert_array_equal(x.argmax(axis=1).numpy(), [1, 0])
    np.testing.assert_array_equal(x.argmin().numpy(), 0)
    assert float(x.var()) == pytest.approx(np.var([1, 5, 3, 2]))
    np.testing.assert_array_equal(x.clip(2, 4).numpy(), [[2, 4], [3, 2]])
    np.testing.assert_array_equal(x.cumsum(axis=0).numpy(), [[1, 5], [4, 7]])
