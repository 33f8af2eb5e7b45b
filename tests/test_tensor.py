"""Tensors and Variables: construction, dtypes, Python protocols, operators, repr."""

from __future__ import annotations

import operator

import numpy as np
import pytest

import polytape as pt


def test_literals_follow_tensorflow(backend):
    assert pt.constant(3.0).dtype == pt.float32
    assert pt.constant([1, 2, 3]).dtype == pt.int32
    assert pt.constant([1, 2, 3]).shape == (3,)
    assert pt.constant(True).dtype == pt.bool
    assert pt.constant([1, 2.5]).dtype == pt.float32
    assert pt.constant(2**40).dtype == pt.int64
    assert pt.Variable([1, 2, 3]).dtype == pt.int32


def test_numpy_arrays_keep_their_dtype(backend):
    assert pt.constant(np.ones(2)).dtype == pt.float64
    assert pt.constant(np.ones(2, np.int16)).dtype == pt.int16
    assert pt.constant(np.float32(2.5)).dtype == pt.float32
    assert pt.constant(np.ones(2), dtype="float16").dtype == pt.float16


def test_tensor_reports_its_backend_and_device(backend):
    t = pt.constant([1.0, 2.0])
    assert t.backend == backend
    assert t.device == pt.get_backend(backend).default_device
    assert t.ndim == 1 and t.size == 2 and len(t) == 2


def test_numpy_of_scalar_is_a_numpy_scalar_and_copies(backend):
    s = pt.constant(17.0).numpy()
    assert isinstance(s, np.float32) and s == 17.0
    t = pt.constant([1.0, 2.0])
    a = t.numpy()
    a[0] = 100.0
    assert t.numpy()[0] == 1.0


def test_scalar_conversions(backend):
    assert float(pt.constant(2.5)) == 2.5
    assert int(pt.constant(7)) == 7
    assert bool(pt.constant(True)) is True
    assert [10, 20, 30][pt.constant(1)] == 20
    with pytest.raises(ValueError, match="one element"):
        float(pt.constant([1.0, 2.0]))
    with pytest.raises(ValueError):
        bool(pt.constant([True, False]))
    with pytest.raises(TypeError):
        len(pt.constant(1.0))
    assert f"{pt.constant(2.0):.2f}" == "2.00"


def test_iteration_yields_rows(backend):
    t = pt.constant([[1.0, 2.0], [3.0, 4.0]])
    rows = [r.numpy().tolist() for r in t]
    assert rows == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv,
                                operator.pow, operator.lt, operator.le, operator.gt,
                                operator.ge, operator.eq, operator.ne])
def test_operators_match_numpy_including_reflected(backend, op):
    a = np.array([1.5, 2.0, 3.0], dtype=np.float32)
    b = np.array([2.0, 2.0, 0.5], dtype=np.float32)
    ta, tb = pt.constant(a), pt.constant(b)
    np.testing.assert_allclose(op(ta, tb).numpy(), op(a, b), rtol=1e-6)
    np.testing.assert_allclose(op(ta, 2.0).numpy(), op(a, np.float32(2.0)), rtol=1e-6)
    np.testing.assert_allclose(op(2.0, tb).numpy(), op(np.float32(2.0), b), rtol=1e-6)
    np.testing.assert_allclose(op(a, tb).numpy(), op(a, b), rtol=1e-6)


def test_matmul_operator_and_unary_operators(backend):
    a = np.arange(6.0).reshape(2, 3)
    b = np.arange(3.0)
    ta, tb = pt.constant(a), pt.constant(b)
    np.testing.assert_allclose((ta @ tb).numpy(), a @ b)
    np.testing.assert_allclose((a @ tb).numpy(), a @ b)
    np.testing.assert_allclose((-ta).numpy(), -a)
    np.testing.assert_allclose(abs(pt.constant([-1.0, 2.0])).numpy(), [1.0, 2.0])
    np.testing.assert_allclose((pt.constant([7, -7]) // 2).numpy(), [3, -4])
    np.testing.assert_allclose((pt.constant([7, -7]) % 3).numpy(), [1, 2])


def test_weak_python_scalars_keep_tensor_dtype(backend):
    assert (pt.constant([1.0], dtype=pt.float16) * 2.0).dtype == pt.float16
    assert (pt.constant([1.0], dtype=pt.bfloat16) * 2.0).dtype == pt.bfloat16
    assert (pt.constant([1, 2], dtype=pt.int8) + 1).dtype == pt.int8
    assert (pt.constant([1, 2]) * 1.5).dtype == pt.float32
    assert (pt.constant([True]) + 1).dtype == pt.int32
    assert (pt.constant([1.0], dtype=pt.float64) * pt.constant([1.0])).dtype == pt.float64


def test_integer_true_division_follows_tensorflow(backend):
    assert (pt.constant([3]) / pt.constant([2])).dtype == pt.float64
    assert (pt.constant([3], dtype=pt.int8) / 2).dtype == pt.float32
    np.testing.assert_allclose((pt.constant([3]) / 2).numpy(), [1.5])


def test_indexing_basic_and_integer_arrays(backend):
    a = np.arange(24.0).reshape(2, 3, 4)
    t = pt.constant(a)
    for index in [1, (1, 2), (slice(None), 1), (Ellipsis, -1), (None, 0), (0, slice(1, None, 2)),
                  ([1, 0],), (0, [2, 2, 0]), (slice(None), [0, 2], 1),
                  (pt.constant([1, 1]),), np.array([True, False])]:
        np.testing.assert_array_equal(t[index].numpy(), a[index])


def test_indexing_gradient_scatters_and_accumulates(backend):
    x = pt.Variable([1.0, 2.0, 3.0])
    with pt.GradientTape() as tape:
        y = pt.sum(x[[0, 0, 2]] * pt.constant([1.0, 10.0, 100.0])) + x[1:] @ pt.constant([1.0, 1.0])
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [11.0, 1.0, 101.0])


def test_repr_looks_like_tensorflow(backend):
    r = repr(pt.constant([1.0, 2.0, 3.0]))
    assert r.startswith("<polytape.Tensor shape=(3,) dtype=float32 backend=") and "numpy=[1., 2., 3.]" in r
    assert "numpy=9.0" in repr(pt.constant(9.0))
    v = pt.Variable(2.0, name="w")
    assert repr(v).startswith("<polytape.Variable 'w' shape=() dtype=float32")


def test_tensors_hash_by_identity(backend):
    a, b = pt.constant(1.0), pt.constant(1.0)
    assert len({a, b}) == 2
    assert {a: 1}[a] == 1


def test_variable_assign_family(backend):
    v = pt.Variable([1.0, 2.0], name="v")
    assert v.trainable and v.name == "v"
    assert v.assign([3.0, 4.0]) is v
    np.testing.assert_allclose(v.numpy(), [3.0, 4.0])
    v.assign_add(pt.constant([1.0, 1.0]))
    v.assign_sub([0.5, 0.5])
    np.testing.assert_allclose(v.numpy(), [3.5, 4.5])
    r = v.read_value()
    v.assign([0.0, 0.0])
    np.testing.assert_allclose(r.numpy(), [3.5, 4.5])  # the read is a snapshot


def test_variable_bad_assign_leaves_it_unchanged(backend):
    v = pt.Variable([1.0, 2.0])
    with pytest.raises(pt.ShapeError, match=r"shape \(2,\).*\(3,\)"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(pt.DTypeError, match="float32.*float64"):
        v.assign(pt.constant(np.ones(2)))
    with pytest.raises(pt.DTypeError):
        v.assign_add("a")
    np.testing.assert_allclose(v.numpy(), [1.0, 2.0])


def test_read_value_is_recorded(backend):
    v = pt.Variable(3.0)
    with pt.GradientTape() as tape:
        y = v.read_value() * 2.0
    assert float(tape.gradient(y, v)) == 2.0


def test_gradient_uses_the_value_an_op_saw_even_after_assign(backend):
    v = pt.Variable(3.0)
    with pt.GradientTape() as tape:
        y = v * v
    v.assign(10.0)
    assert float(tape.gradient(y, v)) == 6.0


def test_creation_functions(backend):
    assert pt.zeros((2, 3)).shape == (2, 3) and pt.zeros(2).dtype == pt.float32
    assert pt.ones(3, dtype=pt.int64).numpy().tolist() == [1, 1, 1]
    assert pt.full((2,), 7).dtype == pt.int32
    assert pt.full((2,), 7.0, dtype=pt.float64).numpy().tolist() == [7.0, 7.0]
    x = pt.constant([[1, 2]], dtype=pt.int16)
    for fn, value in ((pt.zeros_like, 0), (pt.ones_like, 1)):
        y = fn(x)
        assert y.shape == (1, 2) and y.dtype == pt.int16 and y.numpy().tolist() == [[value] * 2]
    assert pt.full_like(x, 5, dtype=pt.float32).numpy().tolist() == [[5.0, 5.0]]
    assert pt.zeros_like(x).backend == backend
    with pytest.raises(pt.ShapeError):
        pt.zeros((-1, 2))
