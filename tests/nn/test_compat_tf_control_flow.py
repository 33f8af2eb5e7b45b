"""Control flow (issue #16): ``tf.cond``, ``tf.while_loop``, ``tf.map_fn``, ``tf.foldl``/
``tf.foldr``, ``tf.scan`` on every backend, with TensorFlow 2.21's values (recorded) and
gradients checked against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt
import polytape.compat.tensorflow as tf


def _floats(ts):
    return [float(t) for t in ts]


def test_cond_runs_one_branch_and_differentiates(backend):
    assert float(tf.cond(tf.constant(True), lambda: 1.0, lambda: 2.0)) == 1.0
    assert tf.cond(False, lambda: (1.0, 2), lambda: (3.0, 4)) == (3.0, 4)  # TF: (3.0, 4)
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.cond(x > 1.0, lambda: x * x, lambda: x * 3.0)
    assert float(tape.gradient(y, x)) == 4.0  # TF: 4.0
    # TF: ValueError "The truth value of an array with more than one element is ambiguous"
    with pytest.raises(ValueError, match="truth value of an array with more than one element"):
        tf.cond(tf.constant([True, False]), lambda: 1.0, lambda: 2.0)


def test_while_loop_structures_and_maximum_iterations(backend):
    (i,) = tf.while_loop(lambda i: i < 3, lambda i: (i + 1,), (0,))
    assert i.dtype == tf.int32 and int(i) == 3  # TF: (3,) int32
    i, s = tf.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s * 2.0), (0, 1.0),
                         maximum_iterations=4)
    assert int(i) == 4 and float(s) == 16.0  # TF: (4, 16.0)
    i, s = tf.while_loop(lambda i, s: True, lambda i, s: (i + 1, s * 2.0),
                         (tf.constant(0), tf.constant(1.0)), maximum_iterations=tf.constant(3))
    assert int(i) == 3 and float(s) == 8.0  # TF: (3, 8.0)
    # TF: ValueError "The two structures don't have the same nested structure"
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tf.while_loop(lambda i: i < 3, lambda i: (i + 1, i), [0])
    with pytest.raises(ValueError, match="maximum_iterations"):
        tf.while_loop(lambda i: i < 3, lambda i: (i + 1,), (0,), maximum_iterations=-1)


def _rnn(W, xs):
    def body(i, h):
        return i + 1, tf.tanh(tf.linalg.matvec(W, h) + xs[i])
    _, h = tf.while_loop(lambda i, h: i < xs.shape[0], body,
                         (tf.constant(0), tf.zeros((2,), dtype=W.dtype)))
    return tf.reduce_sum(h ** 2)


W0 = [[0.5, -0.3], [0.2, 0.4]]
XS = [[1.0, 0.5], [0.3, -0.2], [0.1, 0.9]]


def test_rnn_while_loop_matches_tf(backend):
    W = tf.Variable(W0)
    with tf.GradientTape() as tape:
        loss = _rnn(W, tf.constant(XS))
    g = tape.gradient(loss, W)
    # TF: loss 0.7016269564628601, dW [[0.4935581088066101, 0.21071523427963257],
    #                                  [0.359149694442749, 0.1187080591917038]]
    np.testing.assert_allclose(float(loss), 0.7016269564628601, rtol=1e-6)
    np.testing.assert_allclose(g.numpy(), [[0.4935581088066101, 0.21071523427963257],
                                           [0.359149694442749, 0.1187080591917038]], rtol=1e-5)


def test_rnn_while_loop_gradient_matches_finite_differences(backend, central_difference):
    xs = tf.constant(np.asarray(XS), dtype=tf.float64)
    W = tf.Variable(np.asarray(W0), dtype=tf.float64)
    with tf.GradientTape() as tape:
        loss = _rnn(W, xs)
    fd = central_difference(lambda w: float(_rnn(tf.constant(w), xs)), W0)
    np.testing.assert_allclose(tape.gradient(loss, W).numpy(), fd, rtol=1e-6, atol=1e-9)


def _cumulative(v):
    c = tf.scan(lambda a, x: a * x + 1.0, v, initializer=tf.constant(0.5, dtype=v.dtype))
    return c, tf.reduce_sum(c * c)


def test_scan_cumulative_function_matches_tf_and_finite_differences(backend, central_difference):
    v = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        c, loss = _cumulative(v)
    # TF: c [1.5, 4.0, 13.0], loss 187.25, grad [87.5, 129.0, 104.0]
    assert c.numpy().tolist() == [1.5, 4.0, 13.0] and float(loss) == 187.25
    np.testing.assert_allclose(tape.gradient(loss, v).numpy(), [87.5, 129.0, 104.0], rtol=1e-6)
    v64 = tf.Variable(np.array([1.0, 2.0, 3.0]), dtype=tf.float64)
    with tf.GradientTape() as tape:
        _, loss = _cumulative(v64)
    fd = central_difference(lambda a: float(_cumulative(tf.constant(a))[1]), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(tape.gradient(loss, v64).numpy(), fd, rtol=1e-7)


def test_scan_and_folds_match_tf(backend):
    e = tf.constant([1.0, 2.0, 3.0])
    # TF values: 6, 5123, 321, 5321, [1, 3, 6], [51, 512, 5123], [321, 32, 3]
    assert float(tf.foldl(lambda a, x: a + x, e)) == 6.0
    assert float(tf.foldl(lambda a, x: a * 10.0 + x, e, initializer=tf.constant(5.0))) == 5123.0
    assert float(tf.foldr(lambda a, x: a * 10.0 + x, e)) == 321.0
    assert float(tf.foldr(lambda a, x: a * 10.0 + x, e, initializer=tf.constant(5.0))) == 5321.0
    assert tf.scan(lambda a, x: a + x, e).numpy().tolist() == [1.0, 3.0, 6.0]
    assert tf.scan(lambda a, x: a * 10.0 + x, e,
                   initializer=tf.constant(5.0)).numpy().tolist() == [51.0, 512.0, 5123.0]
    assert tf.scan(lambda a, x: a * 10.0 + x, e, reverse=True).numpy().tolist() == [321.0, 32.0, 3.0]
    s, p = tf.scan(lambda a, x: (a[0] + x, a[1] * x), e,
                   initializer=(tf.constant(0.0), tf.constant(1.0)))
    assert s.numpy().tolist() == [1.0, 3.0, 6.0] and p.numpy().tolist() == [1.0, 2.0, 6.0]
    dot = tf.foldl(lambda a, x: a + x[0] * x[1], (tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])),
                   initializer=tf.constant(0.0))
    assert float(dot) == 11.0  # TF: 11.0
    x = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.foldr(lambda a, el: a * x + el, e)
    assert float(y) == 17.0 and float(tape.gradient(y, x)) == 14.0  # TF: 17.0, 14.0
    # TF: OutOfRangeError "Tried to read from index 0 but array size is: 0"
    with pytest.raises(ValueError, match="Tried to read from index 0 but array size is: 0"):
        tf.foldl(lambda a, x: a + x, tf.zeros((0,)))
    with pytest.raises(ValueError, match="Tried to read from index 0"):
        tf.scan(lambda a, x: a + x, tf.zeros((0,)))


def test_map_fn_matches_tf(backend):
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert tf.map_fn(lambda r: r * 2.0, x).numpy().tolist() == [[2.0, 4.0], [6.0, 8.0]]
    a, b = tf.map_fn(lambda t: (t[0] + t[1], t[0]), (x, x))
    assert a.numpy().tolist() == [[2.0, 4.0], [6.0, 8.0]] and b.numpy().tolist() == [[1, 2], [3, 4]]
    assert tf.map_fn(lambda r: tf.reduce_sum(r), x).numpy().tolist() == [3.0, 7.0]
    ints = tf.map_fn(lambda r: tf.cast(r, tf.int32), x, fn_output_signature=tf.int32)
    assert ints.dtype == tf.int32 and ints.numpy().tolist() == [[1, 2], [3, 4]]
    empty = tf.map_fn(lambda r: r * 2.0, tf.zeros((0, 3)))
    assert empty.shape == (0,) and empty.dtype == tf.float32  # TF: shape (0,), float32
    assert tf.vectorized_map(lambda r: r * 2.0, x).numpy().tolist() == [[2.0, 4.0], [6.0, 8.0]]
    s = tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch(s)
        y = tf.reduce_sum(tf.map_fn(lambda r: r * r * s, tf.constant([1.0, 2.0, 3.0])))
    assert float(tape.gradient(y, s)) == 14.0  # TF: 14.0
    with pytest.raises(ValueError, match="same first dimension"):
        tf.map_fn(lambda t: t[0], (x, tf.zeros((3,))))


def test_control_flow_is_in_polytapes_namespace(backend):
    assert pt.scan is tf.scan and pt.while_loop is tf.while_loop and pt.cond is tf.cond
