"""``Model`` (subclass it and write ``call``) and ``Sequential``, with Keras' training loop:
``compile``, ``fit``, ``evaluate``, ``predict``, ``summary``.

Training is the GradientTape loop a user would write by hand: per batch, run the
model under a tape, compute the compiled loss, take its gradient with respect
to ``trainable_variables`` and hand the pairs to the optimizer. Inputs stay on
their backend: batches are gathered there with integer indices (the shuffling
order is drawn on the host from :mod:`polytape.random`'s generator, so
``pt.random.set_seed`` makes ``fit`` repeatable on every backend).

>>> import numpy as np
>>> import polytape as pt
>>> model = pt.nn.Sequential([pt.nn.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> history = model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=2, verbose=0)
>>> len(history.history["loss"])
2
"""

from __future__ import annotations

import math
import os
import pickle
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import optimizers as optimizers_module
from .. import random as pt_random
from ..creation import constant
from ..errors import InvalidArgumentError, ShapeError, unsupported
from ..tape import GradientTape
from ..tensor import Tensor
from . import losses as losses_module
from . import metrics as metrics_module
from .callbacks import Callback, CallbackList, History, Progbar, ProgbarLogger
from .layers import InputLayer, Layer, unique_name

__all__ = ["Model", "Sequential", "load_model"]

# Accepted by Keras' compile for graph-mode tuning; polytape runs eagerly, so they do nothing.
_IGNORED_COMPILE_ARGS = ("run_eagerly", "jit_compile", "steps_per_execution")


def _verbosity(verbose: Any) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise InvalidArgumentError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def _sample_weights(y: Tensor, class_weight: Any, sample_weight: Any, n: int) -> Any:
    """Per-sample loss weights from Keras' ``class_weight`` and ``sample_weight`` (None: all 1)."""
    if class_weight is None and sample_weight is None:
        return None
    w = np.ones(n, dtype=np.float32)
    if sample_weight is not None:
        sw = np.asarray(sample_weight.numpy() if isinstance(sample_weight, Tensor)
                        else sample_weight, dtype=np.float32).reshape(-1)
        if sw.shape[0] != n:
            raise ShapeError(f"fit: sample_weight has {sw.shape[0]} entries for {n} samples")
        w = w * sw
    if class_weight is not None:
        if not isinstance(class_weight, dict):
            raise InvalidArgumentError(f"fit: class_weight must be a dict {{class: weight}}, "
                                       f"got {class_weight!r}")
        labels = np.asarray(y.numpy())
        if labels.ndim > 1:  # one-hot (Keras takes the argmax) or a trailing axis of 1
            labels = labels.argmax(-1) if labels.shape[-1] != 1 else labels[..., 0]
        labels = np.round(labels).astype(np.int64).reshape(n)
        w = w * np.array([class_weight.get(int(c), 1.0) for c in labels], dtype=np.float32)
    return constant(w, backend=y._backend)


def _as_data(x: Any, name: str) -> Tensor:
    if x is None:
        raise InvalidArgumentError(f"{name} is required")
    t = x if isinstance(x, Tensor) else constant(np.asarray(x) if not np.isscalar(x) else x)
    if t.ndim == 0:
        raise ShapeError(f"{name} needs a batch dimension, got a scalar")
    return t


class Model(Layer):
    """A layer with a training loop. Subclass it, create layers in ``__init__`` and
    write ``call(inputs, training=False)``; or use :class:`Sequential`.

    ``compile(optimizer, loss, metrics)`` then ``fit``, ``evaluate``, ``predict``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise InvalidArgumentError(
                "polytape has no functional API (Model(inputs, outputs)); subclass Model and "
                "write call(), or use Sequential")
        super().__init__(**kwargs)
        self.optimizer: optimizers_module.Optimizer | None = None
        self.loss: Any = None
        self.compiled = False
        self.stop_training = False
        self.history: History | None = None
        self._loss_fn: Callable[..., Tensor] | None = None
        self._metrics: list[metrics_module.Metric] = []

    # -- compile ---------------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Sequence[Any] | None = None,
                **kwargs: Any) -> None:
        """Choose the optimizer (a name or an instance), the loss (a name like ``"mse"``,
        ``"binary_crossentropy"``, ``"sparse_categorical_crossentropy"``, a
        :class:`~polytape.nn.losses.Loss` or a function ``(y_true, y_pred)``) and the
        metrics (names like ``"accuracy"``, ``"mae"``, or metric objects)."""
        unsupported({k: v for k, v in kwargs.items() if k not in _IGNORED_COMPILE_ARGS},
                    "Model.compile")
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        if loss is None:
            self._loss_fn = None
        else:
            fn = losses_module.get(loss)
            self._loss_fn = fn if isinstance(fn, losses_module.Loss) else \
                losses_module.LossFunctionWrapper(fn)
        if isinstance(metrics, (str, metrics_module.Metric)) or callable(metrics):
            metrics = [metrics]
        self._metrics = [metrics_module.get(m) for m in (metrics or [])]
        self.compiled = True

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *metric names]``, the order ``evaluate`` returns them in."""
        return ["loss"] + [m.name for m in self._metrics]

    def compute_loss(self, y: Any, y_pred: Tensor, sample_weight: Any = None) -> Tensor:
        """The compiled loss of one batch (weighted per sample by ``sample_weight``)."""
        if self._loss_fn is None:
            raise InvalidArgumentError("this model has no loss: call compile(loss=...) first")
        return self._loss_fn(y, y_pred, sample_weight=sample_weight)

    def _check_compiled(self, what: str) -> None:
        if not self.compiled:
            raise InvalidArgumentError(f"{what}: call model.compile(optimizer=..., loss=...) first")

    # -- one batch --------------------------------------------------------------------------------
    def train_step(self, x: Tensor, y: Tensor, sample_weight: Any = None) -> tuple[float, Tensor]:
        """One optimizer step on a batch: ``(loss value, predictions)``."""
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y, y_pred, sample_weight)
            for penalty in self.losses:  # weight regularizers
                loss = loss + penalty
        variables = self.trainable_variables
        if not variables:
            raise InvalidArgumentError("fit: the model has no trainable variables")
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return float(loss), y_pred

    def train_on_batch(self, x: Any, y: Any, return_dict: bool = False) -> Any:
        """One optimizer step on ``(x, y)``; returns the loss (and metrics) of that batch."""
        self._check_compiled("train_on_batch")
        x, y = _as_data(x, "x"), _as_data(y, "y")
        self._reset_metrics()
        loss, y_pred = self.train_step(x, y)
        self._update_metrics(y, y_pred)
        return self._results({"loss": loss}, return_dict)

    def test_on_batch(self, x: Any, y: Any, return_dict: bool = False) -> Any:
        """The loss (and metrics) of ``(x, y)`` without training."""
        self._check_compiled("test_on_batch")
        x, y = _as_data(x, "x"), _as_data(y, "y")
        self._reset_metrics()
        y_pred = self(x, training=False)
        loss = float(self.compute_loss(y, y_pred))
        self._update_metrics(y, y_pred)
        return self._results({"loss": loss}, return_dict)

    def predict_on_batch(self, x: Any) -> np.ndarray:
        """The model's outputs for one batch, as a NumPy array."""
        return np.asarray(self(_as_data(x, "x"), training=False).numpy())

    # -- whole datasets ---------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: Sequence[Callback] | None = None,
            validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
            class_weight: dict[int, float] | None = None, sample_weight: Any = None,
            initial_epoch: int = 0, steps_per_epoch: int | None = None,
            **kwargs: Any) -> History:
        """Train for ``epochs`` passes over ``(x, y)`` in batches of ``batch_size`` (32).

        ``shuffle`` reorders the samples every epoch; ``validation_split`` holds out
        the *last* fraction of the samples (before shuffling, as Keras does) and
        ``validation_data=(x_val, y_val)`` gives them explicitly: either adds
        ``val_loss`` (and ``val_<metric>``) to the logs. ``verbose=1`` prints a
        progress bar per epoch, ``2`` one line per epoch, ``0`` nothing. Returns a
        :class:`~polytape.nn.callbacks.History` (also kept as ``model.history``).

        ``class_weight`` (``{class: weight}``) and ``sample_weight`` weigh each sample's
        loss, as in Keras. ``steps_per_epoch`` limits the batches per epoch; the next epoch
        goes on from the next batch (wrapping around), as Keras 3 does with arrays.
        Weight regularizers' penalties (``layer.losses``) are added to the loss.
        """
        unsupported(kwargs, "Model.fit")
        self._check_compiled("fit")
        if self._loss_fn is None:
            raise InvalidArgumentError("fit: the model was compiled without a loss")
        verbose = _verbosity(verbose)
        x, y = _as_data(x, "x"), _as_data(y, "y")
        n = x.shape[0]
        if y.shape[0] != n:
            raise ShapeError(f"fit: x has {n} samples, y has {y.shape[0]}")
        batch_size = self._batch_size(batch_size)
        weights = _sample_weights(y, class_weight, sample_weight, n)
        val = None
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise InvalidArgumentError("fit: validation_data must be a tuple (x_val, y_val)")
            val = (_as_data(validation_data[0], "x_val"), _as_data(validation_data[1], "y_val"))
        elif validation_split:
            if not 0.0 < validation_split < 1.0:
                raise InvalidArgumentError(f"fit: validation_split must be in (0, 1), got "
                                           f"{validation_split}")
            split_at = int(math.floor(n * (1.0 - validation_split)))
            if split_at == 0 or split_at == n:
                raise InvalidArgumentError(
                    f"fit: validation_split={validation_split} leaves no samples for "
                    f"{'training' if split_at == 0 else 'validation'} out of {n}")
            val = (x[split_at:], y[split_at:])
            x, y, n = x[:split_at], y[:split_at], split_at
            weights = None if weights is None else weights[:split_at]
        steps = math.ceil(n / batch_size)
        if steps_per_epoch is not None:
            if isinstance(steps_per_epoch, bool) or int(steps_per_epoch) <= 0:
                raise InvalidArgumentError(f"fit: steps_per_epoch must be a positive int, got "
                                           f"{steps_per_epoch!r}")
            steps = int(steps_per_epoch)
        cursor = 0  # with steps_per_epoch, epochs go on where the previous one stopped
        history = History()
        cbs = list(callbacks or [])
        if verbose:
            cbs.append(ProgbarLogger(verbose))
        cbs.append(history)
        run = CallbackList(cbs, self, {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        run.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            run.on_epoch_begin(epoch)
            self._reset_metrics()
            order = pt_random.host_generator().permutation(n) if shuffle else None
            total, seen = 0.0, 0
            logs: dict[str, float] = {}
            for step in range(steps):
                if steps_per_epoch is None:
                    lo, hi = step * batch_size, min(n, (step + 1) * batch_size)
                else:
                    lo = (cursor % math.ceil(n / batch_size)) * batch_size
                    hi = min(n, lo + batch_size)
                    cursor += 1
                idx = order[lo:hi] if order is not None else slice(lo, hi)
                xb, yb = x[idx], y[idx]
                wb = None if weights is None else weights[idx]
                run.on_train_batch_begin(step)
                loss, y_pred = self.train_step(xb, yb, wb)
                total += loss * (hi - lo)
                seen += hi - lo
                self._update_metrics(yb, y_pred)
                logs = {"loss": total / seen, **self._metric_values()}
                run.on_train_batch_end(step, logs)
            if val is not None:
                val_logs = self._evaluate_tensors(val[0], val[1], batch_size)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            run.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        run.on_train_end()
        self.history = history
        return history

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: Any = "auto", return_dict: bool = False) -> Any:
        """The loss (and metrics) over ``(x, y)``, batch by batch, without training.

        Returns the loss alone when no metrics were compiled, else ``[loss, *metrics]``
        (a dict with ``return_dict=True``).
        """
        self._check_compiled("evaluate")
        verbose = _verbosity(verbose)
        x, y = _as_data(x, "x"), _as_data(y, "y")
        if y.shape[0] != x.shape[0]:
            raise ShapeError(f"evaluate: x has {x.shape[0]} samples, y has {y.shape[0]}")
        bs = self._batch_size(batch_size)
        results = self._evaluate_tensors(x, y, bs)
        if verbose:
            Progbar(math.ceil(x.shape[0] / bs), verbose).update(
                math.ceil(x.shape[0] / bs), results, finalize=True)
        return self._results(results, return_dict)

    # -- saving ----------------------------------------------------------------------------------
    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Write :attr:`weights` to ``filepath`` as a NumPy ``.npz`` archive (whatever the
        extension: arrays ``weight_0``, ``weight_1``, ... in :attr:`weights` order, and
        their names in ``names``). This is polytape's format, not Keras' HDF5."""
        path = os.fspath(filepath)
        if not overwrite and os.path.exists(path):
            raise InvalidArgumentError(f"save_weights: {path!r} exists and overwrite=False")
        arrays = {f"weight_{i}": w for i, w in enumerate(self.get_weights())}
        with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to a name
            np.savez(f, names=np.array([v.name for v in self.weights]), **arrays)

    def load_weights(self, filepath: Any) -> None:
        """Read weights written by :meth:`save_weights` (checked first: a wrong count or
        shape raises and changes nothing). Build the model first (call it once)."""
        with np.load(os.fspath(filepath)) as data:
            count = sum(1 for k in data.files if k.startswith("weight_"))
            self.set_weights([data[f"weight_{i}"] for i in range(count)])

    def save(self, filepath: Any, overwrite: bool = True) -> None:
        """Write the whole model (architecture, weights, optimizer state) to ``filepath``
        with :mod:`pickle` (polytape's format, whatever the extension; read it back with
        :func:`load_model`). Only load files you trust, as with any pickle."""
        path = os.fspath(filepath)
        if not overwrite and os.path.exists(path):
            raise InvalidArgumentError(f"save: {path!r} exists and overwrite=False")
        with open(path, "wb") as f:
            pickle.dump(self, f)

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto") -> np.ndarray:
        """The model's outputs for every sample of ``x``, as one NumPy array."""
        verbose = _verbosity(verbose)
        x = _as_data(x, "x")
        bs = self._batch_size(batch_size)
        n = x.shape[0]
        outs = [np.asarray(self(x[lo:lo + bs], training=False).numpy()) for lo in range(0, n, bs)]
        if verbose:
            Progbar(len(outs), verbose).update(len(outs), finalize=True)
        if not outs:
            raise ShapeError("predict: x has no samples")
        return np.concatenate(outs, axis=0)

    # -- helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _batch_size(batch_size: int | None) -> int:
        if batch_size is None:
            return 32
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size <= 0:
            raise InvalidArgumentError(f"batch_size must be a positive int, got {batch_size!r}")
        return int(batch_size)

    def _evaluate_tensors(self, x: Tensor, y: Tensor, batch_size: int) -> dict[str, float]:
        self._reset_metrics()
        n = x.shape[0]
        total = 0.0
        for lo in range(0, n, batch_size):
            hi = min(n, lo + batch_size)
            y_pred = self(x[lo:hi], training=False)
            total += float(self.compute_loss(y[lo:hi], y_pred)) * (hi - lo)
            self._update_metrics(y[lo:hi], y_pred)
        return {"loss": total / max(n, 1), **self._metric_values()}

    def _reset_metrics(self) -> None:
        for m in self._metrics:
            m.reset_state()

    def _update_metrics(self, y: Tensor, y_pred: Tensor) -> None:
        for m in self._metrics:
            m.update_state(y, y_pred)

    def _metric_values(self) -> dict[str, float]:
        return {m.name: float(m.result()) for m in self._metrics}

    def _results(self, values: dict[str, float], return_dict: bool) -> Any:
        if return_dict:
            return values
        if not self._metrics:
            return values["loss"]
        return [values[k] for k in self.metrics_names]

    # -- description --------------------------------------------------------------------------------
    def summary(self, print_fn: Callable[[str], Any] | None = None) -> None:
        """Print a table of the layers, their output shapes and parameter counts."""
        out = print_fn or print
        rows = []
        for layer in self.layers:
            shape = layer._output_shape
            shape_text = str(shape).replace(",)", ")") if shape is not None else "?"
            params = layer.count_params() if layer.built else 0
            rows.append((f"{layer.name} ({type(layer).__name__})", shape_text, str(params)))
        width = (34, 26, 12)
        rule = "_" * sum(width)
        out(f'Model: "{self.name}"')
        out(rule)
        out(f"{'Layer (type)':<{width[0]}}{'Output Shape':<{width[1]}}{'Param #':>{width[2]}}")
        out("=" * sum(width))
        for name, shape_text, params in rows:
            out(f"{name:<{width[0]}}{shape_text:<{width[1]}}{params:>{width[2]}}")
        out("=" * sum(width))
        trainable = sum(v.size for v in self.trainable_weights)
        frozen = sum(v.size for v in self.non_trainable_weights)
        out(f"Total params: {_params_text(trainable + frozen, self.weights)}")
        out(f"Trainable params: {_params_text(trainable, self.trainable_weights)}")
        out(f"Non-trainable params: {_params_text(frozen, self.non_trainable_weights)}")
        out(rule)


def _params_text(count: int, variables: list[Any]) -> str:
    nbytes = sum(v.size * v.dtype.bits // 8 for v in variables)
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{count} ({nbytes:.2f} {unit})"
        nbytes /= 1024
    return str(count)


class Sequential(Model):
    """A stack of layers, each feeding the next (Keras' ``Sequential``).

    >>> import polytape as pt
    >>> model = pt.nn.Sequential([pt.nn.Dense(4, activation="relu"), pt.nn.Dense(1)])
    >>> model(pt.ones((2, 3))).shape
    (2, 1)
    """

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name=name or unique_name("sequential"), **kwargs)
        self._stack: list[Layer] = []
        for layer in layers or ():
            self.add(layer)

    def add(self, layer: Layer) -> None:
        """Append a layer (an :class:`~polytape.nn.InputLayer` only as the first one)."""
        if not isinstance(layer, Layer):
            raise InvalidArgumentError(f"Sequential.add expects a Layer, got "
                                       f"{type(layer).__name__} {layer!r}")
        if isinstance(layer, InputLayer) and self._stack:
            raise InvalidArgumentError("Sequential: an InputLayer can only be the first layer")
        self._stack.append(layer)
        self._track(layer)
        self.built = False
        if self._declared_input_shape() is not None:
            self.build()  # Keras builds as soon as the input shape is known

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise InvalidArgumentError("Sequential.pop: there are no layers")
        layer = self._stack.pop()
        self._tracked[:] = [t for t in self._tracked if t is not layer]
        return layer

    @property
    def layers(self) -> list[Layer]:
        """The layers in order (an input layer is not listed, as in Keras)."""
        return [la for la in self._stack if not isinstance(la, InputLayer)]

    def _declared_input_shape(self) -> tuple[int | None, ...] | None:
        if self._stack:
            first = self._stack[0]
            if isinstance(first, InputLayer):
                return first.shape
            return first._input_shape_hint
        return None

    def build(self, input_shape: Any = None) -> None:
        """Create every layer's weights for inputs of ``input_shape`` (batch dimension
        first; ``None`` entries allowed), by running zeros of that shape through."""
        shape = input_shape if input_shape is not None else self._declared_input_shape()
        if shape is None:
            raise InvalidArgumentError("Sequential.build needs an input shape, e.g. "
                                       "model.build((None, 4))")
        probe = tuple(1 if s is None else int(s) for s in shape)
        if not self.built:
            self.built = True
            self(constant(np.zeros(probe, dtype=np.float32), backend=self._backend))

    def _build_for_call(self, inputs: Any) -> None:
        pass  # each layer builds itself on the first call, on that input's backend

    def __call__(self, inputs: Any, *args: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if not self._stack:
            raise InvalidArgumentError("Sequential: the model has no layers; add some first")
        return super().__call__(inputs, *args, training=training, **kwargs)

    def call(self, inputs: Any, training: bool = False) -> Any:
        x = inputs
        for layer in self._stack:
            x = layer(x, training=training)
        return x


def load_model(filepath: Any) -> Model:
    """The model :meth:`Model.save` wrote to ``filepath`` (a pickle: load only files you
    trust)."""
    with open(os.fspath(filepath), "rb") as f:
        model = pickle.load(f)
    if not isinstance(model, Model):
        raise InvalidArgumentError(f"load_model: {filepath!r} does not hold a polytape model")
    return model
