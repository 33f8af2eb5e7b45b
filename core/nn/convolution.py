"""Convolution and pooling in TensorFlow's layouts (NHWC or NCHW inputs, HWIO filters), on
every backend; and ``batch_normalization``, ``embedding_lookup`` and ``repeat``.

Convolution and pooling are ops of the op table (``conv2d``, ``conv2d_transpose``,
``conv2d_backprop_filter``, ``max_pool2d``, ``avg_pool2d`` and their gradients, in
``derivatives.py``): one recorded op a call, each backend's fastest kernel (PyTorch's, a
NumPy stride-tricks one, or the default composed from other kernels), derivatives of
every order from their rules. The functions here check arguments and resolve TensorFlow's
conventions -- ``"SAME"``/``"VALID"``/explicit padding into explicit pairs, ``NCHW`` by a
transpose to the ops' NHWC -- so kernels see one layout. ``batch_normalization``,
``embedding_lookup`` and ``repeat`` are compositions of table ops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import ops
from ..convolution_kernels import output_size
from ..creation import constant, convert_to_tensor
from ..errors import DTypeError, InvalidArgumentError, ShapeError
from ..tensor import Tensor

__all__ = ["conv2d", "conv1d", "conv2d_transpose", "max_pool2d", "avg_pool2d",
           "batch_normalization", "fused_batch_norm", "embedding_lookup", "repeat"]

Pads = tuple[tuple[int, int], tuple[int, int]]
_TO_NHWC, _TO_NCHW = (0, 2, 3, 1), (0, 3, 1, 2)


def _channels_first(op: str, data_format: Any, formats: tuple[str, str]) -> bool:
    """Whether ``data_format`` (one of ``formats``: channels last, channels first) puts the
    channels first."""
    if data_format is None or data_format == formats[0]:
        return False
    if data_format == formats[1]:
        return True
    raise InvalidArgumentError(f"{op}: data_format must be {formats[0]!r} or {formats[1]!r}, "
                               f"got {data_format!r}")


def _pair(op: str, what: str, value: Any, rank: int = 2,
          channels_first: bool = False) -> tuple[int, ...]:
    """TensorFlow's ways to give strides or sizes: an int, ``rank`` ints, or ``rank + 2``
    ints with 1 for the batch and channel axes."""
    if isinstance(value, (int, np.integer)):
        vals: tuple[int, ...] = (int(value),) * rank
    else:
        vals = tuple(int(v) for v in value)
        if len(vals) == 1:
            vals = vals * rank
        elif len(vals) == rank + 2:
            ends = (vals[0], vals[1]) if channels_first else (vals[0], vals[-1])
            if ends != (1, 1):
                raise InvalidArgumentError(f"{op}: {what} of the batch and channel axes must be 1, "
                                           f"got {value!r}")
            vals = vals[2:] if channels_first else vals[1:-1]
        elif len(vals) != rank:
            raise InvalidArgumentError(f"{op}: {what} must be an int, {rank} ints or {rank + 2} "
                                       f"ints (1 for batch and channels), got {value!r}")
    if any(v < 1 for v in vals):
        raise InvalidArgumentError(f"{op}: {what} must be positive, got {value!r}")
    return vals


def _pads(op: str, padding: Any, size: Sequence[int], ksize: Sequence[int],
          strides: Sequence[int], dilations: Sequence[int], channels_first: bool = False,
          explicit: bool = True) -> Pads:
    """``padding`` (``"SAME"``, ``"VALID"``, or where TensorFlow allows it explicit pairs for
    every axis, 0 for batch and channels) as ``((top, bottom), (left, right))``."""
    if isinstance(padding, str):
        mode = padding.upper()
        if mode == "VALID":
            return (0, 0), (0, 0)
        if mode == "SAME":
            pads = []
            for n, k, s, d in zip(size, ksize, strides, dilations):
                total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
                pads.append((total // 2, total - total // 2))  # the odd one goes after
            return tuple(pads)  # type: ignore[return-value]
    elif explicit:
        try:
            pairs = [tuple(int(v) for v in p) for p in padding]
        except (TypeError, ValueError):
            pairs = []
        spatial = pairs[2:] if channels_first else pairs[1:-1]
        batch_channels = pairs[:2] if channels_first else pairs[:1] + pairs[-1:]
        if (len(pairs) == 4 and all(len(p) == 2 and min(p) >= 0 for p in pairs)
                and all(p == (0, 0) for p in batch_channels)):
            return tuple(spatial)  # type: ignore[return-value]
    allowed = ("'SAME', 'VALID' or 4 (before, after) pairs, 0 for batch and channels"
               if explicit else "'SAME' or 'VALID'")
    raise InvalidArgumentError(f"{op}: padding must be {allowed}, got {padding!r}")


def _float_input(op: str, x: Tensor) -> None:
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be floating point, got {x.dtype}")


def _as_nhwc(x: Tensor, channels_first: bool) -> Tensor:
    return ops.transpose(x, _TO_NHWC) if channels_first else x


def _from_nhwc(y: Tensor, channels_first: bool) -> Tensor:
    return ops.transpose(y, _TO_NCHW) if channels_first else y


def conv2d(input: Any, filters: Any, strides: Any = 1, padding: Any = "VALID",
           data_format: str | None = "NHWC", dilations: Any = None,
           name: str | None = None) -> Tensor:
    """2-d convolution (cross-correlation, as in TensorFlow) of ``input`` ``(N, H, W, C)``
    (``(N, C, H, W)`` with ``data_format="NCHW"``) with ``filters`` ``(kh, kw, C, O)``;
    ``padding`` is ``"SAME"``, ``"VALID"`` or explicit ``[[0, 0], [top, bottom], [left,
    right], [0, 0]]`` (in ``data_format``'s order)."""
    first = _channels_first("conv2d", data_format, ("NHWC", "NCHW"))
    x, w = convert_to_tensor(input), convert_to_tensor(filters)
    if x.ndim != 4 or w.ndim != 4:
        raise ShapeError(f"conv2d: input must be 4-d ({data_format or 'NHWC'}) and filters 4-d "
                         f"(kh, kw, C, O), got shapes {tuple(x.shape)} and {tuple(w.shape)}")
    _float_input("conv2d", x)
    x = _as_nhwc(x, first)
    kh, kw, cin, _ = w.shape
    if x.shape[3] != cin:
        raise ShapeError(f"conv2d: input depth {x.shape[3]} must equal the filters' in_channels "
                         f"{cin} (input {tuple(x.shape)} as NHWC, filters {tuple(w.shape)})")
    st = _pair("conv2d", "strides", strides, channels_first=first)
    dl = _pair("conv2d", "dilations", 1 if dilations is None else dilations, channels_first=first)
    pads = _pads("conv2d", padding, x.shape[1:3], (kh, kw), st, dl, first)
    y = ops.apply_op("conv2d", x, w, strides=st, padding=pads, dilations=dl)
    return _from_nhwc(y, first)


def conv1d(input: Any, filters: Any, stride: Any = 1, padding: Any = "VALID",
           data_format: str | None = "NWC", dilations: Any = None,
           name: str | None = None) -> Tensor:
    """1-d convolution of ``input`` ``(N, W, C)`` (``(N, C, W)`` with ``"NCW"``) with
    ``filters`` ``(kw, C, O)``: :func:`conv2d` on a unit height, as TensorFlow computes it."""
    first = _channels_first("conv1d", data_format, ("NWC", "NCW"))
    x, w = convert_to_tensor(input), convert_to_tensor(filters)
    if x.ndim != 3 or w.ndim != 3:
        raise ShapeError(f"conv1d: input must be 3-d ({data_format or 'NWC'}) and filters 3-d "
                         f"(kw, C, O), got shapes {tuple(x.shape)} and {tuple(w.shape)}")
    s = _pair("conv1d", "stride", stride, rank=1, channels_first=first)[0]
    d = 1 if dilations is None else _pair("conv1d", "dilations", dilations, rank=1,
                                          channels_first=first)[0]
    if not isinstance(padding, str):  # three pairs: add the unit height's (0, 0)
        pairs = list(padding)
        pairs.insert(2 if first else 1, (0, 0))
        padding = pairs
    y = conv2d(ops.expand_dims(x, 2 if first else 1), ops.expand_dims(w, 0), strides=(1, s),
               padding=padding, dilations=(1, d), data_format="NCHW" if first else "NHWC")
    return ops.squeeze(y, 2 if first else 1)


def conv2d_transpose(input: Any, filters: Any, output_shape: Any, strides: Any = 1,
                     padding: Any = "SAME", data_format: str | None = "NHWC",
                     dilations: Any = None, name: str | None = None) -> Tensor:
    """The transpose (gradient with respect to its input) of :func:`conv2d`: ``input``
    ``(N, h, w, O)``, ``filters`` ``(kh, kw, C, O)``, result ``output_shape`` ``(N, H, W, C)``
    (channels first with ``data_format="NCHW"``)."""
    first = _channels_first("conv2d_transpose", data_format, ("NHWC", "NCHW"))
    x, w = convert_to_tensor(input), convert_to_tensor(filters)
    if isinstance(output_shape, Tensor):
        output_shape = output_shape.numpy().tolist()
    out_shape = tuple(int(s) for s in output_shape)
    if x.ndim != 4 or w.ndim != 4 or len(out_shape) != 4:
        raise ShapeError(f"conv2d_transpose: input, filters and output_shape must be 4-d, got "
                         f"{tuple(x.shape)}, {tuple(w.shape)} and {out_shape}")
    _float_input("conv2d_transpose", x)
    x = _as_nhwc(x, first)
    if first:
        out_shape = tuple(out_shape[i] for i in _TO_NHWC)
    kh, kw, cout, cin = w.shape
    if x.shape[3] != cin or out_shape[3] != cout or out_shape[0] != x.shape[0]:
        raise ShapeError(f"conv2d_transpose: input {tuple(x.shape)}, filters {tuple(w.shape)} and "
                         f"output_shape {out_shape} do not fit (NHWC; filters are (kh, kw, out, "
                         f"in))")
    st = _pair("conv2d_transpose", "strides", strides, channels_first=first)
    dl = _pair("conv2d_transpose", "dilations", 1 if dilations is None else dilations,
               channels_first=first)
    pads = _pads("conv2d_transpose", padding, out_shape[1:3], (kh, kw), st, dl, first)
    forward = tuple(output_size(n, p, k, s, d)
                    for n, p, k, s, d in zip(out_shape[1:3], pads, (kh, kw), st, dl))
    if forward != tuple(x.shape[1:3]):
        raise ShapeError(f"conv2d_transpose: output_shape {out_shape} with strides {st} and "
                         f"padding {padding!r} gives a forward output of {forward}, not the "
                         f"input's {tuple(x.shape[1:3])}")
    y = ops.apply_op("conv2d_transpose", x, w, input_size=out_shape[1:3], strides=st,
                     padding=pads, dilations=dl)
    return _from_nhwc(y, first)


def _pool(op: str, input: Any, ksize: Any, strides: Any, padding: Any, data_format: Any,
          explicit: bool) -> Tensor:
    first = _channels_first(op, data_format, ("NHWC", "NCHW"))
    x = convert_to_tensor(input)
    if x.ndim != 4:
        raise ShapeError(f"{op}: input must be 4-d ({data_format or 'NHWC'}), got shape "
                         f"{tuple(x.shape)}")
    _float_input(op, x)
    x = _as_nhwc(x, first)
    k = _pair(op, "ksize", ksize, channels_first=first)
    st = _pair(op, "strides", strides, channels_first=first)
    pads = _pads(op, padding, x.shape[1:3], k, st, (1, 1), first, explicit)
    if any(max(p) >= n for p, n in zip(pads, k)):
        raise InvalidArgumentError(f"{op}: padding {padding!r} must be smaller than the window "
                                   f"{k} (a window of padding alone has no value)")
    y = ops.apply_op(op, x, ksize=k, strides=st, padding=pads)
    return _from_nhwc(y, first)


def max_pool2d(input: Any, ksize: Any, strides: Any, padding: Any,
               data_format: str | None = "NHWC", name: str | None = None) -> Tensor:
    """The maximum of each ``ksize`` window (padding never wins, as in TensorFlow); the
    gradient goes to the window's first maximum (row-major), as TensorFlow's does among
    ties. ``padding``: ``"SAME"``, ``"VALID"`` or explicit pairs as for :func:`conv2d`.

    A NaN in a window makes that window's maximum NaN (NumPy's and PyTorch's rule; where
    its gradient goes is unspecified), where TensorFlow's CPU kernel skips NaNs."""
    return _pool("max_pool2d", input, ksize, strides, padding, data_format, explicit=True)


def avg_pool2d(input: Any, ksize: Any, strides: Any, padding: Any,
               data_format: str | None = "NHWC", name: str | None = None) -> Tensor:
    """The mean of each ``ksize`` window; with ``"SAME"`` the padding is not counted."""
    return _pool("avg_pool2d", input, ksize, strides, padding, data_format, explicit=False)


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
    if data_format not in (None, "NHWC"):
        raise InvalidArgumentError(f"fused_batch_norm: polytape supports data_format='NHWC' "
                                   f"only, got {data_format!r}")
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
