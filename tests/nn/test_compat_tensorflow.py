"""polytape.compat.tensorflow: TensorFlow's names, signatures and defaults, checked against
NumPy, and its errors for what it does not provide."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt
import polytape.compat.tensorflow as tf


def test_gradients_raises_tf2s_eager_error():
    a = tf.constant(3.0)
    with pytest.raises(RuntimeError) as info:
        tf.gradients(a * 2.0, [a])
    assert str(info.value) == ("tf.gradients is not supported when eager execution is enabled. "
                               "Use tf.GradientTape instead.")


@pytest.mark.parametrize("path", ["data", "Session", "keras.layers.LSTM", "nn.conv3d",
                                  "random.stateless_normal", "keras.applications"])
def test_unsupported_names_say_polytape_does_not_provide_them(path):
    obj = tf
    *parents, last = path.split(".")
    for p in parents:
        obj = getattr(obj, p)
    with pytest.raises(AttributeError, match=f"polytape does not provide tf.{path}"):
        getattr(obj, last)
    assert not hasattr(obj, last)


def test_submodules_import_like_tensorflows():
    from polytape.compat.tensorflow.keras import layers, optimizers

    assert layers.Dense is pt.nn.Dense and optimizers.Nadam is pt.optimizers.Nadam
    assert tf.keras.Sequential is pt.nn.Sequential
    assert tf.keras.optimizers.schedules.ExponentialDecay is pt.optimizers.ExponentialDecay
    assert tf.GradientTape is pt.GradientTape and tf.Variable is pt.Variable
    assert tf.float32 is pt.float32 and tf.dtypes.int64 is pt.int64 and tf.bool is pt.bool_


def test_reductions_follow_tf_signatures(backend):
    x = np.arange(12, dtype=np.float32).reshape(3, 4) - 5.0
    t = tf.constant(x)
    np.testing.assert_allclose(tf.reduce_sum(t).numpy(), x.sum())
    np.testing.assert_allclose(tf.reduce_mean(t, axis=0).numpy(), x.mean(0))
    np.testing.assert_allclose(tf.reduce_max(t, 1, keepdims=True).numpy(), x.max(1, keepdims=True))
    np.testing.assert_allclose(tf.math.reduce_min(input_tensor=t, axis=[0, 1]).numpy(), x.min())
    np.testing.assert_allclose(tf.reduce_logsumexp(t, axis=1).numpy(),
                               np.log(np.exp(x.astype(np.float64)).sum(1)), rtol=1e-6)
    # TensorFlow keeps integer dtypes in reduce_mean (truncating) and argmax reduces axis 0.
    ints = tf.constant([[1, 2], [2, 2]])
    m = tf.reduce_mean(ints)
    assert m.dtype == tf.int32 and int(m) == 7 // 4
    am = tf.argmax(tf.constant([[1.0, 5.0], [3.0, 2.0]]))
    assert am.dtype == tf.int64 and am.numpy().tolist() == [1, 0]
    assert tf.argmax(tf.constant([[1.0, 5.0], [3.0, 2.0]]), axis=1).numpy().tolist() == [1, 0]
    assert bool(tf.reduce_any(tf.constant([False, True]))) and not bool(tf.reduce_all([True, False]))


def test_matmul_transposes_and_shapes(backend):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(tf.matmul(a, b, transpose_a=True).numpy(), a.T @ b, rtol=1e-12)
    np.testing.assert_allclose(tf.linalg.matmul(b, a, transpose_a=True, transpose_b=False).numpy(),
                               b.T @ a, rtol=1e-12)
    np.testing.assert_allclose(tf.matmul(a, a, transpose_b=True).numpy(), a @ a.T, rtol=1e-12)
    assert tf.shape(tf.zeros((2, 5))).numpy().tolist() == [2, 5]
    assert tf.transpose(tf.zeros((2, 5))).shape == (5, 2)
    assert tf.concat([tf.ones((1, 2)), tf.zeros((2, 2))], axis=0).shape == (3, 2)
    assert [u.shape for u in tf.unstack(tf.zeros((3, 2)))] == [(2,)] * 3
    assert tf.constant(7.0, shape=(2, 2)).numpy().tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert tf.range(5).dtype == tf.int32 and tf.range(0.0, 1.0, 0.25).numpy().tolist() == [0, .25, .5, .75]
    np.testing.assert_array_equal(tf.where(tf.constant([[True, False], [False, True]])).numpy(),
                                  [[0, 0], [1, 1]])


def test_nn_functions_match_numpy(backend):
    z = np.array([[2.0, -1.0, 0.5], [1000.0, 0.0, -1000.0]])
    e = np.exp(z - z.max(1, keepdims=True))
    soft = e / e.sum(1, keepdims=True)
    np.testing.assert_allclose(tf.nn.softmax(z).numpy(), soft, rtol=1e-12)
    log_soft = z - z.max(1, keepdims=True) - np.log(e.sum(1, keepdims=True))
    np.testing.assert_allclose(tf.nn.log_softmax(tf.constant(z)).numpy(), log_soft, rtol=1e-12)
    labels = np.array([2, 0])
    np.testing.assert_allclose(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=z).numpy(),
        -np.log(soft[np.arange(2), labels]), rtol=1e-12)
    onehot = tf.one_hot(labels, 3)
    assert onehot.numpy().tolist() == [[0, 0, 1], [1, 0, 0]] and onehot.dtype == tf.float32
    np.testing.assert_allclose(
        tf.nn.softmax_cross_entropy_with_logits(labels=np.eye(3)[labels], logits=z).numpy(),
        -np.log(soft[np.arange(2), labels]), rtol=1e-12)
    x = np.array([-3.0, 0.2, 40.0])
    lab = np.array([1.0, 0.0, 1.0])
    ref = np.maximum(x, 0) - x * lab + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_allclose(tf.nn.sigmoid_cross_entropy_with_logits(labels=lab, logits=x).numpy(),
                               ref, rtol=1e-12)
    np.testing.assert_allclose(tf.nn.relu(x).numpy(), np.maximum(x, 0))
    assert float(tf.nn.l2_loss(tf.constant([3.0, 4.0]))) == 12.5


def test_random_and_seeds(backend):
    tf.random.set_seed(5)
    a = tf.random.normal((3,))
    tf.random.set_seed(5)
    np.testing.assert_array_equal(a.numpy(), tf.random.normal((3,)).numpy())
    np.testing.assert_array_equal(tf.random.uniform((4,), seed=2).numpy(),
                                  pt.random.uniform((4,), seed=2).numpy())


def test_gradient_tape_tutorial_code_runs_unchanged(backend):
    # A typical custom training loop from TensorFlow's tutorials.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, :1] * 2.0 - x[:, 1:] + 0.5).astype(np.float32)
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(2,))])
    loss_fn = tf.keras.losses.MeanSquaredError()
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.1)
    train_loss = tf.keras.metrics.Mean(name="train_loss")
    for _ in range(60):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        train_loss(loss)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel.ravel(), [2.0, -1.0], atol=1e-3)
    np.testing.assert_allclose(bias, [0.5], atol=1e-3)
    assert float(train_loss.result()) > 0
    train_loss.reset_states()
    assert float(train_loss.result()) == 0.0 and train_loss.count == 0


def test_custom_gradient_and_unconnected(backend):
    @tf.custom_gradient
    def clipped_identity(x):
        return tf.identity(x), lambda dy: tf.clip_by_value(dy, -1.0, 1.0)

    x = tf.constant([2.0, 3.0])
    unused = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(clipped_identity(x) * 5.0)
    gx, gu = tape.gradient(y, [x, unused], unconnected_gradients=tf.UnconnectedGradients.ZERO)
    assert gx.numpy().tolist() == [1.0, 1.0] and float(gu) == 0.0


def test_forward_accumulator_when_polytape_has_it(backend):
    if not hasattr(pt, "ForwardAccumulator"):
        with pytest.raises(AttributeError, match="polytape does not provide"):
            tf.autodiff.ForwardAccumulator  # noqa: B018
        return
    x = tf.constant(3.0)
    with tf.autodiff.ForwardAccumulator(x, tf.constant(1.0)) as acc:
        y = x * x * x
    assert float(acc.jvp(y)) == pytest.approx(27.0)


def test_function_and_eager_helpers(capsys):
    @tf.function
    def double(v):
        return v * 2.0

    assert float(double(tf.constant(2.0))) == 4.0
    assert tf.executing_eagerly() and tf.is_tensor(tf.constant(1)) and not tf.is_tensor(1)
    tf.print("value:", tf.constant([1.0, 2.0]))
    assert capsys.readouterr().out == "value: [1. 2.]\n"
