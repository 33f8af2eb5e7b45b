"""The suite's power: edge values, ULP columns, and the self-test's faulty backends."""

from __future__ import annotations

import math

import numpy as np
import pytest

from polytape.conformance.edge_values import special_values
from polytape.conformance.faulty import BUG_CLASSES, FAULTS
from polytape.conformance.precision import summation_bound
from polytape.conformance.self_test import run_self_test
from polytape.conformance.ulp import ulp, ulp_bound, ulp_error


def test_ulp_of_a_few_numbers():
    assert ulp(1.0, "float64") == 2.0 ** -52
    assert ulp(1.0, "float32") == 2.0 ** -23
    assert ulp(1.5, "float16") == 2.0 ** -10
    assert ulp(1.0, "bfloat16") == 2.0 ** -7
    assert ulp(0.0, "float32") == 2.0 ** -149  # the smallest subnormal
    assert ulp(1e-40, "float32") == 2.0 ** -149
    assert np.isnan(ulp(math.inf, "float64"))
    assert ulp_error(1.0 + 2.0 ** -52, 1.0, "float64") == 1.0
    assert ulp_error(0.0, 2.0 ** -149, "float32") == 1.0  # flushing a subnormal costs ULPs
    assert ulp_error(math.nan, math.nan, "float64") == 0.0
    assert ulp_error(math.inf, 1.0, "float64") == math.inf
    assert ulp_bound("exp", "float64") == 3.5 and ulp_bound("add", "float32") == 1.5
    assert ulp_bound("erf", "float16") == 1.5


def test_float64_ulps_against_mpmath():
    from polytape.conformance.extended_reference import float64_ulp_errors

    x = np.array([1.0, 0.5, -3.0, 0.0, math.nan])
    e = np.exp(x)
    errs = float64_ulp_errors("exp", [x], e, e)
    # NumPy's exp is within 1 ULP (correctly rounded on NumPy 2, not always on 1.x), and
    # e = 2.718281828459045 is rounded, so its error is not 0
    assert np.all(errs[:3] <= 1.0) and errs[0] > 0
    assert np.isnan(errs[3]) and np.isnan(errs[4])  # special cases: the float64 reference's
    off = float64_ulp_errors("exp", [x], np.nextafter(e, math.inf), e)
    # one ULP further up: the error moves by exactly one ULP, up or down
    assert np.allclose(np.abs(off[:3] - errs[:3]), 1.0) or np.all(
        (off[:3] >= 1.0 - errs[:3] - 1e-9) & (off[:3] <= 1.0 + errs[:3] + 1e-9))
    # math.fsum-exact sums: 0.1 + 0.2 rounds to 0.30000000000000004, 0.25 ULP from exact
    s = float64_ulp_errors("add", [np.array([0.1]), np.array([0.2])], np.array([0.1 + 0.2]),
                           np.array([0.1 + 0.2]))
    assert 0 < s[0] <= 0.5
    assert float64_ulp_errors("relu", [x], e, e) is None


def test_without_mpmath_the_certificate_says_so(monkeypatch):
    from polytape.conformance import extended_reference

    assert "mpmath" in extended_reference.describe() and "128 bits" in extended_reference.describe()
    monkeypatch.setattr(extended_reference, "_mpmath", lambda: None)
    assert not extended_reference.available()
    assert "mpmath is not installed" in extended_reference.describe()
    x = np.array([1.0])
    assert extended_reference.float64_ulp_errors("exp", [x], np.exp(x), np.exp(x)) is None


def test_special_values_are_representable():
    for dtype in ("float16", "bfloat16", "float32", "float64"):
        from polytape.conformance.checks import round_to

        v = special_values(dtype)
        finite = np.isfinite(v)
        same = round_to(v[finite], dtype) == v[finite]
        # Only 1e-3 is not exact below float64; everything else (subnormals, extremes, ties) is.
        assert same.sum() == finite.sum() - (dtype != "float64")
        assert np.signbit(v[4]) and v[4] == 0  # -0.0


def test_summation_bound_scales_with_terms():
    assert summation_bound(2 ** 10, "float64", 1.0) == pytest.approx(12 * 2.0 ** -53)
    assert summation_bound(100_000, "float16", 1000.0) == pytest.approx(19 * 2.0 ** -11 * 1000)


def test_certificate_has_ulp_columns(certify):
    cert = certify("--backend", "numpy", "-k", "test_edge_values and (exp-numpy or sin-numpy)")
    assert cert.code == 0, cert.markdown
    ulps = cert.backend("numpy")["ulp"]
    assert {"exp", "sin"} <= set(ulps)  # (and ops whose names end in them: arcsin, logsumexp)
    assert set(ulps["exp"]) == {"float16", "bfloat16", "float32", "float64"}
    # Measured against mpmath, not NumPy itself: a real (nonzero) error, within the bound.
    assert 0 < ulps["exp"]["float64"] <= ulp_bound("exp", "float64")
    assert "mpmath" in cert.data["run"]["ulp_reference"]
    assert "Float64 column measured against: mpmath" in cert.markdown
    assert "### Worst ULP error per op" in cert.markdown
    assert "| exp |" in cert.markdown
    case = [c for c in cert.cases("numpy") if c["case"] == "exp"][0]
    assert case["max_ulp"] is not None and case["group"] == "edge values"


def test_self_test_kills_every_faulty_backend_with_its_own_op():
    assert len(FAULTS) >= 40
    assert {f.bug_class for f in FAULTS} == set(BUG_CLASSES)
    assert len({f.name for f in FAULTS}) == len(FAULTS)
    result = run_self_test()
    survivors = [k.fault.name for k in result.kills if k.case_id is None]
    assert survivors == []
    for k in result.kills:
        # "<source>:<case>-<backend>[-dtype]": the case is the broken op's own.
        case = k.case_id.split(":", 1)[1]
        assert case.startswith(f"{k.fault.op}-{k.fault.name}"), (k.fault.name, k.case_id)
    assert result.control_failures == [] and result.control_cases > 500
    assert result.ok and result.killed == len(FAULTS)


def test_random_draws_seed_and_reproduce_command(certify, register_backend, variant):
    """--samples/--seed add draws, the seed is in the certificate, a failure says how to rerun it."""
    from polytape.conformance.random_cases import configure

    try:
        name = register_backend(variant("rand_exp", exp=lambda x: (np.exp(x) * 1.25).astype(x.dtype)),
                                "rand_exp")
        cert = certify("--backend", name, "--samples", "2", "--seed", "11",
                       "-k", f"test_random and (exp-{name} or sin-{name})")
        assert cert.code == 1
        assert cert.data["run"]["random"] == {"samples": 2, "seed": 11}
        failures = cert.backend(name)["failures"]
        ids = {f["id"] for f in failures}
        assert f"test_random.py::test_random[exp-{name}-float32]" in ids
        cmd = [f for f in failures if f["id"].endswith(f"[exp-{name}-float32]")][0]["reproduce"]
        assert cmd == (f"polytape conformance --backend {name} --samples 2 --seed 11 "
                       f"-k 'test_random[exp-{name}-float32]'")
        assert f"reproduce: `{cmd}`" in cert.markdown
        assert "Seed: 11, random draws per sample: 2" in cert.markdown
        passed = {c["case"] for c in cert.cases(name, "passed")}
        assert "sin" in passed
    finally:
        configure(0, 0)  # the in-process run set them for this process


def test_self_test_command_line(capsys):
    from polytape.conformance import cli

    code = cli.main(["--self-test", "--fault", "f_sign_zero_is_one", "--fault", "f_astype_rounds"])
    out = capsys.readouterr().out
    assert code == 0
    assert "self-test: 2 of 2 faulty backends killed (100%)" in out
    assert "f_sign_zero_is_one" in out and "killed by edge_values:sign-f_sign_zero_is_one" in out


def _outcomes(fault_name: str, op: str) -> dict[str, dict[str, str | None]]:
    """Each group's outcome per dtype of ``op``'s cases on the faulty backend ``fault_name``
    (None: passed; else the failure message)."""
    from polytape import plugins
    from polytape.conformance import self_test

    fault = [f for f in FAULTS if f.name == fault_name][0]
    handle = plugins.register(self_test._Plugin([fault]), name="test-suite-power")
    try:
        out: dict[str, dict[str, str | None]] = {}
        for source, case in self_test._case_index()[op]:
            for dtype in self_test._dtypes(case, fault.name):
                out.setdefault(source, {})[str(dtype)] = self_test._run(case, fault.name, dtype)
        return out
    finally:
        plugins.unregister(handle)


@pytest.mark.parametrize("fault, op", [("f_erf_float32", "erf"), ("f_log2_float32_constant", "log2")])
def test_a_float32_accurate_float64_kernel_fails_its_value_case(fault, op):
    """No float64 value tolerance lets a kernel good to ~1e-7 relative pass: the op's own
    float64 value case rejects it (the old rtol 1e-7 let both through)."""
    from polytape.conformance.tolerances import tolerance

    assert tolerance("value", "float64", op).rtol < 1e-14
    assert tolerance("value", "float64", "sum").rtol <= 1e-12
    assert tolerance("gradient", "float64", op).rtol <= 1e-12
    values = _outcomes(fault, op)["values"]
    assert values["float64"] is not None and "exceeds the value tolerance" in values["float64"]
    assert values["float32"] is None  # float32-accurate is right in float32


def test_forward_mode_fault_is_caught_only_by_forward_mode():
    """f_where_output_like_y computes every value and VJP right; only the JVP fails."""
    outcomes = _outcomes("f_where_output_like_y", "where")
    for group in ("values", "gradients", "second_order"):
        assert all(m is None for m in outcomes.get(group, {}).values()), (group, outcomes[group])
    assert all(m is not None for m in outcomes["jacobian"].values()), outcomes["jacobian"]


def test_edge_gradients_kill_a_vjp_kernel_wrong_only_at_edges():
    """relu_backward with a 1e-30 threshold: right on every random sample, wrong at
    subnormal and tiny inputs -- the relu edge-gradient case (VJP) rejects it."""
    outcomes = _outcomes("f_relu_backward_threshold", "relu")
    assert all(m is None for m in outcomes["gradients"].values()), outcomes["gradients"]
    for dtype in ("float32", "float64"):
        message = outcomes["edge_gradients"][dtype]
        assert message is not None and "d relu/dx (VJP)" in message, message
