"""Issue #16, behaviour differences: each test holds TensorFlow 2.21's real values (recorded
with tensorflow-cpu; TensorFlow is not a dependency) and runs on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt
import polytape.compat.tensorflow as tf


def test_watched_variables_come_in_creation_order(backend):
    a, b, c = tf.Variable(1.0, name="a"), tf.Variable(2.0, name="b"), tf.Variable(3.0, name="c")
    with tf.GradientTape() as tape:
        _ = c * b + a
    # TF: ['a:0', 'b:0', 'c:0']
    assert [v.name for v in tape.watched_variables()] == ["a", "b", "c"]


def test_non_differentiable_reads_watch_variables(backend):
    vs = [tf.Variable(1.0), tf.Variable(2.0), tf.Variable(3.0)]
    with tf.GradientTape() as tape:
        m = max(vs)  # Python's max compares: `>` is not differentiable
    g = tape.gradient(m, vs)
    # TF: [None, None, 1.0]
    assert g[0] is None and g[1] is None and float(g[2]) == 1.0
    v = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        _ = v > 0
    assert tape.watched_variables() == (v,)  # TF: 1 watched variable
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        _ = v > 0
    assert tape.watched_variables() == ()


def test_reductions_take_a_tensor_axis(backend):
    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    # TF: [3, 12], 2.5, [2, 5]
    assert tf.reduce_sum(x, axis=tf.constant(1)).numpy().tolist() == [3.0, 12.0]
    assert float(tf.reduce_mean(x, axis=tf.constant([0, 1]))) == 2.5
    assert tf.reduce_max(x, axis=tf.constant([1])).numpy().tolist() == [2.0, 5.0]
    with pytest.raises(TypeError):
        tf.reduce_sum(x, axis=tf.constant(1.0))


def test_convert_to_tensor_of_a_variable_is_a_snapshot(backend):
    v = tf.Variable([1.0, 2.0])
    s = tf.convert_to_tensor(v)
    v.assign([5.0, 6.0])
    assert not isinstance(s, tf.Variable) and s.numpy().tolist() == [1.0, 2.0]  # TF: [1, 2]
    s = tf.convert_to_tensor(v)
    v.assign_add([1.0, 1.0])
    assert s.numpy().tolist() == [5.0, 6.0]
    with tf.GradientTape() as tape:
        y = tf.convert_to_tensor(v) * 3.0
    assert tape.gradient(y, v).numpy().tolist() == [3.0, 3.0]  # TF: [3, 3]
    with pytest.raises(ValueError, match="requested dtype"):
        tf.convert_to_tensor(v, dtype=tf.float64)


def test_watch_checks_its_argument_before_the_tape(backend):
    tape = tf.GradientTape()
    # TF: ValueError "Passed in object [1. 1.] of type 'ndarray', not tf.Tensor or tf.Variable"
    with pytest.raises(ValueError, match="Passed in object .* of type 'ndarray', not tf.Tensor"):
        tape.watch(np.ones(2))
    with pytest.raises(pt.TapeError, match="never entered"):
        tape.watch(tf.constant(1.0))


def test_jacobian_of_an_empty_target_is_empty(backend):
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x[:0] * 2.0
    j = tape.jacobian(y, x)
    assert j.shape == (0, 2) and j.dtype == tf.float32  # TF: TensorShape([0, 2]) float32
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x[:, :0] * 2.0
    j = tape.batch_jacobian(y, x)
    assert j.shape == (2, 0, 2) and j.dtype == tf.float32  # TF: TensorShape([2, 0, 2])


def test_batch_jacobian_unconnected_is_zeros_of_the_targets_dtype(backend):
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    for dtype in (tf.float32, tf.float64):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.ones((2, 3), dtype=dtype)
        j = tape.batch_jacobian(y, x)
        # TF: shape (2, 3, 2), all zeros, the target's dtype
        assert j.shape == (2, 3, 2) and j.dtype == dtype and float(tf.reduce_sum(j)) == 0.0
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.ones((2, 3))
    assert tape.jacobian(y, x) is None  # TF: None


def test_batch_jacobian_rejects_what_tf_rejects(backend):
    x1 = tf.constant([1.0, 2.0])
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    x3 = tf.constant(np.ones((3, 2), np.float32))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x1, x, x3])
        y1 = x1 * 2.0
        yr = tf.reduce_sum(x, axis=1)
        y3 = tf.reduce_sum(x) * x3
    # TF: ValueError "Shape (2,) must have rank at least 2" (source, then target)
    with pytest.raises(ValueError, match=r"Shape \(2,\) must have rank at least 2"):
        tape.batch_jacobian(y1, x1)
    with pytest.raises(ValueError, match=r"Shape \(2,\) must have rank at least 2"):
        tape.batch_jacobian(yr, x)
    # TF: "Need first dimension of target shape ((3, 2)) and source shape ((2, 2)) to match."
    with pytest.raises(ValueError, match=r"Need first dimension of target shape \(\(3, 2\)\) "
                                         r"and source shape \(\(2, 2\)\) to match\."):
        tape.batch_jacobian(y3, x)
    # TF: ValueError "Unknown value for unconnected_gradients: 'bogus'"
    with pytest.raises(ValueError, match="Unknown value for unconnected_gradients: 'bogus'"):
        tape.gradient(y1, x1, unconnected_gradients="bogus")
    assert tape.batch_jacobian(x * 2.0, x).shape == (2, 2, 2)  # the tape survived


def test_custom_gradient_takes_and_returns_nested_structures(backend):
    seen = []

    @tf.custom_gradient
    def f(xs, z):
        a, b = xs

        def grad(dy1, dy2):
            seen.append((float(dy1), float(dy2)))
            return [dy1 * b * 10.0, dy1 * a * 10.0], dy2 * 100.0
        return (a * b, [a + z]), grad

    a, b, z = tf.constant(2.0), tf.constant(3.0), tf.constant(4.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([a, b, z])
        out = f([a, b], z)
        loss = out[0] + 2.0 * out[1][0]
    assert isinstance(out, tuple) and isinstance(out[1], list)
    assert float(out[0]) == 6.0 and float(out[1][0]) == 6.0
    # TF: dys (1.0, 2.0), grads [30, 20, 200]; for out[0] alone dys (1.0, 0.0), [30, 20, 0]
    assert [float(g) for g in tape.gradient(loss, [a, b, z])] == [30.0, 20.0, 200.0]
    assert [float(g) for g in tape.gradient(out[0], [a, b, z])] == [30.0, 20.0, 0.0]
    assert seen == [(1.0, 2.0), (1.0, 0.0)]

    @tf.custom_gradient
    def h(x):
        return x * 2.0, lambda dy: [dy, dy]

    with tf.GradientTape() as tape:
        tape.watch(a)
        y = h(a)
    # TF: ValueError "custom_gradient function expected to return 1 gradients, but returned 2"
    with pytest.raises(ValueError, match="expected to return 1 gradients, but returned 2"):
        tape.gradient(y, a)


def test_range_follows_tfs_dtype_and_length(backend):
    r = tf.range(0.0, 80.0, tf.constant(0.1))
    # TF: 800 elements, float32, last three [79.70000457763672, 79.80000305175781, 79.9000015258789]
    assert r.shape == (800,) and r.dtype == tf.float32
    assert r.numpy()[-3:].tolist() == [79.70000457763672, 79.80000305175781, 79.9000015258789]
    assert tf.range(tf.constant(0), tf.constant(5)).dtype == tf.int32  # TF: int32
    assert tf.range(tf.constant(0, tf.int64), 3).dtype == tf.int64
    r64 = tf.range(tf.constant(1.0, tf.float64), 3)
    assert r64.dtype == tf.float64 and r64.numpy().tolist() == [1.0, 2.0]
    assert tf.range(1, 2.5, 0.5).numpy().tolist() == [1.0, 1.5, 2.0]
    assert tf.range(5, 0, -2).numpy().tolist() == [5, 3, 1]
    assert tf.range(0.0, 1.0, 0.1).numpy().tolist() == [
        0.0, 0.10000000149011612, 0.20000000298023224, 0.30000001192092896, 0.4000000059604645,
        0.5, 0.6000000238418579, 0.699999988079071, 0.800000011920929, 0.9000000357627869]
    with pytest.raises(ValueError, match="delta != 0"):
        tf.range(0, 3, 0)


def test_tensor_shape_is_a_tensorshape(backend):
    s = tf.constant(np.zeros((2, 3))).shape
    # TF: str "(2, 3)", == [2, 3] and (2, 3), as_list [2, 3], rank 2, 6 elements, s[1:] a shape
    assert isinstance(s, tf.TensorShape) and str(s) == "(2, 3)"
    assert s == [2, 3] and s == (2, 3) and s != [3, 2]
    assert s.as_list() == [2, 3] and s.rank == 2 and s.ndims == 2 and s.num_elements() == 6
    assert isinstance(s[0], int) and isinstance(s[1:], tf.TensorShape) and s[1:] == [3]
    assert tf.TensorShape([2, 3]) == tf.TensorShape([2, 3])
    scalar = tf.constant(1.0).shape
    assert scalar.num_elements() == 1 and scalar.rank == 0  # TF: 1, 0
    d = tf.keras.layers.Dense(3)
    d.build([2])
    assert d.kernel.shape == (2, 3)  # TF: (2, 3)


def test_compat_functions_do_not_promote_between_tensor_dtypes(backend):
    v = tf.Variable(np.ones((2, 2), np.float32))
    # TF: InvalidArgumentError "cannot compute MatMul as input #1(zero-based) was expected to
    # be a double tensor but is a float tensor [Op:MatMul]"
    with pytest.raises(pt.InvalidArgumentError, match=r"cannot compute MatMul as input "
                       r"#1\(zero-based\) was expected to be a double tensor but is a float"):
        tf.matmul(np.ones((2, 2)), v)
    # TF: "cannot compute AddV2 as input #1(zero-based) was expected to be a float tensor but
    # is a int32 tensor"
    with pytest.raises(ValueError, match="expected to be a float tensor but is a int32 tensor"):
        tf.add(tf.constant(1.0), tf.constant(1))
    # TF: "Value for attr 'T' of int32 is not in the list of allowed values: bfloat16, half..."
    with pytest.raises(ValueError, match="Value for attr 'T' of int32 is not in the list"):
        tf.sin(tf.constant(1))
    with pytest.raises(ValueError, match="Value for attr 'T' of int32"):
        tf.sin(1)
    # TF: "... was expected to be a int32 tensor but is a float tensor"
    with pytest.raises(ValueError, match="expected to be a int32 tensor but is a float"):
        tf.add(tf.constant(1), 2.5)
    # Python numbers and NumPy scalars stay weak (TF: float32 3.0, float32 [2, 3], float64 3.0)
    r = tf.add(tf.constant(1.0), 2)
    assert r.dtype == tf.float32 and float(r) == 3.0
    r = tf.multiply(tf.constant([1.0]), [2, 3])
    assert r.dtype == tf.float32 and r.numpy().tolist() == [2.0, 3.0]
    assert tf.add(tf.constant(1.0, tf.float64), 2.0).dtype == tf.float64
    assert tf.maximum(tf.constant(1.0), np.float64(2.0)).dtype == tf.float32
    assert tf.exp(tf.constant(1.0, tf.float64)).dtype == tf.float64
    with pytest.raises(ValueError, match="AddN"):
        tf.add_n([tf.constant(1.0), tf.constant(1.0, tf.float64)])
    # polytape's own namespace keeps the Array API's promotion
    assert pt.add(pt.constant(1.0), pt.constant(1)).dtype == pt.float32


def test_reduce_sum_and_prod_keep_integer_dtypes(backend):
    # TF 2.21: tf.reduce_sum(tf.constant([1, 2, 3])) -> <tf.Tensor: shape=(), dtype=int32, numpy=6>,
    # reduce_prod the same with 6; polytape's own pt.sum widens int8 to int32 (the Array API rule).
    x = tf.constant([1, 2, 3])
    assert tf.reduce_sum(x).dtype == tf.int32 and int(tf.reduce_sum(x)) == 6
    assert tf.reduce_prod(x).dtype == tf.int32 and int(tf.reduce_prod(x)) == 6
    assert tf.reduce_sum(tf.constant([[1, 2], [3, 4]]), axis=1).numpy().tolist() == [3, 7]
