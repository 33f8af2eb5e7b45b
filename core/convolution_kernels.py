"""Default kernels of the convolution and pooling ops, composed from other kernels.

A backend without its own convolution (array-api-strict, CuPy, a third-party backend) runs
these: strided ``getitem`` windows of the padded input stacked into patches (im2col), one
``matmul`` with the flattened filters, and ``index_add`` of each window position back for
the transposes. Every function takes the backend's kernel mapping ``k`` first, then the
op's arrays and attributes, as ``default_kernel`` does (docs/architecture.md, *The op
table*). The layout is the op table's: NHWC inputs, HWIO filters, and ``padding`` as
explicit ``((top, bottom), (left, right))`` pairs (the front end resolves ``"SAME"``).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["output_size", "conv2d", "conv2d_transpose", "conv2d_backprop_filter", "max_pool2d",
           "max_pool2d_grad", "max_pool2d_grad_grad", "avg_pool2d", "avg_pool2d_grad"]

Pads = tuple[tuple[int, int], tuple[int, int]]


def output_size(size: int, pads: tuple[int, int], k: int, stride: int, dilation: int) -> int:
    """Output length of one spatial axis of length ``size`` padded by ``pads``."""
    span = (k - 1) * dilation + 1
    padded = size + pads[0] + pads[1]
    return (padded - span) // stride + 1 if padded >= span else 0


def _window_index(i: int, j: int, strides: tuple[int, int], dilations: tuple[int, int],
                  out: tuple[int, int]) -> tuple[slice, ...]:
    """The index of window position ``(i, j)`` in every output window of a padded NHWC array."""
    (sh, sw), (dh, dw), (oh, ow) = strides, dilations, out
    r0, c0 = i * dh, j * dw
    return (slice(None), slice(r0, r0 + sh * (oh - 1) + 1, sh),
            slice(c0, c0 + sw * (ow - 1) + 1, sw), slice(None))


def _positions(ksize: tuple[int, int]) -> list[tuple[int, int]]:
    return [(i, j) for i in range(ksize[0]) for j in range(ksize[1])]


def _padded(k: Any, x: Any, padding: Pads, value: float = 0.0) -> Any:
    if padding == ((0, 0), (0, 0)):
        return x
    return k["pad"](x, ((0, 0), *padding, (0, 0)), constant_value=value)


def _windows(k: Any, xp: Any, ksize: tuple[int, int], strides: tuple[int, int],
             dilations: tuple[int, int], out: tuple[int, int]) -> Any:
    """The padded NHWC ``xp`` cut into windows: ``(N, oh, ow, kh * kw, C)``."""
    parts = [k["getitem"](xp, _window_index(i, j, strides, dilations, out))
             for i, j in _positions(ksize)]
    return k["stack"](*parts, axis=3)


def _scatter_windows(k: Any, acc: Any, values: Any, ksize: tuple[int, int],
                     strides: tuple[int, int], dilations: tuple[int, int],
                     out: tuple[int, int]) -> Any:
    """``acc`` (padded NHWC) plus window position ``p`` of ``values`` ``(N, oh, ow, kh * kw, C)``
    added at every window's position ``p``: the transpose of :func:`_windows`."""
    for p, (i, j) in enumerate(_positions(ksize)):
        part = k["getitem"](values, (slice(None), slice(None), slice(None), p, slice(None)))
        acc = k["index_add"](acc, part, index=_window_index(i, j, strides, dilations, out))
    return acc


def _cropped(k: Any, acc: Any, padding: Pads, size: tuple[int, int]) -> Any:
    (top, _), (left, _) = padding
    return k["getitem"](acc, (slice(None), slice(top, top + size[0]),
                              slice(left, left + size[1]), slice(None)))


def _padded_zeros(k: Any, n: int, size: tuple[int, int], padding: Pads, c: int, dtype: Any) -> Any:
    return k["zeros"]((n, size[0] + sum(padding[0]), size[1] + sum(padding[1]), c), dtype)


# -- convolution ------------------------------------------------------------------------------------
def conv2d(k: Any, x: Any, w: Any, strides: tuple[int, int], padding: Pads,
           dilations: tuple[int, int]) -> Any:
    """Cross-correlation of ``x`` ``(N, H, W, C)`` with ``w`` ``(kh, kw, C, O)``."""
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    out = (output_size(h, padding[0], kh, strides[0], dilations[0]),
           output_size(wd, padding[1], kw, strides[1], dilations[1]))
    if 0 in out or n == 0:
        return k["zeros"]((n, *out, o), x.dtype)
    patches = _windows(k, _padded(k, x, padding), (kh, kw), strides, dilations, out)
    y = k["matmul"](k["reshape"](patches, (n * out[0] * out[1], kh * kw * c)),
                    k["reshape"](w, (kh * kw * c, o)))
    return k["reshape"](y, (n, *out, o))


def conv2d_transpose(k: Any, dy: Any, w: Any, input_size: tuple[int, int], strides: tuple[int, int],
                     padding: Pads, dilations: tuple[int, int]) -> Any:
    """The gradient of :func:`conv2d` with respect to its input: ``dy`` ``(N, oh, ow, O)``
    spread back through ``w`` ``(kh, kw, C, O)`` onto ``(N, H, W, C)``."""
    n, oh, ow, o = dy.shape
    kh, kw, c, _ = w.shape
    acc = _padded_zeros(k, n, input_size, padding, c, dy.dtype)
    if n and oh and ow:
        cols = k["matmul"](k["reshape"](dy, (n * oh * ow, o)),
                           k["transpose"](k["reshape"](w, (kh * kw * c, o)), (1, 0)))
        acc = _scatter_windows(k, acc, k["reshape"](cols, (n, oh, ow, kh * kw, c)), (kh, kw),
                               strides, dilations, (oh, ow))
    return _cropped(k, acc, padding, input_size)


def conv2d_backprop_filter(k: Any, x: Any, dy: Any, filter_size: tuple[int, int],
                           strides: tuple[int, int], padding: Pads,
                           dilations: tuple[int, int]) -> Any:
    """The gradient of :func:`conv2d` with respect to its filters: ``(kh, kw, C, O)``."""
    n, _, _, c = x.shape
    _, oh, ow, o = dy.shape
    kh, kw = filter_size
    if not (n and oh and ow):
        return k["zeros"]((kh, kw, c, o), x.dtype)
    patches = _windows(k, _padded(k, x, padding), (kh, kw), strides, dilations, (oh, ow))
    gw = k["matmul"](k["transpose"](k["reshape"](patches, (n * oh * ow, kh * kw * c)), (1, 0)),
                     k["reshape"](dy, (n * oh * ow, o)))
    return k["reshape"](gw, (kh, kw, c, o))


# -- pooling ----------------------------------------------------------------------------------------
def _pool_out(x: Any, ksize: tuple[int, int], strides: tuple[int, int],
              padding: Pads) -> tuple[int, int]:
    return (output_size(x.shape[1], padding[0], ksize[0], strides[0], 1),
            output_size(x.shape[2], padding[1], ksize[1], strides[1], 1))


def _first_max(k: Any, x: Any, ksize: tuple[int, int], strides: tuple[int, int],
               padding: Pads) -> tuple[Any, tuple[int, int]]:
    """A mask ``(N, oh, ow, kh * kw, C)`` of each window's first maximum (row-major order,
    the element TensorFlow's MaxPoolGrad gives the gradient to), and ``(oh, ow)``."""
    out = _pool_out(x, ksize, strides, padding)
    win = _windows(k, _padded(k, x, padding, -math.inf), ksize, strides, (1, 1), out)
    eq = k["equal"](win, k["max"](win, axis=(3,), keepdims=True))
    seen = k["cumsum"](k["astype"](eq, x.dtype), axis=3)
    return k["logical_and"](eq, k["equal"](seen, k["ones"]((), x.dtype))), out


def max_pool2d(k: Any, x: Any, ksize: tuple[int, int], strides: tuple[int, int],
               padding: Pads) -> Any:
    """The maximum of each window (padding never wins: it is -inf)."""
    out = _pool_out(x, ksize, strides, padding)
    if 0 in x.shape or 0 in out:
        return k["zeros"]((x.shape[0], *out, x.shape[3]), x.dtype)
    win = _windows(k, _padded(k, x, padding, -math.inf), ksize, strides, (1, 1), out)
    return k["max"](win, axis=(3,))


def max_pool2d_grad(k: Any, x: Any, g: Any, ksize: tuple[int, int], strides: tuple[int, int],
                    padding: Pads) -> Any:
    """``g`` (the shape of :func:`max_pool2d`'s output) routed to each window's first maximum
    of ``x``; windows that overlap add up."""
    n, h, wd, c = x.shape
    acc = _padded_zeros(k, n, (h, wd), padding, c, g.dtype)
    if 0 in x.shape or 0 in g.shape:
        return _cropped(k, acc, padding, (h, wd))
    mask, out = _first_max(k, x, ksize, strides, padding)
    routed = k["where"](mask, k["expand_dims"](g, axis=3), k["zeros"]((), g.dtype))
    return _cropped(k, _scatter_windows(k, acc, routed, ksize, strides, (1, 1), out), padding,
                    (h, wd))


def max_pool2d_grad_grad(k: Any, x: Any, t: Any, ksize: tuple[int, int], strides: tuple[int, int],
                         padding: Pads) -> Any:
    """``t`` (the shape of ``x``) read at each window's first maximum of ``x``: the output
    tangent of :func:`max_pool2d`, and the transpose of :func:`max_pool2d_grad`."""
    out = _pool_out(x, ksize, strides, padding)
    if 0 in x.shape or 0 in out:
        return k["zeros"]((x.shape[0], *out, x.shape[3]), t.dtype)
    mask, out = _first_max(k, x, ksize, strides, padding)
    tw = _windows(k, _padded(k, t, padding), ksize, strides, (1, 1), out)
    return k["sum"](k["where"](mask, tw, k["zeros"]((), t.dtype)), axis=(3,))


def _counts(k: Any, size: tuple[int, int], ksize: tuple[int, int], strides: tuple[int, int],
            padding: Pads, dtype: Any) -> Any:
    """How many elements of the unpadded input each window holds: ``(1, oh, ow, 1)``."""
    ones = _padded(k, k["ones"]((1, *size, 1), dtype), padding)
    out = (output_size(size[0], padding[0], ksize[0], strides[0], 1),
           output_size(size[1], padding[1], ksize[1], strides[1], 1))
    return k["sum"](_windows(k, ones, ksize, strides, (1, 1), out), axis=(3,))


def avg_pool2d(k: Any, x: Any, ksize: tuple[int, int], strides: tuple[int, int],
               padding: Pads) -> Any:
    """The mean of each window over the input's elements it holds (padding is not counted)."""
    out = _pool_out(x, ksize, strides, padding)
    if 0 in x.shape or 0 in out:
        return k["zeros"]((x.shape[0], *out, x.shape[3]), x.dtype)
    total = k["sum"](_windows(k, _padded(k, x, padding), ksize, strides, (1, 1), out), axis=(3,))
    return total / _counts(k, tuple(x.shape[1:3]), ksize, strides, padding, x.dtype)


def avg_pool2d_grad(k: Any, g: Any, input_size: tuple[int, int], ksize: tuple[int, int],
                    strides: tuple[int, int], padding: Pads) -> Any:
    """The transpose of :func:`avg_pool2d`: each window's ``g / count`` spread over it."""
    n, oh, ow, c = g.shape
    acc = _padded_zeros(k, n, input_size, padding, c, g.dtype)
    if n and oh and ow and c:
        share = g / _counts(k, input_size, ksize, strides, padding, g.dtype)
        spread = k["broadcast_to"](k["expand_dims"](share, axis=3),
                                   (n, oh, ow, ksize[0] * ksize[1], c))
        acc = _scatter_windows(k, acc, spread, ksize, strides, (1, 1), (oh, ow))
    return _cropped(k, acc, padding, input_size)
