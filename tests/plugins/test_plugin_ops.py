"""Plugins that add ops (``registry.add_op``) and per-backend kernels (``registry.add_kernel``),
through the worked example ``examples/plugin_ops.py``."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

import polytape as pt
from polytape.backends.numpy.backend import NumpyBackend
from polytape.optable import OPS, required_kernels
from polytape.plugins import BackendInfo, hookimpl

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "plugin_ops.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("polytape_example_plugin_ops", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example():
    """The example module, registered as a plugin for the test (and unregistered after)."""
    module = _load_example()
    name = pt.plugins.register(module, name="plugin_ops_example")
    try:
        yield module
    finally:
        pt.plugins.unregister(name)


def _swish_reference(x: np.ndarray, beta: float) -> np.ndarray:
    return x / (1.0 + np.exp(-beta * x))


def test_new_op_values_and_gradient_match_finite_differences(example, backend, central_difference):
    rng = np.random.default_rng(7)
    x0 = rng.normal(size=(3, 4)) * 2
    w = rng.normal(size=(3, 4))
    beta = 1.7
    dtype = pt.float64 if pt.float64 in pt.get_backend(backend).native_dtypes else pt.float32
    x = pt.Variable(x0, dtype=dtype)
    with pt.GradientTape() as tape:
        y = pt.sum(example.swish(x, beta) * pt.constant(w, dtype=dtype))
    grad = tape.gradient(y, x)

    def f(v: np.ndarray) -> float:
        return float(np.sum(_swish_reference(v, beta) * w))

    tol = 1e-8 if dtype is pt.float64 else 2e-4
    np.testing.assert_allclose(example.swish(x, beta).numpy(), _swish_reference(x0, beta),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(grad.numpy(), central_difference(f, x0), rtol=tol * 10, atol=tol * 10)


def test_new_op_second_derivative_and_forward_mode(example):
    beta = 0.8
    x0 = np.array([-2.0, -0.3, 0.0, 1.1, 3.0])
    x = pt.Variable(x0, dtype=pt.float64)
    with pt.GradientTape() as outer:
        with pt.GradientTape() as inner:
            y = pt.sum(example.swish(x, beta))
        first = inner.gradient(y, x)
    second = outer.gradient(first, x)

    def slope(v: np.ndarray) -> np.ndarray:
        s = 1 / (1 + np.exp(-beta * v))
        return s + beta * v * s * (1 - s)

    np.testing.assert_allclose(first.numpy(), slope(x0), rtol=1e-12)
    # The second derivative by central differences of the (closed-form) first derivative.
    h = 1e-5
    np.testing.assert_allclose(second.numpy(), (slope(x0 + h) - slope(x0 - h)) / (2 * h), rtol=1e-7,
                               atol=1e-9)
    tangent = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
    with pt.ForwardAccumulator(x, pt.constant(tangent, dtype=pt.float64)) as acc:
        out = example.swish(x, beta)
    np.testing.assert_allclose(acc.jvp(out).numpy(), slope(x0) * tangent, rtol=1e-12)


def test_new_op_is_gone_after_unregister():
    module = _load_example()
    name = pt.plugins.register(module, name="plugin_ops_example")
    assert float(module.swish(pt.constant(1.0), 2.0)) == pytest.approx(1 / (1 + np.exp(-2.0)), rel=1e-6)
    pt.plugins.unregister(name)
    with pytest.raises(pt.InvalidArgumentError, match="no op named 'swish'"):
        module.swish(pt.constant(1.0))


def test_a_plugin_cannot_redefine_an_op_or_add_one_without_a_default_kernel():
    class Redefines:
        @hookimpl
        def polytape_register_ops(self, registry):
            registry.add_op("sin", vjp=lambda ns, g, ans, x: g, default_kernel=lambda k, x: x)

    class NoDefault:
        @hookimpl
        def polytape_register_ops(self, registry):
            registry.add_op("halfop", vjp=lambda ns, g, ans, x: g)

    with pytest.raises(pt.PluginError, match="op 'sin' already exists"):
        pt.plugins.register(Redefines(), name="redefines")
    with pytest.raises(pt.PluginError, match="needs a default_kernel"):
        pt.plugins.register(NoDefault(), name="nodefault")
    assert "halfop" not in OPS and "halfop" not in required_kernels()
    assert np.allclose(pt.sin(pt.constant([0.5])).numpy(), np.sin(0.5))


class _TwinPlugin:
    """A second NumPy-kernel backend (test double) to show an override stays on its backend."""

    @hookimpl
    def polytape_register_backends(self, registry):
        class Twin(NumpyBackend):
            name = "kernel_twin"

        registry.add(BackendInfo(name="kernel_twin", factory=Twin))


def test_kernel_override_is_used_on_its_backend_only(monkeypatch):
    module = _load_example()
    calls = []
    fused = module.fused_softmax

    def counting(x, axis):
        calls.append(x.shape)
        return fused(x, axis)

    monkeypatch.setattr(module, "fused_softmax", counting)
    twin = pt.plugins.register(_TwinPlugin(), name="kernel_twin_plugin")
    try:
        logits = np.array([[1.0, 2.0, 3.0], [0.5, -np.inf, 0.5]])
        expected = np.exp(logits - logits.max(axis=1, keepdims=True))
        expected /= expected.sum(axis=1, keepdims=True)

        before = pt.softmax(pt.constant(logits, backend="numpy")).numpy()
        assert calls == []
        name = pt.plugins.register(module, name="plugin_ops_example")
        try:
            assert pt.get_backend("numpy").kernels["softmax"] is counting
            on_numpy = pt.softmax(pt.constant(logits, backend="numpy")).numpy()
            assert calls == [(2, 3)]
            on_twin = pt.softmax(pt.constant(logits, backend="kernel_twin")).numpy()
            assert calls == [(2, 3)]  # the twin runs the default kernel
            assert pt.get_backend("kernel_twin").kernels["softmax"] is not counting
            # Gradients still flow through the op's own VJP rule.
            x = pt.Variable(logits[:1])
            with pt.GradientTape() as tape:
                y = pt.sum(pt.softmax(x) * pt.constant([[1.0, 0.0, 0.0]], dtype=pt.float64))
            p = expected[0]
            np.testing.assert_allclose(tape.gradient(y, x).numpy()[0],
                                       p[0] * (np.eye(3)[0] - p), rtol=1e-12)
        finally:
            pt.plugins.unregister(name)
        pt.softmax(pt.constant(logits, backend="numpy"))
        assert len(calls) == 2  # the gradient's forward pass; nothing after unregister
    finally:
        pt.plugins.unregister(twin)
    for got in (before, on_numpy, on_twin):
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_a_kernel_for_an_op_nobody_declared_is_rejected_with_the_op_name():
    class Typo:
        @hookimpl
        def polytape_register_ops(self, registry):
            registry.add_kernel("numpy", "sofmax", lambda x, axis: x)

    with pytest.raises(pt.PluginError, match="'sofmax'"):
        pt.plugins.register(Typo(), name="typo_kernel")
    assert "sofmax" not in pt.get_backend("numpy").kernels
