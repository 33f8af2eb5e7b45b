"""Dtypes: round trips, creation functions, and type promotion decided by the front end.

A backend must hold every dtype it claims exactly as asked (no silent
float16-for-float32 storage), create arrays of the requested dtype, and return
the dtype polytape's promotion table says for mixed inputs.
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np

import polytape as pt

from .cases import ALL_DTYPES, ConformanceCase
from .checks import assert_close, assert_dtype, round_to
from .tolerances import EXACT

__all__ = ["dtype_cases"]


def _host_values(dtype: str) -> np.ndarray:
    """Values that are exact in ``dtype``, as a NumPy array of that dtype (bfloat16 via ml_dtypes)."""
    if dtype == "bool":
        return np.array([True, False, True])
    if dtype.startswith("complex"):
        return round_to(np.array([1.5 - 2j, -0.25 + 0.5j, 3.0, 1.0 / 3.0 + 1j / 7.0]),
                        dtype).astype(np.dtype(dtype))
    if dtype in ("float16", "bfloat16", "float32", "float64"):
        vals = np.array([1.5, -0.25, 3.0, 1.0 / 3.0])
        vals = round_to(vals, dtype)
        if dtype == "bfloat16":
            return vals.astype(ml_dtypes.bfloat16)
        return vals.astype(np.dtype(dtype))
    if dtype.startswith("uint"):  # the largest value of the type, exactly
        return np.array([1, 0, 7, np.iinfo(np.dtype(dtype)).max], dtype=np.dtype(dtype))
    vals = np.array([1, 0, 7, -3])
    return vals.astype(np.dtype(dtype))


def round_trip(backend: str, dtype: Any) -> None:
    """Host values -> backend -> host keep their dtype and values (also via pt.to_backend)."""
    name = str(dtype)
    host = _host_values(name)
    t = pt.constant(host)
    assert_dtype(t, name, "constant(NumPy array)")
    t2 = pt.constant(host.astype(np.float64) if name in _FLOATS else host, dtype=name)
    assert_dtype(t2, name, "constant(values, dtype=...)")
    back = np.asarray(t.numpy())
    if str(back.dtype) != name and not (name == "bool" and back.dtype == np.bool_):
        raise AssertionError(f".numpy() gave {back.dtype}, expected {name}")
    expected = host.astype(np.float64) if name in _FLOATS else host
    assert_close(t, expected, name, tol=_exact(), what="values after a round trip")
    assert_close(t2, expected, name, tol=_exact(), what="values of constant(..., dtype=)")
    if backend.partition(":")[0] != "numpy":
        moved = pt.to_backend(pt.to_backend(t, "numpy"), backend)
        assert_dtype(moved, name, "to_backend round trip")
        assert_close(moved, expected, name, tol=_exact(), what="to_backend round trip")


_FLOATS = ("float16", "bfloat16", "float32", "float64")


def _exact() -> Any:
    return EXACT


def creation(backend: str, dtype: Any) -> None:
    """zeros/ones/full and *_like (and arange/linspace/eye where polytape has them) give
    the requested dtype, shape and values on the backend."""
    name = str(dtype)
    be_name = backend.partition(":")[0]
    fill = True if name == "bool" else 3
    made = {
        "zeros": (pt.zeros((2, 3), dtype=name), np.zeros((2, 3))),
        "ones": (pt.ones((3,), dtype=name), np.ones(3)),
        "full": (pt.full((2, 2), fill, dtype=name), np.full((2, 2), float(fill))),
        "zeros (empty)": (pt.zeros((0, 2), dtype=name), np.zeros((0, 2))),
    }
    base = pt.ones((2, 2), dtype=name)
    made["zeros_like"] = (pt.zeros_like(base), np.zeros((2, 2)))
    made["ones_like"] = (pt.ones_like(base), np.ones((2, 2)))
    made["full_like"] = (pt.full_like(base, fill), np.full((2, 2), float(fill)))
    if name != "bool":
        if not name.startswith("complex"):  # the standard's arange is real-valued
            made["arange"] = (pt.arange(0, 5, 1, dtype=name), np.arange(0, 5, 1.0))
        made["eye"] = (pt.eye(3, dtype=name), np.eye(3))
        if name in ("float32", "float64", "float16", "bfloat16", "complex64", "complex128"):
            made["linspace"] = (pt.linspace(0.0, 1.0, 5, dtype=name),
                                round_to(np.linspace(0.0, 1.0, 5), name))
    for what, (t, expected) in made.items():
        if t.backend != be_name:
            raise AssertionError(f"{what}: made on backend {t.backend!r}, not {be_name!r}")
        assert_dtype(t, name, what)
        tol = None if what == "linspace" else _exact()
        assert_close(t, expected if name != "bool" else expected.astype(bool), name, tol=tol,
                     what=what)


def promotion(backend: str, dtype: Any) -> None:
    """``x + y`` with x of this dtype and y of every other dtype gives
    ``pt.result_type(x, y)`` (the front end's table, the same on every backend; uint64 with
    a signed integer raises DTypeError); Python scalars are weak (float32 * 2.0 stays
    float32; int * 2.5 gives float32; float64 * 1j gives complex128)."""
    be = pt.get_backend(backend)
    supported = {str(d) for d in be.supported_dtypes()}
    name = str(dtype)
    for other in ALL_DTYPES:
        if other not in supported or (name == "bool" and other == "bool"):
            continue
        x = pt.ones((2,), dtype=name)
        y = pt.ones((2,), dtype=other)
        if {name, other} & {"uint64"} and {name, other} & {"int8", "int16", "int32", "int64"}:
            try:
                x + y
            except pt.DTypeError:
                continue
            raise AssertionError(f"{name} + {other} did not raise DTypeError")
        out = x + y
        want = str(pt.result_type(name, other))
        assert_dtype(out, want, f"{name} + {other}")
        assert_close(out, [2.0, 2.0], want, what=f"{name} + {other}")
    if name != "bool":
        x = pt.ones((2,), dtype=name)
        scaled = x * 2.0
        want = name if name in _FLOATS or name.startswith("complex") else "float32"
        assert_dtype(scaled, want, f"{name} * 2.0")
        assert_close(scaled, [2.0, 2.0], want, what=f"{name} * 2.0")
        assert_dtype(x * 2, name, f"{name} * 2")
        turned = x * 1j
        want = str(pt.dtypes.complex_of(pt.as_dtype(name)))
        assert_dtype(turned, want, f"{name} * 1j")
        assert_close(turned, [2j / 2, 2j / 2], want, what=f"{name} * 1j")


def dtype_cases() -> list[ConformanceCase]:
    """Round trip, creation and promotion, in every dtype."""
    return [
        ConformanceCase("dtype_round_trip", "values", round_trip, dtypes=ALL_DTYPES,
                        doc=round_trip.__doc__ or ""),
        ConformanceCase("creation", "values", creation, dtypes=ALL_DTYPES,
                        doc=creation.__doc__ or ""),
        ConformanceCase("type_promotion", "values", promotion, dtypes=ALL_DTYPES,
                        doc=promotion.__doc__ or ""),
    ]
