"""Op cases built from the op table: values, gradients, second order, forward mode.

For every op in :data:`polytape.optable.OPS` (built-in or added by a plugin) and
its recipe in :mod:`polytape.conformance.recipes`:

* **values** -- the op's result (dtype, shape, backend, device, numbers) against
  the NumPy reference on the same dtype-rounded inputs;
* **gradients** -- the VJP against the reference backend's float64 VJP; in float64
  also against central finite differences of the NumPy reference
  (random-projection test: ``<J^T u, v>`` against ``<u, (f(x+hv) - f(x-hv)) / 2h>``);
* **second order** -- nested tapes' Hessian-vector products, against the reference
  (other dtypes) or finite differences of the tape's own float64 gradient;
* **forward mode** -- ``pt.ForwardAccumulator``'s JVP against finite differences, and
  against the reference backend's float64 JVP.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

import polytape as pt
from polytape.optable import CREATION_KERNELS, OPS

from .cases import ConformanceCase
from .checks import as_float64, assert_close, assert_dtype, current_measurement, round_to
from .recipes import RECIPES, Recipe, Sample, draw, dtype_names, public_attribute, recipe_for
from .tolerances import EXACT, Tolerance, tolerance

__all__ = ["value_cases", "gradient_cases", "second_order_cases", "jvp_cases",
           "kernel_coverage_case", "REFERENCE_BACKEND"]

REFERENCE_BACKEND = "numpy"
FD_STEP = 1e-5
FLOATS = ("float16", "bfloat16", "float32", "float64")


def _ops() -> list[tuple[str, bool]]:
    """``(name, differentiable)`` of every op in the table, and of every public function
    that has a recipe although it is not a table op (compositions such as ``var``)."""
    names = set(OPS) | {n for n in RECIPES if n not in OPS and callable(public_attribute(n))}
    return sorted((n, OPS[n].differentiable if n in OPS else True) for n in names)


# -- building tensors -----------------------------------------------------------------------------
def _tensors(sample: Sample, arrays: list[np.ndarray], dtype: str) -> list[Any]:
    return [pt.constant(a, dtype="bool" if arg.role == "mask" else dtype)
            for arg, a in zip(sample.args, arrays)]


def _differentiable(sample: Sample) -> list[int]:
    return [i for i, arg in enumerate(sample.args) if arg.role == "data" and arg.differentiable]


def _rng(*parts: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("/".join(parts).encode()))


def _expected_device(backend: str) -> str | None:
    return backend.partition(":")[2] or None


# -- values -------------------------------------------------------------------------------------------
def check_value(recipe: Recipe, sample: Sample, backend: str, dtype: str) -> None:
    """One sample of one op: dtype, shape, backend, device and values against NumPy."""
    what = f"{recipe.op}[{sample.label}]"
    arrays = draw(recipe.op, sample, dtype)
    result = recipe.invoke(*_tensors(sample, arrays, dtype), **sample.attrs)
    if not isinstance(result, pt.Tensor):
        raise AssertionError(f"{what}: returned {type(result).__name__}, not a polytape Tensor")
    name = backend.partition(":")[0]
    if result.backend != name:
        raise AssertionError(f"{what}: result lives on backend {result.backend!r}, not {name!r}")
    device = _expected_device(backend)
    if device is not None and result.device != device:
        raise AssertionError(f"{what}: result is on device {result.device!r}, not {device!r}")
    out = recipe.out_dtype(dtype, sample.attrs)
    assert_dtype(result, out, what)
    expected = np.asarray(recipe.reference(*arrays, **sample.attrs))
    out_is_float = out in FLOATS
    tol = EXACT if recipe.exact or not out_is_float or dtype not in FLOATS else None
    magnitude = recipe.magnitude(*arrays, **sample.attrs) if recipe.magnitude else None
    assert_close(result, expected.astype(np.float64) if out_is_float else expected,
                 dtype, "value", what, tol=tol, magnitude=magnitude)


def _held(recipe: Recipe, samples: Any, backend: str, dtype: str) -> list[Sample]:
    """The samples whose result dtype ``backend`` can hold: a cast to a dtype the backend
    does not offer (array-api-strict has no float16) is not a gap in the op."""
    held = {str(d) for d in pt.get_backend(backend).supported_dtypes()}
    return [s for s in samples if str(recipe.out_dtype(dtype, s.attrs)) in held]


def _value_fn(recipe: Recipe):
    def fn(backend: str, dtype: Any) -> None:
        for sample in _held(recipe, recipe.samples, backend, str(dtype)):
            check_value(recipe, sample, backend, str(dtype))
    return fn


def _missing_recipe_fn(op: str):
    def fn(backend: str, dtype: Any) -> None:
        raise AssertionError(
            f"missing recipe: op {op!r} is in the op table but the conformance suite has no "
            f"sample inputs for it. Add one line to polytape.conformance.recipes, e.g. "
            f"recipe({op!r}, <numpy reference>, unary(-2, 2))")
    return fn


def value_cases() -> list[ConformanceCase]:
    """One case per op: its values in every dtype its recipe accepts (or "missing recipe")."""
    cases = []
    for op, _ in _ops():
        r = recipe_for(op)
        if r is None:
            cases.append(ConformanceCase(op, "values", _missing_recipe_fn(op),
                                         dtypes=("float32",), op=op,
                                         doc="the op has no recipe"))
        else:
            cases.append(ConformanceCase(op, "values", _value_fn(r), dtypes=dtype_names(r.kinds),
                                         op=op, doc=f"{op} against NumPy"))
    return cases


def kernel_coverage_case() -> ConformanceCase:
    """A case that fails naming every op of the table the backend has no kernel for."""
    def fn(backend: str, dtype: Any) -> None:
        be = pt.get_backend(backend)
        kernels = getattr(be, "kernels", {})
        missing = sorted((set(OPS) | CREATION_KERNELS) - set(kernels))
        if missing:
            raise AssertionError(f"backend {be.name!r} has no kernel for: {', '.join(missing)}")
    return ConformanceCase("kernel_coverage", "values", fn, dtypes=None,
                           doc="every op of the table has a kernel on the backend")


# -- gradients ---------------------------------------------------------------------------------------
def _grad_samples(recipe: Recipe, dtype: str) -> list[Sample]:
    return [s for s in recipe.samples
            if _differentiable(s) and recipe.out_dtype(dtype, s.attrs) in FLOATS]


def _cotangent(recipe: Recipe, sample: Sample, arrays: list[np.ndarray], dtype: str,
               name: str = "u") -> np.ndarray:
    shape = np.shape(recipe.reference(*arrays, **sample.attrs))
    out = recipe.out_dtype(dtype, sample.attrs)
    return round_to(_rng(recipe.op, sample.label, name).standard_normal(shape), out)


def _directions(recipe: Recipe, sample: Sample, arrays: list[np.ndarray], dtype: str,
                name: str) -> list[np.ndarray]:
    rng = _rng(recipe.op, sample.label, name)
    return [round_to(rng.standard_normal(np.shape(arrays[i])), dtype)
            for i in _differentiable(sample)]


def vjp(recipe: Recipe, sample: Sample, arrays: list[np.ndarray], u: np.ndarray,
        dtype: str, what: str = "") -> list[np.ndarray]:
    """The gradients of ``<u, op(arrays)>`` w.r.t. the differentiable arguments, on the
    current backend in ``dtype``; checks each gradient's dtype and shape."""
    tensors = _tensors(sample, arrays, dtype)
    sources = [tensors[i] for i in _differentiable(sample)]
    with pt.GradientTape() as tape:
        tape.watch(sources)
        y = recipe.invoke(*tensors, **sample.attrs)
    grads = tape.gradient(y, sources, output_gradients=pt.constant(u, dtype=y.dtype),
                          unconnected_gradients="zero")
    out = []
    for i, (g, s) in enumerate(zip(grads, sources)):
        if g is None:
            raise AssertionError(f"{what}: gradient of argument {i} is None")
        assert_dtype(g, s.dtype, f"{what}: gradient of argument {i}")
        if tuple(g.shape) != tuple(s.shape):
            raise AssertionError(f"{what}: gradient of argument {i} has shape {g.shape}, "
                                 f"its argument {s.shape}")
        out.append(as_float64(g))
    return out


def hvp(recipe: Recipe, sample: Sample, arrays: list[np.ndarray], u: np.ndarray,
        w: list[np.ndarray], dtype: str, what: str = "") -> list[np.ndarray]:
    """Second order by nested tapes: d/dx of ``sum_i <grad_i(<u, op(x)>), w_i>``."""
    tensors = _tensors(sample, arrays, dtype)
    sources = [tensors[i] for i in _differentiable(sample)]
    with pt.GradientTape() as outer:
        outer.watch(sources)
        with pt.GradientTape() as inner:
            inner.watch(sources)
            y = recipe.invoke(*tensors, **sample.attrs)
        grads = inner.gradient(y, sources, output_gradients=pt.constant(u, dtype=y.dtype),
                               unconnected_gradients="zero")
        s = None
        for g, wi in zip(grads, w):
            term = pt.sum(g * pt.constant(wi, dtype=g.dtype))
            s = term if s is None else s + term
    hs = outer.gradient(s, sources, unconnected_gradients="zero")
    out = []
    for i, (h, src) in enumerate(zip(hs, sources)):
        if h is None:
            raise AssertionError(f"{what}: second-order gradient of argument {i} is None")
        assert_dtype(h, src.dtype, f"{what}: second-order gradient of argument {i}")
        out.append(as_float64(h))
    return out


_reference_cache: dict[tuple, Any] = {}


def _reference(kind: str, recipe: Recipe, sample: Sample, dtype: str, compute: Any) -> Any:
    """Memoised reference-backend results (shared by every backend under test in a run)."""
    key = (kind, id(recipe), recipe.op, sample.label, dtype)
    hit = _reference_cache.get(key)
    if hit is None or hit[0] is not recipe:
        with pt.use_backend(REFERENCE_BACKEND):
            hit = _reference_cache[key] = (recipe, compute())
    return hit[1]


def _perturbed(sample: Sample, arrays: list[np.ndarray], v: list[np.ndarray], h: float) -> list:
    out = list(arrays)
    for i, vi in zip(_differentiable(sample), v):
        out[i] = arrays[i] + h * vi
    return out


def _fd_directional(recipe: Recipe, sample: Sample, arrays: list[np.ndarray],
                    v: list[np.ndarray]) -> np.ndarray:
    """``(f(x + hv) - f(x - hv)) / 2h`` of the NumPy reference, in float64: J v."""
    f = recipe.differentiable_reference
    plus = np.asarray(f(*_perturbed(sample, arrays, v, FD_STEP), **sample.attrs), np.float64)
    minus = np.asarray(f(*_perturbed(sample, arrays, v, -FD_STEP), **sample.attrs), np.float64)
    return (plus - minus) / (2 * FD_STEP)


def _projection(gs: list[np.ndarray], v: list[np.ndarray]) -> float:
    return float(sum(np.sum(g * vi) for g, vi in zip(gs, v)))


def _coarser(a: str, b: str) -> str:
    """Of two float dtypes, the one with fewer significant bits (a cast's result can be coarser)."""
    bits = {"bfloat16": 8, "float16": 11, "float32": 24, "float64": 53}
    return a if bits.get(a, 99) <= bits.get(b, 99) else b


def _grad_tolerance(dtype: str, op: str, expected: list[np.ndarray]) -> Any:
    m = current_measurement()
    base = tolerance("gradient", dtype, op, m.backend if m is not None else None)
    scale = max([1.0] + [float(np.max(np.abs(e))) for e in expected if e.size])
    return Tolerance(base.rtol, base.atol * scale, base.source)


def check_gradient(recipe: Recipe, sample: Sample, backend: str, dtype: str) -> None:
    """First-order check of one sample (see the module docstring)."""
    what = f"{recipe.op}[{sample.label}]"
    arrays = draw(recipe.op, sample, dtype)
    u = _cotangent(recipe, sample, arrays, dtype)
    got = vjp(recipe, sample, arrays, u, dtype, what)
    if dtype == "float64":
        v = _directions(recipe, sample, arrays, dtype, "v")
        fd = _fd_directional(recipe, sample, arrays, v)
        assert_close(_projection(got, v), float(np.sum(u * fd)), "float64", "finite_difference",
                     f"{what}: <VJP, v> against finite differences",
                     magnitude=float(np.sum(np.abs(u * fd))))
    if backend.partition(":")[0] == REFERENCE_BACKEND and dtype == "float64":
        return
    ref = _reference("vjp", recipe, sample, dtype,
                     lambda: vjp(recipe, sample, arrays, u, "float64", what + " (reference)"))
    coarse = _coarser(dtype, recipe.out_dtype(dtype, sample.attrs))
    tol = _grad_tolerance(coarse, recipe.op, ref)
    for i, (g, r) in enumerate(zip(got, ref)):
        assert_close(g, r, coarse, "gradient", f"{what}: gradient of argument {i}", tol=tol)


def check_second_order(recipe: Recipe, sample: Sample, backend: str, dtype: str) -> None:
    """Second-order check of one sample (see the module docstring)."""
    what = f"{recipe.op}[{sample.label}]"
    arrays = draw(recipe.op, sample, dtype)
    u = _cotangent(recipe, sample, arrays, dtype)
    w = _directions(recipe, sample, arrays, dtype, "w")
    got = hvp(recipe, sample, arrays, u, w, dtype, what)
    if dtype == "float64":
        v = _directions(recipe, sample, arrays, dtype, "v")

        def s_of(xs: list[np.ndarray]) -> float:
            return _projection(vjp(recipe, sample, xs, u, dtype, what), w)

        fd = (s_of(_perturbed(sample, arrays, v, FD_STEP))
              - s_of(_perturbed(sample, arrays, v, -FD_STEP))) / (2 * FD_STEP)
        lhs = _projection(got, v)
        assert_close(lhs, fd, "float64", "finite_difference",
                     f"{what}: <Hessian-vector product, v> against finite differences",
                     magnitude=float(sum(np.sum(np.abs(h * vi)) for h, vi in zip(got, v))))
    if backend.partition(":")[0] == REFERENCE_BACKEND and dtype == "float64":
        return
    ref = _reference("hvp", recipe, sample, dtype,
                     lambda: hvp(recipe, sample, arrays, u, w, "float64", what + " (reference)"))
    coarse = _coarser(dtype, recipe.out_dtype(dtype, sample.attrs))
    tol = _grad_tolerance(coarse, recipe.op, ref)
    for i, (h, r) in enumerate(zip(got, ref)):
        assert_close(h, r, coarse, "gradient", f"{what}: second-order gradient of argument {i}",
                     tol=tol)


def forward_jvp(recipe: Recipe, sample: Sample, arrays: list[np.ndarray], v: list[np.ndarray],
                dtype: str, what: str = "") -> tuple[np.ndarray, str]:
    """``ForwardAccumulator``'s JVP of the op along ``v`` on the current backend in ``dtype``
    (as float64), and the dtype of the op's result; checks the JVP's dtype."""
    tensors = _tensors(sample, arrays, dtype)
    primals = [tensors[i] for i in _differentiable(sample)]
    tangents = [pt.constant(vi, dtype=dtype) for vi in v]
    with pt.ForwardAccumulator(primals, tangents) as acc:
        y = recipe.invoke(*tensors, **sample.attrs)
    jvp = acc.jvp(y, unconnected_gradients="zero")
    if jvp is None:
        raise AssertionError(f"{what}: JVP is None")
    assert_dtype(jvp, y.dtype, f"{what}: JVP")
    return as_float64(jvp), str(y.dtype)


def check_jvp(recipe: Recipe, sample: Sample, backend: str, dtype: str) -> None:
    """Forward mode: ``ForwardAccumulator``'s JVP against finite differences of NumPy, and
    (on other backends) against the reference backend's float64 JVP."""
    what = f"{recipe.op}[{sample.label}]"
    arrays = draw(recipe.op, sample, dtype)
    v = _directions(recipe, sample, arrays, dtype, "v")
    jvp, out = forward_jvp(recipe, sample, arrays, v, dtype, what)
    fd = _fd_directional(recipe, sample, arrays, v)
    coarse = _coarser(dtype, out)
    if coarse == "float64":
        assert_close(jvp, fd, "float64", "finite_difference", f"{what}: JVP")
    else:
        tol = _grad_tolerance(coarse, recipe.op, [fd])
        assert_close(jvp, fd, coarse, "gradient", f"{what}: JVP", tol=tol)
    if backend.partition(":")[0] == REFERENCE_BACKEND and dtype == "float64":
        return
    # Finite differences cannot tell a float64 JVP from a float32-accurate one: the
    # reference backend's float64 JVP on the same inputs can.
    ref = _reference("jvp", recipe, sample, dtype,
                     lambda: forward_jvp(recipe, sample, arrays, v, "float64",
                                         what + " (reference)")[0])
    assert_close(jvp, ref, coarse, "gradient", f"{what}: JVP against the reference backend's",
                 tol=_grad_tolerance(coarse, recipe.op, [ref]))


def _per_sample(check: Any, recipe: Recipe):
    def fn(backend: str, dtype: Any) -> None:
        for sample in _held(recipe, _grad_samples(recipe, str(dtype)), backend, str(dtype)):
            check(recipe, sample, backend, str(dtype))
    return fn


def _differentiable_recipes(second: bool = False) -> list[tuple[str, Recipe]]:
    out = []
    for op, differentiable in _ops():
        r = recipe_for(op)
        if r is None or not differentiable or not r.grad or "f" not in r.kinds:
            continue
        if second and not r.second_order:
            continue
        if not _grad_samples(r, "float64"):
            continue
        out.append((op, r))
    return out


def gradient_cases() -> list[ConformanceCase]:
    """One case per differentiable op: first-order gradients in every float dtype."""
    return [ConformanceCase(op, "gradients", _per_sample(check_gradient, r), op=op,
                            doc=f"VJP of {op}") for op, r in _differentiable_recipes()]


def second_order_cases() -> list[ConformanceCase]:
    """One case per differentiable op: nested-tape second derivatives."""
    return [ConformanceCase(op, "gradients", _per_sample(check_second_order, r), op=op,
                            doc=f"second-order derivatives of {op}")
            for op, r in _differentiable_recipes(second=True)]


def _jvp_fn(recipe: Recipe):
    return _per_sample(check_jvp, recipe)


def jvp_cases() -> list[ConformanceCase]:
    """One case per differentiable op: forward-mode JVPs (``pt.ForwardAccumulator``)."""
    return [ConformanceCase(op, "jacobian", _jvp_fn(r), op=op, doc=f"JVP of {op}")
            for op, r in _differentiable_recipes()]
