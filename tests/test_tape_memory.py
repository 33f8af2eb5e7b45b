"""A non-persistent tape holds nothing once it has answered: the forward pass's
intermediates die (by reference counting alone, no garbage collection) as soon as
``gradient`` or ``jacobian`` returns, while a persistent tape keeps them until it
is dropped.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import numpy as np
import pytest

import polytape as pt

STEPS = 5
X0 = np.array([0.3, -1.2, 2.0], dtype=np.float32)


def _ref(obj: Any) -> weakref.ref | None:
    try:
        return weakref.ref(obj)
    except TypeError:  # e.g. a NumPy scalar: not weak-referenceable
        return None


def _forward(tape: pt.GradientTape, x: pt.Tensor) -> tuple[pt.Tensor, list[weakref.ref]]:
    """``sum(f(f(...f(x))))`` with ``f(y) = sin(y) * 1.01``; weakrefs to every intermediate
    tensor and its backend array (the caller keeps only the loss)."""
    refs = []
    y = x
    for _ in range(STEPS):
        s = pt.sin(y)
        y = s * 1.01
        for t in (s, y):
            refs += [r for r in (weakref.ref(t), _ref(t.data)) if r is not None]
    return pt.sum(y), refs


def _expected_gradient(x: np.ndarray) -> np.ndarray:
    y, g = x.astype(np.float64), np.ones_like(x, dtype=np.float64)
    for _ in range(STEPS):
        g = g * 1.01 * np.cos(y)  # chain rule, innermost first
        y = np.sin(y) * 1.01
    return g


def _alive(refs: list[weakref.ref]) -> int:
    return sum(r() is not None for r in refs)


@pytest.fixture
def no_gc():
    """Only reference counting frees objects here: a cycle would keep them alive."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_gradient_releases_every_intermediate(backend: str, no_gc: None) -> None:
    x = pt.constant(X0)
    with pt.GradientTape() as tape:
        tape.watch(x)
        loss, refs = _forward(tape, x)
    assert _alive(refs) == len(refs) >= 2 * STEPS  # the tape holds them for the backward pass

    g = tape.gradient(loss, x)

    assert _alive(refs) == 0
    np.testing.assert_allclose(g.numpy(), _expected_gradient(X0), rtol=1e-5)
    with pytest.raises(RuntimeError, match="persistent=True"):
        tape.gradient(loss, x)  # and it answers only once


def test_jacobian_releases_every_intermediate(backend: str, no_gc: None) -> None:
    x = pt.constant(X0)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = x
        refs = []
        for _ in range(STEPS):
            y = pt.sin(y) * 1.01
            refs.append(weakref.ref(y))
        refs.pop()  # the last one is the target, which the caller holds
    assert _alive(refs) == len(refs) == STEPS - 1

    jac = tape.jacobian(y, x)

    assert _alive(refs) == 0
    np.testing.assert_allclose(jac.numpy(), np.diag(_expected_gradient(X0)), rtol=1e-5, atol=1e-7)


def test_persistent_tape_keeps_intermediates_until_dropped(backend: str, no_gc: None) -> None:
    x = pt.constant(X0)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        loss, refs = _forward(tape, x)

    first = tape.gradient(loss, x)
    second = tape.gradient(loss, x)

    assert _alive(refs) == len(refs)  # a persistent tape must keep what later calls need
    np.testing.assert_allclose(first.numpy(), second.numpy())
    np.testing.assert_allclose(first.numpy(), _expected_gradient(X0), rtol=1e-5)
    del tape
    assert _alive(refs) == 0


def test_failed_gradient_still_releases_a_non_persistent_tape(backend: str, no_gc: None) -> None:
    x = pt.constant(X0)
    with pt.GradientTape() as tape:
        tape.watch(x)
        loss, refs = _forward(tape, x)

    with pytest.raises(pt.ShapeError):
        tape.gradient(loss, x, output_gradients=pt.constant([1.0, 2.0]))  # loss is a scalar

    assert _alive(refs) == 0


# -- lean saved values: a record keeps only what its rules read -------------------------------
BIG = np.linspace(-3.0, 3.0, 4096, dtype=np.float32)  # 16 KiB: above RELEASE_MIN_BYTES


def test_tape_keeps_only_the_values_rules_read(backend: str, no_gc: None) -> None:
    # y = sin(y) * 1.01: sin's rule reads its input, the product's rule for its tensor reads
    # only the number, and sum's only its input's shape. So the tape keeps each sin input
    # (the hand-written backward keeps exactly those) and neither the products' nor the
    # sines' outputs.
    x = pt.constant(BIG)
    sines, products = [], []
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = x
        for _ in range(STEPS):
            s = pt.sin(y)
            y = s * 1.01
            sines.append((weakref.ref(s), _ref(s.data)))
            products.append((weakref.ref(y), _ref(y.data)))
        loss = pt.sum(y)
    del s, y
    assert _alive([r for pair in sines for r in pair]) == 0
    # The products are the next sines' inputs (kept), except the last one (sum's input).
    kept = [True] * (STEPS - 1) + [False]
    assert [r() is not None for _, r in products] == kept
    assert [t() is not None for t, _ in products] == kept

    g = tape.gradient(loss, x)
    np.testing.assert_allclose(g.numpy(), _expected_gradient(BIG), rtol=1e-5, atol=1e-6)
    assert _alive([r for pair in products for r in pair]) == 0


def test_released_values_still_give_higher_order_derivatives(backend: str) -> None:
    # Nested tapes see the released tensors by identity: d2/dx2 sum(sin(x) * 1.01 + x * x).
    x = pt.constant(BIG)
    with pt.GradientTape() as outer:
        outer.watch(x)
        with pt.GradientTape() as inner:
            inner.watch(x)
            loss = pt.sum(pt.sin(x) * 1.01 + x * x)
        g = inner.gradient(loss, x)
        gsum = pt.sum(g)
    h = outer.gradient(gsum, x)
    xd = BIG.astype(np.float64)
    np.testing.assert_allclose(g.numpy(), 1.01 * np.cos(xd) + 2 * xd, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h.numpy(), -1.01 * np.sin(xd) + 2, rtol=1e-5, atol=1e-5)


def test_a_tensor_watched_after_its_op_still_gets_its_gradient(backend: str) -> None:
    # TensorFlow's tapes allow it: the record names every tensor input, watched or not.
    x = pt.constant(BIG)
    c = pt.constant(BIG * 2)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = pt.sum(x * c + c)
        tape.watch(c)
    gx, gc_ = tape.gradient(y, [x, c])
    np.testing.assert_allclose(gx.numpy(), BIG * 2)
    np.testing.assert_allclose(gc_.numpy(), BIG + 1)


# -- variable updates: in place only when nobody else can see the old value -------------------
def test_variable_updates_never_change_what_was_read_before(backend: str) -> None:
    user = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    v = pt.Variable(user)
    snapshot = v.read_value()
    view = v[1:]                      # a slice: on NumPy, a view of the variable's array
    x = pt.constant([2.0, 2.0, 2.0])
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = pt.sum(v * x)             # the tape saves v's value for d y / d x
    for _ in range(3):
        v.assign_sub(pt.constant([1.0, 1.0, 1.0]))
        v.assign_add([0.5, 0.5, 0.5])

    np.testing.assert_array_equal(v.numpy(), [-0.5, 0.5, 1.5])
    np.testing.assert_array_equal(user, [1.0, 2.0, 3.0])          # the caller's array
    np.testing.assert_array_equal(snapshot.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(view.numpy(), [2.0, 3.0])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1.0, 2.0, 3.0])


def test_numpy_variable_updates_in_place_only_when_unshared() -> None:
    v = pt.Variable(np.array([1.0, 2.0], dtype=np.float32), backend="numpy")
    v.assign_add([1.0, 1.0])          # the first update leaves the caller's array alone
    before = id(v.data)
    v.assign_add([1.0, 1.0])          # now nothing but v holds its array: no copy
    assert id(v.data) == before
    np.testing.assert_array_equal(v.numpy(), [3.0, 4.0])

    held = v.data                     # someone else holds it: the update must make a new one
    v.assign_sub([3.0, 3.0])
    assert v.data is not held
    np.testing.assert_array_equal(held, [3.0, 4.0])
    np.testing.assert_array_equal(v.numpy(), [0.0, 1.0])
