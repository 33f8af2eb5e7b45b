"""Activation functions, by name or callable (``Dense(4, activation="relu")``).

Everything is composed from polytape ops, so gradients come from the op table;
``softmax``, ``log_softmax`` and ``logsumexp`` are the ops of the same names.

>>> import polytape as pt
>>> pt.nn.activations.get("relu")(pt.constant([-1.0, 2.0])).numpy().tolist()
[0.0, 2.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import ops
from ..dispatch import unary_operand
from ..errors import InvalidArgumentError
from ..tensor import Tensor

__all__ = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "logsumexp",
           "softplus", "softsign", "exponential", "elu", "selu", "gelu", "silu", "swish",
           "leaky_relu", "get", "serialize"]


def linear(x: Any) -> Tensor:
    """``x`` unchanged (the activation of ``activation=None``)."""
    return unary_operand(x)


def relu(x: Any) -> Tensor:
    """``max(x, 0)``."""
    return ops.relu(x)


def sigmoid(x: Any) -> Tensor:
    """``1 / (1 + exp(-x))``."""
    return ops.sigmoid(x)


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent."""
    return ops.tanh(x)


def softplus(x: Any) -> Tensor:
    """``log(1 + exp(x))``."""
    return ops.softplus(x)


def softsign(x: Any) -> Tensor:
    """``x / (1 + |x|)``."""
    x = unary_operand(x)
    return x / (ops.abs(x) + 1.0)


def exponential(x: Any) -> Tensor:
    """``exp(x)``."""
    return ops.exp(x)


def logsumexp(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x), axis))`` without overflow."""
    return ops.logsumexp(x, axis=axis, keepdims=keepdims)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x), axis)``, without overflow."""
    return ops.softmax(x, axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``x - logsumexp(x, axis)``, without overflow."""
    return ops.log_softmax(x, axis=axis)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    x = unary_operand(x)
    # expm1 sees only x <= 0, so the unused branch cannot overflow into a NaN gradient.
    return ops.where(x > 0, x, ops.expm1(ops.minimum(x, 0.0)) * alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Any) -> Tensor:
    """Scaled ELU with the self-normalising constants of Klambauer et al. (2017)."""
    return elu(x, _SELU_ALPHA) * _SELU_SCALE


def gelu(x: Any, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit: ``x * Phi(x)`` (the tanh approximation if ``approximate``)."""
    x = unary_operand(x)
    if approximate:
        inner = (x + 0.044715 * x * x * x) * math.sqrt(2.0 / math.pi)
        return 0.5 * x * (ops.tanh(inner) + 1.0)
    return 0.5 * x * (ops.erf(x * (1.0 / math.sqrt(2.0))) + 1.0)


def silu(x: Any) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    x = unary_operand(x)
    return x * ops.sigmoid(x)


swish = silu


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """``x`` for ``x >= 0``, else ``negative_slope * x`` (Keras 3's default slope 0.2)."""
    x = unary_operand(x)
    return ops.where(x >= 0, x, x * negative_slope)


_BY_NAME: dict[str, Callable[..., Tensor]] = {
    "linear": linear, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
    "log_softmax": log_softmax, "softplus": softplus, "softsign": softsign,
    "exponential": exponential, "elu": elu, "selu": selu, "gelu": gelu, "silu": silu,
    "swish": swish, "leaky_relu": leaky_relu,
}


def get(identifier: str | Callable[..., Any] | None) -> Callable[..., Any]:
    """The activation for a name, a callable (returned as is) or ``None`` (linear).

    Raises :class:`~polytape.InvalidArgumentError` for an unknown name.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier.lower())
        if fn is None:
            raise InvalidArgumentError(f"unknown activation {identifier!r}; polytape has "
                                       f"{sorted(_BY_NAME)} or any callable")
        return fn
    if callable(identifier):
        return identifier
    raise InvalidArgumentError(f"an activation is a name, a callable or None, got {identifier!r}")


def serialize(fn: Callable[..., Any]) -> str:
    """The name of an activation function (its ``__name__`` for user callables)."""
    return getattr(fn, "__name__", repr(fn))
