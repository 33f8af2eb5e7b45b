"""NumPy's convolution and pooling kernels: windows as a strided view
(``sliding_window_view``, no copy), contracted with ``tensordot`` (one BLAS call on an
im2col copy NumPy makes itself); the transposes add each window position back with one
strided slice assignment, ``kh * kw`` in all.

The op table's layout and attributes (``polytape.convolution_kernels``): NHWC inputs,
HWIO filters, explicit ``((top, bottom), (left, right))`` padding. Half-precision inputs
are computed in float32 and rounded once (NumPy has no float16/bfloat16 BLAS).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from polytape.convolution_kernels import output_size

__all__ = ["kernels"]

Pads = tuple[tuple[int, int], tuple[int, int]]


def _wide(*xs: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(x.astype(np.float32) if x.dtype.itemsize < 4 else x for x in xs)


def _narrowed(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    def kernel(*arrays: np.ndarray, **attrs: Any) -> np.ndarray:
        out = fn(*_wide(*arrays), **attrs)
        return out if out.dtype == arrays[0].dtype else out.astype(arrays[0].dtype)
    kernel.__name__ = kernel.__qualname__ = fn.__name__
    kernel.__doc__ = fn.__doc__
    return kernel


def _padded(x: np.ndarray, padding: Pads, value: float = 0.0) -> np.ndarray:
    if padding == ((0, 0), (0, 0)):
        return x
    return np.pad(x, ((0, 0), *padding, (0, 0)), constant_values=value)


def _windows(xp: np.ndarray, ksize: tuple[int, int], strides: tuple[int, int],
             dilations: tuple[int, int], out: tuple[int, int]) -> np.ndarray:
    """A view ``(N, oh, ow, C, kh, kw)`` of the padded ``xp``'s windows."""
    span = [(k - 1) * d + 1 for k, d in zip(ksize, dilations)]
    v = sliding_window_view(xp, span, axis=(1, 2))
    return v[:, :strides[0] * (out[0] - 1) + 1:strides[0], :strides[1] * (out[1] - 1) + 1:strides[1],
             :, ::dilations[0], ::dilations[1]]


def _position(i: int, j: int, strides: tuple[int, int], dilations: tuple[int, int],
              out: tuple[int, int]) -> tuple[slice, ...]:
    r0, c0 = i * dilations[0], j * dilations[1]
    return (slice(None), slice(r0, r0 + strides[0] * (out[0] - 1) + 1, strides[0]),
            slice(c0, c0 + strides[1] * (out[1] - 1) + 1, strides[1]))


def _cropped(acc: np.ndarray, padding: Pads, size: tuple[int, int]) -> np.ndarray:
    (top, _), (left, _) = padding
    return np.ascontiguousarray(acc[:, top:top + size[0], left:left + size[1]])


def _zeros_padded(n: int, size: tuple[int, int], padding: Pads, c: int, dtype: Any) -> np.ndarray:
    return np.zeros((n, size[0] + sum(padding[0]), size[1] + sum(padding[1]), c), dtype)


def _out(size: Any, padding: Pads, ksize: Any, strides: Any, dilations: Any) -> tuple[int, int]:
    return (output_size(size[0], padding[0], ksize[0], strides[0], dilations[0]),
            output_size(size[1], padding[1], ksize[1], strides[1], dilations[1]))


@_narrowed
def conv2d(x: np.ndarray, w: np.ndarray, strides: tuple[int, int], padding: Pads,
           dilations: tuple[int, int]) -> np.ndarray:
    """Cross-correlation of NHWC ``x`` with HWIO ``w``."""
    out = _out(x.shape[1:3], padding, w.shape[:2], strides, dilations)
    if 0 in out or 0 in x.shape:
        return np.zeros((x.shape[0], *out, w.shape[3]), x.dtype)
    win = _windows(_padded(x, padding), w.shape[:2], strides, dilations, out)
    return np.tensordot(win, w, axes=((4, 5, 3), (0, 1, 2)))


@_narrowed
def conv2d_transpose(dy: np.ndarray, w: np.ndarray, input_size: tuple[int, int],
                     strides: tuple[int, int], padding: Pads,
                     dilations: tuple[int, int]) -> np.ndarray:
    """:func:`conv2d`'s gradient with respect to its input."""
    n, oh, ow, _ = dy.shape
    kh, kw, c, _ = w.shape
    acc = _zeros_padded(n, input_size, padding, c, dy.dtype)
    if dy.size:
        cols = np.tensordot(dy, w, axes=((3,), (3,)))  # (N, oh, ow, kh, kw, C)
        for i in range(kh):
            for j in range(kw):
                acc[_position(i, j, strides, dilations, (oh, ow))] += cols[:, :, :, i, j]
    return _cropped(acc, padding, input_size)


@_narrowed
def conv2d_backprop_filter(x: np.ndarray, dy: np.ndarray, filter_size: tuple[int, int],
                           strides: tuple[int, int], padding: Pads,
                           dilations: tuple[int, int]) -> np.ndarray:
    """:func:`conv2d`'s gradient with respect to its filters."""
    if not dy.size or not x.size:
        return np.zeros((*filter_size, x.shape[3], dy.shape[3]), x.dtype)
    win = _windows(_padded(x, padding), filter_size, strides, dilations, dy.shape[1:3])
    gw = np.tensordot(win, dy, axes=((0, 1, 2), (0, 1, 2)))  # (C, kh, kw, O)
    return np.ascontiguousarray(gw.transpose(1, 2, 0, 3))


def _pool_windows(x: np.ndarray, ksize: tuple[int, int], strides: tuple[int, int],
                  padding: Pads, fill: float) -> tuple[np.ndarray, tuple[int, int]]:
    """``(N, oh, ow, C, kh * kw)`` windows of ``x`` padded with ``fill``, and ``(oh, ow)``."""
    out = _out(x.shape[1:3], padding, ksize, strides, (1, 1))
    win = _windows(_padded(x, padding, fill), ksize, strides, (1, 1), out)
    return win.reshape(*win.shape[:4], ksize[0] * ksize[1]), out


def _empty_pool(x: np.ndarray, ksize: Any, strides: Any, padding: Pads, dtype: Any) -> Any:
    out = _out(x.shape[1:3], padding, ksize, strides, (1, 1))
    if 0 in out or 0 in x.shape:
        return np.zeros((x.shape[0], *out, x.shape[3]), dtype)
    return None


def max_pool2d(x: np.ndarray, ksize: tuple[int, int], strides: tuple[int, int],
               padding: Pads) -> np.ndarray:
    """The maximum of each window (padding is -inf)."""
    empty = _empty_pool(x, ksize, strides, padding, x.dtype)
    if empty is not None:
        return empty
    out = _out(x.shape[1:3], padding, ksize, strides, (1, 1))
    return _windows(_padded(x, padding, -np.inf), ksize, strides, (1, 1), out).max(axis=(4, 5))


def _argmax(x: np.ndarray, ksize: tuple[int, int], strides: tuple[int, int],
            padding: Pads) -> tuple[np.ndarray, tuple[int, int]]:
    # argmax picks the first maximum in row-major window order, as TensorFlow's MaxPoolGrad.
    win, out = _pool_windows(x, ksize, strides, padding, -np.inf)
    return win.argmax(axis=4), out


def max_pool2d_grad(x: np.ndarray, g: np.ndarray, ksize: tuple[int, int],
                    strides: tuple[int, int], padding: Pads) -> np.ndarray:
    """``g`` routed to each window's first maximum of ``x``."""
    acc = _zeros_padded(x.shape[0], x.shape[1:3], padding, x.shape[3], g.dtype)
    if x.size and g.size:
        first, out = _argmax(x, ksize, strides, padding)
        zero = np.zeros((), g.dtype)
        for p in range(ksize[0] * ksize[1]):
            i, j = divmod(p, ksize[1])
            acc[_position(i, j, strides, (1, 1), out)] += np.where(first == p, g, zero)
    return _cropped(acc, padding, x.shape[1:3])


def max_pool2d_grad_grad(x: np.ndarray, t: np.ndarray, ksize: tuple[int, int],
                         strides: tuple[int, int], padding: Pads) -> np.ndarray:
    """``t`` read at each window's first maximum of ``x``."""
    empty = _empty_pool(x, ksize, strides, padding, t.dtype)
    if empty is not None:
        return empty
    first, _ = _argmax(x, ksize, strides, padding)
    tw, _ = _pool_windows(t, ksize, strides, padding, 0.0)
    return np.take_along_axis(tw, first[..., None], axis=4)[..., 0]


def _counts(size: Any, ksize: Any, strides: Any, padding: Pads, dtype: Any) -> np.ndarray:
    ones, _ = _pool_windows(np.ones((1, *size, 1), dtype), ksize, strides, padding, 0.0)
    return ones.sum(axis=4)


@_narrowed
def avg_pool2d(x: np.ndarray, ksize: tuple[int, int], strides: tuple[int, int],
               padding: Pads) -> np.ndarray:
    """The mean of each window over the input elements it holds."""
    empty = _empty_pool(x, ksize, strides, padding, x.dtype)
    if empty is not None:
        return empty
    win, _ = _pool_windows(x, ksize, strides, padding, 0.0)
    return win.sum(axis=4) / _counts(x.shape[1:3], ksize, strides, padding, x.dtype)


@_narrowed
def avg_pool2d_grad(g: np.ndarray, input_size: tuple[int, int], ksize: tuple[int, int],
                    strides: tuple[int, int], padding: Pads) -> np.ndarray:
    """:func:`avg_pool2d`'s transpose: each window's ``g / count`` spread over it."""
    acc = _zeros_padded(g.shape[0], input_size, padding, g.shape[3], g.dtype)
    if g.size:
        share = g / _counts(input_size, ksize, strides, padding, g.dtype)
        for i in range(ksize[0]):
            for j in range(ksize[1]):
                acc[_position(i, j, strides, (1, 1), g.shape[1:3])] += share
    return _cropped(acc, padding, input_size)


def kernels() -> dict[str, Callable[..., np.ndarray]]:
    """The op-name -> kernel mapping of these kernels."""
    return {"conv2d": conv2d, "conv2d_transpose": conv2d_transpose,
            "conv2d_backprop_filter": conv2d_backprop_filter, "max_pool2d": max_pool2d,
            "max_pool2d_grad": max_pool2d_grad, "max_pool2d_grad_grad": max_pool2d_grad_grad,
            "avg_pool2d": avg_pool2d, "avg_pool2d_grad": avg_pool2d_grad}
