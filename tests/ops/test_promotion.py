"""Type promotion: every pair of dtypes against a table written from the Array API standard,
Python scalars as weak types, and real ops returning the promoted dtype on every backend."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import polytape as pt

NAMES = ["bool", "int8", "int16", "int32", "int64", "uint8", "float16", "bfloat16", "float32", "float64"]
SHORT = dict(zip(["b", "i1", "i2", "i4", "i8", "u1", "f2", "bf", "f4", "f8"], NAMES))

# Rows and columns in the order of NAMES. Within a kind the entries are the Array API standard's
# promotion table (u1 with i1 -> i2, with i2/i4/i8 -> the signed type; floats widen).
# Mixed kinds, which the standard leaves to the library, follow polytape's documented extension:
# bool takes the other type, an integer with a float takes the float, and float16 with bfloat16
# (neither holds the other) gives float32.
EXPECTED_TEXT = """
     b   i1  i2  i4  i8  u1  f2  bf  f4  f8
b    b   i1  i2  i4  i8  u1  f2  bf  f4  f8
i1   i1  i1  i2  i4  i8  i2  f2  bf  f4  f8
i2   i2  i2  i2  i4  i8  i2  f2  bf  f4  f8
i4   i4  i4  i4  i4  i8  i4  f2  bf  f4  f8
i8   i8  i8  i8  i8  i8  i8  f2  bf  f4  f8
u1   u1  i2  i2  i4  i8  u1  f2  bf  f4  f8
f2   f2  f2  f2  f2  f2  f2  f2  f4  f4  f8
bf   bf  bf  bf  bf  bf  bf  f4  bf  f4  f8
f4   f4  f4  f4  f4  f4  f4  f4  f4  f4  f8
f8   f8  f8  f8  f8  f8  f8  f8  f8  f8  f8
"""


def _expected() -> dict[tuple[str, str], str]:
    rows = [line.split() for line in EXPECTED_TEXT.strip().splitlines()]
    header = [SHORT[c] for c in rows[0]]
    return {(SHORT[r[0]], col): SHORT[cell] for r in rows[1:] for col, cell in zip(header, r[1:])}


EXPECTED = _expected()
PAIRS = [(a, b) for a in NAMES for b in NAMES]


def test_expected_table_is_complete_and_symmetric() -> None:
    assert len(EXPECTED) == 100
    assert all(EXPECTED[a, b] == EXPECTED[b, a] for a, b in PAIRS)


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_result_type_of_every_pair(a: str, b: str) -> None:
    assert pt.result_type(a, b) is pt.as_dtype(EXPECTED[a, b])


def _weak(dtype: str, scalar: object) -> str:
    """The standard's rule for array-scalar operations, plus the extension for mixed kinds."""
    if isinstance(scalar, bool):
        return dtype
    if isinstance(scalar, int):
        return "int32" if dtype == "bool" else dtype
    return dtype if dtype.startswith(("float", "bfloat")) else "float32"


def _values(dtype: str) -> np.ndarray:
    import ml_dtypes

    np_dtype = ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype
    return np.array([1, 0, 1], dtype=np.float64).astype(np_dtype)


@pytest.mark.parametrize("scalar", [True, 2, 2.5], ids=["bool", "int", "float"])
@pytest.mark.parametrize("dtype", NAMES)
def test_python_scalars_are_weak(backend: str, dtype: str, scalar: object) -> None:
    x = pt.constant(_values(dtype))
    want = pt.as_dtype(_weak(dtype, scalar))
    assert pt.result_type(dtype, dtype) is pt.as_dtype(dtype)
    for out in (pt.add(x, scalar), scalar + x, pt.multiply(scalar, x), x * scalar):
        assert out.dtype is want, (dtype, scalar, out.dtype)
    ref = np.array([1.0, 0.0, 1.0]) + float(scalar)
    np.testing.assert_allclose(np.asarray(pt.add(x, scalar).numpy(), dtype=np.float64),
                               ref.astype(np.float64) if want.name != "bool" else ref != 0,
                               rtol=1e-2)


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_ops_return_the_promoted_dtype(backend: str, a: str, b: str) -> None:
    want = pt.as_dtype(EXPECTED[a, b])
    x, y = pt.constant(_values(a)), pt.constant(_values(b))
    outs = {
        "add": pt.add(x, y),
        "multiply": pt.multiply(x, y),
        "where": pt.where(pt.constant([True, False, True]), x, y),
        "concat": pt.concat([x, y]),
    }
    for name, out in outs.items():
        assert out.dtype is want, (name, a, b, out.dtype)
        assert out.backend == backend
    # the values are those of the promoted inputs: 1 + 1 is 2 (or True for bool), 1 * 0 is 0
    np.testing.assert_array_equal(np.asarray(outs["add"].numpy(), dtype=np.float64),
                                  [1.0 if want.name == "bool" else 2.0, 0.0, 1.0 if want.name == "bool"
                                   else 2.0])
    np.testing.assert_array_equal(np.asarray(outs["where"].numpy(), dtype=np.float64), [1.0, 0.0, 1.0])
    assert outs["concat"].shape == (6,)


def test_python_ints_out_of_the_dtype_range_are_an_error(backend: str) -> None:
    with pytest.raises(pt.DTypeError, match="int8"):
        pt.constant([1, 2], dtype="int8") + 200
    with pytest.raises(pt.DTypeError, match="uint8"):
        pt.constant([1, 2], dtype="uint8") * -1
    np.testing.assert_array_equal((pt.constant([1], dtype="int8") + 126).numpy(), [127])
    assert (pt.constant([1], dtype="int16") - 300).dtype == pt.int16


def test_integer_and_bool_results_are_never_differentiable(backend: str) -> None:
    x = pt.constant([0.5, -1.5, 2.0], dtype="float64")
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        with pt.ForwardAccumulator(x, pt.ones_like(x)) as acc:
            results = [pt.cast(x, "int32"), pt.cast(x, "bool"), pt.argmax(x), x > 0,
                       pt.cast(pt.abs(x), "uint8"), pt.sum(pt.cast(x, "int64"))]
    for r in results:
        assert not r.dtype.is_floating
        assert tape.gradient(r, x) is None
        assert acc.jvp(r) is None
    # an integer source, even watched, has no gradient
    i = pt.constant([1, 2, 3])
    with pt.GradientTape() as tape, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tape.watch(i)
        y = pt.cast(i, "float32") * 2.0
    assert tape.gradient(y, i) is None
