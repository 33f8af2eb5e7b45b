"""The suite catches broken backends: each deliberately faulty NumPy backend fails
certification, and the certificate names the cases that caught it.

Each run is restricted with ``-k`` to the cases about the broken kernel (and a
few neighbours that must still pass), and each fault is paired with a control
run of an unbroken variant, so a test fails if the suite flags the wrong thing.
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np
import pytest

import polytape as pt
from polytape.backends.numpy.backend import NumpyBackend
from polytape.conformance.tolerances import VALUE


def test_faithful_copy_is_certified(certify, register_backend, variant):
    """Control: a NumPy backend under another name passes the same selections."""
    name = register_backend(variant("faithful"), "faithful")
    cert = certify("--backend", name, "-k", "exp-faithful or sin-faithful or multiply-faithful "
                                            "or (test_value and add-faithful)")
    assert cert.code == 0, cert.markdown
    assert cert.backend(name)["verdict"] == "certified"
    assert cert.backend(name)["counts"]["passed"] >= 40


def test_wrong_kernel_value(certify, register_backend, variant, wrong_exp_kernel):
    """exp off by 25%: every exp value case fails, and the gradient and JVP cases;
    sin, on the same backend, passes."""
    name = register_backend(variant("faulty_value", exp=wrong_exp_kernel), "faulty_value")
    cert = certify("--backend", name, "-k", "((exp-faulty_value and not logsumexp) or sin-faulty_value) "
                   "and not logaddexp and not asinh")
    assert cert.code == 1
    b = cert.backend(name)
    assert b["verdict"] == "not certified"
    failing = cert.failing_ids(name)
    for dtype in ("float16", "bfloat16", "float32", "float64"):
        assert f"test_op_values.py::test_value[exp-faulty_value-{dtype}]" in failing
    for dtype in ("float16", "bfloat16", "float32", "float64"):
        assert f"test_op_gradients.py::test_gradient[exp-faulty_value-{dtype}]" in failing
        assert f"test_op_gradients.py::test_second_order[exp-faulty_value-{dtype}]" in failing
        assert f"test_jacobian.py::test_jacobian[exp-faulty_value-{dtype}]" in failing
    assert {c["case"] for c in cert.cases(name, "failed")} == {"exp"}
    assert {c["dtype"] for c in cert.cases(name, "passed") if c["case"] == "sin"} == \
        {"float16", "bfloat16", "float32", "float64", "complex64", "complex128"}
    assert "`test_op_values.py::test_value[exp-faulty_value-float32]`" in cert.markdown


def _sin_in_half(x: np.ndarray) -> np.ndarray:
    if x.dtype == np.float32:  # computes in float16, returns float32: right dtype, lost precision
        return np.sin(x.astype(np.float16)).astype(np.float32)
    return np.sin(x)


def test_float32_kernel_computing_in_half(certify, register_backend, variant):
    """sin that rounds float32 inputs to float16: the float32 cases fail, the others pass."""
    name = register_backend(variant("faulty_precision", sin=_sin_in_half), "faulty_precision")
    cert = certify("--backend", name, "-k", "test_value and sin-faulty_precision and not complex")
    assert cert.code == 1
    assert cert.failing_ids(name) == {"test_op_values.py::test_value[sin-faulty_precision-float32]"}
    failed = cert.cases(name, "failed")[0]
    assert failed["max_error"] > 1e-5 and failed["rtol"] == pytest.approx(1.3e-6)
    passed = {c["dtype"] for c in cert.cases(name, "passed") if c["case"] == "sin"}
    assert passed == {"float16", "bfloat16", "float64"}


def _multiply_widening(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.multiply(x, y)
    return out.astype(np.float64) if out.dtype == np.float32 else out


def test_wrong_dtype_out(certify, register_backend, variant):
    """multiply that returns float64 for float32 inputs fails on the dtype, naming it."""
    name = register_backend(variant("faulty_dtype", multiply=_multiply_widening), "faulty_dtype")
    cert = certify("--backend", name, "-k", "test_value and multiply-faulty_dtype")
    assert cert.code == 1
    assert cert.failing_ids(name) == {"test_op_values.py::test_value[multiply-faulty_dtype-float32]"}
    message = cert.backend(name)["failures"][0]["message"]
    assert "dtype is float64, expected float32" in message


def _add_broken_broadcast(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.add(x, y)
    if x.shape != y.shape:  # broadcasting "works" but the elements land in the wrong places
        return np.ascontiguousarray(out[..., ::-1])
    return out


def test_broken_broadcast(certify, register_backend, variant):
    """add that scrambles broadcast results: the add cases fail on a broadcasting sample."""
    name = register_backend(variant("faulty_broadcast", add=_add_broken_broadcast),
                            "faulty_broadcast")
    cert = certify("--backend", name, "-k", "test_value and add-faulty_broadcast and not index_add")
    assert cert.code == 1
    failing = cert.failing_ids(name)
    assert "test_op_values.py::test_value[add-faulty_broadcast-float32]" in failing
    assert "test_op_values.py::test_value[add-faulty_broadcast-int32]" in failing
    for f in cert.backend(name)["failures"]:
        assert "broadcast]" in f["message"], f["message"]  # the sample that caught it


class _NoTanh(NumpyBackend):
    name = "faulty_missing"

    def __init__(self) -> None:
        super().__init__()
        self.kernels = {k: v for k, v in self.kernels.items() if k != "tanh"}


def test_missing_kernel_rejected_at_registration(register_backend):
    """A backend that declares its kernels without tanh is refused at registration."""
    declared = set(NumpyBackend().kernels) - {"tanh"}
    with pytest.raises(pt.PluginError, match="tanh"):
        register_backend(_NoTanh, "faulty_missing", kernels=declared)
    assert "faulty_missing" not in [s.name for s in pt.list_backends()]


def test_missing_kernel_fails_certification(certify, register_backend):
    """Without a declaration the backend is rejected when first built: asked for, or found
    among the registered backends, it fails certification and the certificate names tanh."""
    name = register_backend(_NoTanh, "faulty_missing")
    cert = certify("--backend", name)
    assert cert.code == 1
    b = cert.backend(name)
    assert b["verdict"] == "rejected" and "tanh" in b["reason"]
    assert "tanh" in cert.markdown
    every = certify("-k", "s000_quadratic")
    assert every.code == 1
    assert every.backend(name)["verdict"] == "rejected"
    assert every.backend("numpy")["verdict"] == "certified"


class _HalfChip(NumpyBackend):
    """A device whose float32 arrays are silently stored as float16."""

    name = "faulty_device"
    default_device = "halfchip:0"

    def devices(self) -> list[str]:
        return ["halfchip:0"]

    def device_of(self, arr: Any) -> str:
        return "halfchip:0"

    def asarray(self, obj: Any, dtype: Any = None, device: Any = None) -> Any:
        arr = super().asarray(obj, dtype, device)
        return arr.astype(np.float16) if arr.dtype == np.float32 else arr


def test_device_returning_half_for_float32(certify, register_backend):
    """The float32 cases fail (dtype round trip and op values), the float64 ones pass."""
    name = register_backend(_HalfChip, "faulty_device")
    cert = certify("--backend", f"{name}:halfchip:0", "-k",
                   "dtype_round_trip or (test_value and sin-faulty)")
    assert cert.code == 1
    b = cert.backend(name)
    assert b["device"] == "halfchip:0"
    failing = cert.failing_ids(name)
    assert "test_op_values.py::test_value[dtype_round_trip-faulty_device:halfchip:0-float32]" in failing
    assert "test_op_values.py::test_value[sin-faulty_device:halfchip:0-float32]" in failing
    assert all("float32" in f for f in failing), failing
    assert {c["dtype"] for c in cert.cases(name, "passed")} >= {"float64", "float16", "int32"}


SQRT_ULPS_LOW = 16


def _sqrt_low_in_bfloat16(x: np.ndarray) -> np.ndarray:
    out = np.sqrt(x)
    if x.dtype == ml_dtypes.bfloat16:  # every positive result SQRT_ULPS_LOW ulps too small
        bits = out.view(np.uint16)
        return np.where(out > 0, (bits - np.uint16(SQRT_ULPS_LOW)).view(ml_dtypes.bfloat16), out)
    return out


def test_bfloat16_kernel_with_wrong_rounding(certify, register_backend, variant):
    """sqrt whose bfloat16 results are 16 ulps low is caught in bfloat16 only."""
    # 16 ulps is at least 16 * 2**-8 relative (bfloat16 keeps 8 significant bits).
    assert SQRT_ULPS_LOW * 2.0**-8 > 3 * VALUE["bfloat16"].rtol
    coarse_sqrt = _sqrt_low_in_bfloat16

    name = register_backend(variant("faulty_rounding", sqrt=coarse_sqrt), "faulty_rounding")
    cert = certify("--backend", name, "-k", "test_value and sqrt-faulty_rounding")
    assert cert.failing_ids(name) == {"test_op_values.py::test_value[sqrt-faulty_rounding-bfloat16]"}
