"""Keras-style layers: the ``Layer`` base class, ``Dense``, ``Activation``, ``Flatten``,
``Dropout`` and ``InputLayer``/``Input``.

A layer creates its weights (trainable :class:`~polytape.Variable`s) the first
time it is called, on the backend of that first input, so ``Dense(4)(x)`` works
the same on every backend. Floating-point inputs are cast to the layer's dtype
(float32 unless ``dtype=`` says otherwise), as Keras does.

Layers and variables assigned as attributes of a layer are tracked, so a
subclassed layer or model lists their weights in ``trainable_variables``.

Layers and models pickle with their weights, which unpickle onto the same backend
and device (see :mod:`polytape.tensor`); activations, initializers, losses and
metrics given as functions must be module-level functions for that, as pickle
stores functions by name.

>>> import polytape as pt
>>> layer = pt.nn.Dense(2, activation="relu")
>>> layer(pt.ones((5, 3))).shape
(5, 2)
>>> [tuple(w.shape) for w in layer.get_weights()]
[(3, 2), (2,)]
"""

from __future__ import annotations

import contextvars
import inspect
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import ops, tracing
from .. import random as pt_random
from ..backend_selection import get_backend
from ..creation import constant
from ..dtypes import DType, as_dtype, float32
from ..errors import InvalidArgumentError, ShapeError, unsupported
from ..tensor import Tensor, Variable
from . import activations as activations_module
from . import initializers as initializers_module
from . import regularizers as regularizers_module

__all__ = ["Layer", "Dense", "Activation", "Flatten", "Dropout", "InputLayer", "Input"]

_name_counters: defaultdict[str, itertools.count] = defaultdict(itertools.count)
# The `training` flag of the outermost call, for inner layers called without one.
_training: contextvars.ContextVar[bool | None] = contextvars.ContextVar("polytape_training",
                                                                        default=None)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def unique_name(base: str) -> str:
    """``base``, then ``base_1``, ``base_2``, ... per base name (as Keras names layers)."""
    n = next(_name_counters[base])
    return base if n == 0 else f"{base}_{n}"


def _accepts_training(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "training" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


class Layer:
    """Base class of layers (and of :class:`~polytape.nn.Model`).

    Subclasses override :meth:`build` (create weights with :meth:`add_weight`,
    given the input shape) and :meth:`call` (the computation; it may take a
    ``training`` keyword). Call the layer itself, not :meth:`call`: ``__call__``
    converts and casts inputs and builds the layer on first use.
    """

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 input_shape: Sequence[int | None] | None = None, **kwargs: Any) -> None:
        unsupported(kwargs, type(self).__name__)
        object.__setattr__(self, "_tracked", [])
        self._frozen_ids: set[int] = set()  # weights created non-trainable stay so
        self.name = name or unique_name(_snake(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype: DType = as_dtype(dtype) if dtype is not None else float32
        self.built = False
        self._backend: Any = None
        self._input_shape_hint = None if input_shape is None else \
            (None,) + tuple(None if s is None else int(s) for s in input_shape)
        self._output_shape: tuple[int | None, ...] | None = None
        self._call_takes_training = _accepts_training(self.call)

    # -- tracking ---------------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        tracked = self.__dict__.get("_tracked")
        if tracked is not None and not name.startswith("_"):
            items = value if isinstance(value, (list, tuple)) else (value,)
            for item in items:
                if (isinstance(item, Layer) and item is not self) or isinstance(item, Variable):
                    if not any(t is item for t in tracked):
                        tracked.append(item)
        object.__setattr__(self, name, value)

    def _track(self, item: Layer | Variable) -> None:
        if not any(t is item for t in self._tracked):
            self._tracked.append(item)

    @property
    def layers(self) -> list[Layer]:
        """The sublayers this layer tracks, in the order they were assigned."""
        return [t for t in self._tracked if isinstance(t, Layer)]

    @property
    def trainable(self) -> bool:
        """Whether the layer's weights are trained; setting it updates every weight's flag."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for t in self._tracked:
            if isinstance(t, Layer):
                t.trainable = value
            elif id(t) not in self._frozen_ids:
                t.trainable = bool(value)

    def _all_weights(self) -> list[Variable]:
        out: list[Variable] = []
        seen: set[int] = set()
        for t in self._tracked:
            for v in (t._all_weights() if isinstance(t, Layer) else (t,)):
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def weights(self) -> list[Variable]:
        """Every variable of the layer and its sublayers (trainable ones first, as in Keras)."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def trainable_weights(self) -> list[Variable]:
        """The variables an optimizer updates."""
        return [v for v in self._all_weights() if v.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        """The variables an optimizer leaves alone."""
        return [v for v in self._all_weights() if not v.trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def variables(self) -> list[Variable]:
        """Same as :attr:`weights`."""
        return self.weights

    def get_weights(self) -> list[np.ndarray]:
        """The values of :attr:`weights` as NumPy arrays."""
        return [np.asarray(v.numpy()) for v in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set :attr:`weights` from arrays of the same shapes, in the same order.

        Everything is checked first: a wrong count or shape raises and changes nothing.
        """
        mine = self.weights
        weights = list(weights)
        if len(weights) != len(mine):
            raise InvalidArgumentError(
                f"{self.name}.set_weights: expected {len(mine)} arrays (the layer's weights), "
                f"got {len(weights)}")
        values = []
        for v, w in zip(mine, weights):
            arr = w if isinstance(w, Tensor) else np.asarray(w)
            if tuple(arr.shape) != v.shape:
                raise ShapeError(f"{self.name}.set_weights: weight {v.name!r} has shape "
                                 f"{v.shape}, the value has shape {tuple(arr.shape)}")
            values.append(constant(arr, dtype=v.dtype, backend=v._backend))
        for v, t in zip(mine, values):
            v.assign(t)

    def count_params(self) -> int:
        """The number of scalars in :attr:`weights`."""
        return sum(v.size for v in self.weights)

    # -- building and calling ------------------------------------------------------------------
    def add_weight(self, shape: Sequence[int] = (), initializer: Any = None, dtype: Any = None,
                   trainable: bool = True, name: str | None = None,
                   regularizer: Any = None) -> Variable:
        """Create a variable of ``shape`` on the layer's backend and track it.

        ``initializer`` is a name, an initializer or a callable (default
        ``"glorot_uniform"`` for floats, zeros otherwise).
        """
        dt = as_dtype(dtype) if dtype is not None else self.dtype
        if initializer is None:
            initializer = "glorot_uniform" if dt.is_floating else "zeros"
        init = initializers_module.get(initializer)
        shape = tuple(int(s) for s in shape)
        if isinstance(init, initializers_module.Initializer):
            value = init(shape, dtype=dt, backend=self._backend)
        else:
            value = init(shape, dtype=dt)
        var = Variable(value, trainable=trainable and self._trainable, dtype=dt,
                       backend=self._backend, name=f"{self.name}/{name or 'variable'}")
        if var.shape != shape:
            raise ShapeError(f"{self.name}.add_weight: the initializer gave shape {var.shape} "
                             f"for a weight of shape {shape}")
        if not trainable:
            self._frozen_ids.add(id(var))
        self._track(var)
        if regularizer is not None:
            self.__dict__.setdefault("_weight_regularizers", []).append((regularizers_module.get(
                regularizer), var))
        return var

    @property
    def losses(self) -> list[Tensor]:
        """The regularization penalties of this layer's and its sublayers' weights, computed
        from their current values (``fit`` adds their sum to the training loss)."""
        out = [reg(v) for reg, v in self.__dict__.get("_weight_regularizers", [])]
        for t in self._tracked:
            if isinstance(t, Layer):
                out.extend(t.losses)
        return out

    def build(self, input_shape: Any) -> None:
        """Create the weights for inputs of ``input_shape`` (the default creates none)."""
        self.built = True

    def call(self, inputs: Any) -> Any:
        """The layer's computation (override it)."""
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def _build_for_call(self, inputs: Any) -> None:
        # The first call builds the layer for the shape of what it was given.
        self.build(_shape_of(inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for ``input_shape`` (default: unchanged)."""
        return input_shape

    def _convert(self, inputs: Any) -> Any:
        if isinstance(inputs, Tensor):
            t = inputs
        elif isinstance(inputs, dict):
            return {k: self._convert(v) for k, v in inputs.items()}
        elif isinstance(inputs, (list, tuple)) and any(
                isinstance(v, (Tensor, np.ndarray, list, tuple, dict)) for v in inputs):
            return type(inputs)(self._convert(v) for v in inputs)
        else:
            t = constant(inputs)
        if t.dtype.is_floating and t.dtype is not self.dtype:
            t = ops.cast(t, self.dtype)
        return t

    def __call__(self, inputs: Any, *args: Any, training: bool | None = None, **kwargs: Any) -> Any:
        x = self._convert(inputs)
        first = _first_tensor(x)
        if not self.built:
            if self._backend is None and first is not None:
                self._backend = first._backend
            self._build_for_call(x)
            self.built = True
        if training is None:
            training = _training.get()
        token = _training.set(training)
        try:
            if self._call_takes_training:
                kwargs["training"] = bool(training)
            out = self.call(x, *args, **kwargs)
        finally:
            _training.reset(token)
        if isinstance(out, Tensor):
            self._output_shape = (None,) + out.shape[1:] if out.ndim else ()
        return out

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (name, trainable, dtype and the layer's own)."""
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}

    def __repr__(self) -> str:
        return f"<polytape.nn.{type(self).__name__} name={self.name!r} built={self.built}>"

    # -- pickling ---------------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # A backend object cannot be pickled (its kernels are closures): keep its registered name.
        backend = state.pop("_backend")
        state["_backend"] = None if backend is None else backend.name
        # Ids change when unpickled, so frozen weights travel as positions in `_tracked`.
        state["_frozen_ids"] = [i for i, t in enumerate(self._tracked) if id(t) in self._frozen_ids]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        if state["_backend"] is not None:
            state["_backend"] = get_backend(state["_backend"])
        state["_frozen_ids"] = {id(state["_tracked"][i]) for i in state["_frozen_ids"]}
        # Straight into __dict__: __setattr__'s tracking already happened before pickling.
        self.__dict__.update(state)


def _first_tensor(x: Any) -> Tensor | None:
    if isinstance(x, Tensor):
        return x
    items = x.values() if isinstance(x, dict) else x if isinstance(x, (list, tuple)) else ()
    for item in items:
        t = _first_tensor(item)
        if t is not None:
            return t
    return None


def _shape_of(x: Any) -> Any:
    if isinstance(x, Tensor):
        return x.shape
    if isinstance(x, dict):
        return {k: _shape_of(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_shape_of(v) for v in x]
    return None


class Dense(Layer):
    """A fully connected layer: ``activation(inputs @ kernel + bias)``.

    ``kernel`` has shape ``(input_dim, units)`` and starts glorot-uniform;
    ``bias`` has shape ``(units,)`` and starts at zero (Keras' defaults).
    ``activation`` is a name (``"relu"``, ``"softmax"``, ...), a callable or None.
    Inputs of rank > 2 are multiplied along their last axis.
    """

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 input_dim: int | None = None, kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, **kwargs: Any) -> None:
        if input_dim is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_dim,)
        super().__init__(**kwargs)
        self._regularizers = {"kernel": regularizers_module.get(kernel_regularizer),
                              "bias": regularizers_module.get(bias_regularizer)}
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise InvalidArgumentError(f"Dense: units must be a positive int, got {units!r}")
        self.units = int(units)
        self.activation = activations_module.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers_module.get(kernel_initializer)
        self.bias_initializer = initializers_module.get(bias_initializer)
        self.kernel: Variable | None = None
        self.bias: Variable | None = None

    def build(self, input_shape: Any) -> None:
        if isinstance(input_shape, list):
            input_shape = tuple(input_shape)  # Keras code builds with lists: build([2])
        if not isinstance(input_shape, tuple) or len(input_shape) < 1 or input_shape[-1] is None:
            raise ShapeError(f"Dense {self.name!r}: needs inputs with a known last dimension, "
                             f"got shape {input_shape}")
        self.kernel = self.add_weight((input_shape[-1], self.units), self.kernel_initializer,
                                      name="kernel", regularizer=self._regularizers["kernel"])
        if self.use_bias:
            self.bias = self.add_weight((self.units,), self.bias_initializer, name="bias",
                                        regularizer=self._regularizers["bias"])
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        if inputs.ndim < 1 or inputs.shape[-1] != self.kernel.shape[0]:
            raise ShapeError(f"Dense {self.name!r}: expected inputs whose last dimension is "
                             f"{self.kernel.shape[0]}, got shape {inputs.shape}")
        y = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units,
                "activation": activations_module.serialize(self.activation),
                "use_bias": self.use_bias}


class Activation(Layer):
    """Applies an activation (a name or a callable) to its input."""

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations_module.get(activation)

    def call(self, inputs: Tensor) -> Tensor:
        return self.activation(inputs)


class Flatten(Layer):
    """Reshapes ``(batch, d1, d2, ...)`` to ``(batch, d1 * d2 * ...)``."""

    def call(self, inputs: Tensor) -> Tensor:
        if inputs.ndim == 0:
            raise ShapeError(f"Flatten {self.name!r}: needs a batch dimension, got a scalar")
        return ops.reshape(inputs, (inputs.shape[0], -1) if inputs.ndim != 1 else (-1, 1))

    def compute_output_shape(self, input_shape: Any) -> Any:
        rest = input_shape[1:]
        size = None if any(s is None for s in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs while training and scales the rest by
    ``1 / (1 - rate)``; the identity otherwise. Masks are drawn with
    :mod:`polytape.random` (so ``pt.random.set_seed`` makes them repeat)."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise InvalidArgumentError(f"Dropout: rate must be in [0, 1), got {rate}")
        self.rate = float(rate)
        self.seed = seed

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        if not training or self.rate == 0.0:
            return inputs
        return inputs * _dropout_scale(inputs, self.rate, self.seed)


@tracing.effectful  # inside pt.function: a fresh mask on every call
def _dropout_scale(inputs: Tensor, rate: float, seed: int | None) -> Tensor:
    """A random mask like ``inputs``: 0 with probability ``rate``, else ``1 / (1 - rate)``."""
    rng = pt_random.host_generator(seed)
    keep = rng.random(inputs.shape) >= rate
    return constant(keep / (1.0 - rate), dtype=inputs.dtype, backend=inputs._backend,
                    device=inputs.device)


class InputLayer(Layer):
    """Declares the input shape of a :class:`~polytape.nn.Sequential` (its first entry).

    ``shape`` excludes the batch dimension, as in Keras.
    """

    def __init__(self, shape: Sequence[int | None] | None = None, batch_size: int | None = None,
                 dtype: Any = None, name: str | None = None, input_shape: Any = None) -> None:
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise InvalidArgumentError("InputLayer: give the input shape (without the batch "
                                       "dimension), e.g. InputLayer(shape=(4,))")
        shape = (shape,) if isinstance(shape, (int, np.integer)) else shape
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype, input_shape=shape)
        self.batch_size = batch_size
        self.shape = (batch_size,) + tuple(shape)

    def call(self, inputs: Tensor) -> Tensor:
        return inputs


def Input(shape: Sequence[int | None] | int, batch_size: int | None = None, dtype: Any = None,
          name: str | None = None) -> InputLayer:
    """An :class:`InputLayer` for the first entry of a ``Sequential`` (Keras' ``Input``).

    polytape has no functional (graph-of-layers) API: ``Input`` only declares a
    ``Sequential``'s input shape.
    """
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name)
