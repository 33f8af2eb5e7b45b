"""Groups "hygiene" and "integer semantics": what a kernel must not do, and exact results.

Hygiene: a kernel never changes its inputs (their bytes are compared before and after the
call), returns no array that shares memory with an input (checked where the backend's
arrays convert to NumPy without a copy, as on NumPy and PyTorch's CPU), and a value read
from a variable before ``assign``/``assign_add``/``assign_sub`` keeps its value.

Integer semantics (exact): ``floor_divide`` rounds toward -inf and ``remainder`` takes the
divisor's sign; float -> integer casts truncate toward zero; float -> bool is ``x != 0``
(0.5 and NaN are True, -0.0 False); ``round`` rounds half to even; integer arithmetic wraps
around on overflow (two's complement: int8 127 + 1 is -128, uint8 255 + 1 is 0), which is
what NumPy, PyTorch and the Array API (which leaves overflow unspecified) implementations do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import polytape as pt

from .cases import ConformanceCase
from .checks import assert_close, assert_dtype, round_to
from .edge_values import BINARY, UNARY

__all__ = ["hygiene_cases", "integer_cases", "HYGIENE_DTYPES"]

HYGIENE_DTYPES = ("float32", "float64")
_REDUCTIONS = ("sum", "mean", "max", "min", "prod", "logsumexp", "cumsum")


def _native_numpy(t: Any) -> np.ndarray | None:
    """The tensor's values as a NumPy array sharing its memory, where the backend's arrays
    convert without a copy (else None: aliasing cannot be seen from here)."""
    try:
        arr = np.asarray(t.data)
    except Exception:  # noqa: BLE001 -- a backend whose arrays refuse __array__
        return None
    return arr if arr.dtype != object else None


def _check_call(op: str, fn: Any, inputs: list[Any]) -> None:
    before = [t.numpy().tobytes() for t in inputs]
    out = fn(*inputs)
    for i, (t, b) in enumerate(zip(inputs, before)):
        if t.numpy().tobytes() != b:
            raise AssertionError(f"{op}: the kernel changed its input {i} (kernels must never "
                                 "mutate their inputs)")
    o = _native_numpy(out)
    for i, t in enumerate(inputs):
        a = _native_numpy(t)
        if o is not None and a is not None and o.size and np.shares_memory(o, a):
            raise AssertionError(f"{op}: the result shares memory with input {i}")


def _inputs(seed: int, dtype: str, shape: tuple[int, ...] = (4, 6)) -> Any:
    a = round_to(np.random.default_rng(seed).uniform(0.2, 0.9, shape), dtype)
    return pt.constant(a, dtype=dtype)


def _hygiene_case(op: str, arity: int, kwargs: dict) -> ConformanceCase:
    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        # A large input too: some backends switch to other loops (in place, threaded) there.
        for shape in ((4, 6), (32, 300)):
            xs = [_inputs(i, dtype, shape) for i in range(arity)]
            _check_call(op, lambda *t: getattr(pt, op)(*t, **kwargs), xs)

    return ConformanceCase(op, "hygiene", fn, dtypes=HYGIENE_DTYPES, op=op,
                           doc=f"{op} leaves its inputs' bytes unchanged, no aliasing")


def _variable_case(method: str) -> ConformanceCase:
    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        for n in (6, 10_000):
            a = round_to(np.linspace(-1.0, 1.0, n), dtype)
            d = round_to(np.full(n, 0.5), dtype)
            v = pt.Variable(pt.constant(a, dtype=dtype))
            read, ident = v.read_value(), pt.identity(v)
            getattr(v, method)(pt.constant(d, dtype=dtype))
            for name, t in (("read_value()", read), ("identity(v)", ident)):
                assert_close(t, a, dtype, "value",
                             f"{name} read before {method} changed by the update", op=method)
            expected = {"assign": d, "assign_add": a + d, "assign_sub": a - d}[method]
            assert_dtype(v, dtype, f"the variable after {method}")
            assert_close(v.read_value(), round_to(expected, dtype), dtype, "value",
                         f"the variable after {method}", op=method)

    return ConformanceCase(method, "hygiene", fn, dtypes=HYGIENE_DTYPES, op=method,
                           doc=f"a value read before {method} is unchanged after it")


def hygiene_cases() -> list[ConformanceCase]:
    """Input, aliasing and variable-update hygiene of the table's elementwise ops and reductions."""
    from polytape.optable import OPS  # complete only once plugins have loaded

    cases = [_hygiene_case(op, 1, {}) for op in UNARY if op in OPS]
    cases += [_hygiene_case(op, 2, {}) for op in BINARY if op in OPS]
    cases += [_hygiene_case(op, 1, {"axis": 1}) for op in _REDUCTIONS if op in OPS]
    cases += [_hygiene_case(op, 1, {"axis": 1}) for op in ("softmax", "log_softmax") if op in OPS]
    cases += [_variable_case(m) for m in ("assign", "assign_add", "assign_sub")]
    return cases


# -- integer semantics --------------------------------------------------------------------------
_INT_DTYPES = ("int8", "int16", "int32", "int64")


def _exact(got: Any, expected: np.ndarray, dtype: str, what: str) -> None:
    assert_dtype(got, dtype, what)
    g = np.asarray(got.numpy())
    if g.shape != expected.shape or not np.array_equal(g.astype(np.float64),
                                                       expected.astype(np.float64)):
        bad = np.flatnonzero(g.astype(np.float64).ravel() != expected.astype(np.float64).ravel())
        i = int(bad[0]) if bad.size else 0
        raise AssertionError(f"{what}: got {g.ravel()[i]!r} at flat index {i}, "
                             f"expected {expected.ravel()[i]!r}")


def _division_case(op: str) -> ConformanceCase:
    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        x = np.array([7, -7, 7, -7, 6, -6, 0, 1, -1], dtype=np.int64)
        y = np.array([2, 2, -2, -2, 3, 3, 5, -4, 4], dtype=np.int64)
        ref = np.floor_divide if op == "floor_divide" else np.remainder
        got = getattr(pt, op)(pt.constant(x, dtype=dtype), pt.constant(y, dtype=dtype))
        _exact(got, ref(x, y), dtype, f"{op} signs in {dtype}")

    return ConformanceCase(op, "integer semantics", fn, dtypes=_INT_DTYPES, op=op,
                           doc=f"{op} rounds toward -inf / takes the divisor's sign")


_CAST_INPUTS = np.array([2.7, -2.7, 0.5, -0.5, -0.0, 0.0, 1.0, -1.0, 99.9, -99.9, 0.25])


def _cast_case() -> ConformanceCase:
    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        x = pt.constant(round_to(_CAST_INPUTS, dtype), dtype=dtype)
        xs = round_to(_CAST_INPUTS, dtype)
        for target in ("int8", "int32", "int64"):
            _exact(pt.cast(x, target), np.trunc(xs).astype(target), target,
                   f"cast {dtype} -> {target} truncates toward zero")
        special = round_to(np.array([0.5, -0.0, 0.0, np.nan, np.inf, -1e-3, 2.0]), dtype)
        _exact(pt.cast(pt.constant(special, dtype=dtype), "bool"), special != 0, "bool",
               f"cast {dtype} -> bool is x != 0")

    return ConformanceCase("astype", "integer semantics", fn,
                           dtypes=("float16", "bfloat16", "float32", "float64"), op="astype",
                           doc="float -> int truncates, float -> bool is x != 0")


def _round_case() -> ConformanceCase:
    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 4.5, 0.49, -3.5])
        got = pt.round(pt.constant(x, dtype=dtype))
        _exact(got, np.round(round_to(x, dtype)), dtype, f"round half to even in {dtype}")

    return ConformanceCase("round", "integer semantics", fn,
                           dtypes=("float16", "bfloat16", "float32", "float64"), op="round",
                           doc="round half to even")


_WRAP = {"int8": 127, "int16": 32767, "int32": 2**31 - 1, "int64": 2**63 - 1, "uint8": 255}


def _overflow_case(op: str) -> ConformanceCase:
    def fn(backend: str, dt: Any) -> None:
        dtype = str(dt)
        top = _WRAP[dtype]
        np_dt = np.dtype(dtype)
        x = np.array([top, top, 1], dtype=np_dt)
        y = np.array([1, top, 1], dtype=np_dt) if op == "add" else np.array([2, top, 1], np_dt)
        with np.errstate(over="ignore"):
            expected = np.add(x, y) if op == "add" else np.multiply(x, y)
        got = getattr(pt, op)(pt.constant(x, dtype=dtype), pt.constant(y, dtype=dtype))
        _exact(got, expected, dtype, f"{op} wraps around on overflow in {dtype}")

    return ConformanceCase(op, "integer semantics", fn, dtypes=tuple(_WRAP), op=op,
                           doc=f"{op} wraps around on integer overflow (two's complement)")


def integer_cases() -> list[ConformanceCase]:
    """Exact integer and bool semantics."""
    return [_division_case("floor_divide"), _division_case("remainder"), _cast_case(),
            _round_case(), _overflow_case("add"), _overflow_case("multiply")]
