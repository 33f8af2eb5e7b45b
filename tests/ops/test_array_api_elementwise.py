"""The Array API's elementwise functions added for issue #15: values against
``array_api_strict`` (the behavioural reference), gradients against finite differences,
bitwise operators, and errors. The op table's own checks (every dtype, JVPs, second order)
are in test_op_table.py."""

from __future__ import annotations

import numpy as np
import pytest

import polytape as pt

UNARY = {"acosh": (1.2, 3.0), "asinh": (-2.0, 2.0), "atanh": (-0.8, 0.8), "log2": (0.2, 3.0),
         "log10": (0.2, 3.0), "reciprocal": (0.5, 2.0), "positive": (-2.0, 2.0),
         "trunc": (-3.0, 3.0), "signbit": (-2.0, 2.0), "isfinite": (-2.0, 2.0),
         "isinf": (-2.0, 2.0), "isnan": (-2.0, 2.0), "real": (-2.0, 2.0), "conj": (-2.0, 2.0),
         "imag": (-2.0, 2.0)}
BINARY = ("logaddexp", "hypot", "copysign", "nextafter")


def _strict():
    return pytest.importorskip("array_api_strict")


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_array_api_strict(backend: str, name: str) -> None:
    xp = _strict()
    lo, hi = UNARY[name]
    v = np.random.default_rng(0).uniform(lo, hi, (2, 5))
    v[0, 0] = -0.0 if name == "signbit" else v[0, 0]
    got = getattr(pt, name)(pt.constant(v, dtype=pt.float64))
    if name in ("real", "imag", "conj"):  # array_api_strict takes complex dtypes only here
        want = getattr(np, name)(v) if name != "imag" else np.zeros_like(v)
    else:
        want = np.asarray(getattr(xp, name)(xp.asarray(v)))
    assert got.dtype.name == str(want.dtype)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-14)


@pytest.mark.parametrize("name", BINARY)
def test_binary_matches_array_api_strict(backend: str, name: str) -> None:
    xp = _strict()
    rng = np.random.default_rng(1)
    a, b = rng.uniform(-2, 2, (2, 3)), rng.uniform(-2, 2, (3,))
    got = getattr(pt, name)(pt.constant(a, dtype=pt.float32), pt.constant(b, dtype=pt.float32))
    want = np.asarray(getattr(xp, name)(xp.asarray(a, dtype=xp.float32), xp.asarray(b, dtype=xp.float32)))
    assert got.dtype is pt.float32
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_special_values(backend: str) -> None:
    x = pt.constant([np.inf, -np.inf, np.nan, 1.0, -0.0])
    assert pt.isinf(x).numpy().tolist() == [True, True, False, False, False]
    assert pt.isnan(x).numpy().tolist() == [False, False, True, False, False]
    assert pt.isfinite(x).numpy().tolist() == [False, False, False, True, True]
    assert pt.signbit(x).numpy().tolist()[4] is True
    assert float(pt.logaddexp(pt.constant(1000.0), pt.constant(1000.0))) == pytest.approx(1000.6931)
    assert float(pt.nextafter(pt.constant(1.0), pt.constant(2.0))) == float(np.nextafter(
        np.float32(1.0), np.float32(2.0)))


def _fd_check(fn, *values, eps: float = 1e-6) -> None:
    xs = [pt.Variable(v) for v in values]
    with pt.GradientTape() as tape:
        y = pt.sum(fn(*xs))
    grads = tape.gradient(y, xs)
    for i, v in enumerate(values):
        num = np.zeros_like(v)
        for j in np.ndindex(v.shape):
            up, down = [w.copy() for w in values], [w.copy() for w in values]
            up[i][j] += eps
            down[i][j] -= eps
            num[j] = (float(pt.sum(fn(*map(pt.constant, up)))) -
                      float(pt.sum(fn(*map(pt.constant, down))))) / (2 * eps)
        got = np.zeros_like(v) if grads[i] is None else grads[i].numpy()
        np.testing.assert_allclose(got, num, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", ["acosh", "asinh", "atanh", "log2", "log10", "reciprocal",
                                  "positive", "real", "conj", "imag"])
def test_unary_gradients(backend: str, name: str) -> None:
    lo, hi = UNARY[name]
    _fd_check(getattr(pt, name), np.random.default_rng(2).uniform(lo, hi, (4,)))


@pytest.mark.parametrize("name", ["logaddexp", "hypot", "copysign"])
def test_binary_gradients(backend: str, name: str) -> None:
    rng = np.random.default_rng(3)
    a = rng.choice([-1.0, 1.0], 4) * rng.uniform(0.3, 2.0, 4)
    b = rng.choice([-1.0, 1.0], 4) * rng.uniform(0.3, 2.0, 4)
    _fd_check(getattr(pt, name), a, b)


def test_nondifferentiable_give_none(backend: str) -> None:
    x = pt.Variable([0.5, -1.5])
    with pt.GradientTape(persistent=True) as tape:
        outs = [pt.trunc(x), pt.cast(pt.isnan(x), pt.float32), pt.nextafter(x, x + 1)]
    for out in outs:
        assert tape.gradient(out, x) is None


def test_bitwise_match_array_api_strict(backend: str) -> None:
    xp = _strict()
    rng = np.random.default_rng(4)
    for dt in ("int8", "int16", "int32", "int64", "uint8"):
        a = rng.integers(0 if dt == "uint8" else -50, 50, (2, 3)).astype(dt)
        b = rng.integers(0, 6, (3,)).astype(dt)
        ta, tb = pt.constant(a), pt.constant(b)
        sa, sb = xp.asarray(a), xp.asarray(b)
        for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                     "bitwise_right_shift"):
            got = getattr(pt, name)(ta, tb)
            want = np.asarray(getattr(xp, name)(sa, sb))
            assert got.dtype.name == dt
            np.testing.assert_array_equal(got.numpy(), want, err_msg=f"{name} {dt}")
        np.testing.assert_array_equal(pt.bitwise_invert(ta).numpy(), np.asarray(xp.bitwise_invert(sa)))


def test_operators_are_bitwise_on_integers_logical_on_bools(backend: str) -> None:
    i, j = pt.constant([12, 10]), pt.constant([6, 3])
    assert (i & j).numpy().tolist() == [4, 2]
    assert (i | j).numpy().tolist() == [14, 11]
    assert (i ^ j).numpy().tolist() == [10, 9]
    assert (~i).numpy().tolist() == [-13, -11]
    assert (i << 1).numpy().tolist() == [24, 20] and (i >> j).numpy().tolist() == [0, 1]
    assert (1 << j).numpy().tolist() == [64, 8] and (6 & i).numpy().tolist() == [4, 2]
    p, q = pt.constant([True, False]), pt.constant([True, True])
    assert (p & q).dtype is pt.bool and (p & q).numpy().tolist() == [True, False]
    assert (p | q).numpy().tolist() == [True, True] and (~p).numpy().tolist() == [False, True]
    assert (p ^ q).numpy().tolist() == [False, True]


def test_bad_inputs_raise_dtype_errors(backend: str) -> None:
    f = pt.constant([1.0, 2.0])
    for fn in (pt.bitwise_and, pt.bitwise_left_shift, pt.bitwise_right_shift):
        with pytest.raises(pt.DTypeError):
            fn(f, f)
    with pytest.raises(pt.DTypeError):
        pt.bitwise_invert(f)
    with pytest.raises(pt.DTypeError):
        pt.bitwise_left_shift(pt.constant([True]), pt.constant([True]))
    with pytest.raises(pt.DTypeError):
        pt.constant([1, 2]) << 1.5


def test_remainder_zero_takes_the_divisors_sign(backend: str) -> None:
    # The standard's special cases (torch's own remainder keeps the dividend's sign).
    xp = _strict()
    a, b = np.array([-0.0, 0.0, -0.0, 0.0, 6.0, -6.0]), np.array([5.0, -5.0, -5.0, 5.0, -3.0, 3.0])
    got = pt.remainder(pt.constant(a), pt.constant(b)).numpy()
    want = np.asarray(xp.remainder(xp.asarray(a), xp.asarray(b)))
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    assert (pt.constant(a) % pt.constant(b)).numpy().tolist() == got.tolist()
    np.testing.assert_array_equal(pt.remainder(pt.constant([7, -7, 5]), pt.constant([3, 3, 0])).numpy(),
                                  [1, 2, 0])
