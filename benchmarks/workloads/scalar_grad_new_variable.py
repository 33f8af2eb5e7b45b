"""Seed 000's first example as written: make ``x = Variable(2.0)``, then the gradient of
``x**2 + 5*x + 3`` at it -- the variable's creation is part of every call.

:mod:`.scalar_grad` times the gradient of a variable made once; real scripts (and the
seed) create the variable right before the tape, so creating it costs as much as a few
ops do. TensorFlow creates a ``tf.Variable``, PyTorch a leaf tensor with
``requires_grad=True``, autograd and NumPy a float32 scalar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

NAME = "scalar_grad_new_variable"
DESCRIPTION = "seed 000 as written: x = Variable(2.0), then d(x**2 + 5*x + 3)/dx (float32)"
RTOL = 1e-6


def polytape(backend: str) -> Callable[[], Any]:
    import polytape as pt

    # The default backend takes the seed's own call, pt.Variable(2.0); another one is named.
    options = {} if backend == pt.current_backend().name else {"backend": backend}

    def run() -> Any:
        x = pt.Variable(2.0, **options)
        with pt.GradientTape() as tape:
            y = x**2 + 5 * x + 3
        return tape.gradient(y, x)
    return run


def torch() -> Callable[[], Any]:
    import torch as th

    def run() -> Any:
        x = th.tensor(2.0, requires_grad=True)
        y = x**2 + 5 * x + 3
        return th.autograd.grad(y, x)[0]
    return run


def autograd() -> Callable[[], Any]:
    import autograd as ag

    df = ag.grad(lambda x: x**2 + 5 * x + 3)
    return lambda: df(np.float32(2.0))


def tensorflow() -> Callable[[], Any]:
    import tensorflow as tf

    def run() -> Any:
        x = tf.Variable(2.0)
        with tf.GradientTape() as tape:
            y = x**2 + 5 * x + 3
        return tape.gradient(y, x)
    return run


def numpy() -> Callable[[], Any]:
    def run() -> Any:
        x = np.asarray(2.0, np.float32)
        y = x * x + 5 * x + 3  # noqa: F841  (the forward pass is part of the work)
        return 2 * x + 5
    return run
