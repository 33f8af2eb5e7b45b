"""``pt.fft``: values against NumPy, gradients against TensorFlow's recorded values and
finite differences (real and imaginary directions), forward mode, bad inputs.

The TensorFlow numbers were printed by tensorflow-cpu 2.21 (``tf.signal.fft``, ``ifft``,
``rfft``, ``irfft``, ``fft2d`` under ``tf.GradientTape``) on the inputs written here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import polytape as pt

Z4 = np.array([1 + 2j, -0.5 + 0.25j, 3 - 1j, 0.5j])
W4 = np.array([0.3 - 1.1j, 2.0 + 0.5j, -1 + 1j, 0.25])
H = 1e-6


def _c(values: np.ndarray) -> pt.Tensor:
    return pt.constant(values, dtype="complex128")


# (name, loss of the source, the source, TensorFlow's gradient)
TF_CASES = [
    ("fft", lambda z: pt.real(pt.sum(pt.fft.fft(z) * _c(W4))), Z4,
     [1.55 - 0.4j, 1.8 + 3.85j, -2.95 + 0.6j, 0.8 + 0.35j]),
    ("ifft", lambda z: pt.real(pt.sum(pt.fft.ifft(z) * _c(W4))), Z4,
     [0.3875 - 0.1j, 0.2 + 0.0875j, -0.7375 + 0.15j, 0.45 + 0.9625j]),
    ("rfft", lambda r: pt.real(pt.sum(pt.fft.rfft(r) * _c(W4[:3]))),
     np.array([1.0, -2.0, 0.5, 3.0]), [1.3, 1.8, -2.7, 0.8]),
    ("irfft_even", lambda z: pt.sum(pt.fft.irfft(z, n=4) * pt.constant([0.5, -1.0, 2.0, 0.25],
                                                                          dtype="float64")),
     Z4[:3], [0.4375, -0.75 + 0.625j, 0.8125]),
    ("irfft_odd", lambda z: pt.sum(pt.fft.irfft(z, n=5) * pt.constant(
        [0.5, -1.0, 2.0, 0.25, 1.5], dtype="float64")), Z4[:3],
     [0.65, -0.46631189606246326 + 0.5396068396904223j,
      0.31631189606246324 + 1.2535248136990806j]),
    ("fft2d", lambda m: pt.real(pt.sum(pt.fft.fftn(m) * _c(W4.reshape(2, 2)))), Z4.reshape(2, 2),
     [[1.55 - 0.4j, -2.95 + 0.6j], [3.05 + 1.6j, -0.45 + 2.6j]]),
]


@pytest.mark.parametrize(("name", "loss", "x", "tf"), TF_CASES, ids=[c[0] for c in TF_CASES])
def test_gradients_match_tensorflow(backend: str, name: str, loss: Callable, x: np.ndarray,
                                    tf: list) -> None:
    v = pt.Variable(pt.constant(x, dtype="complex128" if x.dtype.kind == "c" else "float64"))
    with pt.GradientTape() as tape:
        y = loss(v)
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), np.array(tf), rtol=1e-12, atol=1e-12)


# (name, polytape function, NumPy function, input is complex)
FUNCTIONS = [
    ("fft", lambda x: pt.fft.fft(x), np.fft.fft, True),
    ("fft_n_pad", lambda x: pt.fft.fft(x, n=7, norm="ortho"),
     lambda x: np.fft.fft(x, n=7, norm="ortho"), True),
    ("fft_n_crop_axis0", lambda x: pt.fft.fft(x, n=2, axis=0, norm="forward"),
     lambda x: np.fft.fft(x, n=2, axis=0, norm="forward"), True),
    ("ifft", lambda x: pt.fft.ifft(x), np.fft.ifft, True),
    ("fftn_s_last_axes", lambda x: pt.fft.fftn(x, s=(3,)),
     lambda x: np.fft.fftn(x, s=(3,), axes=(-1,)), True),
    ("ifftn", lambda x: pt.fft.ifftn(x, axes=(1, 0)), lambda x: np.fft.ifftn(x, axes=(1, 0)), True),
    ("rfft", lambda x: pt.fft.rfft(x, n=6), lambda x: np.fft.rfft(x, n=6), False),
    ("irfft", lambda x: pt.fft.irfft(x), np.fft.irfft, True),
    ("rfftn", lambda x: pt.fft.rfftn(x, norm="ortho"), lambda x: np.fft.rfftn(x, norm="ortho"), False),
    ("irfftn", lambda x: pt.fft.irfftn(x, s=(3, 5), axes=(0, 1)),
     lambda x: np.fft.irfftn(x, s=(3, 5), axes=(0, 1)), True),
    ("hfft", lambda x: pt.fft.hfft(x, n=6), lambda x: np.fft.hfft(x, n=6), True),
    ("ihfft", lambda x: pt.fft.ihfft(x, norm="ortho"), lambda x: np.fft.ihfft(x, norm="ortho"), False),
    ("fftshift", lambda x: pt.fft.fftshift(x), np.fft.fftshift, True),
    ("ifftshift_axis", lambda x: pt.fft.ifftshift(x, axes=1), lambda x: np.fft.ifftshift(x, axes=1),
     True),
]


def _sample(complex_input: bool, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 4))
    return x + 1j * rng.standard_normal((3, 4)) if complex_input else x


@pytest.mark.parametrize(("name", "f", "ref", "cplx"), FUNCTIONS, ids=[c[0] for c in FUNCTIONS])
def test_values_gradients_and_jvps(backend: str, name: str, f: Callable, ref: Callable,
                                   cplx: bool, central_difference: Callable) -> None:
    x = _sample(cplx, len(name))
    dtype = "complex128" if cplx else "float64"
    xt = pt.constant(x, dtype=dtype)
    want = ref(x)
    got = f(xt)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    rng = np.random.default_rng(7)
    u = rng.standard_normal(want.shape) + (1j * rng.standard_normal(want.shape)
                                           if np.iscomplexobj(want) else 0)

    fd = central_difference(lambda xx: float(np.sum(np.real(np.conj(u) * ref(xx)))), x, H)
    with pt.GradientTape() as tape:
        tape.watch(xt)
        y = f(xt)
    g = tape.gradient(y, xt, output_gradients=pt.constant(u, dtype=y.dtype))
    np.testing.assert_allclose(g.numpy(), fd, rtol=1e-6, atol=1e-7)
    v = rng.standard_normal(x.shape) + (1j * rng.standard_normal(x.shape) if cplx else 0)
    with pt.ForwardAccumulator(xt, pt.constant(v, dtype=dtype)) as acc:
        y = f(xt)
    np.testing.assert_allclose(acc.jvp(y).numpy(), (ref(x + H * v) - ref(x - H * v)) / (2 * H),
                               rtol=1e-6, atol=1e-7)


def test_dtypes_and_frequencies(backend: str) -> None:
    assert pt.fft.fft(pt.constant([1.0, 2.0])).dtype == pt.complex64
    assert pt.fft.fft(pt.constant([1.0, 2.0], dtype="float64")).dtype == pt.complex128
    assert pt.fft.rfft(pt.constant([1, 2, 3])).dtype == pt.complex64
    assert pt.fft.irfft(pt.constant([1j, 2.0], dtype="complex64")).dtype == pt.float32
    f = pt.fft.fftfreq(5, d=0.5)
    assert f.dtype == pt.float32 and f.backend == backend
    np.testing.assert_allclose(f.numpy(), np.fft.fftfreq(5, 0.5), rtol=1e-7)
    np.testing.assert_allclose(pt.fft.rfftfreq(6, dtype="float64").numpy(), np.fft.rfftfreq(6))


@pytest.mark.parametrize(("call", "error"), [
    (lambda: pt.fft.fft(pt.constant([1.0, 2.0]), norm="unitary"), pt.InvalidArgumentError),
    (lambda: pt.fft.rfft(pt.constant([1j])), pt.DTypeError),
    (lambda: pt.fft.fft(pt.constant(1.0)), pt.ShapeError),
    (lambda: pt.fft.fftn(pt.ones((2, 2)), s=(2,), axes=(0, 1)), pt.ShapeError),
    (lambda: pt.fft.fft(pt.ones((2, 2)), axis=2), pt.ShapeError),
    (lambda: pt.fft.fft(pt.ones((2,)), n=0), pt.ShapeError),
    (lambda: pt.fft.fftfreq(0), pt.ShapeError),
], ids=["norm", "rfft_complex", "0-d", "s_axes_lengths", "axis", "n_zero", "fftfreq_zero"])
def test_bad_inputs_raise_documented_errors(backend: str, call: Callable, error: type) -> None:
    with pytest.raises(error):
        call()
