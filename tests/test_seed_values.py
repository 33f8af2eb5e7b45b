"""Every seed example that needs no nn/optimizer, written with polytape's own API,
gives the value real TensorFlow prints (recorded here), on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt


def test_seed000_quadratic_value_and_gradient(backend):
    x = pt.Variable(2.0)
    with pt.GradientTape() as tape:
        y = x**2 + 5 * x + 3
    grad = tape.gradient(y, x)
    assert y.numpy() == 17.0  # the seed's text says 15.0; TensorFlow prints 17.0
    assert grad.numpy() == 9.0


def test_seed000_watch_constant(backend):
    x = pt.constant(3.0)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = x**2
    assert y.numpy() == 9.0 and tape.gradient(y, x).numpy() == 6.0


def test_seed000_manual_vs_tape(backend):
    x = pt.Variable(2.0)
    with pt.GradientTape() as tape:
        y = x**2 + 5 * x + 3
    manual = 2 * x + 5
    assert manual.numpy() == 9.0 and tape.gradient(y, x).numpy() == 9.0


def test_seed001_tape_without_with_is_a_clear_error(backend):
    x, y = pt.constant(3.0), pt.constant(2.0)
    tape = pt.GradientTape()
    with pytest.raises(pt.TapeError, match="with pt.GradientTape"):
        tape.watch(x)
    with pt.GradientTape() as tape:
        tape.watch(x)
        z = x * y
    assert tape.gradient(z, x).numpy() == 2.0


def test_seed001_variable_square(backend):
    w = pt.Variable(5.0)
    with pt.GradientTape() as tape:
        y = w * w
    assert tape.gradient(y, w).numpy() == 10.0


def test_seed001_nested_tapes(backend):
    x = pt.Variable(3.0)
    with pt.GradientTape() as t1:
        with pt.GradientTape() as t2:
            y = x * x * x
        dy_dx = t2.gradient(y, x)
        d2y_dx2 = t1.gradient(dy_dx, x)
    assert dy_dx.numpy() == 27.0 and d2y_dx2.numpy() == 18.0


def test_seed002_watch_list(backend):
    a, b, c = pt.constant(3.0), pt.constant(2.0), pt.constant(1.0)
    with pt.GradientTape() as tape:
        tape.watch([a, b, c])
        y = a * b + c
    assert [g.numpy() for g in tape.gradient(y, [a, b, c])] == [2.0, 3.0, 1.0]


def test_seed003_three_ways(backend):
    x = pt.constant([2.0])
    with pt.GradientTape() as grad:
        f = x**2
    assert grad.gradient(f, x) is None
    xv = pt.Variable(pt.constant([2.0]))
    with pt.GradientTape() as grad:
        f = xv**2
    np.testing.assert_array_equal(grad.gradient(f, xv).numpy(), [4.0])
    with pt.GradientTape() as grad:
        grad.watch(x)
        f = x**2
    np.testing.assert_array_equal(grad.gradient(f, x).numpy(), [4.0])


def test_seed003_persistent_and_non_persistent(backend):
    x = pt.Variable(pt.constant([2.0]))
    with pt.GradientTape(persistent=True) as grad:
        f = x**2
        h = x**3
    np.testing.assert_array_equal(grad.gradient(f, x).numpy(), [4.0])
    np.testing.assert_array_equal(grad.gradient(h, x).numpy(), [12.0])
    with pt.GradientTape() as grad:
        f = x**2
        h = x**3
    grad.gradient(f, x)
    with pytest.raises(RuntimeError, match="A non-persistent GradientTape can only be used to "
                                           r"compute one set of gradients \(or jacobians\)"):
        grad.gradient(h, x)


def test_seed004_int_tensors(backend):
    for t in (pt.constant([1, 2, 3]), pt.Variable([1, 2, 3])):
        assert t.dtype == pt.int32 and t.shape == (3,)
        np.testing.assert_array_equal((t + t).numpy(), [2, 4, 6])
        np.testing.assert_array_equal((2 * t).numpy(), [2, 4, 6])


def test_seed004_variable_square_gradient(backend):
    x = pt.Variable(3.6)
    with pt.GradientTape() as tape:
        y = x * x
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 7.2, rtol=1e-6)
