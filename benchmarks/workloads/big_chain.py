"""Large arrays: 10 times ``y = sin(y) * 1.01`` on 1e6 float32s, then the gradient of ``sum(y)``.

Here the kernels are everything; a tape should cost what NumPy itself costs.
The same chain is used by :mod:`benchmarks.memory` for the backward pass's
peak memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import sin_chain

NAME = "big_chain"
DESCRIPTION = "10 x (y = sin(y) * 1.01) on 1e6 float32s, forward + backward"
RTOL = 1e-4
STEPS = 10
SIZE = 1_000_000


def x0() -> np.ndarray:
    """The input: 1e6 float32s spread over [-3, 3]."""
    return np.linspace(-3.0, 3.0, SIZE, dtype=np.float32)


def polytape(backend: str) -> Callable[[], Any]:
    return sin_chain.polytape(backend, STEPS, x0())


def polytape_function(backend: str) -> Callable[[], Any]:
    return sin_chain.polytape_function(backend, STEPS, x0())


def tf_function() -> Callable[[], Any]:
    return sin_chain.tf_function(STEPS, x0())


def jax_jit() -> Callable[[], Any]:
    return sin_chain.jax_jit(STEPS, x0())


def torch() -> Callable[[], Any]:
    return sin_chain.torch(STEPS, x0())


def autograd() -> Callable[[], Any]:
    return sin_chain.autograd(STEPS, x0())


def tensorflow() -> Callable[[], Any]:
    return sin_chain.tensorflow(STEPS, x0())


def numpy() -> Callable[[], Any]:
    return sin_chain.numpy(STEPS, x0())


def manual_forward(x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The hand-written forward pass, keeping each sin's input (for :mod:`benchmarks.memory`)."""
    return sin_chain.manual_forward(x, STEPS)


manual_backward = sin_chain.manual_backward
