"""TensorFlow's functional control flow, eagerly: ``cond``, ``while_loop``, ``map_fn``,
``foldl``/``foldr``, ``scan``, and ``vectorized_map`` (traced once, run batched).

polytape runs every op eagerly, so these are Python loops and branches over polytape ops:
the tape records the ops each iteration runs (indexing the elements, the body's ops,
stacking the results), which is what makes them differentiable on every backend without a
rule of their own. Structures (nested tuples, lists, dicts) are flattened with
:mod:`polytape.nest`, the leaves of ``elems`` are sliced along their first axis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import nest, tracing
from .creation import convert_to_tensor, zeros
from .errors import InvalidArgumentError, ShapeError, TracingError
from .ops import cast, reshape, stack, where  # through ops: it fills the op table the op modules need
from .tensor import Tensor, wrap

__all__ = ["cond", "while_loop", "map_fn", "foldl", "foldr", "scan", "vectorized_map"]


def _truth(pred: Any, what: str) -> bool:
    if isinstance(pred, Tensor):
        if pred.size != 1:
            raise InvalidArgumentError(
                f"{what}: the predicate must be a scalar, got shape {tuple(pred.shape)} (The "
                "truth value of an array with more than one element is ambiguous)")
        return bool(pred)
    return bool(pred)


def cond(pred: Any, true_fn: Callable[[], Any] | None = None,
         false_fn: Callable[[], Any] | None = None, name: str | None = None) -> Any:
    """``true_fn()`` if ``pred`` holds, else ``false_fn()`` (only the chosen branch runs).

    >>> import polytape as pt
    >>> float(pt.cond(pt.constant(2.0) > 1.0, lambda: pt.constant(1.0), lambda: pt.constant(0.0)))
    1.0
    """
    if not callable(true_fn) or not callable(false_fn):
        raise InvalidArgumentError("cond: true_fn and false_fn must be callable")
    if tracing.active and isinstance(pred, Tensor):
        trace = tracing.current()
        if trace is not None and trace.knows(pred):
            return _selected(trace, pred, true_fn, false_fn)
    return true_fn() if _truth(pred, "cond") else false_fn()


def _selected(trace: Any, pred: Tensor, true_fn: Callable[[], Any],
              false_fn: Callable[[], Any]) -> Any:
    """``cond`` on a traced predicate (inside ``pt.function``): the plan runs both branches
    and selects each result with ``where``, so either branch's value comes out on replay."""
    if pred.size != 1:
        raise InvalidArgumentError(f"cond: the predicate must be a scalar, got shape "
                                   f"{tuple(pred.shape)}")
    effects = trace.effects
    a, b = true_fn(), false_fn()
    if trace.effects != effects:
        raise TracingError(
            "cond inside pt.function runs both branches and selects between their results, so "
            "a branch cannot assign variables, apply gradients or draw random numbers; do that "
            "after the cond, selecting the value with it")
    _same_structure(a, b, "cond")
    pred = reshape(pred, ())
    leaves = []
    for x, y in zip(nest.flatten(a), nest.flatten(b)):
        if isinstance(x, Tensor) or isinstance(y, Tensor):
            leaves.append(where(pred, x, y))
        elif x == y:
            leaves.append(x)
        else:
            raise TracingError(f"cond inside pt.function: the branches return different Python "
                               f"values ({x!r} and {y!r}); return tensors to select between them")
    return nest.pack_as(a, leaves)


def _same_structure(a: Any, b: Any, what: str) -> None:
    if _structure(a) != _structure(b):
        raise InvalidArgumentError(
            f"{what}: The two structures don't have the same nested structure: "
            f"{_structure(a)} and {_structure(b)}")


def _structure(s: Any) -> Any:
    if isinstance(s, dict):
        return {k: _structure(s[k]) for k in sorted(s)}
    if isinstance(s, (list, tuple)):
        return [_structure(x) for x in s]
    return "."


def _tensors(s: Any) -> Any:
    return nest.pack_as(s, [x if isinstance(x, Tensor) else convert_to_tensor(x)
                            for x in nest.flatten(s)])


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any,
               shape_invariants: Any = None, parallel_iterations: int = 10,
               back_prop: bool = True, swap_memory: bool = False,
               maximum_iterations: Any = None, name: str | None = None) -> Any:
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``, at most
    ``maximum_iterations`` times; returns the final ``loop_vars`` (same structure).

    ``loop_vars`` is a tuple or list (each element is one argument of ``cond`` and
    ``body``); a single tensor is accepted too and gives a single tensor back.
    ``body`` must return the structure it was given (a one-element loop may return the
    element alone). Gradients flow through every iteration.

    >>> import polytape as pt
    >>> i, s = pt.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * 2.0), (0, 1.0))
    >>> int(i), float(s)
    (3, 8.0)
    """
    if not callable(cond) or not callable(body):
        raise InvalidArgumentError("while_loop: cond and body must be callable")
    single = not isinstance(loop_vars, (list, tuple))
    state = _tensors((loop_vars,) if single else loop_vars)
    limit = None
    if maximum_iterations is not None:
        limit = int(maximum_iterations)
        if limit < 0:
            raise InvalidArgumentError(
                f"while_loop: maximum_iterations must be non-negative, got {limit}")
    n = 0
    while (limit is None or n < limit) and _truth(cond(*state), "while_loop"):
        new = body(*state)
        if len(state) == 1 and not isinstance(new, (list, tuple)):
            new = type(state)([new])
        _same_structure(state, new, "while_loop (body's result against loop_vars)")
        state = _tensors(type(state)(new) if type(new) is not type(state) else new)
        n += 1
    return state[0] if single else state


def _leading(elems: Any, what: str) -> tuple[list[Tensor], int]:
    flat = [convert_to_tensor(e) for e in nest.flatten(elems)]
    if not flat:
        raise InvalidArgumentError(f"{what}: elems must hold at least one tensor")
    n = None
    for t in flat:
        if t.ndim == 0:
            raise ShapeError(f"{what}: elements must have a first dimension to unstack, got a "
                             "0-d tensor")
        if n is None:
            n = t.shape[0]
        elif t.shape[0] != n:
            raise ShapeError(f"{what}: all elems must have the same first dimension, got "
                             f"{[tuple(x.shape) for x in flat]}")
    return flat, n


def _element(elems: Any, flat: list[Tensor], i: int) -> Any:
    return nest.pack_as(elems, [t[i] for t in flat])


def _stacked(results: list[Any]) -> Any:
    first = results[0]
    leaves = [nest.flatten(r) for r in results]
    columns = [stack([_tensors(row[j]) for row in leaves]) for j in range(len(leaves[0]))]
    return nest.pack_as(first, columns)


def map_fn(fn: Callable[[Any], Any], elems: Any, dtype: Any = None,
           parallel_iterations: int | None = None, back_prop: bool = True,
           swap_memory: bool = False, infer_shape: bool = True, name: str | None = None,
           fn_output_signature: Any = None) -> Any:
    """``fn`` applied to each slice of ``elems`` along its first axis, the results stacked.

    ``elems`` may be a structure of tensors with one first dimension; ``fn`` gets the
    same structure of slices and may return any structure (TensorFlow asks for
    ``fn_output_signature`` when it differs from ``elems``'; polytape sees the result).
    With ``fn_output_signature`` (or ``dtype``) naming a dtype, results are cast to it.
    """
    flat, n = _leading(elems, "map_fn")
    signature = fn_output_signature if fn_output_signature is not None else dtype
    if n == 0:
        # As TensorFlow: no result to look at, so an empty vector of the output dtype.
        dt = signature if signature is not None and not isinstance(signature, (list, tuple)) \
            else flat[0].dtype
        return zeros((0,), dt, backend=flat[0]._backend)
    results = [fn(_element(elems, flat, i)) for i in range(n)]
    out = _stacked(results)
    if signature is not None and not isinstance(signature, (list, tuple, dict)):
        out = nest.pack_as(out, [cast(t, signature) for t in nest.flatten(out)])
    return out


def vectorized_map(fn: Callable[[Any], Any], elems: Any, fallback_to_while_loop: bool = True,
                   warn: bool = True) -> Any:
    """``fn`` applied to each slice of ``elems``, run once on the whole batch (TensorFlow's
    pfor, JAX's vmap).

    ``fn`` is traced on the first slice and its plan replayed with a leading batch axis
    (:mod:`polytape.vectorize`: a batching rule per op; a plan with an effect, or a
    convolution whose input and filter are both batched, replays once per slice). Inside a
    ``pt.function`` trace the batched run is part of the plan. Where the batch cannot run
    on kernels -- a tape or accumulator records (the result must stay differentiable) or
    ``fn`` branches on a tensor's value -- this is :func:`map_fn`, slice by slice, with
    ``fallback_to_while_loop`` as TensorFlow's.

    >>> import polytape as pt
    >>> pt.vectorized_map(lambda row: pt.sum(row * row), pt.constant([[1.0, 2.0], [3.0, 4.0]])).numpy()
    array([ 5., 25.], dtype=float32)
    """
    from . import dispatch
    from .function import trace_function
    from .vectorize import vectorized

    flat, n = _leading(elems, "vectorized_map")
    recording = dispatch._recording and (getattr(dispatch.local, "tapes", None)
                                         or getattr(dispatch.local, "accumulators", None))
    if n == 0 or recording:
        return map_fn(fn, elems)
    first = _element(elems, flat, 0)
    params = nest.flatten(first)
    try:
        # Inside a pt.function trace, the tensors fn uses of the enclosing function are
        # captured, and the batched run becomes steps of its plan (vectorize.vectorized).
        concrete, result = trace_function(fn, (first,), {}, params, "vectorized_map",
                                          capture=True)
    except TracingError:
        if not fallback_to_while_loop:
            raise
        return map_fn(fn, elems)
    leaves = nest.flatten(result)
    if not all(isinstance(leaf, Tensor) for leaf in leaves) or any(
            kind != "s" for kind, _, _ in concrete.outputs):
        return map_fn(fn, elems)  # a constant result: stacking the slices' results says it all
    arrays = vectorized(concrete, flat, [True] * len(flat), n)
    out = [a if isinstance(a, Tensor) else wrap(a, leaf._backend)  # a tensor: traced
           for a, leaf in zip(arrays, leaves)]
    return nest.pack_as(result, out)


def _fold(what: str, fn: Callable[[Any, Any], Any], elems: Any, initializer: Any,
          reverse: bool, keep: bool) -> Any:
    flat, n = _leading(elems, what)
    order = list(range(n - 1, -1, -1)) if reverse else list(range(n))
    if initializer is None:
        if n == 0:
            raise InvalidArgumentError(
                f"{what}: Tried to read from index 0 but array size is: 0 (give an initializer "
                "for empty elems)")
        acc = _element(elems, flat, order[0])
        order = order[1:]
        outputs = [acc]
    else:
        acc = _tensors(initializer)
        outputs = []
    for i in order:
        new = fn(acc, _element(elems, flat, i))
        _same_structure(acc, new, f"{what} (fn's result against the accumulator)")
        acc = _tensors(new)
        outputs.append(acc)
    if not keep:
        return acc
    if not outputs:
        raise InvalidArgumentError(f"{what}: elems is empty, so there is nothing to stack")
    if reverse:
        outputs.reverse()
    return _stacked(outputs)


def foldl(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None,
          parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
          name: str | None = None) -> Any:
    """``fn(...fn(fn(initializer, elems[0]), elems[1])..., elems[-1])`` (without
    ``initializer``, the fold starts from ``elems[0]``).

    >>> import polytape as pt
    >>> float(pt.foldl(lambda a, x: a * 10.0 + x, pt.constant([1.0, 2.0, 3.0])))
    123.0
    """
    return _fold("foldl", fn, elems, initializer, reverse=False, keep=False)


def foldr(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None,
          parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
          name: str | None = None) -> Any:
    """:func:`foldl` from the last element to the first."""
    return _fold("foldr", fn, elems, initializer, reverse=True, keep=False)


def scan(fn: Callable[[Any, Any], Any], elems: Any, initializer: Any = None,
         parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
         infer_shape: bool = True, reverse: bool = False, name: str | None = None) -> Any:
    """Every accumulator of :func:`foldl` (of :func:`foldr` with ``reverse=True``), stacked
    along a new first axis, in ``elems``' order.

    >>> import polytape as pt
    >>> pt.scan(lambda a, x: a + x, pt.constant([1.0, 2.0, 3.0])).numpy().tolist()
    [1.0, 3.0, 6.0]
    """
    return _fold("scan", fn, elems, initializer, reverse=reverse, keep=True)


