"""Third-party plugins extend the suite: their cases run (``polytape_conformance_cases``) and
the ops they declare are checked from the op table without anyone listing them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import polytape as pt
import polytape.plugins as plugins
from polytape.conformance import ConformanceCase, assert_close
from polytape.conformance import recipes as recipe_table
from polytape.derivatives import unbroadcast
from polytape.plugins import hookimpl


def _cosh_identity(backend: str, dtype: Any) -> None:
    x = pt.constant([0.5, -1.0, 2.0], dtype=dtype)
    assert_close(pt.cosh(x) ** 2 - pt.sinh(x) ** 2, np.ones(3), dtype, what="cosh^2 - sinh^2")


def _measured(backend: str, dtype: Any) -> float:
    return abs(float(pt.sqrt(pt.constant(2.0, dtype=dtype))) - math.sqrt(2.0))


def _broken(backend: str, dtype: Any) -> None:
    assert float(pt.constant(1.0)) == 2.0, "one is not two on this vendor's chip"


class VendorCases:
    @hookimpl
    def polytape_conformance_cases(self, registry: Any) -> None:
        registry.add(ConformanceCase("cosh_identity", "vendor", _cosh_identity,
                                     dtypes=("float32", "float64")))
        registry.add(ConformanceCase("sqrt_two", "vendor", _measured, dtypes=("float32",),
                                     tolerance=1e-6))
        registry.add(ConformanceCase("broken_claim", "vendor", _broken, dtypes=None))
        registry.add("not a case")


@pytest.fixture
def vendor_plugin():
    name = plugins.register(VendorCases(), name="vendor-cases")
    yield name
    plugins.unregister(name)


def test_plugin_cases_run_and_are_reported(certify, vendor_plugin):
    cert = certify("--backend", "numpy", "-k", "test_plugin_case")
    assert cert.code == 1
    cases = {c["id"].split("::")[1]: c for c in cert.cases("numpy")}
    ok = cases["test_plugin_case[cosh_identity-numpy-float64]"]
    assert ok["outcome"] == "passed" and ok["group"] == "vendor" and ok["plugin"] == vendor_plugin
    assert ok["rtol"] == 1e-12 and ok["error_ratio"] <= 1  # float64 values: float64 precision
    measured = cases["test_plugin_case[sqrt_two-numpy-float32]"]
    assert measured["outcome"] == "passed"
    assert measured["max_error"] == pytest.approx(abs(float(np.float32(math.sqrt(2))) - math.sqrt(2)))
    assert measured["atol"] == 1e-6
    broken = cases["test_plugin_case[broken_claim-numpy]"]
    assert broken["outcome"] == "failed" and "one is not two" in broken["message"]
    invalid = cases[f"test_plugin_case[invalid_case_from_{vendor_plugin}-numpy]"]
    assert invalid["outcome"] == "failed" and "ConformanceCase" in invalid["message"]
    assert "vendor" in cert.markdown


def test_unregistered_plugin_cases_are_gone(certify, vendor_plugin):
    plugins.unregister(vendor_plugin)
    cert = certify("--backend", "numpy", "-k", "test_plugin_case or s000_quadratic")
    assert cert.code == 0
    assert [c["case"] for c in cert.cases("numpy")] == ["s000_quadratic"]


def _float_power_kernel(k: Any, x: Any, y: Any) -> Any:
    return k["power"](x, y)


class OpsPlugin:
    @hookimpl
    def polytape_register_ops(self, registry: Any) -> None:
        # float_power shares its name with a NumPy ufunc: the generic elementwise recipe covers
        # it. (The suite caught this test's first version, whose rules did not unbroadcast.)
        # It was hypot until polytape gained its own hypot (issue #15).
        registry.add_op("float_power",
                        vjp=(lambda ns, g, ans, x, y: unbroadcast(ns, g * y * x ** (y - 1), x.shape),
                             lambda ns, g, ans, x, y: unbroadcast(ns, g * ans * ns.log(x), y.shape)),
                        default_kernel=_float_power_kernel)
        # mystery_scale does not: without a recipe it is a failing "missing recipe" case.
        registry.add_op("mystery_scale", vjp=lambda ns, g, ans, x: g * 3.0,
                        default_kernel=lambda k, x: k["multiply"](x, k["full"](x.shape, 3.0, x.dtype)))


@pytest.fixture
def ops_plugin():
    name = plugins.register(OpsPlugin(), name="extra-ops")
    yield name
    plugins.unregister(name)
    recipe_table.RECIPES.pop("mystery_scale", None)


def test_plugin_ops_are_covered_from_the_op_table(certify, ops_plugin):
    cert = certify("--backend", "numpy", "-k", "float_power or mystery_scale")
    assert cert.code == 1
    outcomes = {(c["group"], c["case"], c["dtype"]): c["outcome"] for c in cert.cases("numpy")}
    for dtype in ("float16", "bfloat16", "float32", "float64"):
        assert outcomes["values", "float_power", dtype] == "passed"
        assert outcomes["gradients", "float_power", dtype] == "passed"
    assert cert.failing_ids("numpy") == {"test_op_values.py::test_value[mystery_scale-numpy-float32]"}
    message = cert.backend("numpy")["failures"][0]["message"]
    assert "missing recipe" in message and "mystery_scale" in message
    # One line in the recipe table and the op is checked like any other.
    recipe_table.recipe("mystery_scale", lambda x: 3.0 * x, recipe_table.unary())
    cert = certify("--backend", "numpy", "-k", "mystery_scale")
    assert cert.code == 0, cert.markdown
    groups = {c["group"] for c in cert.cases("numpy", "passed")}
    assert groups == {"values", "gradients", "jacobian"}
