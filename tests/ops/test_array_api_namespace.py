"""polytape as an Array API namespace: version, inspection, constants, dtype functions, the
standard's spellings, tensor attributes and creation functions (docs/array-api.md).

``array_api_strict`` is the behavioural reference where it is installed."""

from __future__ import annotations

import math

import numpy as np
import pytest

import polytape as pt


def _strict():
    return pytest.importorskip("array_api_strict")


def test_version_and_constants() -> None:
    assert pt.__array_api_version__ == "2024.12"
    assert (pt.e, pt.pi, pt.inf) == (math.e, math.pi, math.inf)
    assert math.isnan(pt.nan) and pt.newaxis is None


def test_namespace_of_a_tensor(backend: str) -> None:
    x = pt.constant([1.0, 2.0])
    assert x.__array_namespace__() is pt
    compat = pytest.importorskip("array_api_compat")
    assert compat.array_namespace(x) is pt
    with pytest.raises(ValueError):
        x.__array_namespace__(api_version="1999.01")


def test_namespace_info(backend: str) -> None:
    info = pt.__array_namespace_info__()
    assert set(info.capabilities()) >= {"boolean indexing", "data-dependent shapes"}
    assert info.default_device() in info.devices()
    d = info.default_dtypes()
    assert d["real floating"] is pt.float32 and d["indexing"] is pt.int64
    assert set(info.dtypes(kind="integral").values()) >= {pt.int8, pt.int64, pt.uint8}
    assert all(pt.isdtype(t, "real floating") for t in info.dtypes(kind="real floating").values())


def test_finfo_iinfo_match_numpy() -> None:
    for dt in (pt.float16, pt.float32, pt.float64):
        f, ref = pt.finfo(dt), np.finfo(dt.name)
        assert (f.bits, f.eps, f.max, f.min, f.smallest_normal) == (
            ref.bits, float(ref.eps), float(ref.max), float(ref.min), float(ref.smallest_normal))
        assert f.dtype is dt
    assert pt.finfo(pt.constant(1.0)).bits == 32
    for dt in (pt.int8, pt.int16, pt.int32, pt.int64, pt.uint8):
        i, ref = pt.iinfo(dt), np.iinfo(dt.name)
        assert (i.bits, i.min, i.max, i.dtype) == (ref.bits, ref.min, ref.max, dt)
    with pytest.raises(pt.DTypeError):
        pt.finfo(pt.int32)
    with pytest.raises(pt.DTypeError):
        pt.iinfo(pt.float32)


_KINDS = ("bool", "signed integer", "unsigned integer", "integral", "real floating",
          "complex floating", "numeric")
_COMMON = ("bool", "int8", "int16", "int32", "int64", "uint8", "float32", "float64")


def test_isdtype_and_can_cast_match_array_api_strict() -> None:
    xp = _strict()
    for a in _COMMON:
        for kind in _KINDS:
            assert pt.isdtype(pt.as_dtype(a), kind) == xp.isdtype(getattr(xp, a), kind), (a, kind)
        for b in _COMMON:
            assert pt.can_cast(pt.as_dtype(a), pt.as_dtype(b)) == \
                xp.can_cast(getattr(xp, a), getattr(xp, b)), (a, b)
    assert pt.isdtype(pt.int8, (pt.float32, "integral"))
    with pytest.raises(pt.InvalidArgumentError):
        pt.isdtype(pt.int8, "integer")
    with pytest.raises(pt.DTypeError):
        pt.isdtype("int8", "integral")


def test_result_type_takes_tensors_and_weak_scalars(backend: str) -> None:
    x = pt.constant([1, 2], dtype=pt.int8)
    assert pt.result_type(x, pt.int16) is pt.int16
    assert pt.result_type(x, 1) is pt.int8
    assert pt.result_type(x, 1.0) is pt.float32
    with pytest.raises(pt.DTypeError):
        pt.result_type(1, 2.0)


def test_standard_spellings_are_the_same_ops(backend: str) -> None:
    x = pt.constant([0.25, 0.5])
    for std, ours in (("acos", "arccos"), ("asin", "arcsin"), ("atan", "arctan")):
        np.testing.assert_array_equal(getattr(pt, std)(x).numpy(), getattr(pt, ours)(x).numpy())
    np.testing.assert_array_equal(pt.atan2(x, x + 1).numpy(), pt.arctan2(x, x + 1).numpy())
    np.testing.assert_array_equal(pt.pow(x, 2.0).numpy(), (x ** 2.0).numpy())
    m = pt.reshape(pt.arange(24), (2, 3, 4))
    assert pt.matrix_transpose(m).shape == (2, 4, 3) == m.mT.shape
    np.testing.assert_array_equal(m.mT.numpy(), np.swapaxes(m.numpy(), -1, -2))
    assert pt.permute_dims(m, (2, 0, 1)).shape == (4, 2, 3)
    with pytest.raises(pt.ShapeError):
        pt.matrix_transpose(pt.constant([1.0]))


def test_matrix_transpose_gradient(backend: str) -> None:
    x = pt.Variable(np.arange(6.0).reshape(2, 3))
    w = pt.constant(np.arange(6.0).reshape(3, 2))
    with pt.GradientTape() as tape:
        y = pt.sum(x.mT * w)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), w.numpy().T)


def test_tensor_attributes(backend: str) -> None:
    x = pt.constant(2.5)
    assert complex(x) == 2.5 + 0j
    assert x.to_device(x.device).device == x.device
    with pytest.raises(pt.ShapeError):
        complex(pt.constant([1.0, 2.0]))


def test_creation_functions(backend: str) -> None:
    assert pt.zeros((2,), dtype=None).dtype is pt.float32
    assert pt.ones(3, dtype=None).dtype is pt.float32
    e = pt.empty((2, 3))
    assert e.shape == (2, 3) and e.dtype is pt.float32 and e.backend == backend
    el = pt.empty_like(pt.constant([1, 2]))
    assert el.shape == (2,) and el.dtype is pt.int32
    x = pt.constant([1.0, 2.0])
    assert pt.asarray(x) is x
    assert pt.asarray([1, 2], dtype=pt.int64).dtype is pt.int64
    assert pt.asarray(x, copy=False) is x
    for like in (pt.zeros_like, pt.ones_like, pt.empty_like):
        assert like(x, device=x.device).device == x.device
    assert pt.full_like(x, 3.0, device=x.device).numpy().tolist() == [3.0, 3.0]
    with pytest.raises(pt.BackendUnavailableError):
        pt.zeros_like(x, device="no-such-device")


def test_from_dlpack(backend: str) -> None:
    src = np.arange(4.0)
    t = pt.from_dlpack(src)
    assert t.backend == backend and t.numpy().tolist() == [0.0, 1.0, 2.0, 3.0]
    other = pt.constant([1.0, 2.0], backend="numpy")
    assert pt.from_dlpack(other, backend=backend).backend == backend


def test_concat_axis_none_and_copy_keywords(backend: str) -> None:
    a, b = pt.constant([[1.0, 2.0], [3.0, 4.0]]), pt.constant([5.0])
    assert pt.concat([a, b], axis=None).numpy().tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert pt.reshape(a, (4,), copy=True).shape == (4,)
    assert pt.astype(a, pt.float64, copy=False).dtype is pt.float64
    v = pt.Variable([1.0, 2.0])
    snapshot = pt.astype(v, pt.float32)  # copy=True: does not follow the variable
    v.assign([5.0, 6.0])
    assert snapshot.numpy().tolist() == [1.0, 2.0]
    assert pt.astype(a, pt.float32, copy=False) is a


@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                                  "uint64", "bool"])
def test_sums_and_products_accumulate_in_the_default_integer(backend: str, name: str) -> None:
    # The 2024.12 standard: signed integers narrower than the default integer (what
    # default_dtypes()["integral"] reports, and asarray(0) gives) accumulate in it, unsigned
    # ones in the unsigned integer of its width; wider ones keep their dtype.
    default = pt.__array_namespace_info__().default_dtypes()["integral"]
    assert default is pt.asarray(0).dtype is pt.int32
    acc = {"int8": np.int32, "int16": np.int32, "bool": np.int32, "uint8": np.uint32,
           "uint16": np.uint32}.get(name, np.dtype(name).type)
    data = np.array([[100, 100], [100, 100]]).astype(name)
    x = pt.constant(data)
    for fn in (pt.sum, pt.prod):
        out = fn(x)
        assert out.dtype is pt.as_dtype(np.dtype(acc).name)
        assert int(out) == int(getattr(np, fn.__name__)(data, dtype=acc))
    for fn, ref in ((pt.cumulative_sum, np.cumsum), (pt.cumulative_prod, np.cumprod)):
        out = fn(x, axis=1)
        assert out.dtype is pt.as_dtype(np.dtype(acc).name)
        np.testing.assert_array_equal(out.numpy(), ref(data, axis=1, dtype=acc))
    tr = pt.linalg.trace(x)
    assert tr.dtype is pt.as_dtype(np.dtype(acc).name) and int(tr) == int(np.trace(data, dtype=acc))


def test_sum_dtype_argument(backend: str) -> None:
    x = pt.Variable([1.5, 2.5])
    with pt.GradientTape() as tape:
        y = pt.sum(x, dtype=pt.float64)
    assert y.dtype is pt.float64 and float(y) == 4.0
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1.0, 1.0])
    assert pt.prod(pt.constant([2, 3], dtype=pt.int64), dtype=pt.float32).dtype is pt.float32
    assert pt.sum(pt.constant([1.0], dtype=pt.float64)).dtype is pt.float64


def test_info_dtypes_lists_the_standards_dtypes_only(backend: str) -> None:
    xp = pytest.importorskip("array_api_strict")
    standard = set(xp.__array_namespace_info__().dtypes())
    listed = pt.__array_namespace_info__().dtypes()
    assert set(listed) <= standard and {"bool", "int8", "int64", "uint8", "float32"} <= set(listed)
    assert "float16" not in listed and "bfloat16" not in listed
    assert pt.isdtype(pt.float16, "real floating")  # still a polytape dtype, outside the list
