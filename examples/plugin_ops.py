"""A plugin that adds an op to polytape, and one that gives one backend a faster kernel.

Both live in one hook, ``polytape_register_ops``:

* ``registry.add_op("swish", ...)`` declares a new differentiable op: its VJP and JVP
  rules (written with the namespace ``ns`` they receive, so they work on the fast path
  and under nested tapes alike) and a *default kernel* composed from kernels every
  backend has -- so the op runs on NumPy, PyTorch and any third-party backend at once;
* ``registry.add_kernel("numpy", "softmax", fused_softmax)`` replaces the kernel of an
  existing op on the NumPy backend only, here with a softmax that works in one buffer
  instead of allocating a temporary per step.

Packaged, this module would be an entry point in group ``polytape``; here it registers
itself at run time::

    python examples/plugin_ops.py
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

import polytape as pt
from polytape.plugins import apply_op, hookimpl

__all__ = ["swish", "fused_softmax", "polytape_register_ops"]


# -- a new op: swish(x) = x * sigmoid(beta * x) ------------------------------------------
def _swish_kernel(k: dict, x: Any, beta: float) -> Any:
    """The default kernel: built from the ``sigmoid`` and ``multiply`` kernels of any backend."""
    s = k["sigmoid"](x * beta)
    return k["multiply"](x, s)


def _swish_slope(ns: Any, x: Any, beta: float) -> Any:
    # d/dx [x s(bx)] = s + b x s (1 - s), with s = sigmoid(b x)
    s = ns.sigmoid(x * beta)
    return s + beta * x * s * (1 - s)


def _swish_vjp(ns: Any, g: Any, ans: Any, x: Any, beta: float) -> Any:
    return g * _swish_slope(ns, x, beta)


def _swish_jvp(ns: Any, t: Any, ans: Any, x: Any, beta: float) -> Any:
    return t * _swish_slope(ns, x, beta)


def swish(x: Any, beta: float = 1.0) -> pt.Tensor:
    """``x * sigmoid(beta * x)`` (integers become float32); differentiable to any order.

    Works once this module is registered as a plugin (see :func:`main`).
    """
    x = pt.convert_to_tensor(x)
    if not x.dtype.is_floating:
        x = pt.cast(x, pt.float32)
    return apply_op("swish", x, beta=float(beta))


# -- a faster kernel for an existing op, on one backend -----------------------------------
def fused_softmax(x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    """Softmax in one buffer (in-place exp and divide), same results as the default kernel."""
    m = np.max(x, axis=axis, keepdims=True)
    m[~np.isfinite(m)] = 0  # an all -inf (or inf) slice must not turn into nan by shifting
    out = np.subtract(x, m)
    np.exp(out, out=out)
    out /= np.sum(out, axis=axis, keepdims=True)
    return out


@hookimpl
def polytape_register_ops(registry: Any) -> None:
    """Declare ``swish`` and give the NumPy backend the fused softmax."""
    registry.add_op("swish", vjp=_swish_vjp, jvp=_swish_jvp, default_kernel=_swish_kernel,
                    doc="x * sigmoid(beta * x)")
    registry.add_kernel("numpy", "softmax", fused_softmax)


def main() -> None:
    """Register this module as a plugin and show both at work."""
    pt.plugins.register(sys.modules[__name__], name="plugin_ops_example")

    x = pt.Variable([-1.0, 0.0, 2.0])
    with pt.GradientTape() as tape:
        y = pt.sum(swish(x, beta=1.5))
    print("swish:", swish(x, beta=1.5).numpy(), "gradient:", tape.gradient(y, x).numpy())

    logits = pt.constant([[1.0, 2.0, 3.0]])
    print("softmax on numpy (fused kernel):", pt.softmax(logits).numpy())
    print("kernel in use:", pt.get_backend("numpy").kernels["softmax"].__name__)


if __name__ == "__main__":
    main()
