"""Tape semantics: one case per rule of TensorFlow's ``GradientTape`` (docs/architecture.md,
"The tape").

Values are small integers and halves, exact in every float dtype, so the
expected numbers are closed forms and the comparison tolerance is the dtype's.
"""

from __future__ import annotations

import gc
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

import polytape as pt

from .cases import ConformanceCase
from .checks import assert_close, assert_dtype

__all__ = ["tape_cases"]

CASES: list[ConformanceCase] = []


def case(fn: Callable[[str, Any], None]) -> Callable[[str, Any], None]:
    """Register ``fn`` as a tape case named after it (its docstring is the rule it checks)."""
    CASES.append(ConformanceCase(fn.__name__, "tape", fn, doc=(fn.__doc__ or "").strip()))
    return fn


def _raises(exc_types: Any, fn: Callable[[], Any], contains: str = "") -> BaseException:
    try:
        fn()
    except exc_types as exc:
        if contains and contains.lower() not in str(exc).lower():
            raise AssertionError(f"{type(exc).__name__} raised, but its message does not "
                                 f"mention {contains!r}: {exc}") from exc
        return exc
    raise AssertionError(f"expected {exc_types}, nothing was raised")


@case
def records_only_watched(backend: str, dtype: Any) -> None:
    """An op is recorded only while recording and when an input is watched."""
    x = pt.constant(3.0, dtype=dtype)
    before = x * x  # computed before the tape exists
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        z = before + 1.0
    assert_close(tape.gradient([y, z], x), 6.0, dtype)
    c = pt.constant(3.0, dtype=dtype)
    with pt.GradientTape() as tape:
        y = c * c
    if tape.gradient(y, c) is not None:
        raise AssertionError("gradient w.r.t. an unwatched constant is not None")


@case
def variables_watched_on_read(backend: str, dtype: Any) -> None:
    """Trainable variables are watched when read; non-trainable ones and
    ``watch_accessed_variables=False`` tapes need ``watch``."""
    v = pt.Variable(pt.constant(2.0, dtype=dtype))
    frozen = pt.Variable(pt.constant(2.0, dtype=dtype), trainable=False)
    with pt.GradientTape() as tape:
        y = v * v + frozen * frozen
    gv, gf = tape.gradient(y, [v, frozen])
    assert_close(gv, 4.0, dtype)
    if gf is not None:
        raise AssertionError("a non-trainable variable got a gradient without watch()")
    if [id(w) for w in tape.watched_variables()] != [id(v)]:
        raise AssertionError("watched_variables() is not exactly the trainable variable read")
    with pt.GradientTape(watch_accessed_variables=False) as tape:
        y = v * v
    if tape.gradient(y, v) is not None:
        raise AssertionError("watch_accessed_variables=False still watched a read variable")
    with pt.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(v)
        y = v * v * v
    assert_close(tape.gradient(y, v), 12.0, dtype)


@case
def watch_is_by_identity(backend: str, dtype: Any) -> None:
    """Watching is per tape and by identity: an equal tensor is not watched."""
    a = pt.constant(2.0, dtype=dtype)
    b = pt.constant(2.0, dtype=dtype)
    with pt.GradientTape(persistent=True) as t1, pt.GradientTape(persistent=True) as t2:
        t1.watch(a)
        t2.watch(b)
        y = a * b
    assert_close(t1.gradient(y, a), 2.0, dtype)
    if t1.gradient(y, b) is not None or t2.gradient(y, a) is not None:
        raise AssertionError("a tape differentiated w.r.t. a tensor it did not watch")
    assert_close(t2.gradient(y, b), 2.0, dtype)


@case
def gradient_keeps_structure(backend: str, dtype: Any) -> None:
    """``gradient`` returns the structure of ``sources``: list, tuple, dict, nested."""
    a, b, c = (pt.constant(v, dtype=dtype) for v in (3.0, 2.0, 1.0))
    with pt.GradientTape(persistent=True) as tape:
        tape.watch([a, b, c])
        y = a * b + c
    g = tape.gradient(y, [a, b, c])
    if not isinstance(g, list) or len(g) != 3:
        raise AssertionError(f"list sources gave {type(g).__name__}")
    for gi, e in zip(g, (2.0, 3.0, 1.0)):
        assert_close(gi, e, dtype)
    t = tape.gradient(y, (a, b))
    if not isinstance(t, tuple):
        raise AssertionError(f"tuple sources gave {type(t).__name__}")
    d = tape.gradient(y, {"first": a, "rest": [b, {"c": c}]})
    if set(d) != {"first", "rest"} or not isinstance(d["rest"], list):
        raise AssertionError(f"dict sources gave {d!r}")
    assert_close(d["first"], 2.0, dtype)
    assert_close(d["rest"][0], 3.0, dtype)
    assert_close(d["rest"][1]["c"], 1.0, dtype)


@case
def several_targets_sum(backend: str, dtype: Any) -> None:
    """Several or non-scalar targets give the gradient of their sum."""
    x = pt.constant([1.0, 2.0], dtype=dtype)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x                 # non-scalar target
        z = 3.0 * x
    assert_close(tape.gradient(y, x), [2.0, 4.0], dtype)
    assert_close(tape.gradient([y, z], x), [5.0, 7.0], dtype)


@case
def output_gradients_vjp(backend: str, dtype: Any) -> None:
    """``output_gradients`` weighs the targets: a vector-Jacobian product."""
    x = pt.constant([1.0, 2.0, 3.0], dtype=dtype)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    g = tape.gradient(y, x, output_gradients=pt.constant([1.0, 0.5, -1.0], dtype=dtype))
    assert_close(g, [2.0, 2.0, -6.0], dtype)


@case
def unconnected_gradients(backend: str, dtype: Any) -> None:
    """Unconnected sources give None, zeros with ``"zero"``; other values raise ValueError."""
    x = pt.constant([1.0, 2.0], dtype=dtype)
    other = pt.constant([5.0, 6.0, 7.0], dtype=dtype)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch([x, other])
        y = pt.sum(x * x)
    if tape.gradient(y, other) is not None:
        raise AssertionError("an unconnected source did not give None")
    z = tape.gradient(y, other, unconnected_gradients="zero")
    assert_dtype(z, dtype, "zero gradient")
    assert_close(z, np.zeros(3), dtype)
    _raises(ValueError, lambda: tape.gradient(y, other, unconnected_gradients="zeros"))


@case
def integer_sources_and_targets(backend: str, dtype: Any) -> None:
    """Integer or bool sources and targets give None."""
    i = pt.constant([1, 2, 3])
    x = pt.constant([1.0, 2.0, 3.0], dtype=dtype)
    with pt.GradientTape(persistent=True) as tape:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tape.watch(i)
        tape.watch(x)
        yi = i * i
        yf = x * pt.cast(i, dtype)
        flag = x > 1.5
    if tape.gradient(yi, i) is not None:
        raise AssertionError("an integer source got a gradient")
    if tape.gradient(flag, x) is not None:
        raise AssertionError("a bool target gave a gradient")
    if tape.gradient(yf, i) is not None:
        raise AssertionError("an integer source of a float target got a gradient")
    assert_close(tape.gradient(yf, x), [1.0, 2.0, 3.0], dtype)


@case
def non_persistent_answers_once(backend: str, dtype: Any) -> None:
    """A non-persistent tape answers one call; the second raises RuntimeError naming
    ``persistent=True``, and the tape's records are released after the first."""
    x = pt.constant(2.0, dtype=dtype)
    with pt.GradientTape() as tape:
        tape.watch(x)
        hidden = pt.sin(x)
        y = hidden * hidden
    probe = weakref.ref(hidden)
    del hidden
    assert_close(tape.gradient(y, x), 2 * np.sin(2.0) * np.cos(2.0), dtype)
    gc.collect()
    if probe() is not None:
        raise AssertionError("the tape still holds its intermediate tensors after gradient()")
    _raises(RuntimeError, lambda: tape.gradient(y, x), contains="persistent")
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.jacobian(y, x)
    _raises(RuntimeError, lambda: tape.jacobian(y, x), contains="persistent")


@case
def persistent_answers_many(backend: str, dtype: Any) -> None:
    """A persistent tape answers many calls (seed 003: x**2 and x**3 at 2)."""
    x = pt.Variable(pt.constant([2.0], dtype=dtype))
    with pt.GradientTape(persistent=True) as tape:
        f = x ** 2
        h = x ** 3
    assert_close(tape.gradient(f, x), [4.0], dtype)
    assert_close(tape.gradient(h, x), [12.0], dtype)
    assert_close(tape.gradient(f, x), [4.0], dtype)


@case
def reentering(backend: str, dtype: Any) -> None:
    """Re-entering an active tape raises ValueError; re-entering a finished one resumes."""
    x = pt.constant(3.0, dtype=dtype)
    tape = pt.GradientTape(persistent=True)
    with tape:
        tape.watch(x)
        y = x * x

        def again() -> None:
            with tape:
                pass
        _raises(ValueError, again)
    with tape:
        z = y * x  # recorded: the tape resumed
    assert_close(tape.gradient(z, x), 27.0, dtype)


@case
def gradient_inside_context(backend: str, dtype: Any) -> None:
    """``gradient`` inside the context: a non-persistent tape stops recording; a persistent
    one records the backward pass (second derivatives) and warns once."""
    x = pt.Variable(pt.constant(2.0, dtype=dtype))
    late = pt.Variable(pt.constant(1.0, dtype=dtype))
    with pt.GradientTape() as tape:
        y = x * x * x
        assert_close(tape.gradient(y, x), 12.0, dtype)
        late * late  # read after gradient(): not watched any more
    if any(v is late for v in tape.watched_variables()):
        raise AssertionError("a non-persistent tape kept recording after gradient()")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pt.GradientTape(persistent=True) as tape:
            y = x * x * x
            dy = tape.gradient(y, x)
            d2y = tape.gradient(dy, x)
    assert_close(dy, 12.0, dtype)
    assert_close(d2y, 12.0, dtype)
    n = sum(1 for w in caught if "persistent" in str(w.message).lower()
            or "record" in str(w.message).lower())
    if n != 1:
        raise AssertionError(f"expected one warning about recording the backward pass, got {n}")


@case
def nested_tapes_higher_order(backend: str, dtype: Any) -> None:
    """Nested tapes give higher-order derivatives (x**4 at 1.5: 13.5, 27, 36)."""
    x = pt.Variable(pt.constant(1.5, dtype=dtype))
    with pt.GradientTape() as t3:
        with pt.GradientTape() as t2:
            with pt.GradientTape() as t1:
                y = x ** 4
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert_close(d1, 4 * 1.5 ** 3, dtype)
    assert_close(d2, 12 * 1.5 ** 2, dtype)
    assert_close(d3, 24 * 1.5, dtype)


@case
def watch_outside_context(backend: str, dtype: Any) -> None:
    """``watch`` on a tape that was never entered raises an error that says to use ``with``."""
    tape = pt.GradientTape()
    err = _raises(pt.PolytapeError, lambda: tape.watch(pt.constant(3.0, dtype=dtype)))
    if "with" not in str(err):
        raise AssertionError(f"the error does not tell the user to use `with`: {err}")


@case
def reset_forgets(backend: str, dtype: Any) -> None:
    """``reset`` forgets everything recorded and watched; recording goes on."""
    x = pt.constant(2.0, dtype=dtype)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        tape.reset()
        if tape.gradient(y, x) is not None:
            raise AssertionError("gradient after reset() still saw the forgotten ops")
    with pt.GradientTape() as tape:
        tape.watch(x)
        _ = x * x
        tape.reset()
        tape.watch(x)
        z = x * x * x
    assert_close(tape.gradient(z, x), 12.0, dtype)


@case
def stop_recording_pauses(backend: str, dtype: Any) -> None:
    """Ops inside ``stop_recording()`` are not recorded."""
    x = pt.constant(2.0, dtype=dtype)
    with pt.GradientTape() as tape:
        tape.watch(x)
        a = x * x
        with tape.stop_recording():
            b = x * x
        y = a + b
    assert_close(tape.gradient(y, x), 4.0, dtype)


@case
def stop_gradient_blocks(backend: str, dtype: Any) -> None:
    """``pt.stop_gradient`` hides its input from tapes."""
    x = pt.constant(3.0, dtype=dtype)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = x * pt.stop_gradient(x)
    assert_close(tape.gradient(y, x), 3.0, dtype)


@case
def custom_gradient_rule(backend: str, dtype: Any) -> None:
    """``pt.custom_gradient`` replaces the gradient (seed 000's square: 9 and 6; a rule
    returning 10*dy proves the custom rule, not the ops, is used)."""

    @pt.custom_gradient
    def square(x):
        return pt.square(x), lambda dy: 2 * x * dy

    @pt.custom_gradient
    def scaled(x):
        return x * 1.0, lambda dy: dy * 10.0

    x = pt.constant(3.0, dtype=dtype)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = square(x)
        z = scaled(x)
    assert_close(y, 9.0, dtype)
    assert_close(tape.gradient(y, x), 6.0, dtype)
    assert_close(tape.gradient(z, x), 10.0, dtype)


@case
def custom_gradient_variables(backend: str, dtype: Any) -> None:
    """``custom_gradient`` whose function reads variables passes them to ``grad_fn``."""
    w = pt.Variable(pt.constant(2.0, dtype=dtype))

    @pt.custom_gradient
    def scale(x):
        def grad_fn(dy, variables=None):
            return dy * w, [dy * x * 100.0]
        return x * w, grad_fn

    x = pt.constant(3.0, dtype=dtype)
    with pt.GradientTape() as tape:
        tape.watch(x)
        y = scale(x)
    gx, gw = tape.gradient(y, [x, w])
    assert_close(gx, 2.0, dtype)
    assert_close(gw, 300.0, dtype)


@case
def threads_are_independent(backend: str, dtype: Any) -> None:
    """The tape stack is per thread: two threads differentiate independently."""
    barrier = threading.Barrier(2)
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            with pt.use_backend(backend):
                x = pt.constant(float(k + 2), dtype=dtype)
                with pt.GradientTape() as tape:
                    tape.watch(x)
                    barrier.wait(timeout=30)  # both tapes are recording now
                    y = x ** (k + 2)
                    barrier.wait(timeout=30)
                results[k] = tape.gradient(y, x)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    assert_close(results[0], 2 * 2.0, dtype)         # d/dx x**2 at 2
    assert_close(results[1], 3 * 3.0 ** 2, dtype)    # d/dx x**3 at 3


@case
def nondifferentiable_ops(backend: str, dtype: Any) -> None:
    """Non-differentiable ops (comparisons, floor, sign, round) pass no gradient."""
    x = pt.constant([0.75, -1.25, 2.5], dtype=dtype)
    with pt.GradientTape(persistent=True) as tape:
        tape.watch(x)
        outs = [pt.floor(x), pt.ceil(x), pt.sign(x), pt.round(x)]
        outs.append(pt.cast(x > 0.0, dtype))
    for out in outs:
        g = tape.gradient(out, x, unconnected_gradients="zero")
        assert_close(g, np.zeros(3), dtype)


@case
def failing_op_leaves_tape_intact(backend: str, dtype: Any) -> None:
    """An op that raises leaves the tape and the variables as they were."""
    v = pt.Variable(pt.constant([1.0, 2.0], dtype=dtype))
    with pt.GradientTape() as tape:
        y = pt.sum(v * v)
        _raises(ValueError, lambda: pt.matmul(v, pt.constant([1.0, 2.0, 3.0], dtype=dtype)))
        _raises(ValueError, lambda: v.assign(pt.constant([1.0, 2.0, 3.0], dtype=dtype)))
    assert_close(v, [1.0, 2.0], dtype)
    assert_close(tape.gradient(y, v), [2.0, 4.0], dtype)


def tape_cases() -> list[ConformanceCase]:
    """Every tape-semantics case."""
    return list(CASES)
