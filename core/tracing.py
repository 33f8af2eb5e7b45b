"""What a ``pt.function`` trace shares with the hot paths: whether a trace runs anywhere,
and the thread's current trace.

The dispatch hot path, :class:`~polytape.Variable`'s updates and the functions with
effects (random draws, optimizer updates) test the one integer :data:`active` first, so
a program that never traces pays one global lookup there. The trace itself
(:class:`polytape.function.Trace`) lives in :mod:`polytape.function`; this module
imports nothing of polytape, so every module may import it.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["active", "current", "started", "stopped", "suspended", "effectful"]

active = 0                      # traces running in all threads: the hot paths' only test
local = threading.local()       # .trace: this thread's running trace, or None
_lock = threading.Lock()


def current() -> Any:
    """The calling thread's running (not suspended) trace, or None."""
    return getattr(local, "trace", None)


def started(trace: Any) -> Any:
    """Make ``trace`` this thread's running trace; returns the one it replaces."""
    global active
    previous = getattr(local, "trace", None)
    local.trace = trace
    with _lock:
        active += 1
    return previous


def stopped(previous: Any) -> None:
    """End the thread's trace, putting back what :func:`started` returned."""
    global active
    local.trace = previous
    with _lock:
        active -= 1


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    """Nothing the block runs is traced (an effect running for real, a forward-mode
    accumulator's tangent work, which belongs to the caller and not to the function)."""
    trace = getattr(local, "trace", None)
    local.trace = None
    try:
        yield
    finally:
        local.trace = trace


def effectful(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``fn`` as having an effect a trace must replay on every call (a random draw, an
    optimizer update): inside a trace, the call becomes one step of the plan that calls
    ``fn`` again with that call's tensors, instead of the kernels it ran being traced."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if active:
            trace = getattr(local, "trace", None)
            if trace is not None:
                return trace.effect(fn, args, kwargs)
        return fn(*args, **kwargs)
    return wrapper
