"""NumPy indexing semantics built from Array API primitives.

polytape hands the ``getitem`` and ``index_add`` kernels a NumPy-style index:
ints, slices, ``None``, ``Ellipsis``, integer arrays and boolean masks, in any
mix. The Array API standard guarantees much less (slices must stay in bounds,
an index must cover every axis, integer arrays only next to integers, no
"fancy" assignment, no ``add.at``). This module translates one into the other:

* a *basic* index (ints, slices, ``None``, ``Ellipsis``) becomes an index the
  standard allows (clamped slices, a trailing ``...``) and runs natively;
* an index with arrays becomes ``take`` on the flattened array at the linear
  positions the index selects, computed with ``arange``, ``permute_dims`` and
  ``take`` -- the same placement rules as NumPy (advanced axes that are
  adjacent keep their place, otherwise they go first);
* ``index_add`` with repeated positions sums duplicates exactly (a padded
  gather, then ``sum``), then places the sums with ``searchsorted`` -- no
  scatter-add is needed.

Everything stays on the array's device; nothing goes through NumPy.
"""

from __future__ import annotations

import math
from typing import Any

from array_api_compat import device, is_array_api_obj

__all__ = ["getitem", "index_add", "is_basic"]


def is_basic(index: Any) -> bool:
    """True when ``index`` has no integer or boolean arrays, so no position can repeat
    (an in-place ``out[index] += values`` then accumulates exactly)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


def _is_array(p: Any) -> bool:
    return is_array_api_obj(p)  # NumPy < 2 arrays have no __array_namespace__ of their own


def _is_zero_d_mask(xp: Any, index: Any) -> bool:
    return _is_array(index) and index.ndim == 0 and index.dtype == xp.bool


def _expand(xp: Any, index: Any, ndim: int) -> list[Any]:
    """The index as a list with ``Ellipsis`` replaced by full slices, covering every axis."""
    parts = list(index) if isinstance(index, tuple) else [index]
    used = sum(p.ndim if _is_array(p) and p.dtype == xp.bool else
               0 if p is None or p is Ellipsis else 1 for p in parts)
    if sum(p is Ellipsis for p in parts) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if used > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, "
                         f"but {used} were indexed")
    fill = [slice(None)] * (ndim - used)
    if any(p is Ellipsis for p in parts):
        at = next(i for i, p in enumerate(parts) if p is Ellipsis)
        return parts[:at] + fill + parts[at + 1:]
    return parts + fill


def _clamped(s: slice, n: int) -> slice:
    """``s`` for an axis of length ``n`` with every bound inside the axis (the standard's rule)."""
    r = range(*s.indices(n))
    if len(r) == 0:
        return slice(0, 0)
    last = r[-1]
    if r.step > 0:
        stop = last + 1 if last + 1 < n else None
    else:
        stop = last - 1 if last >= 1 else None
    return slice(r.start, stop, r.step)


def _native_key(x: Any, parts: list[Any]) -> tuple:
    """A basic index (ints, slices, ``None``) in the form the standard allows."""
    key = []
    axis = 0
    for p in parts:
        if p is None:
            key.append(None)
            continue
        n = x.shape[axis]
        if isinstance(p, slice):
            key.append(_clamped(p, n))
        else:
            if not -n <= p < n:
                raise IndexError(f"index {p} is out of bounds for axis {axis} with size {n}")
            key.append(p)
        axis += 1
    return tuple(key) + (Ellipsis,)


def _advanced(xp: Any, x: Any, parts: list[Any]) -> Any:
    """Run an index that contains integer or boolean arrays, with NumPy's placement rules."""
    # None becomes a real size-1 axis indexed by ':', so only ints, slices and arrays remain.
    new_axes = [i for i, p in enumerate(parts) if p is None]
    for i in new_axes:
        x = xp.expand_dims(x, axis=_axis_of(xp, parts, i))
    parts = [slice(None) if p is None else p for p in parts]
    # A boolean mask over k axes selects like the k integer arrays of its nonzero positions.
    flat: list[Any] = []
    for p in parts:
        if _is_array(p) and p.dtype == xp.bool:
            flat.extend(xp.nonzero(p) if p.ndim else [xp.asarray(0, device=device(x))])
        else:
            flat.append(p)
    parts = flat
    # Slices first (natively), keeping every axis, so the remaining index is arrays and ints.
    x = x[tuple(_clamped(p, x.shape[i]) if isinstance(p, slice) else slice(None)
                for i, p in enumerate(parts)) + (Ellipsis,)]
    adv = [i for i, p in enumerate(parts) if not isinstance(p, slice)]
    arrays = []
    for i in adv:
        p = parts[i]
        n = x.shape[i]
        a = p if _is_array(p) else xp.asarray(p, dtype=xp.int64, device=device(x))
        if not xp.isdtype(a.dtype, "integral"):
            raise IndexError(f"arrays used as indices must be integer or boolean, got {a.dtype}")
        a = xp.astype(a, xp.int64)
        if a.size and bool(xp.any((a < -n) | (a >= n))):
            raise IndexError(f"index out of bounds for axis {i} with size {n}")
        arrays.append(xp.where(a < 0, a + n, a))
    arrays = list(xp.broadcast_arrays(*arrays)) if len(arrays) > 1 else arrays
    bshape = tuple(arrays[0].shape)
    rest = [i for i in range(x.ndim) if i not in adv]
    # Linear position inside the block of advanced axes (row-major).
    linear = xp.zeros(bshape, dtype=xp.int64, device=device(x))
    for i, a in zip(adv, arrays):
        linear = linear * x.shape[i] + a
    moved = xp.permute_dims(x, tuple(adv) + tuple(rest))
    block = math.prod(x.shape[i] for i in adv)
    rest_shape = tuple(x.shape[i] for i in rest)
    moved = xp.reshape(moved, (block,) + rest_shape)
    out = xp.take(moved, xp.reshape(linear, (-1,)), axis=0)
    out = xp.reshape(out, bshape + rest_shape)
    adjacent = adv == list(range(adv[0], adv[-1] + 1))
    if adjacent and adv[0] > 0:
        # The broadcast axes take the place of the first advanced axis.
        lead = adv[0]
        nb = len(bshape)
        perm = tuple(range(nb, nb + lead)) + tuple(range(nb)) + tuple(range(nb + lead, out.ndim))
        out = xp.permute_dims(out, perm)
    return out


def _axis_of(xp: Any, parts: list[Any], i: int) -> int:
    """The axis of ``x`` that index position ``i`` refers to, counting earlier ``None``s as axes."""
    axis = 0
    for p in parts[:i]:
        axis += p.ndim if _is_array(p) and p.dtype == xp.bool else 1
    return axis


def getitem(xp: Any, x: Any, index: Any) -> Any:
    """``x[index]`` with NumPy's semantics (the kernel of op ``getitem``)."""
    if _is_zero_d_mask(xp, index):
        # x[True] is x with a new leading axis of length 1, x[False] of length 0: the
        # 1-element mask [m] applied to x[None].
        return getitem(xp, xp.expand_dims(x, axis=0), xp.reshape(index, (1,)))
    parts = _expand(xp, index, x.ndim)
    if any(_is_array(p) for p in parts):
        return _advanced(xp, x, parts)
    return x[_native_key(x, parts)]


def index_add(xp: Any, base: Any, values: Any, index: Any) -> Any:
    """A copy of ``base`` with ``values`` added at ``index``; repeated positions accumulate.

    (Arrays first, the index last: polytape's kernel calling convention.)
    """
    if _is_zero_d_mask(xp, index):  # as in getitem: the mask [m] on base[None]
        return index_add(xp, xp.expand_dims(base, axis=0), values, xp.reshape(index, (1,)))[0]
    parts = _expand(xp, index, base.ndim)
    if not any(_is_array(p) for p in parts):
        # A basic index names each position once, so read-add-assign is exact. New axes
        # (None) only add size-1 dimensions: drop them from the key and from the values.
        out = xp.asarray(base, copy=True)
        view = out[_native_key(out, parts)]
        key = _native_key(out, [p for p in parts if p is not None])
        target = out[key]
        out[key] = target + xp.reshape(xp.broadcast_to(values, view.shape), target.shape)
        return out
    size = math.prod(base.shape)
    positions = _advanced(xp, xp.reshape(xp.arange(size, dtype=xp.int64, device=device(base)),
                                     base.shape), parts)
    vals = xp.reshape(xp.broadcast_to(values, positions.shape), (-1,))
    pos = xp.reshape(positions, (-1,))
    if pos.shape[0] == 0:
        return xp.asarray(base, copy=True)
    order = xp.argsort(pos, stable=True)
    pos = xp.take(pos, order)
    vals = xp.take(vals, order)
    k = pos.shape[0]
    first = xp.concat([xp.ones((1,), dtype=xp.bool, device=device(base)), pos[1:] != pos[:-1]])
    (starts,) = xp.nonzero(first)
    unique = xp.take(pos, starts)
    counts = xp.concat([starts[1:], xp.asarray([k], dtype=xp.int64, device=device(base))]) - starts
    # Sum each group exactly: gather the group's values into a padded row (padding reads a 0).
    width = int(xp.max(counts))
    offsets = xp.arange(width, dtype=xp.int64, device=device(base))
    gather = starts[:, None] + offsets[None, :]
    gather = xp.where(offsets[None, :] < counts[:, None], gather, k)
    padded = xp.concat([vals, xp.zeros((1,), dtype=vals.dtype, device=device(base))])
    grouped = xp.reshape(xp.take(padded, xp.reshape(gather, (-1,))), (unique.shape[0], width))
    sums = xp.sum(grouped, axis=1, dtype=vals.dtype)
    # Place the sums: position p receives sums[j] where unique[j] == p, else 0.
    every = xp.arange(size, dtype=xp.int64, device=device(base))
    j = xp.clip(xp.searchsorted(unique, every), 0, unique.shape[0] - 1)
    hit = xp.take(unique, j) == every
    dense = xp.where(hit, xp.take(sums, j), xp.zeros((), dtype=vals.dtype, device=device(base)))
    return base + xp.reshape(dense, base.shape)

