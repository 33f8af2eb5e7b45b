"""Large arrays: 10 times ``y = sin(y) * 1.01`` on 1e6 float32s, then the gradient of ``sum(y)``.

Here the kernels are everything; a tape should cost what NumPy itself costs.
The same chain is used by :mod:`benchmarks.memory` for the backward pass's
peak memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

NAME = "big_chain"
DESCRIPTION = "10 x (y = sin(y) * 1.01) on 1e6 float32s, forward + backward"
RTOL = 1e-4
STEPS = 10
SIZE = 1_000_000


def x0() -> np.ndarray:
    """The input: 1e6 float32s spread over [-3, 3]."""
    return np.linspace(-3.0, 3.0, SIZE, dtype=np.float32)


def polytape(backend: str) -> Callable[[], Any]:
    import polytape as pt

    x = pt.constant(x0(), backend=backend)

    def run() -> Any:
        with pt.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _ in range(STEPS):
                y = pt.sin(y) * 1.01
            s = pt.sum(y)
        return tape.gradient(s, x)
    return run


def torch() -> Callable[[], Any]:
    import torch as th

    x = th.tensor(x0(), requires_grad=True)

    def run() -> Any:
        y = x
        for _ in range(STEPS):
            y = th.sin(y) * 1.01
        return th.autograd.grad(y.sum(), x)[0]
    return run


def autograd() -> Callable[[], Any]:
    import autograd as ag
    import autograd.numpy as anp

    def f(y: Any) -> Any:
        for _ in range(STEPS):
            y = anp.sin(y) * np.float32(1.01)
        return anp.sum(y)

    df = ag.grad(f)
    x = x0()
    return lambda: df(x)


def tensorflow() -> Callable[[], Any]:
    import tensorflow as tf

    x = tf.constant(x0())

    def run() -> Any:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x
            for _ in range(STEPS):
                y = tf.sin(y) * 1.01
            s = tf.reduce_sum(y)
        return tape.gradient(s, x)
    return run


def numpy() -> Callable[[], Any]:
    x = x0()

    def run() -> Any:
        return manual(x)
    return run


def manual(x: np.ndarray) -> np.ndarray:
    """The hand-written forward and backward pass."""
    return manual_backward(*manual_forward(x))


def manual_forward(x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Forward, keeping what the backward needs: each sin's input (and the output's shape)."""
    c = np.float32(1.01)
    inputs = []
    y = x
    for _ in range(STEPS):
        inputs.append(y)
        y = np.sin(y) * c
    return inputs, y


def manual_backward(inputs: list[np.ndarray], y: np.ndarray) -> np.ndarray:
    """Backward in place, dropping each saved input once used (``inputs`` ends empty)."""
    c = np.float32(1.01)
    g = np.full(y.shape, c, dtype=y.dtype)
    while inputs:
        a = inputs.pop()
        g *= np.cos(a)
        if inputs:
            g *= c
    return g
