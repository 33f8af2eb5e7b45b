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
    assert issubclass(pt.ArgumentTypeError, TypeError)
    assert not issubclass(pt.ArgumentTypeError, pt.DTypeError)  # a wrong axis is not about dtypes
    for e in (pt.ShapeError, pt.DTypeError, pt.BackendNotFoundError, pt.BackendUnavailableError,
              pt.BackendMismatchError, pt.TapeError, pt.PluginError, pt.InvalidArgumentError,
              pt.ArgumentTypeError):
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
        pt.cast(pt.ones(2), "complex32")
    with pytest.raises(pt.DTypeError, match="no polytape equivalent"):
        pt.constant(np.ones(2, dtype=np.clongdouble))


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


# -- what a failing kernel's exception becomes (dispatch.kernel_error) ---------------------------
@pytest.fixture
def failing_kernel(backend):
    """``install(op, exc)`` makes op's kernel on the current backend raise ``exc``."""
    be = pt.get_backend(backend)
    original = be.kernels

    def install(op, exc):
        def kernel(*args, **kwargs):
            raise exc
        be.kernels = {**original, op: kernel}

    yield install
    be.kernels = original


# One call per path into a kernel: unary and binary elementwise (dispatch's inlined bodies),
# run() with attributes (a reduction), and a creation function.
CALLS = {
    "sin": lambda: pt.sin(pt.ones((2,))),
    "add": lambda: pt.ones((2,)) + pt.ones((2,)),
    "sum": lambda: pt.sum(pt.ones((2, 3)), axis=0),
    "arange": lambda: pt.arange(4),
}


@pytest.mark.parametrize("op", sorted(CALLS))
def test_a_kernels_memory_error_stays_a_memory_error(backend, failing_kernel, op):
    failing_kernel(op, MemoryError("out of memory"))
    with pytest.raises(MemoryError) as info:
        CALLS[op]()
    assert not isinstance(info.value, pt.PolytapeError)


@pytest.mark.parametrize("exc", [ZeroDivisionError("division"), NotImplementedError("no kernel"),
                                 RuntimeError("device lost"), KeyError("k"),
                                 IndexError("something else entirely")])
@pytest.mark.parametrize("op", sorted(CALLS))
def test_other_non_shape_kernel_errors_are_not_relabelled(backend, failing_kernel, op, exc):
    failing_kernel(op, exc)
    with pytest.raises(type(exc)) as info:
        CALLS[op]()
    assert type(info.value) is type(exc)


@pytest.mark.parametrize(("exc", "expected"), [
    (ValueError("operands could not be broadcast together with shapes (2,) (3,)"), pt.ShapeError),
    (IndexError("index 5 is out of bounds for axis 0 with size 2"), pt.ShapeError),
    (RuntimeError("The size of tensor a (2) must match the size of tensor b (3)"), pt.ShapeError),
    (ValueError("math domain error"), pt.InvalidArgumentError),
    (TypeError("ufunc 'sin' not supported for the input types"), pt.DTypeError),
])
@pytest.mark.parametrize("op", sorted(CALLS))
def test_kernel_errors_polytape_understands_are_translated(backend, failing_kernel, op, exc,
                                                           expected):
    failing_kernel(op, exc)
    with pytest.raises(expected, match=op) as info:
        CALLS[op]()
    assert info.value.__cause__ is exc


# -- arguments of the wrong type, indices on the wrong backend ------------------------------------
@pytest.mark.parametrize("call", [
    lambda x: pt.sum(x, axis=1.5), lambda x: pt.mean(x, axis="0"), lambda x: pt.max(x, axis=[0.0]),
    lambda x: pt.argmax(x, axis=1.0), lambda x: pt.cumsum(x, axis=None or "1"),
    lambda x: pt.flip(x, axis=0.5), lambda x: pt.squeeze(x, axis=0.5),
    lambda x: pt.expand_dims(x, 1.0), lambda x: pt.stack([x, x], axis="0"),
    lambda x: pt.softmax(x, axis=1.5), lambda x: pt.split(x, 1, axis=0.0),
])
def test_an_axis_of_the_wrong_type_is_an_argument_type_error(backend, call):
    with pytest.raises(pt.ArgumentTypeError, match="axis") as info:
        call(pt.ones((2, 3)))
    assert isinstance(info.value, TypeError) and not isinstance(info.value, pt.DTypeError)


def test_an_index_tensor_on_another_backend_is_a_backend_mismatch(backend):
    other = "torch" if backend == "numpy" else "numpy"
    x = pt.ones((3,))
    index = pt.constant([0, 2], backend=other)
    with pytest.raises(pt.BackendMismatchError, match="getitem"):
        x[index]
    with pytest.raises(pt.BackendMismatchError, match="take"):
        pt.take(x, index)

