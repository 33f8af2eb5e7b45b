"""Python numbers made into tensors (``pt.constant(2.0)``, ``pt.Variable(2.0)``): the values,
dtypes and signs are those of a fresh conversion every time, though the NumPy backend
converts each number once and shares the (immutable) result."""

from __future__ import annotations

import math

import numpy as np
import pytest

import polytape as pt


@pytest.mark.parametrize("value, dtype", [(2.0, pt.float32), (2, pt.int32), (True, pt.bool_),
                                          (1, pt.int32), (1.0, pt.float32), (False, pt.bool_),
                                          (0, pt.int32), (2**40, pt.int64), (-3.5, pt.float32)])
def test_repeated_literals_keep_value_and_dtype(backend, value, dtype):
    # 1, 1.0 and True are equal (and hash alike) in Python: each keeps its own dtype.
    for _ in range(3):
        t = pt.constant(value)
        assert t.dtype is dtype and t.backend == backend
        assert t.numpy().item() == value and type(t.numpy().item()) is type(value)


def test_signed_zero_and_nan_are_never_confused(backend):
    for _ in range(2):
        assert math.copysign(1.0, float(pt.constant(-0.0))) == -1.0
        assert math.copysign(1.0, float(pt.constant(0.0))) == 1.0
        assert math.isnan(float(pt.constant(float("nan"))))


def test_dtype_and_backend_arguments_are_honoured(backend):
    assert pt.constant(2.0, dtype=pt.float64).dtype is pt.float64
    assert pt.constant(2.0, dtype="float16").dtype is pt.float16
    assert pt.constant(2.0).dtype is pt.float32  # the cached float32 did not leak the other way
    with pt.use_backend("numpy"):
        assert pt.constant(5.0).backend == "numpy"
    assert pt.constant(5.0).backend == backend


def test_variables_from_one_literal_are_independent(backend):
    a, b = pt.Variable(2.0), pt.Variable(2.0)
    c = pt.constant(2.0)
    a.assign_add(1.0)
    b.assign_sub(5.0)
    a.assign(7.5)
    assert float(a) == 7.5 and float(b) == -3.0 and float(c) == 2.0
    assert float(pt.Variable(2.0)) == 2.0 and float(pt.constant(2.0)) == 2.0
    assert a.name != b.name


def test_variable_gradients_with_fresh_variables_each_call(backend):
    # Seed 000's shape: the variable made right before the tape, again and again.
    for x0 in (2.0, 2.0, -1.0, 2.0):
        x = pt.Variable(x0)
        with pt.GradientTape() as tape:
            y = x**2 + 5 * x + 3
        assert float(tape.gradient(y, x)) == 2 * x0 + 5
        assert [v is x for v in tape.watched_variables()] == [True]


def test_assign_checks_still_refuse_bad_values(backend):
    v = pt.Variable([1.0, 2.0])
    with pytest.raises(pt.errors.DTypeError):
        v.assign(pt.constant([1.0, 2.0], dtype=pt.float64))
    with pytest.raises(pt.errors.ShapeError):
        v.assign_sub(pt.constant([1.0, 2.0, 3.0]))
    other = "torch" if backend == "numpy" else "numpy"
    if other in [s.name for s in pt.list_backends() if s.available]:
        with pytest.raises(pt.errors.BackendMismatchError):
            v.assign_add(pt.constant([1.0, 2.0], backend=other))
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])
