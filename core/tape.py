"""``GradientTape``: TensorFlow's reverse-mode tape, on any backend.

A tape records an op when it is recording and watches at least one of the op's
inputs (watching is per tape and by identity). ``gradient`` walks the records
backwards, running each op's VJP rule from :mod:`polytape.derivatives`: on raw
backend kernels when nothing records the backward pass, on polytape ops when an
outer (or this persistent) tape does, which is how higher-order derivatives work.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import dispatch, nest, ops, tracing
from .creation import constant, ones_like, zeros, zeros_like
from .errors import InvalidArgumentError, ShapeError, TapeError
from .namespaces import kernel_namespace
from .saved import NUMBER, Released
from .tensor import Tensor, Variable, next_key, wrap
from .vectorize import vjp_rows

__all__ = ["GradientTape", "UnconnectedGradients"]


class UnconnectedGradients:
    """What ``gradient`` returns for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


def _unconnected(value: Any) -> str:
    v = getattr(value, "value", value)
    if v not in ("none", "zero"):
        # TensorFlow's wording (its tests match "Unknown value for unconnected_gradients").
        raise InvalidArgumentError(
            f"Unknown value for unconnected_gradients: {value!r} (use 'none' or 'zero')")
    return v


class GradientTape:
    """Record ops to differentiate them, as TensorFlow's ``tf.GradientTape`` does.

    >>> import polytape as pt
    >>> x = pt.Variable(2.0)
    >>> with pt.GradientTape() as tape:
    ...     y = x**2 + 5*x + 3
    >>> float(tape.gradient(y, x))
    9.0

    ``persistent=True`` allows several ``gradient``/``jacobian`` calls;
    ``watch_accessed_variables=False`` watches only what :meth:`watch` is given.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._persistent = bool(persistent)
        self._watch_accessed = bool(watch_accessed_variables)
        self._records: list[tuple] | None = []
        self._tracked: set[int] = set()          # keys (Tensor._key): watched or computed from watched
        self._variables: dict[int, Variable] = {}
        self._recording = False
        self._entered = False
        self._used = False
        self._warned_inside = False

    # -- context ----------------------------------------------------------------------------
    def __enter__(self) -> GradientTape:
        if self._recording:
            raise InvalidArgumentError(
                "this GradientTape is already recording; a tape cannot be entered twice at once")
        self._entered = True
        self._push()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._recording:
            self._pop()

    def _push(self) -> None:
        tapes = getattr(dispatch.local, "tapes", None)
        if tapes is None:
            tapes = dispatch.local.tapes = []
        tapes.append(self)
        self._recording = True
        dispatch.recording_changed(+1)

    def _pop(self) -> None:
        tapes = getattr(dispatch.local, "tapes", None) or []
        if tapes and tapes[-1] is self:
            tapes.pop()  # the usual case: the innermost tape stops
        else:
            for i in range(len(tapes) - 1, -1, -1):
                if tapes[i] is self:
                    del tapes[i]
                    break
        self._recording = False
        dispatch.recording_changed(-1)

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Within the block this tape records nothing (other tapes are unaffected)."""
        if not self._recording:
            raise TapeError("stop_recording: this tape is not recording "
                            "(use it inside `with pt.GradientTape() as tape:`)")
        self._pop()
        try:
            yield
        finally:
            self._push()

    def reset(self) -> None:
        """Forget everything recorded and watched, as if the tape were new (recording goes on)."""
        self._records = []
        self._tracked = set()
        self._variables = {}
        self._used = False

    # -- watching ---------------------------------------------------------------------------
    def watch(self, tensor: Any) -> None:
        """Watch a tensor or variable (or a nested list/tuple/dict of them) by identity."""
        # The argument is checked before the tape, as TensorFlow does (a bad argument is a
        # ValueError even on a tape that was never entered).
        leaves = nest.flatten(tensor)
        for t in leaves:
            if not isinstance(t, Tensor):
                raise InvalidArgumentError(
                    f"watch(): Passed in object {t!r} of type {type(t).__name__!r}, not "
                    "tf.Tensor or tf.Variable (a polytape tensor or variable); convert it first "
                    "with pt.constant")
        if not self._entered:
            raise TapeError(
                "watch() on a GradientTape that was never entered: it records nothing. "
                "Use `with pt.GradientTape() as tape:` and call tape.watch(x) inside the block")
        for t in leaves:
            if not t.dtype.is_inexact:
                warnings.warn(f"watching a {t.dtype} tensor: its gradient will always be None "
                              "(only floating-point and complex tensors are differentiable)",
                              stacklevel=2)
            if isinstance(t, Variable):
                self._watch_variable(t)
            else:
                if not t._key:
                    t._key = next_key()
                self._tracked.add(t._key)

    def _watch_variable(self, v: Variable) -> None:
        self._tracked.add(v._key)
        self._variables[id(v)] = v

    def watched_variables(self) -> tuple[Variable, ...]:
        """The variables this tape watches, in the order they were created (TensorFlow's)."""
        return tuple(sorted(self._variables.values(), key=_creation_order))

    # -- differentiation ------------------------------------------------------------------------
    def _start_backward(self) -> None:
        if self._records is None:
            raise TapeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients "
                "(or jacobians); create it with pt.GradientTape(persistent=True) to call "
                "gradient() more than once")
        if self._recording:
            if not self._persistent:
                self._pop()  # TensorFlow's rule: a non-persistent tape stops recording here
            elif not self._warned_inside:
                self._warned_inside = True
                warnings.warn("gradient() inside the context of a persistent tape records the "
                              "backward pass on the tape too (for higher-order derivatives); "
                              "call it after the `with` block when you do not need that",
                              stacklevel=3)

    def _finish_backward(self) -> None:
        if not self._persistent:
            self._records = None  # release everything recorded
            self._tracked = set()
            self._used = True

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: str = UnconnectedGradients.NONE) -> Any:
        """d(sum of ``target``)/d``sources``, in the structure of ``sources``.

        ``output_gradients`` (same structure as ``target``) weighs each target:
        the result is then a vector-Jacobian product. Sources the target does not
        depend on, that were not watched, or that are not floating point give
        ``None`` (zeros with ``unconnected_gradients="zero"``).
        """
        mode = "none" if unconnected_gradients == "none" else _unconnected(unconnected_gradients)
        self._start_backward()
        try:
            # One tensor is the common case: no flattening, checking or packing for it.
            targets = [target] if isinstance(target, Tensor) else nest.flatten(target)
            seeds = None
            if output_gradients is not None:
                seeds = nest.flatten(output_gradients)
                if len(seeds) != len(targets):
                    raise InvalidArgumentError(
                        f"output_gradients has {len(seeds)} tensors for {len(targets)} targets")
            single = isinstance(sources, Tensor)
            flat = [sources] if single else nest.flatten(sources)
            self._check_tensors(targets, "target")
            if not single:
                self._check_tensors(flat, "source")
            grads = self._compute(targets, seeds, flat, consume=not self._persistent)
            if mode == "zero":
                grads = [_fill(g, s, mode) for g, s in zip(grads, flat)]
        finally:
            self._finish_backward()
        return grads[0] if single else nest.pack_as(sources, grads)

    @staticmethod
    def _check_tensors(values: list[Any], what: str) -> None:
        for v in values:
            if not isinstance(v, Tensor):
                raise InvalidArgumentError(
                    f"gradient: every {what} must be a tensor or variable, got "
                    f"{type(v).__name__} {v!r}")

    def _compute(self, targets: list[Tensor], seeds: list[Any] | None,
                 sources: list[Tensor], consume: bool = False) -> list[Any]:
        """The backward pass: one gradient (or None) per source.

        ``consume``: this is the tape's last backward pass (non-persistent), so each
        record is dropped once used and the forward's intermediates can be freed
        while the pass goes on.
        """
        tracked = self._tracked
        source_ids = {s._key for s in sources
                      if s._key in tracked and s._data.dtype in s._backend.float_natives}
        if not source_ids:
            return [None] * len(sources)
        records = self._records
        reach = set(source_ids)
        needed = []
        for rec in records:
            for x in rec[1]:
                if x._key in reach:
                    reach.add(rec[3])
                    needed.append(rec)
                    break
        # Run the rules as recorded polytape ops when anything could watch the backward pass:
        # a recording tape, or a ForwardAccumulator (forward-over-backward). The global count
        # (tapes and accumulators of every thread) answers the common case without a lookup.
        # A pt.function trace, too: the backward pass then becomes part of its plan.
        use_tensors = bool(dispatch._recording) and (
            bool(getattr(dispatch.local, "tapes", None))
            or bool(getattr(dispatch.local, "accumulators", None))
            or (tracing.active and tracing.current() is not None))
        grads: dict[int, Any] = {}
        be = None
        for i, t in enumerate(targets):
            if t._key not in reach or t._data.dtype not in t._backend.float_natives:
                continue
            be = t._backend
            if seeds is None:
                seed = _ones(be, t._data)
                if use_tensors:
                    seed = wrap(seed, be)
            else:
                seed = _seed(t, seeds[i])
                if not use_tensors:
                    seed = seed._data
            _accumulate(grads, t._key, seed)
        if be is None:
            return [None] * len(sources)
        if consume:
            # `needed` holds what is left to do: release the rest now (this tape records no
            # more, and its records and tracked outputs would keep every intermediate alive).
            self._records = []
            self._tracked = set()
            records = tracked = None
        ns = ops if use_tensors else kernel_namespace(be)
        cast = ops.cast
        complexes = be.complex_natives
        while needed:
            op, inputs, arrays, oid, attrs, ans, out = needed.pop()
            g = grads.get(oid) if oid in source_ids else grads.pop(oid, None)
            if g is None:
                continue
            if use_tensors:
                args = tuple(_as_recorded(x, a, be) for x, a in zip(inputs, arrays))
                if out is not None:
                    ans = out
                elif ans is not None:
                    ans = wrap(ans, be)
                    ans._key = oid  # the output itself, to tapes recording this pass
            else:
                args = arrays
            for i, x in enumerate(inputs):
                xid = x._key
                # Everything in `reach` is floating point: sources are filtered above and
                # `record` never records an op with a non-float output.
                if xid not in reach:
                    continue
                rule = op.vjp(i)
                if rule is None:
                    continue
                # g has the output's dtype (the output itself may not be kept).
                if complexes and op.holomorphic and (
                        arrays[i].dtype in complexes or getattr(g, "_data", g).dtype in complexes):
                    # TensorFlow's convention: the adjoint of the rule's real-form transpose.
                    gi = _conjugated(rule, ns, g, ans, args, attrs)
                else:
                    gi = rule(ns, g, ans, *args, **attrs) if attrs else rule(ns, g, ans, *args)
                if gi is None:
                    continue
                native = x._data.dtype
                if use_tensors:
                    if gi._data.dtype != native:
                        gi = cast(gi, x._backend.canonical[native])
                else:
                    gd = getattr(gi, "dtype", None)
                    if gd is not native and gd != native:
                        gi = x._backend.kernels["astype"](x._backend.asarray(gi), native)
                prev = grads.get(xid)
                grads[xid] = gi if prev is None else prev + gi
            del op, inputs, arrays, out, attrs, args, ans, g
        result = []
        for s in sources:
            g = grads.get(s._key) if s._key in source_ids else None
            if g is not None and not use_tensors:
                g = wrap(g, s._backend)
            result.append(g)
        return result

    def jacobian(self, target: Any, sources: Any,
                 unconnected_gradients: str = UnconnectedGradients.NONE,
                 parallel_iterations: int | None = None,
                 experimental_use_pfor: bool = True) -> Any:
        """The Jacobian of ``target`` with respect to each source: shape ``target.shape + source.shape``.

        >>> import polytape as pt
        >>> x = pt.constant([1.0, 2.0])
        >>> with pt.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = x * x
        >>> tape.jacobian(y, x).numpy().tolist()
        [[2.0, 0.0], [0.0, 4.0]]
        """
        mode = _unconnected(unconnected_gradients)
        self._start_backward()
        try:
            if not isinstance(target, Tensor):
                raise InvalidArgumentError("jacobian: target must be a single tensor")
            flat = nest.flatten(sources)
            self._check_tensors(flat, "source")
            n = target.size
            if experimental_use_pfor and n and _may_vectorize():
                # One backward pass over all n one-hot cotangents (docs/architecture.md,
                # *Vectorized derivatives*).
                seeds = np.eye(n).reshape((n, *target.shape))
                grads = vjp_rows(lambda s: self._compute([target], [s], flat), target, seeds)
                result = [_from_rows(g, target.shape, s, mode) for g, s in zip(grads, flat)]
                return nest.pack_as(sources, result)
            rows: list[list[Any]] = [[] for _ in flat]
            for k in range(n):
                onehot = np.zeros(n, dtype=np.float64)
                onehot[k] = 1.0
                seed = _seed_array(target, onehot.reshape(target.shape))
                for j, g in enumerate(self._compute([target], [seed], flat)):
                    rows[j].append(g)
            if n == 0:
                # No rows to compute: TensorFlow answers with an empty Jacobian, not None.
                result = [zeros(target.shape + s.shape, s.dtype, backend=s._backend) for s in flat]
            else:
                result = [_assemble(r, target.shape, s, mode) for r, s in zip(rows, flat)]
        finally:
            self._finish_backward()
        return nest.pack_as(sources, result)

    def batch_jacobian(self, target: Tensor, source: Tensor,
                       unconnected_gradients: str = UnconnectedGradients.NONE,
                       parallel_iterations: int | None = None,
                       experimental_use_pfor: bool = True) -> Any:
        """Per-example Jacobians of ``target[i]`` w.r.t. ``source[i]``.

        The result has shape ``(b,) + target.shape[1:] + source.shape[1:]``.

        Assumes, as TensorFlow does, that example ``i`` of the target depends only
        on example ``i`` of the source.
        """
        mode = _unconnected(unconnected_gradients)
        self._start_backward()
        try:
            for name, t in (("target", target), ("source", source)):
                if not isinstance(t, Tensor):
                    raise InvalidArgumentError(f"batch_jacobian: {name} must be a tensor")
                if t.ndim < 2:
                    # TensorFlow's wording; a batch of scalars has no per-example Jacobian.
                    raise ShapeError(f"batch_jacobian: Shape {tuple(t.shape)} must have rank at "
                                     f"least 2 ({name} needs a batch axis and an example axis)")
            if target.shape[0] != source.shape[0]:
                raise ShapeError(f"batch_jacobian: Need first dimension of target shape "
                                 f"({tuple(target.shape)}) and source shape "
                                 f"({tuple(source.shape)}) to match.")
            b = target.shape[0]
            inner = int(np.prod(target.shape[1:], dtype=np.int64))
            if experimental_use_pfor and inner and b and _may_vectorize():
                eye = np.zeros((inner, b, inner))
                eye[np.arange(inner), :, np.arange(inner)] = 1.0
                seeds = eye.reshape((inner, *target.shape))
                g, = vjp_rows(lambda s: self._compute([target], [s], [source]), target, seeds)
                return _from_batch_rows(g, target, source)
            rows = []
            for k in range(inner):
                onehot = np.zeros((b, inner), dtype=np.float64)
                onehot[:, k] = 1.0
                seed = _seed_array(target, onehot.reshape(target.shape))
                rows.append(self._compute([target], [seed], [source])[0])
            result = _assemble_batch(rows, target, source, mode)
        finally:
            self._finish_backward()
        return result


# -- helpers -------------------------------------------------------------------------------------
def _may_vectorize() -> bool:
    """Whether a Jacobian may batch its backward passes: not while a tape or accumulator
    records them, since the batched pass runs on kernels (a pt.function trace records the
    batched pass itself: core/vectorize.py)."""
    return not (dispatch._recording and (getattr(dispatch.local, "tapes", None)
                                         or getattr(dispatch.local, "accumulators", None)))


def _from_rows(g: Any, tshape: tuple[int, ...], source: Tensor, mode: str) -> Any:
    if g is None:
        if mode == "zero":
            return zeros(tshape + source.shape, source.dtype, backend=source._backend)
        return None
    if isinstance(g, Tensor):  # the rows of a pt.function trace
        return ops.reshape(g, tuple(tshape) + tuple(source.shape))
    be = source._backend
    return wrap(be.kernels["reshape"](g, shape=tuple(tshape) + tuple(source.shape)), be)


def _from_batch_rows(g: Any, target: Tensor, source: Tensor) -> Tensor:
    shape = tuple(target.shape) + tuple(source.shape[1:])
    if g is None:
        return zeros(shape, target.dtype, backend=source._backend)
    # g is (inner, b, ...source example): examples first, then the target's entries.
    axes = (1, 0, *range(2, len(g.shape)))
    if isinstance(g, Tensor):  # the rows of a pt.function trace
        return ops.reshape(ops.transpose(g, axes), shape)
    be = source._backend
    k = be.kernels
    return wrap(k["reshape"](k["transpose"](g, axes=axes), shape=shape), be)


def _creation_order(v: Variable) -> int:
    return v._uid


def _accumulate(grads: dict[int, Any], key: int, g: Any) -> None:
    prev = grads.get(key)
    grads[key] = g if prev is None else prev + g


def _as_recorded(x: Any, arr: Any, be: Any) -> Any:
    # A variable assigned since the op ran contributes the value the op saw (as the
    # variable, to tapes recording this pass); a released input is only its shape; a
    # number operand is the constant the kernel saw.
    if x is NUMBER:
        return wrap(arr, be) if hasattr(arr, "dtype") else arr
    if type(x) is Variable and x._data is not arr:
        if type(arr) is Released:
            return arr
        t = wrap(arr, x._backend)
        t._key = x._key
        return t
    return x


_ONES: dict[tuple, Any] = {}


def _conjugated(rule: Any, ns: Any, g: Any, ans: Any, args: tuple, attrs: dict | None) -> Any:
    """``conj(rule(conj(g)))``: a holomorphic op's VJP on complex arrays, ``g conj(f'(z))``."""
    gi = rule(ns, ns.conj(g), ans, *args, **(attrs or {}))
    return None if gi is None else ns.conj(gi)


def _ones(be: Any, like: Any) -> Any:
    """A native array of ones shaped like ``like``: the default seed of a backward pass."""
    if not like.shape:
        # Scalar losses are the common case; copying a kept 0-d array is ~6x cheaper than
        # making one (NumPy), and the copy keeps the kept array out of users' hands.
        key = (be, like.dtype)
        template = _ONES.get(key)
        if template is None:
            template = _ONES[key] = be.kernels["ones"]((), like.dtype)
        if isinstance(template, np.generic):
            return template  # immutable: share it
        copy = getattr(template, "copy", None)
        if copy is not None:
            return copy()
    return be.kernels["ones"](tuple(like.shape), like.dtype)


def _seed(target: Tensor, given: Any) -> Tensor:
    if given is None:
        return ones_like(target)
    seed = constant(given, dtype=target.dtype, backend=target._backend) \
        if not isinstance(given, Tensor) else given
    if seed.shape != target.shape:
        raise ShapeError(f"gradient: output_gradients has shape {seed.shape}, "
                         f"its target has shape {target.shape}")
    if seed._backend is not target._backend:
        raise dispatch._mismatch("gradient", target, seed)
    if seed.dtype is not target.dtype:
        seed = ops.cast(seed, target.dtype)
    return seed


def _seed_array(target: Tensor, values: np.ndarray) -> Tensor:
    return constant(values, dtype=target.dtype, backend=target._backend)


def _fill(g: Any, source: Tensor, mode: str) -> Any:
    if g is None and mode == "zero":
        return zeros_like(source)
    return g


def _assemble(rows: list[Any], tshape: tuple[int, ...], source: Tensor, mode: str) -> Any:
    # rows is never empty: jacobian answers a target with no elements itself.
    if all(r is None for r in rows):
        if mode == "zero":
            return zeros(tshape + source.shape, source.dtype, backend=source._backend)
        return None
    rows = [zeros_like(source) if r is None else r for r in rows]
    return ops.reshape(ops.stack(rows), tshape + source.shape)


def _assemble_batch(rows: list[Any], target: Tensor, source: Tensor, mode: str) -> Any:
    shape = target.shape + source.shape[1:]
    if all(r is None for r in rows):  # also when rows is empty (a size-0 target)
        # TensorFlow's batch_jacobian (pfor) gives zeros of the *target's* dtype here, whatever
        # unconnected_gradients says; polytape matches it.
        return zeros(shape, target.dtype, backend=source._backend)
    rows = [zeros_like(source) if r is None else r for r in rows]
    return ops.reshape(ops.stack(rows, axis=1), shape)
