"""Seed 004's polynomial fit with plain gradient descent: 1000 steps of
``w.assign_sub(lr * gradient)`` on the same 20 samples as :mod:`.poly1000`.

Where :mod:`.poly1000` measures an optimizer's update, this measures the loop users write
by hand: a tape, a gradient, one in-place update of the variable per step. PyTorch runs
the same math as its users write it: ``backward()``, ``w.sub_(lr * w.grad)`` under
``no_grad`` and zeroing the gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .poly1000 import data

NAME = "sgd_poly1000"
DESCRIPTION = "seed 004's fit by hand: 1000 steps of w.assign_sub(0.005 * grad) (float32)"
RTOL = 1e-4
STEPS = 1000
LR = 0.005  # stable: below 1 / the largest eigenvalue of features.T @ features (~85)


def polytape(backend: str) -> Callable[[], Any]:
    import polytape as pt

    xn, yn, w0 = data()
    with pt.use_backend(backend):
        x, y = pt.constant(xn), pt.constant(yn)
        w = pt.Variable(w0)

    def run() -> Any:
        w.assign(w0)
        for _ in range(STEPS):
            with pt.GradientTape() as tape:
                mse = pt.sum(pt.square(y - x @ w))
            w.assign_sub(LR * tape.gradient(mse, w))
        return w.read_value()
    return run


def polytape_function(backend: str) -> Callable[[], Any]:
    import polytape as pt

    xn, yn, w0 = data()
    with pt.use_backend(backend):
        x, y = pt.constant(xn), pt.constant(yn)
        w = pt.Variable(w0)

    @pt.function
    def step(x: Any, y: Any) -> None:
        with pt.GradientTape() as tape:
            mse = pt.sum(pt.square(y - x @ w))
        w.assign_sub(LR * tape.gradient(mse, w))

    def run() -> Any:
        w.assign(w0)
        for _ in range(STEPS):
            step(x, y)
        return w.read_value()
    return run


def torch() -> Callable[[], Any]:
    import torch as th

    xn, yn, w0 = data()
    x, y = th.tensor(xn), th.tensor(yn)
    w = th.tensor(w0, requires_grad=True)
    start = th.from_numpy(w0)

    def run() -> Any:
        with th.no_grad():
            w.copy_(start)
        for _ in range(STEPS):
            mse = th.sum(th.square(y - x @ w))
            mse.backward()
            with th.no_grad():
                w.sub_(LR * w.grad)
            w.grad.zero_()
        return w.detach().clone()
    return run


def autograd() -> Callable[[], Any]:
    import autograd as ag
    import autograd.numpy as anp

    x, y, w0 = data()
    dmse = ag.grad(lambda w: anp.sum(anp.square(y - anp.dot(x, w))))

    def run() -> Any:
        w = w0.copy()
        for _ in range(STEPS):
            w -= LR * dmse(w)
        return w
    return run


def tensorflow() -> Callable[[], Any]:
    import tensorflow as tf

    xn, yn, w0 = data()
    x, y = tf.constant(xn), tf.constant(yn)
    w = tf.Variable(w0)

    def run() -> Any:
        w.assign(w0)
        for _ in range(STEPS):
            with tf.GradientTape() as tape:
                mse = tf.reduce_sum(tf.square(y - x @ w))
            w.assign_sub(LR * tape.gradient(mse, w))
        return w.read_value()
    return run


def tf_function() -> Callable[[], Any]:
    import tensorflow as tf

    xn, yn, w0 = data()
    x, y = tf.constant(xn), tf.constant(yn)
    w = tf.Variable(w0)

    @tf.function
    def step(x: Any, y: Any) -> None:
        with tf.GradientTape() as tape:
            mse = tf.reduce_sum(tf.square(y - x @ w))
        w.assign_sub(LR * tape.gradient(mse, w))

    def run() -> Any:
        w.assign(w0)
        for _ in range(STEPS):
            step(x, y)
        return w.read_value()
    return run


def jax_jit() -> Callable[[], Any]:
    import jax
    import jax.numpy as jnp

    xn, yn, w0 = data()
    x, y = jnp.asarray(xn), jnp.asarray(yn)

    @jax.jit
    def step(w: Any, x: Any, y: Any) -> Any:
        return w - LR * jax.grad(lambda w: jnp.sum(jnp.square(y - x @ w)))(w)

    def run() -> Any:
        w = jnp.asarray(w0)
        for _ in range(STEPS):  # one jitted step per iteration, as the loop is written
            w = step(w, x, y)
        return w.block_until_ready()
    return run


def numpy() -> Callable[[], Any]:
    x, y, w0 = data()
    xt2 = np.float32(-2.0) * x.T

    def run() -> Any:
        w = w0.copy()
        for _ in range(STEPS):
            r = y - x @ w
            mse = np.sum(r * r)  # noqa: F841  (the loss is part of the step)
            w -= LR * (xt2 @ r)
        return w
    return run
