"""How one op call runs: operands -> one backend, one dtype -> kernel -> Tensor -> tapes.

This is the hot path of every eager op, so it avoids plugin calls, isinstance
ladders and per-call closures. Recording costs nothing unless a tape is
recording somewhere (one integer test).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from . import (
    creation,  # a module reference: creation imports this module too
    tracing,
)
from .dtypes import _TABLE, default_float, weak_result_type
from .errors import (
    BackendMismatchError,
    DTypeError,
    IndexShapeError,
    InvalidArgumentError,
    PolytapeError,
    ShapeError,
)
from .optable import OPS, Op
from .saved import NUMBER, RELEASE_MIN_BYTES, release
from .tensor import Tensor, Variable, next_key, wrap  # noqa: F401  (wrap: this module's API)

__all__ = ["run", "complex_refused", "unary_operand", "binary_operands", "operands", "record",
           "local", "public_op", "unary_function", "binary_function", "kernel_error",
           "watch_reads", "with_scalar"]

local = threading.local()          # .tapes: the recording tapes of this thread, innermost last
_recording = 0                     # recording tapes in all threads: the hot path's only test
_count_lock = threading.Lock()
_SCALARS = (float, int, bool, complex)
_NUMBER_TYPES = frozenset(_SCALARS)  # `type(x) in` a set: one hash, not four comparisons
_new = object.__new__


def recording_changed(delta: int) -> None:
    """Tapes call this when they start (+1) or stop (-1) recording."""
    global _recording
    with _count_lock:
        _recording += delta


def thread_tapes() -> list:
    """The recording tapes of the calling thread (a mutable list, innermost last)."""
    tapes = getattr(local, "tapes", None)
    if tapes is None:
        tapes = local.tapes = []
    return tapes


# -- operands ---------------------------------------------------------------------------
def _as_tensor(x: Any, be: Any = None) -> Tensor:
    if isinstance(x, str) or x is None:
        raise DTypeError(f"expected a tensor or a number, got {type(x).__name__} {x!r}")
    return creation.constant(x, backend=be)


def unary_operand(x: Any) -> Tensor:
    """``x`` as a Tensor (numbers and arrays go to the current backend)."""
    if isinstance(x, Tensor):
        return x
    return _as_tensor(x)


def _mismatch(op: str, x: Tensor, y: Tensor) -> BackendMismatchError:
    return BackendMismatchError(
        f"{op}: operands live on different backends ({x.backend!r} and {y.backend!r}); "
        f"move one first, e.g. pt.to_backend(y, {x.backend!r})")


def binary_operands(op: str, x: Any, y: Any) -> tuple[Any, Any, Any, Any, Any]:
    """``(backend, x_in, y_in, a, b)``: the inputs to record and same-dtype native arrays."""
    tx = isinstance(x, Tensor)
    ty = isinstance(y, Tensor)
    if tx and ty:
        be = x._backend
        if y._backend is not be:
            raise _mismatch(op, x, y)
        a, b = x._data, y._data
        if a.dtype != b.dtype:
            canon = be.canonical
            dt = _TABLE[canon[a.dtype], canon[b.dtype]]
            native = be.native_dtypes[dt]
            cast = be.kernels["astype"]
            if a.dtype != native:
                a = cast(a, native)
            if b.dtype != native:
                b = cast(b, native)
        return be, x, y, a, b
    if tx:
        be = x._backend
        a, b = x._data, y
        if type(y) in _SCALARS:
            a, b = with_scalar(be, a, y)
            return be, x, y, a, b
        y = _as_tensor(y, be)
        return binary_operands(op, x, y)
    if ty:
        be = y._backend
        if type(x) in _SCALARS:
            b, a = with_scalar(be, y._data, x)
            return be, x, y, a, b
        x = _as_tensor(x, be)
        return binary_operands(op, x, y)
    return binary_operands(op, _as_tensor(x), y)


# Python numbers met as operands, converted once: (number, its type, the array's native dtype,
# backend) -> (native dtype to cast the array to or None, the number as a 0-d native array).
# A cached 0-d array beats both a fresh conversion and NumPy's own handling of a Python scalar
# operand (about 0.5 us against 0.9 us per multiply). Kernels never mutate their inputs, so
# sharing the 0-d arrays is safe. Float zeros (0.0 == -0.0) and NaN (never equal) are not cached.
_scalar_arrays: dict[tuple, tuple[Any, Any]] = {}
_SCALAR_CACHE_SIZE = 4096


def with_scalar(be: Any, arr: Any, scalar: Any) -> tuple[Any, Any]:
    """``arr`` (cast if the weak-scalar rule says so) and ``scalar`` as a native 0-d array."""
    key = (scalar, type(scalar), arr.dtype, be)
    hit = _scalar_arrays.get(key)
    if hit is None:
        hit = _convert_scalar(be, arr.dtype, scalar, key)
    if hit[0] is not None:
        arr = be.kernels["astype"](arr, hit[0])
    return arr, hit[1]


def _convert_scalar(be: Any, native: Any, scalar: Any, key: tuple) -> tuple[Any, Any]:
    dt = be.canonical[native]
    rt = weak_result_type(dt, scalar)
    hit = (None if rt is dt else be.native_dtypes[rt], be.asarray(scalar, rt))
    if creation.cacheable_number(scalar):
        if len(_scalar_arrays) >= _SCALAR_CACHE_SIZE:
            _scalar_arrays.clear()
        _scalar_arrays[key] = hit
    return hit


def operands(op: str, xs: Any, promote: bool = True) -> tuple[Any, tuple, tuple]:
    """``(backend, inputs, arrays)`` for a list of tensors (concat, stack, where...)."""
    xs = list(xs)
    if not xs:
        raise ShapeError(f"{op}: needs at least one tensor")
    be = next((x._backend for x in xs if isinstance(x, Tensor)), None)
    ts = [x if isinstance(x, Tensor) else _as_tensor(x, be) for x in xs]
    be = ts[0]._backend
    for t in ts[1:]:
        if t._backend is not be:
            raise _mismatch(op, ts[0], t)
    arrays = [t._data for t in ts]
    if promote and any(a.dtype != arrays[0].dtype for a in arrays):
        canon = be.canonical
        dt = canon[arrays[0].dtype]
        for a in arrays[1:]:
            dt = _TABLE[dt, canon[a.dtype]]
        native = be.native_dtypes[dt]
        arrays = [a if a.dtype == native else be.kernels["astype"](a, native) for a in arrays]
    return be, tuple(ts), tuple(arrays)


def float_array(be: Any, a: Any) -> Any:
    """``a`` itself if floating, else cast to the default float (for float-only math)."""
    if a.dtype in be.float_natives:
        return a
    return be.kernels["astype"](a, be.native_dtypes[default_float])


def complex_refused(name: str, dtype: Any) -> DTypeError:
    """The error of a ``real_only`` op given a complex input."""
    return DTypeError(f"{name}: complex input ({dtype}) is not supported: {name} takes real "
                      "numbers only (it orders or rounds them, or its rules are written for real "
                      "inputs); apply it to pt.real(x), pt.imag(x) or pt.abs(x)")


# -- running ------------------------------------------------------------------------------
def run(op: Op, be: Any, inputs: tuple, arrays: tuple, attrs: dict | None = None) -> Tensor:
    """Run ``op``'s kernel on ``arrays``, wrap the result, record it on watching tapes."""
    if op.real_only and be.complex_natives:
        for a in arrays:
            if getattr(a, "dtype", None) in be.complex_natives:
                raise complex_refused(op.name, be.canonical[a.dtype])
    kernel = be.kernels[op.name]
    try:
        out = kernel(*arrays, **attrs) if attrs else kernel(*arrays)
    except PolytapeError:
        raise
    except Exception as exc:
        raise kernel_error(op.name, arrays, attrs, exc) from exc
    t = _new(Tensor)  # wrap(), inlined
    t._data = out
    t._backend = be
    t._key = 0
    if _recording:
        if op.differentiable:
            record(op, inputs, arrays, t, attrs)
        else:
            watch_reads(inputs, op, arrays, t, attrs)
    return t


def public_op(name: str, doc: str, make: Callable[..., Callable[..., Tensor]],
              **options: Any) -> Callable[..., Tensor]:
    """The public function of op ``name``: ``make(op, **options)`` builds its body from the
    op table's entry (:func:`unary_function`, :func:`binary_function`, or an ops module's
    front end); the function gets the op's name and ``doc``."""
    fn = make(OPS[name], **options)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def unary_function(op: Op) -> Callable[[Any], Tensor]:
    """The eager function of a one-input elementwise op (``pt.sin``...): :func:`run`, inlined.

    ``float_only`` ops compute integer inputs in the default float dtype.
    """
    name = op.name
    float_only = op.float_only
    real_only = op.real_only

    def fn(x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = unary_operand(x)
        be = x._backend
        a = x._data
        if float_only and a.dtype not in be.float_natives:
            a = float_array(be, a)
        if real_only and a.dtype in be.complex_natives:
            raise complex_refused(name, x.dtype)
        kernel = be.kernels[name]
        try:
            out = kernel(a)
        except PolytapeError:
            raise
        except Exception as exc:
            raise kernel_error(name, (a,), None, exc) from exc
        t = _new(Tensor)
        t._data = out
        t._backend = be
        t._key = 0
        if _recording:
            if op.differentiable:
                record(op, (x,), (a,), t, None)
            else:
                watch_reads((x,), op, (a,), t, None)
        return t
    return fn


def binary_function(op: Op) -> Callable[[Any, Any], Tensor]:
    """The eager function of a two-input elementwise op (``pt.add``...).

    The common cases -- two tensors of one backend and dtype, a tensor and a
    Python number -- are handled inline; anything else goes through
    :func:`binary_operands` (promotion, conversion, backend checks).
    """
    name = op.name
    real_only = op.real_only

    def fn(x: Any, y: Any) -> Tensor:
        if isinstance(x, Tensor):
            be = x._backend
            a = x._data
            if isinstance(y, Tensor):
                b = y._data
                da, db = a.dtype, b.dtype
                if y._backend is not be or (da is not db and da != db):
                    be, x, y, a, b = binary_operands(name, x, y)
            elif type(y) in _SCALARS:
                a, b = with_scalar(be, a, y)
            else:
                be, x, y, a, b = binary_operands(name, x, y)
        elif type(x) in _SCALARS and isinstance(y, Tensor):
            be = y._backend
            b, a = with_scalar(be, y._data, x)
        else:
            be, x, y, a, b = binary_operands(name, x, y)
        if real_only and a.dtype in be.complex_natives:
            raise complex_refused(name, be.canonical[a.dtype])
        kernel = be.kernels[name]
        try:
            out = kernel(a, b)
        except PolytapeError:
            raise
        except Exception as exc:
            raise kernel_error(name, (a, b), None, exc) from exc
        t = _new(Tensor)
        t._data = out
        t._backend = be
        t._key = 0
        if _recording:
            if op.differentiable:
                record(op, (x, y), (a, b), t, None)
            else:
                watch_reads((x, y), op, (a, b), t, None)
        return t
    return fn


# What a kernel's ValueError, IndexError or RuntimeError (torch's catch-all) says when the
# problem is the shapes: NumPy's and torch's wording for broadcasting, sizes, axes and bounds.
_SHAPE_PROBLEM = re.compile(r"shape|size|dimension|broadcast|out of bounds|out of range|index|"
                            r"indices|axis|axes|rank|aligned", re.IGNORECASE)


def kernel_error(name: str, arrays: tuple, attrs: dict | None, exc: Exception) -> PolytapeError:
    """Translate a kernel's exception into polytape's, naming the op and the shapes.

    A ``TypeError`` becomes :class:`DTypeError`; a ``ValueError``, ``IndexError`` or
    ``RuntimeError`` about shapes becomes :class:`ShapeError` (:class:`IndexShapeError`, also
    an ``IndexError``, for an ``IndexError``), another ``ValueError`` an
    :class:`InvalidArgumentError`. Anything else (``MemoryError``, out-of-memory errors of
    devices, ``NotImplementedError``, arithmetic errors...) is not polytape's to rename: it
    is raised again unchanged.
    """
    shapes = ", ".join(str(tuple(a.shape)) if hasattr(a, "shape") else repr(a) for a in arrays)
    extra = f" with {attrs}" if attrs else ""
    msg = f"{name}: {exc} (input shapes {shapes}{extra})"
    if isinstance(exc, TypeError):
        return DTypeError(msg)
    if isinstance(exc, (ValueError, IndexError, RuntimeError)) and not isinstance(
            exc, (NotImplementedError, RecursionError)) and "OutOfMemory" not in type(exc).__name__:
        if _SHAPE_PROBLEM.search(str(exc)):
            return IndexShapeError(msg) if isinstance(exc, IndexError) else ShapeError(msg)
        if isinstance(exc, ValueError):
            return InvalidArgumentError(msg)
    raise exc


def _to_trace(op: Op, inputs: tuple, arrays: tuple, out: Any, attrs: dict | None) -> None:
    # The calling thread's pt.function trace (if one runs) writes the op into its plan.
    trace = getattr(tracing.local, "trace", None)
    if trace is not None:
        trace.op(op, inputs, arrays, out, attrs)


def watch_reads(inputs: tuple, op: Op | None = None, arrays: tuple = (), out: Any = None,
                attrs: dict | None = None) -> None:
    """A non-differentiable op (``v > 0``, ``argmax``) still reads its variables: recording
    tapes that watch accessed variables watch them, as TensorFlow's do (so that
    ``max(list_of_variables)``, which compares, gives the winner a gradient). A running
    ``pt.function`` trace (given the op) adds it to its plan."""
    if tracing.active and op is not None:
        _to_trace(op, inputs, arrays, out, attrs)
    for tape in getattr(local, "tapes", None) or ():
        if tape._watch_accessed:
            for x in inputs:
                if type(x) is Variable and x.trainable:
                    tape._watch_variable(x)


def record(op: Op, inputs: tuple, arrays: tuple, out: Tensor, attrs: dict | None) -> None:
    """Add the op to every recording tape of this thread that watches one of its inputs (and
    to the plan of a running ``pt.function`` trace). A tape keeps only what the op's VJP
    rules read (:mod:`polytape.saved`)."""
    if tracing.active:
        _to_trace(op, inputs, arrays, out, attrs)
    tapes = getattr(local, "tapes", None)
    accumulators = getattr(local, "accumulators", None)
    if tapes:
        rec = None
        for tape in tapes:
            tracked = tape._tracked
            hit = False
            for x in inputs:
                k = getattr(x, "_key", None)
                if k is None:
                    continue  # a Python number
                if k in tracked:
                    hit = True
                elif type(x) is Variable and x.trainable and tape._watch_accessed:
                    tape._watch_variable(x)
                    hit = True
                elif not k:
                    # A tape may watch it later and still ask for its gradient (TensorFlow's
                    # tapes allow that): it needs an identity the record can name.
                    x._key = next_key()
            if hit:
                if rec is None:
                    data = out._data
                    if data.dtype not in out._backend.float_natives:
                        return  # integer and bool results carry no gradient
                    key = out._key
                    if not key:
                        key = out._key = next_key()
                    # What the op's rules read, for these inputs (polytape.saved); a Python
                    # number operand becomes NUMBER (its array is in `arrays`).
                    plan = op.plan_all
                    kept = inputs
                    n = len(inputs)
                    if n == 2 and plan is not None:
                        if type(inputs[1]) in _NUMBER_TYPES:
                            plan = op.plan_x_number
                            kept = (inputs[0], NUMBER)
                        elif type(inputs[0]) in _NUMBER_TYPES:
                            plan = op.plan_number_x
                            kept = (NUMBER, inputs[1])
                    elif n != 1 or plan is None:
                        tensors = tuple(isinstance(x, Tensor) for x in inputs)
                        plan = op.kept(tensors)
                        kept = tuple(x if t else NUMBER for x, t in zip(inputs, tensors))
                    if accumulators:  # forward-over-backward needs the very tensors
                        rec = (op, kept, arrays, key, attrs, data, out)
                    else:
                        kept_arrays = arrays
                        for j in plan[1]:  # only arrays worth a stand-in are released
                            if getattr(arrays[j], "nbytes", 0) >= RELEASE_MIN_BYTES:
                                kept, kept_arrays = release(kept, arrays, plan[1])
                                break
                        rec = (op, kept, kept_arrays, key, attrs, data if plan[0] else None, None)
                tape._records.append(rec)
                tracked.add(key)
    if accumulators:
        for acc in accumulators:
            acc._propagate(op, inputs, arrays, out, attrs)
