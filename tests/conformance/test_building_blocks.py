"""The suite's parts on their own: comparisons, tolerance lookup, recipes, verdicts."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt
from polytape.conformance import tolerances
from polytape.conformance.cases import ConformanceCase
from polytape.conformance.certificate import BackendRecord, CaseResult, Certificate
from polytape.conformance.checks import Measurement, assert_close, measuring, round_to
from polytape.conformance.recipes import RECIPES, draw, recipe_for
from polytape.conformance.runner import run_case
from polytape.optable import OPS


# -- assert_close -------------------------------------------------------------------------------
def test_assert_close_uses_rtol_and_atol():
    # float32: rtol 1.3e-6, atol 1e-5 -> at 100 the allowed error is 1e-5 + 1.3e-4.
    assert assert_close([100.0 + 1.3e-4], [100.0], "float32") == pytest.approx(1.3e-4)
    with pytest.raises(AssertionError, match=r"max \|error\| 0.0002 .*rtol 1.3e-06, atol 1e-05"):
        assert_close([100.0 + 2e-4], [100.0], "float32", what="y")
    assert_close([1e-5], [0.0], "float32")           # within atol
    with pytest.raises(AssertionError):
        assert_close([1e-5], [0.0], "float64")        # float64's atol is 1e-7
    with pytest.raises(AssertionError):
        assert_close([3], [4], "int32")               # integers are exact


def test_assert_close_shapes_nans_and_magnitude():
    with pytest.raises(AssertionError, match="shape"):
        assert_close(np.zeros((2, 1)), np.zeros(2), "float64")
    assert_close([np.nan, 1.0], [np.nan, 1.0], "float32")
    with pytest.raises(AssertionError, match="NaN"):
        assert_close([np.nan, 1.0], [0.0, 1.0], "float32")
    # A sum of terms of size 1000 that cancels to ~0: judged against the terms' size.
    with pytest.raises(AssertionError):
        assert_close([0.01], [0.0], "float16")
    assert_close([0.01], [0.0], "float16", magnitude=[1000.0])


def test_measurement_keeps_the_worst_comparison():
    m = Measurement()
    with measuring(m):
        assert_close([1.0], [1.0], "float64")
        assert_close([2.0 + 1e-6], [2.0], "float32")
    assert m.comparisons == 2
    assert m.max_error == pytest.approx(1e-6, rel=1e-3)
    assert m.rtol == 1.3e-6 and m.atol == 1e-5
    assert m.ratio == pytest.approx(1e-6 / (1e-5 + 2 * 1.3e-6), rel=1e-3)


# -- tolerance lookup ---------------------------------------------------------------------------
def test_tolerance_tables_and_overrides():
    assert tolerances.tolerance("value", "float16") == tolerances.VALUE["float16"]
    assert tolerances.tolerance("value", "int8").rtol == 0.0
    assert tolerances.tolerance("gradient", "float32").rtol > tolerances.tolerance("value", "float32").rtol
    assert tolerances.tolerance("value", "float16", op="sum").rtol > tolerances.VALUE["float16"].rtol

    class Chip:
        name = "chip"
        conformance_tolerances = {"value/float16/tan": (5e-3, 1e-4)}

    own = tolerances.tolerance("value", "float16", "tan", Chip())
    assert (own.rtol, own.atol) == (5e-3, 1e-4) and "chip" in own.source
    assert tolerances.tolerance("value", "float16", "sin", Chip()) == tolerances.VALUE["float16"]
    try:
        tolerances.set_tolerance("value", "float32", 1e-4, 1e-4, op="tan", backend="chip")
        assert tolerances.tolerance("value", "float32", "tan", "chip").rtol == 1e-4
        assert tolerances.tolerance("value", "float32", "tan", "numpy").rtol == 1.3e-6
    finally:
        tolerances._runtime.clear()
    with pytest.raises(ValueError):
        tolerances.set_tolerance("speed", "float32", 1, 1)


# -- recipes ------------------------------------------------------------------------------------
def test_every_table_op_has_its_own_recipe():
    """No op of the table is left to the generic fallback or to "missing recipe"."""
    missing = sorted(op for op in OPS if op not in RECIPES)
    assert missing == [], f"add recipes to polytape.conformance.recipes for {missing}"


def test_generic_recipe_only_for_ufunc_names():
    # (a name polytape's own table does not use: hypot was the example until issue #15)
    assert recipe_for("float_power").generic and recipe_for("float_power").reference is np.float_power
    assert recipe_for("no_such_op_anywhere") is None
    assert not recipe_for("exp").generic


def test_draw_is_deterministic_and_exact_in_the_dtype():
    sample = RECIPES["exp"].samples[2]
    for dtype in ("float16", "bfloat16", "float32"):
        a, = draw("exp", sample, dtype)
        b, = draw("exp", sample, dtype)
        assert np.array_equal(a, b) and a.dtype == np.float64
        assert np.array_equal(round_to(a, dtype), a)
        assert not np.array_equal(round_to(a, "float64"), draw("exp", sample, "float64")[0])
    ints = draw("add", RECIPES["add"].samples[0], "uint8")[0]
    assert ints.dtype == np.uint8 and ints.min() >= 0


# -- running a case -----------------------------------------------------------------------------
class _Node:
    def __init__(self) -> None:
        self.user_properties: list = []


def test_run_case_records_measurement_and_backend():
    seen = {}

    def fn(backend, dtype):
        seen["backend"] = pt.constant(1.0).backend
        seen["dtype"] = dtype
        assert_close(pt.constant(0.1, dtype=dtype), 0.1, dtype)

    node = _Node()
    run_case(ConformanceCase("c", "g", fn), "numpy", "float16", node)
    assert seen == {"backend": "numpy", "dtype": pt.float16}
    props = dict(node.user_properties)
    assert props["polytape_rtol"] == 1e-3
    assert props["polytape_max_error"] == pytest.approx(abs(float(np.float16(0.1)) - 0.1))


def test_returned_error_is_checked_against_case_tolerance():
    node = _Node()
    with pytest.raises(AssertionError, match="exceeds the case's tolerance"):
        run_case(ConformanceCase("c", "g", lambda b, d: 0.5, tolerance=0.1), "numpy", None, node)
    assert dict(node.user_properties)["polytape_max_error"] == 0.5


def test_case_validation():
    with pytest.raises(TypeError):
        ConformanceCase("", "g", lambda b, d: None)
    with pytest.raises(TypeError):
        ConformanceCase("n", "g", "not callable")


# -- verdicts -----------------------------------------------------------------------------------
def _cert(*outcomes: str, available: bool = True, reason: str = "") -> Certificate:
    b = BackendRecord(spec="x", name="x", requested=True, available=available, reason=reason)
    results = [CaseResult(id=f"t[{i}]", group="values", case=f"c{i}", backend="x", dtype=None,
                          outcome=o) for i, o in enumerate(outcomes)]
    return Certificate([b], results, [], {}, [])


@pytest.mark.parametrize("outcomes, verdict", [
    (("passed", "skipped", "xfailed"), "certified"),
    (("passed", "failed"), "not certified"),
    (("passed", "error"), "not certified"),
    (("passed", "xpassed"), "not certified"),
    (("skipped", "xfailed"), "not certified"),
    ((), "not certified"),
])
def test_verdict_rules(outcomes, verdict):
    cert = _cert(*outcomes)
    assert cert.verdict(cert.backends[0]) == verdict
    assert cert.certified() is (verdict == "certified")


def test_verdict_of_backends_that_cannot_run():
    cert = _cert(available=False, reason="no CUDA device")
    assert cert.verdict(cert.backends[0]) == "unavailable"
    cert = _cert(available=False, reason="rejected: missing kernels for required ops: tanh")
    assert cert.verdict(cert.backends[0]) == "rejected"
    assert "tanh" in cert.markdown()
