"""Training callbacks: ``Callback`` (the hooks ``fit`` calls), ``History`` and the
progress bar ``fit(verbose=1)`` prints.

The progress bar looks like Keras 3's::

    Epoch 1/10
    4/4 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - loss: 9.8765

On a terminal it redraws in place after every batch; when output goes to a file
or a pipe it prints one finished line per epoch. ``verbose=2`` prints one short
line per epoch, ``verbose=0`` nothing.
"""

from __future__ import annotations

import sys
import time
from typing import Any

__all__ = ["Callback", "History", "ProgbarLogger", "Progbar", "CallbackList"]


class Callback:
    """Base class: override the hooks you need; ``self.model`` is the model being trained."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        """Called by ``fit`` before training starts."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """``fit``'s settings: ``epochs``, ``steps``, ``verbose``."""
        self.params = params

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        """Before the first epoch."""

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        """After the last epoch."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Before each epoch (``epoch`` counts from 0)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """After each epoch; ``logs`` holds the epoch's loss, metrics and validation values."""

    def on_train_batch_begin(self, batch: int, logs: dict[str, float] | None = None) -> None:
        """Before each training batch."""

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        """After each training batch; ``logs`` holds the running means of the epoch so far."""


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"]`` is the loss per epoch.

    ``fit`` returns it and also stores it as ``model.history``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class CallbackList:
    """Calls one hook on several callbacks in order."""

    def __init__(self, callbacks: list[Callback], model: Any, params: dict[str, Any]) -> None:
        self.callbacks = callbacks
        for c in callbacks:
            c.set_model(model)
            c.set_params(params)

    def __getattr__(self, hook: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> None:
            for c in self.callbacks:
                getattr(c, hook)(*args, **kwargs)
        return call


def _format_value(v: float) -> str:
    return f"{v:.4f}" if abs(v) > 1e-3 or v == 0 else f"{v:.4e}"


def _format_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.0f}s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms"
    return f"{seconds * 1e6:.0f}us"


class Progbar:
    """A Keras-style progress bar over ``target`` steps, written to ``stream`` (stdout)."""

    WIDTH = 20

    def __init__(self, target: int, verbose: int = 1, stream: Any = None) -> None:
        self.target = target
        self.verbose = verbose
        self.stream = stream if stream is not None else sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.dynamic = bool(isatty and isatty()) or "ipykernel" in sys.modules
        encoding = getattr(self.stream, "encoding", None) or "ascii"
        try:
            "━".encode(encoding)
            self.fill = "━"
        except (UnicodeEncodeError, LookupError):
            self.fill = "="
        self.start = time.perf_counter()

    def _line(self, current: int, values: dict[str, float], with_bar: bool) -> str:
        elapsed = time.perf_counter() - self.start
        per_step = elapsed / max(current, 1)
        total = f"{elapsed:.0f}s"
        parts = f" - {total} - {_format_time(per_step)}/step" if not with_bar \
            else f" {total} {_format_time(per_step)}/step"
        if with_bar:
            done = int(self.WIDTH * current / self.target) if self.target else self.WIDTH
            bar = self.fill * done + " " * (self.WIDTH - done)
            head = f"{current}/{self.target} {bar}"
        else:
            head = f"{current}/{self.target}"
        tail = "".join(f" - {k}: {_format_value(v)}" for k, v in values.items())
        return head + parts + tail

    def update(self, current: int, values: dict[str, float] | None = None,
               finalize: bool = False) -> None:
        """Show progress after ``current`` steps; ``finalize`` ends the line."""
        values = values or {}
        if self.verbose == 1:
            if self.dynamic:
                self.stream.write("\r" + self._line(current, values, True) + ("\n" if finalize else ""))
                self.stream.flush()
            elif finalize:
                self.stream.write(self._line(current, values, True) + "\n")
                self.stream.flush()
        elif self.verbose == 2 and finalize:
            self.stream.write(self._line(current, values, False) + "\n")
            self.stream.flush()


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and a progress bar per epoch (``fit(verbose=1)`` or ``2``)."""

    def __init__(self, verbose: int = 1) -> None:
        super().__init__()
        self.verbose = verbose
        self._bar: Progbar | None = None
        self._last: dict[str, float] = {}
        self._seen = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        sys.stdout.write(f"Epoch {epoch + 1}/{self.params.get('epochs')}\n")
        self._bar = Progbar(self.params.get("steps") or 0, self.verbose)
        self._seen = 0

    def on_train_batch_end(self, batch: int, logs: dict[str, float] | None = None) -> None:
        self._seen = batch + 1
        if self._bar is not None:
            self._bar.update(self._seen, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        if self._bar is not None:
            self._bar.update(self._seen, logs, finalize=True)
