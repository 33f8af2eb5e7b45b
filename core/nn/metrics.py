"""Metrics for ``compile(metrics=[...])``: running means over batches, Keras-style.

A metric object accumulates with ``update_state(y_true, y_pred)``, reports with
``result()`` and starts over with ``reset_state()``. Metrics are not
differentiated, so their arithmetic runs on the host in float64 (one transfer of
the batch's predictions), which keeps the numbers identical on every backend.

``"accuracy"`` (or ``"acc"``) is resolved from the shapes of the first batch,
as Keras does: binary accuracy for one output column, sparse categorical
accuracy when labels have one dimension fewer (or a trailing 1), otherwise
categorical accuracy.

>>> import polytape as pt
>>> m = pt.nn.metrics.BinaryAccuracy()
>>> m.update_state([[1.0], [0.0]], [[0.9], [0.8]])
>>> float(m.result())
0.5
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..creation import constant
from ..dtypes import float32
from ..errors import InvalidArgumentError
from ..tensor import Tensor
from . import losses as losses_module

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "MeanSquaredError",
           "MeanAbsoluteError", "accuracy", "binary_accuracy", "categorical_accuracy",
           "sparse_categorical_accuracy", "get"]


def _host(x: Any) -> np.ndarray:
    return np.asarray(x.numpy() if isinstance(x, Tensor) else x, dtype=np.float64)


def _same_rank(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if t.ndim == p.ndim + 1 and t.shape[-1] == 1:
        t = t[..., 0]
    elif p.ndim == t.ndim + 1 and p.shape[-1] == 1:
        t = t[..., None]
    return t, p


# -- per-sample functions (host arrays in, host arrays out) -------------------------------------
def accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where ``y_true == y_pred`` exactly, averaged over the last axis."""
    t, p = _same_rank(_host(y_true), _host(y_pred))
    return np.mean(t == p, axis=-1) if p.ndim else (t == p).astype(np.float64)


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> np.ndarray:
    """1.0 where ``(y_pred > threshold) == y_true``, averaged over the last axis."""
    t, p = _same_rank(_host(y_true), _host(y_pred))
    hit = t == (p > threshold)
    return np.mean(hit, axis=-1) if hit.ndim else hit.astype(np.float64)


def categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where the arg-max of one-hot ``y_true`` equals the arg-max of ``y_pred``."""
    t, p = _host(y_true), _host(y_pred)
    return (np.argmax(t, axis=-1) == np.argmax(p, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> np.ndarray:
    """1.0 where the integer label equals the arg-max of ``y_pred``."""
    t, p = _host(y_true), _host(y_pred)
    if t.ndim == p.ndim and t.shape[-1] == 1:
        t = t[..., 0]
    return (t == np.argmax(p, axis=-1)).astype(np.float64)


# -- stateful metrics ---------------------------------------------------------------------------
class Metric:
    """Base class: ``update_state``, ``result`` (a float32 scalar tensor), ``reset_state``."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or type(self).__name__.lower()

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        """Add a batch."""
        raise NotImplementedError

    def result(self) -> Tensor:
        """The value so far."""
        raise NotImplementedError

    def reset_state(self) -> None:
        """Forget every batch."""
        raise NotImplementedError

    def reset_states(self) -> None:
        """TensorFlow 2's spelling of :meth:`reset_state`."""
        self.reset_state()

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def __repr__(self) -> str:
        return f"<polytape.nn.metrics.{type(self).__name__} name={self.name!r}>"


class Mean(Metric):
    """The (weighted) mean of every value given to ``update_state(values, sample_weight)``."""

    def __init__(self, name: str = "mean") -> None:
        super().__init__(name)
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        v = _host(values)
        if sample_weight is None:
            self.total += float(v.sum())
            self.count += float(v.size)
            return
        sw = _host(sample_weight)
        while sw.ndim < v.ndim:
            sw = sw[..., None]
        w = np.broadcast_to(sw, v.shape)
        self.total += float((v * w).sum())
        self.count += float(w.sum())

    def result(self) -> Tensor:
        return constant(self.total / self.count if self.count else 0.0, dtype=float32)

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0


class MeanMetricWrapper(Mean):
    """The mean over batches of a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name or getattr(fn, "__name__", "metric"))
        self.fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        super().update_state(self.fn(y_true, y_pred, **self._fn_kwargs), sample_weight)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly."""

    def __init__(self, name: str = "accuracy") -> None:
        super().__init__(accuracy, name)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 label."""

    def __init__(self, name: str = "binary_accuracy", threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of ``y_pred`` matches that of one-hot labels."""

    def __init__(self, name: str = "categorical_accuracy") -> None:
        super().__init__(categorical_accuracy, name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of ``y_pred`` matches integer labels."""

    def __init__(self, name: str = "sparse_categorical_accuracy") -> None:
        super().__init__(sparse_categorical_accuracy, name)


class MeanSquaredError(MeanMetricWrapper):
    """The mean squared error over every batch so far."""

    def __init__(self, name: str = "mean_squared_error") -> None:
        super().__init__(losses_module.mean_squared_error, name)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean absolute error over every batch so far."""

    def __init__(self, name: str = "mean_absolute_error") -> None:
        super().__init__(losses_module.mean_absolute_error, name)


class _AutoAccuracy(MeanMetricWrapper):
    """``"accuracy"``: which accuracy is decided by the first batch's shapes (as Keras does)."""

    def __init__(self, name: str) -> None:
        super().__init__(accuracy, name)
        self._resolved = False

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        if not self._resolved:
            t_shape = tuple(np.shape(y_true.numpy() if isinstance(y_true, Tensor) else y_true))
            p_shape = tuple(np.shape(y_pred.numpy() if isinstance(y_pred, Tensor) else y_pred))
            if p_shape and p_shape[-1] == 1:
                self.fn = binary_accuracy
            elif len(t_shape) < len(p_shape) or (t_shape and t_shape[-1] == 1):
                self.fn = sparse_categorical_accuracy
            else:
                self.fn = categorical_accuracy
            self._resolved = True
        super().update_state(y_true, y_pred, sample_weight)


_BY_NAME: dict[str, Callable[[str], Metric]] = {
    "binary_accuracy": lambda n: BinaryAccuracy(n),
    "categorical_accuracy": lambda n: CategoricalAccuracy(n),
    "sparse_categorical_accuracy": lambda n: SparseCategoricalAccuracy(n),
    "mse": lambda n: MeanSquaredError(n), "mean_squared_error": lambda n: MeanSquaredError(n),
    "mae": lambda n: MeanAbsoluteError(n), "mean_absolute_error": lambda n: MeanAbsoluteError(n),
    "accuracy": lambda n: _AutoAccuracy(n), "acc": lambda n: _AutoAccuracy(n),
}


def get(identifier: Any) -> Metric:
    """A metric object from a name (named as given, e.g. ``"accuracy"``), a :class:`Metric`
    (returned as is) or a per-sample function (wrapped in a :class:`MeanMetricWrapper`)."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        make = _BY_NAME.get(identifier.lower())
        if make is None:
            raise InvalidArgumentError(f"unknown metric {identifier!r}; polytape has "
                                       f"{sorted(_BY_NAME)}, a Metric or a function")
        return make(identifier)
    if callable(identifier):
        # Mean.update_state brings the values to the host; the function itself is kept, so
        # the metric pickles whenever the function does.
        return MeanMetricWrapper(identifier)
    raise InvalidArgumentError(f"a metric is a name, a Metric or a function, got {identifier!r}")
