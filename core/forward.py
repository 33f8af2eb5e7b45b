"""``ForwardAccumulator``: forward-mode differentiation (Jacobian-vector products), as in
TensorFlow's ``tf.autodiff.ForwardAccumulator``.

While an accumulator is active (inside its ``with`` block), every differentiable op
whose inputs carry a tangent gets one too, computed at once by the op's JVP rule
from :mod:`polytape.derivatives`. ``jvp`` afterwards only looks tangents up.

Tangents are computed with polytape ops, so other differentiators can watch that
work. Nesting is strict, as in TensorFlow: a tape or accumulator sees the tangent
computations of accumulators *inside* it, never of those outside it. That gives
both ways of taking second derivatives:

* forward-over-backward (Hessian-vector products): an accumulator around a tape
  sees the tape's backward pass (``tape.gradient`` called inside the accumulator);
* backward-over-forward: a tape around an accumulator records its tangent work.

>>> import polytape as pt
>>> x = pt.constant([1.0, 2.0])
>>> with pt.ForwardAccumulator(x, pt.constant([1.0, 0.0])) as acc:
...     y = pt.sum(x ** 3)
>>> float(acc.jvp(y))
3.0
"""

from __future__ import annotations

import weakref
from typing import Any

from . import dispatch, nest, ops, tracing
from .creation import constant, zeros_like
from .errors import InvalidArgumentError, ShapeError
from .namespaces import kernel_namespace
from .tape import _unconnected
from .tensor import Tensor, wrap

__all__ = ["ForwardAccumulator"]


def _active() -> list:
    return getattr(dispatch.local, "accumulators", None) or []


class ForwardAccumulator:
    """Compute Jacobian-vector products of everything computed from ``primals`` while active.

    ``primals`` is a tensor or variable, or a nested list/tuple/dict of them;
    ``tangents`` has the same structure and shapes (converted to each primal's dtype
    and backend). A primal given twice is an error (sum its tangents instead).
    Integer and bool primals carry no tangent.

    Use it as a context manager; :meth:`jvp` may be called inside or after the block.
    """

    def __init__(self, primals: Any, tangents: Any) -> None:
        self._tangents: dict[int, tuple[weakref.KeyedRef, Tensor]] = {}
        self._recording = False
        self._outer_tapes: tuple = ()
        self._outer_accumulators: tuple = ()
        self_ref = weakref.ref(self)

        def forget(ref: weakref.KeyedRef) -> None:  # a primal or result died: drop its tangent
            acc = self_ref()
            if acc is not None:
                entry = acc._tangents.get(ref.key)
                if entry is not None and entry[0] is ref:
                    del acc._tangents[ref.key]

        self._forget = forget
        flat_p = nest.flatten(primals)
        flat_t = _flatten_like(primals, tangents)
        seen: set[int] = set()
        for p in flat_p:
            if not isinstance(p, Tensor):
                raise InvalidArgumentError(
                    f"ForwardAccumulator: primals must be tensors or variables, got "
                    f"{type(p).__name__} {p!r}")
            if id(p) in seen:
                raise InvalidArgumentError(
                    f"ForwardAccumulator: tensor {p!r} was given as a primal more than once; "
                    "if that was intended, sum its tangents and give it once")
            seen.add(id(p))
        for p, t in zip(flat_p, flat_t):
            self._watch(p, t)

    def _watch(self, primal: Tensor, tangent: Any) -> None:
        if not primal.dtype.is_inexact:
            return  # integers and bools are never differentiable
        if not isinstance(tangent, Tensor):
            tangent = constant(tangent, dtype=primal.dtype, backend=primal._backend)
        if tangent._backend is not primal._backend:
            raise dispatch._mismatch("ForwardAccumulator", primal, tangent)
        if tangent.shape != primal.shape:
            raise ShapeError(f"ForwardAccumulator: tangent of shape {tangent.shape} for a primal "
                             f"of shape {primal.shape}")
        if tangent.dtype is not primal.dtype:
            tangent = ops.cast(tangent, primal.dtype)
        self._set(primal, tangent)

    def _set(self, t: Tensor, tangent: Tensor) -> None:
        key = id(t)
        self._tangents[key] = (weakref.KeyedRef(t, self._forget, key), tangent)

    def _get(self, t: Any) -> Tensor | None:
        entry = self._tangents.get(id(t))
        if entry is None or entry[0]() is not t:
            return None
        return entry[1]

    # -- context ---------------------------------------------------------------------------
    def __enter__(self) -> ForwardAccumulator:
        if self._recording:
            raise InvalidArgumentError("this ForwardAccumulator is already active; it cannot be "
                                       "entered twice at once")
        active = _active()
        # Strict nesting: the differentiators already active when this one starts are the ones
        # allowed to watch its tangent computations.
        self._outer_tapes = tuple(dispatch.thread_tapes())
        self._outer_accumulators = tuple(active)
        self._trace = tracing.current() if tracing.active else None  # a pt.function trace
        dispatch.local.accumulators = [*active, self]
        self._recording = True
        dispatch.recording_changed(+1)
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self._recording:
            return
        dispatch.local.accumulators = [a for a in _active() if a is not self]
        self._recording = False
        self._outer_tapes = ()
        self._outer_accumulators = ()
        dispatch.recording_changed(-1)

    # -- results ---------------------------------------------------------------------------
    def jvp(self, primals: Any, unconnected_gradients: str = "none") -> Any:
        """The tangent of each tensor in ``primals`` (any nested structure), in that structure.

        A tensor not computed from the watched primals while the accumulator was
        active gets ``None``, or zeros with ``unconnected_gradients="zero"``.
        """
        mode = _unconnected(unconnected_gradients)

        def fetch(t: Any) -> Any:
            if not isinstance(t, Tensor):
                raise InvalidArgumentError(f"jvp: expected tensors, got {type(t).__name__} {t!r}")
            tangent = self._get(t)
            if tangent is None and mode == "zero":
                return zeros_like(t)
            return tangent

        return nest.pack_as(primals, [fetch(t) for t in nest.flatten(primals)])

    # -- the dispatch hook ------------------------------------------------------------------
    def _propagate(self, op: Any, inputs: tuple, arrays: tuple, out: Tensor,
                   attrs: dict | None) -> None:
        """Called by :func:`polytape.dispatch.record` for every differentiable op while active."""
        be = out._backend
        if out._data.dtype not in be.float_natives:
            return
        tangents = [self._get(x) for x in inputs]
        if all(t is None for t in tangents):
            return
        if not (self._outer_tapes or self._outer_accumulators or tracing.active):
            # Nothing can watch the tangent work: run the rules on the backend's kernels, as
            # an unwatched backward pass does (no dispatch or recording per tangent op).
            total = _kernel_tangent(op, arrays, out, attrs or {}, tangents)
            if total is not NotImplemented:
                if total is not None:
                    self._set(out, wrap(total, be))
                return
        local = dispatch.local
        saved_tapes, saved_accs = dispatch.thread_tapes(), _active()
        # While this accumulator computes, only the differentiators outside it may watch.
        local.tapes = [t for t in saved_tapes if any(t is o for o in self._outer_tapes)]
        local.accumulators = [a for a in saved_accs if any(a is o for o in self._outer_accumulators)]
        # A pt.function traced inside this accumulator does not compute the tangents: the
        # caller's accumulator does, so they stay out of its plan.
        trace = tracing.current() if tracing.active else None
        if trace is not None and trace is not self._trace:
            tracing.local.trace = None
        else:
            trace = None
        try:
            total = self._output_tangent(op, inputs, arrays, out, attrs or {}, tangents)
        finally:
            if trace is not None:
                tracing.local.trace = trace
            local.tapes = saved_tapes
            local.accumulators = saved_accs
        if total is not None:
            self._set(out, total)

    def _output_tangent(self, op: Any, inputs: tuple, arrays: tuple, out: Tensor, kw: dict,
                        tangents: list) -> Tensor | None:
        be = out._backend
        args = tuple(_operand(x, a, be) for x, a in zip(inputs, arrays))
        total = None
        for i, t in enumerate(tangents):
            if t is None or arrays[i].dtype not in be.float_natives:
                continue
            if t._data.dtype != arrays[i].dtype:
                t = ops.cast(t, be.canonical[arrays[i].dtype])
            rule = op.jvp(i)
            if rule is None:
                continue  # an input without a derivative (a condition, a mask)
            c = rule(ops, t, out, *args, **kw)
            if c is None:
                continue
            total = c if total is None else total + c
        if total is None:
            return None
        if total._data.dtype != out._data.dtype:
            total = ops.cast(total, out.dtype)
        if total.shape != out.shape:
            total = ops.broadcast_to(total, out.shape)
        return total


def _kernel_tangent(op: Any, arrays: tuple, out: Tensor, kw: dict, tangents: list) -> Any:
    """The output tangent as a native array, the rules run on kernels; ``NotImplemented``
    for an op whose JVP needs polytape tensors (derived by the double-VJP trick)."""
    be = out._backend
    k = be.kernels
    ns = kernel_namespace(be)
    ans = out._data
    total = None
    for i, t in enumerate(tangents):
        if t is None or arrays[i].dtype not in be.float_natives:
            continue
        rule = op.jvp(i)
        if rule is None:
            continue  # an input without a derivative (a condition, a mask)
        if getattr(rule, "needs_tensors", False):
            return NotImplemented
        t = t._data
        if t.dtype != arrays[i].dtype:
            t = k["astype"](t, arrays[i].dtype)
        c = rule(ns, t, ans, *arrays, **kw)
        if c is None:
            continue
        total = c if total is None else total + c
    if total is None:
        return None
    if getattr(total, "dtype", None) != ans.dtype:
        total = k["astype"](be.asarray(total), ans.dtype)
    if tuple(total.shape) != tuple(ans.shape):
        total = ns.broadcast_to(total, tuple(ans.shape))
    return total


def _flatten_like(structure: Any, values: Any) -> list[Any]:
    """``values`` flattened as deep as ``structure`` goes (a list can be one primal's tangent)."""
    if isinstance(structure, dict):
        if not isinstance(values, dict) or set(values) != set(structure):
            raise InvalidArgumentError("ForwardAccumulator: tangents must have the keys of primals")
        return [v for k in sorted(structure) for v in _flatten_like(structure[k], values[k])]
    if isinstance(structure, (list, tuple)):
        if not isinstance(values, (list, tuple)) or len(values) != len(structure):
            raise InvalidArgumentError(
                f"ForwardAccumulator: {len(structure)} primals but tangents {values!r}; give one "
                "tangent per primal, in the same structure")
        return [v for s, t in zip(structure, values) for v in _flatten_like(s, t)]
    return [values]


def _operand(x: Any, arr: Any, be: Any) -> Tensor:
    # The rules see what the kernel saw. A promoted input becomes a recorded cast of the
    # original, so outer tapes and accumulators still trace it back.
    if isinstance(x, Tensor):
        if x._data is arr or x._data.dtype == arr.dtype:
            return x
        return ops.cast(x, be.canonical[arr.dtype])
    return wrap(arr, be)
