"""Seed 000's tiny gradient: d(x**2 + 5*x + 3)/dx at x = 2, tape (or graph) included.

Nothing here is array work: it measures what one tape, four ops and one
gradient call cost in each library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

NAME = "scalar_grad"
DESCRIPTION = "seed 000: gradient of x**2 + 5*x + 3 at x=2 (float32), tape included"
RTOL = 1e-6


def polytape(backend: str) -> Callable[[], Any]:
    import polytape as pt

    with pt.use_backend(backend):
        x = pt.Variable(2.0)

    def run() -> Any:
        with pt.GradientTape() as tape:
            y = x**2 + 5 * x + 3
        return tape.gradient(y, x)
    return run


def polytape_function(backend: str) -> Callable[[], Any]:
    import polytape as pt

    with pt.use_backend(backend):
        x = pt.Variable(2.0)

    @pt.function
    def grad() -> Any:
        with pt.GradientTape() as tape:
            y = x**2 + 5 * x + 3
        return tape.gradient(y, x)
    return grad


def tf_function() -> Callable[[], Any]:
    import tensorflow as tf

    x = tf.Variable(2.0)

    @tf.function
    def grad() -> Any:
        with tf.GradientTape() as tape:
            y = x**2 + 5 * x + 3
        return tape.gradient(y, x)
    return grad


def jax_jit() -> Callable[[], Any]:
    import jax
    import jax.numpy as jnp

    grad = jax.jit(jax.grad(lambda x: x**2 + 5 * x + 3))
    x = jnp.float32(2.0)
    return lambda: grad(x).block_until_ready()


def torch() -> Callable[[], Any]:
    import torch as th

    x = th.tensor(2.0, requires_grad=True)

    def run() -> Any:
        y = x**2 + 5 * x + 3
        return th.autograd.grad(y, x)[0]
    return run


def autograd() -> Callable[[], Any]:
    import autograd as ag

    df = ag.grad(lambda x: x**2 + 5 * x + 3)
    x = np.float32(2.0)
    return lambda: df(x)


def tensorflow() -> Callable[[], Any]:
    import tensorflow as tf

    x = tf.Variable(2.0)

    def run() -> Any:
        with tf.GradientTape() as tape:
            y = x**2 + 5 * x + 3
        return tape.gradient(y, x)
    return run


def numpy() -> Callable[[], Any]:
    x = np.asarray(2.0, np.float32)

    def run() -> Any:
        y = x * x + 5 * x + 3  # noqa: F841  (the forward pass is part of the work)
        return 2 * x + 5
    return run
