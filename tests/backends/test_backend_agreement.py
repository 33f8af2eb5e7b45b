"""Every op gives the same values and first-order gradients on PyTorch as on NumPy
(the reference backend), within per-dtype tolerances; higher-order derivatives,
``custom_gradient``, Jacobians and the seed examples behave exactly the same too.

Each op of the op table has at least one case here (a test fails for an op
without one). A case is a function of polytape tensors plus a recipe for its
inputs; both backends get the same inputs, and the gradient compared is the
vector-Jacobian product with a random cotangent, so every output element counts.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ml_dtypes
import numpy as np
import pytest

import polytape as pt
from polytape.conformance.recipes import RECIPES
from polytape.optable import OPS

pytest.importorskip("torch")

OTHER = "torch"  # the backend checked against NumPy

# Values, and gradients (a chain of rounded steps: looser), per dtype: (rtol, atol).
# Low-precision atol scales with the largest reference magnitude (summation order differs).
VALUE_TOL = {"float64": (1e-12, 1e-12), "float32": (1e-5, 1e-6), "float16": (1e-2, 1e-2),
             "bfloat16": (2e-2, 2e-2)}
GRAD_TOL = {"float64": (1e-12, 1e-12), "float32": (1e-5, 1e-6), "float16": (3e-2, 3e-2),
            "bfloat16": (6e-2, 6e-2)}
FLOATS = ["float64", "float32", "float16", "bfloat16"]


# -- input recipes ------------------------------------------------------------------------------
def uniform(*shape: int, lo: float = -2.0, hi: float = 2.0, away: float = 0.0):
    """Floats in [lo, hi], at least ``away`` from zero (kinks and poles stay out of reach)."""
    def make(rng: np.random.Generator) -> np.ndarray:
        x = rng.uniform(lo, hi, shape)
        if away:
            x = np.where(np.abs(x) < away, np.copysign(away, x) + x, x)
        return x
    return make


def ints(*shape: int, lo: int = -5, hi: int = 6):
    return lambda rng: rng.integers(lo, hi, shape).astype(np.int32)


def bools(*shape: int):
    return lambda rng: rng.random(shape) < 0.5


def exact(values: Any, dtype: Any = np.float64):
    return lambda rng: np.asarray(values, dtype=dtype)


@dataclass(frozen=True)
class Case:
    """One calling form of one op: ``fn(*tensors)`` on inputs from ``inputs``."""

    op: str
    label: str
    fn: Callable[..., Any]
    inputs: tuple
    grad: bool = True
    half: bool = True  # also compared in float16 and bfloat16

    @property
    def id(self) -> str:
        return f"{self.op}-{self.label}"


def unary(op: str, label: str = "3x4", grad: bool = True, **kw: Any) -> Case:
    return Case(op, label, getattr(pt, op), (uniform(3, 4, **kw),), grad)


def reduction(op: str, label: str, grad: bool = True, **kw: Any) -> Case:
    fn = getattr(pt, op)
    return Case(op, label, lambda x: fn(x, **kw), (uniform(3, 4),), grad)


REDUCTION_FORMS = (("all", {}), ("axis 0", {"axis": 0}), ("axis -1 keepdims", {"axis": -1, "keepdims": True}),
                   ("both axes keepdims", {"axis": (0, 1), "keepdims": True}))


CASES = [
    # elementwise, one input
    unary("negative"), unary("abs", away=0.1), unary("exp"), unary("expm1"),
    unary("log", lo=0.2, hi=3.0), unary("log1p", lo=-0.5, hi=2.0), unary("sqrt", lo=0.2, hi=3.0),
    unary("square"), unary("sin"), unary("cos"), unary("tan", lo=-1.2, hi=1.2), unary("tanh"),
    unary("sinh"), unary("cosh"), unary("arcsin", lo=-0.9, hi=0.9),
    unary("arccos", lo=-0.9, hi=0.9), unary("arctan"), unary("erf"), unary("sigmoid"),
    unary("relu", away=0.1), unary("softplus"), unary("identity"),
    Case("relu_backward", "broadcast", pt.relu_backward, (uniform(3, 4), uniform(4, away=0.1))),
    Case("relu_backward", "special values", pt.relu_backward,  # NaN x gives 0, as x > 0 is false
         (exact([1.0, np.inf, np.nan, -1.0, 3.0, -0.0, 2.0]),
          exact([np.nan, -1.0, 0.0, -0.0, -np.inf, 2.0, np.inf])), grad=False),
    Case("softplus", "large", pt.softplus, (exact([-30.0, -5.0, 0.0, 5.0, 20.5, 40.0]),), half=False),
    unary("sign", grad=False, away=0.1), unary("floor", grad=False), unary("ceil", grad=False),
    Case("round", "halves", pt.round, (exact([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.3]),), grad=False),
    Case("logical_not", "bool", pt.logical_not, (bools(5),), grad=False),
    Case("clip", "numbers", lambda x: pt.clip(x, -0.5, 0.7), (uniform(3, 4, away=0.02),)),
    Case("clip", "lower only", lambda x: pt.clip(x, min=0.25), (uniform(6),)),
    # elementwise, two inputs, with broadcasting
    Case("add", "broadcast", pt.add, (uniform(3, 4), uniform(4))),
    Case("subtract", "broadcast", pt.subtract, (uniform(3, 1), uniform(4))),
    Case("multiply", "broadcast", pt.multiply, (uniform(2, 3, 4), uniform(3, 1))),
    Case("multiply", "scalar", lambda x: 2.5 * x * 3, (uniform(4),)),
    Case("divide", "broadcast", pt.divide, (uniform(3, 4), uniform(4, away=0.5))),
    Case("power", "broadcast", pt.power, (uniform(3, 4, lo=0.5, hi=2.0), uniform(4, lo=-1.5, hi=1.5))),
    Case("power", "integer exponent", lambda x: x ** 3, (uniform(5),)),
    Case("maximum", "broadcast", pt.maximum, (uniform(3, 4), uniform(4))),
    Case("minimum", "broadcast", pt.minimum, (uniform(3, 4), uniform(3, 1))),
    Case("arctan2", "broadcast", pt.arctan2, (uniform(3, 4, away=0.2), uniform(4, away=0.2))),
    Case("floor_divide", "float", pt.floor_divide, (uniform(3, 4), uniform(4, away=0.5)), grad=False),
    Case("floor_divide", "int", pt.floor_divide, (ints(3, 4), ints(4, lo=1, hi=4)), grad=False),
    Case("remainder", "float", pt.remainder, (uniform(3, 4), uniform(4, away=0.5)), grad=False),
    Case("remainder", "int", pt.remainder, (ints(3, 4), ints(4, lo=-4, hi=-1)), grad=False),
    *[Case(op, "ties", getattr(pt, op), (exact([1.0, 2.0, 3.0, -1.0]), exact([1.0, 3.0, 2.0, -1.0])),
           grad=False)
      for op in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")],
    *[Case(op, "bool", getattr(pt, op), (bools(6), bools(6)), grad=False)
      for op in ("logical_and", "logical_or", "logical_xor")],
    Case("where", "broadcast", lambda c, x, y: pt.where(c, x, y),
         (bools(3, 4), uniform(3, 4), uniform(4))),
    # reductions
    *[reduction(op, label, **kw) for op in ("sum", "mean", "max", "min", "prod", "logsumexp")
      for label, kw in REDUCTION_FORMS],
    Case("sum", "int32", pt.sum, (ints(3, 4),), grad=False),
    Case("prod", "int32 axis", lambda x: pt.prod(x, axis=1), (ints(3, 4, lo=-3, hi=4),), grad=False),
    *[reduction(op, label, grad=False, **kw) for op in ("argmax", "argmin")
      for label, kw in (("all", {}), ("axis 1", {"axis": 1}))],
    Case("cumsum", "axis 1", lambda x: pt.cumsum(x, axis=1), (uniform(3, 4),)),
    Case("cumsum", "reverse", lambda x: pt.cumsum(x, axis=0, reverse=True), (uniform(3, 4),)),
    Case("softmax", "last axis", pt.softmax, (uniform(3, 4),)),
    Case("log_softmax", "axis 0", lambda x: pt.log_softmax(x, axis=0), (uniform(3, 4),)),
    # linear algebra
    Case("matmul", "2d", pt.matmul, (uniform(3, 4), uniform(4, 5))),
    Case("matmul", "batched", pt.matmul, (uniform(2, 3, 4), uniform(4, 2))),
    Case("matmul", "vector", pt.matmul, (uniform(4), uniform(4, 3))),
    Case("einsum", "matrix product", lambda x, y: pt.einsum("ij,jk->ik", x, y),
         (uniform(3, 4), uniform(4, 2))),
    Case("einsum", "row dot", lambda x, y: pt.einsum("ij,ij->i", x, y), (uniform(3, 4), uniform(3, 4))),
    Case("tensordot", "axes 1", lambda x, y: pt.tensordot(x, y, axes=1), (uniform(3, 4), uniform(4, 2))),
    # shapes
    Case("reshape", "-1", lambda x: pt.reshape(x, (2, -1)), (uniform(3, 4),)),
    Case("transpose", "perm", lambda x: pt.transpose(x, (2, 0, 1)), (uniform(2, 3, 4),)),
    Case("broadcast_to", "rows", lambda x: pt.broadcast_to(x, (3, 4)), (uniform(4),)),
    Case("expand_dims", "middle", lambda x: pt.expand_dims(x, 1), (uniform(3, 4),)),
    Case("squeeze", "axis", lambda x: pt.squeeze(x, 1), (uniform(3, 1, 4),)),
    Case("concat", "axis 1", lambda x, y: pt.concat([x, y], axis=1), (uniform(3, 2), uniform(3, 4))),
    Case("stack", "axis -1", lambda x, y: pt.stack([x, y], axis=-1), (uniform(3, 4), uniform(3, 4))),
    Case("split", "sizes", lambda x: pt.split(x, [1, 3], axis=1)[1] * 2.0, (uniform(3, 4),)),
    Case("tile", "2x1", lambda x: pt.tile(x, (2, 1)), (uniform(3, 4),)),
    Case("pad", "constant", lambda x: pt.pad(x, ((1, 0), (2, 1)), constant_values=0.5), (uniform(3, 4),)),
    Case("flip", "axis 0", lambda x: pt.flip(x, 0), (uniform(3, 4),)),
    Case("getitem", "basic", lambda x: x[1:, ::2], (uniform(3, 4),)),
    Case("getitem", "negative step", lambda x: x[::-1, 3:0:-2], (uniform(3, 4),)),
    Case("getitem", "repeated ints", lambda x: x[pt.constant([0, 2, 2, 0])], (uniform(3, 4),)),
    Case("getitem", "ints and slice", lambda x: x[pt.constant([2, 2]), 1:], (uniform(3, 4),)),
    Case("getitem", "bool mask", lambda x: x[x > 0.0], (uniform(3, 4, away=0.05),)),
    Case("getitem", "None and Ellipsis", lambda x: x[None, ..., 1], (uniform(3, 4),)),
    Case("take", "axis 1", lambda x: pt.take(x, pt.constant([3, 0, 3]), axis=1), (uniform(3, 4),)),
    Case("gather", "rows", lambda x: pt.gather(x, pt.constant([1, 1, 0])), (uniform(3, 4),)),
    Case("index_add", "repeated ints", lambda b, v: pt.index_add(b, pt.constant([0, 2, 0]), v),
         (uniform(3, 4), uniform(3, 4))),
    Case("index_add", "basic", lambda b, v: pt.index_add(b, (slice(None), 1), v),
         (uniform(3, 4), uniform(3))),
    Case("astype", "to float64", lambda x: pt.cast(x, pt.float64) * 3.0, (uniform(5),)),
    Case("astype", "to int32", lambda x: pt.cast(x * 3.0, pt.int32), (uniform(5),), grad=False),
    # compositions of the ops above
    Case("var", "axis 0", lambda x: pt.var(x, axis=0), (uniform(3, 4),)),
    Case("std", "all", pt.std, (uniform(3, 4),)),
    Case("norm", "2-norm", pt.norm, (uniform(3, 4),)),
]

# -- the Array API standard's elementwise functions (issue #15) -----------------------------------
CASES += [
    unary("acosh", lo=1.2, hi=3.0), unary("asinh"), unary("atanh", lo=-0.8, hi=0.8),
    unary("log2", lo=0.2, hi=3.0), unary("log10", lo=0.2, hi=3.0), unary("reciprocal", away=0.3),
    unary("positive"), unary("real"), unary("conj"), unary("imag"),
    unary("trunc", grad=False), unary("signbit", grad=False), unary("isfinite", grad=False),
    unary("isinf", grad=False), unary("isnan", grad=False),
    Case("logaddexp", "broadcast", pt.logaddexp, (uniform(3, 4), uniform(4))),
    Case("hypot", "broadcast", pt.hypot, (uniform(3, 4, away=0.2), uniform(4, away=0.2))),
    Case("copysign", "broadcast", pt.copysign, (uniform(3, 4, away=0.2), uniform(4, away=0.2))),
    Case("nextafter", "broadcast", pt.nextafter, (uniform(3, 4), uniform(4)), grad=False),
    *(Case(op, "int", getattr(pt, op), (ints(3, 4), ints(4, lo=0, hi=4)), grad=False)
      for op in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                 "bitwise_right_shift")),
    Case("bitwise_invert", "int", pt.bitwise_invert, (ints(3, 4),), grad=False),
]

# -- the linalg extension (issue #15): the conformance recipes' well-conditioned, sign-invariant calls
def _conditioned(*shape: int):
    """Uniform in [-1, 1] plus 3 on the main diagonal: float32 rounding stays float32-sized."""
    make = uniform(*shape, lo=-1.0, hi=1.0)
    return lambda rng: make(rng) + (3.0 * np.eye(shape[-2], shape[-1]) if len(shape) > 1 else 0.0)


def _linalg(op: str, label: str, *shapes: tuple, **attrs: Any) -> Case:
    recipe = RECIPES[op]
    return Case(op, label, lambda *xs: recipe.invoke(*xs, **attrs),
                tuple(_conditioned(*s) for s in shapes), half=False)


CASES += [
    _linalg("inv", "batch", (2, 3, 3)), _linalg("det", "batch", (2, 3, 3)),
    _linalg("slogdet", "batch", (2, 4, 4)), _linalg("solve", "vector", (2, 3, 3), (3,)),
    _linalg("cholesky", "upper", (2, 3, 3), upper=True), _linalg("eigh", "batch", (2, 4, 4)),
    _linalg("qr", "wide", (2, 3, 5)), _linalg("qr", "complete", (4, 3), mode="complete"),
    _linalg("svd", "full", (4, 3)), _linalg("svd", "reduced wide", (2, 3, 5), full_matrices=False),
    _linalg("pinv", "tall", (4, 3)),
    Case("matrix_rank", "product", lambda a, b: pt.linalg.matrix_rank(pt.matmul(a, b)),
         (uniform(4, 2), uniform(2, 3)), grad=False, half=False),
]
ALL_CASES = {c.id: c for c in CASES}
assert len(ALL_CASES) == len(CASES), "duplicate case ids"


def _cast(arr: np.ndarray, dtype: str) -> np.ndarray:
    if arr.dtype.kind != "f":
        return arr  # integer and bool inputs keep their dtype
    return arr.astype(ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype)


def _evaluate(backend: str, case: Case, arrays: list[np.ndarray], weight_seed: int):
    """``(value, gradients)`` as NumPy arrays (gradients of ``sum(out * w)``, w random)."""
    with pt.use_backend(backend):
        xs = [pt.constant(a) for a in arrays]
        diff = [x for x in xs if x.dtype.is_floating]
        with pt.GradientTape() as tape:
            for x in diff:
                tape.watch(x)
            out = case.fn(*xs)
            target = None
            if case.grad and out.dtype.is_floating:
                w = np.random.default_rng(weight_seed).uniform(0.5, 1.5, out.shape)
                target = pt.sum(out * pt.constant(w, dtype=out.dtype))
        grads = tape.gradient(target, diff) if target is not None else []
    return out, [None if g is None else g for g in grads]


def _close(got: pt.Tensor, want: pt.Tensor, tol: tuple[float, float], what: str) -> None:
    assert got.dtype is want.dtype, f"{what}: dtype {got.dtype} vs NumPy's {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} vs NumPy's {want.shape}"
    g, w = got.numpy().astype(np.float64), want.numpy().astype(np.float64)
    rtol, atol = tol
    if want.dtype in (pt.float16, pt.bfloat16):
        atol *= max(1.0, float(np.max(np.abs(w), initial=0.0)))
    np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=what)


def _params():
    for case in CASES:
        for dtype in FLOATS:
            if dtype in ("float16", "bfloat16") and not case.half:
                continue
            yield pytest.param(case.id, dtype, id=f"{case.id}-{dtype}")


@pytest.mark.parametrize("case_id,dtype", list(_params()))
def test_values_and_gradients_agree_with_numpy(case_id, dtype):
    case = ALL_CASES[case_id]
    seed = zlib.crc32(case_id.encode())  # the same inputs in every run
    rng = np.random.default_rng(seed)
    arrays = [_cast(make(rng), dtype) for make in case.inputs]
    ref_out, ref_grads = _evaluate("numpy", case, arrays, seed)
    out, grads = _evaluate(OTHER, case, arrays, seed)
    assert out.backend == OTHER
    _close(out, ref_out, VALUE_TOL[dtype], f"{case_id} value")
    assert len(grads) == len(ref_grads)
    for i, (g, r) in enumerate(zip(grads, ref_grads)):
        assert (g is None) == (r is None), f"{case_id}: gradient {i} is None on one backend only"
        if r is not None:
            assert g.backend == OTHER
            _close(g, r, GRAD_TOL[dtype], f"{case_id} gradient {i}")
    if case.grad and ref_out.dtype.is_floating:
        assert any(r is not None for r in ref_grads), f"{case_id}: no gradient was compared"


# Every op must have a case (ops whose calling form is not "tensors in, tensor out" would be
# listed here with the reason; there are none today).
NO_SIMPLE_CALLING_FORM: dict[str, str] = {}


def test_every_op_in_the_table_has_an_agreement_case():
    covered = {c.op for c in CASES}
    missing = sorted(set(OPS) - covered - set(NO_SIMPLE_CALLING_FORM))
    assert not missing, (f"ops with no case in tests/backends/test_backend_agreement.py::CASES: "
                         f"{missing} (add a Case, or list the op in NO_SIMPLE_CALLING_FORM with why)")


def test_creation_functions_agree():
    made = {}
    for name in ("numpy", OTHER):
        with pt.use_backend(name):
            made[name] = [pt.arange(1, 9, 2), pt.arange(0.0, 1.0, 0.25), pt.linspace(-1.0, 1.0, 5),
                          pt.eye(3, 4, k=1), pt.zeros((2, 2), pt.int8), pt.ones(3, pt.bfloat16),
                          pt.full((2,), 1.5, pt.float64), pt.zeros_like(pt.constant([1, 2]))]
    for got, want in zip(made[OTHER], made["numpy"]):
        assert got.backend == OTHER
        _close(got, want, (1e-7, 0.0), "creation")


# -- higher order, custom gradients, Jacobians -------------------------------------------------
def _derivatives(backend: str, x0: float) -> list[float]:
    """f(x) = sin(x) * x**3 and its first three derivatives by nested tapes."""
    with pt.use_backend(backend):
        x = pt.Variable(x0, dtype=pt.float64)
        with pt.GradientTape() as t3:
            with pt.GradientTape() as t2:
                with pt.GradientTape() as t1:
                    y = pt.sin(x) * x ** 3
                d1 = t1.gradient(y, x)
            d2 = t2.gradient(d1, x)
        d3 = t3.gradient(d2, x)
    assert {y.backend, d1.backend, d2.backend, d3.backend} == {backend}
    return [float(y), float(d1), float(d2), float(d3)]


@pytest.mark.parametrize("x0", [-1.3, 0.4, 2.0])
def test_second_and_third_order_derivatives_agree_and_match_the_closed_form(x0):
    s, c = np.sin(x0), np.cos(x0)
    closed = [s * x0**3,
              c * x0**3 + 3 * x0**2 * s,
              -s * x0**3 + 6 * x0**2 * c + 6 * x0 * s,
              -c * x0**3 - 9 * x0**2 * s + 18 * x0 * c + 6 * s]
    np.testing.assert_allclose(_derivatives("numpy", x0), closed, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_derivatives(OTHER, x0), closed, rtol=1e-12, atol=1e-12)


def test_hessian_vector_product_through_matmul_agrees():
    rng = np.random.default_rng(7)
    a, w0, v = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3)
    results = {}
    for name in ("numpy", OTHER):
        with pt.use_backend(name):
            w = pt.Variable(w0)
            with pt.GradientTape() as outer:
                with pt.GradientTape() as inner:
                    loss = pt.sum(pt.tanh(pt.matmul(pt.constant(a), w)) ** 2)
                g = inner.gradient(loss, w)
                gv = pt.sum(g * pt.constant(v))
            results[name] = outer.gradient(gv, w).numpy()
    np.testing.assert_allclose(results[OTHER], results["numpy"], rtol=1e-12, atol=1e-12)
    # independent check: central differences of the analytic gradient along v
    def grad(wv):
        z = a @ wv
        return a.T @ (2 * np.tanh(z) * (1 - np.tanh(z) ** 2))
    h = 1e-6
    fd = (grad(w0 + h * v) - grad(w0 - h * v)) / (2 * h)
    np.testing.assert_allclose(results[OTHER], fd, rtol=1e-6, atol=1e-8)


def _custom(backend: str):
    with pt.use_backend(backend):
        @pt.custom_gradient
        def clipped_square(x):
            def grad(dy):
                return pt.clip(2.0 * x * dy, -1.0, 1.0)
            return x * x, grad

        scale = pt.Variable(3.0)

        @pt.custom_gradient
        def scaled(x):
            def grad(dy, variables=None):
                return dy * scale * 10.0, [pt.sum(dy * x) * 100.0]
            return x * scale, grad

        x = pt.constant([0.25, 2.0, -3.0])
        with pt.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y1 = pt.sum(clipped_square(x))
            y2 = pt.sum(scaled(x))
        out = [y1.numpy(), tape.gradient(y1, x).numpy(), y2.numpy(),
               *[g.numpy() for g in tape.gradient(y2, [x, scale])]]
        del tape
    return out


def test_custom_gradient_is_the_same_on_both_backends():
    ref, got = _custom("numpy"), _custom(OTHER)
    # closed forms: the clipped rule and the hand-made (deliberately wrong) variable rule
    np.testing.assert_allclose(ref[1], [0.5, 1.0, -1.0])
    np.testing.assert_allclose(ref[3], [30.0, 30.0, 30.0])
    np.testing.assert_allclose(ref[4], (0.25 + 2.0 - 3.0) * 100.0)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(g, r, rtol=1e-6)


def test_jacobian_and_batch_jacobian_are_the_same_on_both_backends():
    x0 = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
    results = {}
    for name in ("numpy", OTHER):
        with pt.use_backend(name):
            x = pt.constant(x0)
            with pt.GradientTape(persistent=True) as tape:
                tape.watch(x)
                y = pt.sin(x) * pt.sum(x, axis=1, keepdims=True)
            results[name] = (tape.jacobian(y, x).numpy(), tape.batch_jacobian(y, x).numpy())
            del tape
    # closed form: dy_ij/dx_kl = [i==k] (cos(x_ij) s_i [j==l] + sin(x_ij))
    s = x0.sum(axis=1)
    jac = np.zeros((2, 3, 2, 3))
    for i in range(2):
        for j in range(3):
            jac[i, j, i, :] = np.sin(x0[i, j])
            jac[i, j, i, j] += np.cos(x0[i, j]) * s[i]
    for name in ("numpy", OTHER):
        np.testing.assert_allclose(results[name][0], jac, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(results[name][1], jac[[0, 1], :, [0, 1], :], rtol=1e-12, atol=1e-12)


# The seed examples (no nn, no optimizer) run on torch, with TensorFlow's values, through the
# `backend` fixture in tests/test_seed_values.py and tests/test_tape.py (custom_gradient seed).
