"""Running a traced plan on a batch at once (TensorFlow's pfor, JAX's vmap), for
``jacobian``/``batch_jacobian``, ``vectorized_map`` and ``hessian``.

A function is traced once (:func:`polytape.function.trace_function`) on one example; its
plan is then replayed with some parameters carrying a leading batch axis. Each kernel call
of the plan gets a *batching rule*: elementwise ops broadcast (the per-example operands
are padded to one rank, so NumPy broadcasting lines them up behind the batch axis);
reductions, softmaxes, ``transpose``, ``reshape``, ``broadcast_to``, ``expand_dims`` and
``squeeze`` shift their axes past the batch axis; ``matmul`` batches through its own
broadcasting. A plan with an op no rule covers (indexing, scatter, concatenation...) or
with an effect is replayed once per example instead (still with no dispatch between
ops), so every plan gets an answer, and the same one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .function import ConcreteFunction
from .tensor import Tensor, Variable

__all__ = ["batched_replay", "NotBatchable"]

# Elementwise kernels the op table does not declare elementwise (no derivative rule to
# derive, but they broadcast all the same): comparisons and the like.
_ELEMENTWISE = frozenset({
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and",
    "logical_or", "logical_xor", "logical_not", "sign", "floor", "ceil", "round", "trunc",
    "isnan", "isinf", "isfinite", "signbit", "remainder", "floor_divide"})
# Ops whose only shape attribute is ``axis`` (None: every axis of a reduction).
_REDUCTIONS = frozenset({"sum", "mean", "prod", "max", "min", "logsumexp"})
_ALONG_AXIS = frozenset({"softmax", "log_softmax", "cumsum", "argmax", "argmin"})


class NotBatchable(Exception):
    """The plan has a step no batching rule covers (replay it once per example)."""


def batched_replay(concrete: ConcreteFunction, values: list[Any], batched: list[bool],
                   n: int) -> list[Any]:
    """The output arrays of ``concrete``'s plan run on a batch of ``n`` examples.

    ``values`` are its parameters' arrays (variables: the variables), ``batched`` says which
    carry a leading batch axis. Each output has one (broadcast if it does not depend on a
    batched parameter). Raises :class:`NotBatchable` for a plan no rules cover.
    """
    env: dict[int, tuple[Any, bool]] = {}
    for slot, value, b in zip(concrete.parameters, values, batched):
        if slot is None:
            if b:
                raise NotBatchable("a batched variable")
            continue
        env[slot] = (value, b)
    for step in concrete.steps:
        kind = step[0]
        if kind == "read":
            _, vref, out = step
            var = values[vref[1]] if vref[0] == "p" else vref[1]
            env[out] = (var._data, False)
        elif kind == "op":
            _, op, be, refs, attrs, out = step
            ins = [env[r[1]] if r[0] == "s" else (r[1], False) for r in refs]
            if not any(b for _, b in ins):
                arrays = [a for a, _ in ins]
                env[out] = (be.kernels[op.name](*arrays, **(attrs or {})), False)
            else:
                env[out] = (_batched_op(op, be, ins, attrs or {}, n), True)
        else:
            raise NotBatchable("an effect")
    return [_batch_of(*env[ref], be, n) for kind, ref, be in concrete.outputs if kind == "s"]


def _batch_of(arr: Any, batched: bool, be: Any, n: int) -> Any:
    """``arr`` with a leading batch axis (the same value for every example if not batched)."""
    if batched:
        return arr
    k = be.kernels
    return k["broadcast_to"](k["expand_dims"](arr, axis=0), shape=(n, *tuple(arr.shape)))


def _batched_op(op: Any, be: Any, ins: list[tuple[Any, bool]], attrs: dict, n: int) -> Any:
    name = op.name
    k = be.kernels
    if op.elementwise or name in _ELEMENTWISE:
        rank = max(len(a.shape) - b for a, b in ins)
        arrays = [_padded(k, a, rank) if b else a for a, b in ins]
        return k[name](*arrays, **attrs)
    if len(ins) == 1:
        (a, _), = ins
        per = len(a.shape) - 1
        if name in _REDUCTIONS and set(attrs) <= {"axis", "keepdims"}:
            axis = attrs.get("axis")
            axes = tuple(range(1, per + 1)) if axis is None else _shifted(axis)
            return k[name](a, **{**attrs, "axis": axes})
        if name in _ALONG_AXIS and attrs.get("axis") is not None:
            return k[name](a, **{**attrs, "axis": _shifted(attrs["axis"])})
        if name == "transpose" and set(attrs) == {"axes"}:
            return k[name](a, axes=(0, *(x + 1 for x in attrs["axes"])))
        if name == "reshape" and set(attrs) == {"shape"}:
            return k[name](a, shape=(n, *attrs["shape"]))
        if name == "broadcast_to" and set(attrs) == {"shape"}:
            shape = tuple(attrs["shape"])
            return k[name](_padded(k, a, len(shape)), shape=(n, *shape))
        if name in ("expand_dims", "squeeze") and set(attrs) == {"axis"}:
            return k[name](a, axis=_shifted(attrs["axis"]))
        if name == "getitem" and set(attrs) == {"index"}:
            index = attrs["index"] if isinstance(attrs["index"], tuple) else (attrs["index"],)
            if all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in index):
                return k[name](a, index=(slice(None), *index))  # basic indexing only
    if name == "matmul" and not attrs:
        return _batched_matmul(k, ins)
    raise NotBatchable(name)


def _shifted(axis: Any) -> Any:
    if axis is None:
        raise NotBatchable("axis=None")
    return axis + 1 if isinstance(axis, int) else tuple(x + 1 for x in axis)


def _padded(k: Any, a: Any, rank: int) -> Any:
    """A batched array whose examples have rank ``rank`` (ones inserted after the batch axis)."""
    shape = tuple(a.shape)
    missing = rank - (len(shape) - 1)
    if missing <= 0:
        return a
    return k["reshape"](a, shape=(shape[0], *(1,) * missing, *shape[1:]))


def _batched_matmul(k: Any, ins: list[tuple[Any, bool]]) -> Any:
    (x, bx), (y, by) = ins
    rx, ry = len(x.shape) - bx, len(y.shape) - by
    if rx >= 2 and ry >= 2:
        rank = max(rx, ry)
        # matmul broadcasts its leading axes: the batch axis is one more of them.
        return k["matmul"](_padded(k, x, rank) if bx else x, _padded(k, y, rank) if by else y)
    if bx and not by and rx == 1 and ry == 2:
        return k["matmul"](x, y)                                   # (n, i) @ (i, j)
    if by and not bx and ry == 1 and rx == 2:
        return k["matmul"](y, k["transpose"](x, axes=(1, 0)))      # rows: (n, j) @ (j, i)
    if bx and by and rx == 1 and ry == 1:
        return k["sum"](k["multiply"](x, y), axis=(1,), keepdims=False)
    raise NotBatchable("matmul")


def vectorized(concrete: ConcreteFunction, params: list[Any], batched: list[bool],
               n: int) -> list[Any]:
    """:func:`batched_replay`, or the plan replayed once per example when it is not
    batchable; output arrays with a leading batch axis either way."""
    values = [p if isinstance(p, Variable) else p._data for p in params]
    for kind, value, _ in concrete.outputs:
        if kind != "s" and not isinstance(value, Tensor):
            raise NotBatchable("an output that is not a tensor")
    try:
        slots = batched_replay(concrete, values, batched, n)
    except NotBatchable:
        be = next(p._backend for p, b in zip(params, batched) if b)
        k = be.kernels
        rows = []
        for i in range(n):
            args = [k["getitem"](v, index=(i,)) if b else v for v, b in zip(values, batched)]
            rows.append(list(concrete.replay(*args)))
        slots = [k["stack"](*(r[j] for r in rows), axis=0) for j in range(len(rows[0]))] \
            if rows and rows[0] else []
    it = iter(slots)
    # Outputs the trace found constant (a gradient that does not depend on the seed): the
    # same value for every example.
    return [next(it) if kind == "s" else _batch_of(value._data, False, value._backend, n)
            for kind, value, _ in concrete.outputs]


def vjp_rows(compute: Callable[[Tensor], list[Any]], target: Tensor, seeds: Any) -> list[Any]:
    """``compute(seed)`` (a backward pass: one gradient or None per source) for each row of
    ``seeds`` (a NumPy array of shape ``(n,) + target.shape``), as one batched pass.

    Returns per source a native array with a leading axis of ``n``, or None where the
    gradient is None. The backward pass is traced once, on a zero seed.
    """
    from .creation import constant, zeros_like
    from .function import trace_function

    present: list[bool] = []

    def gradients(seed: Tensor) -> list[Tensor]:
        grads = compute(seed)
        present[:] = [g is not None for g in grads]
        return [g for g in grads if g is not None]

    seed = zeros_like(target)
    concrete, _ = trace_function(gradients, (seed,), {}, [seed])
    if not any(present):
        return [None] * len(present)
    batch = constant(seeds, dtype=target.dtype, backend=target._backend)
    it = iter(vectorized(concrete, [batch], [True], int(seeds.shape[0])))
    return [next(it) if p else None for p in present]
