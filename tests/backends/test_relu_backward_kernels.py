"""The fast ``relu_backward`` kernels (NumPy's bit select, torch's ``threshold_backward``)
select exactly what ``numpy.where(x > 0, g, 0)`` selects, bit for bit: 0 at x = 0, -0.0
and NaN, and g's infinities, NaNs and signed zeros kept where x > 0.

Values on small inputs and gradients are covered by the op table and the agreement tests.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import polytape as pt
from polytape.optable import OPS

DTYPES = ["float16", "bfloat16", "float32", "float64", "int32", "uint8"]
SPECIAL_X = [np.nan, 0.0, -0.0, -1.0, np.inf, -np.inf, 2.0, 3.0]
SPECIAL_G = [5.0, np.inf, np.nan, -np.inf, -0.0, 1.0, np.nan, -0.0]


def _native(dtype: str) -> np.dtype:
    return np.dtype(ml_dtypes.bfloat16) if dtype == "bfloat16" else np.dtype(dtype)


def _inputs(dtype: str, nan_in_x: bool) -> tuple[np.ndarray, np.ndarray]:
    # 64 x 80 is above both backends' size threshold for their fast path.
    rng = np.random.default_rng(11)
    native = _native(dtype)
    x = rng.standard_normal((64, 80)) * 3
    g = rng.standard_normal((64, 80)) * 3
    if native.kind == "u":
        x, g = np.abs(x), np.abs(g)
    x.reshape(-1)[::7] = 0.0
    if native.kind == "f":
        x[0, :8], g[0, :8] = SPECIAL_X, SPECIAL_G
        g[1, :4] = [np.inf, np.nan, -np.inf, -0.0]  # where x < 0: must become +0.0
        x[1, :4] = -1.0
        if not nan_in_x:
            x[0, 0] = -2.0
            x[0, 5] = -2.0  # no -inf either: infinities of one sign keep torch's fused path
    return g.astype(native), x.astype(native)


@pytest.mark.parametrize("nan_in_x", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
def test_large_relu_backward_is_where_bit_for_bit(backend: str, dtype: str, nan_in_x: bool) -> None:
    g, x = _inputs(dtype, nan_in_x)
    be = pt.get_backend(backend)
    got = be.to_numpy(be.kernels["relu_backward"](be.asarray(g), be.asarray(x)))
    with np.errstate(invalid="ignore"):
        want = np.where(x > 0, g, np.zeros((), g.dtype))
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


def test_relu_gradient_at_nan_zero_and_infinity(backend: str) -> None:
    x = pt.constant([np.nan, 0.0, -0.0, np.inf, -np.inf, 2.0])
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = pt.relu(x)
    got = tape.gradient(y, x, output_gradients=pt.constant([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    np.testing.assert_array_equal(got.numpy(), [0.0, 0.0, 0.0, 4.0, 0.0, 6.0])


def test_relu_backward_needs_no_kernel_from_a_backend() -> None:
    # A backend without the kernel gets the default, composed from where and greater.
    assert OPS["relu_backward"].default_kernel is not None
    kernels = pt.get_backend("numpy").kernels
    parts = {name: kernels[name] for name in ("where", "greater", "zeros")}
    g = np.array([1.0, np.inf, -0.0, 4.0])
    x = np.array([np.nan, -1.0, 2.0, 0.0])
    got = OPS["relu_backward"].default_kernel(parts, g, x)
    want = np.array([0.0, 0.0, -0.0, 0.0])
    np.testing.assert_array_equal(np.asarray(got).view(np.uint64), want.view(np.uint64))
