"""The Array API ``linalg`` extension (``polytape.linalg``): the namespace, its results, errors,
and gradients where the op table's finite-difference cases (``test_op_table.py``) cannot look:
repeated eigenvalues and singular values, the extra columns of full SVD and complete QR, and
singular matrices. References are NumPy float64 and central differences."""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np
import pytest

import polytape as pt
from polytape.conformance.recipes import numpy_solve

la = pt.linalg

# The function names of the 2024.12 linalg extension, from the standard's index page.
STANDARD_NAMES = ("cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
                  "matrix_norm", "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv",
                  "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace", "vecdot",
                  "vector_norm")


def _rand(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 1.0, shape)


def _np(t: Any) -> np.ndarray:
    return np.asarray(t.numpy(), dtype=np.float64)


# -- the namespace -------------------------------------------------------------------------------------
def test_every_standard_function_is_in_the_namespace(backend: str) -> None:
    t = pt.ones((2, 2))
    xp = array_api_compat.array_namespace(t)
    assert xp is pt and xp.linalg is la
    missing = [n for n in STANDARD_NAMES if not callable(getattr(xp.linalg, n, None))]
    assert not missing
    assert set(STANDARD_NAMES) == set(la.EXTENSION)


def test_decompositions_return_the_standards_named_tuples(backend: str) -> None:
    a = _rand(2, 4, 3)
    s = a[..., :3, :] @ np.swapaxes(a[..., :3, :], -1, -2) + 3 * np.eye(3)
    w, v = la.eigh(pt.constant(s))
    assert la.eigh(pt.constant(s))._fields == ("eigenvalues", "eigenvectors")
    np.testing.assert_allclose(_np(w), np.linalg.eigvalsh(s), rtol=1e-5)
    recon = _np(v) @ (_np(w)[..., None] * np.swapaxes(_np(v), -1, -2))
    np.testing.assert_allclose(recon, s, atol=1e-5)

    q, r = la.qr(pt.constant(a))
    assert la.qr(pt.constant(a))._fields == ("Q", "R")
    assert q.shape == (2, 4, 3) and r.shape == (2, 3, 3)
    np.testing.assert_allclose(_np(q) @ _np(r), a, atol=1e-5)
    qc, rc = la.qr(pt.constant(a), mode="complete")
    assert qc.shape == (2, 4, 4) and rc.shape == (2, 4, 3)
    np.testing.assert_allclose(np.swapaxes(_np(qc), -1, -2) @ _np(qc), np.broadcast_to(np.eye(4), (2, 4, 4)),
                               atol=1e-5)

    u, sv, vh = la.svd(pt.constant(a))
    assert la.svd(pt.constant(a))._fields == ("U", "S", "Vh")
    assert (u.shape, sv.shape, vh.shape) == ((2, 4, 4), (2, 3), (2, 3, 3))
    ur, _, vhr = la.svd(pt.constant(a), full_matrices=False)
    assert (ur.shape, vhr.shape) == ((2, 4, 3), (2, 3, 3))
    np.testing.assert_allclose(_np(ur) @ (_np(sv)[..., None] * _np(vhr)), a, atol=1e-5)
    np.testing.assert_allclose(_np(sv), np.linalg.svd(a, compute_uv=False), rtol=1e-5)

    sign, logabs = la.slogdet(pt.constant(s - 2 * np.eye(3)))
    assert la.slogdet(pt.constant(s))._fields == ("sign", "logabsdet")
    np.testing.assert_allclose(_np(sign) * np.exp(_np(logabs)), np.linalg.det(s - 2 * np.eye(3)), rtol=1e-5)


def test_solve_batches_broadcasts_and_takes_a_vector(backend: str) -> None:
    a = _rand(2, 1, 3, 3) + 4 * np.eye(3)
    b = _rand(3, 3, 2, seed=1)
    x = la.solve(pt.constant(a, dtype=pt.float64), pt.constant(b, dtype=pt.float64))
    assert x.shape == (2, 3, 3, 2)
    np.testing.assert_allclose(_np(x), numpy_solve(a, b), rtol=1e-10)
    vec = _rand(3, seed=2)
    xv = la.solve(pt.constant(a[:, 0], dtype=pt.float64), pt.constant(vec, dtype=pt.float64))
    assert xv.shape == (2, 3)
    np.testing.assert_allclose(_np(xv), numpy_solve(a[:, 0], vec), rtol=1e-10)


def test_dtypes(backend: str) -> None:
    ints = pt.constant([[2, 0], [0, 4]])
    assert la.inv(ints).dtype == pt.float32 and la.det(ints).dtype == pt.float32
    np.testing.assert_allclose(_np(la.inv(ints)), [[0.5, 0.0], [0.0, 0.25]])
    assert la.matrix_rank(ints).dtype == pt.int64 and int(la.matrix_rank(ints)) == 2
    assert la.inv(pt.constant(_rand(2, 2) + 2 * np.eye(2), dtype=pt.float64)).dtype == pt.float64
    assert la.trace(pt.constant([[1, 2], [3, 4]], dtype=pt.int8)).dtype == pt.int32  # the standard's sum
    if "float16" in {str(d) for d in pt.get_backend(backend).supported_dtypes()}:
        half = la.svdvals(pt.constant([[3.0, 0.0], [0.0, 2.0]], dtype=pt.float16))
        assert half.dtype == pt.float16 and _np(half).tolist() == [3.0, 2.0]


def test_norms_and_small_functions_against_numpy(backend: str) -> None:
    a = _rand(2, 3, 4)
    x = pt.constant(a, dtype=pt.float64)
    for ord in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        np.testing.assert_allclose(_np(la.matrix_norm(x, ord=ord)), np.linalg.norm(a, ord, axis=(-2, -1)),
                                   rtol=1e-10, err_msg=str(ord))
    assert la.matrix_norm(x, keepdims=True).shape == (2, 1, 1)
    for ord in (2, 1, 0, 3.5, -1, np.inf, -np.inf):
        got = la.vector_norm(x, axis=(0, 2), ord=ord, keepdims=True)
        want = np.linalg.norm(np.moveaxis(a, 1, 0).reshape(3, -1), ord, axis=1).reshape(1, 3, 1)
        np.testing.assert_allclose(_np(got), want, rtol=1e-10, err_msg=str(ord))
    assert la.vector_norm(x).shape == ()
    np.testing.assert_allclose(_np(la.matrix_power(x[0, :, :3], 5)), np.linalg.matrix_power(a[0, :, :3], 5),
                               rtol=1e-10)
    np.testing.assert_allclose(_np(la.matrix_power(x[..., :3], 0)), np.broadcast_to(np.eye(3), (2, 3, 3)))
    for offset in (-2, 0, 1, 3, 7):
        np.testing.assert_allclose(_np(la.trace(x, offset=offset)), np.trace(a, offset, axis1=-2, axis2=-1))
        np.testing.assert_allclose(_np(la.diagonal(x, offset=offset)),
                                   np.diagonal(a, offset, axis1=-2, axis2=-1))
    np.testing.assert_allclose(_np(la.outer(x[0, 0], x[1, 1])), np.outer(a[0, 0], a[1, 1]))
    np.testing.assert_allclose(_np(la.cross(x[..., :3], x[1, 0, 1:])), np.cross(a[..., :3], a[1, 0, 1:]))
    np.testing.assert_allclose(_np(la.pinv(x)), np.linalg.pinv(a), rtol=1e-8)
    low_rank = a[0, :, :2] @ a[1, :2, :]
    assert int(la.matrix_rank(pt.constant(low_rank, dtype=pt.float64))) == 2
    assert int(la.matrix_rank(pt.constant(low_rank, dtype=pt.float64), rtol=0.9)) == 1


# -- errors: the documented types, and tapes left as they were -------------------------------------------
SQUARE_ONLY = [la.inv, la.det, la.slogdet, la.cholesky, la.eigh, la.eigvalsh,
               lambda x: la.matrix_power(x, 2), lambda x: la.solve(x, pt.ones((2,)))]
ANY_MATRIX = [la.qr, la.svd, la.svdvals, la.pinv, la.matrix_rank, la.matrix_norm, la.diagonal, la.trace]


@pytest.mark.parametrize("fn", SQUARE_ONLY)
def test_non_square_input_is_a_shape_error(backend: str, fn: Any) -> None:
    with pytest.raises(pt.ShapeError, match="square"):
        fn(pt.ones((2, 3)))


@pytest.mark.parametrize("fn", SQUARE_ONLY + ANY_MATRIX)
def test_fewer_than_two_dimensions_is_a_shape_error(backend: str, fn: Any) -> None:
    with pytest.raises(pt.ShapeError):
        fn(pt.ones((3,)))


@pytest.mark.parametrize("fn", [la.inv, lambda a: la.solve(a, pt.ones((2,)))])
def test_an_exactly_singular_matrix_is_an_invalid_argument(backend: str, fn: Any) -> None:
    # NumPy's and PyTorch's LU find the zero pivot; both become InvalidArgumentError.
    a = pt.Variable([[1.0, 2.0], [2.0, 4.0]])
    with pt.GradientTape() as tape:
        with pytest.raises(pt.InvalidArgumentError, match="singular|Singular"):
            fn(a)
        assert not tape._records  # nothing recorded by the failing op
        y = pt.sum(a)
    assert _np(tape.gradient(y, a)).tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_cholesky_of_an_indefinite_matrix_is_an_invalid_argument(backend: str) -> None:
    with pytest.raises(pt.InvalidArgumentError, match="positive"):
        la.cholesky(pt.constant([[1.0, 2.0], [2.0, 1.0]]))


@pytest.mark.parametrize(("call", "error"), [
    (lambda: la.qr(pt.ones((3, 2)), mode="r"), pt.InvalidArgumentError),
    (lambda: la.matrix_norm(pt.ones((2, 2)), ord=3), pt.InvalidArgumentError),
    (lambda: la.vector_norm(pt.ones((2,)), ord="fro"), pt.InvalidArgumentError),
    (lambda: la.pinv(pt.ones((2, 2)), rtol=-1.0), pt.InvalidArgumentError),
    (lambda: la.matrix_power(pt.ones((2, 2)), 1.5), pt.ArgumentTypeError),
    (lambda: la.diagonal(pt.ones((2, 2)), offset=0.5), pt.ArgumentTypeError),
    (lambda: la.cross(pt.ones((2,)), pt.ones((2,))), pt.ShapeError),
    (lambda: la.outer(pt.ones((2, 2)), pt.ones((2,))), pt.ShapeError),
    (lambda: la.solve(pt.eye(3), pt.ones((2, 1))), pt.ShapeError),
    (lambda: la.solve(pt.eye(2)[None].__mul__(pt.ones((3, 1, 1))), pt.ones((2, 2, 1))), pt.ShapeError),
], ids=["qr-mode", "matrix_norm-ord", "vector_norm-ord", "rtol", "power-n", "offset", "cross-size",
        "outer-rank", "solve-rows", "solve-batch"])
def test_bad_arguments(backend: str, call: Any, error: type) -> None:
    with pytest.raises(error):
        call()


# -- gradients where the finite-difference table cannot look ----------------------------------------------
def _grad(f: Any, a: np.ndarray) -> np.ndarray:
    x = pt.constant(a, dtype=pt.float64)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return _np(tape.gradient(y, x))


def test_repeated_eigenvalues_and_singular_values_give_finite_exact_gradients(backend: str) -> None:
    # sum(w^2) = ||A||_F^2 and the nuclear norm are smooth at repeated values for these matrices;
    # their gradients (2A, and U V^T = I for a positive diagonal A) must come out exactly.
    a = np.diag([1.0, 1.0, 2.0])
    np.testing.assert_allclose(_grad(lambda x: pt.sum(la.eigvalsh(x) ** 2), a), 2 * a, atol=1e-12)
    np.testing.assert_allclose(_grad(lambda x: pt.sum(la.svdvals(x)), np.eye(3)), np.eye(3), atol=1e-12)
    w_only = _grad(lambda x: pt.sum(la.eigh(x).eigenvalues), np.eye(3))
    np.testing.assert_allclose(w_only, np.eye(3), atol=1e-12)


def test_projectors_onto_the_extra_columns_match_finite_differences(backend: str,
                                                                     central_difference: Any) -> None:
    # The last m - n columns of full U (or complete Q) are any basis of the complement, but the
    # projector onto them is determined by A: its gradient is exact with polytape's choice.
    a = _rand(5, 3, seed=3) + np.eye(5, 3) * np.array([6.0, 4.0, 2.0])
    w = _rand(5, 5, seed=4)

    def svd_projector(x: Any) -> Any:
        u2 = la.svd(x).U[:, 3:]
        return pt.sum(pt.matmul(u2, pt.matrix_transpose(u2)) * pt.constant(w, dtype=x.dtype))

    def np_svd_projector(x: np.ndarray) -> float:
        u2 = np.linalg.svd(x)[0][:, 3:]
        return float(np.sum(u2 @ u2.T * w))

    np.testing.assert_allclose(_grad(svd_projector, a), central_difference(np_svd_projector, a), atol=1e-7)

    def qr_projector(x: Any) -> Any:
        q2 = la.qr(x, mode="complete").Q[:, 3:]
        return pt.sum(pt.matmul(q2, pt.matrix_transpose(q2)) * pt.constant(w, dtype=x.dtype))

    def np_qr_projector(x: np.ndarray) -> float:
        q2 = np.linalg.qr(x, mode="complete")[0][:, 3:]
        return float(np.sum(q2 @ q2.T * w))

    np.testing.assert_allclose(_grad(qr_projector, a), central_difference(np_qr_projector, a), atol=1e-7)
    wide = np.ascontiguousarray(a.T)

    def svd_row_projector(x: Any) -> Any:
        v2 = la.svd(x).Vh[3:, :]
        return pt.sum(pt.matmul(pt.matrix_transpose(v2), v2) * pt.constant(w, dtype=x.dtype))

    def np_svd_row_projector(x: np.ndarray) -> float:
        v2 = np.linalg.svd(x)[2][3:, :]
        return float(np.sum(v2.T @ v2 * w))

    np.testing.assert_allclose(_grad(svd_row_projector, wide), central_difference(np_svd_row_projector, wide),
                               atol=1e-7)


def test_cholesky_and_eigh_gradients_are_symmetric(backend: str, central_difference: Any) -> None:
    # Both read one triangle of a symmetric input; the gradient is the symmetric one (the
    # derivative along symmetric directions), as in PyTorch and JAX.
    b = _rand(3, 3, seed=5)
    s = b @ b.T + 3 * np.eye(3)
    g = _grad(lambda x: pt.sum(la.cholesky(x) * pt.constant(b, dtype=x.dtype)), s)
    np.testing.assert_allclose(g, g.T, atol=1e-12)

    def along_symmetric(f: Any) -> Any:
        return lambda x: f((x + x.T) / 2)

    fd = central_difference(along_symmetric(lambda x: float(np.sum(np.linalg.cholesky(x) * b))), s)
    np.testing.assert_allclose(g, fd, atol=1e-7)
    ge = _grad(lambda x: pt.sum(la.eigh(x).eigenvectors ** 2 * pt.constant(b, dtype=x.dtype)), s)
    fde = central_difference(along_symmetric(lambda x: float(np.sum(np.linalg.eigh(x)[1] ** 2 * b))), s)
    np.testing.assert_allclose(ge, fde, atol=1e-7)


def test_det_gradient_at_a_singular_matrix_raises(backend: str) -> None:
    # The rule is g det(A) inv(A)^T: at a singular A its inverse does not exist.
    a = pt.Variable([[1.0, 2.0], [2.0, 4.0]])
    with pt.GradientTape() as tape:
        d = la.det(a)
    assert float(d) == 0.0
    with pytest.raises(pt.InvalidArgumentError):
        tape.gradient(d, a)


@pytest.mark.parametrize("fn", [la.inv, la.det, la.eigvalsh, la.svdvals, la.cholesky, la.pinv,
                                lambda x: la.qr(x).R, lambda x: la.slogdet(x).logabsdet,
                                lambda x: la.solve(x, pt.ones((3, 2)))],
                         ids=["inv", "det", "eigvalsh", "svdvals", "cholesky", "pinv", "qr", "slogdet",
                              "solve"])
def test_an_empty_batch_has_empty_results_and_gradients(backend: str, fn: Any) -> None:
    x = pt.zeros((0, 3, 3))
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    assert y.shape[0] == 0
    assert tape.gradient(y, x).shape == (0, 3, 3)


# -- complex matrices: inv, det and solve are holomorphic (their real-form rules hold under
# TensorFlow's convention); the decompositions' rules assume real inputs and refuse.
_CA = np.array([[2 + 1j, 1 - 0.5j], [0.5j, 3 - 0.25j]])
_CB = np.array([1 + 1j, 2 - 0.5j])


@pytest.mark.parametrize("name", ["inv", "det", "solve"])
def test_complex_holomorphic_functions_and_gradients(backend, name, central_difference):
    ref = {"inv": np.linalg.inv, "det": np.linalg.det,
           "solve": lambda a: numpy_solve(a, _CB)}[name]
    fn = {"inv": pt.linalg.inv, "det": pt.linalg.det,
          "solve": lambda a: pt.linalg.solve(a, pt.constant(_CB))}[name]
    w = 0.3 - 0.2j
    a = pt.Variable(pt.constant(_CA))
    with pt.GradientTape() as tape:
        y = fn(a)
        loss = pt.real(pt.sum(y * w))
    assert y.dtype == pt.complex128
    np.testing.assert_allclose(y.numpy(), ref(_CA), rtol=1e-12)
    np.testing.assert_allclose(tape.gradient(loss, a).numpy(),
                               central_difference(lambda m: np.real(np.sum(ref(m) * w)), _CA),
                               rtol=1e-6, atol=1e-8)


_HERMITIAN = _CA @ _CA.conj().T + 2 * np.eye(2)


def _reconstructions(name: str, a: np.ndarray) -> list[tuple[Any, Any]]:
    """(polytape's, the expected) pairs for ``name`` on complex ``a``: the standard's real
    results against NumPy's, decompositions through what they reconstruct (sign-free)."""
    x = pt.constant(a)
    if name == "eigh":
        w, v = pt.linalg.eigh(x)
        assert w.dtype == pt.float64 and v.dtype == pt.complex128
        return [(w, np.linalg.eigvalsh(a)),
                ((v * pt.astype(w, pt.complex128)[None, :]) @ pt.conj(v).mT, a)]
    if name == "cholesky":
        low, up = pt.linalg.cholesky(x), pt.linalg.cholesky(x, upper=True)
        return [(low, np.linalg.cholesky(a)), (up, np.linalg.cholesky(a).conj().T),
                (pt.conj(up).mT @ up, a)]
    if name == "qr":
        q, r = pt.linalg.qr(x)
        return [(q @ r, a), (pt.conj(q).mT @ q, np.eye(2))]
    if name == "svd":
        u, s_, vh = pt.linalg.svd(x)
        assert s_.dtype == pt.float64
        return [(s_, np.linalg.svd(a, compute_uv=False)),
                ((u * pt.astype(s_, pt.complex128)[None, :]) @ vh, a)]
    if name == "slogdet":
        sign, logabs = pt.linalg.slogdet(x)
        assert sign.dtype == pt.complex128 and logabs.dtype == pt.float64
        return [(sign, np.linalg.slogdet(a)[0]), (logabs, np.linalg.slogdet(a)[1])]
    return [(pt.linalg.pinv(x), np.linalg.pinv(a))]


@pytest.mark.parametrize("name", ["eigh", "cholesky", "qr", "svd", "slogdet", "pinv"])
def test_complex_decompositions_have_values_but_no_derivatives(backend, name):
    a = _HERMITIAN if name in ("eigh", "cholesky") else _CA  # those two read Hermitian ones
    for got, expected in _reconstructions(name, a):
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert int(pt.linalg.matrix_rank(pt.constant(_CA))) == 2
    v = pt.Variable(pt.constant(a))
    with pt.GradientTape() as tape:
        first = getattr(pt.linalg, name)(v)
        y = pt.sum(pt.abs(first[0] if isinstance(first, tuple) else first))
    with pytest.raises(pt.DTypeError, match=f"{name}: derivatives for complex matrices"):
        tape.gradient(y, v)


# -- fixes found by the official suite (data-apis/array-api-tests, 2024.12) -----------------------
def test_pinv_and_matrix_rank_take_a_per_matrix_rtol(backend: str) -> None:
    # The standard's rtol may be an array broadcast against the batch shape: each matrix
    # gets its own tolerance. NumPy's pinv/matrix_rank take a per-matrix rtol too.
    a = _rand(2, 3, 4, 4)
    a[1, 2, :, 3] = a[1, 2, :, 0] + 1e-3 * _rand(4, seed=1)  # nearly rank 3: rtol decides its rank
    x = pt.Variable(pt.constant(a, dtype=pt.float64))
    rtol = np.array([[0.0], [0.3]])  # broadcasts to the (2, 3) batch
    # the references from the SVD (NumPy < 2 has no rtol= keyword)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    kept = s > rtol[..., None] * s.max(axis=-1, keepdims=True)
    inverse = np.swapaxes(vh, -1, -2) @ (np.where(kept, 1 / s, 0.0)[..., None] * np.swapaxes(u, -1, -2))
    assert len(set(kept.sum(axis=-1).ravel())) > 1  # rtol does decide ranks
    np.testing.assert_allclose(_np(la.pinv(x, rtol=pt.constant(rtol))), inverse, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(la.matrix_rank(x, rtol=pt.constant(rtol)).numpy(),
                                  kept.sum(axis=-1))
    # still recorded: the per-matrix results are the default op's, so the gradients agree
    # with one call per matrix
    with pt.GradientTape() as tape:
        loss = pt.sum(la.pinv(x, rtol=pt.constant(np.zeros((2, 3)))) ** 2)
    with pt.GradientTape() as tape2:
        loss2 = pt.sum(la.pinv(x) ** 2)
    np.testing.assert_allclose(_np(tape.gradient(loss, x)), _np(tape2.gradient(loss2, x)), rtol=1e-8)
    assert la.pinv(pt.zeros((0, 3, 2)), rtol=pt.zeros((0,))).shape == (0, 2, 3)
    with pytest.raises(pt.InvalidArgumentError, match="non-negative"):
        la.pinv(x, rtol=pt.constant([-1.0, 0.1, 0.1]))
    with pytest.raises(pt.ShapeError, match="broadcast"):
        la.matrix_rank(x, rtol=pt.constant([0.1, 0.1]))


def test_vecdot_conjugates_its_first_argument(backend: str) -> None:
    # The standard (and NumPy's vecdot): sum(conj(x1) * x2); the suite's own example.
    x1, x2 = np.array([1j, 2j, 3j]), np.array([1, 2j, 3])
    got = la.vecdot(pt.constant(x1), pt.constant(x2))
    assert complex(got) == complex(np.sum(np.conj(x1) * x2)) == 4 - 10j


def test_vector_norm_of_complex_is_real_of_the_same_precision(backend: str) -> None:
    a = _rand(3, 2) + 1j * _rand(3, 2, seed=1)
    got = la.vector_norm(pt.constant(a), axis=0)
    assert got.dtype == pt.float64  # complex128 -> float64, not float32 (it was cast before)
    np.testing.assert_allclose(_np(got), np.linalg.norm(a, axis=0), rtol=1e-12)
    assert la.vector_norm(pt.constant(a.astype(np.complex64)), ord=1).dtype == pt.float32


@pytest.mark.parametrize("ord", ["fro", 1, -1, np.inf, -np.inf, 2, -2, "nuc"])
def test_matrix_norm_of_complex_is_real(backend: str, ord: Any) -> None:
    a = _rand(2, 3, 4) + 1j * _rand(2, 3, 4, seed=2)
    got = la.matrix_norm(pt.constant(a), ord=ord)
    assert got.dtype == pt.float64
    np.testing.assert_allclose(_np(got), np.linalg.norm(a, ord=ord, axis=(-2, -1)), rtol=1e-12)
