"""Keras' convolution and pooling layers (``Conv2D``, ``MaxPooling2D``, ``AveragePooling2D``),
on :mod:`polytape.nn.convolution` (channels last, Keras' default, or channels first)."""

from __future__ import annotations

from typing import Any

from .. import ops
from ..errors import InvalidArgumentError, ShapeError
from ..tensor import Tensor
from . import activations as activations_module
from . import convolution
from . import initializers as initializers_module
from . import regularizers as regularizers_module
from .layers import Layer

__all__ = ["Conv2D", "MaxPooling2D", "AveragePooling2D"]


def _two(what: str, value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    vals = tuple(int(v) for v in value)
    if len(vals) != 2:
        raise InvalidArgumentError(f"{what} must be an int or 2 ints, got {value!r}")
    return vals  # type: ignore[return-value]


def _data_format(layer: str, data_format: Any) -> str:
    """Keras' ``data_format`` (``None`` is ``"channels_last"``) checked."""
    if data_format in (None, "channels_last", "channels_first"):
        return data_format or "channels_last"
    raise InvalidArgumentError(f"{layer}: data_format must be 'channels_last' or 'channels_first', "
                               f"got {data_format!r}")


def _tf_format(data_format: str) -> str:
    return "NCHW" if data_format == "channels_first" else "NHWC"


class Conv2D(Layer):
    """2-d convolution over ``(batch, height, width, channels)`` inputs (``(batch, channels,
    height, width)`` with ``data_format="channels_first"``): ``filters`` output channels, a
    ``kernel_size`` window, ``strides``, ``padding`` ``"valid"`` or ``"same"``; ``kernel``
    has shape ``(kh, kw, in_channels, filters)``."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1),
                 padding: str = "valid", data_format: Any = None, dilation_rate: Any = (1, 1),
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format("Conv2D", data_format)
        self._regularizers = {"kernel": regularizers_module.get(kernel_regularizer),
                              "bias": regularizers_module.get(bias_regularizer)}
        if int(filters) <= 0:
            raise InvalidArgumentError(f"Conv2D: filters must be positive, got {filters}")
        if str(padding).lower() not in ("valid", "same"):
            raise InvalidArgumentError(f"Conv2D: padding must be 'valid' or 'same', got {padding!r}")
        self.filters = int(filters)
        self.kernel_size = _two("Conv2D kernel_size", kernel_size)
        self.strides = _two("Conv2D strides", strides)
        self.dilation_rate = _two("Conv2D dilation_rate", dilation_rate)
        self.padding = str(padding).lower()
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel = None
        self.bias = None

    def build(self, input_shape: Any) -> None:
        input_shape = tuple(input_shape)
        channels = 1 if self.data_format == "channels_first" else -1
        if len(input_shape) != 4 or input_shape[channels] is None:
            raise ShapeError(f"Conv2D {self.name!r}: needs 4-d inputs ({self.data_format}), "
                             f"got shape {input_shape}")
        self.kernel = self.add_weight((*self.kernel_size, input_shape[channels], self.filters),
                                      self.kernel_initializer, name="kernel",
                                      regularizer=self._regularizers["kernel"])
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                        regularizer=self._regularizers["bias"])
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        y = convolution.conv2d(inputs, self.kernel, strides=self.strides,
                               padding=self.padding.upper(), dilations=self.dilation_rate,
                               data_format=_tf_format(self.data_format))
        if self.use_bias:
            first = self.data_format == "channels_first"
            y = y + (ops.reshape(self.bias, (self.filters, 1, 1)) if first else self.bias)
        return self.activation(y)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "use_bias": self.use_bias,
                "activation": activations_module.serialize(self.activation)}


class _Pooling2D(Layer):
    _fn: Any = None

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _data_format(type(self).__name__, data_format)
        if str(padding).lower() not in ("valid", "same"):
            raise InvalidArgumentError(f"{type(self).__name__}: padding must be 'valid' or "
                                       f"'same', got {padding!r}")
        self.pool_size = _two("pool_size", pool_size)
        self.strides = self.pool_size if strides is None else _two("strides", strides)
        self.padding = str(padding).lower()

    def call(self, inputs: Tensor) -> Tensor:
        return type(self)._fn(inputs, self.pool_size, self.strides, self.padding.upper(),
                              data_format=_tf_format(self.data_format))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    """The maximum of each ``pool_size`` window (strides default to the pool size)."""

    _fn = staticmethod(convolution.max_pool2d)


class AveragePooling2D(_Pooling2D):
    """The mean of each ``pool_size`` window (strides default to the pool size)."""

    _fn = staticmethod(convolution.avg_pool2d)
