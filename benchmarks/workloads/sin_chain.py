"""``y = sin(y) * 1.01`` repeated, then the gradient of ``sum(y)``: the builders that
:mod:`chain100` (many tiny ops) and :mod:`big_chain` (few large ones) share.

Each builder takes the number of steps and the input array.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

SCALE = np.float32(1.01)


def polytape(backend: str, steps: int, x0: np.ndarray) -> Callable[[], Any]:
    import polytape as pt

    x = pt.constant(x0, backend=backend)

    def run() -> Any:
        with pt.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _ in range(steps):
                y = pt.sin(y) * 1.01
            s = pt.sum(y)
        return tape.gradient(s, x)
    return run


def polytape_function(backend: str, steps: int, x0: np.ndarray) -> Callable[[], Any]:
    import polytape as pt

    x = pt.constant(x0, backend=backend)

    @pt.function
    def grad(x: Any) -> Any:
        with pt.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _ in range(steps):
                y = pt.sin(y) * 1.01
            s = pt.sum(y)
        return tape.gradient(s, x)
    return lambda: grad(x)


def tf_function(steps: int, x0: np.ndarray) -> Callable[[], Any]:
    import tensorflow as tf

    x = tf.constant(x0)

    @tf.function
    def grad(x: Any) -> Any:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _ in range(steps):
                y = tf.sin(y) * 1.01
            s = tf.reduce_sum(y)
        return tape.gradient(s, x)
    return lambda: grad(x)


def jax_jit(steps: int, x0: np.ndarray) -> Callable[[], Any]:
    import jax
    import jax.numpy as jnp

    def f(y: Any) -> Any:
        for _ in range(steps):
            y = jnp.sin(y) * SCALE
        return jnp.sum(y)
    grad = jax.jit(jax.grad(f))
    x = jnp.asarray(x0)
    return lambda: grad(x).block_until_ready()


def torch(steps: int, x0: np.ndarray) -> Callable[[], Any]:
    import torch as th

    x = th.tensor(x0, requires_grad=True)

    def run() -> Any:
        y = x
        for _ in range(steps):
            y = th.sin(y) * 1.01
        return th.autograd.grad(y.sum(), x)[0]
    return run


def autograd(steps: int, x0: np.ndarray) -> Callable[[], Any]:
    import autograd as ag
    import autograd.numpy as anp

    def f(y: Any) -> Any:
        for _ in range(steps):
            y = anp.sin(y) * SCALE
        return anp.sum(y)

    df = ag.grad(f)
    x = x0.copy()
    return lambda: df(x)


def tensorflow(steps: int, x0: np.ndarray) -> Callable[[], Any]:
    import tensorflow as tf

    x = tf.constant(x0)

    def run() -> Any:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _ in range(steps):
                y = tf.sin(y) * 1.01
            s = tf.reduce_sum(y)
        return tape.gradient(s, x)
    return run


def numpy(steps: int, x0: np.ndarray) -> Callable[[], Any]:
    x = x0.copy()
    return lambda: manual_backward(*manual_forward(x, steps))


def manual_forward(x: np.ndarray, steps: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Forward, keeping what the backward needs: each sin's input (and the output's shape)."""
    inputs = []
    y = x
    for _ in range(steps):
        inputs.append(y)
        y = np.sin(y) * SCALE
    return inputs, y


def manual_backward(inputs: list[np.ndarray], y: np.ndarray) -> np.ndarray:
    """Backward in place, dropping each saved input once used (``inputs`` ends empty)."""
    g = np.full(y.shape, SCALE, dtype=y.dtype)
    while inputs:
        a = inputs.pop()
        g *= np.cos(a)
        if inputs:
            g *= SCALE
    return g
