"""Built-in faulty backends: the NumPy backend with one realistic porting bug each.

They measure the suite's power (``polytape conformance --self-test``, see
:mod:`polytape.conformance.self_test`): every one must be rejected by a case of the op
it breaks. Each :class:`Fault` names that op, its bug class (:data:`BUG_CLASSES`) and
builds its kernel replacements from the unbroken kernels, so a fault is one bug and
nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ml_dtypes
import numpy as np

__all__ = ["Fault", "FAULTS", "BUG_CLASSES", "faulty_backend_class"]

BUG_CLASSES = ("values", "gradients", "forward mode", "dtypes", "layouts", "special values",
               "precision", "hygiene", "integer semantics", "training")

Kernels = dict[str, Callable[..., Any]]


@dataclass(frozen=True)
class Fault:
    """One bug: ``patch(kernels)`` returns the kernels it replaces (the originals passed in);
    ``methods`` replaces backend methods (``update_in_place``)."""

    name: str
    op: str
    bug_class: str
    description: str
    patch: Callable[[Kernels], Kernels]
    methods: dict[str, Callable[..., Any]] = field(default_factory=dict)


def _f(dtype_of: Any) -> bool:
    return np.dtype(dtype_of).kind == "f" or dtype_of == ml_dtypes.bfloat16


def _same(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` computed in float64 and returned in the input's dtype (a float kernel)."""
    def kernel(x: Any, *rest: Any, **kw: Any) -> Any:
        return np.asarray(fn(np.asarray(x, np.float64), *rest, **kw)).astype(x.dtype)
    return kernel


def _computed_in(k: Kernels, op: str, via: Any, dtype: Any = np.float64) -> Kernels:
    """``op`` on ``dtype`` inputs computed in the narrower ``via`` and cast back: right dtype,
    lost precision."""
    orig = k[op]

    def kernel(*xs: Any, **kw: Any) -> Any:
        if xs[0].dtype != dtype:
            return orig(*xs, **kw)
        return np.asarray(orig(*(x.astype(via) for x in xs), **kw)).astype(dtype)
    return {op: kernel}


def _wrap(k: Kernels, op: str, post: Callable[..., Any]) -> Kernels:
    orig = k[op]
    return {op: lambda *xs, **kw: post(orig(*xs, **kw), *xs)}


def _float_only(k: Kernels, op: str, bad: Callable[..., Any]) -> Kernels:
    orig = k[op]

    def kernel(*xs: Any, **kw: Any) -> Any:
        return bad(*xs, **kw) if _f(xs[0].dtype) else orig(*xs, **kw)
    return {op: kernel}


def _in_place(k: Kernels, op: str, ufunc: Any) -> Kernels:
    orig = k[op]

    def kernel(x: Any, *rest: Any) -> Any:
        if isinstance(x, np.ndarray) and x.flags.writeable and x.dtype in (np.float32, np.float64):
            return ufunc(x, *rest, out=x)  # saves an allocation, overwrites the input
        return orig(x, *rest)
    return {op: kernel}


def _strides_ignored(k: Kernels, op: str) -> Kernels:
    orig = k[op]

    def kernel(x: Any) -> Any:  # reads the buffer in memory order, writes in C order
        return orig(np.asarray(x).ravel(order="K")).reshape(np.shape(x))
    return {op: kernel}


def _no_shift_softmax(x: Any, axis: Any) -> Any:
    e = np.exp(x)
    return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)


def _no_shift_log_softmax(x: Any, axis: Any) -> Any:
    return (x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))).astype(x.dtype)


def _no_shift_logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.asarray(np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))).astype(x.dtype)


def _sum_half_sequential(k: Kernels) -> Kernels:
    orig = k["sum"]

    def kernel(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if x.dtype == np.float16 and axis is None and not keepdims and x.size > 1024:
            return np.cumsum(x.ravel(), dtype=np.float16)[-1]  # one float16 accumulator
        return orig(x, axis=axis, keepdims=keepdims)
    return {"sum": kernel}


def _sin_no_reduction(x: Any) -> Any:
    # Cody-Waite reduction with a single float64 2*pi: exact only for small arguments.
    y = np.asarray(x, np.float64)
    return np.sin(y - np.round(y / (2 * math.pi)) * (2 * math.pi)).astype(x.dtype)


def _round_half_away(x: Any) -> Any:
    y = np.asarray(x, np.float64)
    return (np.sign(y) * np.floor(np.abs(y) + 0.5)).astype(x.dtype)


def _erf_float32(x: Any) -> Any:
    y = np.asarray(x, np.float32)
    return np.vectorize(math.erf, otypes=[np.float32])(y).astype(x.dtype)


def _saturating(ufunc: Any) -> Callable[..., Any]:
    def kernel(x: Any, y: Any) -> Any:
        if x.dtype.kind in "iu":
            info = np.iinfo(x.dtype)
            return np.clip(ufunc(x.astype(object), y.astype(object)), info.min,
                           info.max).astype(x.dtype)
        return ufunc(x, y)
    return kernel


def _astype_rounding(k: Kernels) -> Kernels:
    orig = k["astype"]

    def kernel(x: Any, dtype: Any) -> Any:
        if np.dtype(dtype).kind in "iu" and _f(x.dtype):
            return np.round(np.asarray(x, np.float64)).astype(dtype)
        return orig(x, dtype)
    return {"astype": kernel}


def _astype_bool_threshold(k: Kernels) -> Kernels:
    orig = k["astype"]

    def kernel(x: Any, dtype: Any) -> Any:
        if np.dtype(dtype) == np.bool_ and _f(x.dtype):  # via an integer cast: 0.5 -> 0 -> False
            with np.errstate(invalid="ignore"):  # NaN and inf have no int64
                return np.asarray(x, np.float64).astype(np.int64).astype(bool)
        return orig(x, dtype)
    return {"astype": kernel}


def _index_add_last_wins(base: Any, values: Any, index: Any) -> Any:
    out = base.copy()
    out[index] += values  # repeated positions keep one contribution
    return out


def _transpose_inverse(k: Kernels) -> Kernels:
    orig = k["transpose"]

    def kernel(x: Any, axes: Any = None) -> Any:
        if axes is None:
            return orig(x, axes)
        return orig(x, tuple(int(i) for i in np.argsort(axes)))
    return {"transpose": kernel}


def _cumsum_reverse_ignored(k: Kernels) -> Kernels:
    orig = k["cumsum"]
    return {"cumsum": lambda x, axis=None, reverse=False: orig(x, axis=axis)}


def _update_in_place_always(self: Any, arr: Any, delta: Any, subtract: bool) -> bool:
    if type(arr) is not np.ndarray or not arr.flags.writeable:
        return False
    (np.subtract if subtract else np.add)(arr, delta, out=arr)  # never asks who else holds arr
    return True


def _update_adds_for_subtract(self: Any, arr: Any, delta: Any, subtract: bool) -> bool:
    if type(arr) is not np.ndarray or not arr.flags.writeable or arr.base is not None:
        return False
    np.add(arr, delta, out=arr)  # the sign of assign_sub lost: every optimizer step ascends
    return True


def _matmul_no_batch_broadcast(k: Kernels) -> Kernels:
    orig = k["matmul"]

    def kernel(x: Any, y: Any) -> Any:
        if x.ndim > 2 and y.ndim > 2 and x.shape[:-2] != y.shape[:-2]:
            n = max(x.shape[0], y.shape[0])  # pairs batches by position, no broadcasting
            xs = np.broadcast_to(x, (n, *x.shape[1:])) if x.shape[0] == 1 else x
            ys = np.broadcast_to(y, (n, *y.shape[1:])) if y.shape[0] == 1 else y
            return orig(xs[:, 0:1] if xs.ndim > ys.ndim else xs, ys)
        return orig(x, y)
    return {"matmul": kernel}


def _max_keepdims_ignored(k: Kernels) -> Kernels:
    orig = k["max"]

    def kernel(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if isinstance(axis, tuple) and len(axis) > 1:
            return orig(x, axis=axis[:1], keepdims=keepdims)  # only the first of several axes
        return orig(x, axis=axis, keepdims=keepdims)
    return {"max": kernel}


def _relu_backward_at_zero(g: Any, x: Any) -> Any:
    return np.where(x >= 0, g, np.zeros((), g.dtype))  # the kink at 0 takes the right slope


def _log2_float32_constant(x: Any) -> Any:
    # ln 2 kept as a float32 constant: every float64 result off by 3e-8 relative.
    return (np.log(x) / np.float64(np.float32(math.log(2.0)))).astype(x.dtype)


def _where_output_like_y(c: Any, x: Any, y: Any) -> Any:
    # The output is allocated like the second branch, which is right whenever that branch
    # already has the broadcast shape -- as in every forward and reverse pass over values,
    # but not in forward mode, where both branches can be the (smaller) tangent's shape.
    x, y = np.asarray(x), np.asarray(y)
    out = np.array(y, dtype=np.result_type(x, y), copy=True)
    np.copyto(out, x, where=np.asarray(c, bool))
    return out


def _relu_backward_threshold(g: Any, x: Any) -> Any:
    # A "numerically safe" threshold: the slope is 0 for positive x below 1e-30 too.
    return np.where(x > 1e-30, g, np.zeros((), g.dtype))


def _int_result(k: Kernels, op: str) -> Kernels:
    orig = k[op]

    def kernel(*xs: Any, **kw: Any) -> Any:
        out = orig(*xs, **kw)
        return np.asarray(out).astype(np.int64) if xs[0].dtype == np.int32 else out
    return {op: kernel}


def _svd_packs_vh(svd: Callable[..., Any]) -> Callable[..., Any]:
    def kernel(x: Any, full_matrices: bool = True) -> Any:
        out = svd(x, full_matrices=full_matrices).copy()
        m, n = x.shape[-2], x.shape[-1]
        v = out[..., m + 1:, :]
        if v.shape[-1] == n:
            out[..., m + 1:, :] = np.swapaxes(v, -1, -2)
        return out
    return kernel


_T = Fault  # one line per fault below
FAULTS: tuple[Fault, ...] = (
    # -- values
    _T("f_exp_scaled", "exp", "values", "exp 25% too large",
       lambda k: _wrap(k, "exp", lambda out, x: (out * 1.25).astype(out.dtype))),
    _T("f_sin_phase", "sin", "values", "sin with a phase error of 1e-3",
       lambda k: {"sin": _same(lambda x: np.sin(x + 1e-3))}),
    _T("f_subtract_swapped", "subtract", "values", "subtract computes y - x",
       lambda k: {"subtract": lambda x, y: k["subtract"](y, x)}),
    _T("f_tan_as_sin_cos", "tan", "values", "tan as sin/cos in float32",
       lambda k: {"tan": _same(lambda x: (np.sin(x.astype(np.float32)) /
                                          np.cos(x.astype(np.float32))))}),
    _T("f_arctan2_swapped", "arctan2", "values", "arctan2 with its arguments swapped",
       lambda k: {"arctan2": lambda y, x: k["arctan2"](x, y)}),
    # -- special values
    _T("f_maximum_drops_nan", "maximum", "special values", "maximum ignores NaN (fmax)",
       lambda k: _float_only(k, "maximum", np.fmax)),
    _T("f_minimum_drops_nan", "minimum", "special values", "minimum ignores NaN (fmin)",
       lambda k: _float_only(k, "minimum", np.fmin)),
    _T("f_sign_zero_is_one", "sign", "special values", "sign(0) is 1",
       lambda k: _wrap(k, "sign", lambda out, x: np.where(x == 0, np.ones((), out.dtype), out))),
    _T("f_sqrt_clamps", "sqrt", "special values", "sqrt clamps negatives to 0",
       lambda k: {"sqrt": lambda x: k["sqrt"](np.maximum(x, np.zeros((), x.dtype)))}),
    _T("f_log_abs", "log", "special values", "log of |x| (no NaN for negatives)",
       lambda k: {"log": lambda x: k["log"](np.abs(x))}),
    _T("f_abs_negative_zero", "abs", "special values", "abs(-0.0) is -0.0 (x if x >= 0 else -x)",
       lambda k: {"abs": lambda x: np.where(x >= 0, x, -x).astype(x.dtype)}),
    _T("f_softmax_no_shift", "softmax", "special values", "softmax without max-subtraction",
       lambda k: {"softmax": _no_shift_softmax}),
    _T("f_logsumexp_no_shift", "logsumexp", "special values", "logsumexp without max-subtraction",
       lambda k: {"logsumexp": _no_shift_logsumexp}),
    _T("f_log_softmax_no_shift", "log_softmax", "special values",
       "log_softmax without max-subtraction", lambda k: {"log_softmax": _no_shift_log_softmax}),
    _T("f_sigmoid_naive", "sigmoid", "special values",
       "sigmoid as 1/(1+exp(-x)) in float32: 0 where the result is subnormal, float32-accurate",
       lambda k: {"sigmoid": lambda x: (1 / (1 + np.exp(-np.asarray(x, np.float32))))
                  .astype(x.dtype)}),
    _T("f_softplus_naive", "softplus", "special values", "softplus as log(1+exp(x)): inf for x > 88",
       lambda k: {"softplus": lambda x: np.log1p(np.exp(x)).astype(x.dtype)}),
    _T("f_tanh_exp_formula", "tanh", "special values", "tanh as (e^2x-1)/(e^2x+1): NaN for large x",
       lambda k: {"tanh": lambda x: ((np.exp(2 * x) - 1) / (np.exp(2 * x) + 1)).astype(x.dtype)}),
    _T("f_expm1_flush", "expm1", "special values", "expm1 flushes subnormal results to 0",
       lambda k: _wrap(k, "expm1", lambda out, x: np.where(
           np.abs(out) < np.finfo(np.float32).tiny, np.zeros((), out.dtype), out))),
    _T("f_arcsin_clamped", "arcsin", "special values", "arcsin clamps |x| > 1 instead of NaN",
       lambda k: {"arcsin": lambda x: k["arcsin"](np.clip(x, -1, 1).astype(x.dtype))}),
    # -- precision
    _T("f_sin_no_argument_reduction", "sin", "precision",
       "sin reduced with one float64 2*pi: wrong for large arguments",
       lambda k: _float_only(k, "sin", _sin_no_reduction)),
    _T("f_log1p_naive", "log1p", "precision", "log1p as log(1 + x)",
       lambda k: {"log1p": lambda x: k["log"](x + np.ones((), x.dtype))}),
    _T("f_expm1_naive", "expm1", "precision", "expm1 as exp(x) - 1",
       lambda k: {"expm1": lambda x: k["exp"](x) - np.ones((), x.dtype)}),
    _T("f_log2_float32_constant", "log2", "precision",
       "log2 as log(x) / ln 2 with ln 2 rounded to float32 (rel. error 3e-8 in float64)",
       lambda k: _float_only(k, "log2", _log2_float32_constant)),
    _T("f_erf_float32", "erf", "precision", "erf good to float32 only (rel. error 1e-7)",
       lambda k: _float_only(k, "erf", _erf_float32)),
    _T("f_sum_half_accumulator", "sum", "precision", "float16 sum accumulates in float16",
       _sum_half_sequential),
    _T("f_sum_float32", "sum", "precision", "float64 sum accumulates in float32",
       lambda k: _computed_in(k, "sum", np.float32)),
    _T("f_matmul_float32", "matmul", "precision", "float64 matmul computed in float32",
       lambda k: _computed_in(k, "matmul", np.float32)),
    _T("f_exp_float32", "exp", "precision", "float64 exp computed in float32",
       lambda k: _computed_in(k, "exp", np.float32)),
    _T("f_divide_reciprocal", "divide", "precision", "float64 divide as x * (1/y) in float32",
       lambda k: _computed_in(k, "divide", np.float32)),
    # -- dtypes
    _T("f_multiply_widens", "multiply", "dtypes", "float32 multiply returns float64",
       lambda k: _wrap(k, "multiply", lambda out, x, y: out.astype(np.float64)
                       if out.dtype == np.float32 else out)),
    _T("f_cos_half_as_bfloat16", "cos", "dtypes", "float16 cos computed in bfloat16",
       lambda k: _computed_in(k, "cos", ml_dtypes.bfloat16, np.float16)),
    _T("f_add_int32_to_int64", "add", "dtypes", "int32 add returns int64",
       lambda k: _int_result(k, "add")),
    # -- layouts
    _T("f_exp_ignores_strides", "exp", "layouts", "exp reads its input in memory order",
       lambda k: _strides_ignored(k, "exp")),
    _T("f_negative_ignores_strides", "negative", "layouts",
       "negative reads its input in memory order", lambda k: _strides_ignored(k, "negative")),
    _T("f_transpose_inverse_perm", "transpose", "layouts",
       "transpose applies the inverse permutation", _transpose_inverse),
    _T("f_matmul_batch_broadcast", "matmul", "layouts",
       "matmul does not broadcast batch dimensions", _matmul_no_batch_broadcast),
    _T("f_max_first_axis_only", "max", "layouts", "max over several axes reduces only the first",
       _max_keepdims_ignored),
    # -- hygiene
    _T("f_exp_in_place", "exp", "hygiene", "exp writes its result into its input",
       lambda k: _in_place(k, "exp", np.exp)),
    _T("f_negative_in_place", "negative", "hygiene", "negative writes into its input",
       lambda k: _in_place(k, "negative", np.negative)),
    _T("f_abs_returns_input", "abs", "hygiene", "abs returns its input when it is all positive",
       lambda k: {"abs": lambda x: x if np.all(x >= 0) else k["abs"](x)}),
    _T("f_assign_add_in_place", "assign_add", "hygiene",
       "assign_add updates in place although a read holds the array", lambda k: {},
       {"update_in_place": _update_in_place_always}),
    # -- integer semantics
    _T("f_round_half_away", "round", "integer semantics", "round half away from zero",
       lambda k: _float_only(k, "round", _round_half_away)),
    _T("f_astype_rounds", "astype", "integer semantics", "float -> int rounds instead of truncating",
       _astype_rounding),
    _T("f_astype_bool_via_int", "astype", "integer semantics", "float -> bool via an int cast",
       _astype_bool_threshold),
    _T("f_floor_divide_truncates", "floor_divide", "integer semantics",
       "integer // truncates toward zero",
       lambda k: {"floor_divide": lambda x, y: (np.fix(x / y).astype(x.dtype)
                                                 if x.dtype.kind in "iu" else k["floor_divide"](x, y))}),
    _T("f_remainder_fmod", "remainder", "integer semantics", "remainder with the dividend's sign",
       lambda k: {"remainder": np.fmod}),
    _T("f_add_saturates", "add", "integer semantics", "integer add saturates on overflow",
       lambda k: {"add": _saturating(np.add)}),
    # -- gradients (kernels that only backward passes call)
    _T("f_relu_backward_kink", "relu_backward", "gradients", "relu's gradient at 0 is 1",
       lambda k: {"relu_backward": _relu_backward_at_zero}),
    _T("f_relu_backward_threshold", "relu_backward", "gradients",
       "relu's gradient is 0 below x = 1e-30 (subnormals, the smallest normals)",
       lambda k: {"relu_backward": _relu_backward_threshold}),
    _T("f_index_add_last_wins", "index_add", "gradients",
       "index_add (getitem's VJP) drops repeated positions",
       lambda k: {"index_add": _index_add_last_wins}),
    _T("f_cumsum_reverse_ignored", "cumsum", "gradients",
       "cumsum ignores reverse=True (cumsum's VJP)", _cumsum_reverse_ignored),
    # -- forward mode: where's JVP selects between a tangent and zeros of the tangent's shape
    _T("f_where_output_like_y", "where", "forward mode",
       "where allocates its output like its second branch (fails when only the condition "
       "has the broadcast shape)", lambda k: {"where": _where_output_like_y}),
    _T("f_cumsum_axis_ignored", "cumsum", "values", "cumsum always runs along axis 0",
       lambda k: {"cumsum": lambda x, axis=None, reverse=False: k["cumsum"](
           x, axis=0 if x.ndim else axis, reverse=reverse)}),
    # -- the linalg extension (decompositions pack their results: polytape.derivatives)
    _T("f_inv_transposed", "inv", "values", "inv returns the transposed inverse",
       lambda k: {"inv": lambda x: np.swapaxes(k["inv"](x), -1, -2)}),
    _T("f_cholesky_upper", "cholesky", "values", "cholesky returns the upper factor (SciPy's default)",
       lambda k: {"cholesky": lambda x: np.swapaxes(k["cholesky"](x), -1, -2)}),
    _T("f_eigh_descending", "eigh", "values", "eigh orders eigenvalues (and vectors) descending",
       lambda k: {"eigh": lambda x: np.flip(k["eigh"](x), axis=-1)}),
    _T("f_svd_packs_vh", "svd", "layouts", "svd hands over Vh where V belongs (square V)",
       lambda k: {"svd": _svd_packs_vh(k["svd"])}),
    _T("f_solve_float32", "solve", "precision", "float64 solve computed in float32",
       lambda k: _computed_in(k, "solve", np.float32)),
    # -- training: optimizer updates go through update_in_place
    _T("f_assign_sub_adds", "assign_sub", "training",
       "in-place assign_sub adds (every optimizer step ascends)", lambda k: {},
       {"update_in_place": _update_adds_for_subtract}),
)


def faulty_backend_class(fault: Fault, base: type | None = None) -> type:
    """The NumPy backend class with ``fault``'s kernels and methods; ``fault.name`` is its name."""
    if base is None:
        from polytape.backends.numpy.backend import NumpyBackend  # imports NumPy's kernels

        base = NumpyBackend

    def __init__(self: Any) -> None:
        base.__init__(self)
        self.kernels = {**self.kernels, **fault.patch(dict(self.kernels))}

    return type(f"Faulty_{fault.name}", (base,),
                {"name": fault.name, "__init__": __init__, **fault.methods})
