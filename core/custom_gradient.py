"""``custom_gradient`` and the variable-access tracking it needs."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from . import dispatch, ops
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
        self._tracked: dict[int, Any] = {}
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
        inputs = tuple(a if isinstance(a, Tensor) else constant(a) for a in args)
        tracker = _VariableTracker()
        tapes = dispatch.thread_tapes()
        saved = tapes[:]
        tapes[:] = [tracker]
        dispatch.recording_changed(+1)
        try:
            result = f(*inputs, **kwargs)
        finally:
            tapes[:] = saved
            dispatch.recording_changed(-1)
        if not (isinstance(result, tuple) and len(result) == 2 and callable(result[1])):
            raise InvalidArgumentError(
                f"custom_gradient: {f.__name__} must return (output, grad_fn), got {result!r}")
        y, grad_fn = result
        if not isinstance(y, Tensor):
            y = constant(y)
        variables = [v for v in tracker._variables.values() if id(v) not in map(id, inputs)]
        takes_vars = _accepts_variables(grad_fn)
        if variables and not takes_vars:
            raise InvalidArgumentError(
                f"custom_gradient: {f.__name__} reads variables "
                f"{[v.name for v in variables]}, so its grad_fn must accept a keyword argument "
                "`variables` and return (input_grads, variable_grads)")
        # A fresh tensor, so that tapes that already track `y` elsewhere see this op's output.
        y = wrap(y._data, y._backend)
        if dispatch._recording:
            all_inputs = inputs + tuple(variables)
            op = _custom_op(f.__name__, grad_fn, len(inputs), variables if takes_vars else None)
            dispatch.record(op, all_inputs, tuple(t._data for t in all_inputs), y, None)
        return y

    return wrapper


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
    flat = list(grads) if isinstance(grads, (list, tuple)) else [grads]
    if len(flat) != n:
        raise InvalidArgumentError(
            f"custom_gradient: grad_fn of {name} returned {len(flat)} gradients for {n} {what}")
    return flat


def _native(d: Any, backend: Any) -> Any:
    if isinstance(d, Tensor):
        return d._data
    return constant(d, backend=backend)._data


