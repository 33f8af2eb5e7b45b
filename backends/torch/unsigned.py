"""Kernels for torch's uint16, uint32 and uint64, which it stores but hardly computes with.

torch 2.x has these dtypes with few CPU kernels: ``add``, comparisons, ``max``, ``flip``,
``index_add``, ``neg``, ``//``, ``%``, shifts and more raise "not implemented for
'UInt32'". When a kernel refuses an unsigned input, :func:`unsigned_retry` computes it
exactly another way: uint16 and uint32 in the next wider signed type (int32, int64), which
holds every value, cast back where the result has the input's dtype (wrapping around as
unsigned arithmetic does); uint64, which no signed type holds, through NumPy on the CPU
(its arrays share the tensor's memory). On another device uint64 stays unsupported and the
kernel's error stands (a ``TypeError``, so polytape raises ``DTypeError``).

The retry happens only after torch refused, so the dtypes torch supports pay nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

__all__ = ["UNSIGNED", "unsigned_retry"]

UNSIGNED = frozenset({torch.uint16, torch.uint32, torch.uint64})
_WIDER = {torch.uint16: torch.int32, torch.uint32: torch.int64}
# Ops whose result is an index, not a value of the input's dtype: never cast back.
_INDEX_RESULTS = frozenset({"argmax", "argmin"})
_numpy_kernels: dict[str, Callable[..., Any]] = {}


def _unsigned_dtype(args: tuple) -> torch.dtype | None:
    for a in args:
        if isinstance(a, torch.Tensor) and a.dtype in UNSIGNED:
            return a.dtype
    return None


def _requested_unsigned(args: tuple, kwargs: dict) -> torch.dtype | None:
    # A creation kernel (arange, full, ...) asked for an unsigned dtype it cannot make.
    for a in (*args, *kwargs.values()):
        if isinstance(a, torch.dtype) and a in UNSIGNED:
            return a
    return None


def _created_wider(kernel: Callable[..., Any], dt: torch.dtype, args: tuple, kwargs: dict) -> Any:
    # The values are made in a signed type (int64 for uint64: creation values are small
    # non-negative numbers) and cast, which torch can do for every unsigned dtype.
    wide = _WIDER.get(dt, torch.int64)
    swap = (lambda a: wide if a is dt else a)
    return kernel(*map(swap, args), **{k: swap(v) for k, v in kwargs.items()}).to(dt)


def unsigned_retry(name: str, kernel: Callable[..., Any], args: tuple,
                   kwargs: dict) -> tuple[bool, Any]:
    """``(True, result)`` of ``kernel`` on ``args`` computed around torch's missing
    unsigned kernels, or ``(False, None)`` when no input is uint16/32/64 (or uint64 is
    off the CPU) and the original error should stand."""
    dt = _unsigned_dtype(args)
    if dt is None:
        requested = _requested_unsigned(args, kwargs)
        if requested is None:
            return False, None
        return True, _created_wider(kernel, requested, args, kwargs)
    wide = _WIDER.get(dt)
    if wide is not None:
        widened = tuple(a.to(wide) if isinstance(a, torch.Tensor) and a.dtype == dt else a
                        for a in args)
        out = kernel(*widened, **kwargs)
        if isinstance(out, torch.Tensor) and out.dtype == wide and name not in _INDEX_RESULTS:
            out = out.to(dt)
        return True, out
    if any(isinstance(a, torch.Tensor) and a.device.type != "cpu" for a in args):
        return False, None
    fn = _numpy_kernel(name)
    out = fn(*(a.numpy() if isinstance(a, torch.Tensor) else a for a in args), **kwargs)
    return True, torch.from_numpy(np.array(out))  # a copy: NumPy scalars and views are read-only


def _numpy_kernel(name: str) -> Callable[..., Any]:
    fn = _numpy_kernels.get(name)
    if fn is None:
        from polytape.backends.numpy.kernels import make_kernels  # NumPy is always there

        _numpy_kernels.update(make_kernels())
        fn = _numpy_kernels[name]
    return fn
