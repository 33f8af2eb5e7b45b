"""Losses with Keras 3's formulas: functions giving one value per sample, and classes
(``MeanSquaredError()``, ...) that reduce those to one scalar.

Numerical care, as in Keras: probabilities are clipped to ``[1e-7, 1 - 1e-7]``
before their log is taken; losses ``from_logits=True`` never form probabilities
at all -- categorical ones use a max-shifted log-softmax and the binary one
``max(x, 0) - x * z + log(1 + exp(-|x|))`` -- so logits of any size give finite
losses and gradients.

>>> import polytape as pt
>>> loss = pt.nn.losses.MeanSquaredError()
>>> float(loss(pt.constant([1.0, 2.0]), pt.constant([1.0, 4.0])))
2.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import ops
from ..creation import constant
from ..dtypes import float32, int32
from ..errors import InvalidArgumentError, ShapeError
from ..tensor import Tensor
from .activations import log_softmax

__all__ = ["EPSILON", "mean_squared_error", "mean_absolute_error", "huber",
           "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
           "mse", "mae", "Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError",
           "Huber", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "get"]

EPSILON = 1e-7
"""Keras' fuzz factor: probabilities are clipped to ``[EPSILON, 1 - EPSILON]``."""


# -- preparing inputs --------------------------------------------------------------------------
def _predictions(y_pred: Any) -> Tensor:
    p = y_pred if isinstance(y_pred, Tensor) else constant(y_pred)
    return p if p.dtype.is_floating else ops.cast(p, float32)


def _targets(y_true: Any, p: Tensor, dtype: Any = None) -> Tensor:
    t = y_true if isinstance(y_true, Tensor) else constant(np.asarray(y_true), backend=p._backend)
    dt = dtype or p.dtype
    return t if t.dtype is dt else ops.cast(t, dt)


def _same_rank(t: Tensor, p: Tensor) -> tuple[Tensor, Tensor]:
    # Keras' squeeze_or_expand_to_same_rank: labels (n,) against predictions (n, 1).
    if t.ndim == p.ndim + 1 and t.shape[-1] == 1:
        if p.ndim == 1:
            p = ops.expand_dims(p, -1)
        else:
            t = ops.squeeze(t, -1)
    elif p.ndim == t.ndim + 1 and p.shape[-1] == 1:
        if t.ndim == 1:
            t = ops.expand_dims(t, -1)
        else:
            p = ops.squeeze(p, -1)
    return t, p


def _prepared(y_true: Any, y_pred: Any, op: str) -> tuple[Tensor, Tensor]:
    p = _predictions(y_pred)
    t, p = _same_rank(_targets(y_true, p), p)
    try:
        np.broadcast_shapes(t.shape, p.shape)
    except ValueError:
        raise ShapeError(f"{op}: y_true has shape {t.shape}, y_pred has shape {p.shape}; "
                         "they must match") from None
    return t, p


def _clipped(p: Tensor) -> Tensor:
    return ops.minimum(ops.maximum(p, EPSILON), 1.0 - EPSILON)


# -- per-sample loss functions ------------------------------------------------------------------
def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean((y_pred - y_true)**2, axis=-1)``: one value per sample."""
    t, p = _prepared(y_true, y_pred, "mean_squared_error")
    return ops.mean(ops.square(p - t), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    """``mean(|y_pred - y_true|, axis=-1)``: one value per sample."""
    t, p = _prepared(y_true, y_pred, "mean_absolute_error")
    return ops.mean(ops.abs(p - t), axis=-1)


mse = mean_squared_error
mae = mean_absolute_error


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    """Quadratic for errors up to ``delta``, linear beyond: mean over the last axis."""
    t, p = _prepared(y_true, y_pred, "huber")
    err = ops.abs(p - t)
    quad = ops.minimum(err, delta)
    return ops.mean(0.5 * quad * quad + delta * (err - quad), axis=-1)


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Binary cross-entropy averaged over ``axis``: one value per sample.

    ``y_pred`` holds probabilities (clipped by :data:`EPSILON`) or, with
    ``from_logits=True``, logits.
    """
    t, p = _prepared(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        per = ops.relu(p) - p * t + ops.log1p(ops.exp(-ops.abs(p)))
    else:
        p = _clipped(p)
        per = -(t * ops.log(p) + (1.0 - t) * ops.log(1.0 - p))
    return ops.mean(per, axis=axis)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """Cross-entropy between one-hot (or soft) targets and predictions along ``axis``.

    Probabilities are renormalised to sum to 1 and clipped by :data:`EPSILON`;
    logits go through a max-shifted log-softmax.
    """
    p = _predictions(y_pred)
    t = _targets(y_true, p)
    if t.shape != p.shape:
        raise ShapeError(f"categorical_crossentropy: y_true has shape {t.shape}, y_pred has "
                         f"shape {p.shape}; they must match (use sparse_categorical_crossentropy "
                         "for integer labels)")
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / p.shape[axis]
    if from_logits:
        logp = log_softmax(p, axis=axis)
    else:
        logp = ops.log(_clipped(p / ops.sum(p, axis=axis, keepdims=True)))
    return -ops.sum(t * logp, axis=axis)


def _one_hot(labels: Any, p: Tensor, axis: int) -> Tensor:
    lab = labels if isinstance(labels, Tensor) else constant(np.asarray(labels), backend=p._backend)
    if lab.ndim == p.ndim and lab.shape[-1] == 1:
        lab = ops.squeeze(lab, -1)
    if axis not in (-1, p.ndim - 1):
        raise InvalidArgumentError("sparse_categorical_crossentropy: only axis=-1 is supported")
    if lab.shape != p.shape[:-1]:
        raise ShapeError(f"sparse_categorical_crossentropy: labels have shape {lab.shape}, "
                         f"predictions {p.shape}; expected labels of shape {p.shape[:-1]}")
    k = p.shape[-1]
    values = np.asarray(lab.numpy())
    if values.size and (values.min() < 0 or values.max() >= k):
        raise InvalidArgumentError(f"sparse_categorical_crossentropy: labels must lie in "
                                   f"[0, {k}), got values from {values.min()} to {values.max()}")
    lab = ops.cast(lab, int32)
    classes = constant(np.arange(k, dtype=np.int32), backend=p._backend, device=p.device)
    return ops.cast(ops.equal(ops.expand_dims(lab, -1), classes), p.dtype)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    axis: int = -1) -> Tensor:
    """Cross-entropy with integer class labels (shape ``y_pred.shape[:-1]``, or with a
    trailing 1); labels outside ``[0, classes)`` raise
    :class:`~polytape.InvalidArgumentError`."""
    p = _predictions(y_pred)
    onehot = _one_hot(y_true, p, axis)
    if from_logits:
        logp = log_softmax(p, axis=-1)
    else:
        logp = ops.log(_clipped(p / ops.sum(p, axis=-1, keepdims=True)))
    return -ops.sum(onehot * logp, axis=-1)


# -- reducing classes ------------------------------------------------------------------------------
_REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "none", None)


class Loss:
    """A loss object: ``loss(y_true, y_pred, sample_weight=None)`` -> a scalar.

    ``reduction``: ``"sum_over_batch_size"`` (Keras' default: the mean of the
    per-sample losses, weighted ones divided by their count, not their weights'
    sum), ``"mean"`` (the same), ``"sum"``, or ``"none"``/``None`` (no reduction).
    Subclasses implement :meth:`call` (per-sample losses).
    """

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = None) -> None:
        if reduction not in _REDUCTIONS:
            raise InvalidArgumentError(f"unknown reduction {reduction!r}; use one of "
                                       f"{[r for r in _REDUCTIONS if r]} or None")
        self.reduction = reduction
        self.name = name or type(self).__name__

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        """Per-sample losses (override it)."""
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        per = self.call(y_true, y_pred)
        if sample_weight is not None:
            w = _targets(sample_weight, per)
            while w.ndim > per.ndim and w.shape[-1] == 1:
                w = ops.squeeze(w, -1)
            while w.ndim < per.ndim:
                w = ops.expand_dims(w, -1)
            per = per * w
        if self.reduction in ("none", None):
            return per
        if self.reduction == "sum":
            return ops.sum(per)
        return ops.mean(per) if per.size else ops.sum(per)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {"name": self.name, "reduction": self.reduction}


class LossFunctionWrapper(Loss):
    """Turns a per-sample function ``fn(y_true, y_pred, **kwargs)`` into a :class:`Loss`."""

    def __init__(self, fn: Callable[..., Tensor], reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(reduction, name or getattr(fn, "__name__", "loss"))
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._fn_kwargs}


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors (Keras' ``MeanSquaredError``)."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_squared_error") -> None:
        super().__init__(mean_squared_error, reduction, name)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors (Keras' ``MeanAbsoluteError``)."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_absolute_error") -> None:
        super().__init__(mean_absolute_error, reduction, name)


class Huber(LossFunctionWrapper):
    """Huber loss with threshold ``delta`` (Keras' ``Huber``)."""

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str = "huber_loss") -> None:
        super().__init__(huber, reduction, name, delta=delta)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy (Keras' ``BinaryCrossentropy``)."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "binary_crossentropy") -> None:
        super().__init__(binary_crossentropy, reduction, name, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy with one-hot targets (Keras' ``CategoricalCrossentropy``)."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size",
                 name: str = "categorical_crossentropy") -> None:
        super().__init__(categorical_crossentropy, reduction, name, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy with integer labels (Keras' ``SparseCategoricalCrossentropy``)."""

    def __init__(self, from_logits: bool = False, reduction: str | None = "sum_over_batch_size",
                 name: str = "sparse_categorical_crossentropy") -> None:
        super().__init__(sparse_categorical_crossentropy, reduction, name, from_logits=from_logits)


_FUNCTIONS: dict[str, Callable[..., Tensor]] = {
    "mse": mean_squared_error, "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error, "mean_absolute_error": mean_absolute_error,
    "huber": huber, "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}
_CLASSES: dict[str, type] = {c.__name__.lower(): c for c in (
    MeanSquaredError, MeanAbsoluteError, Huber, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy)}


def get(identifier: Any) -> Callable[..., Tensor]:
    """A loss from a name: a function for ``"mse"``, ``"mae"``, ``"binary_crossentropy"``,
    ... (case-insensitive), an instance for a class name (``"MeanSquaredError"``);
    callables and :class:`Loss` objects are returned as they are."""
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _FUNCTIONS:
            return _FUNCTIONS[key]
        if key in _CLASSES:
            return _CLASSES[key]()
        raise InvalidArgumentError(f"unknown loss {identifier!r}; polytape has "
                                   f"{sorted(_FUNCTIONS)} or a callable")
    if callable(identifier):
        return identifier
    raise InvalidArgumentError(f"a loss is a name, a Loss or a callable, got {identifier!r}")
