"""``pt.function``: trace a Python function once per input signature, then replay its plan.

The first call with a new signature (each tensor's backend, device, dtype and shape; each
Python value itself) runs the function eagerly while a :class:`Trace` writes down every
op it runs: which kernel, on which earlier results, with which attributes. Python control
flow runs then, once. The plan is compiled into one straight-line Python function of
native arrays (:func:`compile_plan`, or a backend's ``polytape_compile_plan`` hook), so a
later call runs the kernels and nothing else: no dispatch, no tape, no ``Tensor`` between
ops.

What the plan captures:

* tensors passed in are its parameters; tensors made inside from constants, and tensors
  the function closes over, are baked in (as TensorFlow's captures are);
* variables are read when an op reads them, on every call (never baked), and ``assign*``,
  ``v[i] = ...`` and random draws are *effects*: one step each that calls them again, in
  the order the trace met them;
* an optimizer's update is traced as kernels: reads of the variable and its slots, the
  update rule's ops, and *writes* that give the variables the results (no checks on
  replay); the Python that must run on every call (the step counter, the learning-rate
  schedule) is one *host* step yielding that step's scalars;
* a ``GradientTape`` inside the function is traced like any other code: its backward pass
  runs on polytape ops, so its kernels are in the plan (``tape.gradient`` then
  ``optimizer.apply_gradients`` inside a ``pt.function`` is the usual training step).

Branching on a traced tensor (``if x > 0:``, ``float(x)``) raises :class:`TracingError`
pointing at :func:`polytape.cond`, which selects between both branches inside a trace.

Called while a ``GradientTape`` or ``ForwardAccumulator`` records in the caller's thread,
a traced function is recorded as one op per floating-point output, as TensorFlow records a
function call (:mod:`polytape.traced_derivatives`): its inputs are the tensor arguments and
the variables the plan reads; the call runs a *forward* plan that also keeps the
*residuals* a *backward* plan reads, both split from one trace of the plan followed by its
gradient; higher orders and forward mode call traced functions of the gradient and of the
JVP, recorded the same way. The first call of a signature is traced with the
differentiators watching, as an eager call would be; a plan with effects (or a call
passing one object twice) is replayed through polytape's ops, every op recorded.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import dispatch, nest, tracing
from .creation import constant
from .dtypes import DType, as_dtype
from .errors import ArgumentTypeError, DTypeError, InvalidArgumentError, ShapeError, TracingError
from .optable import OPS
from .tensor import Tensor, Variable, wrap

_new = object.__new__

__all__ = ["function", "Function", "TensorSpec", "ConcreteFunction", "Plan", "compile_plan",
           "trace_function",
           "run_functions_eagerly", "functions_run_eagerly"]

# TensorFlow's retracing warning: issued when 5 of the last 10 calls traced (twice at most).
RETRACING_THRESHOLD = 5
RETRACING_CALL_HISTORY = 10
RETRACING_MAX_WARNINGS = 2

_run_eagerly = False


def run_functions_eagerly(run_eagerly: bool) -> None:
    """Make every ``pt.function`` call its Python function directly (for debugging), as
    ``tf.config.run_functions_eagerly`` does."""
    global _run_eagerly
    _run_eagerly = bool(run_eagerly)


def functions_run_eagerly() -> bool:
    """Whether :func:`run_functions_eagerly` is on."""
    return _run_eagerly


class TensorSpec:
    """The shape and dtype a ``pt.function`` input must have (TensorFlow's ``tf.TensorSpec``).

    ``None`` in ``shape`` accepts any size on that axis; ``shape=None`` any shape.

    >>> import polytape as pt
    >>> spec = pt.TensorSpec([None, 3], pt.float32)
    >>> spec.is_compatible_with(pt.zeros((5, 3)))
    True
    """

    def __init__(self, shape: Sequence[int | None] | None, dtype: Any = "float32",
                 name: str | None = None) -> None:
        if shape is not None:
            try:
                shape = tuple(None if s is None else int(s) for s in shape)
            except (TypeError, ValueError):
                raise ArgumentTypeError(f"TensorSpec: shape must be a sequence of ints and Nones, "
                                        f"got {shape!r}") from None
        self.shape = shape
        self.dtype: DType = as_dtype(dtype)
        self.name = name

    def is_compatible_with(self, value: Any) -> bool:
        """Whether tensor ``value`` has this spec's dtype and a shape this spec accepts."""
        return (isinstance(value, Tensor) and value.dtype is self.dtype
                and self._shape_ok(tuple(value.shape)))

    def _shape_ok(self, shape: tuple[int, ...]) -> bool:
        if self.shape is None:
            return True
        return len(shape) == len(self.shape) and all(
            s is None or s == d for s, d in zip(self.shape, shape))

    def __repr__(self) -> str:
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype}, name={self.name!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TensorSpec) and self.shape == other.shape
                and self.dtype is other.dtype)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype))


# -- the trace ----------------------------------------------------------------------------------
# A plan is a list of steps; a step's inputs are references: ("s", slot) an earlier result,
# ("c", value) a constant, ("v", variable reference) a variable (for effects). A variable
# reference is ("p", i), the i-th parameter, or ("g", variable), one the function closes over.
#   ("op", op, backend, inputs, attrs, out_slot)
#   ("read", variable reference, out_slot)        the variable's array at that point
#   ("write", variable reference, ref)            the variable's array becomes ref's (an
#                                                 update traced as kernels: no checks, no
#                                                 Tensor, on replay)
#   ("effect", fn, structure, inputs, outputs)    fn(*args, **kwargs) rebuilt from inputs;
#                                                 outputs: (leaf position, slot, backend)
#   ("host", fn, out_slots, backends)             fn() -> one native array per out slot:
#                                                 Python run on every call (a step counter,
#                                                 a learning-rate schedule), no inputs
class Trace:
    """Writes down the plan while a traced function runs eagerly (one per trace)."""

    def __init__(self) -> None:
        self.steps: list[tuple] = []
        self.slots = 0
        self.backends: dict[int, Any] = {}      # slot -> backend of its array
        self.info: dict[int, tuple] = {}        # slot -> (array type, dtype, shape) when traced
        self._by_tensor: dict[int, int] = {}    # id(tensor) -> slot
        self._by_array: dict[int, int] = {}     # id(array) -> slot (tensors rewrapped by rules)
        self._params: dict[int, int] = {}       # id(variable parameter) -> parameter position
        self._reads: dict[int, int] = {}        # id(variable) -> slot of its current read
        self._keep: list[Any] = []              # every object whose id is a key above
        self.effects = 0
        self.custom_ops = 0                     # kernel-less ops (custom_gradient) met
        # A trace run inside another (a batched derivative inside pt.function): tensors the
        # enclosing traces compute become extra parameters, *captures*, instead of
        # constants, so that the enclosing plan can pass them in (see trace_function).
        self.parent: Trace | None = None
        self.captures: list[tuple[int, Tensor]] = []  # (slot, tensor of an enclosing trace)

    # -- slots --------------------------------------------------------------------------------
    def _new_slot(self, t: Tensor) -> int:
        slot = self.slots
        self.slots += 1
        self._by_tensor[id(t)] = slot
        self._by_array[id(t._data)] = slot
        self._keep.append(t)
        self.backends[slot] = t._backend
        d = t._data
        self.info[slot] = (type(d), d.dtype, tuple(d.shape))
        return slot

    def parameter(self, t: Tensor, position: int) -> int | None:
        """Register input ``t`` as parameter ``position``: a slot for a tensor, nothing for a
        variable (it is read where ops read it)."""
        if isinstance(t, Variable):
            self._params[id(t)] = position
            self._keep.append(t)
            return None
        return self._new_slot(t)

    def _outer_knows(self, t: Tensor) -> bool:
        trace = self.parent
        while trace is not None:
            if trace._slot_of(t) is not None:
                return True
            trace = trace.parent
        return False

    def knows(self, t: Tensor) -> bool:
        """Whether ``t``'s value can change from call to call (a traced result or a variable)."""
        return isinstance(t, Variable) or id(t) in self._by_tensor

    def _slot_of(self, t: Tensor) -> int | None:
        slot = self._by_tensor.get(id(t))
        return self._by_array.get(id(t._data)) if slot is None else slot

    def _variable_ref(self, v: Variable) -> tuple:
        pos = self._params.get(id(v))
        return ("p", pos) if pos is not None else ("g", v)

    def _read(self, v: Variable) -> int:
        slot = self._reads.get(id(v))
        if slot is None:
            t = wrap(v._data, v._backend)
            slot = self._new_slot(t)
            self.steps.append(("read", self._variable_ref(v), slot))
            self._reads[id(v)] = slot
            self._keep.append(v)
        return slot

    def _input(self, x: Any, arr: Any, op_name: str) -> tuple:
        if isinstance(x, Variable):
            slot = self._read(x)
        elif isinstance(x, Tensor):
            slot = self._slot_of(x)
            if slot is None:
                if self.parent is None or not self._outer_knows(x):
                    return ("c", arr)  # a constant (or a cast of one)
                slot = self._new_slot(x)
                self.captures.append((slot, x))
        else:
            return ("c", arr)  # a Python number, converted by the front end
        if arr is x._data:
            return ("s", slot)
        if arr.dtype != x._data.dtype and tuple(arr.shape) == tuple(x._data.shape):
            # The front end cast the operand (promotion, float-only ops): the same cast, traced.
            cast = wrap(arr, x._backend)
            out = self._new_slot(cast)
            self.steps.append(("op", OPS["astype"], x._backend, (("s", slot),),
                               {"dtype": arr.dtype}, out))
            return ("s", out)
        raise TracingError(f"pt.function cannot trace {op_name}: its front end changed an input "
                           "with something other than a cast; please report this")

    # -- what dispatch and the effects call ------------------------------------------------------
    def op(self, op: Any, inputs: tuple, arrays: tuple, out: Tensor, attrs: dict | None) -> None:
        """Add one op call (its inputs, attributes and result) to the plan."""
        if op.name not in out._backend.kernels:
            # custom_gradient's op has no kernel: traced ops already computed its value, and
            # only its derivative is its own. The result is that value's slot.
            # A caller's tape must see that op itself: see ConcreteFunction.custom_derivatives.
            self.custom_ops += 1
            slot = self._by_array.get(id(out._data))
            if slot is not None:
                self._by_tensor[id(out)] = slot
                self._keep.append(out)
            return
        refs = tuple(self._input(x, a, op.name) for x, a in zip(inputs, arrays))
        if all(r[0] == "c" for r in refs):
            return  # constants in, a constant out: folded (kernels are pure)
        slot = self._new_slot(out)
        self.steps.append(("op", op, out._backend, refs, dict(attrs) if attrs else None, slot))

    def effect(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        """Run ``fn`` for real, untraced, and add one step that calls it again on replay."""
        args = tuple(list(a) if isinstance(a, Iterator) else a for a in args)
        structure = (list(args), dict(kwargs))
        refs = []
        for leaf in nest.flatten(structure):
            if isinstance(leaf, Variable):
                refs.append(("v", self._variable_ref(leaf)))
                self._keep.append(leaf)
            elif isinstance(leaf, Tensor):
                slot = self._slot_of(leaf)
                refs.append(("c", leaf) if slot is None else ("s", slot, leaf._backend))
            else:
                refs.append(("c", leaf))
        with tracing.suspended():
            result = fn(*args, **kwargs)
        self._reads.clear()  # the effect may have changed any variable: read them again
        self.effects += 1
        outputs = []
        for k, leaf in enumerate(nest.flatten(result)):
            if isinstance(leaf, Tensor) and not isinstance(leaf, Variable):
                outputs.append((k, self._new_slot(leaf), leaf._backend))
        self.steps.append(("effect", fn, structure, tuple(refs), tuple(outputs)))
        return result

    def write(self, v: Variable, value: Tensor) -> None:
        """Make ``value`` (a result of this trace's ops, of ``v``'s dtype and shape, checked by
        the caller) ``v``'s array, now and at this point of every replay: an update traced as
        kernels, which a replay runs without the checks and wrapping of ``Variable.assign``."""
        ref = self._input(value, value._data, "assign")
        self._keep.append(v)
        self.effects += 1  # a variable changes: pt.cond's branches may not do that
        self.steps.append(("write", self._variable_ref(v), ref))
        v._data = value._data
        # A later op reading v gets a read step of its own: reading the variable, not the
        # tensor written, is what an eager read does (and what an outer tape must see).
        self._reads.pop(id(v), None)

    def host(self, fn: Callable[[], Sequence[Any]], backends: Sequence[Any]) -> list[Tensor]:
        """Run ``fn()`` for real, untraced, and add one step that calls it again on every
        replay: Python with an effect that yields values the plan computes with (a step
        counter advancing, the learning rate its schedule gives). ``fn`` takes nothing and
        returns one native array per entry of ``backends`` (their backends); returns them
        as tensors this trace knows. Cheaper on replay than :meth:`effect`: no tensors."""
        with tracing.suspended():
            arrays = tuple(fn())
        self.effects += 1
        outs = [wrap(a, be) for a, be in zip(arrays, backends)]
        slots = tuple(self._new_slot(t) for t in outs)
        self.steps.append(("host", fn, slots, tuple(backends)))
        return outs

    def check_concrete(self, t: Tensor, what: str) -> None:
        """Refuse to turn a traced tensor into a Python value (the plan could not follow it)."""
        if self.knows(t):
            raise TracingError(
                f"{what}() of a traced tensor inside pt.function: Python code runs once, when "
                "the function is traced, so it cannot depend on a tensor's value. Use "
                "pt.cond(pred, true_fn, false_fn) (tf.cond) to branch on a tensor, pt.where to "
                "select values, or pass the value as a Python number (each new number traces "
                "the function again)")

    def output(self, leaf: Any) -> tuple:
        """How the plan produces one leaf of the function's result."""
        if isinstance(leaf, Variable):
            return ("s", self._read(leaf), leaf._backend)
        if isinstance(leaf, Tensor):
            slot = self._slot_of(leaf)
            if slot is not None:
                return ("s", slot, leaf._backend)
        return ("c", leaf, None)


# -- compiling a plan -----------------------------------------------------------------------------
class Plan:
    """One trace, as a backend compiler (the ``polytape_compile_plan`` hook) sees it.

    ``steps`` are op calls, variable reads and writes, host steps and effects in order
    (see :class:`Trace`); a write's value must not be updated in place afterwards (the
    variable holds it);
    ``parameters`` gives each parameter's slot (None: a variable, passed itself);
    ``outputs`` the result leaves (``("s", slot, backend)`` or a constant); ``info`` each
    slot's ``(array type, dtype, shape)`` when traced.
    """

    def __init__(self, steps: list[tuple], parameters: tuple[int | None, ...],
                 outputs: list[tuple], info: dict[int, tuple]) -> None:
        self.steps = steps
        self.parameters = parameters
        self.outputs = outputs
        self.info = info

    def last_use(self) -> dict[int, int]:
        """slot -> index of the last step that reads it (``len(steps)`` for an output)."""
        last: dict[int, int] = {}
        for i, step in enumerate(self.steps):
            for ref in _step_inputs(step):
                if ref[0] == "s":
                    last[ref[1]] = i
        for ref in self.outputs:
            if ref[0] == "s":
                last[ref[1]] = len(self.steps)
        return last

    def compile(self, rewrite: dict[int, tuple[Callable, int | None]] | None = None) -> Callable:
        """The plain replay (:func:`compile_plan`), with ``rewrite``'s kernels where given."""
        return compile_plan(self, rewrite)


def compile_plan(plan: Plan, rewrite: dict[int, tuple[Callable, int | None]] | None = None
                 ) -> Callable:
    """The plain replay: ``plan``'s steps as one straight-line Python function of arrays.

    Its arguments are the parameters (per parameter, its slot for a tensor, whose array is
    passed, or None for a variable, passed itself) and it returns a tuple of the arrays of
    the outputs that are slots. Each result lives in a local that a later result reuses
    once nothing reads it any more, so the replay holds no more intermediates than the
    eager code did. ``rewrite`` maps an op step's index to ``(function, k)``: call
    ``function`` instead of the kernel, with ``out=`` its ``k``-th input when ``k`` is
    not None (a backend compiler's in-place update of a dead temporary).
    """
    steps, parameters, outputs = plan.steps, plan.parameters, plan.outputs
    rewrite = rewrite or {}
    last_use = plan.last_use()
    env: dict[str, Any] = {}
    names: dict[int, str] = {}
    free: list[str] = []
    stale: set[str] = set()  # free names still holding an array nothing reads any more
    count = [0]

    def constant_name(value: Any) -> str:
        name = f"c{len(env)}"
        env[name] = value
        return name

    def assign(slot: int) -> str:
        if slot not in last_use:
            return "_"  # never read again
        name = free.pop() if free else f"a{next_id()}"
        stale.discard(name)
        names[slot] = name
        return name

    def next_id() -> int:
        count[0] += 1
        return count[0]

    def release(step_index: int, step: tuple) -> None:
        for ref in _step_inputs(step):
            if ref[0] == "s" and last_use.get(ref[1]) == step_index and ref[1] in names:
                name = names.pop(ref[1])
                free.append(name)
                stale.add(name)

    def variable(vref: tuple) -> str:
        return f"p{vref[1]}" if vref[0] == "p" else constant_name(vref[1])

    def value(ref: tuple) -> str:
        if ref[0] == "s":
            return names[ref[1]]
        if ref[0] == "v":
            return variable(ref[1])
        return constant_name(ref[1])

    params = [f"p{i}" for i in range(len(parameters))]
    for i, slot in enumerate(parameters):
        if slot is not None and slot in last_use:
            names[slot] = f"p{i}"
    lines = [f"def replay({', '.join(params)}):"]
    for i, step in enumerate(steps):
        kind = step[0]
        if kind == "read":
            _, vref, slot = step
            src = f"{variable(vref)}._data"
            release(i, step)
            lines.append(f"    {assign(slot)} = {src}")
        elif kind == "write":
            _, vref, ref = step
            src = value(ref)
            release(i, step)
            lines.append(f"    {variable(vref)}._data = {src}")
        elif kind == "host":
            _, fn, slots, _ = step
            targets = "".join(f"{assign(s)}, " for s in slots)
            lines.append(f"    {targets}= {constant_name(fn)}()")
        elif kind == "op":
            _, op, be, refs, attrs, slot = step
            fn, reuse = rewrite.get(i, (be.kernels[op.name], None))
            kernel = constant_name(fn)
            args = [value(r) for r in refs]
            args += [f"{k}={constant_name(v)}" for k, v in (attrs or {}).items()]
            if reuse is not None:
                args.append(f"out={args[reuse]}")
            release(i, step)
            lines.append(f"    {assign(slot)} = {kernel}({', '.join(args)})")
        else:
            _, fn, structure, refs, outs = step
            call = constant_name(_effect_call(fn, structure, refs, outs))
            args = [value(r) for r in refs if r[0] != "c"]
            release(i, step)
            if stale - set(args):
                # An effect may update a variable in place only when nothing else holds its
                # array (Backend.update_in_place): drop the dead references first.
                lines.append(f"    del {', '.join(sorted(stale - set(args)))}")
                stale.intersection_update(args)
            targets = "".join(f"{assign(s)}, " for _, s, _ in outs)
            lines.append(f"    {targets + '= ' if targets else ''}{call}(False, {', '.join(args)})")
    ret = [names[r[1]] for r in outputs if r[0] == "s"]
    lines.append(f"    return ({''.join(n + ', ' for n in ret)})")
    source = "\n".join(lines)
    exec(compile(source, "<pt.function plan>", "exec"), env)  # noqa: S102  (our own code)
    replay = env["replay"]
    replay.source = source
    return replay


def _compiled(plan: Plan) -> Callable:
    """A backend's compiled replay (``polytape_compile_plan``) or the plain one."""
    backends = {step[2] for step in plan.steps if step[0] == "op"}
    if len(backends) == 1:
        from polytape.plugins.manager import get_plugin_system  # plugins load lazily

        be = backends.pop()
        try:
            compiled = get_plugin_system().pm.hook.polytape_compile_plan(backend=be, plan=plan)
        except Exception as exc:  # a compiler's bug must not break the function
            warnings.warn(f"polytape_compile_plan failed for backend {be.name!r} "
                          f"({type(exc).__name__}: {exc}); using the plain replay",
                          RuntimeWarning, stacklevel=2)
            compiled = None
        if compiled is not None:
            return compiled
    return plan.compile()


def live_steps(steps: list[tuple], outputs: Sequence[tuple]) -> list[tuple]:
    """``steps`` without the ops and reads whose results nothing uses (a forward pass whose
    value only its gradient needed, a loss nobody returns). Effects always stay; kernels
    are pure, so dropping an unused op changes nothing but the time."""
    live = {ref[1] for ref in outputs if ref[0] == "s"}
    kept = []
    for step in reversed(steps):
        if step[0] in ("op", "read") and step[-1] not in live:
            continue
        kept.append(step)
        live.update(ref[1] for ref in _step_inputs(step) if ref[0] == "s")
    kept.reverse()
    return kept


def _step_inputs(step: tuple) -> tuple:
    if step[0] == "op":
        return step[3]
    if step[0] == "effect":
        return step[3]
    if step[0] == "write":
        return (step[2],)
    return ()


def _effect_call(fn: Callable[..., Any], structure: Any, refs: tuple, outs: tuple) -> Callable:
    """The callable an effect step runs: ``fn`` on its inputs rebuilt as tensors, returning
    the arrays (or, with ``tensors=True``, the tensors) of its traced outputs."""
    fixed = [r[1] if r[0] == "c" else None for r in refs]
    live = [k for k, r in enumerate(refs) if r[0] != "c"]
    backends = [r[2] if r[0] == "s" else None for r in refs]

    def call(tensors: bool, *values: Any) -> tuple:
        leaves = list(fixed)
        for k, v in zip(live, values):
            if not tensors and refs[k][0] == "s":
                v = wrap(v, backends[k])
            leaves[k] = v
        args, kwargs = nest.pack_as(structure, leaves)
        result = nest.flatten(fn(*args, **kwargs))
        if tensors:
            return tuple(result[k] for k, _, _ in outs)
        return tuple(result[k]._data for k, _, _ in outs)
    return call


# -- concrete functions ----------------------------------------------------------------------------
class ConcreteFunction:
    """One trace of a :class:`Function`: its plan and the compiled replay of it."""

    def __init__(self, trace: Trace, parameters: tuple[int | None, ...], outputs: list[tuple],
                 structure: Any, name: str) -> None:
        self.steps = trace.steps
        self.parameters = parameters       # per parameter: its slot (a tensor) or None (a variable)
        self.outputs = outputs             # per result leaf: ("s", slot, be) or ("c", value, None)
        self.structure = structure         # the result's structure
        self.name = name
        self.steps = live_steps(self.steps, outputs)
        self.plan = Plan(self.steps, parameters, outputs, trace.info)
        self._replay: Callable | None = None
        self._single = len(outputs) == 1 and outputs[0][0] == "s" and not isinstance(
            structure, (list, tuple, dict))
        self._out_backend = outputs[0][2] if self._single else None
        self._derivatives: Any = None  # its TracedDerivatives (False: recorded op by op)
        # custom_gradient ran inside: a plan replays its value but not its own derivative, so
        # a call while a tape records runs the Python function itself (as eager code would).
        self.custom_derivatives = trace.custom_ops > 0
        self.captures: list[Tensor] = []   # parameters captured from enclosing traces

    @property
    def replay(self) -> Callable:
        """The compiled plan (compiled on first use: a batched replay never needs it)."""
        replay = self._replay
        if replay is None:
            replay = self._replay = _compiled(self.plan)
        return replay

    @property
    def source(self) -> str:
        """The Python source of the plain replay (for reading, and for tests)."""
        return getattr(self.replay, "source", "")

    def run(self, values: list[Any]) -> Any:
        """Replay on ``values`` (arrays and variables) and pack the result as traced."""
        arrays = self.replay(*values)
        if self._single:
            return wrap(arrays[0], self._out_backend)
        return self.pack(arrays)

    def pack(self, arrays: tuple) -> Any:
        """The result, as traced, from the arrays the replay returned."""
        it = iter(arrays)
        leaves = [wrap(next(it), be) if kind == "s" else v for kind, v, be in self.outputs]
        return nest.pack_as(self.structure, leaves)

    def run_recorded(self, params: list[Any]) -> Any:
        """Replay through polytape's ops (``params``: tensors and variables), so the
        caller's tapes and accumulators record every op."""
        env: dict[int, Any] = {}

        def tensor(ref: tuple, be: Any) -> Any:
            if ref[0] == "s":
                return env[ref[1]]
            if ref[0] == "v":
                vref = ref[1]
                return params[vref[1]] if vref[0] == "p" else vref[1]
            return wrap(ref[1], be) if not isinstance(ref[1], Tensor) else ref[1]

        for slot, p in zip(self.parameters, params):
            if slot is not None:
                env[slot] = p
        for step in self.steps:
            kind = step[0]
            if kind == "read":
                _, vref, out = step
                env[out] = params[vref[1]] if vref[0] == "p" else vref[1]
            elif kind == "op":
                _, op, be, refs, attrs, out = step
                ins = tuple(tensor(r, be) for r in refs)
                env[out] = dispatch.run(op, be, ins, tuple(t._data for t in ins), attrs)
            elif kind == "write":
                _, vref, ref = step
                var = params[vref[1]] if vref[0] == "p" else vref[1]
                var._data = env[ref[1]]._data if ref[0] == "s" else ref[1]
            elif kind == "host":
                _, fn, slots, backends = step
                for out, arr, be in zip(slots, fn(), backends):
                    env[out] = wrap(arr, be)
            else:
                _, fn, structure, refs, outs = step
                call = _effect_call(fn, structure, refs, outs)
                live = [tensor(r, None) for r in refs if r[0] != "c"]
                for (_, out, _), t in zip(outs, call(True, *live)):
                    env[out] = t
        leaves = [env[v] if kind == "s" else v for kind, v, _ in self.outputs]
        leaves = [wrap(t._data, t._backend) if isinstance(t, Variable) else t for t in leaves]
        return nest.pack_as(self.structure, leaves)


def trace_function(fn: Callable[..., Any], args: tuple, kwargs: dict, params: list[Any],
                   name: str = "", capture: bool = False) -> tuple[ConcreteFunction, Any]:
    """Run ``fn(*args, **kwargs)`` eagerly under a new trace whose parameters are the tensors
    and variables ``params``; returns the traced function and what ``fn`` returned.

    With ``capture``, inside a running trace, tensors that trace (or one enclosing it)
    computed and ``fn`` uses are parameters too, after ``params``: the traced function's
    ``captures`` lists them, for a caller that replays the plan as ops of the enclosing
    trace (a batched derivative inside ``pt.function``, :mod:`polytape.vectorize`).
    """
    trace = Trace()
    if capture:
        trace.parent = tracing.current()
    slots = tuple(trace.parameter(p, i) for i, p in enumerate(params))
    previous = tracing.started(trace)
    dispatch.recording_changed(+1)  # so that every op reaches the trace
    try:
        result = fn(*args, **kwargs)
        outputs = [trace.output(leaf) for leaf in nest.flatten(result)]
    finally:
        dispatch.recording_changed(-1)
        tracing.stopped(previous)
    concrete = ConcreteFunction(trace, slots + tuple(slot for slot, _ in trace.captures),
                                outputs, result, name)
    concrete.captures = [t for _, t in trace.captures]
    return concrete, result


# -- the public decorator --------------------------------------------------------------------------
class Function:
    """A Python function traced per input signature and replayed (see :func:`function`)."""

    def __init__(self, python_function: Callable[..., Any],
                 input_signature: Sequence[Any] | None = None, name: str | None = None,
                 api: str = "pt.function") -> None:
        if not callable(python_function):
            raise ArgumentTypeError(f"{api}: expected a callable, got "
                                    f"{type(python_function).__name__}")
        functools.update_wrapper(self, python_function)
        self.python_function = python_function
        self.input_signature = _checked_signature(input_signature, api)
        self._api = api
        self._name = name or getattr(python_function, "__name__", "function")
        self._concrete: dict[Any, ConcreteFunction] = {}
        self._fast: dict[tuple, ConcreteFunction] = {}  # the same traces, for __call__'s keys
        # TensorFlow's frequent-retracing detector: calls per trace, over recent calls.
        self._calls_per_trace: list[int] = []
        self._call_count = 0
        self._warnings = 0

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        return functools.partial(self.__call__, instance)

    @property
    def tracing_count(self) -> int:
        """How many times the function has been traced (TensorFlow's
        ``experimental_get_tracing_count``)."""
        return len(self._concrete)

    def experimental_get_tracing_count(self) -> int:
        """TensorFlow's name for :attr:`tracing_count`."""
        return len(self._concrete)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if tracing.active or _run_eagerly or kwargs or self.input_signature is not None:
            if (tracing.active and tracing.current() is not None) or _run_eagerly:
                return self.python_function(*args, **kwargs)  # inside another trace: inline
            return self._call(args, kwargs)
        # The common call -- tensors only, positionally, no two the same object, nothing
        # recording -- looks its plan up by the tensors' facts alone and replays it.
        key = []
        for a in args:
            if type(a) is not Tensor:
                return self._call(args, kwargs)
            d = a._data
            key.append((a._backend, d.dtype, d.shape, getattr(d, "device", None)))
        n = len(args)
        if n > 1 and len({id(a) for a in args}) != n:
            return self._call(args, kwargs)
        concrete = self._fast.get(tuple(key))
        if concrete is None:
            return self._call(args, kwargs)
        if dispatch._recording and _differentiators():
            self._count_call()
            if concrete.custom_derivatives:
                return self.python_function(*args)
            from .traced_derivatives import recorded_call  # imports this module

            return recorded_call(concrete, list(args))
        self._call_count += 1
        self._calls_per_trace[-1] += 1
        out = concrete.replay(*[a._data for a in args])
        if concrete._single:
            t = _new(Tensor)
            t._data = out[0]
            t._backend = concrete._out_backend
            t._key = 0
            return t
        return concrete.pack(out)

    def _count_call(self) -> None:
        self._call_count += 1
        if self._calls_per_trace:
            self._calls_per_trace[-1] += 1
        else:
            self._calls_per_trace.append(1)

    def _signature(self, args: tuple, kwargs: dict) -> tuple[tuple, dict, list[Any], Any]:
        # The arguments (bound to input_signature, if any), the tensors and variables among
        # them in order (a trace's parameters), and the key of their signature.
        if self.input_signature is not None:
            args = _bound_to_signature(self.input_signature, args, kwargs, self._api, self._name)
            kwargs = {}
        params: list[Any] = []
        key = (_key((list(args), dict(kwargs)), params), _aliasing(params))
        return args, kwargs, params, key

    def _call(self, args: tuple, kwargs: dict) -> Any:
        args, kwargs, params, key = self._signature(args, kwargs)
        concrete = self._concrete.get(key)
        if concrete is None:
            concrete, result = self._trace(args, kwargs, params)
            self._store(key, concrete, args, kwargs)
            return result
        self._count_call()
        if _differentiators():
            if concrete.custom_derivatives:
                return self.python_function(*args, **kwargs)
            from .traced_derivatives import recorded_call  # imports this module

            return recorded_call(concrete, params)
        return concrete.run([p if isinstance(p, Variable) else p._data for p in params])

    def _trace(self, args: tuple, kwargs: dict, params: list[Any]) -> tuple[ConcreteFunction, Any]:
        concrete, result = trace_function(self.python_function, args, kwargs, params, self._name)
        concrete.replay  # noqa: B018  (compile now, while tracing costs anyway)
        # What the eager run returned, except that variables come back as their values.
        leaves = nest.flatten(result)
        if any(isinstance(leaf, Variable) for leaf in leaves):
            result = nest.pack_as(result, [wrap(x._data, x._backend) if isinstance(x, Variable)
                                           else x for x in leaves])
        return concrete, result

    def _store(self, key: Any, concrete: ConcreteFunction, args: tuple, kwargs: dict) -> None:
        self._concrete[key] = concrete
        fast = _fast_key(args, kwargs, key[1])
        if fast is not None:
            self._fast[fast] = concrete
        self._traced()

    def _traced(self) -> None:
        self._call_count += 1
        self._calls_per_trace.append(1)
        while self._calls_per_trace and (
                self._call_count - self._calls_per_trace[0] > RETRACING_CALL_HISTORY):
            self._call_count -= self._calls_per_trace.pop(0)
        if self._warnings >= RETRACING_MAX_WARNINGS:
            return
        if len(self._calls_per_trace) >= RETRACING_THRESHOLD:
            self._warnings += 1
            api = self._api
            warnings.warn(
                f"{len(self._calls_per_trace)} out of the last {self._call_count} calls to "
                f"{self.python_function!r} triggered {api} retracing. Tracing is expensive and "
                "the excessive number of tracings could be due to (1) creating "
                f"@{api} repeatedly in a loop, (2) passing tensors with different shapes or "
                "dtypes, (3) passing Python objects instead of tensors. For (1), please define "
                f"your @{api} outside of the loop. For (2), keep shapes fixed (pad the last "
                "batch, say). For (3), pass numbers that change as tensors: each new Python "
                "number is a new signature.", UserWarning, stacklevel=4)

    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        """The trace for these arguments (traced now if it does not exist yet)."""
        args, kwargs, params, key = self._signature(args, kwargs)
        concrete = self._concrete.get(key)
        if concrete is None:
            concrete, _ = self._trace(args, kwargs, params)
            self._store(key, concrete, args, kwargs)
        return concrete

    def __repr__(self) -> str:
        return f"<{self._api} {self._name}: {len(self._concrete)} trace(s)>"


def function(func: Callable[..., Any] | None = None, input_signature: Sequence[Any] | None = None,
             name: str | None = None) -> Any:
    """Trace ``func`` once per input signature and replay its plan on later calls.

    Usable as ``@pt.function`` or ``@pt.function(input_signature=[pt.TensorSpec(...)])``.
    A signature is each tensor argument's backend, device, dtype and shape, and each
    other argument's value; a new one traces again (and warns when calls keep retracing,
    as TensorFlow does). ``input_signature`` (a list of :class:`TensorSpec`) says which
    tensors the function accepts: others raise ``DTypeError``/``ShapeError``. Shapes in it
    may have ``None`` axes; polytape still traces once per concrete shape, since shapes
    the code reads become constants of the plan.

    >>> import polytape as pt
    >>> @pt.function
    ... def f(x):
    ...     return pt.sum(x * x)
    >>> float(f(pt.constant([1.0, 2.0])))
    5.0
    >>> float(f(pt.constant([3.0, 4.0])))  # same signature: the plan replays
    25.0
    """
    if func is None:
        return lambda f: Function(f, input_signature, name)
    return Function(func, input_signature, name)


# -- signatures ------------------------------------------------------------------------------
def _differentiators() -> bool:
    """Whether a tape or accumulator records in this thread (the plan must then be recorded)."""
    if not dispatch._recording:
        return False
    local = dispatch.local
    return bool(getattr(local, "tapes", None)) or bool(getattr(local, "accumulators", None))


def _fast_key(args: tuple, kwargs: dict, aliasing: tuple) -> tuple | None:
    """The key ``Function.__call__`` finds this trace by when every argument is a tensor
    passed positionally (no structure, no variable, no two the same object)."""
    if kwargs or any(type(a) is not Tensor for a in args) or aliasing != tuple(range(len(args))):
        return None
    return tuple((a._backend, a._data.dtype, a._data.shape, getattr(a._data, "device", None))
                 for a in args)


def _key(obj: Any, params: list[Any]) -> Any:
    """A hashable description of one call's arguments; collects tensors into ``params``."""
    if isinstance(obj, Tensor):
        params.append(obj)
        d = obj._data
        kind = "v" if isinstance(obj, Variable) else "t"
        return (kind, obj._backend, d.dtype, tuple(d.shape), getattr(d, "device", None))
    if isinstance(obj, np.ndarray):
        t = constant(obj)
        return _key(t, params)
    if isinstance(obj, dict):
        return ("d", tuple((k, _key(obj[k], params)) for k in sorted(obj)))
    if isinstance(obj, (list, tuple)):
        return (type(obj), len(obj), tuple(_key(x, params) for x in obj))
    try:
        hash(obj)
    except TypeError:
        return ("id", id(obj))
    return (type(obj), obj)


def _aliasing(params: list[Any]) -> tuple:
    """Which parameters are the same object (a plan traced with ``f(x, x)`` assumes it)."""
    seen: dict[int, int] = {}
    return tuple(seen.setdefault(id(p), i) for i, p in enumerate(params))


def _checked_signature(signature: Any, api: str) -> tuple | None:
    if signature is None:
        return None
    if not isinstance(signature, (list, tuple)):
        raise ArgumentTypeError(f"{api}: input_signature must be a list or tuple of TensorSpec, "
                                f"got {type(signature).__name__}")
    for spec in nest.flatten(list(signature)):
        if not isinstance(spec, TensorSpec):
            raise ArgumentTypeError(f"{api}: input_signature must hold TensorSpec objects only, "
                                    f"got {type(spec).__name__} {spec!r}")
    return tuple(signature)


def _bound_to_signature(signature: tuple, args: tuple, kwargs: dict, api: str, name: str) -> tuple:
    if kwargs:
        raise InvalidArgumentError(f"{api} {name}: a function with an input_signature takes its "
                                   f"arguments positionally, got keywords {sorted(kwargs)}")
    if len(args) != len(signature):
        raise InvalidArgumentError(f"{api} {name}: input_signature has {len(signature)} "
                                   f"inputs, the call passed {len(args)}")
    out = []
    for i, (spec, arg) in enumerate(zip(signature, args)):
        specs = nest.flatten(spec)
        leaves = [arg] if isinstance(spec, TensorSpec) else nest.flatten(arg)
        if len(specs) != len(leaves):
            raise InvalidArgumentError(f"{api} {name}: argument {i} does not have the structure "
                                       f"of input_signature[{i}] ({spec!r})")
        fixed = []
        for s, leaf in zip(specs, leaves):
            if not isinstance(leaf, Tensor):
                leaf = constant(leaf, dtype=s.dtype)
            if leaf.dtype is not s.dtype:
                raise DTypeError(f"{api} {name}: argument {i} is {leaf.dtype}, its "
                                 f"input_signature says {s.dtype}")
            if not s._shape_ok(tuple(leaf.shape)):
                raise ShapeError(f"{api} {name}: argument {i} has shape {tuple(leaf.shape)}, "
                                 f"its input_signature says {list(s.shape)}")
            fixed.append(leaf)
        out.append(fixed[0] if isinstance(spec, TensorSpec) else nest.pack_as(arg, fixed))
    return tuple(out)
