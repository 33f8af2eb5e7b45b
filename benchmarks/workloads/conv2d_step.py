"""One forward and backward pass of a 2-d convolution layer, float32.

Batch 32 of 28x28x8 images (NHWC), 16 filters of 3x3, stride 1, SAME padding, loss
``0.5 * mean over the batch of sum(y ** 2)``; the gradients of the filters and of the
input (a middle layer needs both). The work is three contractions of the same size
(forward, filter gradient, input gradient), so it shows what a backend's convolution
kernels cost beside native PyTorch and a hand-written NumPy im2col.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

NAME = "conv2d_step"
DESCRIPTION = "Conv2D 28x28x8 -> 16 filters 3x3 SAME, batch 32: forward + backward (float32)"
RTOL = 1e-3
BATCH, SIZE, CIN, COUT, K = 32, 28, 8, 16, 3


def data() -> tuple[np.ndarray, np.ndarray]:
    """``(inputs NHWC, filters HWIO)``, the same on every call."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZE, SIZE, CIN)).astype(np.float32)
    w = (rng.standard_normal((K, K, CIN, COUT)) / np.sqrt(K * K * CIN)).astype(np.float32)
    return x, w


def variant(impl: Any) -> str:
    return {"polytape": "pt.nn.convolution.conv2d under a GradientTape",
            "polytape_function": "the same step under pt.function",
            "tf_function": "the TensorFlow step under tf.function",
            "jax_jit": "jax.jit of jax.grad of lax.conv_general_dilated (NHWC, HWIO)",
            "torch": "F.conv2d on channels-last views of the NHWC data; autograd.grad",
            "autograd": "im2col from slices (autograd.numpy has no convolution)",
            "tensorflow": "tf.nn.conv2d under tf.GradientTape",
            "numpy": "sliding_window_view im2col + tensordot; col2im for the input"}.get(impl.kind, "")


def polytape(backend: str) -> Callable[[], Any]:
    import polytape as pt

    xn, wn = data()
    with pt.use_backend(backend):
        x, w = pt.Variable(xn), pt.Variable(wn)

    def run() -> Any:
        with pt.GradientTape() as tape:
            y = pt.nn.convolution.conv2d(x, w, padding="SAME")
            loss = pt.sum(y * y) * (0.5 / BATCH)
        gw, _ = tape.gradient(loss, [w, x])
        return gw
    return run


def polytape_function(backend: str) -> Callable[[], Any]:
    import polytape as pt

    xn, wn = data()
    with pt.use_backend(backend):
        x, w = pt.Variable(xn), pt.Variable(wn)

    @pt.function
    def run() -> Any:
        with pt.GradientTape() as tape:
            y = pt.nn.convolution.conv2d(x, w, padding="SAME")
            loss = pt.sum(y * y) * (0.5 / BATCH)
        gw, _ = tape.gradient(loss, [w, x])
        return gw
    return run


def tf_function() -> Callable[[], Any]:
    import tensorflow as tf

    xn, wn = data()
    x, w = tf.Variable(xn), tf.Variable(wn)

    @tf.function
    def run() -> Any:
        with tf.GradientTape() as tape:
            y = tf.nn.conv2d(x, w, 1, "SAME")
            loss = tf.reduce_sum(y * y) * (0.5 / BATCH)
        return tape.gradient(loss, [w, x])[0]
    return run


def jax_jit() -> Callable[[], Any]:
    import jax
    import jax.numpy as jnp

    xn, wn = data()
    x, w = jnp.asarray(xn), jnp.asarray(wn)

    def loss(w: Any, x: Any) -> Any:
        y = jax.lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return jnp.sum(y * y) * (0.5 / BATCH)

    grads = jax.jit(jax.grad(loss, argnums=(0, 1)))

    def run() -> Any:
        return grads(w, x)[0].block_until_ready()
    return run


def torch() -> Callable[[], Any]:
    import torch as th
    import torch.nn.functional as F

    xn, wn = data()
    x = th.tensor(xn).permute(0, 3, 1, 2).requires_grad_(True)  # NCHW view of NHWC memory
    w = th.tensor(wn).permute(3, 2, 0, 1).requires_grad_(True)  # OIHW view of HWIO memory

    def run() -> Any:
        y = F.conv2d(x, w, padding=K // 2)
        loss = (y * y).sum() * (0.5 / BATCH)
        gw, _ = th.autograd.grad(loss, [w, x])
        return gw.permute(2, 3, 1, 0)
    return run


def autograd() -> Callable[[], Any]:
    import autograd as ag
    import autograd.numpy as anp

    xn, wn = data()

    def loss(w: Any, x: Any) -> Any:
        rows = anp.zeros((BATCH, 1, SIZE, CIN), dtype=x.dtype)
        xp = anp.concatenate([rows, x, rows], axis=1)  # anp.pad's gradient fails here
        cols = anp.zeros((BATCH, SIZE + 2, 1, CIN), dtype=x.dtype)
        xp = anp.concatenate([cols, xp, cols], axis=2)
        cols = anp.stack([xp[:, i:i + SIZE, j:j + SIZE, :] for i in range(K) for j in range(K)],
                         axis=3)
        y = anp.dot(anp.reshape(cols, (-1, K * K * CIN)), anp.reshape(w, (K * K * CIN, COUT)))
        return anp.sum(y * y) * (0.5 / BATCH)

    grad = ag.grad(loss, argnum=(0, 1))

    def run() -> Any:
        return grad(wn, xn)[0]
    return run


def tensorflow() -> Callable[[], Any]:
    import tensorflow as tf

    xn, wn = data()
    x, w = tf.Variable(xn), tf.Variable(wn)

    def run() -> Any:
        with tf.GradientTape() as tape:
            y = tf.nn.conv2d(x, w, 1, "SAME")
            loss = tf.reduce_sum(y * y) * (0.5 / BATCH)
        return tape.gradient(loss, [w, x])[0]
    return run


def numpy() -> Callable[[], Any]:
    from numpy.lib.stride_tricks import sliding_window_view

    xn, wn = data()

    def run() -> Any:
        xp = np.pad(xn, ((0, 0), (1, 1), (1, 1), (0, 0)))
        cols = sliding_window_view(xp, (K, K), axis=(1, 2))  # (N, H, W, C, K, K), a view
        y = np.tensordot(cols, wn, axes=((4, 5, 3), (0, 1, 2)))
        dy = y * np.float32(1.0 / BATCH)
        gw = np.tensordot(cols, dy, axes=((0, 1, 2), (0, 1, 2))).transpose(1, 2, 0, 3)
        back = np.tensordot(dy, wn, axes=((3,), (3,)))  # (N, H, W, K, K, C)
        gxp = np.zeros_like(xp)
        for i in range(K):
            for j in range(K):
                gxp[:, i:i + SIZE, j:j + SIZE] += back[:, :, :, i, j]
        gx = gxp[:, 1:-1, 1:-1]
        return gw if gx.size else None
    return run
