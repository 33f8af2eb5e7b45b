"""Seed 004's polynomial fit: 1000 Nadam steps (learning rate 0.01) on 20 noisy samples.

Recovers ``f(x) = x**2 + 2x + 3``: features ``[x**2, x, 1]`` (20x3), weights 3x1,
loss ``sum((y - x @ w)**2)``. Each call runs the whole fit from the same start.
polytape uses its own ``Nadam`` when it has one (``polytape.optimizers`` or
``polytape.nn.optimizers``); otherwise it, and every peer, runs the same inline
update, :class:`InlineNadam` (Keras's Nadam, epsilon 1e-7).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

NAME = "poly1000"
DESCRIPTION = "seed 004: polynomial fit, Nadam(lr=0.01), 1000 steps (float32)"
RTOL = 1e-2
STEPS = 1000
LR = 0.01


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(features 20x3, targets 20x1, initial weights 3x1)``, float32, the same every call."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((20, 1))
    y = np.poly1d([1, 2, 3])(x) + 0.2 * rng.standard_normal((20, 1))
    w0 = rng.standard_normal((3, 1))
    features = np.hstack([x**2, x, np.ones_like(x)])
    return features.astype(np.float32), y.astype(np.float32), w0.astype(np.float32)


class InlineNadam:
    """Keras's Nadam update on any array type with Python operators and a ``sqrt``.

    ``delta(g)`` returns what to subtract from the weights and updates the moments.
    """

    def __init__(self, sqrt: Callable[[Any], Any], zeros: Any, lr: float = LR,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7) -> None:
        self.sqrt = sqrt
        self.m = zeros
        self.v = zeros
        self.lr, self.b1, self.b2, self.eps = lr, beta_1, beta_2, epsilon
        self.t = 0
        self.u_product = 1.0

    def delta(self, g: Any) -> Any:
        self.t += 1
        b1, b2 = self.b1, self.b2
        u_t = b1 * (1.0 - 0.5 * 0.96 ** (0.004 * self.t))
        u_next = b1 * (1.0 - 0.5 * 0.96 ** (0.004 * (self.t + 1)))
        u_prod = self.u_product * u_t
        u_prod_next = u_prod * u_next
        self.u_product = u_prod
        self.m = self.m + (g - self.m) * (1.0 - b1)
        self.v = self.v + (g * g - self.v) * (1.0 - b2)
        m_hat = self.m * (u_next / (1.0 - u_prod_next)) + g * ((1.0 - u_t) / (1.0 - u_prod))
        v_hat = self.v * (1.0 / (1.0 - b2**self.t))
        return m_hat * self.lr / (self.sqrt(v_hat) + self.eps)


def polytape_nadam() -> Any:
    """polytape's own Nadam class, or None while it has none."""
    for name in ("polytape.optimizers", "polytape.nn.optimizers"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        cls = getattr(module, "Nadam", None)
        if cls is not None:
            return cls
    return None


def variant(impl: Any) -> str:
    traced = {"polytape_function": "pt.optimizers.Nadam step under pt.function",
              "tf_function": "tf.keras.optimizers.Nadam step under tf.function",
              "jax_jit": "jax.jit of grad + the inline Nadam update"}
    if impl.kind in traced:
        return traced[impl.kind]
    if impl.kind == "polytape" and polytape_nadam() is not None:
        cls = polytape_nadam()
        return f"{cls.__module__}.Nadam"
    return "inline Keras Nadam (benchmarks.workloads.poly1000.InlineNadam)"


def polytape(backend: str) -> Callable[[], Any]:
    import polytape as pt

    xn, yn, w0 = data()
    with pt.use_backend(backend):
        x, y = pt.constant(xn), pt.constant(yn)
        w = pt.Variable(w0)
    nadam = polytape_nadam()

    def run() -> Any:
        w.assign(w0)
        if nadam is not None:
            opt = nadam(learning_rate=LR)
            for _ in range(STEPS):
                with pt.GradientTape() as tape:
                    mse = pt.sum(pt.square(y - x @ w))
                opt.apply_gradients([(tape.gradient(mse, w), w)])
        else:
            opt = InlineNadam(pt.sqrt, pt.zeros_like(w))
            for _ in range(STEPS):
                with pt.GradientTape() as tape:
                    mse = pt.sum(pt.square(y - x @ w))
                w.assign_sub(opt.delta(tape.gradient(mse, w)))
        return w.read_value()
    return run


def polytape_function(backend: str) -> Callable[[], Any]:
    import polytape as pt

    xn, yn, w0 = data()
    with pt.use_backend(backend):
        x, y = pt.constant(xn), pt.constant(yn)
        w = pt.Variable(w0)

    def run() -> Any:
        w.assign(w0)
        opt = pt.optimizers.Nadam(learning_rate=LR)

        @pt.function  # a new optimizer per fit, so a new function: one trace per fit
        def step(x: Any, y: Any) -> None:
            with pt.GradientTape() as tape:
                mse = pt.sum(pt.square(y - x @ w))
            opt.apply_gradients([(tape.gradient(mse, w), w)])

        for _ in range(STEPS):
            step(x, y)
        return w.read_value()
    return run


def tf_function() -> Callable[[], Any]:
    import tensorflow as tf

    xn, yn, w0 = data()
    x, y = tf.constant(xn), tf.constant(yn)
    w = tf.Variable(w0)

    def run() -> Any:
        w.assign(w0)
        opt = tf.keras.optimizers.Nadam(learning_rate=LR)

        @tf.function  # a new optimizer per fit, so a new function: one trace per fit
        def step(x: Any, y: Any) -> None:
            with tf.GradientTape() as tape:
                mse = tf.reduce_sum(tf.square(y - x @ w))
            opt.apply_gradients([(tape.gradient(mse, w), w)])

        for _ in range(STEPS):
            step(x, y)
        return w.read_value()
    return run


def jax_jit() -> Callable[[], Any]:
    import jax
    import jax.numpy as jnp

    xn, yn, w0 = data()
    x, y = jnp.asarray(xn), jnp.asarray(yn)
    grad = jax.grad(lambda w: jnp.sum(jnp.square(y - x @ w)))

    @jax.jit
    def step(w: Any, m: Any, v: Any, t: Any, u_product: Any) -> Any:
        # InlineNadam's update with its Python counters as traced values.
        g = grad(w)
        b1, b2 = 0.9, 0.999
        u_t = b1 * (1.0 - 0.5 * 0.96 ** (0.004 * t))
        u_next = b1 * (1.0 - 0.5 * 0.96 ** (0.004 * (t + 1)))
        u_prod = u_product * u_t
        m = m + (g - m) * (1.0 - b1)
        v = v + (g * g - v) * (1.0 - b2)
        m_hat = m * (u_next / (1.0 - u_prod * u_next)) + g * ((1.0 - u_t) / (1.0 - u_prod))
        v_hat = v * (1.0 / (1.0 - b2**t))
        return w - m_hat * LR / (jnp.sqrt(v_hat) + 1e-7), m, v, u_prod

    def run() -> Any:
        w, m, v, u = jnp.asarray(w0), jnp.zeros_like(w0), jnp.zeros_like(w0), jnp.float32(1.0)
        for t in range(1, STEPS + 1):
            w, m, v, u = step(w, m, v, jnp.float32(t), u)
        return w.block_until_ready()
    return run


def torch() -> Callable[[], Any]:
    import torch as th

    xn, yn, w0 = data()
    x, y = th.tensor(xn), th.tensor(yn)
    w = th.tensor(w0, requires_grad=True)

    def run() -> Any:
        with th.no_grad():
            w.copy_(th.from_numpy(w0))
        opt = InlineNadam(th.sqrt, th.zeros_like(w))
        for _ in range(STEPS):
            mse = th.sum(th.square(y - x @ w))
            (g,) = th.autograd.grad(mse, w)
            with th.no_grad():
                w.sub_(opt.delta(g))
        return w.detach().clone()
    return run


def autograd() -> Callable[[], Any]:
    import autograd as ag
    import autograd.numpy as anp

    x, y, w0 = data()
    dmse = ag.grad(lambda w: anp.sum(anp.square(y - anp.dot(x, w))))

    def run() -> Any:
        w = w0.copy()
        opt = InlineNadam(np.sqrt, np.zeros_like(w))
        for _ in range(STEPS):
            w -= opt.delta(dmse(w))
        return w
    return run


def tensorflow() -> Callable[[], Any]:
    import tensorflow as tf

    xn, yn, w0 = data()
    x, y = tf.constant(xn), tf.constant(yn)
    w = tf.Variable(w0)

    def run() -> Any:
        w.assign(w0)
        opt = InlineNadam(tf.sqrt, tf.zeros_like(w))
        for _ in range(STEPS):
            with tf.GradientTape() as tape:
                mse = tf.reduce_sum(tf.square(y - x @ w))
            w.assign_sub(opt.delta(tape.gradient(mse, w)))
        return w.read_value()
    return run


def numpy() -> Callable[[], Any]:
    x, y, w0 = data()
    xt2 = np.float32(-2.0) * x.T

    def run() -> Any:
        w = w0.copy()
        opt = InlineNadam(np.sqrt, np.zeros_like(w))
        for _ in range(STEPS):
            r = y - x @ w
            mse = np.sum(r * r)  # noqa: F841  (the loss is part of the step)
            w -= opt.delta(xt2 @ r)
        return w
    return run
