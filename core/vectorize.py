"""Running a traced plan on a batch at once (TensorFlow's pfor, JAX's vmap), for
``jacobian``/``batch_jacobian``, ``vectorized_map`` and ``hessian``.

A function is traced once (:func:`polytape.function.trace_function`) on one example; its
plan is then replayed with some parameters carrying a leading batch axis. Each kernel call
of the plan gets a *batching rule*: elementwise ops broadcast (the per-example operands
are padded to one rank, so NumPy broadcasting lines them up behind the batch axis); every
other op has one rule in :data:`BATCHING`, declared with :func:`batching` (axes shifted
past the batch axis, a leading full slice for indexing, one more ``einsum`` letter, the
batch axis broadcast by ``matmul`` and the matrix functions or folded into a convolution's
N or channels). A plan with an effect, or a step no rule covers, is replayed once per
example instead (still with no dispatch between ops), so every plan gets an answer, and
the same one; :data:`fallbacks` says why it happened.

Inside a ``pt.function`` trace, the batched replay runs its kernels as polytape ops, so
that the enclosing trace records it as steps of its plan (``traced=True``).
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

from . import nest, tracing
from .function import ConcreteFunction
from .tensor import Tensor, Variable

__all__ = ["batched_replay", "NotBatchable", "fallbacks"]

# Why each plan that could not be batched was replayed once per example instead (its
# NotBatchable message), most recent last, the last few only: tests and benchmarks read it
# to see that a derivative really ran as one batched pass (the two paths give one answer).
fallbacks: collections.deque[str] = collections.deque(maxlen=32)

# Elementwise kernels the op table does not declare elementwise (no derivative rule to
# derive, but they broadcast all the same): comparisons and the like.
_ELEMENTWISE = frozenset({
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and",
    "logical_or", "logical_xor", "logical_not", "sign", "floor", "ceil", "round", "trunc",
    "isnan", "isinf", "isfinite", "signbit", "remainder", "floor_divide",
    # elementwise, but not holomorphic (so their derivatives are declared one by one)
    "abs", "real", "imag", "conj"})
# Ops whose only shape attribute is ``axis`` (None: every axis of a reduction).
_REDUCTIONS = frozenset({"sum", "mean", "prod", "max", "min", "logsumexp"})
_ALONG_AXIS = frozenset({"softmax", "log_softmax", "cumsum", "argmax", "argmin"})


class NotBatchable(Exception):
    """The plan has a step no batching rule covers (replay it once per example)."""


def batched_replay(concrete: ConcreteFunction, values: list[Any], batched: list[bool],
                   n: int, traced: bool = False) -> list[Any]:
    """The output arrays of ``concrete``'s plan run on a batch of ``n`` examples.

    ``values`` are its parameters' arrays (variables: the variables), ``batched`` says which
    carry a leading batch axis. Each output has one (broadcast if it does not depend on a
    batched parameter). Raises :class:`NotBatchable` for a plan no rules cover.

    ``traced``: the values are tensors and every kernel runs as a polytape op, so that the
    running ``pt.function`` trace records the batched pass as steps of its plan.
    """
    kernels = _traced_kernels if traced else _backend_kernels
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
            env[out] = (var if traced else var._data, False)  # traced: the trace reads it
        elif kind == "op":
            _, op, be, refs, attrs, out = step
            ins = [env[r[1]] if r[0] == "s" else (r[1], False) for r in refs]
            k = kernels(be)
            if not any(b for _, b in ins):
                arrays = [a for a, _ in ins]
                env[out] = (k[op.name](*arrays, **(attrs or {})), False)
            else:
                env[out] = (_batched_op(op, k, ins, attrs or {}, n), True)
        else:
            raise NotBatchable("an effect")
    return [_batch_of(*env[ref], kernels(be), n)
            for kind, ref, be in concrete.outputs if kind == "s"]


def _backend_kernels(be: Any) -> Any:
    return be.kernels


class _traced_kernels:  # noqa: N801  (used as a function: kernels(be)[name])
    """A backend's kernels by name, run as polytape ops (recorded by a running trace)."""

    __slots__ = ("be",)

    def __init__(self, be: Any) -> None:
        self.be = be

    def __getitem__(self, name: str) -> Callable[..., Tensor]:
        from .dispatch import run
        from .optable import OPS
        from .tensor import wrap

        op, be = OPS[name], self.be

        def call(*xs: Any, **attrs: Any) -> Tensor:
            ts = tuple(x if isinstance(x, Tensor) else wrap(x, be) for x in xs)
            return run(op, be, ts, tuple(t._data for t in ts), attrs or None)
        return call


def _batch_of(arr: Any, batched: bool, k: Any, n: int) -> Any:
    """``arr`` with a leading batch axis (the same value for every example if not batched;
    ``k``: the backend's kernels)."""
    if batched:
        return arr
    return k["broadcast_to"](k["expand_dims"](arr, axis=0), shape=(n, *tuple(arr.shape)))


def _batched_op(op: Any, k: Any, ins: list[tuple[Any, bool]], attrs: dict, n: int) -> Any:
    name = op.name
    if op.elementwise or name in _ELEMENTWISE:
        rank = max(len(a.shape) - b for a, b in ins)
        arrays = [_padded(k, a, rank) if b else a for a, b in ins]
        return k[name](*arrays, **attrs)
    rule = BATCHING.get(name)
    if rule is None:
        raise NotBatchable(name)
    return rule(k[name], k, ins, attrs, n)


# -- batching rules: one per op (as core/derivatives.py declares one VJP per op) -------------
# ``rule(kernel, kernels, ins, attrs, n)`` gets the op's kernel, the backend's kernels and
# each input as ``(array, batched)`` (at least one is batched: it carries a leading batch
# axis of ``n`` examples) and returns the batched result. A rule raises NotBatchable for a
# call it does not cover (the plan is then replayed once per example).
BatchingRule = Callable[[Any, Any, list, dict, int], Any]
BATCHING: dict[str, BatchingRule] = {}


def batching(*names: str) -> Callable[[BatchingRule], BatchingRule]:
    """Declare the decorated function the batching rule of the ops ``names``."""
    def declare(rule: BatchingRule) -> BatchingRule:
        for name in names:
            BATCHING[name] = rule
        return rule
    return declare


def _one(ins: list[tuple[Any, bool]], attrs: dict, allowed: set[str]) -> Any:
    """The single (batched) input of a one-input op called with only ``allowed`` attributes."""
    if len(ins) != 1 or not set(attrs) <= allowed:
        raise NotBatchable("an unexpected call")
    return ins[0][0]


def _all_batched(k: Any, ins: list[tuple[Any, bool]], n: int) -> list[Any]:
    """Every input with the batch axis (the unbatched ones broadcast: views, no copies)."""
    return [_batch_of(a, b, k, n) for a, b in ins]


def _example_rank(a: Any) -> int:
    return len(a.shape) - 1


@batching(*_REDUCTIONS)
def _reduction(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    a = _one(ins, attrs, {"axis", "keepdims"})
    axis = attrs.get("axis")
    axes = tuple(range(1, _example_rank(a) + 1)) if axis is None else _shifted(axis)
    return kernel(a, **{**attrs, "axis": axes})


@batching(*_ALONG_AXIS, "flip", "fftn", "ifftn", "rfftn", "irfftn", "expand_dims", "squeeze")
def _axis_attribute(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    # The op acts on the axes it names (all of the example's when None): shift them.
    a = _one(ins, attrs, {"axis", "axes", "reverse", "s", "norm"})
    key = "axes" if "axes" in attrs else "axis"
    axis = attrs.get(key)
    axes = tuple(range(1, _example_rank(a) + 1)) if axis is None else _shifted(axis)
    return kernel(a, **{**attrs, key: axes})


@batching("transpose")
def _transpose(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    a = _one(ins, attrs, {"axes"})
    return kernel(a, axes=(0, *(x + 1 for x in attrs["axes"])))


@batching("reshape")
def _reshape(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    a = _one(ins, attrs, {"shape"})
    return kernel(a, shape=(n, *attrs["shape"]))


@batching("broadcast_to")
def _broadcast_to(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    a = _one(ins, attrs, {"shape"})
    shape = tuple(attrs["shape"])
    return kernel(_padded(k, a, len(shape)), shape=(n, *shape))


@batching("tile")
def _tile(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    a = _one(ins, attrs, {"reps"})
    reps = tuple(attrs["reps"]) if not isinstance(attrs["reps"], int) else (attrs["reps"],)
    a = _padded(k, a, len(reps))  # NumPy pads the shorter of shape and reps with leading 1s
    return kernel(a, reps=(1,) * (len(a.shape) - len(reps)) + reps)


@batching("pad")
def _pad(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    a = _one(ins, attrs, {"pad_width", "constant_value"})
    return kernel(a, **{**attrs, "pad_width": ((0, 0), *attrs["pad_width"])})


@batching("concat", "stack")
def _joined(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    if set(attrs) != {"axis"}:
        raise NotBatchable("an unexpected call")
    return kernel(*_all_batched(k, ins, n), axis=_shifted(attrs["axis"]))


@batching("einsum")
def _einsum(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    # Subscripts arrive canonical (explicit output, no ellipsis): the batch axis is one more
    # letter, on the batched operands and the output.
    inputs, output = attrs["subscripts"].split("->")
    used = set(attrs["subscripts"])
    letter = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                  if c not in used)
    terms = [letter + t if b else t for t, (_, b) in zip(inputs.split(","), ins)]
    return kernel(*(a for a, _ in ins), subscripts=",".join(terms) + "->" + letter + output)


@batching("matmul")
def _matmul(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    if attrs:
        raise NotBatchable("matmul")
    (x, bx), (y, by) = ins
    rx, ry = len(x.shape) - bx, len(y.shape) - by
    if bx and by and rx == 1 and ry == 1:
        return k["sum"](k["multiply"](x, y), axis=(1,), keepdims=False)
    # A vector operand is a one-row (x) or one-column (y) matrix, its axis dropped after;
    # matrices then broadcast their leading axes, and the batch axis is one more of them.
    if rx == 1:
        x, rx = k["expand_dims"](x, axis=-2), 2
    if ry == 1:
        y, ry = k["expand_dims"](y, axis=-1), 2
    rank = max(rx, ry)
    out = kernel(_padded(k, x, rank) if bx else x, _padded(k, y, rank) if by else y)
    if len(ins[1][0].shape) - by == 1:
        out = k["squeeze"](out, axis=-1)
    if len(ins[0][0].shape) - bx == 1:
        out = k["squeeze"](out, axis=-2)
    return out


@batching("inv", "det", "slogdet", "cholesky", "eigh", "qr", "svd", "pinv", "matrix_rank")
def _matrix_function(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    # Linear algebra on the last two axes broadcasts over the others: the batch axis is one.
    if len(ins) != 1:
        raise NotBatchable("an unexpected call")
    return kernel(ins[0][0], **attrs)


@batching("solve")
def _solve(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    # B is (..., n, k) (the front end made a vector a column): solve broadcasts its leading
    # axes as matmul does.
    rank = max(len(a.shape) - b for a, b in ins)
    return kernel(*(_padded(k, a, rank) if b else a for a, b in ins), **attrs)


# Indexing. Batched, the index gets a leading full slice. NumPy (and torch) put the axes of
# the advanced (array) indices where the first of them stands when they are adjacent, but
# first of all when they are separated (ints count as advanced then): the batch axis is
# then behind them and must be moved.
def _advanced(index: tuple) -> tuple[bool, int]:
    """Whether ``index``'s advanced indices are separated, and their broadcast rank."""
    arrays = [i for i, p in enumerate(index) if not (p is None or p is Ellipsis or isinstance(
        p, (slice, int)))]
    if not arrays:
        return False, 0
    positions = [i for i, p in enumerate(index) if i in arrays or (
        isinstance(p, int) and not isinstance(p, bool))]
    separated = positions[-1] - positions[0] + 1 != len(positions)
    rank = max(1 if _is_mask(index[i]) else len(index[i].shape) for i in arrays)
    return separated, rank


def _is_mask(p: Any) -> bool:
    return str(p.dtype) in ("bool", "torch.bool")


def _indexed_rank(rank: int, index: tuple) -> int:
    """The rank of ``x[index]`` for an ``x`` of rank ``rank``."""
    arrays = [p for p in index if not (p is None or p is Ellipsis or isinstance(p, (slice, int)))]
    consumed = sum(isinstance(p, int) for p in index) + sum(
        len(p.shape) if _is_mask(p) else 1 for p in arrays)
    return rank - consumed + sum(p is None for p in index) + (_advanced(index)[1] if arrays else 0)


def _index_tuple(attrs: dict) -> tuple:
    index = attrs["index"]
    return index if isinstance(index, tuple) else (index,)


def _moved(k: Any, a: Any, source: int, dest: int) -> Any:
    axes = list(range(len(a.shape)))
    axes.insert(dest, axes.pop(source))
    return k["transpose"](a, axes=tuple(axes))


@batching("getitem")
def _getitem(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    a = _one(ins, attrs, {"index"})
    index = _index_tuple(attrs)
    out = kernel(a, index=(slice(None), *index))
    separated, rank = _advanced(index)
    return _moved(k, out, rank, 0) if separated else out


@batching("index_add")
def _index_add(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    (base, bb), (values, bv) = ins
    if set(attrs) != {"index"}:
        raise NotBatchable("index_add")
    index = _index_tuple(attrs)
    base = _batch_of(base, bb, k, n)
    separated, rank = _advanced(index)
    if separated or bv:
        # The values in the layout base[batched index] has: every example's, batch axis
        # where that layout puts it.
        target = _indexed_rank(_example_rank(base), index)
        values = _padded(k, _batch_of(values, bv, k, n), target)
        if separated:
            values = _moved(k, values, 0, rank)
    return kernel(base, values, index=(slice(None), *index))
# Convolution and pooling (NHWC data, HWIO filters). Their examples are batches already:
# a batched data input folds the batch axis into N; a batched filter (or, for the filter
# gradient, one batched operand) folds it into a channel axis, whose entries the op keeps
# apart.
def _fold(k: Any, a: Any) -> Any:
    shape = tuple(a.shape)
    return k["reshape"](a, shape=(shape[0] * shape[1], *shape[2:]))


def _unfold(k: Any, a: Any, n: int) -> Any:
    shape = tuple(a.shape)
    return k["reshape"](a, shape=(n, shape[0] // n, *shape[1:]))


def _into_channels(k: Any, a: Any, axis: int) -> Any:
    """Batched ``a`` with its batch axis merged into example axis ``axis`` (batch-major)."""
    moved = _moved(k, a, 0, axis)  # the batch axis just before ``axis``
    shape = tuple(moved.shape)
    return k["reshape"](moved, shape=(*shape[:axis], shape[axis] * shape[axis + 1],
                                      *shape[axis + 2:]))


def _out_of_channels(k: Any, a: Any, axis: int, n: int) -> Any:
    shape = tuple(a.shape)
    split = k["reshape"](a, shape=(*shape[:axis], n, shape[axis] // n, *shape[axis + 1:]))
    return _moved(k, split, axis, 0)


@batching("max_pool2d", "max_pool2d_grad", "max_pool2d_grad_grad", "avg_pool2d",
          "avg_pool2d_grad")
def _pooling(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    # Every input is NHWC data (the pooled input and gradients of its shape or the output's).
    return _unfold(k, kernel(*(_fold(k, a) for a in _all_batched(k, ins, n)), **attrs), n)


@batching("conv2d", "conv2d_transpose")
def _convolution(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    (x, bx), (w, bw) = ins
    if not bw:
        return _unfold(k, kernel(_fold(k, x), w, **attrs), n)
    if bx:
        raise NotBatchable("a convolution with both operands batched")
    # The output channels are the filters' O for conv2d, their I for conv2d_transpose
    # (the one given an input_size).
    axis = 2 if "input_size" in attrs else 3
    return _out_of_channels(k, kernel(x, _into_channels(k, w, axis), **attrs), 3, n)


@batching("conv2d_backprop_filter")
def _filter_gradient(kernel: Any, k: Any, ins: list, attrs: dict, n: int) -> Any:
    (x, bx), (dy, bdy) = ins
    if bx and bdy:
        raise NotBatchable("conv2d_backprop_filter with both operands batched")
    if bdy:  # the gradient's O channels
        return _out_of_channels(k, kernel(x, _into_channels(k, dy, 3), **attrs), 3, n)
    return _out_of_channels(k, kernel(_into_channels(k, x, 3), dy, **attrs), 2, n)


def _shifted(axis: Any) -> Any:
    """Axes of an example as axes of the batch (counted from the end, they stay)."""
    if axis is None:
        raise NotBatchable("axis=None")
    if isinstance(axis, int):
        return axis + 1 if axis >= 0 else axis
    return tuple(x + 1 if x >= 0 else x for x in axis)


def _padded(k: Any, a: Any, rank: int) -> Any:
    """A batched array whose examples have rank ``rank`` (ones inserted after the batch axis)."""
    shape = tuple(a.shape)
    missing = rank - (len(shape) - 1)
    if missing <= 0:
        return a
    return k["reshape"](a, shape=(shape[0], *(1,) * missing, *shape[1:]))


def vectorized(concrete: ConcreteFunction, params: list[Any], batched: list[bool],
               n: int) -> list[Any]:
    """:func:`batched_replay`, or the plan replayed once per example when it is not
    batchable; output arrays with a leading batch axis either way.

    ``concrete.captures`` (tensors of an enclosing trace) are appended to ``params``,
    unbatched. A trace running in this thread records the work as ops of its plan, and the
    outputs are then tensors of it.
    """
    from . import ops

    traced = tracing.active and tracing.current() is not None
    params = list(params) + list(concrete.captures)
    batched = list(batched) + [False] * len(concrete.captures)
    if traced:
        values = list(params)
    else:
        values = [p if isinstance(p, Variable) else p._data for p in params]
    for kind, value, _ in concrete.outputs:
        if kind != "s" and not isinstance(value, Tensor):
            raise NotBatchable("an output that is not a tensor")
    try:
        slots = batched_replay(concrete, values, batched, n, traced)
    except NotBatchable as exc:
        fallbacks.append(str(exc))
        be = next(p._backend for p, b in zip(params, batched) if b)
        if traced:
            rows = []
            for i in range(n):
                args = [v[i] if b else v for v, b in zip(params, batched)]
                leaves = nest.flatten(concrete.run_recorded(args))
                rows.append([leaf for leaf, (kind, _, _) in zip(leaves, concrete.outputs)
                             if kind == "s"])
            slots = [ops.stack([r[j] for r in rows]) for j in range(len(rows[0]))] \
                if rows and rows[0] else []
        else:
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
    return [next(it) if kind == "s" else _batch_of(
        value if traced else value._data, False,
        _traced_kernels(value._backend) if traced else value._backend.kernels, n)
        for kind, value, _ in concrete.outputs]


def vjp_rows(compute: Callable[[Tensor], list[Any]], target: Tensor, seeds: Any) -> list[Any]:
    """``compute(seed)`` (a backward pass: one gradient or None per source) for each row of
    ``seeds`` (a NumPy array of shape ``(n,) + target.shape``), as one batched pass.

    Returns per source a native array with a leading axis of ``n``, or None where the
    gradient is None. The backward pass is traced once, on a zero seed. Inside a running
    ``pt.function`` trace, the batched pass becomes steps of its plan and the results are
    tensors of that trace.
    """
    from .creation import constant, zeros_like
    from .function import trace_function

    present: list[bool] = []

    def gradients(seed: Tensor) -> list[Tensor]:
        grads = compute(seed)
        present[:] = [g is not None for g in grads]
        return [g for g in grads if g is not None]

    seed = zeros_like(target)
    concrete, _ = trace_function(gradients, (seed,), {}, [seed], capture=True)
    if not any(present):
        return [None] * len(present)
    batch = constant(seeds, dtype=target.dtype, backend=target._backend)
    it = iter(vectorized(concrete, [batch], [True], int(seeds.shape[0])))
    return [next(it) if p else None for p in present]
