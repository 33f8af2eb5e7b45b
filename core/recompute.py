"""``recompute_grad``: trade compute for memory (gradient checkpointing), as
``tf.recompute_grad`` does.

The wrapped function runs once forward with nothing recorded -- its intermediates are
freed as soon as it returns -- and one op is recorded in their place. That op's gradient
runs the function again under a fresh tape and differentiates it, so only the inputs
(and the variables it reads) stay alive between the forward and the backward pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .custom_gradient import custom_gradient
from .tape import GradientTape

__all__ = ["recompute_grad"]


def recompute_grad(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` with the same values and gradients, whose intermediates are recomputed during
    the backward pass instead of being kept (positional tensor arguments are differentiated;
    trainable variables ``f`` reads are too).

    >>> import polytape as pt
    >>> block = pt.recompute_grad(lambda x: pt.sin(x) * pt.sin(x))
    >>> x = pt.constant(0.5)
    >>> with pt.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = block(x)
    >>> round(float(tape.gradient(y, x)), 6)  # sin(2x)
    0.841471
    """
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        @custom_gradient
        def checkpointed(*xs: Any) -> Any:
            y = f(*xs, **kwargs)

            def grad(*dys: Any, variables: Any = None) -> Any:
                sources = list(xs) + list(variables or [])
                with GradientTape() as tape:
                    tape.watch(list(xs))
                    y2 = f(*xs, **kwargs)
                grads = tape.gradient(y2, sources, output_gradients=list(dys))
                return grads[:len(xs)], grads[len(xs):]
            return y, grad
        return checkpointed(*args)
    return wrapper
