"""Tensors are immutable (docs/array-api.md); variables take ``v[index] = value``."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt


def test_tensor_setitem_says_what_to_use(backend: str) -> None:
    x = pt.constant([1.0, 2.0])
    with pytest.raises(TypeError, match="immutable.*pt.where.*Variable"):
        x[0] = 5.0
    assert isinstance(pytest.raises(pt.ArgumentTypeError, x.__setitem__, 0, 1.0).value, pt.PolytapeError)
    assert x.numpy().tolist() == [1.0, 2.0]


def test_variable_setitem_matches_numpy(backend: str) -> None:
    ref = np.arange(12.0).reshape(3, 4)
    v = pt.Variable(ref.copy())
    for index, value in [((slice(1, 3),), 0.5), ((0, slice(None, None, 2)), [7.0, 8.0]),
                         ((slice(None), 1), pt.constant([1.5, 2.5, 3.5], dtype=pt.float64)),
                         (([0, 2],), -1.0), ((pt.constant([True, False, True]),), 9.0)]:
        v[index] = value
        ref[tuple(np.asarray(p.numpy()) if isinstance(p, pt.Tensor) else p for p in index)] = \
            np.asarray(value.numpy() if isinstance(value, pt.Tensor) else value)
        np.testing.assert_array_equal(v.numpy(), ref)


def test_variable_setitem_is_exact_and_keeps_earlier_reads(backend: str) -> None:
    v = pt.Variable([1e10, 2.0, 3.0], dtype=pt.float64)
    before = v.read_value()
    v[0] = 1.0  # data + (value - data) would round to 0
    assert v.numpy().tolist() == [1.0, 2.0, 3.0]
    assert before.numpy().tolist() == [1e10, 2.0, 3.0]


def test_tape_treats_setitem_as_assign(backend: str) -> None:
    v = pt.Variable([1.0, 2.0, 3.0])
    v[1:] = 10.0
    with pt.GradientTape() as tape:
        y = pt.sum(v * v)
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [2.0, 20.0, 20.0])

    def grad(update):  # an update inside the tape: the same answer as assign's
        w = pt.Variable([1.0, 2.0, 3.0])
        with pt.GradientTape() as tape:
            y = pt.sum(w * w)
            update(w)
            y = y + pt.sum(w * w)
        g = tape.gradient(y, w)
        return None if g is None else g.numpy().tolist()

    assert grad(lambda w: w.__setitem__(slice(1, None), 10.0)) == \
        grad(lambda w: w.assign([1.0, 10.0, 10.0]))


def test_variable_setitem_bad_values(backend: str) -> None:
    v = pt.Variable([1.0, 2.0, 3.0])
    with pytest.raises(pt.ShapeError):
        v[0:2] = [1.0, 2.0, 3.0]
    with pytest.raises(pt.DTypeError):
        v[0] = pt.constant(1, dtype=pt.int32)
    assert v.numpy().tolist() == [1.0, 2.0, 3.0]


# -- TensorFlow's sliced-variable assignment: v[index].assign(value) ---------------------------
def test_variable_slice_assign_matches_tensorflow(backend: str) -> None:
    # Values recorded from TensorFlow 2.21 (tf.Variable, eager): the same calls, printed.
    v = pt.Variable([1.0, 2.0, 3.0, 4.0])
    assert v[1:3].assign([10.0, 20.0]) is v  # TF returns the variable too
    assert v.numpy().tolist() == [1.0, 10.0, 20.0, 4.0]
    v[1:3].assign(5.0)  # TF broadcasts a scalar to the slice
    assert v.numpy().tolist() == [1.0, 5.0, 5.0, 4.0]
    a = pt.Variable([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])
    a[:2, 1].assign([0.0, 0.0])
    a[..., 0].assign([7.0, 7.0, 7.0])
    assert a.numpy().tolist() == [[7, 0, 3], [7, 0, 6], [7, 8, 9]]
    a[None, 0].assign([[1.0, 1, 1]])
    assert a.numpy().tolist() == [[1, 1, 1], [7, 0, 6], [7, 8, 9]]


def test_a_stale_slice_assigns_into_the_current_value(backend: str) -> None:
    # TensorFlow: a slice read before v.assign writes into v's new value, and keeps its own.
    a = pt.Variable([[7.0, 0, 3], [7, 0, 6], [7, 8, 9]])
    s = a[1:3]
    a.assign(pt.zeros((3, 3)))
    s.assign(pt.ones((2, 3)))
    assert a.numpy().tolist() == [[0, 0, 0], [1, 1, 1], [1, 1, 1]]
    assert s.numpy().tolist() == [[7, 0, 6], [7, 8, 9]]


def test_slice_assign_add_and_sub(backend: str) -> None:
    # polytape's (TensorFlow's slices have only assign): v[index] += delta, NumPy's answer.
    ref = np.arange(12.0).reshape(3, 4)
    v = pt.Variable(ref.copy())
    v[1:, ::2].assign_add([[1.0, 2.0], [3.0, 4.0]])
    ref[1:, ::2] += [[1.0, 2.0], [3.0, 4.0]]
    v[[0, 2], 1].assign_sub(0.5)
    ref[[0, 2], 1] -= 0.5
    v[pt.constant([True, False, True])].assign_add(10.0)
    ref[[True, False, True]] += 10.0
    np.testing.assert_array_equal(v.numpy(), ref)


def test_a_slice_keeps_its_values_after_its_assign_add(backend: str) -> None:
    v = pt.Variable(np.zeros((3, 4)))
    s = v[1]  # on NumPy and PyTorch a view of the variable's array: it must not change
    s.assign_add(1.0)
    s.assign_add(1.0)
    assert s.numpy().tolist() == [0.0] * 4 and v.numpy()[1].tolist() == [2.0] * 4


def test_slice_reads_are_recorded_as_getitem(backend: str) -> None:
    # TensorFlow: the gradient of sum(3 * v[1:]) for v = [1, 2, 3] is [0, 3, 3].
    v = pt.Variable([1.0, 2.0, 3.0])
    with pt.GradientTape() as tape:
        y = pt.sum(v[1:] * 3.0)
    assert tape.gradient(y, v).numpy().tolist() == [0.0, 3.0, 3.0]


def test_assigned_value_gets_no_gradient_as_in_tensorflow(backend: str) -> None:
    # Recorded from TensorFlow 2.21: x = [1, 2, 3]; y0 = sum(x*x); x[1:].assign(val * 2) with
    # val = [5, 6]; y = y0 + sum(x*x*x): dy/dval is None, dy/dx is [5, 304, 438] (the reads
    # before and after the update both count for the variable).
    x = pt.Variable([1.0, 2.0, 3.0])
    val = pt.constant([5.0, 6.0])
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(val)
        y0 = pt.sum(x * x)
        x[1:].assign(val * 2.0)
        y = y0 + pt.sum(x * x * x)
    assert tape.gradient(y, val) is None
    assert tape.gradient(y, x).numpy().tolist() == [5.0, 304.0, 438.0]


@pytest.mark.parametrize("how", ["setitem", "assign", "assign_add"])
def test_bad_updates_raise_and_leave_the_variable_unchanged(backend: str, how: str) -> None:
    v = pt.Variable([[1.0, 2.0], [3.0, 4.0]])

    def update(index, value):
        if how == "setitem":
            v[index] = value
        else:
            getattr(v[index], how)(value)

    for index, value, error in [
            (slice(0, 2), [1.0, 2.0, 3.0], pt.ShapeError),          # does not fit the selection
            (0, pt.constant([1, 2], dtype=pt.int32), pt.DTypeError),  # a dtype to cast first
            (7, 1.0, pt.IndexShapeError),                           # out of range
            ((0, 0, 0), 1.0, pt.IndexShapeError),                   # too many indices
            ([0, 5], 1.0, pt.IndexShapeError),                      # an integer array out of range
            (pt.constant([True, False, True]), 1.0, pt.IndexShapeError),  # a mask of the wrong length
            (pt.constant([0.5]), 1.0, pt.DTypeError)]:              # not an index
        with pytest.raises(error):
            update(index, value)
        assert v.numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_zero_d_bool_masks_index_as_in_numpy(backend: str) -> None:
    x = pt.Variable(3.0)
    with pt.GradientTape() as tape:
        y = x[pt.constant(True)]
        loss = pt.sum(y * 2.0) + pt.sum(x[pt.constant(False)] * 5.0)
    assert y.shape == (1,) and y.numpy().tolist() == [3.0]
    assert x[pt.constant(False)].shape == (0,)
    assert float(tape.gradient(loss, x)) == 2.0


def test_index_errors_are_index_errors_as_in_numpy(backend: str) -> None:
    # The standard (and NumPy) raise IndexError for an index that does not fit; polytape's
    # IndexShapeError is one, and a ShapeError too.
    x = pt.constant([[1.0, 2.0], [3.0, 4.0]])
    for index in (5, (0, 0, 0), pt.constant([True, False, True]), [0, 9]):
        with pytest.raises(IndexError):
            x[index]
        assert isinstance(pytest.raises(pt.ShapeError, x.__getitem__, index).value, pt.IndexShapeError)
    with pytest.raises(IndexError):
        pt.constant(False)[pt.zeros((0,), dtype=pt.bool)]  # a 1-d mask on a 0-d tensor


def test_an_empty_mask_selects_nothing_along_any_length(backend: str) -> None:
    # NumPy reads a mask as the integer arrays of its nonzero positions (the official
    # suite's getitem_masking draws such masks); torch alone would raise.
    ref = np.arange(6.0).reshape(3, 2)
    x = pt.Variable(ref)
    empty = np.zeros((0,), bool)
    with pt.GradientTape() as tape:
        y = x[pt.constant(empty)]
        loss = pt.sum(y)
    assert y.shape == ref[empty].shape == (0, 2)
    assert tape.gradient(loss, x).numpy().tolist() == [[0.0, 0.0]] * 3
    assert pt.constant([False])[pt.constant(empty)].shape == (0,)
