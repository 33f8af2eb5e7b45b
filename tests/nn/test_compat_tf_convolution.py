"""Convolution, pooling, normalisation, embeddings and ``tf.repeat`` (issue #16) on every
backend, against TensorFlow 2.21's outputs and gradients (recorded as literals), and
against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt
import polytape.compat.tensorflow as tf

X = (np.arange(32, dtype=np.float32).reshape(1, 4, 4, 2) % 7 - 3) / 4
W = (np.arange(24, dtype=np.float32).reshape(2, 2, 2, 3) % 5 - 2) / 4


def _close(got, want, tol=1e-6):
    np.testing.assert_allclose(np.asarray(got.numpy() if hasattr(got, "numpy") else got),
                               np.asarray(want, dtype=np.float64), rtol=tol, atol=tol)


def test_conv2d_matches_tf(backend):
    _close(tf.nn.conv2d(X, W, 2, "SAME"),
           [[[[0.375, -0.125, 0.0], [-1.0, 0.125, 0.625]],
             [[0.125, 0.0, -0.125], [-0.375, -0.625, 0.0625]]]])
    _close(tf.nn.conv2d(X, W, 1, "VALID"),
           [[[[0.375, -0.125, 0.0], [0.125, 0.0, -0.125], [-1.0, 0.125, 0.625]],
             [[0.25, -0.0625, -0.0625], [0.4375, 0.0625, -0.625], [0.1875, 0.625, 0.125]],
             [[0.125, 0.0, -0.125], [-1.0, 0.125, 0.625], [-0.375, -0.625, 0.0625]]]])
    _close(tf.nn.conv1d(X.reshape(1, 8, 4)[:, :, :2], W.reshape(2, 4, 3)[:, :2, :], 2, "SAME"),
           [[[0.0, -0.125, 0.375], [-0.1875, -0.0625, 0.375], [0.5, 0.4375, 0.375],
             [0.3125, 0.0625, -0.5]]])


def test_conv2d_transpose_matches_tf(backend):
    xt = (np.arange(12, dtype=np.float32).reshape(1, 2, 2, 3) % 4 - 1.5) / 2
    _close(tf.nn.conv2d_transpose(xt, W, (1, 4, 4, 2), 2, "SAME"),
           [[[[0.4375, -0.4375], [0.25, -0.3125], [-0.1875, -0.0625], [-0.25, 0.8125]],
             [[0.0625, 0.4375], [-0.4375, 0.25], [-0.3125, -0.1875], [-0.0625, -0.25]],
             [[-0.3125, 0.8125], [-0.25, -0.0625], [0.0625, -0.3125], [0.25, -0.4375]],
             [[-0.1875, -0.3125], [0.8125, -0.25], [0.4375, 0.0625], [-0.3125, 0.25]]]])


def test_pooling_matches_tf(backend):
    _close(tf.nn.max_pool2d(X, 3, 2, "SAME"), [[[[0.75, 0.75], [0.75, 0.75]],
                                               [[0.75, 0.75], [0.75, 0.0]]]])
    # SAME average pooling does not count the padding (TF: 0.0555555559694767 = 0.5 / 9 ...)
    _close(tf.nn.avg_pool2d(X, 3, 2, "SAME"),
           [[[[0.0, 0.0555555559694767], [0.1666666716337204, -0.1666666716337204]],
             [[0.0833333358168602, 0.0416666679084301], [-0.1875, -0.375]]]])


def test_convolution_gradients_match_tf(backend):
    xv, wv = tf.Variable(X), tf.Variable(W)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.avg_pool2d(tf.nn.conv2d(xv, wv, 1, "SAME") ** 2, 2, 2, "VALID"))
    gx, gw = tape.gradient(loss, [xv, wv])
    _close(loss, 1.5390625)  # TF: 1.5390625
    _close(gw, [[[[-1.046875, -0.015625, 0.078125], [-0.4453125, 1.0234375, 0.03125]],
                 [[-0.546875, -0.1953125, 0.3125], [1.15625, -0.375, -0.7734375]]],
                [[[-0.359375, 0.8515625, 0.265625], [-0.6015625, 0.21875, 0.21875]],
                 [[1.0078125, -0.15625, -0.8125], [0.515625, -0.1953125, -0.203125]]]], 1e-5)
    _close(tf.reduce_sum(gx * gx), 3.22723388671875, 1e-5)  # TF: 3.22723388671875


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_convolution_and_pooling_gradients_match_finite_differences(backend, padding, central_difference):
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal((2, 5, 4, 2))
    w0 = rng.standard_normal((3, 2, 2, 3))
    wt0 = rng.standard_normal((2, 2, 2, 3))

    def f(x, w):
        y = tf.nn.conv2d(x, w, 2, padding)
        y = tf.nn.max_pool2d(tf.tanh(y), 2, 1, "SAME") + tf.nn.avg_pool2d(y, 2, 1, padding)[:, :1, :1]
        z = tf.nn.conv2d_transpose(y, tf.constant(wt0), (2, 5, 4, 2), 2, padding) \
            if padding == "SAME" else y
        return tf.reduce_sum(z * z)

    x, w = tf.constant(x0), tf.constant(w0)
    with tf.GradientTape() as tape:
        tape.watch([x, w])
        loss = f(x, w)
    gx, gw = tape.gradient(loss, [x, w])
    np.testing.assert_allclose(gx.numpy(), central_difference(lambda a: float(f(tf.constant(a), w)), x0),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gw.numpy(), central_difference(lambda a: float(f(x, tf.constant(a))), w0),
                               rtol=1e-5, atol=1e-7)


def test_batch_normalization_embedding_and_repeat_match_tf(backend):
    bn = tf.nn.batch_normalization(tf.constant([[1.0, 2.0], [3.0, 5.0]]), tf.constant([2.0, 3.5]),
                                   tf.constant([1.0, 2.25]), tf.constant([0.1, -0.1]),
                                   tf.constant([2.0, 0.5]), 1e-3)
    _close(bn, [[-1.899000883102417, -0.5998889207839966],
                [2.099000930786133, 0.3998889923095703]])
    assert tf.repeat(tf.constant([[1, 2], [3, 4]]), [1, 2], axis=0).numpy().tolist() == \
        [[1, 2], [3, 4], [3, 4]]
    assert tf.repeat(tf.constant([[1, 2], [3, 4]]), 2).numpy().tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert tf.repeat(tf.constant([1.0, 2.0]), 3, axis=0).numpy().tolist() == [1, 1, 1, 2, 2, 2]
    p = tf.Variable([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    with tf.GradientTape() as tape:
        e = tf.nn.embedding_lookup(p, tf.constant([[0, 2], [2, 2]]))
        loss = tf.reduce_sum(e * tf.constant([1.0, 10.0]))
    assert e.numpy().tolist() == [[[0.0, 1.0], [4.0, 5.0]], [[4.0, 5.0], [4.0, 5.0]]]
    assert tape.gradient(loss, p).numpy().tolist() == [[1.0, 10.0], [0.0, 0.0], [3.0, 30.0]]
    # TF: InvalidArgumentError "indices[0] = 3 is not in [0, 3)"
    with pytest.raises(pt.InvalidArgumentError, match=r"not in \[0, 3\)"):
        tf.nn.embedding_lookup(p, tf.constant([3]))


def test_bad_convolution_inputs_raise_and_change_nothing(backend):
    w = tf.Variable(W)
    with tf.GradientTape() as tape:
        tape.watch(w)
        with pytest.raises(ValueError, match="input depth 2 must equal"):
            tf.nn.conv2d(X, w[:, :, :1], 1, "SAME")
        with pytest.raises(ValueError, match="padding must be 'SAME', 'VALID'"):
            tf.nn.conv2d(X, w, 1, "FULL")
        with pytest.raises(ValueError, match="4-d"):
            tf.nn.max_pool2d(X[0], 2, 2, "VALID")
        with pytest.raises(ValueError, match="data_format"):
            tf.nn.conv2d(X, w, 1, "SAME", data_format="CHWN")
        y = tf.reduce_sum(w * 2.0)
    assert np.array_equal(w.numpy(), W)
    assert float(tf.reduce_sum(tape.gradient(y, w))) == 48.0  # the tape still works


def test_keras_layers_match_tf(backend):
    L = tf.keras.layers
    ln = L.LayerNormalization()
    _close(ln(tf.constant([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]])),
           [[-1.0687015056610107, -0.2671753168106079, 1.3358769416809082],
            [-0.7069301009178162, -0.7069301009178162, 1.4138600826263428]])
    bn = L.BatchNormalization()
    xb = tf.constant([[1.0, 2.0], [3.0, 6.0]])
    _close(bn(xb, training=True), [[-0.9995003938674927, -0.9998750686645508],
                                   [0.9995005130767822, 0.9998750686645508]])
    _close(bn(xb, training=False), [[0.9795103669166565, 1.9303085803985596],
                                    [2.978511333465576, 5.86971378326416]])
    _close(bn.moving_mean, [0.019999999552965164, 0.03999999910593033])
    _close(bn.moving_variance, [1.0, 1.0299999713897705])
    assert len(bn.trainable_variables) == 2 and len(bn.non_trainable_variables) == 2
    emb = L.Embedding(5, 3)
    out = emb(tf.constant([[1, 4]]))
    assert out.shape == (1, 2, 3) and out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy()[0, 1], emb.embeddings.numpy()[4])
    conv = L.Conv2D(3, 2, strides=2, padding="same", activation="relu")
    assert conv(tf.zeros((2, 5, 5, 4))).shape == (2, 3, 3, 3)
    assert conv.kernel.shape == (2, 2, 4, 3)
    assert L.MaxPooling2D()(tf.zeros((1, 5, 5, 2))).shape == (1, 2, 2, 2)
    assert L.AveragePooling2D(3, 1, "same")(tf.zeros((1, 5, 5, 2))).shape == (1, 5, 5, 2)
    with pytest.raises(ValueError, match="padding"):
        L.Conv2D(3, 2, padding="full")


def test_forward_mode_agrees_with_reverse_mode(backend):
    rng = np.random.default_rng(5)
    x = tf.constant(rng.standard_normal((1, 5, 5, 2)))
    w = tf.constant(rng.standard_normal((2, 2, 2, 3)))
    v = tf.constant(rng.standard_normal((1, 5, 5, 2)))

    def f(x):
        return tf.reduce_sum(tf.nn.max_pool2d(tf.nn.conv2d(x, w, 1, "SAME"), 2, 2, "SAME") ** 2)

    with tf.autodiff.ForwardAccumulator(x, v) as acc:
        y = f(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y2 = f(x)
    g = tape.gradient(y2, x)
    np.testing.assert_allclose(float(acc.jvp(y)), float(tf.reduce_sum(g * v)), rtol=1e-10)


def test_fused_batch_norm_matches_tf(backend):
    x = (np.arange(24, dtype=np.float32).reshape(2, 2, 3, 2) % 5 - 2) / 2
    scale, offset = np.array([1.5, 0.5], np.float32), np.array([0.1, -0.2], np.float32)
    y, m, v = tf.compat.v1.nn.fused_batch_norm(x, scale, offset, epsilon=0.001, is_training=True)
    # TF: y[:6], the batch mean, and the *unbiased* batch variance
    _close(tf.reshape(y, [-1])[:6], [-1.856207013130188, -0.5688722729682922, 0.27783700823783875,
                                     0.16887228190898895, 2.4118809700012207, -0.9377445578575134],
           1e-5)
    _close(m, [-0.0833333358168602, 0.0])
    _close(v, [0.5378788113594055, 0.5])
    y, m, v = tf.compat.v1.nn.fused_batch_norm(
        x, scale, offset, mean=np.array([0.1, 0.2], np.float32),
        variance=np.array([1.0, 2.0], np.float32), epsilon=0.001, is_training=False)
    _close(tf.reshape(y, [-1])[:6], [-1.54917573928833, -0.4474255442619324, -0.0499250665307045,
                                     -0.0939604863524437, 1.4493255615234375, -0.6241580843925476],
           1e-5)
    _close(m, [0.1, 0.2])
    _close(v, [1.0, 2.0])
    with pytest.raises(ValueError, match="needs mean and variance"):
        tf.compat.v1.nn.fused_batch_norm(x, scale, offset, is_training=False)
