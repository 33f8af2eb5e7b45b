"""Keras' ``BatchNormalization`` and ``LayerNormalization`` layers.

``BatchNormalization`` normalises with the batch's statistics while training (and moves
its non-trainable ``moving_mean``/``moving_variance`` towards them, Keras' momentum
rule) and with the moving statistics at inference, as Keras does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import ops
from ..errors import InvalidArgumentError, ShapeError
from ..tensor import Tensor
from . import initializers as initializers_module
from .convolution import batch_normalization
from .layers import Layer

__all__ = ["BatchNormalization", "LayerNormalization"]


def _axes(layer: str, axis: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"{layer}: axis {a} is out of range for inputs of rank {ndim}")
        out.append(a % ndim)
    return tuple(out)


class BatchNormalization(Layer):
    """Normalise over the batch (every axis but ``axis``), then scale by ``gamma`` and shift
    by ``beta``. ``momentum`` 0.99 and ``epsilon`` 1e-3 are Keras' defaults."""

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise InvalidArgumentError(f"BatchNormalization: momentum must be in [0, 1], got "
                                       f"{momentum}")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self._inits = [initializers_module.get(i) for i in (
            beta_initializer, gamma_initializer, moving_mean_initializer,
            moving_variance_initializer)]
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        (ax,) = _axes("BatchNormalization", self.axis, len(input_shape))
        shape = (input_shape[ax],)
        beta, gamma, mm, mv = self._inits
        if self.scale:
            self.gamma = self.add_weight(shape, gamma, name="gamma")
        if self.center:
            self.beta = self.add_weight(shape, beta, name="beta")
        self.moving_mean = self.add_weight(shape, mm, trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape, mv, trainable=False, name="moving_variance")
        self.built = True

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        (ax,) = _axes("BatchNormalization", self.axis, inputs.ndim)
        shape = [1] * inputs.ndim
        shape[ax] = inputs.shape[ax]

        def b(t: Any) -> Any:
            return None if t is None else ops.reshape(t, tuple(shape))
        if training:
            reduce = tuple(i for i in range(inputs.ndim) if i != ax)
            mean = ops.mean(inputs, axis=reduce, keepdims=True)
            variance = ops.mean(ops.square(inputs - ops.stop_gradient(mean)), axis=reduce,
                                keepdims=True)
            m = self.momentum
            # The moving statistics are state, not part of the differentiated computation.
            self.moving_mean.assign(self.moving_mean * m + ops.stop_gradient(
                ops.reshape(mean, (-1,))) * (1.0 - m))
            self.moving_variance.assign(self.moving_variance * m + ops.stop_gradient(
                ops.reshape(variance, (-1,))) * (1.0 - m))
        else:
            mean, variance = b(self.moving_mean), b(self.moving_variance)
        return batch_normalization(inputs, mean, variance, b(self.beta), b(self.gamma),
                                   self.epsilon)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale}


class LayerNormalization(Layer):
    """Normalise each example over ``axis`` (the last by default), then scale and shift."""

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis, self.epsilon = axis, float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self._inits = [initializers_module.get(i) for i in (beta_initializer, gamma_initializer)]
        self.gamma = self.beta = None

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        axes = _axes("LayerNormalization", self.axis, len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        if self.scale:
            self.gamma = self.add_weight(shape, self._inits[1], name="gamma")
        if self.center:
            self.beta = self.add_weight(shape, self._inits[0], name="beta")
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        axes = _axes("LayerNormalization", self.axis, inputs.ndim)
        shape = tuple(inputs.shape[i] if i in axes else 1 for i in range(inputs.ndim))
        mean = ops.mean(inputs, axis=axes, keepdims=True)
        variance = ops.mean(ops.square(inputs - ops.stop_gradient(mean)), axis=axes, keepdims=True)
        gamma = None if self.gamma is None else ops.reshape(self.gamma, shape)
        beta = None if self.beta is None else ops.reshape(self.beta, shape)
        return batch_normalization(inputs, mean, variance, beta, gamma, self.epsilon)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
