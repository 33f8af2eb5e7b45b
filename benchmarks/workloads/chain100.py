"""Many small ops: 100 times ``y = sin(y) * 1.01`` on 10 floats, then the gradient of ``sum(y)``.

200 elementwise ops forward and about as many backward on arrays so small that
the kernels cost nearly nothing: the time is each library's per-op overhead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

NAME = "chain100"
DESCRIPTION = "100 x (y = sin(y) * 1.01) on 10 float32s, forward + backward"
RTOL = 1e-4
STEPS = 100
X0 = np.linspace(0.1, 1.0, 10, dtype=np.float32)


def polytape(backend: str) -> Callable[[], Any]:
    import polytape as pt

    x = pt.constant(X0, backend=backend)

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

    x = th.tensor(X0, requires_grad=True)

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
            y = anp.sin(y) * 1.01
        return anp.sum(y)

    df = ag.grad(f)
    x = X0.copy()
    return lambda: df(x)


def tensorflow() -> Callable[[], Any]:
    import tensorflow as tf

    x = tf.constant(X0)

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
    x = X0.copy()

    def run() -> Any:
        inputs = []
        y = x
        for _ in range(STEPS):
            inputs.append(y)
            y = np.sin(y) * np.float32(1.01)
        g = np.ones_like(y)
        for a in reversed(inputs):
            g = g * np.float32(1.01) * np.cos(a)
        return g
    return run
