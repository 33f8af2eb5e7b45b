"""One training step of a multilayer perceptron, float32.

Batch 256, layers 784-512-512-10 with ReLU, softmax cross-entropy averaged over
the batch, plain SGD (``w -= 0.01 * grad``). Most of the time is six large
matrix products (three forward, three for the weights' gradients; nobody needs
the gradient of the input batch), so a tape should cost what the hand-written
NumPy step costs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

NAME = "mlp_step"
DESCRIPTION = "MLP 784-512-512-10, batch 256, ReLU, softmax cross-entropy, SGD step (float32)"
RTOL = 1e-3
BATCH = 256
SIZES = (784, 512, 512, 10)
LR = 0.01


def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """``(inputs, labels, one_hot, [W1, b1, W2, b2, W3, b3])``, the same on every call."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    labels = rng.integers(0, SIZES[-1], BATCH)
    onehot = np.eye(SIZES[-1], dtype=np.float32)[labels]
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        params.append((rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in))
                      .astype(np.float32))
        params.append((0.1 * rng.standard_normal(fan_out)).astype(np.float32))
    return x, labels, onehot, params


def variant(impl: Any) -> str:
    if impl.kind == "polytape":
        import polytape as pt

        if getattr(pt, "log_softmax", None) is not None:
            return "loss with pt.log_softmax"
        return "loss composed from max/exp/sum/log (polytape has no log_softmax yet)"
    return {"torch": "F.cross_entropy; p.sub_(lr * g) under no_grad",
            "polytape_function": "the polytape step under pt.function (pt.log_softmax)",
            "tf_function": "the tensorflow step under tf.function",
            "jax_jit": "jax.jit of grad + SGD (new parameter arrays each step)",
            "autograd": "log-softmax composed with autograd.numpy",
            "tensorflow": "tf.nn.softmax_cross_entropy_with_logits; assign_sub",
            "numpy": "hand-written forward and backward; in-place update"}.get(impl.kind, "")


def polytape(backend: str) -> Callable[[], Any]:
    import polytape as pt

    xn, _, onehot_n, init = data()
    with pt.use_backend(backend):
        x = pt.constant(xn)
        onehot = pt.constant(onehot_n)
        params = [pt.Variable(p) for p in init]
    w1, b1, w2, b2, w3, b3 = params
    log_softmax = getattr(pt, "log_softmax", None)

    def run() -> Any:
        with pt.GradientTape() as tape:
            h1 = pt.relu(x @ w1 + b1)
            h2 = pt.relu(h1 @ w2 + b2)
            logits = h2 @ w3 + b3
            if log_softmax is not None:
                logp = log_softmax(logits, axis=-1)
            else:
                z = logits - pt.stop_gradient(pt.max(logits, axis=1, keepdims=True))
                logp = z - pt.log(pt.sum(pt.exp(z), axis=1, keepdims=True))
            loss = pt.sum(onehot * logp) * (-1.0 / BATCH)
        grads = tape.gradient(loss, params)
        for p, g in zip(params, grads):
            p.assign_sub(LR * g)
        return grads[1]
    return run


def polytape_function(backend: str) -> Callable[[], Any]:
    import polytape as pt

    xn, _, onehot_n, init = data()
    with pt.use_backend(backend):
        x = pt.constant(xn)
        onehot = pt.constant(onehot_n)
        params = [pt.Variable(p) for p in init]
    w1, b1, w2, b2, w3, b3 = params

    @pt.function
    def step(x: Any, onehot: Any) -> Any:
        with pt.GradientTape() as tape:
            h1 = pt.relu(x @ w1 + b1)
            h2 = pt.relu(h1 @ w2 + b2)
            logp = pt.log_softmax(h2 @ w3 + b3, axis=-1)
            loss = pt.sum(onehot * logp) * (-1.0 / BATCH)
        grads = tape.gradient(loss, params)
        for p, g in zip(params, grads):
            p.assign_sub(LR * g)
        return grads[1]
    return lambda: step(x, onehot)


def tf_function() -> Callable[[], Any]:
    import tensorflow as tf

    xn, _, onehot_n, init = data()
    x = tf.constant(xn)
    onehot = tf.constant(onehot_n)
    params = [tf.Variable(p) for p in init]
    w1, b1, w2, b2, w3, b3 = params

    @tf.function
    def step(x: Any, onehot: Any) -> Any:
        with tf.GradientTape() as tape:
            h1 = tf.nn.relu(x @ w1 + b1)
            h2 = tf.nn.relu(h1 @ w2 + b2)
            logits = h2 @ w3 + b3
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(onehot, logits))
        grads = tape.gradient(loss, params)
        for p, g in zip(params, grads):
            p.assign_sub(LR * g)
        return grads[1]
    return lambda: step(x, onehot)


def jax_jit() -> Callable[[], Any]:
    import jax
    import jax.numpy as jnp

    xn, _, onehot_n, init = data()
    x, onehot = jnp.asarray(xn), jnp.asarray(onehot_n)
    state = [[jnp.asarray(p) for p in init]]

    def loss(ps: list[Any], x: Any, onehot: Any) -> Any:
        w1, b1, w2, b2, w3, b3 = ps
        h1 = jax.nn.relu(x @ w1 + b1)
        h2 = jax.nn.relu(h1 @ w2 + b2)
        return -jnp.sum(onehot * jax.nn.log_softmax(h2 @ w3 + b3, axis=-1)) / BATCH

    @jax.jit
    def step(ps: list[Any], x: Any, onehot: Any) -> Any:
        grads = jax.grad(loss)(ps, x, onehot)
        return [p - LR * g for p, g in zip(ps, grads)], grads[1]

    def run() -> Any:
        state[0], gb1 = step(state[0], x, onehot)
        return gb1.block_until_ready()
    return run


def torch() -> Callable[[], Any]:
    import torch as th
    import torch.nn.functional as F

    xn, labels_n, _, init = data()
    x = th.tensor(xn)
    labels = th.tensor(labels_n)
    params = [th.tensor(p, requires_grad=True) for p in init]
    w1, b1, w2, b2, w3, b3 = params

    def run() -> Any:
        h1 = th.relu(x @ w1 + b1)
        h2 = th.relu(h1 @ w2 + b2)
        loss = F.cross_entropy(h2 @ w3 + b3, labels)
        grads = th.autograd.grad(loss, params)
        with th.no_grad():
            for p, g in zip(params, grads):
                p.sub_(g, alpha=LR)
        return grads[1]
    return run


def autograd() -> Callable[[], Any]:
    import autograd as ag
    import autograd.numpy as anp

    x, _, onehot, params = data()

    def loss(ps: list[Any]) -> Any:
        w1, b1, w2, b2, w3, b3 = ps
        h1 = anp.maximum(anp.dot(x, w1) + b1, 0.0)
        h2 = anp.maximum(anp.dot(h1, w2) + b2, 0.0)
        logits = anp.dot(h2, w3) + b3
        z = logits - anp.max(logits, axis=1, keepdims=True)
        logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
        return -anp.sum(onehot * logp) / BATCH

    dloss = ag.grad(loss)

    def run() -> Any:
        grads = dloss(params)
        for p, g in zip(params, grads):
            p -= LR * g
        return grads[1]
    return run


def tensorflow() -> Callable[[], Any]:
    import tensorflow as tf

    xn, _, onehot_n, init = data()
    x = tf.constant(xn)
    onehot = tf.constant(onehot_n)
    params = [tf.Variable(p) for p in init]
    w1, b1, w2, b2, w3, b3 = params

    def run() -> Any:
        with tf.GradientTape() as tape:
            h1 = tf.nn.relu(x @ w1 + b1)
            h2 = tf.nn.relu(h1 @ w2 + b2)
            logits = h2 @ w3 + b3
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(onehot, logits))
        grads = tape.gradient(loss, params)
        for p, g in zip(params, grads):
            p.assign_sub(LR * g)
        return grads[1]
    return run


def numpy() -> Callable[[], Any]:
    x, _, onehot, params = data()
    w1, b1, w2, b2, w3, b3 = params
    scale = np.float32(1.0 / BATCH)
    lr = np.float32(LR)

    def run() -> Any:
        a1 = x @ w1 + b1
        h1 = np.maximum(a1, 0)
        a2 = h1 @ w2 + b2
        h2 = np.maximum(a2, 0)
        logits = h2 @ w3 + b3
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = -(onehot * (z - np.log(s))).sum() * scale  # noqa: F841  (part of the step)
        d3 = (e / s - onehot) * scale
        gw3, gb3 = h2.T @ d3, d3.sum(axis=0)
        d2 = (d3 @ w3.T) * (a2 > 0)
        gw2, gb2 = h1.T @ d2, d2.sum(axis=0)
        d1 = (d2 @ w2.T) * (a1 > 0)
        gw1, gb1 = x.T @ d1, d1.sum(axis=0)
        for p, g in zip(params, (gw1, gb1, gw2, gb2, gw3, gb3)):
            p -= lr * g
        return gb1
    return run
