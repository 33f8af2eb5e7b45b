"""Layers, activations and initializers against NumPy references."""

from __future__ import annotations

import math

import numpy as np
import pytest

import polytape as pt
from polytape import nn


def test_dense_computes_activation_of_x_at_kernel_plus_bias(backend):
    x = np.random.default_rng(0).standard_normal((5, 3))
    layer = nn.Dense(4, activation="tanh")
    out = layer(x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 4) and bias.shape == (4,)
    assert out.dtype == pt.float32 and out.backend == backend
    np.testing.assert_allclose(out.numpy(), np.tanh(x.astype(np.float32) @ kernel + bias), rtol=1e-5,
                               atol=1e-6)
    assert layer.kernel.backend == backend and layer.kernel.name == f"{layer.name}/kernel"
    # rank-3 inputs multiply along the last axis
    assert layer(np.ones((2, 7, 3))).shape == (2, 7, 4)


def test_dense_defaults_are_glorot_uniform_and_zero_bias(backend):
    layer = nn.Dense(50)
    layer(pt.ones((1, 30)))
    kernel, bias = layer.get_weights()
    limit = math.sqrt(6.0 / (30 + 50))
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.9 * limit           # spread over the whole interval
    assert kernel.std() == pytest.approx(limit / math.sqrt(3), rel=0.1)
    np.testing.assert_array_equal(bias, np.zeros(50))


def test_seeded_initializer_is_the_documented_host_draw(backend):
    # pt.random draws on the host with numpy's Generator, so this is the contract.
    limit = math.sqrt(6.0 / (4 + 5))
    expected = (-limit + 2 * limit * np.random.default_rng(3).random((4, 5))).astype(np.float32)
    got = nn.initializers.GlorotUniform(seed=3)((4, 5))
    assert got.backend == backend
    np.testing.assert_array_equal(got.numpy(), expected)
    he = nn.initializers.HeNormal(seed=1)((400, 300)).numpy()
    assert np.abs(he).max() <= 2 * math.sqrt(2 / 400) / 0.87962566103423978 + 1e-6
    assert he.std() == pytest.approx(math.sqrt(2 / 400), rel=0.05)


def test_activation_by_name_or_callable(backend):
    x = np.array([[-2.0, -0.5, 0.0, 1.5]])
    refs = {
        "relu": np.maximum(x, 0), "sigmoid": 1 / (1 + np.exp(-x)), "tanh": np.tanh(x),
        "softplus": np.log1p(np.exp(x)), "elu": np.where(x > 0, x, np.expm1(x)),
        "softmax": np.exp(x) / np.exp(x).sum(), "linear": x, "silu": x / (1 + np.exp(-x)),
        "leaky_relu": np.where(x >= 0, x, 0.2 * x),
    }
    for name, ref in refs.items():
        got = nn.activations.get(name)(pt.constant(x))
        np.testing.assert_allclose(got.numpy(), ref, rtol=1e-12, atol=1e-15, err_msg=name)
    np.testing.assert_allclose(nn.activations.log_softmax(pt.constant(x)).numpy(),
                               np.log(refs["softmax"]), rtol=1e-12)
    double = lambda t: t * 2.0  # noqa: E731
    assert nn.activations.get(double) is double
    assert nn.activations.get(None) is nn.activations.linear
    with pytest.raises(ValueError, match="unknown activation"):
        nn.Dense(2, activation="swoosh")


def test_softmax_of_huge_logits_is_finite(backend):
    z = pt.constant([[1000.0, 0.0, -1000.0]])
    np.testing.assert_allclose(nn.activations.softmax(z).numpy(), [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(nn.activations.log_softmax(z).numpy(), [[0.0, -1000.0, -2000.0]])
    x = pt.constant([100.0, -10.0], dtype=pt.float64)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = pt.sum(nn.activations.elu(x))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [1.0, np.exp(-10.0)], rtol=1e-9)


def test_flatten_activation_and_dropout(backend):
    x = pt.ones((4, 2, 3))
    assert nn.Flatten()(x).shape == (4, 6)
    np.testing.assert_allclose(nn.Activation("relu")(pt.constant([-1.0, 2.0])).numpy(), [0.0, 2.0])
    drop = nn.Dropout(0.5, seed=0)
    big = pt.ones((1000,))
    assert drop(big) is not None and np.all(drop(big).numpy() == 1.0)  # inference: identity
    trained = drop(big, training=True).numpy()
    assert set(np.unique(trained)) <= {0.0, 2.0}
    assert 400 < (trained == 0).sum() < 600
    with pytest.raises(ValueError):
        nn.Dropout(1.0)


def test_wrong_input_width_and_bad_arguments_raise(backend):
    layer = nn.Dense(2)
    layer(pt.ones((1, 3)))
    with pytest.raises(pt.ShapeError, match="last dimension is 3"):
        layer(pt.ones((1, 4)))
    with pytest.raises(ValueError, match="units"):
        nn.Dense(0)
    with pytest.raises(pt.NotProvidedError, match=r"does not provide Dense\(kernel_regulariser"):
        nn.Dense(2, kernel_regulariser="l2")  # a misspelt argument: one consistent error


def test_set_weights_checks_everything_first(backend):
    layer = nn.Dense(2)
    layer(pt.ones((1, 3)))
    before = layer.get_weights()
    with pytest.raises(pt.ShapeError, match="bias"):
        layer.set_weights([np.ones((3, 2)) * 7, np.ones((3,))])
    with pytest.raises(ValueError, match="expected 2"):
        layer.set_weights([np.ones((3, 2))])
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    layer.set_weights([np.ones((3, 2)), np.array([1.0, 2.0])])
    np.testing.assert_allclose(layer(pt.ones((1, 3))).numpy(), [[4.0, 5.0]])


def test_trainable_flag_reaches_the_variables(backend):
    layer = nn.Dense(2)
    layer(pt.ones((1, 3)))
    assert len(layer.trainable_variables) == 2
    layer.trainable = False
    assert layer.trainable_variables == [] and len(layer.non_trainable_weights) == 2
    assert not layer.kernel.trainable
    layer.trainable = True
    assert layer.kernel.trainable and layer.count_params() == 3 * 2 + 2
