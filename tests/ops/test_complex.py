"""Complex dtypes through the op table and the tape, with TensorFlow's gradient convention.

The convention (docs/architecture.md, *The tape*): for a real ``L`` the gradient with
respect to ``z = x + iy`` is ``dL/dx + i dL/dy``; a holomorphic op's VJP is
``g * conj(f'(z))``. The expected numbers below were printed by real TensorFlow 2.21
(tensorflow-cpu, ``tf.GradientTape`` / ``tf.autodiff.ForwardAccumulator``) on the same
inputs; the finite-difference tests perturb the real and the imaginary part separately.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import pytest

import polytape as pt

Z = np.array([1 + 2j, -0.5 + 0.25j])
W = np.array([0.3 - 1.1j, 2.0 + 0.5j])


def _grad(f: Callable, z: np.ndarray = Z, **kw) -> np.ndarray:
    zt = pt.Variable(pt.constant(z, dtype="complex128"))
    with pt.GradientTape() as tape:
        y = f(zt)
    return tape.gradient(y, zt, **kw).numpy()


def _w() -> pt.Tensor:
    return pt.constant(W, dtype="complex128")


# (name, polytape function of z, TensorFlow's gradient with respect to z)
TF_GRADIENTS = [
    ("abs(z)**2", lambda z: pt.abs(z) ** 2, [2 + 4j, -1 + 0.5j]),
    ("abs(z)", pt.abs, [0.4472135954999579 + 0.8944271909999159j,
                        -0.8944271909999159 + 0.4472135954999579j]),
    ("real(z*w)", lambda z: pt.real(z * _w()), [0.3 + 1.1j, 2 - 0.5j]),
    ("imag(z*w)", lambda z: pt.imag(z * _w()), [-1.1 + 0.3j, 0.5 + 2j]),
    ("z**2", lambda z: z ** 2, [2 - 4j, -1 - 0.5j]),
    ("z*z", lambda z: z * z, [2 - 4j, -1 - 0.5j]),
    ("conj(z)", pt.conj, [1, 1]),
    ("real(z)", pt.real, [1, 1]),
    ("imag(z)", pt.imag, [1j, 1j]),
    ("exp(z)", pt.exp, [-1.1312043837568135 - 2.4717266720048188j,
                        0.5876750903439226 - 0.15005808662216327j]),
    ("log(z)", pt.log, [0.2 + 0.4j, -1.6 + 0.8j]),
    ("sin(z)", pt.sin, [2.0327230070196656 + 3.0518977991518j,
                        0.9051501505596068 - 0.12110879604381165j]),
    ("z/w", lambda z: z / _w(), [0.23076923076923073 - 0.8461538461538461j,
                                 0.47058823529411764 + 0.11764705882352941j]),
    ("sum(z*w)", lambda z: pt.sum(z * _w()), [0.3 + 1.1j, 2 - 0.5j]),
    ("sqrt(z)", pt.sqrt, [0.28443224050289156 + 0.17578879212707146j,
                          0.15364503815606595 + 0.6508508260346444j]),
]


@pytest.mark.parametrize(("name", "f", "tf"), TF_GRADIENTS, ids=[t[0] for t in TF_GRADIENTS])
def test_gradients_match_tensorflow(backend: str, name: str, f: Callable, tf: list) -> None:
    np.testing.assert_allclose(_grad(f), np.array(tf, dtype=np.complex128), rtol=1e-12, atol=1e-12)


def test_output_gradients_and_matmul_match_tensorflow(backend: str) -> None:
    # TF: tape.gradient(z**2, z, output_gradients=w)
    got = _grad(lambda z: z ** 2, output_gradients=_w())
    np.testing.assert_allclose(got, [-3.8 - 3.4j, -1.75 - 1.5j], rtol=1e-12)
    a = pt.Variable(pt.constant([[1 + 1j, 2 - 1j], [0.5j, -1 + 0j]], dtype="complex128"))
    x = pt.constant([[2 - 1j], [1 + 3j]], dtype="complex128")
    with pt.GradientTape() as tape:
        y = pt.sum(pt.abs(pt.matmul(a, x)) ** 2)
    # TF: tape.gradient(reduce_sum(abs(matmul(A, x))**2), A)
    np.testing.assert_allclose(tape.gradient(y, a).numpy(),
                               [[20 + 40j, 52 - 36j], [2 - 9j, -13 - 1j]], rtol=1e-12)


def test_real_source_through_a_complex_cast_gets_the_real_part(backend: str) -> None:
    r = pt.Variable(pt.constant([1.5, -2.0], dtype="float64"))
    with pt.GradientTape() as tape:
        y = pt.imag(pt.cast(r, "complex128") * _w())
    g = tape.gradient(y, r)
    assert g.dtype == pt.float64
    np.testing.assert_allclose(g.numpy(), [-1.1, 0.5], rtol=1e-12)  # TF: [-1.1, 0.5]


@pytest.mark.parametrize(("name", "f", "tf"), [
    ("z**2", lambda z: z ** 2, [2 + 4j, -0.5 - 1j]),
    ("abs", pt.abs, [0.4472135954999579, 0.4472135954999579]),
    ("conj", pt.conj, [1, -1j]),
], ids=["z**2", "abs", "conj"])
def test_forward_mode_matches_tensorflow(backend: str, name: str, f: Callable, tf: list) -> None:
    z = pt.constant(Z, dtype="complex128")
    with pt.ForwardAccumulator(z, pt.constant([1, 1j], dtype="complex128")) as acc:
        y = f(z)
    # TF: ForwardAccumulator(z, [1, i]).jvp(f(z))
    np.testing.assert_allclose(acc.jvp(y).numpy(), np.array(tf), rtol=1e-12, atol=1e-15)


# -- finite differences in both real directions -------------------------------------------------
H = 1e-6
FD_CASES = [  # (name, polytape f, NumPy f): real-valued L = sum(Re(conj(u) f(z)))
    ("exp", pt.exp, np.exp), ("log", pt.log, np.log), ("sqrt", pt.sqrt, np.sqrt),
    ("tanh", pt.tanh, np.tanh), ("arcsin", pt.arcsin, np.arcsin),
    ("reciprocal", pt.reciprocal, np.reciprocal), ("square", pt.square, np.square),
    ("power", lambda z: z ** (1.5 - 0.5j), lambda z: z ** (1.5 - 0.5j)),
    ("abs", pt.abs, np.abs), ("real", pt.real, np.real), ("imag", pt.imag, np.imag),
    ("conj", pt.conj, np.conj), ("z*conj(z)", lambda z: z * pt.conj(z), lambda z: z * np.conj(z)),
    ("abs(sin)", lambda z: pt.abs(pt.sin(z)), lambda z: np.abs(np.sin(z))),
    ("prod", lambda z: pt.prod(z), np.prod), ("mean", pt.mean, np.mean),
    ("var", pt.var, np.var), ("std", pt.std, np.std),
]


@pytest.mark.parametrize(("name", "f", "ref"), FD_CASES, ids=[c[0] for c in FD_CASES])
def test_vjp_and_jvp_against_finite_differences(backend: str, name: str, f: Callable,
                                                 ref: Callable, central_difference: Callable) -> None:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    z = rng.uniform(0.3, 0.9, 3) + 1j * rng.uniform(-0.5, 0.5, 3)
    out = np.asarray(ref(z))
    u = rng.standard_normal(out.shape) + (1j * rng.standard_normal(out.shape)
                                          if out.dtype.kind == "c" else 0)
    zt = pt.constant(z, dtype="complex128")
    with pt.GradientTape() as tape:
        tape.watch(zt)
        y = f(zt)
    g = tape.gradient(y, zt, output_gradients=pt.constant(u, dtype=y.dtype)).numpy()
    fd = central_difference(lambda zz: float(np.sum(np.real(np.conj(u) * ref(zz)))), z, H)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    # forward mode: the JVP along a complex direction v is the directional derivative
    v = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    with pt.ForwardAccumulator(zt, pt.constant(v, dtype="complex128")) as acc:
        y = f(zt)
    fd = (np.asarray(ref(z + H * v)) - np.asarray(ref(z - H * v))) / (2 * H)
    np.testing.assert_allclose(acc.jvp(y).numpy(), fd, rtol=1e-6, atol=1e-8)


def test_second_order_through_complex_ops(backend: str) -> None:
    # d/dz of <grad |z|, w>: the nested tape differentiates the backward pass's conj ops too.
    z0, w = np.array([0.7 - 0.3j]), np.array([0.4 + 0.9j])

    def s(zz: np.ndarray) -> float:
        return float(np.sum(np.real(zz / np.abs(zz) * np.conj(w))))
    z = pt.constant(z0, dtype="complex128")
    with pt.GradientTape() as outer:
        outer.watch(z)
        with pt.GradientTape() as inner:
            inner.watch(z)
            y = pt.abs(z)
        g = inner.gradient(y, z)
        total = pt.real(pt.sum(g * pt.conj(pt.constant(w, dtype="complex128"))))
    got = outer.gradient(total, z).numpy()
    fd = ((s(z0 + H) - s(z0 - H)) + 1j * (s(z0 + 1j * H) - s(z0 - 1j * H))) / (2 * H)
    np.testing.assert_allclose(got, fd, rtol=1e-6)


# -- dtypes, promotion, errors ----------------------------------------------------------------------
def test_complex_values_and_dtypes(backend: str) -> None:
    z = pt.constant(Z, dtype="complex64")
    assert pt.abs(z).dtype == pt.float32 and pt.real(z).dtype == pt.float32
    np.testing.assert_allclose(pt.abs(z).numpy(), np.abs(Z), rtol=1e-6)
    np.testing.assert_array_equal(pt.imag(z).numpy(), Z.imag.astype(np.float32))
    np.testing.assert_array_equal(pt.conj(z).numpy(), np.conj(Z).astype(np.complex64))
    assert complex(z[0]) == 1 + 2j
    with pytest.raises(TypeError):
        float(z[0])
    assert pt.constant(1j).dtype == pt.complex64  # the standard's default complex dtype
    assert (pt.constant([1.0], dtype="float64") * 1j).dtype == pt.complex128
    assert (pt.constant([1], dtype="int32") * 1j).dtype == pt.complex64
    assert (z * 2.5).dtype == pt.complex64
    assert pt.result_type(pt.float64, pt.complex64) is pt.complex128
    assert pt.result_type(pt.float16, pt.complex64) is pt.complex64
    assert pt.cast(z, "float32").numpy().tolist() == [1.0, -0.5]  # TensorFlow: the real part


@pytest.mark.parametrize("call", [
    lambda z: pt.maximum(z, z), lambda z: pt.minimum(z, 1.0), lambda z: z < z,
    lambda z: z >= 0, lambda z: pt.floor(z), lambda z: pt.ceil(z),
    lambda z: pt.trunc(z), lambda z: pt.clip(z, 0.0, 1.0), lambda z: pt.max(z),
    lambda z: pt.argmin(z), lambda z: pt.relu(z), lambda z: pt.softmax(z),
    lambda z: z // z, lambda z: z % z, lambda z: pt.arctan2(z, z), lambda z: pt.signbit(z),
    lambda z: pt.sort(z), lambda z: pt.argsort(z), lambda z: pt.searchsorted(z, z),
], ids=["maximum", "minimum", "less", "greater_equal", "floor", "ceil", "trunc",
        "clip", "max", "argmin", "relu", "softmax", "floor_divide", "remainder", "arctan2",
        "signbit", "sort", "argsort", "searchsorted"])
def test_ordering_ops_refuse_complex(backend: str, call: Callable) -> None:
    z = pt.Variable(pt.constant(Z, dtype="complex64"))
    with pt.GradientTape() as tape:
        with pytest.raises(pt.DTypeError, match="complex"):
            call(z)
    assert tape._records == []


def test_round_of_complex_rounds_each_part(backend: str) -> None:
    # The standard (and NumPy): real and imaginary parts rounded half to even, separately;
    # PyTorch's own round refuses complex, so its backend rounds the parts.
    a = np.array([1.5 + 2.5j, -0.5 - 1.7j, 3.2 + 0.5j], dtype=np.complex64)
    got = pt.round(pt.constant(a))
    assert got.dtype == pt.complex64
    np.testing.assert_array_equal(got.numpy(), np.round(a))


def test_tanh_of_infinite_real_part_has_the_sign_of_the_imaginary_part(backend: str) -> None:
    # The standard: tanh(+inf + y j) is 1 + 0j for finite y > 0 (and, by tanh(conj z) =
    # conj(tanh z), 1 - 0j for y < 0); NumPy gives the zero the sign of sin(2y) (here
    # sin(2 * 2.0) < 0 gives 1 - 0j). Finite inputs are NumPy's values.
    z = np.array([complex(np.inf, 2.0), complex(np.inf, -2.0), complex(-np.inf, 2.0),
                  complex(np.inf, 0.5), 0.3 - 0.7j])
    got = pt.tanh(pt.constant(z)).numpy()
    np.testing.assert_array_equal(got.real[:4], [1.0, 1.0, -1.0, 1.0])
    np.testing.assert_array_equal(got.imag[:4], [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(np.signbit(got.imag[:4]), [False, True, False, False])
    np.testing.assert_allclose(got[4], np.tanh(z[4]), rtol=1e-6)


def test_real_only_flags_in_the_op_table() -> None:
    from polytape.optable import OPS
    for name in ("maximum", "minimum", "less", "floor", "clip", "max", "min", "argmax",
                 "sigmoid", "logsumexp", "remainder"):
        assert OPS[name].real_only, name
    for name in ("add", "multiply", "exp", "sum", "matmul", "abs", "equal", "sqrt"):
        assert not OPS[name].real_only, name
    assert not OPS["abs"].holomorphic and OPS["exp"].holomorphic


def test_unsigned_promotion_and_uint64_refusal() -> None:
    assert pt.result_type(pt.uint16, pt.int16) is pt.int32
    assert pt.result_type(pt.uint32, pt.int8) is pt.int64
    assert pt.result_type(pt.uint32, pt.uint64) is pt.uint64
    assert pt.result_type(pt.uint8, pt.float32) is pt.float32
    with pytest.raises(pt.DTypeError, match="uint64"):
        pt.result_type(pt.uint64, pt.int64)
    with pytest.raises(pt.DTypeError, match="uint64"):
        pt.ones((2,), dtype="uint64") + pt.ones((2,), dtype="int8")
    with pytest.raises(pt.DTypeError, match="does not fit"):
        pt.ones((2,), dtype="uint16") + 70000
    assert (pt.ones((2,), dtype="uint32") + (2**32 - 2)).numpy().tolist() == [2**32 - 1] * 2


@pytest.mark.parametrize("dtype", ["uint16", "uint32", "uint64"])
def test_unsigned_arithmetic_wraps_and_orders_as_numpy(backend: str, dtype: str) -> None:
    info = np.iinfo(dtype)
    a_np = np.array([5, 0, 7, info.max], dtype=dtype)
    b_np = np.array([2, 3, 7, 1], dtype=dtype)
    a, b = pt.constant(a_np), pt.constant(b_np)
    with np.errstate(over="ignore"):
        pairs = [(a + b, a_np + b_np), (a - b, a_np - b_np), (a * b, a_np * b_np),
                 (a // b, a_np // b_np), (a % b, a_np % b_np), (pt.maximum(a, b), np.maximum(a_np, b_np)),
                 (a < b, a_np < b_np), (pt.max(a), np.max(a_np)), (pt.argmax(a), np.argmax(a_np)),
                 (pt.sum(a), np.sum(a_np, dtype=np.promote_types(dtype, np.uint32))),
                 (pt.flip(a), a_np[::-1]),
                 (pt.bitwise_right_shift(a, b), a_np >> b_np), (pt.sort(a), np.sort(a_np))]
    for got, want in pairs:
        want = np.asarray(want)
        assert str(got.dtype) == str(want.dtype) or got.dtype == pt.int64, (got.dtype, want.dtype)
        np.testing.assert_array_equal(np.asarray(got.numpy()), want)


def test_namespace_lists_the_new_dtypes(backend: str) -> None:
    info = pt.__array_namespace_info__()
    names = set(info.dtypes())
    assert {"uint16", "uint32", "uint64", "complex64", "complex128"} <= names
    assert set(info.dtypes(kind="complex floating")) == {"complex64", "complex128"}
    assert info.default_dtypes()["complex floating"] is pt.complex64
    assert pt.finfo(pt.complex128).dtype is pt.float64 and pt.iinfo(pt.uint32).max == 2**32 - 1
    assert pt.can_cast(pt.float32, pt.complex64) and not pt.can_cast(pt.complex64, pt.float64)
    assert not pt.can_cast(pt.float64, pt.complex64) and not pt.can_cast(pt.uint64, pt.int64)
    assert pt.isdtype(pt.uint64, "unsigned integer") and pt.isdtype(pt.complex64, "numeric")


def test_compat_matmul_adjoint_conjugates() -> None:
    import polytape.compat.tensorflow as tf

    a = np.array([[1 + 1j, 2 - 1j], [0.5j, -1 + 0j]])
    b = np.array([[2 - 1j, 0.5], [1 + 3j, -1j]])
    got = tf.matmul(_c(a), _c(b), adjoint_a=True, transpose_b=True).numpy()
    np.testing.assert_allclose(got, np.conj(a).T @ b.T, rtol=1e-12)


def _c(values: np.ndarray) -> pt.Tensor:
    return pt.constant(values, dtype="complex128")
