"""PyTorch's convolution and pooling kernels, on the op table's NHWC layout.

An NHWC tensor permuted to NCHW is a ``channels_last`` tensor, which torch's
convolutions take as it is (no copy) and answer in the same memory format, so the
permutes cost nothing. TensorFlow's ``"SAME"`` padding can put one more row after than
before; torch pads symmetrically, so an asymmetric padding is applied with ``F.pad``
first. Gradients are torch's own (aten's ``convolution_backward``, the indices of
``max_pool2d``); torch's autograd is not engaged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from polytape.convolution_kernels import output_size

__all__ = ["kernels"]

Pads = tuple[tuple[int, int], tuple[int, int]]


def _nchw(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2)


def _nhwc(y: torch.Tensor) -> torch.Tensor:
    return y.permute(0, 2, 3, 1).contiguous()


def _symmetric(padding: Pads) -> tuple[int, int] | None:
    (top, bottom), (left, right) = padding
    return (top, left) if top == bottom and left == right else None


def _padded(xn: torch.Tensor, padding: Pads, value: float = 0.0) -> torch.Tensor:
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return xn
    return F.pad(xn, (left, right, top, bottom), value=value)


def _filters(w: torch.Tensor) -> torch.Tensor:
    return w.permute(3, 2, 0, 1)  # HWIO -> OIHW


def _out(size: Any, padding: Pads, ksize: Any, strides: Any, dilations: Any) -> tuple[int, int]:
    return (output_size(size[0], padding[0], ksize[0], strides[0], dilations[0]),
            output_size(size[1], padding[1], ksize[1], strides[1], dilations[1]))


def conv2d(x: torch.Tensor, w: torch.Tensor, strides: tuple[int, int], padding: Pads,
           dilations: tuple[int, int]) -> torch.Tensor:
    """Cross-correlation of NHWC ``x`` with HWIO ``w``: ``F.conv2d``."""
    out = _out(x.shape[1:3], padding, w.shape[:2], strides, dilations)
    if 0 in out or 0 in x.shape:
        return x.new_zeros((x.shape[0], *out, w.shape[3]))
    sym = _symmetric(padding)
    xn = _nchw(x) if sym else _padded(_nchw(x), padding)
    return _nhwc(F.conv2d(xn, _filters(w), stride=strides, padding=sym or 0, dilation=dilations))


def _backward(dy: torch.Tensor, x: torch.Tensor, w: torch.Tensor, strides: tuple[int, int],
              padding: tuple[int, int], dilations: tuple[int, int],
              mask: tuple[bool, bool, bool]) -> tuple[torch.Tensor, ...]:
    # aten's convolution_backward on NCHW views of NHWC memory (channels_last): called
    # directly, as torch.nn.grad's helpers would give it a broadcast dummy input, whose
    # layout sends mkldnn down a path 3-5x slower.
    return torch.ops.aten.convolution_backward(_nchw(dy), x, w, None, strides, padding, dilations,
                                               False, (0, 0), 1, mask)


def conv2d_transpose(dy: torch.Tensor, w: torch.Tensor, input_size: tuple[int, int],
                     strides: tuple[int, int], padding: Pads,
                     dilations: tuple[int, int]) -> torch.Tensor:
    """:func:`conv2d`'s gradient with respect to its input (``convolution_backward``)."""
    n, c = dy.shape[0], w.shape[2]
    if 0 in dy.shape:
        return dy.new_zeros((n, *input_size, c))
    sym = _symmetric(padding)
    (top, bottom), (left, right) = padding
    size = input_size if sym else (input_size[0] + top + bottom, input_size[1] + left + right)
    shape_only = _nchw(dy.new_empty((n, *size, c)))  # convolution_backward reads its shape
    gx = _backward(dy, shape_only, _filters(w), strides, sym or (0, 0), dilations,
                   (True, False, False))[0]
    if not sym:
        gx = gx[:, :, top:top + input_size[0], left:left + input_size[1]]
    return _nhwc(gx)


def conv2d_backprop_filter(x: torch.Tensor, dy: torch.Tensor, filter_size: tuple[int, int],
                           strides: tuple[int, int], padding: Pads,
                           dilations: tuple[int, int]) -> torch.Tensor:
    """:func:`conv2d`'s gradient with respect to its filters (``convolution_backward``)."""
    c, o = x.shape[3], dy.shape[3]
    if 0 in dy.shape or 0 in x.shape:
        return x.new_zeros((*filter_size, c, o))
    sym = _symmetric(padding)
    xn = _nchw(x) if sym else _padded(_nchw(x), padding)
    shape_only = _filters(x.new_empty((*filter_size, c, o)))
    gw = _backward(dy, xn, shape_only, strides, sym or (0, 0), dilations, (False, True, False))[1]
    return gw.permute(2, 3, 1, 0).contiguous()


def _empty_pool(x: torch.Tensor, ksize: Any, strides: Any, padding: Pads) -> Any:
    out = _out(x.shape[1:3], padding, ksize, strides, (1, 1))
    return x.new_zeros((x.shape[0], *out, x.shape[3])) if 0 in out or 0 in x.shape else None


def max_pool2d(x: torch.Tensor, ksize: tuple[int, int], strides: tuple[int, int],
               padding: Pads) -> torch.Tensor:
    """The maximum of each window (padding is -inf): ``F.max_pool2d``."""
    empty = _empty_pool(x, ksize, strides, padding)
    if empty is not None:
        return empty
    return _nhwc(F.max_pool2d(_padded(_nchw(x), padding, -torch.inf), ksize, strides))


def _argmax(x: torch.Tensor, ksize: tuple[int, int], strides: tuple[int, int],
            padding: Pads) -> torch.Tensor:
    """Flat indices ``(N, C, oh * ow)`` into the padded plane of each window's first maximum
    (torch scans windows in row-major order and keeps the first, as TensorFlow)."""
    _, idx = F.max_pool2d(_padded(_nchw(x), padding, -torch.inf), ksize, strides,
                          return_indices=True)
    return idx.flatten(2)


def max_pool2d_grad(x: torch.Tensor, g: torch.Tensor, ksize: tuple[int, int],
                    strides: tuple[int, int], padding: Pads) -> torch.Tensor:
    """``g`` routed to each window's first maximum of ``x`` (a ``scatter_add``)."""
    n, h, w, c = x.shape
    (top, bottom), (left, right) = padding
    hp, wp = h + top + bottom, w + left + right
    acc = g.new_zeros((n, c, hp * wp))
    if x.numel() and g.numel():
        acc.scatter_add_(2, _argmax(x, ksize, strides, padding), _nchw(g).flatten(2))
    return _nhwc(acc.view(n, c, hp, wp)[:, :, top:top + h, left:left + w])


def max_pool2d_grad_grad(x: torch.Tensor, t: torch.Tensor, ksize: tuple[int, int],
                         strides: tuple[int, int], padding: Pads) -> torch.Tensor:
    """``t`` read at each window's first maximum of ``x`` (a ``gather``)."""
    empty = _empty_pool(x, ksize, strides, padding)
    if empty is not None:
        return empty.to(t.dtype)
    out = _out(x.shape[1:3], padding, ksize, strides, (1, 1))
    tn = _padded(_nchw(t), padding).flatten(2)
    picked = tn.gather(2, _argmax(x, ksize, strides, padding))
    return _nhwc(picked.view(t.shape[0], t.shape[3], *out))


def _counts(like: torch.Tensor, size: Any, ksize: Any, strides: Any, padding: Pads) -> torch.Tensor:
    ones = _padded(like.new_ones((1, 1, *size)), padding)
    return F.avg_pool2d(ones, ksize, strides, divisor_override=1)


def avg_pool2d(x: torch.Tensor, ksize: tuple[int, int], strides: tuple[int, int],
               padding: Pads) -> torch.Tensor:
    """Window sums over the input's elements, divided by how many each window holds."""
    empty = _empty_pool(x, ksize, strides, padding)
    if empty is not None:
        return empty
    sums = F.avg_pool2d(_padded(_nchw(x), padding), ksize, strides, divisor_override=1)
    return _nhwc(sums / _counts(x, x.shape[1:3], ksize, strides, padding))


def avg_pool2d_grad(g: torch.Tensor, input_size: tuple[int, int], ksize: tuple[int, int],
                    strides: tuple[int, int], padding: Pads) -> torch.Tensor:
    """:func:`avg_pool2d`'s transpose: a grouped ``conv_transpose2d`` with a window of ones."""
    n, _, _, c = g.shape
    if 0 in g.shape:
        return g.new_zeros((n, *input_size, c))
    (top, bottom), (left, right) = padding
    share = _nchw(g) / _counts(g, input_size, ksize, strides, padding)
    spread = F.conv_transpose2d(share, g.new_ones((c, 1, *ksize)), stride=strides, groups=c)
    hp, wp = input_size[0] + top + bottom, input_size[1] + left + right
    spread = F.pad(spread, (0, wp - spread.shape[3], 0, hp - spread.shape[2]))
    return _nhwc(spread[:, :, top:top + input_size[0], left:left + input_size[1]])


def kernels() -> dict[str, Callable[..., torch.Tensor]]:
    """The op-name -> kernel mapping of these kernels."""
    return {"conv2d": conv2d, "conv2d_transpose": conv2d_transpose,
            "conv2d_backprop_filter": conv2d_backprop_filter, "max_pool2d": max_pool2d,
            "max_pool2d_grad": max_pool2d_grad, "max_pool2d_grad_grad": max_pool2d_grad_grad,
            "avg_pool2d": avg_pool2d, "avg_pool2d_grad": avg_pool2d_grad}
