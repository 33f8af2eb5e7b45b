"""``custom_gradient`` and the variable-access tracking it needs."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from . import dispatch, nest, ops
from .creation import constant
from .errors import InvalidArgumentError
from .optable import Op
from .tensor import Tensor, Variable, wrap

__all__ = ["custom_gradient"]


class _NoRecords(list):
    def append(self, item: Any) -> None:  # the tracker only wants to see variable reads
        pass


class _VariableTracker:
    """Stands in for the tape stack while the decorated function runs: it records
    nothing and remembers which trainable variables were read."""

    def __init__(self) -> None:
        self._tracked: set[int] = set()
        self._variables: dict[int, Variable] = {}
        self._watch_accessed = True
        self._records = _NoRecords()

    def _watch_variable(self, v: Variable) -> None:
        self._variables[id(v)] = v


def custom_gradient(f: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate ``f(*xs) -> (y, grad_fn)`` to give ``y`` the gradient ``grad_fn(dy)``.

    ``grad_fn`` returns one gradient per positional argument of ``f`` (a single
    tensor when there is one argument). If ``f`` reads trainable variables,
    ``grad_fn`` must take a keyword argument ``variables`` and return
    ``(input_grads, variable_grads)``, as in TensorFlow.

    As in TensorFlow, arguments and outputs may be nested lists and tuples of tensors:
    ``grad_fn`` then receives one ``dy`` per (flattened) output, zeros for outputs the
    target does not use, and returns gradients for the flattened arguments.

    >>> import polytape as pt
    >>> @pt.custom_gradient
    ... def square(x):
    ...     return x * x, lambda dy: 2 * x * dy
    >>> x = pt.constant(3.0)
    >>> with pt.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = square(x)
    >>> float(tape.gradient(y, x))
    6.0
    """
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flat_args = nest.flatten(list(args))
        inputs = tuple(a if isinstance(a, Tensor) else constant(a) for a in flat_args)
        call_args = nest.pack_as(list(args), list(inputs))
        tracker = _VariableTracker()
        tapes = dispatch.thread_tapes()
        saved = tapes[:]
        tapes[:] = [tracker]
        dispatch.recording_changed(+1)
        try:
            result = f(*call_args, **kwargs)
        finally:
            tapes[:] = saved
            dispatch.recording_changed(-1)
        if not (isinstance(result, tuple) and len(result) == 2 and callable(result[1])):
            raise InvalidArgumentError(
                f"custom_gradient: {f.__name__} must return (output, grad_fn), got {result!r}")
        y, grad_fn = result
        variables = [v for v in tracker._variables.values() if id(v) not in map(id, inputs)]
        takes_vars = _accepts_variables(grad_fn)
        if variables and not takes_vars:
            raise InvalidArgumentError(
                f"custom_gradient: {f.__name__} reads variables "
                f"{[v.name for v in variables]}, so its grad_fn must accept a keyword argument "
                "`variables` and return (input_grads, variable_grads)")
        if isinstance(y, (list, tuple, dict)):
            return _nested_outputs(f.__name__, y, grad_fn, inputs,
                                   variables if takes_vars else None, variables)
        if not isinstance(y, Tensor):
            y = constant(y)
        # A fresh tensor, so that tapes that already track `y` elsewhere see this op's output.
        y = wrap(y._data, y._backend)
        if dispatch._recording:
            all_inputs = inputs + tuple(variables)
            op = _custom_op(f.__name__, grad_fn, len(inputs), variables if takes_vars else None)
            dispatch.record(op, all_inputs, tuple(t._data for t in all_inputs), y, None)
        return y

    return wrapper


def _nested_outputs(name: str, y: Any, grad_fn: Callable[..., Any], inputs: tuple,
                    variables: list[Variable] | None, read: list[Variable]) -> Any:
    """Several outputs, returned in ``y``'s structure.

    The tape records ops with one output, so the outputs are recorded as slices of one
    packed (flattened, concatenated) output of a single custom op: the tape then sums the
    outputs' gradients into the packed gradient itself (zeros where an output is unused),
    and the op's rule cuts that gradient back into one ``dy`` per output for ``grad_fn``.
    """
    flat = [t if isinstance(t, Tensor) else constant(t) for t in nest.flatten(y)]
    if not flat:
        raise InvalidArgumentError(f"custom_gradient: {name} returned no output tensors")
    be = flat[0]._backend
    dtype = flat[0].dtype
    for t in flat[1:]:
        if t.dtype is not dtype or t._backend is not be:
            raise InvalidArgumentError(
                f"custom_gradient: the outputs of {name} must share one dtype and backend, got "
                f"{[(str(o.dtype), o.backend) for o in flat]}; cast them first with pt.cast")
    shapes = [tuple(t.shape) for t in flat]
    sizes = [t.size for t in flat]
    packed = wrap(be.kernels["concat"](*(be.kernels["reshape"](t._data, (-1,)) for t in flat),
                                       axis=0), be)
    if dispatch._recording:
        all_inputs = inputs + tuple(read)
        op = _custom_op(name, _unpacking(grad_fn, shapes, sizes), len(inputs), variables)
        dispatch.record(op, all_inputs, tuple(t._data for t in all_inputs), packed, None)
    outs, start = [], 0
    for shape, size in zip(shapes, sizes):
        outs.append(ops.reshape(packed[start:start + size], shape))
        start += size
    return nest.pack_as(y, outs)


def _unpacking(grad_fn: Callable[..., Any], shapes: list[tuple[int, ...]],
               sizes: list[int]) -> Callable[..., Any]:
    """``grad_fn`` taking the packed gradient: it is cut into one ``dy`` per output."""
    def unpacked(g: Any, **kw: Any) -> Any:
        dys, start = [], 0
        for shape, size in zip(shapes, sizes):
            dys.append(ops.reshape(g[start:start + size], shape))
            start += size
        return grad_fn(*dys, **kw)
    if not _accepts_variables(grad_fn):
        return lambda g: unpacked(g)
    return unpacked


def _accepts_variables(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "variables" or p.kind is p.VAR_KEYWORD for p in params)


def _custom_op(name: str, grad_fn: Callable[..., Any], n_inputs: int,
               variables: list[Variable] | None) -> Op:
    cache: dict[str, Any] = {}

    def rule(ns: Any, g: Any, ans: Any, *xs: Any, argnum: int) -> Any:
        if cache.get("g") is not g:
            tensors = ns is ops
            dy = g if tensors else wrap(g, ns.backend)
            if variables is None:
                grads = _as_list(grad_fn(dy), n_inputs, name, "inputs")
            else:
                out = grad_fn(dy, variables=variables)
                if not (isinstance(out, (tuple, list)) and len(out) == 2):
                    raise InvalidArgumentError(
                        f"custom_gradient: grad_fn of {name} takes `variables`, so it must "
                        "return (input_grads, variable_grads)")
                grads = _as_list(out[0], n_inputs, name, "inputs") + \
                    _as_list(out[1], len(variables), name, "variables")
            cache["g"] = g
            cache["grads"] = [None if d is None else (d if tensors else _native(d, ns.backend))
                              for d in grads]
        return cache["grads"][argnum]

    return Op(f"custom_gradient:{name}", vjps=(rule,), variadic=True)  # JVP: by double VJP


def _as_list(grads: Any, n: int, name: str, what: str) -> list[Any]:
    flat = nest.flatten(grads) if isinstance(grads, (list, tuple)) else [grads]
    if len(flat) != n:
        # TensorFlow's wording, which its tests match.
        raise InvalidArgumentError(
            f"custom_gradient function expected to return {n} gradients, but returned "
            f"{len(flat)} instead ({name}: one per {what[:-1]}, nested structures flattened)")
    return flat


def _native(d: Any, backend: Any) -> Any:
    if isinstance(d, Tensor):
        return d._data
    return constant(d, backend=backend)._data


