"""Keras' training callbacks ``EarlyStopping``, ``ModelCheckpoint`` and
``LearningRateScheduler``, with Keras 3's rules (which epoch stops, what is saved)."""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

from ..errors import InvalidArgumentError
from .callbacks import Callback

__all__ = ["EarlyStopping", "ModelCheckpoint", "LearningRateScheduler"]


def _mode(name: str, mode: str, monitor: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise InvalidArgumentError(f"{name}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    # Keras' rule: accuracy-like quantities grow, everything else (losses) shrinks.
    return "max" if "acc" in monitor or monitor.endswith("auc") else "min"


def _monitored(name: str, monitor: str, logs: dict[str, float] | None) -> float | None:
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{name}: the monitored quantity {monitor!r} is not in the logs "
                      f"(available: {sorted(logs or {})}); skipping", stacklevel=3)
    return value


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs; ``restore_best_weights`` puts the best epoch's weights back."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, int(patience), verbose
        self.mode = _mode("EarlyStopping", mode, monitor)
        self.min_delta = abs(float(min_delta)) * (1 if self.mode == "max" else -1)
        self.baseline, self.restore_best_weights = baseline, bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self.stopped_epoch = 0
        self.best_epoch = 0

    def _better(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        if self.mode == "max":
            return value - self.min_delta > reference
        return value - self.min_delta < reference

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        current = _monitored("EarlyStopping", self.monitor, logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (``model.save``) or its weights (``save_weights_only=True``) after each
    epoch to ``filepath``, which may name ``{epoch}`` and logged values (``{val_loss:.2f}``);
    ``save_best_only`` saves only when ``monitor`` improves."""

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: Any = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        super().__init__()
        if save_freq != "epoch":
            raise InvalidArgumentError("ModelCheckpoint: polytape does not provide save_freq "
                                       "other than 'epoch'")
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = bool(save_best_only), bool(save_weights_only)
        self.mode = _mode("ModelCheckpoint", mode, monitor)
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        if self.save_best_only:
            current = _monitored("ModelCheckpoint", self.monitor, logs)
            if current is None:
                return
            better = self.best is None or (current > self.best if self.mode == "max"
                                           else current < self.best)
            if not better:
                return
            self.best = current
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate to ``schedule(epoch, lr)`` (or ``schedule(epoch)``)
    before each epoch."""

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise InvalidArgumentError("LearningRateScheduler: schedule must be callable")
        self.schedule, self.verbose = schedule, verbose
        try:
            self._two_args = len(inspect.signature(schedule).parameters) >= 2
        except (TypeError, ValueError):
            self._two_args = True

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        opt = self.model.optimizer
        lr = float(opt.learning_rate)
        new = self.schedule(epoch, lr) if self._two_args else self.schedule(epoch)
        new = float(new)
        if not math.isfinite(new):
            raise InvalidArgumentError(f"LearningRateScheduler: schedule returned {new} for "
                                       f"epoch {epoch}")
        opt.learning_rate = new

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)
