"""Many small ops: 100 times ``y = sin(y) * 1.01`` on 10 floats, then the gradient of ``sum(y)``.

200 elementwise ops forward and about as many backward on arrays so small that
the kernels cost nearly nothing: the time is each library's per-op overhead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import sin_chain

NAME = "chain100"
DESCRIPTION = "100 x (y = sin(y) * 1.01) on 10 float32s, forward + backward"
RTOL = 1e-4
STEPS = 100
X0 = np.linspace(0.1, 1.0, 10, dtype=np.float32)


def polytape(backend: str) -> Callable[[], Any]:
    return sin_chain.polytape(backend, STEPS, X0)


def polytape_function(backend: str) -> Callable[[], Any]:
    return sin_chain.polytape_function(backend, STEPS, X0)


def tf_function() -> Callable[[], Any]:
    return sin_chain.tf_function(STEPS, X0)


def jax_jit() -> Callable[[], Any]:
    return sin_chain.jax_jit(STEPS, X0)


def torch() -> Callable[[], Any]:
    return sin_chain.torch(STEPS, X0)


def autograd() -> Callable[[], Any]:
    return sin_chain.autograd(STEPS, X0)


def tensorflow() -> Callable[[], Any]:
    return sin_chain.tensorflow(STEPS, X0)


def numpy() -> Callable[[], Any]:
    return sin_chain.numpy(STEPS, X0)
