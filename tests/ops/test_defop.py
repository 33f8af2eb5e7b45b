"""``defop`` and ``Op``: generated JVPs, per-input rules for every kind of op, the op's own facts."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt
from polytape.optable import OPS, Op, defop


def test_a_differentiable_op_without_a_vjp_is_an_error_at_declaration() -> None:
    with pytest.raises(ValueError, match="needs a vjp"):
        Op("no_rules")
    with pytest.raises(ValueError, match="needs a vjp"):
        Op("only_nones", vjps=(None, None))
    assert OPS["sign"].vjp(0) is None and OPS["sign"].jvp(0) is None  # declared non-differentiable


def test_elementwise_generates_the_jvp_from_the_vjp() -> None:
    sin = OPS["sin"]
    assert sin.jvp(0) is sin.vjp(0)  # one input: the VJP with t in place of g
    add = OPS["add"]
    assert add.vjp(0) is not add.jvps[0]  # two broadcasting inputs: VJPs summed to the input shape
    where = OPS["where"]
    assert where.vjp(0) is None and where.jvp(0) is None  # the condition has no gradient


def test_linear_ops_apply_themselves_to_the_tangent() -> None:
    x = pt.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    t = pt.constant([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    with pt.ForwardAccumulator(x, t) as acc:
        y = pt.sum(pt.transpose(x) * 1.0, axis=0)
        z = pt.matmul(x, pt.transpose(x))
    np.testing.assert_allclose(acc.jvp(y).numpy(), [1.0, 1.0])
    np.testing.assert_allclose(acc.jvp(z).numpy(), (t.numpy() @ x.numpy().T + x.numpy() @ t.numpy().T))


def test_variadic_ops_answer_per_input_like_the_others() -> None:
    concat = OPS["concat"]
    assert concat.vjp(0) is concat.vjp(0)  # bound once per input, then reused
    assert concat.vjp(0) is not concat.vjp(1)
    a, b = pt.constant([1.0, 2.0]), pt.constant([3.0])
    g = concat.vjp(1)(pt.ops, pt.constant([10.0, 20.0, 30.0]), None, a, b, axis=0)
    np.testing.assert_allclose(g.numpy(), [30.0])


def test_an_input_the_declaration_does_not_cover_is_an_error_not_a_missing_gradient() -> None:
    op = Op("one_rule", vjps=(lambda ns, g, ans, x, y: g,))
    with pytest.raises(IndexError, match="input 1"):
        op.vjp(1)
    with pytest.raises(IndexError, match="input 1"):
        op.jvp(1)


def test_a_missing_jvp_comes_from_the_vjp() -> None:
    op = defop("double_test_op", lambda ns, g, ans, x: 2 * g)
    try:
        assert op.jvp(0) is not None
        x = pt.constant([1.0, 2.0])
        t = pt.constant([1.0, 1.0])
        out = pt.ops.identity(x) * 2.0
        np.testing.assert_allclose(op.jvp(0)(pt.ops, t, out, x).numpy(), [2.0, 2.0])
    finally:
        del OPS["double_test_op"]


def test_flags_and_explicit_jvps_do_not_mix() -> None:
    with pytest.raises(ValueError, match="generated"):
        defop("bad_test_op", lambda ns, g, ans, x: g, lambda ns, t, ans, x: t, elementwise=True)
    assert "bad_test_op" not in OPS


def test_ops_carry_their_own_facts() -> None:
    assert OPS["add"].same_dtype and OPS["equal"].same_dtype and not OPS["where"].same_dtype
    assert OPS["sin"].float_only and OPS["mean"].float_only and not OPS["abs"].float_only
    assert not OPS["argmax"].differentiable and OPS["einsum"].variadic


def test_every_public_op_is_named_after_itself() -> None:
    """The ops modules bind functions built from tables to names: each must be its own."""
    aliases = {"permute_dims": "transpose", "acos": "arccos", "asin": "arcsin", "atan": "arctan",
               "atan2": "arctan2", "pow": "power"}
    for name in pt.ops.__all__:
        fn = getattr(pt.ops, name)
        assert fn.__name__ == aliases.get(name, name), name
        assert getattr(pt, name) is fn

