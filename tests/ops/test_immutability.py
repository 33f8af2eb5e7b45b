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
