"""Convolution and pooling, TensorFlow's layout (NHWC inputs, HWIO filters), on every backend.

Each function is a *composition* of op-table ops -- strided ``getitem`` windows stacked
into patches (im2col), ``matmul`` with the flattened filter, ``index_add`` to scatter
back for the transpose -- rather than a new op: every backend runs it with the kernels
it already has, and first and higher derivatives come from those ops' rules (exact,
checked against finite differences in the tests). Kernel windows are small, so the
number of recorded slices (``kh * kw`` per call) stays small.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ops
from ..creation import constant, convert_to_tensor, zeros
from ..errors import InvalidArgumentError, ShapeError
from ..tensor import Tensor

__all__ = ["conv2d", "conv1d", "conv2d_transpose", "max_pool2d", "avg_pool2d",
           "batch_normalization", "fused_batch_norm", "embedding_lookup", "repeat"]


def _pair(op: str, what: str, value: Any, rank: int = 2) -> tuple[int, ...]:
    """TensorFlow's ways to give strides or sizes: an int, ``rank`` ints, or ``rank + 2``
    ints with 1 for the batch and channel axes."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * rank
    vals = tuple(int(v) for v in value)
    if len(vals) == rank:
        return vals
    if len(vals) == rank + 2 and vals[0] == 1 and vals[-1] == 1:
        return vals[1:-1]
    if len(vals) == 1:
        return vals * rank
    raise InvalidArgumentError(f"{op}: {what} must be an int, {rank} ints or {rank + 2} ints "
                               f"(1 for batch and channels), got {value!r}")


def _padding(op: str, padding: Any, size: int, k: int, stride: int,
             dilation: int) -> tuple[int, int, int]:
    """``(pad_before, pad_after, out_size)`` of one spatial axis, as TensorFlow computes them."""
    span = (k - 1) * dilation + 1
    mode = str(padding).upper()
    if mode == "VALID":
        out = (size - span) // stride + 1 if size >= span else 0
        return 0, 0, out
    if mode == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + span - size, 0)
        return total // 2, total - total // 2, out
    raise InvalidArgumentError(f"{op}: padding must be 'SAME' or 'VALID', got {padding!r}")


def _check_format(op: str, data_format: Any, expected: str) -> None:
    if data_format not in (None, expected):
        raise InvalidArgumentError(f"{op}: polytape supports data_format={expected!r} only, "
                                   f"got {data_format!r}")


def _windows(x: Tensor, ksize: tuple[int, int], strides: tuple[int, int],
             dilations: tuple[int, int], out: tuple[int, int]) -> Tensor:
    """The (already padded) NHWC ``x`` cut into windows: ``(N, oh, ow, kh * kw, C)``."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = ksize, strides, dilations, out
    parts = []
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dh, j * dw
            parts.append(x[:, r0:r0 + sh * (oh - 1) + 1:sh, c0:c0 + sw * (ow - 1) + 1:sw, :])
    return ops.stack(parts, axis=3)


def _padded(x: Tensor, pads: Sequence[tuple[int, int]], value: float = 0.0) -> Tensor:
    if all(p == (0, 0) for p in pads):
        return x
    return ops.pad(x, ((0, 0), *pads, (0, 0)), constant_values=value)


def conv2d(input: Any, filters: Any, strides: Any = 1, padding: str = "VALID",
           data_format: str | None = "NHWC", dilations: Any = None,
           name: str | None = None) -> Tensor:
    """2-d convolution (cross-correlation, as in TensorFlow) of ``input`` ``(N, H, W, C)``
    with ``filters`` ``(kh, kw, C, O)``; ``padding`` is ``"SAME"`` or ``"VALID"``."""
    _check_format("conv2d", data_format, "NHWC")
    x, w = convert_to_tensor(input), convert_to_tensor(filters)
    if x.ndim != 4 or w.ndim != 4:
        raise ShapeError(f"conv2d: input must be 4-d (N, H, W, C) and filters 4-d (kh, kw, C, O), "
                         f"got shapes {tuple(x.shape)} and {tuple(w.shape)}")
    kh, kw, cin, cout = w.shape
    if x.shape[3] != cin:
        raise ShapeError(f"conv2d: input depth {x.shape[3]} must equal the filters' in_channels "
                         f"{cin} (input {tuple(x.shape)}, filters {tuple(w.shape)})")
    st = _pair("conv2d", "strides", strides)
    dl = _pair("conv2d", "dilations", 1 if dilations is None else dilations)
    ph = _padding("conv2d", padding, x.shape[1], kh, st[0], dl[0])
    pw = _padding("conv2d", padding, x.shape[2], kw, st[1], dl[1])
    n, oh, ow = x.shape[0], ph[2], pw[2]
    if oh == 0 or ow == 0:
        return zeros((n, oh, ow, cout), x.dtype, backend=x._backend)
    xp = _padded(x, (ph[:2], pw[:2]))
    patches = ops.reshape(_windows(xp, (kh, kw), st, dl, (oh, ow)), (n * oh * ow, kh * kw * cin))
    y = ops.matmul(patches, ops.reshape(w, (kh * kw * cin, cout)))
    return ops.reshape(y, (n, oh, ow, cout))


def conv1d(input: Any, filters: Any, stride: Any = 1, padding: str = "VALID",
           data_format: str | None = "NWC", dilations: Any = None,
           name: str | None = None) -> Tensor:
    """1-d convolution of ``input`` ``(N, W, C)`` with ``filters`` ``(kw, C, O)``."""
    _check_format("conv1d", data_format, "NWC")
    x, w = convert_to_tensor(input), convert_to_tensor(filters)
    if x.ndim != 3 or w.ndim != 3:
        raise ShapeError(f"conv1d: input must be 3-d (N, W, C) and filters 3-d (kw, C, O), got "
                         f"shapes {tuple(x.shape)} and {tuple(w.shape)}")
    s = _pair("conv1d", "stride", stride, rank=1)[0]
    d = 1 if dilations is None else _pair("conv1d", "dilations", dilations, rank=1)[0]
    y = conv2d(ops.expand_dims(x, 1), ops.expand_dims(w, 0), strides=(1, s), padding=padding,
               dilations=(1, d))
    return ops.squeeze(y, 1)


def conv2d_transpose(input: Any, filters: Any, output_shape: Any, strides: Any = 1,
                     padding: str = "SAME", data_format: str | None = "NHWC",
                     dilations: Any = None, name: str | None = None) -> Tensor:
    """The transpose (gradient with respect to its input) of :func:`conv2d`: ``input``
    ``(N, h, w, O)``, ``filters`` ``(kh, kw, C, O)``, result ``output_shape`` ``(N, H, W, C)``."""
    _check_format("conv2d_transpose", data_format, "NHWC")
    x, w = convert_to_tensor(input), convert_to_tensor(filters)
    if isinstance(output_shape, Tensor):
        output_shape = output_shape.numpy().tolist()
    out_shape = tuple(int(s) for s in output_shape)
    if x.ndim != 4 or w.ndim != 4 or len(out_shape) != 4:
        raise ShapeError(f"conv2d_transpose: input, filters and output_shape must be 4-d, got "
                         f"{tuple(x.shape)}, {tuple(w.shape)} and {out_shape}")
    kh, kw, cout, cin = w.shape
    if x.shape[3] != cin or out_shape[3] != cout or out_shape[0] != x.shape[0]:
        raise ShapeError(f"conv2d_transpose: input {tuple(x.shape)}, filters {tuple(w.shape)} and "
                         f"output_shape {out_shape} do not fit (filters are (kh, kw, out, in))")
    st = _pair("conv2d_transpose", "strides", strides)
    dl = _pair("conv2d_transpose", "dilations", 1 if dilations is None else dilations)
    ph = _padding("conv2d_transpose", padding, out_shape[1], kh, st[0], dl[0])
    pw = _padding("conv2d_transpose", padding, out_shape[2], kw, st[1], dl[1])
    n, h, wd = x.shape[0], x.shape[1], x.shape[2]
    if (ph[2], pw[2]) != (h, wd):
        raise ShapeError(f"conv2d_transpose: output_shape {out_shape} with strides {st} and "
                         f"padding {padding!r} gives a forward output of "
                         f"{(ph[2], pw[2])}, not the input's {(h, wd)}")
    full_h = max(out_shape[1] + ph[0] + ph[1], (h - 1) * st[0] + (kh - 1) * dl[0] + 1)
    full_w = max(out_shape[2] + pw[0] + pw[1], (wd - 1) * st[1] + (kw - 1) * dl[1] + 1)
    acc = zeros((n, full_h, full_w, cout), x.dtype, backend=x._backend)
    flat = ops.reshape(x, (n * h * wd, cin))
    for i in range(kh):
        for j in range(kw):
            contrib = ops.reshape(ops.matmul(flat, ops.transpose(w[i, j], (1, 0))),
                                  (n, h, wd, cout))
            r0, c0 = i * dl[0], j * dl[1]
            index = (slice(None), slice(r0, r0 + st[0] * (h - 1) + 1, st[0]),
                     slice(c0, c0 + st[1] * (wd - 1) + 1, st[1]), slice(None))
            acc = ops.index_add(acc, index, contrib)
    return acc[:, ph[0]:ph[0] + out_shape[1], pw[0]:pw[0] + out_shape[2], :]


def _pool(op: str, input: Any, ksize: Any, strides: Any, padding: str,
          data_format: Any) -> tuple[Tensor, tuple, tuple, tuple, tuple]:
    _check_format(op, data_format, "NHWC")
    x = convert_to_tensor(input)
    if x.ndim != 4:
        raise ShapeError(f"{op}: input must be 4-d (N, H, W, C), got shape {tuple(x.shape)}")
    k = _pair(op, "ksize", ksize)
    st = _pair(op, "strides", strides)
    ph = _padding(op, padding, x.shape[1], k[0], st[0], 1)
    pw = _padding(op, padding, x.shape[2], k[1], st[1], 1)
    return x, k, st, ph, pw


def max_pool2d(input: Any, ksize: Any, strides: Any, padding: str,
               data_format: str | None = "NHWC", name: str | None = None) -> Tensor:
    """The maximum of each ``ksize`` window (``"SAME"`` pads with -inf, as TensorFlow)."""
    x, k, st, ph, pw = _pool("max_pool2d", input, ksize, strides, padding, data_format)
    xp = _padded(x, (ph[:2], pw[:2]), value=-math.inf)
    return ops.max(_windows(xp, k, st, (1, 1), (ph[2], pw[2])), axis=3)


def avg_pool2d(input: Any, ksize: Any, strides: Any, padding: str,
               data_format: str | None = "NHWC", name: str | None = None) -> Tensor:
    """The mean of each ``ksize`` window; with ``"SAME"`` the padding is not counted."""
    x, k, st, ph, pw = _pool("avg_pool2d", input, ksize, strides, padding, data_format)
    xp = _padded(x, (ph[:2], pw[:2]))
    total = ops.sum(_windows(xp, k, st, (1, 1), (ph[2], pw[2])), axis=3)
    ones = np.pad(np.ones(x.shape[1:3]), (ph[:2], pw[:2]))
    counts = np.zeros((ph[2], pw[2]))
    for i in range(k[0]):
        for j in range(k[1]):
            counts += ones[i:i + st[0] * (ph[2] - 1) + 1:st[0], j:j + st[1] * (pw[2] - 1) + 1:st[1]]
    return total / constant(counts[None, :, :, None], dtype=x.dtype, backend=x._backend)


def batch_normalization(x: Any, mean: Any, variance: Any, offset: Any, scale: Any,
                        variance_epsilon: float, name: str | None = None) -> Tensor:
    """``(x - mean) / sqrt(variance + eps) * scale + offset``, in TensorFlow's order of
    operations (``x * inv + (offset - mean * inv)``), so results agree to the last bit."""
    x = convert_to_tensor(x)
    inv = 1.0 / ops.sqrt(convert_to_tensor(variance) + variance_epsilon)
    if scale is not None:
        inv = inv * scale
    shift = -mean * inv if offset is None else offset - mean * inv
    return x * ops.cast(inv, x.dtype) + ops.cast(shift, x.dtype)


def fused_batch_norm(x: Any, scale: Any, offset: Any, mean: Any = None, variance: Any = None,
                     epsilon: float = 0.001, data_format: str = "NHWC",
                     is_training: bool = True, name: str | None = None,
                     exponential_avg_factor: float = 1.0) -> tuple[Tensor, Tensor, Tensor]:
    """TensorFlow 1's ``fused_batch_norm`` over the channels (last) axis of a 4-d ``x``:
    ``(y, batch_mean, batch_variance)``. Training normalises with the batch's (biased)
    variance and returns the unbiased one, as TensorFlow does; inference uses and returns
    ``mean`` and ``variance``."""
    _check_format("fused_batch_norm", data_format, "NHWC")
    if exponential_avg_factor != 1.0:
        raise InvalidArgumentError("fused_batch_norm: polytape does not provide "
                                   "exponential_avg_factor != 1")
    x = convert_to_tensor(x)
    if x.ndim != 4:
        raise ShapeError(f"fused_batch_norm: x must be 4-d (N, H, W, C), got {tuple(x.shape)}")
    if is_training:
        n = x.size // x.shape[-1]
        m = ops.mean(x, axis=(0, 1, 2))
        v = ops.mean(ops.square(x - ops.stop_gradient(m)), axis=(0, 1, 2))
        y = batch_normalization(x, m, v, offset, scale, epsilon)
        return y, m, v * (n / max(n - 1, 1))
    if mean is None or variance is None:
        raise InvalidArgumentError("fused_batch_norm: inference (is_training=False) needs mean "
                                   "and variance")
    m, v = convert_to_tensor(mean), convert_to_tensor(variance)
    return batch_normalization(x, m, v, offset, scale, epsilon), m, v


def embedding_lookup(params: Any, ids: Any, max_norm: Any = None,
                     name: str | None = None) -> Tensor:
    """Rows of ``params`` at ``ids`` (any shape): ``ids.shape + params.shape[1:]``."""
    if max_norm is not None:
        raise InvalidArgumentError("embedding_lookup: polytape does not provide max_norm")
    p = convert_to_tensor(params)
    i = convert_to_tensor(ids)
    if i.dtype.kind not in "iu":
        raise InvalidArgumentError(f"embedding_lookup: ids must be integers, got {i.dtype}")
    bad = (i.numpy() < 0) | (i.numpy() >= p.shape[0])
    if np.any(bad):
        raise InvalidArgumentError(
            f"embedding_lookup: indices {np.asarray(i.numpy())[bad].tolist()} are not in "
            f"[0, {p.shape[0]})")
    return ops.gather(p, i, axis=0)


def repeat(input: Any, repeats: Any, axis: int | None = None, name: str | None = None) -> Tensor:
    """Each element (along ``axis``; of the flattened tensor when None) ``repeats`` times
    (an int, or one count per element)."""
    x = convert_to_tensor(input)
    if axis is None:
        x, axis = ops.reshape(x, (-1,)), 0
    axis = axis % x.ndim if x.ndim else 0
    counts = np.asarray(repeats.numpy() if isinstance(repeats, Tensor) else repeats)
    if counts.dtype.kind not in "iu" or (counts < 0).any():
        raise InvalidArgumentError(f"repeat: repeats must be non-negative ints, got {repeats!r}")
    n = x.shape[axis]
    if counts.ndim and counts.size not in (1, n):
        raise InvalidArgumentError(f"repeat: {counts.size} repeats for {n} elements along axis "
                                   f"{axis}")
    index = np.repeat(np.arange(n), np.broadcast_to(counts.reshape(-1), (n,)))
    return ops.gather(x, constant(index.astype(np.int32), backend=x._backend), axis=axis)
