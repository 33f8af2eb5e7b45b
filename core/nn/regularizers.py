"""Keras' weight regularizers: ``L1``, ``L2``, ``L1L2`` and the names ``"l1"``, ``"l2"``,
``"l1_l2"`` (Keras' default factors, 0.01). A layer adds ``regularizer(weight)`` to its
``losses``; ``fit`` adds them to the training loss."""

from __future__ import annotations

from typing import Any

from .. import ops
from ..errors import InvalidArgumentError
from ..tensor import Tensor

__all__ = ["Regularizer", "L1", "L2", "L1L2", "get"]


class Regularizer:
    """``l1 * sum(|w|) + l2 * sum(w ** 2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w: Tensor) -> Tensor:
        total = None
        if self.l1:
            total = self.l1 * ops.sum(ops.abs(w))
        if self.l2:
            term = self.l2 * ops.sum(ops.square(w))
            total = term if total is None else total + term
        return ops.sum(w) * 0.0 if total is None else total

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|w|)``."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)


class L2(Regularizer):
    """``l2 * sum(w ** 2)``."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)


class L1L2(Regularizer):
    """Both penalties (Keras' defaults: 0.0 each)."""


def get(identifier: Any) -> Regularizer | None:
    """A regularizer from a name (``"l1"``, ``"l2"``, ``"l1_l2"``), an instance, a callable
    or None."""
    if identifier is None or isinstance(identifier, Regularizer) or callable(identifier):
        return identifier
    names = {"l1": L1, "l2": L2, "l1_l2": lambda: L1L2(0.01, 0.01)}
    if isinstance(identifier, str) and identifier.lower() in names:
        return names[identifier.lower()]()
    raise InvalidArgumentError(f"unknown regularizer {identifier!r}; polytape has "
                               f"{sorted(names)} or a callable")
