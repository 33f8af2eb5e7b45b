"""Convolution and pooling as ops of the op table (issue #16), against TensorFlow 2.21 on CPU.

Every literal below was recorded from real TensorFlow (tensorflow-cpu 2.21, run in a
separate venv on the same inputs); the tests run on every available backend, so the
NumPy, torch and default (array-api-strict) kernels all reproduce them.
"""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt
import polytape.compat.tensorflow as tf
from polytape.optable import OPS

X = (np.arange(60, dtype=np.float32).reshape(1, 5, 6, 2) % 7 - 3) / 4
W = (np.arange(36, dtype=np.float32).reshape(3, 2, 2, 3) % 5 - 2) / 4
# Many equal values in every window: which one the gradient goes to is TensorFlow's choice.
TIES = ((np.arange(32) * 7) % 4).reshape(1, 4, 4, 2).astype(np.float32) / 2
U = ((np.arange(32) * 5) % 7 - 3).astype(np.float32) / 4

# TF: tf.nn.max_pool2d's gradient, ksize 3, strides 1, SAME (MaxPoolGrad: the first maximum)
TF_TIES_3_SAME = [0.0, 0.75, 0.25, 0.0, 0.0, -0.25, -1.0, 0.0, 0.0, -0.25, 0.5, 0.0, 0.0, -0.75,
                  0.5, 0.0, 0.0, 0.5, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                  0.0, 0.0]
# TF: the same with ksize 2, strides 1, VALID
TF_TIES_2_VALID = [0.0, 0.5, -0.75, 0.0, 0.0, -0.25, 0.75, 0.0, 0.0, -0.75, 0.25, 0.0, 0.0, 0.75,
                   -0.5, 0.0, 0.0, -0.25, -0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                   0.0, 0.0, 0.0]
# TF: tf.nn.conv2d(NCHW X, W, [1, 1, 2, 2], 'SAME', data_format='NCHW'), flattened
TF_NCHW = [0.6875, 0.0, 0.625, -0.5, 1.0, -0.5625, 0.625, -0.3125, 0.5, -0.3125, 0.625, -0.625, 1.0,
           -0.5, 0.1875, 0.0, 0.6875, -0.375, 0.25, -0.625, -0.625, -0.625, 0.1875, -0.3125, 0.625,
           -0.5, -0.3125]
# TF: tf.nn.conv2d(X, W, 1, 'SAME', dilations=2)
TF_DILATED = [-0.125, 0.125, -0.25, 0.4375, 0.0625, 0.0, 0.75, 0.3125, -0.4375, -0.6875, 0.125, 0.0,
              -0.375, -0.0625, 0.875, 0.25, -0.0625, -0.0625, 0.0, -0.25, 0.125, -0.75, 0.25, 0.0,
              0.4375, 0.0625, 0.0, 0.75, 0.3125, -0.4375, -0.6875, 0.125, 0.0, 0.25, 0.5, 0.4375,
              0.1875, 0.25, 0.0, 0.6875, -1.1875, -0.25, -1.1875, 0.6875, 0.375, 0.4375, 0.375,
              -0.3125, 0.3125, -0.375, -0.125, -0.4375, 0.1875, 0.1875, -0.125, 0.25, 0.0, 0.0625,
              0.4375, -0.75, 0.25, -0.75, 0.4375, -0.875, 0.25, 0.75, 0.1875, 0.375, -0.6875,
              -0.5625, -0.625, 0.25, 0.1875, -0.625, 0.125, 0.3125, 0.75, 0.25, 0.0625, 0.4375,
              -0.75, 0.25, -0.75, 0.4375, -0.875, 0.25, 0.75, 0.25, 0.125, -0.625]
# TF: tf.nn.conv2d(X, W, (2, 1), [[0, 0], [1, 0], [0, 2], [0, 0]])
TF_EXPLICIT = [0.6875, -0.3125, 0.25, -0.3125, 0.375, -0.1875, 0.0, 0.625, -0.625, -0.125, -0.4375,
               1.125, 0.625, -0.625, -0.625, -0.375, 0.125, 0.0, 0.0, 0.0, 0.0, -0.5, 1.0, -0.625,
               -0.1875, -0.1875, 0.4375, 1.0, -0.5, 0.1875, -0.875, 0.9375, -0.0625, -0.5625,
               0.1875, -0.3125, 0.6875, 0.375, 0.6875, 0.0, 0.0, 0.0]
# TF: tf.nn.max_pool2d(X, 2, 2, [[0, 0], [1, 0], [0, 1], [0, 0]])
TF_POOL_EXPLICIT = [-0.25, 0.0, 0.75, 0.5, 0.0, 0.25, 0.5, 0.75, 0.25, 0.5, 0.75, 0.5, 0.75, 0.25,
                    0.5, 0.75, 0.25, 0.5]
# TF: tf.nn.conv2d_transpose(DY, W, (2, 5, 5, 2), 2, 'VALID')
TF_TRANSPOSE_VALID = [0.3125, -0.25, 0.125, -0.125, -0.25, 0.5625, -0.1875, 0.0, 0.0, 0.0, -0.0625,
                      0.3125, -0.25, 0.125, -0.125, -0.25, 0.5625, -0.1875, 0.0, 0.0, 0.0, -0.25,
                      0.4375, -0.4375, -0.125, -0.125, -0.4375, 1.125, 0.0, 0.0, 0.125, 0.125,
                      -0.1875, 0.125, -0.25, -0.125, 0.0, -0.1875, 0.0, 0.0, -0.1875, 0.125, 0.125,
                      -0.1875, 0.5625, -0.25, -0.125, 0.0, 0.0, 0.0, -0.0625, -0.125, 0.125, -0.25,
                      0.3125, -0.25, 0.125, -0.125, 0.0, 0.0, 0.3125, -0.0625, -0.125, 0.125,
                      -0.0625, 0.3125, -0.25, 0.125, 0.0, 0.0, -0.5, 0.875, -0.25, -0.125, 0.0,
                      -0.25, 0.4375, -0.4375, 0.0, 0.0, -0.125, -0.25, 0.5625, -0.1875, 0.125,
                      0.125, -0.1875, 0.125, 0.0, 0.0, 0.0, -0.125, -0.25, 0.5625, -0.1875, 0.125,
                      0.125, -0.1875, 0.0, 0.0]
# TF (float64): s = |d loss / dx|^2 for loss = sum(max_pool2d(conv2d(X, W, 2, SAME), 2, 1, SAME)^3),
# its gradient with respect to W, and |ds/dx|^2
TF_SECOND_S = 300.57051372528076
TF_SECOND_GW = [-416.203857421875, 154.46399688720703, -17.105438232421875, 74.6422119140625,
                244.1700439453125, 10.327423095703125, 146.2994384765625, -246.60777282714844,
                -11.150848388671875, 631.4765625, -161.3686981201172, 6.100433349609375,
                -662.3558349609375, 49.456398010253906, 11.81854248046875, -633.1393432617188,
                72.28022003173828, -0.181549072265625, -172.808349609375, 236.70579528808594,
                -1.685577392578125, -77.88262939453125, 138.73631286621094, 5.154510498046875,
                561.983642578125, -190.24667358398438, -8.411544799804688, 705.2601928710938,
                -41.610443115234375, -11.328826904296875, -805.9268188476562, -4.8878173828125,
                9.873687744140625, -421.494873046875, 143.21694946289062, 6.5533447265625]
TF_SECOND_GX_NORM2 = 1400000.967682014


def _close(got, want, tol=1e-6):
    np.testing.assert_allclose(np.asarray(got.numpy()).ravel(), np.asarray(want, np.float64),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("ksize, padding, want", [(3, "SAME", TF_TIES_3_SAME),
                                                  (2, "VALID", TF_TIES_2_VALID)])
def test_max_pool_gradient_goes_to_the_first_maximum_as_in_tf(backend, ksize, padding, want):
    x = tf.constant(TIES)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.max_pool2d(x, ksize, 1, padding)
        loss = tf.reduce_sum(y * tf.constant(U[:int(np.prod(y.shape))].reshape(y.shape)))
    _close(tape.gradient(loss, x), want, 0)


def test_conv2d_layouts_dilations_and_explicit_padding_match_tf(backend):
    _close(tf.nn.conv2d(np.transpose(X, (0, 3, 1, 2)), W, [1, 1, 2, 2], "SAME",
                        data_format="NCHW"), TF_NCHW)
    _close(tf.nn.conv2d(X, W, 1, "SAME", dilations=2), TF_DILATED)
    _close(tf.nn.conv2d(X, W, (2, 1), [[0, 0], [1, 0], [0, 2], [0, 0]]), TF_EXPLICIT)
    _close(tf.nn.max_pool2d(X, 2, 2, [[0, 0], [1, 0], [0, 1], [0, 0]]), TF_POOL_EXPLICIT)
    dy = (np.arange(24, dtype=np.float32).reshape(2, 2, 2, 3) % 5 - 2) / 4
    _close(tf.nn.conv2d_transpose(dy, W, (2, 5, 5, 2), 2, "VALID"), TF_TRANSPOSE_VALID)


def test_nchw_agrees_with_nhwc_for_every_op(backend):
    xc = np.transpose(X, (0, 3, 1, 2))
    nchw = tf.nn.avg_pool2d(xc, 3, 2, "SAME", data_format="NCHW")
    np.testing.assert_array_equal(np.transpose(nchw.numpy(), (0, 2, 3, 1)),
                                  tf.nn.avg_pool2d(X, 3, 2, "SAME").numpy())
    nchw = tf.nn.max_pool2d(xc, [1, 1, 2, 3], [1, 1, 1, 2], "VALID", data_format="NCHW")
    np.testing.assert_array_equal(np.transpose(nchw.numpy(), (0, 2, 3, 1)),
                                  tf.nn.max_pool2d(X, (2, 3), (1, 2), "VALID").numpy())
    dy = np.ones((1, 3, 3, 3), np.float32)
    nchw = tf.nn.conv2d_transpose(np.transpose(dy, (0, 3, 1, 2)), W, (1, 2, 5, 6), 2, "SAME",
                                  data_format="NCHW")
    np.testing.assert_allclose(np.transpose(nchw.numpy(), (0, 2, 3, 1)),
                               tf.nn.conv2d_transpose(dy, W, (1, 5, 6, 2), 2, "SAME").numpy())
    xw = X.reshape(1, 30, 2)
    ncw = tf.nn.conv1d(np.transpose(xw, (0, 2, 1)), W[0], 2, "SAME", data_format="NCW")
    np.testing.assert_allclose(np.transpose(ncw.numpy(), (0, 2, 1)),
                               tf.nn.conv1d(xw, W[0], 2, "SAME").numpy())


def test_second_order_derivatives_come_from_the_rules_and_match_tf(backend):
    xv, wv = tf.Variable(X.astype(np.float64)), tf.Variable(W.astype(np.float64))
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = tf.nn.max_pool2d(tf.nn.conv2d(xv, wv, 2, "SAME"), 2, 1, "SAME")
            loss = tf.reduce_sum(y * y * y)
        gx = inner.gradient(loss, xv)
        s = tf.reduce_sum(gx * gx)
    gw, gx2 = outer.gradient(s, [wv, xv])
    _close(s, [TF_SECOND_S], 1e-12)
    _close(gw, TF_SECOND_GW, 1e-12)
    _close(tf.reduce_sum(gx2 * gx2), [TF_SECOND_GX_NORM2], 1e-12)


def test_each_call_records_one_op_of_the_table(backend):
    for name in ("conv2d", "conv2d_transpose", "conv2d_backprop_filter", "max_pool2d",
                 "max_pool2d_grad", "max_pool2d_grad_grad", "avg_pool2d", "avg_pool2d_grad"):
        data = 1 if name.startswith("max_pool2d_grad") else 0  # input 0 only routes there
        assert OPS[name].vjp(data) is not None
    x = tf.constant(X)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tf.nn.conv2d(x, W, 1, "SAME")
    assert len(tape._records) == 1  # one op, not a composition of slices and products
    assert tape.gradient(y, x).shape == x.shape


def test_bad_arguments_raise_documented_errors_and_change_nothing(backend):
    w = tf.Variable(W)
    with tf.GradientTape() as tape:
        with pytest.raises(pt.InvalidArgumentError, match="padding must be 'SAME', 'VALID' or 4"):
            tf.nn.conv2d(X, w, 1, [[0, 0], [1, 1], [1, 1]])
        with pytest.raises(pt.InvalidArgumentError, match="padding must be 'SAME', 'VALID' or 4"):
            tf.nn.conv2d(X, w, 1, [[1, 0], [1, 1], [1, 1], [0, 0]])  # batch padding
        with pytest.raises(pt.InvalidArgumentError, match="avg_pool2d: padding must be 'SAME' or"):
            tf.nn.avg_pool2d(X, 2, 2, [[0, 0], [1, 0], [0, 1], [0, 0]])
        with pytest.raises(pt.InvalidArgumentError, match="smaller than the window"):
            tf.nn.max_pool2d(X, 2, 2, [[0, 0], [2, 0], [0, 0], [0, 0]])
        with pytest.raises(pt.InvalidArgumentError, match="strides of the batch and channel"):
            tf.nn.conv2d(X, w, [1, 2, 2, 2], "SAME")
        with pytest.raises(pt.InvalidArgumentError, match="strides must be positive"):
            tf.nn.conv2d(X, w, 0, "SAME")
        with pytest.raises(pt.DTypeError, match="floating point"):
            tf.nn.max_pool2d(np.ones((1, 4, 4, 1), np.int32), 2, 2, "VALID")
        with pytest.raises(pt.ShapeError, match="forward output"):
            tf.nn.conv2d_transpose(np.ones((1, 3, 3, 3), np.float32), w, (1, 9, 9, 2), 2, "SAME")
        y = tf.reduce_sum(w * 2.0)
    assert np.array_equal(w.numpy(), W)
    assert float(tf.reduce_sum(tape.gradient(y, w))) == 72.0  # the tape still works


def test_keras_layers_take_channels_first(backend):
    L = tf.keras.layers
    last = L.Conv2D(3, (3, 2), strides=(2, 1), padding="same", activation="relu")
    first = L.Conv2D(3, (3, 2), strides=(2, 1), padding="same", activation="relu",
                     data_format="channels_first")
    last.build(X.shape)
    first.build((1, 2, 5, 6))
    first.kernel.assign(last.kernel)
    first.bias.assign(tf.constant([0.5, -0.25, 0.0]))
    last.bias.assign(tf.constant([0.5, -0.25, 0.0]))
    y_last = last(X)
    y_first = first(np.transpose(X, (0, 3, 1, 2)))
    assert y_first.shape == (1, 3, 3, 6) and first.kernel.shape == (3, 2, 2, 3)
    np.testing.assert_allclose(np.transpose(y_first.numpy(), (0, 2, 3, 1)), y_last.numpy(),
                               rtol=1e-6)
    for pool in (L.MaxPooling2D, L.AveragePooling2D):
        got = pool(3, 2, "same", data_format="channels_first")(np.transpose(X, (0, 3, 1, 2)))
        np.testing.assert_array_equal(np.transpose(got.numpy(), (0, 2, 3, 1)),
                                      pool(3, 2, "same")(X).numpy())
    with pytest.raises(pt.InvalidArgumentError, match="data_format"):
        L.Conv2D(3, 2, data_format="channels_middle")


def test_tf_nn_convolutions_match_tensor_dtypes_as_tf(backend):
    # TF: tensors of two float dtypes raise InvalidArgumentError ("cannot compute Conv2D as
    # input #1(zero-based) was expected to be a float tensor but is a double tensor"); a NumPy
    # float64 array next to a float32 tensor is converted to float32.
    f64 = tf.ones((2, 2, 1, 1), tf.float64)
    with pytest.raises(pt.InvalidArgumentError, match="cannot compute Conv2D as input #1"):
        tf.nn.conv2d(tf.ones((1, 3, 3, 1)), f64, 1, "SAME")
    with pytest.raises(pt.InvalidArgumentError, match="Conv2DBackpropInput"):
        tf.nn.conv2d_transpose(tf.ones((1, 3, 3, 1)), f64, (1, 3, 3, 1), 1, "SAME")
    with pytest.raises(pt.InvalidArgumentError, match="cannot compute Conv2D"):
        tf.nn.conv1d(tf.ones((1, 3, 1)), tf.ones((2, 1, 1), tf.float64), 1, "SAME")
    y = tf.nn.conv2d(np.ones((1, 3, 3, 1)), tf.ones((2, 2, 1, 1)), 1, "SAME")
    assert y.dtype == tf.float32
    assert y.numpy()[0, :, :, 0].tolist() == [[4.0, 4.0, 2.0], [4.0, 4.0, 2.0], [2.0, 2.0, 1.0]]
