"""The standard's array protocols: DLPack (2024.12 keywords) and the tensor attributes
(``mT``, ``__array_namespace__``, ``__index__``), as docs/array-api.md describes them."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import polytape as pt

torch = pytest.importorskip("torch")


# -- DLPack ------------------------------------------------------------------------------------
_NUMPY_2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def test_dlpack_signature_is_the_standards() -> None:
    params = inspect.signature(pt.Tensor.__dlpack__).parameters
    assert [p for p in params if p != "self"] == ["stream", "max_version", "dl_device", "copy"]
    assert all(params[p].kind is inspect.Parameter.KEYWORD_ONLY and params[p].default is None
               for p in ("stream", "max_version", "dl_device", "copy"))


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_numpy_polytape_torch_round_trip_shares_memory(name: str) -> None:
    src = np.arange(6.0).reshape(2, 3)
    t = pt.from_dlpack(src, backend=name)
    assert t.backend == name and t.dtype is pt.float64 and t.shape == (2, 3)
    as_torch = torch.from_dlpack(t)
    back = np.from_dlpack(as_torch)
    np.testing.assert_array_equal(back, src)
    src[0, 0] = 42.0  # one buffer all the way: NumPy -> polytape -> torch -> NumPy
    if name == "numpy" and not _NUMPY_2:  # NumPy 1.x exports read-only arrays as a copy
        assert t.numpy()[0, 0] == 42.0 and float(as_torch[0, 0]) == 0.0
        return
    assert t.numpy()[0, 0] == 42.0 and float(as_torch[0, 0]) == 42.0 and back[0, 0] == 42.0


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_from_dlpack_copy_true_copies_and_copy_false_never_does(name: str) -> None:
    src = torch.arange(3.0)
    copied = pt.from_dlpack(src, backend=name, copy=True)
    shared = pt.from_dlpack(src, backend=name, copy=False)
    src[1] = -1.0
    assert copied.numpy().tolist() == [0.0, 1.0, 2.0]
    assert shared.numpy().tolist() == [0.0, -1.0, 2.0]


def test_from_dlpack_copy_false_raises_buffer_error_where_a_copy_is_needed() -> None:
    # NumPy cannot export ml_dtypes' bfloat16 through DLPack: torch can only get a copy.
    x = pt.constant([1.0, 2.0], dtype=pt.bfloat16, backend="numpy")
    with pytest.raises(BufferError, match="copy=None or True"):
        pt.from_dlpack(x, backend="torch", copy=False)
    y = pt.from_dlpack(x, backend="torch")
    assert y.backend == "torch" and y.dtype is pt.bfloat16 and y.numpy().tolist() == [1.0, 2.0]


def test_from_dlpack_of_a_variable_is_an_immutable_snapshot(backend: str) -> None:
    v = pt.Variable([1.0, 2.0])
    t = pt.from_dlpack(v)
    v.assign([5.0, 6.0])
    assert type(t) is pt.Tensor and t.numpy().tolist() == [1.0, 2.0]


@pytest.mark.parametrize("name", ["numpy", "torch"])
def test_dlpack_keywords_reach_the_backend_array(name: str) -> None:
    t = pt.constant([1.0, 2.0, 3.0], backend=name)
    assert t.__dlpack_device__() == (1, 0)  # kDLCPU, device 0
    if _NUMPY_2:  # NumPy 1.x's from_dlpack takes no keywords
        copy = np.from_dlpack(t, copy=True)  # NumPy passes max_version, dl_device and copy
        np.testing.assert_array_equal(copy, [1.0, 2.0, 3.0])
        copy[0] = 9.0
        assert t.numpy().tolist() == [1.0, 2.0, 3.0]
    capsule = t.__dlpack__(max_version=(1, 0), dl_device=(1, 0), copy=False)
    assert type(capsule).__name__ == "PyCapsule"
    assert type(t.__dlpack__(max_version=(1, 0), copy=True)).__name__ == "PyCapsule"
    with pytest.raises((BufferError, ValueError)):
        t.__dlpack__(max_version=(1, 0), dl_device=(2, 0))  # CUDA: not reachable from here


def test_zero_d_tensors_export(backend: str) -> None:
    if backend == "array_api_strict":
        pytest.skip("array_api_strict arrays export through NumPy; covered by the numpy case")
    x = pt.constant(2.5, dtype=pt.float64)
    assert np.from_dlpack(x).shape == () and float(np.from_dlpack(x)) == 2.5


# -- tensor attributes -------------------------------------------------------------------------
def test_mT_of_fewer_than_two_dimensions_is_a_missing_attribute(backend: str) -> None:
    for x in (pt.constant(1.0), pt.constant([1.0, 2.0])):
        assert not hasattr(x, "mT")
        with pytest.raises(pt.ShapeAttributeError, match=r"at least 2 dimensions.*x\.T") as info:
            x.mT  # noqa: B018
        assert isinstance(info.value, AttributeError) and isinstance(info.value, pt.ShapeError)
    assert hasattr(pt.zeros((2, 3)), "mT") and pt.zeros((2, 3)).mT.shape == (3, 2)


def test_array_namespace_versions(backend: str) -> None:
    x = pt.constant([1.0])
    for version in (None, "2021.12", "2022.12", "2023.12", "2024.12"):
        assert x.__array_namespace__(api_version=version) is pt
    with pytest.raises(pt.InvalidArgumentError, match="2024.12"):
        x.__array_namespace__(api_version="2025.12")


def test_index_bool_int_float_follow_the_standard(backend: str) -> None:
    assert [10, 20, 30][pt.constant(1)] == 20
    for bad in (pt.constant(1.0), pt.constant([1, 2]), pt.constant(True)):
        with pytest.raises(pt.ArgumentTypeError, match="0-d integer"):
            bad.__index__()
    assert bool(pt.constant(float("nan"))) is True and bool(pt.constant(-0.0)) is False
    assert int(pt.constant(-0.0)) == 0 and int(pt.constant(True)) == 1
    with pytest.raises(OverflowError):
        int(pt.constant(float("inf")))
    with pytest.raises(ValueError):
        int(pt.constant(float("nan")))
    with pytest.raises(pt.ShapeError):
        bool(pt.constant([1.0, 2.0]))


def test_device_and_to_device(backend: str) -> None:
    x = pt.constant([1.0, 2.0])
    assert x.device in pt.__array_namespace_info__().devices()
    y = x.to_device(x.device)
    assert y.device == x.device and y.numpy().tolist() == [1.0, 2.0]
    with pytest.raises(pt.BackendUnavailableError):
        x.to_device("no-such-device")
