"""A 64x64 Jacobian: ``d tanh(W @ x) / dx`` with ``W`` 64x64 and ``x`` 64 float32s.

A tape computes it one row at a time (64 backward passes) unless the library
vectorises over the rows (polytape does, eager and under ``pt.function``); the closed
form is ``(1 - y**2)[:, None] * W``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

NAME = "jacobian"
DESCRIPTION = "64x64 Jacobian of tanh(W @ x) (float32)"
RTOL = 1e-4
N = 64


def data() -> tuple[np.ndarray, np.ndarray]:
    """``(W, x)``: a 64x64 matrix scaled to keep tanh off saturation, and a point."""
    rng = np.random.default_rng(1)
    w = (rng.standard_normal((N, N)) / np.sqrt(N)).astype(np.float32)
    x = rng.standard_normal(N).astype(np.float32)
    return w, x


def variant(impl: Any) -> str:
    return {"polytape": "GradientTape.jacobian (one batched backward pass over the rows)",
            "polytape_function": "GradientTape.jacobian under pt.function (one batched pass)",
            "tf_function": "GradientTape.jacobian (pfor) under tf.function",
            "jax_jit": "jax.jit(jax.jacrev)",
            "torch": "torch.autograd.functional.jacobian(vectorize=True)",
            "autograd": "autograd.jacobian",
            "tensorflow": "GradientTape.jacobian (pfor)",
            "numpy": "closed form"}.get(impl.kind, "")


def polytape(backend: str) -> Callable[[], Any]:
    import polytape as pt

    wn, xn = data()
    with pt.use_backend(backend):
        w, x = pt.constant(wn), pt.constant(xn)

    def run() -> Any:
        with pt.GradientTape() as tape:
            tape.watch(x)
            y = pt.tanh(w @ x)
        return tape.jacobian(y, x)
    return run


def polytape_function(backend: str) -> Callable[[], Any]:
    import polytape as pt

    wn, xn = data()
    with pt.use_backend(backend):
        w, x = pt.constant(wn), pt.constant(xn)

    @pt.function
    def jacobian(x: Any) -> Any:
        with pt.GradientTape() as tape:
            tape.watch(x)
            y = pt.tanh(w @ x)
        return tape.jacobian(y, x)
    return lambda: jacobian(x)


def tf_function() -> Callable[[], Any]:
    import tensorflow as tf

    wn, xn = data()
    w, x = tf.constant(wn), tf.constant(xn[:, None])

    @tf.function
    def jacobian(x: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.tanh(w @ x)[:, 0]
        return tf.reshape(tape.jacobian(y, x), (N, N))
    return lambda: jacobian(x)


def jax_jit() -> Callable[[], Any]:
    import jax
    import jax.numpy as jnp

    wn, xn = data()
    w, x = jnp.asarray(wn), jnp.asarray(xn)
    jacobian = jax.jit(jax.jacrev(lambda v: jnp.tanh(w @ v)))
    return lambda: jacobian(x).block_until_ready()


def torch() -> Callable[[], Any]:
    import torch as th

    wn, xn = data()
    w, x = th.tensor(wn), th.tensor(xn)

    def f(v: Any) -> Any:
        return th.tanh(w @ v)
    return lambda: th.autograd.functional.jacobian(f, x, vectorize=True)


def autograd() -> Callable[[], Any]:
    import autograd as ag
    import autograd.numpy as anp

    w, x = data()
    jac = ag.jacobian(lambda v: anp.tanh(anp.dot(w, v)))
    return lambda: jac(x)


def tensorflow() -> Callable[[], Any]:
    import tensorflow as tf

    wn, xn = data()
    w, x = tf.constant(wn), tf.constant(xn[:, None])

    def run() -> Any:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.tanh(w @ x)[:, 0]
        return tf.reshape(tape.jacobian(y, x), (N, N))
    return run


def numpy() -> Callable[[], Any]:
    w, x = data()

    def run() -> Any:
        y = np.tanh(w @ x)
        return (1 - y * y)[:, None] * w
    return run
