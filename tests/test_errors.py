"""Bad input gets the documented error, naming the op and the shapes, and breaks nothing."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt


def test_hierarchy_subclasses_the_builtins():
    assert issubclass(pt.ShapeError, (pt.PolytapeError, ValueError))
    assert issubclass(pt.InvalidArgumentError, ValueError)
    assert issubclass(pt.DTypeError, TypeError)
    assert issubclass(pt.BackendNotFoundError, LookupError)
    assert issubclass(pt.BackendUnavailableError, RuntimeError)
    assert issubclass(pt.BackendMismatchError, ValueError)
    assert issubclass(pt.TapeError, RuntimeError)
    assert issubclass(pt.PluginError, RuntimeError)
    for e in (pt.ShapeError, pt.DTypeError, pt.BackendNotFoundError, pt.BackendUnavailableError,
              pt.BackendMismatchError, pt.TapeError, pt.PluginError, pt.InvalidArgumentError):
        assert issubclass(e, pt.PolytapeError)


def test_matmul_shape_mismatch_names_op_and_shapes(backend):
    with pytest.raises(pt.ShapeError, match=r"matmul.*\(2, 3\).*\(2, 3\)"):
        pt.matmul(pt.ones((2, 3)), pt.ones((2, 3)))
    with pytest.raises(pt.ShapeError, match="matmul"):
        pt.matmul(pt.constant(1.0), pt.ones((2,)))


def test_add_broadcast_mismatch_names_op_and_shapes(backend):
    with pytest.raises(pt.ShapeError, match=r"add.*\(2, 3\).*\(4,\)"):
        pt.ones((2, 3)) + pt.ones((4,))


def test_shape_ops_reject_bad_arguments(backend):
    x = pt.ones((2, 3))
    with pytest.raises(pt.ShapeError, match="reshape"):
        pt.reshape(x, (4, 2))
    with pytest.raises(pt.ShapeError, match="sum: axis 2"):
        pt.sum(x, axis=2)
    with pytest.raises(pt.ShapeError, match="squeeze"):
        pt.squeeze(x, 0)
    with pytest.raises(pt.ShapeError, match="concat"):
        pt.concat([x, pt.ones((3, 3))], axis=1)
    with pytest.raises(pt.ShapeError, match="broadcast_to"):
        pt.broadcast_to(x, (3, 3))
    with pytest.raises(pt.ShapeError, match="transpose"):
        pt.transpose(x, (0, 0))
    with pytest.raises(pt.DTypeError, match="getitem"):
        x[1.5]
    with pytest.raises(pt.ShapeError, match="getitem"):
        x[5]


def test_unknown_dtype_is_a_dtype_error(backend):
    with pytest.raises(pt.DTypeError, match="unknown dtype 'float8'"):
        pt.constant(1.0, dtype="float8")
    with pytest.raises(pt.DTypeError):
        pt.cast(pt.ones(2), "complex64")
    with pytest.raises(pt.DTypeError, match="no polytape equivalent"):
        pt.constant(np.ones(2, dtype=np.complex64))


def test_a_string_where_a_number_belongs(backend):
    x = pt.ones(2)
    with pytest.raises(pt.DTypeError, match="str"):
        x + "a"
    with pytest.raises(pt.DTypeError):
        pt.constant("abc")
    with pytest.raises(pt.DTypeError):
        pt.exp("1.0")


def test_failing_ops_leave_tape_and_variables_unchanged(backend):
    v = pt.Variable([1.0, 2.0, 3.0])
    with pt.GradientTape() as tape:
        y = pt.sum(v * v)
        n_records = len(tape._records)
        for bad in (lambda: pt.matmul(v, pt.ones((2, 2))), lambda: v + pt.ones(4),
                    lambda: pt.reshape(v, (2, 2)), lambda: v + "x", lambda: pt.sum(v, axis=3)):
            with pytest.raises(pt.PolytapeError):
                bad()
        assert len(tape._records) == n_records
    np.testing.assert_allclose(v.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [2.0, 4.0, 6.0])


def test_gradient_rejects_non_tensor_sources(backend):
    x = pt.Variable(1.0)
    with pt.GradientTape() as tape:
        y = x * 2.0
    with pytest.raises(ValueError, match="source"):
        tape.gradient(y, [x, 3.0])
