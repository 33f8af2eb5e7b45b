"""Moving tensors between backends (``pt.to_backend``) and mixing them by mistake.

NumPy <-> PyTorch on the CPU must share memory (DLPack); dtypes DLPack cannot
carry (bfloat16 on NumPy) are copied; an op that mixes backends raises
``BackendMismatchError`` naming both backends and the fix, and leaves the tape as it was.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

import polytape as pt

torch = pytest.importorskip("torch")

ALL_DTYPES = [d.name for d in pt.dtypes.all_dtypes]


def _values(dtype: str) -> np.ndarray:
    """A small array of ``dtype`` with distinct, exactly representable values."""
    base = np.array([[0, 1, 2], [3, 4, 5]])
    if dtype == "bool":
        return base % 2 == 1
    if dtype == "bfloat16":
        return (base * 0.5 - 1.0).astype(ml_dtypes.bfloat16)
    if dtype.startswith("float"):
        return (base * 0.5 - 1.0).astype(dtype)
    return base.astype(dtype)


def test_numpy_to_torch_and_back_shares_memory():
    host = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = pt.constant(host, backend="numpy")
    t = pt.to_backend(x, "torch")
    assert t.backend == "torch" and t.dtype is pt.float32 and t.shape == (3, 4)
    assert isinstance(t.data, torch.Tensor)
    assert t.data.data_ptr() == x.data.ctypes.data
    back = pt.to_backend(t, "numpy")
    assert back.backend == "numpy"
    assert np.shares_memory(back.data, x.data)
    np.testing.assert_array_equal(back.numpy(), host)


def test_torch_to_numpy_shares_memory():
    t = pt.constant([[1.0, 2.0], [3.0, 4.0]], dtype=pt.float64, backend="torch")
    n = pt.to_backend(t, "numpy")
    assert isinstance(n.data, np.ndarray)
    assert n.data.ctypes.data == t.data.data_ptr()
    np.testing.assert_array_equal(n.numpy(), [[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("direction", [("numpy", "torch"), ("torch", "numpy")])
def test_every_dtype_survives_the_move(dtype, direction):
    src, dst = direction
    values = _values(dtype)
    x = pt.constant(values, backend=src)
    y = pt.to_backend(x, dst)
    assert y.backend == dst
    assert y.dtype is pt.as_dtype(dtype)
    out = y.numpy()
    assert out.dtype == values.dtype
    np.testing.assert_array_equal(out.astype(np.float64), values.astype(np.float64))


def test_bfloat16_moves_without_dlpack_and_still_shares_host_memory():
    # DLPack cannot carry NumPy's (ml_dtypes) bfloat16; both sides hold the same 16-bit
    # patterns on the host, so the move reinterprets them instead of converting values.
    x = pt.constant(np.array([1.5, -2.25, 3.0], dtype=ml_dtypes.bfloat16), backend="numpy")
    t = pt.to_backend(x, "torch")
    assert t.data.dtype is torch.bfloat16
    np.testing.assert_array_equal(t.numpy().astype(np.float32), [1.5, -2.25, 3.0])
    assert t.data.data_ptr() == x.data.ctypes.data
    back = pt.to_backend(t, "numpy")
    assert back.data.dtype == ml_dtypes.bfloat16
    assert np.shares_memory(back.data, x.data)


def test_numpy_scalar_after_a_full_reduction_moves():
    x = pt.constant(np.array([1.0, 2.0, 4.5], dtype=np.float32), backend="numpy")
    s = pt.sum(x)
    t = pt.to_backend(s, "torch")
    assert t.shape == () and t.dtype is pt.float32
    assert float(t) == 7.5


def test_broadcast_view_moves_with_its_values():
    x = pt.broadcast_to(pt.constant([1.0, 2.0], backend="numpy"), (3, 2))
    t = pt.to_backend(x, "torch")
    np.testing.assert_array_equal(t.numpy(), np.broadcast_to([1.0, 2.0], (3, 2)))
    assert float(pt.sum(t)) == 9.0


def test_same_backend_same_device_returns_the_tensor_itself():
    x = pt.constant([1.0, 2.0], backend="torch")
    assert pt.to_backend(x, "torch") is x
    assert pt.to_backend(x, "torch", device="cpu") is x


def test_same_backend_other_device_moves():
    # "meta" is a real torch device (shapes without data): it shows the move without a GPU.
    x = pt.constant([1.0, 2.0], backend="torch")
    m = pt.to_backend(x, "torch", device="meta")
    assert m.device == "meta" and m.shape == (2,) and m.dtype is pt.float32
    assert x.device == "cpu"


def test_device_in_the_name_and_selected_device_are_honoured():
    x = pt.constant([1.0, 2.0], backend="numpy")
    assert pt.to_backend(x, "torch:meta").device == "meta"
    with pt.use_backend("torch", device="meta"):
        assert pt.to_backend(x, "torch").device == "meta"
    assert pt.to_backend(x, "torch").device == "cpu"


def test_unknown_device_raises_unavailable_and_names_the_devices():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the error path needs a machine without it")
    x = pt.constant([1.0])
    with pytest.raises(pt.BackendUnavailableError, match="cuda") as info:
        pt.to_backend(x, "torch", device="cuda")
    assert "cpu" in str(info.value)


def test_unknown_backend_raises_not_found():
    with pytest.raises(pt.BackendNotFoundError, match="numpy"):
        pt.to_backend(pt.constant([1.0]), "no_such_backend")


def test_variable_moves_as_a_plain_tensor_with_its_current_value():
    v = pt.Variable([1.0, 2.0], backend="numpy")
    v.assign([5.0, 6.0])
    t = pt.to_backend(v, "torch")
    assert type(t) is pt.Tensor
    np.testing.assert_array_equal(t.numpy(), [5.0, 6.0])


def test_non_tensor_values_are_made_on_the_target():
    t = pt.to_backend(np.array([1, 2, 3], dtype=np.int16), "torch")
    assert t.backend == "torch" and t.dtype is pt.int16
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])


def test_moved_tensor_is_not_connected_to_the_tape():
    x = pt.constant([1.0, 2.0], backend="numpy")
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = pt.to_backend(x * 3.0, "torch")
        z = pt.sum(y * y)
    assert tape.gradient(z, x) is None
    del tape


def test_gradients_agree_after_moving_the_inputs():
    host = np.array([0.3, -1.2, 2.0], dtype=np.float64)
    grads = {}
    for name in ("numpy", "torch"):
        x = pt.to_backend(pt.constant(host, backend="numpy"), name)
        with pt.GradientTape() as tape:
            tape.watch(x)
            y = pt.sum(pt.sin(x) * x)
        grads[name] = tape.gradient(y, x).numpy()
    expected = np.sin(host) + host * np.cos(host)
    np.testing.assert_allclose(grads["numpy"], expected, rtol=1e-12)
    np.testing.assert_allclose(grads["torch"], expected, rtol=1e-12)


# -- mixing backends in one op ----------------------------------------------------------------
MIXERS = {
    "add": lambda a, b: a + b,
    "multiply": lambda a, b: pt.multiply(a, b),
    "matmul": lambda a, b: pt.matmul(a, b),
    "maximum": lambda a, b: pt.maximum(a, b),
    "concat": lambda a, b: pt.concat([a, b]),
    "stack": lambda a, b: pt.stack([a, b]),
    "where": lambda a, b: pt.where(pt.constant([True, False], backend=a.backend), a, b),
}


@pytest.mark.parametrize("op", sorted(MIXERS))
@pytest.mark.parametrize("first,second", [("numpy", "torch"), ("torch", "numpy")])
def test_mixing_backends_raises_mismatch_naming_both_and_the_fix(op, first, second):
    a = pt.constant([1.0, 2.0], backend=first)
    b = pt.constant([3.0, 4.0], backend=second)
    with pytest.raises(pt.BackendMismatchError) as info:
        MIXERS[op](a, b)
    message = str(info.value)
    assert repr(first) in message and repr(second) in message
    assert "pt.to_backend(" in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("first,second", [("numpy", "torch"), ("torch", "numpy")])
def test_mismatch_inside_a_tape_leaves_the_tape_unchanged(first, second):
    x = pt.Variable([1.0, 2.0], backend=first)
    other = pt.constant([3.0, 4.0], backend=second)
    with pt.GradientTape() as tape:
        y = x * x
        recorded = len(tape._records)
        with pytest.raises(pt.BackendMismatchError):
            y * other
        with pytest.raises(pt.BackendMismatchError):
            other + x
        assert len(tape._records) == recorded
        z = pt.sum(y)
    np.testing.assert_allclose(tape.gradient(z, x).numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])


def test_variable_assign_from_another_backend_raises_mismatch_and_keeps_the_value():
    v = pt.Variable([1.0, 2.0], backend="torch")
    with pytest.raises(pt.BackendMismatchError, match="to_backend"):
        v.assign(pt.constant([5.0, 6.0], backend="numpy"))
    with pytest.raises(pt.BackendMismatchError):
        v.assign_sub(pt.constant([5.0, 6.0], backend="numpy"))
    assert v.backend == "torch"
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_following_the_advice_in_the_message_works():
    a = pt.constant([1.0, 2.0], backend="numpy")
    b = pt.constant([3.0, 4.0], backend="torch")
    with pytest.raises(pt.BackendMismatchError):
        a + b
    c = a + pt.to_backend(b, "numpy")
    np.testing.assert_array_equal(c.numpy(), [4.0, 6.0])
