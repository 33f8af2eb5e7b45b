"""What a tape record keeps: rule_reads reads each rule's needs off its code, Op.kept
combines them for one call, and a record holds nothing else."""

from __future__ import annotations

import functools
import weakref

import numpy as np

import polytape as pt
from polytape.optable import OPS, SHAPE, UNUSED, VALUE, rule_reads


def test_rule_reads_names_what_each_rule_uses() -> None:
    assert rule_reads(lambda ns, g, ans, x, y: g * y, 2) == (UNUSED, UNUSED, VALUE)
    assert rule_reads(lambda ns, g, ans, x: g * ans, 1) == (VALUE, UNUSED)
    assert rule_reads(lambda ns, g, ans, x: ns.reshape(g, tuple(x.shape)), 1) == (UNUSED, SHAPE)
    assert rule_reads(lambda ns, g, ans, x: g / len(x.shape) + x.ndim + x.size, 1) == (UNUSED, SHAPE)
    # Any other use is a value: an attribute that is not a shape, passing it on, a closure.
    assert rule_reads(lambda ns, g, ans, x: g.astype(x.dtype), 1) == (UNUSED, VALUE)
    assert rule_reads(lambda ns, g, ans, x: ns.cos(x) * g, 1) == (UNUSED, VALUE)

    def closes_over(ns, g, ans, x):
        return (lambda: x)() * g
    assert rule_reads(closes_over, 1) == (UNUSED, VALUE)


def test_rule_reads_of_variadic_and_opaque_rules() -> None:
    def one_rule(ns, g, ans, *xs, argnum):
        return g * xs[1 - argnum]
    assert rule_reads(one_rule, 2, variadic=True) == (UNUSED, VALUE)

    def ignores_inputs(ns, g, ans, *xs, argnum):
        return g
    assert rule_reads(ignores_inputs, 3, variadic=True) == (UNUSED, UNUSED)
    # Not plain Python code: nothing can be proved unused.
    assert rule_reads(functools.partial(lambda ns, g, ans, x: g), 1) == (VALUE, VALUE)
    assert rule_reads(np.multiply, 2) == (VALUE, VALUE, VALUE)


def test_op_kept_depends_on_which_inputs_are_tensors() -> None:
    mul = OPS["multiply"]
    assert mul.kept((True, True)) == (False, ())        # each rule reads the other input
    assert mul.kept((True, False)) == (False, (0,))     # x * 1.01: x's values unread
    assert mul.kept((False, True)) == (False, (1,))
    assert OPS["exp"].kept((True,)) == (True, (0,))     # exp's rule reads its output only
    assert OPS["sin"].kept((True,)) == (False, ())
    assert OPS["add"].kept((True, True)) == (False, (0, 1))


def test_exp_keeps_its_output_and_releases_its_input(backend: str) -> None:
    with pt.use_backend(backend):
        x = pt.constant(np.linspace(-1.0, 1.0, 4096, dtype=np.float32))
        with pt.GradientTape() as tape:
            tape.watch(x)
            h = x * 2.0
            y = pt.exp(h)
            loss = pt.sum(y)
        h_ref, y_ref = weakref.ref(h), weakref.ref(y)
        del h, y
        assert h_ref() is None and y_ref() is None  # neither tensor is held by the tape
        g = tape.gradient(loss, x)
    np.testing.assert_allclose(g.numpy(), 2 * np.exp(2 * np.linspace(-1, 1, 4096)), rtol=1e-5)
