"""The PyTorch bridge itself: registration, lazy import, dtypes, devices, and the kernel
contract where torch's defaults differ from NumPy's (the reference backend).

Op-by-op value and gradient agreement with NumPy is in ``test_backend_agreement.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import ml_dtypes
import numpy as np
import pytest

import polytape as pt
from polytape.backends.array_api.kernels import make_kernels
from polytape.optable import OPS

torch = pytest.importorskip("torch")

NP = pt.get_backend("numpy")
TB = pt.get_backend("torch")
ALL_DTYPES = [d.name for d in pt.dtypes.all_dtypes]


def _run(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter and return the JSON it prints last."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("POLYTAPE_")}
    full_env.update(env)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=full_env, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _t(a):
    """A torch tensor holding the NumPy array ``a`` (through the backend under test)."""
    return TB.asarray(np.asarray(a))


def _same(torch_result, numpy_result):
    """Equal values, shape and canonical dtype."""
    got = TB.to_numpy(torch_result)
    want = np.asarray(numpy_result)
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


# -- registration and lazy import -------------------------------------------------------------
def test_importing_polytape_and_the_plugin_does_not_import_torch_first_use_does():
    result = _run(
        "import json, sys\n"
        "import polytape as pt\n"
        "import polytape.backends.torch\n"
        "import polytape.backends.torch.plugin\n"
        "before = 'torch' in sys.modules\n"
        "x = pt.constant([1.0, 2.0])\n"
        "after_numpy_use = 'torch' in sys.modules\n"
        "t = pt.constant([1.0, 2.0], backend='torch')\n"
        "print(json.dumps([before, after_numpy_use, 'torch' in sys.modules, x.backend, t.backend]))\n")
    assert result == [False, False, True, "numpy", "torch"]


def test_listed_as_available_with_torch_version_and_cpu():
    status = {s.name: s for s in pt.list_backends()}["torch"]
    assert status.available and status.reason == ""
    assert status.version == torch.__version__
    assert "cpu" in status.devices
    assert status.priority == 50


def test_environment_variable_selects_torch_as_the_default():
    result = _run("import json, polytape as pt\n"
                  "x = pt.constant([1.5])\n"
                  "print(json.dumps([x.backend, x.device, type(x.data).__module__]))\n",
                  POLYTAPE_BACKEND="torch")
    assert result == ["torch", "cpu", "torch"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_environment_variable_naming_a_missing_device_fails_on_first_use_with_the_reason():
    result = _run("import json, polytape as pt\n"
                  "try:\n"
                  "    pt.constant(1.0)\n"
                  "    print(json.dumps(['no error']))\n"
                  "except pt.BackendUnavailableError as e:\n"
                  "    print(json.dumps(['BackendUnavailableError', str(e)]))\n",
                  POLYTAPE_BACKEND="torch:cuda")
    assert result[0] == "BackendUnavailableError"
    assert "CUDA" in result[1]


def test_every_op_in_the_op_table_has_a_torch_kernel():
    missing = sorted(n for n, op in OPS.items() if n not in TB.kernels and op.default_kernel is None)
    assert not missing, f"ops without a torch kernel (add them to backends/array_api/kernels.py): {missing}"


def test_every_shared_array_api_kernel_has_a_torch_kernel():
    import array_api_compat.numpy

    shared = set(make_kernels(array_api_compat.numpy))
    missing = sorted(shared - set(TB.kernels))
    assert not missing, f"kernels the shared Array API table has and torch lacks: {missing}"


# -- dtypes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_every_canonical_dtype_maps_to_a_torch_dtype_and_round_trips(dtype):
    dt = pt.as_dtype(dtype)
    native = TB.native_dtype(dt)
    assert isinstance(native, torch.dtype)
    assert TB.canonical[native] is dt
    values = np.array([0, 1, 0, 1]) if dtype == "bool" else np.array([0, 1, 2, 3])
    host = values.astype(ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype)
    x = pt.constant(host, backend="torch")
    assert x.dtype is dt and x.data.dtype is native
    out = x.numpy()
    assert out.dtype == host.dtype
    np.testing.assert_array_equal(out, host)


def test_bfloat16_and_uint8_are_the_torch_dtypes():
    assert TB.native_dtype(pt.bfloat16) is torch.bfloat16
    assert TB.native_dtype(pt.uint8) is torch.uint8
    x = pt.constant([1.0, 2.5], dtype=pt.bfloat16, backend="torch")
    y = pt.cast(x * 2.0, pt.uint8)
    assert y.dtype is pt.uint8
    np.testing.assert_array_equal(y.numpy(), [2, 5])


def test_literals_follow_tensorflow_on_torch_too():
    assert pt.constant(3.0, backend="torch").dtype is pt.float32
    assert pt.constant([1, 2, 3], backend="torch").dtype is pt.int32
    assert pt.constant(np.array([1.0]), backend="torch").dtype is pt.float64


# -- torch's autograd stays off ---------------------------------------------------------------
def _native_arrays(*tensors):
    return [t.data for t in tensors if t is not None]


def test_no_tensor_the_backend_makes_requires_grad_even_with_grad_mode_on():
    assert torch.is_grad_enabled()
    with pt.use_backend("torch"):
        w = pt.Variable(np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32))
        b = pt.Variable([0.1, -0.2])
        x = pt.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        with pt.GradientTape(persistent=True) as tape:
            h = pt.relu(x @ w + b)
            loss = pt.mean(pt.square(h - 1.0))
        gw, gb = tape.gradient(loss, [w, b])
        with pt.GradientTape() as outer:
            with pt.GradientTape() as inner:
                y = pt.sum(w * w * w)
            g = inner.gradient(y, w)
            s = pt.sum(g)
        gg = outer.gradient(s, w)
        w.assign_sub(0.1 * gw)
        z = pt.zeros((2, 2))
    for arr in _native_arrays(w, b, x, h, loss, gw, gb, g, gg, z):
        assert isinstance(arr, torch.Tensor)
        assert not arr.requires_grad and arr.grad_fn is None
    del tape


class _DLPackOnly:
    """An array from "another library": nothing but the DLPack protocol."""

    def __init__(self, arr: np.ndarray) -> None:
        self._arr = arr

    def __dlpack__(self, *args, **kwargs):
        return self._arr.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._arr.__dlpack_device__()


def test_asarray_shares_memory_with_any_dlpack_array():
    host = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = TB.asarray(_DLPackOnly(host))
    assert t.data_ptr() == host.ctypes.data and t.dtype is torch.float64
    as_f32 = TB.asarray(_DLPackOnly(host), pt.float32)
    np.testing.assert_array_equal(TB.to_numpy(as_f32), host.astype(np.float32))


def test_foreign_tensors_that_require_grad_are_detached():
    leaf = torch.tensor([1.0, 2.0], requires_grad=True)
    assert not TB.asarray(leaf).requires_grad
    assert not TB.from_dlpack(leaf).requires_grad
    np.testing.assert_array_equal(TB.to_numpy(TB.asarray(leaf)), [1.0, 2.0])


# -- the kernel contract where torch differs from NumPy --------------------------------------
X = np.array([[1.5, -2.0, 3.25], [0.5, 4.0, -1.0]], dtype=np.float32)
XI = np.array([[1, -2, 3], [4, 5, -6]], dtype=np.int32)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "max", "min"])
def test_reducing_over_no_axes_returns_the_input(name):
    _same(TB.kernels[name](_t(X), axis=(), keepdims=False), X)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "max", "min"])
@pytest.mark.parametrize("axis", [None, (0,), (1,), (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(name, axis, keepdims):
    want = NP.kernels[name](X, axis=axis, keepdims=keepdims)
    got = TB.kernels[name](_t(X), axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(TB.to_numpy(got), want, rtol=1e-6)
    assert TB.to_numpy(got).shape == np.shape(want)


@pytest.mark.parametrize("name", ["sum", "prod", "cumsum"])
def test_integer_reductions_keep_int32(name):
    args = {"axis": 1} if name == "cumsum" else {"axis": None}
    got = TB.kernels[name](_t(XI), **args)
    assert got.dtype is torch.int32
    want = {"sum": XI.sum(), "prod": XI.prod(), "cumsum": XI.cumsum(axis=1)}[name]
    np.testing.assert_array_equal(TB.to_numpy(got), want)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_arg_reductions_return_int64_and_the_first_index_on_ties(name, axis):
    ties = np.array([[1.0, 3.0, 3.0], [-1.0, -1.0, 0.0]], dtype=np.float32)
    got = TB.kernels[name](_t(ties), axis=axis)
    assert got.dtype is torch.int64
    np.testing.assert_array_equal(TB.to_numpy(got), getattr(np, name)(ties, axis=axis))


def test_round_is_half_to_even():
    halves = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5], dtype=np.float32)
    got = TB.to_numpy(TB.kernels["round"](_t(halves)))
    np.testing.assert_array_equal(got, [0.0, 2.0, 2.0, -0.0, -2.0, -2.0, 4.0])
    assert pt.round(pt.constant(2.5, backend="torch")).numpy() == 2.0


def test_where_with_zero_d_operands_broadcasts():
    got = TB.kernels["where"](_t(np.array([True, False, True])), _t(np.float32(1.0)),
                              _t(np.float32(-1.0)))
    _same(got, np.array([1.0, -1.0, 1.0], dtype=np.float32))
    got0 = TB.kernels["where"](_t(np.array(False)), _t(np.float64(2.0)), _t(np.float64(3.0)))
    _same(got0, np.float64(3.0))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_large_where_selects_exactly_what_numpy_selects(dtype):
    # Large CPU arrays take the branch-free (bit-select) path: it must pick the very same bits.
    rng = np.random.default_rng(3)
    native = NP.native_dtype(dtype)
    x = (rng.standard_normal((64, 80)) * 4).astype(native)
    y = (rng.standard_normal(80) * 4).astype(native)
    if dtype.startswith("float") or dtype == "bfloat16":
        x[0, :3] = [np.nan, -0.0, np.inf]
        y[:3] = [0.0, np.nan, -np.inf]
    c = rng.random((64, 80)) < 0.5
    c[0, :3] = [True, True, False]
    got = TB.to_numpy(TB.kernels["where"](_t(c), _t(x), _t(y)))
    want = np.where(c, x, y)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))  # bit for bit


@pytest.mark.parametrize("fill", [0.0, -0.0, 1.0])
def test_where_against_a_broadcast_constant_keeps_every_bit(fill):
    # The backward pass's zeros are broadcast views (Backend.constant_like); where(c, g, 0)
    # has its own shortcut, which must not turn -0.0 or 1.0 into 0.0.
    rng = np.random.default_rng(5)
    g = rng.standard_normal((64, 80)).astype(np.float32)
    g[0, :2] = [np.nan, -0.0]
    c = rng.random((64, 80)) < 0.5
    constant = TB.constant_like(fill, _t(g))
    assert constant.shape == (64, 80) and not any(constant.stride())
    got = TB.to_numpy(TB.kernels["where"](_t(c), _t(g), constant))
    want = np.where(c, g, np.float32(fill))
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    got_row = TB.to_numpy(TB.kernels["where"](_t(c), _t(g[0]), constant))
    want_row = np.where(c, g[0], np.float32(fill))
    np.testing.assert_array_equal(got_row.view(np.uint32), want_row.view(np.uint32))


INDICES = {
    "int": (1,),
    "negative int": (-1, 2),
    "slices": (slice(None), slice(2, 0, -1)),
    "negative steps after Ellipsis": (Ellipsis, slice(None, None, -2)),
    "negative step between int arrays": (np.array([0, 2]), slice(None, None, -1), np.array([1, 1])),
    "None then an empty backwards slice": (None, slice(0, 2, -1)),
    "bool mask then a backwards slice": (np.array([[True, False, True, True]] * 3), slice(2, None, -2)),
    "None and Ellipsis": (None, Ellipsis, 1),
    "int array with repeats": (np.array([0, 2, 2, 1]),),
    "int array and slice": (np.array([1, 0]), slice(1, 3)),
    "slice then int array": (slice(None), np.array([3, 0, 3])),
    "two broadcast int arrays": (np.array([[0], [2]]), np.array([1, 3])),
    "int arrays split by a slice": (np.array([0, 2]), slice(None), np.array([1, 1])),
    "bool mask": ("mask",),
    "bool mask on the first axis": (np.array([True, False, True]),),
}
BASE = np.arange(36, dtype=np.float32).reshape(3, 4, 3)


def _index(parts, backend):
    out = []
    for p in parts:
        if isinstance(p, str):
            p = BASE > 17
        out.append(backend.asarray(p) if isinstance(p, np.ndarray) else p)
    return tuple(out)


@pytest.mark.parametrize("case", sorted(INDICES))
def test_getitem_follows_numpy_indexing(case):
    parts = INDICES[case]
    _same(TB.kernels["getitem"](_t(BASE), _index(parts, TB)), BASE[_index(parts, NP)])


@pytest.mark.parametrize("case", sorted(INDICES))
def test_index_add_accumulates_repeated_positions_like_numpy_add_at(case):
    parts = INDICES[case]
    selected = BASE[_index(parts, NP)]
    values = np.arange(1, selected.size + 1, dtype=np.float32).reshape(selected.shape)
    want = BASE.copy()
    np.add.at(want, _index(parts, NP), values)
    got = TB.kernels["index_add"](_t(BASE), values=_t(values), index=_index(parts, TB))
    _same(got, want)


def test_index_add_leaves_its_inputs_alone_and_broadcasts_values():
    base = _t(np.zeros((2, 3), dtype=np.float32))
    out = TB.kernels["index_add"](base, values=_t(np.ones(3, np.float32)),
                                   index=(_t(np.array([1, 1, 0])),))
    _same(out, np.array([[1, 1, 1], [2, 2, 2]], dtype=np.float32))
    _same(base, np.zeros((2, 3), dtype=np.float32))


def test_gradient_of_repeated_gather_accumulates_on_torch():
    x = pt.constant([10.0, 20.0, 30.0], backend="torch")
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = pt.sum(x[pt.constant([0, 2, 2, 2], backend="torch")] * pt.constant([1.0, 2.0, 3.0, 4.0]
                                                                              , backend="torch"))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [1.0, 0.0, 9.0])


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_astype_takes_native_dtypes(dtype):
    native = TB.native_dtype(dtype)
    got = TB.kernels["astype"](_t(X), native)
    assert got.dtype is native
    want = NP.kernels["astype"](X, NP.native_dtype(dtype))
    np.testing.assert_array_equal(TB.to_numpy(got).astype(np.float64), want.astype(np.float64))


def test_creation_kernels_make_native_tensors_of_the_requested_dtype():
    f32, i32 = torch.float32, torch.int32
    _same(TB.kernels["zeros"]((2, 3), f32), np.zeros((2, 3), np.float32))
    _same(TB.kernels["ones"]((2,), i32), np.ones(2, np.int32))
    _same(TB.kernels["full"]((2, 2), 1.75, f32), np.full((2, 2), 1.75, np.float32))
    _same(TB.kernels["full"]((3,), 2.9, i32), np.full(3, 2.9, np.float32).astype(np.int32))
    _same(TB.kernels["arange"](1, 7, 2, i32), np.arange(1, 7, 2, dtype=np.int32))
    np.testing.assert_allclose(TB.to_numpy(TB.kernels["arange"](0.0, 1.0, 0.125, f32)),
                               np.arange(0.0, 1.0, 0.125, dtype=np.float32))
    np.testing.assert_allclose(TB.to_numpy(TB.kernels["linspace"](-1.0, 2.0, 7, f32)),
                               np.linspace(-1.0, 2.0, 7, dtype=np.float32), rtol=1e-7)
    _same(TB.kernels["eye"](2, 3, f32), np.eye(2, 3, dtype=np.float32))


def test_integer_division_by_zero_gives_zero_as_on_numpy():
    a = np.array([7, -7, 3], dtype=np.int32)
    b = np.array([2, 0, 0], dtype=np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want_div, want_mod = NP.kernels["floor_divide"](a, b), NP.kernels["remainder"](a, b)
    _same(TB.kernels["floor_divide"](_t(a), _t(b)), want_div)
    _same(TB.kernels["remainder"](_t(a), _t(b)), want_mod)


BOOL_REJECTED = {"negative": lambda b: -b, "subtract": lambda b: b - b, "sign": pt.sign}


@pytest.mark.parametrize("name", ["numpy", "torch"])
@pytest.mark.parametrize("expr", sorted(BOOL_REJECTED))
def test_bool_arithmetic_numpy_rejects_is_a_dtype_error_on_torch_too(expr, name):
    with pytest.raises(pt.DTypeError):
        BOOL_REJECTED[expr](pt.constant([True, False], backend=name))


def test_kernel_shape_errors_become_shape_errors():
    a = pt.constant(np.ones((2, 3), np.float32), backend="torch")
    with pytest.raises(pt.ShapeError, match="matmul"):
        pt.matmul(a, a)
    with pytest.raises(pt.ShapeError):
        a[pt.constant([5], backend="torch")]


# -- devices ----------------------------------------------------------------------------------
def test_device_names_are_canonical():
    assert TB.normalize_device("cpu") == "cpu"
    assert TB.normalize_device("cpu:0") == "cpu"
    assert TB.normalize_device(torch.device("cpu")) == "cpu"
    assert TB.normalize_device(None) == "cpu"
    assert TB.devices()[0] == "cpu"
    assert pt.constant([1.0], backend="torch").device == "cpu"


def test_unknown_device_strings_raise_unavailable():
    with pytest.raises(pt.BackendUnavailableError, match="no device"):
        TB.normalize_device("not_a_device")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_choosing_cuda_without_cuda_raises_and_leaves_the_selection_alone():
    before = pt.current_backend()
    with pytest.raises(pt.BackendUnavailableError, match="CUDA"):
        pt.set_backend("torch", device="cuda")
    with pytest.raises(pt.BackendUnavailableError):
        with pt.use_backend("torch:cuda:1"):
            pass
    assert pt.current_backend() is before


def test_creation_and_ops_follow_the_selected_device():
    # torch's "meta" device is a real non-CPU device (shapes, no data): every array must land
    # there, including the scalars, seeds and zeros the tape makes for the backward pass.
    with pt.use_backend("torch", device="meta"):
        made = [pt.zeros((2, 3)), pt.ones(3), pt.full((2,), 7.0), pt.constant([1.0, 2.0]),
                pt.zeros_like(pt.constant([1, 2]))]
        v = pt.Variable([1.0, 2.0, 3.0])
        with pt.GradientTape() as tape:
            y = pt.sum(pt.relu(v * 2.0 - 1.0) + pt.maximum(v, 0.5))
        g = tape.gradient(y, v)
    for t in made + [v, y, g]:
        assert t.device == "meta", t
    assert g.shape == (3,) and g.dtype is pt.float32


def test_numbers_used_on_one_device_work_on_another():
    # The front end converts a Python number once and reuses it: the converted number must
    # suit tensors on every device (torch's CPU 0-d tensors do).
    for first, second in (("meta", "cpu"), ("cpu", "meta")):
        with pt.use_backend("torch", device=first):
            a = pt.constant([1.0, 2.0]) * 2.5 - 1.0
        with pt.use_backend("torch", device=second):
            b = pt.maximum(pt.constant([1.0, 2.0]) * 2.5 - 1.0, 0.75)
        assert (a.device, b.device) == (first, second)
        cpu = a if first == "cpu" else b
        np.testing.assert_array_equal(cpu.numpy(), [1.5, 4.0])


def test_explicit_device_wins_over_the_selection():
    x = pt.zeros(3, backend="torch", device="meta")
    assert x.device == "meta"
    assert pt.ones_like(x).device == "meta"
    assert pt.zeros(3, backend="torch").device == "cpu"
    with pt.use_backend("torch", device="meta"):
        assert pt.zeros(2, backend="torch", device="cpu").device == "cpu"
        c = pt.constant([1.0], backend="torch", device="cpu")
        assert pt.zeros_like(c).device == "cpu"


@pytest.mark.requires_gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="this torch build has no CUDA")
def test_cuda_tensors_train_like_cpu_ones():
    host = np.array([0.5, -1.5, 2.0], dtype=np.float32)
    grads = {}
    for device in ("cpu", "cuda"):
        with pt.use_backend("torch", device=device):
            x = pt.Variable(host)
            with pt.GradientTape() as tape:
                y = pt.sum(pt.tanh(x) * x[pt.constant([0, 0, 2])])
            grads[device] = tape.gradient(y, x)
            assert x.device.startswith(device) and grads[device].device == x.device
    np.testing.assert_allclose(grads["cuda"].numpy(), grads["cpu"].numpy(), rtol=1e-6)
    TB.synchronize()


def test_complex_log1p_and_arccos_special_values_follow_the_standard():
    # Found by the official suite: torch's complex log1p gives NaN + NaN j where a part is
    # infinite, and its acos(0 + 0j) has imaginary part +0. The references are NumPy's
    # (C99's special values, which the 2024.12 standard lists).
    inf, nan = np.inf, np.nan
    z = np.array([complex(inf, nan), complex(-inf, nan), complex(nan, inf), complex(inf, 1.0),
                  0.5 + 0.25j], dtype=np.complex128)
    with np.errstate(all="ignore"):
        want = np.log1p(z)
    got = pt.log1p(pt.constant(z, backend="torch")).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)  # NaNs in the same places
    zeros = np.array([complex(0.0, 0.0), complex(-0.0, 0.0), complex(0.0, -0.0), 0.3 - 0.2j])
    got = pt.arccos(pt.constant(zeros, backend="torch")).numpy()
    np.testing.assert_allclose(got, np.arccos(zeros), rtol=1e-12)
    np.testing.assert_array_equal(np.signbit(got.imag[:3]), [True, True, False])


@pytest.mark.parametrize("dtype", ["uint16", "uint32", "uint64"])
def test_unsigned_creation_is_made_wider_and_cast(dtype: str) -> None:
    # torch 2.13 has no arange for uint16/32/64 (array-api-compat >= 1.12 works around it for
    # some, not all versions): polytape makes the values signed and casts.
    from polytape.backends.torch.unsigned import unsigned_retry

    native = getattr(torch, dtype)
    with pytest.raises(RuntimeError, match="not implemented"):
        torch.arange(0, 5, 2, dtype=native)
    done, out = unsigned_retry("arange", torch.arange, (0, 5, 2), {"dtype": native})
    assert done and out.dtype == native and out.to(torch.int64).tolist() == [0, 2, 4]
    assert unsigned_retry("arange", torch.arange, (0, 5), {"dtype": torch.int16}) == (False, None)
