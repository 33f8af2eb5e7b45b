"""The CuPy backend: unavailable here with the reason, its CuPy-specific code paths
exercised against a NumPy test double, and real-GPU tests that run where CuPy sees a
CUDA device (``python -m pytest -m requires_gpu``).

``FakeCupyModule`` is a test double, not evidence that CuPy works: it stands in for
the GPU so the backend's own branches (device naming, device contexts, the
``cupyx.scatter_add`` and ``erf`` wiring, ``asnumpy``, availability probing) run
here. Only the ``requires_gpu`` tests show the backend on real hardware.
"""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
import types

import array_api_compat.numpy
import numpy as np
import pytest

import polytape as pt
from polytape.backends.cupy.backend import (
    NO_DEVICE,
    NOT_INSTALLED,
    CupyBackend,
    count_devices,
    import_cupy,
)


def _cupy_status() -> tuple[bool, str]:
    return next((s.available, s.reason) for s in pt.list_backends() if s.name == "cupy")


CUPY_AVAILABLE, CUPY_REASON = _cupy_status()
needs_no_gpu = pytest.mark.skipif(CUPY_AVAILABLE, reason="cupy sees a CUDA device here: the "
                                  "unavailable paths cannot be observed (see the requires_gpu tests)")


# == the test double ===========================================================================
class FakeDevice:
    """Test double for ``cupy.cuda.Device``: ``with FakeDevice(i):`` makes device ``i`` current."""

    current = 0
    entered: list[int] = []
    synchronized: list[int] = []

    def __init__(self, device_id: int | None = None) -> None:
        self.id = FakeDevice.current if device_id is None else int(device_id)

    def __enter__(self) -> FakeDevice:
        self._previous = FakeDevice.current
        FakeDevice.current = self.id
        FakeDevice.entered.append(self.id)
        return self

    def __exit__(self, *exc: object) -> None:
        FakeDevice.current = self._previous

    def synchronize(self) -> None:
        FakeDevice.synchronized.append(self.id)


class FakeDeviceArray(np.ndarray):
    """Test double for ``cupy.ndarray``: a NumPy array that remembers its (fake) device."""

    def __array_finalize__(self, obj: object) -> None:
        self.device_id = getattr(obj, "device_id", FakeDevice.current)

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        out = super().__array_wrap__(arr, context, return_scalar)
        if isinstance(out, FakeDeviceArray):
            out.device_id = self.device_id
        return out

    @property
    def device(self) -> FakeDevice:
        return FakeDevice(self.device_id)


def _on_fake_device(value):
    """NumPy results as CuPy would give them: arrays (never scalars) on the current device."""
    if isinstance(value, FakeDeviceArray):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value).view(FakeDeviceArray)
    if isinstance(value, (tuple, list)):
        return type(value)(_on_fake_device(v) for v in value)
    return value


class FakeCupyModule(types.ModuleType):
    """Test double for the ``cupy`` module: NumPy underneath, ``n_devices`` fake GPUs.

    ``device_count_error`` makes ``cuda.runtime.getDeviceCount`` raise it (no driver).
    """

    def __init__(self, n_devices: int = 1, device_count_error: Exception | None = None) -> None:
        super().__init__("cupy")
        self.__version__ = "0.0-fake"
        self.ndarray = FakeDeviceArray
        self.asnumpy_calls = 0

        def get_device_count() -> int:
            if device_count_error is not None:
                raise device_count_error
            return n_devices

        self.cuda = types.SimpleNamespace(
            Device=FakeDevice, runtime=types.SimpleNamespace(getDeviceCount=get_device_count))

    def __getattr__(self, name: str):
        # The double is also the backend's standard namespace (array-api-compat's view of the
        # real cupy): names NumPy < 2 lacks (asin, permute_dims...) come from array-api-compat.
        attr = getattr(np, name) if hasattr(np, name) else getattr(array_api_compat.numpy, name)
        if callable(attr) and not isinstance(attr, type):
            def on_device(*args, **kwargs):
                if "device" in kwargs and kwargs["device"] is None:
                    del kwargs["device"]  # the current device; NumPy < 2 has no such argument
                return _on_fake_device(attr(*args, **kwargs))
            return on_device
        return attr

    def asnumpy(self, arr) -> np.ndarray:
        self.asnumpy_calls += 1
        return np.array(arr, subok=False)

    def array(self, obj, dtype=None, copy=True):
        return np.array(np.asarray(obj), dtype=dtype, copy=copy).view(FakeDeviceArray)

    def from_dlpack(self, obj):
        return np.from_dlpack(obj).view(FakeDeviceArray)


class FakeCupyxModule(types.ModuleType):
    """Test double for ``cupyx``: ``scatter_add`` and ``scipy.special.erf``, counting calls."""

    def __init__(self) -> None:
        super().__init__("cupyx")
        self.scatter_add_calls = 0
        self.erf_calls = 0

        def erf(x):
            self.erf_calls += 1
            return _on_fake_device(np.vectorize(math.erf, otypes=[np.float64])(x))

        self.scipy = types.SimpleNamespace(special=types.SimpleNamespace(erf=erf))

    def scatter_add(self, out, index, values) -> None:
        self.scatter_add_calls += 1
        np.add.at(out, index, values)


@pytest.fixture
def fake():
    """A :class:`CupyBackend` built on the test doubles, with two fake devices."""
    FakeDevice.current, FakeDevice.entered, FakeDevice.synchronized = 0, [], []
    cupy, cupyx = FakeCupyModule(n_devices=2), FakeCupyxModule()
    backend = CupyBackend(cupy=cupy, cupyx=cupyx)
    yield types.SimpleNamespace(backend=backend, cupy=cupy, cupyx=cupyx)
    FakeDevice.current = 0


# == without cupy, or without a GPU: unavailable, with the reason ==============================
@needs_no_gpu
def test_listed_unavailable_with_the_reason():
    expected = NOT_INSTALLED if importlib.util.find_spec("cupy") is None else NO_DEVICE
    assert not CUPY_AVAILABLE
    assert CUPY_REASON.startswith(expected)


@needs_no_gpu
@pytest.mark.parametrize("use", ["constant", "set_backend", "use_backend", "get_backend"])
def test_using_it_raises_unavailable_with_the_reason(use):
    before = pt.current_backend()
    action = {
        "constant": lambda: pt.constant(1.0, backend="cupy"),
        "set_backend": lambda: pt.set_backend("cupy"),
        "use_backend": lambda: pt.use_backend("cupy").__enter__(),
        "get_backend": lambda: pt.get_backend("cupy"),
    }[use]
    with pytest.raises(pt.BackendUnavailableError) as info:
        action()
    assert CUPY_REASON in str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert pt.current_backend() is before


def test_missing_cupy_is_reported_as_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` raise ImportError
    with pytest.raises(pt.BackendUnavailableError) as info:
        import_cupy()
    assert str(info.value) == "cupy is not installed (pip install polytape[cupy])"


def test_the_plugin_module_does_not_import_cupy():
    code = ("import sys, polytape as pt\n"
            "import polytape.backends.cupy.plugin, polytape.backends.cupy.backend\n"
            "pt.constant(1.0)\n"
            "print('cupy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# == availability probing ========================================================================
def test_zero_devices_is_unavailable_with_no_cuda_device():
    backend = CupyBackend(cupy=FakeCupyModule(n_devices=0), cupyx=FakeCupyxModule())
    assert backend.is_available() == (False, "no CUDA device")
    assert backend.devices() == []


def test_n_devices_are_available_and_named():
    backend = CupyBackend(cupy=FakeCupyModule(n_devices=3), cupyx=FakeCupyxModule())
    assert backend.is_available() == (True, "")
    assert backend.devices() == ["cuda:0", "cuda:1", "cuda:2"]


def test_a_failing_device_query_is_unavailable_and_says_why():
    cupy = FakeCupyModule(device_count_error=RuntimeError("cudaErrorNoDevice: no CUDA-capable device"))
    n, reason = count_devices(cupy)
    assert n == 0
    assert reason.startswith("no CUDA device") and "cudaErrorNoDevice" in reason
    backend = CupyBackend(cupy=cupy, cupyx=FakeCupyxModule())
    assert backend.is_available()[0] is False


def test_registry_reports_an_unavailable_backend_and_raises_on_use():
    # The same path `pt.list_backends()` takes, with the double behind the factory.
    from polytape.plugins import BackendInfo, hookimpl, register, unregister

    class NoGpuPlugin:
        @hookimpl
        def polytape_register_backends(self, registry):
            registry.add(BackendInfo(name="cupy_double", priority=-1, factory=lambda: CupyBackend(
                cupy=FakeCupyModule(n_devices=0), cupyx=FakeCupyxModule())))

    register(NoGpuPlugin(), name="cupy-double-plugin")
    try:
        status = {s.name: s for s in pt.list_backends()}["cupy_double"]
        assert (status.available, status.reason) == (False, "no CUDA device")
        with pytest.raises(pt.BackendUnavailableError, match="no CUDA device"):
            pt.constant(1.0, backend="cupy_double")
    finally:
        unregister("cupy-double-plugin")


# == device naming and placement =================================================================
def test_device_names(fake):
    be = fake.backend
    assert be.normalize_device("cuda:1") == "cuda:1"
    assert be.normalize_device("CUDA:0") == "cuda:0"
    assert be.normalize_device("1") == "cuda:1"
    assert be.normalize_device("cuda") == "cuda:0"
    with FakeDevice(1):
        assert be.normalize_device("gpu") == "cuda:1"
        assert be.normalize_device(None) == "cuda:1"
    for bad in ("cpu", "cuda:2", "cuda:x", "mps"):
        with pytest.raises(pt.BackendUnavailableError, match="cuda:0"):
            be.normalize_device(bad)


def test_asarray_places_on_the_named_device_and_moves_between_devices(fake):
    be = fake.backend
    a = be.asarray([1.0, 2.0], pt.float32, "cuda:1")
    assert be.device_of(a) == "cuda:1" and a.dtype == np.float32
    b = be.asarray(a, None, "cuda:0")
    assert be.device_of(b) == "cuda:0" and be.device_of(a) == "cuda:1"
    np.testing.assert_array_equal(be.to_numpy(b), [1.0, 2.0])
    assert be.device_of(be.asarray(3)) == "cuda:0"


def test_front_end_tensors_report_cuda_devices(fake):
    x = pt.constant([1.0, 2.0], backend=fake.backend, device="cuda:1")
    assert x.backend == "cupy" and x.device == "cuda:1"
    with pt.use_backend(fake.backend, "cuda:1"):
        z = pt.zeros((2, 2))
        o = pt.ones_like(pt.constant([1.0]))
    assert z.device == "cuda:1" and o.device == "cuda:1"
    assert pt.zeros(2, backend=fake.backend).device == "cuda:0"


def test_creation_kernels_enter_the_selected_device(fake):
    be = fake.backend
    with pt.use_backend(be, "cuda:1"):
        arr = be.kernels["zeros"]((3,), np.dtype(np.float32))
    assert be.device_of(arr) == "cuda:1" and 1 in FakeDevice.entered
    assert be.device_of(be.kernels["ones"]((2,), np.dtype(np.int32))) == "cuda:0"


def test_backward_pass_constants_land_on_the_device_of_their_model(fake):
    be = fake.backend
    x = be.asarray([[1.0, 2.0]], pt.float32, "cuda:1")
    ones = be.constant_like(1, x)
    assert be.device_of(ones) == "cuda:1" and ones.shape == (1, 2) and ones.dtype == np.float32
    np.testing.assert_array_equal(be.to_numpy(ones), [[1.0, 1.0]])
    assert FakeDevice.current == 0


def test_bfloat16_is_not_offered(fake):
    assert pt.bfloat16 not in fake.backend.supported_dtypes()
    with pytest.raises(pt.DTypeError, match="bfloat16"):
        fake.backend.native_dtype(pt.bfloat16)


def test_synchronize_waits_on_every_device(fake):
    fake.backend.synchronize()
    assert FakeDevice.synchronized == [0, 1]


# == the CuPy-specific kernels: scatter_add, erf, asnumpy ========================================
def test_integer_array_index_add_goes_through_cupyx_scatter_add(fake):
    be = fake.backend
    base = be.asarray(np.zeros(4, np.float32))
    out = be.kernels["index_add"](base, be.asarray(np.array([1.0, 2.0, 3.0], np.float32)),
                                  index=(be.asarray(np.array([1, 3, 1])),))
    assert fake.cupyx.scatter_add_calls == 1
    np.testing.assert_array_equal(be.to_numpy(out), [0.0, 4.0, 0.0, 2.0])
    np.testing.assert_array_equal(be.to_numpy(base), np.zeros(4))
    be.kernels["index_add"](base, be.asarray(np.float32(1.0)), index=(slice(0, 2),))
    assert fake.cupyx.scatter_add_calls == 1  # a basic index cannot repeat: no scatter needed


def test_gradient_of_a_repeated_gather_runs_the_scatter_add(fake):
    x = pt.constant([10.0, 20.0, 30.0], backend=fake.backend)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = pt.sum(x[[0, 2, 2]] * pt.constant([1.0, 2.0, 3.0], backend=fake.backend))
    g = tape.gradient(y, x)
    assert fake.cupyx.scatter_add_calls >= 1
    np.testing.assert_array_equal(g.numpy(), [1.0, 0.0, 5.0])
    assert g.backend == "cupy"


def test_erf_comes_from_cupyx_scipy_special(fake):
    be = fake.backend
    x = np.array([-1.0, 0.0, 0.5], np.float32)
    out = be.kernels["erf"](be.asarray(x))
    assert fake.cupyx.erf_calls == 1
    assert out.dtype == np.float32
    np.testing.assert_allclose(be.to_numpy(out), [math.erf(v) for v in x], rtol=1e-6)


def test_to_numpy_uses_asnumpy(fake):
    be = fake.backend
    host = be.to_numpy(be.asarray([1.5, 2.5], pt.float64))
    assert fake.cupy.asnumpy_calls == 1
    assert type(host) is np.ndarray
    np.testing.assert_array_equal(host, [1.5, 2.5])


def test_numpy_scalars_go_through_dlpack_as_arrays(fake):
    arr = fake.backend.from_dlpack(np.float32(2.5))
    assert arr.shape == () and float(arr) == 2.5


# == on a real GPU (skipped with the reason elsewhere; run with `pytest -m requires_gpu`) =========
@pytest.mark.requires_gpu
def test_gpu_cupy_is_listed_available_with_cuda_devices():
    import cupy

    status = {s.name: s for s in pt.list_backends()}["cupy"]
    assert status.available, status.reason
    assert status.version == cupy.__version__
    assert status.devices[0] == "cuda:0"


@pytest.mark.requires_gpu
def test_gpu_gradients_agree_with_numpy():
    host = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]], dtype=np.float64)
    results = {}
    for name in ("numpy", "cupy"):
        with pt.use_backend(name):
            x = pt.Variable(host)
            with pt.GradientTape() as tape:
                y = pt.sum(pt.erf(x) * pt.exp(x[:, pt.constant([0, 2, 2])]))
            results[name] = (y.numpy(), tape.gradient(y, x).numpy(), x.device)
    np.testing.assert_allclose(results["cupy"][0], results["numpy"][0], rtol=1e-12)
    np.testing.assert_allclose(results["cupy"][1], results["numpy"][1], rtol=1e-12)
    assert results["cupy"][2] == "cuda:0"


@pytest.mark.requires_gpu
def test_gpu_index_add_accumulates_repeated_positions():
    be = pt.get_backend("cupy")
    out = be.kernels["index_add"](be.asarray(np.zeros(3, np.float32)),
                                  be.asarray(np.ones(4, np.float32)),
                                  index=(be.asarray(np.array([0, 2, 2, 2])),))
    np.testing.assert_array_equal(be.to_numpy(out), [1.0, 0.0, 3.0])
    be.synchronize()


@pytest.mark.requires_gpu
def test_gpu_moves_to_and_from_numpy_keep_values():
    x = pt.constant(np.arange(6, dtype=np.float32).reshape(2, 3), backend="numpy")
    g = pt.to_backend(x, "cupy")
    assert g.backend == "cupy" and g.device.startswith("cuda:")
    back = pt.to_backend(g * 2.0, "numpy")
    np.testing.assert_array_equal(back.numpy(), np.arange(6, dtype=np.float32).reshape(2, 3) * 2)
