"""Weight initializers with Keras 3's names and formulas (``"glorot_uniform"``, ``"zeros"``, ...).

An initializer is called as ``init(shape, dtype=None, backend=None)`` and returns
a tensor. Random ones draw from :mod:`polytape.random` (on the host), so a seeded
model starts from the same weights on every backend. As in Keras 3, an
initializer built with ``seed=`` gives the same values every time it is called;
without a seed it draws from the process-wide generator (see
:func:`polytape.random.set_seed`).

>>> import polytape as pt
>>> w = pt.nn.initializers.GlorotUniform(seed=0)((3, 2))
>>> bool((abs(w.numpy()) <= (6 / 5) ** 0.5).all())
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import random as pt_random
from ..creation import constant
from ..dtypes import as_dtype, float32
from ..errors import InvalidArgumentError
from ..tensor import Tensor

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeNormal",
           "HeUniform", "LecunNormal", "LecunUniform", "get", "compute_fans"]


def compute_fans(shape: Sequence[int]) -> tuple[float, float]:
    """``(fan_in, fan_out)`` of a weight shape, as Keras computes them.

    A matrix ``(in, out)`` gives ``(in, out)``; a convolution kernel
    ``(*spatial, in, out)`` multiplies both by the receptive field size.
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class Initializer:
    """Base class: ``__call__(shape, dtype=None, backend=None) -> Tensor``."""

    def __call__(self, shape: Sequence[int], dtype: Any = None, backend: Any = None) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


class Constant(Initializer):
    """Every entry equals ``value``."""

    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def __call__(self, shape, dtype=None, backend=None):
        return constant(np.full(_shape(shape), self.value), dtype=as_dtype(dtype or float32),
                        backend=backend)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class Zeros(Constant):
    """All zeros (Keras' default bias initializer)."""

    def __init__(self) -> None:
        super().__init__(0.0)

    def get_config(self) -> dict[str, Any]:
        return {}


class Ones(Constant):
    """All ones."""

    def __init__(self) -> None:
        super().__init__(1.0)

    def get_config(self) -> dict[str, Any]:
        return {}


class RandomNormal(Initializer):
    """Normal samples with ``mean`` and ``stddev`` (Keras default stddev 0.05)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None, backend=None):
        return pt_random.normal(_shape(shape), self.mean, self.stddev, dtype=dtype or float32,
                                seed=self.seed, backend=backend)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal samples redrawn beyond two ``stddev`` (Keras default stddev 0.05)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None, backend=None):
        return pt_random.truncated_normal(_shape(shape), self.mean, self.stddev,
                                          dtype=dtype or float32, seed=self.seed, backend=backend)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    """Uniform samples on ``[minval, maxval)`` (Keras default ``[-0.05, 0.05)``)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None) -> None:
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None, backend=None):
        return pt_random.uniform(_shape(shape), self.minval, self.maxval, dtype=dtype or float32,
                                 seed=self.seed, backend=backend)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    """Samples with variance ``scale / n``, ``n`` the fan in, fan out or their mean.

    ``distribution`` is ``"truncated_normal"`` (stddev corrected for the
    truncation, as in Keras), ``"untruncated_normal"`` or ``"uniform"`` (limit
    ``sqrt(3 * scale / n)``).
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None) -> None:
        if scale <= 0:
            raise InvalidArgumentError(f"VarianceScaling: scale must be > 0, got {scale}")
        if mode not in self._MODES:
            raise InvalidArgumentError(f"VarianceScaling: mode must be one of {self._MODES}, "
                                       f"got {mode!r}")
        if distribution not in self._DISTRIBUTIONS:
            raise InvalidArgumentError(f"VarianceScaling: distribution must be one of "
                                       f"{self._DISTRIBUTIONS}, got {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None, backend=None):
        shp = _shape(shape)
        fan_in, fan_out = compute_fans(shp)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        dt = dtype or float32
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return pt_random.uniform(shp, -limit, limit, dtype=dt, seed=self.seed, backend=backend)
        if self.distribution == "untruncated_normal":
            return pt_random.normal(shp, 0.0, math.sqrt(variance), dtype=dt, seed=self.seed,
                                    backend=backend)
        # The stddev of a standard normal truncated to [-2, 2].
        stddev = math.sqrt(variance) / 0.87962566103423978
        return pt_random.truncated_normal(shp, 0.0, stddev, dtype=dt, seed=self.seed,
                                          backend=backend)

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _variant(name: str, scale: float, mode: str, distribution: str, doc: str) -> type:
    def __init__(self: VarianceScaling, seed: int | None = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self: VarianceScaling) -> dict[str, Any]:
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc, "__module__": __name__})


GlorotUniform = _variant("GlorotUniform", 1.0, "fan_avg", "uniform",
                         "Uniform on ``[-l, l]``, ``l = sqrt(6 / (fan_in + fan_out))`` "
                         "(Keras' default kernel initializer).")
GlorotNormal = _variant("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                        "Truncated normal, stddev ``sqrt(2 / (fan_in + fan_out))``.")
HeNormal = _variant("HeNormal", 2.0, "fan_in", "truncated_normal",
                    "Truncated normal, stddev ``sqrt(2 / fan_in)``.")
HeUniform = _variant("HeUniform", 2.0, "fan_in", "uniform",
                     "Uniform on ``[-l, l]``, ``l = sqrt(6 / fan_in)``.")
LecunNormal = _variant("LecunNormal", 1.0, "fan_in", "truncated_normal",
                       "Truncated normal, stddev ``sqrt(1 / fan_in)``.")
LecunUniform = _variant("LecunUniform", 1.0, "fan_in", "uniform",
                        "Uniform on ``[-l, l]``, ``l = sqrt(3 / fan_in)``.")

_BY_NAME: dict[str, type] = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
}


def get(identifier: Any) -> Any:
    """An initializer from a name (``"glorot_uniform"``, ``"zeros"``, ...), an instance or
    any callable ``(shape, dtype) -> array``."""
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _BY_NAME:  # Keras also accepts the class names ("GlorotUniform")
            key = next((k for k, v in _BY_NAME.items() if v.__name__.lower() == key), key)
        cls = _BY_NAME.get(key)
        if cls is None:
            raise InvalidArgumentError(f"unknown initializer {identifier!r}; polytape has "
                                       f"{sorted(_BY_NAME)}")
        return cls()
    if callable(identifier):
        return identifier
    raise InvalidArgumentError(f"an initializer is a name, an Initializer or a callable, "
                               f"got {identifier!r}")
