"""A Hessian-vector product of a 1000-d function.

``f(x) = sum(sin(x) * x * x) + 0.5 * sum(x)**2``, so
``H v = (2 sin x + 4 x cos x - x**2 sin x) * v + sum(v)`` (float32). polytape
computes it forward-over-backward (a ``ForwardAccumulator`` around a tape)
when it has ``pt.ForwardAccumulator``, else backward-over-backward with two
nested tapes; ``variant`` in the results says which ran.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

NAME = "hvp"
DESCRIPTION = "Hessian-vector product of a 1000-d function (float32)"
RTOL = 1e-3
N = 1000


def data() -> tuple[np.ndarray, np.ndarray]:
    """``(x, v)``: the point and the direction."""
    rng = np.random.default_rng(2)
    return (rng.uniform(-2, 2, N).astype(np.float32),
            rng.standard_normal(N).astype(np.float32))


def _forward_over_backward() -> bool:
    import polytape as pt

    return getattr(pt, "ForwardAccumulator", None) is not None


def variant(impl: Any) -> str:
    if impl.kind == "polytape":
        return ("forward-over-backward (pt.ForwardAccumulator around a tape)"
                if _forward_over_backward() else "backward-over-backward (two nested tapes)")
    return {"torch": "backward-over-backward (autograd.grad with create_graph=True)",
            "polytape_function": "forward-over-backward under pt.function",
            "tf_function": "forward-over-backward under tf.function",
            "jax_jit": "jax.jit(jvp of grad)",
            "autograd": "autograd.hessian_vector_product (backward-over-backward)",
            "tensorflow": "forward-over-backward (tf.autodiff.ForwardAccumulator)",
            "numpy": "closed form"}.get(impl.kind, "")


def polytape(backend: str) -> Callable[[], Any]:
    import polytape as pt

    xn, vn = data()
    with pt.use_backend(backend):
        x, v = pt.constant(xn), pt.constant(vn)

    def f(z: Any) -> Any:
        return pt.sum(pt.sin(z) * z * z) + 0.5 * pt.sum(z) ** 2

    if _forward_over_backward():
        def run() -> Any:
            with pt.ForwardAccumulator(x, v) as acc:
                with pt.GradientTape() as tape:
                    tape.watch(x)
                    y = f(x)
                g = tape.gradient(y, x)
            return acc.jvp(g)
        return run

    def run_nested() -> Any:
        with pt.GradientTape() as outer:
            outer.watch(x)
            with pt.GradientTape() as inner:
                inner.watch(x)
                y = f(x)
            g = inner.gradient(y, x)
            gv = pt.sum(g * v)
        return outer.gradient(gv, x)
    return run_nested


def polytape_function(backend: str) -> Callable[[], Any]:
    import polytape as pt

    xn, vn = data()
    with pt.use_backend(backend):
        x, v = pt.constant(xn), pt.constant(vn)

    @pt.function
    def hvp(x: Any, v: Any) -> Any:
        with pt.ForwardAccumulator(x, v) as acc:
            with pt.GradientTape() as tape:
                tape.watch(x)
                y = pt.sum(pt.sin(x) * x * x) + 0.5 * pt.sum(x) ** 2
            g = tape.gradient(y, x)
        return acc.jvp(g)
    return lambda: hvp(x, v)


def tf_function() -> Callable[[], Any]:
    import tensorflow as tf

    xn, vn = data()
    x, v = tf.constant(xn), tf.constant(vn)

    @tf.function
    def hvp(x: Any, v: Any) -> Any:
        with tf.autodiff.ForwardAccumulator(x, v) as acc:
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.reduce_sum(tf.sin(x) * x * x) + 0.5 * tf.reduce_sum(x) ** 2
            g = tape.gradient(y, x)
        return acc.jvp(g)
    return lambda: hvp(x, v)


def jax_jit() -> Callable[[], Any]:
    import jax
    import jax.numpy as jnp

    xn, vn = data()
    x, v = jnp.asarray(xn), jnp.asarray(vn)

    def f(z: Any) -> Any:
        return jnp.sum(jnp.sin(z) * z * z) + 0.5 * jnp.sum(z) ** 2
    hvp = jax.jit(lambda x, v: jax.jvp(jax.grad(f), (x,), (v,))[1])
    return lambda: hvp(x, v).block_until_ready()


def torch() -> Callable[[], Any]:
    import torch as th

    xn, vn = data()
    x, v = th.tensor(xn, requires_grad=True), th.tensor(vn)

    def run() -> Any:
        y = th.sum(th.sin(x) * x * x) + 0.5 * th.sum(x) ** 2
        (g,) = th.autograd.grad(y, x, create_graph=True)
        return th.autograd.grad(g, x, grad_outputs=v)[0]
    return run


def autograd() -> Callable[[], Any]:
    import autograd as ag
    import autograd.numpy as anp

    x, v = data()
    hvp = ag.hessian_vector_product(lambda z: anp.sum(anp.sin(z) * z * z) + 0.5 * anp.sum(z) ** 2)
    return lambda: hvp(x, v)


def tensorflow() -> Callable[[], Any]:
    import tensorflow as tf

    xn, vn = data()
    x, v = tf.constant(xn), tf.constant(vn)

    def run() -> Any:
        with tf.autodiff.ForwardAccumulator(x, v) as acc:
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.reduce_sum(tf.sin(x) * x * x) + 0.5 * tf.reduce_sum(x) ** 2
            g = tape.gradient(y, x)
        return acc.jvp(g)
    return run


def numpy() -> Callable[[], Any]:
    x, v = data()

    def run() -> Any:
        s, c = np.sin(x), np.cos(x)
        return (2 * s + 4 * x * c - x * x * s) * v + v.sum()
    return run
