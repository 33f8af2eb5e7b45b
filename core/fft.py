"""The Array API's ``fft`` extension (2024.12): ``pt.fft.fft``, ``ifft``, ``fftn``,
``ifftn``, ``rfft``, ``irfft``, ``rfftn``, ``irfftn``, ``hfft``, ``ihfft``, ``fftfreq``,
``rfftfreq``, ``fftshift``, ``ifftshift``.

Four table ops do the transforms (``fftn``, ``ifftn``, ``rfftn``, ``irfftn``; their rules
are at the end of :mod:`polytape.derivatives`); the one-dimensional functions are those
ops on one axis, ``hfft``/``ihfft`` are ``irfft``/``rfft`` around a ``conj`` (as NumPy
defines them), and the shifts are ``roll``. So every function is differentiable in both
modes, with TensorFlow's complex-gradient convention (``docs/architecture.md``, *The
tape*): the VJP of ``fft`` with the default norm is ``n * ifft`` of the cotangent.

``fft``/``ifft``/``fftn``/``ifftn`` take complex input (real and integer inputs are made
complex first, float64 to complex128, others to complex64), ``rfft``/``rfftn``/``ihfft``
real input (integers and 16-bit floats compute in float32), ``irfft``/``irfftn``/``hfft``
complex input. ``n``/``s`` pad with zeros or crop; ``norm`` is ``"backward"`` (default),
``"ortho"`` or ``"forward"``.

>>> import polytape as pt
>>> pt.fft.fft(pt.constant([1.0, 2.0, 3.0, 4.0])).numpy().tolist()
[(10+0j), (-2+2j), (-2+0j), (-2-2j)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .arguments import int_arg, normalize_axis, one_axis
from .creation import constant
from .dispatch import complex_refused, run, unary_operand
from .dtypes import complex_of, default_float, float32, float64
from .elementwise import cast, conj
from .errors import InvalidArgumentError, ShapeError
from .manipulation import roll
from .optable import OPS
from .tensor import Tensor

__all__ = ["fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft", "ihfft",
           "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_NORMS = ("backward", "ortho", "forward")
_SWAPPED = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _norm(op: str, norm: Any) -> str:
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise InvalidArgumentError(f"{op}: norm must be one of {', '.join(map(repr, _NORMS))}, "
                                   f"got {norm!r}")
    return norm


def _complex(x: Tensor) -> Tensor:
    return x if x.dtype.is_complex else cast(x, complex_of(x.dtype))


def _real(op: str, x: Tensor) -> Tensor:
    if x.dtype.is_complex:
        raise complex_refused(op, x.dtype)
    return x if x.dtype in (float32, float64) else cast(x, float32)


def _lengths(op: str, s: Any, axes: tuple[int, ...], default: tuple[int, ...]) -> tuple[int, ...]:
    if s is None:
        return default
    s = tuple(int_arg(op, "s", n) for n in s)
    if len(s) != len(axes):
        raise ShapeError(f"{op}: s {s} and axes {axes} differ in length")
    s = tuple(d if n == -1 else n for n, d in zip(s, default))
    if any(n < 1 for n in s):
        raise ShapeError(f"{op}: transform lengths must be at least 1, got s={s}")
    return s


def _axes(op: str, x: Tensor, axes: Any, s: Any) -> tuple[int, ...]:
    if axes is None:
        if s is not None:  # the standard: the last len(s) axes
            return tuple(range(x.ndim - len(tuple(s)), x.ndim))
        return tuple(range(x.ndim))
    given = tuple(axes) if isinstance(axes, Sequence) else (axes,)
    if not given:
        raise ShapeError(f"{op}: needs at least one axis")
    normalize_axis(given, x.ndim, op)  # in range, no repeats
    # The order matters (rfftn/irfftn halve the last axis given): keep the caller's.
    return tuple(one_axis(op, a, x.ndim) for a in given)


def _transform(name: str, x: Tensor, s: tuple[int, ...], axes: tuple[int, ...], norm: str) -> Tensor:
    return run(OPS[name], x._backend, (x,), (x._data,), {"s": s, "axes": axes, "norm": norm})


def _nd(name: str, x: Any, s: Any, axes: Any, norm: Any) -> Tensor:
    x = unary_operand(x)
    x = _real(name, x) if name == "rfftn" else _complex(x)
    if x.ndim == 0:
        raise ShapeError(f"{name}: needs at least one dimension")
    ax = _axes(name, x, axes, s)
    default = tuple(x.shape[a] for a in ax)
    if name == "irfftn":
        default = default[:-1] + (2 * (default[-1] - 1),)
    lengths = _lengths(name, s, ax, default)
    if name == "irfftn" and lengths[-1] < 1:
        raise ShapeError(f"{name}: the output length along axis {ax[-1]} must be at least 1")
    return _transform(name, x, lengths, ax, _norm(name, norm))


def _one(name: str, x: Any, n: Any, axis: int, norm: Any) -> Tensor:
    x = unary_operand(x)
    if x.ndim == 0:
        raise ShapeError(f"{name}: needs at least one dimension")
    a = one_axis(name, axis, x.ndim)
    s = None if n is None else (int_arg(name, "n", n),)
    return _nd(name, x, s, (a,), norm)


def fft(x: Any, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The one-dimensional discrete Fourier transform along ``axis`` (length ``n``)."""
    return _one("fftn", x, n, axis, norm)


def ifft(x: Any, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The inverse of :func:`fft`."""
    return _one("ifftn", x, n, axis, norm)


def fftn(x: Any, /, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
         norm: str = "backward") -> Tensor:
    """The n-dimensional discrete Fourier transform over ``axes`` (all by default)."""
    return _nd("fftn", x, s, axes, norm)


def ifftn(x: Any, /, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: str = "backward") -> Tensor:
    """The inverse of :func:`fftn`."""
    return _nd("ifftn", x, s, axes, norm)


def rfft(x: Any, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The transform of real input: the ``n // 2 + 1`` non-negative frequency terms."""
    return _one("rfftn", x, n, axis, norm)


def irfft(x: Any, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The inverse of :func:`rfft`: a real signal of length ``n`` (default ``2 * (m - 1)``)."""
    return _one("irfftn", x, n, axis, norm)


def rfftn(x: Any, /, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
          norm: str = "backward") -> Tensor:
    """The n-dimensional transform of real input (the last axis halved, as :func:`rfft`)."""
    return _nd("rfftn", x, s, axes, norm)


def irfftn(x: Any, /, *, s: Sequence[int] | None = None, axes: Sequence[int] | None = None,
           norm: str = "backward") -> Tensor:
    """The inverse of :func:`rfftn`."""
    return _nd("irfftn", x, s, axes, norm)


def hfft(x: Any, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The transform of a Hermitian-symmetric signal given by its first half: real output,
    ``irfft(conj(x))`` with the norm's direction swapped (as NumPy defines it)."""
    x = _complex(unary_operand(x))
    return irfft(conj(x), n=n, axis=axis, norm=_SWAPPED[_norm("hfft", norm)])


def ihfft(x: Any, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Tensor:
    """The inverse of :func:`hfft`: ``conj(rfft(x))`` with the norm's direction swapped."""
    return conj(rfft(x, n=n, axis=axis, norm=_SWAPPED[_norm("ihfft", norm)]))


def _frequencies(values: np.ndarray, dtype: Any, device: Any) -> Tensor:
    return constant(values, dtype=default_float if dtype is None else dtype, device=device)


def fftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Tensor:
    """The sample frequencies of :func:`fft` for length ``n`` and sample spacing ``d``."""
    n = int_arg("fftfreq", "n", n)
    if n < 1:
        raise ShapeError(f"fftfreq: n must be at least 1, got {n}")
    return _frequencies(np.fft.fftfreq(n, d), dtype, device)


def rfftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Tensor:
    """The sample frequencies of :func:`rfft` for length ``n`` and sample spacing ``d``."""
    n = int_arg("rfftfreq", "n", n)
    if n < 1:
        raise ShapeError(f"rfftfreq: n must be at least 1, got {n}")
    return _frequencies(np.fft.rfftfreq(n, d), dtype, device)


def _shift(op: str, x: Any, axes: Any, sign: int) -> Tensor:
    x = unary_operand(x)
    ax = tuple(range(x.ndim)) if axes is None else tuple(
        one_axis(op, a, x.ndim) for a in (axes if isinstance(axes, Sequence) else (axes,)))
    if not ax:
        return x
    shifts = tuple(sign * (x.shape[a] // 2) for a in ax)
    return roll(x, shifts, axis=ax)


def fftshift(x: Any, /, *, axes: int | Sequence[int] | None = None) -> Tensor:
    """The zero-frequency term moved to the centre (a ``roll`` by half of each axis)."""
    return _shift("fftshift", x, axes, 1)


def ifftshift(x: Any, /, *, axes: int | Sequence[int] | None = None) -> Tensor:
    """The inverse of :func:`fftshift`."""
    return _shift("ifftshift", x, axes, -1)
