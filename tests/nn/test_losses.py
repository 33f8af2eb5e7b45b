"""Losses against NumPy float64 references, their stability, and their errors."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt
from polytape.nn import losses

EPS = 1e-7


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return {
        "y": rng.standard_normal((6, 3)),
        "p": rng.standard_normal((6, 3)),
        "prob": rng.uniform(0.05, 0.95, (6, 1)),
        "bin": (rng.random((6, 1)) > 0.5).astype(np.float64),
        "logits": rng.standard_normal((6, 4)) * 3,
        "labels": rng.integers(0, 4, 6),
    }


def test_regression_losses(backend, data):
    y, p = data["y"], data["p"]
    np.testing.assert_allclose(losses.mean_squared_error(y, pt.constant(p)).numpy(),
                               ((p - y) ** 2).mean(-1), rtol=1e-12)
    np.testing.assert_allclose(losses.mean_absolute_error(y, pt.constant(p)).numpy(),
                               np.abs(p - y).mean(-1), rtol=1e-12)
    err = np.abs(p - y)
    ref_huber = np.where(err <= 0.5, 0.5 * err ** 2, 0.5 * (err - 0.25)).mean(-1)
    np.testing.assert_allclose(losses.huber(y, pt.constant(p), delta=0.5).numpy(), ref_huber,
                               rtol=1e-12)
    # The class reduces with the mean over the batch (sum_over_batch_size).
    assert float(losses.MeanSquaredError()(y, pt.constant(p))) == pytest.approx(((p - y) ** 2).mean())
    assert float(losses.MeanSquaredError(reduction="sum")(y, pt.constant(p))) == \
        pytest.approx(((p - y) ** 2).mean(-1).sum())
    assert losses.MeanSquaredError(reduction=None)(y, pt.constant(p)).shape == (6,)


def test_labels_of_rank_one_meet_predictions_of_shape_n_by_1(backend):
    y = np.array([1.0, 2.0, 3.0])
    p = np.array([[1.5], [2.0], [2.0]])
    out = losses.mean_squared_error(y, pt.constant(p))
    np.testing.assert_allclose(out.numpy(), [0.25, 0.0, 1.0])


def test_sample_weight(backend, data):
    y, p = data["y"], data["p"]
    w = np.arange(6, dtype=np.float64)
    got = losses.MeanAbsoluteError()(y, pt.constant(p), sample_weight=w)
    assert float(got) == pytest.approx((np.abs(p - y).mean(-1) * w).sum() / 6)


def test_binary_crossentropy(backend, data):
    t, q = data["bin"], data["prob"]
    ref = -(t * np.log(q) + (1 - t) * np.log(1 - q)).mean(-1)
    np.testing.assert_allclose(losses.binary_crossentropy(t, pt.constant(q)).numpy(), ref, rtol=1e-10)
    z = np.log(q / (1 - q))   # the logits of q
    np.testing.assert_allclose(losses.binary_crossentropy(t, pt.constant(z), from_logits=True).numpy(),
                               ref, rtol=1e-10)
    smooth = t * 0.8 + 0.1
    ref_s = -(smooth * np.log(q) + (1 - smooth) * np.log(1 - q)).mean(-1)
    np.testing.assert_allclose(losses.BinaryCrossentropy(label_smoothing=0.2, reduction=None)(
        t, pt.constant(q)).numpy(), ref_s, rtol=1e-10)


def test_categorical_crossentropies(backend, data):
    z, labels = data["logits"], data["labels"]
    onehot = np.eye(4)[labels]
    ref = -np.log(_softmax(z))[np.arange(6), labels]
    np.testing.assert_allclose(
        losses.categorical_crossentropy(onehot, pt.constant(z), from_logits=True).numpy(), ref, rtol=1e-10)
    np.testing.assert_allclose(
        losses.categorical_crossentropy(onehot, pt.constant(_softmax(z))).numpy(), ref, rtol=1e-8)
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy(labels, pt.constant(z), from_logits=True).numpy(),
        ref, rtol=1e-10)
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy(labels[:, None], pt.constant(_softmax(z))).numpy(),
        ref, rtol=1e-8)
    # Probabilities that do not sum to 1 are renormalised first, as in Keras.
    np.testing.assert_allclose(
        losses.categorical_crossentropy(onehot, pt.constant(2 * _softmax(z))).numpy(), ref, rtol=1e-8)


def test_crossentropy_from_huge_logits_is_finite_with_the_exact_gradient(backend):
    z = pt.constant([[1000.0, -1000.0, 0.0], [-500.0, 500.0, 499.0]])
    labels = np.array([1, 2])
    loss_fn = losses.SparseCategoricalCrossentropy(from_logits=True)
    with pt.GradientTape() as tape:
        tape.watch(z)
        loss = loss_fn(labels, z)
    grad = tape.gradient(loss, z).numpy()
    zz = z.numpy().astype(np.float64)
    ref_loss = np.mean(np.log(np.exp(zz - zz.max(-1, keepdims=True)).sum(-1)) + zz.max(-1)
                       - zz[np.arange(2), labels])
    assert float(loss) == pytest.approx(ref_loss, rel=1e-6)
    # d mean(CE) / dz = (softmax(z) - onehot) / batch
    np.testing.assert_allclose(grad, (_softmax(zz) - np.eye(3)[labels]) / 2, atol=1e-6)
    with pt.GradientTape() as tape:
        tape.watch(z)
        bce = losses.binary_crossentropy(np.ones((2, 3)), z, from_logits=True)
    assert np.isfinite(bce.numpy()).all() and np.isfinite(tape.gradient(bce, z).numpy()).all()


def test_probabilities_are_clipped_by_epsilon(backend):
    t = np.array([[1.0], [0.0]])
    p = pt.constant([[0.0], [1.0]], dtype=pt.float64)   # confidently wrong
    with pt.GradientTape() as tape:
        tape.watch(p)
        loss = losses.binary_crossentropy(t, p)
    np.testing.assert_allclose(loss.numpy(), [-np.log(EPS)] * 2, rtol=1e-9)
    assert np.isfinite(tape.gradient(loss, p).numpy()).all()
    cce = losses.categorical_crossentropy([[0.0, 1.0]], pt.constant([[1.0, 0.0]], dtype=pt.float64))
    assert float(cce[0]) == pytest.approx(-np.log(EPS), rel=1e-9)


def test_bad_inputs_raise(backend):
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        losses.sparse_categorical_crossentropy([0, 3], pt.zeros((2, 3)))
    with pytest.raises(pt.ShapeError):
        losses.sparse_categorical_crossentropy([0, 1, 2], pt.zeros((2, 3)))
    with pytest.raises(pt.ShapeError, match="must match"):
        losses.categorical_crossentropy(np.zeros((2, 4)), pt.zeros((2, 3)))
    with pytest.raises(pt.ShapeError):
        losses.mean_squared_error(np.zeros((2, 4)), pt.zeros((2, 3)))
    with pytest.raises(ValueError, match="unknown loss"):
        losses.get("hinge_of_doom")
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="max")


def test_get_by_name():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("Binary_Crossentropy") is losses.binary_crossentropy
    assert isinstance(losses.get("MeanAbsoluteError"), losses.MeanAbsoluteError)
    fn = lambda t, p: p  # noqa: E731
    assert losses.get(fn) is fn
