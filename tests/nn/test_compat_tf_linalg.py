"""``tf.linalg``'s decompositions in TensorFlow's spellings and result orders (``svd`` gives
``s, u, v`` with ``v`` not transposed; ``solve`` wants a matrix right-hand side), checked
against TensorFlow 2.21's outputs, recorded below, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import polytape.compat.tensorflow as tf
from polytape.errors import NotProvidedError

A = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]]
A_UNSYM = [[4.0, 2.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]]  # A with a[0, 1] += 1
B = [[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]]
M = [[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]]


def _f64(x):
    return tf.constant(np.array(x, dtype=np.float64))


def _close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), np.array(expected), rtol=1e-12, atol=1e-14)


def test_inverse_solve_and_adjoints(backend):
    _close(tf.linalg.inv(_f64(A_UNSYM), adjoint=True), [  # TF 2.21
        [0.3073749355337803, -0.09798865394533267, -0.06704486848891181],
        [-0.20113460546673545, 0.39969056214543586, 0.010314595152140275],
        [-0.05673027333677153, -0.01547189272821042, 0.5157297576070139]])
    _close(tf.linalg.solve(_f64(A), _f64(B)), [  # TF 2.21
        [0.09675904180366371, 0.5317050258337247], [-0.13151714419915456, 0.19962423673085955],
        [1.4889619539689993, -0.6528886801315171]])
    _close(tf.linalg.solve(_f64(A_UNSYM), _f64(B), adjoint=True), [  # TF 2.21
        [0.10624033006704486, 0.5838060856111398], [-0.1701908200103146, -0.012893243940175346],
        [1.4904589994842703, -0.6446621970087674]])


def test_solve_refuses_a_vector_right_hand_side(backend):
    # TF: InvalidArgumentError "All input tensors must have the same rank."
    with pytest.raises(tf.errors.InvalidArgumentError, match="rank"):
        tf.linalg.solve(_f64(A), _f64([1.0, 2.0, 3.0]))


def test_svd_returns_s_u_v_in_tensorflows_order(backend):
    s, u, v = tf.linalg.svd(_f64(M))
    _close(s, [10.191428257097225, 0.36713768594389984])  # TF 2.21
    assert tuple(u.shape) == (3, 2) and tuple(v.shape) == (2, 2)  # TF: (3, 2) (2, 2)
    _close(u @ tf.linalg.diag(s) @ tf.linalg.adjoint(v), M)
    _close(tf.linalg.svd(_f64(M), compute_uv=False), [10.191428257097225, 0.36713768594389984])


def test_qr_det_cholesky_eigh_pinv_trace(backend):
    q, r = tf.linalg.qr(_f64(M))
    assert (tuple(q.shape), tuple(r.shape)) == ((3, 2), (2, 2))  # TF 2.21
    q, r = tf.linalg.qr(_f64(M), full_matrices=True)
    assert (tuple(q.shape), tuple(r.shape)) == ((3, 3), (3, 2))  # TF 2.21
    _close(q @ r, M)
    _close(tf.linalg.det(_f64(A)), 21.290000000000006)  # TF 2.21
    sign, logdet = tf.linalg.slogdet(_f64(A))
    _close(sign, 1.0)
    _close(logdet, 3.0582374789053883)  # TF 2.21
    _close(tf.linalg.cholesky(_f64(A)), [  # TF 2.21
        [2.0, 0.0, 0.0], [0.5, 1.6583123951777, 0.0], [0.25, 0.04522670168666455, 1.391206147720224]])
    e, _ = tf.linalg.eigh(_f64(A))
    _close(e, [1.880086902915053, 2.3983430193369975, 4.72157007774795])  # TF 2.21
    _close(tf.linalg.eigvalsh(_f64(A)), [1.880086902915053, 2.3983430193369975, 4.72157007774795])
    np.testing.assert_allclose(np.asarray(tf.linalg.pinv(_f64(M))), [  # TF 2.21
        [-2.0714285714285685, 0.7857142857142841, 0.14285714285714252],
        [1.499999999999998, -0.49999999999999883, 2.498001805406602e-16]], rtol=1e-12, atol=1e-13)
    _close(tf.linalg.trace(_f64(A)), 9.0)
    _close(tf.linalg.diag_part(_f64(M)), [1.0, 4.0])


def test_gradient_through_inv_and_det(backend):
    x = tf.Variable(_f64(A))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.linalg.inv(x) * _f64(B)[:, :1]) + tf.linalg.det(x)
    _close(tape.gradient(y, x), [  # TF 2.21
        [5.947456319615872, -1.9252237051202605, -1.3427212302937737],
        [-1.8829503373419607, 7.784284647736278, -0.24193230833856033],
        [-1.49302653794995, -0.6881511904428346, 10.342590776547274]])


def test_diag_offsets_are_not_provided(backend):
    _close(tf.linalg.diag(_f64([1.0, 2.0])), [[1.0, 0.0], [0.0, 2.0]])
    with pytest.raises(NotProvidedError, match="does not provide tf.linalg.diag"):
        tf.linalg.diag(_f64([1.0, 2.0]), k=1)
