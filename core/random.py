"""Random tensors that are the same on every backend: ``pt.random.normal``, ``uniform``, ``set_seed``.

Every number is drawn on the host with NumPy's :class:`numpy.random.Generator`
(PCG64), in float64, and then cast to the requested dtype and moved to the
backend. So the same seed gives the same numbers on NumPy, PyTorch, CuPy or any
plugin backend -- backends' own generators differ from each other, which is why
polytape does not use them. The price is one host-to-device copy per call, which
only matters for very large tensors drawn on a GPU every step.

Seeds work like this:

* ``seed=`` on a call makes that call a pure function of the seed: the same seed
  gives the same numbers on every call (like TensorFlow's ``stateless_*`` ops and
  Keras 3's seeded initializers; TensorFlow's stateful ``tf.random.normal(seed=1)``
  would advance instead);
* without ``seed=``, draws come from one process-wide generator; :func:`set_seed`
  restarts it, so a program that calls ``set_seed(0)`` first draws the same
  sequence on every run and every backend. Until ``set_seed`` is called the
  generator is seeded from the operating system's entropy.

>>> import polytape as pt
>>> a = pt.random.normal((2, 3), seed=7)
>>> b = pt.random.normal((2, 3), seed=7)
>>> bool((a == b).numpy().all())
True
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import tracing
from .creation import _shape as _creation_shape
from .creation import constant
from .dtypes import DType, as_dtype, float32
from .errors import DTypeError, InvalidArgumentError, ShapeError
from .ops import getitem
from .tensor import Tensor

__all__ = ["normal", "uniform", "truncated_normal", "shuffle", "set_seed", "get_seed",
           "host_generator"]

_lock = threading.Lock()
_state: dict[str, Any] = {"seed": None, "generator": np.random.default_rng()}


def set_seed(seed: int | None) -> None:
    """Restart the process-wide generator from ``seed`` (``None``: fresh OS entropy).

    Calls without ``seed=`` -- and Keras-style initializers, dropout and ``fit``'s
    shuffling, which draw from the same generator -- then repeat exactly.

    >>> import polytape as pt
    >>> pt.random.set_seed(1); a = pt.random.uniform((3,))
    >>> pt.random.set_seed(1); b = pt.random.uniform((3,))
    >>> a.numpy().tolist() == b.numpy().tolist()
    True
    """
    if seed is not None:
        seed = _seed_value(seed)
    with _lock:
        _state["seed"] = seed
        _state["generator"] = np.random.default_rng(seed)


def get_seed() -> int | None:
    """The seed last given to :func:`set_seed` (``None`` if never set or reset to entropy)."""
    return _state["seed"]


def host_generator(seed: int | None = None) -> np.random.Generator:
    """The NumPy generator a draw uses: a fresh one for an explicit ``seed``, else the
    process-wide one (shared with initializers, dropout and ``fit``'s shuffling)."""
    if seed is not None:
        return np.random.default_rng(_seed_value(seed))
    return _state["generator"]


def _seed_value(seed: Any) -> int:
    if isinstance(seed, Tensor):
        seed = seed.numpy()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise InvalidArgumentError(f"a seed must be a non-negative int, got {seed!r}")
    if seed < 0:
        raise InvalidArgumentError(f"a seed must be a non-negative int, got {seed}")
    return int(seed)


def _shape(shape: Any, op: str) -> tuple[int, ...]:
    return _creation_shape(shape, f"random.{op}")


def _number(value: Any, what: str, op: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"random.{op}: {what} must be a number, got {value!r}") from None


def _float_dtype(dtype: Any, op: str) -> DType:
    dt = as_dtype(dtype)
    if not dt.is_floating:
        raise DTypeError(f"random.{op}: dtype must be a floating-point type, got {dt}")
    return dt


def _draw(n: int, rng: np.random.Generator) -> np.ndarray:
    with _lock:  # a Generator is not thread-safe
        return rng.standard_normal(n)


@tracing.effectful  # inside pt.function: a fresh draw on every call
def normal(shape: Sequence[int] | int, mean: float = 0.0, stddev: float = 1.0,
           dtype: Any = float32, seed: int | None = None, backend: Any = None,
           device: str | None = None) -> Tensor:
    """Samples of a normal distribution with ``mean`` and standard deviation ``stddev``.

    >>> import polytape as pt
    >>> pt.random.normal((2,), seed=0).shape
    (2,)
    """
    shp = _shape(shape, "normal")
    dt = _float_dtype(dtype, "normal")
    mu, sigma = _number(mean, "mean", "normal"), _number(stddev, "stddev", "normal")
    values = _draw(math.prod(shp), host_generator(seed)).reshape(shp) * sigma + mu
    return constant(values, dtype=dt, backend=backend, device=device)


@tracing.effectful  # inside pt.function: a fresh draw on every call
def truncated_normal(shape: Sequence[int] | int, mean: float = 0.0, stddev: float = 1.0,
                     dtype: Any = float32, seed: int | None = None, backend: Any = None,
                     device: str | None = None) -> Tensor:
    """Normal samples redrawn until they lie within two ``stddev`` of ``mean`` (as in TensorFlow)."""
    shp = _shape(shape, "truncated_normal")
    dt = _float_dtype(dtype, "truncated_normal")
    mu = _number(mean, "mean", "truncated_normal")
    sigma = _number(stddev, "stddev", "truncated_normal")
    rng = host_generator(seed)
    n = math.prod(shp)
    values = _draw(n, rng)
    bad = np.abs(values) > 2.0
    while bad.any():
        values[bad] = _draw(int(bad.sum()), rng)
        bad = np.abs(values) > 2.0
    return constant(values.reshape(shp) * sigma + mu, dtype=dt, backend=backend, device=device)


@tracing.effectful  # inside pt.function: a fresh draw on every call
def uniform(shape: Sequence[int] | int, minval: float = 0.0, maxval: float | None = None,
            dtype: Any = float32, seed: int | None = None, backend: Any = None,
            device: str | None = None) -> Tensor:
    """Samples uniform on ``[minval, maxval)``; ``maxval`` defaults to 1 for floats.

    Integer dtypes need an explicit ``maxval`` (as in TensorFlow).

    >>> import polytape as pt
    >>> x = pt.random.uniform((100,), minval=-1.0, maxval=1.0, seed=3)
    >>> bool(((x >= -1.0) & (x < 1.0)).numpy().all())
    True
    """
    shp = _shape(shape, "uniform")
    dt = as_dtype(dtype)
    rng = host_generator(seed)
    if dt.is_integer:
        if maxval is None:
            raise InvalidArgumentError(f"random.uniform: an integer dtype ({dt}) needs maxval")
        lo, hi = int(minval), int(maxval)
        if hi <= lo:
            raise InvalidArgumentError(f"random.uniform: needs minval < maxval, got {lo} and {hi}")
        with _lock:
            values = rng.integers(lo, hi, size=shp, dtype=np.int64)
        return constant(values, dtype=dt, backend=backend, device=device)
    if not dt.is_floating:
        raise DTypeError(f"random.uniform: dtype must be a float or integer type, got {dt}")
    lo = _number(minval, "minval", "uniform")
    hi = 1.0 if maxval is None else _number(maxval, "maxval", "uniform")
    if hi < lo:
        raise InvalidArgumentError(f"random.uniform: needs minval <= maxval, got {lo} and {hi}")
    with _lock:
        values = rng.random(size=shp)
    return constant(lo + (hi - lo) * values, dtype=dt, backend=backend, device=device)


@tracing.effectful  # inside pt.function: a fresh draw on every call
def shuffle(value: Any, seed: int | None = None) -> Tensor:
    """``value`` with its first dimension randomly permuted (not differentiable through the order).

    >>> import polytape as pt
    >>> sorted(pt.random.shuffle(pt.constant([1, 2, 3]), seed=0).numpy().tolist())
    [1, 2, 3]
    """
    t = value if isinstance(value, Tensor) else constant(value)
    if t.ndim == 0:
        raise ShapeError("random.shuffle: needs a tensor with at least one dimension")
    rng = host_generator(seed)
    with _lock:
        order = rng.permutation(t.shape[0])
    return getitem(t, order)
