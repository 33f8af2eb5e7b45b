"""Errors: bad input gives the documented error type (docs/architecture.md, "Errors"), and
nothing else breaks.

Each case checks the polytape class *and* the builtin a user would catch
(``ShapeError`` is a ``ValueError``, ``DTypeError`` a ``TypeError``, ...), that the
message names what went wrong, and where it matters that state is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import polytape as pt

from .cases import ConformanceCase
from .checks import assert_close

__all__ = ["error_cases"]

CASES: list[ConformanceCase] = []


def error(fn: Callable[[str, Any], None]) -> Callable[[str, Any], None]:
    """Register ``fn`` as an error case named after it."""
    CASES.append(ConformanceCase(fn.__name__, "errors", fn, dtypes=("float32", "float64"),
                                 doc=(fn.__doc__ or "").strip()))
    return fn


def expect(error_name: str, builtin: type, fn: Callable[[], Any], *mentions: str) -> BaseException:
    """Run ``fn``; fail unless it raises ``polytape.<error_name>`` (also a ``builtin``)
    whose message contains every string in ``mentions``."""
    cls = getattr(pt, error_name)
    try:
        fn()
    except Exception as exc:
        if not isinstance(exc, cls) or not isinstance(exc, builtin):
            raise AssertionError(f"expected {error_name} ({builtin.__name__}), got "
                                 f"{type(exc).__name__}: {exc}") from exc
        missing = [m for m in mentions if m not in str(exc)]
        if missing:
            raise AssertionError(f"{error_name} message does not mention {missing}: {exc}") from exc
        return exc
    raise AssertionError(f"expected {error_name}, nothing was raised")


@error
def matmul_shape_mismatch(backend: str, dtype: Any) -> None:
    """matmul of (2, 3) and (2, 3) is a ShapeError naming the op and both shapes."""
    a = pt.ones((2, 3), dtype=dtype)
    expect("ShapeError", ValueError, lambda: pt.matmul(a, a), "matmul", "(2, 3)")


@error
def broadcast_mismatch(backend: str, dtype: Any) -> None:
    """Adding shapes (2, 3) and (4,) is a ShapeError naming the op and the shapes."""
    expect("ShapeError", ValueError,
           lambda: pt.ones((2, 3), dtype=dtype) + pt.ones((4,), dtype=dtype), "add")


@error
def reshape_wrong_size(backend: str, dtype: Any) -> None:
    """Reshaping 6 elements into (4, 2) is a ShapeError."""
    expect("ShapeError", ValueError, lambda: pt.reshape(pt.ones((2, 3), dtype=dtype), (4, 2)),
           "reshape")


@error
def axis_out_of_range(backend: str, dtype: Any) -> None:
    """A reduction axis beyond the rank is a ShapeError."""
    expect("ShapeError", ValueError, lambda: pt.sum(pt.ones((2, 3), dtype=dtype), axis=2), "axis")


@error
def concat_mismatch(backend: str, dtype: Any) -> None:
    """Concatenating (2, 3) and (2, 4) along axis 0 is a ShapeError."""
    expect("ShapeError", ValueError,
           lambda: pt.concat([pt.ones((2, 3), dtype=dtype), pt.ones((2, 4), dtype=dtype)], 0),
           "concat")


@error
def bad_values(backend: str, dtype: Any) -> None:
    """A string is not a tensor; an unknown dtype name is a DTypeError."""
    expect("DTypeError", TypeError, lambda: pt.constant("three"))
    expect("DTypeError", TypeError, lambda: pt.constant([1.0, 2.0], dtype="float8"), "float8")
    expect("DTypeError", TypeError, lambda: pt.ones((2,), dtype=dtype) + "x")


@error
def unknown_backend(backend: str, dtype: Any) -> None:
    """An unknown backend name is a BackendNotFoundError (a LookupError) listing the known ones."""
    name = backend.partition(":")[0]
    expect("BackendNotFoundError", LookupError, lambda: pt.constant(1.0, backend="no_such_backend"),
           "no_such_backend", name)


@error
def unknown_device(backend: str, dtype: Any) -> None:
    """A device the backend does not have is a BackendUnavailableError naming it."""
    name = backend.partition(":")[0]
    expect("BackendUnavailableError", RuntimeError,
           lambda: pt.constant(1.0, backend=f"{name}:no_such_device"), "no_such_device")


@error
def backend_mismatch(backend: str, dtype: Any) -> None:
    """An op mixing two backends is a BackendMismatchError naming both and pt.to_backend."""
    name = backend.partition(":")[0]
    others = [s.name for s in pt.list_backends() if s.available and s.name != name]
    if not others:
        pytest.skip("needs a second available backend")
    x = pt.ones((2,), dtype=dtype)
    y = pt.ones((2,), dtype=dtype, backend=others[0])
    err = expect("BackendMismatchError", ValueError, lambda: x + y, name, others[0], "to_backend")
    assert err is not None
    moved = pt.to_backend(y, backend)
    assert_close(x + moved, [2.0, 2.0], dtype)


@error
def tape_misuse(backend: str, dtype: Any) -> None:
    """A second gradient() of a non-persistent tape is a TapeError (RuntimeError); a bad
    unconnected_gradients is an InvalidArgumentError (ValueError); watching a non-tensor
    is an InvalidArgumentError."""
    x = pt.constant(2.0, dtype=dtype)
    with pt.GradientTape() as tape:
        tape.watch(x)
        expect("InvalidArgumentError", ValueError, lambda: tape.watch("x"))
        y = x * x
    expect("InvalidArgumentError", ValueError,
           lambda: tape.gradient(y, x, unconnected_gradients="sometimes"))
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    expect("TapeError", RuntimeError, lambda: tape.gradient(y, x), "persistent")


@error
def output_gradients_shape(backend: str, dtype: Any) -> None:
    """``output_gradients`` of the wrong shape is a ShapeError."""
    x = pt.constant([1.0, 2.0], dtype=dtype)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    expect("ShapeError", ValueError,
           lambda: tape.gradient(y, x, output_gradients=pt.ones((3,), dtype=dtype)))


@error
def variable_assign(backend: str, dtype: Any) -> None:
    """Assigning the wrong shape (ShapeError) or dtype (DTypeError) leaves the variable as it was."""
    v = pt.Variable(pt.constant([1.0, 2.0], dtype=dtype))
    expect("ShapeError", ValueError, lambda: v.assign(pt.constant([1.0, 2.0, 3.0], dtype=dtype)))
    other = "float64" if str(dtype) != "float64" else "float32"
    expect("DTypeError", TypeError, lambda: v.assign(pt.constant([5.0, 6.0], dtype=other)))
    expect("ShapeError", ValueError, lambda: v.assign_add(pt.ones((3,), dtype=dtype)))
    assert_close(v, [1.0, 2.0], dtype, what="the variable after failed assignments")
    if str(v.dtype) != str(dtype):
        raise AssertionError(f"a failed assign changed the variable's dtype to {v.dtype}")


@error
def scalar_conversion(backend: str, dtype: Any) -> None:
    """``float()`` of a tensor with more than one element is a ShapeError."""
    expect("ShapeError", ValueError, lambda: float(pt.ones((2,), dtype=dtype)))
    if float(pt.constant([2.5], dtype=dtype)) != 2.5:
        raise AssertionError("float() of a one-element tensor is not its value")


@error
def unsupported_dtype(backend: str, dtype: Any) -> None:
    """A canonical dtype the backend cannot hold is a DTypeError naming the backend."""
    be = pt.get_backend(backend)
    lacking = [d for d in pt.dtypes.all_dtypes if d not in be.supported_dtypes()]
    if not lacking:
        pytest.skip(f"backend {be.name!r} supports every canonical dtype")
    expect("DTypeError", TypeError, lambda: pt.constant(np.zeros(2), dtype=lacking[0]), be.name)


def error_cases() -> list[ConformanceCase]:
    """Every error case."""
    return list(CASES)
